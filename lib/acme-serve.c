/*
 * acme-serve.c - the serving process's side of ACME validations: the
 * validator that reports to the authority.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include "ca.h"
#include "acme.h"
#include "acme-validate.h"
#include "serve-internal.h"

static int
report_authority(void *arg, const struct ca_acme_job *job, int ok,
    const char *problem_type, const char *detail, time_t now)
{
	return ca_authority_acme_validated(arg, job, ok, problem_type, detail,
	    now);
}

int
ca_acme_validator_new(struct ca_authority *a, const struct ca_acme_va_opts *o,
    unsigned nthreads, struct ca_acme_validator **out)
{
	return ca_acme_validator_new_report(report_authority, a, o, nthreads,
	    out);
}

/* Until the server has a validator (the next commit): dropped. */
void
ca_serve_acme_job(struct ca_server *s, struct ca_acme_job *job)
{
	(void)s;
	ca_acme_job_free(job);
}

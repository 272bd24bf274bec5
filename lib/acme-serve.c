/*
 * acme-serve.c - the serving process's side of ACME validation: the jobs
 * that answers hand over (ca_serve_acme_job). For now a job is dropped:
 * its challenge stays processing until it is given out again (see
 * lib/acme.h); part C brings the validator.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include "ca.h"
#include "acme.h"
#include "serve-internal.h"

void
ca_serve_acme_job(struct ca_server *s, struct ca_acme_job *job)
{
	(void)s;
	ca_acme_job_free(job);
}

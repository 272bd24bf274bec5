/*
 * acme-serve.c - the serving process's side of ACME validations: the
 * server's validator, made when ca.json has an ACME provisioner, fed
 * the jobs that ACME answers carry (lib/http.c), drained before an
 * inetd process exits. Under privilege separation this runs in the
 * worker (the process that talks to the network); the outcomes reach
 * the signer through ca_authority_acme_validated, as every operation.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "ca.h"
#include "acme.h"
#include "acme-validate.h"
#include "authority.h"
#include "conf.h"
#include "serve-internal.h"

/* Threads that validate; more jobs wait in the validator's queue. */
#define ACME_VA_THREADS	4
/* caTools.acme.validationTimeout is kept within these (seconds). */
#define ACME_VA_MIN_S	1
#define ACME_VA_MAX_S	600

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

static int
has_acme(const struct ca_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_provisioners; i++)
		if (strcasecmp(cfg->provisioners[i].type, "ACME") == 0)
			return 1;
	return 0;
}

/* The validator's settings from caTools.acme. */
static void
va_opts(const struct ca_config *cfg, struct ca_acme_va_opts *o)
{
	int64_t t = cfg->acme.validation_timeout;

	memset(o, 0, sizeof(*o));
	o->http_port = cfg->acme.http_port > 0 ? cfg->acme.http_port :
	    CA_ACME_VA_HTTP_PORT;
	o->tls_port = cfg->acme.tls_port > 0 ? cfg->acme.tls_port :
	    CA_ACME_VA_TLS_PORT;
	o->resolver = cfg->acme.dns_resolver;
	if (t <= 0)
		t = CA_ACME_VA_TIMEOUT_MS / 1000;
	t = t < ACME_VA_MIN_S ? ACME_VA_MIN_S : t > ACME_VA_MAX_S ?
	    ACME_VA_MAX_S : t;
	o->timeout_ms = (unsigned)t * 1000;
}

int
ca_serve_acme_start(struct ca_server *s)
{
	const struct ca_config *cfg = ca_authority_config(s->a);
	struct ca_acme_va_opts o;

	if (cfg == NULL || !has_acme(cfg))
		return 0;
	va_opts(cfg, &o);
	s->acme_timeout_ms = o.timeout_ms;
	return ca_acme_validator_new(s->a, &o, ACME_VA_THREADS, &s->acme_va);
}

void
ca_serve_acme_job(struct ca_server *s, struct ca_acme_job *job)
{
	char esc[512];

	if (s->acme_va == NULL) {
		/* ca.json gained an ACME provisioner by a reload: restart. */
		ca_escape(esc, sizeof(esc), job->challenge != NULL ?
		    job->challenge : "-", 1);
		ca_server_log(s, "acme: no validator (ca.json had no ACME "
		    "provisioner when the server started): challenge %s stays "
		    "processing", esc);
		ca_acme_job_free(job);
		return;
	}
	if (ca_acme_validator_submit(s->acme_va, job) != 0)
		ca_server_log(s, "%s",
		    ca_escape(esc, sizeof(esc), ca_errmsg(), 0));
}

void
ca_serve_acme_drain(struct ca_server *s, unsigned max_ms)
{
	char esc[256];

	if (s->acme_va != NULL &&
	    ca_acme_validator_drain(s->acme_va, max_ms) != 0)
		ca_server_log(s, "%s (given out again later)",
		    ca_escape(esc, sizeof(esc), ca_errmsg(), 0));
}

void
ca_serve_acme_stop(struct ca_server *s)
{
	ca_acme_validator_free(s->acme_va);
	s->acme_va = NULL;
}

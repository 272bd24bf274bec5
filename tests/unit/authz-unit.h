/*
 * authz-unit.h - what the verifier unit tests (test-x5c, test-k8ssa)
 * share: a configuration with ca.test's audiences, the verifier's result,
 * and the checks. Include after tap.h; the test sets now, cfg's
 * provisioners and calls authz_unit_setup().
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_AUTHZ_UNIT_H
#define CA_AUTHZ_UNIT_H

#define SIGN	"https://ca.test/1.0/sign"
#define REVOKE	"https://ca.test/1.0/revoke"

static time_t now;
static struct ca_config cfg;
static const char *dns_names[] = { "ca.test" };
static struct ca_authz_ctx ctx = { &cfg, NULL, NULL, NULL };
static struct ca_authz z;

static void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, ca_errmsg());
	exit(1);
}

/* cfg: the CA "ca.test" on port 443 with the n provisioners p. */
static void
authz_unit_setup(struct ca_provisioner *p, size_t n)
{
	cfg.dns_names = dns_names;
	cfg.n_dns_names = 1;
	cfg.port = 443;
	cfg.provisioners = p;
	cfg.n_provisioners = n;
}

/* Free what a type's loader parsed, and the names. */
static void
unload(struct ca_provisioner *p)
{
	if (p->impl_free != NULL)
		p->impl_free(p->impl);
	p->impl = NULL;
	p->impl_free = NULL;
	free(p->name);
	free(p->type);
	p->name = p->type = NULL;
}

/* Verify s (freed) for op: status want; the message contains msg. */
static void
verify(char *s, enum ca_authz_op op, int want, const char *msg,
    const char *what)
{
	ca_authz_free(&z);
	ca_err_clear();
	is_int(ca_authz_token(&ctx, op, s, strlen(s), now, &z), want, "%s",
	    what);
	if (msg != NULL) {
		ok(strstr(ca_errmsg(), msg) != NULL, "  \"%s\"", msg);
		if (strstr(ca_errmsg(), msg) == NULL)
			printf("#   got \"%s\"\n", ca_errmsg());
	}
	free(s);
}

#endif /* CA_AUTHZ_UNIT_H */

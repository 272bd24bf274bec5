/*
 * cli.c - shared helpers of the tools' main() functions.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "conf.h"

static const char *prog = "ca-tools";
int ca_cli_quiet;

void
ca_cli_init(char **argv)
{
	struct rlimit rl = { 0, 0 };
	const char *p;

	if (argv != NULL && argv[0] != NULL) {
		p = strrchr(argv[0], '/');
		prog = p != NULL ? p + 1 : argv[0];
	}
	/* Processes that may hold key material leave no core behind. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Past RLIMIT_FSIZE a write fails with EFBIG and says which file,
	 * instead of the process dying of SIGXFSZ mid-request.
	 */
	signal(SIGXFSZ, SIG_IGN);
}

const char *
ca_cli_prog(void)
{
	return prog;
}

void
ca_cli_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ca_cli_fail(int rc)
{
	const char *msg = ca_errmsg();

	if (msg[0] == '\0')
		msg = rc == CA_ERR_NOMEM ? "out of memory" : "failed";
	fprintf(stderr, "%s: %s\n", prog, msg);
	return ca_exit_status(rc);
}

int
ca_cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	return CA_EXIT_USAGE;
}

int
ca_cli_version(void)
{
	printf("%s (ca-tools) %s\n", prog, PACKAGE_VERSION);
	return 0;
}

int
ca_cli_once(unsigned long *seen, int bit, const char *name)
{
	if (*seen & (1UL << bit))
		return ca_cli_usage("option --%s given more than once", name);
	*seen |= 1UL << bit;
	return 0;
}

int
ca_cli_duration(const char *arg, const char *name, long long *secs)
{
	int64_t v;

	if (ca_duration_parse(arg, 0, &v) != 0)
		return ca_cli_usage("--%s: %s", name, ca_errmsg());
	*secs = (long long)v;
	return 0;
}

int
ca_cli_common(int ch, const char *usage)
{
	switch (ch) {
	case 'q':
		ca_cli_quiet = 1;
		return -1;
	case 'v':
		ca_verbose = 1;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return fflush(stdout) == 0 ? 0 : CA_EXIT_FAIL;
	case 'V':
		return ca_cli_version();
	default:
		return ca_cli_usage("invalid option");
	}
}

int
ca_cli_open_authority(const char *dir, const char *pass_file,
    struct ca_authority **out)
{
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	*out = NULL;
	if (pass_file != NULL &&
	    (rc = ca_secret_read(pass_file, &pw, &pwlen)) != 0)
		return rc;
	rc = ca_authority_open(dir, pw, out);
	ca_free_secret(pw, pwlen);
	return rc;
}

int
ca_cli_open_target(const char *dir, const char *url, const char *root_path,
    const char *pass_file, int how, struct ca_authority **out)
{
	if (url != NULL)
		return ca_authority_open_remote(url, root_path, out);
	if (how == CA_CLI_KEY)
		return ca_cli_open_authority(dir, pass_file, out);
	return ca_authority_open_public(dir, out);
}

int
ca_cli_keygen(const struct ca_authority *a, const enum ca_key_type *type,
    const char *token, size_t toklen, gnutls_datum_t *csr, char **key_pem,
    size_t *key_len)
{
	const struct ca_config *cfg = ca_authority_config(a);
	enum ca_key_type t = CA_KEY_EC_P256;

	if (type != NULL)
		t = *type;
	else if (cfg != NULL)
		t = cfg->key_type;
	return ca_client_keygen(t, token, toklen, csr, key_pem, key_len);
}

/*
 * issue - sign N certificates in one process through ca_authority_sign,
 * for bench/callgrind.sh (the in-process issue path, as ca-serve runs it,
 * without HTTP and TLS).
 *
 * Usage: issue DIR TOKDIR CSRDIR N
 *
 * DIR is a state directory with an unencrypted intermediate key; TOKDIR/I
 * holds a one-time token and CSRDIR/I.pem a CSR for I = 1..N. Nothing is
 * printed on success.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "ca.h"
#include "authority.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

int
main(int argc, char **argv)
{
	struct ca_authority *a = NULL;
	struct ca_sign_req req;
	struct ca_sign_result res;
	char path[4096], *tok, *csr;
	size_t tlen, clen;
	long i, n;

	if (argc != 5 || (n = strtol(argv[4], NULL, 10)) < 1) {
		fprintf(stderr, "usage: issue DIR TOKDIR CSRDIR N\n");
		return 2;
	}
	if (gnutls_global_init() < 0 ||
	    ca_authority_open(argv[1], NULL, &a) != 0) {
		fprintf(stderr, "issue: %s\n", ca_errmsg());
		return 1;
	}
	for (i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "%s/%ld", argv[2], i);
		tok = slurp(path, &tlen);
		snprintf(path, sizeof(path), "%s/%ld.pem", argv[3], i);
		csr = slurp(path, &clen);
		if (tok == NULL || csr == NULL) {
			fprintf(stderr, "issue: cannot read request %ld\n", i);
			return 1;
		}
		memset(&req, 0, sizeof(req));
		memset(&res, 0, sizeof(res));
		req.token = tok;
		req.token_len = tlen;
		req.csr = csr;
		req.csr_len = clen;
		if (ca_authority_sign(a, &req, &res) != 0) {
			fprintf(stderr, "issue: request %ld: %s\n", i, ca_errmsg());
			return 1;
		}
		ca_sign_result_free(&res);
		free(tok);
		free(csr);
	}
	ca_authority_close(a);
	gnutls_global_deinit();
	return 0;
}

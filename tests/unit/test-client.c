/*
 * test-client.c - unit tests of lib/client.c that need no server: URL and
 * fingerprint checks, the mapping of error answers, the key and CSR made
 * from a token, loading libcurl and a refused connection.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "client.h"
#include "jose.h"
#include "keys.h"
#include "token.h"
#include "x509.h"
#include "tap.h"

#define FP64 "8c6182613b1a54c1ee2dc4d7b1ea0cd8d5c9e0b6f2a3c7c04af994ad00112233"

static void
test_url(void)
{
	static const char *good[] = {
		"https://ca.test", "https://ca.test:8443", "https://ca.test:8443/",
		"HTTPS://ca.test/prefix", "https://[::1]:443", "https://127.0.0.1:1",
	};
	static const char *bad[] = {
		"http://ca.test", "ca.test:443", "https://", "https:///x",
		"https://:443", "https://u:p@ca.test", "https://ca.test/?a=b",
		"https://ca.test/#f", "https://ca test", "https://ca.test/\n",
		"file:///etc/passwd", "",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(ca_client_url_check(good[i]), 0, "URL accepted: %s",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ca_client_url_check(bad[i]), CA_ERR_INVAL,
		    "bad URL %zu refused", i);
}

static void
test_fingerprint(void)
{
	char colons[200], *out = (char *)1;
	size_t i, n = 0;

	is_int(ca_client_fingerprint_parse(FP64, &out), 0, "64 hex digits");
	is_str(out, FP64, "kept as is");
	free(out);
	/* Upper case with colons, as openssl prints it. */
	for (i = 0; i < 64; i += 2) {
		if (i > 0)
			colons[n++] = ':';
		colons[n++] = (char)(FP64[i] >= 'a' ? FP64[i] - 32 : FP64[i]);
		colons[n++] = (char)(FP64[i + 1] >= 'a' ? FP64[i + 1] - 32 :
		    FP64[i + 1]);
	}
	colons[n] = '\0';
	is_int(ca_client_fingerprint_parse(colons, &out), 0, "colons, upper case");
	is_str(out, FP64, "normalised to lowercase hex");
	free(out);
	out = (char *)1;
	is_int(ca_client_fingerprint_parse(FP64 "0", &out), CA_ERR_INVAL,
	    "65 digits refused");
	ok(out == NULL, "no result on failure");
	is_int(ca_client_fingerprint_parse(&FP64[2], &out), CA_ERR_INVAL,
	    "62 digits refused");
	is_int(ca_client_fingerprint_parse(":" FP64, &out), CA_ERR_INVAL,
	    "leading colon refused");
	memcpy(colons + 2, "::", 2);
	is_int(ca_client_fingerprint_parse(colons, &out), CA_ERR_INVAL,
	    "double colon refused");
	is_int(ca_client_fingerprint_parse(
	    "g" "c6182613b1a54c1ee2dc4d7b1ea0cd8d5c9e0b6f2a3c7c04af994ad00112233",
	    &out), CA_ERR_INVAL, "non-hex refused");
	is_int(ca_client_fingerprint_parse("", &out), CA_ERR_INVAL,
	    "empty refused");
}

static void
check_error(long status, const char *body, int want, const char *want_msg)
{
	struct ca_client_response r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = (char *)(uintptr_t)body;
	r.len = body != NULL ? strlen(body) : 0;
	is_int(ca_client_http_error(&r), want, "HTTP %ld: status", status);
	is_str(ca_errmsg(), want_msg, "HTTP %ld: message", status);
}

static void
test_http_error(void)
{
	check_error(401, "{\"status\":401,\"message\":\"token already used\"}",
	    CA_ERR_AUTH, "CA refused: token already used (HTTP 401)");
	check_error(403, "{\"status\":403,\"message\":\"name not allowed\"}",
	    CA_ERR_FORBIDDEN, "CA refused: name not allowed (HTTP 403)");
	check_error(400, "{\"status\":400,\"message\":\"bad CSR\"}",
	    CA_ERR_INVAL, "CA refused: bad CSR (HTTP 400)");
	check_error(404, "{\"status\":404,\"message\":\"not found\"}",
	    CA_ERR_NOTFOUND, "CA refused: not found (HTTP 404)");
	check_error(413, "{\"message\":\"too big\"}", CA_ERR_TOOBIG,
	    "CA refused: too big (HTTP 413)");
	check_error(415, "{\"message\":\"use JSON\"}", CA_ERR_INVAL,
	    "CA refused: use JSON (HTTP 415)");
	check_error(503, "{\"status\":503,\"message\":\"database busy\"}",
	    CA_ERR_TEMP, "CA refused: database busy (HTTP 503)");
	check_error(500, "{\"message\":\"internal\"}", CA_ERR_IO,
	    "CA refused: internal (HTTP 500)");
	check_error(502, "<html>bad gateway</html>", CA_ERR_TEMP,
	    "CA refused: HTTP 502");
	check_error(301, "", CA_ERR_IO,
	    "CA answered HTTP 301 (redirects are not followed)");
	check_error(401, "{\"message\":\"a\\u001b[31mb\\nc\"}", CA_ERR_AUTH,
	    "CA refused: a?[31mb?c (HTTP 401)");
	check_error(401, "{\"message\":\"x\",\"message\":\"y\"}", CA_ERR_AUTH,
	    "CA refused: HTTP 401");
	check_error(401, "{\"message\":7}", CA_ERR_AUTH, "CA refused: HTTP 401");
}

/* A token for sub and sans signed with a fresh provisioner key. */
static char *
make_token(const char *sub, const char *const *sans, size_t n)
{
	struct ca_token_opts o;
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	struct ca_jwk *jwk = NULL;
	char *tok = NULL;

	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &k) != 0 ||
	    ca_jwk_from_privkey(k, NULL, &jwk) != 0) {
		printf("Bail out! provisioner key: %s\n", ca_errmsg());
		exit(1);
	}
	memset(&o, 0, sizeof(o));
	o.iss = "admin";
	o.sub = sub;
	o.aud = "https://ca.test/1.0/sign";
	o.sans = sans;
	o.n_sans = n;
	o.now = time(NULL);
	if (ca_token_mint(jwk, &o, &tok) != 0) {
		printf("Bail out! token: %s\n", ca_errmsg());
		exit(1);
	}
	ca_jwk_free(jwk);
	return tok;
}

static void
test_keygen(void)
{
	static const char *const sans[] = { "svc.test", "192.0.2.1" };
	gnutls_datum_t csr = { NULL, 0 };
	gnutls_x509_crq_t crq = NULL;
	struct ca_names names;
	char *tok, *key = NULL;
	size_t keylen = 0;
	int rc;

	tok = make_token("svc.test", sans, 2);
	rc = ca_client_keygen(CA_KEY_ED25519, tok, strlen(tok), &csr, &key,
	    &keylen);
	is_int(rc, 0, "key and CSR from a token (%s)", ca_errmsg());
	ok(key != NULL && keylen == strlen(key) &&
	    strstr(key, "-----BEGIN PRIVATE KEY-----") != NULL,
	    "the key is PKCS#8 PEM");
	ok(csr.data != NULL && strstr((char *)csr.data,
	    "BEGIN NEW CERTIFICATE REQUEST") != NULL, "the CSR is PEM");
	is_int(ca_csr_import(csr.data, csr.size, &crq), 0,
	    "the CSR imports and its signature verifies");
	memset(&names, 0, sizeof(names));
	is_int(ca_names_classify(sans, 2, &names), 0, "names");
	is_int(ca_csr_check_names(crq, "svc.test", &names, 100), 0,
	    "the CSR carries the token's names (%s)", ca_errmsg());
	is_int(gnutls_x509_crq_get_pk_algorithm(crq, NULL), GNUTLS_PK_EDDSA_ED25519,
	    "of the type asked for");
	ca_names_free(&names);
	gnutls_x509_crq_deinit(crq);
	gnutls_free(csr.data);
	ca_free_secret(key, keylen);
	free(tok);

	key = (char *)1;
	is_int(ca_client_keygen(CA_KEY_EC_P256, "not.a.token", 11, &csr, &key,
	    &keylen), CA_ERR_INVAL, "a malformed token is refused");
	ok(key == NULL && csr.data == NULL, "and nothing is returned");
	tok = make_token("bad name!", NULL, 0);
	ok(ca_client_keygen(CA_KEY_EC_P256, tok, strlen(tok), &csr, &key,
	    &keylen) != 0 && key == NULL, "a token with an invalid name is refused");
	free(tok);
}

/* A port on 127.0.0.1 that nobody listens on (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		printf("Bail out! socket\n");
		exit(1);
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void
test_open(void)
{
	struct ca_client *c = (struct ca_client *)1;
	struct ca_client_response r;
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	char path[4200], url[64], *fp = NULL, *s;
	time_t now = time(NULL);
	FILE *f;

	snprintf(path, sizeof(path), "%s/root.crt", tmpdir);
	is_int(ca_client_open("https://ca.test", path, &c), CA_ERR_NOTFOUND,
	    "a missing root is refused");
	ok(c == NULL, "no client then");

	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &k) != 0 ||
	    ca_x509_make_ca(k, "Test", "Test Root", 1, now - 60, now + 3600,
	    NULL, &crt) != 0 ||
	    ca_x509_export(crt, GNUTLS_X509_FMT_PEM, &pem) != 0 ||
	    ca_x509_fingerprint(crt, &fp) != 0 ||
	    (f = fopen(path, "w")) == NULL) {
		printf("Bail out! root: %s\n", ca_errmsg());
		exit(1);
	}
	fwrite(pem.data, 1, pem.size, f);
	fclose(f);

	is_int(ca_client_open("http://ca.test", path, &c), CA_ERR_INVAL,
	    "an http:// URL is refused");
	is_int(ca_client_open("https://ca.test:8443//", path, &c), 0,
	    "open (%s)", ca_errmsg());
	if (c != NULL) {
		is_str(ca_client_root_fp(c), fp, "the root's fingerprint");
		s = ca_client_url(c, "/1.0/sign");
		is_str(s, "https://ca.test:8443/1.0/sign",
		    "trailing slashes dropped");
		free(s);
		ca_client_close(c);
	}

	snprintf(url, sizeof(url), "https://127.0.0.1:%d", closed_port());
	is_int(ca_client_open(url, path, &c), 0, "open");
	if (c != NULL) {
		is_int(ca_client_get(c, "/health", &r), CA_ERR_TEMP,
		    "connection refused is temporary (%s)", ca_errmsg());
		ok(strncmp(ca_errmsg(), "cannot reach the CA at https://127.0.0.1:",
		    41) == 0, "and says so");
		ca_client_close(c);
	}
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(k);
	free(fp);
}

int
main(void)
{
	tmpdir_make("client");
	test_url();
	test_fingerprint();
	test_http_error();
	test_keygen();
	test_open();
	tmpdir_remove();
	return tap_done();
}

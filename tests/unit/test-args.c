/*
 * test-args.c - unit tests of the tools' requests built from their
 * options (lib/revoke-args.c and its kind): each usage error with its
 * exact message, and the request each combination of options makes.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "client.h"
#include "crl.h"
#include "revoke-args.h"
#include "tap.h"

static char dir[4200], crt_path[4300], key_path[4300];

/* A CA whose intermediate (certificate, unencrypted key) serves as a leaf. */
static void
make_ca(void)
{
	static const char *dns[] = { "ca.test" };
	struct ca_init_opts o;
	char *fp = NULL;

	snprintf(dir, sizeof(dir), "%s/ca", tmpdir);
	snprintf(crt_path, sizeof(crt_path), "%s/certs/intermediate_ca.crt",
	    dir);
	snprintf(key_path, sizeof(key_path), "%s/secrets/intermediate_ca_key",
	    dir);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "Unit";
	o.dns = dns;
	o.n_dns = 1;
	o.address = ":8443";
	o.provisioner = "admin";
	o.password = "root password";
	o.prov_password = "provisioner password";
	o.unencrypted_intermediate = 1;
	o.p2c = 1000;
	if (ca_init_create(&o, &fp) != 0) {
		printf("Bail out! ca_init_create: %s\n", ca_errmsg());
		exit(1);
	}
	free(fp);
}

static void
write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(s, f) == EOF || fclose(f) != 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* The usage error ca_revoke_args_check gives a, "" when none. */
static const char *
revoke_check(struct ca_revoke_args a)
{
	ca_err_clear();
	if (ca_revoke_args_check(&a) == 0)
		return "";
	return ca_errmsg();
}

static void
test_revoke_check(void)
{
	struct ca_revoke_args a;
	char text[CA_REVOKE_MAX_REASON_TEXT + 2];

	memset(&a, 0, sizeof(a));
	a.reason = CA_REASON_NONE;
	a.serial = "0x1f";
	is_str(revoke_check(a), "", "offline: SERIAL alone");
	a.serial = NULL;
	is_str(revoke_check(a), "SERIAL is required", "offline: no SERIAL");
	a.serial = "12";
	a.token_file = "t";
	is_str(revoke_check(a), "--token-file, --cert and --key are for --ca-url",
	    "offline: no token");
	a.online = 1;
	is_str(revoke_check(a), "", "online: token and SERIAL");
	a.serial = NULL;
	is_str(revoke_check(a), "SERIAL is required", "online: token, no SERIAL");
	a.token_file = NULL;
	is_str(revoke_check(a), "give either --token-file or --cert and --key",
	    "online: no proof");
	a.cert = "c";
	is_str(revoke_check(a), "--cert needs --key", "online: --cert alone");
	a.cert = NULL;
	a.key = "k";
	is_str(revoke_check(a), "--key needs --cert", "online: --key alone");
	a.cert = "c";
	is_str(revoke_check(a), "", "online: --cert and --key, no SERIAL");
	a.token_file = "t";
	is_str(revoke_check(a), "give either --token-file or --cert and --key",
	    "online: both proofs");
	a.token_file = NULL;
	a.output = 1;
	is_str(revoke_check(a), "--output-file is for --crl", "-o without --crl");
	a.output = 0;
	a.password = 1;
	is_str(revoke_check(a), "--password-file is for --crl",
	    "--password-file without --crl");
	a.crl = 1;
	is_str(revoke_check(a), "--crl needs --state-dir, not --ca-url",
	    "--crl online");
	a.online = 0;
	is_str(revoke_check(a), "--crl revokes nothing: no SERIAL, --reason, "
	    "--reason-text, --token-file, --cert or --key", "--crl with --cert");
	a.cert = a.key = NULL;
	is_str(revoke_check(a), "", "--crl with --password-file");
	a.reason = 1;
	ok(strncmp(revoke_check(a), "--crl revokes nothing", 21) == 0,
	    "--crl with --reason");

	memset(&a, 0, sizeof(a));
	a.reason = CA_REASON_NONE;
	a.serial = "zz";
	ok(revoke_check(a)[0] != '\0', "a bad SERIAL: %s", ca_errmsg());
	a.serial = "12";
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	a.reason_text = text;
	is_str(revoke_check(a), "--reason-text: longer than 256 bytes",
	    "257 bytes of --reason-text");
	text[sizeof(text) - 2] = '\0';
	is_str(revoke_check(a), "", "256 bytes of --reason-text");
}

static void
test_revoke_request(void)
{
	struct ca_revoke_args a;
	char tok_path[4300];
	int rc;

	memset(&a, 0, sizeof(a));
	a.serial = "12";
	a.reason = 1;
	a.reason_text = "lost";
	is_int(ca_revoke_args_request(&a), 0, "offline request");
	ok(a.req.trusted == 1 && a.req.token == NULL &&
	    a.req.peer_der == NULL, "offline: the operator, trusted");
	is_str(a.req.by, "ca-revoke -d", "offline: by ca-revoke -d");
	is_str(a.req.serial, "12", "offline: SERIAL");
	ok(a.req.reason == 1 && strcmp(a.req.reason_text, "lost") == 0,
	    "offline: reason and its text");
	ca_revoke_args_free(&a);

	snprintf(tok_path, sizeof(tok_path), "%s/tok", tmpdir);
	write_file(tok_path, "a.b.c");
	memset(&a, 0, sizeof(a));
	a.online = 1;
	a.serial = "12";
	a.token_file = tok_path;
	is_int(ca_revoke_args_request(&a), 0, "token request");
	ok(a.req.trusted == 0 && a.req.token_len == 5 &&
	    memcmp(a.req.token, "a.b.c", 5) == 0, "token: read from its file");
	ca_revoke_args_free(&a);
	ok(a.token == NULL && a.req.token == NULL, "token: freed");

	memset(&a, 0, sizeof(a));
	a.online = 1;
	a.token_file = "/nonexistent/tok";
	ok(ca_revoke_args_request(&a) != 0, "token: a missing file fails");
	ca_revoke_args_free(&a);

	memset(&a, 0, sizeof(a));
	a.online = 1;
	a.cert = crt_path;
	a.key = key_path;
	rc = ca_revoke_args_request(&a);
	is_int(rc, 0, "certificate request: %s", rc ? ca_errmsg() : "");
	if (rc == 0) {
		ok(a.req.trusted == 0 && a.req.token == NULL,
		    "certificate: no token, not trusted");
		ok(a.req.serial != NULL && strncmp(a.req.serial, "0x", 2) == 0 &&
		    strcmp(a.req.serial + 2, a.cc->serial) == 0,
		    "certificate: its own serial, 0x and hex");
		ok(a.req.peer_der == a.cc->der[0].data &&
		    a.req.peer_len == a.cc->der[0].size, "certificate: its DER");
		ok(a.req.cert_path == crt_path && a.req.key_path == key_path,
		    "certificate: the files for mutual TLS");
	}
	ca_revoke_args_free(&a);
	a.serial = "0x99";
	is_int(ca_revoke_args_request(&a), 0, "certificate and SERIAL");
	is_str(a.req.serial, "0x99", "certificate: SERIAL as given");
	ca_revoke_args_free(&a);
	a.serial = NULL;
	a.key = tok_path;
	ok(ca_revoke_args_request(&a) != 0 && a.cc == NULL,
	    "certificate: a key that is not its own fails");
	ca_revoke_args_free(&a);
}

int
main(void)
{
	if (gnutls_global_init() < 0)
		return 1;
	tmpdir_make("args");
	make_ca();
	test_revoke_check();
	test_revoke_request();
	tmpdir_remove();
	return tap_done();
}

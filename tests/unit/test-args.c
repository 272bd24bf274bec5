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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authority.h"
#include "client.h"
#include "crl.h"
#include "init-args.h"
#include "leafout.h"
#include "exec.h"
#include "renew-args.h"
#include "renew-daemon.h"
#include "sign-args.h"
#include "token.h"
#include "token-args.h"
#include "revoke-args.h"
#include "tap.h"
#include "unit-ca.h"

static char dir[4200], crt_path[4300], key_path[4300], prov_path[4300];

/* A CA whose intermediate (certificate, unencrypted key) serves as a leaf. */
static void
make_ca(void)
{
	unit_ca_make(dir, sizeof(dir), prov_path, sizeof(prov_path));
	snprintf(crt_path, sizeof(crt_path), "%s/certs/intermediate_ca.crt",
	    dir);
	snprintf(key_path, sizeof(key_path), "%s/secrets/intermediate_ca_key",
	    dir);
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

/* The usage error ca_init_args_check gives a, "" when none. */
static const char *
init_check(struct ca_init_args *a, int *rc)
{
	ca_err_clear();
	*rc = ca_init_args_check(a);
	ca_init_args_free(a);
	return *rc == 0 ? "" : ca_errmsg();
}

/* A complete ca-init command line: -d, --name, --dns, ... */
static void
init_base(struct ca_init_args *a, char *dns)
{
	memset(a, 0, sizeof(*a));
	a->opts.dir = dir;
	a->opts.name = "Unit";
	a->opts.address = ":443";
	a->opts.provisioner = "admin";
	a->pass_file = "pw";
	if (ca_init_args_dns(a, dns) != 0)
		printf("# dns: %s\n", ca_errmsg());
}

static void
test_init_check(void)
{
	struct ca_init_args a;
	char dns[] = "ca.test,,10.0.0.1,", many[64 * 2 + 8], pin[4300];
	const char *kms = "pkcs11:module-path=/m.so;token=ca";
	int rc, i;

	init_base(&a, dns);
	is_int(a.n_dns, 2, "--dns split at commas, empty parts dropped");
	is_str(a.dns[1], "10.0.0.1", "--dns: the second name");
	is_str(init_check(&a, &rc), "", "a complete command line");
	ok(a.opts.n_dns == 2 && a.opts.dns[0] == a.dns[0],
	    "the names handed to ca_init_opts");
	for (i = 0; i < 64; i++)
		memcpy(many + 2 * i, "a,", 2);
	strcpy(many + 128, "b,c");
	memset(&a, 0, sizeof(a));
	ok(ca_init_args_dns(&a, many) == CA_ERR_INVAL &&
	    strcmp(ca_errmsg(), "too many --dns names") == 0,
	    "65 --dns names: %s", ca_errmsg());

	init_base(&a, dns);
	a.opts.name = NULL;
	is_str(init_check(&a, &rc), "--name is required", "no --name");
	is_int(rc, CA_ERR_INVAL, "a usage error is CA_ERR_INVAL");
	init_base(&a, dns);
	a.n_dns = 0;
	is_str(init_check(&a, &rc), "--dns is required", "no --dns");
	init_base(&a, dns);
	a.opts.provisioner = NULL;
	is_str(init_check(&a, &rc), "--provisioner is required",
	    "no --provisioner");
	init_base(&a, dns);
	a.pass_file = NULL;
	is_str(init_check(&a, &rc), "--password-file is required",
	    "no --password-file");
	init_base(&a, dns);
	a.opts.key_type = "dsa";
	ok(strncmp(init_check(&a, &rc), "--key-type: ", 12) == 0 &&
	    rc == CA_ERR_INVAL, "a bad --key-type: %s", ca_errmsg());
	init_base(&a, dns);
	a.opts.address = "nowhere";
	ok(strncmp(init_check(&a, &rc), "--address: ", 11) == 0,
	    "a bad --address: %s", ca_errmsg());
	strcpy(dns, "a@b.test");
	init_base(&a, dns);
	is_str(init_check(&a, &rc), "--dns takes DNS names and IP addresses",
	    "an e-mail address in --dns");

	strcpy(dns, "ca.test");
	init_base(&a, dns);
	a.opts.ra_url = "https://up.test";
	is_str(init_check(&a, &rc), "the --upstream options need --ra",
	    "--upstream without --ra");
	init_base(&a, dns);
	a.ra = 1;
	is_str(init_check(&a, &rc), "--ra needs --upstream, "
	    "--upstream-fingerprint, --upstream-provisioner and "
	    "--upstream-password-file", "--ra alone");
	a.opts.ra_url = "http://up.test";
	a.opts.ra_fingerprint = "00";
	a.opts.ra_provisioner = "up";
	a.upstream_pass_file = "upw";
	ok(strncmp(init_check(&a, &rc), "--upstream: ", 12) == 0,
	    "--upstream not https: %s", ca_errmsg());
	a.opts.ra_url = "https://up.test";
	ok(strncmp(init_check(&a, &rc), "--upstream-fingerprint: ", 24) == 0,
	    "a short --upstream-fingerprint: %s", ca_errmsg());
	a.opts.unencrypted_intermediate = 1;
	is_str(init_check(&a, &rc), "--ra makes no CA keys: no --key-type or "
	    "--unencrypted-intermediate-key", "--ra and a CA key option");

	init_base(&a, dns);
	a.kms_pin_file = "pin";
	is_str(init_check(&a, &rc), "--kms-pin-file needs --kms",
	    "--kms-pin-file alone");
	a.opts.kms = kms;
	a.opts.key_type = "ed25519";
	is_str(init_check(&a, &rc), "--kms: --key-type ec-p256, ec-p384 or "
	    "rsa-3072", "--kms and ed25519");
	a.opts.key_type = NULL;
	a.opts.unencrypted_intermediate = 1;
	is_str(init_check(&a, &rc), "--kms makes the CA keys on a token: no "
	    "--ra or --unencrypted-intermediate-key",
	    "--kms and an unencrypted key");
	a.opts.unencrypted_intermediate = 0;
	a.opts.kms = "pkcs11:token=ca";
	ok(strncmp(init_check(&a, &rc), "--kms: ", 7) == 0 &&
	    rc == CA_ERR_INVAL, "--kms without a module: %s", ca_errmsg());
	a.opts.kms = "pkcs11:module-path=/m.so;token=ca?pin-source=/p";
	is_str(init_check(&a, &rc), "the PIN file twice: --kms-pin-file and "
	    "pin-source in --kms", "two PIN files");
	a.opts.kms = kms;
	a.kms_pin_file = NULL;
	is_str(init_check(&a, &rc), "--kms needs --kms-pin-file FILE (or "
	    "pin-source=FILE in the URI)", "no PIN file");
	a.kms_pin_file = "/nonexistent/pin";
	ok(strncmp(init_check(&a, &rc), "--kms-pin-file /nonexistent/pin: ",
	    33) == 0 && rc == CA_ERR_IO, "a PIN file that is not there: %s",
	    ca_errmsg());
	snprintf(pin, sizeof(pin), "%s/pin", tmpdir);
	write_file(pin, "1234\n");
	if (chdir(tmpdir) != 0)
		printf("Bail out! chdir\n");
	a.kms_pin_file = "pin";
	rc = ca_init_args_check(&a);
	is_int(rc, 0, "--kms and --kms-pin-file");
	ok(a.opts.kms_pin_file != NULL && a.opts.kms_pin_file[0] == '/' &&
	    strcmp(a.opts.kms_pin_file + strlen(a.opts.kms_pin_file) - 4,
	    "/pin") == 0, "the PIN file by its absolute name");
	ca_init_args_free(&a);
	ok(a.opts.kms_pin_file == NULL && a.pin_abs == NULL, "freed");
}

static void
test_init_secrets(void)
{
	struct ca_init_args a;
	char dns[] = "ca.test", pw[4300], ppw[4300];

	snprintf(pw, sizeof(pw), "%s/pw", tmpdir);
	snprintf(ppw, sizeof(ppw), "%s/ppw", tmpdir);
	write_file(pw, "ca secret\n");
	write_file(ppw, "prov secret\n");
	init_base(&a, dns);
	a.pass_file = pw;
	is_int(ca_init_args_secrets(&a), 0, "the password read");
	is_str(a.opts.password, "ca secret", "the CA keys' password");
	is_str(a.opts.prov_password, "ca secret",
	    "the provisioner's: the same by default");
	ok(a.opts.ra_password == NULL, "no upstream password");
	ca_init_args_free(&a);
	ok(a.opts.password == NULL && a.pw == NULL, "the passwords freed");
	a.prov_pass_file = ppw;
	a.upstream_pass_file = ppw;
	is_int(ca_init_args_secrets(&a), 0, "three passwords read");
	is_str(a.opts.prov_password, "prov secret", "the provisioner's own");
	is_str(a.opts.ra_password, "prov secret", "the upstream's");
	ca_init_args_free(&a);
	a.prov_pass_file = "/nonexistent/ppw";
	ok(ca_init_args_secrets(&a) != 0, "a missing password file fails");
	ca_init_args_free(&a);
}

static char *
slurp(const char *path)
{
	char *s = NULL;
	size_t n;

	if (ca_file_read(path, 1 << 20, &s, &n) != 0)
		return NULL;
	return s;
}

static void
test_leafout(void)
{
	struct ca_leafout lo;
	struct ca_sign_result res;
	struct stat st;
	char crt[4300], link_path[4300], key[4300], *real, *got;
	char crt_pem[] = "CRT\n", chain_pem[] = "CHAIN\n";
	int rc;

	snprintf(crt, sizeof(crt), "%s/leaf.crt", tmpdir);
	snprintf(link_path, sizeof(link_path), "%s/leaf-link.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/leaf.key", tmpdir);
	write_file(crt, "old\n");
	chmod(crt, 0640);
	if (symlink(crt, link_path) != 0)
		printf("Bail out! symlink\n");
	real = realpath(crt, NULL);

	is_int(ca_leafout_prepare(&lo, NULL, NULL, NULL, 0), 0, "no -o");
	is_str(lo.chain, "-", "no -o: standard output");
	ca_leafout_free(&lo);
	is_int(ca_leafout_prepare(&lo, link_path, "-", NULL, 0), 0, "-o -");
	is_str(lo.chain, "-", "-o -: standard output, not over CERT");
	ca_leafout_free(&lo);
	is_int(ca_leafout_prepare(&lo, link_path, NULL, key, 0), 0, "in place");
	is_str(lo.chain, real, "in place: through the link, the file");
	is_int(lo.chain_flags, CA_PUBLISH_KEEP_MODE, "in place: mode kept");
	ca_leafout_free(&lo);
	rc = ca_leafout_prepare(&lo, "/nonexistent/leaf.crt", NULL, NULL, 0);
	ok(rc == CA_ERR_IO && strcmp(ca_errmsg(), "/nonexistent/leaf.crt: "
	    "No such file or directory") == 0, "in place: CERT not there: %s",
	    ca_errmsg());
	ca_leafout_free(&lo);
	ok(ca_leafout_prepare(&lo, NULL, link_path, NULL, 0) != 0,
	    "-o a symbolic link refused: %s", ca_errmsg());
	ca_leafout_free(&lo);
	ok(ca_leafout_prepare(&lo, NULL, tmpdir, NULL, 0) != 0,
	    "-o a directory refused: %s", ca_errmsg());
	ca_leafout_free(&lo);
	rc = ca_leafout_prepare(&lo, NULL, tmpdir, crt, CA_PUBLISH_NEW);
	ok(rc == CA_ERR_EXISTS && strstr(ca_errmsg(), "leaf.crt") != NULL,
	    "a key that must be new is checked first: %s", ca_errmsg());
	ca_leafout_free(&lo);
	rc = ca_leafout_prepare(&lo, crt, tmpdir, link_path, 0);
	ok(rc != 0 && strstr(ca_errmsg(), "leaf-link") == NULL,
	    "else the chain first: %s", ca_errmsg());
	ca_leafout_free(&lo);

	memset(&res, 0, sizeof(res));
	res.crt_pem = crt_pem;
	res.chain_pem = chain_pem;
	is_int(ca_leafout_prepare(&lo, link_path, NULL, key, 0), 0,
	    "in place with a key");
	is_int(ca_leafout_publish(&lo, &res, "KEY\n", 4), 0, "published");
	got = slurp(crt);
	is_str(got, "CRT\nCHAIN\n", "the certificate, then the intermediate");
	free(got);
	got = slurp(key);
	is_str(got, "KEY\n", "the key");
	free(got);
	ok(lstat(link_path, &st) == 0 && S_ISLNK(st.st_mode),
	    "the link left a link");
	ok(stat(crt, &st) == 0 && (st.st_mode & 07777) == 0640,
	    "the chain's mode kept");
	ok(stat(key, &st) == 0 && (st.st_mode & 07777) == 0600, "key 0600");
	ca_leafout_free(&lo);

	write_file(crt, "old\n");
	is_int(ca_leafout_prepare(&lo, NULL, crt, link_path, CA_PUBLISH_NEW),
	    CA_ERR_EXISTS, "ca-sign's key must be new");
	ca_leafout_free(&lo);
	unlink(key);
	is_int(ca_leafout_prepare(&lo, NULL, crt, key, CA_PUBLISH_NEW), 0,
	    "ca-sign's -o and --key-out");
	write_file(key, "taken\n");
	ok(ca_leafout_publish(&lo, &res, "KEY\n", 4) == CA_ERR_EXISTS,
	    "a key file made meanwhile: refused");
	got = slurp(crt);
	is_str(got, "old\n", "and the old chain left");
	free(got);
	got = slurp(key);
	is_str(got, "taken\n", "and the key file left");
	free(got);
	ca_leafout_free(&lo);
	free(real);
}

static void
test_renew(void)
{
	struct ca_renew_args a;
	struct ca_sign_result res;
	char *pem, serial[] = "1";

	memset(&a, 0, sizeof(a));
	a.cert = crt_path;
	a.key_file = key_path;
	a.expires_in = -1;
	a.now = time(NULL);
	is_int(ca_renew_args_load(&a), 1, "ten years left: not due");
	ca_renew_args_free(&a);
	a.force = 1;
	is_int(ca_renew_args_load(&a), 0, "--force: due");
	ca_renew_args_free(&a);
	a.force = 0;
	a.expires_in = 20LL * 366 * 86400;
	is_int(ca_renew_args_load(&a), 0, "--expires-in longer than left: due");
	is_int(ca_renew_args_request(&a), 0, "the request");
	ok(a.req.cc == a.cc && a.req.mtls == 1 && a.req.csr == NULL,
	    "valid now: mutual TLS, the same key");
	a.no_mtls = 1;
	ca_renew_args_request(&a);
	is_int(a.req.mtls, 0, "--no-mtls: an x5c token");
	a.no_mtls = 0;
	a.now = a.cc->not_after + 1;
	ca_renew_args_request(&a);
	is_int(a.req.mtls, 0, "expired: an x5c token");
	a.now = a.cc->not_before - 1;
	ca_renew_args_request(&a);
	is_int(a.req.mtls, 0, "not yet valid: an x5c token");

	pem = slurp(crt_path);
	memset(&res, 0, sizeof(res));
	res.crt_pem = pem;
	res.serial = serial;
	is_int(ca_renew_args_check(&a, &res), 0,
	    "a certificate of its own key: accepted");
	a.rekey = 1;
	is_int(ca_renew_args_request(&a), 0, "--rekey request");
	ok(a.key != NULL && a.key_len > 0 && a.req.csr != NULL &&
	    a.req.csr_len == a.csr.size, "--rekey: a new key and its CSR");
	ok(ca_renew_args_check(&a, &res) != 0,
	    "--rekey: the old key's certificate refused: %s", ca_errmsg());
	ca_renew_args_free(&a);
	ok(a.key == NULL && a.cc == NULL && a.csr.data == NULL, "freed");
	a.key_file = crt_path;
	ok(ca_renew_args_load(&a) != 0, "KEY not a key: %s", ca_errmsg());
	ca_renew_args_free(&a);
	free(pem);
}

/* The public-key algorithm of the PEM CSR in d, or -1. */
static int
csr_pk(const gnutls_datum_t *d)
{
	gnutls_x509_crq_t crq;
	int alg = -1;

	if (gnutls_x509_crq_init(&crq) < 0)
		return -1;
	if (gnutls_x509_crq_import(crq, d, GNUTLS_X509_FMT_PEM) >= 0)
		alg = gnutls_x509_crq_get_pk_algorithm(crq, NULL);
	gnutls_x509_crq_deinit(crq);
	return alg;
}

static const char *
sign_check(struct ca_sign_args a)
{
	ca_err_clear();
	if (ca_sign_args_check(&a) == 0)
		return "";
	return ca_errmsg();
}

static void
test_sign(void)
{
	struct ca_sign_args a;
	struct ca_token_args ta;
	struct ca_authority *ca = NULL;
	char tok_path[4300], csr_path[4300], *tok = NULL;

	memset(&a, 0, sizeof(a));
	is_str(sign_check(a), "--token-file is required", "no token");
	a.token_file = "-";
	is_str(sign_check(a), "give exactly one of --csr and --key-out",
	    "neither --csr nor --key-out");
	a.csr_file = "c";
	is_str(sign_check(a), "", "a token and a CSR");
	a.key_out = "k";
	is_str(sign_check(a), "give exactly one of --csr and --key-out",
	    "both --csr and --key-out");
	a.key_out = NULL;
	a.csr_file = "-";
	is_str(sign_check(a), "the token and the CSR cannot both be standard "
	    "input", "both on stdin");
	a.csr_file = NULL;
	a.key_out = "-";
	is_str(sign_check(a), "--key-out needs a file name", "--key-out -");
	a.key_out = "k";
	is_str(sign_check(a), "", "a token and --key-out");

	memset(&ta, 0, sizeof(ta));
	ta.subject = "svc.test";
	ta.key_file = prov_path;
	ta.now = time(NULL);
	if (ca_authority_open_public(dir, &ca) != 0 ||
	    ca_token_args_mint(&ta, ca, &tok) != 0) {
		ok(0, "a token minted: %s", ca_errmsg());
		ca_authority_close(ca);
		return;
	}
	snprintf(tok_path, sizeof(tok_path), "%s/sign.tok", tmpdir);
	snprintf(csr_path, sizeof(csr_path), "%s/sign.csr", tmpdir);
	write_file(tok_path, tok);
	write_file(csr_path, "CSR");
	memset(&a, 0, sizeof(a));
	a.token_file = tok_path;
	a.csr_file = csr_path;
	a.not_before = 10;
	a.not_after = 20;
	is_int(ca_sign_args_read(&a), 0, "token and CSR read");
	ok(a.req.token_len == strlen(tok) &&
	    memcmp(a.req.token, tok, a.req.token_len) == 0, "the token");
	ok(a.req.csr_len == 3 && memcmp(a.req.csr, "CSR", 3) == 0, "the CSR");
	ok(a.req.not_before == 10 && a.req.not_after == 20, "the validity");
	is_int(ca_sign_args_keygen(&a, ca), 0, "no --key-out: no key");
	ok(a.key == NULL && a.req.csr == a.csr, "no --key-out: the CSR kept");
	ca_sign_args_free(&a);
	ok(a.token == NULL && a.csr == NULL && a.req.token == NULL, "freed");
	a.csr_file = "/nonexistent/csr";
	ok(ca_sign_args_read(&a) != 0, "a missing CSR file fails");
	ca_sign_args_free(&a);

	memset(&a, 0, sizeof(a));
	a.token_file = tok_path;
	a.key_out = "k";
	is_int(ca_sign_args_read(&a), 0, "--key-out: the token read");
	is_int(ca_sign_args_keygen(&a, ca), 0, "--key-out: key made");
	ok(a.key != NULL && a.key_len > 0, "--key-out: the key's PEM");
	ok(a.req.csr == (const char *)a.csr_made.data &&
	    a.req.csr_len == a.csr_made.size, "--key-out: its CSR requested");
	is_int(csr_pk(&a.csr_made), GNUTLS_PK_ECDSA,
	    "--key-out: the CA's key type for clients (ec-p256)");
	ca_sign_args_free(&a);
	ok(a.key == NULL && a.csr_made.data == NULL, "--key-out: freed");
	a.key_type = CA_KEY_ED25519;
	a.key_type_given = 1;
	ca_sign_args_read(&a);
	is_int(ca_sign_args_keygen(&a, ca), 0, "--key-type ed25519");
	is_int(csr_pk(&a.csr_made), GNUTLS_PK_EDDSA_ED25519,
	    "--key-type: the type given");
	ca_sign_args_free(&a);
	ca_authority_close(ca);
	ca_free_secret(tok, strlen(tok));
}

static const char *
token_check(struct ca_token_args a)
{
	ca_err_clear();
	if (ca_token_args_check(&a) != 0 || ca_token_args_names(&a) != 0)
		return ca_errmsg();
	return "";
}

static void
test_token(void)
{
	struct ca_token_args a;
	struct ca_authority *ca = NULL;
	struct ca_token *t = NULL;
	char pw[4300], *tok = NULL;
	const char *aud;
	size_t i;
	int rc;

	memset(&a, 0, sizeof(a));
	a.subject = "svc.test";
	is_str(token_check(a), "--password-file or --key is required",
	    "no key");
	a.key_file = prov_path;
	is_str(token_check(a), "", "--key");
	a.pass_file = "pw";
	is_str(token_check(a), "--password-file and --key exclude each other",
	    "--key and --password-file");
	a.pass_file = NULL;
	a.lifetime_given = 1;
	is_str(token_check(a), "--not-after must be more than 0 and at most 1h",
	    "--not-after 0");
	a.lifetime = 3601;
	is_str(token_check(a), "--not-after must be more than 0 and at most 1h",
	    "--not-after past 1h");
	a.lifetime = 3600;
	is_str(token_check(a), "", "--not-after 1h");
	for (i = 0; i < CA_TOKEN_MAX_SANS; i++)
		ca_token_args_san(&a, "x.test");
	is_int(ca_token_args_san(&a, "y.test"), CA_ERR_INVAL, "101 --san");
	is_str(ca_errmsg(), "at most 100 --san", "101 --san: the message");
	a.revoke = 1;
	is_str(token_check(a), "--revoke takes no --san", "--revoke and --san");
	a.n_sans = 0;
	a.subject = "not a name!";
	is_str(token_check(a), "", "--revoke: SUBJECT a serial, not checked");
	a.revoke = 0;
	ok(strncmp(token_check(a), "invalid DNS name", 16) == 0,
	    "SUBJECT not a name, no --san: %s", ca_errmsg());
	a.subject = "svc\x01.test";
	is_str(token_check(a), "SUBJECT: subject holds the control character "
	    "0x01", "SUBJECT with a control character");
	a.subject = "svc.test";
	ca_token_args_san(&a, "bad name!");
	ok(token_check(a)[0] != '\0', "a bad --san: %s", ca_errmsg());
	/* X5C: --x5c-cert and --x5c-key together, and no provisioner key. */
	memset(&a, 0, sizeof(a));
	a.subject = "svc.test";
	a.x5c_cert = "leaf.crt";
	is_str(token_check(a), "--x5c-cert and --x5c-key go together "
	    "(--x5c-chain with them)", "--x5c-cert alone");
	a.x5c_key = "leaf.key";
	is_str(token_check(a), "", "--x5c-cert and --x5c-key");
	a.key_file = prov_path;
	is_str(token_check(a), "--x5c-key signs the token: no --key or "
	    "--password-file", "--x5c-cert and --key");
	a.key_file = NULL;
	a.x5c_cert = NULL;
	a.x5c_chain = "chain.pem";
	is_str(token_check(a), "--x5c-cert and --x5c-key go together "
	    "(--x5c-chain with them)", "--x5c-key and --x5c-chain alone");

	if ((rc = ca_authority_open_config(dir, &ca)) != 0) {
		ok(0, "the configuration opened: %s", ca_errmsg());
		return;
	}
	memset(&a, 0, sizeof(a));
	a.subject = "svc.test";
	a.key_file = prov_path;
	a.now = time(NULL);
	ca_token_args_san(&a, "svc.test");
	ca_token_args_san(&a, "10.0.0.1");
	a.lifetime = 120;
	a.lifetime_given = 1;
	rc = ca_token_args_mint(&a, ca, &tok);
	is_int(rc, 0, "minted with --key: %s", rc ? ca_errmsg() : "");
	if (rc == 0 && ca_token_parse(tok, strlen(tok), &t) == 0) {
		is_str(t->sub, "svc.test", "sub: SUBJECT");
		is_str(t->iss, "admin", "iss: the only provisioner");
		is_int(t->n_sans, 2, "sans: the --san given");
		is_str(t->sans[1], "10.0.0.1", "sans: the second");
		is_int(t->exp - t->iat, 120, "--not-after: the lifetime");
		ok(t->n_aud == 1 && strstr(t->aud[0], "/1.0/sign") != NULL,
		    "aud: the sign path");
		is_str(t->sha, ca_authority_root_fp(ca), "sha: the root");
	}
	ca_token_free(t);
	t = NULL;
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	tok = NULL;

	memset(&a, 0, sizeof(a));
	a.subject = "0x1f";
	a.revoke = 1;
	a.now = time(NULL);
	snprintf(pw, sizeof(pw), "%s/prov-pw", tmpdir);
	write_file(pw, "provisioner password\n");
	a.pass_file = pw;
	a.provisioner = "admin";
	rc = ca_token_args_mint(&a, ca, &tok);
	is_int(rc, 0, "--revoke minted with the password: %s",
	    rc ? ca_errmsg() : "");
	if (rc == 0 && ca_token_parse(tok, strlen(tok), &t) == 0) {
		aud = t->n_aud == 1 ? t->aud[0] : "";
		ok(strstr(aud, "/1.0/revoke") != NULL, "aud: the revoke path");
		is_int(t->exp - t->iat, CA_TOKEN_DEFAULT_LIFETIME,
		    "the default lifetime");
	}
	ca_token_free(t);
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	write_file(pw, "wrong\n");
	ok(ca_token_args_mint(&a, ca, &tok) != 0 && tok == NULL,
	    "a wrong password: %s", ca_errmsg());
	a.provisioner = "nobody";
	ok(ca_token_args_mint(&a, ca, &tok) == CA_ERR_NOTFOUND,
	    "no such provisioner: %s", ca_errmsg());
	ca_authority_close(ca);
}

/*
 * ca-renew --daemon's schedule: the due time by ca-renew's rule or by
 * --renew-period, and the backoff: growing, jittered, capped, faster
 * near the expiry and never past it; --signal's names.
 */
static void
test_renew_daemon(void)
{
	struct ca_renew_daemon d = { .expires_in = -1 };
	int64_t at, prev, b, left;
	unsigned i, grew = 1, capped = 1;
	int sig, seen_jitter = 0, inrange;

	/* 24 h from 1000: a third of it left, up to a tenth of that more. */
	for (i = 0, inrange = 1; i < 200; i++) {
		inrange &= ca_renew_daemon_due(&d, 1000, 1000 + 86400,
		    &at) == 0 && at <= 1000 + 57600 &&
		    at >= 1000 + 57600 - 2880;
		seen_jitter |= at != 1000 + 57600;
	}
	ok(inrange, "due at 2/3 of the lifetime, less up to 48 min");
	ok(seen_jitter, "the jitter varies");
	d.expires_in = 5;
	ok(ca_renew_daemon_due(&d, 1000, 1010, &at) == 0 && at == 1005,
	    "--expires-in 5s of 10s, under 10 s no jitter: %lld",
	    (long long)at);
	d.renew_period = 3600;
	ok(ca_renew_daemon_due(&d, 1000, 1000 + 86400, &at) == 0 &&
	    at == 4600, "--renew-period: once that old: %lld", (long long)at);

	/* A day's certificate with hours left: 10 s doubled, jittered. */
	is_int((int)ca_renew_backoff(0, 86400000, 3600000, 0), 5000,
	    "the first retry: 10 s less a random half, at least 5 s");
	is_int((int)ca_renew_backoff(0, 86400000, 3600000, 5000), 10000,
	    "and at most 10 s");
	for (prev = 0, i = 0; i < 6; i++) {
		b = ca_renew_backoff(i, 86400000, 8 * 3600000LL,
		    (uint64_t)rand());
		grew &= b >= prev;
		capped &= b <= 600000;
		prev = b;
	}
	ok(grew && capped && prev >= 160000,
	    "each delay at least the one before: %lld", (long long)prev);
	for (i = 6; i < 40; i++)
		capped &= ca_renew_backoff(i, 86400000, 8 * 3600000LL,
		    (uint64_t)rand()) <= 600000;
	ok(capped, "no delay over 10 min");
	/* Near the expiry: half of what is left, then the rest. */
	is_int((int)ca_renew_backoff(10, 86400000, 60000, 0), 30000,
	    "a minute left: 30 s");
	is_int((int)ca_renew_backoff(10, 86400000, 4000, 0), 4000,
	    "under the base: what is left, not past the expiry");
	is_int((int)ca_renew_backoff(3, 86400000, 0, 0), 0, "expired: 0");
	is_int((int)ca_renew_backoff(0, 2000, 60000, 50), 100,
	    "a short lifetime: base 0.1 s at least");
	for (left = 3600000, i = 0; i < 40 && left > 0; i++)
		left -= ca_renew_backoff(i, 86400000, left, (uint64_t)rand());
	ok(left == 0 && i > 8, "retries reach the expiry, no further: %u", i);

	ok(ca_exec_signal_parse("HUP", &sig) == 0 && sig == SIGHUP, "HUP");
	ok(ca_exec_signal_parse("sigusr1", &sig) == 0 && sig == SIGUSR1,
	    "sigusr1");
	ok(ca_exec_signal_parse("10", &sig) == 0 && sig == 10, "10");
	ok(ca_exec_signal_parse("SIGFOO", &sig) == CA_ERR_INVAL,
	    "unknown: %s", ca_errmsg());
	ok(ca_exec_signal_parse("0", &sig) == CA_ERR_INVAL &&
	    ca_exec_signal_parse("65", &sig) == CA_ERR_INVAL &&
	    ca_exec_signal_parse("-1", &sig) == CA_ERR_INVAL &&
	    ca_exec_signal_parse("", &sig) == CA_ERR_INVAL,
	    "0, 65, -1 and empty refused");
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
	test_init_check();
	test_init_secrets();
	test_leafout();
	test_renew();
	test_renew_daemon();
	test_sign();
	test_token();
	tmpdir_remove();
	return tap_done();
}

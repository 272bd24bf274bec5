/*
 * test-authority.c - the authority through its interface, on a scratch
 * state directory made with ca_init_create: sign with a token minted by
 * the library, the same token refused, renew, revoke, the revoked
 * certificate's renewal refused, ca-db's reads, and operations an
 * implementation lacks.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authority.h"
#include "client.h"
#include "conf.h"
#include "crl.h"
#include "db.h"
#include "jose.h"
#include "token.h"
#include "x509.h"
#include "tap.h"
#include "unit-ca.h"

static char dir[4200], root_path[4300], prov_path[4300];

static void
make_ca(void)
{
	unit_ca_make(dir, sizeof(dir), prov_path, sizeof(prov_path));
	snprintf(root_path, sizeof(root_path), "%s/certs/root_ca.crt", dir);
}

/* A sign token for sub from the CA's only provisioner, minted here. */
static char *
mint(struct ca_authority *a, const char *sub)
{
	const struct ca_config *cfg = ca_authority_config(a);
	struct ca_token_opts o;
	struct ca_jwk *key = NULL;
	char *aud, *tok = NULL;

	if (ca_token_provisioner_key(&cfg->provisioners[0], NULL, 0, prov_path,
	    &key) != 0 || (aud = ca_config_audience(cfg, "/1.0/sign")) == NULL)
		return NULL;
	memset(&o, 0, sizeof(o));
	o.iss = cfg->provisioners[0].name;
	o.sub = sub;
	o.aud = aud;
	o.sha = ca_authority_root_fp(a);
	o.now = time(NULL);
	if (ca_token_mint(key, &o, &tok) != 0)
		tok = NULL;
	ca_jwk_free(key);
	free(aud);
	return tok;
}

static int
der_of(const char *pem, gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt = NULL;
	int rc;

	if ((rc = ca_x509_import(pem, strlen(pem), &crt)) != 0)
		return rc;
	rc = ca_x509_export(crt, GNUTLS_X509_FMT_DER, der);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

static void
test_local(void)
{
	struct ca_authority *a = NULL, *pub = NULL;
	struct ca_sign_req sr;
	struct ca_sign_result r1, r2, r3;
	struct ca_renew_req rr;
	struct ca_revoke_req vr;
	struct ca_cert_info ci;
	gnutls_datum_t csr = { NULL, 0 }, der1 = { NULL, 0 };
	gnutls_datum_t der2 = { NULL, 0 };
	char *tok, *key = NULL, *serial = NULL;
	size_t klen = 0;
	int rc;

	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
	memset(&ci, 0, sizeof(ci));
	rc = ca_authority_open(dir, NULL, &a);
	is_int(rc, 0, "local authority opened with its key");
	if (rc != 0)
		return;
	is_str(ca_authority_kind(a), "local", "kind local");
	is_str(ca_authority_dir(a), dir, "its state directory");
	ok(ca_authority_config(a) != NULL, "its configuration");
	ok(ca_authority_root_fp(a) != NULL &&
	    strlen(ca_authority_root_fp(a)) == 64, "root fingerprint, hex");
	ok(ca_authority_chain_pem(a)->size > 0, "the intermediate's PEM");

	tok = mint(a, "svc.test");
	ok(tok != NULL, "token minted by the library");
	if (tok == NULL)
		goto out;
	is_int(ca_client_keygen(CA_KEY_EC_P256, tok, strlen(tok), &csr, &key,
	    &klen), 0, "key and CSR made by the caller");
	memset(&sr, 0, sizeof(sr));
	sr.token = tok;
	sr.token_len = strlen(tok);
	is_int(ca_authority_sign(a, &sr, &r1), CA_ERR_INVAL,
	    "no CSR: refused (%s)", ca_errmsg());
	sr.csr = (const char *)csr.data;
	sr.csr_len = csr.size;
	is_int(ca_authority_sign(a, &sr, &r1), 0, "signed");
	ok(r1.serial != NULL && r1.crt_pem != NULL && r1.chain_pem != NULL,
	    "serial, certificate and chain");
	is_str(r1.subject, "svc.test", "subject is the token's");
	ok(r1.not_after > r1.not_before, "validity");
	is_int(ca_authority_sign(a, &sr, &r2), CA_ERR_REPLAY,
	    "the token refused the second time");
	ok(r2.crt_pem == NULL, "nothing returned");

	/* Renew: the certificate as mutual TLS would prove it. */
	is_int(der_of(r1.crt_pem, &der1), 0, "DER of the first");
	memset(&rr, 0, sizeof(rr));
	rr.cert_der = der1.data;
	rr.cert_len = der1.size;
	is_int(ca_authority_renew(a, &rr, &r2), 0, "renewed");
	ok(r2.serial != NULL && r1.serial != NULL &&
	    strcmp(r2.serial, r1.serial) != 0, "a new serial");
	is_str(r2.subject, "svc.test", "same subject");

	/* Revoke the renewed one as the operator; its renewal is refused. */
	memset(&vr, 0, sizeof(vr));
	vr.serial = r2.serial;
	vr.reason = CA_REASON_NONE;
	vr.trusted = 1;
	vr.by = "test-authority";
	is_int(ca_authority_revoke(a, &vr, &serial), 0, "revoked");
	is_str(serial, r2.serial, "its canonical serial");
	free(serial);
	serial = NULL;
	is_int(ca_authority_revoke(a, &vr, &serial), CA_ERR_EXISTS,
	    "revoked twice: CA_ERR_EXISTS");
	is_int(der_of(r2.crt_pem, &der2), 0, "DER of the renewed");
	rr.cert_der = der2.data;
	rr.cert_len = der2.size;
	is_int(ca_authority_renew(a, &rr, &r3), CA_ERR_AUTH,
	    "renewal of the revoked refused (%s)", ca_errmsg());

	/* ca-db's reads. */
	is_int(ca_authority_db_get(a, r2.serial, &ci), 0, "db_get");
	ok(ci.revoked, "recorded as revoked");
	ca_cert_info_free(&ci);
	is_int(ca_authority_db_get(a, r1.serial, &ci), 0, "db_get first");
	ok(!ci.revoked, "the first is not");
	ca_cert_info_free(&ci);

	/* Without the key: reads, not signing. */
	is_int(ca_authority_open_public(dir, &pub), 0, "opened without key");
	if (pub != NULL) {
		struct ca_cert_info *v = NULL;
		size_t n = 0, i, problems = 9, certs = 0;

		is_int(ca_authority_db_list(pub, &v, &n), 0, "db_list");
		is_int((int)n, 2, "two certificates");
		for (i = 0; i < n; i++)
			ca_cert_info_free(&v[i]);
		free(v);
		is_int(ca_authority_db_check(pub, NULL, NULL, &problems,
		    &certs), 0, "db_check");
		ok(problems == 0 && certs == 2, "clean, two certificates");
		is_int(ca_authority_sign(pub, &sr, &r3), CA_ERR_CONFIG,
		    "no key: signing is CA_ERR_CONFIG");
	}
out:
	ca_authority_close(pub);
	ca_authority_close(a);
	ca_sign_result_free(&r1);
	ca_sign_result_free(&r2);
	ca_sign_result_free(&r3);
	gnutls_free(csr.data);
	gnutls_free(der1.data);
	gnutls_free(der2.data);
	ca_free_secret(key, klen);
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	free(serial);
}

/* What the remote authority lacks is CA_ERR_CONFIG, before any request. */
static void
test_remote(void)
{
	struct ca_authority *r = NULL, *l = NULL;
	struct ca_db_crl crl;
	struct ca_cert_info *v = NULL;
	gnutls_datum_t resp;
	time_t next;
	char *s = NULL;
	size_t n = 0;
	int rc;

	rc = ca_authority_open_remote("https://127.0.0.1:1", root_path, &r);
	is_int(rc, 0, "remote authority opened (nothing sent)");
	if (rc != 0)
		return;
	is_str(ca_authority_kind(r), "remote", "kind remote");
	ok(ca_authority_dir(r) == NULL && ca_authority_config(r) == NULL,
	    "no state directory, no configuration");
	if (ca_authority_open_public(dir, &l) == 0)
		is_str(ca_authority_root_fp(r), ca_authority_root_fp(l),
		    "the root of the local CA");
	memset(&crl, 0, sizeof(crl));
	is_int(ca_authority_crl(r, time(NULL), 0, &crl), CA_ERR_CONFIG,
	    "CRL: CA_ERR_CONFIG (%s)", ca_errmsg());
	is_int(ca_authority_db_list(r, &v, &n), CA_ERR_CONFIG,
	    "db_list: CA_ERR_CONFIG (%s)", ca_errmsg());
	ok(strstr(ca_errmsg(), "needs a state directory (-d)") != NULL,
	    "the message names -d");
	is_int(ca_authority_ocsp(r, "x", 1, time(NULL), &resp, &next),
	    CA_ERR_CONFIG, "OCSP: CA_ERR_CONFIG");
	is_int(ca_authority_server_cert(r, &s, &n, &next, &next),
	    CA_ERR_CONFIG, "server certificate: CA_ERR_CONFIG");
	/* These the remote has: they ask the server, here unreachable. */
	is_int(ca_authority_encrypted_key(r, "kid", &s), CA_ERR_TEMP,
	    "encrypted key: asks the server (%s)", ca_errmsg());
	is_int(ca_authority_provisioners(r, NULL, 0, &s), CA_ERR_TEMP,
	    "provisioners: asks the server");
	is_int(ca_authority_audience(r, "/1.0/sign", &s), 0, "audience");
	is_str(s, "https://127.0.0.1:1/1.0/sign", "the audience is the URL");
	free(s);
	s = NULL;
	ca_authority_close(l);
	ca_authority_close(r);
}

/* The configuration alone: provisioner and audience, no store. */
static void
test_config(void)
{
	struct ca_authority *a = NULL;
	const struct ca_provisioner *p = NULL;
	struct ca_cert_info *v = NULL;
	char *s = NULL, db[sizeof(dir) + 8], moved[sizeof(dir) + 16];
	size_t n = 0;
	struct stat st;
	int rc;

	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(moved, sizeof(moved), "%s/db.moved", dir);
	ok(rename(db, moved) == 0, "db/ moved away");
	rc = ca_authority_open_config(dir, &a);
	is_int(rc, 0, "config-only authority opened (%s)", ca_errmsg());
	if (rc != 0)
		goto out;
	ok(stat(db, &st) != 0, "no db/ made");
	is_str(ca_authority_kind(a), "local", "kind local");
	is_int(ca_authority_provisioner(a, NULL, 1, &p), 0,
	    "the only JWK provisioner");
	is_str(p != NULL ? p->name : "", "admin", "it is admin");
	ok(p != NULL && p->encrypted_key != NULL && p->key != NULL,
	    "with its public key and encryptedKey");
	is_int(ca_authority_provisioner(a, "nobody", 1, &p), CA_ERR_NOTFOUND,
	    "an unknown name: CA_ERR_NOTFOUND");
	is_int(ca_authority_audience(a, "/1.0/revoke", &s), 0, "audience");
	is_str(s, "https://ca.test:8443/1.0/revoke", "from the address");
	is_int(ca_authority_db_list(a, &v, &n), CA_ERR_CONFIG,
	    "no store: db_list CA_ERR_CONFIG");
out:
	free(s);
	ca_authority_close(a);
	rename(moved, db);
}

int
main(void)
{
	if (gnutls_global_init() < 0)
		return 1;
	tmpdir_make("authority");
	make_ca();
	test_local();
	test_remote();
	test_config();
	tmpdir_remove();
	gnutls_global_deinit();
	return tap_done();
}

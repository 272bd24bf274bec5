/*
 * test-x5c.c - the X5C provisioner (lib/x5c.c) without a state directory:
 * its ca.json members (roots), and its verifier on chains made here with
 * GnuTLS and tokens from ca_x5c_token_mint or signed by hand: what it
 * accepts (struct ca_authz filled as sign_locked needs it) and each
 * refusal with its message.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "x509.h"
#include "x5c.h"
#include "tap.h"
#include "authz-unit.h"


static struct ca_provisioner provs[3];	/* x5c, other (X5C), jwk (JWK) */

struct pki {
	gnutls_x509_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 der;
	struct ca_jwk		*jwk;	/* the key, for signing tokens */
};
static struct pki root, inter, leaf, expired, noku, server, other_root;
static unsigned serial_no = 1;

/*
 * A certificate for cn, signed by issuer (NULL: self-signed), valid from
 * nb to na; ca: a CA (keyUsage keyCertSign when ku is 0), else a leaf
 * with keyUsage ku; if eku is not NULL, that one extendedKeyUsage.
 */
static void
make(struct pki *p, const char *cn, const struct pki *issuer, int ca,
    unsigned ku, const char *eku, time_t nb, time_t na)
{
	gnutls_privkey_t pk;
	unsigned char sn[2] = { 0x10, (unsigned char)serial_no++ };

	if (gnutls_x509_privkey_init(&p->key) < 0 ||
	    gnutls_x509_privkey_generate(p->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&p->crt) < 0 ||
	    gnutls_x509_crt_set_version(p->crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(p->crt, sn, sizeof(sn)) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(p->crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_key(p->crt, p->key) < 0 ||
	    gnutls_x509_crt_set_activation_time(p->crt, nb) < 0 ||
	    gnutls_x509_crt_set_expiration_time(p->crt, na) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(p->crt, ca, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(p->crt, ca && ku == 0 ?
	    GNUTLS_KEY_KEY_CERT_SIGN : ku) < 0 ||
	    (eku != NULL && gnutls_x509_crt_set_key_purpose_oid(p->crt, eku,
	    0) < 0) ||
	    gnutls_x509_crt_sign2(p->crt, issuer ? issuer->crt : p->crt,
	    issuer ? issuer->key : p->key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crt_export2(p->crt, GNUTLS_X509_FMT_DER, &p->der) < 0)
		bail(cn);
	/* As a CA reads it: GnuTLS compares raw names, set on import. */
	gnutls_x509_crt_deinit(p->crt);
	if (gnutls_x509_crt_init(&p->crt) < 0 ||
	    gnutls_x509_crt_import(p->crt, &p->der, GNUTLS_X509_FMT_DER) < 0)
		bail(cn);
	if (gnutls_privkey_init(&pk) < 0 ||
	    gnutls_privkey_import_x509(pk, p->key,
	    GNUTLS_PRIVKEY_IMPORT_COPY) < 0 ||
	    ca_jwk_from_privkey(pk, NULL, &p->jwk) != 0)
		bail("JWK");
}

static void
pki_free(struct pki *p)
{
	gnutls_x509_privkey_deinit(p->key);
	gnutls_x509_crt_deinit(p->crt);
	gnutls_free(p->der.data);
	ca_jwk_free(p->jwk);
}

/* ca.json's provisioner {"type": "X5C", "name", "roots": base64(PEM)}. */
static int
load(struct ca_provisioner *p, const char *name, const struct pki *const *r,
    size_t n, const char *raw_roots)
{
	struct json_object *o = json_object_new_object();
	gnutls_datum_t pem, all = { NULL, 0 }, b64 = { NULL, 0 };
	size_t i;
	int rc;

	p->name = strdup(name);
	p->type = strdup("X5C");
	p->kind = CA_PROV_X5C;
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_export2(r[i]->crt, GNUTLS_X509_FMT_PEM,
		    &pem) < 0)
			bail("PEM");
		all.data = realloc(all.data, all.size + pem.size);
		memcpy(all.data + all.size, pem.data, pem.size);
		all.size += pem.size;
		gnutls_free(pem.data);
	}
	if (raw_roots != NULL)
		json_object_object_add(o, "roots",
		    json_object_new_string(raw_roots));
	else if (n > 0) {
		if (gnutls_base64_encode2(&all, &b64) < 0)
			bail("base64");
		json_object_object_add(o, "roots", json_object_new_string_len(
		    (const char *)b64.data, (int)b64.size));
	}
	ca_err_clear();
	rc = ca_x5c_conf_load(o, p);
	json_object_put(o);
	free(all.data);
	gnutls_free(b64.data);
	return rc;
}

/* An X5C token from ca_x5c_token_mint: chain[0] signs it. */
static char *
mint(const struct pki *signer, const struct pki *const *chain, size_t n,
    const char *prov, const char *aud, const char *sub)
{
	struct ca_x5c_token_opts o;
	gnutls_datum_t d[4];
	char *out = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = chain[i]->der;
	memset(&o, 0, sizeof(o));
	o.prov = prov;
	o.aud = aud;
	o.sub = sub;
	o.chain = d;
	o.n_chain = n;
	o.now = now;
	if (ca_x5c_token_mint(signer->jwk, &o, &out) != 0)
		bail("mint");
	return out;
}

/* A token signed by hand: header {"x5c": x5c_json}, claims as given. */
static char *
raw(const struct pki *signer, const char *x5c_json, const char *claims)
{
	struct json_object *h = NULL;
	char *hs = NULL, *out = NULL;

	if (asprintf(&hs, "{\"x5c\":%s}", x5c_json) < 0 ||
	    ca_json_parse(hs, strlen(hs), "header", &h) != 0 ||
	    ca_jws_sign(signer->jwk, h, claims, strlen(claims), &out) != 0)
		bail("raw token");
	json_object_put(h);
	free(hs);
	return out;
}

static void
test_conf(void)
{
	const struct pki *r[] = { &root }, *l[] = { &leaf };
	struct ca_provisioner p;

	memset(&p, 0, sizeof(p));
	is_int(load(&p, "a", r, 0, NULL), CA_ERR_CONFIG, "roots: missing");
	ok(strstr(ca_errmsg(), "\"roots\"") != NULL, "  names the member");
	unload(&p);
	is_int(load(&p, "a", r, 0, "-----BEGIN CERTIFICATE-----"),
	    CA_ERR_CONFIG, "roots: PEM text, not its base64");
	is_str(ca_errmsg(), "\"roots\" is not base64 (of PEM certificates)",
	    "  the message");
	unload(&p);
	is_int(load(&p, "a", r, 0, "aGVsbG8K"), CA_ERR_CONFIG,
	    "roots: base64 of no certificate");
	ok(strstr(ca_errmsg(), "\"roots\" holds no PEM certificate") != NULL,
	    "  the message");
	unload(&p);
	is_int(load(&p, "a", l, 1, NULL), CA_ERR_CONFIG, "roots: a leaf");
	is_str(ca_errmsg(), "\"roots\": certificate 1 is not a CA "
	    "(basicConstraints cA)", "  the message");
	unload(&p);
	is_int(load(&p, "a", r, 1, NULL), 0, "roots: one CA");
	ok(p.impl != NULL && p.impl_free != NULL, "  parsed into impl");
	unload(&p);
}

static void
test_accept(void)
{
	const struct pki *c2[] = { &leaf, &inter };

	verify(mint(&leaf, c2, 2, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN, 0,
	    NULL, "leaf + intermediate to the root, aud sign#x5c/x5c");
	ok(z.prov == &provs[0] && z.cred == CA_CRED_X5C &&
	    z.step_type == CA_STEP_TYPE_X5C && z.csr_must_match &&
	    !z.names_from_csr, "  provisioner x5c, type 7, CSR must match");
	is_str(z.cn, "a.test", "  CN: sub");
	is_int(z.names.n_dns, 1, "  names: [sub]");
	is_str(z.ott_scope, "x5c/x5c", "  used_ott scope x5c/NAME");
	ok(z.ott_id != NULL && strlen(z.ott_id) == 64, "  id: the jti");
	is_str(z.cred_id, "", "  extension credential: \"\"");
	is_str(z.identity, "CN=device", "  identity: the leaf's subject");
	is_int(z.nb_min, gnutls_x509_crt_get_activation_time(leaf.crt),
	    "  nb_min: the leaf's notBefore");
	is_int(z.na_max, gnutls_x509_crt_get_expiration_time(leaf.crt),
	    "  na_max: the leaf's notAfter");
	ok(z.check_unrevoked == NULL, "  not issued here: no revocation check");

	/* The intermediate is "this CA": its leaf is checked unrevoked. */
	ctx.issuer = inter.crt;
	verify(mint(&leaf, c2, 2, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN, 0,
	    NULL, "a leaf this CA issued");
	is_str(z.check_unrevoked, "1003", "  its serial, checked in the commit");
	ctx.issuer = NULL;

	verify(mint(&leaf, c2, 2, "x5c", REVOKE, "4242"), CA_AUTHZ_REVOKE, 0,
	    NULL, "a revoke token");
	is_str(z.revoke_serial, "4242", "  revoke serial: sub");
	is_str(z.ott_scope, "x5c/x5c", "  used_ott scope x5c/NAME");
}

static void
test_refuse(void)
{
	const struct pki *c2[] = { &leaf, &inter }, *c1[] = { &leaf };
	const struct pki *e2[] = { &expired, &inter }, *n2[] = { &noku, &inter };
	const struct pki *s2[] = { &server, &inter };
	char claims[512], nine[256];
	size_t i;

	verify(mint(&leaf, c1, 1, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "does not chain to the provisioner's roots",
	    "no intermediate");
	verify(mint(&leaf, c2, 2, "other", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "x5c chain refused by provisioner \"other\": it does "
	    "not chain", "another X5C provisioner's roots");
	verify(mint(&leaf, c2, 2, "jwk", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "no X5C provisioner accepts this token (iss \"jwk\")",
	    "iss names a JWK provisioner");
	verify(mint(&leaf, c2, 2, "nobody", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "no X5C provisioner accepts", "iss names nothing");
	verify(mint(&expired, e2, 2, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "the x5c certificate has expired", "expired leaf");
	verify(mint(&noku, n2, 2, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "lacks keyUsage digitalSignature",
	    "leaf without digitalSignature");
	verify(mint(&server, s2, 2, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "the chain does not allow clientAuth",
	    "leaf for serverAuth only");
	verify(mint(&leaf, c2, 2, "x5c", REVOKE, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "is not this CA's /1.0/sign endpoint",
	    "a revoke token at sign");
	verify(mint(&leaf, c2, 2, "x5c", SIGN "#x5c/x5c", "a.test"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, "is not this CA's", "two fragments");

	/* By hand: the chain's x5c, claims changed one at a time. */
	{
		gnutls_datum_t b1 = { NULL, 0 }, b2 = { NULL, 0 };
		char chain[8192];

		if (gnutls_base64_encode2(&leaf.der, &b1) < 0 ||
		    gnutls_base64_encode2(&inter.der, &b2) < 0)
			bail("base64");
		snprintf(chain, sizeof(chain), "[\"%.*s\",\"%.*s\"]",
		    (int)b1.size, b1.data, (int)b2.size, b2.data);
#define CL(extra) (snprintf(claims, sizeof(claims), "{\"aud\":\"" SIGN \
	"\",\"iss\":\"x5c\",\"jti\":\"j\",\"sub\":\"a.test\"%s}", extra), claims)
		snprintf(nine, sizeof(nine), ",\"iat\":%lld,\"exp\":%lld",
		    (long long)now, (long long)now + 300);
		verify(raw(&leaf, chain, CL(nine)), CA_AUTHZ_SIGN, 0, NULL,
		    "by hand, no fragment: accepted");
		verify(raw(&other_root, chain, CL(nine)), CA_AUTHZ_SIGN,
		    CA_ERR_AUTH, "signature does not verify with the x5c "
		    "certificate's key", "signed by another key");
		snprintf(nine, sizeof(nine), ",\"iat\":%lld,\"exp\":%lld",
		    (long long)now, (long long)now + 3601);
		verify(raw(&leaf, chain, CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "token lifetime 3601 s exceeds 3600 s", "lifetime > 1 h");
		snprintf(nine, sizeof(nine), ",\"exp\":%lld",
		    (long long)now + 300);
		verify(raw(&leaf, chain, CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "token has no \"iat\"", "no iat");
		snprintf(nine, sizeof(nine), ",\"iat\":%lld,\"exp\":%lld",
		    (long long)now - 600, (long long)now - 300);
		verify(raw(&leaf, chain, CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "token expired", "expired token");
		snprintf(nine, sizeof(nine), ",\"iat\":%lld,\"exp\":%lld",
		    (long long)now, (long long)now + 300);
		verify(raw(&leaf, "[\"!!\"]", CL(nine)), CA_AUTHZ_SIGN,
		    CA_ERR_AUTH, "\"x5c\"[0] is not base64", "x5c not base64");
		verify(raw(&leaf, "[\"aGVsbG8=\"]", CL(nine)), CA_AUTHZ_SIGN,
		    CA_ERR_AUTH, "\"x5c\"[0]: ", "x5c not a certificate");
		verify(raw(&leaf, "[]", CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "is not a non-empty array", "x5c empty");
		verify(raw(&leaf, "[1]", CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "\"x5c\"[0] is not a string", "x5c holds a number");
		verify(raw(&leaf, "null", CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "is not a non-empty array", "x5c null");
		strcpy(chain, "[");
		for (i = 0; i < 9; i++)
			strcat(chain, i ? ",\"aGVsbG8=\"" : "\"aGVsbG8=\"");
		strcat(chain, "]");
		verify(raw(&leaf, chain, CL(nine)), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    "holds more than 8 certificates", "9 certificates");
		gnutls_free(b1.data);
		gnutls_free(b2.data);
#undef CL
	}
}

/*
 * Chains that GnuTLS must refuse for us: an intermediate that is no CA,
 * one for serverAuth only, one expired, one that may not sign
 * certificates (keyUsage); the root as the leaf, the chain upside down;
 * and one it takes: the chain padded with a stranger.
 */
static void
test_chains(void)
{
	static const char *const what[] = { "an intermediate that is no CA",
	    "an intermediate for serverAuth only", "an expired intermediate",
	    "an intermediate without keyCertSign" };
	struct pki bad[4], under[4];
	const struct pki *c[3];
	unsigned dsig = GNUTLS_KEY_DIGITAL_SIGNATURE;
	size_t i;

	make(&bad[0], "Not a CA", &root, 0, dsig | GNUTLS_KEY_KEY_CERT_SIGN,
	    NULL, now - 86400, now + 86400);
	make(&bad[1], "Server CA", &root, 1, 0, GNUTLS_KP_TLS_WWW_SERVER,
	    now - 86400, now + 86400);
	make(&bad[2], "Old CA", &root, 1, 0, NULL, now - 86400 * 3,
	    now - 86400);
	make(&bad[3], "No certSign CA", &root, 1, dsig, NULL, now - 86400,
	    now + 86400);
	for (i = 0; i < 4; i++) {
		make(&under[i], "under", &bad[i], 0, dsig, NULL, now - 3600,
		    now + 3600);
		c[0] = &under[i], c[1] = &bad[i];
		verify(mint(&under[i], c, 2, "x5c", SIGN, "a.test"),
		    CA_AUTHZ_SIGN, CA_ERR_AUTH, "x5c chain refused", what[i]);
		pki_free(&bad[i]);
		pki_free(&under[i]);
	}
	c[0] = &leaf, c[1] = &other_root, c[2] = &inter;
	verify(mint(&leaf, c, 3, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN, 0,
	    NULL, "a stranger among the chain: ignored, the chain verifies");
	c[0] = &root;
	verify(mint(&root, c, 1, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "lacks keyUsage digitalSignature", "the root itself "
	    "(keyCertSign only) as the leaf");
	c[0] = &inter, c[1] = &leaf;
	verify(mint(&inter, c, 2, "x5c", SIGN, "a.test"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, NULL, "the chain upside down");
}

int
main(void)
{
	const struct pki *r[] = { &root }, *o[] = { &other_root };
	unsigned dsig = GNUTLS_KEY_DIGITAL_SIGNATURE;

	now = time(NULL);
	make(&root, "Root", NULL, 1, 0, NULL, now - 86400, now + 86400 * 30);
	make(&inter, "Intermediate", &root, 1, 0, NULL, now - 86400,
	    now + 86400 * 30);
	make(&leaf, "device", &inter, 0, dsig, GNUTLS_KP_TLS_WWW_CLIENT,
	    now - 3600, now + 86400);
	make(&expired, "old", &inter, 0, dsig, NULL, now - 86400, now - 3600);
	make(&noku, "noku", &inter, 0, GNUTLS_KEY_KEY_AGREEMENT, NULL,
	    now - 3600, now + 86400);
	make(&server, "server", &inter, 0, dsig, GNUTLS_KP_TLS_WWW_SERVER,
	    now - 3600, now + 86400);
	make(&other_root, "Other", NULL, 1, 0, NULL, now - 86400, now + 86400);
	if (load(&provs[0], "x5c", r, 1, NULL) != 0 ||
	    load(&provs[1], "other", o, 1, NULL) != 0)
		bail("load");
	provs[2].name = strdup("jwk");
	provs[2].type = strdup("JWK");
	provs[2].kind = CA_PROV_JWK;
	authz_unit_setup(provs, 3);

	test_conf();
	test_accept();
	test_refuse();
	test_chains();

	ca_authz_free(&z);
	unload(&provs[0]);
	unload(&provs[1]);
	free(provs[2].name);
	free(provs[2].type);
	pki_free(&root);
	pki_free(&inter);
	pki_free(&leaf);
	pki_free(&expired);
	pki_free(&noku);
	pki_free(&server);
	pki_free(&other_root);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

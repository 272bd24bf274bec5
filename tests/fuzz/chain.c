/*
 * chain.c - fuzz what proves a renewal (ca_local_renew_proof in
 * lib/authority-renew.c): the client certificate of mutual TLS, and the
 * x5c renew token with its certificate chain, checked against the scratch
 * CA (fuzz-ca.h) at a fixed time. The first octet chooses:
 *   0  the rest is a renew token (compact JWS, any x5c);
 *   1  the rest is the mutual-TLS certificate (DER);
 *   2  the rest is the token's claims, signed here by the key of a leaf
 *      the scratch CA issued (header x5cInsecure: [that leaf]), so that
 *      the claim checks are reached;
 *   3  the same with header x5c.
 * Bit 2 of that octet makes it a rekey (its audience path).
 * fuzz-dict: json
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "jose.h"
#include "keys.h"
#include "x509.h"

#include "fuzz-ca.h"

#define NOW	1780000000	/* a fixed "now": 2026-05-28 */

static struct ca_jwk *leaf_key;
static char *leaf_b64;		/* standard base64 of the leaf's DER */

static void
leaf_done(void)
{
	ca_jwk_free(leaf_key);
	free(leaf_b64);
}

/* A client leaf CN=fuzz.test of the scratch CA, and its key. */
static void
leaf_make(struct ca_local *a)
{
	static const unsigned char serial[] = { 0x4f, 0x75, 0x7a, 0x7a };
	static char name[] = "fuzz.test";
	char *dns[] = { name };
	struct ca_names names = { dns, 1, NULL, 0, NULL, 0, NULL, 0 };
	struct ca_leaf leaf;
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 }, b64 = { NULL, 0 };

	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &key) != 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0)
		abort();
	memset(&leaf, 0, sizeof(leaf));
	leaf.cn = name;
	leaf.names = &names;
	leaf.pub = pub;
	leaf.not_before = NOW - 3600;
	leaf.not_after = NOW + 86400;
	if (ca_x509_issue_serial_der(&a->issuer, &leaf, serial, sizeof(serial),
	    &der) != 0 || gnutls_base64_encode2(&der, &b64) < 0 ||
	    ca_jwk_from_privkey(key, NULL, &leaf_key) != 0)
		abort();
	if ((leaf_b64 = malloc(b64.size + 1)) == NULL)
		abort();
	memcpy(leaf_b64, b64.data, b64.size);
	leaf_b64[b64.size] = '\0';
	gnutls_free(der.data);
	gnutls_free(b64.data);
	gnutls_pubkey_deinit(pub);	/* key: leaf_key owns it */
	atexit(leaf_done);
}

/* claims signed by the leaf's key, its certificate in header member. */
static char *
sign_claims(const uint8_t *claims, size_t len, const char *member)
{
	struct json_object *hdr, *x5c;
	char *out = NULL;

	if ((hdr = json_object_new_object()) == NULL ||
	    (x5c = json_object_new_array()) == NULL)
		abort();
	json_object_array_add(x5c, json_object_new_string(leaf_b64));
	json_object_object_add(hdr, member, x5c);
	json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
	if (ca_jws_sign(leaf_key, hdr, claims, len, &out) != 0)
		out = NULL;
	json_object_put(hdr);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_local *a = fuzz_ca_local();
	struct ca_renew_req req;
	gnutls_x509_crt_t crt = NULL;
	char *jti = NULL, *serial = NULL, *token = NULL;
	int64_t exp = 0;

	if (leaf_key == NULL)
		leaf_make(a);
	if (size < 1)
		return 0;
	memset(&req, 0, sizeof(req));
	if (data[0] & 4)
		req.csr = "";
	switch (data[0] & 3) {
	case 0:
		if ((token = malloc(size)) == NULL)
			return 0;
		memcpy(token, data + 1, size - 1);
		token[size - 1] = '\0';
		req.token = token;
		req.token_len = size - 1;
		break;
	case 1:
		req.cert_der = data + 1;
		req.cert_len = size - 1;
		break;
	default:
		if ((token = sign_claims(data + 1, size - 1, (data[0] & 3) == 2 ?
		    "x5cInsecure" : "x5c")) == NULL)
			goto out;
		req.token = token;
		req.token_len = strlen(token);
		break;
	}
	if (ca_local_renew_proof(a, &req, NOW, &crt, &jti, &exp) == 0 &&
	    ca_local_serial_of(crt, &serial) == 0)
		free(serial);
out:
	ca_err_clear();
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(jti);
	free(token);
	return 0;
}

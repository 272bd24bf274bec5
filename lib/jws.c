/*
 * jws.c - compact JWS (RFC 7515/7518): signing, strict parsing, and
 * verification with the algorithm from the key, never from the token: a
 * header "alg" that differs from the key's is refused. ECDSA signatures
 * travel as fixed-size R || S and are range-checked before GnuTLS sees
 * them.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "json.h"
#include "jose.h"
#include "jose-internal.h"

/*
 * JWS
 */

/* DER ECDSA-Sig-Value to R || S, each left-padded to size bytes. */
static int
ecdsa_der_to_raw(const gnutls_datum_t *der, size_t size, unsigned char *raw)
{
	gnutls_datum_t rs[2] = { { NULL, 0 }, { NULL, 0 } };
	const unsigned char *p;
	size_t i, n;
	int rc = 0, grc;

	if ((grc = gnutls_decode_rs_value(der, &rs[0], &rs[1])) < 0)
		return ca_err(CA_ERR_CRYPTO, "cannot decode ECDSA signature: "
		    "%s", gnutls_strerror(grc));
	for (i = 0; i < 2; i++) {
		p = rs[i].data;
		n = rs[i].size;
		while (n > 0 && *p == 0) {
			p++;
			n--;
		}
		if (n > size) {
			rc = ca_err(CA_ERR_CRYPTO, "ECDSA signature value "
			    "longer than the curve size");
			break;
		}
		memset(raw + i * size, 0, size - n);
		memcpy(raw + i * size + size - n, p, n);
	}
	ca_jose_datum_free(&rs[0], 0);
	ca_jose_datum_free(&rs[1], 0);
	return rc;
}

/*
 * R || S to DER, refusing a wrong length and r or s outside [1, n-1]
 * (CVE-2022-21449 accepted r = s = 0).
 */
static int
ecdsa_raw_to_der(const unsigned char *sig, size_t len,
    const struct jose_curve *c, gnutls_datum_t *der)
{
	static const unsigned char zero[EC_MAX];
	gnutls_datum_t rs[2];
	const unsigned char *p;
	size_t i, n;
	int grc;

	der->data = NULL;
	der->size = 0;
	if (len != 2 * c->size)
		return ca_err(CA_ERR_AUTH, "ECDSA signature of %zu bytes, "
		    "%s needs %zu", len, c->alg, 2 * c->size);
	for (i = 0; i < 2; i++) {
		p = sig + i * c->size;
		if (memcmp(p, zero, c->size) == 0 ||
		    memcmp(p, c->order, c->size) >= 0)
			return ca_err(CA_ERR_AUTH, "ECDSA signature: %s out of "
			    "range", i == 0 ? "r" : "s");
		for (n = c->size; *p == 0; p++, n--)
			;
		rs[i].data = (unsigned char *)(uintptr_t)p;
		rs[i].size = (unsigned int)n;
	}
	if ((grc = gnutls_encode_rs_value(der, &rs[0], &rs[1])) < 0)
		return ca_err(CA_ERR_CRYPTO, "cannot encode ECDSA signature: "
		    "%s", gnutls_strerror(grc));
	return 0;
}

int
ca_jws_sign(const struct ca_jwk *key, struct json_object *header,
    const void *payload, size_t plen, char **out)
{
	struct json_object *own = NULL;
	gnutls_datum_t data, sig = { NULL, 0 };
	unsigned char raw[2 * EC_MAX];
	char *hjson = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL;
	char *input = NULL;
	int rc, grc, n = 0;

	*out = NULL;
	if (key->priv == NULL)
		return ca_err(CA_ERR_INVAL, "JWS: signing needs a private key");
	if (header == NULL && (header = own = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_jose_add_str(header, "alg", key->alg->name)) != 0)
		goto out;
	if ((hjson = ca_json_dump(header)) == NULL ||
	    (h64 = ca_b64url_encode(hjson, strlen(hjson))) == NULL ||
	    (p64 = ca_b64url_encode(payload, plen)) == NULL ||
	    (n = asprintf(&input, "%s.%s", h64, p64)) < 0) {
		input = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	data.data = (unsigned char *)input;
	data.size = (unsigned int)n;
	if ((grc = gnutls_privkey_sign_data2(key->priv, key->alg->sign, 0,
	    &data, &sig)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWS: %s signing failed: %s",
		    key->alg->name, gnutls_strerror(grc));
		goto out;
	}
	if (key->kty == KTY_EC) {
		if ((rc = ecdsa_der_to_raw(&sig, key->curve->size, raw)) != 0)
			goto out;
		s64 = ca_b64url_encode(raw, 2 * key->curve->size);
	} else
		s64 = ca_b64url_encode(sig.data, sig.size);
	if (s64 == NULL || asprintf(out, "%s.%s", input, s64) < 0) {
		*out = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
 out:
	ca_jose_datum_free(&sig, 0);
	json_object_put(own);
	free(hjson);
	free(h64);
	free(p64);
	free(s64);
	free(input);
	return rc;
}

int
ca_jws_parse(const char *compact, size_t len, struct ca_jws **out)
{
	static const char *const names[] = { "JWS header", "JWS payload",
	    "JWS signature", "JWS" };
	struct jose_part parts[3];
	struct ca_jws *jws = NULL;
	const char *alg;
	int rc;

	*out = NULL;
	if (len > CA_MAX_TOKEN)
		return ca_err(CA_ERR_TOOBIG, "JWS: longer than %d bytes",
		    CA_MAX_TOKEN);
	if ((rc = ca_jose_split(compact, len, parts, 3, names)) != 0)
		goto out;
	if (parts[0].len == 0 || parts[2].len == 0) {
		rc = ca_err(CA_ERR_INVAL, "JWS: empty header or signature");
		goto out;
	}
	if ((jws = calloc(1, sizeof(*jws))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_jose_header(&parts[0], names[0], &jws->header)) != 0)
		goto out;
	if ((rc = ca_json_string(jws->header, "alg", 1, &alg)) != 0) {
		ca_err_context("%s", names[0]);
		goto out;
	}
	if (strcmp(alg, "none") == 0) {
		rc = ca_err(CA_ERR_AUTH, "JWS: unsigned token (alg \"none\") "
		    "refused");
		goto out;
	}
	if (ca_jose_sigalg_find(alg) == NULL) {
		rc = ca_err(CA_ERR_AUTH, "JWS: unsupported algorithm \"%s\"",
		    alg);
		goto out;
	}
	jws->signing_input_len = parts[0].len + 1 + parts[1].len;
	if ((jws->signing_input = strndup(compact,
	    jws->signing_input_len)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	jws->payload = parts[1].d;
	jws->payload_len = parts[1].dlen;
	jws->sig = parts[2].d;
	jws->sig_len = parts[2].dlen;
	parts[1].d = parts[2].d = NULL;
	*out = jws;
	jws = NULL;
 out:
	ca_jose_parts_free(parts, 3);
	ca_jws_free(jws);
	return rc;
}

int
ca_jws_verify(const struct ca_jws *jws, const struct ca_jwk *key)
{
	gnutls_datum_t data, sig, der = { NULL, 0 };
	const char *alg;
	unsigned bits = 0;
	int rc, grc;

	/* ca_jws_parse made sure "alg" is a string. */
	if (ca_json_string(jws->header, "alg", 0, &alg) != 0 ||
	    strcmp(alg, key->alg->name) != 0)
		return ca_err(CA_ERR_AUTH, "JWS: algorithm \"%s\" is not the "
		    "key's (%s)", alg != NULL ? alg : "", key->alg->name);
	sig.data = jws->sig;
	sig.size = (unsigned int)jws->sig_len;
	switch (key->kty) {
	case KTY_EC:
		if ((rc = ecdsa_raw_to_der(jws->sig, jws->sig_len, key->curve,
		    &der)) != 0)
			return rc;
		sig = der;
		break;
	case KTY_OKP:
		if (jws->sig_len != 64)
			return ca_err(CA_ERR_AUTH, "JWS: EdDSA signature of "
			    "%zu bytes", jws->sig_len);
		break;
	default:
		(void)gnutls_pubkey_get_pk_algorithm(key->pub, &bits);
		if (jws->sig_len != (bits + 7) / 8)
			return ca_err(CA_ERR_AUTH, "JWS: RSA signature of %zu "
			    "bytes for a %u-bit key", jws->sig_len, bits);
		break;
	}
	data.data = (unsigned char *)jws->signing_input;
	data.size = (unsigned int)jws->signing_input_len;
	rc = 0;
	if ((grc = gnutls_pubkey_verify_data2(key->pub, key->alg->sign, 0,
	    &data, &sig)) < 0)
		rc = ca_err(CA_ERR_AUTH, "JWS: %s signature verification "
		    "failed", key->alg->name);
	ca_jose_datum_free(&der, 0);
	return rc;
}

void
ca_jws_free(struct ca_jws *jws)
{
	if (jws == NULL)
		return;
	json_object_put(jws->header);
	free(jws->payload);
	free(jws->sig);
	free(jws->signing_input);
	free(jws);
}

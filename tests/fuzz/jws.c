/*
 * jws.c - fuzz JWS/JWT parsing and verification (lib/jws.c, lib/token.c)
 * against a CA at https://ca.test with one JWK provisioner "prov" whose
 * key is fixed (Ed25519: its signatures are deterministic too), at a
 * fixed "now". The first byte picks what the rest is:
 *   even: a compact token as a client sends it: ca_jws_parse and
 *         ca_jws_verify, then ca_token_parse and ca_token_verify;
 *   odd:  the claims of a token, signed here with the provisioner's key
 *         (header {alg, kid, typ}), so that the fuzzer reaches the claim
 *         checks of ca_token_verify behind a good signature.
 * fuzz-dict: json
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "token.h"
#include "x509.h"

#define NOW	1767225600	/* 2026-01-01T00:00:00Z */

/* Made once with python3 cryptography; public in tests only. */
static const char prov_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"bQUTfXPGJJfUu6S2lo_HiYHG4hN0K3tg_jZCgTXmJ3Q\","
    "\"d\":\"NGkHdS7aJUT_dhT591u6NB-eBHGesfGUPz_xpEWAy7M\"}";
static const char root_fp[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static struct ca_jwk *prov_key;		/* private: signs the odd inputs */
static struct ca_config cfg;
static struct ca_provisioner prov;
static const char *dns_names[] = { "ca.test", "127.0.0.1" };
static char prov_name[] = "prov", prov_type[] = "JWK";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_object *o = NULL;

	if (ca_jwk_parse(prov_jwk, strlen(prov_jwk), &prov_key) != 0 ||
	    ca_jwk_to_json(prov_key, 0, &o) != 0 ||
	    ca_jwk_from_json(o, &prov.key) != 0)
		abort();
	json_object_put(o);
	prov.name = prov_name;
	prov.type = prov_type;
	if (ca_jwk_thumbprint(prov_key, &prov.kid) != 0)
		abort();
	prov.claims.min_dur = CA_CLAIMS_MIN_DEFAULT;
	prov.claims.max_dur = CA_CLAIMS_MAX_DEFAULT;
	prov.claims.default_dur = CA_CLAIMS_DEFAULT_DEFAULT;
	cfg.dns_names = dns_names;
	cfg.n_dns_names = 2;
	cfg.port = 443;
	cfg.extra_ports[0] = 9000;
	cfg.n_extra_ports = 1;
	cfg.max_sans = CA_MAX_SANS_DEFAULT;
	cfg.claims = prov.claims;
	cfg.provisioners = &prov;
	cfg.n_provisioners = 1;
	return 0;
}

static void
token(const char *s, size_t len)
{
	static const char *paths[] = { "/1.0/sign", "/1.0/revoke",
	    "/1.0/renew" };
	const struct ca_provisioner *p;
	struct ca_token *t = NULL;
	struct ca_names names;
	size_t i;

	if (ca_token_parse(s, len, &t) != 0)
		return;
	/* A later "now": the other side of the time checks. */
	(void)ca_token_verify(t, &cfg, paths[0], NULL, NOW + 3000, &p);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		p = NULL;
		if (ca_token_verify(t, &cfg, paths[i], root_fp, NOW, &p) != 0)
			continue;
		if (p != &prov)
			abort();
		/* What ca-sign checks next (lib/authority-issue.c). */
		if (i == 0 && ca_x509_cn_check(t->sub) == 0 &&
		    ca_names_classify((const char *const *)t->sans, t->n_sans,
		    &names) == 0) {
			char *text = ca_names_text(&names);

			free(text);
			ca_names_free(&names);
		}
	}
	ca_token_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *h = NULL;
	struct ca_jws *jws = NULL;
	char *signed_tok = NULL;
	const char *s;

	if (size < 1)
		return 0;
	s = (const char *)data + 1;
	size--;
	if ((data[0] & 1) == 0) {
		if (ca_jws_parse(s, size, &jws) == 0) {
			(void)ca_jws_verify(jws, prov.key);
			ca_jws_free(jws);
		}
		token(s, size);
	} else {
		if ((h = json_object_new_object()) == NULL ||
		    json_object_object_add(h, "kid",
		    json_object_new_string(prov.kid)) != 0 ||
		    json_object_object_add(h, "typ",
		    json_object_new_string("JWT")) != 0 ||
		    ca_jws_sign(prov_key, h, s, size, &signed_tok) != 0)
			goto out;
		token(signed_tok, strlen(signed_tok));
	}
out:
	json_object_put(h);
	free(signed_tok);
	ca_err_clear();
	return 0;
}

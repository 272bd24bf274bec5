/*
 * jws.c - fuzz JWS/JWT parsing and verification (lib/jws.c, lib/token.c)
 * against a CA at https://ca.test with three JWK provisioners whose keys
 * are fixed: "prov" (Ed25519: its signatures are deterministic too),
 * "prov-ec" (P-256, ES256) and "prov-rsa" (RSA 2048, RS256: the smallest
 * size lib/ accepts), at a fixed "now".
 * The first byte picks what the rest is: bits 1-2 the key (0 Ed25519,
 * 1 P-256, 2 and 3 RSA), bit 0
 *   0: a compact token as a client sends it: ca_jws_parse and
 *      ca_jws_verify with that key, then ca_token_parse and
 *      ca_token_verify against all three provisioners;
 *   1: the claims of a token, signed here with that key (header {alg,
 *      kid, typ}), so that the fuzzer reaches the claim checks of
 *      ca_token_verify behind a good signature.
 * fuzz-dict: json
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
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
static const char *const prov_jwks[] = {
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"bQUTfXPGJJfUu6S2lo_HiYHG4hN0K3tg_jZCgTXmJ3Q\","
    "\"d\":\"NGkHdS7aJUT_dhT591u6NB-eBHGesfGUPz_xpEWAy7M\"}",
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"Gz-Cpk4u6hzlfbeRdenuWv"
    "qAvyaKCpTjJfBdLohnjsY\",\"y\":\"Yhcfukv9vt3gQpdcOasJgkx4d4bgMGmW"
    "HLJIQ_yWO4A\",\"d\":\"0zl90a02RR12qPsYBIOSy135hiqBEtE-Uw5yRmoGDe"
    "k\"}",
    "{\"kty\":\"RSA\",\"n\":\"yUkyUywvkutbg1oNbngG6fgqbr7l-gbu2jMK2cl"
    "7TlECKgGOI_h0Xtjy1nW3cqxH7PbdyGxHMB9UupfCfXmTzbfeQIKf7a-xWnAKi3E"
    "CNA8_umtwNeIiUXIF3rtZhc5NgpKExi5jblurphRdLtNkoSSg5Qkz0W4q8yG5AtG"
    "_wZDL9UYO_RHosbemmKntrH7844sqOIQc5ijaVGrOEm-iyaWmJib9tVROm7uFZeV"
    "odqA_CqFLnj-oEwl_IUhfBYepogs6dZtR5w0afnB2tVKK3bufocC9Lo5BLe9YUmC"
    "VGmQoMKTrCq9KBWWC2jpkfeNy1m_KNjDafrARKng0mcrWyQ\",\"e\":\"AQAB\""
    ",\"d\":\"SZZ8ZxsN0DmFe2Gw0X-rB2wiFzkl4Zbj6vYITvvkNuKjf3tOtS9trMY"
    "I9C-ioaTNBS_qtg3SchLnT3i5g7NrnJC6XBfsFgOUmgXBM3YMaQKw6BTR0uE7Kq0"
    "qBbMTs1QaqqU97BtTljeV1tsoht5qRqfde3KvTI2EYt7S_gJZREv6aWyIKJ-oRCG"
    "nqD9mR9j3vSFsJNt-DobgV_mKkC8jCHLN2rHOfbCCYXPIbxHdVwJ_edzqvb6fij0"
    "M58TM6Yb8cXr35oQiU4VG4EK3G5JDlhG7nOrwAoGJD28LH-Oigp1xw5T_vIRuKTG"
    "steLSxnss2IUZcAVTSVsP34WOZrod\",\"p\":\"_c6wTpp23I5R31KJxqOf7LvX"
    "K_Rxmk6pT0HT-sTIdjNC53PHvaF0e06svx3SrXmz1lcHgWZ0afK6WdA4TdWntEvU"
    "JOuOXyeiB6Oi43zO0tmmdRyGb6d8Zj2UUHAH7jdx1oP4hk7qm8ma_v-B-nFDfF9G"
    "lkAInVLnuwKj4uj4H6U\",\"q\":\"ywZacwgYnhfPhLGbjWwIdN9F_1CD8Fh2VT"
    "BvxENtVITOFQBnKPfZM9C-bZ_lkuPJL5-lhxAWHSLiBwPj2Q0A4ToEuSdoO8WCZr"
    "5EojqlUyvywBDtN5d96z2_Vx6ZOqaE42glt8GXF7Ox6l1FjFa5XQsyInp9P7_bGx"
    "39r3DG8VU\",\"dp\":\"D69AMftVsReSc6yUGxRtg6GwEGVQx-poiB9XTD3w7W0"
    "Ji2gaRdu-aQhZoI3lQRcuR-ak7hg4xXtcjMRTVmwHqxqsh4OPDs5SMwqnvEswNNO"
    "Cd-ZFYI0HIQJZMgdaVhxTCqCpMRObZ_kzfOKpU6LAOuVgZVSbs6016Nam7hTbkIk"
    "\",\"dq\":\"KbgNgBPK0zm7V94TQ9VOS43R2WwXIJ1c-5ZvcRoV7kc3_dLOX_nG"
    "NUKQzwALccrC_blFj2J72NLhNWXUPTbR1nZQoCd74MRuTmSMv_VjIZsnT9ZqmIDV"
    "zDAtEF7mR8oOBpjRH1h1jtZLGgi-kN8FShxR2gnnkOEAyiq4hYOcLd0\",\"qi\""
    ":\"tlXjzLIHMru-d53WK0n5EXqAP7ztA0dMovFf4WVOHQf0Z453vqV-C4iC7FW6W"
    "OcqMtjYN1W75W9nEgX7ZhpKRb4JlY4ERTLl3UXYRPzT5uwyniS4zHfXvbOY0aEei"
    "HUPvKjjKsiswQO5LGXp282V-DCe9nbYvno_s3FEl47OdHU\"}",
};
#define NKEYS	(sizeof(prov_jwks) / sizeof(prov_jwks[0]))
static const char root_fp[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static struct ca_jwk *prov_keys[NKEYS];	/* private: sign the odd inputs */
static struct ca_config cfg;
static struct ca_provisioner provs[NKEYS];
static const char *dns_names[] = { "ca.test", "127.0.0.1" };
static char prov_type[] = "JWK";
static char prov_names[NKEYS][9] = { "prov", "prov-ec", "prov-rsa" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_object *o = NULL;
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NKEYS; i++) {
		struct ca_provisioner *prov = &provs[i];

		if (ca_jwk_parse(prov_jwks[i], strlen(prov_jwks[i]),
		    &prov_keys[i]) != 0 ||
		    ca_jwk_to_json(prov_keys[i], 0, &o) != 0 ||
		    ca_jwk_from_json(o, &prov->key) != 0) {
			fprintf(stderr, "key %zu: %s\n", i, ca_errmsg());
			abort();
		}
		json_object_put(o);
		o = NULL;
		prov->name = prov_names[i];
		prov->type = prov_type;
		if (ca_jwk_thumbprint(prov_keys[i], &prov->kid) != 0)
			abort();
		prov->claims.min_dur = CA_CLAIMS_MIN_DEFAULT;
		prov->claims.max_dur = CA_CLAIMS_MAX_DEFAULT;
		prov->claims.default_dur = CA_CLAIMS_DEFAULT_DEFAULT;
	}
	cfg.dns_names = dns_names;
	cfg.n_dns_names = 2;
	cfg.port = 443;
	cfg.extra_ports[0] = 9000;
	cfg.n_extra_ports = 1;
	cfg.max_sans = CA_MAX_SANS_DEFAULT;
	cfg.claims = provs[0].claims;
	cfg.provisioners = provs;
	cfg.n_provisioners = NKEYS;
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
		if (p < provs || p >= provs + NKEYS)
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
	size_t k;

	if (size < 1)
		return 0;
	k = (data[0] >> 1) & 3;
	if (k >= NKEYS)
		k = NKEYS - 1;
	s = (const char *)data + 1;
	size--;
	if ((data[0] & 1) == 0) {
		if (ca_jws_parse(s, size, &jws) == 0) {
			(void)ca_jws_verify(jws, provs[k].key);
			ca_jws_free(jws);
		}
		token(s, size);
	} else {
		if ((h = json_object_new_object()) == NULL ||
		    json_object_object_add(h, "kid",
		    json_object_new_string(provs[k].kid)) != 0 ||
		    json_object_object_add(h, "typ",
		    json_object_new_string("JWT")) != 0 ||
		    ca_jws_sign(prov_keys[k], h, s, size, &signed_tok) != 0)
			goto out;
		token(signed_tok, strlen(signed_tok));
	}
out:
	json_object_put(h);
	free(signed_tok);
	ca_err_clear();
	return 0;
}

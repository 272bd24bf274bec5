/*
 * test-acme-a.c - the ACME server's frame and accounts (lib/acme.c,
 * acme-nonce.c, acme-account.c): nonces shared by two handles on one
 * state directory as two processes would hold them, the flattened JWS
 * and each of its refusals with its RFC 8555 problem type, and an
 * account's life, all through ca_authority_acme with requests signed
 * here.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "tap.h"
#include "unit-ca.h"
#include "acme.h"
#include "acme-nonce.h"
#include "acme-eab.h"
#include "authority-impl.h"
#include "signer.h"
#include "jose.h"
#include "json.h"
#include "keys.h"

#define BASE	"https://ca.test:8443"
#define PFX	"/acme/acme"

static struct ca_authority *ca;

/* Nonces */

static struct acme_nonces *race_n;
static char race_nonce[ACME_NONCE_LEN + 1];

/* Issue a nonce in the middle of acme_nonce_use, once. */
static void
race_issue(void)
{
	acme_nonce_race_hook = NULL;
	if (acme_nonce_new(race_n, race_nonce) != 0)
		race_nonce[0] = '\0';
}

/* The counter of nonce s. */
static uint64_t
nonce_counter(const char *s)
{
	unsigned char *raw = NULL;
	uint64_t c = 0;
	size_t len;

	if (ca_b64url_decode(s, strlen(s), &raw, &len) == 0 && len >= 8)
		c = (uint64_t)ca_be32_get(raw) << 32 | ca_be32_get(raw + 4);
	free(raw);
	return c;
}

static void
test_nonces(void)
{
	struct acme_nonces *n1 = NULL, *n2 = NULL;
	char path[4200], a[ACME_NONCE_LEN + 1], b[ACME_NONCE_LEN + 1];
	char forged[ACME_NONCE_LEN + 1];
	struct stat sb;
	int i, dup;

	snprintf(path, sizeof(path), "%s/nonces", tmpdir);
	is_int(acme_nonces_open(path, &n1), 0, "nonces: the file is made");
	is_int(acme_nonces_open(path, &n2), 0, "nonces: a second handle");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "nonces: the file is 0600");
	is_int(acme_nonce_new(n1, a), 0, "nonce from the first handle");
	is_int((int)strlen(a), ACME_NONCE_LEN, "a nonce is %d characters",
	    ACME_NONCE_LEN);
	is_int(acme_nonce_use(n2, a), 0, "spent through the other handle");
	is_int(acme_nonce_use(n1, a), CA_ERR_REPLAY, "not twice (first handle)");
	is_int(acme_nonce_use(n2, a), CA_ERR_REPLAY,
	    "not twice (second handle)");
	is_str(ca_errmsg(), "nonce already used", "says it was used");

	/* Forged: a valid nonce with its MAC changed; the real one survives. */
	is_int(acme_nonce_new(n2, b), 0, "another nonce");
	memcpy(forged, b, sizeof(forged));
	forged[ACME_NONCE_LEN - 2] = forged[ACME_NONCE_LEN - 2] == 'A' ?
	    'B' : 'A';
	is_int(acme_nonce_use(n1, forged), CA_ERR_REPLAY, "a forged MAC");
	is_str(ca_errmsg(), "not a nonce of this server", "says so");
	is_int(acme_nonce_use(n1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	    CA_ERR_REPLAY, "an unknown nonce");
	is_int(acme_nonce_use(n1, "short"), CA_ERR_REPLAY, "not a nonce");
	is_int(acme_nonce_use(n1, b), 0, "the real one is still good");

	/* All different, many in flight. */
	dup = 0;
	for (i = 0; i < 1000 && !dup; i++) {
		if (acme_nonce_new(i % 2 ? n1 : n2, a) != 0 ||
		    strcmp(a, b) == 0)
			dup = 1;
		memcpy(b, a, sizeof(b));
	}
	ok(!dup, "1000 nonces from two handles, each new");

	/* The window: a nonce is good until WINDOW more were given out. */
	is_int(acme_nonce_new(n1, a), 0, "nonce a");
	is_int(acme_nonce_new(n2, b), 0, "nonce b, the next");
	acme_nonces_skip(n1, ACME_NONCE_WINDOW - 1);
	is_int(acme_nonce_use(n2, a), CA_ERR_REPLAY,
	    "a: window + 1 behind the counter: refused");
	is_str(ca_errmsg(), "nonce too old", "as too old");
	is_int(acme_nonce_use(n2, b), 0, "b: exactly the window behind: good");

	/*
	 * The wrap: a is spent while a + WINDOW is given out (between the
	 * window check and the marking): a is too old, a + WINDOW still good.
	 */
	is_int(acme_nonce_new(n1, a), 0, "nonce a");
	acme_nonces_skip(n1, ACME_NONCE_WINDOW - 1);
	race_n = n1;
	acme_nonce_race_hook = race_issue;
	is_int(acme_nonce_use(n2, a), CA_ERR_REPLAY,
	    "a spent as a + WINDOW is given out: too old");
	ok(race_nonce[0] != '\0' && nonce_counter(race_nonce) ==
	    nonce_counter(a) + ACME_NONCE_WINDOW, "(a + WINDOW was given out)");
	is_int(acme_nonce_use(n2, race_nonce), 0,
	    "a + WINDOW is good: its bit was not left set");

	/* Past 2^62 a new key and counter. */
	is_int(acme_nonce_new(n1, a), 0, "nonce a");
	acme_nonces_skip(n2, (uint64_t)1 << 62);
	is_int(acme_nonce_new(n2, b), 0, "a nonce past 2^62");
	ok(nonce_counter(b) < 16, "... made with a new counter (%llu)",
	    (unsigned long long)nonce_counter(b));
	is_int(acme_nonce_use(n1, a), CA_ERR_REPLAY,
	    "a nonce of the old key is refused");
	is_int(acme_nonce_use(n1, b), 0, "the new one is good");
	acme_nonces_close(n1);
	acme_nonces_close(n2);

	/* Group or others may read it: the key would leak. */
	chmod(path, 0644);
	is_int(acme_nonces_open(path, &n1), CA_ERR_CONFIG,
	    "a nonce file readable by others is refused");
	acme_nonces_close(n1);
}

/* Requests */

struct key {
	struct ca_jwk	*jwk;
	char		*kid;		/* account URL, once it has one */
};

static void
key_make(struct key *k, enum ca_key_type t)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t p = NULL;

	memset(k, 0, sizeof(*k));
	if (ca_key_generate(t, &x) != 0 || ca_key_wrap(x, 1, &p) != 0 ||
	    ca_jwk_from_privkey(p, NULL, &k->jwk) != 0) {
		printf("Bail out! key: %s\n", ca_errmsg());
		exit(1);
	}
}

static void
key_free(struct key *k)
{
	ca_jwk_free(k->jwk);
	free(k->kid);
}

/* One request's answer; the fields tests look at. */
struct answer {
	int		 rc;
	struct ca_acme_resp r;
	struct json_object *body;	/* parsed, or NULL */
	const char	*type;		/* problem type after the URN, or "" */
};

static void
answer_free(struct answer *a)
{
	ca_acme_resp_free(&a->r);
	json_object_put(a->body);
	memset(a, 0, sizeof(*a));
}

static void
send_req(struct answer *a, const char *method, const char *path,
    const char *ctype, const char *body)
{
	struct ca_acme_req q;
	const char *t;

	memset(a, 0, sizeof(*a));
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.base = BASE;
	q.path = path;
	q.content_type = ctype;
	q.body = (const unsigned char *)body;
	q.body_len = body != NULL ? strlen(body) : 0;
	q.now = time(NULL);
	a->rc = ca_authority_acme(ca, &q, &a->r);
	a->type = "";
	if (a->rc == 0 && a->r.body != NULL &&
	    ca_json_parse(a->r.body, a->r.body_len, "answer", &a->body) == 0 &&
	    a->r.content_type != NULL &&
	    strcmp(a->r.content_type, "application/problem+json") == 0 &&
	    ca_json_string(a->body, "type", 0, &t) == 0 &&
	    strncmp(t, "urn:ietf:params:acme:error:", 27) == 0)
		a->type = t + 27;
}

static char *
fresh_nonce(void)
{
	struct answer a;
	char *n;

	send_req(&a, "HEAD", PFX "/new-nonce", NULL, NULL);
	n = a.r.nonce != NULL ? strdup(a.r.nonce) : NULL;
	answer_free(&a);
	return n;
}

/* Flags for signed() */
#define S_JWK		0x01	/* header jwk (else kid) */
#define S_BOTH		0x02	/* jwk and kid */
#define S_BADSIG	0x04	/* signature changed */
#define S_NONONCE	0x08
#define S_BADURL	0x10

/*
 * A flattened JWS of payload (NULL: "" for POST-as-GET) for path, signed
 * by k, nonce as given (NULL: a fresh one). Returns the body (free).
 */
static char *
signed_body(struct key *k, const char *path, const char *payload,
    const char *nonce, int flags)
{
	struct json_object *h, *jwk = NULL, *o;
	char *own = NULL, *compact = NULL, *p1, *p2, *body, url[512];

	h = json_object_new_object();
	snprintf(url, sizeof(url), "%s%s%s", BASE, path,
	    flags & S_BADURL ? "x" : "");
	json_object_object_add(h, "url", json_object_new_string(url));
	if (!(flags & S_NONONCE)) {
		if (nonce == NULL)
			nonce = own = fresh_nonce();
		json_object_object_add(h, "nonce", json_object_new_string(nonce));
	}
	if (flags & (S_JWK | S_BOTH)) {
		ca_jwk_to_json(k->jwk, 0, &jwk);
		/* as clients send it: no kid, use or alg members */
		json_object_object_del(jwk, "kid");
		json_object_object_del(jwk, "use");
		json_object_object_del(jwk, "alg");
		json_object_object_add(h, "jwk", jwk);
	}
	if (!(flags & S_JWK) || (flags & S_BOTH))
		json_object_object_add(h, "kid", json_object_new_string(
		    k->kid != NULL ? k->kid : BASE PFX "/account/none"));
	if (payload == NULL)
		payload = "";
	if (ca_jws_sign(k->jwk, h, payload, strlen(payload), &compact) != 0) {
		printf("Bail out! sign: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(h);
	free(own);
	p1 = strchr(compact, '.');
	*p1++ = '\0';
	p2 = strchr(p1, '.');
	*p2++ = '\0';
	if (flags & S_BADSIG)
		p2[3] = p2[3] == 'A' ? 'B' : 'A';
	o = json_object_new_object();
	json_object_object_add(o, "protected", json_object_new_string(compact));
	json_object_object_add(o, "payload", json_object_new_string(p1));
	json_object_object_add(o, "signature", json_object_new_string(p2));
	body = ca_json_dump(o);
	json_object_put(o);
	free(compact);
	return body;
}

static void
post(struct answer *a, struct key *k, const char *path, const char *payload,
    int flags)
{
	char *body = signed_body(k, path, payload, NULL, flags);

	send_req(a, "POST", path, "application/jose+json", body);
	free(body);
}

/* An answer's status, type and nonce in one check. */
#define is_answer(a, st, ty, ...) do {					\
	ok((a)->rc == 0 && (a)->r.status == (st) &&			\
	    strcmp((a)->type, (ty)) == 0 && (a)->r.nonce != NULL,	\
	    __VA_ARGS__);						\
	if (!((a)->rc == 0 && (a)->r.status == (st) &&			\
	    strcmp((a)->type, (ty)) == 0))				\
		printf("#   got rc %d, status %d, type \"%s\": %s\n",	\
		    (a)->rc, (a)->r.status, (a)->type,			\
		    (a)->r.body != NULL ? (a)->r.body : "");		\
} while (0)

static void
new_account(struct key *k, const char *contact)
{
	struct answer a;
	char payload[256];

	snprintf(payload, sizeof(payload), "{\"termsOfServiceAgreed\":true%s%s%s}",
	    contact ? ",\"contact\":[\"" : "", contact ? contact : "",
	    contact ? "\"]" : "");
	post(&a, k, PFX "/new-account", payload, S_JWK);
	is_answer(&a, 201, "", "newAccount: 201");
	ok(a.r.location != NULL && strncmp(a.r.location,
	    BASE PFX "/account/", strlen(BASE PFX "/account/")) == 0,
	    "newAccount: Location is the account URL");
	k->kid = a.r.location != NULL ? strdup(a.r.location) : NULL;
	answer_free(&a);
}

static void
test_frame(void)
{
	struct answer a;
	struct key k, other;
	struct json_object *v, *meta;
	const char *s;
	char *body, *nonce, big[ACME_NONCE_LEN + 40000];
	char hs[512];

	send_req(&a, "GET", PFX "/directory", NULL, NULL);
	is_answer(&a, 200, "", "directory: 200");
	ok(a.body != NULL && ca_json_string(a.body, "newAccount", 0, &s) == 0 &&
	    strcmp(s, BASE PFX "/new-account") == 0,
	    "directory: newAccount under the request's base");
	ok(a.body != NULL && ca_json_object(a.body, "meta", 0, &meta) == 0 &&
	    json_object_object_get_ex(meta, "externalAccountRequired", &v) &&
	    !json_object_get_boolean(v) &&
	    json_object_object_get_ex(meta, "termsOfService", &v),
	    "directory: meta with externalAccountRequired and termsOfService");
	answer_free(&a);
	send_req(&a, "GET", "/2.0" PFX "/directory", NULL, NULL);
	ok(a.body != NULL && ca_json_string(a.body, "newNonce", 0, &s) == 0 &&
	    strcmp(s, BASE "/2.0" PFX "/new-nonce") == 0,
	    "directory under /2.0/acme: its URLs too");
	answer_free(&a);
	send_req(&a, "HEAD", PFX "/new-nonce", NULL, NULL);
	is_answer(&a, 200, "", "HEAD newNonce: 200 with a nonce");
	ok(a.r.n_links == 1 && strcmp(a.r.links[0],
	    "<" BASE PFX "/directory>;rel=\"index\"") == 0,
	    "newNonce: Link rel=index");
	answer_free(&a);
	send_req(&a, "GET", PFX "/new-nonce", NULL, NULL);
	is_answer(&a, 204, "", "GET newNonce: 204");
	answer_free(&a);
	send_req(&a, "GET", PFX "/new-account", NULL, NULL);
	is_answer(&a, 405, "malformed", "GET newAccount: 405");
	answer_free(&a);
	send_req(&a, "GET", PFX "/nothing", NULL, NULL);
	is_answer(&a, 404, "malformed", "an unknown resource: 404");
	answer_free(&a);
	send_req(&a, "GET", "/acme/nobody/directory", NULL, NULL);
	is_answer(&a, 404, "malformed", "an unknown provisioner: 404");
	answer_free(&a);
	send_req(&a, "GET", "/acme/admin/directory", NULL, NULL);
	is_answer(&a, 404, "malformed", "a JWK provisioner has no ACME");
	answer_free(&a);

	key_make(&k, CA_KEY_EC_P256);
	key_make(&other, CA_KEY_ED25519);

	/* Content-Type and size, before anything is parsed. */
	body = signed_body(&k, PFX "/new-account", "{}", NULL, S_JWK);
	send_req(&a, "POST", PFX "/new-account", "application/json", body);
	is_answer(&a, 415, "malformed", "Content-Type application/json: 415");
	answer_free(&a);
	free(body);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	send_req(&a, "POST", PFX "/new-account", "application/jose+json", big);
	is_answer(&a, 413, "malformed", "a body over the limit: 413");
	answer_free(&a);
	send_req(&a, "POST", PFX "/new-account", "application/jose+json",
	    "{\"protected\":");
	is_answer(&a, 400, "malformed", "not JSON: malformed");
	answer_free(&a);

	/* The JWS checks, each with its problem type. */
	post(&a, &k, PFX "/new-account", "{}", S_JWK | S_BADSIG);
	is_answer(&a, 400, "malformed", "a bad signature: malformed");
	answer_free(&a);
	post(&a, &k, PFX "/new-account", "{}", S_JWK | S_BADURL);
	is_answer(&a, 403, "unauthorized", "a wrong url: unauthorized");
	answer_free(&a);
	post(&a, &k, PFX "/new-account", "{}", S_JWK | S_NONONCE);
	is_answer(&a, 400, "badNonce", "no nonce: badNonce");
	answer_free(&a);
	body = signed_body(&k, PFX "/new-account", "{}",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", S_JWK);
	send_req(&a, "POST", PFX "/new-account", "application/jose+json", body);
	is_answer(&a, 400, "badNonce", "an unknown nonce: badNonce");
	answer_free(&a);
	free(body);
	post(&a, &k, PFX "/new-account", "{}", S_BOTH);
	is_answer(&a, 400, "malformed", "jwk and kid together: malformed");
	answer_free(&a);
	post(&a, &k, PFX "/new-account", "{}", 0);
	is_answer(&a, 400, "malformed", "newAccount by kid: malformed");
	answer_free(&a);
	post(&a, &k, PFX "/new-order", "{}", S_JWK);
	is_answer(&a, 400, "malformed", "newOrder by jwk: malformed");
	answer_free(&a);
	post(&a, &k, PFX "/new-order", "{}", 0);
	is_answer(&a, 400, "accountDoesNotExist",
	    "kid of an unknown account: accountDoesNotExist");
	answer_free(&a);
	k.kid = strdup("https://other.test/acme/acme/account/abc");
	post(&a, &k, PFX "/new-order", "{}", 0);
	is_answer(&a, 400, "accountDoesNotExist",
	    "kid of another CA: accountDoesNotExist");
	answer_free(&a);
	free(k.kid);
	k.kid = NULL;
	/* alg HS256 with a made-up signature */
	nonce = fresh_nonce();
	snprintf(hs, sizeof(hs), "{\"alg\":\"HS256\",\"nonce\":\"%s\","
	    "\"url\":\"" BASE PFX "/new-account\",\"kid\":\"x\"}", nonce);
	free(nonce);
	body = ca_b64url_encode(hs, strlen(hs));
	snprintf(big, sizeof(big), "{\"protected\":\"%s\",\"payload\":\"e30\","
	    "\"signature\":\"AAAA\"}", body);
	free(body);
	send_req(&a, "POST", PFX "/new-account", "application/jose+json", big);
	is_answer(&a, 400, "badSignatureAlgorithm", "alg HS256: "
	    "badSignatureAlgorithm");
	ok(a.body != NULL && ca_json_array(a.body, "algorithms", 0, &v) == 0 &&
	    json_object_array_length(v) == 4 && strcmp(json_object_get_string(
	    json_object_array_get_idx(v, 3)), "EdDSA") == 0,
	    "... with the algorithms accepted (RFC 8555 6.2)");
	answer_free(&a);
	snprintf(big, sizeof(big), "{\"protected\":\"e30\",\"payload\":\"e30\","
	    "\"signature\":\"AAAA\",\"header\":{}}");
	send_req(&a, "POST", PFX "/new-account", "application/jose+json", big);
	is_answer(&a, 400, "malformed", "an unprotected header: malformed");
	answer_free(&a);

	/* A replayed nonce: the first request spends it, the second fails. */
	nonce = fresh_nonce();
	body = signed_body(&other, PFX "/new-account", "{}", nonce, S_JWK);
	send_req(&a, "POST", PFX "/new-account", "application/jose+json", body);
	is_answer(&a, 201, "", "an account with an Ed25519 key (EdDSA)");
	answer_free(&a);
	send_req(&a, "POST", PFX "/new-account", "application/jose+json", body);
	is_answer(&a, 400, "badNonce", "the same request again: badNonce");
	answer_free(&a);
	free(body);
	free(nonce);
	key_free(&k);
	key_free(&other);
}

static void
test_accounts(void)
{
	struct answer a;
	struct key k, k2, rsa, p384, nk;
	struct json_object *v;
	char *inner, payload[4096], url[512];
	const char *s;
	int b;

	key_make(&k, CA_KEY_EC_P256);
	key_make(&k2, CA_KEY_EC_P256);
	key_make(&rsa, CA_KEY_RSA_3072);
	key_make(&p384, CA_KEY_EC_P384);
	key_make(&nk, CA_KEY_EC_P256);

	post(&a, &k, PFX "/new-account", "{\"onlyReturnExisting\":true}",
	    S_JWK);
	is_answer(&a, 400, "accountDoesNotExist",
	    "onlyReturnExisting, no account: accountDoesNotExist");
	answer_free(&a);
	post(&a, &k, PFX "/new-account", "{\"contact\":[\"tel:+1555\"]}",
	    S_JWK);
	is_answer(&a, 400, "unsupportedContact", "tel: contact: "
	    "unsupportedContact");
	answer_free(&a);
	post(&a, &k, PFX "/new-account",
	    "{\"contact\":[\"mailto:a@x.test,b@x.test\"]}", S_JWK);
	is_answer(&a, 400, "invalidContact", "two addresses: invalidContact");
	answer_free(&a);
	post(&a, &k, PFX "/new-account", "{\"contact\":[\"mailto:a@x.test\","
	    "\"mailto:b@x.test\",\"mailto:c@x.test\",\"mailto:d@x.test\","
	    "\"mailto:e@x.test\"]}", S_JWK);
	is_answer(&a, 400, "invalidContact", "five contacts: invalidContact");
	answer_free(&a);

	new_account(&k, "mailto:admin@example.test");
	new_account(&rsa, NULL);
	new_account(&p384, NULL);
	post(&a, &k, PFX "/new-account", "{}", S_JWK);
	is_answer(&a, 200, "", "newAccount with the same key: 200");
	is_str(a.r.location, k.kid, "... with the account's Location");
	answer_free(&a);

	post(&a, &rsa, rsa.kid + strlen(BASE), NULL, 0);
	is_answer(&a, 200, "", "POST-as-GET of the account (RS256)");
	ok(a.body != NULL && ca_json_string(a.body, "status", 0, &s) == 0 &&
	    strcmp(s, "valid") == 0, "its status is valid");
	answer_free(&a);
	post(&a, &p384, k.kid + strlen(BASE), NULL, 0);
	is_answer(&a, 403, "unauthorized", "another account's URL: "
	    "unauthorized");
	answer_free(&a);

	post(&a, &k, k.kid + strlen(BASE),
	    "{\"contact\":[\"mailto:new@example.test\"]}", 0);
	is_answer(&a, 200, "", "contact update: 200");
	ok(a.body != NULL && ca_json_array(a.body, "contact", 0, &v) == 0 &&
	    strcmp(json_object_get_string(json_object_array_get_idx(v, 0)),
	    "mailto:new@example.test") == 0, "the new contact is shown");
	answer_free(&a);
	post(&a, &k, k.kid + strlen(BASE), NULL, 0);
	ok(a.body != NULL && ca_json_array(a.body, "contact", 0, &v) == 0 &&
	    strcmp(json_object_get_string(json_object_array_get_idx(v, 0)),
	    "mailto:new@example.test") == 0, "... and stored");
	answer_free(&a);

	/* Key change: inner JWS by the new key, its payload checked. */
	{
		struct json_object *old = NULL;
		char *oldk;

		ca_jwk_to_json(k.jwk, 0, &old);
		oldk = ca_json_dump(old);
		json_object_put(old);
		snprintf(payload, sizeof(payload),
		    "{\"account\":\"%s\",\"oldKey\":%s}", p384.kid, oldk);
		snprintf(url, sizeof(url), "%s", PFX "/key-change");
		/* inner JWS: jwk of the new key, url of the outer, no nonce */
		inner = signed_body(&nk, url, payload, NULL, S_JWK | S_NONONCE);
		post(&a, &k, url, inner, 0);
		is_answer(&a, 403, "unauthorized", "keyChange naming another "
		    "account: unauthorized");
		answer_free(&a);
		free(inner);
		snprintf(payload, sizeof(payload),
		    "{\"account\":\"%s\",\"oldKey\":%s}", k.kid, oldk);
		inner = signed_body(&nk, url, payload, NULL,
		    S_JWK | S_NONONCE | S_BADSIG);
		post(&a, &k, url, inner, 0);
		is_answer(&a, 400, "malformed", "keyChange, inner signature "
		    "bad: malformed");
		answer_free(&a);
		free(inner);
		inner = signed_body(&rsa, url, payload, NULL, S_JWK | S_NONONCE);
		post(&a, &k, url, inner, 0);
		is_answer(&a, 409, "malformed", "keyChange to another account's "
		    "key: 409");
		is_str(a.r.location, rsa.kid, "... Location: that account");
		answer_free(&a);
		free(inner);
		inner = signed_body(&nk, url, payload, NULL, S_JWK | S_NONONCE);
		post(&a, &k, url, inner, 0);
		is_answer(&a, 200, "", "keyChange: 200");
		answer_free(&a);
		free(inner);
		free(oldk);
	}
	post(&a, &k, k.kid + strlen(BASE), NULL, 0);
	is_answer(&a, 400, "malformed", "the old key no longer signs "
	    "(signature does not verify with the account's key)");
	answer_free(&a);
	post(&a, &k, PFX "/new-account", "{\"onlyReturnExisting\":true}",
	    S_JWK);
	is_answer(&a, 400, "accountDoesNotExist", "the old key has no account");
	answer_free(&a);
	nk.kid = strdup(k.kid);
	post(&a, &nk, PFX "/new-account", "{\"onlyReturnExisting\":true}",
	    S_JWK);
	is_answer(&a, 200, "", "the new key finds the account");
	is_str(a.r.location, k.kid, "... the same one");
	answer_free(&a);

	/* Deactivation, for good. */
	post(&a, &nk, nk.kid + strlen(BASE), "{\"status\":\"valid2\"}", 0);
	is_answer(&a, 400, "malformed", "status other than deactivated: "
	    "malformed");
	answer_free(&a);
	post(&a, &nk, nk.kid + strlen(BASE), "{\"status\":\"deactivated\"}", 0);
	is_answer(&a, 200, "", "deactivation: 200");
	ok(a.body != NULL && ca_json_string(a.body, "status", 0, &s) == 0 &&
	    strcmp(s, "deactivated") == 0, "status deactivated");
	answer_free(&a);
	post(&a, &nk, nk.kid + strlen(BASE), NULL, 0);
	is_answer(&a, 403, "unauthorized", "a deactivated account: "
	    "unauthorized");
	answer_free(&a);
	post(&a, &nk, PFX "/new-order", "{}", 0);
	is_answer(&a, 403, "unauthorized", "... for every request");
	answer_free(&a);
	post(&a, &nk, PFX "/new-account", "{}", S_JWK);
	is_answer(&a, 403, "unauthorized", "... and newAccount with its key");
	answer_free(&a);

	/* requireEAB: no binding, no account. */
	post(&a, &k2, "/acme/eab/new-account", "{}", S_JWK);
	is_answer(&a, 400, "externalAccountRequired",
	    "requireEAB, no binding: externalAccountRequired");
	answer_free(&a);
	send_req(&a, "GET", "/acme/eab/directory", NULL, NULL);
	ok(a.body != NULL && ca_json_object(a.body, "meta", 0, &v) == 0 &&
	    ca_json_bool(v, "externalAccountRequired", 0, &b) == 0 && b,
	    "requireEAB: the directory says so");
	answer_free(&a);

	key_free(&k);
	key_free(&k2);
	key_free(&rsa);
	key_free(&p384);
	key_free(&nk);
}

/*
 * An account is bound to the provisioner it was made at: its URL under
 * another (requireEAB) provisioner's prefix names no account there, for
 * every request, and its key has no account there.
 */
static void
test_cross_provisioner(void)
{
	struct answer a;
	struct key k;
	struct json_object *old = NULL;
	char *inner, *oldk, payload[4096], *other;
	const char *id;

	key_make(&k, CA_KEY_EC_P256);
	new_account(&k, NULL);
	id = k.kid != NULL ? strrchr(k.kid, '/') + 1 : "none";
	if (asprintf(&other, "%s/acme/eab/account/%s", BASE, id) < 0)
		exit(1);
	free(k.kid);
	k.kid = other;
	post(&a, &k, "/acme/eab/new-order",
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.test\"}]}", 0);
	is_answer(&a, 400, "accountDoesNotExist", "another provisioner's "
	    "account: newOrder refused (accountDoesNotExist)");
	answer_free(&a);
	post(&a, &k, other + strlen(BASE), NULL, 0);
	is_answer(&a, 400, "accountDoesNotExist", "... its POST-as-GET too");
	answer_free(&a);
	ca_jwk_to_json(k.jwk, 0, &old);
	oldk = ca_json_dump(old);
	json_object_put(old);
	snprintf(payload, sizeof(payload), "{\"account\":\"%s\",\"oldKey\":%s}",
	    other, oldk);
	{
		struct key nk;

		key_make(&nk, CA_KEY_EC_P256);
		inner = signed_body(&nk, "/acme/eab/key-change", payload, NULL,
		    S_JWK | S_NONONCE);
		post(&a, &k, "/acme/eab/key-change", inner, 0);
		is_answer(&a, 400, "accountDoesNotExist", "... and keyChange");
		answer_free(&a);
		free(inner);
		key_free(&nk);
	}
	free(oldk);
	post(&a, &k, "/acme/eab/new-account", "{\"onlyReturnExisting\":true}",
	    S_JWK);
	is_answer(&a, 400, "accountDoesNotExist", "its key has no account at "
	    "the other provisioner");
	answer_free(&a);
	key_free(&k);
}

/*
 * newAccount at the requireEAB provisioner "eab" with a binding by kid
 * and hmac (base64url) for k's key.
 */
static void
eab_account(struct answer *a, struct key *k, const char *kid,
    const char *hmac)
{
	struct json_object *jwk = NULL;
	unsigned char *key = NULL, mac[32];
	char *h64, *p64, *s64, *jwks, *si, payload[4096], hdr[256];
	size_t key_len = 0;

	ca_jwk_to_json(k->jwk, 0, &jwk);
	jwks = ca_json_dump(jwk);
	json_object_put(jwk);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\","
	    "\"url\":\"%s/acme/eab/new-account\"}", kid, BASE);
	h64 = ca_b64url_encode((const unsigned char *)hdr, strlen(hdr));
	p64 = ca_b64url_encode((const unsigned char *)jwks, strlen(jwks));
	if (asprintf(&si, "%s.%s", h64, p64) < 0 ||
	    ca_b64url_decode(hmac, strlen(hmac), &key, &key_len) != 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, si, strlen(si),
	    mac) < 0)
		exit(1);
	s64 = ca_b64url_encode(mac, sizeof(mac));
	snprintf(payload, sizeof(payload), "{\"termsOfServiceAgreed\":true,"
	    "\"externalAccountBinding\":{\"protected\":\"%s\","
	    "\"payload\":\"%s\",\"signature\":\"%s\"}}", h64, p64, s64);
	post(a, k, "/acme/eab/new-account", payload, S_JWK);
	free(key);
	free(si);
	free(h64);
	free(p64);
	free(s64);
	free(jwks);
}

/* The detail of a problem answer, in buf. */
static const char *
detail_of(struct answer *a, char *buf, size_t len)
{
	const char *d = "";

	if (a->body != NULL)
		(void)ca_json_string(a->body, "detail", 0, &d);
	snprintf(buf, len, "%s", d);
	return buf;
}

/*
 * EAB refusals: the MAC first, then one answer whatever was wrong, so
 * that no key can be probed for without its secret.
 */
static void
test_eab_refusals(void)
{
	struct answer a;
	struct key k1, k2;
	char *kid = NULL, *hmac = NULL, d1[512], d2[512], d3[512];
	const char *wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

	key_make(&k1, CA_KEY_EC_P256);
	key_make(&k2, CA_KEY_EC_P256);
	if (ca_acme_eab_add(ca, "eab", NULL, time(NULL), &kid, &hmac) != 0) {
		printf("Bail out! eab add: %s\n", ca_errmsg());
		exit(1);
	}
	eab_account(&a, &k1, kid, wrong);
	is_answer(&a, 403, "unauthorized", "EAB: a wrong MAC: unauthorized");
	detail_of(&a, d1, sizeof(d1));
	answer_free(&a);
	eab_account(&a, &k1, "AAAAAAAAAAAAAAAAAAAAAA", wrong);
	is_answer(&a, 403, "unauthorized", "EAB: an unknown key: unauthorized");
	is_str(detail_of(&a, d2, sizeof(d2)), d1,
	    "... the same detail as a wrong MAC of a real key");
	answer_free(&a);
	eab_account(&a, &k1, kid, hmac);
	is_answer(&a, 201, "", "EAB: the right MAC: the account is made");
	answer_free(&a);
	eab_account(&a, &k2, kid, wrong);
	is_answer(&a, 403, "unauthorized", "EAB: a bound key, a wrong MAC");
	is_str(detail_of(&a, d3, sizeof(d3)), d1,
	    "... the same detail too (bound or not is not told)");
	answer_free(&a);
	free(kid);
	free(hmac);
	key_free(&k1);
	key_free(&k2);
}

/* lib/acme.c's test hook (acme-internal.h). */
extern void (*acme_write_test_hook)(void);

static struct key *stale_k, *stale_nk;
static int stale_status;

/* Another request commits just before a write: a key change of stale_k. */
static void
change_key_meanwhile(void)
{
	struct json_object *old = NULL;
	struct answer a;
	char *inner, *oldk, payload[4096];

	acme_write_test_hook = NULL;
	ca_jwk_to_json(stale_k->jwk, 0, &old);
	oldk = ca_json_dump(old);
	json_object_put(old);
	snprintf(payload, sizeof(payload), "{\"account\":\"%s\",\"oldKey\":%s}",
	    stale_k->kid, oldk);
	inner = signed_body(stale_nk, PFX "/key-change", payload, NULL,
	    S_JWK | S_NONONCE);
	post(&a, stale_k, PFX "/key-change", inner, 0);
	stale_status = a.r.status;
	answer_free(&a);
	free(inner);
	free(oldk);
}

/* ... or its deactivation (signed by the new key). */
static void
deactivate_meanwhile(void)
{
	struct answer a;

	acme_write_test_hook = NULL;
	post(&a, stale_nk, stale_nk->kid + strlen(BASE),
	    "{\"status\":\"deactivated\"}", 0);
	stale_status = a.r.status;
	answer_free(&a);
}

/*
 * A write re-checks the account that signed the request in its own
 * transaction: a key change or deactivation committed since the
 * request's account was read refuses it.
 */
static void
test_stale_account(void)
{
	struct answer a;
	struct key k, nk;

	key_make(&k, CA_KEY_EC_P256);
	key_make(&nk, CA_KEY_EC_P256);
	new_account(&k, NULL);
	nk.kid = k.kid != NULL ? strdup(k.kid) : NULL;
	stale_k = &k;
	stale_nk = &nk;
	acme_write_test_hook = change_key_meanwhile;
	post(&a, &k, k.kid + strlen(BASE),
	    "{\"contact\":[\"mailto:late@example.test\"]}", 0);
	is_int(stale_status, 200, "(the key was changed meanwhile)");
	is_answer(&a, 403, "unauthorized", "a contact update signed by the "
	    "key changed meanwhile: unauthorized");
	answer_free(&a);
	post(&a, &nk, nk.kid + strlen(BASE), NULL, 0);
	ok(a.body != NULL && !json_object_object_get_ex(a.body, "contact",
	    NULL), "... nothing was written");
	answer_free(&a);
	acme_write_test_hook = deactivate_meanwhile;
	post(&a, &nk, PFX "/new-order",
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.test\"}]}", 0);
	is_int(stale_status, 200, "(the account was deactivated meanwhile)");
	ok(a.rc == 0 && a.r.status >= 400, "no order for an account "
	    "deactivated meanwhile (%d %s)", a.r.status, a.type);
	answer_free(&a);
	acme_write_test_hook = NULL;
	key_free(&k);
	key_free(&nk);
}

/*
 * The privsep relay (lib/signer.c): a request and its whole answer, job
 * included, cross the socketpair unchanged; so does a validation's
 * outcome. The signer's authority here is a fake that echoes.
 */
static struct ca_acme_job *seen_job;
static int seen_ok;
static char seen_detail[64];
static time_t seen_now, seen_vnow;	/* the signer's "now" in each op */

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static int
fake_acme(struct ca_authority *a, const struct ca_acme_req *q,
    struct ca_acme_resp *r)
{
	char body[512];

	(void)a;
	seen_now = q->now;
	snprintf(body, sizeof(body), "%s %s%s %s %zu", q->method, q->base,
	    q->path, q->content_type ? q->content_type : "-", q->body_len);
	r->status = 201;
	r->content_type = "application/problem+json";
	r->body = xstrdup(body);
	r->body_len = strlen(body);
	r->nonce = xstrdup("NONCE");
	r->location = xstrdup("https://x.test/acme/acme/order/1");
	r->links[r->n_links++] = xstrdup("<https://x.test/a>;rel=\"up\"");
	r->links[r->n_links++] = xstrdup("<https://x.test/d>;rel=\"index\"");
	r->retry_after = 3;
	if ((r->job = calloc(1, sizeof(*r->job))) == NULL)
		abort();
	r->job->provisioner = xstrdup("acme");
	r->job->authz = xstrdup("AUTHZ");
	r->job->challenge = xstrdup("CHALL");
	r->job->type = xstrdup("http-01");
	r->job->id_type = xstrdup("dns");
	r->job->id_value = xstrdup("a.example");
	r->job->token = xstrdup("TOKEN");	/* key_auth absent */
	return 0;
}

static int
fake_validated(struct ca_authority *a, const struct ca_acme_job *job, int ok_,
    const char *type, const char *detail, time_t now)
{
	(void)a;
	(void)type;
	seen_vnow = now;
	seen_job = ca_acme_job_dup(job);
	seen_ok = ok_;
	snprintf(seen_detail, sizeof(seen_detail), "%s", detail ? detail : "");
	return 0;
}

static const struct ca_authority_ops fake_ops = {
	.kind = "fake",
	.acme = fake_acme,
	.acme_validated = fake_validated,
};

struct loop {
	struct ca_authority	*a;
	int			 fd;
};

static void *
serve(void *arg)
{
	struct loop *l = arg;

	(void)ca_signer_serve(l->fd, l->a);
	close(l->fd);
	return NULL;
}

static void
test_relay(void)
{
	struct ca_acme_req q;
	struct ca_acme_resp r;
	struct ca_authority *fake = NULL;
	struct ca_signer *sg = NULL;
	char p[] = "acme", az[] = "AUTHZ", ch[] = "CHALL", t[] = "dns-01",
	    it[] = "dns", iv[] = "b.example", tok[] = "TOK", ka[] = "TOK.THUMB";
	struct ca_acme_job j = { p, az, ch, t, it, iv, tok, ka };
	struct loop l;
	pthread_t th;
	int sv[2];

	if (ca_authority_wrap(&fake_ops, NULL, &fake) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    ca_signer_new(&sv[0], 1, &sg) != 0) {
		printf("Bail out! relay set-up\n");
		exit(1);
	}
	l.a = fake;
	l.fd = sv[1];
	pthread_create(&th, NULL, serve, &l);
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.base = "https://ca.test:8443";
	q.path = "/acme/acme/new-order";
	q.content_type = "application/jose+json";
	q.body = (const unsigned char *)"{\"protected\":\"x\"}";
	q.body_len = 16;
	q.now = 1;
	is_int(ca_signer_acme(sg, &q, &r), 0, "relay: an ACME request");
	is_int(r.status, 201, "relay: the status");
	is_str(r.content_type, "application/problem+json",
	    "relay: the content type");
	is_str(r.body, "POST https://ca.test:8443/acme/acme/new-order "
	    "application/jose+json 16", "relay: the request as sent, the body");
	is_str(r.nonce, "NONCE", "relay: the nonce");
	is_str(r.location, "https://x.test/acme/acme/order/1",
	    "relay: the location");
	ok(r.n_links == 2 && strcmp(r.links[0],
	    "<https://x.test/a>;rel=\"up\"") == 0 &&
	    strcmp(r.links[1], "<https://x.test/d>;rel=\"index\"") == 0,
	    "relay: both links");
	is_int(r.retry_after, 3, "relay: Retry-After");
	ok(seen_now >= time(NULL) - 60, "relay: the signer's clock, not the "
	    "worker's \"now\"");
	ok(r.job != NULL && strcmp(r.job->challenge, "CHALL") == 0 &&
	    strcmp(r.job->id_value, "a.example") == 0 &&
	    strcmp(r.job->token, "TOKEN") == 0 && r.job->key_auth == NULL,
	    "relay: the job, an absent member absent");
	ca_acme_resp_free(&r);
	is_int(ca_signer_acme_validated(sg, &j, 0,
	    "urn:ietf:params:acme:error:connection", "refused\nhere", 2), 0,
	    "relay: a validation's outcome");
	ok(seen_job != NULL && strcmp(seen_job->key_auth, "TOK.THUMB") == 0 &&
	    strcmp(seen_job->type, "dns-01") == 0 && !seen_ok &&
	    strcmp(seen_detail, "refused\nhere") == 0,
	    "relay: the job and outcome as the worker sent them");
	ok(seen_vnow >= time(NULL) - 60, "relay: a validation's time is the "
	    "signer's, not the worker's");
	ca_acme_job_free(seen_job);
	ca_signer_free(sg);	/* closes the worker's end: the loop ends */
	pthread_join(th, NULL);
	ca_authority_close(fake);
}

/* Add the ACME provisioners to ca.json. */
static void
add_acme(const char *dir)
{
	char *path, *buf = NULL, *out;
	struct json_object *c = NULL, *auth, *provs;
	size_t len;

	path = ca_path_join(dir, "config/ca.json");
	if (ca_file_read(path, CA_MAX_CONFIG, &buf, &len) != 0 ||
	    ca_json_parse(buf, len, path, &c) != 0 ||
	    ca_json_object(c, "authority", 1, &auth) != 0 ||
	    ca_json_array(auth, "provisioners", 1, &provs) != 0) {
		printf("Bail out! %s\n", ca_errmsg());
		exit(1);
	}
	json_object_array_add(provs, json_tokener_parse(
	    "{\"type\":\"ACME\",\"name\":\"acme\","
	    "\"termsOfService\":\"https://ca.test/tos\"}"));
	json_object_array_add(provs, json_tokener_parse(
	    "{\"type\":\"ACME\",\"name\":\"eab\",\"requireEAB\":true}"));
	out = ca_json_dump_pretty(c);
	if (ca_file_publish(path, out, strlen(out), 0600, 0) != 0) {
		printf("Bail out! %s\n", ca_errmsg());
		exit(1);
	}
	free(out);
	free(buf);
	free(path);
	json_object_put(c);
}

int
main(void)
{
	char dir[4200], prov[4200];

	tmpdir_make("acme-a");
	test_nonces();
	test_relay();
	unit_ca_make(dir, sizeof(dir), prov, sizeof(prov));
	add_acme(dir);
	if (ca_authority_open(dir, NULL, &ca) != 0) {
		printf("Bail out! open: %s\n", ca_errmsg());
		return 1;
	}
	test_frame();
	test_accounts();
	test_cross_provisioner();
	test_eab_refusals();
	test_stale_account();
	ca_authority_close(ca);
	tmpdir_remove();
	return tap_done();
}

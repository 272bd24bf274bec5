/*
 * inspect.c - the views of ca-inspect. Each object (certificate, CSR,
 * token) is read once into a JSON model with step's field names (those
 * of `step certificate inspect --format json` and `step crypto jwt
 * inspect`), and the readable text is written alongside it, line by
 * line, each value through ca_text_escape so that a hostile name can
 * neither end a line nor forge one.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "client.h"
#include "inspect.h"
#include "jose.h"
#include "json.h"
#include "x509.h"

#define MAX_TEXT	(4 * 1024 * 1024)	/* the readable view */
#define MAX_SAN		1024			/* bytes of one name */

/* The view being built: the text, and the name of the input. */
struct view {
	char		*text;
	size_t		 len, cap;
	const char	*name;
	int		 failed;	/* out of memory or over MAX_TEXT */
};

static void
put(struct view *v, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if (v->failed)
		return;
	if (v->len + n + 1 > v->cap) {
		size_t cap = v->cap == 0 ? 4096 : v->cap;

		while (cap < v->len + n + 1)
			cap *= 2;
		if (cap > MAX_TEXT || (p = realloc(v->text, cap)) == NULL) {
			v->failed = 1;
			return;
		}
		v->text = p;
		v->cap = cap;
	}
	memcpy(v->text + v->len, s, n + 1);
	v->len += n;
}

/* "  label: value\n" with value escaped. */
static void
line(struct view *v, const char *label, const char *value)
{
	char *e;

	if ((e = ca_text_escape(value, NULL)) == NULL) {
		v->failed = 1;
		return;
	}
	put(v, "  ");
	put(v, label);
	put(v, ": ");
	put(v, e);
	put(v, "\n");
	free(e);
}

/*
 * A new JSON string of s; escaped as in the text view when it is not
 * UTF-8 (a name in a T61String, or forged), so that the JSON view is
 * always JSON. NULL: out of memory.
 */
static struct json_object *
jstr(const char *s)
{
	struct json_object *j;
	char *e = NULL;

	if (!ca_utf8_valid(s, strlen(s)) &&
	    (s = e = ca_text_escape(s, NULL)) == NULL)
		return NULL;
	j = json_object_new_string(s);
	free(e);
	return j;
}

static int
add_str(struct json_object *o, const char *key, const char *s)
{
	struct json_object *j;

	if ((j = jstr(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_object_add(o, key, j);
	return 0;
}

/* The member key of o, an array or an object, made if absent (borrowed). */
static struct json_object *
member(struct json_object *o, const char *key, int array)
{
	struct json_object *m;

	if (json_object_object_get_ex(o, key, &m))
		return m;
	if ((m = array ? json_object_new_array() :
	    json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, key, m);
	return m;
}
#define array_of(o, key)	member((o), (key), 1)
#define object_of(o, key)	member((o), (key), 0)

/* A DN (RFC 4514) as text; from gnutls, freed here. */
static int
dn(struct view *v, struct json_object *o, const char *label, const char *key,
    int ret, gnutls_datum_t *d)
{
	int rc;

	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		d->data = NULL;
	else if (ret < 0)
		return ca_err(CA_ERR_INVAL, "%s: %s: %s", v->name, key,
		    gnutls_strerror(ret));
	rc = add_str(o, key, d->data != NULL ? (const char *)d->data : "");
	line(v, label, d->data != NULL ? (const char *)d->data : "");
	gnutls_free(d->data);
	d->data = NULL;
	return rc;
}

/* The public key: algorithm, size, curve. */
static int
key_info(struct view *v, struct json_object *o, gnutls_pubkey_t pub)
{
	struct json_object *ki, *alg;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	unsigned bits = 0;
	const char *name, *cn = NULL;
	char buf[128];
	int pk;

	if ((pk = gnutls_pubkey_get_pk_algorithm(pub, &bits)) < 0)
		return ca_err(CA_ERR_INVAL, "%s: the key: %s", v->name,
		    gnutls_strerror(pk));
	switch (pk) {
	case GNUTLS_PK_RSA:
		name = "RSA";
		break;
	case GNUTLS_PK_ECDSA:
		name = "ECDSA";
		if (gnutls_pubkey_export_ecc_raw(pub, &curve, NULL, NULL) == 0)
			cn = curve == GNUTLS_ECC_CURVE_SECP256R1 ? "P-256" :
			    curve == GNUTLS_ECC_CURVE_SECP384R1 ? "P-384" :
			    curve == GNUTLS_ECC_CURVE_SECP521R1 ? "P-521" :
			    gnutls_ecc_curve_get_name(curve);
		break;
	case GNUTLS_PK_EDDSA_ED25519:
		name = "Ed25519";
		break;
	default:
		name = gnutls_pk_get_name(pk);
		break;
	}
	if (name == NULL)
		name = "unknown";
	if ((ki = object_of(o, "subject_key_info")) == NULL ||
	    (alg = object_of(ki, "key_algorithm")) == NULL ||
	    add_str(alg, "name", name) != 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_object_add(ki, "key_size", json_object_new_int(bits));
	if (cn != NULL && add_str(ki, "curve", cn) != 0)
		return CA_ERR_NOMEM;
	snprintf(buf, sizeof(buf), "%s %u bits%s%s", name, bits,
	    cn != NULL ? ", " : "", cn != NULL ? cn : "");
	line(v, "Key", buf);
	return 0;
}

/*
 * One subject alternative name of type t (a gnutls_x509_subject_alt_name_t)
 * in b (size bytes).
 */
static int
san(struct view *v, struct json_object *sans, int t, const char *b,
    size_t size)
{
	static const struct {
		int		 type;
		const char	*label, *key;
	} types[] = {
		{ GNUTLS_SAN_DNSNAME, "DNS", "dns_names" },
		{ GNUTLS_SAN_IPADDRESS, "IP", "ip_addresses" },
		{ GNUTLS_SAN_RFC822NAME, "Email", "email_addresses" },
		{ GNUTLS_SAN_URI, "URI", "uniform_resource_identifiers" },
	};
	char ip[INET6_ADDRSTRLEN], label[32];
	struct json_object *a, *j;
	const char *s = b;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		snprintf(label, sizeof(label), "SAN (type %d)", t);
		line(v, label, "(not shown)");
		return 0;
	}
	if (t == GNUTLS_SAN_IPADDRESS) {
		if ((size != 4 && size != 16) || inet_ntop(size == 4 ?
		    AF_INET : AF_INET6, b, ip, sizeof(ip)) == NULL)
			return ca_err(CA_ERR_INVAL, "%s: a bad IP address SAN",
			    v->name);
		s = ip;
	} else if (memchr(b, '\0', size) != NULL)
		return ca_err(CA_ERR_INVAL, "%s: a SAN with a NUL byte",
		    v->name);
	snprintf(label, sizeof(label), "SAN %s", types[i].label);
	line(v, label, s);
	if ((a = array_of(sans, types[i].key)) == NULL || (j = jstr(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_array_add(a, j);
	return 0;
}

/*
 * The SANs of crt, or of crq when crt is NULL, into
 * extensions.subject_alt_name.
 */
static int
sans(struct view *v, struct json_object *o, gnutls_x509_crt_t crt,
    gnutls_x509_crq_t crq)
{
	struct json_object *ext, *sa;
	char b[MAX_SAN + 1];
	unsigned i, crit, t;
	size_t size;
	int ret, rc;

	if ((ext = object_of(o, "extensions")) == NULL ||
	    (sa = object_of(ext, "subject_alt_name")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0;; i++) {
		if (i == CA_INSPECT_MAX_ITEMS)
			return ca_err(CA_ERR_TOOBIG, "%s: more than %d SANs",
			    v->name, CA_INSPECT_MAX_ITEMS);
		size = MAX_SAN;
		if (crt != NULL)
			ret = gnutls_x509_crt_get_subject_alt_name(crt, i, b,
			    &size, &crit);
		else {
			ret = gnutls_x509_crq_get_subject_alt_name(crq, i, b,
			    &size, &t, &crit);
			if (ret >= 0)
				ret = (int)t;
		}
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (ret < 0)
			return ca_err(CA_ERR_INVAL, "%s: SAN %u: %s", v->name,
			    i + 1, gnutls_strerror(ret));
		b[size < MAX_SAN ? size : MAX_SAN] = '\0';
		if ((rc = san(v, sa, ret, b, size)) != 0)
			return rc;
	}
}

/* Append ", s" (or s to an empty list) to text, cut at size. */
static void
list_add(char *text, size_t size, const char *s)
{
	size_t n = strlen(text);

	snprintf(text + n, size - n, "%s%s", n > 0 ? ", " : "", s);
}

/* Key usage, extended key usage, basic constraints. */
static int
usages(struct view *v, struct json_object *ext, gnutls_x509_crt_t crt)
{
	static const struct {
		unsigned	 bit;
		const char	*key, *label;
	} ku[] = {
		{ GNUTLS_KEY_DIGITAL_SIGNATURE, "digital_signature",
		    "digitalSignature" },
		{ GNUTLS_KEY_NON_REPUDIATION, "content_commitment",
		    "nonRepudiation" },
		{ GNUTLS_KEY_KEY_ENCIPHERMENT, "key_encipherment",
		    "keyEncipherment" },
		{ GNUTLS_KEY_DATA_ENCIPHERMENT, "data_encipherment",
		    "dataEncipherment" },
		{ GNUTLS_KEY_KEY_AGREEMENT, "key_agreement", "keyAgreement" },
		{ GNUTLS_KEY_KEY_CERT_SIGN, "certificate_sign", "keyCertSign" },
		{ GNUTLS_KEY_CRL_SIGN, "crl_sign", "cRLSign" },
		{ GNUTLS_KEY_ENCIPHER_ONLY, "encipher_only", "encipherOnly" },
		{ GNUTLS_KEY_DECIPHER_ONLY, "decipher_only", "decipherOnly" },
	};
	static const struct {
		const char	*oid, *key, *label;
	} eku[] = {
		{ GNUTLS_KP_TLS_WWW_SERVER, "server_auth", "serverAuth" },
		{ GNUTLS_KP_TLS_WWW_CLIENT, "client_auth", "clientAuth" },
		{ GNUTLS_KP_CODE_SIGNING, "code_signing", "codeSigning" },
		{ GNUTLS_KP_EMAIL_PROTECTION, "email_protection",
		    "emailProtection" },
		{ GNUTLS_KP_TIME_STAMPING, "time_stamping", "timeStamping" },
		{ GNUTLS_KP_OCSP_SIGNING, "ocsp_signing", "OCSPSigning" },
	};
	struct json_object *o;
	char text[512], oid[128];
	unsigned bits, crit, ca;
	size_t i, k, size;
	int ret, pathlen;

	text[0] = '\0';
	if ((ret = gnutls_x509_crt_get_key_usage(crt, &bits, &crit)) >= 0) {
		if ((o = object_of(ext, "key_usage")) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		for (i = 0; i < sizeof(ku) / sizeof(ku[0]); i++) {
			if (!(bits & ku[i].bit))
				continue;
			json_object_object_add(o, ku[i].key,
			    json_object_new_boolean(1));
			list_add(text, sizeof(text), ku[i].label);
		}
		line(v, crit ? "Key usage (critical)" : "Key usage", text);
	}
	text[0] = '\0';
	for (k = 0;; k++) {
		if (k == CA_INSPECT_MAX_ITEMS)
			return ca_err(CA_ERR_TOOBIG, "%s: more than %d key "
			    "purposes", v->name, CA_INSPECT_MAX_ITEMS);
		size = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(crt, k, oid, &size,
		    &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return ca_err(CA_ERR_INVAL, "%s: key purpose: %s",
			    v->name, gnutls_strerror(ret));
		if ((o = object_of(ext, "extended_key_usage")) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		for (i = 0; i < sizeof(eku) / sizeof(eku[0]); i++)
			if (strcmp(oid, eku[i].oid) == 0)
				break;
		json_object_object_add(o, i < sizeof(eku) / sizeof(eku[0]) ?
		    eku[i].key : oid, json_object_new_boolean(1));
		list_add(text, sizeof(text), i < sizeof(eku) / sizeof(eku[0]) ?
		    eku[i].label : oid);
	}
	if (k > 0)
		line(v, "Extended key usage", text);
	ret = gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, &pathlen);
	if (ret >= 0) {
		if ((o = object_of(ext, "basic_constraints")) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		json_object_object_add(o, "is_ca", json_object_new_boolean(ca));
		if (pathlen >= 0)
			json_object_object_add(o, "max_path_len",
			    json_object_new_int(pathlen));
		snprintf(text, sizeof(text), "CA:%s", ca ? "TRUE" : "FALSE");
		if (ca && pathlen >= 0)
			snprintf(text, sizeof(text), "CA:TRUE, pathlen:%d",
			    pathlen);
		line(v, "Basic constraints", text);
	}
	return 0;
}

static int
certificate(struct view *v, gnutls_x509_crt_t crt, time_t now,
    struct json_object *o)
{
	struct json_object *val, *ext;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { NULL, 0 };
	unsigned char sn[64];
	size_t snlen = sizeof(sn);
	char *hex = NULL, *dec = NULL, *fp = NULL, t[64], left[48], buf[128];
	const char *sig;
	time_t nb, na;
	int rc, ret;

	put(v, "Certificate\n");
	if ((rc = add_str(o, "type", "certificate")) != 0)
		goto out;
	json_object_object_add(o, "version",
	    json_object_new_int(gnutls_x509_crt_get_version(crt)));
	if ((rc = dn(v, o, "Subject", "subject_dn",
	    gnutls_x509_crt_get_dn3(crt, &d, 0), &d)) != 0 ||
	    (rc = dn(v, o, "Issuer", "issuer_dn",
	    gnutls_x509_crt_get_issuer_dn3(crt, &d, 0), &d)) != 0)
		goto out;
	if ((ret = gnutls_x509_crt_get_serial(crt, sn, &snlen)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: the serial: %s", v->name,
		    gnutls_strerror(ret));
		goto out;
	}
	if ((hex = ca_hex(sn, snlen)) == NULL ||
	    (dec = ca_serial_decimal(sn, snlen)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	line(v, "Serial", hex);
	if ((rc = add_str(o, "serial_number", dec)) != 0 ||
	    (rc = add_str(o, "serial_number_hex", hex)) != 0)
		goto out;
	nb = gnutls_x509_crt_get_activation_time(crt);
	na = gnutls_x509_crt_get_expiration_time(crt);
	if (nb == (time_t)-1 || na == (time_t)-1) {
		rc = ca_err(CA_ERR_INVAL, "%s: a bad validity period",
		    v->name);
		goto out;
	}
	if ((val = object_of(o, "validity")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	ca_time_format(nb, t, sizeof(t));
	line(v, "Not before", t);
	add_str(val, "start", t);
	ca_time_format(na, t, sizeof(t));
	add_str(val, "end", t);
	json_object_object_add(val, "length",
	    json_object_new_int64((int64_t)na - nb));
	json_object_object_add(val, "remaining",
	    json_object_new_int64((int64_t)na - now));
	if (now < na) {
		ca_duration_format((int64_t)na - now, left, sizeof(left));
		snprintf(buf, sizeof(buf), "%s (%s left)", t, left);
	} else {
		ca_duration_format((int64_t)now - na, left, sizeof(left));
		snprintf(buf, sizeof(buf), "%s (expired %s ago)", t, left);
	}
	line(v, "Not after", buf);
	if ((rc = sans(v, o, crt, NULL)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: the key: %s", v->name,
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = key_info(v, o, pub)) != 0)
		goto out;
	if ((ext = object_of(o, "extensions")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = usages(v, ext, crt)) != 0)
		goto out;
	ret = gnutls_x509_crt_get_signature_algorithm(crt);
	sig = ret >= 0 ? gnutls_sign_get_name(ret) : NULL;
	if (sig == NULL)
		sig = "unknown";
	line(v, "Signature algorithm", sig);
	if ((val = object_of(o, "signature_algorithm")) == NULL ||
	    (rc = add_str(val, "name", sig)) != 0 ||
	    (rc = ca_x509_fingerprint(crt, &fp)) != 0)
		goto out;
	line(v, "SHA-256 fingerprint", fp);
	rc = add_str(o, "fingerprint_sha256", fp);
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	free(hex);
	free(dec);
	free(fp);
	return rc;
}

static int
request(struct view *v, gnutls_x509_crq_t crq, struct json_object *o)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { NULL, 0 };
	int rc, ret;

	put(v, "Certificate request\n");
	if ((rc = add_str(o, "type", "certificate_request")) != 0 ||
	    (rc = dn(v, o, "Subject", "subject_dn",
	    gnutls_x509_crq_get_dn3(crq, &d, 0), &d)) != 0 ||
	    (rc = sans(v, o, NULL, crq)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: the key: %s", v->name,
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = key_info(v, o, pub)) != 0)
		goto out;
	ret = gnutls_x509_crq_verify(crq, 0);
	line(v, "Signature", ret >= 0 ? "valid" : "INVALID");
	json_object_object_add(o, "signature_valid",
	    json_object_new_boolean(ret >= 0));
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return rc;
}

/* The members of a token's header or claims, one line each. */
static int
members(struct view *v, struct json_object *j, const char *title)
{
	struct json_object_iterator it, end;
	struct json_object *m;
	const char *k, *s;
	char label[80], t[32], buf[64];
	char *dump;

	put(v, "  ");
	put(v, title);
	put(v, ":\n");
	it = json_object_iter_begin(j);
	end = json_object_iter_end(j);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		m = json_object_iter_peek_value(&it);
		if ((dump = ca_text_escape(k, ":")) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		snprintf(label, sizeof(label), "  %.70s", dump);
		free(dump);
		dump = NULL;
		if (json_object_is_type(m, json_type_string))
			s = json_object_get_string(m);
		else if ((s = dump = ca_json_dump(m)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		/* The registered times (RFC 7519) as dates too. */
		if (json_object_is_type(m, json_type_int) &&
		    (strcmp(k, "exp") == 0 || strcmp(k, "nbf") == 0 ||
		    strcmp(k, "iat") == 0)) {
			ca_time_format((time_t)json_object_get_int64(m), t,
			    sizeof(t));
			snprintf(buf, sizeof(buf), "%s (%s)", s, t);
			s = buf;
		}
		line(v, label, s);
		free(dump);
	}
	return 0;
}

/* Part i of a token (header or claims): base64url of a JSON object. */
static int
token_part(struct view *v, const char *p, size_t n, const char *what,
    struct json_object **out)
{
	unsigned char *b = NULL;
	size_t blen;
	int rc;

	*out = NULL;
	if (ca_b64url_decode(p, n, &b, &blen) != 0)
		return ca_err(CA_ERR_INVAL, "%s: the token's %s is not "
		    "base64url", v->name, what);
	rc = ca_json_parse((const char *)b, blen, what, out);
	free(b);
	if (rc == 0 && !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		rc = ca_err(CA_ERR_INVAL, "%s: the token's %s is not a JSON "
		    "object", v->name, what);
	}
	return rc;
}

static int
token(struct view *v, const char *s, size_t len, struct json_object *o)
{
	struct json_object *h = NULL, *c = NULL, *sig;
	const char *d1, *d2;
	int rc;

	d1 = memchr(s, '.', len);
	d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (d1 + 1 - s)) : NULL;
	put(v, "Token (JWT; signature NOT verified)\n");
	if ((rc = token_part(v, s, d1 - s, "header", &h)) != 0 ||
	    (rc = token_part(v, d1 + 1, d2 - d1 - 1, "claims", &c)) != 0)
		goto out;
	if ((rc = members(v, h, "Header")) != 0 ||
	    (rc = members(v, c, "Claims")) != 0)
		goto out;
	if ((rc = add_str(o, "type", "token")) != 0)
		goto out;
	json_object_object_add(o, "verified", json_object_new_boolean(0));
	json_object_object_add(o, "header", h);
	json_object_object_add(o, "payload", c);
	h = c = NULL;
	if ((sig = json_object_new_string_len(d2 + 1,
	    (int)(len - (size_t)(d2 + 1 - s)))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_object_object_add(o, "signature", sig);
out:
	json_object_put(h);
	json_object_put(c);
	return rc;
}

/* Whether buf (trailing white space cut to len) is a compact JWS. */
static int
is_token(const char *buf, size_t len)
{
	size_t i, dots = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '.')
			dots++;
		else if (!(buf[i] >= 'A' && buf[i] <= 'Z') &&
		    !(buf[i] >= 'a' && buf[i] <= 'z') &&
		    !(buf[i] >= '0' && buf[i] <= '9') &&
		    buf[i] != '-' && buf[i] != '_')
			return 0;
	}
	return dots == 2;
}

/* One certificate (CSR when csr) in DER or a PEM block. */
static int
object(struct view *v, const char *p, size_t n, gnutls_x509_crt_fmt_t fmt,
    int csr, time_t now, struct json_object *o)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)p, (unsigned)n };
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_crq_t crq = NULL;
	int rc, ret;

	if (!csr) {
		if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
		    (ret = gnutls_x509_crt_import(crt, &d, fmt)) < 0)
			rc = ca_err(CA_ERR_INVAL, "%s: not a certificate: %s",
			    v->name, gnutls_strerror(ret));
		else
			rc = certificate(v, crt, now, o);
	} else {
		if ((ret = gnutls_x509_crq_init(&crq)) < 0 ||
		    (ret = gnutls_x509_crq_import(crq, &d, fmt)) < 0)
			rc = ca_err(CA_ERR_INVAL, "%s: not a CSR: %s",
			    v->name, gnutls_strerror(ret));
		else
			rc = request(v, crq, o);
	}
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	return rc;
}

/*
 * Each PEM block of buf into the array all; only_first stops after the
 * first certificate.
 */
static int
pem_blocks(struct view *v, const char *buf, time_t now, int only_first,
    struct json_object *all)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	const char *p = buf, *label, *le, *end;
	struct json_object *o;
	char endline[96];
	size_t n = 0, ll;
	int rc, csr;

	while ((p = strstr(p, begin)) != NULL) {
		if (n == CA_INSPECT_MAX_BLOCKS)
			return ca_err(CA_ERR_TOOBIG, "%s: more than %d PEM "
			    "blocks", v->name, CA_INSPECT_MAX_BLOCKS);
		label = p + strlen(begin);
		if ((le = strstr(label, dashes)) == NULL ||
		    (ll = (size_t)(le - label)) > 64 ||
		    memchr(label, '\n', ll) != NULL)
			return ca_err(CA_ERR_INVAL, "%s: a bad PEM header",
			    v->name);
		snprintf(endline, sizeof(endline), "-----END %.*s-----",
		    (int)ll, label);
		if ((end = strstr(le, endline)) == NULL)
			return ca_err(CA_ERR_INVAL, "%s: PEM block %zu has no "
			    "END line", v->name, n + 1);
		end += strlen(endline);
		if (ll == 11 && memcmp(label, "CERTIFICATE", 11) == 0)
			csr = 0;
		else if ((ll == 19 && memcmp(label, "CERTIFICATE REQUEST",
		    19) == 0) || (ll == 23 && memcmp(label,
		    "NEW CERTIFICATE REQUEST", 23) == 0))
			csr = 1;
		else
			return ca_err(CA_ERR_INVAL, "%s: PEM block %zu is not "
			    "a certificate or CSR", v->name, n + 1);
		if (only_first && csr)
			return ca_err(CA_ERR_INVAL, "%s: a CSR, not a "
			    "certificate", v->name);
		if (n > 0)
			put(v, "\n");
		if ((o = json_object_new_object()) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		json_object_array_add(all, o);
		if ((rc = object(v, p, (size_t)(end - p), GNUTLS_X509_FMT_PEM,
		    csr, now, o)) != 0)
			return rc;
		n++;
		p = end;
		if (only_first)
			break;
	}
	if (n == 0)
		return ca_err(CA_ERR_INVAL, "%s: no PEM block", v->name);
	return 0;
}

/* The model of everything in buf, an array, into *all. */
static int
model(struct view *v, const char *buf, size_t len, time_t now,
    int only_first, struct json_object **all)
{
	struct json_object *o;
	size_t n = len;
	int rc;

	if ((*all = json_object_new_array()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (len > CA_INSPECT_MAX_FILE)
		return ca_err(CA_ERR_TOOBIG, "%s: larger than %d bytes",
		    v->name, CA_INSPECT_MAX_FILE);
	if (memchr(buf, '\0', len) == NULL && strstr(buf, "-----BEGIN ") !=
	    NULL)
		return pem_blocks(v, buf, now, only_first, *all);
	if ((o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_array_add(*all, o);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n > 0 && is_token(buf, n)) {
		if (only_first)
			return ca_err(CA_ERR_INVAL, "%s: a token, not a "
			    "certificate", v->name);
		return token(v, buf, n, o);
	}
	/* DER: a certificate, else a CSR. */
	if ((rc = object(v, buf, len, GNUTLS_X509_FMT_DER, 0, now, o)) == 0)
		return 0;
	if (only_first)
		return rc;
	json_object_put(*all);
	if ((*all = json_object_new_array()) == NULL ||
	    (o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_array_add(*all, o);
	v->len = 0;
	if (object(v, buf, len, GNUTLS_X509_FMT_DER, 1, now, o) == 0)
		return 0;
	return ca_err(CA_ERR_INVAL, "%s: not a certificate, CSR or token "
	    "(PEM, DER or JWT)", v->name);
}

int
ca_inspect(const char *buf, size_t len, const char *name, time_t now,
    int json, char **out)
{
	struct view v = { NULL, 0, 0, name, 0 };
	struct json_object *all = NULL;
	int rc;

	*out = NULL;
	if ((rc = model(&v, buf, len, now, 0, &all)) != 0)
		goto out;
	if (json) {
		*out = ca_json_dump_pretty(json_object_array_length(all) == 1 ?
		    json_object_array_get_idx(all, 0) : all);
		if (*out == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (v.failed) {
		rc = ca_err(CA_ERR_TOOBIG, "%s: the view is too large", name);
		goto out;
	}
	*out = v.text;
	v.text = NULL;
out:
	json_object_put(all);
	free(v.text);
	return rc;
}

int
ca_inspect_due(const char *buf, size_t len, const char *name,
    int64_t expires_in, time_t now)
{
	struct view v = { NULL, 0, 0, name, 0 };
	struct json_object *all = NULL, *o, *val;
	const char *s;
	time_t nb, na;
	int64_t left;
	int rc;

	if ((rc = model(&v, buf, len, now, 1, &all)) != 0)
		goto out;
	o = json_object_array_get_idx(all, 0);
	if (!json_object_object_get_ex(o, "validity", &val) ||
	    ca_json_string(val, "start", 1, &s) != 0 ||
	    ca_time_parse(s, now, &nb) != 0 ||
	    ca_json_string(val, "end", 1, &s) != 0 ||
	    ca_time_parse(s, now, &na) != 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: no validity period", name);
		goto out;
	}
	rc = ca_client_due(nb, na, expires_in, now, &left);
out:
	json_object_put(all);
	free(v.text);
	return rc;
}

/*
 * x509.c - certificate profiles, CSRs, names and serial numbers.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/x509-ext.h>

#include "ca.h"
#include "keys.h"
#include "goodkey.h"
#include "x509.h"

#define OID_SAN "2.5.29.17"
#define CSR_MAX_CN 8

static int
tls_fail(int ret, const char *what)
{
	return ca_err(CA_ERR_CRYPTO, "%s: %s", what, gnutls_strerror(ret));
}

/* Names */

static int
valid_dns(const char *s)
{
	size_t len = strlen(s), label = 0, i = 0;

	if (len == 0 || len > 253)
		return 0;
	if (strncmp(s, "*.", 2) == 0)
		i = 2;		/* a wildcard as the whole leftmost label */
	if (s[i] == '\0')
		return 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

static int
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
has_scheme(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':' && p > s;
}

static int
canon_ip(const char *s, char *out, size_t outlen)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, s, b) == 1)
		return inet_ntop(AF_INET, b, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, s, b) == 1)
		return inet_ntop(AF_INET6, b, out, (socklen_t)outlen) != NULL;
	return 0;
}

static int
add_name(char ***list, size_t *n, const char *s, int casefold)
{
	char **nl;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((casefold ? strcasecmp((*list)[i], s) : strcmp((*list)[i], s)) == 0)
			return 0;
	if ((nl = reallocarray(*list, *n + 1, sizeof(char *))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	*list = nl;
	if ((nl[*n] = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	(*n)++;
	return 0;
}

int
ca_names_classify(const char *const *sans, size_t n, struct ca_names *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *s, *at;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n && rc == 0; i++) {
		s = sans[i];
		if (s[0] == '\0' || strlen(s) > 1024) {
			rc = ca_err(CA_ERR_INVAL, "empty or overlong name");
			break;
		}
		if (canon_ip(s, ip, sizeof(ip)))
			rc = add_name(&out->ip, &out->n_ip, ip, 0);
		else if (has_scheme(s)) {
			if (!printable_ascii(s))
				rc = ca_err(CA_ERR_INVAL, "invalid URI name '%s'", s);
			else
				rc = add_name(&out->uri, &out->n_uri, s, 0);
		} else if ((at = strchr(s, '@')) != NULL) {
			if (!printable_ascii(s) || at == s ||
			    strchr(at + 1, '@') != NULL || !valid_dns(at + 1))
				rc = ca_err(CA_ERR_INVAL,
				    "invalid e-mail name '%s'", s);
			else
				rc = add_name(&out->email, &out->n_email, s, 0);
		} else if (!valid_dns(s))
			rc = ca_err(CA_ERR_INVAL, "invalid DNS name '%s'", s);
		else
			rc = add_name(&out->dns, &out->n_dns, s, 1);
	}
	if (rc != 0)
		ca_names_free(out);
	return rc;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void
ca_names_free(struct ca_names *nm)
{
	if (nm == NULL)
		return;
	free_list(nm->dns, nm->n_dns);
	free_list(nm->ip, nm->n_ip);
	free_list(nm->email, nm->n_email);
	free_list(nm->uri, nm->n_uri);
	memset(nm, 0, sizeof(*nm));
}

size_t
ca_names_count(const struct ca_names *nm)
{
	return nm->n_dns + nm->n_ip + nm->n_email + nm->n_uri;
}

int
ca_x509_cn_check(const char *cn)
{
	const unsigned char *p = (const unsigned char *)cn;
	size_t chars = 0;
	int follow = 0;

	for (; *p != '\0'; p++) {
		if (follow > 0) {
			if ((*p & 0xc0) != 0x80)
				goto utf8;
			follow--;
			continue;
		}
		chars++;
		if (*p < 0x20 || *p == 0x7f)
			return ca_err(CA_ERR_INVAL, "subject holds the control "
			    "character 0x%02x", *p);
		if (*p < 0x80)
			continue;
		/* C1 controls (U+0080 to U+009F) are refused too. */
		if (*p == 0xc2 && (p[1] & 0xe0) == 0x80)
			return ca_err(CA_ERR_INVAL, "subject holds the control "
			    "character U+%04X", p[1]);
		if (*p >= 0xc2 && *p <= 0xdf)
			follow = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			follow = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			follow = 3;
		else
			goto utf8;
	}
	if (follow > 0)
		goto utf8;
	if (chars == 0)
		return ca_err(CA_ERR_INVAL, "subject is empty");
	if (chars > CA_CN_MAX)
		return ca_err(CA_ERR_INVAL, "subject is %zu characters long: at "
		    "most %d (RFC 5280 ub-common-name)", chars, CA_CN_MAX);
	return 0;
utf8:
	return ca_err(CA_ERR_INVAL, "subject is not UTF-8");
}

const char *
ca_names_at(const struct ca_names *nm, size_t i, const char **type)
{
	const struct {
		char *const	*v;
		size_t		 n;
		const char	*type;
	} all[] = {
		{ nm->dns, nm->n_dns, "dns" }, { nm->ip, nm->n_ip, "ip" },
		{ nm->email, nm->n_email, "email" }, { nm->uri, nm->n_uri, "uri" },
	};
	size_t k;

	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
		if (i < all[k].n) {
			if (type != NULL)
				*type = all[k].type;
			return all[k].v[i];
		}
		i -= all[k].n;
	}
	return NULL;
}

char *
ca_names_text(const struct ca_names *nm)
{
	const char *name;
	char *out, *e;
	size_t i, len = 0, cap = 64;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; (name = ca_names_at(nm, i, NULL)) != NULL; i++) {
		size_t el;
		if ((e = ca_text_escape(name, ",")) == NULL)
			goto fail;
		el = strlen(e);
		if (len + el + 2 > cap) {
			char *t;
			cap = (len + el + 2) * 2;
			if ((t = realloc(out, cap)) == NULL) {
				free(e);
				goto fail;
			}
			out = t;
		}
		if (i > 0)
			out[len++] = ',';
		memcpy(out + len, e, el + 1);
		len += el;
		free(e);
	}
	return out;
fail:
	free(out);
	return NULL;
}

/* Serials */

int
ca_serial_generate(unsigned char *buf, size_t *len)
{
	int ret;

	if ((ret = gnutls_rnd(GNUTLS_RND_RANDOM, buf, 17)) < 0)
		return tls_fail(ret, "random serial");
	/* First octet in 0x40..0x7f: positive, minimal, always 17 octets. */
	buf[0] = (unsigned char)((buf[0] & 0x3f) | 0x40);
	*len = 17;
	return 0;
}

char *
ca_serial_decimal(const unsigned char *p, size_t len)
{
	unsigned char num[CA_SERIAL_MAX + 1];
	char digits[64], *s;
	size_t nd = 0, i, start = 0;

	if (len > CA_SERIAL_MAX + 1)
		return NULL;
	memcpy(num, p, len);
	/* Repeated division by 10 of the big-endian number. */
	for (;;) {
		unsigned rem = 0;
		int zero = 1;
		for (i = start; i < len; i++) {
			unsigned cur = rem * 256 + num[i];
			num[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
			if (num[i] != 0)
				zero = 0;
		}
		digits[nd++] = (char)('0' + rem);
		if (zero || nd >= sizeof(digits) - 1)
			break;
		while (start < len && num[start] == 0)
			start++;
	}
	if ((s = malloc(nd + 1)) == NULL)
		return NULL;
	for (i = 0; i < nd; i++)
		s[i] = digits[nd - 1 - i];
	s[nd] = '\0';
	return s;
}

int
ca_serial_canon(const char *s, char **hex)
{
	unsigned char num[CA_SERIAL_MAX + 1];
	char digits[2 * (CA_SERIAL_MAX + 1) + 1];
	size_t n = 0, i, len;
	int is_hex = 0;
	const char *p;

	*hex = NULL;
	if (strncasecmp(s, "0x", 2) == 0) {
		is_hex = 1;
		s += 2;
	} else
		for (p = s; *p != '\0'; p++)
			if (strchr("abcdefABCDEF:", *p) != NULL)
				is_hex = 1;
	if (*s == '\0')
		goto bad;
	memset(num, 0, sizeof(num));
	if (is_hex) {
		for (p = s; *p != '\0'; p++) {
			if (*p == ':')
				continue;
			if (!isxdigit((unsigned char)*p) || n + 1 >= sizeof(digits))
				goto bad;
			digits[n++] = (char)tolower((unsigned char)*p);
		}
		digits[n] = '\0';
		/* strip leading zeros (keep one digit) */
		for (i = 0; i + 1 < n && digits[i] == '0'; i++)
			;
		if (n - i > 2 * CA_SERIAL_MAX + 2)
			goto range;
		/* even number of digits; minimal DER needs a 0 byte if MSB set */
		p = digits + i;
		len = strlen(p);
		if (asprintf(hex, "%s%s", len % 2 ? "0" : "", p) < 0)
			return ca_err(CA_ERR_NOMEM, "out of memory");
	} else {
		for (p = s; *p != '\0'; p++) {
			unsigned carry;
			if (!isdigit((unsigned char)*p))
				goto bad;
			carry = (unsigned)(*p - '0');
			for (i = sizeof(num); i > 0; i--) {
				unsigned cur = num[i - 1] * 10u + carry;
				num[i - 1] = (unsigned char)cur;
				carry = cur >> 8;
			}
			if (carry)
				goto range;
		}
		for (i = 0; i + 1 < sizeof(num) && num[i] == 0; i++)
			;
		if ((*hex = ca_hex(num + i, sizeof(num) - i)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	/* A serial whose first octet has the top bit set is stored with a 00. */
	if (strlen(*hex) >= 2 && strchr("89abcdef", (*hex)[0]) != NULL) {
		char *t;
		if (asprintf(&t, "00%s", *hex) < 0) {
			free(*hex);
			*hex = NULL;
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		free(*hex);
		*hex = t;
	}
	if (strlen(*hex) > 2 * CA_SERIAL_MAX) {
		free(*hex);
		*hex = NULL;
		goto range;
	}
	return 0;
bad:
	return ca_err(CA_ERR_INVAL,
	    "invalid serial number '%s' (decimal, or hex with 0x)", s);
range:
	return ca_err(CA_ERR_INVAL, "serial number '%s' is too long", s);
}

/* Certificates */

int
ca_x509_import(const void *buf, size_t len, gnutls_x509_crt_t *out)
{
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	d.data = (unsigned char *)(uintptr_t)buf;
	d.size = (unsigned)len;
	if ((ret = gnutls_x509_crt_init(out)) < 0)
		return tls_fail(ret, "certificate");
	ret = gnutls_x509_crt_import(*out, &d, memmem(buf, len, "-----BEGIN", 10)
	    != NULL ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		return ca_err(CA_ERR_INVAL, "cannot parse certificate: %s",
		    gnutls_strerror(ret));
	}
	return 0;
}

int
ca_x509_load(const char *path, gnutls_x509_crt_t *out)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = ca_file_read(path, CA_MAX_CERT, &buf, &len)) != 0)
		return rc;
	if ((rc = ca_x509_import(buf, len, out)) != 0)
		ca_err_context("%s", path);
	free(buf);
	return rc;
}

int
ca_x509_export(gnutls_x509_crt_t crt, gnutls_x509_crt_fmt_t fmt,
    gnutls_datum_t *out)
{
	int ret;

	if ((ret = gnutls_x509_crt_export2(crt, fmt, out)) < 0)
		return tls_fail(ret, "exporting certificate");
	return 0;
}

int
ca_x509_fingerprint(gnutls_x509_crt_t crt, char **hex)
{
	unsigned char fp[32];
	gnutls_datum_t der = { NULL, 0 };
	int ret;

	/*
	 * The SHA-256 of the DER: gnutls_x509_crt_get_fingerprint() encodes
	 * the certificate again (170,000 instructions, as much as the rest
	 * of opening the state directory), while export hands out the DER
	 * it was imported from.
	 */
	*hex = NULL;
	if ((ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    &der)) < 0)
		return tls_fail(ret, "fingerprint");
	ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, fp);
	gnutls_free(der.data);
	if (ret < 0)
		return tls_fail(ret, "fingerprint");
	if ((*hex = ca_hex(fp, sizeof(fp))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/*
 * GnuTLS fills some caches of a certificate (names, raw DNs) only on
 * import; hand out a re-imported object so that it behaves like one read
 * from a file.
 */
static int
reimport(gnutls_x509_crt_t *crt)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t n = NULL;
	int ret;

	if ((ret = gnutls_x509_crt_export2(*crt, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (ret = gnutls_x509_crt_init(&n)) < 0 ||
	    (ret = gnutls_x509_crt_import(n, &der, GNUTLS_X509_FMT_DER)) < 0) {
		gnutls_free(der.data);
		if (n != NULL)
			gnutls_x509_crt_deinit(n);
		return tls_fail(ret, "certificate");
	}
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(*crt);
	*crt = n;
	return 0;
}

static int
set_key_ids(gnutls_x509_crt_t crt, gnutls_pubkey_t pub,
    const struct ca_issuer *parent)
{
	unsigned char id[64];
	size_t size = sizeof(id);
	int ret;

	if ((ret = gnutls_pubkey_get_key_id(pub, 0, id, &size)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_key_id(crt, id, size)) < 0)
		return tls_fail(ret, "subject key identifier");
	if (parent == NULL)
		return 0;
	size = sizeof(id);
	if ((ret = gnutls_x509_crt_get_subject_key_id(parent->crt, id, &size,
	    NULL)) < 0 ||
	    (ret = gnutls_x509_crt_set_authority_key_id(crt, id, size)) < 0)
		return tls_fail(ret, "authority key identifier");
	return 0;
}

/* A CA's subject and extensions from a template's profile. */
static int
set_ca_profile(gnutls_x509_crt_t crt, const struct ca_leaf_profile *pr)
{
	size_t i;
	int ret;

	for (i = 0; i < pr->n_subject; i++)
		if ((ret = gnutls_x509_crt_set_dn_by_oid(crt,
		    pr->subject[i].oid, 1, pr->subject[i].der,
		    (unsigned)pr->subject[i].len)) < 0)
			return tls_fail(ret, "subject");
	for (i = 0; i < pr->n_ext; i++)
		if ((ret = gnutls_x509_crt_set_extension_by_oid(crt,
		    pr->ext[i].oid, pr->ext[i].der, pr->ext[i].len,
		    pr->ext[i].critical)) < 0)
			return tls_fail(ret, "extension");
	return 0;
}

static int make_ca(gnutls_privkey_t, const char *, const char *, int,
    const struct ca_leaf_profile *, time_t, time_t,
    const struct ca_issuer *, gnutls_x509_crt_t *);

int
ca_x509_make_ca(gnutls_privkey_t key, const char *org, const char *cn,
    int pathlen, time_t not_before, time_t not_after,
    const struct ca_issuer *parent, gnutls_x509_crt_t *out)
{
	return make_ca(key, org, cn, pathlen, NULL, not_before, not_after,
	    parent, out);
}

int
ca_x509_make_ca_profile(gnutls_privkey_t key,
    const struct ca_leaf_profile *pr, time_t not_before, time_t not_after,
    const struct ca_issuer *parent, gnutls_x509_crt_t *out)
{
	return make_ca(key, NULL, NULL, 0, pr, not_before, not_after, parent,
	    out);
}

static int
make_ca(gnutls_privkey_t key, const char *org, const char *cn, int pathlen,
    const struct ca_leaf_profile *pr, time_t not_before, time_t not_after,
    const struct ca_issuer *parent, gnutls_x509_crt_t *out)
{
	unsigned char serial[CA_SERIAL_MAX];
	size_t slen;
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int ret, rc;

	*out = NULL;
	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0) {
		rc = tls_fail(ret, "CA certificate");
		goto out;
	}
	if ((rc = ca_serial_generate(serial, &slen)) != 0)
		goto out;
	if (pr != NULL) {
		if ((ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
		    (ret = gnutls_x509_crt_set_serial(crt, serial, slen)) < 0 ||
		    (ret = gnutls_x509_crt_set_activation_time(crt,
		    not_before)) < 0 ||
		    (ret = gnutls_x509_crt_set_expiration_time(crt,
		    not_after)) < 0 ||
		    (ret = gnutls_x509_crt_set_pubkey(crt, pub)) < 0) {
			rc = tls_fail(ret, "CA certificate");
			goto out;
		}
		if ((rc = set_ca_profile(crt, pr)) != 0)
			goto out;
	} else if ((ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(crt, serial, slen)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_ORGANIZATION_NAME, 0, org, (unsigned)strlen(org))) < 0 ||
	    (ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn))) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, not_before)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt, not_after)) < 0 ||
	    (ret = gnutls_x509_crt_set_pubkey(crt, pub)) < 0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(crt, 1, pathlen)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN)) < 0) {
		rc = tls_fail(ret, "CA certificate");
		goto out;
	}
	if ((rc = set_key_ids(crt, pub, parent)) != 0)
		goto out;
	if (parent != NULL)
		ret = gnutls_x509_crt_privkey_sign(crt, parent->crt, parent->key,
		    parent->dig, 0);
	else
		ret = gnutls_x509_crt_privkey_sign(crt, crt, key,
		    ca_key_digest(key), 0);
	if (ret < 0) {
		rc = tls_fail(ret, "signing CA certificate");
		goto out;
	}
	if ((rc = reimport(&crt)) != 0)
		goto out;
	*out = crt;
	crt = NULL;
	rc = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	return rc;
}

static int
names_to_san(const struct ca_names *nm, gnutls_datum_t *der)
{
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t d;
	unsigned char ip[16];
	size_t i;
	int ret, rc = 0;

	der->data = NULL;
	der->size = 0;
	if ((ret = gnutls_subject_alt_names_init(&sans)) < 0)
		return tls_fail(ret, "subject alternative names");
#define ADD(list, n, type) \
	for (i = 0; i < (n); i++) {					\
		d.data = (unsigned char *)(list)[i];			\
		d.size = (unsigned)strlen((list)[i]);			\
		if ((ret = gnutls_subject_alt_names_set(sans, (type), &d,	\
		    NULL)) < 0) {					\
			rc = tls_fail(ret, "subject alternative name");	\
			goto out;					\
		}							\
	}
	ADD(nm->dns, nm->n_dns, GNUTLS_SAN_DNSNAME);
	for (i = 0; i < nm->n_ip; i++) {
		d.data = ip;
		if (inet_pton(AF_INET, nm->ip[i], ip) == 1)
			d.size = 4;
		else if (inet_pton(AF_INET6, nm->ip[i], ip) == 1)
			d.size = 16;
		else {
			rc = ca_err(CA_ERR_INVAL, "invalid IP '%s'", nm->ip[i]);
			goto out;
		}
		if ((ret = gnutls_subject_alt_names_set(sans,
		    GNUTLS_SAN_IPADDRESS, &d, NULL)) < 0) {
			rc = tls_fail(ret, "subject alternative name");
			goto out;
		}
	}
	ADD(nm->email, nm->n_email, GNUTLS_SAN_RFC822NAME);
	ADD(nm->uri, nm->n_uri, GNUTLS_SAN_URI);
#undef ADD
	if ((ret = gnutls_x509_ext_export_subject_alt_names(sans, der)) < 0)
		rc = tls_fail(ret, "subject alternative names");
out:
	gnutls_subject_alt_names_deinit(sans);
	return rc;
}

static int set_prov_ext(gnutls_x509_crt_t, const struct ca_leaf *);

/* Whether the leaf's subject is not empty (the SAN is critical if it is). */
static int
leaf_has_subject(const struct ca_leaf *leaf)
{
	if (leaf->profile != NULL)
		return leaf->profile->n_subject > 0;
	return leaf->cn != NULL && leaf->cn[0] != '\0';
}

/*
 * A templated leaf's tree, unsigned: the profile's subject and
 * extensions, then SKI, AKI, SAN and the provisioner extension, as
 * issue_direct writes them.
 */
static int
issue_tree_profile(const struct ca_issuer *iss, const struct ca_leaf *leaf,
    const unsigned char *serial, size_t serial_len, gnutls_x509_crt_t *crt)
{
	const struct ca_leaf_profile *pr = leaf->profile;
	gnutls_datum_t san = { NULL, 0 };
	size_t i;
	int ret, rc;

	if ((ret = gnutls_x509_crt_init(crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(*crt, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(*crt, serial, serial_len)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(*crt,
	    leaf->not_before)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(*crt,
	    leaf->not_after)) < 0 ||
	    (ret = gnutls_x509_crt_set_pubkey(*crt, leaf->pub)) < 0)
		return tls_fail(ret, "certificate");
	for (i = 0; i < pr->n_subject; i++)
		if ((ret = gnutls_x509_crt_set_dn_by_oid(*crt,
		    pr->subject[i].oid, 1, pr->subject[i].der,
		    (unsigned)pr->subject[i].len)) < 0)
			return tls_fail(ret, "subject");
	for (i = 0; i < pr->n_ext; i++)
		if ((ret = gnutls_x509_crt_set_extension_by_oid(*crt,
		    pr->ext[i].oid, pr->ext[i].der, pr->ext[i].len,
		    pr->ext[i].critical)) < 0)
			return tls_fail(ret, "extension");
	if ((rc = set_key_ids(*crt, leaf->pub, iss)) != 0)
		return rc;
	if (ca_names_count(leaf->names) > 0) {
		if ((rc = names_to_san(leaf->names, &san)) != 0)
			return rc;
		ret = gnutls_x509_crt_set_extension_by_oid(*crt, OID_SAN,
		    san.data, san.size, pr->n_subject > 0 ? 0 : 1);
		gnutls_free(san.data);
		if (ret < 0)
			return tls_fail(ret, "subject alternative names");
	}
	if (leaf->prov_name != NULL)
		return set_prov_ext(*crt, leaf);
	return 0;
}

static int
issue_tree(const struct ca_issuer *iss, const struct ca_leaf *leaf,
    gnutls_x509_crt_t *out, const unsigned char *serial, size_t serial_len)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t san = { NULL, 0 };
	unsigned ku = GNUTLS_KEY_DIGITAL_SIGNATURE, bits;
	int ret, rc, has_cn = leaf_has_subject(leaf);

	*out = NULL;
	if (!has_cn && ca_names_count(leaf->names) == 0)
		return ca_err(CA_ERR_INVAL,
		    "a certificate needs a subject or at least one name");
	if (gnutls_pubkey_get_pk_algorithm(leaf->pub, &bits) == GNUTLS_PK_RSA)
		ku |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	if (leaf->profile != NULL) {
		rc = issue_tree_profile(iss, leaf, serial, serial_len, &crt);
		goto sign;
	}
	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(crt, serial, serial_len)) < 0 ||
	    (has_cn && (ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, leaf->cn,
	    (unsigned)strlen(leaf->cn))) < 0) ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, leaf->not_before)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt, leaf->not_after)) < 0 ||
	    (ret = gnutls_x509_crt_set_pubkey(crt, leaf->pub)) < 0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_usage(crt, ku)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_purpose_oid(crt,
	    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_purpose_oid(crt,
	    GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0) {
		rc = tls_fail(ret, "certificate");
		goto out;
	}
	if ((rc = set_key_ids(crt, leaf->pub, iss)) != 0)
		goto out;
	if (ca_names_count(leaf->names) > 0) {
		if ((rc = names_to_san(leaf->names, &san)) != 0)
			goto out;
		/* RFC 5280 4.2.1.6: critical when the subject is empty. */
		if ((ret = gnutls_x509_crt_set_extension_by_oid(crt, OID_SAN,
		    san.data, san.size, has_cn ? 0 : 1)) < 0) {
			rc = tls_fail(ret, "subject alternative names");
			goto out;
		}
	}
	if (leaf->crl_url != NULL &&
	    (ret = gnutls_x509_crt_set_crl_dist_points2(crt, GNUTLS_SAN_URI,
	    leaf->crl_url, (unsigned)strlen(leaf->crl_url), 0)) < 0) {
		rc = tls_fail(ret, "CRL distribution point");
		goto out;
	}
	if (leaf->ocsp_url != NULL) {
		gnutls_datum_t u = { (unsigned char *)(uintptr_t)leaf->ocsp_url,
		    (unsigned)strlen(leaf->ocsp_url) };

		if ((ret = gnutls_x509_crt_set_authority_info_access(crt,
		    GNUTLS_IA_OCSP_URI, &u)) < 0) {
			rc = tls_fail(ret, "authority information access");
			goto out;
		}
	}
	if (leaf->prov_name != NULL && (rc = set_prov_ext(crt, leaf)) != 0)
		goto out;
sign:
	if (rc != 0)
		goto out;
	if ((ret = gnutls_x509_crt_privkey_sign(crt, iss->crt, iss->key,
	    iss->dig, 0)) < 0) {
		rc = tls_fail(ret, "signing certificate");
		goto out;
	}
	*out = crt;
	crt = NULL;
	rc = 0;
out:
	gnutls_free(san.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

/*
 * The TBSCertificate written directly in DER, byte for byte what
 * issue_tree's GnuTLS tree gives (tests/unit/test-x509.c compares the
 * two): one buffer per certificate instead of an ASN.1 tree of a few
 * hundred nodes. A nested value is written after a gap for its header,
 * which der_close fills in (moving the contents when the length needs
 * more than the gap).
 */
struct der {
	unsigned char	*p;
	size_t		 len, cap;
	int		 nomem;
};

#define DER_GAP 4

static int
der_grow(struct der *d, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (d->nomem)
		return -1;
	if (d->len + n <= d->cap)
		return 0;
	cap = d->cap * 2 > d->len + n ? d->cap * 2 : d->len + n + 256;
	if ((np = realloc(d->p, cap)) == NULL) {
		d->nomem = 1;
		return -1;
	}
	d->p = np;
	d->cap = cap;
	return 0;
}

static void
der_put(struct der *d, const void *v, size_t n)
{
	if (n == 0 || der_grow(d, n) != 0)
		return;
	memcpy(d->p + d->len, v, n);
	d->len += n;
}

static size_t
der_hdr(unsigned char *h, unsigned tag, size_t n)
{
	size_t k = 0, i;

	h[k++] = (unsigned char)tag;
	if (n < 0x80) {
		h[k++] = (unsigned char)n;
		return k;
	}
	i = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
	h[k++] = (unsigned char)(0x80 | i);
	while (i-- > 0)
		h[k++] = (unsigned char)(n >> (8 * i));
	return k;
}

static void
der_tlv(struct der *d, unsigned tag, const void *v, size_t n)
{
	unsigned char h[6];

	der_put(d, h, der_hdr(h, tag, n));
	der_put(d, v, n);
}

/* Open a constructed value: its offset, for der_close. */
static size_t
der_open(struct der *d)
{
	static const unsigned char gap[DER_GAP + 2];

	der_put(d, gap, DER_GAP + 2);
	return d->len;
}

static void
der_close(struct der *d, unsigned tag, size_t at)
{
	unsigned char h[6];
	size_t n, k, start = at - (DER_GAP + 2);

	if (d->nomem)
		return;
	n = d->len - at;
	k = der_hdr(h, tag, n);
	memmove(d->p + start + k, d->p + at, n);
	memcpy(d->p + start, h, k);
	d->len = start + k + n;
}

/* An OID in dotted text as a DER OBJECT IDENTIFIER. */
static int
der_oid(struct der *d, const char *txt)
{
	unsigned char v[64], t[10];
	unsigned long arc, first = 0;
	size_t n = 0, k, i;
	char *end;
	int idx = 0;

	for (;; idx++) {
		arc = strtoul(txt, &end, 10);
		if (end == txt)
			return -1;
		if (idx == 0)
			first = arc;
		else {
			if (idx == 1)
				arc += first * 40;
			k = 0;
			do {
				t[k++] = (unsigned char)(arc & 0x7f);
				arc >>= 7;
			} while (arc != 0 && k < sizeof(t));
			if (n + k > sizeof(v))
				return -1;
			for (i = k; i-- > 0;)
				v[n++] = (unsigned char)(t[i] | (i ? 0x80 : 0));
		}
		if (*end == '\0')
			break;
		if (*end != '.')
			return -1;
		txt = end + 1;
	}
	if (idx < 1)
		return -1;
	der_tlv(d, 0x06, v, n);
	return 0;
}

/* X.680 PrintableString; GnuTLS uses UTF8String for anything else. */
static int
printable_string(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr(" '()+,-./:=?", *s) == NULL)
			return 0;
	return 1;
}

/* UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
static int
der_time(struct der *d, time_t t)
{
	struct tm tm;
	char b[24];
	int n;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	if (tm.tm_year + 1900 >= 1950 && tm.tm_year + 1900 < 2050)
		n = snprintf(b, sizeof(b), "%02d%02d%02d%02d%02d%02dZ",
		    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		n = snprintf(b, sizeof(b), "%04d%02d%02d%02d%02d%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= sizeof(b))
		return -1;
	der_tlv(d, n == 13 ? 0x17 : 0x18, b, (size_t)n);
	return 0;
}

/* An Extension around the value the caller writes between open/close. */
static size_t
ext_open(struct der *d, const unsigned char *oid, size_t oidlen, int crit,
    size_t *outer)
{
	static const unsigned char yes[] = { 0x01, 0x01, 0xff };

	*outer = der_open(d);
	der_tlv(d, 0x06, oid, oidlen);
	if (crit)
		der_put(d, yes, sizeof(yes));
	return der_open(d);
}

static void
ext_close(struct der *d, size_t inner, size_t outer)
{
	der_close(d, 0x04, inner);
	der_close(d, 0x30, outer);
}

int
ca_step_prov_type(const char *type)
{
	if (type == NULL)
		return 0;
	if (strcasecmp(type, "JWK") == 0)
		return CA_STEP_TYPE_JWK;
	if (strcasecmp(type, "ACME") == 0)
		return CA_STEP_TYPE_ACME;
	if (strcasecmp(type, "OIDC") == 0)
		return CA_STEP_TYPE_OIDC;
	if (strcasecmp(type, "X5C") == 0)
		return CA_STEP_TYPE_X5C;
	if (strcasecmp(type, "K8sSA") == 0)
		return CA_STEP_TYPE_K8SSA;
	if (strcasecmp(type, "SCEP") == 0)
		return CA_STEP_TYPE_SCEP;
	return 0;
}

/*
 * The provisioner extension's value as step-ca's encoding/asn1 writes it:
 * SEQUENCE { INTEGER type, OCTET STRING name, OCTET STRING credentialID }
 * (keyValuePairs, optional, left out as step-ca does when empty).
 */
static void
der_prov_value(struct der *d, const struct ca_leaf *leaf)
{
	unsigned char t = (unsigned char)leaf->prov_type;
	const char *cred = leaf->prov_cred != NULL ? leaf->prov_cred : "";
	size_t at = der_open(d);

	der_tlv(d, 0x02, &t, 1);
	der_tlv(d, 0x04, leaf->prov_name, strlen(leaf->prov_name));
	der_tlv(d, 0x04, cred, strlen(cred));
	der_close(d, 0x30, at);
}

static int
set_prov_ext(gnutls_x509_crt_t crt, const struct ca_leaf *leaf)
{
	struct der d = { NULL, 0, 0, 0 };
	int ret;

	der_prov_value(&d, leaf);
	ret = d.nomem ? GNUTLS_E_MEMORY_ERROR :
	    gnutls_x509_crt_set_extension_by_oid(crt, CA_OID_STEP_PROVISIONER,
	    d.p, (unsigned)d.len, 0);
	free(d.p);
	return ret < 0 ? tls_fail(ret, "provisioner extension") : 0;
}

static const unsigned char oid_bc[] = { 0x55, 0x1d, 0x13 },
    oid_ku[] = { 0x55, 0x1d, 0x0f }, oid_eku[] = { 0x55, 0x1d, 0x25 },
    oid_ski[] = { 0x55, 0x1d, 0x0e }, oid_aki[] = { 0x55, 0x1d, 0x23 },
    oid_san[] = { 0x55, 0x1d, 0x11 }, oid_crldp[] = { 0x55, 0x1d, 0x1f },
    oid_aia[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01 },
    oid_ocsp[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01 },
    oid_cn[] = { 0x55, 0x04, 0x03 },
    oid_step_prov[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xa4, 0x64,
	0xc6, 0x28, 0x40, 0x01 };

static int
der_names(struct der *d, const struct ca_names *nm)
{
	unsigned char ip[16];
	size_t i, at = der_open(d);

	for (i = 0; i < nm->n_dns; i++)
		der_tlv(d, 0x82, nm->dns[i], strlen(nm->dns[i]));
	for (i = 0; i < nm->n_ip; i++) {
		if (inet_pton(AF_INET, nm->ip[i], ip) == 1)
			der_tlv(d, 0x87, ip, 4);
		else if (inet_pton(AF_INET6, nm->ip[i], ip) == 1)
			der_tlv(d, 0x87, ip, 16);
		else
			return ca_err(CA_ERR_INVAL, "invalid IP '%s'", nm->ip[i]);
	}
	for (i = 0; i < nm->n_email; i++)
		der_tlv(d, 0x81, nm->email[i], strlen(nm->email[i]));
	for (i = 0; i < nm->n_uri; i++)
		der_tlv(d, 0x86, nm->uri[i], strlen(nm->uri[i]));
	der_close(d, 0x30, at);
	return 0;
}

/* SKI, AKI and the SAN (RFC 5280 4.2.1.6: critical when the subject is
 * empty), in every leaf. */
static int
der_ids_san(struct der *d, const struct ca_leaf *leaf, int has_cn,
    const unsigned char *ski, size_t skilen, const unsigned char *aki,
    size_t akilen)
{
	size_t outer, in, a;
	int rc;

	in = ext_open(d, oid_ski, sizeof(oid_ski), 0, &outer);
	der_tlv(d, 0x04, ski, skilen);
	ext_close(d, in, outer);
	in = ext_open(d, oid_aki, sizeof(oid_aki), 0, &outer);
	a = der_open(d);
	der_tlv(d, 0x80, aki, akilen);
	der_close(d, 0x30, a);
	ext_close(d, in, outer);
	if (ca_names_count(leaf->names) > 0) {
		in = ext_open(d, oid_san, sizeof(oid_san), !has_cn, &outer);
		if ((rc = der_names(d, leaf->names)) != 0)
			return rc;
		ext_close(d, in, outer);
	}
	return 0;
}

/* The provisioner extension, last, when the leaf has one. */
static void
der_prov_ext(struct der *d, const struct ca_leaf *leaf)
{
	size_t outer, in;

	if (leaf->prov_name == NULL)
		return;
	in = ext_open(d, oid_step_prov, sizeof(oid_step_prov), 0, &outer);
	der_prov_value(d, leaf);
	ext_close(d, in, outer);
}

/* The extensions, in the order issue_tree sets them. */
static int
der_extensions(struct der *d, const struct ca_leaf *leaf, int has_cn,
    unsigned ku, const unsigned char *ski, size_t skilen,
    const unsigned char *aki, size_t akilen)
{
	static const unsigned char eku[] = {
		0x30, 0x14,
		0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
		0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02,
	}, bc[] = { 0x30, 0x00 };
	unsigned char kub[2];
	size_t outer, in, a, b, c, e;
	int rc;

	in = ext_open(d, oid_bc, sizeof(oid_bc), 1, &outer);
	der_put(d, bc, sizeof(bc));
	ext_close(d, in, outer);
	/* KeyUsage: digitalSignature, keyEncipherment (bits 0 and 2). */
	kub[0] = ku & GNUTLS_KEY_KEY_ENCIPHERMENT ? 5 : 7;
	kub[1] = (unsigned char)(ku & 0xff);
	in = ext_open(d, oid_ku, sizeof(oid_ku), 1, &outer);
	der_tlv(d, 0x03, kub, 2);
	ext_close(d, in, outer);
	in = ext_open(d, oid_eku, sizeof(oid_eku), 0, &outer);
	der_put(d, eku, sizeof(eku));
	ext_close(d, in, outer);
	if ((rc = der_ids_san(d, leaf, has_cn, ski, skilen, aki, akilen)) != 0)
		return rc;
	if (leaf->crl_url != NULL) {
		in = ext_open(d, oid_crldp, sizeof(oid_crldp), 0, &outer);
		/* SEQUENCE OF DistributionPoint, [0] name, [0] fullName */
		a = der_open(d);
		b = der_open(d);
		c = der_open(d);
		e = der_open(d);
		der_tlv(d, 0x86, leaf->crl_url, strlen(leaf->crl_url));
		der_close(d, 0xa0, e);
		der_close(d, 0xa0, c);
		der_close(d, 0x30, b);
		der_close(d, 0x30, a);
		ext_close(d, in, outer);
	}
	if (leaf->ocsp_url != NULL) {
		in = ext_open(d, oid_aia, sizeof(oid_aia), 0, &outer);
		a = der_open(d);
		b = der_open(d);
		der_tlv(d, 0x06, oid_ocsp, sizeof(oid_ocsp));
		der_tlv(d, 0x86, leaf->ocsp_url, strlen(leaf->ocsp_url));
		der_close(d, 0x30, b);
		der_close(d, 0x30, a);
		ext_close(d, in, outer);
	}
	der_prov_ext(d, leaf);
	return 0;
}

/* A templated leaf's subject: one attribute per RDN. */
static int
der_profile_subject(struct der *d, const struct ca_leaf_profile *pr)
{
	size_t i, b, c;

	for (i = 0; i < pr->n_subject; i++) {
		b = der_open(d);
		c = der_open(d);
		if (der_oid(d, pr->subject[i].oid) != 0)
			return ca_err(CA_ERR_INVAL, "subject attribute %s",
			    pr->subject[i].oid);
		der_put(d, pr->subject[i].der, pr->subject[i].len);
		der_close(d, 0x30, c);
		der_close(d, 0x31, b);
	}
	return 0;
}

/* A templated leaf's extensions, in issue_tree_profile's order. */
static int
der_profile_extensions(struct der *d, const struct ca_leaf *leaf,
    const unsigned char *ski, size_t skilen, const unsigned char *aki,
    size_t akilen)
{
	static const unsigned char yes[] = { 0x01, 0x01, 0xff };
	const struct ca_leaf_profile *pr = leaf->profile;
	size_t i, outer, in;
	int rc;

	for (i = 0; i < pr->n_ext; i++) {
		outer = der_open(d);
		if (der_oid(d, pr->ext[i].oid) != 0)
			return ca_err(CA_ERR_INVAL, "extension %s",
			    pr->ext[i].oid);
		if (pr->ext[i].critical)
			der_put(d, yes, sizeof(yes));
		in = der_open(d);
		der_put(d, pr->ext[i].der, pr->ext[i].len);
		ext_close(d, in, outer);
	}
	if ((rc = der_ids_san(d, leaf, pr->n_subject > 0, ski, skilen, aki,
	    akilen)) != 0)
		return rc;
	der_prov_ext(d, leaf);
	return 0;
}

/* The issuer's signature algorithm, or GNUTLS_SIGN_UNKNOWN. */
static gnutls_sign_algorithm_t
issuer_sign(const struct ca_issuer *iss, int *rsa)
{
	int pk = gnutls_privkey_get_pk_algorithm(iss->key, NULL);

	*rsa = pk == GNUTLS_PK_RSA;
	if (pk == GNUTLS_PK_EDDSA_ED25519)
		return GNUTLS_SIGN_EDDSA_ED25519;
	if (pk == GNUTLS_PK_EDDSA_ED448)
		return GNUTLS_SIGN_EDDSA_ED448;
	if (pk != GNUTLS_PK_RSA && pk != GNUTLS_PK_ECDSA)
		return GNUTLS_SIGN_UNKNOWN;
	return gnutls_pk_to_sign((gnutls_pk_algorithm_t)pk, iss->dig);
}

static int
der_sigalg(struct der *d, gnutls_sign_algorithm_t sign, int rsa)
{
	static const unsigned char null[] = { 0x05, 0x00 };
	const char *oid = gnutls_sign_get_oid(sign);
	size_t at = der_open(d);

	if (oid == NULL || der_oid(d, oid) != 0)
		return ca_err(CA_ERR_CRYPTO, "signature algorithm");
	if (rsa)
		der_put(d, null, sizeof(null));
	der_close(d, 0x30, at);
	return 0;
}

/*
 * The certificate: the TBSCertificate written here, signed with
 * gnutls_privkey_sign_data2 (file and PKCS#11 keys alike). 1 when the
 * issuer's key is of a kind this does not write (RSA-PSS): issue_tree.
 */
static int
issue_direct(const struct ca_issuer *iss, const struct ca_leaf *leaf,
    const unsigned char *serial, size_t serial_len, gnutls_datum_t *out)
{
	static const unsigned char v3[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
	struct der d = { NULL, 0, 0, 0 };
	gnutls_datum_t dn = { NULL, 0 }, spki = { NULL, 0 }, tbs,
	    sig = { NULL, 0 };
	gnutls_sign_algorithm_t sign;
	unsigned char ski[64], aki[64];
	size_t skilen = sizeof(ski), akilen = sizeof(aki), cert, at, a, b, c;
	unsigned ku = GNUTLS_KEY_DIGITAL_SIGNATURE, bits;
	int ret, rc, rsa, has_cn = leaf_has_subject(leaf);

	if ((sign = issuer_sign(iss, &rsa)) == GNUTLS_SIGN_UNKNOWN)
		return 1;
	if (gnutls_pubkey_get_pk_algorithm(leaf->pub, &bits) == GNUTLS_PK_RSA)
		ku |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	if ((ret = gnutls_x509_crt_get_raw_dn(iss->crt, &dn)) < 0 ||
	    (ret = gnutls_pubkey_export2(leaf->pub, GNUTLS_X509_FMT_DER,
	    &spki)) < 0 ||
	    (ret = gnutls_pubkey_get_key_id(leaf->pub, 0, ski, &skilen)) < 0 ||
	    (ret = gnutls_x509_crt_get_subject_key_id(iss->crt, aki, &akilen,
	    NULL)) < 0) {
		rc = tls_fail(ret, "certificate");
		goto out;
	}
	if (der_grow(&d, 1024 + spki.size) != 0)
		goto nomem;
	cert = der_open(&d);
	at = der_open(&d);
	der_put(&d, v3, sizeof(v3));
	der_tlv(&d, 0x02, serial, serial_len);
	if ((rc = der_sigalg(&d, sign, rsa)) != 0)
		goto out;
	der_put(&d, dn.data, dn.size);
	a = der_open(&d);
	if (der_time(&d, leaf->not_before) != 0 ||
	    der_time(&d, leaf->not_after) != 0) {
		rc = ca_err(CA_ERR_INVAL, "certificate validity out of range");
		goto out;
	}
	der_close(&d, 0x30, a);
	a = der_open(&d);
	if (leaf->profile != NULL) {
		if ((rc = der_profile_subject(&d, leaf->profile)) != 0)
			goto out;
	} else if (has_cn) {
		b = der_open(&d);
		c = der_open(&d);
		der_tlv(&d, 0x06, oid_cn, sizeof(oid_cn));
		der_tlv(&d, printable_string(leaf->cn) ? 0x13 : 0x0c, leaf->cn,
		    strlen(leaf->cn));
		der_close(&d, 0x30, c);
		der_close(&d, 0x31, b);
	}
	der_close(&d, 0x30, a);
	der_put(&d, spki.data, spki.size);
	a = der_open(&d);
	b = der_open(&d);
	if (leaf->profile != NULL)
		rc = der_profile_extensions(&d, leaf, ski, skilen, aki, akilen);
	else
		rc = der_extensions(&d, leaf, has_cn, ku, ski, skilen, aki,
		    akilen);
	if (rc != 0)
		goto out;
	der_close(&d, 0x30, b);
	der_close(&d, 0xa3, a);
	der_close(&d, 0x30, at);
	if (d.nomem)
		goto nomem;
	/* der_close moved the TBSCertificate to the start of its gap */
	tbs.data = d.p + cert;
	tbs.size = (unsigned)(d.len - cert);
	if ((ret = gnutls_privkey_sign_data2(iss->key, sign, 0, &tbs,
	    &sig)) < 0) {
		rc = tls_fail(ret, "signing certificate");
		goto out;
	}
	if ((rc = der_sigalg(&d, sign, rsa)) != 0)
		goto out;
	a = der_open(&d);
	der_put(&d, "", 1);
	der_put(&d, sig.data, sig.size);
	der_close(&d, 0x03, a);
	der_close(&d, 0x30, cert);
	if (d.nomem)
		goto nomem;
	if ((out->data = gnutls_malloc(d.len)) == NULL)
		goto nomem;
	memcpy(out->data, d.p, d.len);
	out->size = (unsigned)d.len;
	rc = 0;
	goto out;
nomem:
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	free(d.p);
	gnutls_free(dn.data);
	gnutls_free(spki.data);
	gnutls_free(sig.data);
	return rc;
}

int
ca_x509_issue_tree_der(const struct ca_issuer *iss, const struct ca_leaf *leaf,
    const unsigned char *serial, size_t serial_len, gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	int rc;

	der->data = NULL;
	der->size = 0;
	if ((rc = issue_tree(iss, leaf, &crt, serial, serial_len)) != 0)
		return rc;
	rc = ca_x509_export(crt, GNUTLS_X509_FMT_DER, der);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int
ca_x509_issue_serial_der(const struct ca_issuer *iss,
    const struct ca_leaf *leaf, const unsigned char *serial,
    size_t serial_len, gnutls_datum_t *der)
{
	int rc, has_cn = leaf_has_subject(leaf);

	der->data = NULL;
	der->size = 0;
	if (!has_cn && ca_names_count(leaf->names) == 0)
		return ca_err(CA_ERR_INVAL,
		    "a certificate needs a subject or at least one name");
	if ((rc = issue_direct(iss, leaf, serial, serial_len, der)) != 1)
		return rc;
	return ca_x509_issue_tree_der(iss, leaf, serial, serial_len, der);
}

static int
permits(gnutls_x509_name_constraints_t nc, unsigned type, const char *what,
    const char *name)
{
	unsigned char ip[16];
	gnutls_datum_t d;

	d.data = (unsigned char *)(uintptr_t)name;
	d.size = (unsigned)strlen(name);
	if (type == GNUTLS_SAN_IPADDRESS) {
		if (inet_pton(AF_INET, name, ip) == 1)
			d.size = 4;
		else if (inet_pton(AF_INET6, name, ip) == 1)
			d.size = 16;
		else
			return ca_err(CA_ERR_INVAL, "ip address %s: not one",
			    name);
		d.data = ip;
	}
	if (!gnutls_x509_name_constraints_check(nc, type, &d))
		return ca_err(CA_ERR_FORBIDDEN, "%s %s is outside the "
		    "issuing CA's name constraints", what, name);
	return 0;
}

/* crt's name constraints into *nc (NULL: it has none). */
static int
nc_read(gnutls_x509_crt_t crt, gnutls_x509_name_constraints_t *nc)
{
	unsigned critical;
	int ret;

	*nc = NULL;
	if ((ret = gnutls_x509_name_constraints_init(nc)) < 0)
		return ca_err(CA_ERR_NOMEM, "name constraints: %s",
		    gnutls_strerror(ret));
	ret = gnutls_x509_crt_get_name_constraints(crt, *nc, 0, &critical);
	if (ret >= 0)
		return 0;
	gnutls_x509_name_constraints_deinit(*nc);
	*nc = NULL;
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	return ca_err(CA_ERR_CRYPTO, "the issuing CA's name constraints: %s",
	    gnutls_strerror(ret));
}

int
ca_x509_issuer_nc_load(struct ca_issuer *iss)
{
	int rc;

	if ((rc = nc_read(iss->crt, &iss->nc)) == 0)
		iss->nc_loaded = 1;
	return rc;
}

int
ca_x509_issuer_permits(const struct ca_issuer *iss,
    const struct ca_names *names)
{
	gnutls_x509_name_constraints_t nc = iss->nc, own = NULL;
	size_t i;
	int rc = 0;

	if (iss->crt == NULL || names == NULL)
		return 0;
	if (!iss->nc_loaded) {
		if ((rc = nc_read(iss->crt, &own)) != 0)
			return rc;
		nc = own;
	}
	if (nc == NULL)
		return 0;
	for (i = 0; rc == 0 && i < names->n_dns; i++)
		rc = permits(nc, GNUTLS_SAN_DNSNAME, "dns name",
		    names->dns[i]);
	for (i = 0; rc == 0 && i < names->n_email; i++)
		rc = permits(nc, GNUTLS_SAN_RFC822NAME, "email address",
		    names->email[i]);
	for (i = 0; rc == 0 && i < names->n_ip; i++)
		rc = permits(nc, GNUTLS_SAN_IPADDRESS, "ip address",
		    names->ip[i]);
	if (own != NULL)
		gnutls_x509_name_constraints_deinit(own);
	return rc;
}

int
ca_x509_issue_der(const struct ca_issuer *iss, const struct ca_leaf *leaf,
    gnutls_datum_t *der, unsigned char *serial, size_t *serial_len)
{
	int rc;

	der->data = NULL;
	der->size = 0;
	if ((rc = ca_serial_generate(serial, serial_len)) != 0)
		return rc;
	return ca_x509_issue_serial_der(iss, leaf, serial, *serial_len, der);
}

int
ca_x509_issue(const struct ca_issuer *iss, const struct ca_leaf *leaf,
    gnutls_x509_crt_t *out, unsigned char *serial, size_t *serial_len)
{
	gnutls_datum_t der;
	int rc;

	*out = NULL;
	if ((rc = ca_x509_issue_der(iss, leaf, &der, serial, serial_len)) != 0)
		return rc;
	rc = ca_x509_import(der.data, der.size, out);
	gnutls_free(der.data);
	return rc;
}

/* Names as encoded in certificates and CSRs */

/*
 * DER: one TLV of [*p, end) (single-octet tags, definite lengths of at
 * most four octets). 1 and the value, 0 at the end, -1 if malformed.
 */
static int
der_next(const unsigned char **p, const unsigned char *end, unsigned *tag,
    const unsigned char **val, size_t *len)
{
	const unsigned char *q = *p;
	size_t n, k;

	if (q == end)
		return 0;
	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	*tag = q[0];
	n = q[1];
	q += 2;
	if (n & 0x80) {
		k = n & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -1;
		for (n = 0; k > 0; k--)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*val = q;
	*len = n;
	*p = q + n;
	return 1;
}

/* GeneralName tags (RFC 5280 4.2.1.6), context-specific and primitive. */
#define GN_EMAIL	0x81
#define GN_DNS		0x82
#define GN_URI		0x86
#define GN_IP		0x87

static int
push_name(char ***list, size_t *n, const unsigned char *v, size_t len)
{
	char **nl;

	if ((nl = reallocarray(*list, *n + 1, sizeof(char *))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	*list = nl;
	if ((nl[*n] = strndup((const char *)v, len)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	(*n)++;
	return 0;
}

/*
 * The names of a DER SubjectAltName extension value, by the type each
 * is encoded with, in order: never joined or re-classified, so a URI
 * holding a ',' stays one URI. what names the source in messages.
 */
static int
san_names(const unsigned char *p, size_t len, const char *what,
    struct ca_names *out)
{
	const unsigned char *end = p + len, *v, *seq;
	char ip[INET6_ADDRSTRLEN];
	size_t vlen, i;
	unsigned tag;
	int r, rc = 0;

	memset(out, 0, sizeof(*out));
	if (der_next(&p, end, &tag, &seq, &vlen) != 1 || tag != 0x30 ||
	    p != end)
		return ca_err(CA_ERR_INVAL, "%s: malformed subject alternative "
		    "names", what);
	p = seq;
	end = seq + vlen;
	while (rc == 0 && (r = der_next(&p, end, &tag, &v, &vlen)) == 1) {
		if (tag == GN_IP) {
			if ((vlen != 4 && vlen != 16) || inet_ntop(vlen == 4 ?
			    AF_INET : AF_INET6, v, ip, sizeof(ip)) == NULL) {
				rc = ca_err(CA_ERR_INVAL,
				    "%s has a malformed IP name", what);
				break;
			}
			rc = push_name(&out->ip, &out->n_ip,
			    (const unsigned char *)ip, strlen(ip));
			continue;
		}
		if (tag != GN_EMAIL && tag != GN_DNS && tag != GN_URI) {
			rc = ca_err(CA_ERR_FORBIDDEN, "%s has a subject "
			    "alternative name of a type not allowed", what);
			break;
		}
		/* IA5String: no NUL (C strings), nothing beyond ASCII. */
		for (i = 0; i < vlen && v[i] != 0 && v[i] < 0x80; i++)
			;
		if (i < vlen || vlen == 0) {
			rc = ca_err(CA_ERR_INVAL, "%s has an empty name or one "
			    "with a NUL or non-ASCII byte", what);
			break;
		}
		if (tag == GN_DNS)
			rc = push_name(&out->dns, &out->n_dns, v, vlen);
		else if (tag == GN_EMAIL)
			rc = push_name(&out->email, &out->n_email, v, vlen);
		else
			rc = push_name(&out->uri, &out->n_uri, v, vlen);
	}
	if (rc == 0 && r < 0)
		rc = ca_err(CA_ERR_INVAL, "%s: malformed subject alternative "
		    "names", what);
	if (rc != 0)
		ca_names_free(out);
	return rc;
}

/* CSRs */

int
ca_csr_import(const void *buf, size_t len, gnutls_x509_crq_t *out)
{
	return ca_csr_import2(buf, len, 1, out);
}

int
ca_csr_import2(const void *buf, size_t len, int verify, gnutls_x509_crq_t *out)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d;
	void *der = NULL;
	int ret, rc;

	*out = NULL;
	if (len > CA_MAX_CSR)
		return ca_err(CA_ERR_TOOBIG, "CSR larger than %d bytes",
		    CA_MAX_CSR);
	if ((rc = ca_csr_decode(buf, len, &d, &der)) != 0)
		return rc;
	if ((ret = gnutls_x509_crq_init(&crq)) < 0) {
		rc = tls_fail(ret, "CSR");
		goto out;
	}
	if ((ret = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "cannot parse CSR: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	/* The policy before the signature, so that a refusal names its rule. */
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "CSR public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_key_check(pub, "CSR key")) != 0 ||
	    (rc = ca_csr_check_signature(crq)) != 0)
		goto out;
	if (verify && (ret = gnutls_x509_crq_verify(crq, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "CSR signature does not verify");
		goto out;
	}
	*out = crq;
	crq = NULL;
	rc = 0;
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_free(der);
	return rc;
}

static int
in_list(char **l, size_t n, const char *s, int casefold)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((casefold ? strcasecmp(l[i], s) : strcmp(l[i], s)) == 0)
			return 1;
	return 0;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
by_casestr(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Whether a and b hold the same names (duplicates aside): both sorted,
 * then walked together, so n log n. *bad: one that is in only one of
 * them. -1 when out of memory.
 */
static int
same_set(char **a, size_t na, char **b, size_t nb, int casefold,
    const char **bad)
{
	int (*cmp)(const void *, const void *) = casefold ? by_casestr : by_str;
	char **x = NULL, **y = NULL;
	size_t i = 0, j = 0;
	int c, same = 1;

	*bad = NULL;
	if ((x = reallocarray(NULL, na + 1, sizeof(*x))) == NULL ||
	    (y = reallocarray(NULL, nb + 1, sizeof(*y))) == NULL) {
		free(x);
		return -1;
	}
	if (na > 0)
		memcpy(x, a, na * sizeof(*x));
	if (nb > 0)
		memcpy(y, b, nb * sizeof(*y));
	qsort(x, na, sizeof(*x), cmp);
	qsort(y, nb, sizeof(*y), cmp);
	while (i < na || j < nb) {
		c = i == na ? 1 : j == nb ? -1 : cmp(&x[i], &y[j]);
		if (c != 0) {
			*bad = c < 0 ? x[i] : y[j];
			same = 0;
			break;
		}
		/* Past this name and its duplicates on both sides. */
		for (i++; i < na && cmp(&x[i - 1], &x[i]) == 0; i++)
			;
		for (j++; j < nb && cmp(&y[j - 1], &y[j]) == 0; j++)
			;
	}
	free(x);
	free(y);
	return same;
}

/*
 * The CSR's names: its SubjectAltName extension counted first (no more
 * than max, told before anything is parsed or allocated), then read by
 * type in one pass.
 */
static int
csr_names(gnutls_x509_crq_t crq, size_t max, struct ca_names *out)
{
	gnutls_datum_t der = { NULL, 0 };
	const unsigned char *p, *end, *v;
	size_t n = 0, len;
	unsigned critical, tag;
	int ret, rc;

	memset(out, 0, sizeof(*out));
	ret = gnutls_x509_crq_get_extension_by_oid2(crq, OID_SAN, 0, &der,
	    &critical);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (ret < 0)
		return ca_err(CA_ERR_INVAL, "CSR subject alternative names: %s",
		    gnutls_strerror(ret));
	p = der.data;
	end = der.data + der.size;
	if (der_next(&p, end, &tag, &v, &len) == 1 && tag == 0x30 && p == end) {
		p = v;
		end = v + len;
		while (der_next(&p, end, &tag, &v, &len) == 1)
			n++;
	}
	if (n > max)
		rc = ca_err(CA_ERR_INVAL, "CSR has %zu subject alternative "
		    "names: at most %zu allowed", n, max);
	else
		rc = san_names(der.data, der.size, "CSR", out);
	gnutls_free(der.data);
	return rc;
}

int
ca_csr_names(gnutls_x509_crq_t crq, size_t max, struct ca_names *out)
{
	return csr_names(crq, max, out);
}

int
ca_csr_check_names(gnutls_x509_crq_t crq, const char *sub,
    const struct ca_names *allowed, size_t max_sans)
{
	struct ca_names got;
	char buf[1025];
	const char *bad;
	size_t size;
	unsigned i;
	int ret, rc, same;

	if ((rc = csr_names(crq, max_sans, &got)) != 0)
		return rc;
#define CHECK(field, n, casefold, what)					\
	if (got.n > 0 && (same = same_set(got.field, got.n,		\
	    allowed->field, allowed->n, casefold, &bad)) != 1) {	\
		rc = same < 0 ? ca_err(CA_ERR_NOMEM, "out of memory") :	\
		    ca_err(CA_ERR_FORBIDDEN,				\
		    "CSR %s names do not match the token: '%s'", what, bad);\
		goto out;						\
	}
	CHECK(dns, n_dns, 1, "DNS");
	CHECK(ip, n_ip, 0, "IP");
	CHECK(email, n_email, 0, "e-mail");
	CHECK(uri, n_uri, 0, "URI");
#undef CHECK
	for (i = 0;; i++) {
		/* Each lookup walks the subject again: a few CNs at most. */
		if (i == CSR_MAX_CN) {
			rc = ca_err(CA_ERR_INVAL, "CSR has more than %d common "
			    "names", CSR_MAX_CN);
			goto out;
		}
		size = sizeof(buf) - 1;
		ret = gnutls_x509_crq_get_dn_by_oid(crq,
		    GNUTLS_OID_X520_COMMON_NAME, i, 0, buf, &size);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			rc = ca_err(CA_ERR_INVAL, "CSR common name: %s",
			    gnutls_strerror(ret));
			goto out;
		}
		buf[size] = '\0';
		if (strlen(buf) != size)
			goto nul;
		if (strcmp(buf, sub) == 0 || in_list(allowed->dns,
		    allowed->n_dns, buf, 1) || in_list(allowed->ip,
		    allowed->n_ip, buf, 0) || in_list(allowed->email,
		    allowed->n_email, buf, 0) || in_list(allowed->uri,
		    allowed->n_uri, buf, 0))
			continue;
		rc = ca_err(CA_ERR_FORBIDDEN,
		    "CSR common name '%s' is neither the token's subject nor one of its names",
		    buf);
		goto out;
	}
	rc = 0;
	goto out;
nul:
	rc = ca_err(CA_ERR_INVAL, "CSR has a name with a NUL byte");
out:
	ca_names_free(&got);
	return rc;
}

int
ca_csr_make(gnutls_privkey_t key, const char *cn, const struct ca_names *nm,
    gnutls_datum_t *pem)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	unsigned char ip[16];
	size_t i;
	int ret, rc = 0;

	pem->data = NULL;
	pem->size = 0;
	if ((ret = gnutls_x509_crq_init(&crq)) < 0 ||
	    (ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0 ||
	    (ret = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
	    (ret = gnutls_x509_crq_set_pubkey(crq, pub)) < 0 ||
	    (cn != NULL && cn[0] != '\0' &&
	    (ret = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned)strlen(cn))) < 0))
		goto fail;
#define ADD(list, n, type)						\
	for (i = 0; i < (n); i++)					\
		if ((ret = gnutls_x509_crq_set_subject_alt_name(crq, (type),	\
		    (list)[i], (unsigned)strlen((list)[i]),		\
		    GNUTLS_FSAN_APPEND)) < 0)				\
			goto fail;
	ADD(nm->dns, nm->n_dns, GNUTLS_SAN_DNSNAME);
	ADD(nm->email, nm->n_email, GNUTLS_SAN_RFC822NAME);
	ADD(nm->uri, nm->n_uri, GNUTLS_SAN_URI);
#undef ADD
	for (i = 0; i < nm->n_ip; i++) {
		unsigned sz = inet_pton(AF_INET, nm->ip[i], ip) == 1 ? 4 : 16;
		if (sz == 16 && inet_pton(AF_INET6, nm->ip[i], ip) != 1)
			return ca_err(CA_ERR_INVAL, "invalid IP '%s'", nm->ip[i]);
		if ((ret = gnutls_x509_crq_set_subject_alt_name(crq,
		    GNUTLS_SAN_IPADDRESS, ip, sz, GNUTLS_FSAN_APPEND)) < 0)
			goto fail;
	}
	if ((ret = gnutls_x509_crq_privkey_sign(crq, key,
	    ca_key_digest(key), 0)) < 0 ||
	    (ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, pem)) < 0)
		goto fail;
	goto out;
fail:
	rc = tls_fail(ret, "making CSR");
out:
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
	return rc;
}

int
ca_csr_make_new_key(int t, const char *sub,
    const struct ca_names *names, gnutls_datum_t *csr, char **key_pem,
    size_t *key_len)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int rc;

	*key_pem = NULL;
	*key_len = 0;
	if ((rc = ca_key_generate((enum ca_key_type)t, &x)) != 0 ||
	    (rc = ca_key_export(x, NULL, &pem)) != 0)
		goto out;
	if ((rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((rc = ca_csr_make(k, sub, names, csr)) != 0)
		goto out;
	if ((*key_pem = malloc(pem.size + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*key_pem, pem.data, pem.size);
	(*key_pem)[pem.size] = '\0';
	*key_len = pem.size;
out:
	if (pem.data != NULL) {
		ca_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	gnutls_privkey_deinit(k);
	return rc;
}

int
ca_x509_names(gnutls_x509_crt_t crt, struct ca_names *names)
{
	gnutls_datum_t der = { NULL, 0 };
	unsigned critical;
	int ret, rc;

	memset(names, 0, sizeof(*names));
	ret = gnutls_x509_crt_get_extension_by_oid2(crt, OID_SAN, 0, &der,
	    &critical);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return 0;
	if (ret < 0)
		return tls_fail(ret, "subject alternative names");
	rc = san_names(der.data, der.size, "certificate", names);
	gnutls_free(der.data);
	return rc;
}

/*
 * certtmpl.c - step-ca's X.509 certificate templates: loading a
 * provisioner's template, rendering it with step-ca's data, and mapping
 * the JSON it renders (smallstep/crypto x509util's Certificate) to a leaf
 * profile written in DER. The mapping is strict where Go's decoder is
 * lenient: members are matched by their documented spelling only, an
 * unknown member is refused, and every list and string is bounded. What
 * a leaf must never be (a CA, a name constraint) is refused here, before
 * anything is signed. ca-state(5), TEMPLATES, holds the same table.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "ca.h"
#include "certtmpl.h"
#include "conf.h"
#include "json.h"
#include "tmpl.h"

struct ca_certtmpl {
	struct ca_tmpl		*tmpl;
	struct json_object	*data;	/* templateData, or NULL */
};

/* DER, written forwards; a constructed value is wrapped once written. */
struct dbuf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 nomem;
};

static void
dput(struct dbuf *b, const void *v, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (b->nomem || n == 0)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 128;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->nomem = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

/* Put tag and length in front of what was written since from. */
static void
dwrap(struct dbuf *b, unsigned tag, size_t from)
{
	unsigned char h[6];
	size_t n = b->len - from, k = 0, i;

	if (b->nomem)
		return;
	h[k++] = (unsigned char)tag;
	if (n < 0x80)
		h[k++] = (unsigned char)n;
	else {
		i = n > 0xffff ? 3 : n > 0xff ? 2 : 1;
		h[k++] = (unsigned char)(0x80 | i);
		while (i-- > 0)
			h[k++] = (unsigned char)(n >> (8 * i));
	}
	dput(b, h, k);		/* room for it */
	if (b->nomem)
		return;
	memmove(b->p + from + k, b->p + from, n);
	memcpy(b->p + from, h, k);
}

static void
dtlv(struct dbuf *b, unsigned tag, const void *v, size_t n)
{
	size_t at = b->len;

	dput(b, v, n);
	dwrap(b, tag, at);
}

/*
 * A dotted OID ("1.2.3") as DER: at least two arcs, the first 0-2, the
 * second below 40 under 0 and 1, arcs below 2^32, at most 64 octets.
 */
static int
doid(struct dbuf *b, const char *txt)
{
	unsigned char v[64], t[5];
	unsigned long long arc, first = 0;
	size_t n = 0, k, i, idx = 0;
	const char *s = txt;

	for (;; idx++) {
		if (!isdigit((unsigned char)*s) || (s[0] == '0' &&
		    isdigit((unsigned char)s[1])))
			goto bad;
		for (arc = 0; isdigit((unsigned char)*s); s++) {
			arc = arc * 10 + (unsigned)(*s - '0');
			if (arc > 0xffffffffULL)
				goto bad;
		}
		if (idx == 0) {
			if (arc > 2)
				goto bad;
			first = arc;
		} else {
			if (idx == 1) {
				if (first < 2 && arc >= 40)
					goto bad;
				arc += first * 40;
			}
			k = 0;
			do {
				t[k++] = (unsigned char)(arc & 0x7f);
				arc >>= 7;
			} while (arc != 0);
			if (n + k > sizeof(v))
				goto bad;
			for (i = k; i-- > 0;)
				v[n++] = (unsigned char)(t[i] | (i ? 0x80 : 0));
		}
		if (*s == '\0')
			break;
		if (*s++ != '.')
			goto bad;
	}
	if (idx < 1)
		goto bad;
	if (b != NULL)
		dtlv(b, 0x06, v, n);
	return 0;
bad:
	return ca_err(CA_ERR_INVAL, "\"%.64s\" is not an object identifier",
	    txt);
}

/* X.680 PrintableString, as Go's encoding/asn1 and GnuTLS choose it. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr(" '()+,-./:=?", *s) == NULL)
			return 0;
	return 1;
}

/* What is being built: DER pieces at offsets of one buffer. */
struct piece {
	char	*oid;
	int	 critical;
	size_t	 off, len;
};

struct build {
	struct dbuf	 der;
	struct piece	 attr[CA_CERTTMPL_LIST_MAX];
	size_t		 n_attr;
	struct piece	 ext[16 + CA_CERTTMPL_LIST_MAX];
	size_t		 n_ext;
	char		*sans[CA_MAX_SANS_LIMIT];
	const char	*san_type[CA_MAX_SANS_LIMIT];
	size_t		 n_sans, max_sans;
	char		*cn;
	time_t		 nb, na;
	/* A CA's template (ca-init): what the CA checks are made on. */
	int		 ca, is_ca, path_len;
	unsigned	 ku;
};

static int
nomem(void)
{
	return ca_err(CA_ERR_NOMEM, "out of memory");
}

/* A piece from what was written since off. */
static int
piece_add(struct piece *arr, size_t *n, size_t max, const char *what,
    const char *oid, int critical, struct dbuf *d, size_t off)
{
	if (*n >= max)
		return ca_err(CA_ERR_INVAL, "%s: more than %zu", what, max);
	if (d->nomem || (arr[*n].oid = strdup(oid)) == NULL)
		return nomem();
	arr[*n].critical = critical;
	arr[*n].off = off;
	arr[*n].len = d->len - off;
	(*n)++;
	return 0;
}

static int
ext_add(struct build *b, const char *oid, int critical, size_t off)
{
	size_t i;

	for (i = 0; i < b->n_ext; i++)
		if (strcmp(b->ext[i].oid, oid) == 0)
			return ca_err(CA_ERR_INVAL, "extension %s twice", oid);
	return piece_add(b->ext, &b->n_ext, sizeof(b->ext) / sizeof(b->ext[0]),
	    "extensions", oid, critical, &b->der, off);
}

/* A string of at most CA_CERTTMPL_STR_MAX bytes, no NUL, no controls. */
static int
str_get(struct json_object *v, const char *what, const char **out)
{
	const char *s;
	size_t n, i;

	if (!json_object_is_type(v, json_type_string))
		return ca_err(CA_ERR_INVAL, "%s: not a string", what);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n > CA_CERTTMPL_STR_MAX)
		return ca_err(CA_ERR_INVAL, "%s: longer than %d bytes", what,
		    CA_CERTTMPL_STR_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ca_err(CA_ERR_INVAL, "%s: a control character",
			    what);
	*out = s;
	return 0;
}

/*
 * step's MultiString: null, one string, or an array of strings; *n
 * strings (borrowed) into out, at most max.
 */
static int
multi_get(struct json_object *v, const char *what, const char **out,
    size_t max, size_t *n)
{
	size_t i, len;
	int rc;

	*n = 0;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		*n = 1;
		return str_get(v, what, &out[0]);
	}
	if (!json_object_is_type(v, json_type_array))
		return ca_err(CA_ERR_INVAL, "%s: not a string or a list of "
		    "strings", what);
	len = json_object_array_length(v);
	if (len > max)
		return ca_err(CA_ERR_INVAL, "%s: more than %zu", what, max);
	for (i = 0; i < len; i++)
		if ((rc = str_get(json_object_array_get_idx(v, i), what,
		    &out[i])) != 0)
			return rc;
	*n = len;
	return 0;
}

/* Members are matched as step documents them; other spellings refused. */
static int
members_check(struct json_object *o, const char *where,
    const char *const *known)
{
	struct json_object_iterator it, end;
	size_t i;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], name) == 0)
				break;
		if (known[i] != NULL)
			continue;
		for (i = 0; known[i] != NULL; i++)
			if (strcasecmp(known[i], name) == 0)
				return ca_err(CA_ERR_INVAL, "%s member \"%.64s\": "
				    "spell it \"%s\" (as step documents it)",
				    where, name, known[i]);
		return ca_err(CA_ERR_INVAL, "%s member \"%.64s\": unknown",
		    where, name);
	}
	return 0;
}

static struct json_object *
member(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* One RDN: the attribute oid with value s (IA5String when ia5). */
static int
attr_add(struct build *b, const char *oid, const char *s, int ia5,
    const char *what)
{
	size_t off = b->der.len;
	unsigned tag = printable(s) ? 0x13 : 0x0c;

	if (s[0] == '\0')
		return 0;	/* as Go, an empty value is no attribute */
	if (ia5) {
		const char *c;

		for (c = s; *c != '\0'; c++)
			if ((unsigned char)*c > 0x7e)
				return ca_err(CA_ERR_INVAL, "%s: not ASCII",
				    what);
		tag = 0x16;
	}
	dtlv(&b->der, tag, s, strlen(s));
	return piece_add(b->attr, &b->n_attr, CA_CERTTMPL_LIST_MAX,
	    "subject attributes", oid, 0, &b->der, off);
}

static int
subject_parse(struct build *b, struct json_object *o)
{
	static const char *const known[] = { "commonName", "country",
		"organization", "organizationalUnit", "locality", "province",
		"streetAddress", "postalCode", "serialNumber", "extraNames",
		NULL };
	/* Go's pkix.Name.ToRDNSequence order. */
	static const struct { const char *name, *oid; } multi[] = {
		{ "country", "2.5.4.6" }, { "province", "2.5.4.8" },
		{ "locality", "2.5.4.7" }, { "streetAddress", "2.5.4.9" },
		{ "postalCode", "2.5.4.17" }, { "organization", "2.5.4.10" },
		{ "organizationalUnit", "2.5.4.11" },
	};
	const char *vals[CA_CERTTMPL_LIST_MAX], *s;
	struct json_object *v, *x, *t, *xv;
	char what[64];
	size_t i, j, n;
	int rc;

	if (json_object_is_type(o, json_type_string)) {
		/* step: a string is the common name */
		if ((rc = str_get(o, "subject", &s)) != 0)
			return rc;
		if (s[0] != '\0' && (b->cn = strdup(s)) == NULL)
			return nomem();
		return s[0] == '\0' ? 0 : attr_add(b, "2.5.4.3", s, 0,
		    "subject");
	}
	if (!json_object_is_type(o, json_type_object))
		return ca_err(CA_ERR_INVAL, "subject: not an object");
	if ((rc = members_check(o, "subject", known)) != 0)
		return rc;
	for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
		snprintf(what, sizeof(what), "subject.%s", multi[i].name);
		if ((rc = multi_get(member(o, multi[i].name), what, vals,
		    CA_CERTTMPL_LIST_MAX, &n)) != 0)
			return rc;
		for (j = 0; j < n; j++)
			if ((rc = attr_add(b, multi[i].oid, vals[j], 0,
			    what)) != 0)
				return rc;
	}
	if ((v = member(o, "commonName")) != NULL) {
		if ((rc = str_get(v, "subject.commonName", &s)) != 0)
			return rc;
		if (s[0] != '\0') {
			if ((rc = ca_x509_cn_check(s)) != 0) {
				ca_err_context("subject.commonName");
				return rc;
			}
			if ((b->cn = strdup(s)) == NULL)
				return nomem();
			if ((rc = attr_add(b, "2.5.4.3", s, 0,
			    "subject.commonName")) != 0)
				return rc;
		}
	}
	if ((v = member(o, "serialNumber")) != NULL) {
		if ((rc = str_get(v, "subject.serialNumber", &s)) != 0 ||
		    (rc = attr_add(b, "2.5.4.5", s, 0,
		    "subject.serialNumber")) != 0)
			return rc;
	}
	if ((v = member(o, "extraNames")) == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return ca_err(CA_ERR_INVAL, "subject.extraNames: not a list");
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		static const char *const xk[] = { "type", "value", NULL };

		x = json_object_array_get_idx(v, i);
		snprintf(what, sizeof(what), "subject.extraNames[%zu]", i);
		if (!json_object_is_type(x, json_type_object))
			return ca_err(CA_ERR_INVAL, "%s: not an object", what);
		if ((rc = members_check(x, what, xk)) != 0)
			return rc;
		if ((t = member(x, "type")) == NULL ||
		    (xv = member(x, "value")) == NULL)
			return ca_err(CA_ERR_INVAL, "%s: needs a type and a "
			    "value", what);
		if ((rc = str_get(t, what, &s)) != 0 ||
		    (rc = doid(NULL, s)) != 0) {
			ca_err_context("%s.type", what);
			return rc;
		}
		if (!json_object_is_type(xv, json_type_string))
			return ca_err(CA_ERR_INVAL, "%s.value: only a string "
			    "is supported", what);
		if ((rc = str_get(xv, what, &vals[0])) != 0 ||
		    (rc = attr_add(b, s, vals[0],
		    strcmp(s, "1.2.840.113549.1.9.1") == 0, what)) != 0)
			return rc;
	}
	return 0;
}

/* A name of a declared type ("dns", ...; NULL: guessed as step does). */
static int
san_add(struct build *b, const char *type, const char *value,
    const char *what)
{
	if (value[0] == '\0')
		return 0;	/* step sets no SAN for an empty value */
	if (b->n_sans >= b->max_sans)
		return ca_err(CA_ERR_INVAL, "%s: more than %zu names", what,
		    b->max_sans);
	if ((b->sans[b->n_sans] = strdup(value)) == NULL)
		return nomem();
	b->san_type[b->n_sans++] = type;
	return 0;
}

static int
sans_parse(struct build *b, struct json_object *v)
{
	static const char *const known[] = { "type", "value", "asn1Value",
		NULL };
	struct json_object *x, *t;
	const char *type, *value;
	char what[48];
	size_t i, n;
	int rc;

	if (!json_object_is_type(v, json_type_array))
		return ca_err(CA_ERR_INVAL, "sans: not a list");
	if ((n = json_object_array_length(v)) > b->max_sans)
		return ca_err(CA_ERR_INVAL, "sans: more than %zu names",
		    b->max_sans);
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(v, i);
		snprintf(what, sizeof(what), "sans[%zu]", i);
		if (!json_object_is_type(x, json_type_object))
			return ca_err(CA_ERR_INVAL, "%s: not an object", what);
		if ((rc = members_check(x, what, known)) != 0)
			return rc;
		if (member(x, "asn1Value") != NULL)
			return ca_err(CA_ERR_INVAL, "%s.asn1Value: not "
			    "supported (dns, email, ip and uri names are)",
			    what);
		type = "";
		if ((t = member(x, "type")) != NULL &&
		    (rc = str_get(t, what, &type)) != 0)
			return rc;
		if ((t = member(x, "value")) == NULL)
			return ca_err(CA_ERR_INVAL, "%s: no value", what);
		if ((rc = str_get(t, what, &value)) != 0)
			return rc;
		if (type[0] == '\0' || strcasecmp(type, "auto") == 0)
			type = NULL;
		else if (strcasecmp(type, "dns") == 0)
			type = "dns";
		else if (strcasecmp(type, "email") == 0)
			type = "email";
		else if (strcasecmp(type, "ip") == 0)
			type = "ip";
		else if (strcasecmp(type, "uri") == 0)
			type = "uri";
		else
			return ca_err(CA_ERR_INVAL, "%s: type \"%.32s\" is not "
			    "supported (dns, email, ip, uri, auto)", what, type);
		if ((rc = san_add(b, type, value, what)) != 0)
			return rc;
	}
	return 0;
}

/*
 * RFC 3339 as Go's time.Time reads it: YYYY-MM-DDTHH:MM:SS[.frac]
 * (Z|+hh:mm|-hh:mm). Go's zero time (year 1) means unset: *t = 0.
 */
static int
time_parse(const char *s, const char *what, time_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, n = 0;
	char sign;
	const char *p;
	int64_t days, secs;

	*t = 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
	    &n) != 6 || n != 19)
		goto bad;
	p = s + n;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			;
		if (p == s + n + 1)
			goto bad;
	}
	if (*p == 'Z' && p[1] == '\0')
		;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    sscanf(p, "%c%2d:%2d", &sign, &oh, &om) == 3 &&
	    isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[4]) &&
	    oh < 24 && om < 60) {
		if (sign == '-') {
			oh = -oh;
			om = -om;
		}
	} else
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		goto bad;
	if (y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && sec == 0)
		return 0;	/* Go's zero time: not set */
	if (y < 1950 || y > 9999)
		return ca_err(CA_ERR_INVAL, "%s: year %d is out of range",
		    what, y);
	/* days from civil (H. Hinnant) */
	{
		int yy = y - (mo <= 2);
		int era = yy / 400;
		int yoe = yy - era * 400;
		int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = (int64_t)era * 146097 + doe - 719468;
	}
	secs = days * 86400 + h * 3600 + mi * 60 + sec - (oh * 3600 + om * 60);
	*t = (time_t)secs;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL, "%s: \"%.40s\" is not an RFC 3339 time",
	    what, s);
}

/* KeyUsage names as step reads them (lower case, '_' dropped). */
static const struct { const char *name; unsigned bit; } ku_names[] = {
	{ "digitalsignature", 0 }, { "contentcommitment", 1 },
	{ "nonrepudiation", 1 }, { "keyencipherment", 2 },
	{ "dataencipherment", 3 }, { "keyagreement", 4 },
	{ "certsign", 5 }, { "crlsign", 6 }, { "encipheronly", 7 },
	{ "decipheronly", 8 },
};

static const struct { const char *name, *oid; } eku_names[] = {
	{ "any", "2.5.29.37.0" },
	{ "serverauth", "1.3.6.1.5.5.7.3.1" },
	{ "clientauth", "1.3.6.1.5.5.7.3.2" },
	{ "codesigning", "1.3.6.1.5.5.7.3.3" },
	{ "emailprotection", "1.3.6.1.5.5.7.3.4" },
	{ "ipsecendsystem", "1.3.6.1.5.5.7.3.5" },
	{ "ipsectunnel", "1.3.6.1.5.5.7.3.6" },
	{ "ipsecuser", "1.3.6.1.5.5.7.3.7" },
	{ "timestamping", "1.3.6.1.5.5.7.3.8" },
	{ "ocspsigning", "1.3.6.1.5.5.7.3.9" },
	{ "microsoftservergatedcrypto", "1.3.6.1.4.1.311.10.3.3" },
	{ "netscapeservergatedcrypto", "2.16.840.1.113730.4.1" },
	{ "microsoftcommercialcodesigning", "1.3.6.1.4.1.311.2.1.22" },
	{ "microsoftkernelcodesigning", "1.3.6.1.4.1.311.61.1.1" },
};

/* step's convertName: lower case without '_'. */
static void
convert_name(const char *s, char *buf, size_t size)
{
	size_t k = 0;

	for (; *s != '\0' && k + 1 < size; s++)
		if (*s != '_')
			buf[k++] = (char)tolower((unsigned char)*s);
	buf[k] = '\0';
}

static int
ku_parse(struct build *b, struct json_object *v)
{
	const char *vals[CA_CERTTMPL_LIST_MAX];
	unsigned ku = 0, k;
	unsigned char bits[3];
	char nm[40];
	size_t i, j, n, off;
	int rc, last;

	if ((rc = multi_get(v, "keyUsage", vals, CA_CERTTMPL_LIST_MAX,
	    &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		convert_name(vals[i], nm, sizeof(nm));
		for (j = 0; j < sizeof(ku_names) / sizeof(ku_names[0]); j++)
			if (strcmp(ku_names[j].name, nm) == 0)
				break;
		if (j == sizeof(ku_names) / sizeof(ku_names[0]))
			return ca_err(CA_ERR_INVAL, "keyUsage: \"%.40s\" is "
			    "not a key usage", vals[i]);
		if (!b->ca && (ku_names[j].bit == 5 || ku_names[j].bit == 6))
			return ca_err(CA_ERR_FORBIDDEN, "keyUsage %s: a leaf "
			    "template may not make a CA (certSign and crlSign "
			    "are refused)", vals[i]);
		ku |= 1u << ku_names[j].bit;
	}
	b->ku = ku;
	if (ku == 0)
		return 0;	/* as Go: no extension */
	/* BIT STRING, bit 0 first, trailing zero bits dropped (DER). */
	bits[1] = 0;
	bits[2] = 0;
	for (k = 0; k < 9; k++)
		if (ku & (1u << k))
			bits[1 + k / 8] |= (unsigned char)(0x80 >> (k % 8));
	for (last = 8; !(ku & (1u << last)); last--)
		;
	bits[0] = (unsigned char)(7 - last % 8);
	off = b->der.len;
	dtlv(&b->der, 0x03, bits, last < 8 ? 2 : 3);
	return ext_add(b, "2.5.29.15", 1, off);
}

static int
eku_parse(struct build *b, struct json_object *v, struct json_object *unk)
{
	const char *vals[CA_CERTTMPL_LIST_MAX], *oids[CA_CERTTMPL_LIST_MAX];
	char nm[40];
	size_t i, j, n, m, off;
	int rc;

	if ((rc = multi_get(v, "extKeyUsage", vals, CA_CERTTMPL_LIST_MAX,
	    &n)) != 0 ||
	    (rc = multi_get(unk, "unknownExtKeyUsage", oids,
	    CA_CERTTMPL_LIST_MAX, &m)) != 0)
		return rc;
	if (n + m == 0)
		return 0;
	off = b->der.len;
	for (i = 0; i < n; i++) {
		convert_name(vals[i], nm, sizeof(nm));
		for (j = 0; j < sizeof(eku_names) / sizeof(eku_names[0]); j++)
			if (strcmp(eku_names[j].name, nm) == 0)
				break;
		if (j == sizeof(eku_names) / sizeof(eku_names[0]))
			return ca_err(CA_ERR_INVAL, "extKeyUsage: \"%.40s\" is "
			    "not an extended key usage", vals[i]);
		(void)doid(&b->der, eku_names[j].oid);
	}
	for (i = 0; i < m; i++)
		if ((rc = doid(&b->der, oids[i])) != 0) {
			ca_err_context("unknownExtKeyUsage");
			return rc;
		}
	dwrap(&b->der, 0x30, off);
	return ext_add(b, "2.5.29.37", 0, off);
}

/* v an object whose members are among known. */
static int
object_check(struct json_object *v, const char *what,
    const char *const *known)
{
	if (!json_object_is_type(v, json_type_object))
		return ca_err(CA_ERR_INVAL, "%s: not an object", what);
	return members_check(v, what, known);
}

/* Member name of o, a boolean if present: *out (unchanged if absent). */
static int
bool_member(struct json_object *o, const char *name, const char *what,
    int *out)
{
	struct json_object *m;

	if ((m = member(o, name)) == NULL)
		return 0;
	if (!json_object_is_type(m, json_type_boolean))
		return ca_err(CA_ERR_INVAL, "%s.%s: not a boolean", what, name);
	*out = json_object_get_boolean(m);
	return 0;
}

static int
bc_parse(struct build *b, struct json_object *v)
{
	static const char *const known[] = { "isCA", "maxPathLen", NULL };
	static const unsigned char yes[] = { 0xff };
	struct json_object *pl;
	unsigned char n;
	size_t off;
	int rc;
	int64_t len;

	if ((rc = object_check(v, "basicConstraints", known)) != 0 ||
	    (rc = bool_member(v, "isCA", "basicConstraints", &b->is_ca)) != 0)
		return rc;
	if (b->is_ca && !b->ca)
		return ca_err(CA_ERR_FORBIDDEN, "basicConstraints isCA true: a "
		    "leaf template may not make a CA");
	if ((pl = member(v, "maxPathLen")) != NULL &&
	    !json_object_is_type(pl, json_type_int))
		return ca_err(CA_ERR_INVAL, "basicConstraints.maxPathLen: not "
		    "an integer");
	off = b->der.len;
	if (!b->is_ca) {
		/* CA:FALSE: an empty SEQUENCE (Go leaves the path length
		 * out). */
		dtlv(&b->der, 0x30, NULL, 0);
		return ext_add(b, "2.5.29.19", 1, off);
	}
	/* As x509util: missing or 0 is pathlen 0, negative no limit. */
	len = pl != NULL ? json_object_get_int64(pl) : 0;
	if (len > CA_CERTTMPL_PATHLEN_MAX)
		return ca_err(CA_ERR_INVAL, "basicConstraints.maxPathLen: more "
		    "than %d", CA_CERTTMPL_PATHLEN_MAX);
	b->path_len = len < 0 ? -1 : (int)len;
	dtlv(&b->der, 0x01, yes, 1);
	if (b->path_len >= 0) {
		n = (unsigned char)b->path_len;
		dtlv(&b->der, 0x02, &n, 1);
	}
	dwrap(&b->der, 0x30, off);
	return ext_add(b, "2.5.29.19", 1, off);
}

/* A list of URLs as [6] IA5String GeneralNames, each wrapped in tag. */
static int
urls_get(struct json_object *v, const char *what, const char **vals,
    size_t *n)
{
	size_t i;
	const char *c;
	int rc;

	if ((rc = multi_get(v, what, vals, CA_CERTTMPL_LIST_MAX, n)) != 0)
		return rc;
	for (i = 0; i < *n; i++) {
		for (c = vals[i]; *c != '\0'; c++)
			if ((unsigned char)*c > 0x7e)
				return ca_err(CA_ERR_INVAL, "%s: \"%.64s\" is "
				    "not ASCII", what, vals[i]);
		if (vals[i][0] == '\0')
			return ca_err(CA_ERR_INVAL, "%s: an empty URL", what);
	}
	return 0;
}

static int
crldp_parse(struct build *b, struct json_object *v)
{
	const char *vals[CA_CERTTMPL_LIST_MAX];
	size_t i, n, off, dp, nm, full;
	int rc;

	if ((rc = urls_get(v, "crlDistributionPoints", vals, &n)) != 0)
		return rc;
	if (n == 0)
		return 0;
	off = b->der.len;
	/* As Go: one DistributionPoint per URL, [0] name, [0] fullName. */
	for (i = 0; i < n; i++) {
		dp = b->der.len;
		nm = b->der.len;
		full = b->der.len;
		dtlv(&b->der, 0x86, vals[i], strlen(vals[i]));
		dwrap(&b->der, 0xa0, full);
		dwrap(&b->der, 0xa0, nm);
		dwrap(&b->der, 0x30, dp);
	}
	dwrap(&b->der, 0x30, off);
	return ext_add(b, "2.5.29.31", 0, off);
}

static int
aia_parse(struct build *b, struct json_object *ocsp, struct json_object *ca)
{
	const char *o[CA_CERTTMPL_LIST_MAX], *c[CA_CERTTMPL_LIST_MAX];
	size_t i, n, m, off, ad;
	int rc;

	if ((rc = urls_get(ocsp, "ocspServer", o, &n)) != 0 ||
	    (rc = urls_get(ca, "issuingCertificateURL", c, &m)) != 0)
		return rc;
	if (n + m == 0)
		return 0;
	off = b->der.len;
	/* As Go: the OCSP responders, then the CA issuers. */
	for (i = 0; i < n + m; i++) {
		ad = b->der.len;
		(void)doid(&b->der, i < n ? "1.3.6.1.5.5.7.48.1" :
		    "1.3.6.1.5.5.7.48.2");
		dtlv(&b->der, 0x86, i < n ? o[i] : c[i - n],
		    strlen(i < n ? o[i] : c[i - n]));
		dwrap(&b->der, 0x30, ad);
	}
	dwrap(&b->der, 0x30, off);
	return ext_add(b, "1.3.6.1.5.5.7.1.1", 0, off);
}

static int
policies_parse(struct build *b, struct json_object *v)
{
	const char *vals[CA_CERTTMPL_LIST_MAX];
	size_t i, n, off, pi;
	int rc;

	if ((rc = multi_get(v, "policyIdentifiers", vals, CA_CERTTMPL_LIST_MAX,
	    &n)) != 0)
		return rc;
	if (n == 0)
		return 0;
	off = b->der.len;
	for (i = 0; i < n; i++) {
		pi = b->der.len;
		if ((rc = doid(&b->der, vals[i])) != 0) {
			ca_err_context("policyIdentifiers");
			return rc;
		}
		dwrap(&b->der, 0x30, pi);
	}
	dwrap(&b->der, 0x30, off);
	return ext_add(b, "2.5.29.32", 0, off);
}

/* One CIDR range ("10.0.0.0/8", "2001:db8::/32") as address and mask. */
static int
cidr_get(const char *s, const char *what, unsigned char *out, size_t *n)
{
	char addr[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(s, '/');
	size_t alen, i;
	long bits;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, out) == 1)
		alen = 4;
	else if (inet_pton(AF_INET6, addr, out) == 1)
		alen = 16;
	else
		goto bad;
	if (!isdigit((unsigned char)slash[1]))
		goto bad;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0' || bits > (long)alen * 8)
		goto bad;
	for (i = 0; i < alen; i++) {
		out[alen + i] = (unsigned char)(bits >= 8 ? 0xff :
		    bits <= 0 ? 0 : 0xff << (8 - bits));
		bits -= 8;
		out[i] &= out[alen + i];
	}
	*n = 2 * alen;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL, "%s: \"%.64s\" is not an address range "
	    "(ADDRESS/BITS)", what, s);
}

/* GeneralSubtrees of one kind (tag: the GeneralName's) from member. */
static int
subtrees_add(struct build *b, struct json_object *o, const char *name,
    unsigned tag)
{
	const char *vals[CA_CERTTMPL_LIST_MAX];
	unsigned char ip[32];
	char what[64];
	size_t i, n, len = 0, off;
	int rc;

	snprintf(what, sizeof(what), "nameConstraints.%s", name);
	if ((rc = multi_get(member(o, name), what, vals,
	    CA_CERTTMPL_LIST_MAX, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		off = b->der.len;
		if (tag == 0x87) {
			if ((rc = cidr_get(vals[i], what, ip, &len)) != 0)
				return rc;
			dtlv(&b->der, tag, ip, len);
		} else {
			if (vals[i][0] == '\0')
				return ca_err(CA_ERR_INVAL, "%s: an empty name",
				    what);
			dtlv(&b->der, tag, vals[i], strlen(vals[i]));
		}
		dwrap(&b->der, 0x30, off);
	}
	return 0;
}

/* nameConstraints (x509util's NameConstraints): a CA's template only. */
static int
nc_parse(struct build *b, struct json_object *v)
{
	static const char *const known[] = { "critical",
		"permittedDNSDomains", "excludedDNSDomains",
		"permittedIPRanges", "excludedIPRanges",
		"permittedEmailAddresses", "excludedEmailAddresses",
		"permittedURIDomains", "excludedURIDomains", NULL };
	/* GeneralName tags: dNSName, iPAddress, rfc822Name, URI. */
	static const unsigned tags[] = { 0x82, 0x87, 0x81, 0x86 };
	size_t off, sub, k;
	int rc, crit = 0, pass;

	if ((rc = object_check(v, "nameConstraints", known)) != 0 ||
	    (rc = bool_member(v, "critical", "nameConstraints", &crit)) != 0)
		return rc;
	off = b->der.len;
	for (pass = 0; pass < 2; pass++) {
		sub = b->der.len;
		for (k = 0; k < 4; k++) {
			if ((rc = subtrees_add(b, v, known[1 + 2 * k + pass],
			    tags[k])) != 0)
				return rc;
		}
		if (b->der.len > sub)
			dwrap(&b->der, 0xa0 | (unsigned)pass, sub);
	}
	if (b->der.len == off)
		return 0;	/* as Go: nothing constrained, no extension */
	dwrap(&b->der, 0x30, off);
	return ext_add(b, "2.5.29.30", crit, off);
}

/*
 * Raw extensions may not stand in for what the CA writes (SKI, AKI, the
 * provisioner extension) nor for what is checked here through its own
 * member (names, key usages, basic and name constraints, ...).
 */
static const struct { const char *oid, *why; } ext_refused[] = {
	{ "2.5.29.14", "the subject key identifier is the CA's" },
	{ "2.5.29.35", "the authority key identifier is the CA's" },
	{ CA_OID_STEP_PROVISIONER, "the provisioner extension is the CA's" },
	{ "2.5.29.17", "names go in sans, dnsNames, ipAddresses, "
	    "emailAddresses or uris (the policy checks them)" },
	{ "2.5.29.15", "use keyUsage" },
	{ "2.5.29.37", "use extKeyUsage" },
	{ "2.5.29.19", "use basicConstraints" },
	{ "2.5.29.30", "name constraints are refused in a leaf" },
	{ "2.5.29.31", "use crlDistributionPoints" },
	{ "1.3.6.1.5.5.7.1.1", "use ocspServer and issuingCertificateURL" },
	{ "2.5.29.32", "use policyIdentifiers" },
};

static int
exts_parse(struct build *b, struct json_object *v)
{
	static const char *const known[] = { "id", "critical", "value", NULL };
	struct json_object *x, *m;
	const char *id, *val;
	gnutls_datum_t in, out = { NULL, 0 };
	char what[40];
	size_t i, j, n, off;
	int rc, ret, crit;

	if (!json_object_is_type(v, json_type_array))
		return ca_err(CA_ERR_INVAL, "extensions: not a list");
	if ((n = json_object_array_length(v)) > CA_CERTTMPL_LIST_MAX)
		return ca_err(CA_ERR_INVAL, "extensions: more than %d",
		    CA_CERTTMPL_LIST_MAX);
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(v, i);
		snprintf(what, sizeof(what), "extensions[%zu]", i);
		if (!json_object_is_type(x, json_type_object))
			return ca_err(CA_ERR_INVAL, "%s: not an object", what);
		if ((rc = members_check(x, what, known)) != 0)
			return rc;
		if ((m = member(x, "id")) == NULL)
			return ca_err(CA_ERR_INVAL, "%s: no id", what);
		if ((rc = str_get(m, what, &id)) != 0)
			return rc;
		if ((rc = doid(NULL, id)) != 0) {
			ca_err_context("%s.id", what);
			return rc;
		}
		for (j = 0; j < sizeof(ext_refused) / sizeof(ext_refused[0]); j++)
			if (strcmp(ext_refused[j].oid, id) == 0)
				return ca_err(CA_ERR_FORBIDDEN, "%s: extension "
				    "%s is refused: %s", what, id,
				    ext_refused[j].why);
		crit = 0;
		if ((m = member(x, "critical")) != NULL) {
			if (!json_object_is_type(m, json_type_boolean))
				return ca_err(CA_ERR_INVAL, "%s.critical: not a "
				    "boolean", what);
			crit = json_object_get_boolean(m);
		}
		if ((m = member(x, "value")) == NULL ||
		    !json_object_is_type(m, json_type_string))
			return ca_err(CA_ERR_INVAL, "%s.value: not a base64 "
			    "string", what);
		val = json_object_get_string(m);
		in.data = (unsigned char *)(uintptr_t)val;
		in.size = (unsigned)json_object_get_string_len(m);
		if (in.size > CA_CERTTMPL_EXT_MAX * 4 / 3 + 4)
			return ca_err(CA_ERR_INVAL, "%s.value: longer than %d "
			    "bytes", what, CA_CERTTMPL_EXT_MAX);
		if (in.size == 0 ||
		    (ret = gnutls_base64_decode2(&in, &out)) < 0)
			return ca_err(CA_ERR_INVAL, "%s.value: not base64",
			    what);
		off = b->der.len;
		dput(&b->der, out.data, out.size);
		gnutls_free(out.data);
		if ((rc = ext_add(b, id, crit, off)) != 0)
			return rc;
	}
	return 0;
}

static int
names_member(struct build *b, struct json_object *o, const char *name,
    const char *type)
{
	const char *vals[CA_MAX_SANS_LIMIT];
	size_t i, n;
	int rc;

	if ((rc = multi_get(member(o, name), name, vals, b->max_sans,
	    &n)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = san_add(b, type, vals[i], name)) != 0)
			return rc;
	return 0;
}

/* The names, typed: a declared type must be the one step would guess. */
static int
names_finish(struct build *b, struct ca_names *out)
{
	struct ca_names one;
	const char *got;
	size_t i;
	int rc;

	for (i = 0; i < b->n_sans; i++) {
		if (b->san_type[i] == NULL)
			continue;
		if ((rc = ca_names_classify((const char *const *)&b->sans[i], 1,
		    &one)) != 0) {
			ca_err_context("template name");
			return rc;
		}
		(void)ca_names_at(&one, 0, &got);
		rc = strcmp(got, b->san_type[i]) != 0;
		ca_names_free(&one);
		if (rc)
			return ca_err(CA_ERR_INVAL, "template name \"%.64s\" is "
			    "not of type %s (ca-tools types names as step "
			    "guesses them)", b->sans[i], b->san_type[i]);
	}
	if ((rc = ca_names_classify((const char *const *)b->sans, b->n_sans,
	    out)) != 0)
		ca_err_context("template name");
	return rc;
}

static const char *const top_known[] = {
	"version", "subject", "rawSubject", "issuer", "serialNumber",
	"dnsNames", "emailAddresses", "ipAddresses", "uris", "sans",
	"notBefore", "notAfter", "extensions", "keyUsage", "extKeyUsage",
	"unknownExtKeyUsage", "subjectKeyId", "authorityKeyId", "ocspServer",
	"issuingCertificateURL", "crlDistributionPoints", "policyIdentifiers",
	"basicConstraints", "nameConstraints", "signatureAlgorithm", NULL
};

/* step's members whose value here is the CA's: refused when set. */
static const struct { const char *name, *why; } top_refused[] = {
	{ "rawSubject", "the subject is written from \"subject\"" },
	{ "serialNumber", "the serial number is the CA's" },
	{ "subjectKeyId", "the subject key identifier is the CA's" },
	{ "authorityKeyId", "the authority key identifier is the CA's" },
	{ "signatureAlgorithm", "the CA's key decides it" },
	{ "nameConstraints", "name constraints are refused in a leaf" },
};

static int
build_parse(struct build *b, struct json_object *root)
{
	struct json_object *v;
	const char *s;
	size_t i;
	int rc;

	if (!json_object_is_type(root, json_type_object))
		return ca_err(CA_ERR_INVAL, "not a JSON object");
	if ((rc = members_check(root, "template", top_known)) != 0)
		return rc;
	for (i = 0; i < sizeof(top_refused) / sizeof(top_refused[0]); i++)
		if ((v = member(root, top_refused[i].name)) != NULL &&
		    !(b->ca && strcmp(top_refused[i].name,
		    "nameConstraints") == 0) &&
		    !(json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) == 0) &&
		    !(json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) == 0))
			return ca_err(strcmp(top_refused[i].name,
			    "nameConstraints") == 0 ? CA_ERR_FORBIDDEN :
			    CA_ERR_INVAL, "%s: refused: %s",
			    top_refused[i].name, top_refused[i].why);
	/* Go writes version 3 whatever is asked; so do we. */
	if ((v = member(root, "version")) != NULL &&
	    (!json_object_is_type(v, json_type_int) ||
	    (json_object_get_int64(v) != 0 && json_object_get_int64(v) != 3)))
		return ca_err(CA_ERR_INVAL, "version: 3 (or 0) is supported");
	/* "issuer" is ignored: Go, and so step-ca, write the CA's subject. */
	if ((v = member(root, "subject")) != NULL &&
	    (rc = subject_parse(b, v)) != 0)
		return rc;
	if ((v = member(root, "sans")) != NULL && (rc = sans_parse(b, v)) != 0)
		return rc;
	if ((rc = names_member(b, root, "dnsNames", "dns")) != 0 ||
	    (rc = names_member(b, root, "emailAddresses", "email")) != 0 ||
	    (rc = names_member(b, root, "ipAddresses", "ip")) != 0 ||
	    (rc = names_member(b, root, "uris", "uri")) != 0)
		return rc;
	if ((v = member(root, "notBefore")) != NULL &&
	    ((rc = str_get(v, "notBefore", &s)) != 0 ||
	    (rc = time_parse(s, "notBefore", &b->nb)) != 0))
		return rc;
	if ((v = member(root, "notAfter")) != NULL &&
	    ((rc = str_get(v, "notAfter", &s)) != 0 ||
	    (rc = time_parse(s, "notAfter", &b->na)) != 0))
		return rc;
	/* Go's order of the extensions it writes, then the raw ones. */
	if (((v = member(root, "keyUsage")) != NULL &&
	    (rc = ku_parse(b, v)) != 0) ||
	    (rc = eku_parse(b, member(root, "extKeyUsage"),
	    member(root, "unknownExtKeyUsage"))) != 0 ||
	    ((v = member(root, "basicConstraints")) != NULL &&
	    (rc = bc_parse(b, v)) != 0) ||
	    ((v = member(root, "nameConstraints")) != NULL && b->ca &&
	    (rc = nc_parse(b, v)) != 0) ||
	    (rc = aia_parse(b, member(root, "ocspServer"),
	    member(root, "issuingCertificateURL"))) != 0 ||
	    ((v = member(root, "policyIdentifiers")) != NULL &&
	    (rc = policies_parse(b, v)) != 0) ||
	    ((v = member(root, "crlDistributionPoints")) != NULL &&
	    (rc = crldp_parse(b, v)) != 0) ||
	    ((v = member(root, "extensions")) != NULL &&
	    (rc = exts_parse(b, v)) != 0))
		return rc;
	if (b->der.nomem)
		return nomem();
	return 0;
}

static int add(struct json_object *, const char *, struct json_object *);
static int cert_parse(const char *, size_t, size_t,
    const struct ca_certtmpl_in *, int, struct ca_certtmpl_cert **);

static void
build_free(struct build *b)
{
	size_t i;

	free(b->der.p);
	for (i = 0; i < b->n_attr; i++)
		free(b->attr[i].oid);
	for (i = 0; i < b->n_ext; i++)
		free(b->ext[i].oid);
	for (i = 0; i < b->n_sans; i++)
		free(b->sans[i]);
	free(b->cn);
}

void
ca_certtmpl_cert_free(struct ca_certtmpl_cert *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->profile.n_subject; i++)
		free((char *)(uintptr_t)c->attrs[i].oid);
	for (i = 0; i < c->profile.n_ext; i++)
		free((char *)(uintptr_t)c->exts[i].oid);
	free(c->attrs);
	free(c->exts);
	free(c->der);
	free(c->cn);
	ca_names_free(&c->names);
	free(c);
}

/* Hand b's pieces over to a new certificate: pointers into one buffer. */
static int
build_finish(struct build *b, struct ca_certtmpl_cert **out)
{
	struct ca_certtmpl_cert *c = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (b->n_attr > 0 && (c->attrs = calloc(b->n_attr,
	    sizeof(*c->attrs))) == NULL) ||
	    (b->n_ext > 0 && (c->exts = calloc(b->n_ext,
	    sizeof(*c->exts))) == NULL)) {
		rc = nomem();
		goto out;
	}
	if ((rc = names_finish(b, &c->names)) != 0)
		goto out;
	if (b->n_attr == 0 && ca_names_count(&c->names) == 0) {
		rc = ca_err(CA_ERR_INVAL, "the template gives neither a "
		    "subject nor a name");
		goto out;
	}
	c->der = b->der.p;
	b->der.p = NULL;
	for (i = 0; i < b->n_attr; i++) {
		c->attrs[i].oid = b->attr[i].oid;
		c->attrs[i].der = c->der + b->attr[i].off;
		c->attrs[i].len = b->attr[i].len;
	}
	for (i = 0; i < b->n_ext; i++) {
		c->exts[i].oid = b->ext[i].oid;
		c->exts[i].critical = b->ext[i].critical;
		c->exts[i].der = c->der + b->ext[i].off;
		c->exts[i].len = b->ext[i].len;
	}
	c->profile.subject = c->attrs;
	c->profile.n_subject = b->n_attr;
	c->profile.ext = c->exts;
	c->profile.n_ext = b->n_ext;
	b->n_attr = b->n_ext = 0;
	c->cn = b->cn;
	b->cn = NULL;
	c->not_before = b->nb;
	c->not_after = b->na;
	c->max_path_len = b->path_len;
	*out = c;
	c = NULL;
	rc = 0;
out:
	ca_certtmpl_cert_free(c);
	return rc;
}

int
ca_certtmpl_cert_parse(const char *json, size_t len, size_t max_sans,
    struct ca_certtmpl_cert **out)
{
	return cert_parse(json, len, max_sans, NULL, 0, out);
}

/* Where the template is silent, the CA's CRL and OCSP URLs. */
static int
cert_defaults(struct json_object *root, const struct ca_certtmpl_in *in)
{
	if (in == NULL || !json_object_is_type(root, json_type_object))
		return 0;
	if (in->crl_url != NULL && member(root, "crlDistributionPoints") ==
	    NULL && add(root, "crlDistributionPoints",
	    json_object_new_string(in->crl_url)) != 0)
		return nomem();
	if (in->ocsp_url != NULL && member(root, "ocspServer") == NULL &&
	    add(root, "ocspServer", json_object_new_string(in->ocsp_url)) != 0)
		return nomem();
	return 0;
}

/* What a CA's template must give, and what is ca-init's. */
static int
ca_check(const struct build *b, struct json_object *root)
{
	static const char *const theirs[] = { "sans", "dnsNames",
		"emailAddresses", "ipAddresses", "uris", "notBefore",
		"notAfter", NULL };
	size_t i;

	for (i = 0; theirs[i] != NULL; i++)
		if (member(root, theirs[i]) != NULL)
			return ca_err(CA_ERR_INVAL, "%s: refused in a CA's "
			    "template (ca-init decides a CA's names and "
			    "validity)", theirs[i]);
	if (!b->is_ca)
		return ca_err(CA_ERR_FORBIDDEN, "basicConstraints: a CA's "
		    "template must make a CA (isCA true)");
	if (!(b->ku & (1u << 5)))
		return ca_err(CA_ERR_FORBIDDEN, "keyUsage: a CA's template "
		    "must include certSign");
	if (b->n_attr == 0)
		return ca_err(CA_ERR_INVAL, "subject: a CA's template must "
		    "give one");
	return 0;
}

static int
cert_parse(const char *json, size_t len, size_t max_sans,
    const struct ca_certtmpl_in *in, int ca, struct ca_certtmpl_cert **out)
{
	struct json_object *root = NULL;
	struct build *b;
	int rc;

	*out = NULL;
	if (len > CA_CERTTMPL_OUT_MAX)
		return ca_err(CA_ERR_TOOBIG, "the template rendered more than "
		    "%d bytes", CA_CERTTMPL_OUT_MAX);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return nomem();
	b->max_sans = max_sans < CA_MAX_SANS_LIMIT ? max_sans :
	    CA_MAX_SANS_LIMIT;
	b->ca = ca;
	b->path_len = -1;
	if ((rc = ca_json_parse(json, len, "rendered template", &root)) != 0 ||
	    (rc = cert_defaults(root, in)) != 0 ||
	    (rc = build_parse(b, root)) != 0 ||
	    (ca && (rc = ca_check(b, root)) != 0))
		goto out;
	rc = build_finish(b, out);
out:
	json_object_put(root);
	build_free(b);
	free(b);
	return rc;
}

/* The subject's attributes of crt, each as one RDN. */
static int
crt_subject(struct build *b, gnutls_x509_crt_t crt)
{
	gnutls_x509_dn_t dn;
	gnutls_x509_ava_st ava;
	char oid[128];
	size_t off;
	int irdn, iava, ret, rc;

	if ((ret = gnutls_x509_crt_get_subject(crt, &dn)) < 0)
		return ca_err(CA_ERR_INVAL, "subject: %s", gnutls_strerror(ret));
	for (irdn = 0;; irdn++)
		for (iava = 0;; iava++) {
			ret = gnutls_x509_dn_get_rdn_ava(dn, irdn, iava, &ava);
			if (ret == GNUTLS_E_ASN1_ELEMENT_NOT_FOUND) {
				if (iava == 0)
					return 0;
				break;
			}
			if (ret < 0 || ava.oid.size >= sizeof(oid))
				return ca_err(CA_ERR_INVAL, "subject: %s",
				    gnutls_strerror(ret));
			memcpy(oid, ava.oid.data, ava.oid.size);
			oid[ava.oid.size] = '\0';
			off = b->der.len;
			dtlv(&b->der, ava.value_tag, ava.value.data,
			    ava.value.size);
			if ((rc = piece_add(b->attr, &b->n_attr,
			    CA_CERTTMPL_LIST_MAX, "subject attributes", oid, 0,
			    &b->der, off)) != 0)
				return rc;
		}
}

int
ca_certtmpl_cert_from_crt(gnutls_x509_crt_t crt, struct ca_certtmpl_cert **out)
{
	static const char *const ca_own[] = { "2.5.29.14", "2.5.29.35",
		"2.5.29.17", CA_OID_STEP_PROVISIONER, NULL };
	struct build *b;
	struct ca_names nm;
	gnutls_datum_t v;
	const char *n, *t;
	char oid[128];
	size_t size, off, i, k;
	unsigned crit;
	int ret, rc;

	*out = NULL;
	memset(&nm, 0, sizeof(nm));
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return nomem();
	b->max_sans = CA_MAX_SANS_LIMIT;
	if ((rc = crt_subject(b, crt)) != 0 ||
	    (rc = ca_x509_names(crt, &nm)) != 0)
		goto out;
	for (i = 0; (n = ca_names_at(&nm, i, &t)) != NULL; i++)
		if ((rc = san_add(b, t, n, "names")) != 0)
			goto out;
	for (i = 0;; i++) {
		size = sizeof(oid);
		ret = gnutls_x509_crt_get_extension_info(crt, (unsigned)i, oid,
		    &size, &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			rc = ca_err(CA_ERR_INVAL, "extension %zu: %s", i,
			    gnutls_strerror(ret));
			goto out;
		}
		for (k = 0; ca_own[k] != NULL && strcmp(ca_own[k], oid) != 0;
		    k++)
			;
		if (ca_own[k] != NULL)
			continue;	/* written anew by the CA */
		if ((ret = gnutls_x509_crt_get_extension_data2(crt, (unsigned)i,
		    &v)) < 0) {
			rc = ca_err(CA_ERR_INVAL, "extension %s: %s", oid,
			    gnutls_strerror(ret));
			goto out;
		}
		off = b->der.len;
		dput(&b->der, v.data, v.size);
		gnutls_free(v.data);
		if ((rc = ext_add(b, oid, (int)crit, off)) != 0)
			goto out;
	}
	rc = build_finish(b, out);
out:
	ca_names_free(&nm);
	build_free(b);
	free(b);
	return rc;
}

int
ca_certtmpl_check_names(const struct ca_certtmpl_cert *c, const char *cn,
    const struct ca_names *names)
{
	const char *n, *t, *an, *at;
	size_t i, j;
	int cn_ok;

	for (i = 0; (n = ca_names_at(&c->names, i, &t)) != NULL; i++) {
		for (j = 0; (an = ca_names_at(names, j, &at)) != NULL; j++)
			if (strcmp(t, at) == 0 && (strcmp(t, "dns") == 0 ?
			    strcasecmp(n, an) : strcmp(n, an)) == 0)
				break;
		if (an == NULL)
			return ca_err(CA_ERR_FORBIDDEN, "the template's %s name "
			    "\"%.64s\" is not one the request was authorised "
			    "for", t, n);
	}
	if (c->cn == NULL)
		return 0;
	cn_ok = cn != NULL && strcmp(c->cn, cn) == 0;
	for (j = 0; !cn_ok && (an = ca_names_at(names, j, NULL)) != NULL; j++)
		cn_ok = strcasecmp(c->cn, an) == 0;
	if (!cn_ok)
		return ca_err(CA_ERR_FORBIDDEN, "the template's subject CN "
		    "\"%.64s\" is not one the request was authorised for",
		    c->cn);
	return 0;
}

/* Loading */

void
ca_certtmpl_free(struct ca_certtmpl *t)
{
	if (t == NULL)
		return;
	ca_tmpl_free(t->tmpl);
	json_object_put(t->data);
	free(t);
}

static int trial(const struct ca_certtmpl *, const char *);

int
ca_certtmpl_load(struct json_object *x509, const char *dir,
    const char *where, struct ca_certtmpl **out)
{
	struct json_object *inl = NULL, *file = NULL, *data = NULL;
	struct ca_certtmpl *t = NULL;
	char *path = NULL, *buf = NULL;
	const char *src, *name;
	size_t len;
	int rc;

	*out = NULL;
	if (x509 == NULL || !json_object_is_type(x509, json_type_object))
		return 0;
	inl = member(x509, "template");
	file = member(x509, "templateFile");
	data = member(x509, "templateData");
	if (inl != NULL && json_object_is_type(inl, json_type_string) &&
	    json_object_get_string_len(inl) == 0)
		inl = NULL;
	if (file != NULL && json_object_is_type(file, json_type_string) &&
	    json_object_get_string_len(file) == 0)
		file = NULL;
	if (inl == NULL && file == NULL) {
		if (data != NULL && !(json_object_is_type(data,
		    json_type_object) && json_object_object_length(data) == 0))
			return ca_err(CA_ERR_CONFIG, "%s.templateData: no "
			    "template to give it to", where);
		return 0;
	}
	if (inl != NULL && file != NULL)
		return ca_err(CA_ERR_CONFIG, "%s: template and templateFile "
		    "both set (step-ca takes one)", where);
	if ((inl != NULL && !json_object_is_type(inl, json_type_string)) ||
	    (file != NULL && !json_object_is_type(file, json_type_string)))
		return ca_err(CA_ERR_CONFIG, "%s.%s: not a string", where,
		    inl != NULL ? "template" : "templateFile");
	if (data != NULL && !json_object_is_type(data, json_type_object))
		return ca_err(CA_ERR_CONFIG, "%s.templateData: not an object",
		    where);
	if (inl != NULL) {
		src = json_object_get_string(inl);
		len = (size_t)json_object_get_string_len(inl);
		name = "template";
		if (len > CA_CERTTMPL_FILE_MAX)
			return ca_err(CA_ERR_CONFIG, "%s.template: longer than "
			    "%d bytes", where, CA_CERTTMPL_FILE_MAX);
	} else {
		name = json_object_get_string(file);
		if ((path = name[0] == '/' ? strdup(name) :
		    ca_path_join(dir, name)) == NULL)
			return nomem();
		if ((rc = ca_file_read(path, CA_CERTTMPL_FILE_MAX, &buf,
		    &len)) != 0) {
			ca_err_context("%s.templateFile", where);
			rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_CONFIG;
			goto out;
		}
		src = buf;
		name = path;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		rc = nomem();
		goto out;
	}
	if ((rc = ca_tmpl_parse(src, len, name, &t->tmpl)) != 0) {
		ca_err_context("%s", where);
		rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_CONFIG;
		goto out;
	}
	if (data != NULL)
		t->data = json_object_get(data);
	if ((rc = trial(t, where)) != 0)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	ca_certtmpl_free(t);
	free(buf);
	free(path);
	return rc;
}

/* Rendering */

static int
add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL)
		return nomem();
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return nomem();
	}
	return 0;
}

static struct json_object *
names_array(const struct ca_names *nm, const char *type)
{
	struct json_object *a = json_object_new_array();
	const char *n, *t;
	size_t i;

	for (i = 0; a != NULL && (n = ca_names_at(nm, i, &t)) != NULL; i++)
		if (type == NULL || strcmp(type, t) == 0) {
			struct json_object *v;

			if (type != NULL)
				v = json_object_new_string(n);
			else if ((v = json_object_new_object()) != NULL &&
			    (add(v, "type", json_object_new_string(t)) != 0 ||
			    add(v, "value", json_object_new_string(n)) != 0)) {
				json_object_put(v);
				v = NULL;
			}
			if (v == NULL || json_object_array_add(a, v) != 0) {
				json_object_put(v);
				json_object_put(a);
				a = NULL;
			}
		}
	return a;
}

/*
 * step-ca's template data for a JWK or ACME issuance: Subject
 * {commonName}, SANs [{type, value}], Token (the payload), Insecure.CR
 * (the request: Subject, DNSNames, EmailAddresses, IPAddresses, URIs,
 * PublicKey typed for typeIs), Insecure.User {}, Webhooks {}; then
 * templateData's members over them, as step-ca's json.Unmarshal does.
 */
static int
data_make(const struct ca_certtmpl *t, const struct ca_certtmpl_in *in,
    struct json_object **out)
{
	struct json_object *d, *sub, *cr, *ins, *tok = NULL, *pk, *crsub;
	struct json_object_iterator it, end;
	unsigned bits;
	int rc, pka;

	*out = NULL;
	if ((d = json_object_new_object()) == NULL)
		return nomem();
	if ((rc = add(d, "Subject", sub = json_object_new_object())) != 0 ||
	    (in->cn != NULL && in->cn[0] != '\0' &&
	    (rc = add(sub, "commonName", json_object_new_string(in->cn))) != 0) ||
	    (rc = add(d, "SANs", names_array(in->names, NULL))) != 0 ||
	    (rc = add(d, "Insecure", ins = json_object_new_object())) != 0 ||
	    (rc = add(ins, "User", json_object_new_object())) != 0 ||
	    (rc = add(ins, "CR", cr = json_object_new_object())) != 0 ||
	    (rc = add(cr, "Subject", crsub = json_object_new_object())) != 0 ||
	    (rc = add(crsub, "CommonName", json_object_new_string(
	    in->cn != NULL ? in->cn : ""))) != 0 ||
	    (rc = add(cr, "DNSNames", names_array(in->names, "dns"))) != 0 ||
	    (rc = add(cr, "EmailAddresses", names_array(in->names,
	    "email"))) != 0 ||
	    (rc = add(cr, "IPAddresses", names_array(in->names, "ip"))) != 0 ||
	    (rc = add(cr, "URIs", names_array(in->names, "uri"))) != 0 ||
	    (rc = add(cr, "PublicKey", pk = json_object_new_object())) != 0 ||
	    (rc = add(d, "Webhooks", json_object_new_object())) != 0)
		goto out;
	pka = in->pub != NULL ? gnutls_pubkey_get_pk_algorithm(in->pub,
	    &bits) : in->pk_hint;
	ca_tmpl_set_gotype(pk, pka == GNUTLS_PK_RSA ? "*rsa.PublicKey" :
	    pka == GNUTLS_PK_ECDSA ? "*ecdsa.PublicKey" :
	    pka == GNUTLS_PK_EDDSA_ED25519 ? "ed25519.PublicKey" : "<nil>");
	if ((rc = add(cr, "PublicKeyAlgorithm", json_object_new_string(
	    pka == GNUTLS_PK_RSA ? "RSA" : pka == GNUTLS_PK_ECDSA ? "ECDSA" :
	    pka == GNUTLS_PK_EDDSA_ED25519 ? "Ed25519" : ""))) != 0)
		goto out;
	if (in->token != NULL) {
		if ((rc = ca_json_parse(in->token, in->token_len, "token",
		    &tok)) != 0 || (rc = add(d, "Token", tok)) != 0)
			goto out;
	}
	/* step's structs (Subject, SANs, CR) reached by Go field name too. */
	ca_tmpl_mark_step_data(d);
	if (t->data != NULL) {
		it = json_object_iter_begin(t->data);
		end = json_object_iter_end(t->data);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			struct json_object *v = json_object_iter_peek_value(&it),
			    *copy = NULL;

			if (json_object_deep_copy(v, &copy, NULL) != 0 ||
			    (rc = add(d, json_object_iter_peek_name(&it),
			    copy)) != 0) {
				rc = nomem();
				goto out;
			}
		}
	}
	*out = d;
	d = NULL;
out:
	json_object_put(d);
	return rc;
}

int
ca_certtmpl_render(const struct ca_certtmpl *t,
    const struct ca_certtmpl_in *in, size_t max_sans,
    struct ca_certtmpl_cert **out)
{
	struct json_object *data = NULL;
	char *json = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = data_make(t, in, &data)) != 0)
		goto out;
	if ((rc = ca_tmpl_render(t->tmpl, data, &json, &len)) != 0)
		goto out;
	if ((rc = cert_parse(json, len, max_sans, in, 0, out)) != 0)
		ca_err_context("certificate template");
out:
	free(json);
	json_object_put(data);
	return rc;
}

/*
 * What can be judged at load: the template rendered with step-like data
 * (an RSA and an EC request for host.example.com, a JWK token's claims)
 * must not exceed the bounds (a loop, a 1 MiB output) nor make a CA. Any
 * other outcome (fail, a missing claim, JSON that real data would mend)
 * waits for the real data at issuance.
 */
static int
trial(const struct ca_certtmpl *t, const char *where)
{
	static const char tok[] = "{\"iss\":\"trial\",\"sub\":"
	    "\"host.example.com\",\"aud\":[\"https://ca.example.com/1.0/sign\"],"
	    "\"sans\":[\"host.example.com\"],\"jti\":\"trial\","
	    "\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000300}";
	static const int algos[] = { GNUTLS_PK_RSA, GNUTLS_PK_ECDSA };
	char host[] = "host.example.com", *dns[] = { host };
	struct ca_names names = { .dns = dns, .n_dns = 1 };
	struct ca_certtmpl_in in = { .cn = host, .names = &names,
	    .token = tok, .token_len = sizeof(tok) - 1 };
	struct ca_certtmpl_cert *c = NULL;
	struct json_object *data = NULL;
	char *json = NULL;
	size_t i, len;
	int rc = 0;

	for (i = 0; rc == 0 && i < sizeof(algos) / sizeof(algos[0]); i++) {
		in.pk_hint = algos[i];
		if ((rc = data_make(t, &in, &data)) != 0)
			break;
		rc = ca_tmpl_render(t->tmpl, data, &json, &len);
		if (rc == 0)
			rc = cert_parse(json, len, 1024, &in, 0, &c);
		if (rc == CA_ERR_TOOBIG || (rc == CA_ERR_FORBIDDEN &&
		    json != NULL))
			ca_err_context("%s: rendered for a request of "
			    "host.example.com (%s key)", where,
			    algos[i] == GNUTLS_PK_RSA ? "RSA" : "EC");
		else if (rc != CA_ERR_NOMEM)
			rc = 0;
		ca_certtmpl_cert_free(c);
		c = NULL;
		free(json);
		json = NULL;
		json_object_put(data);
		data = NULL;
	}
	if (rc == CA_ERR_TOOBIG || rc == CA_ERR_FORBIDDEN)
		rc = CA_ERR_CONFIG;
	return rc;
}

int
ca_certtmpl_ca_parse(const char *json, size_t len,
    struct ca_certtmpl_cert **out)
{
	return cert_parse(json, len, CA_CERTTMPL_LIST_MAX, NULL, 1, out);
}

int
ca_certtmpl_ca_file(const char *path, const char *cn, const char *org,
    struct ca_certtmpl_cert **out)
{
	struct ca_tmpl *t = NULL;
	struct json_object *data = NULL, *sub, *o;
	char *src = NULL, *json = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = ca_file_read(path, CA_CERTTMPL_FILE_MAX, &src, &len)) != 0 ||
	    (rc = ca_tmpl_parse(src, len, path, &t)) != 0)
		goto out;
	/* step's CA data: x509util.CreateTemplateData's Subject, with the
	 * organization ca init gives its certificates. */
	if ((data = json_object_new_object()) == NULL) {
		rc = nomem();
		goto out;
	}
	if ((rc = add(data, "Subject", sub = json_object_new_object())) != 0 ||
	    (rc = add(sub, "commonName", json_object_new_string(cn))) != 0 ||
	    (rc = add(sub, "organization", o = json_object_new_array())) != 0)
		goto out;
	if (json_object_array_add(o, json_object_new_string(org)) != 0) {
		rc = nomem();
		goto out;
	}
	ca_tmpl_mark_step_data(data);
	if ((rc = ca_tmpl_render(t, data, &json, &len)) != 0)
		goto out;
	if ((rc = ca_certtmpl_ca_parse(json, len, out)) != 0)
		ca_err_context("%s", path);
out:
	free(json);
	json_object_put(data);
	ca_tmpl_free(t);
	free(src);
	return rc;
}

/*
 * test-certtmpl.c - unit tests of lib/certtmpl.c: each member of step's
 * certificate JSON mapped into a leaf (read back with GnuTLS's
 * accessors), each refusal with its message, the bounds, the names
 * check, and loading a provisioner's options.x509.
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
#include "certtmpl.h"
#include "keys.h"
#include "x509.h"
#include "tap.h"

static _Noreturn void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, ca_errmsg());
	exit(1);
}

static gnutls_privkey_t ca_key;
static gnutls_pubkey_t leaf_pub;
static gnutls_x509_crt_t ca_crt;
static struct ca_issuer iss;
static time_t now;

static void
setup(void)
{
	gnutls_x509_privkey_t x;

	now = time(NULL);
	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &ca_key) != 0 ||
	    ca_x509_make_ca(ca_key, "Test", "Test CA", 0, now - 60,
	    now + 86400 * 30, NULL, &ca_crt) != 0)
		bail("CA");
	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    gnutls_pubkey_init(&leaf_pub) < 0)
		bail("leaf key");
	{
		gnutls_privkey_t k;

		if (ca_key_wrap(x, 1, &k) != 0 ||
		    gnutls_pubkey_import_privkey(leaf_pub, k, 0, 0) < 0)
			bail("leaf key");
		gnutls_privkey_deinit(k);
	}
	iss.crt = ca_crt;
	iss.key = ca_key;
	iss.dig = ca_key_digest(ca_key);
	iss.not_after = now + 86400 * 30;
}

static int
parse(const char *json, struct ca_certtmpl_cert **c)
{
	return ca_certtmpl_cert_parse(json, strlen(json), 100, c);
}

/* Issue the parsed template c as a leaf and import it. */
static gnutls_x509_crt_t
issue(const struct ca_certtmpl_cert *c)
{
	unsigned char serial[CA_SERIAL_MAX];
	size_t slen;
	struct ca_leaf leaf;
	gnutls_x509_crt_t crt;

	memset(&leaf, 0, sizeof(leaf));
	leaf.cn = c->cn;
	leaf.names = &c->names;
	leaf.pub = leaf_pub;
	leaf.not_before = now - 60;
	leaf.not_after = now + 3600;
	leaf.prov_type = CA_STEP_TYPE_JWK;
	leaf.prov_name = "p";
	leaf.prov_cred = "k";
	leaf.profile = &c->profile;
	if (ca_x509_issue(&iss, &leaf, &crt, serial, &slen) != 0)
		bail("issue");
	return crt;
}

static const char full[] =
    "{\"version\": 3,"
    " \"subject\": {\"commonName\": \"www.example.com\","
    "  \"country\": \"FR\", \"organization\": [\"Org A\", \"Org B\"],"
    "  \"organizationalUnit\": \"Unit\", \"locality\": \"Paris\","
    "  \"province\": \"IDF\", \"streetAddress\": \"1 rue X\","
    "  \"postalCode\": \"75001\", \"serialNumber\": \"S42\","
    "  \"extraNames\": [{\"type\": \"1.2.840.113549.1.9.1\","
    "   \"value\": \"ops@example.com\"}]},"
    " \"issuer\": {\"commonName\": \"ignored\"},"
    " \"sans\": [{\"type\": \"dns\", \"value\": \"www.example.com\"},"
    "  {\"type\": \"auto\", \"value\": \"192.0.2.7\"}],"
    " \"dnsNames\": \"api.example.com\","
    " \"emailAddresses\": [\"ops@example.com\"],"
    " \"ipAddresses\": [\"2001:db8::7\"],"
    " \"uris\": \"spiffe://example.com/svc\","
    " \"keyUsage\": [\"digitalSignature\", \"key_encipherment\"],"
    " \"extKeyUsage\": [\"serverAuth\", \"ClientAuth\", \"codeSigning\"],"
    " \"unknownExtKeyUsage\": [\"1.3.6.1.4.1.99999.1\"],"
    " \"basicConstraints\": {\"isCA\": false, \"maxPathLen\": 0},"
    " \"crlDistributionPoints\": [\"http://crl.example/a.crl\","
    "  \"http://crl.example/b.crl\"],"
    " \"ocspServer\": \"http://ocsp.example\","
    " \"issuingCertificateURL\": [\"http://ca.example/ca.crt\"],"
    " \"policyIdentifiers\": [\"2.23.140.1.2.1\", \"1.3.6.1.4.1.99999.2\"],"
    " \"extensions\": [{\"id\": \"1.3.6.1.4.1.99999.3\", \"critical\": false,"
    "  \"value\": \"DAVoZWxsbw==\"}],"
    " \"notBefore\": \"2030-01-02T03:04:05Z\","
    " \"notAfter\": \"2030-01-03T05:04:05.5+02:00\"}";

static void
test_fields(void)
{
	struct ca_certtmpl_cert *c;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 }, d;
	char buf[256];
	size_t size, i;
	unsigned ku, crit, ca, rtype;
	int pathlen, ret;
	struct ca_names nm;
	gnutls_x509_policy_st pol;

	is_int(parse(full, &c), 0, "every member: parsed (%s)",
	    ca_errmsg());
	if (c == NULL)
		bail("full template");
	is_str(c->cn, "www.example.com", "CN");
	ok(c->not_before == 1893553445, "notBefore (%lld)",
	    (long long)c->not_before);
	ok(c->not_after == 1893639845, "notAfter with an offset (%lld)",
	    (long long)c->not_after);
	crt = issue(c);
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0)
		bail("dn");
	is_str((char *)dn.data, "EMAIL=ops@example.com,serialNumber=S42,"
	    "CN=www.example.com,OU=Unit,O=Org B,O=Org A,postalCode=75001,"
	    "street=1 rue X,L=Paris,ST=IDF,C=FR",
	    "subject in Go's order, one attribute per RDN");
	gnutls_free(dn.data);
	if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) < 0)
		bail("issuer dn");
	is_str((char *)dn.data, "CN=Test CA,O=Test", "issuer is the CA's");
	gnutls_free(dn.data);
	if (ca_x509_names(crt, &nm) != 0)
		bail("names");
	is_int((int)nm.n_dns, 2, "two DNS names");
	is_int((int)nm.n_ip, 2, "two IPs");
	is_int((int)nm.n_email, 1, "one e-mail");
	is_int((int)nm.n_uri, 1, "one URI");
	ca_names_free(&nm);
	ok(gnutls_x509_crt_get_key_usage(crt, &ku, &crit) >= 0 &&
	    ku == (GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT) &&
	    crit, "keyUsage, critical (step's name spellings)");
	for (i = 0; i < 4; i++) {
		size = sizeof(buf);
		ret = gnutls_x509_crt_get_key_purpose_oid(crt, (unsigned)i, buf,
		    &size, NULL);
		is_str(ret >= 0 ? buf : "", i == 0 ? "1.3.6.1.5.5.7.3.1" :
		    i == 1 ? "1.3.6.1.5.5.7.3.2" : i == 2 ? "1.3.6.1.5.5.7.3.3" :
		    "1.3.6.1.4.1.99999.1", "extKeyUsage %zu", i);
	}
	ok(gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca,
	    &pathlen) == 0 && crit && !ca, "basicConstraints CA:FALSE, critical");
	for (i = 0; i < 2; i++) {
		size = sizeof(buf);
		ret = gnutls_x509_crt_get_crl_dist_points(crt, (unsigned)i, buf,
		    &size, NULL, NULL);
		is_str(ret >= 0 ? buf : "", i == 0 ? "http://crl.example/a.crl" :
		    "http://crl.example/b.crl", "CRL distribution point %zu", i);
	}
	ret = gnutls_x509_crt_get_authority_info_access(crt, 0,
	    GNUTLS_IA_OCSP_URI, &d, NULL);
	ok(ret >= 0 && d.size == 19 && memcmp(d.data, "http://ocsp.example",
	    19) == 0, "AIA OCSP");
	if (ret >= 0)
		gnutls_free(d.data);
	ret = gnutls_x509_crt_get_authority_info_access(crt, 1,
	    GNUTLS_IA_CAISSUERS_URI, &d, NULL);
	ok(ret >= 0 && d.size == 24, "AIA CA issuers");
	if (ret >= 0)
		gnutls_free(d.data);
	ok(gnutls_x509_crt_get_policy(crt, 1, &pol, &crit) >= 0 &&
	    strcmp(pol.oid, "1.3.6.1.4.1.99999.2") == 0, "policyIdentifiers");
	gnutls_x509_policy_release(&pol);
	size = sizeof(buf);
	ok(gnutls_x509_crt_get_extension_by_oid(crt, "1.3.6.1.4.1.99999.3", 0,
	    buf, &size, &crit) >= 0 && size == 7 &&
	    memcmp(buf, "\x0c\x05hello", 7) == 0 && !crit, "raw extension");
	size = sizeof(buf);
	ok(gnutls_x509_crt_get_extension_by_oid(crt, CA_OID_STEP_PROVISIONER,
	    0, buf, &size, &crit) >= 0, "the provisioner extension is kept");
	size = sizeof(buf);
	ok(gnutls_x509_crt_get_subject_key_id(crt, buf, &size, &crit) >= 0,
	    "SKI is the CA's");
	(void)rtype;
	gnutls_x509_crt_deinit(crt);
	ca_certtmpl_cert_free(c);

	/* A string subject is the CN; RSA key usage of step's template. */
	is_int(parse("{\"subject\": \"svc\", \"keyUsage\": [\"keyEncipherment\","
	    " \"digitalSignature\"]}", &c), 0, "subject as a string");
	is_str(c != NULL ? c->cn : "", "svc", "its CN");
	ok(c != NULL && c->profile.n_ext == 1 && c->profile.ext[0].len == 4 &&
	    memcmp(c->profile.ext[0].der, "\x03\x02\x05\xa0", 4) == 0,
	    "keyUsage bits as the default profile writes them");
	ca_certtmpl_cert_free(c);
	/* Go's zero time is no time. */
	is_int(parse("{\"sans\": [{\"value\": \"a.example\"}], \"notBefore\":"
	    " \"0001-01-01T00:00:00Z\"}", &c), 0, "zero time");
	ok(c != NULL && c->not_before == 0 && c->cn == NULL &&
	    c->profile.n_subject == 0, "no time, no subject");
	crt = c != NULL ? issue(c) : NULL;
	ok(crt != NULL && gnutls_x509_crt_get_extension_by_oid(crt,
	    "2.5.29.17", 0, NULL, &size, &crit) >= 0 && crit,
	    "an empty subject makes the SAN critical");
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	ca_certtmpl_cert_free(c);
}

/* Every extension of crt as "oid:critical:hex" lines. */
static char *
exts_text(gnutls_x509_crt_t crt)
{
	static char out[16384];
	unsigned char v[2048];
	char oid[128], *hex;
	size_t size, vlen, n = 0;
	unsigned crit, i;

	out[0] = '\0';
	for (i = 0;; i++) {
		size = sizeof(oid);
		vlen = sizeof(v);
		if (gnutls_x509_crt_get_extension_info(crt, i, oid, &size,
		    &crit) < 0 || gnutls_x509_crt_get_extension_data(crt, i, v,
		    &vlen) < 0)
			break;
		if (strcmp(oid, "2.5.29.14") == 0)
			continue;	/* the new key's */
		hex = ca_hex(v, vlen);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s:%u:%s\n",
		    oid, crit, hex);
		free(hex);
	}
	return out;
}

/* A renewal's copy: the same subject and extensions. */
static void
test_from_crt(void)
{
	struct ca_certtmpl_cert *c, *r;
	gnutls_x509_crt_t a, b;
	gnutls_datum_t da, db;
	char *ea;

	if (parse(full, &c) != 0)
		bail("full");
	a = issue(c);
	is_int(ca_certtmpl_cert_from_crt(a, &r), 0, "copied");
	b = issue(r);
	if (gnutls_x509_crt_get_dn3(a, &da, 0) < 0 ||
	    gnutls_x509_crt_get_dn3(b, &db, 0) < 0)
		bail("dn");
	is_str((char *)db.data, (char *)da.data, "copy: the same subject");
	ea = strdup(exts_text(a));
	is_str(exts_text(b), ea, "copy: the same extensions, in order");
	ok(strstr(ea, "1.3.6.1.4.1.99999.3:0:") != NULL, "... raw ones too");
	free(ea);
	gnutls_free(da.data);
	gnutls_free(db.data);
	gnutls_x509_crt_deinit(a);
	gnutls_x509_crt_deinit(b);
	ca_certtmpl_cert_free(c);
	ca_certtmpl_cert_free(r);
}

static void
test_refused(void)
{
	static const struct { const char *json; int rc; const char *msg; } t[] = {
		{ "{\"subject\": \"x\", \"basicConstraints\": {\"isCA\": true}}",
		    CA_ERR_FORBIDDEN, "basicConstraints isCA true: a leaf "
		    "template may not make a CA" },
		{ "{\"subject\": \"x\", \"keyUsage\": [\"certSign\"]}",
		    CA_ERR_FORBIDDEN, "keyUsage certSign: a leaf template may "
		    "not make a CA (certSign and crlSign are refused)" },
		{ "{\"subject\": \"x\", \"keyUsage\": \"crlSign\"}",
		    CA_ERR_FORBIDDEN, NULL },
		{ "{\"subject\": \"x\", \"nameConstraints\": {\"critical\": true}}",
		    CA_ERR_FORBIDDEN, "nameConstraints: refused: name "
		    "constraints are refused in a leaf" },
		{ "{\"subject\": \"x\", \"extensions\": [{\"id\": \"2.5.29.14\","
		    " \"value\": \"BAEA\"}]}", CA_ERR_FORBIDDEN,
		    "extensions[0]: extension 2.5.29.14 is refused: the "
		    "subject key identifier is the CA's" },
		{ "{\"subject\": \"x\", \"extensions\": [{\"id\": "
		    "\"1.3.6.1.4.1.37476.9000.64.1\", \"value\": \"BAEA\"}]}",
		    CA_ERR_FORBIDDEN, NULL },
		{ "{\"subject\": \"x\", \"extensions\": [{\"id\": \"2.5.29.17\","
		    " \"value\": \"MAA=\"}]}", CA_ERR_FORBIDDEN, NULL },
		{ "{\"subject\": \"x\", \"extensions\": [{\"id\": \"2.5.29.19\","
		    " \"value\": \"MAA=\"}]}", CA_ERR_FORBIDDEN, NULL },
		{ "{\"subject\": \"x\", \"serialNumber\": 7}", CA_ERR_INVAL,
		    "serialNumber: refused: the serial number is the CA's" },
		{ "{\"subject\": \"x\", \"subjectKeyId\": \"AQI=\"}",
		    CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"authorityKeyId\": \"AQI=\"}",
		    CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"rawSubject\": \"MAA=\"}", CA_ERR_INVAL,
		    NULL },
		{ "{\"subject\": \"x\", \"signatureAlgorithm\": \"SHA256-RSA\"}",
		    CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"DNSNames\": [\"a\"]}", CA_ERR_INVAL,
		    "template member \"DNSNames\": spell it \"dnsNames\" (as "
		    "step documents it)" },
		{ "{\"subject\": \"x\", \"publicKey\": \"a\"}", CA_ERR_INVAL,
		    "template member \"publicKey\": unknown" },
		{ "{\"subject\": {\"CommonName\": \"x\"}}", CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"keyUsage\": \"fly\"}", CA_ERR_INVAL,
		    "keyUsage: \"fly\" is not a key usage" },
		{ "{\"subject\": \"x\", \"extKeyUsage\": \"fly\"}", CA_ERR_INVAL,
		    NULL },
		{ "{\"subject\": \"x\", \"unknownExtKeyUsage\": \"1.x\"}",
		    CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"policyIdentifiers\": \"3.1\"}",
		    CA_ERR_INVAL, NULL },
		{ "{\"sans\": [{\"type\": \"permanentIdentifier\", \"value\": "
		    "\"x\"}]}", CA_ERR_INVAL, NULL },
		{ "{\"sans\": [{\"type\": \"dns\", \"value\": \"x\", "
		    "\"asn1Value\": \"x\"}]}", CA_ERR_INVAL, NULL },
		{ "{\"dnsNames\": [\"192.0.2.1\"]}", CA_ERR_INVAL,
		    "template name \"192.0.2.1\" is not of type dns (ca-tools "
		    "types names as step guesses them)" },
		{ "{\"ipAddresses\": \"not-an-ip\"}", CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"notAfter\": \"tomorrow\"}",
		    CA_ERR_INVAL, "notAfter: \"tomorrow\" is not an RFC 3339 "
		    "time" },
		{ "{\"subject\": \"x\", \"version\": 2}", CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"extensions\": [{\"id\": \"1.2.3\", "
		    "\"value\": \"***\"}]}", CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"extensions\": [{\"id\": \"1.2.3\", "
		    "\"value\": \"AA==\"}, {\"id\": \"1.2.3\", \"value\": "
		    "\"AA==\"}]}", CA_ERR_INVAL, "extension 1.2.3 twice" },
		{ "{\"subject\": {\"commonName\": \"a\\nb\"}}", CA_ERR_INVAL,
		    NULL },
		{ "{}", CA_ERR_INVAL, "the template gives neither a subject "
		    "nor a name" },
		{ "[]", CA_ERR_INVAL, "not a JSON object" },
		{ "{\"subject\": \"x\",}", CA_ERR_INVAL, NULL },
		{ "{\"subject\": \"x\", \"subject\": \"y\"}", CA_ERR_INVAL,
		    NULL },
	};
	struct ca_certtmpl_cert *c;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = (struct ca_certtmpl_cert *)1;
		rc = parse(t[i].json, &c);
		is_int(rc, t[i].rc, "refused %zu: %s", i, ca_errmsg());
		ok(c == NULL, "refused %zu: nothing returned", i);
		if (t[i].msg != NULL)
			is_str(ca_errmsg(), t[i].msg, "refused %zu: message", i);
	}
}

static void
test_bounds(void)
{
	struct ca_certtmpl_cert *c;
	char *big;
	size_t i, len;
	int rc;

	/* 101 names with at most 100 */
	big = malloc(64 * 1024 + 16);
	if (big == NULL)
		bail("memory");
	len = (size_t)sprintf(big, "{\"dnsNames\": [");
	for (i = 0; i < 101; i++)
		len += (size_t)sprintf(big + len, "%s\"h%zu.example\"",
		    i ? "," : "", i);
	len += (size_t)sprintf(big + len, "]}");
	is_int(ca_certtmpl_cert_parse(big, len, 100, &c), CA_ERR_INVAL,
	    "101 names refused");
	is_str(ca_errmsg(), "dnsNames: more than 100", "its message");
	is_int(ca_certtmpl_cert_parse(big, len, 101, &c), 0,
	    "101 names with 101 allowed");
	ca_certtmpl_cert_free(c);
	/* 33 organizations */
	len = (size_t)sprintf(big, "{\"subject\": {\"organization\": [");
	for (i = 0; i < 33; i++)
		len += (size_t)sprintf(big + len, "%s\"o%zu\"", i ? "," : "", i);
	len += (size_t)sprintf(big + len, "]}}");
	is_int(ca_certtmpl_cert_parse(big, len, 100, &c), CA_ERR_INVAL,
	    "33 organizations refused (%s)", ca_errmsg());
	/* a string of 1025 bytes */
	len = (size_t)sprintf(big, "{\"subject\": \"x\", \"ocspServer\": \"");
	memset(big + len, 'a', 1025);
	len += 1025;
	len += (size_t)sprintf(big + len, "\"}");
	is_int(ca_certtmpl_cert_parse(big, len, 100, &c), CA_ERR_INVAL,
	    "a string of 1025 bytes refused (%s)", ca_errmsg());
	/* more than 64 KiB rendered */
	memset(big, ' ', 64 * 1024 + 1);
	rc = ca_certtmpl_cert_parse(big, 64 * 1024 + 1, 100, &c);
	is_int(rc, CA_ERR_TOOBIG, "65537 bytes refused before parsing");
	free(big);
}

static void
test_check_names(void)
{
	static const char *const auth[] = { "www.example.com", "192.0.2.7" };
	struct ca_names nm;
	struct ca_certtmpl_cert *c;

	if (ca_names_classify(auth, 2, &nm) != 0)
		bail("names");
	if (parse("{\"subject\": \"WWW.example.com\", \"sans\": [{\"value\":"
	    " \"www.EXAMPLE.com\"}, {\"value\": \"192.0.2.7\"}]}", &c) != 0)
		bail("parse");
	is_int(ca_certtmpl_check_names(c, "www.example.com", &nm), 0,
	    "the authorised names, in another case");
	ca_certtmpl_cert_free(c);
	if (parse("{\"subject\": \"x\", \"dnsNames\": [\"www.example.com\", "
	    "\"*.example.com\"]}", &c) != 0)
		bail("parse");
	is_int(ca_certtmpl_check_names(c, "x", &nm), CA_ERR_FORBIDDEN,
	    "a name added by the template refused");
	is_str(ca_errmsg(), "the template's dns name \"*.example.com\" is not "
	    "one the request was authorised for", "its message");
	ca_certtmpl_cert_free(c);
	if (parse("{\"subject\": \"root\", \"dnsNames\": [\"www.example.com\"]}",
	    &c) != 0)
		bail("parse");
	is_int(ca_certtmpl_check_names(c, "www.example.com", &nm),
	    CA_ERR_FORBIDDEN, "a CN the request did not name refused");
	ca_certtmpl_cert_free(c);
	if (parse("{\"ipAddresses\": [\"192.0.2.8\"]}", &c) != 0)
		bail("parse");
	is_int(ca_certtmpl_check_names(c, NULL, &nm), CA_ERR_FORBIDDEN,
	    "another IP refused");
	ca_certtmpl_cert_free(c);
	ca_names_free(&nm);
}

static void
test_load(void)
{
	struct ca_certtmpl *t;
	struct ca_certtmpl_cert *c = NULL;
	struct ca_certtmpl_in in;
	struct json_object *o;
	struct ca_names nm;
	static const char *const sans[] = { "a.example" };
	char path[4200];
	FILE *f;

	tmpdir_make("certtmpl");
	snprintf(path, sizeof(path), "%s/leaf.tpl", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		bail("tmp");
	fputs("{\"subject\": {\"commonName\": \"a.example\"},\n"
	    " \"dnsNames\": [\"a.example\"], \"keyUsage\": \"digitalSignature\"}",
	    f);
	fclose(f);
	o = json_tokener_parse("{\"templateFile\": \"leaf.tpl\", "
	    "\"templateData\": {\"k\": 1}}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), 0,
	    "templateFile relative to the state directory");
	json_object_put(o);
	if (ca_names_classify(sans, 1, &nm) != 0)
		bail("names");
	memset(&in, 0, sizeof(in));
	in.cn = "a.example";
	in.names = &nm;
	in.pub = leaf_pub;
	in.token = "{\"sub\": \"a.example\"}";
	in.token_len = strlen(in.token);
	is_int(t != NULL ? ca_certtmpl_render(t, &in, 100, &c) : -99, 0,
	    "rendered");
	is_str(c != NULL ? c->cn : "", "a.example", "its CN");
	ca_certtmpl_cert_free(c);
	ca_certtmpl_free(t);
	ca_names_free(&nm);

	snprintf(path, sizeof(path), "%s/bad.tpl", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		bail("tmp");
	fputs("{\n  \"subject\": {{ toJson .Subject }\n}", f);
	fclose(f);
	o = json_tokener_parse("{\"templateFile\": \"bad.tpl\"}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), CA_ERR_CONFIG,
	    "a bad template refused at load");
	ok(strstr(ca_errmsg(), "bad.tpl:2:33: unexpected") != NULL,
	    "with file:line:col (%s)", ca_errmsg());
	json_object_put(o);
	/* Judged at load by a trial render: a CA, a runaway loop, a 1 MiB
	 * output, also when only an RSA request makes them; a fail, a
	 * missing claim or bad JSON wait for the real data. */
	{
		static const struct {
			const char *tpl;
			int rc;
			const char *msg;
		} trials[] = {
		{ "{\"basicConstraints\": {\"isCA\": true}}", CA_ERR_CONFIG,
		    "(RSA key)" },
		{ "{{ if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}"
		    "{\"keyUsage\": [\"certSign\"]}{{ else }}{}{{ end }}",
		    CA_ERR_CONFIG, "(RSA key)" },
		{ "{{ if typeIs \"*ecdsa.PublicKey\" .Insecure.CR.PublicKey }}"
		    "{\"keyUsage\": [\"crlSign\"]}{{ else }}{}{{ end }}",
		    CA_ERR_CONFIG, "(EC key)" },
		{ "{{ range $a := list 1 2 3 4 5 6 7 8 9 10 }}{{ range $b := "
		    "list 1 2 3 4 5 6 7 8 9 10 }}{{ range $c := list 1 2 3 4 5 "
		    "6 7 8 9 10 }}{{ range $d := list 1 2 3 4 5 6 7 8 9 10 }}"
		    "{{ range $e := list 1 2 3 4 5 6 7 8 9 10 }}{{ range $f := "
		    "list 1 2 3 4 5 6 7 8 9 10 }}{{ range $g := list 1 2 3 4 5 "
		    "6 7 8 9 10 }}x{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}"
		    "{{ end }}{{ end }}{}", CA_ERR_CONFIG, "host.example.com" },
		{ "{{ repeat 2000000 \"a\" }}{}", CA_ERR_CONFIG,
		    "host.example.com" },
		{ "{{ fail \"no\" }}", 0, NULL },
		{ "{\"subject\": {\"commonName\": {{ toJson .Token.team }}}}",
		    0, NULL },
		{ "{\"subject\": {{ .Token.team }}}", 0, NULL },
		};
		size_t i;

		for (i = 0; i < sizeof(trials) / sizeof(trials[0]); i++) {
			o = json_object_new_object();
			json_object_object_add(o, "template",
			    json_object_new_string(trials[i].tpl));
			t = NULL;
			is_int(ca_certtmpl_load(o, tmpdir, "p", &t),
			    trials[i].rc, "trial %zu: %s", i,
			    trials[i].rc ? "refused at load" : "loads");
			if (trials[i].msg != NULL)
				ok(strstr(ca_errmsg(), trials[i].msg) != NULL,
				    "trial %zu: %s", i, ca_errmsg());
			ca_certtmpl_free(t);
			json_object_put(o);
		}
	}
	o = json_tokener_parse("{\"templateFile\": \"none.tpl\"}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), CA_ERR_CONFIG,
	    "a missing templateFile refused");
	json_object_put(o);
	o = json_tokener_parse("{\"template\": \"{}\", \"templateFile\": "
	    "\"x\"}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), CA_ERR_CONFIG,
	    "template and templateFile refused");
	json_object_put(o);
	o = json_tokener_parse("{\"template\": \"{}\", \"templateData\": 1}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), CA_ERR_CONFIG,
	    "templateData not an object refused");
	json_object_put(o);
	o = json_tokener_parse("{\"templateData\": {\"a\": 1}}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), CA_ERR_CONFIG,
	    "templateData without a template refused");
	json_object_put(o);
	o = json_tokener_parse("{\"template\": \"\"}");
	is_int(ca_certtmpl_load(o, tmpdir, "p", &t), 0, "an empty template");
	ok(t == NULL, "is no template");
	json_object_put(o);
	tmpdir_remove();
}

/* The DER of extension oid of c as hex, or "-" when absent. */
static void
ext_hex(const struct ca_certtmpl_cert *c, const char *oid, char *buf,
    size_t size)
{
	size_t i, j;

	snprintf(buf, size, "-");
	for (i = 0; c != NULL && i < c->profile.n_ext; i++)
		if (strcmp(c->profile.ext[i].oid, oid) == 0) {
			for (j = 0; j < c->profile.ext[i].len &&
			    2 * j + 3 < size; j++)
				snprintf(buf + 2 * j, 3, "%02x",
				    c->profile.ext[i].der[j]);
			if (c->profile.ext[i].critical && 2 * j + 2 < size)
				snprintf(buf + 2 * j, 3, "!");
		}
}

static void
test_ca(void)
{
#define S "{\"subject\": {\"commonName\": \"X CA\"}, \"keyUsage\": " \
	"[\"certSign\", \"crlSign\"], "
	static const struct { const char *json, *bc, *nc; int pl; } t[] = {
		{ S "\"basicConstraints\": {\"isCA\": true}}",
		    "30060101ff020100!", "-", 0 },
		{ S "\"basicConstraints\": {\"isCA\": true, \"maxPathLen\": 1}}",
		    "30060101ff020101!", "-", 1 },
		{ S "\"basicConstraints\": {\"isCA\": true, \"maxPathLen\": -1}}",
		    "30030101ff!", "-", -1 },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"nameConstraints\": "
		    "{\"critical\": true, \"permittedDNSDomains\": "
		    "\".example.com\", \"excludedIPRanges\": [\"10.1.2.3/8\"]}}",
		    "30060101ff020100!", "3020a010300e820c2e6578616d706c652e"
		    "636f6da10c300a87080a000000ff000000!", 0 },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"nameConstraints\": "
		    "{\"excludedEmailAddresses\": \"a@b\", \"permittedURIDomains\":"
		    " \".b\", \"permittedIPRanges\": \"2001:db8::/33\"}}",
		    "30060101ff020100!", "3035a02a30228720"
		    "20010db8000000000000000000000000ffffffff800000000000000000"
		    "000000300486022e62a10730058103614062", 0 },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"nameConstraints\": "
		    "{\"critical\": true}}", "30060101ff020100!", "-", 0 },
	};
	static const struct { const char *json; int rc; const char *msg; }
	    bad[] = {
		{ S "\"basicConstraints\": {\"isCA\": false}}", CA_ERR_FORBIDDEN,
		    "basicConstraints: a CA's template must make a CA" },
		{ S "\"basicConstraints\": {}}", CA_ERR_FORBIDDEN,
		    "must make a CA" },
		{ "{\"subject\": \"X\", \"keyUsage\": \"crlSign\", "
		    "\"basicConstraints\": {\"isCA\": true}}", CA_ERR_FORBIDDEN,
		    "keyUsage: a CA's template must include certSign" },
		{ "{\"keyUsage\": \"certSign\", \"basicConstraints\": "
		    "{\"isCA\": true}}", CA_ERR_INVAL, "subject: a CA's template "
		    "must give one" },
		{ S "\"basicConstraints\": {\"isCA\": true, \"maxPathLen\": 101}}",
		    CA_ERR_INVAL, "maxPathLen: more than 100" },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"dnsNames\": \"a\"}",
		    CA_ERR_INVAL, "dnsNames: refused in a CA's template" },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"notAfter\": "
		    "\"2030-01-01T00:00:00Z\"}", CA_ERR_INVAL,
		    "notAfter: refused in a CA's template" },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"nameConstraints\": "
		    "{\"permittedIPRanges\": \"10.0.0.0/33\"}}", CA_ERR_INVAL,
		    "nameConstraints.permittedIPRanges: \"10.0.0.0/33\" is not an "
		    "address range" },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"nameConstraints\": "
		    "{\"permittedIPRanges\": \"10.0.0.0\"}}", CA_ERR_INVAL,
		    "is not an address range" },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"nameConstraints\": "
		    "{\"permittedDnsDomains\": \"a\"}}", CA_ERR_INVAL,
		    "spell it \"permittedDNSDomains\"" },
		{ S "\"basicConstraints\": {\"isCA\": true}, \"extensions\": "
		    "[{\"id\": \"2.5.29.30\", \"value\": \"MAA=\"}]}",
		    CA_ERR_FORBIDDEN, "extension 2.5.29.30 is refused" },
	};
#undef S
	struct ca_certtmpl_cert *c;
	char bc[256], nc[256];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = ca_certtmpl_ca_parse(t[i].json, strlen(t[i].json), &c);
		ext_hex(c, "2.5.29.19", bc, sizeof(bc));
		ext_hex(c, "2.5.29.30", nc, sizeof(nc));
		ok(rc == 0 && strcmp(bc, t[i].bc) == 0 &&
		    strcmp(nc, t[i].nc) == 0 && c->max_path_len == t[i].pl,
		    "CA %zu: basic %s, name constraints %s (%s)", i, bc, nc,
		    rc != 0 ? ca_errmsg() : "");
		ca_certtmpl_cert_free(c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = ca_certtmpl_ca_parse(bad[i].json, strlen(bad[i].json), &c);
		ok(rc == bad[i].rc && c == NULL &&
		    strstr(ca_errmsg(), bad[i].msg) != NULL,
		    "CA refused %zu: %s", i, ca_errmsg());
	}
}

int
main(void)
{
	setup();
	test_fields();
	test_from_crt();
	test_refused();
	test_bounds();
	test_check_names();
	test_load();
	test_ca();
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_privkey_deinit(ca_key);
	gnutls_pubkey_deinit(leaf_pub);
	return tap_done();
}

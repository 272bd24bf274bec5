/*
 * test-tmpl.c - unit tests of lib/tmpl.c, step's template language: the
 * default templates of smallstep/crypto's x509util and its testdata
 * rendered with the data step gives them, byte for byte as Go's
 * text/template would write them (worked out from Go's rules: trim
 * markers, toJson = json.Marshal with HTML escaping and struct field
 * order, %v printing); each function; each refusal with its line:col;
 * hostile templates (output, steps, nesting, memory).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "tmpl.h"
#include "tap.h"

/* Mark the object at a dotted path of d with a Go type. */
static void
mark(struct json_object *d, const char *path, const char *gotype)
{
	char buf[256], *p, *dot;
	struct json_object *o = d;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (*p >= '0' && *p <= '9')
			o = json_object_array_get_idx(o, (size_t)atoi(p));
		else
			o = json_object_object_get(o, p);
	}
	if (o == NULL) {
		printf("Bail out! no %s in the data\n", path);
		exit(1);
	}
	ca_tmpl_set_gotype(o, gotype);
}

/*
 * The data step gives a leaf template (x509util.CreateTemplateData plus
 * the token and the CSR): Go field names, step's struct types marked.
 */
static struct json_object *
step_data(const char *key_type)
{
	struct json_object *d = json_tokener_parse(
	    "{\"Subject\":{\"CommonName\":\"foo.test\"},"
	    "\"SANs\":[{\"Type\":\"dns\",\"Value\":\"foo.test\"},"
	    "{\"Type\":\"ip\",\"Value\":\"127.0.0.1\"}],"
	    "\"Token\":{\"iss\":\"prov\",\"sub\":\"foo.test\","
	    "\"nbf\":1700000000,"
	    "\"email\":\"jane@example.com\",\"groups\":[\"admins\",\"ops\"]},"
	    "\"Insecure\":{\"CR\":{\"Version\":0,"
	    "\"Subject\":{\"CommonName\":\"csr<cn>\",\"Organization\":[\"O\"]},"
	    "\"DNSNames\":[\"csr.test\"],\"EmailAddresses\":null,"
	    "\"IPAddresses\":null,\"URIs\":null,\"PublicKey\":{\"Size\":256}},"
	    "\"User\":{\"role\":\"web\"}},"
	    "\"Webhooks\":{}}");

	if (d == NULL) {
		printf("Bail out! step data\n");
		exit(1);
	}
	mark(d, "Subject", "x509util.Subject");
	mark(d, "SANs.0", "x509util.SubjectAlternativeName");
	mark(d, "SANs.1", "x509util.SubjectAlternativeName");
	mark(d, "Insecure.CR", "*x509util.CertificateRequest");
	mark(d, "Insecure.CR.Subject", "x509util.Subject");
	mark(d, "Insecure.CR.PublicKey", key_type);
	return d;
}

/* Render src with d: the output, or "ERR <code> <message>". */
static char *
render(const char *src, struct json_object *d)
{
	struct ca_tmpl *t = NULL;
	char *out = NULL, *e;
	size_t n = 0;
	int r;

	if ((r = ca_tmpl_parse(src, strlen(src), "t", &t)) == 0 &&
	    (r = ca_tmpl_render(t, d, &out, &n)) == 0) {
		ca_tmpl_free(t);
		if (strlen(out) != n)
			printf("# length %zu, strlen %zu\n", n, strlen(out));
		return out;
	}
	ca_tmpl_free(t);
	if ((e = malloc(strlen(ca_errmsg()) + 32)) == NULL)
		exit(1);
	sprintf(e, "ERR %d %s", r, ca_errmsg());
	return e;
}

static void
check(const char *src, struct json_object *d, const char *want,
    const char *what)
{
	char *got = render(src, d);

	is_str(got, want, "%s", what);
	free(got);
}

/* ---- step's default templates (x509util/templates.go) ---- */

static const char leaf_tpl[] = "{\n"
"	\"subject\": {{ toJson .Subject }},\n"
"	\"sans\": {{ toJson .SANs }},\n"
"{{- if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
"	\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
"{{- else }}\n"
"	\"keyUsage\": [\"digitalSignature\"],\n"
"{{- end }}\n"
"	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
"}";

static const char iid_tpl[] = "{\n"
"	\"subject\": {\"commonName\": "
    "{{ toJson .Insecure.CR.Subject.CommonName }}},\n"
"{{- if .SANs }}\n"
"	\"sans\": {{ toJson .SANs }},\n"
"{{- else }}\n"
"	\"dnsNames\": {{ toJson .Insecure.CR.DNSNames }},\n"
"	\"emailAddresses\": {{ toJson .Insecure.CR.EmailAddresses }},\n"
"	\"ipAddresses\": {{ toJson .Insecure.CR.IPAddresses }},\n"
"	\"uris\": {{ toJson .Insecure.CR.URIs }},\n"
"{{- end }}\n"
"{{- if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
"	\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
"{{- else }}\n"
"	\"keyUsage\": [\"digitalSignature\"],\n"
"{{- end }}\n"
"	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
"}";

static const char admin_tpl[] = "{\n"
"	\"subject\": {{ toJson .Insecure.CR.Subject }},\n"
"	\"dnsNames\": {{ toJson .Insecure.CR.DNSNames }},\n"
"	\"emailAddresses\": {{ toJson .Insecure.CR.EmailAddresses }},\n"
"	\"ipAddresses\": {{ toJson .Insecure.CR.IPAddresses }},\n"
"	\"uris\": {{ toJson .Insecure.CR.URIs }},\n"
"{{- if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
"	\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
"{{- else }}\n"
"	\"keyUsage\": [\"digitalSignature\"],\n"
"{{- end }}\n"
"	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
"}";

static const char inter_tpl[] = "{\n"
"	\"subject\": {{ toJson .Subject }},\n"
"	\"keyUsage\": [\"certSign\", \"crlSign\"],\n"
"	\"basicConstraints\": {\n"
"		\"isCA\": true,\n"
"		\"maxPathLen\": 0\n"
"	}\n"
"}";

static const char root_tpl[] = "{\n"
"	\"subject\": {{ toJson .Subject }},\n"
"	\"issuer\": {{ toJson .Subject }},\n"
"	\"keyUsage\": [\"certSign\", \"crlSign\"],\n"
"	\"basicConstraints\": {\n"
"		\"isCA\": true,\n"
"		\"maxPathLen\": 1\n"
"	}\n"
"}";

static const char attested_tpl[] = "{\n"
"	\"subject\": {{ toJson .Subject }},\n"
"	\"sans\": {{ toJson .SANs }},\n"
"{{- if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
"	\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
"{{- else }}\n"
"	\"keyUsage\": [\"digitalSignature\"],\n"
"{{- end }}\n"
"	\"extKeyUsage\": [\"clientAuth\"]\n"
"}";

/* x509util/testdata/rawSubject.tpl */
static const char rawsubject_tpl[] = "{\n"
"	\"rawSubject\": {{ toJson .Insecure.CR.RawSubject }},\n"
"	\"sans\": {{ toJson .SANs }},\n"
"{{- if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
"	\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
"{{- else }}\n"
"	\"keyUsage\": [\"digitalSignature\"],\n"
"{{- end }}\n"
"	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
"}";

/* What a leaf template gives with step_data's SANs. */
static void
leaf_want(char *buf, size_t len, const char *subject, int rsa,
    const char *eku)
{
	snprintf(buf, len, "{\n"
	    "	\"subject\": %s,\n"
	    "	\"sans\": [{\"type\":\"dns\",\"value\":\"foo.test\"},"
	    "{\"type\":\"ip\",\"value\":\"127.0.0.1\"}],\n"
	    "	\"keyUsage\": [%s\"digitalSignature\"],\n"
	    "	\"extKeyUsage\": [%s]\n"
	    "}", subject, rsa ? "\"keyEncipherment\", " : "", eku);
}

static void
test_defaults(void)
{
	struct json_object *ec = step_data("*ecdsa.PublicKey");
	struct json_object *rsa = step_data("*rsa.PublicKey");
	struct json_object *nosans = step_data("ed25519.PublicKey");
	static const char sans[] = "[{\"type\":\"dns\",\"value\":\"foo.test\"},"
	    "{\"type\":\"ip\",\"value\":\"127.0.0.1\"}]";
	char want[2048];

	json_object_object_add(nosans, "SANs", json_object_new_array());
	leaf_want(want, sizeof(want), "{\"commonName\":\"foo.test\"}", 0,
	    "\"serverAuth\", \"clientAuth\"");
	check(leaf_tpl, ec, want, "default leaf, EC key");
	leaf_want(want, sizeof(want), "{\"commonName\":\"foo.test\"}", 1,
	    "\"serverAuth\", \"clientAuth\"");
	check(leaf_tpl, rsa, want, "default leaf, RSA key");
	leaf_want(want, sizeof(want), "{\"commonName\":\"foo.test\"}", 1,
	    "\"clientAuth\"");
	check(attested_tpl, rsa, want, "attested leaf, RSA key");
	leaf_want(want, sizeof(want), "{\"commonName\": "
	    "\"csr\\u003ccn\\u003e\"}", 0,
	    "\"serverAuth\", \"clientAuth\"");
	check(iid_tpl, ec, want, "IID leaf with SANs: HTML-escaped CN");
	check(iid_tpl, nosans, "{\n"
	    "	\"subject\": {\"commonName\": \"csr\\u003ccn\\u003e\"},\n"
	    "	\"dnsNames\": [\"csr.test\"],\n"
	    "	\"emailAddresses\": null,\n"
	    "	\"ipAddresses\": null,\n"
	    "	\"uris\": null,\n"
	    "	\"keyUsage\": [\"digitalSignature\"],\n"
	    "	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
	    "}", "IID leaf without SANs: the CSR's names (ed25519)");
	check(admin_tpl, rsa, "{\n"
	    "	\"subject\": {\"organization\":[\"O\"],"
	    "\"commonName\":\"csr\\u003ccn\\u003e\"},\n"
	    "	\"dnsNames\": [\"csr.test\"],\n"
	    "	\"emailAddresses\": null,\n"
	    "	\"ipAddresses\": null,\n"
	    "	\"uris\": null,\n"
	    "	\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
	    "	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
	    "}", "admin leaf: subject in Go's field order");
	check(inter_tpl, ec, "{\n"
	    "	\"subject\": {\"commonName\":\"foo.test\"},\n"
	    "	\"keyUsage\": [\"certSign\", \"crlSign\"],\n"
	    "	\"basicConstraints\": {\n"
	    "		\"isCA\": true,\n"
	    "		\"maxPathLen\": 0\n"
	    "	}\n"
	    "}", "intermediate");
	check(root_tpl, ec, "{\n"
	    "	\"subject\": {\"commonName\":\"foo.test\"},\n"
	    "	\"issuer\": {\"commonName\":\"foo.test\"},\n"
	    "	\"keyUsage\": [\"certSign\", \"crlSign\"],\n"
	    "	\"basicConstraints\": {\n"
	    "		\"isCA\": true,\n"
	    "		\"maxPathLen\": 1\n"
	    "	}\n"
	    "}", "root");
	snprintf(want, sizeof(want), "{\n"
	    "	\"subject\": {\"commonName\":\"foo.test\"},\n"
	    "	\"sans\": %s\n}", sans);
	check("{\n	\"subject\": {{ toJson .Subject }},\n"
	    "	\"sans\": {{ toJson .SANs }}\n}", ec, want, "CSR default");
	/* {{ toJson .Insecure.CR }}: JSON names, "-" fields (PublicKey)
	 * left out, Go's field order; a field the data lacks is null */
	check("{{ toJson .Insecure.CR }}", ec, "{\"version\":0,\"subject\":"
	    "{\"organization\":[\"O\"],\"commonName\":\"csr\\u003ccn\\u003e\"},"
	    "\"dnsNames\":[\"csr.test\"],\"emailAddresses\":null,"
	    "\"ipAddresses\":null,\"uris\":null}",
	    "CertificateRequestTemplate");
	snprintf(want, sizeof(want), "{\n	\"rawSubject\": null,\n"
	    "	\"sans\": %s,\n"
	    "	\"keyUsage\": [\"digitalSignature\"],\n"
	    "	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n}", sans);
	check(rawsubject_tpl, ec, want, "testdata/rawSubject.tpl: a CR field "
	    "the data lacks is Go's nil");
	/* testdata/opcua.tpl and fullsimple.tpl: no actions but toJson */
	check("{\n      \"basicConstraints\": {\n            \"isCA\": false\n"
	    "      }\n}\n", ec, "{\n      \"basicConstraints\": {\n"
	    "            \"isCA\": false\n      }\n}\n", "plain text as is");
	json_object_put(ec);
	json_object_put(rsa);
	json_object_put(nosans);
}

/*
 * The same data written as step marshals it (JSON names), marked with
 * ca_tmpl_mark_step_data: the same outputs, Go names reach the fields.
 */
static void
test_json_named(void)
{
	struct json_object *d = json_tokener_parse(
	    "{\"Subject\":{\"commonName\":\"foo.test\"},"
	    "\"SANs\":[{\"type\":\"dns\",\"value\":\"foo.test\"},"
	    "{\"type\":\"ip\",\"value\":\"127.0.0.1\"}],"
	    "\"Insecure\":{\"CR\":{\"subject\":{\"organization\":[\"O\"],"
	    "\"commonName\":\"csr<cn>\"},\"dnsNames\":[\"csr.test\"],"
	    "\"PublicKey\":{}}}}");
	char want[2048];

	ca_tmpl_mark_step_data(d);
	ca_tmpl_set_gotype(json_object_object_get(json_object_object_get(
	    json_object_object_get(d, "Insecure"), "CR"), "PublicKey"),
	    "*rsa.PublicKey");
	leaf_want(want, sizeof(want), "{\"commonName\":\"foo.test\"}", 1,
	    "\"serverAuth\", \"clientAuth\"");
	check(leaf_tpl, d, want, "JSON-named data: default leaf");
	check("{{ .Subject.CommonName }} {{ (index .SANs 1).Value }} "
	    "{{ toJson .Insecure.CR.Subject }} {{ .Insecure.CR.DNSNames }} "
	    "[{{ .Subject.SerialNumber }}]", d,
	    "foo.test 127.0.0.1 {\"organization\":[\"O\"],"
	    "\"commonName\":\"csr\\u003ccn\\u003e\"} [csr.test] []",
	    "JSON-named data: Go names, Go's field order");
	json_object_put(d);
}

/* ---- step's documented examples ---- */

static void
test_examples(void)
{
	struct json_object *d = step_data("*ecdsa.PublicKey");

	/* OIDC e-mail into the subject, with a default */
	check("{\"subject\": {\"commonName\": {{ toJson .Token.email }}},"
	    "\"emailAddresses\": {{ toJson (list .Token.email) }}}", d,
	    "{\"subject\": {\"commonName\": \"jane@example.com\"},"
	    "\"emailAddresses\": [\"jane@example.com\"]}", "token e-mail");
	check("{{ if hasPrefix \"jane\" .Token.email }}ok{{ else }}"
	    "{{ fail \"not jane\" }}{{ end }}", d, "ok", "hasPrefix guard");
	check("{{ if not (hasSuffix \"@corp.test\" .Token.email) }}"
	    "{{ fail \"e-mail must be @corp.test\" }}{{ end }}", d,
	    "ERR -5 e-mail must be @corp.test", "fail: FORBIDDEN, message "
	    "only");
	check("\"uris\": \"{{ .Token.iss }}#{{ .Token.sub }}\"", d,
	    "\"uris\": \"prov#foo.test\"", "example.tpl's uris line");
	check("{{ .Token.nbf }} {{ toJson .Token.nbf }}", d,
	    "1.7e+09 1700000000", "float64 printing: %v and JSON");
	check("{{ range $i, $g := .Token.groups }}{{ if $i }},{{ end }}"
	    "{{ $g | upper }}{{ end }}", d, "ADMINS,OPS", "range with index");
	check("{{ range $k, $v := .Token }}{{ $k }};{{ end }}", d,
	    "email;groups;iss;nbf;sub;", "range over a map: sorted keys");
	check("{{ $s := dict \"role\" .Insecure.User.role }}"
	    "{{ $_ := set $s \"cn\" (lower .Subject.CommonName) }}"
	    "{{ toJson $s }}", d, "{\"cn\":\"foo.test\",\"role\":\"web\"}",
	    "dict, set, lower, toJson sorts");
	check("{{ required \"the token needs a tenant\" .Token.tenant }}", d,
	    "ERR -3 t:1:4: error calling required: the token needs a tenant",
	    "required");
	/* example.tpl's key size rule (PublicKey.Size: Go's int method) */
	check("{{- if typeIs \"*ecdsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
	    "	{{- if lt .Insecure.CR.PublicKey.Size 384 }}\n"
	    "		{{ fail \"Key length must be at least 3072 bits\" }}\n"
	    "	{{- end }}\n{{- end }}", d,
	    "ERR -5 Key length must be at least 3072 bits", "key size rule");
	check("{{ .Subject }} {{ index .SANs 0 }}", d,
	    "{[] [] [] [] [] [] []  foo.test []} {dns foo.test []}",
	    "Go's %v of step's structs, zero fields included");
	/* "User-Provided Variables in Signing Requests", --set dnsName=... */
	json_object_object_add(json_object_object_get(json_object_object_get(
	    d, "Insecure"), "User"), "dnsName",
	    json_object_new_string("backend.example.com"));
	check("{\n"
	    "	\"subject\": {{ toJson .Subject }},\n"
	    "{{- if .Insecure.User.dnsName }}\n"
	    "	\"dnsNames\": {{ toJson .Insecure.User.dnsName}},\n"
	    "{{- else }}\n"
	    "	\"sans\": {{ toJson .SANs }},\n"
	    "{{- end }}\n"
	    "	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
	    "}", d, "{\n"
	    "	\"subject\": {\"commonName\":\"foo.test\"},\n"
	    "	\"dnsNames\": \"backend.example.com\",\n"
	    "	\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n"
	    "}", "step docs: user-provided dnsName");
	/* templateData {"OrganizationalUnit": ...} joins the data */
	json_object_object_add(d, "OrganizationalUnit",
	    json_object_new_string("Engineering Team"));
	check("{\"subject\": {\"organizationalUnit\": "
	    "{{ toJson .OrganizationalUnit }}, \"commonName\": "
	    "{{ toJson .Subject.CommonName }}}}", d,
	    "{\"subject\": {\"organizationalUnit\": \"Engineering Team\", "
	    "\"commonName\": \"foo.test\"}}", "step docs: templateData");
	check("{{ .Webhooks.Test.notAfter }}", d, "<no value>",
	    "missing keys: Go's <no value>");
	json_object_put(d);
}

/* ---- functions ---- */

static void
test_functions(void)
{
	struct json_object *d = json_tokener_parse("{\"s\":\"a,b,c\","
	    "\"n\":3,\"f\":0.5,\"z\":null,\"e\":\"\",\"l\":[1,\"x\",null],"
	    "\"m\":{\"b\":2,\"a\":1},\"h\":\"<&>\",\"t\":true}");

	check("{{ 3 }} {{ -2 }} {{ 0x1F }} {{ 1e3 }} {{ 1.5 }} {{ 'a' }} "
	    "{{ true }} {{ \"q\\t\\u00e9\" }} {{ `raw\\n` }}", d,
	    "3 -2 31 1000 1.5 97 true q\t\xc3\xa9 raw\\n", "literals");
	check("{{ .n }} {{ .f }} {{ .z }} {{ .l }} {{ .m }} {{ .t }}", d,
	    "3 0.5 <no value> [1 x <nil>] map[a:1 b:2] true", "Go printing");
	check("{{ 1234567.0 }} {{ 123456.0 }} {{ 0.00001 }} {{ 0.0001 }}", d,
	    "1.234567e+06 123456 1e-05 0.0001", "Go %v of float64");
	check("{{ toJson 0.0000001 }} {{ toJson 1e21 }} {{ toJson 1e20 }}",
	    d, "1e-7 1e+21 100000000000000000000", "json of float64");
	check("{{ toJson .h }} {{ toJson .l }} {{ toJson .m }} {{ toJson .z }}"
	    " {{ toJson \"\\u2028\\x01\" }}", d,
	    "\"\\u003c\\u0026\\u003e\" [1,\"x\",null] {\"a\":1,\"b\":2} null "
	    "\"\\u2028\\u0001\"", "toJson escapes");
	check("{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ not .e }} "
	    "{{ and .z .missing.field }}", d, "0 x true <no value>",
	    "and/or return the deciding operand, lazily");
	check("{{ len .s }} {{ len .l }} {{ len .m }} {{ index .l 1 }} "
	    "{{ index .m \"b\" }} {{ index .m \"q\" }}", d,
	    "5 3 2 x 2 <no value>", "len, index");
	check("{{ eq 1 1 }} {{ eq \"a\" \"b\" \"a\" }} {{ ne 1 2 }} "
	    "{{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1.5 2.5 }} "
	    "{{ eq .z nil }}", d, "true true true true true true false true",
	    "comparisons");
	check("{{ eq .n 3 }}", d, "ERR -3 t:1:4: error calling eq: "
	    "incompatible types for comparison", "eq float64 int: Go's error");
	check("{{ eq 1 }}", d, "ERR -3 t:1:4: error calling eq: missing "
	    "argument for comparison", "eq of one value: Go's error");
	check("{{ print 1 2 \"a\" 3 }}|{{ println 1 \"a\" }}|"
	    "{{ printf \"%s=%d %v %q %x %X %5s|%-3d|%03d %%\" \"k\" 7 .l "
	    "\"q\\\"\" \"hi\" 255 \"r\" 1 2 }}", d,
	    "1 2a3|1 a\n|k=7 [1 x <nil>] \"q\\\"\" 6869 FF     r|1  |002 %",
	    "print, println, printf");
	check("{{ printf \"%d %s\" \"x\" }}|{{ printf \"%s\" 1 2 }}", d,
	    "%!d(string=x) %!s(MISSING)|%!s(int=1)%!(EXTRA int=2)",
	    "printf: Go's wrong-type, missing and extra marks");
	check("{{ printf \"%e\" 1.5 }}", d, "ERR -3 t:1:4: error calling "
	    "printf: verb %e is not supported (only %s %d %v %q %x %X)",
	    "printf: other verbs refused");
	check("{{ typeIs \"string\" .s }} {{ typeIs \"float64\" .n }} "
	    "{{ typeOf .m }} {{ typeOf 1 }} {{ typeOf .l }}", d,
	    "true true map[string]interface {} int []interface {}", "typeIs");
	check("{{ hasPrefix \"a,\" .s }} {{ hasSuffix \"c\" .s }} "
	    "{{ contains \",b,\" .s }} {{ upper .s }} {{ lower \"AbC\" }}", d,
	    "true true true A,B,C abc", "prefix, suffix, contains, case");
	check("{{ lower \"\u00c9COLE \u0130 \u1e9e\" }} "
	    "{{ upper \"\u00e9cole \u03c2\" }} "
	    "[{{ trim \"\u00a0\u3000 x\u2029\xc2\x85\" }}]", d,
	    "\u00e9cole i \u00df \u00c9COLE \u03a3 [x]",
	    "Unicode lower, upper, trim (Go's simple case mapping, IsSpace)");
	check("[{{ trim \"  x y \\n\" }}] {{ trimPrefix \"a,\" .s }} "
	    "{{ trimSuffix \",c\" .s }} {{ replace \",\" \"-\" .s }} "
	    "{{ replace \"\" \"-\" \"ab\" }}", d, "[x y] b,c a,b a-b-c -a-b-",
	    "trim, trimPrefix, trimSuffix, replace");
	check("{{ split \",\" .s }} {{ (split \",\" .s)._1 }} "
	    "{{ splitList \",\" .s }} {{ join \"+\" (splitList \",\" .s) }} "
	    "{{ join \"/\" .l }}", d, "map[_0:a _1:b _2:c] b [a b c] a+b+c 1/x",
	    "split, splitList, join (nil skipped)");
	check("{{ first .l }} {{ last .l }} {{ first (list) }} "
	    "{{ default \"d\" .e }} {{ default \"d\" .s }} "
	    "{{ .e | default \"p\" }} {{ empty .z }} {{ empty 0 }} "
	    "{{ empty .m }} {{ coalesce .z .e 4 }}",
	    d, "1 <no value> <no value> d a,b,c p true true false 4",
	    "first, last, default, empty, coalesce");
	check("{{ list 1 \"a\" .m }} {{ toJson (list 1 \"a\") }} "
	    "{{ toJson (dict \"k\" 1 \"j\") }} {{ get .m \"a\" }} "
	    "[{{ get .m \"x\" }}] {{ hasKey .m \"b\" }} {{ keys .m }}", d,
	    "[1 a map[a:1 b:2]] [1,\"a\"] {\"j\":\"\",\"k\":1} 1 [] true [a b]",
	    "list, dict, get, hasKey, keys");
	check("{{ $m := dict \"a\" 1 \"b\" 2 }}{{ toJson (unset $m \"a\") }} "
	    "{{ $m.b }}", d, "{\"b\":2} 2", "unset");
	check("{{ $m := dict }}{{ $_ := set $m \"x\" $m }}{{ toJson $m }}", d,
	    "{\"x\":{}}", "set copies: no cycle");
	check("{{ quote \"a\\\"\" 1 .z }} {{ squote \"a\" 2 }} "
	    "{{ b64enc \"hello!?\" }} {{ b64dec \"aGVsbG8hPw==\" }} "
	    "{{ b64dec \"@@\" }} {{ toString 1.5 }} {{ ternary 1 2 false }} "
	    "{{ repeat 3 \"ab\" }}", d,
	    "\"a\\\"\" \"1\" 'a' '2' aGVsbG8hPw== hello!? illegal base64 data "
	    "at input byte 0 1.5 2 ababab", "quote, squote, b64, toString");
	check("{{ printf \"%05d|%-4s|%4s|%05x|%06v\" -3 \"\u00e9\" "
	    "\"\u00e9\" -255 -1.5 }}", d, "-0003|\xc3\xa9   |   \xc3\xa9|-00ff|"
	    "-001.5", "printf: width in characters, zeros after the sign");
	/* the offsets of Go's CorruptInputError: b64dec returns that text */
	check("{{ range list \"A\" \"ABC\" \"AB=\" \"AB=A\" \"A===\" \"AB==A\" "
	    "\"ABCDA\" \"aG\\nk=\\n\" }}{{ b64dec . | trimPrefix \"illegal "
	    "base64 data at input byte \" }},{{ end }}", d,
	    "0,0,3,2,1,4,4,hi,", "b64dec: the bad byte Go names");
	check("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}"
	    "{{ with .m }}{{ .a }}{{ $.n }}{{ end }}{{ with .e }}no{{ else }}"
	    "E{{ end }}{{ if .e }}1{{ else if .n }}2{{ else }}3{{ end }}", d,
	    "213E2", "variables, $, with, else if");
	check("{{ with .e }}no{{ else with .s }}{{ . }}{{ end }}", d, "a,b,c",
	    "else with");
	check("{{ range .l }}{{ if eq (typeOf .) \"string\" }}{{ break }}"
	    "{{ end }}{{ . }}{{ end }}|{{ range $e := .l }}{{ if not $e }}"
	    "{{ continue }}{{ end }}{{ $e }}{{ end }}|"
	    "{{ range list }}{{ else }}empty{{ end }}|"
	    "{{ range 3 }}{{ . }}{{ end }}", d,
	    "1|1x|empty|012", "range: break, continue, else, int");
	check("a  {{- /* c */ -}}  b {{/* c2 */}}\n{{- \"x\" -}}\n y", d,
	    "ab xy", "comments and trim markers");
	check("{{ .s.x }}", d, "ERR -3 t:1:6: can't evaluate field x in type "
	    "string", "field of a string");
	check("{{ .z.x }}", d, "ERR -3 t:1:6: nil pointer evaluating "
	    "interface {}.x", "field of null");
	check("{{ lower .n }}", d, "ERR -3 t:1:4: lower: wrong type for "
	    "value; expected string; got float64", "Go's argument types");
	check("{{ lower .nope }}", d, "ERR -3 t:1:4: lower: invalid value; "
	    "expected string", "no value for a string");
	check("{{ index .l 5 }}", d, "ERR -3 t:1:4: error calling index: "
	    "index out of range: 5", "index out of range");
	check("{{ range .s }}{{ end }}", d, "ERR -3 t:1:1: range can't "
	    "iterate over a,b,c", "range over a string");
	json_object_put(d);
}

/*
 * step's ASN.1 helpers. The expected DER was made with openssl
 * asn1parse -genstr/-genconf (an independent encoder), except asn1Set,
 * whose members step (cryptobyte) keeps in order where openssl sorts.
 */
static void
test_asn1(void)
{
	struct json_object *d = step_data("*ecdsa.PublicKey");

	check("{\"id\": \"1.2.3.4\", \"critical\": false, \"value\": "
	    "{{ asn1Enc \"int:3848281\" | toJson }}}", d,
	    "{\"id\": \"1.2.3.4\", \"critical\": false, \"value\": "
	    "\"AgM6uFk=\"}", "step docs: asn1Enc int");
	check("{{ asn1Seq (asn1Enc \"YubiKey\") (asn1Enc \"int:123456\") }} "
	    "{{ asn1Set (asn1Marshal (first .Insecure.CR.DNSNames) \"utf8\") "
	    "(asn1Enc \"int:123456\") }}", d,
	    "MA4TB1l1YmlLZXkCAwHiQA== MQ8MCGNzci50ZXN0AgMB4kA=",
	    "step docs: asn1Seq, asn1Set, asn1Marshal");
	check("{{ asn1Enc \"oid:1.2.3.4\" }} {{ asn1Enc \"utf8:h\u00e9llo\" }} "
	    "{{ asn1Enc \"ia5:abc\" }} {{ asn1Enc \"numeric:01 02\" }} "
	    "{{ asn1Enc \"bool:true\" }} {{ asn1Enc "
	    "\"utc:2023-03-29T02:03:57Z\" }} "
	    "{{ asn1Enc \"generalized:2023-03-29T02:03:57+02:00\" }}", d,
	    "BgMqAwQ= DAZow6lsbG8= FgNhYmM= EgUwMSAwMg== AQH/ "
	    "Fw0yMzAzMjkwMjAzNTda GBMyMDIzMDMyOTAyMDM1NyswMjAw",
	    "asn1Enc types");
	check("{{ asn1Marshal \"a&b\" }} {{ asn1Marshal \"x\" \"explicit\" "
	    "\"tag:1\" }} {{ asn1Marshal \"x\" \"tag:2\" }} "
	    "{{ asn1Enc \"int:-129\" }} {{ asn1Enc \"int:128\" }} "
	    "{{ asn1Enc \"int:0\" }} {{ asn1Enc \"raw:MAA=\" }}", d,
	    "DANhJmI= oQMTAXg= ggF4 AgL/fw== AgIAgA== AgEA MAA=",
	    "asn1Marshal: UTF8 when not printable, tags; INTEGER signs");
	check("{{ asn1Enc \"int:x\" }}", d, "ERR -3 t:1:4: error calling "
	    "asn1Enc: invalid int value", "asn1Enc: a bad int");
	check("{{ asn1Marshal .Token.nbf }}", d, "ERR -3 t:1:4: error calling "
	    "asn1Marshal: cannot marshal this type (strings, ints, bools, "
	    "times "
	    "only)",
	    "asn1Marshal: a float64");
	check("{{ asn1Marshal (toTime .Token.nbf) }} "
	    "{{ asn1Marshal (toTime 4102444800) }}", d,
	    "Fw0yMzExMTQyMjEzMjBa GA8yMTAwMDEwMTAwMDAwMFo=",
	    "asn1Marshal of a time: UTCTime, GeneralizedTime from 2050");
	check("{{ toJson (concat (list 1 2) (list 2 \"a\")) }} "
	    "{{ toJson (uniq (list 1 2 2 \"a\" 1 \"a\")) }}", d,
	    "[1,2,2,\"a\"] [1,2,\"a\"]", "concat, uniq (step's SSH example)");
	json_object_put(d);
}

/* step's time functions, on fixed times (now is only typed) */
static void
test_time(void)
{
	struct json_object *d = step_data("*ecdsa.PublicKey");

	check("{{ toTime .Token.nbf }}|{{ formatTime .Token.nbf }}|"
	    "{{ toJson (toTime .Token.nbf) }}|{{ typeOf now }}", d,
	    "2023-11-14 22:13:20 +0000 UTC|2023-11-14T22:13:20Z|"
	    "\"2023-11-14T22:13:20Z\"|time.Time", "toTime, formatTime, now");
	check("{{ parseTime \"2024-07-02T23:16:02.5+02:00\" }}|"
	    "{{ toJson (mustParseTime \"time.RFC3339\" "
	    "\"2024-07-02T23:16:02Z\" "
	    "\"UTC\") }}|{{ parseTime \"2024-02-30T00:00:00Z\" }}|"
	    "{{ toTimeLayout \"UnixDate\" }}|"
	    "{{ index (list (toTime 0)) 0 | formatTime }}", d,
	    "2024-07-02 23:16:02.5 +0200 +0200|\"2024-07-02T23:16:02Z\"|"
	    "0001-01-01 00:00:00 +0000 UTC|Mon Jan _2 15:04:05 MST 2006|"
	    "1970-01-01T00:00:00Z", "parseTime, mustParseTime, toTimeLayout");
	check("{{ mustParseTime \"July 4\" }}", d, "ERR -3 t:1:4: error "
	    "calling mustParseTime: cannot parse \"July 4\" as RFC 3339",
	    "mustParseTime: bad text");
	check("{{ parseTime \"time.Kitchen\" \"3:04PM\" }}", d,
	    "ERR -3 t:1:4: error calling parseTime: only the RFC3339 layouts "
	    "are supported", "parseTime: other layouts refused");
	json_object_put(d);
}

/* ---- refused at parse, with line:col ---- */

static void
refused(const char *src, const char *want, const char *what)
{
	struct ca_tmpl *t = NULL;
	int r = ca_tmpl_parse(src, strlen(src), "x.tpl", &t);

	is_int(r, CA_ERR_INVAL, "refused: %s", what);
	is_str(r == CA_ERR_INVAL ? ca_errmsg() : "(parsed)", want,
	    "refused: %s: message", what);
	ca_tmpl_free(t);
}

static void
test_refusals(void)
{
	refused("{\n  \"a\": {{ env \"HOME\" }}", "x.tpl:2:11: function env is "
	    "not supported (it would put the environment in certificates)",
	    "env");
	refused("{{ expandenv \"$HOME\" }}", "x.tpl:1:4: function expandenv "
	    "is not supported (it would put the environment in certificates)",
	    "expandenv");
	refused("{{ range until 5 }}{{ end }}", "x.tpl:1:10: function until "
	    "is not supported (it makes unbounded loops)", "until");
	refused("{{ getHostByName \"a\" }}", "x.tpl:1:4: function "
	    "getHostByName "
	    "is not supported (it does I/O)", "getHostByName");
	refused("a\n\n  {{ regexMatch \"x\" .y }}", "x.tpl:3:6: function "
	    "regexMatch is not supported", "an unknown function");
	refused("{{ define \"x\" }}a{{ end }}", "x.tpl:1:4: {{define}} is not "
	    "supported", "define");
	refused("{{ template \"x\" . }}", "x.tpl:1:4: {{template}} is not "
	    "supported", "template");
	refused("{{ block \"x\" . }}{{ end }}", "x.tpl:1:4: {{block}} is not "
	    "supported", "block");
	refused("{{ if .a }}x", "x.tpl:1:1: unexpected EOF: unclosed if",
	    "unclosed if");
	refused("x{{ end }}", "x.tpl:1:2: unexpected {{end}}", "stray end");
	refused("{{ .a", "x.tpl:1:4: unclosed action", "unclosed action");
	refused("{{ \"abc }}", "x.tpl:1:4: unterminated quoted string",
	    "unterminated string");
	refused("{{ $x }}", "x.tpl:1:4: undefined variable \"$x\"",
	    "undefined variable");
	refused("{{ if 1 }}{{ $y := 2 }}{{ end }}{{ $y }}", "x.tpl:1:36: "
	    "undefined variable \"$y\"", "variable out of scope");
	refused("{{ if 1 }}{{ else with 2 }}{{ end }}", "x.tpl:1:11: "
	    "unexpected \"with\" after else in if", "else with in an if");
	refused("{{ range 1 }}{{ else if 2 }}{{ end }}", "x.tpl:1:14: "
	    "unexpected \"if\" after else in range", "else if in a range");
	refused("{{ break }}", "x.tpl:1:4: {{break}} outside {{range}}",
	    "break outside range");
	refused("{{ nil }}", "x.tpl:1:8: nil is not a command", "nil");
	refused("{{ .a | .b }}", "x.tpl:1:12: non-function in pipeline "
	    "position after |", "field after |");
	refused("{{ (.a }}", "x.tpl:1:8: unclosed left paren", "paren");
	refused("{{ 1x }}", "x.tpl:1:4: bad number syntax: 1x ", "number");
	refused("{{ /* c */ }}", "x.tpl:1:4: unexpected '/' in command",
	    "comment not right after the delimiter");
	refused("{{ 1i }}", "x.tpl:1:4: bad number syntax: 1i ", "complex");
	/* step's testdata/example.tpl: dateInZone is outside the subset */
	refused("{\n\t\"notBefore\": \"{{ dateInZone "
	    "\"2006-01-02T15:04:05Z07:00\""
	    " .Token.nbf \"UTC\" }}\"\n}", "x.tpl:2:19: function dateInZone "
	    "is not supported", "example.tpl's dateInZone");
}

/* ---- hostile templates: bounded, never a partial output ---- */

static void
hostile(const char *src, int want, const char *what)
{
	struct ca_tmpl *t = NULL;
	static char unset[] = "unset";
	char *out = unset;
	int r;

	if ((r = ca_tmpl_parse(src, strlen(src), "h", &t)) == 0)
		r = ca_tmpl_render(t, NULL, &out, NULL);
	else
		out = NULL;
	is_int(r, want, "hostile: %s (%s)", what, ca_errmsg());
	ok(r == 0 || out == NULL, "hostile: %s: no output", what);
	if (r == 0)
		free(out);
	ca_tmpl_free(t);
}

static void
test_hostile(void)
{
	char *big, *deep;
	size_t i;

	/* 1 MiB of output: refused, not truncated */
	hostile("{{ range 1100 }}{{ repeat 1000 \"x\" }}{{ end }}",
	    CA_ERR_TOOBIG, "output over 1 MiB");
	hostile("{{ range 1000 }}{{ range 1000 }}{{ range 1000 }}{{ end }}"
	    "{{ end }}{{ end }}", CA_ERR_TOOBIG, "range product: steps");
	hostile("{{ repeat 100000000 \"xxxxxxxxxx\" }}", CA_ERR_TOOBIG,
	    "repeat over the memory budget");
	hostile("{{ $s := \"xx\" }}{{ range 40 }}{{ $s = print $s $s }}"
	    "{{ end }}", CA_ERR_TOOBIG, "doubling strings");
	hostile("{{ $l := list }}{{ range 100 }}{{ $l = list $l }}{{ end }}"
	    "{{ toJson $l }}", CA_ERR_INVAL, "nesting values");
	/* printf of a value over the depth bound: an error, not cut short */
	hostile("{{ $l := list }}{{ range 65 }}{{ $l = list $l }}{{ end }}"
	    "{{ printf \"%v\" $l }}", CA_ERR_INVAL, "printf %v too deep");
	hostile("{{ $l := list }}{{ range 65 }}{{ $l = list $l }}{{ end }}"
	    "{{ printf \"%s\" $l }}", CA_ERR_INVAL, "printf %s too deep");
	hostile("{{ $l := list }}{{ range 65 }}{{ $l = list $l }}{{ end }}"
	    "{{ printf \"%d\" $l }}", CA_ERR_INVAL, "printf %!d too deep");
	hostile("{{ $l := list }}{{ range 65 }}{{ $l = list $l }}{{ end }}"
	    "{{ printf \"\" $l }}", CA_ERR_INVAL, "printf EXTRA too deep");
	/* 100 nested ifs: over the depth bound at parse */
	deep = malloc(100 * 20 + 1);
	deep[0] = '\0';
	for (i = 0; i < 100; i++)
		strcat(deep, "{{ if 1 }}");
	for (i = 0; i < 100; i++)
		strcat(deep, "{{ end }}");
	hostile(deep, CA_ERR_INVAL, "100 nested ifs");
	free(deep);
	deep = malloc(200 + 1);
	memcpy(deep, "{{", 2);
	memset(deep + 2, '(', 100);
	memcpy(deep + 102, "}}", 3);
	hostile(deep, CA_ERR_INVAL, "100 nested parentheses");
	free(deep);
	big = malloc(CA_TMPL_MAX_SRC + 2);
	memset(big, 'a', CA_TMPL_MAX_SRC + 1);
	big[CA_TMPL_MAX_SRC + 1] = '\0';
	hostile(big, CA_ERR_INVAL, "source over 64 KiB");
	/* many nodes: every "{{.}}" is several */
	for (i = 0; i + 5 <= CA_TMPL_MAX_SRC; i += 5)
		memcpy(big + i, "{{.}}", 5);
	big[i] = '\0';
	hostile(big, CA_ERR_INVAL, "too many nodes");
	free(big);
	hostile("{{ $s := repeat 1000000 \"a\" }}{{ range 100000 }}"
	    "{{ if contains \"b\" $s }}{{ end }}{{ end }}", CA_ERR_TOOBIG,
	    "scanning a long string again and again: steps");
	/* DER built over the budget's end: an error, never cut short (the
	 * DER header alone before; asn1Seq freed its buffer twice) */
	hostile("{{ $s := repeat 1000000 \"AAAA\" }}{{ asn1Seq $s }}",
	    CA_ERR_TOOBIG, "asn1Seq over the memory budget");
	hostile("{{ $s := repeat 4000000 \"a\" }}{{ asn1Marshal $s \"utf8\" }}",
	    CA_ERR_TOOBIG, "asn1Marshal over the memory budget");
	hostile("{{ $s := print \"utf8:\" (repeat 2000000 \"a\") }}"
	    "{{ asn1Enc $s }}", CA_ERR_TOOBIG, "asn1Enc over the budget");
	hostile("{{ $s := print \"raw:\" (repeat 500000 \"AAAA\") }}"
	    "{{ asn1Enc $s }}", CA_ERR_TOOBIG, "asn1Enc raw over the budget");
	hostile("{{ repeat 9223372036854775807 \"\" }}", 0,
	    "repeat of nothing, a huge count: at once (it looped before)");
	hostile("{{ $a := splitList \",\" (repeat 30000 \",\") }}"
	    "{{ range 1000 }}{{ $_ := join \"\" $a }}{{ end }}", CA_ERR_TOOBIG,
	    "joining a long list of empty strings again and again: steps");
	hostile("{{ range 10 }}{{ . }}{{ end }}", 0, "a small loop is fine");
	check("{{ . }} {{ .a.b }}", NULL, "<no value> <no value>",
	    "no data: Go's nil data, no error");
}

/*
 * Invalid UTF-8 from a CSR: overlong forms, surrogates and code points
 * over U+10FFFF are bad bytes, one at a time, as Go's utf8.DecodeRune
 * says (lower/upper write U+FFFD for each, quote \x.., asn1 refuses).
 */
static void
test_bad_utf8(void)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "o",
	    json_object_new_string("a\xe0\x80\x80" "b"));
	json_object_object_add(d, "s", json_object_new_string("\xed\xa0\x80"));
	json_object_object_add(d, "h",
	    json_object_new_string("\xf4\x90\x80\x80"));
	check("{{ lower .o }}|{{ upper .s }}|{{ upper .h }}", d,
	    "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "lower, upper: overlong, surrogate, over U+10FFFF as U+FFFD each");
	check("{{ quote .o .s }} {{ len (splitList \"\" .h) }}", d,
	    "\"a\\xe0\\x80\\x80b\" \"\\xed\\xa0\\x80\" 4",
	    "quote: \\x of each bad byte; split steps one byte");
	check("{{ asn1Enc (print \"utf8:\" .s) }}", d, "ERR -3 t:1:4: error "
	    "calling asn1Enc: string not valid UTF-8", "asn1: a surrogate is "
	    "not UTF-8");
	check("{{ asn1Marshal .o \"utf8\" }}", d, "ERR -3 t:1:4: error "
	    "calling asn1Marshal: string not valid UTF-8", "asn1: an overlong "
	    "form is not UTF-8");
	/* a key from the data, however long, is found */
	{
		char key[2001], src[2100];

		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		json_object_object_add(d, key, json_object_new_string("v"));
		json_object_object_add(d, "which", json_object_new_string(key));
		snprintf(src, sizeof(src), "{{ index . .which }} "
		    "{{ get . .which }} {{ hasKey . .which }} "
		    "{{ index . \"%s\" }}", key);
		check(src, d, "v v true v", "index, get, hasKey: a 2000-byte "
		    "key");
	}
	/* messages carry CSR text: one line of valid UTF-8 */
	json_object_object_add(d, "c", json_object_new_string("x\r\nAB\xff"));
	check("{{ fail (print \"bad \" .c .o) }}", d, "ERR -5 bad x  AB"
	    "\xef\xbf\xbd" "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b",
	    "fail: control characters as spaces, bad bytes as U+FFFD");
	check("{{ mustParseTime .c }}", d, "ERR -3 t:1:4: error calling "
	    "mustParseTime: cannot parse \"x  AB\xef\xbf\xbd\" as RFC 3339",
	    "an error message quoting the data: one line, valid UTF-8");
	json_object_put(d);
}

/*
 * set and unset change a map in place while variables, dot or a range
 * still hold what they replace or delete: those stay valid (a use after
 * free before; the sanitizer build shows it).
 */
static void
test_mutation(void)
{
	struct json_object *d = json_tokener_parse("{\"m\":{\"a\":\"x\","
	    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\":[1,2],\"c\":{\"d\":1}}}");

	check("{{ $m := dict \"a\" \"hello\" }}{{ $v := $m.a }}"
	    "{{ $_ := unset $m \"a\" }}{{ $w := print \"xxxxx\" }}"
	    "{{ $v }} {{ len $m }}", NULL, "hello 0",
	    "unset: a variable keeps the value");
	check("{{ $m := dict \"a\" (list 1 2) }}{{ $v := $m.a }}"
	    "{{ $_ := set $m \"a\" 5 }}{{ $w := list 7 8 9 }}"
	    "{{ $v }} {{ $m.a }}", NULL, "[1 2] 5",
	    "set: a variable keeps the replaced value");
	check("{{ range $k, $v := .m }}{{ $_ := unset $.m $k }}"
	    "{{ $k }}={{ $v }};{{ end }}{{ len .m }}", d,
	    "a=x;bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=[1 2];c=map[d:1];0",
	    "unset in a range over the map: keys and values");
	check("{{ range .m.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb }}{{ $_ := set $.m "
	    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" 0 }}{{ . }}{{ end }}", d,
	    "12", "set replaces the list being ranged over");
	check("{{ with .m.c }}{{ $_ := unset $.m \"c\" }}{{ .d }}{{ end }}", d,
	    "1", "unset deletes dot");
	check("{{ $m := dict \"a\" 1 }}{{ $_ := unset $m \"a\\x00b\" }}"
	    "{{ len $m }}", NULL, "1",
	    "unset of a key with a NUL: no such key");
	json_object_put(d);
}

/* Two renders of one template, data unchanged. */
static void
test_reuse(void)
{
	struct json_object *d = step_data("*rsa.PublicKey");
	const char *before = json_object_to_json_string(d);
	char *b = strdup(before), *o1 = NULL, *o2 = NULL;
	struct ca_tmpl *t = NULL;

	ok(ca_tmpl_parse(leaf_tpl, strlen(leaf_tpl), "leaf", &t) == 0 &&
	    ca_tmpl_render(t, d, &o1, NULL) == 0 &&
	    ca_tmpl_render(t, d, &o2, NULL) == 0 && strcmp(o1, o2) == 0,
	    "one template, two renders, same output");
	is_str(json_object_to_json_string(d), b, "the data is not modified");
	free(o1);
	free(o2);
	free(b);
	ca_tmpl_free(t);
	json_object_put(d);
}

/* Two threads render one template over one data tree at once. */
struct job {
	const struct ca_tmpl	*t;
	struct json_object	*d;
	const char		*want;
	int			 bad;
};

static void *
renders(void *arg)
{
	struct job *j = arg;
	char *out;
	int i;

	for (i = 0; i < 300; i++) {
		if (ca_tmpl_render(j->t, j->d, &out, NULL) != 0 ||
		    strcmp(out, j->want) != 0)
			j->bad++;
		else
			free(out);
	}
	return NULL;
}

static void
test_threads(void)
{
	struct json_object *d = step_data("*rsa.PublicKey");
	struct ca_tmpl *t = NULL;
	struct job a, b;
	pthread_t ta, tb;
	char *want = NULL;

	if (ca_tmpl_parse(iid_tpl, strlen(iid_tpl), "iid", &t) != 0 ||
	    ca_tmpl_render(t, d, &want, NULL) != 0) {
		printf("Bail out! %s\n", ca_errmsg());
		exit(1);
	}
	a.t = b.t = t;
	a.d = b.d = d;
	a.want = b.want = want;
	a.bad = b.bad = 0;
	ok(pthread_create(&ta, NULL, renders, &a) == 0 &&
	    pthread_create(&tb, NULL, renders, &b) == 0 &&
	    pthread_join(ta, NULL) == 0 && pthread_join(tb, NULL) == 0 &&
	    a.bad == 0 && b.bad == 0, "two threads, 600 renders, same output");
	free(want);
	ca_tmpl_free(t);
	json_object_put(d);
}

int
main(void)
{
	test_defaults();
	test_json_named();
	test_examples();
	test_functions();
	test_asn1();
	test_time();
	test_refusals();
	test_hostile();
	test_bad_utf8();
	test_mutation();
	test_reuse();
	test_threads();
	return tap_done();
}

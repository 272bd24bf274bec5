/*
 * test-policy.c - unit tests of lib/policy.c: step-ca's issuance policy,
 * a table of names allowed and denied in every spelling (case, trailing
 * dot, wildcards, CIDR ranges, IPv4-mapped IPv6, mail domains, URI
 * hosts, common names), the examples of step-ca's documentation
 * ("Certificate Issuance Policies"), and ca.json entries refused.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "conf.h"
#include "json.h"
#include "policy.h"
#include "x509.h"
#include "tap.h"

static struct ca_policy *
policy_of(const char *js)
{
	struct json_object *o = json_tokener_parse(js);
	struct ca_policy *p = NULL;

	if (o == NULL || ca_policy_parse(o, "authority.policy", &p) != 0 ||
	    p == NULL) {
		printf("Bail out! policy %s: %s\n", js, ca_errmsg());
		exit(1);
	}
	json_object_put(o);
	return p;
}

/* Check one name of type t ("cn" for the subject) under p. */
static int
check(struct ca_policy *p, const char *t, const char *name)
{
	struct ca_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.policy = p;
	if (strcmp(t, "cn") == 0)
		return ca_policy_check_leaf(&cfg, NULL, name, NULL);
	return ca_policy_check_name(&cfg, NULL, t, name);
}

/* step-ca's documentation's examples, and the spellings around them. */
static const char *const policies[] = {
	/* 0: allow *.local (one label, as step-ca) */
	"{\"x509\": {\"allow\": {\"dns\": [\"*.local\"]}}}",
	/* 1: deny-only, wildcards allowed */
	"{\"x509\": {\"deny\": {\"dns\": [\"*.evil.com\", \"bad.example.com\"]},"
	" \"allowWildcardNames\": true}}",
	/* 2: a suffix (ca-tools' .example.com) */
	"{\"x509\": {\"deny\": {\"dns\": [\".evil.com\"]}}}",
	/* 3: IP ranges */
	"{\"x509\": {\"allow\": {\"ip\": [\"10.0.0.0/8\", \"2001:db8::/32\"]},"
	" \"deny\": {\"ip\": [\"10.1.0.0/16\"]}}}",
	/* 4: deny-only IPs, one written IPv4-mapped */
	"{\"x509\": {\"deny\": {\"ip\": [\"::ffff:192.168.0.0/112\", "
	"\"fe80::/10\", \"203.0.113.7\"]}}}",
	/* 5: e-mail: a mail domain, a mailbox */
	"{\"x509\": {\"allow\": {\"email\": [\"@example.com\", "
	"\"admin@corp.com\"]}, \"deny\": {\"email\": [\"bad@example.com\"]}}}",
	/* 6: URI hosts */
	"{\"x509\": {\"allow\": {\"uri\": [\"*.example.com\"]}, "
	"\"deny\": {\"uri\": [\"evil.example.com\"]}}}",
	/* 7: common names */
	"{\"x509\": {\"allow\": {\"cn\": [\"My Service\"], \"dns\": "
	"[\"*.example.com\"]}, \"deny\": {\"cn\": [\"forbidden.example.com\"]}}}",
	/* 8: an A-label denied */
	"{\"x509\": {\"deny\": {\"dns\": [\"xn--bcher-kva.example\"]}}}",
	/* 9: exact names, no wildcard allowed */
	"{\"x509\": {\"allow\": {\"dns\": [\"example.com\", \"*.example.com\"]}}}",
};

static const struct row {
	int		 policy;
	const char	*type;
	const char	*name;
	int		 allowed;
	const char	*msg;	/* the refusal, in part */
} rows[] = {
	{ 0, "dns", "example.local", 1, NULL },
	{ 0, "dns", "EXAMPLE.Local", 1, NULL },
	{ 0, "dns", "example.local.", 1, NULL },
	{ 0, "dns", "sub.example.local", 0, "no allow.dns rule matches" },
	{ 0, "dns", "local", 0, NULL },
	{ 0, "dns", "*.local", 0, "allowWildcardNames is false" },
	{ 0, "ip", "10.0.0.1", 0, "it allows some names, but no ip name" },
	{ 0, "email", "a@example.local", 0, NULL },
	{ 1, "dns", "x.evil.com", 0, "dns name x.evil.com denied by authority "
	    "policy deny.dns \"*.evil.com\"" },
	{ 1, "dns", "X.EVIL.COM", 0, "deny.dns \"*.evil.com\"" },
	{ 1, "dns", "x.evil.com.", 0, "deny.dns \"*.evil.com\"" },
	{ 1, "dns", "*.evil.com", 0, "deny.dns \"*.evil.com\"" },
	{ 1, "dns", "a.b.evil.com", 1, NULL },		/* one label, as step */
	{ 1, "dns", "evil.com", 1, NULL },
	{ 1, "dns", "BAD.example.com.", 0, "deny.dns \"bad.example.com\"" },
	{ 1, "dns", "*.example.com", 0, "deny.dns \"bad.example.com\"" },
	{ 1, "dns", "*.EXAMPLE.com", 0, "deny.dns \"bad.example.com\"" },
	{ 1, "dns", "good.example.com", 1, NULL },
	{ 1, "ip", "10.0.0.1", 1, NULL },
	{ 2, "dns", "a.b.evil.com", 0, "deny.dns \".evil.com\"" },
	{ 2, "dns", "A.evil.COM.", 0, "deny.dns \".evil.com\"" },
	{ 2, "dns", "evil.com", 1, NULL },
	{ 2, "dns", "notevil.com", 1, NULL },
	{ 2, "dns", "*.x.evil.com", 0, "allowWildcardNames is false" },
	{ 3, "ip", "10.2.3.4", 1, NULL },
	{ 3, "ip", "10.1.2.3", 0, "ip name 10.1.2.3 denied by authority "
	    "policy deny.ip \"10.1.0.0/16\"" },
	{ 3, "ip", "::ffff:10.1.2.3", 0, "deny.ip \"10.1.0.0/16\"" },
	{ 3, "ip", "::FFFF:a01:203", 0, "deny.ip \"10.1.0.0/16\"" },
	{ 3, "ip", "::ffff:10.2.3.4", 1, NULL },
	{ 3, "ip", "2001:db8::1", 1, NULL },
	{ 3, "ip", "2001:DB8:0:0:0:0:0:1", 1, NULL },
	{ 3, "ip", "2001:db9::1", 0, "no allow.ip rule matches" },
	{ 3, "ip", "11.0.0.1", 0, "no allow.ip rule matches" },
	{ 3, "ip", "010.1.2.3", 0, "not an IP address" },
	{ 3, "dns", "host.example.com", 0, "but no dns name" },
	{ 4, "ip", "192.168.1.1", 0, "deny.ip \"::ffff:192.168.0.0/112\"" },
	{ 4, "ip", "::ffff:192.168.1.1", 0, "deny.ip" },
	{ 4, "ip", "::ffff:c0a8:101", 0, "deny.ip" },
	{ 4, "ip", "FE80::1", 0, "deny.ip \"fe80::/10\"" },
	{ 4, "ip", "203.0.113.7", 0, "deny.ip \"203.0.113.7\"" },
	{ 4, "ip", "::ffff:203.0.113.7", 0, "deny.ip \"203.0.113.7\"" },
	{ 4, "ip", "203.0.113.8", 1, NULL },
	{ 4, "ip", "10.0.0.1", 1, NULL },
	{ 4, "dns", "192.168.001.001", 0, "it reads as an IP address" },
	{ 4, "dns", "host.example", 1, NULL },
	{ 5, "email", "alice@example.com", 1, NULL },
	{ 5, "email", "alice@EXAMPLE.COM", 1, NULL },
	{ 5, "email", "alice@example.com.", 1, NULL },
	{ 5, "email", "bad@example.com", 0, "email name bad@example.com denied "
	    "by authority policy deny.email \"bad@example.com\"" },
	{ 5, "email", "BAD@Example.com", 0, "deny.email" },
	{ 5, "email", "\"bad\"@example.com", 0, "quoted" },
	{ 5, "email", "alice@sub.example.com", 0, "no allow.email" },
	{ 5, "email", "admin@corp.com", 1, NULL },
	{ 5, "email", "Admin@corp.com", 0, "no allow.email" },
	{ 5, "dns", "example.com", 0, NULL },
	{ 6, "uri", "https://www.example.com/path", 1, NULL },
	{ 6, "uri", "spiffe://WWW.Example.com./x", 1, NULL },
	{ 6, "uri", "https://evil.example.com/", 0, "uri name "
	    "https://evil.example.com/ denied by authority policy deny.uri "
	    "\"evil.example.com\"" },
	{ 6, "uri", "https://EVIL.example.com:8443/", 0, "deny.uri" },
	{ 6, "uri", "https://user@evil.example.com/", 0, "deny.uri" },
	{ 6, "uri", "https://evil.example.com@www.example.com/", 1, NULL },
	{ 6, "uri", "https://a.b.example.com/", 0, "no allow.uri" },
	{ 6, "uri", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", 0,
	    "no host name" },
	{ 6, "uri", "https://[2001:db8::1]/", 0, "IP address" },
	{ 6, "uri", "https://ev%69l.example.com/", 0, "percent" },
	{ 7, "cn", "my service", 1, NULL },
	{ 7, "cn", "Other Service", 0, "not in allow.cn" },
	{ 7, "cn", "www.example.com", 1, NULL },
	{ 7, "cn", "WWW.example.com", 1, NULL },
	{ 7, "cn", "forbidden.example.com", 0, "common name "
	    "forbidden.example.com denied by authority policy deny.cn" },
	{ 7, "cn", "FORBIDDEN.example.com", 0, "deny.cn" },
	{ 7, "cn", "x.other.com", 0, "common name x.other.com not allowed" },
	{ 7, "cn", "", 1, NULL },
	{ 8, "dns", "XN--BCHER-KVA.example", 0, "deny.dns" },
	{ 8, "dns", "b\xc3\xbc" "cher.example", 0, "IDNA A-labels" },
	{ 8, "dns", "other.example", 1, NULL },
	{ 9, "dns", "example.com", 1, NULL },
	{ 9, "dns", "www.example.com", 1, NULL },
	{ 9, "dns", "*.example.com", 0, "allowWildcardNames is false" },
	{ 9, "dns", "wwwexample.com", 0, NULL },
};

/* ca.json entries refused at load, and what the message names. */
static const struct bad {
	const char	*js;
	const char	*msg;
} bad[] = {
	{ "{\"x509\": {\"allow\": {\"ips\": [\"10.0.0.0/8\"]}}}",
	    "authority.policy.x509.allow.ips: unknown" },
	{ "{\"x509\": {\"allow\": {\"dns\": [\"a.*.com\"]}}}",
	    "authority.policy.x509.allow.dns[0]: \"a.*.com\"" },
	{ "{\"x509\": {\"deny\": {\"dns\": [\"x.com\", \"a..com\"]}}}",
	    "deny.dns[1]: \"a..com\": empty label" },
	{ "{\"x509\": {\"allow\": {\"ip\": [\"010.0.0.1\"]}}}",
	    "leading zeros" },
	{ "{\"x509\": {\"allow\": {\"ip\": [\"10.0.0.0/33\"]}}}", "prefix" },
	{ "{\"x509\": {\"allow\": {\"ip\": [\"10.0.0.0/-1\"]}}}", "prefix" },
	{ "{\"x509\": {\"allow\": {\"uri\": [\"https://example.com\"]}}}",
	    "a scheme" },
	{ "{\"x509\": {\"allow\": {\"cn\": [\"*\"]}}}", "wildcard" },
	{ "{\"x509\": {\"allow\": {\"email\": [\"*@example.com\"]}}}",
	    "no wildcard" },
	{ "{\"x509\": {\"allow\": {\"dns\": [\"b\xc3\xbc" "cher.example\"]}}}",
	    "IDNA A-labels" },
	{ "{\"x509\": {\"allow\": {\"dns\": [\"a b.com\"]}}}", "space" },
	{ "{\"x509\": {\"allowWildcardNames\": \"yes\"}}", "not true or false" },
	{ "{\"x509\": {\"allow\": {\"dns\": \"example.com\"}}}",
	    "not an array" },
	{ "{\"x509\": {\"allow\": {\"dns\": [7]}}}", "not a string" },
	{ "{\"x509\": {\"allowed\": {}}}", "x509.allowed: unknown" },
	{ "{\"x509s\": {}}", "authority.policy.x509s: unknown" },
	{ "[]", "not an object" },
};

static void
test_table(void)
{
	struct ca_policy *p[sizeof(policies) / sizeof(policies[0])];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		p[i] = policy_of(policies[i]);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		ca_err_clear();
		rc = check(p[r->policy], r->type, r->name);
		if (r->allowed) {
			ok(rc == 0, "policy %d allows %s %s", r->policy,
			    r->type, r->name);
			if (rc != 0)
				printf("#   %s\n", ca_errmsg());
			continue;
		}
		ok(rc == CA_ERR_FORBIDDEN && (r->msg == NULL ||
		    strstr(ca_errmsg(), r->msg) != NULL),
		    "policy %d refuses %s %s", r->policy, r->type, r->name);
		if (rc != CA_ERR_FORBIDDEN || (r->msg != NULL &&
		    strstr(ca_errmsg(), r->msg) == NULL))
			printf("#   rc %d: %s\n", rc, ca_errmsg());
	}
	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		ca_policy_free(p[i]);
}

static void
test_bad(void)
{
	struct json_object *o;
	struct ca_policy *p;
	size_t i;
	int rc;
	char big[8192];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_tokener_parse(bad[i].js);
		p = NULL;
		rc = ca_policy_parse(o, "authority.policy", &p);
		ok(rc == CA_ERR_CONFIG && p == NULL &&
		    strstr(ca_errmsg(), bad[i].msg) != NULL, "refused: %s",
		    bad[i].js);
		if (rc != CA_ERR_CONFIG || strstr(ca_errmsg(), bad[i].msg) ==
		    NULL)
			printf("#   rc %d: %s\n", rc, ca_errmsg());
		json_object_put(o);
	}
	/* Bounded: 257 entries in a list. */
	strcpy(big, "{\"x509\": {\"deny\": {\"dns\": [");
	for (i = 0; i < CA_POLICY_MAX_RULES + 1; i++)
		strcat(big, i ? ", \"a.b\"" : "\"a.b\"");
	strcat(big, "]}}}");
	o = json_tokener_parse(big);
	rc = ca_policy_parse(o, "authority.policy", &p);
	ok(rc == CA_ERR_CONFIG && strstr(ca_errmsg(), "at most 256") != NULL,
	    "a list of %d entries is refused", CA_POLICY_MAX_RULES + 1);
	json_object_put(o);
	/* No rule: no policy (step-ca allows every name). */
	o = json_tokener_parse("{\"x509\": {\"allowWildcardNames\": true, "
	    "\"allow\": {\"dns\": []}}, \"ssh\": {}}");
	p = (struct ca_policy *)(void *)&o;	/* cleared on entry */
	rc = ca_policy_parse(o, "authority.policy", &p);
	ok(rc == 0 && p == NULL, "a policy without rules is none");
	json_object_put(o);
}

/* Both levels apply: the authority's and the provisioner's. */
static void
test_levels(void)
{
	struct ca_config cfg;
	struct ca_provisioner prov;
	struct ca_names nm;
	static char x[] = "x.example.com", y[] = "y.example.com";
	char *dns[2] = { x, y };
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&prov, 0, sizeof(prov));
	memset(&nm, 0, sizeof(nm));
	prov.name = (char *)(uintptr_t)"ops";
	cfg.policy = policy_of("{\"x509\": {\"allow\": {\"dns\": "
	    "[\"*.example.com\"]}}}");
	prov.policy = policy_of("{\"x509\": {\"deny\": {\"dns\": "
	    "[\"x.example.com\"]}}}");
	nm.dns = &dns[1];
	nm.n_dns = 1;
	ok(ca_policy_check_leaf(&cfg, &prov, "y.example.com", &nm) == 0,
	    "allowed by both");
	nm.dns = dns;
	nm.n_dns = 2;
	rc = ca_policy_check_leaf(&cfg, &prov, "y.example.com", &nm);
	is_str(ca_errmsg(), "dns name x.example.com denied by provisioner "
	    "\"ops\" policy deny.dns \"x.example.com\"",
	    "the provisioner's deny refuses (%d)", rc);
	rc = ca_policy_check_leaf(&cfg, &prov, "x.example.com", NULL);
	ok(rc == CA_ERR_FORBIDDEN, "so does it for the CN");
	rc = ca_policy_check_name(&cfg, &prov, "dns", "z.other.com");
	is_str(ca_errmsg(), "dns name z.other.com not allowed by authority "
	    "policy (no allow.dns rule matches)",
	    "the authority's allow refuses (%d)", rc);
	ok(ca_policy_check_name(&cfg, NULL, "dns", "x.example.com") == 0,
	    "without the provisioner, only the authority's applies");
	ok(ca_policy_check_name(&cfg, &prov, "ip", "10.0.0.1") ==
	    CA_ERR_FORBIDDEN, "an ip when only dns names are allowed");
	ca_policy_free(cfg.policy);
	ca_policy_free(prov.policy);
}

int
main(void)
{
	test_table();
	test_bad();
	test_levels();
	return tap_done();
}

/*
 * policy.c - step-ca's X.509 issuance policy: parsed from ca.json once,
 * then names are matched against it (see policy.h and ca-state(5)).
 *
 * The semantics are step-ca's (smallstep/certificates policy/validate.go):
 * a deny rule that matches refuses; a type with allow rules needs one that
 * matches; a type without allow rules is refused when other types have
 * some; the subject CN is allowed by allow.cn or else checked as the name
 * it is. Where step-ca lets a name through that a rule should stop, this
 * is stricter, and says so in ca-state(5): a wildcard name is matched
 * against deny rules by every name it covers, a deny.cn is final, a
 * mailbox deny rule ignores the case of the local part.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"
#include "conf.h"
#include "policy.h"
#include "x509.h"

enum { T_CN, T_DNS, T_IP, T_EMAIL, T_URI, T_N };
static const char *const tname[T_N] = { "cn", "dns", "ip", "email", "uri" };

/* A domain rule: "example.com", "*.example.com" (one label more, as
 * step-ca) or ".example.com" (any subdomain: ca-tools' own). */
enum dom_kind { D_EXACT, D_ONE, D_SUFFIX };

#define DOM_MAX	256

struct rule {
	char		*text;		/* as written, for messages */
	char		*dom;		/* normalized domain; cn: the name */
	char		*local;		/* email: a mailbox's local part */
	enum dom_kind	 kind;
	int		 v4;		/* ip: family, address, prefix */
	unsigned char	 ip[16];
	unsigned	 prefix;
};

struct list {
	struct rule	*r;
	size_t		 n;
};

struct ca_policy {
	struct list	 allow[T_N];
	struct list	 deny[T_N];
	int		 wildcards;	/* allowWildcardNames */
	size_t		 n_allow;
};

/* A name, normalized for matching. */
struct cand {
	char		 dom[DOM_MAX];	/* dns, uri host, email domain */
	char		 local[DOM_MAX];	/* email */
	int		 v4;
	unsigned char	 ip[16];
};

/* Normalization */

/*
 * Lowercase ASCII domain into out: the root's trailing dot dropped;
 * letters, digits, '-' and '_' in labels of 1 to 63. NULL, or why not.
 */
static const char *
dom_norm(const char *in, char *out)
{
	size_t len = strlen(in), i, label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return "a domain has 1 to 253 characters";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80)
			return "not ASCII: international names are matched "
			    "as IDNA A-labels (xn--)";
		if (c == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')
			label++;
		else if (c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
			label++;
		} else
			return "a character other than letters, digits, '-', "
			    "'_' and '.'";
		if (label > 63)
			return "a label longer than 63 characters";
		out[i] = (char)c;
	}
	if (label == 0)
		return "empty label";
	out[len] = '\0';
	return NULL;
}

/* A last label of digits (or 0x...) reads as an IPv4 address to some. */
static int
ip_like(const char *d)
{
	const char *l = strrchr(d, '.');

	l = l != NULL ? l + 1 : d;
	if (strncmp(l, "0x", 2) == 0)
		return 1;
	return strspn(l, "0123456789") == strlen(l);
}

/* An address in text form; IPv4-mapped IPv6 addresses are IPv4. */
static int
ip_parse(const char *s, int *v4, unsigned char ip[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(ip, 0, 16);
	if (inet_pton(AF_INET, s, ip) == 1) {
		*v4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip) != 1)
		return -1;
	*v4 = memcmp(ip, mapped, sizeof(mapped)) == 0;
	if (*v4)
		memmove(ip, ip + 12, 4);
	return 0;
}

static int
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* The host of URI u (scheme://[userinfo@]host[:port]/...) into out. */
static const char *
uri_host(const char *u, char *out)
{
	char host[DOM_MAX];
	const char *p = strchr(u, ':'), *a, *end, *at, *colon;
	size_t n;

	if (p == NULL || strncmp(p, "://", 3) != 0)
		return "no host name to match uri rules against";
	a = p + 3;
	end = a + strcspn(a, "/?#");
	for (at = NULL, p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		a = at + 1;
	if (*a == '[')
		return "an IP address as host: uri rules match host names";
	for (colon = NULL, p = a; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon != NULL)
		end = colon;
	n = (size_t)(end - a);
	if (n == 0 || n >= sizeof(host))
		return "no host name to match uri rules against";
	memcpy(host, a, n);
	host[n] = '\0';
	if (strchr(host, '%') != NULL)
		return "a percent-encoded host name";
	if (dom_norm(host, out) != NULL || ip_like(out))
		return "a host that is not a host name";
	return NULL;
}

/* Name s of type t into c; NULL, or why it cannot be matched. */
static const char *
cand_make(int t, const char *s, struct cand *c)
{
	const char *why, *at;
	size_t n;

	memset(c, 0, sizeof(*c));
	switch (t) {
	case T_DNS:
		if (strncmp(s, "*.", 2) == 0) {
			memcpy(c->dom, "*.", 2);
			why = dom_norm(s + 2, c->dom + 2);
		} else
			why = dom_norm(s, c->dom);
		if (why == NULL && ip_like(c->dom))
			why = "it reads as an IP address";
		return why;
	case T_IP:
		return ip_parse(s, &c->v4, c->ip) == 0 ? NULL :
		    "not an IP address in text form";
	case T_EMAIL:
		if ((at = strrchr(s, '@')) == NULL || at == s)
			return "not a mailbox";
		n = (size_t)(at - s);
		if (n >= sizeof(c->local) || memchr(s, '"', n) != NULL ||
		    memchr(s, '\\', n) != NULL)
			return "a quoted or overlong local part";
		memcpy(c->local, s, n);
		c->local[n] = '\0';
		return dom_norm(at + 1, c->dom);
	case T_URI:
		return uri_host(s, c->dom);
	}
	return "unknown name type";
}

/* Matching */

/*
 * Whether domain d matches r. A wildcard "*.B" matches a deny rule when
 * any name it covers does, and an allow rule when every name does.
 */
static int
dom_match(const char *d, const struct rule *r, int deny)
{
	size_t dl = strlen(d), rl = strlen(r->dom), bl;
	const char *base;

	if (strncmp(d, "*.", 2) != 0) {
		if (r->kind == D_EXACT)
			return strcmp(d, r->dom) == 0;
		if (dl <= rl + 1 || d[dl - rl - 1] != '.' ||
		    strcmp(d + dl - rl, r->dom) != 0)
			return 0;
		return r->kind == D_SUFFIX ||
		    memchr(d, '.', dl - rl - 1) == NULL;
	}
	base = d + 2;
	bl = dl - 2;
	switch (r->kind) {
	case D_EXACT:	/* covers r->dom when it is one label under base */
		return deny && rl > bl + 1 && r->dom[rl - bl - 1] == '.' &&
		    strcmp(r->dom + rl - bl, base) == 0 &&
		    memchr(r->dom, '.', rl - bl - 1) == NULL;
	case D_ONE:
		return strcmp(base, r->dom) == 0;
	case D_SUFFIX:
		return strcmp(base, r->dom) == 0 || (bl > rl + 1 &&
		    base[bl - rl - 1] == '.' &&
		    strcmp(base + bl - rl, r->dom) == 0);
	}
	return 0;
}

static int
rule_match(int t, const struct rule *r, const char *name,
    const struct cand *c, int deny)
{
	switch (t) {
	case T_CN:
		return strcasecmp(name, r->dom) == 0;
	case T_DNS:
	case T_URI:
		return dom_match(c->dom, r, deny);
	case T_EMAIL:
		if (r->local == NULL)
			return dom_match(c->dom, r, deny);
		/* Mail servers mostly ignore the local part's case. */
		return strcmp(c->dom, r->dom) == 0 && (deny ?
		    strcasecmp(c->local, r->local) : strcmp(c->local, r->local))
		    == 0;
	case T_IP:
		return c->v4 == r->v4 && prefix_eq(c->ip, r->ip, r->prefix);
	}
	return 0;
}

static int
refused(const char *word, const char *name, const char *who,
    const char *why)
{
	return ca_err(CA_ERR_FORBIDDEN, "%s name %s not allowed by %s policy "
	    "(%s)", word, name, who, why);
}

/*
 * Name of type t under p: deny rules, then allow rules unless allowed is
 * set (the CN matched allow.cn). word names it in messages.
 */
static int
check_one(const struct ca_policy *p, const char *who, int t,
    const char *word, const char *name, int allowed)
{
	const struct list *l;
	struct cand c;
	const char *why;
	char buf[96];
	size_t i;
	int applies;

	applies = p->allow[t].n + p->deny[t].n > 0 || p->n_allow > 0 ||
	    (t == T_DNS && p->deny[T_IP].n > 0);
	if ((why = cand_make(t, name, &c)) != NULL)
		return applies ? refused(word, name, who, why) : 0;
	if (t == T_DNS && c.dom[0] == '*' && !p->wildcards && applies)
		return refused(word, name, who, "allowWildcardNames is false");
	l = &p->deny[t];
	for (i = 0; i < l->n; i++)
		if (rule_match(t, &l->r[i], name, &c, 1))
			return ca_err(CA_ERR_FORBIDDEN, "%s name %s denied by "
			    "%s policy deny.%s \"%s\"", word, name, who, tname[t],
			    l->r[i].text);
	if (allowed)
		return 0;
	l = &p->allow[t];
	for (i = 0; i < l->n; i++)
		if (rule_match(t, &l->r[i], name, &c, 0))
			return 0;
	if (l->n > 0) {
		snprintf(buf, sizeof(buf), "no allow.%s rule matches", tname[t]);
		return refused(word, name, who, buf);
	}
	if (p->n_allow > 0) {
		snprintf(buf, sizeof(buf), "it allows some names, but no %s "
		    "name", tname[t]);
		return refused(word, name, who, buf);
	}
	return 0;
}

static int
check_cn(const struct ca_policy *p, const char *who, const char *cn)
{
	const struct list *l = &p->deny[T_CN];
	struct ca_names nm;
	const char *v, *type;
	size_t i;
	int allowed = 0, rc, t;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(cn, l->r[i].dom) == 0)
			return ca_err(CA_ERR_FORBIDDEN, "common name %s denied "
			    "by %s policy deny.cn \"%s\"", cn, who,
			    l->r[i].text);
	l = &p->allow[T_CN];
	for (i = 0; i < l->n; i++)
		if (strcasecmp(cn, l->r[i].dom) == 0)
			allowed = 1;
	if (ca_names_classify(&cn, 1, &nm) != 0) {
		ca_err_clear();
		return allowed ? 0 : refused("common", cn, who,
		    "not in allow.cn, and not a name its rules can match");
	}
	v = ca_names_at(&nm, 0, &type);
	for (t = 0; t < T_N && strcmp(tname[t], type) != 0; t++)
		;
	rc = check_one(p, who, t, "common", v, allowed);
	ca_names_free(&nm);
	return rc;
}

int
ca_policy_check(const struct ca_policy *p, const char *who, const char *cn,
    const struct ca_names *names)
{
	const char *v, *type;
	size_t i;
	int rc, t;

	if (p == NULL)
		return 0;
	for (i = 0; names != NULL && (v = ca_names_at(names, i, &type)) != NULL;
	    i++) {
		for (t = T_DNS; t < T_N && strcmp(tname[t], type) != 0; t++)
			;
		if (t == T_N)
			return ca_err(CA_ERR_FORBIDDEN, "a name of type %s", type);
		if ((rc = check_one(p, who, t, tname[t], v, 0)) != 0)
			return rc;
	}
	/* The subject last, as step-ca: a SAN's refusal names its type. */
	if (cn != NULL && cn[0] != '\0')
		return check_cn(p, who, cn);
	return 0;
}

int
ca_policy_check_leaf(const struct ca_config *cfg,
    const struct ca_provisioner *prov, const char *cn,
    const struct ca_names *names)
{
	char who[128];
	int rc;

	if ((rc = ca_policy_check(cfg->policy, "authority", cn, names)) != 0 ||
	    prov == NULL || prov->policy == NULL)
		return rc;
	snprintf(who, sizeof(who), "provisioner \"%s\"", prov->name);
	return ca_policy_check(prov->policy, who, cn, names);
}

int
ca_policy_check_name(const struct ca_config *cfg,
    const struct ca_provisioner *prov, const char *type, const char *value)
{
	struct ca_names nm;
	char *v = (char *)(uintptr_t)value;

	memset(&nm, 0, sizeof(nm));
	if (strcmp(type, "dns") == 0) {
		nm.dns = &v;
		nm.n_dns = 1;
	} else if (strcmp(type, "ip") == 0) {
		nm.ip = &v;
		nm.n_ip = 1;
	} else if (strcmp(type, "email") == 0) {
		nm.email = &v;
		nm.n_email = 1;
	} else if (strcmp(type, "uri") == 0) {
		nm.uri = &v;
		nm.n_uri = 1;
	} else
		return ca_err(CA_ERR_FORBIDDEN, "a name of type %s", type);
	return ca_policy_check_leaf(cfg, prov, NULL, &nm);
}

int
ca_policy_check_cert(const struct ca_config *cfg, const char *prov,
    const unsigned char *der, size_t len)
{
	const struct ca_provisioner *p = NULL;
	gnutls_x509_crt_t crt = NULL;
	struct ca_names nm;
	char cn[4 * CA_CN_MAX + 1];	/* 64 characters of UTF-8 */
	size_t cl = sizeof(cn);
	int rc;

	memset(&nm, 0, sizeof(nm));
	if (prov != NULL && ca_config_provisioner(cfg, prov, NULL, &p) != 0) {
		ca_err_clear();
		p = NULL;
	}
	if ((rc = ca_x509_import(der, len, &crt)) != 0 ||
	    (rc = ca_x509_names(crt, &nm)) != 0)
		goto out;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, cn, &cl) < 0)
		cn[0] = '\0';
	rc = ca_policy_check_leaf(cfg, p, cn, &nm);
out:
	ca_names_free(&nm);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

int
ca_policy_any(const struct ca_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_provisioners; i++)
		if (cfg->provisioners[i].policy != NULL)
			return 1;
	return cfg->policy != NULL;
}

/* Parsing */

static const char *
dom_rule(const char *s, int t, struct rule *r)
{
	char d[DOM_MAX];
	const char *why;

	if (t == T_URI && strstr(s, "://") != NULL)
		return "a scheme: uri rules name hosts (as step-ca's)";
	if (t == T_URI && strpbrk(s, ":[]") != NULL)
		return "a port or an IP address: uri rules name hosts";
	if (t != T_EMAIL && strncmp(s, "*.", 2) == 0) {
		r->kind = D_ONE;
		s += 2;
	} else if (s[0] == '.') {
		r->kind = D_SUFFIX;
		s++;
	}
	if (strchr(s, '*') != NULL)
		return "a wildcard other than a whole first label \"*.\"";
	if ((why = dom_norm(s, d)) != NULL)
		return why;
	if ((r->dom = strdup(d)) == NULL)
		return "out of memory";
	return NULL;
}

/* Entry s of a list of type t into r; NULL, or why not. */
static const char *
rule_parse(const char *s, int t, struct rule *r)
{
	const char *at, *why, *slash;
	char buf[64];
	unsigned long bits, max;
	char *end;

	switch (t) {
	case T_CN:
		if (strcmp(s, "*") == 0)
			return "a wildcard common name (step-ca refuses it too)";
		r->dom = strdup(s);
		return r->dom == NULL ? "out of memory" : NULL;
	case T_DNS:
	case T_URI:
		return dom_rule(s, t, r);
	case T_EMAIL:
		if ((at = strrchr(s, '@')) == NULL || at == s)
			return dom_rule(at != NULL ? at + 1 : s, t, r);
		if (memchr(s, '"', (size_t)(at - s)) != NULL ||
		    memchr(s, '\\', (size_t)(at - s)) != NULL ||
		    memchr(s, '@', (size_t)(at - s)) != NULL ||
		    strchr(s, '*') != NULL)
			return "a mailbox is local@domain, unquoted, no wildcard";
		if ((why = dom_rule(at + 1, t, r)) != NULL)
			return why;
		if (r->kind != D_EXACT)
			return "a mailbox's domain is one domain";
		r->local = strndup(s, (size_t)(at - s));
		return r->local == NULL ? "out of memory" : NULL;
	case T_IP:
		slash = strchr(s, '/');
		if (slash == NULL)
			slash = s + strlen(s);
		if ((size_t)(slash - s) >= sizeof(buf))
			return "not an IP address or CIDR range";
		memcpy(buf, s, (size_t)(slash - s));
		buf[slash - s] = '\0';
		if (ip_parse(buf, &r->v4, r->ip) != 0)
			return "not an IP address or CIDR range (leading "
			    "zeros are refused)";
		max = r->v4 ? 32 : 128;
		bits = max;
		if (*slash == '/') {
			if (slash[1] < '0' || slash[1] > '9' ||
			    strlen(slash + 1) > 3)
				return "a prefix length is 0 to 128";
			bits = strtoul(slash + 1, &end, 10);
			if (*end != '\0')
				return "a prefix length is a number";
			/* ::ffff:a.b.c.d/104 is a.b.c.d/8 */
			if (r->v4 && strchr(buf, ':') != NULL) {
				if (bits < 96)
					return "an IPv4-mapped range shorter "
					    "than /96";
				bits -= 96;
			}
			if (bits > max)
				return "a prefix longer than the address";
		}
		r->prefix = (unsigned)bits;
		return NULL;
	}
	return "unknown type";
}

static void
list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->r[i].text);
		free(l->r[i].dom);
		free(l->r[i].local);
	}
	free(l->r);
	memset(l, 0, sizeof(*l));
}

void
ca_policy_free(struct ca_policy *p)
{
	int t;

	if (p == NULL)
		return;
	for (t = 0; t < T_N; t++) {
		list_free(&p->allow[t]);
		list_free(&p->deny[t]);
	}
	free(p);
}

static int
parse_list(struct json_object *a, const char *where, int t, struct list *l)
{
	struct json_object *e;
	const char *s, *why;
	size_t i, n, j;

	if (json_object_is_type(a, json_type_null))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return ca_err(CA_ERR_CONFIG, "%s: not an array of strings",
		    where);
	n = json_object_array_length(a);
	if (n > CA_POLICY_MAX_RULES)
		return ca_err(CA_ERR_CONFIG, "%s: %zu entries: at most %d",
		    where, n, CA_POLICY_MAX_RULES);
	if (n == 0)
		return 0;
	if ((l->r = calloc(n, sizeof(*l->r))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string))
			return ca_err(CA_ERR_CONFIG, "%s[%zu]: not a string",
			    where, i);
		s = json_object_get_string(e);
		if (s[0] == '\0' || strlen(s) > CA_POLICY_RULE_MAX)
			return ca_err(CA_ERR_CONFIG, "%s[%zu]: 1 to %d "
			    "characters", where, i, CA_POLICY_RULE_MAX);
		/* A common name may hold spaces; nothing else does. */
		for (j = 0; s[j] != '\0'; j++)
			if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f ||
			    (s[j] == ' ' && t != T_CN))
				return ca_err(CA_ERR_CONFIG, "%s[%zu]: a space "
				    "or control character", where, i);
		l->n = i + 1;
		if ((l->r[i].text = strdup(s)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		if ((why = rule_parse(s, t, &l->r[i])) != NULL)
			return ca_err(CA_ERR_CONFIG, "%s[%zu]: \"%s\": %s",
			    where, i, s, why);
	}
	return 0;
}

/* A member of an object, its JSON path, and the policy being read. */
typedef int member_fn(struct ca_policy *, const char *, struct json_object *,
    const char *);

static int
unknown(const char *path, const char *known)
{
	return ca_err(CA_ERR_CONFIG, "%s: unknown to step-ca and to ca-tools "
	    "(%s)", path, known);
}

/* Each member of o (null: none) through fn; where is o's path. */
static int
walk(struct ca_policy *p, struct json_object *o, const char *where,
    member_fn *fn)
{
	struct json_object_iterator it, end;
	char path[160];
	int rc;

	if (json_object_is_type(o, json_type_null))
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return ca_err(CA_ERR_CONFIG, "%s: not an object", where);
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);

		char *c;

		snprintf(path, sizeof(path), "%.100s.%.32s", where, name);
		for (c = path; *c != '\0'; c++)	/* paths reach logs */
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		if ((rc = fn(p, name, json_object_iter_peek_value(&it),
		    path)) != 0)
			return rc;
	}
	return 0;
}

/* Members of allow and deny: {"dns": [...], "ip": [...], ...}. */
static int
names_member(struct list *lists, const char *name, struct json_object *v,
    const char *path)
{
	int t;

	for (t = 0; t < T_N && strcmp(tname[t], name) != 0; t++)
		;
	if (t == T_N)
		return unknown(path, "dns, ip, email, uri, cn");
	return parse_list(v, path, t, &lists[t]);
}

static int
allow_member(struct ca_policy *p, const char *name, struct json_object *v,
    const char *path)
{
	return names_member(p->allow, name, v, path);
}

static int
deny_member(struct ca_policy *p, const char *name, struct json_object *v,
    const char *path)
{
	return names_member(p->deny, name, v, path);
}

static int
x509_member(struct ca_policy *p, const char *name, struct json_object *v,
    const char *path)
{
	if (strcmp(name, "allow") == 0)
		return walk(p, v, path, allow_member);
	if (strcmp(name, "deny") == 0)
		return walk(p, v, path, deny_member);
	if (strcmp(name, "allowWildcardNames") != 0)
		return unknown(path, "allow, deny, allowWildcardNames");
	if (json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return ca_err(CA_ERR_CONFIG, "%s: not true or false", path);
	p->wildcards = json_object_get_boolean(v);
	return 0;
}

static int
policy_member(struct ca_policy *p, const char *name, struct json_object *v,
    const char *path)
{
	if (strcmp(name, "x509") == 0)
		return walk(p, v, path, x509_member);
	if (strcmp(name, "ssh") == 0)	/* warned about: no SSH here */
		return 0;
	return unknown(path, "x509, ssh");
}

int
ca_policy_parse(struct json_object *o, const char *where,
    struct ca_policy **out)
{
	struct ca_policy *p;
	size_t n = 0;
	int rc, t;

	*out = NULL;
	if (o == NULL || json_object_is_type(o, json_type_null))
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = walk(p, o, where, policy_member);
	for (t = 0; t < T_N; t++) {
		p->n_allow += p->allow[t].n;
		n += p->allow[t].n + p->deny[t].n;
	}
	if (rc != 0 || n == 0) {
		/* No rule: step-ca allows every name, wildcards too. */
		ca_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

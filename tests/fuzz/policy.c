/*
 * policy.c - fuzz step-ca's issuance policy (lib/policy.c): the policy
 * as ca.json gives it, read by ca_policy_parse, then names checked
 * against it, one by one and all together as one leaf.
 *
 * Input: the policy (JSON, the value of a "policy" member), a NUL byte,
 * then names, one a line, each "TYPE NAME" with TYPE one of dns, ip,
 * email, uri or cn; at most 64 names. Oracle: a DNS name gets the same
 * decision in other spellings that normalization must make equal (upper
 * case, a trailing dot): no spelling of a denied name gets through, and
 * an allowed one is not refused for its spelling.
 * fuzz-dict: policy
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "conf.h"
#include "json.h"
#include "policy.h"
#include "x509.h"

#define POLICY_MAX_INPUT	(64 * 1024)
#define POLICY_MAX_NAMES	64

/* One name alone: 0 allowed, else refused. */
static int
check(const struct ca_config *cfg, const char *type, const char *name)
{
	int rc;

	rc = strcmp(type, "cn") == 0 ?
	    ca_policy_check_leaf(cfg, NULL, name, NULL) :
	    ca_policy_check_name(cfg, NULL, type, name);
	ca_err_clear();
	return rc != 0;
}

/* The same decision for name in upper case and with a trailing dot. */
static void
respellings(const struct ca_config *cfg, const char *name, int refused)
{
	char buf[256];
	size_t i, len = strlen(name);

	if (len == 0 || len > 200 || name[len - 1] == '.')
		return;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] >= 0x80)
			return;	/* a U-label: case is not ASCII's */
	for (i = 0; i < len; i++)
		buf[i] = name[i] >= 'a' && name[i] <= 'z' ?
		    (char)(name[i] - 'a' + 'A') : name[i];
	buf[len] = '\0';
	if (check(cfg, "dns", buf) != refused)
		abort();	/* upper case changed the decision */
	memcpy(buf, name, len);
	buf[len] = '.';
	buf[len + 1] = '\0';
	if (check(cfg, "dns", buf) != refused)
		abort();	/* a trailing dot changed the decision */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "dns", "ip", "email", "uri",
	    "cn" };
	struct json_object *o = NULL;
	struct ca_config cfg;
	struct ca_names all;
	char *buf, *line, *save, *sp, *cn = NULL;
	char *dns[POLICY_MAX_NAMES], *ip[POLICY_MAX_NAMES], *email[POLICY_MAX_NAMES],
	    *uri[POLICY_MAX_NAMES];
	const uint8_t *nul;
	size_t jlen, i, n = 0;
	int refused;

	if (size > POLICY_MAX_INPUT || (nul = memchr(data, 0, size)) == NULL)
		return 0;
	jlen = (size_t)(nul - data);
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	memset(&all, 0, sizeof(all));
	all.dns = dns;
	all.ip = ip;
	all.email = email;
	all.uri = uri;
	if (ca_json_parse(buf, jlen, "policy", &o) != 0 ||
	    ca_policy_parse(o, "authority.policy", &cfg.policy) != 0)
		goto out;
	for (line = strtok_r(buf + jlen + 1, "\n", &save);
	    line != NULL && n < POLICY_MAX_NAMES;
	    line = strtok_r(NULL, "\n", &save), n++) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(line, types[i]) == 0)
				break;
		if (i == sizeof(types) / sizeof(types[0]))
			continue;
		refused = check(&cfg, types[i], sp);
		if (i == 0)
			respellings(&cfg, sp, refused);
		switch (i) {
		case 0: all.dns[all.n_dns++] = sp; break;
		case 1: all.ip[all.n_ip++] = sp; break;
		case 2: all.email[all.n_email++] = sp; break;
		case 3: all.uri[all.n_uri++] = sp; break;
		default: cn = sp; break;
		}
	}
	/* As one leaf: refused if any one of its names is. */
	(void)ca_policy_check(cfg.policy, "authority", cn, &all);
out:
	ca_err_clear();
	ca_policy_free(cfg.policy);
	json_object_put(o);
	free(buf);
	return 0;
}

/*
 * policy.h - step-ca's X.509 issuance policy ("policy" in ca.json, at the
 * authority and per provisioner): which names may be issued.
 *
 * A policy is read once from ca.json (every member bounded and checked;
 * an unknown one is refused by name) and is read-only afterwards, so that
 * any number of threads may check names against it. Names are normalized
 * before they are matched (case, the root's trailing dot, IPv4-mapped
 * IPv6 addresses) and names that cannot be matched safely (a U-label, a
 * quoted e-mail local part, a URI without a host name) are refused while
 * a rule could apply to them: no spelling of a denied name gets through.
 * See ca-state(5) for the rules.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_POLICY_H
#define CA_POLICY_H

#include <stddef.h>
#include <json-c/json.h>

struct ca_config;
struct ca_provisioner;
struct ca_names;
struct ca_policy;

#define CA_POLICY_MAX_RULES	256	/* entries in one list */
#define CA_POLICY_RULE_MAX	253	/* characters in one entry */

/*
 * Parse o, the value of a "policy" member (where names it in messages:
 * "authority.policy"). *out is NULL when o is NULL, null or sets no rule
 * and no allowWildcardNames; free with ca_policy_free(). CA_ERR_CONFIG
 * naming the member and the entry at fault.
 */
int	 ca_policy_parse(struct json_object *o, const char *where,
	    struct ca_policy **out);
void	 ca_policy_free(struct ca_policy *p);

/*
 * Whether a leaf with subject CN cn (NULL or "" for none) and the names
 * may be issued under policy p (NULL: no policy), named who in messages
 * ("authority", "provisioner \"x\""). 0, or CA_ERR_FORBIDDEN with a
 * message naming the name and the rule:
 *   dns name x.evil.com denied by authority policy deny.dns "*.evil.com"
 */
int	 ca_policy_check(const struct ca_policy *p, const char *who,
	    const char *cn, const struct ca_names *names);
/*
 * The same against both policies that apply to an issuance through prov
 * (NULL: the authority's only): the authority's, then the provisioner's.
 * Either one refusing refuses.
 */
int	 ca_policy_check_leaf(const struct ca_config *cfg,
	    const struct ca_provisioner *prov, const char *cn,
	    const struct ca_names *names);
/* One name of type "dns", "ip", "email" or "uri" (an ACME identifier). */
int	 ca_policy_check_name(const struct ca_config *cfg,
	    const struct ca_provisioner *prov, const char *type,
	    const char *value);

/*
 * A certificate issued here (DER) through the provisioner named prov
 * (NULL or unknown: the authority's policy only), checked against the
 * policy of today: its subject CN and names. 0, CA_ERR_FORBIDDEN as
 * above, or CA_ERR_INVAL when it cannot be read.
 */
int	 ca_policy_check_cert(const struct ca_config *cfg, const char *prov,
	    const unsigned char *der, size_t len);
/* Whether cfg sets a policy anywhere (the authority or a provisioner). */
int	 ca_policy_any(const struct ca_config *cfg);

#endif /* CA_POLICY_H */

/*
 * conf.h - the state directory's config/ca.json (see ca-state(5)).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CONF_H
#define CA_CONF_H

#include <stdint.h>
#include <json-c/json.h>

#include "keys.h"

struct ca_jwk;
struct ca_policy;
struct ca_certtmpl;

#define CA_MAX_PORTS	16

/* Certificate lifetime policy (step-ca's "claims"), in seconds. */
struct ca_claims {
	int64_t	 min_dur;
	int64_t	 max_dur;
	int64_t	 default_dur;
	int	 disable_renewal;
	int	 allow_renewal_after_expiry;
	int	 disable_step_ext;	/* disableSmallstepExtensions */
};

#define CA_CRL_VALIDITY_DEFAULT		(24 * 3600)	/* step-ca's crl.cacheDuration */
#define CA_OCSP_VALIDITY_DEFAULT	(3600)
#define CA_BACKDATE			60	/* s: notBefore = now - 1m */
#define CA_BACKDATE_MAX			3600	/* authority.backdate at most 1h */
#define CA_CLAIMS_MIN_DEFAULT		(5 * 60)
#define CA_CLAIMS_MAX_DEFAULT		(24 * 3600)
#define CA_CLAIMS_DEFAULT_DEFAULT	(24 * 3600)

/* A provisioner's type (its "type", any case); OTHER: kept, never served. */
enum ca_prov_kind {
	CA_PROV_OTHER,		/* AWS, GCP, Azure, SSHPOP, Nebula */
	CA_PROV_JWK,
	CA_PROV_ACME,
	CA_PROV_X5C,
	CA_PROV_OIDC,
	CA_PROV_K8SSA,
	CA_PROV_SCEP
};

struct ca_provisioner {
	char		*name;
	char		*type;		/* "JWK" */
	enum ca_prov_kind kind;
	/* Its type's own parsed members (struct ca_x5c_conf, ca_oidc_conf,
	 * ca_k8ssa_conf, ca_scep_conf in that type's module), freed with
	 * impl_free; NULL for JWK, ACME and types not served. */
	void		*impl;
	void		(*impl_free)(void *);
	char		*kid;		/* the key's kid (RFC 7638 thumbprint) */
	struct ca_jwk	*key;		/* public key */
	const char	*encrypted_key;	/* JWE compact, borrowed from json; or NULL */
	struct ca_claims claims;	/* authority claims overridden by its own */
	/* ACME (type "ACME"); strings and arrays borrowed from json: */
	unsigned	 acme_challenges;	/* CA_ACME_HTTP01 | ... */
	int		 require_eab;		/* requireEAB */
	int		 force_cn;		/* forceCN */
	const char	*terms_of_service;	/* termsOfService, or NULL */
	const char	*website;		/* website, or NULL */
	struct json_object *caa_identities;	/* caaIdentities, or NULL */
	struct ca_policy *policy;	/* its "policy" (lib/policy.h), or NULL */
	struct ca_certtmpl *x509_tmpl;	/* options.x509 (lib/certtmpl.h), or NULL */
	/* OIDC: its clientID (borrowed), read even while OIDC is not served:
	 * lib/authz.c routes a token by it. */
	const char	*client_id;
};

/* ACME challenge types a provisioner allows (its "challenges"). */
#define CA_ACME_HTTP01		0x1
#define CA_ACME_DNS01		0x2
#define CA_ACME_TLSALPN01	0x4
#define CA_ACME_ALL		0x7
/* The CA_ACME_* bit of a challenge type ("http-01", any case), or 0. */
unsigned ca_acme_challenge_bit(const char *name);
/* The name of one CA_ACME_* bit, or NULL. */
const char *ca_acme_challenge_name(unsigned bit);

/* caTools.acme: the validator's peers, and ACME objects' lifetimes. */
struct ca_acme_conf {
	int		 http_port;		/* httpPort: http-01, 80 */
	int		 tls_port;		/* tlsPort: tls-alpn-01, 443 */
	const char	*dns_resolver;		/* "IP:PORT", or NULL: the system's */
	int64_t		 validation_timeout;	/* s, 10 */
	int64_t		 order_lifetime;	/* s, 1 day */
	int64_t		 authz_lifetime;	/* s, 7 days */
	int64_t		 max_validations;	/* maxValidationsPerAccount, 10 */
};

#define CA_MAX_SANS_DEFAULT	100
#define CA_MAX_SANS_LIMIT	1000

struct ca_config {
	char		*dir;		/* the state directory */
	char		*path;		/* .../config/ca.json */
	struct json_object *json;	/* the whole document */
	char		*root;		/* absolute paths */
	char		*crt;
	char		*key;		/* a file, or a pkcs11: URI with kms_uri */
	char		*root_key;
	const char	*kms_uri;	/* kms.uri (pkcs11:), borrowed; or NULL */
	char		*db_dir;
	const char	*address;	/* borrowed from json */
	const char	*insecure_address;	/* insecureAddress, or NULL */
	const char	**dns_names;
	size_t		 n_dns_names;
	int		 port;		/* from address, 443 if none */
	int		 extra_ports[CA_MAX_PORTS];	/* ca-serve's, also in audiences */
	size_t		 n_extra_ports;
	enum ca_key_type key_type;	/* for keys the CA makes for clients */
	unsigned	 lock_timeout_ms;
	size_t		 max_sans;	/* caTools.maxSANs: names in a CSR */
	int64_t		 crl_validity;	/* crl.cacheDuration: nextUpdate - thisUpdate */
	int64_t		 backdate;	/* authority.backdate: notBefore = now - it */
	int64_t		 ocsp_validity;	/* caTools.ocspNextUpdate, <= 7 days */
	const char	*crl_url;	/* caTools.crlURL: CDP in leaves, or NULL */
	const char	*ocsp_url;	/* caTools.ocspURL: AIA in leaves, or NULL */
	int		 is_ra;		/* authority.type "stepcas" */
	/* RA only (step-ca's StepCAS settings in "authority"): */
	const char	*upstream_url;	/* certificateAuthority */
	const char	*upstream_fp;	/* certificateAuthorityFingerprint */
	const char	*upstream_prov;	/* certificateIssuer.provisioner */
	char		*upstream_key;	/* certificateIssuer.key: a key file, or NULL */
	int64_t		 upstream_timeout;	/* caTools.upstreamTimeout, s */
	/* A CA: caTools.registrationAuthorities, the base URLs of RAs whose
	 * clients' renew tokens (audience the RA's) are accepted here. */
	const char	**ra_urls;
	size_t		 n_ra_urls;
	struct ca_claims claims;
	struct ca_policy *policy;	/* authority.policy (lib/policy.h), or NULL */
	struct ca_acme_conf acme;	/* caTools.acme */
	struct ca_provisioner *provisioners;
	size_t		 n_provisioners;
	char		*ignored;	/* step-ca members ignored here, or NULL */
};

/*
 * Resolve the state directory: opt if given, else $CA_STATE_DIR.
 * Returns NULL (with an error recorded) when neither is set.
 */
const char *ca_config_state_dir(const char *opt);
/*
 * Load and validate dir/config/ca.json. Relative paths in it are taken
 * relative to dir. Caller frees with ca_config_free().
 */
int	 ca_config_load(const char *dir, struct ca_config **out);
/*
 * The same for the ca.json in buf (len bytes, NUL-terminated), as if it
 * were dir/config/ca.json: how an edit is checked before it is published.
 */
int	 ca_config_parse(const char *dir, const char *buf, size_t len,
	    struct ca_config **out);
void	 ca_config_free(struct ca_config *cfg);
/*
 * Find a provisioner by name and, if kid is not NULL, by key id.
 * Returns CA_ERR_NOTFOUND (error recorded) when there is none.
 */
int	 ca_config_provisioner(const struct ca_config *cfg, const char *name,
	    const char *kid, const struct ca_provisioner **out);
/* The provisioner named name of kind kind; CA_ERR_NOTFOUND (recorded). */
int	 ca_config_provisioner_of(const struct ca_config *cfg,
	    enum ca_prov_kind kind, const char *name,
	    const struct ca_provisioner **out);
/* The kind of a ca.json type name (any case); CA_PROV_OTHER if none. */
enum ca_prov_kind ca_prov_kind_of(const char *type);
/* Its step-ca spelling: "JWK", "ACME", "X5C", "OIDC", "K8sSA", "SCEP", "other". */
const char *ca_prov_kind_name(enum ca_prov_kind kind);
/*
 * Whether this build verifies and issues through provisioners of kind
 * (lib/conf-fields.c's table): JWK and ACME; X5C, OIDC, K8sSA and SCEP
 * once their modules land. A type not served is loaded, listed by
 * /provisioners and warned about ("not served"), and never issues.
 */
int	 ca_config_kind_served(enum ca_prov_kind kind);
/*
 * The audience a token for path ("/1.0/sign", "/1.0/revoke") must carry:
 * https://<dnsNames[0]>[:port]<path>. Caller frees.
 */
char	*ca_config_audience(const struct ca_config *cfg, const char *path);
/* Whether aud is one of this CA's audiences for path (any dnsName, with or without /1.0). */
int	 ca_config_audience_ok(const struct ca_config *cfg, const char *path,
	    const char *aud);
/*
 * The same, for an audience that may carry one URL fragment
 * ("https://ca/1.0/sign#x5c/NAME", as step's X5C and K8sSA tokens do):
 * *fragment (cleared on entry) points into aud after the '#', or stays
 * NULL when there is none. The caller decides which fragments its type
 * accepts (JWK: none).
 */
int	 ca_config_audience_ok2(const struct ca_config *cfg, const char *path,
	    const char *aud, const char **fragment);
/* The port of an address "[HOST]:PORT" (443 when address is empty). */
int	 ca_address_parse(const char *address, int *port);
/*
 * Check every member of ca.json against step-ca's (lib/conf-fields.c):
 * fails with CA_ERR_CONFIG naming the first member refused; *ignored gets
 * the ones ignored here ("logger, tls"; caller frees) or NULL.
 */
int	 ca_config_check_fields(struct json_object *root, char **ignored);
/* Parse a "claims" object into c (members absent leave c unchanged). */
int	 ca_claims_parse(struct json_object *o, struct ca_claims *c);

#endif /* CA_CONF_H */

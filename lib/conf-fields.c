/*
 * conf-fields.c - every member step-ca knows in ca.json, and what ca-tools
 * does with it: supported, refused, or ignored with a warning.
 *
 * A member that would change what is issued or who may ask for it is
 * refused unless it is unset (null, false, "", [], {}): a step-ca user's
 * name policy or template must never be silently dropped. A member that
 * changes neither (logging, TLS tuning, SSH settings while no SSH
 * certificate is issued here) is collected into one warning line. Members
 * step-ca does not know are refused too, in every object walked here: a
 * misspelt "claim" or a member of a newer step-ca may well change issuance.
 * man/ca-state.5 holds the same table; keep them together.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"
#include "conf.h"
#include "pkcs11.h"

enum field_kind {
	F_OK,		/* supported (its value is checked by conf.c) */
	F_REFUSE,	/* refused unless unset */
	F_WARN,		/* ignored with a warning unless unset */
	F_TRUE_OK,	/* true is what happens here; false is warned */
	F_SUB,		/* an object walked with its own table */
	F_SPECIAL	/* checked by its own code below */
};

struct field {
	const char		*name;
	enum field_kind		 kind;
	const struct field	*sub;
};

struct walk {
	char	*warn;		/* "a, b.c, ..." */
	size_t	 len;
};

#define END	{ NULL, F_OK, NULL }

static const struct field f_claims[] = {
	{ "minTLSCertDuration", F_OK, NULL },
	{ "maxTLSCertDuration", F_OK, NULL },
	{ "defaultTLSCertDuration", F_OK, NULL },
	{ "disableRenewal", F_OK, NULL },
	{ "allowRenewalAfterExpiry", F_OK, NULL },
	/* Whether leaves carry step's provisioner extension. */
	{ "disableSmallstepExtensions", F_OK, NULL },
	/* No SSH certificate is issued here. */
	{ "minUserSSHCertDuration", F_WARN, NULL },
	{ "maxUserSSHCertDuration", F_WARN, NULL },
	{ "defaultUserSSHCertDuration", F_WARN, NULL },
	{ "minHostSSHCertDuration", F_WARN, NULL },
	{ "maxHostSSHCertDuration", F_WARN, NULL },
	{ "defaultHostSSHCertDuration", F_WARN, NULL },
	{ "enableSSHCA", F_WARN, NULL },
	END
};

/* Certificate templates: lib/certtmpl.c loads them. */
static const struct field f_x509_options[] = {
	{ "template", F_OK, NULL },
	{ "templateFile", F_OK, NULL },
	{ "templateData", F_OK, NULL },
	END
};

static const struct field f_options[] = {
	{ "x509", F_SUB, f_x509_options },
	{ "ssh", F_WARN, NULL },
	{ "webhooks", F_REFUSE, NULL },
	{ "wire", F_REFUSE, NULL },
	END
};

/* Issuance policy: x509 is checked by lib/policy.c; no SSH is issued here. */
static const struct field f_policy[] = {
	{ "x509", F_OK, NULL },
	{ "ssh", F_WARN, NULL },
	END
};

static const struct field f_jwk[] = {
	{ "type", F_OK, NULL },
	{ "name", F_OK, NULL },
	{ "key", F_OK, NULL },
	{ "encryptedKey", F_OK, NULL },
	{ "claims", F_SUB, f_claims },
	{ "options", F_SUB, f_options },
	{ "policy", F_SUB, f_policy },	/* ca-tools: per provisioner */
	END
};

/*
 * An ACME provisioner: served. Device attestation, Wire and webhooks
 * would change issuance and are refused (templates are served); the
 * challenges' names are checked by conf.c.
 */
static const struct field f_acme[] = {
	{ "type", F_OK, NULL },
	{ "name", F_OK, NULL },
	{ "challenges", F_OK, NULL },
	{ "requireEAB", F_OK, NULL },
	{ "forceCN", F_OK, NULL },
	{ "termsOfService", F_OK, NULL },
	{ "website", F_OK, NULL },
	{ "caaIdentities", F_OK, NULL },
	{ "claims", F_SUB, f_claims },
	{ "policy", F_SUB, f_policy },	/* ca-tools: per provisioner */
	{ "attestationFormats", F_REFUSE, NULL },
	{ "attestationRoots", F_REFUSE, NULL },
	{ "rootCRLs", F_REFUSE, NULL },
	{ "options", F_SUB, f_options },
	END
};

static const struct field f_issuer[] = {
	{ "type", F_OK, NULL },
	{ "provisioner", F_OK, NULL },
	{ "key", F_OK, NULL },
	{ "crt", F_REFUSE, NULL },	/* an x5c issuer */
	{ "password", F_WARN, NULL },
	END
};

static const struct field f_authority[] = {
	{ "type", F_SPECIAL, NULL },
	{ "certificateAuthority", F_OK, NULL },
	{ "certificateAuthorityFingerprint", F_OK, NULL },
	{ "certificateIssuer", F_SUB, f_issuer },
	{ "credentialsFile", F_REFUSE, NULL },
	{ "config", F_REFUSE, NULL },
	{ "authorityId", F_WARN, NULL },
	{ "deploymentType", F_WARN, NULL },
	{ "provisioners", F_SPECIAL, NULL },
	{ "template", F_REFUSE, NULL },
	{ "claims", F_SUB, f_claims },
	{ "policy", F_SUB, f_policy },
	/* Used tokens are recorded for good here: no start-time check. */
	{ "disableIssuedAtCheck", F_TRUE_OK, NULL },
	{ "backdate", F_SPECIAL, NULL },
	{ "enableAdmin", F_REFUSE, NULL },
	{ "disableGetSSHHosts", F_WARN, NULL },
	END
};

static const struct field f_crl[] = {
	{ "enabled", F_TRUE_OK, NULL },	/* GET /crl is always served */
	{ "generateOnRevoke", F_TRUE_OK, NULL },	/* after every revocation */
	{ "cacheDuration", F_OK, NULL },
	{ "renewPeriod", F_WARN, NULL },
	{ "idpURL", F_REFUSE, NULL },	/* changes the CRL signed */
	END
};

static const struct field f_db[] = {
	{ "type", F_OK, NULL },
	{ "dataSource", F_OK, NULL },
	{ "valueDir", F_WARN, NULL },
	{ "database", F_WARN, NULL },
	{ "badgerFileLoadingMode", F_WARN, NULL },
	END
};

static const struct field f_top[] = {
	{ "root", F_OK, NULL },
	{ "federatedRoots", F_REFUSE, NULL },
	{ "crt", F_OK, NULL },
	{ "key", F_OK, NULL },
	{ "address", F_OK, NULL },
	{ "insecureAddress", F_OK, NULL },	/* plain HTTP: SCEP, CRL, OCSP */
	{ "dnsNames", F_OK, NULL },
	{ "kms", F_SPECIAL, NULL },	/* pkcs11 only */
	{ "ssh", F_REFUSE, NULL },
	{ "logger", F_SPECIAL, NULL },
	{ "db", F_SUB, f_db },
	{ "monitoring", F_WARN, NULL },
	{ "authority", F_SUB, f_authority },
	{ "tls", F_WARN, NULL },
	{ "password", F_WARN, NULL },
	{ "templates", F_WARN, NULL },
	{ "commonName", F_WARN, NULL },
	{ "crl", F_SUB, f_crl },
	{ "metricsAddress", F_WARN, NULL },
	{ "caTools", F_OK, NULL },	/* ours */
	END
};

/*
 * Issue 13's types (DESIGN13 2.4): their members once served; each
 * type's module (lib/x5c.c, lib/oidc.c, lib/k8ssa.c, lib/scep.c) checks
 * the values. Until its kind is served (kinds[] below) a provisioner of
 * that type is kept and warned about, and its members do not matter.
 */
static const struct field f_x5c[] = {
	{ "type", F_OK, NULL },
	{ "name", F_OK, NULL },
	{ "roots", F_OK, NULL },
	{ "claims", F_SUB, f_claims },
	{ "options", F_SUB, f_options },
	{ "policy", F_SUB, f_policy },
	END
};

static const struct field f_oidc[] = {
	{ "type", F_OK, NULL },
	{ "name", F_OK, NULL },
	{ "clientID", F_OK, NULL },
	{ "clientSecret", F_OK, NULL },
	{ "configurationEndpoint", F_OK, NULL },
	{ "tenantID", F_OK, NULL },
	{ "admins", F_OK, NULL },
	{ "domains", F_OK, NULL },
	{ "groups", F_OK, NULL },
	/* The client's (ca-token --oidc), not the server's: */
	{ "listenAddress", F_OK, NULL },
	{ "scopes", F_OK, NULL },
	{ "authParams", F_OK, NULL },
	{ "claims", F_SUB, f_claims },
	{ "options", F_SUB, f_options },
	{ "policy", F_SUB, f_policy },
	END
};

static const struct field f_k8ssa[] = {
	{ "type", F_OK, NULL },
	{ "name", F_OK, NULL },
	{ "publicKeys", F_OK, NULL },
	{ "claims", F_SUB, f_claims },
	{ "options", F_SUB, f_options },
	{ "policy", F_SUB, f_policy },
	END
};

static const struct field f_scep[] = {
	{ "type", F_OK, NULL },
	{ "name", F_OK, NULL },
	{ "forceCN", F_OK, NULL },
	{ "challenge", F_OK, NULL },
	{ "capabilities", F_OK, NULL },
	{ "includeRoot", F_OK, NULL },
	{ "excludeIntermediate", F_OK, NULL },
	{ "minimumPublicKeyLength", F_OK, NULL },
	{ "decrypterCertificate", F_OK, NULL },
	{ "decrypterKeyPEM", F_OK, NULL },
	{ "decrypterKey", F_OK, NULL },
	{ "decrypterKeyPassword", F_OK, NULL },
	{ "encryptionAlgorithmIdentifier", F_OK, NULL },
	{ "claims", F_SUB, f_claims },
	{ "options", F_SUB, f_options },	/* webhooks refused there */
	{ "policy", F_SUB, f_policy },
	END
};

/*
 * step-ca's provisioner types, and whether each is served here. A type
 * whose module lands sets served to 1 (one line): from then on its
 * members are checked with its table and conf.c calls its loader.
 */
static const struct kind {
	const char		*name;
	enum ca_prov_kind	 kind;
	const struct field	*fields;
	int			 served;
} kinds[] = {
	{ "JWK", CA_PROV_JWK, f_jwk, 1 },
	{ "ACME", CA_PROV_ACME, f_acme, 1 },
	{ "X5C", CA_PROV_X5C, f_x5c, 1 },	/* lib/x5c.c */
	{ "OIDC", CA_PROV_OIDC, f_oidc, 1 },	/* lib/oidc.c */
	{ "K8sSA", CA_PROV_K8SSA, f_k8ssa, 1 },	/* lib/k8ssa.c */
	{ "SCEP", CA_PROV_SCEP, f_scep, 1 },	/* lib/scep.c */
	/* Kept (and listed by GET /provisioners), nothing issued. */
	{ "AWS", CA_PROV_OTHER, NULL, 0 },
	{ "GCP", CA_PROV_OTHER, NULL, 0 },
	{ "Azure", CA_PROV_OTHER, NULL, 0 },
	{ "SSHPOP", CA_PROV_OTHER, NULL, 0 },
	{ "Nebula", CA_PROV_OTHER, NULL, 0 },
	{ NULL, CA_PROV_OTHER, NULL, 0 }
};

static const struct kind *
kind_by_name(const char *type)
{
	size_t i;

	for (i = 0; kinds[i].name != NULL; i++)
		if (strcasecmp(type, kinds[i].name) == 0)
			return &kinds[i];
	return NULL;
}

enum ca_prov_kind
ca_prov_kind_of(const char *type)
{
	const struct kind *k = type != NULL ? kind_by_name(type) : NULL;

	return k != NULL ? k->kind : CA_PROV_OTHER;
}

const char *
ca_prov_kind_name(enum ca_prov_kind kind)
{
	size_t i;

	for (i = 0; kinds[i].name != NULL; i++)
		if (kinds[i].kind == kind && kind != CA_PROV_OTHER)
			return kinds[i].name;
	return "other";
}

int
ca_config_kind_served(enum ca_prov_kind kind)
{
	size_t i;

	for (i = 0; kinds[i].name != NULL; i++)
		if (kinds[i].kind == kind && kind != CA_PROV_OTHER)
			return kinds[i].served;
	return 0;
}

static int walk_object(struct walk *, struct json_object *, const char *,
    const struct field *);

/* Unset: null, false, 0, "", [] or {}. */
static int
is_unset(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) == 0;
	case json_type_double:
		return json_object_get_double(v) == 0;
	case json_type_string:
		return json_object_get_string_len(v) == 0;
	case json_type_array:
		return json_object_array_length(v) == 0;
	case json_type_object:
		return json_object_object_length(v) == 0;
	}
	return 0;
}

static int
warn_add(struct walk *w, const char *path)
{
	size_t n = strlen(path);
	char *p;

	if ((p = realloc(w->warn, w->len + n + 3)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	w->warn = p;
	if (w->len > 0) {
		memcpy(p + w->len, ", ", 2);
		w->len += 2;
	}
	memcpy(p + w->len, path, n + 1);
	w->len += n;
	return 0;
}

static int
refuse(const char *path, const char *why)
{
	return ca_err(CA_ERR_CONFIG, "%s: %s", path, why);
}

#define NOT_HERE	"not supported by ca-tools (it changes what is issued " \
			"or who may ask); remove it to start"

static int
check_provisioner(struct walk *w, struct json_object *p, const char *path)
{
	const char *type = NULL;
	const struct kind *k;
	struct json_object *v;

	if (!json_object_is_type(p, json_type_object))
		return 0;	/* conf.c says what is wrong */
	if (json_object_object_get_ex(p, "type", &v) &&
	    json_object_is_type(v, json_type_string))
		type = json_object_get_string(v);
	if (type == NULL)
		return 0;
	if ((k = kind_by_name(type)) != NULL) {
		char *s;
		int rc;

		if (k->served)
			return walk_object(w, p, path, k->fields);
		/* Nothing is issued through it: its members do not matter. */
		if (asprintf(&s, "%s (type %s, not served)", path, k->name) < 0)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		rc = warn_add(w, s);
		free(s);
		return rc;
	}
	return ca_err(CA_ERR_CONFIG, "%s.type: unknown provisioner type \"%.40s\"",
	    path, type);
}

/*
 * kms: {"type": "pkcs11", "uri": "pkcs11:module-path=...;token=..."},
 * the keys on a PKCS#11 token (lib/pkcs11.c); step-ca's other KMSs are
 * refused, and so is any other member (a cloud KMS's credentials).
 */
static int
check_kms(struct json_object *v, const char *path)
{
	struct json_object_iterator it, end;
	struct json_object *t, *u;
	char where[32];

	if (is_unset(v))
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return refuse(path, "not an object");
	if (!json_object_object_get_ex(v, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return refuse(path, "no \"type\" (ca-tools knows pkcs11)");
	if (strcasecmp(json_object_get_string(t), "pkcs11") != 0)
		return ca_err(CA_ERR_CONFIG, "%s.type: \"%.40s\": not supported "
		    "by ca-tools (pkcs11)", path, json_object_get_string(t));
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);

		if (strcmp(name, "type") != 0 && strcmp(name, "uri") != 0)
			return ca_err(CA_ERR_CONFIG, "%s: member \"%.32s\": "
			    "not supported by ca-tools (type and uri)", path,
			    name);
	}
	if (!json_object_object_get_ex(v, "uri", &u) ||
	    !json_object_is_type(u, json_type_string))
		return refuse(path, "type pkcs11 needs a \"uri\" "
		    "(pkcs11:module-path=MODULE;token=LABEL?pin-source=FILE)");
	snprintf(where, sizeof(where), "%s.uri", path);
	return ca_pkcs11_kms_check(json_object_get_string(u), where);
}

static int
special(struct walk *w, struct json_object *o, const char *name,
    struct json_object *v, const char *path)
{
	const char *s;
	size_t i, n;
	int rc;

	if (strcmp(name, "type") == 0) {	/* authority.type */
		if (!json_object_is_type(v, json_type_string))
			return 0;
		s = json_object_get_string(v);
		if (s[0] == '\0' || strcasecmp(s, "softcas") == 0 ||
		    strcasecmp(s, "stepcas") == 0)
			return 0;
		return ca_err(CA_ERR_CONFIG, "%s: \"%.40s\": not supported by "
		    "ca-tools (softcas or stepcas)", path, s);
	}
	if (strcmp(name, "backdate") == 0) {
		int64_t d;

		if (json_object_is_type(v, json_type_null))
			return 0;
		if (!json_object_is_type(v, json_type_string) ||
		    ca_duration_parse(json_object_get_string(v), 0, &d) != 0 ||
		    d < 0 || d > CA_BACKDATE_MAX)
			return refuse(path, "a duration from 0s to 1h is "
			    "supported");
		return 0;
	}
	if (strcmp(name, "kms") == 0)
		return check_kms(v, path);
	if (strcmp(name, "logger") == 0) {
		struct json_object *f;

		/* {"format": "text"} is the log ca-serve writes. */
		if (is_unset(v) || (json_object_is_type(v, json_type_object) &&
		    json_object_object_length(v) == 1 &&
		    json_object_object_get_ex(v, "format", &f) &&
		    json_object_is_type(f, json_type_string) &&
		    strcmp(json_object_get_string(f), "text") == 0))
			return 0;
		return warn_add(w, path);
	}
	/* authority.provisioners */
	(void)o;
	if (!json_object_is_type(v, json_type_array))
		return 0;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		char *p;

		if (asprintf(&p, "%s[%zu]", path, i) < 0)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		rc = check_provisioner(w, json_object_array_get_idx(v, i), p);
		free(p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
walk_member(struct walk *w, struct json_object *o, const char *name,
    struct json_object *v, const char *path, const struct field *table)
{
	const struct field *f;

	for (f = table; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			break;
	if (f->name == NULL)
		return refuse(path, "unknown to step-ca and to ca-tools; "
		    "remove it to start");
	switch (f->kind) {
	case F_OK:
		return 0;
	case F_REFUSE:
		return is_unset(v) ? 0 : refuse(path, NOT_HERE);
	case F_WARN:
		return is_unset(v) ? 0 : warn_add(w, path);
	case F_TRUE_OK:
		if (json_object_is_type(v, json_type_boolean) &&
		    json_object_get_boolean(v))
			return 0;
		return warn_add(w, path);
	case F_SUB:
		if (!json_object_is_type(v, json_type_object))
			return is_unset(v) ? 0 : refuse(path, "not an object");
		return walk_object(w, v, path, f->sub);
	case F_SPECIAL:
		return special(w, o, name, v, path);
	}
	return 0;
}

static int
walk_object(struct walk *w, struct json_object *o, const char *where,
    const struct field *table)
{
	struct json_object_iterator it, end;
	int rc;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		char *path, *c;

		if (asprintf(&path, "%s%s%.64s", where, where[0] ? "." : "",
		    name) < 0)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		/* The path reaches logs: no control characters. */
		for (c = path; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		rc = walk_member(w, o, name, json_object_iter_peek_value(&it),
		    path, table);
		free(path);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
ca_config_check_fields(struct json_object *root, char **ignored)
{
	struct walk w = { NULL, 0 };
	int rc;

	*ignored = NULL;
	if (!json_object_is_type(root, json_type_object))
		return 0;
	if ((rc = walk_object(&w, root, "", f_top)) != 0) {
		free(w.warn);
		return rc;
	}
	*ignored = w.warn;
	return 0;
}

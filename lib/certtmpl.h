/*
 * certtmpl.h - step-ca's X.509 certificate templates (a provisioner's
 * options.x509): the template is parsed when ca.json is loaded, rendered
 * at issuance with step-ca's template data, and the JSON it renders to
 * (smallstep/crypto x509util's Certificate) is mapped to the parts of a
 * leaf a template may decide (struct ca_leaf_profile, lib/x509.h). What
 * stays the CA's: serial, issuer, key identifiers, public key, signature
 * algorithm and the provisioner extension. See ca-state(5), TEMPLATES.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CERTTMPL_H
#define CA_CERTTMPL_H

#include <stddef.h>
#include <time.h>
#include <json-c/json.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "x509.h"

#define CA_CERTTMPL_FILE_MAX	(64 * 1024)	/* templateFile, template */
#define CA_CERTTMPL_OUT_MAX	(64 * 1024)	/* the JSON rendered */
#define CA_CERTTMPL_LIST_MAX	32	/* entries of any list but names */
#define CA_CERTTMPL_STR_MAX	1024	/* a URL, a name, an attribute */
#define CA_CERTTMPL_EXT_MAX	4096	/* an extension's value (DER) */
#define CA_CERTTMPL_PATHLEN_MAX	100	/* a CA's maxPathLen */

struct ca_certtmpl;

/*
 * A provisioner's options.x509 (borrowed; NULL or without a template:
 * *out NULL, 0): "template" (inline text) or "templateFile" (a path,
 * relative to the state directory dir), and "templateData" (an object).
 * The template is parsed here: CA_ERR_CONFIG with file:line:col when
 * it is bad. where names the object in messages. Free with
 * ca_certtmpl_free().
 */
int	 ca_certtmpl_load(struct json_object *x509, const char *dir,
	    const char *where, struct ca_certtmpl **out);
void	 ca_certtmpl_free(struct ca_certtmpl *t);

/* A rendered certificate: what the template decided. */
struct ca_certtmpl_cert {
	struct ca_leaf_profile	 profile;	/* subject and extensions */
	struct ca_names		 names;		/* the SAN extension's */
	char			*cn;		/* subject CN, or NULL */
	time_t			 not_before;	/* 0: the authority's */
	time_t			 not_after;	/* 0: the authority's */
	int			 max_path_len;	/* a CA's; -1: no limit */
	/* Owned storage of profile. */
	struct ca_leaf_attr	*attrs;
	struct ca_leaf_ext	*exts;
	unsigned char		*der;
};

/* The template data of one issuance (step-ca's, see ca-state(5)). */
struct ca_certtmpl_in {
	const char		*cn;	/* the credential's subject */
	const struct ca_names	*names;	/* the names it authorises */
	gnutls_pubkey_t		 pub;	/* the request's key */
	const char		*token;	/* the token's payload (JSON), or NULL */
	size_t			 token_len;
	/* The CA's CRL and OCSP URLs (or NULL), added when the template
	 * gives no crlDistributionPoints, no ocspServer. */
	const char		*crl_url;
	const char		*ocsp_url;
	int			 pk_hint;	/* without pub: its algorithm */
};

/*
 * Render t for in and map the result (ca_certtmpl_cert_parse). A
 * template's fail: CA_ERR_FORBIDDEN. *out: ca_certtmpl_cert_free().
 */
int	 ca_certtmpl_render(const struct ca_certtmpl *t,
	    const struct ca_certtmpl_in *in, size_t max_sans,
	    struct ca_certtmpl_cert **out);
/*
 * Map rendered JSON (len bytes) to a certificate: strictly parsed, every
 * member known (exact spellings), bounded (max_sans names), and no CA
 * (basicConstraints isCA, certSign, crlSign, nameConstraints are
 * refused with CA_ERR_FORBIDDEN). CA_ERR_INVAL naming the member.
 */
int	 ca_certtmpl_cert_parse(const char *json, size_t len, size_t max_sans,
	    struct ca_certtmpl_cert **out);
void	 ca_certtmpl_cert_free(struct ca_certtmpl_cert *c);
/*
 * The same for a CA certificate (ca-init's root and intermediate):
 * basicConstraints isCA true and keyUsage certSign required (else
 * CA_ERR_FORBIDDEN), crlSign allowed, maxPathLen honoured as x509util
 * does (missing or 0: pathlen 0; negative: no limit), nameConstraints
 * allowed, a subject required; names and validity (sans, dnsNames...,
 * notBefore, notAfter) refused: they are ca-init's. The profile holds
 * the subject and every extension but SKI and AKI.
 */
int	 ca_certtmpl_ca_parse(const char *json, size_t len,
	    struct ca_certtmpl_cert **out);
/*
 * The template in the file path (at most CA_CERTTMPL_FILE_MAX bytes)
 * rendered with ca-init's data, {"Subject": {"commonName": cn,
 * "organization": [org]}}, and mapped by ca_certtmpl_ca_parse. Errors
 * name the file (the template's text: path:line:col).
 */
int	 ca_certtmpl_ca_file(const char *path, const char *cn,
	    const char *org, struct ca_certtmpl_cert **out);
/*
 * What a renewal keeps of crt, as step-ca copies the certificate it
 * renews: the subject (one attribute per RDN) and every extension but the
 * ones the CA writes anew (SKI, AKI, SAN, the provisioner extension).
 */
int	 ca_certtmpl_cert_from_crt(gnutls_x509_crt_t crt,
	    struct ca_certtmpl_cert **out);
/*
 * Whether every name of c (and its CN) is one the credential authorised:
 * a SAN must be among names (same type; DNS names without regard to
 * case), the CN the subject cn or one of the names. CA_ERR_FORBIDDEN
 * naming the first that is not.
 */
int	 ca_certtmpl_check_names(const struct ca_certtmpl_cert *c,
	    const char *cn, const struct ca_names *names);

#endif /* CA_CERTTMPL_H */

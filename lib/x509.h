/*
 * x509.h - certificates: names, CSRs, the CA and leaf profiles, serials.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_X509_H
#define CA_X509_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

/* Subject alternative names, split by type; IPs in canonical text form. */
struct ca_names {
	char	**dns;
	size_t	  n_dns;
	char	**ip;
	size_t	  n_ip;
	char	**email;
	size_t	  n_email;
	char	**uri;
	size_t	  n_uri;
};

/*
 * Split names into types the way step does (IP address, URI with a
 * scheme, e-mail with an @, else DNS) and validate each. Duplicates are
 * dropped. Free with ca_names_free().
 */
int	 ca_names_classify(const char *const *sans, size_t n,
	    struct ca_names *out);
void	 ca_names_free(struct ca_names *names);
size_t	 ca_names_count(const struct ca_names *names);
/*
 * Name i of all (DNS, then IP, e-mail, URI), NULL past the last; *type
 * (if not NULL) gets "dns", "ip", "email" or "uri". Borrowed.
 */
const char *ca_names_at(const struct ca_names *names, size_t i,
	    const char **type);
/*
 * All names as one line of text, separated by ',', each escaped with
 * ca_text_escape() (a ',' inside a name is \x2c). Caller frees; NULL
 * when out of memory.
 */
char	*ca_names_text(const struct ca_names *names);

/*
 * Whether cn may be a leaf's subject CN: UTF-8, 1 to CA_CN_MAX characters
 * (RFC 5280's ub-common-name), no control characters (C0, DEL, C1) that
 * could forge lines where it is printed. CA_ERR_INVAL saying why.
 */
#define CA_CN_MAX	64
int	 ca_x509_cn_check(const char *cn);

/* A signing CA: its certificate and key (borrowed by the profiles). */
struct ca_issuer {
	gnutls_x509_crt_t	 crt;
	gnutls_privkey_t	 key;
	gnutls_digest_algorithm_t dig;
	time_t			 not_after;
	/* crt's name constraints, read once by ca_x509_issuer_nc_load
	 * (nc NULL: none); not loaded, ca_x509_issuer_permits reads them
	 * on each call. */
	gnutls_x509_name_constraints_t nc;
	int			 nc_loaded;
};

/* Serial numbers: 17 octets, 134 random bits, positive, minimal DER. */
#define CA_SERIAL_MAX 20
int	 ca_serial_generate(unsigned char *buf, size_t *len);
/*
 * Canonical key of a serial typed by a person: decimal, 0x-hex, or hex
 * with colons; returned as lowercase minimal hex (caller frees).
 */
int	 ca_serial_canon(const char *s, char **hex);
/* Decimal text of a serial (caller frees). */
char	*ca_serial_decimal(const unsigned char *p, size_t len);

/* Certificate files: PEM (first certificate) or DER. */
int	 ca_x509_load(const char *path, gnutls_x509_crt_t *out);
int	 ca_x509_import(const void *buf, size_t len, gnutls_x509_crt_t *out);
/* Lowercase hex SHA-256 of the DER (the "fingerprint"). Caller frees. */
int	 ca_x509_fingerprint(gnutls_x509_crt_t crt, char **hex);
int	 ca_x509_export(gnutls_x509_crt_t crt, gnutls_x509_crt_fmt_t fmt,
	    gnutls_datum_t *out);

/*
 * Make a CA certificate for key: subject O=org, CN=cn; basicConstraints
 * CA:TRUE with pathlen (critical), keyUsage keyCertSign+cRLSign
 * (critical), SKI, and AKI when issued by parent (NULL: self-signed).
 */
int	 ca_x509_make_ca(gnutls_privkey_t key, const char *org, const char *cn,
	    int pathlen, time_t not_before, time_t not_after,
	    const struct ca_issuer *parent, gnutls_x509_crt_t *out);

struct ca_leaf_profile;
/*
 * The same with the subject and extensions of a CA's template (pr,
 * lib/certtmpl.h's ca_certtmpl_ca_parse), then SKI and AKI as above.
 */
int	 ca_x509_make_ca_profile(gnutls_privkey_t key,
	    const struct ca_leaf_profile *pr, time_t not_before,
	    time_t not_after, const struct ca_issuer *parent,
	    gnutls_x509_crt_t *out);

/*
 * What a certificate template decided (lib/certtmpl.h): the subject, one
 * attribute per RDN in order (der: the AttributeValue's DER, tag
 * included), and the extensions in order (der: the extnValue's
 * contents). Serial, issuer, key identifiers, SAN (from ca_leaf's names)
 * and the provisioner extension stay the authority's.
 */
struct ca_leaf_attr {
	const char		*oid;
	const unsigned char	*der;
	size_t			 len;
};
struct ca_leaf_ext {
	const char		*oid;
	int			 critical;
	const unsigned char	*der;
	size_t			 len;
};
struct ca_leaf_profile {
	const struct ca_leaf_attr *subject;
	size_t			 n_subject;
	const struct ca_leaf_ext *ext;
	size_t			 n_ext;
};

/* What a leaf certificate is made of: all decided by the authority. */
struct ca_leaf {
	const char		*cn;	/* subject CN; NULL or "" for none */
	const struct ca_names	*names;
	gnutls_pubkey_t		 pub;	/* the only thing taken from a CSR */
	time_t			 not_before;
	time_t			 not_after;
	const char		*crl_url;	/* CRL distribution point, or NULL */
	const char		*ocsp_url;	/* AIA OCSP responder, or NULL */
	/* step-ca's provisioner extension (CA_OID_STEP_PROVISIONER), when
	 * prov_name is not NULL: prov_type a CA_STEP_TYPE_*, prov_cred its
	 * credential id ("" for none). */
	int			 prov_type;
	const char		*prov_name;
	const char		*prov_cred;
	/* NULL: the profile below; else the subject and extensions but SKI,
	 * AKI, SAN and the provisioner extension come from it (cn is then
	 * only what is recorded). */
	const struct ca_leaf_profile *profile;
};
#define CA_OID_STEP_PROVISIONER	"1.3.6.1.4.1.37476.9000.64.1"
/* step-ca's provisioner type numbers (authority/provisioner/provisioner.go). */
#define CA_STEP_TYPE_JWK	1
#define CA_STEP_TYPE_OIDC	2
#define CA_STEP_TYPE_ACME	6
#define CA_STEP_TYPE_X5C	7
#define CA_STEP_TYPE_K8SSA	8
#define CA_STEP_TYPE_SCEP	10
/* The CA_STEP_TYPE_* of a ca.json provisioner type, or 0 for none. */
int	 ca_step_prov_type(const char *type);
/*
 * Issue a leaf: KU digitalSignature (+keyEncipherment for RSA), EKU
 * serverAuth+clientAuth, CA:FALSE, SKI, AKI, SAN (critical when the
 * subject is empty), and CRL distribution point, AIA OCSP and the
 * provisioner extension (non-critical) when given. The serial is generated
 * here and returned.
 */
int	 ca_x509_issue(const struct ca_issuer *iss, const struct ca_leaf *leaf,
	    gnutls_x509_crt_t *out, unsigned char *serial, size_t *serial_len);

/*
 * Whether the names of a leaf lie within the name constraints of the
 * issuer's certificate (an intermediate made from a template with
 * nameConstraints): DNS names, e-mail addresses and IP addresses, by
 * RFC 5280's rules as GnuTLS applies them. No constraints: 0.
 * CA_ERR_FORBIDDEN naming the first name outside them.
 */
int	 ca_x509_issuer_permits(const struct ca_issuer *iss,
	    const struct ca_names *names);
/* Read iss->crt's name constraints into iss->nc once, at start-up (nc
 * NULL when it has none). The caller deinits iss->nc. */
int	 ca_x509_issuer_nc_load(struct ca_issuer *iss);

/* The same, handing out only the DER (cheaper: no re-import). */
int	 ca_x509_issue_der(const struct ca_issuer *iss,
	    const struct ca_leaf *leaf, gnutls_datum_t *der,
	    unsigned char *serial, size_t *serial_len);
/* The same with a given serial (content octets of a positive INTEGER). */
int	 ca_x509_issue_serial_der(const struct ca_issuer *iss,
	    const struct ca_leaf *leaf, const unsigned char *serial,
	    size_t serial_len, gnutls_datum_t *der);
/*
 * For tests only: the same through a GnuTLS certificate tree, the way
 * every certificate was made before the TBSCertificate was written
 * directly; test-x509 compares the two byte for byte.
 */
int	 ca_x509_issue_tree_der(const struct ca_issuer *iss,
	    const struct ca_leaf *leaf, const unsigned char *serial,
	    size_t serial_len, gnutls_datum_t *der);

/*
 * Import a CSR (one PEM block or DER, nothing else), check its key and
 * signature algorithm against the policy of goodkey.h and verify its
 * signature. Caller deinits.
 */
int	 ca_csr_import(const void *buf, size_t len, gnutls_x509_crq_t *out);
/* The same; without verify, the signature is left to whoever signs (a
 * registration authority relays the CSR to the CA, which checks it). */
int	 ca_csr_import2(const void *buf, size_t len, int verify,
	    gnutls_x509_crq_t *out);
/*
 * The CSR's names against what was authorised: for each type the CSR
 * names must equal allowed's names of that type (a CSR without names of
 * a type is fine); a CN, if present, must be sub or one of the names.
 * A CSR with more than max_sans names is refused (CA_ERR_INVAL) before
 * they are read; they are read and compared in n log n time.
 * CA_ERR_FORBIDDEN naming the first offending name otherwise.
 */
int	 ca_csr_check_names(gnutls_x509_crq_t crq, const char *sub,
	    const struct ca_names *allowed, size_t max_sans);
/*
 * The CSR's subject alternative names by the type each is encoded with
 * (IPs in canonical text form): more than max is refused (CA_ERR_INVAL)
 * before any is read. Free with ca_names_free().
 */
int	 ca_csr_names(gnutls_x509_crq_t crq, size_t max, struct ca_names *out);
/* Make a PEM CSR for key with CN=cn and the names. */
int	 ca_csr_make(gnutls_privkey_t key, const char *cn,
	    const struct ca_names *names, gnutls_datum_t *pem);

/*
 * A new key of type t (an enum ca_key_type) and a PEM CSR for it with
 * CN=cn and the names. *key_pem is PKCS#8 PEM: free it with
 * ca_free_secret(*key_pem, *key_len); csr->data with gnutls_free.
 */
int	 ca_csr_make_new_key(int t, const char *cn, const struct ca_names *names,
	    gnutls_datum_t *csr, char **key_pem, size_t *key_len);

/*
 * The subject alternative names of crt, each with the type it is encoded
 * with (IPs in canonical text form), in certificate order: what a renewal
 * keeps and ca-db shows. Never joined into one string and split again.
 * Names of other types are refused. Free with ca_names_free().
 */
int	 ca_x509_names(gnutls_x509_crt_t crt, struct ca_names *names);

#endif /* CA_X509_H */

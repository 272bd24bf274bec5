/*
 * scep.c - the SCEP provisioner (RFC 8894; DESIGN13 1.4, 2.3, 4): its
 * ca.json members, and the protocol at /scep/NAME on the local authority.
 * SCEP has no token verifier (lib/authz.c): its messages are its
 * credential. The PKCS#7 bytes are lib/scep-msg.c's.
 *
 * Authorization, one rule per message type (step-ca's CVE-2026-30836 was
 * an UpdateReq signed without a challenge):
 *   PKCSReq     signed by the CSR's key (RFC 8894 2.3), the challenge
 *               (constant time), the key size, the policy,
 *               a senderNonce never seen (used_ott/scep/NAME.<hex>,
 *               burned in the issuance's transaction)
 *   RenewalReq  the same but signed by an unexpired, unrevoked
 *               certificate of this CA with the CSR's common name
 *               (its key may be another: a renewal may rekey)
 *   both        a signer with an RSA key, the one the answer is
 *               enveloped to (checked before anything is issued)
 *   anything else (UpdateReq, CertPoll, GetCert, GetCRL): FAILURE
 *               badRequest, nothing recorded
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authority-local.h"
#include "authz.h"
#include "conf.h"
#include "json.h"
#include "policy.h"
#include "scep-msg.h"
#include "scep.h"
#include "x509.h"

#define MAX_CAPS	32
#define MAX_CAP_LEN	64
#define MAX_PEM		(64 * 1024)
#define MAX_CHALLENGE	255
#define NONCE_KEEP	((int64_t)10 * 366 * 86400)

/* The provisioner's parsed members (its impl). */
struct ca_scep_conf {
	unsigned char	 challenge[32];	/* HMAC-SHA256(process key, challenge) */
	char		*caps;		/* GetCACaps' body */
	int		 include_root, exclude_int;
	int		 force_cn;
	int		 enc_alg;	/* 0 DES-CBC, 1 AES-128-CBC, 2 AES-256-CBC */
	unsigned	 min_bits;	/* minimumPublicKeyLength (RSA) */
	gnutls_x509_crt_t crt;		/* decrypter; NULL: the intermediate */
	gnutls_privkey_t key;
};

static const char default_caps[] = "Renewal\r\nSHA-1\r\nSHA-256\r\nAES\r\n"
    "DES3\r\nSCEPStandard\r\nPOSTPKIOperation";

/*
 * Challenges are compared as HMACs under a key of this process: equal
 * length, constant time, and the configured one is kept only as such.
 */
static unsigned char mac_key[32];
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;

static void
mac_init(void)
{
	(void)gnutls_rnd(GNUTLS_RND_KEY, mac_key, sizeof(mac_key));
}

static int
challenge_mac(const char *s, size_t len, unsigned char out[32])
{
	pthread_once(&mac_once, mac_init);
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, mac_key, sizeof(mac_key),
	    s, len, out) < 0 ? -1 : 0;
}

static int
mac_equal(const unsigned char *a, const unsigned char *b)
{
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < 32; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static void
conf_free(void *v)
{
	struct ca_scep_conf *c = v;

	if (c == NULL)
		return;
	free(c->caps);
	if (c->crt != NULL)
		gnutls_x509_crt_deinit(c->crt);
	gnutls_privkey_deinit(c->key);
	gnutls_memset(c, 0, sizeof(*c));
	free(c);
}

/* An optional member: absent is not an error. */
static int
opt(int rc)
{
	return rc == CA_ERR_NOTFOUND ? 0 : rc;
}

/* A []byte member: base64 of PEM text (Go's encoding/json). */
static int
pem_member(struct json_object *o, const char *name, gnutls_datum_t *out)
{
	const char *s = NULL;
	gnutls_datum_t b64;
	int ret;

	out->data = NULL;
	out->size = 0;
	if ((ret = ca_json_string(o, name, 0, &s)) != 0)
		return opt(ret);
	if (strlen(s) > MAX_PEM)
		return ca_err(CA_ERR_CONFIG, "\"%s\" is too long", name);
	b64.data = (unsigned char *)(uintptr_t)s;
	b64.size = (unsigned)strlen(s);
	if ((ret = gnutls_base64_decode2(&b64, out)) < 0)
		return ca_err(CA_ERR_CONFIG, "\"%s\" is not base64 (of PEM): %s",
		    name, gnutls_strerror(ret));
	return 0;
}

/* decrypterCertificate + decrypterKeyPEM (+ decrypterKeyPassword). */
static int
load_decrypter(struct json_object *o, struct ca_scep_conf *c)
{
	gnutls_datum_t cd = { NULL, 0 }, kd = { NULL, 0 };
	gnutls_x509_privkey_t xk = NULL;
	const char *pass = NULL, *uri = NULL;
	unsigned char a[64], b[64];
	size_t al = sizeof(a), bl = sizeof(b);
	int rc, ret;

	if ((rc = opt(ca_json_string(o, "decrypterKey", 0, &uri))) != 0 ||
	    (rc = opt(ca_json_string(o, "decrypterKeyPassword", 0,
	    &pass))) != 0)
		return rc;
	if (uri != NULL && uri[0] != '\0')
		return ca_err(CA_ERR_CONFIG, "\"decrypterKey\" (a key file or "
		    "KMS URI) is not supported: give \"decrypterKeyPEM\"");
	if ((rc = pem_member(o, "decrypterCertificate", &cd)) != 0 ||
	    (rc = pem_member(o, "decrypterKeyPEM", &kd)) != 0)
		goto out;
	if (cd.data == NULL && kd.data == NULL)
		goto out;	/* the intermediate's, checked when used */
	if (cd.data == NULL || kd.data == NULL) {
		rc = ca_err(CA_ERR_CONFIG, "\"decrypterCertificate\" and "
		    "\"decrypterKeyPEM\" go together");
		goto out;
	}
	if ((ret = gnutls_x509_crt_init(&c->crt)) < 0 ||
	    (ret = gnutls_x509_crt_import(c->crt, &cd, GNUTLS_X509_FMT_PEM)) < 0) {
		rc = ca_err(CA_ERR_CONFIG, "\"decrypterCertificate\": %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((ret = gnutls_x509_privkey_init(&xk)) < 0 ||
	    (ret = gnutls_x509_privkey_import2(xk, &kd, GNUTLS_X509_FMT_PEM,
	    pass != NULL && pass[0] != '\0' ? pass : NULL, 0)) < 0) {
		rc = ca_err(CA_ERR_CONFIG, "\"decrypterKeyPEM\": %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if (gnutls_x509_privkey_get_pk_algorithm(xk) != GNUTLS_PK_RSA) {
		rc = ca_err(CA_ERR_CONFIG, "SCEP needs an RSA decrypter key");
		goto out;
	}
	/* The key must be the certificate's. */
	if ((ret = gnutls_x509_privkey_get_key_id(xk, 0, a, &al)) < 0 ||
	    (ret = gnutls_x509_crt_get_key_id(c->crt, 0, b, &bl)) < 0 ||
	    al != bl || memcmp(a, b, al) != 0) {
		rc = ca_err(CA_ERR_CONFIG, "\"decrypterKeyPEM\" is not the key "
		    "of \"decrypterCertificate\"");
		goto out;
	}
	if ((ret = gnutls_privkey_init(&c->key)) < 0 ||
	    (ret = gnutls_privkey_import_x509(c->key, xk,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		rc = ca_err(CA_ERR_CONFIG, "\"decrypterKeyPEM\": %s",
		    gnutls_strerror(ret));
		goto out;
	}
	xk = NULL;
out:
	if (xk != NULL)
		gnutls_x509_privkey_deinit(xk);
	if (kd.data != NULL) {
		gnutls_memset(kd.data, 0, kd.size);
		gnutls_free(kd.data);
	}
	gnutls_free(cd.data);
	return rc;
}

/* capabilities: GetCACaps' lines, printable, or step-ca's default. */
static int
load_caps(struct json_object *o, struct ca_scep_conf *c)
{
	struct json_object *a = NULL, *v;
	size_t n, i, len = 0;
	const char *s;
	int rc;

	if ((rc = opt(ca_json_array(o, "capabilities", 0, &a))) != 0)
		return rc;
	if (a == NULL || json_object_array_length(a) == 0)
		return (c->caps = strdup(default_caps)) == NULL ?
		    ca_err(CA_ERR_NOMEM, "out of memory") : 0;
	if ((n = json_object_array_length(a)) > MAX_CAPS)
		return ca_err(CA_ERR_CONFIG, "\"capabilities\": at most %d",
		    MAX_CAPS);
	if ((c->caps = calloc(1, n * (MAX_CAP_LEN + 2) + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    (s = json_object_get_string(v))[0] == '\0' ||
		    strlen(s) > MAX_CAP_LEN || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVW"
		    "XYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(s))
			return ca_err(CA_ERR_CONFIG, "\"capabilities\"[%zu]: "
			    "not a capability name", i);
		if (i > 0) {
			memcpy(c->caps + len, "\r\n", 2);
			len += 2;
		}
		memcpy(c->caps + len, s, strlen(s));
		len += strlen(s);
	}
	return 0;
}

int
ca_scep_conf_load(struct json_object *o, struct ca_provisioner *p)
{
	struct ca_scep_conf *c;
	const char *chal = NULL;
	int64_t bits = 2048, alg = 0;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = opt(ca_json_string(o, "challenge", 0, &chal))) != 0 ||
	    (rc = opt(ca_json_bool(o, "forceCN", 0, &c->force_cn))) != 0 ||
	    (rc = opt(ca_json_bool(o, "includeRoot", 0,
	    &c->include_root))) != 0 ||
	    (rc = opt(ca_json_bool(o, "excludeIntermediate", 0,
	    &c->exclude_int))) != 0 ||
	    (rc = opt(ca_json_int64(o, "minimumPublicKeyLength", 0,
	    &bits))) != 0 ||
	    (rc = opt(ca_json_int64(o, "encryptionAlgorithmIdentifier", 0,
	    &alg))) != 0)
		goto out;
	/* Stricter than step-ca, whose empty challenge checks nothing. */
	if (chal == NULL || chal[0] == '\0') {
		rc = ca_err(CA_ERR_CONFIG, "\"challenge\" is required (a SCEP "
		    "provisioner without one would issue to anyone)");
		goto out;
	}
	/* enrol() reads a CSR's into a buffer of this size. */
	if (strlen(chal) > MAX_CHALLENGE) {
		rc = ca_err(CA_ERR_CONFIG, "\"challenge\": at most %d bytes (a "
		    "longer one could never match)", MAX_CHALLENGE);
		goto out;
	}
	if (challenge_mac(chal, strlen(chal), c->challenge) != 0) {
		rc = ca_err(CA_ERR_CRYPTO, "HMAC failed");
		goto out;
	}
	if (bits == 0)
		bits = 2048;
	if (bits < 0 || bits > 16384 || bits % 8 != 0) {
		rc = ca_err(CA_ERR_CONFIG, "\"minimumPublicKeyLength\" %lld: "
		    "a multiple of 8 up to 16384", (long long)bits);
		goto out;
	}
	c->min_bits = (unsigned)bits;
	if (alg == 3 || alg == 4) {
		rc = ca_err(CA_ERR_CONFIG, "\"encryptionAlgorithmIdentifier\" "
		    "%lld (AES-GCM) is not supported: SCEP clients built on "
		    "OpenSSL cannot read it; use 0, 1 or 2", (long long)alg);
		goto out;
	}
	if (alg < 0 || alg > 2) {
		rc = ca_err(CA_ERR_CONFIG, "\"encryptionAlgorithmIdentifier\" "
		    "%lld: 0 (DES-CBC), 1 (AES-128-CBC) or 2 (AES-256-CBC)",
		    (long long)alg);
		goto out;
	}
	c->enc_alg = (int)alg;
	if ((rc = load_caps(o, c)) != 0 || (rc = load_decrypter(o, c)) != 0)
		goto out;
	p->impl = c;
	p->impl_free = conf_free;
	c = NULL;
out:
	conf_free(c);
	return rc;
}

int
ca_scep_config_check(const struct ca_config *cfg)
{
	const struct ca_provisioner *p;
	const struct ca_scep_conf *c;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	char *buf = NULL;
	size_t i, len;
	int rc = 0, pk = -1;

	for (i = 0; i < cfg->n_provisioners && rc == 0; i++) {
		p = &cfg->provisioners[i];
		if (p->kind != CA_PROV_SCEP || (c = p->impl) == NULL)
			continue;
		if (cfg->is_ra && c->crt == NULL) {
			rc = ca_err(CA_ERR_CONFIG, "provisioner \"%s\": SCEP on "
			    "a registration authority needs \"decrypterCertificate"
			    "\" and \"decrypterKeyPEM\" (it has no intermediate "
			    "key to decrypt with)", p->name);
			break;
		}
		if (c->crt != NULL)
			continue;
		/* The intermediate's key type, read once; unreadable: the
		 * authority says so when it opens. */
		if (pk == -1) {
			pk = 0;
			if (cfg->crt == NULL || ca_file_read(cfg->crt, 1 << 20,
			    &buf, &len) != 0) {
				ca_err_clear();
				break;
			}
			d.data = (unsigned char *)buf;
			d.size = (unsigned)len;
			if (gnutls_x509_crt_init(&crt) >= 0 &&
			    gnutls_x509_crt_import(crt, &d,
			    GNUTLS_X509_FMT_PEM) >= 0)
				pk = gnutls_x509_crt_get_pk_algorithm(crt, NULL);
		}
		if (pk > 0 && pk != GNUTLS_PK_RSA)
			rc = ca_err(CA_ERR_CONFIG, "provisioner \"%s\": SCEP "
			    "needs an RSA decrypter: the intermediate's key is "
			    "not RSA; give \"decrypterCertificate\" and "
			    "\"decrypterKeyPEM\"", p->name);
	}
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(buf);
	return rc;
}

/* ---- the protocol ---- */

void
ca_scep_resp_free(struct ca_scep_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static int
text(struct ca_scep_resp *r, int status, const char *msg)
{
	size_t n = strlen(msg);

	ca_scep_resp_free(r);
	if ((r->body = malloc(n + 2)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(r->body, msg, n);
	r->body[n] = '\n';
	r->len = n + 1;
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	return 0;
}

static int
take(struct ca_scep_resp *r, const char *ctype, gnutls_datum_t *d)
{
	if ((r->body = malloc(d->size + 1)) == NULL) {
		gnutls_free(d->data);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	memcpy(r->body, d->data, d->size);
	r->len = d->size;
	r->status = 200;
	r->content_type = ctype;
	gnutls_free(d->data);
	d->data = NULL;
	return 0;
}

/* What answers for prov: its decrypter, else the intermediate. */
static int
decrypter(struct ca_local *a, const struct ca_scep_conf *c,
    gnutls_x509_crt_t *crt, gnutls_privkey_t *key)
{
	if (c->crt != NULL) {
		*crt = c->crt;
		*key = c->key;
		return 0;
	}
	*crt = a->issuer.crt;
	*key = a->issuer.key;
	if (*key == NULL ||
	    gnutls_privkey_get_pk_algorithm(*key, NULL) != GNUTLS_PK_RSA)
		return ca_err(CA_ERR_CONFIG, "SCEP needs an RSA decrypter: "
		    "the intermediate's key is not RSA, give the provisioner "
		    "\"decrypterCertificate\" and \"decrypterKeyPEM\"");
	return 0;
}

static int
get_ca_cert(struct ca_local *a, const struct ca_scep_conf *c,
    struct ca_scep_resp *r)
{
	gnutls_x509_crt_t list[3];
	gnutls_datum_t der[3], out = { NULL, 0 };
	size_t n = 0, i;
	int rc = 0;

	if (c->crt != NULL)
		list[n++] = c->crt;
	if (c->crt == NULL || !c->exclude_int)
		list[n++] = a->issuer.crt;
	if (c->include_root)
		list[n++] = a->root;
	memset(der, 0, sizeof(der));
	for (i = 0; i < n; i++)
		if (gnutls_x509_crt_export2(list[i], GNUTLS_X509_FMT_DER,
		    &der[i]) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "cannot export a certificate");
			goto out;
		}
	if (n == 1) {
		rc = take(r, "application/x-x509-ca-cert", &der[0]);
		goto out;
	}
	if ((rc = ca_scep_degenerate(der, n, &out)) == 0)
		rc = take(r, "application/x-x509-ca-ra-cert", &out);
out:
	for (i = 0; i < n; i++)
		gnutls_free(der[i].data);
	return rc;
}

/* A RenewalReq's signer: ours, valid now, not revoked (in the commit). */
static const char *
renewal_signer(struct ca_local *a, gnutls_x509_crt_t s, const char *cn,
    time_t now, char **serial)
{
	char buf[CA_CN_MAX * 4 + 2];
	size_t size = sizeof(buf) - 1;

	if (!ca_local_issued_here(a, s))
		return "a RenewalReq must be signed by a certificate of this CA";
	if (now < gnutls_x509_crt_get_activation_time(s) ||
	    now > gnutls_x509_crt_get_expiration_time(s))
		return "the RenewalReq's signer certificate has expired";
	if (gnutls_x509_crt_get_dn_by_oid(s, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &size) < 0)
		buf[0] = '\0';
	else
		buf[size] = '\0';
	if (strcmp(buf, cn != NULL ? cn : "") != 0)
		return "the RenewalReq's CSR names another subject than its "
		    "signer certificate";
	if (ca_local_serial_of(s, serial) != 0)
		return "the RenewalReq's signer certificate has no serial";
	return NULL;
}

struct enrol {
	struct ca_local		*a;
	const struct ca_provisioner *prov;
	const struct ca_scep_conf *c;
	const struct ca_scep_msg *m;
	time_t			 now;
	gnutls_datum_t		 issued;	/* DER, gnutls memory */
	const char		*why;		/* FAILURE: failInfoText */
	int			 fail_info;	/* and its failInfo */
	char			*serial;
};

/*
 * A registration authority's issuance: the CSR relayed to its upstream
 * with the names found here (the CN alone when the CSR has no SAN), the
 * senderNonce unspent here before and spent with the record after; *pem
 * the upstream's certificate, in gnutls memory as the local path's.
 */
static int
relay(struct enrol *e, gnutls_x509_crq_t crq, gnutls_pubkey_t pub,
    const struct ca_authz *z, time_t nb, time_t na, const char *nonce,
    const struct ca_issuance_extra *ex, gnutls_datum_t *pem)
{
	const char *const *sans = (const char *const *)z->sans;
	const char *one[1];
	char *crt = NULL, *chain = NULL;
	size_t n = z->n_sans;
	int rc;

	if (n == 0 && z->cn != NULL) {
		one[0] = z->cn;
		sans = one;
		n = 1;
	}
	if (n == 0)
		return ca_err(CA_ERR_FORBIDDEN, "the CSR names nothing for the "
		    "upstream CA");
	rc = ca_local_relay_and_record(e->a, e->prov, crq, pub,
	    z->cn != NULL ? z->cn : sans[0], sans, n, &z->names, nb, na, nonce,
	    (int64_t)e->now + NONCE_KEEP, e->now, ex, &crt, &chain, &e->serial);
	if (rc == 0) {
		pem->size = (unsigned)strlen(crt);
		if ((pem->data = gnutls_malloc(pem->size + 1)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		else
			memcpy(pem->data, crt, pem->size + 1);
	}
	free(crt);
	free(chain);
	return rc;
}

/* PKCSReq and RenewalReq: 0 (issued, or e->why set), or a CA failure. */
static int
enrol(struct enrol *e)
{
	const struct ca_scep_conf *c = e->c;
	struct ca_authz z;
	struct ca_issuance_extra ex;
	struct ca_sign_req sr;
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	unsigned char mac[32];
	char chal[MAX_CHALLENGE + 1], *hex = NULL, *signer = NULL, *ident = NULL;
	size_t size = sizeof(chal) - 1;
	unsigned bits = 0;
	const char *cn;
	time_t nb, na;
	int rc = 0, ok;

	memset(&z, 0, sizeof(z));
	/* 1. The CSR and its challenge password. */
	if (ca_csr_import2(e->m->content.data, e->m->content.size, 1,
	    &crq) != 0) {
		ca_debug("SCEP CSR: %s", ca_errmsg());
		ca_err_clear();
		/* As an envelope that does not open: noise decrypts to this. */
		e->why = "the message cannot be decrypted";
		e->fail_info = CA_SCEP_BADMSGCHECK;
		goto out;
	}
	if (gnutls_x509_crq_get_challenge_password(crq, chal, &size) < 0)
		size = 0;
	chal[size < sizeof(chal) ? size : sizeof(chal) - 1] = '\0';
	ok = size > 0 && challenge_mac(chal, strlen(chal), mac) == 0 &&
	    mac_equal(mac, c->challenge);
	gnutls_memset(chal, 0, sizeof(chal));
	if (!ok) {
		e->why = "wrong or missing challenge password";
		goto out;
	}
	/* 2. The key. */
	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0) {
		e->why = "the CSR's public key cannot be read";
		goto out;
	}
	/*
	 * RFC 8894 2.3: a PKCSReq is signed by the CSR's own key. Else an
	 * envelope seen on the wire (plain HTTP) could be signed again by
	 * anyone with a fresh senderNonce, and be paid for again and again.
	 */
	if (e->m->type == CA_SCEP_PKCSREQ &&
	    (ok = ca_scep_signed_by(e->m, pub)) != 1) {
		if (ok < 0) {
			rc = ok;
			goto out;
		}
		e->why = "a PKCSReq must be signed by the key of its CSR";
		goto out;
	}
	if (gnutls_pubkey_get_pk_algorithm(pub, &bits) == GNUTLS_PK_RSA &&
	    bits < c->min_bits) {
		e->why = "the CSR's RSA key is shorter than "
		    "minimumPublicKeyLength";
		goto out;
	}
	/* 3. Names: the CSR's; its CN as a SAN when it has none; forceCN. */
	if (ca_authz_csr_names(crq, e->a->cfg->max_sans, &z) != 0) {
		ca_debug("SCEP CSR names: %s", ca_errmsg());
		ca_err_clear();
		e->why = "the CSR's names are not acceptable";
		goto out;
	}
	if (ca_names_count(&z.names) == 0 && z.cn != NULL) {
		const char *one[1] = { z.cn };

		if (ca_names_classify(one, 1, &z.names) != 0) {
			ca_err_clear();
			e->why = "the CSR's common name is not a valid name";
			goto out;
		}
	}
	if (z.cn == NULL && c->force_cn && z.names.n_dns > 0 &&
	    (z.cn = strdup(z.names.dns[0])) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	cn = z.cn;
	if (ca_policy_check_leaf(e->a->cfg, e->prov, cn, &z.names) != 0) {
		ca_info("SCEP %s: %s", e->prov->name, ca_errmsg());
		ca_err_clear();
		e->why = "the policy does not allow these names";
		goto out;
	}
	if (e->m->type == CA_SCEP_RENEWALREQ &&
	    (e->why = renewal_signer(e->a, e->m->signer, cn, e->now,
	    &signer)) != NULL)
		goto out;
	/* A registration authority renews only what it recorded. */
	if (signer != NULL && e->a->upstream != NULL &&
	    (rc = ca_local_relay_recorded(e->a, signer)) != 0) {
		if (rc != CA_ERR_AUTH && rc != CA_ERR_NOTFOUND)
			goto out;
		ca_info("SCEP %s: %s", e->prov->name, ca_errmsg());
		ca_err_clear();
		e->why = rc == CA_ERR_AUTH ? "the RenewalReq's signer "
		    "certificate is revoked" : "a RenewalReq must be signed by "
		    "a certificate this registration authority recorded";
		rc = 0;
		goto out;
	}
	/* 4. Issue and record, the senderNonce spent in the same commit. */
	memset(&sr, 0, sizeof(sr));
	if ((rc = ca_local_validity(e->a, e->prov, &sr, e->now, &nb, &na)) != 0)
		goto out;
	if ((hex = ca_hex(e->m->nonce, sizeof(e->m->nonce))) == NULL ||
	    asprintf(&ident, "CN=%s; tx=%s", cn != NULL ? cn : "",
	    e->m->tx) < 0) {
		ident = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memset(&ex, 0, sizeof(ex));
	if (asprintf(&z.ott_scope, "scep/%s", e->prov->name) < 0) {
		z.ott_scope = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	ex.ott_scope = z.ott_scope;
	ex.identity = ident;
	ex.renewed_from = signer;
	ex.step_type = CA_STEP_TYPE_SCEP;
	ex.cred_id = "";
	if (e->a->upstream != NULL)
		rc = relay(e, crq, pub, &z, nb, na, hex, &ex, &pem);
	else {
		struct ca_leaf leaf = { cn, &z.names, pub, nb, na,
		    e->a->cfg->crl_url, e->a->cfg->ocsp_url, 0, NULL, NULL,
		    NULL };

		rc = ca_local_issue_and_record_ex(e->a, e->prov, &leaf, hex,
		    (int64_t)e->now + NONCE_KEEP, e->now, &ex, &pem,
		    &e->serial);
	}
	if (rc == CA_ERR_REPLAY || rc == CA_ERR_FORBIDDEN ||
	    rc == CA_ERR_INVAL || rc == CA_ERR_NOTFOUND || rc == CA_ERR_AUTH ||
	    rc == CA_ERR_UPSTREAM) {
		ca_info("SCEP %s: %s", e->prov->name, ca_errmsg());
		ca_err_clear();
		e->why = rc == CA_ERR_REPLAY ? "senderNonce already used" :
		    rc == CA_ERR_AUTH && signer != NULL ? "the RenewalReq's "
		    "signer certificate is revoked" :
		    rc == CA_ERR_UPSTREAM ? "the upstream CA did not issue" :
		    "the request is not allowed";
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if (gnutls_pem_base64_decode2("CERTIFICATE", &pem, &e->issued) < 0)
		rc = ca_err(CA_ERR_CRYPTO, "cannot decode the new certificate");
out:
	gnutls_free(pem.data);
	free(hex);
	free(ident);
	free(signer);
	ca_authz_free(&z);
	gnutls_pubkey_deinit(pub);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	return rc;
}

static int
pki_operation(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_scep_req *req, struct ca_scep_resp *r)
{
	const struct ca_scep_conf *c = prov->impl;
	struct ca_scep_msg m;
	struct ca_scep_rep rep;
	struct enrol e;
	gnutls_x509_crt_t crt;
	gnutls_privkey_t key;
	gnutls_datum_t out = { NULL, 0 };
	char why[160];
	int rc;

	if ((rc = decrypter(a, c, &crt, &key)) != 0)
		return rc;
	if (req->message == NULL || req->len == 0)
		return text(r, 400, "PKIOperation needs a message");
	if (ca_scep_open(req->message, req->len, key, crt, &m) != 0) {
		snprintf(why, sizeof(why), "%s", ca_errmsg());
		ca_err_clear();
		return text(r, 400, why);
	}
	memset(&rep, 0, sizeof(rep));
	memset(&e, 0, sizeof(e));
	rep.status = 2;
	rep.fail_info = CA_SCEP_BADREQUEST;
	rep.enc_alg = c->enc_alg;
	rep.now = req->now;
	switch (m.type) {
	case CA_SCEP_PKCSREQ:
	case CA_SCEP_RENEWALREQ:
		if (m.fail >= 0) {
			rep.fail_info = m.fail;
			rep.fail_text = m.fail == CA_SCEP_BADALG ?
			    "unsupported content encryption" :
			    "the message cannot be decrypted";
			break;
		}
		/*
		 * The certificate goes back enveloped to the signer's key
		 * (rsaEncryption): not one to be issued if it cannot be.
		 */
		if (gnutls_x509_crt_get_pk_algorithm(m.signer, NULL) !=
		    GNUTLS_PK_RSA) {
			rep.fail_text = "the signer certificate has no RSA key "
			    "to encrypt the answer to";
			break;
		}
		e.a = a;
		e.prov = prov;
		e.c = c;
		e.m = &m;
		e.now = req->now;
		e.fail_info = CA_SCEP_BADREQUEST;
		if ((rc = enrol(&e)) != 0)
			goto out;
		if (e.why != NULL) {
			rep.fail_text = e.why;
			rep.fail_info = e.fail_info;
		} else {
			rep.status = 0;
			rep.issued = &e.issued;
		}
		break;
	case CA_SCEP_UPDATEREQ:
		/* step-ca's CVE-2026-30836: never, challenge or not. */
		rep.fail_text = "UpdateReq is not accepted";
		break;
	default:
		rep.fail_text = "message type not served";
		break;
	}
	if ((rc = ca_scep_certrep(&m, &rep, crt, key, &out)) != 0 ||
	    (rc = take(r, "application/x-pki-message", &out)) != 0)
		goto out;
	if (rep.status != 0)
		snprintf(r->log, sizeof(r->log), "FAILURE failInfo=%d to "
		    "type %d (%s) tx=%s", rep.fail_info, m.type, rep.fail_text,
		    m.tx);
	else
		snprintf(r->log, sizeof(r->log), "issued %s to a %s tx=%s",
		    e.serial, m.type == CA_SCEP_RENEWALREQ ? "RenewalReq" :
		    "PKCSReq", m.tx);
out:
	gnutls_free(e.issued.data);
	free(e.serial);
	ca_scep_msg_free(&m);
	return rc;
}

static int
scep_locked(struct ca_local *a, const struct ca_scep_req *req,
    struct ca_scep_resp *r)
{
	const struct ca_provisioner *prov = NULL;
	const char *op = req->operation != NULL ? req->operation : "";
	size_t i;

	for (i = 0; i < a->cfg->n_provisioners; i++)
		if (strcmp(a->cfg->provisioners[i].name, req->name) == 0)
			prov = &a->cfg->provisioners[i];
	if (prov == NULL)
		return text(r, 404, "no such provisioner");
	/* Before anything is decrypted (GHSA-h8cp's lesson). */
	if (prov->kind != CA_PROV_SCEP || prov->impl == NULL)
		return text(r, 400, "provisioner must be of type SCEP");
	if (strcmp(op, "GetCACaps") == 0) {
		const struct ca_scep_conf *c = prov->impl;
		gnutls_datum_t d;

		if ((d.data = gnutls_malloc(strlen(c->caps) + 1)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		memcpy(d.data, c->caps, strlen(c->caps));
		d.size = (unsigned)strlen(c->caps);
		return take(r, "text/plain", &d);
	}
	if (strcmp(op, "GetCACert") == 0)
		return get_ca_cert(a, prov->impl, r);
	if (strcmp(op, "PKIOperation") == 0)
		return pki_operation(a, prov, req, r);
	return text(r, 400, "unknown SCEP operation");
}

int
ca_local_scep(struct ca_authority *ah, const struct ca_scep_req *req,
    struct ca_scep_resp *resp)
{
	struct ca_local *a = ah->impl;
	int rc;

	if (a->issuer.key == NULL && a->upstream == NULL)
		return ca_err(CA_ERR_CONFIG, "this CA cannot sign (no key)");
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = scep_locked(a, req, resp);
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		ca_scep_resp_free(resp);
	return rc;
}

int
ca_authority_scep(struct ca_authority *a, const struct ca_scep_req *req,
    struct ca_scep_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (a->ops->scep == NULL)
		return ca_err(CA_ERR_CONFIG, "SCEP needs a local CA");
	return a->ops->scep(a, req, resp);
}

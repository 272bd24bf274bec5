/*
 * keys.c - private key generation, export and loading.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "keys.h"
#include "pkcs11.h"

static const struct {
	const char		*name;
	enum ca_key_type	 type;
} key_types[] = {
	{ "ec-p256", CA_KEY_EC_P256 },
	{ "ec-p384", CA_KEY_EC_P384 },
	{ "ed25519", CA_KEY_ED25519 },
	{ "rsa-3072", CA_KEY_RSA_3072 },
};

int
ca_key_type_parse(const char *s, enum ca_key_type *out)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strcmp(s, key_types[i].name) == 0) {
			*out = key_types[i].type;
			return 0;
		}
	return ca_err(CA_ERR_INVAL,
	    "unknown key type '%s' (ec-p256, ec-p384, ed25519 or rsa-3072)", s);
}

const char *
ca_key_type_name(enum ca_key_type t)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (key_types[i].type == t)
			return key_types[i].name;
	return "unknown";
}

int
ca_key_type_params(enum ca_key_type t, gnutls_pk_algorithm_t *pk,
    unsigned *bits)
{
	switch (t) {
	case CA_KEY_EC_P256:
		*pk = GNUTLS_PK_ECDSA;
		*bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
		return 0;
	case CA_KEY_EC_P384:
		*pk = GNUTLS_PK_ECDSA;
		*bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
		return 0;
	case CA_KEY_ED25519:
		*pk = GNUTLS_PK_EDDSA_ED25519;
		*bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
		return 0;
	case CA_KEY_RSA_3072:
		*pk = GNUTLS_PK_RSA;
		*bits = 3072;
		return 0;
	}
	return ca_err(CA_ERR_INVAL, "unknown key type");
}

int
ca_key_generate(enum ca_key_type t, gnutls_x509_privkey_t *out)
{
	gnutls_pk_algorithm_t pk = GNUTLS_PK_UNKNOWN;
	unsigned bits = 0;
	int ret;

	*out = NULL;
	if ((ret = ca_key_type_params(t, &pk, &bits)) != 0)
		return ret;
	if ((ret = gnutls_x509_privkey_init(out)) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	if ((ret = gnutls_x509_privkey_generate2(*out, pk, bits, 0, NULL, 0)) < 0) {
		gnutls_x509_privkey_deinit(*out);
		*out = NULL;
		return ca_err(CA_ERR_CRYPTO, "key generation: %s",
		    gnutls_strerror(ret));
	}
	return 0;
}

int
ca_key_wrap(gnutls_x509_privkey_t x, int own, gnutls_privkey_t *out)
{
	int ret;

	*out = NULL;
	if ((ret = gnutls_privkey_init(out)) < 0 ||
	    (ret = gnutls_privkey_import_x509(*out, x,
	    own ? GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE : 0)) < 0) {
		gnutls_privkey_deinit(*out);
		*out = NULL;
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	}
	return 0;
}

/* DER tag-length-value into p (NULL: only count); returns the size. */
static size_t
der_tlv(unsigned char *p, unsigned char tag, const unsigned char *v,
    size_t len)
{
	size_t hl = len < 128 ? 2 : len < 256 ? 3 : 4;

	if (p != NULL) {
		p[0] = tag;
		if (len < 128)
			p[1] = (unsigned char)len;
		else if (len < 256) {
			p[1] = 0x81;
			p[2] = (unsigned char)len;
		} else {
			p[1] = 0x82;
			p[2] = (unsigned char)(len >> 8);
			p[3] = (unsigned char)len;
		}
		if (v != NULL)
			memmove(p + hl, v, len);
	}
	return hl + len;
}

/*
 * Plain PKCS#8 for an EC key, encoded here: GnuTLS 3.7 writes the
 * ECPrivateKey's privateKey with a leading zero byte when its top bit is
 * set (33 octets for P-256), which RFC 5915 does not allow and python's
 * cryptography refuses. Here it is always the field size.
 */
static int
ec_pkcs8(gnutls_x509_privkey_t key, gnutls_datum_t *out)
{
	static const unsigned char oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
	    0x02, 0x01 };
	static const unsigned char oid_p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
	    0x03, 0x01, 0x07 };
	static const unsigned char oid_p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 }, k = { NULL, 0 }, der;
	gnutls_ecc_curve_t curve;
	const unsigned char *oid;
	unsigned char buf[512], ec[320], alg[32], pub[100], d[48], tmp[64];
	size_t fl, oidlen, n, m;
	int ret, rc;

	out->data = NULL;
	out->size = 0;
	if ((ret = gnutls_x509_privkey_export_ecc_raw(key, &curve, &x, &y,
	    &k)) < 0)
		return ca_err(CA_ERR_CRYPTO, "exporting key: %s",
		    gnutls_strerror(ret));
	if (curve == GNUTLS_ECC_CURVE_SECP256R1) {
		fl = 32, oid = oid_p256, oidlen = sizeof(oid_p256);
	} else if (curve == GNUTLS_ECC_CURVE_SECP384R1) {
		fl = 48, oid = oid_p384, oidlen = sizeof(oid_p384);
	} else {
		rc = ca_err(CA_ERR_INVAL, "unsupported curve");
		goto out;
	}
	/* Left-pad or strip to exactly the field size. */
#define FIT(dst, src) do {						\
	size_t i_ = 0;							\
	while ((src).size - i_ > fl && (src).data[i_] == 0)		\
		i_++;							\
	if ((src).size - i_ > fl) {					\
		rc = ca_err(CA_ERR_CRYPTO, "EC value too long");	\
		goto out;						\
	}								\
	memset((dst), 0, fl - ((src).size - i_));			\
	memcpy((dst) + fl - ((src).size - i_), (src).data + i_,		\
	    (src).size - i_);						\
} while (0)
	FIT(d, k);
	pub[0] = 0x00;	/* BIT STRING: no unused bits */
	pub[1] = 0x04;	/* uncompressed point */
	FIT(pub + 2, x);
	FIT(pub + 2 + fl, y);
#undef FIT
	/* ECPrivateKey ::= SEQUENCE { 1, privateKey, [0] curve, [1] pub } */
	n = der_tlv(tmp, 0x02, (const unsigned char *)"\x01", 1);
	memcpy(ec, tmp, n);
	n += der_tlv(ec + n, 0x04, d, fl);
	m = der_tlv(tmp, 0x06, oid, oidlen);
	n += der_tlv(ec + n, 0xa0, tmp, m);
	m = der_tlv(buf, 0x03, pub, 2 + 2 * fl);
	n += der_tlv(ec + n, 0xa1, buf, m);
	/* PrivateKeyInfo ::= SEQUENCE { 0, AlgorithmIdentifier, OCTET STRING } */
	m = der_tlv(alg, 0x06, oid_ec, sizeof(oid_ec));
	m += der_tlv(alg + m, 0x06, oid, oidlen);
	{
		unsigned char body[480];
		size_t b = der_tlv(body, 0x02, (const unsigned char *)"\x00", 1);
		b += der_tlv(body + b, 0x30, alg, m);
		unsigned char seq[330];
		size_t q = der_tlv(seq, 0x30, ec, n);
		b += der_tlv(body + b, 0x04, seq, q);
		ca_wipe(seq, sizeof(seq));
		der.size = (unsigned)der_tlv(buf, 0x30, body, b);
		der.data = buf;
		ca_wipe(body, sizeof(body));
	}
	if ((ret = gnutls_pem_base64_encode2("PRIVATE KEY", &der, out)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "PEM: %s", gnutls_strerror(ret));
		goto out;
	}
	rc = 0;
out:
	ca_wipe(buf, sizeof(buf));
	ca_wipe(ec, sizeof(ec));
	ca_wipe(d, sizeof(d));
	if (k.data != NULL) {
		ca_wipe(k.data, k.size);
		gnutls_free(k.data);
	}
	gnutls_free(x.data);
	gnutls_free(y.data);
	return rc;
}

int
ca_key_export(gnutls_x509_privkey_t key, const char *password,
    gnutls_datum_t *out)
{
	unsigned flags = password != NULL ? GNUTLS_PKCS_PBES2_AES_256 :
	    GNUTLS_PKCS_PLAIN;
	int ret;

	out->data = NULL;
	out->size = 0;
	if (password == NULL &&
	    gnutls_x509_privkey_get_pk_algorithm(key) == GNUTLS_PK_ECDSA)
		return ec_pkcs8(key, out);
	ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
	    password, flags, out);
	if (ret < 0)
		return ca_err(CA_ERR_CRYPTO, "exporting key: %s",
		    gnutls_strerror(ret));
	return 0;
}

int
ca_key_file_read(const char *path, char **buf, size_t *len)
{
	struct stat st;
	int fd, rc;

	*buf = NULL;
	/* Checked and read through one descriptor: no swap in between. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return ca_err(errno == ENOENT ? CA_ERR_NOTFOUND : CA_ERR_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		rc = ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = ca_err(CA_ERR_INVAL, "%s: not a regular file", path);
	else if (st.st_mode & 077)
		rc = ca_err(CA_ERR_FORBIDDEN,
		    "%s: key file is readable by group or others (mode %03o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
	else
		rc = ca_fd_read(fd, path, CA_MAX_KEY, buf, len);
	close(fd);
	return rc;
}

/*
 * PKCS#8 "ENCRYPTED PRIVATE KEY", or the legacy PEM encryption OpenSSL and
 * step write ("EC PRIVATE KEY" with Proc-Type: 4,ENCRYPTED and DEK-Info).
 */
static int
pem_encryption(const char *buf)
{
	if (strstr(buf, "ENCRYPTED PRIVATE KEY") != NULL)
		return 1;
	if (strstr(buf, "Proc-Type: 4,ENCRYPTED") != NULL)
		return 2;
	return 0;
}

int
ca_key_is_encrypted(const char *path)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = ca_key_file_read(path, &buf, &len)) != 0)
		return rc;
	rc = pem_encryption(buf) != 0;
	ca_free_secret(buf, len);
	return rc;
}

int
ca_key_load(const char *path, const char *password, gnutls_privkey_t *out)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_datum_t d;
	char *buf = NULL;
	size_t len = 0;
	int ret, rc, encrypted;

	*out = NULL;
	if ((rc = ca_key_file_read(path, &buf, &len)) != 0)
		return rc;
	encrypted = pem_encryption(buf);
	if (encrypted && password == NULL) {
		rc = ca_err(CA_ERR_AUTH,
		    "%s: the key is encrypted: a password file is needed", path);
		goto out;
	}
	d.data = (unsigned char *)buf;
	d.size = (unsigned)len;
	if ((ret = gnutls_x509_privkey_init(&x)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	if (encrypted == 2)
		ret = gnutls_x509_privkey_import_openssl(x, &d, password);
	else
		ret = gnutls_x509_privkey_import2(x, &d, GNUTLS_X509_FMT_PEM,
		    encrypted ? password : NULL, encrypted ? 0 : GNUTLS_PKCS_PLAIN);
	if (ret < 0 && !encrypted)
		ret = gnutls_x509_privkey_import2(x, &d, GNUTLS_X509_FMT_DER,
		    NULL, GNUTLS_PKCS_PLAIN);
	if (ret < 0) {
		if (encrypted && (ret == GNUTLS_E_DECRYPTION_FAILED ||
		    ret == GNUTLS_E_ASN1_DER_ERROR ||
		    ret == GNUTLS_E_PK_INVALID_PRIVKEY ||
		    ret == GNUTLS_E_ASN1_TAG_ERROR))
			rc = ca_err(CA_ERR_AUTH, "%s: wrong password", path);
		else
			rc = ca_err(CA_ERR_INVAL, "%s: cannot read key: %s",
			    path, gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_key_wrap(x, 1, out)) != 0) {
		ca_err_context("%s", path);
		goto out;
	}
	x = NULL;
	rc = 0;
out:
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	ca_free_secret(buf, len);
	return rc;
}

int
ca_key_open(const char *key, const char *kms, const char *password,
    gnutls_privkey_t *out)
{
	if (ca_pkcs11_is_uri(key))
		return ca_pkcs11_key_open(kms, key, out);
	return ca_key_load(key, password, out);
}

gnutls_digest_algorithm_t
ca_key_digest(gnutls_privkey_t key)
{
	unsigned bits = 0;
	int pk = gnutls_privkey_get_pk_algorithm(key, &bits);

	if (pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448)
		return GNUTLS_DIG_UNKNOWN;
	if (pk == GNUTLS_PK_ECDSA && bits >= 384)
		return bits > 384 ? GNUTLS_DIG_SHA512 : GNUTLS_DIG_SHA384;
	return GNUTLS_DIG_SHA256;
}

/*
 * The parameters that make a public key (curve and point, or modulus and
 * exponent), compared raw: the key identifiers GnuTLS derives encode the
 * key in DER first, ten times the work.
 */
int
ca_pubkey_same(gnutls_pubkey_t a, gnutls_pubkey_t b)
{
	gnutls_datum_t p[2][2] = { { { NULL, 0 }, { NULL, 0 } },
	    { { NULL, 0 }, { NULL, 0 } } };
	gnutls_ecc_curve_t curve[2];
	gnutls_pubkey_t k[2] = { a, b };
	int alg, i, ret = 0, same = 0;

	if ((alg = gnutls_pubkey_get_pk_algorithm(a, NULL)) < 0 ||
	    gnutls_pubkey_get_pk_algorithm(b, NULL) != alg)
		return alg < 0 ? ca_err(CA_ERR_CRYPTO, "%s",
		    gnutls_strerror(alg)) : 0;
	for (i = 0; i < 2 && ret >= 0; i++) {
		switch (alg) {
		case GNUTLS_PK_RSA:
		case GNUTLS_PK_RSA_PSS:
			ret = gnutls_pubkey_export_rsa_raw2(k[i], &p[i][0],
			    &p[i][1], 0);
			curve[i] = GNUTLS_ECC_CURVE_INVALID;
			break;
		case GNUTLS_PK_ECDSA:
		case GNUTLS_PK_EDDSA_ED25519:
		case GNUTLS_PK_EDDSA_ED448:
			ret = gnutls_pubkey_export_ecc_raw2(k[i], &curve[i],
			    &p[i][0], &p[i][1], 0);
			break;
		default:
			ret = GNUTLS_E_UNKNOWN_PK_ALGORITHM;
			break;
		}
	}
	if (ret >= 0)
		same = curve[0] == curve[1] &&
		    p[0][0].size == p[1][0].size && p[0][1].size == p[1][1].size &&
		    (p[0][0].size == 0 ||
		    memcmp(p[0][0].data, p[1][0].data, p[0][0].size) == 0) &&
		    (p[0][1].size == 0 ||
		    memcmp(p[0][1].data, p[1][1].data, p[0][1].size) == 0);
	for (i = 0; i < 2; i++) {
		gnutls_free(p[i][0].data);
		gnutls_free(p[i][1].data);
	}
	if (ret < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	return same;
}

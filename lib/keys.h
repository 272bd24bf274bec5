/*
 * keys.h - private keys: generation, PKCS#8 export (PBES2 AES-256 when
 * a password is given), loading with permission checks.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_KEYS_H
#define CA_KEYS_H

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

enum ca_key_type {
	CA_KEY_EC_P256,
	CA_KEY_EC_P384,
	CA_KEY_ED25519,
	CA_KEY_RSA_3072,
};

/* "ec-p256", "ec-p384", "ed25519", "rsa-3072". */
int	 ca_key_type_parse(const char *s, enum ca_key_type *out);
const char *ca_key_type_name(enum ca_key_type t);

/* The GnuTLS algorithm and size (bits, or curve as bits) of a type. */
int	 ca_key_type_params(enum ca_key_type t, gnutls_pk_algorithm_t *pk,
	    unsigned *bits);
/* Generate a key; caller frees with gnutls_x509_privkey_deinit. */
int	 ca_key_generate(enum ca_key_type t, gnutls_x509_privkey_t *out);
/*
 * An abstract key for x. With own set, the new key owns x (on success
 * only): the caller must then not deinit x. Caller deinits *out.
 */
int	 ca_key_wrap(gnutls_x509_privkey_t x, int own, gnutls_privkey_t *out);
/*
 * Export as PEM PKCS#8: encrypted with PBES2 AES-256 (PBKDF2-SHA256) when
 * password is not NULL, plain otherwise. Free out->data with
 * ca_free_secret(out->data, out->size).
 */
int	 ca_key_export(gnutls_x509_privkey_t key, const char *password,
	    gnutls_datum_t *out);
/*
 * Load a private key file (PEM or DER; PKCS#8 encrypted or not, SEC1,
 * PKCS#1). Refuses a file that group or others can read. password may be
 * NULL for an unencrypted key; an encrypted key without one, or with a
 * wrong one, fails with CA_ERR_AUTH. Caller frees with gnutls_privkey_deinit.
 */
int	 ca_key_load(const char *path, const char *password,
	    gnutls_privkey_t *out);
/*
 * A CA key: a file (ca_key_load, with password), or a pkcs11: URI of a
 * key on the token that kms (ca.json's kms.uri, or NULL) names, opened
 * with the PIN from its pin-source (lib/pkcs11.c; password unused).
 */
int	 ca_key_open(const char *key, const char *kms, const char *password,
	    gnutls_privkey_t *out);
/*
 * Read a file holding a private key: a regular file (no symlink) that
 * group and others cannot read. Free with ca_free_secret(*buf, *len).
 */
int	 ca_key_file_read(const char *path, char **buf, size_t *len);
/* Whether the key file at path is encrypted (1), not (0), or an error. */
int	 ca_key_is_encrypted(const char *path);
/*
 * Whether two public keys are the same key: 1, 0, or a negative CA_ERR_*
 * when either cannot be read.
 */
int	 ca_pubkey_same(gnutls_pubkey_t a, gnutls_pubkey_t b);
/* Hash used when this key signs certificates (SHA-256/384, 0 for EdDSA). */
gnutls_digest_algorithm_t ca_key_digest(gnutls_privkey_t key);

#endif /* CA_KEYS_H */

/*
 * pkcs11.h - CA keys in PKCS#11 tokens, through GnuTLS's own PKCS#11
 * support (RFC 7512 URIs, as step-ca's "kms" configuration spells them).
 *
 * ca.json's "kms": {"type": "pkcs11", "uri": KMS} names the module, the
 * token and the PIN file:
 *   pkcs11:module-path=/usr/lib/softhsm/libsofthsm2.so;token=ca?pin-source=/etc/ca/pin
 * and "key" (the intermediate's) and caTools.rootKey name objects on it:
 *   pkcs11:id=%01%02;object=intermediate_ca_key
 * The module is loaded by path alone (GNUTLS_PKCS11_FLAG_MANUAL: no
 * p11-kit configuration is read). The PIN is read from its file, given to
 * GnuTLS by a PIN callback that answers once (a wrong PIN is never retried,
 * which would lock the token), and wiped as soon as the key is open.
 * pin-value (the PIN written in ca.json) is refused. One module per
 * process. A session does not survive fork(): a process opens the keys it
 * signs with (the test forks to check it).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_PKCS11_H
#define CA_PKCS11_H

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "keys.h"

#define CA_PKCS11_MAX_URI	1024

/* Whether s is a pkcs11: URI (a key on a token) rather than a file. */
int	 ca_pkcs11_is_uri(const char *s);
/*
 * Check a kms URI (module-path required; token attributes; pin-source an
 * absolute file) or a key URI (id or object; no module, no PIN). what
 * names the member in the one-line CA_ERR_CONFIG message ("kms.uri").
 */
int	 ca_pkcs11_kms_check(const char *uri, const char *what);
int	 ca_pkcs11_key_check(const char *uri, const char *what);
/*
 * Load kms's module (once per process), check that its token is there,
 * and read the PIN from pin_file, or from the URI's pin-source when
 * pin_file is NULL. Until ca_pkcs11_logout() the PIN is kept for the
 * operations below; ca_pkcs11_logout() wipes it. Not for concurrent use.
 */
int	 ca_pkcs11_login(const char *kms, const char *pin_file);
void	 ca_pkcs11_logout(void);
/*
 * Open the private key key_uri on the token (after ca_pkcs11_login).
 * Caller frees *out with gnutls_privkey_deinit. A missing object is
 * CA_ERR_NOTFOUND, a PIN the token refuses CA_ERR_FORBIDDEN.
 */
int	 ca_pkcs11_key_find(const char *key_uri, gnutls_privkey_t *out);
/*
 * Login, open, logout: the issuer key of a ca.json with kms.
 */
int	 ca_pkcs11_key_open(const char *kms, const char *key_uri,
	    gnutls_privkey_t *out);
/*
 * Generate a key pair of type t on the token (after ca_pkcs11_login):
 * the private key sensitive, not extractable and private (CKA_PRIVATE),
 * labelled label with a new random id. *key_uri (free()) names it
 * ("pkcs11:id=...;object=LABEL"); *out is the key, opened.
 */
int	 ca_pkcs11_key_generate(enum ca_key_type t, const char *label,
	    char **key_uri, gnutls_privkey_t *out);
/* Delete the key pair key_uri names (after ca_pkcs11_login). */
int	 ca_pkcs11_key_delete(const char *key_uri);
/*
 * A kms URI with pin-source=pin_file added (pin_file absolute), for
 * ca.json. Caller frees.
 */
int	 ca_pkcs11_kms_with_pin(const char *kms, const char *pin_file,
	    char **out);

#endif /* CA_PKCS11_H */

/*
 * jose-internal.h - pieces of jose.c exposed only to its unit test, so that
 * the RFC 3394 and RFC 7518 B.1 vectors can be checked directly.
 * Nothing else includes this file.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_JOSE_INTERNAL_H
#define CA_JOSE_INTERNAL_H

#include <stddef.h>

/*
 * AES Key Wrap (RFC 3394) with the default IV A6A6A6A6A6A6A6A6.
 * kek is 16, 24 or 32 bytes; inlen a multiple of 8, at least 16.
 * wrap writes inlen + 8 bytes to out, unwrap inlen - 8 bytes.
 * unwrap fails with CA_ERR_AUTH when the integrity check fails.
 */
int	 ca_jose_aeskw_wrap(const unsigned char *kek, size_t keklen,
	    const unsigned char *in, size_t inlen, unsigned char *out);
int	 ca_jose_aeskw_unwrap(const unsigned char *kek, size_t keklen,
	    const unsigned char *in, size_t inlen, unsigned char *out);

/*
 * AES_CBC_HMAC_SHA2 decryption (RFC 7518 5.2). keylen 32, 48 or 64 picks
 * A128CBC-HS256, A192CBC-HS384 or A256CBC-HS512. *pt is malloc'd
 * (NUL-terminated, not counted); free with ca_free_secret(*pt, *ptlen).
 * A wrong tag gives CA_ERR_AUTH.
 */
int	 ca_jose_cbc_hs_decrypt(const unsigned char *key, size_t keylen,
	    const unsigned char *iv, size_t ivlen, const unsigned char *aad,
	    size_t aadlen, const unsigned char *ct, size_t ctlen,
	    const unsigned char *tag, size_t taglen, unsigned char **pt,
	    size_t *ptlen);

#endif /* CA_JOSE_INTERNAL_H */

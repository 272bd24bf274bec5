/*
 * acme-frame.h - what acme.c (the request's frame) lends to
 * acme-account.c beyond lib/acme-internal.h: the flattened JWS, which a
 * key change carries a second time inside its payload.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ACME_FRAME_H
#define CA_ACME_FRAME_H

#include <stddef.h>

struct acme_ctx;
struct ca_jws;
struct json_object;

/* A JWS body at most this long is parsed at all (413 beyond). */
#define ACME_MAX_BODY		(16 * 1024 + 1024)

/* Answer sent: what acme_jws_flat and friends return after a problem. */
#define ACME_ANSWERED		1

/*
 * A flattened JWS (RFC 7515 7.2.2, RFC 8555 6.2) from its parsed JSON:
 * exactly "protected", "payload" and "signature", strings; the protected
 * header's "alg" one of RS256, ES256, ES384, EdDSA. Not verified.
 * Returns 0 with *out (ca_jws_free), ACME_ANSWERED with the problem set
 * on ctx (malformed, badSignatureAlgorithm), or a negative CA_ERR_*.
 */
int	 acme_jws_flat(struct acme_ctx *ctx, struct json_object *o,
	    struct ca_jws **out);

#endif /* CA_ACME_FRAME_H */

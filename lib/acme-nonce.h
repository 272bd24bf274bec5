/*
 * acme-nonce.h - ACME nonces (RFC 8555 6.5) that every process on one
 * state directory shares, without a store write per nonce: the file
 * db/acme-nonces, mapped shared, holds a random key, a counter and a
 * window of used counters (one bit each). A nonce is
 * base64url(counter || HMAC-SHA256(key, counter)[0..15]); issuing one is
 * an atomic increment of the counter (and the clearing of its bit),
 * using one an atomic test-and-set of its bit, so that a nonce is good
 * once, in any process, while it is in the window. The key is made anew
 * after the machine restarted (the boot id changed): counters and bits
 * written before a crash may not have reached the disk, so the nonces of
 * the previous boot are refused, never accepted twice.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ACME_NONCE_H
#define CA_ACME_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define ACME_NONCE_LEN		32	/* base64url of 24 octets */
#define ACME_NONCE_WINDOW	((uint64_t)1 << 22)	/* nonces in flight */

struct acme_nonces;

/*
 * Map path (made 0600 on first use, set up under an flock so that
 * processes starting together agree). *out: acme_nonces_close.
 */
int	 acme_nonces_open(const char *path, struct acme_nonces **out);
void	 acme_nonces_close(struct acme_nonces *n);
/* A fresh nonce, NUL-terminated, in out. Thread-safe. */
int	 acme_nonce_new(struct acme_nonces *n, char out[ACME_NONCE_LEN + 1]);
/*
 * Spend nonce s: 0 the first time it is presented while in the window;
 * CA_ERR_REPLAY (message set) if it is not one of ours, too old, or
 * spent. Thread-safe, and safe across processes.
 */
int	 acme_nonce_use(struct acme_nonces *n, const char *s);
/* For tests: move the counter on by k, as if k nonces had been issued. */
void	 acme_nonces_skip(struct acme_nonces *n, uint64_t k);
/*
 * For tests: called (when set) in acme_nonce_use between its window
 * check and the marking of the nonce, to issue a nonce there.
 */
extern void (*acme_nonce_race_hook)(void);

#endif /* CA_ACME_NONCE_H */

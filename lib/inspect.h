/*
 * inspect.h - a readable or a JSON view of a certificate (PEM or DER; a
 * PEM bundle: each certificate), a CSR or a token (JWT), all of it
 * untrusted input: what ca-inspect shows.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_INSPECT_H
#define CA_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CA_INSPECT_MAX_FILE	(1024 * 1024)	/* bytes of input */
#define CA_INSPECT_MAX_BLOCKS	64		/* PEM blocks in a bundle */
#define CA_INSPECT_MAX_ITEMS	256		/* SANs, EKUs of one object */

/*
 * The view of buf (len bytes, NUL-terminated, at most
 * CA_INSPECT_MAX_FILE; name names it in errors) at now: readable text,
 * one field a line, every value escaped with ca_text_escape; or with
 * json one JSON value (an object, an array of them for several PEM
 * blocks), pretty-printed. A token's signature is never verified, and
 * the view says so. *out: a new string, caller frees.
 */
int	 ca_inspect(const char *buf, size_t len, const char *name, time_t now,
	    int json, char **out);
/*
 * Whether the (first) certificate in buf is due for renewal at now by
 * ca-renew's rule (ca_client_due, with expires_in: negative for its
 * default). 1 due, 0 not yet, or an error (a CSR or token included).
 */
int	 ca_inspect_due(const char *buf, size_t len, const char *name,
	    int64_t expires_in, time_t now);

#endif /* CA_INSPECT_H */

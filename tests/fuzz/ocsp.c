/*
 * ocsp.c - fuzz the OCSP request decoder (lib/ocsp.c), as ca-serve's
 * /ocsp runs it on a POST body or a GET path's base64: strict DER, up to
 * CA_OCSP_MAX_REQUESTS CertIDs, the nonce extension. What it accepts
 * must respect the bounds of struct ca_ocsp_request.
 * fuzz-dict: asn1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ocsp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_ocsp_request req;
	size_t i;

	if (ca_ocsp_request_parse(data, size, &req) == 0) {
		if (req.n == 0 || req.n > CA_OCSP_MAX_REQUESTS ||
		    req.nonce_len > sizeof(req.nonce))
			abort();
		for (i = 0; i < req.n; i++)
			if (req.ids[i].hash_len > sizeof(req.ids[i].name_hash) ||
			    req.ids[i].serial_len > sizeof(req.ids[i].serial))
				abort();
	}
	ca_err_clear();
	return 0;
}

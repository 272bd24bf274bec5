/*
 * jwe.c - fuzz compact JWE decryption with a password (lib/jwe.c), the
 * way a provisioner's encryptedKey is read: ca_jwe_decrypt_password with
 * a fixed password, and what it decrypts parsed as a JWK as ca-token
 * does. A fuzzing build (CA_FUZZING) accepts p2c from 1 to 1000, so
 * that PBKDF2 does not eat the fuzzer's time; the seeds use p2c 1000,
 * which every build accepts.
 * fuzz-dict: json
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jose.h"

#define PASSWORD	"fuzz-password"	/* tests/fuzz/mkcorpus.sh's */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_jwk *k = NULL;
	unsigned char *pt = NULL;
	size_t ptlen = 0;

	if (ca_jwe_decrypt_password((const char *)data, size, PASSWORD,
	    strlen(PASSWORD), &pt, &ptlen) == 0) {
		if (ca_jwk_parse((const char *)pt, ptlen, &k) == 0)
			ca_jwk_free(k);
		ca_free_secret(pt, ptlen);
	}
	ca_err_clear();
	return 0;
}

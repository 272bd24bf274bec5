/*
 * dns.c - fuzz the ACME validator's reader of DNS answers
 * (lib/acme-dns.c): acme_dns_parse on the raw bytes, for the TXT of
 * _acme-challenge.d.test and the A and AAAA of d.test, CNAMEs followed;
 * every record it returns must be a string.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/nameser.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "acme-validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		int		 type;
		const char	*name;
	} q[] = {
		{ ns_t_txt, "_acme-challenge.d.test" },
		{ ns_t_a, "d.test" },
		{ ns_t_aaaa, "d.test" },
	};
	char **v;
	size_t i, k, n;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if (acme_dns_parse(data, size, q[i].type, q[i].name, &v, &n) ==
		    ACME_DNS_OK) {
			for (k = 0; k < n; k++)
				if (v[k] == NULL || strlen(v[k]) > size)
					abort();
			if (v != NULL && v[n] != NULL)
				abort();
		}
		acme_dns_free(v);
	}
	return 0;
}

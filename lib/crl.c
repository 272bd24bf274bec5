/*
 * crl.c - revocation reasons; CRL building lands here next.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"
#include "crl.h"

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

int
ca_reason_parse(const char *s, int *code)
{
	char *end;
	long v;
	int i;

	for (i = 0; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++)
		if (reasons[i] != NULL && strcasecmp(s, reasons[i]) == 0) {
			*code = i;
			return 0;
		}
	v = strtol(s, &end, 10);
	if (s[0] != '\0' && *end == '\0' && v >= 0 && v <= 10 && v != 7) {
		*code = (int)v;
		return 0;
	}
	return ca_err(CA_ERR_INVAL,
	    "unknown revocation reason '%s' (e.g. keyCompromise, superseded, cessationOfOperation, or a code 0-10)",
	    s);
}

const char *
ca_reason_name(int code)
{
	if (code >= 0 && code < (int)(sizeof(reasons) / sizeof(reasons[0])) &&
	    reasons[code] != NULL)
		return reasons[code];
	return "unspecified";
}

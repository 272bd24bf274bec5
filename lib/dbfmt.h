/*
 * dbfmt.h - what ca-db prints of the CA's records: a table, a record as
 * text, or JSON.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_DBFMT_H
#define CA_DBFMT_H

#include <stdio.h>
#include <time.h>

#include "db.h"

/* The records v[0..n-1]: a tab-separated table with a header, or JSON. */
int	 ca_dbfmt_list(FILE *fp, const struct ca_cert_info *v, size_t n,
	    time_t now, int json);
/* One record with its certificate (PEM): "field: value" lines, or JSON. */
int	 ca_dbfmt_show(FILE *fp, const struct ca_cert_info *ci, time_t now,
	    int json);

#endif /* CA_DBFMT_H */

/*
 * memstore.h - a store backend (lib/store.h) held in memory, filled with
 * records decoded from a fuzzer's input, for the harnesses that read the
 * CA's records (store, crl-ocsp): a corrupt database without a GDBM file.
 *
 * The input is a sequence of records, each
 *   key (up to a NUL), value length (2 octets, big-endian), value
 * and a short last value takes what is left. memstore_open() makes a
 * store of them; ca_store_close() frees it.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_FUZZ_MEMSTORE_H
#define CA_FUZZ_MEMSTORE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "store.h"

#define MEMSTORE_MAX	256	/* records */

struct memrec {
	char		*key;
	unsigned char	*val;
	size_t		 len;
};

struct memstore {
	struct memrec	 r[MEMSTORE_MAX];
	size_t		 n;
};

static int
mem_open(const char *dir, unsigned lock_timeout_ms, void **impl)
{
	(void)dir;
	(void)lock_timeout_ms;
	if ((*impl = calloc(1, sizeof(struct memstore))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static void
mem_close(void *impl)
{
	struct memstore *m = impl;
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->r[i].key);
		free(m->r[i].val);
	}
	free(m);
}

static int
mem_begin(void *impl, int write)
{
	(void)impl;
	(void)write;
	return 0;
}

static struct memrec *
mem_find(struct memstore *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->r[i].key, key) == 0)
			return &m->r[i];
	return NULL;
}

/* As GDBM's backend: a malloc'd copy, NUL-terminated. */
static int
mem_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	struct memrec *r;

	if ((r = mem_find(impl, key)) == NULL)
		return CA_ERR_NOTFOUND;
	if (val == NULL)
		return 0;
	if ((*val = malloc(r->len + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(*val, r->val, r->len);
	(*val)[r->len] = '\0';
	*len = r->len;
	return 0;
}

static int
mem_put(void *impl, const char *key, const void *val, size_t len, int insert)
{
	struct memstore *m = impl;
	struct memrec *r;
	unsigned char *v;

	if ((r = mem_find(m, key)) != NULL && insert)
		return CA_ERR_EXISTS;
	if (r == NULL && m->n == MEMSTORE_MAX)
		return ca_err(CA_ERR_STORE, "memstore full");
	if ((v = malloc(len ? len : 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(v, val, len);
	if (r == NULL) {
		r = &m->r[m->n];
		if ((r->key = strdup(key)) == NULL) {
			free(v);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		m->n++;
	} else
		free(r->val);
	r->val = v;
	r->len = len;
	return 0;
}

static int
mem_del(void *impl, const char *key)
{
	struct memstore *m = impl;
	struct memrec *r;

	if ((r = mem_find(m, key)) == NULL)
		return 0;
	free(r->key);
	free(r->val);
	*r = m->r[--m->n];
	return 0;
}

static size_t
mem_savepoint(void *impl)
{
	(void)impl;
	return 0;
}

static void
mem_rollback(void *impl, size_t mark)
{
	(void)impl;
	(void)mark;
}

static int
mem_commit(void *impl)
{
	(void)impl;
	return 0;
}

static void
mem_abort(void *impl)
{
	(void)impl;
}

static int
mem_foreach(void *impl, const char *prefix, int (*fn)(void *,
    const char *, const unsigned char *, size_t), void *arg)
{
	struct memstore *m = impl;
	size_t i, plen = strlen(prefix);
	int rc;

	for (i = 0; i < m->n; i++) {
		if (strncmp(m->r[i].key, prefix, plen) != 0 ||
		    (m->r[i].key[0] == '!' && prefix[0] != '!'))
			continue;
		if ((rc = fn(arg, m->r[i].key, m->r[i].val, m->r[i].len)) != 0)
			return rc;
	}
	return 0;
}

static int
mem_verify(void *impl)
{
	(void)impl;
	return 0;
}

static int
mem_interrupted(void *impl)
{
	(void)impl;
	return 0;
}

static void
mem_stats(const void *impl, struct ca_store_stats *out)
{
	(void)impl;
	memset(out, 0, sizeof(*out));
}

static const struct ca_store_backend memstore_backend = {
	"memory", mem_open, mem_close, mem_begin, mem_get, mem_put, mem_del,
	mem_savepoint, mem_rollback, mem_commit, mem_abort, mem_foreach,
	mem_verify, mem_interrupted, mem_stats,
};

/*
 * A store holding the records of data (see above); a repeated key keeps
 * its first value, records past MEMSTORE_MAX are dropped. 0 or
 * CA_ERR_NOMEM; close it with ca_store_close().
 */
static int
memstore_open(const uint8_t *data, size_t size, struct ca_store **out)
{
	const uint8_t *end = data + size, *nul, *val;
	struct ca_store *st;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = ca_store_open_backend(&memstore_backend, "", 0, &st)) != 0)
		return rc;
	while (data < end &&
	    (nul = memchr(data, '\0', (size_t)(end - data))) != NULL) {
		if (end - nul < 3) {
			val = end;
			len = 0;
		} else {
			val = nul + 3;
			len = (size_t)nul[1] << 8 | nul[2];
			if (len > (size_t)(end - val))
				len = (size_t)(end - val);
		}
		rc = ca_store_put(st, (const char *)data, val, len, 1);
		if (rc == CA_ERR_NOMEM) {
			ca_store_close(st);
			return rc;
		}
		data = val + len;
	}
	ca_err_clear();
	*out = st;
	return 0;
}

#endif /* CA_FUZZ_MEMSTORE_H */

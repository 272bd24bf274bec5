/*
 * store.c - the store's operations, dispatched to its backend.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "store.h"

struct ca_store {
	const struct ca_store_backend	*be;
	void				*impl;
};

int
ca_store_open_backend(const struct ca_store_backend *be, const char *dir,
    unsigned lock_timeout_ms, struct ca_store **out)
{
	struct ca_store *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	st->be = be;
	if ((rc = be->open(dir, lock_timeout_ms, &st->impl)) != 0) {
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

int
ca_store_open(const char *dir, unsigned lock_timeout_ms, struct ca_store **out)
{
	return ca_store_open_backend(&ca_store_gdbm, dir, lock_timeout_ms, out);
}

void
ca_store_close(struct ca_store *st)
{
	if (st == NULL)
		return;
	st->be->close(st->impl);
	free(st);
}

int
ca_store_begin(struct ca_store *st, int write)
{
	return st->be->begin(st->impl, write);
}

int
ca_store_get(struct ca_store *st, const char *key, unsigned char **val,
    size_t *len)
{
	return st->be->get(st->impl, key, val, len);
}

int
ca_store_put(struct ca_store *st, const char *key, const void *val,
    size_t len, int insert)
{
	return st->be->put(st->impl, key, val, len, insert);
}

int
ca_store_del(struct ca_store *st, const char *key)
{
	return st->be->del(st->impl, key);
}

size_t
ca_store_savepoint(struct ca_store *st)
{
	return st->be->savepoint(st->impl);
}

void
ca_store_rollback(struct ca_store *st, size_t mark)
{
	st->be->rollback(st->impl, mark);
}

int
ca_store_commit(struct ca_store *st)
{
	return st->be->commit(st->impl);
}

void
ca_store_abort(struct ca_store *st)
{
	st->be->abort(st->impl);
}

int
ca_store_foreach(struct ca_store *st, const char *prefix,
    int (*fn)(void *, const char *, const unsigned char *, size_t), void *arg)
{
	return st->be->foreach(st->impl, prefix, fn, arg);
}

int
ca_store_verify(struct ca_store *st)
{
	return st->be->verify(st->impl);
}

int
ca_store_interrupted(struct ca_store *st)
{
	return st->be->interrupted(st->impl);
}

void
ca_store_stats(const struct ca_store *st, struct ca_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	st->be->stats(st->impl, out);
}

unsigned long
ca_store_syncs(const struct ca_store *st)
{
	struct ca_store_stats s;

	ca_store_stats(st, &s);
	return s.syncs;
}

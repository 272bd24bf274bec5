/*
 * store.h - the CA's database: a GDBM file under an external flock, used
 * in short transactions.
 *
 * GDBM refuses a second writer at once instead of waiting, and its
 * multi-record updates are not atomic on ext4. So every access takes
 * db/lock (shared to read, exclusive to write) with a timeout, and a
 * write transaction of more than one change is made atomic with a redo
 * record: the queued changes are stored and synced under one key first,
 * then applied and synced, then the redo record is deleted. A writer that
 * finds a redo record left by a crash applies it before anything else.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_STORE_H
#define CA_STORE_H

#include <stddef.h>

struct ca_store;

/*
 * Open the store in directory dir, which must exist (ca-init makes it);
 * the lock file is created if missing, the database by the first write.
 * No lock is held until ca_store_begin().
 * lock_timeout_ms bounds every wait for the lock.
 */
int	 ca_store_open(const char *dir, unsigned lock_timeout_ms,
	    struct ca_store **out);
void	 ca_store_close(struct ca_store *st);

/*
 * Start a transaction: take the lock (CA_ERR_TEMP when it cannot be had
 * within the timeout) and open the database, for writing if write is set.
 */
int	 ca_store_begin(struct ca_store *st, int write);
/*
 * Look up key. Changes queued in this transaction are seen. *val is
 * malloc'd (NUL-terminated, not counted in *len); CA_ERR_NOTFOUND if absent.
 * val may be NULL to test for existence only.
 */
int	 ca_store_get(struct ca_store *st, const char *key, unsigned char **val,
	    size_t *len);
/*
 * Queue a change (write transactions). With insert set, fails with
 * CA_ERR_EXISTS if key is already there: this is the compare-and-swap
 * used for token ids and serials.
 */
int	 ca_store_put(struct ca_store *st, const char *key, const void *val,
	    size_t len, int insert);
int	 ca_store_del(struct ca_store *st, const char *key);
/* Apply the queued changes atomically, sync them to disk, release the lock. */
int	 ca_store_commit(struct ca_store *st);
/* Drop the queued changes and release the lock. */
void	 ca_store_abort(struct ca_store *st);
/*
 * Call fn for each stored key starting with prefix (in no particular
 * order) inside a transaction; a non-zero return from fn stops the walk
 * and is returned.
 */
int	 ca_store_foreach(struct ca_store *st, const char *prefix,
	    int (*fn)(void *arg, const char *key, const unsigned char *val,
	    size_t len), void *arg);
/*
 * In a transaction: whether GDBM's free-space lists are sound; 0, or
 * CA_ERR_STORE with what is wrong. (A header that does not agree with the
 * file is refused by ca_store_begin already.)
 */
int	 ca_store_verify(struct ca_store *st);
/* Number of syncs (fsync) done by this handle, for benchmarks. */
unsigned long ca_store_syncs(const struct ca_store *st);

#endif /* CA_STORE_H */

/*
 * store.h - the CA's database: a key-value store used in short
 * transactions, behind a table of operations (struct ca_store_backend)
 * so that the authority does not know which database holds its records.
 * GDBM (lib/store-gdbm.c) is the one backend today; lib/store-group.c
 * commits concurrent callers' changes together (group commit).
 *
 * The contract, for callers and for every backend:
 *
 * - A transaction is begun for reading or for writing; nothing is read or
 *   changed outside one. Writes are queued and seen by get() in the same
 *   transaction; commit applies all of them or none (atomic multi-key
 *   commit), also across a crash of the process, the machine or a power
 *   loss at any point; commit returns 0 only once the changes are durable
 *   (a certificate is recorded and synced before it is handed out).
 * - put() with insert set is a compare-and-swap: it fails with
 *   CA_ERR_EXISTS when the key exists, and the check holds until commit:
 *   two transactions that insert the same key never both commit. Token
 *   ids (jti), serials and revocations rely on it.
 * - Isolation: a write transaction is serializable with every other
 *   transaction on the same store, from this process or another, local or
 *   on another node: what it read stays true until it commits (the
 *   authority checks "token unused", "serial free", "not revoked" and
 *   records in one transaction). A read transaction sees one committed
 *   state. GDBM has this by one exclusive lock per write; a database
 *   server would use SERIALIZABLE (or SELECT ... FOR UPDATE on the keys
 *   read, and a unique key for insert).
 * - Every commit is visible to every transaction begun after it returns,
 *   in every process (ca-db, the offline tools, other ca-serve nodes).
 * - begin waits at most lock_timeout_ms for the other writers, then fails
 *   with CA_ERR_TEMP; a transaction holds the store only briefly: never
 *   across network I/O.
 * - Keys are NUL-free strings of at most 1024 bytes; keys starting with
 *   '!' are the backend's own; values are at most 1 GiB.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_STORE_H
#define CA_STORE_H

#include <pthread.h>
#include <stddef.h>

struct ca_store;

/* What a store has done, for benchmarks and ca-serve's statistics. */
struct ca_store_stats {
	unsigned long	 commits;	/* write transactions committed */
	unsigned long	 syncs;		/* fsync (or what makes a commit durable) */
	unsigned long	 opens;		/* database (re)opened or connected */
};

/*
 * A backend: each operation gets the backend's own state (impl) and
 * keeps the contract above; errors are 0 or a negative CA_ERR_*, with the
 * message set (ca_err) where the detail is known. savepoint/rollback
 * bound the changes of one participant of a group commit: rollback drops
 * every change queued since savepoint returned *mark.
 */
struct ca_store_backend {
	const char	*name;
	int		(*open)(const char *dir, unsigned lock_timeout_ms,
			    void **impl);
	void		(*close)(void *impl);
	int		(*begin)(void *impl, int write);
	int		(*get)(void *impl, const char *key, unsigned char **val,
			    size_t *len);
	int		(*put)(void *impl, const char *key, const void *val,
			    size_t len, int insert);
	int		(*del)(void *impl, const char *key);
	size_t		(*savepoint)(void *impl);
	void		(*rollback)(void *impl, size_t mark);
	int		(*commit)(void *impl);
	void		(*abort)(void *impl);
	int		(*foreach)(void *impl, const char *prefix,
			    int (*fn)(void *arg, const char *key,
			    const unsigned char *val, size_t len), void *arg);
	int		(*verify)(void *impl);
	int		(*interrupted)(void *impl);
	void		(*stats)(const void *impl, struct ca_store_stats *out);
};

/* The GDBM backend: db/ca.gdbm under the flock db/lock (store-gdbm.c). */
extern const struct ca_store_backend ca_store_gdbm;

/*
 * Open the store in directory dir, which must exist (ca-init makes it),
 * with the default backend (GDBM): the lock file is created if missing,
 * the database by the first write. No lock is held until
 * ca_store_begin(). lock_timeout_ms bounds every wait for the lock.
 */
int	 ca_store_open(const char *dir, unsigned lock_timeout_ms,
	    struct ca_store **out);
/* The same with a given backend. */
int	 ca_store_open_backend(const struct ca_store_backend *be,
	    const char *dir, unsigned lock_timeout_ms, struct ca_store **out);
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
/*
 * A savepoint in a write transaction, and a return to it: the changes
 * queued after ca_store_savepoint() are dropped, the earlier ones kept.
 */
size_t	 ca_store_savepoint(struct ca_store *st);
void	 ca_store_rollback(struct ca_store *st, size_t mark);
/* Apply the queued changes atomically, make them durable, release the lock. */
int	 ca_store_commit(struct ca_store *st);
/* Drop the queued changes and release the lock. */
void	 ca_store_abort(struct ca_store *st);
/*
 * Call fn for each stored key starting with prefix (in no particular
 * order) inside a transaction; a non-zero return from fn stops the walk
 * and is returned. The backend's own keys ('!') are not visited unless
 * prefix asks for them.
 */
int	 ca_store_foreach(struct ca_store *st, const char *prefix,
	    int (*fn)(void *arg, const char *key, const unsigned char *val,
	    size_t len), void *arg);
/*
 * In a transaction: whether the database's own structures are sound; 0,
 * or CA_ERR_STORE with what is wrong.
 */
int	 ca_store_verify(struct ca_store *st);
/*
 * In a transaction: 1 when a write transaction interrupted by a crash
 * awaits completion (the next write transaction completes it), else 0.
 */
int	 ca_store_interrupted(struct ca_store *st);
/* The handle's counters since it was opened. */
void	 ca_store_stats(const struct ca_store *st, struct ca_store_stats *out);
/* Number of syncs (fsync) done by this handle, for benchmarks. */
unsigned long ca_store_syncs(const struct ca_store *st);

/*
 * Group commit (store-group.c): concurrent callers' changes committed in
 * one write transaction, so that they share its syncs. Each caller runs
 * fn(st, arg), which queues its changes; the first caller to find the
 * store idle takes every queued caller and commits them together, the
 * others wait for the result. A caller whose fn fails has its changes
 * rolled back (savepoint) and gets fn's error and message; the others
 * commit. lock, if not NULL, is held around the transaction (the mutex
 * that serialises the other users of st). Thread-safe; fn runs on some
 * caller's thread with the message slot of that thread, and its message
 * is copied back to its own caller.
 */
struct ca_store_group;
int	 ca_store_group_new(struct ca_store *st, pthread_mutex_t *lock,
	    struct ca_store_group **out);
void	 ca_store_group_free(struct ca_store_group *g);
int	 ca_store_group_commit(struct ca_store_group *g,
	    int (*fn)(struct ca_store *st, void *arg), void *arg);
/* Transactions committed and callers they served, since new. */
void	 ca_store_group_stats(struct ca_store_group *g, unsigned long *batches,
	    unsigned long *callers);

#endif /* CA_STORE_H */

/*
 * store-gdbm.c - the GDBM backend of the store (store.h): GDBM under an
 * external flock, with redo-logged transactions.
 *
 * GDBM refuses a second writer at once instead of waiting, and its
 * multi-record updates are not atomic on ext4. So every access takes
 * db/lock (shared to read, exclusive to write) with a timeout, and every
 * write transaction is made atomic with a redo record, with one sync:
 *
 *   0. db/lock is marked "pending": from here until 4, no process's
 *      handle counts as fresh, and a reader that opens completes first;
 *   1. transaction n's changes are stored as one record, "!redo.<n % 2>",
 *      prefixed with n (the slot held transaction n - 2's record);
 *   2. sync: this is the commit point. It also makes durable what
 *      transaction n - 1 applied after its own sync, so n - 2's record,
 *      overwritten in 1, was no longer needed;
 *   3. the changes are applied in place, unsynced (the next transaction's
 *      sync, or the close, makes them durable; until then the redo record
 *      holds them);
 *   4. "applied up to n, on this boot" is written into db/lock.
 *
 * A writer that does not find its own boot and the newest record's number
 * in db/lock (a process died between 2 and 4, or the machine restarted)
 * applies both records again, the older first, before anything else:
 * replaying them is harmless, as they hold the last two transactions.
 * A crash at any point leaves either the whole transaction (its record was
 * synced) or none of it (nothing is applied before the sync).
 *
 * The GDBM handle stays open between transactions. A transaction reuses
 * it only when nobody else wrote meanwhile: db/lock still names the
 * handle's last transaction (a writer that died between 0 and 4 left it
 * "pending") and the file's identity, size and modification time are
 * unchanged; otherwise it is reopened (and verified, and completed by a
 * writer) before anything is read. A reused handle is not checked again:
 * nothing can have changed under it. Closing it after a clean commit
 * does not sync (see db_close): so a one-shot tool syncs once, not twice.
 *
 * A reader that opens the file while db/lock does not say the newest
 * record was applied on this boot completes it as a writer first, then
 * reads: no reader sees what a crash left half applied or unsynced.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "store.h"

#define REDO_KEY	"!redo"		/* one record, of earlier versions */
#define REDO_SLOT	"!redo.%d"	/* slots 0 and 1 */
#define MARK_MAGIC	"castore1"
/* In db/lock while a writer changes the file: nobody's handle is fresh. */
#define MARK_PENDING	UINT64_MAX
#define DB_NAME		"ca.gdbm"
#define LOCK_NAME	"lock"

enum op_kind { OP_PUT = 1, OP_DEL = 2 };

struct op {
	enum op_kind	 kind;
	char		*key;
	unsigned char	*val;
	size_t		 len;
};

struct gstore {
	char		*dbpath;
	char		*lockpath;
	int		 lockfd;
	unsigned	 timeout_ms;
	GDBM_FILE	 db;		/* kept open between transactions */
	int		 dbwrite;	/* db was opened for writing */
	pid_t		 pid;		/* the process that opened db */
	int		 intx;		/* a transaction is open */
	int		 writing;
	uint64_t	 seq;		/* the newest transaction's number */
	struct stat	 dbst;		/* the file after our last transaction */
	struct op	*ops;
	size_t		 nops, capops;
	unsigned long	 syncs, commits, opens;
	int		 dirty;		/* changed past the last mark in db/lock */
	int		 redo_corrupt;	/* the last completion met a corrupt record */
	int		 remember;	/* the file's stat to be taken at the end */
	off_t		 size0;		/* file size when the write began */
	off_t		 growth;	/* what the header allows it to grow */
};

/*
 * The start of GDBM's file header (struct gdbm_file_header in GDBM 1.23's
 * src/gdbmdefs.h), the same in the standard and the extended (numsync)
 * format. GDBM reads it once at open and trusts it: a next_block beyond
 * the end of the file makes the next update write zeros up to it
 * (_gdbm_end_update -> _gdbm_file_extend), gigabytes for one flipped bit.
 */
struct gdbm_head {
	int	 magic;
	int	 block_size;
	off_t	 dir;
	int	 dir_size;
	int	 dir_bits;
	int	 bucket_size;
	int	 bucket_elems;
	off_t	 next_block;
};

/*
 * Whether a GDBM error means the file's structure is broken (rather than
 * a system call failing, or memory running out).
 */
static int
damage_errno(gdbm_error e)
{
	switch (e) {
	case GDBM_BAD_MAGIC_NUMBER:
	case GDBM_BAD_FILE_OFFSET:
	case GDBM_FILE_EOF:
	case GDBM_NEED_RECOVERY:
	case GDBM_BAD_BUCKET:
	case GDBM_BAD_HEADER:
	case GDBM_BAD_AVAIL:
	case GDBM_BAD_HASH_TABLE:
	case GDBM_BAD_DIR_ENTRY:
	case GDBM_BAD_HASH_ENTRY:
	case GDBM_BLOCK_SIZE_ERROR:
	case GDBM_ILLEGAL_DATA:
		return 1;
	default:
		return 0;
	}
}

static int
gdbm_fail(struct gstore *st, const char *what)
{
	gdbm_error e = st->db != NULL ? gdbm_last_errno(st->db) : gdbm_errno;
	const char *msg = st->db != NULL ? gdbm_db_strerror(st->db) :
	    gdbm_strerror(gdbm_errno);

	/* A write that failed (disk full, file size limit) leaves the handle
	 * needing recovery, but the file is not damaged: the redo record puts
	 * it right at the next open. */
	if (damage_errno(e) || (e != GDBM_FILE_WRITE_ERROR &&
	    st->db != NULL && gdbm_needs_recovery(st->db)))
		return ca_err(CA_ERR_STORE, "%s: database damaged: %s: %s "
		    "(see ca-db check)", st->dbpath, what, msg);
	return ca_err(CA_ERR_STORE, "%s: %s: %s", st->dbpath, what, msg);
}

/*
 * Read GDBM's header of the open database and the file's size: 0, or
 * CA_ERR_STORE when the header cannot be read.
 */
static int
read_head(struct gstore *st, struct gdbm_head *h, off_t *size)
{
	struct stat sb;
	int fd = gdbm_fdesc(st->db);

	if (fstat(fd, &sb) != 0 ||
	    pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		return ca_err(CA_ERR_STORE, "%s: reading the header: %s",
		    st->dbpath, strerror(errno));
	*size = sb.st_size;
	return 0;
}

/*
 * Refuse a database whose header does not fit the file: GDBM 1.23 ends
 * every update with the file extended to next_block, so next_block before
 * the end (GDBM: needs recovery) or beyond it is damage. Beyond it is
 * also how a truncated copy looks, and the next writer would fill the
 * missing tail with zeros, which read as empty buckets: records lost
 * without an error. (GDBM itself tolerates a next_block past the end, for
 * files older versions wrote.) Sets st->size0 and st->growth, the bound
 * on a transaction's growth.
 */
static int
check_head(struct gstore *st)
{
	struct gdbm_head h;
	off_t size = 0;
	int rc;

	if (gdbm_needs_recovery(st->db))
		return ca_err(CA_ERR_STORE, "%s: database damaged: GDBM says it "
		    "needs recovery (see ca-db check)", st->dbpath);
	if ((rc = read_head(st, &h, &size)) != 0)
		return rc;
	if (h.block_size < 512 || h.block_size > (1 << 24) ||
	    h.next_block != size)
		return ca_err(CA_ERR_STORE, "%s: database damaged: its header "
		    "gives the next block at %lld, the file is %lld bytes "
		    "(see ca-db check)", st->dbpath, (long long)h.next_block,
		    (long long)size);
	st->size0 = size;
	st->growth = (off_t)8 * h.block_size +
	    2 * (off_t)(h.dir_size > 0 ? h.dir_size : 0);
	return 0;
}

/*
 * After changes: a transaction grows the file by about what it wrote (the
 * redo record, then the records), new buckets and at most a doubled
 * directory. Anything beyond is GDBM following a damaged structure.
 */
static int
check_growth(struct gstore *st, size_t written)
{
	struct stat sb;

	if (fstat(gdbm_fdesc(st->db), &sb) != 0)
		return ca_err(CA_ERR_IO, "%s: %s", st->dbpath, strerror(errno));
	if (sb.st_size - st->size0 > st->growth + 4 * (off_t)written)
		return ca_err(CA_ERR_STORE, "%s: database damaged: it grew by "
		    "%lld bytes in a transaction that wrote %zu (see ca-db "
		    "check)", st->dbpath, (long long)(sb.st_size - st->size0),
		    written);
	return 0;
}

static void	g_close(void *);
static void	g_abort(void *);
static void	db_close(struct gstore *);

/*
 * This process's id, without a system call per transaction: set once, and
 * again in every child fork() makes (a handle opened by the parent is
 * never reused by a child, see db_fresh).
 */
static pid_t		 self_pid;
static pthread_once_t	 self_once = PTHREAD_ONCE_INIT;

static void
self_forked(void)
{
	self_pid = getpid();
}

static void
self_init(void)
{
	self_pid = getpid();
	(void)pthread_atfork(NULL, NULL, self_forked);
}

static pid_t
self(void)
{
	(void)pthread_once(&self_once, self_init);
	return self_pid;
}

static int
g_open(const char *dir, unsigned lock_timeout_ms, void **out)
{
	struct gstore *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	st->lockfd = -1;
	st->timeout_ms = lock_timeout_ms;
	if (asprintf(&st->dbpath, "%s/%s", dir, DB_NAME) < 0 ||
	    asprintf(&st->lockpath, "%s/%s", dir, LOCK_NAME) < 0) {
		st->dbpath = st->lockpath = NULL;
		g_close(st);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	st->lockfd = open(st->lockpath, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (st->lockfd < 0) {
		rc = ca_err(errno == ENOENT ? CA_ERR_CONFIG : CA_ERR_IO,
		    "%s: %s", st->lockpath, strerror(errno));
		g_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

static void
free_ops(struct gstore *st)
{
	size_t i;

	for (i = 0; i < st->nops; i++) {
		free(st->ops[i].key);
		free(st->ops[i].val);
	}
	st->nops = 0;
}

static void
g_close(void *impl)
{
	struct gstore *st = impl;

	if (st == NULL)
		return;
	if (st->intx)
		g_abort(st);
	db_close(st);
	free_ops(st);
	free(st->ops);
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st->dbpath);
	free(st->lockpath);
	free(st);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take db/lock by deadline (now_ms() time). */
static int
take_lock(struct gstore *st, int exclusive, int64_t deadline)
{
	long wait_us = 50;
	struct timespec ts;

	for (;;) {
		if (flock(st->lockfd, (exclusive ? LOCK_EX : LOCK_SH) |
		    LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ca_err(CA_ERR_IO, "%s: %s", st->lockpath,
			    strerror(errno));
		if (now_ms() >= deadline)
			return ca_err(CA_ERR_TEMP,
			    "%s: database busy: lock not acquired within %u ms",
			    st->lockpath, st->timeout_ms);
		/* Polling with a capped backoff keeps waiters fair enough. */
		ts.tv_sec = 0;
		ts.tv_nsec = wait_us * 1000;
		nanosleep(&ts, NULL);
		if (wait_us < 2000)
			wait_us *= 2;
	}
}

static int
do_sync(struct gstore *st)
{
	/* Opened with GDBM_NOMMAP, gdbm_sync ends in a real fsync(). */
	if (gdbm_sync(st->db) != 0)
		return gdbm_fail(st, "sync");
	st->syncs++;
	return 0;
}

/*
 * Redo record format: a sequence of
 * kind(1) keylen(4, big-endian) key vallen(4) val.
 */
static int
apply_one(struct gstore *st, int kind, const char *key, size_t klen,
    const unsigned char *val, size_t vlen)
{
	datum k, v;

	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)klen;
	if (kind == OP_PUT) {
		v.dptr = (char *)(uintptr_t)val;
		v.dsize = (int)vlen;
		if (gdbm_store(st->db, k, v, GDBM_REPLACE) != 0)
			return gdbm_fail(st, "store");
	} else if (gdbm_delete(st->db, k) != 0 &&
	    gdbm_last_errno(st->db) != GDBM_ITEM_NOT_FOUND)
		return gdbm_fail(st, "delete");
	return 0;
}

/* Check the whole record first (apply 0), then apply it (apply 1). */
static int
walk_redo(struct gstore *st, const unsigned char *p, size_t len, int apply)
{
	size_t off = 0, klen, vlen;
	int kind, rc;

	while (off < len) {
		if (len - off < 9)
			goto bad;
		kind = p[off];
		klen = ca_be32_get(p + off + 1);
		if (klen > len - off - 9)
			goto bad;
		vlen = ca_be32_get(p + off + 5 + klen);
		if (vlen > len - off - 9 - klen || (kind != OP_PUT &&
		    kind != OP_DEL))
			goto bad;
		if (apply && (rc = apply_one(st, kind, (const char *)p + off + 5,
		    klen, p + off + 9 + klen, vlen)) != 0)
			return rc;
		off += 9 + klen + vlen;
	}
	return 0;
bad:
	st->redo_corrupt = 1;
	return ca_err(CA_ERR_STORE, "%s: corrupt redo record", st->dbpath);
}

/*
 * db/lock's content: MARK_MAGIC, the boot id (Linux's
 * /proc/sys/kernel/random/boot_id) and the number of the last transaction
 * applied in full (8 octets, big-endian). Written after step 3 of every
 * commit, never synced: after a restart the boot id differs.
 */
struct mark {
	char		 magic[8];
	char		 boot[40];
	unsigned char	 seq[8];
};

static char boot_id_buf[40];
static pthread_once_t boot_id_once = PTHREAD_ONCE_INIT;

static void
boot_id_read(void)
{
	FILE *f;

	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) != NULL) {
		if (fgets(boot_id_buf, sizeof(boot_id_buf), f) == NULL)
			boot_id_buf[0] = '\0';
		boot_id_buf[strcspn(boot_id_buf, "\n")] = '\0';
		fclose(f);
	}
}

/* This boot's id, or "" where /proc does not say (read once). */
static const char *
boot_id(void)
{
	pthread_once(&boot_id_once, boot_id_read);
	return boot_id_buf;
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The last transaction db/lock says was applied on this boot, else 0. */
static int
mark_read(struct gstore *st, uint64_t *seq)
{
	struct mark m;

	*seq = 0;
	if (pread(st->lockfd, &m, sizeof(m), 0) != (ssize_t)sizeof(m) ||
	    memcmp(m.magic, MARK_MAGIC, sizeof(m.magic)) != 0 ||
	    boot_id()[0] == '\0' || strncmp(m.boot, boot_id(), sizeof(m.boot)) != 0)
		return 0;
	*seq = get_u64(m.seq);
	return 1;
}

static int
mark_write(struct gstore *st, uint64_t seq)
{
	struct mark m;

	memset(&m, 0, sizeof(m));
	memcpy(m.magic, MARK_MAGIC, sizeof(m.magic));
	snprintf(m.boot, sizeof(m.boot), "%s", boot_id());
	put_u64(m.seq, seq);
	if (pwrite(st->lockfd, &m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return ca_err(CA_ERR_IO, "%s: %s", st->lockpath, strerror(errno));
	return 0;
}

/*
 * The record in slot i: its number and its changes (*v, free it), or
 * *seq 0 when the slot is empty; CA_ERR_STORE for a record too short.
 */
static int
slot_read(struct gstore *st, int i, uint64_t *seq, datum *v)
{
	char key[16];
	datum k;

	*seq = 0;
	snprintf(key, sizeof(key), REDO_SLOT, i);
	k.dptr = key;
	k.dsize = (int)strlen(key);
	*v = gdbm_fetch(st->db, k);
	if (v->dptr == NULL) {
		if (gdbm_last_errno(st->db) == GDBM_ITEM_NOT_FOUND)
			return 0;
		return gdbm_fail(st, "fetch redo record");
	}
	if (v->dsize < 8) {
		free(v->dptr);
		v->dptr = NULL;
		st->redo_corrupt = 1;
		return ca_err(CA_ERR_STORE, "%s: corrupt redo record", st->dbpath);
	}
	*seq = get_u64((unsigned char *)v->dptr);
	return 0;
}

/*
 * Apply the records in both slots again, the older first (each is checked
 * whole before any of it is applied), if db/lock does not say they were:
 * see the protocol at the top. Sets st->seq to the newest record's number.
 */
static int
replay(struct gstore *st)
{
	datum v[2];
	uint64_t seq[2], applied;
	int i, first, rc;

	v[0].dptr = v[1].dptr = NULL;
	if ((rc = slot_read(st, 0, &seq[0], &v[0])) != 0 ||
	    (rc = slot_read(st, 1, &seq[1], &v[1])) != 0)
		goto out;
	st->seq = seq[0] > seq[1] ? seq[0] : seq[1];
	if (st->seq == 0 || (mark_read(st, &applied) && applied == st->seq))
		goto out;
	ca_debug("%s: applying transactions %llu and before again (the last "
	    "writer did not record it applied them)", st->dbpath,
	    (unsigned long long)st->seq);
	st->dirty = 1;
	first = seq[0] < seq[1] ? 0 : 1;
	for (i = 0; i < 2; i++)
		if (v[i].dptr != NULL && (rc = walk_redo(st,
		    (unsigned char *)v[i].dptr + 8, (size_t)v[i].dsize - 8, 0)) != 0)
			goto out;
	/*
	 * Step 2 for the records: the writer may have died before its sync,
	 * and nothing after this (a reader's close) syncs again.
	 */
	if ((rc = do_sync(st)) != 0 ||
	    (rc = mark_write(st, MARK_PENDING)) != 0)
		goto out;
	for (i = 0; i < 2; i++) {
		datum *r = &v[first ^ i];
		if (r->dptr != NULL && (rc = walk_redo(st,
		    (unsigned char *)r->dptr + 8, (size_t)r->dsize - 8, 1)) != 0)
			goto out;
	}
	if ((rc = mark_write(st, st->seq)) == 0)
		st->dirty = 0;
out:
	free(v[0].dptr);
	free(v[1].dptr);
	return rc;
}

/* A redo record of an earlier version (one key, deleted after use). */
static int
recover(struct gstore *st)
{
	datum k, v;
	int rc;

	k.dptr = (char *)(uintptr_t)REDO_KEY;
	k.dsize = (int)strlen(REDO_KEY);
	v = gdbm_fetch(st->db, k);
	if (v.dptr == NULL)
		return 0;
	ca_debug("%s: completing a transaction interrupted by a crash",
	    st->dbpath);
	st->dirty = 1;
	if ((rc = walk_redo(st, (unsigned char *)v.dptr, (size_t)v.dsize,
	    0)) == 0)
		rc = walk_redo(st, (unsigned char *)v.dptr, (size_t)v.dsize, 1);
	free(v.dptr);
	if (rc != 0)
		return rc;
	if ((rc = do_sync(st)) != 0)
		return rc;
	if (gdbm_delete(st->db, k) != 0)
		return gdbm_fail(st, "delete redo record");
	return do_sync(st);
}

/*
 * Close the GDBM handle (between transactions, or at the end).
 *
 * gdbm_close() of a writer syncs the file; GDBM 1.23 writes nothing more
 * there (each change was written as it was made). After a clean commit
 * that sync is not needed: every change not yet synced in place is in a
 * synced redo record, and db/lock tells the next opener whether to apply
 * it again (the protocol at the top). So the descriptor is first replaced
 * by an empty memory file, whose fsync does nothing, and the database is
 * closed without one. A handle left dirty (a commit or a replay that
 * failed half way) is closed with the sync.
 */
static void
db_close(struct gstore *st)
{
	int fd, synced = 1;

	if (st->db == NULL)
		return;
	if (st->dbwrite && !st->dirty &&
	    (fd = memfd_create("ca-store-close", MFD_CLOEXEC)) >= 0) {
		if (dup3(fd, gdbm_fdesc(st->db), O_CLOEXEC) >= 0)
			synced = 0;
		close(fd);
	}
	gdbm_close(st->db);
	if (st->dbwrite && synced)
		st->syncs++;
	st->db = NULL;
	st->dbwrite = 0;
	st->dirty = 0;
}

/*
 * Whether the store holds a transaction that db/lock does not record as
 * applied on this boot (a writer died before step 4, or the machine
 * restarted since): set in *stale.
 */
static int
db_stale(struct gstore *st, int *stale)
{
	datum k, v[2];
	uint64_t seq[2], applied, newest;
	int rc;

	*stale = 0;
	/* Without a boot id every open would look stale: read as it is. */
	if (boot_id()[0] == '\0')
		return 0;
	k.dptr = (char *)(uintptr_t)REDO_KEY;
	k.dsize = (int)strlen(REDO_KEY);
	if (gdbm_exists(st->db, k)) {
		*stale = 1;
		return 0;
	}
	v[0].dptr = v[1].dptr = NULL;
	if ((rc = slot_read(st, 0, &seq[0], &v[0])) == 0 &&
	    (rc = slot_read(st, 1, &seq[1], &v[1])) == 0) {
		newest = seq[0] > seq[1] ? seq[0] : seq[1];
		*stale = newest != 0 &&
		    !(mark_read(st, &applied) && applied == newest);
	}
	free(v[0].dptr);
	free(v[1].dptr);
	return rc;
}

/*
 * Whether the open handle may serve the next transaction: nobody wrote
 * since our last one (db/lock and the file are as we left them).
 */
static int
db_fresh(struct gstore *st, int write)
{
	struct stat sb;
	uint64_t applied;

	/* A forked child does not share the parent's file offset. */
	if (st->db == NULL || (write && !st->dbwrite) || st->pid != self())
		return 0;
	if (!mark_read(st, &applied) || applied != st->seq)
		return 0;
	if (stat(st->dbpath, &sb) != 0 || sb.st_ino != st->dbst.st_ino ||
	    sb.st_dev != st->dbst.st_dev || sb.st_size != st->dbst.st_size ||
	    sb.st_mtim.tv_sec != st->dbst.st_mtim.tv_sec ||
	    sb.st_mtim.tv_nsec != st->dbst.st_mtim.tv_nsec)
		return 0;
	return 1;
}

/* Remember the file as this handle leaves it. */
static void
db_remember(struct gstore *st)
{
	if (st->db == NULL || fstat(gdbm_fdesc(st->db), &st->dbst) != 0)
		db_close(st);
}

/*
 * Begin a transaction, taking db/lock by deadline; a reader that finds a
 * transaction not recorded as applied completes it first when complete
 * is set.
 */
static int
begin_tx(struct gstore *st, int write, int complete, int64_t deadline)
{
	struct stat sb;
	uint64_t applied;
	size_t cache;
	int rc, flags, opened = 0, stale = 0;

	if (st->intx)
		return ca_err(CA_ERR_STORE, "transaction already open");
	if ((rc = take_lock(st, write, deadline)) != 0)
		return rc;
	if (st->db != NULL && !db_fresh(st, write))
		db_close(st);
	if (st->db == NULL) {
		/* GDBM_XVERIFY: the free-space lists are checked at open too. */
		flags = GDBM_NOLOCK | GDBM_NOMMAP | GDBM_CLOEXEC | GDBM_XVERIFY |
		    (write ? GDBM_WRCREAT : GDBM_READER);
		st->db = gdbm_open(st->dbpath, 0, flags, 0600, NULL);
		if (st->db == NULL) {
			if (!write && gdbm_errno == GDBM_FILE_OPEN_ERROR &&
			    errno == ENOENT) {
				/* Nothing written yet: an empty store. */
				st->writing = 0;
				st->intx = 1;
				return 0;
			}
			rc = gdbm_fail(st, "open");
			flock(st->lockfd, LOCK_UN);
			return rc;
		}
		/*
		 * The handle lives as long as the process: a bounded bucket
		 * cache keeps its memory from growing with the database
		 * (GDBM's default grows the cache with the directory).
		 */
		cache = 64;
		(void)gdbm_setopt(st->db, GDBM_SETCACHESIZE, &cache,
		    sizeof(cache));
		st->dbwrite = write;
		st->dirty = 0;
		st->pid = self();
		st->opens++;
		opened = 1;
		/* A reader learns the newest number when it is fresh again. */
		st->seq = mark_read(st, &applied) && applied != MARK_PENDING ?
		    applied : 0;
	}
	st->intx = 1;
	st->writing = write;
	/*
	 * A handle reused (db_fresh: nobody wrote since its last transaction)
	 * has nothing to complete, and the file is as it left it: a reader
	 * reads on without looking at the header again, a writer reads it
	 * for the bound on this transaction's growth.
	 */
	st->remember = opened || write;
	if (((opened || write) && (rc = check_head(st)) != 0) ||
	    (write && opened && ((rc = recover(st)) != 0 ||
	    (rc = replay(st)) != 0)) ||
	    (!write && opened && complete &&
	    (rc = db_stale(st, &stale)) != 0)) {
		g_abort(st);
		db_close(st);
		return rc;
	}
	if (stale) {
		/* Complete it as a writer first (the lock is let go meanwhile). */
		g_abort(st);
		db_close(st);
		st->redo_corrupt = 0;
		if ((rc = begin_tx(st, 1, 0, deadline)) == 0)
			g_abort(st);
		else if (st->redo_corrupt)
			/*
			 * A record torn by a crash before its sync: nothing of
			 * it was applied, the store as it is holds every
			 * committed transaction. Writers refuse it until it is
			 * repaired; readers read, and ca-db check reports it.
			 */
			ca_warn("%s", ca_errmsg());
		else
			return rc;
		return begin_tx(st, 0, 0, deadline);
	}
	/* What a recovery wrote is not this transaction's growth. */
	if (write && opened && fstat(gdbm_fdesc(st->db), &sb) == 0)
		st->size0 = sb.st_size;
	return 0;
}

static int
g_begin(void *impl, int write)
{
	struct gstore *st = impl;

	return begin_tx(st, write, 1, now_ms() + st->timeout_ms);
}

static struct op *
find_op(struct gstore *st, const char *key)
{
	size_t i;

	for (i = st->nops; i > 0; i--)
		if (strcmp(st->ops[i - 1].key, key) == 0)
			return &st->ops[i - 1];
	return NULL;
}

static int
g_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	struct gstore *st = impl;
	struct op *op;
	datum k, v;

	if (val != NULL)
		*val = NULL;
	if (len != NULL)
		*len = 0;
	if ((op = find_op(st, key)) != NULL) {
		if (op->kind == OP_DEL)
			return CA_ERR_NOTFOUND;
		if (val != NULL) {
			if ((*val = malloc(op->len + 1)) == NULL)
				return ca_err(CA_ERR_NOMEM, "out of memory");
			memcpy(*val, op->val, op->len);
			(*val)[op->len] = '\0';
		}
		if (len != NULL)
			*len = op->len;
		return 0;
	}
	if (st->db == NULL)
		return CA_ERR_NOTFOUND;
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)strlen(key);
	if (val == NULL) {
		/* gdbm_exists answers 0 for "absent" and for "could not
		 * read": only the error code tells them apart. */
		gdbm_clear_error(st->db);
		if (gdbm_exists(st->db, k))
			return 0;
		if (gdbm_last_errno(st->db) == GDBM_NO_ERROR ||
		    gdbm_last_errno(st->db) == GDBM_ITEM_NOT_FOUND)
			return CA_ERR_NOTFOUND;
		return gdbm_fail(st, "lookup");
	}
	v = gdbm_fetch(st->db, k);
	if (v.dptr == NULL) {
		if (gdbm_last_errno(st->db) == GDBM_ITEM_NOT_FOUND)
			return CA_ERR_NOTFOUND;
		return gdbm_fail(st, "fetch");
	}
	if ((*val = malloc((size_t)v.dsize + 1)) == NULL) {
		free(v.dptr);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	memcpy(*val, v.dptr, (size_t)v.dsize);
	(*val)[v.dsize] = '\0';
	if (len != NULL)
		*len = (size_t)v.dsize;
	free(v.dptr);
	return 0;
}

static int
queue(struct gstore *st, enum op_kind kind, const char *key,
    const void *val, size_t len)
{
	struct op *nops, *op;

	if (!st->writing)
		return ca_err(CA_ERR_STORE, "store change outside a write transaction");
	if (strlen(key) > 1024 || len > (1u << 30))
		return ca_err(CA_ERR_INVAL, "store record too large");
	if (st->nops == st->capops) {
		size_t ncap = st->capops ? st->capops * 2 : 8;
		if ((nops = reallocarray(st->ops, ncap, sizeof(*nops))) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		st->ops = nops;
		st->capops = ncap;
	}
	op = &st->ops[st->nops];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	if ((op->key = strdup(key)) == NULL ||
	    (op->val = malloc(len ? len : 1)) == NULL) {
		free(op->key);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	if (len)
		memcpy(op->val, val, len);
	op->len = len;
	st->nops++;
	return 0;
}

static int
g_put(void *impl, const char *key, const void *val, size_t len, int insert)
{
	struct gstore *st = impl;
	int rc;

	if (insert) {
		rc = g_get(st, key, NULL, NULL);
		if (rc == 0)
			return CA_ERR_EXISTS;
		if (rc != CA_ERR_NOTFOUND)
			return rc;
	}
	return queue(st, OP_PUT, key, val, len);
}

static int
g_del(void *impl, const char *key)
{
	struct gstore *st = impl;

	return queue(st, OP_DEL, key, NULL, 0);
}

static int
write_redo(struct gstore *st, uint64_t seq)
{
	unsigned char *buf, *p;
	size_t total = 0, i, klen;
	datum k, v;
	int rc = 0;

	char key[16];

	total = 8;
	for (i = 0; i < st->nops; i++)
		total += 9 + strlen(st->ops[i].key) + st->ops[i].len;
	if ((buf = malloc(total)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	put_u64(buf, seq);
	for (p = buf + 8, i = 0; i < st->nops; i++) {
		klen = strlen(st->ops[i].key);
		*p = (unsigned char)st->ops[i].kind;
		ca_be32_put(p + 1, (uint32_t)klen);
		memcpy(p + 5, st->ops[i].key, klen);
		ca_be32_put(p + 5 + klen, (uint32_t)st->ops[i].len);
		memcpy(p + 9 + klen, st->ops[i].val, st->ops[i].len);
		p += 9 + klen + st->ops[i].len;
	}
	snprintf(key, sizeof(key), REDO_SLOT, (int)(seq & 1));
	k.dptr = key;
	k.dsize = (int)strlen(key);
	v.dptr = (char *)buf;
	v.dsize = (int)total;
	if (gdbm_store(st->db, k, v, GDBM_REPLACE) != 0)
		rc = gdbm_fail(st, "store redo record");
	free(buf);
	return rc;
}

static int
g_commit(void *impl)
{
	struct gstore *st = impl;
	size_t i, written = 0;
	uint64_t seq = st->seq + 1;
	int rc = 0;

	if (!st->intx) {
		free_ops(st);
		return ca_err(CA_ERR_STORE, "no open transaction");
	}
	if (st->db == NULL || st->nops == 0) {
		/* A read, or a write that changed nothing. */
		free_ops(st);
		if (st->remember)
			db_remember(st);
		st->intx = st->writing = 0;
		flock(st->lockfd, LOCK_UN);
		return 0;
	}
	/* Steps 1 to 4 of the protocol at the top. */
	st->dirty = 1;
	for (i = 0; i < st->nops; i++)
		written += 9 + strlen(st->ops[i].key) + st->ops[i].len;
	if ((rc = mark_write(st, MARK_PENDING)) != 0 ||
	    (rc = write_redo(st, seq)) != 0 ||
	    (rc = check_growth(st, written)) != 0 ||
	    (rc = do_sync(st)) != 0)
		goto fail;
	st->seq = seq;
	for (i = 0; i < st->nops; i++) {
		rc = apply_one(st, (int)st->ops[i].kind, st->ops[i].key,
		    strlen(st->ops[i].key), st->ops[i].val, st->ops[i].len);
		if (rc != 0)
			goto fail;
	}
	if ((rc = check_growth(st, 2 * written)) != 0 ||
	    (rc = mark_write(st, seq)) != 0)
		goto fail;
	st->dirty = 0;
	st->commits++;
	free_ops(st);
	db_remember(st);
	st->intx = st->writing = 0;
	flock(st->lockfd, LOCK_UN);
	return 0;
fail:
	/* The next writer reopens the file and completes or drops it. */
	free_ops(st);
	db_close(st);
	st->intx = st->writing = 0;
	flock(st->lockfd, LOCK_UN);
	return rc;
}

static void
g_abort(void *impl)
{
	struct gstore *st = impl;

	free_ops(st);
	if (st->intx && st->remember)
		db_remember(st);
	st->intx = st->writing = 0;
	flock(st->lockfd, LOCK_UN);
}

static int
g_foreach(void *impl, const char *prefix,
    int (*fn)(void *, const char *, const unsigned char *, size_t), void *arg)
{
	struct gstore *st = impl;
	size_t plen = strlen(prefix);
	datum k, next, v;
	char *key;
	int rc = 0;

	if (st->db == NULL)
		return 0;
	k = gdbm_firstkey(st->db);
	while (k.dptr != NULL) {
		/* The backend's own records ("!redo") only when asked for. */
		if ((size_t)k.dsize >= plen && memcmp(k.dptr, prefix, plen) == 0 &&
		    (plen > 0 || k.dsize == 0 || k.dptr[0] != '!')) {
			if ((key = malloc((size_t)k.dsize + 1)) == NULL) {
				free(k.dptr);
				return ca_err(CA_ERR_NOMEM, "out of memory");
			}
			memcpy(key, k.dptr, (size_t)k.dsize);
			key[k.dsize] = '\0';
			v = gdbm_fetch(st->db, k);
			if (v.dptr == NULL)
				rc = gdbm_fail(st, "fetch");
			else
				rc = fn(arg, key, (unsigned char *)v.dptr,
				    (size_t)v.dsize);
			free(v.dptr);
			free(key);
			if (rc != 0) {
				free(k.dptr);
				return rc;
			}
		}
		next = gdbm_nextkey(st->db, k);
		free(k.dptr);
		k = next;
	}
	if (gdbm_last_errno(st->db) != GDBM_ITEM_NOT_FOUND &&
	    gdbm_last_errno(st->db) != GDBM_NO_ERROR)
		return gdbm_fail(st, "iterate");
	return 0;
}

static int
g_verify(void *impl)
{
	struct gstore *st = impl;

	/* The header was checked against the file by g_begin. */
	if (st->db != NULL && gdbm_avail_verify(st->db) != 0)
		return ca_err(CA_ERR_STORE, "database damaged: free space "
		    "list: %s", gdbm_db_strerror(st->db));
	return 0;
}

static void
g_stats(const void *impl, struct ca_store_stats *out)
{
	const struct gstore *st = impl;

	out->commits = st->commits;
	out->syncs = st->syncs;
	out->opens = st->opens;
}

static size_t
g_savepoint(void *impl)
{
	struct gstore *st = impl;

	return st->nops;
}

static void
g_rollback(void *impl, size_t mark)
{
	struct gstore *st = impl;
	size_t i;

	for (i = mark; i < st->nops; i++) {
		free(st->ops[i].key);
		free(st->ops[i].val);
	}
	if (mark < st->nops)
		st->nops = mark;
}

/* Whether the store holds what one change of a redo record says. */
static int
holds(struct gstore *st, int kind, const char *key, size_t klen,
    const unsigned char *val, size_t vlen)
{
	datum k, v;
	int same;

	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)klen;
	v = gdbm_fetch(st->db, k);
	if (kind == OP_DEL)
		same = v.dptr == NULL;
	else
		same = v.dptr != NULL && (size_t)v.dsize == vlen &&
		    memcmp(v.dptr, val, vlen) == 0;
	free(v.dptr);
	return same;
}

static int
g_interrupted(void *impl)
{
	struct gstore *st = impl;
	uint64_t seq[2], applied;
	size_t off, len, klen, vlen;
	const unsigned char *p;
	datum k, v[2];
	int newest, ret = 0;

	if (st->db == NULL)
		return 0;
	k.dptr = (char *)(uintptr_t)REDO_KEY;
	k.dsize = (int)strlen(REDO_KEY);
	if (gdbm_exists(st->db, k))
		return 1;
	v[0].dptr = v[1].dptr = NULL;
	if (slot_read(st, 0, &seq[0], &v[0]) != 0 ||
	    slot_read(st, 1, &seq[1], &v[1]) != 0) {
		ret = 1;
		goto out;
	}
	newest = seq[1] > seq[0];
	if (seq[newest] == 0 ||
	    (mark_read(st, &applied) && applied == seq[newest]))
		goto out;
	/*
	 * Not recorded as applied on this boot (a restart, or a writer died):
	 * interrupted unless the store holds every change of the newest.
	 */
	if (walk_redo(st, (unsigned char *)v[newest].dptr + 8,
	    (size_t)v[newest].dsize - 8, 0) != 0) {
		ret = 1;
		goto out;
	}
	p = (unsigned char *)v[newest].dptr + 8;
	len = (size_t)v[newest].dsize - 8;
	for (off = 0; off < len && ret == 0; off += 9 + klen + vlen) {
		klen = ca_be32_get(p + off + 1);
		vlen = ca_be32_get(p + off + 5 + klen);
		if (!holds(st, p[off], (const char *)p + off + 5, klen,
		    p + off + 9 + klen, vlen))
			ret = 1;
	}
out:
	ca_err_clear();
	free(v[0].dptr);
	free(v[1].dptr);
	return ret;
}

const struct ca_store_backend ca_store_gdbm = {
	.name = "gdbm",
	.open = g_open,
	.close = g_close,
	.begin = g_begin,
	.get = g_get,
	.put = g_put,
	.del = g_del,
	.savepoint = g_savepoint,
	.rollback = g_rollback,
	.commit = g_commit,
	.abort = g_abort,
	.foreach = g_foreach,
	.verify = g_verify,
	.interrupted = g_interrupted,
	.stats = g_stats,
};

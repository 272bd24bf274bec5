/*
 * test-store.c - unit tests of lib/store.c (transactions, locking, redo
 * recovery) and lib/db.c (issuance records, listing, the audit).
 * A crash is simulated by writing the redo record with GDBM directly.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gdbm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "conf.h"
#include "db.h"
#include "keys.h"
#include "store.h"
#include "x509.h"
#include "tap.h"

#define T0	((time_t)1767323045)

static int ndirs;

static _Noreturn void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, ca_errmsg());
	exit(1);
}

/* A new empty directory under the temporary one (static buffer). */
static const char *
new_dir(void)
{
	static char buf[4200];

	snprintf(buf, sizeof(buf), "%s/db%d", tmpdir, ++ndirs);
	if (mkdir(buf, 0700) != 0)
		bail("mkdir");
	return buf;
}

static int
exists(const char *dir, const char *name)
{
	char p[4300];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct ca_store *
open_store(const char *dir, unsigned timeout_ms)
{
	struct ca_store *st;

	if (ca_store_open(dir, timeout_ms, &st) != 0)
		bail("ca_store_open");
	return st;
}

/* The value of key in a read transaction, or NULL (caller frees). */
static char *
read_key(struct ca_store *st, const char *key)
{
	unsigned char *v = NULL;
	size_t len;

	if (ca_store_begin(st, 0) != 0)
		return NULL;
	if (ca_store_get(st, key, &v, &len) != 0)
		v = NULL;
	ca_store_commit(st);
	return (char *)v;
}

/* Write a raw record into dir's database with GDBM, as a crash leaves it. */
static void
gdbm_put_raw(const char *dir, const char *key, const void *val, size_t len)
{
	char p[4300];
	GDBM_FILE db;
	datum k, v;

	snprintf(p, sizeof(p), "%s/ca.gdbm", dir);
	db = gdbm_open(p, 0, GDBM_WRITER | GDBM_NOLOCK, 0600, NULL);
	if (db == NULL)
		bail("gdbm_open");
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)strlen(key);
	v.dptr = (char *)(uintptr_t)val;
	v.dsize = (int)len;
	if (gdbm_store(db, k, v, GDBM_REPLACE) != 0 || gdbm_close(db) != 0)
		bail("gdbm_store");
}

/* Whether dir's database holds key, read with GDBM directly. */
static int
gdbm_has_raw(const char *dir, const char *key)
{
	char p[4300];
	GDBM_FILE db;
	datum k;
	int has;

	snprintf(p, sizeof(p), "%s/ca.gdbm", dir);
	db = gdbm_open(p, 0, GDBM_READER | GDBM_NOLOCK, 0600, NULL);
	if (db == NULL)
		bail("gdbm_open");
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)strlen(key);
	has = gdbm_exists(db, k);
	gdbm_close(db);
	return has;
}

/* Append one redo entry: kind(1) keylen(4 BE) key vallen(4 BE) val. */
static size_t
redo_add(unsigned char *buf, size_t off, int kind, const char *key,
    const char *val, size_t vlen)
{
	size_t klen = strlen(key);

	buf[off] = (unsigned char)kind;
	buf[off + 1] = (unsigned char)(klen >> 24);
	buf[off + 2] = (unsigned char)(klen >> 16);
	buf[off + 3] = (unsigned char)(klen >> 8);
	buf[off + 4] = (unsigned char)klen;
	memcpy(buf + off + 5, key, klen);
	off += 5 + klen;
	buf[off] = (unsigned char)(vlen >> 24);
	buf[off + 1] = (unsigned char)(vlen >> 16);
	buf[off + 2] = (unsigned char)(vlen >> 8);
	buf[off + 3] = (unsigned char)vlen;
	if (vlen > 0)
		memcpy(buf + off + 4, val, vlen);
	return off + 4 + vlen;
}

struct seen {
	char	 keys[16][64];
	char	 vals[16][64];
	int	 n;
	int	 stop_at;
};

static int
collect(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		snprintf(s->vals[s->n], sizeof(s->vals[0]), "%.*s", (int)len,
		    (const char *)val);
	}
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static int
seen_has(const struct seen *s, const char *key, const char *val)
{
	int i;

	for (i = 0; i < s->n && i < 16; i++)
		if (strcmp(s->keys[i], key) == 0 &&
		    strcmp(s->vals[i], val) == 0)
			return 1;
	return 0;
}

static void
test_open(void)
{
	struct ca_store *st = NULL;
	const char *dir = new_dir();
	char missing[4300];
	unsigned char *v;
	struct seen s;
	size_t len;
	int rc;

	rc = ca_store_open(dir, 1000, &st);
	ok(rc == 0 && st != NULL, "store opened");
	ok(exists(dir, "lock"), "lock file created");
	ok(!exists(dir, "ca.gdbm"), "database not created by open");
	is_int(ca_store_syncs(st), 0, "no syncs yet");

	rc = ca_store_begin(st, 0);
	is_int(rc, 0, "read transaction on an empty store");
	v = (unsigned char *)missing;
	rc = ca_store_get(st, "a", &v, &len);
	ok(rc == CA_ERR_NOTFOUND && v == NULL && len == 0,
	    "get in an empty store: CA_ERR_NOTFOUND");
	memset(&s, 0, sizeof(s));
	rc = ca_store_foreach(st, "", collect, &s);
	ok(rc == 0 && s.n == 0, "foreach in an empty store visits nothing");
	is_int(ca_store_put(st, "a", "1", 1, 0), CA_ERR_STORE,
	    "put in a read transaction refused");
	is_int(ca_store_del(st, "a"), CA_ERR_STORE,
	    "del in a read transaction refused");
	is_int(ca_store_commit(st), 0, "commit of a read transaction");
	ok(!exists(dir, "ca.gdbm"), "database not created by reading");

	rc = ca_store_begin(st, 1);
	is_int(rc, 0, "write transaction");
	ok(exists(dir, "ca.gdbm"), "database created by the first write");
	is_int(ca_store_begin(st, 0), CA_ERR_STORE,
	    "a second begin on the same handle refused");
	is_int(ca_store_commit(st), 0, "empty write commit");
	is_int(ca_store_syncs(st), 0, "empty commit does not sync");
	ca_store_close(st);
	ca_store_close(NULL);

	snprintf(missing, sizeof(missing), "%s/no/such", tmpdir);
	st = (struct ca_store *)(void *)missing;
	rc = ca_store_open(missing, 100, &st);
	ok(rc == CA_ERR_CONFIG && st == NULL,
	    "open in a missing directory: CA_ERR_CONFIG");
	ok(access(missing, F_OK) != 0, "missing directory not created");
}

static void
test_transactions(void)
{
	struct ca_store *st = open_store(new_dir(), 1000);
	unsigned char *v;
	unsigned long s0;
	struct seen s;
	size_t len;
	char *r;
	int rc;

	s0 = ca_store_syncs(st);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_put(st, "a", "1", 1, 0), 0, "put a");
	is_int(ca_store_put(st, "b", "two", 3, 1), 0, "insert b");
	rc = ca_store_get(st, "a", &v, &len);
	ok(rc == 0 && len == 1 && memcmp(v, "1", 2) == 0,
	    "get sees a queued put");
	free(v);
	is_int(ca_store_get(st, "b", NULL, NULL), 0,
	    "existence test of a queued put");
	is_int(ca_store_put(st, "b", "x", 1, 1), CA_ERR_EXISTS,
	    "insert of a key queued in this transaction: CA_ERR_EXISTS");
	is_int(ca_store_commit(st), 0, "commit of two puts");
	is_int(ca_store_syncs(st) - s0, 1,
	    "two changes: one sync (the redo record, the commit point)");

	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	rc = ca_store_get(st, "a", &v, &len);
	ok(rc == 0 && len == 1 && v[0] == '1' && v[1] == '\0',
	    "committed value read back, NUL-terminated");
	free(v);
	rc = ca_store_get(st, "b", &v, NULL);
	ok(rc == 0 && strcmp((char *)v, "two") == 0, "second value read back");
	free(v);
	is_int(ca_store_get(st, "!redo", NULL, NULL), CA_ERR_NOTFOUND,
	    "no redo record left after commit");
	ca_store_commit(st);

	/* Insert against stored keys; abort drops everything queued. */
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_put(st, "a", "x", 1, 1), CA_ERR_EXISTS,
	    "insert of a stored key: CA_ERR_EXISTS");
	is_int(ca_store_put(st, "a", "new", 3, 0), 0,
	    "replace of a stored key");
	rc = ca_store_get(st, "a", &v, &len);
	ok(rc == 0 && len == 3 && strcmp((char *)v, "new") == 0,
	    "get sees the latest queued value");
	free(v);
	is_int(ca_store_del(st, "b"), 0, "del b");
	is_int(ca_store_get(st, "b", NULL, NULL), CA_ERR_NOTFOUND,
	    "get sees a queued del");
	is_int(ca_store_put(st, "b", "again", 5, 1), 0,
	    "insert after a queued del");
	is_int(ca_store_put(st, "c", "3", 1, 1), 0, "insert c");
	s0 = ca_store_syncs(st);
	ca_store_abort(st);
	is_int(ca_store_syncs(st) - s0, 0, "abort does not sync");
	r = read_key(st, "a");
	is_str(r, "1", "abort: a unchanged");
	free(r);
	r = read_key(st, "b");
	is_str(r, "two", "abort: b unchanged");
	free(r);
	r = read_key(st, "c");
	ok(r == NULL, "abort: c not added");
	free(r);

	/* One change: one sync. */
	s0 = ca_store_syncs(st);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_del(st, "a");
	is_int(ca_store_commit(st), 0, "commit of one del");
	is_int(ca_store_syncs(st) - s0, 1, "one change: one sync");
	r = read_key(st, "a");
	ok(r == NULL, "deleted key gone");
	free(r);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_del(st, "never-there");
	is_int(ca_store_commit(st), 0, "del of an absent key commits");

	/* Binary values, empty values. */
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_put(st, "bin", "a\0b", 3, 0);
	ca_store_put(st, "empty", "", 0, 0);
	ca_store_commit(st);
	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	rc = ca_store_get(st, "bin", &v, &len);
	ok(rc == 0 && len == 3 && memcmp(v, "a\0b", 4) == 0,
	    "binary value kept");
	free(v);
	rc = ca_store_get(st, "empty", &v, &len);
	ok(rc == 0 && len == 0 && v != NULL && v[0] == '\0',
	    "empty value kept");
	free(v);
	ca_store_commit(st);

	/* foreach and prefixes. */
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_put(st, "p/1", "v1", 2, 0);
	ca_store_put(st, "p/2", "v2", 2, 0);
	ca_store_put(st, "p/3", "v3", 2, 0);
	ca_store_put(st, "p", "top", 3, 0);
	ca_store_put(st, "pp/1", "other", 5, 0);
	ca_store_put(st, "q/1", "q", 1, 0);
	ca_store_commit(st);
	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	memset(&s, 0, sizeof(s));
	rc = ca_store_foreach(st, "p/", collect, &s);
	ok(rc == 0 && s.n == 3 && seen_has(&s, "p/1", "v1") &&
	    seen_has(&s, "p/2", "v2") && seen_has(&s, "p/3", "v3"),
	    "foreach p/ visits exactly p/1, p/2, p/3 with their values (%d)",
	    s.n);
	memset(&s, 0, sizeof(s));
	rc = ca_store_foreach(st, "", collect, &s);
	ok(rc == 0 && s.n == 9 && seen_has(&s, "b", "two") &&
	    seen_has(&s, "pp/1", "other"),
	    "foreach \"\" visits all 9 keys (%d)", s.n);
	memset(&s, 0, sizeof(s));
	rc = ca_store_foreach(st, "zz", collect, &s);
	ok(rc == 0 && s.n == 0, "foreach of an unused prefix visits nothing");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	rc = ca_store_foreach(st, "p/", collect, &s);
	ok(rc == 7 && s.n == 2,
	    "a non-zero return stops foreach and is returned");
	ca_store_commit(st);
	ca_store_close(st);
}

static void
test_locking(void)
{
	const char *dir = new_dir();
	struct ca_store *st = open_store(dir, 200), *st2 = open_store(dir, 200);
	char lock[4300];
	int64_t t;
	int fd, rc;

	snprintf(lock, sizeof(lock), "%s/lock", dir);
	if ((fd = open(lock, O_RDWR)) < 0 || flock(fd, LOCK_EX) != 0)
		bail("flock");

	ca_err_clear();
	t = now_ms();
	rc = ca_store_begin(st, 1);
	t = now_ms() - t;
	is_int(rc, CA_ERR_TEMP, "write begin under another's exclusive lock: "
	    "CA_ERR_TEMP");
	ok(t >= 150 && t <= 2000, "gave up after about the timeout (%lld ms)",
	    (long long)t);
	ok(strstr(ca_errmsg(), "200 ms") != NULL,
	    "message gives the timeout (%s)",
	    ca_errmsg());
	is_int(ca_exit_status(rc), CA_EXIT_TEMP, "exit status 4");
	is_int(ca_store_begin(st, 0), CA_ERR_TEMP,
	    "read begin under an exclusive lock: CA_ERR_TEMP");

	flock(fd, LOCK_SH);
	is_int(ca_store_begin(st, 0), 0, "read begin under a shared lock");
	is_int(ca_store_begin(st2, 0), 0, "two readers at once");
	ca_store_commit(st2);
	ca_store_commit(st);
	t = now_ms();
	rc = ca_store_begin(st, 1);
	t = now_ms() - t;
	ok(rc == CA_ERR_TEMP && t >= 150,
	    "write begin under a shared lock: CA_ERR_TEMP after the timeout");

	flock(fd, LOCK_UN);
	is_int(ca_store_begin(st, 1), 0, "write begin once the lock is free");
	ca_store_put(st, "k", "v", 1, 0);
	is_int(ca_store_begin(st2, 0), CA_ERR_TEMP,
	    "reader waits out a writer's transaction: CA_ERR_TEMP");
	ok(flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK,
	    "the writer holds an exclusive flock on dir/lock");
	is_int(ca_store_commit(st), 0, "commit releases the lock");
	is_int(ca_store_begin(st2, 1), 0, "another handle writes after commit");
	ca_store_abort(st2);
	ok(flock(fd, LOCK_EX | LOCK_NB) == 0, "abort releases the lock");
	flock(fd, LOCK_UN);
	close(fd);
	ca_store_close(st);
	ca_store_close(st2);
}

static void
test_redo(void)
{
	const char *dir;
	struct ca_store *st, *other;
	unsigned char buf[256];
	unsigned long s0;
	size_t n;
	char *r;
	int rc;

	/* A crash after the redo record was synced, before it was applied. */
	dir = new_dir();
	st = open_store(dir, 1000);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_put(st, "seed", "s", 1, 0);
	ca_store_put(st, "k1", "old", 3, 0);
	ca_store_commit(st);
	n = redo_add(buf, 0, 1, "k1", "v1", 2);
	n = redo_add(buf, n, 1, "k2", "", 0);
	n = redo_add(buf, n, 1, "x509_certs/ab", "der\0der", 7);
	n = redo_add(buf, n, 2, "seed", NULL, 0);
	n = redo_add(buf, n, 2, "never-there", NULL, 0);
	gdbm_put_raw(dir, "!redo", buf, n);

	/* The handle reopens the file: another process wrote it. */
	s0 = ca_store_syncs(st);
	r = read_key(st, "k1");
	is_str(r, "v1", "a reader completes the redo record before it reads");
	free(r);
	is_int(ca_store_syncs(st) - s0, 2, "recovery synced twice");
	rc = ca_store_begin(st, 1);
	is_int(rc, 0, "write begin after the recovery succeeds");
	is_int(ca_store_syncs(st) - s0, 2, "and does not recover again");
	is_int(ca_store_get(st, "!redo", NULL, NULL), CA_ERR_NOTFOUND,
	    "redo record gone inside the transaction");
	is_int(ca_store_commit(st), 0, "commit after recovery");
	r = read_key(st, "k1");
	is_str(r, "v1", "redo put replaced k1");
	free(r);
	r = read_key(st, "k2");
	is_str(r, "", "redo put of an empty value");
	free(r);
	if (ca_store_begin(st, 0) == 0) {
		unsigned char *v = NULL;
		size_t len = 0;
		rc = ca_store_get(st, "x509_certs/ab", &v, &len);
		ok(rc == 0 && len == 7 && memcmp(v, "der\0der", 7) == 0,
		    "redo put of a binary value");
		free(v);
		is_int(ca_store_get(st, "seed", NULL, NULL), CA_ERR_NOTFOUND,
		    "redo del applied");
		is_int(ca_store_get(st, "!redo", NULL, NULL), CA_ERR_NOTFOUND,
		    "redo record deleted");
		ca_store_commit(st);
	}
	ca_store_close(st);

	/* A redo record into a database that has only it. */
	dir = new_dir();
	st = open_store(dir, 1000);
	ca_store_begin(st, 1);
	ca_store_commit(st);
	n = redo_add(buf, 0, 1, "a", "1", 1);
	n = redo_add(buf, n, 1, "b", "2", 1);
	gdbm_put_raw(dir, "!redo", buf, n);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_put(st, "a", "x", 1, 1), CA_ERR_EXISTS,
	    "a key from the redo record is there for insert");
	ca_store_abort(st);
	r = read_key(st, "b");
	is_str(r, "2", "recovery is kept even when the transaction aborts");
	free(r);
	ca_store_close(st);

	/* Corrupt records: truncated value, truncated header, unknown kind. */
	dir = new_dir();
	st = open_store(dir, 1000);
	ca_store_begin(st, 1);
	ca_store_put(st, "keep", "k", 1, 0);
	ca_store_commit(st);
	n = redo_add(buf, 0, 1, "p1", "v", 1);
	n = redo_add(buf, n, 1, "p2", "0123456789", 10);
	gdbm_put_raw(dir, "!redo", buf, n - 4);
	ca_err_clear();
	rc = ca_store_begin(st, 1);
	is_int(rc, CA_ERR_STORE, "truncated redo record: CA_ERR_STORE");
	ok(strstr(ca_errmsg(), "corrupt redo record") != NULL,
	    "message says the redo record is corrupt (%s)", ca_errmsg());
	is_int(ca_store_put(st, "x", "y", 1, 0), CA_ERR_STORE,
	    "no write transaction after the failure");
	/* Another handle: flock on the same one would succeed even if the
	 * failed begin had kept the lock. */
	other = open_store(dir, 200);
	rc = ca_store_begin(other, 1);
	is_int(rc, CA_ERR_STORE, "lock released after the failed begin; "
	    "every writer refuses the corrupt record");
	/* A record torn before its sync: nothing of it was applied, so a
	 * reader reads the store as it is (and ca-db check reports it). */
	rc = ca_store_begin(other, 0);
	is_int(rc, 0, "a reader reads past a corrupt record");
	if (rc == 0) {
		is_int(ca_store_interrupted(other), 1,
		    "and reports an interrupted transaction");
		is_int(ca_store_get(other, "keep", NULL, NULL), 0,
		    "other records untouched");
		ca_store_abort(other);
	}
	ca_store_close(other);
	ok(gdbm_has_raw(dir, "!redo"), "corrupt redo record left for "
	    "inspection");
	ok(!gdbm_has_raw(dir, "p1"),
	    "valid prefix of a corrupt redo record not applied");
	ca_store_close(st);
}

/* Everything db tests share. */
static gnutls_privkey_t ca_key, other_key, leaf_key;
static gnutls_x509_crt_t ca_crt, other_crt;
static struct ca_issuer iss, other_iss;
static char prov_name[] = "admin", prov_type[] = "JWK", prov_kid[] = "kid1";
static struct ca_provisioner prov;

struct leaf {
	char		 serial[64];
	gnutls_datum_t	 der;
	time_t		 nb, na;
};
static struct leaf leaf_a, leaf_b, leaf_c;

static gnutls_privkey_t
new_key(void)
{
	gnutls_x509_privkey_t x;
	gnutls_privkey_t k;

	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &k) != 0)
		bail("key");
	return k;
}

static void
make_leaf(const struct ca_issuer *is, const char *cn, const char *name,
    time_t nb, struct leaf *out)
{
	const char *v[1] = { name };
	struct ca_names nm;
	struct ca_leaf leaf;
	gnutls_pubkey_t pub;
	gnutls_x509_crt_t crt;
	unsigned char serial[CA_SERIAL_MAX];
	size_t slen;
	char *hex;

	if (ca_names_classify(v, 1, &nm) != 0 || gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, leaf_key, 0, 0) < 0)
		bail("leaf setup");
	memset(&leaf, 0, sizeof(leaf));
	leaf.cn = cn;
	leaf.names = &nm;
	leaf.pub = pub;
	leaf.not_before = nb;
	leaf.not_after = nb + 86400;
	if (ca_x509_issue(is, &leaf, &crt, serial, &slen) != 0 ||
	    ca_x509_export(crt, GNUTLS_X509_FMT_DER, &out->der) != 0 ||
	    (hex = ca_hex(serial, slen)) == NULL)
		bail("issue");
	snprintf(out->serial, sizeof(out->serial), "%s", hex);
	out->nb = nb;
	out->na = nb + 86400;
	free(hex);
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	ca_names_free(&nm);
}

/*
 * crt as the tools have it, loaded from its DER (GnuTLS fills some caches,
 * the raw subject among them, only on import).
 */
static gnutls_x509_crt_t
reimport(gnutls_x509_crt_t crt)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t c = NULL;

	if (ca_x509_export(crt, GNUTLS_X509_FMT_DER, &der) != 0 ||
	    ca_x509_import(der.data, der.size, &c) != 0)
		bail("re-import");
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	return c;
}

static void
db_setup(void)
{
	ca_key = new_key();
	other_key = new_key();
	leaf_key = new_key();
	if (ca_x509_make_ca(ca_key, "Org", "Test CA", 0, T0 - 3600,
	    T0 + 365 * 86400, NULL, &ca_crt) != 0 ||
	    ca_x509_make_ca(other_key, "Org", "Test CA", 0, T0 - 3600,
	    T0 + 365 * 86400, NULL, &other_crt) != 0)
		bail("CA");
	ca_crt = reimport(ca_crt);
	other_crt = reimport(other_crt);
	iss.crt = ca_crt;
	iss.key = ca_key;
	iss.dig = ca_key_digest(ca_key);
	iss.not_after = T0 + 365 * 86400;
	other_iss.crt = other_crt;
	other_iss.key = other_key;
	other_iss.dig = ca_key_digest(other_key);
	other_iss.not_after = T0 + 365 * 86400;
	prov.name = prov_name;
	prov.type = prov_type;
	prov.kid = prov_kid;
	/* b is older than a, so the list order is b, a. */
	make_leaf(&iss, "a.example", "a.example", T0 + 100, &leaf_a);
	make_leaf(&iss, "b.example", "192.0.2.2", T0, &leaf_b);
	make_leaf(&other_iss, "c.example", "c.example", T0, &leaf_c);
}

static void
db_teardown(void)
{
	gnutls_free(leaf_a.der.data);
	gnutls_free(leaf_b.der.data);
	gnutls_free(leaf_c.der.data);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_crt_deinit(other_crt);
	gnutls_privkey_deinit(ca_key);
	gnutls_privkey_deinit(other_key);
	gnutls_privkey_deinit(leaf_key);
}

static int
add(struct ca_store *st, const struct leaf *l, const char *jti)
{
	struct ca_issuance is;

	memset(&is, 0, sizeof(is));
	is.serial = l->serial;
	is.der = l->der.data;
	is.der_len = l->der.size;
	is.prov = &prov;
	is.jti = jti;
	is.token_exp = T0 + 3600;
	is.issued_at = T0;
	return ca_db_add_issuance(st, &is);
}

static int
count_keys(struct ca_store *st)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	if (ca_store_begin(st, 0) != 0)
		return -1;
	ca_store_foreach(st, "", collect, &s);
	ca_store_commit(st);
	return s.n;
}

static void
test_db_records(void)
{
	struct ca_store *st = open_store(new_dir(), 1000);
	char key[256], want[512], *r;
	struct ca_cert_info *v = NULL, ci;
	size_t n = 0, i;
	int rc;

	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(add(st, &leaf_a, "jti-a"), 0, "issuance queued");
	snprintf(key, sizeof(key), "x509_certs/%s", leaf_a.serial);
	is_int(ca_store_get(st, key, NULL, NULL), 0,
	    "x509_certs/<serial> queued");
	snprintf(key, sizeof(key), "x509_certs_data/%s", leaf_a.serial);
	is_int(ca_store_get(st, key, NULL, NULL), 0,
	    "x509_certs_data/<serial> queued");
	is_int(ca_store_get(st, "used_ott/kid1.jti-a", NULL, NULL), 0,
	    "used_ott/<kid>.<jti> queued");
	ca_err_clear();
	is_int(add(st, &leaf_b, "jti-a"), CA_ERR_REPLAY,
	    "same token again: CA_ERR_REPLAY");
	ok(strstr(ca_errmsg(), "jti-a") != NULL, "message names the jti (%s)",
	    ca_errmsg());
	snprintf(key, sizeof(key), "x509_certs/%s", leaf_b.serial);
	is_int(ca_store_get(st, key, NULL, NULL), CA_ERR_NOTFOUND,
	    "replay queued no certificate");
	snprintf(key, sizeof(key), "x509_certs_data/%s", leaf_b.serial);
	is_int(ca_store_get(st, key, NULL, NULL), CA_ERR_NOTFOUND,
	    "replay queued no data record");
	is_int(ca_store_commit(st), 0, "issuance committed");
	is_int(count_keys(st), 3, "exactly three records stored");

	snprintf(key, sizeof(key), "x509_certs/%s", leaf_a.serial);
	if (ca_store_begin(st, 0) == 0) {
		unsigned char *der = NULL;
		size_t len = 0;
		rc = ca_store_get(st, key, &der, &len);
		ok(rc == 0 && len == leaf_a.der.size &&
		    memcmp(der, leaf_a.der.data, len) == 0,
		    "certificate record is the DER");
		free(der);
		ca_store_commit(st);
	}
	snprintf(key, sizeof(key), "x509_certs_data/%s", leaf_a.serial);
	r = read_key(st, key);
	is_str(r, "{\"provisioner\":{\"id\":\"kid1\",\"name\":\"admin\","
	    "\"type\":\"JWK\"},\"jti\":\"jti-a\",\"issuedAt\":1767323045}",
	    "data record");
	free(r);
	r = read_key(st, "used_ott/kid1.jti-a");
	snprintf(want, sizeof(want), "{\"serial\":\"%s\",\"provisioner\":"
	    "\"admin\",\"exp\":1767326645,\"usedAt\":1767323045}",
	    leaf_a.serial);
	is_str(r, want, "used-token record");
	free(r);

	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(add(st, &leaf_b, "jti-a"), CA_ERR_REPLAY,
	    "stored token again: CA_ERR_REPLAY");
	is_int(add(st, &leaf_a, "jti-new"), CA_ERR_EXISTS,
	    "stored serial again: CA_ERR_EXISTS");
	is_int(ca_store_get(st, "used_ott/kid1.jti-new", NULL, NULL),
	    CA_ERR_NOTFOUND, "serial collision queued no token record");
	is_int(add(st, &leaf_b, "jti-b"), 0, "second issuance queued");
	is_int(ca_store_commit(st), 0, "second issuance committed");
	is_int(count_keys(st), 6, "six records stored");

	/* Listing and lookup. */
	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	rc = ca_db_list(st, &v, &n);
	ok(rc == 0 && n == 2, "list: two certificates");
	if (rc == 0 && n == 2) {
		ok(strcmp(v[0].serial, leaf_b.serial) == 0 &&
		    strcmp(v[1].serial, leaf_a.serial) == 0,
		    "list sorted by notBefore");
		is_str(v[0].subject, "CN=b.example", "list: subject");
		ok(v[0].names.n_ip == 1 && ca_names_count(&v[0].names) == 1 &&
		    strcmp(v[0].names.ip[0], "192.0.2.2") == 0,
		    "list: SANs, typed");
		ok(v[1].names.n_dns == 1 && ca_names_count(&v[1].names) == 1 &&
		    strcmp(v[1].names.dns[0], "a.example") == 0,
		    "list: SANs of the other");
		ok(v[0].not_before == leaf_b.nb && v[0].not_after == leaf_b.na,
		    "list: validity");
		is_str(v[0].provisioner, "admin", "list: provisioner");
		is_str(v[0].jti, "jti-b", "list: jti");
		is_int(v[0].issued_at, T0, "list: issuedAt");
		ok(v[0].der_len == leaf_b.der.size &&
		    memcmp(v[0].der, leaf_b.der.data, v[0].der_len) == 0,
		    "list: DER");
		is_str(ca_cert_info_status(&v[0], T0), "valid", "status valid");
		is_str(ca_cert_info_status(&v[0], leaf_b.na + 1), "expired",
		    "status expired");
	}
	for (i = 0; i < n; i++)
		ca_cert_info_free(&v[i]);
	free(v);
	rc = ca_db_get(st, leaf_a.serial, &ci);
	ok(rc == 0 && strcmp(ci.serial, leaf_a.serial) == 0 &&
	    strcmp(ci.subject, "CN=a.example") == 0 &&
	    ci.provisioner != NULL && strcmp(ci.jti, "jti-a") == 0,
	    "get by serial");
	if (rc == 0)
		ca_cert_info_free(&ci);
	ca_err_clear();
	rc = ca_db_get(st, "0102", &ci);
	is_int(rc, CA_ERR_NOTFOUND,
	    "get of an unknown serial: CA_ERR_NOTFOUND");
	ok(strstr(ca_errmsg(), "0102") != NULL, "message names the serial");
	ca_store_commit(st);

	/* A certificate without its data record is still listed. */
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	snprintf(key, sizeof(key), "x509_certs_data/%s", leaf_a.serial);
	ca_store_del(st, key);
	ca_store_commit(st);
	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	rc = ca_db_get(st, leaf_a.serial, &ci);
	ok(rc == 0 && ci.provisioner == NULL && ci.jti == NULL,
	    "missing data record: provisioner NULL");
	if (rc == 0)
		ca_cert_info_free(&ci);
	ca_store_commit(st);
	ca_store_close(st);

	st = open_store(new_dir(), 1000);
	ca_store_begin(st, 0);
	v = (struct ca_cert_info *)(void *)key;
	rc = ca_db_list(st, &v, &n);
	ok(rc == 0 && n == 0 && v == NULL, "list of an empty store");
	ca_store_commit(st);
	ca_store_close(st);
}

struct problems {
	char	*msg[16];
	size_t	 n;
};

static void
report(void *arg, const char *problem)
{
	struct problems *p = arg;

	if (p->n < 16)
		p->msg[p->n] = strdup(problem);
	p->n++;
}

static void
problems_free(struct problems *p)
{
	size_t i;

	for (i = 0; i < p->n && i < 16; i++)
		free(p->msg[i]);
	memset(p, 0, sizeof(*p));
}

/* Every reported problem contains each of a and b (b may be NULL). */
static int
all_mention(const struct problems *p, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < p->n && i < 16; i++)
		if (p->msg[i] == NULL || strstr(p->msg[i], a) == NULL ||
		    (b != NULL && strstr(p->msg[i], b) == NULL))
			return 0;
	return p->n > 0;
}

/* A fresh store holding leaves a and b, properly recorded. */
static struct ca_store *
good_store(const char **dirp)
{
	const char *dir = new_dir();
	struct ca_store *st = open_store(dir, 1000);

	if (ca_store_begin(st, 1) != 0 || add(st, &leaf_a, "jti-a") != 0 ||
	    add(st, &leaf_b, "jti-b") != 0 || ca_store_commit(st) != 0)
		bail("good store");
	if (dirp != NULL)
		*dirp = dir;
	return st;
}

/* Run the audit in a read transaction. */
static int
check(struct ca_store *st, struct problems *p, size_t *nprob, size_t *ncerts)
{
	int rc;

	problems_free(p);
	*nprob = *ncerts = 99;
	if ((rc = ca_store_begin(st, 0)) != 0)
		return rc;
	rc = ca_db_check(st, ca_crt, report, p, nprob, ncerts);
	ca_store_commit(st);
	return rc;
}

static void
test_db_check(void)
{
	struct problems p;
	struct ca_store *st;
	const char *dir;
	unsigned char redo[64];
	char key[256], val[256];
	size_t np, nc, n;
	int rc;

	memset(&p, 0, sizeof(p));
	st = good_store(NULL);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 0 && nc == 2 && p.n == 0,
	    "sound store: no problems, two certificates (%zu, %zu)", np, nc);
	ca_store_close(st);

	/*
	 * An ACME issuance: its provisioner has no key id, no token; the
	 * order it names is in the store. Nothing to report.
	 */
	{
		struct ca_provisioner acme;
		struct ca_issuance is;
		static const char order[] = "{\"status\":\"valid\"}";

		memset(&acme, 0, sizeof(acme));
		acme.name = (char *)(uintptr_t)"acme";
		acme.type = (char *)(uintptr_t)"ACME";
		memset(&is, 0, sizeof(is));
		is.der = leaf_a.der.data;
		is.der_len = leaf_a.der.size;
		st = open_store(new_dir(), 1000);
		if (ca_store_begin(st, 1) != 0)
			bail("acme store");
		is.serial = leaf_a.serial;
		is.prov = &acme;
		is.issued_at = T0;
		is.acme_account = "ACCOUNT";
		is.acme_order = "ORDER";
		if (ca_db_add_issuance(st, &is) != 0 ||
		    ca_store_put(st, "acme/order/ORDER",
		    (const unsigned char *)order, strlen(order), 0) != 0 ||
		    ca_store_commit(st) != 0)
			bail("acme store");
		rc = check(st, &p, &np, &nc);
		ok(rc == 0 && np == 0 && nc == 1, "an ACME certificate (no "
		    "provisioner key id, no token): no problem (%zu: %s)", np,
		    p.n > 0 && p.msg[0] != NULL ? p.msg[0] : "");
		ca_store_close(st);
	}

	/* A certificate stored under another serial's key. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	snprintf(key, sizeof(key), "x509_certs/%s", leaf_a.serial);
	ca_store_put(st, key, leaf_b.der.data, leaf_b.der.size, 0);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1 && p.n == 1, "certificate under another key: "
	    "one problem (%zu)", np);
	ok(all_mention(&p, leaf_a.serial, leaf_b.serial),
	    "the problem names both serials (%s)", p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A certificate signed by another CA. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	add(st, &leaf_c, "jti-c");
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1 && nc == 3, "certificate from another CA: one "
	    "problem (%zu), three certificates", np);
	ok(all_mention(&p, leaf_c.serial, "not signed"),
	    "the problem names the serial (%s)", p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A missing data record. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	snprintf(key, sizeof(key), "x509_certs_data/%s", leaf_a.serial);
	ca_store_del(st, key);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1, "missing data record: one problem (%zu)", np);
	ok(all_mention(&p, leaf_a.serial, "data"),
	    "the problem names the serial (%s)", p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A missing used-token record. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	ca_store_del(st, "used_ott/kid1.jti-b");
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1, "missing used-token record: one problem (%zu)",
	    np);
	ok(all_mention(&p, leaf_b.serial, "jti-b"),
	    "the problem names the serial and the jti (%s)",
	    p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A used-token record pointing at an unknown serial. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	snprintf(val, sizeof(val), "{\"serial\":\"7e7e7e\",\"provisioner\":"
	    "\"admin\",\"exp\":1,\"usedAt\":1}");
	ca_store_put(st, "used_ott/kid1.jti-x", val, strlen(val), 1);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1, "used token for an unknown serial: one problem "
	    "(%zu)", np);
	ok(all_mention(&p, "7e7e7e", "jti-x"),
	    "the problem names the serial (%s)", p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A used-token record pointing at another issued certificate. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	snprintf(val, sizeof(val), "{\"serial\":\"%s\",\"exp\":1}",
	    leaf_b.serial);
	ca_store_put(st, "used_ott/kid1.jti-a", val, strlen(val), 0);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1,
	    "a's used token pointing elsewhere: one problem "
	    "(%zu)", np);
	ok(all_mention(&p, leaf_a.serial, "jti-a"),
	    "the problem names the serial (%s)", p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A certificate record that is not a certificate. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	snprintf(key, sizeof(key), "x509_certs/%s", leaf_b.serial);
	ca_store_put(st, key, "junk", 4, 0);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 1 && nc == 2, "unparsable certificate: one problem "
	    "(%zu)", np);
	ok(all_mention(&p, leaf_b.serial, "parse"),
	    "the problem names the serial (%s)", p.msg[0] ? p.msg[0] : "");
	ca_store_close(st);

	/* A certificate gone: its data and token records are orphans. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	snprintf(key, sizeof(key), "x509_certs/%s", leaf_a.serial);
	ca_store_del(st, key);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 2 && nc == 1, "certificate deleted: two problems "
	    "(%zu), one certificate", np);
	ok(all_mention(&p, leaf_a.serial, NULL),
	    "both problems name the serial");
	ca_store_close(st);

	/* An interrupted transaction. */
	st = good_store(&dir);
	n = redo_add(redo, 0, 2, "nothing", NULL, 0);
	gdbm_put_raw(dir, "!redo", redo, n);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 0 && nc == 2, "leftover redo record: the audit "
	    "completes it before it reads: no problem (%zu)", np);
	/* The next writer completes it and the audit is clean again. */
	ca_store_begin(st, 1);
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 0, "after the next write: no problems");
	ca_store_close(st);

	/* Several problems at once are all counted. */
	st = good_store(NULL);
	ca_store_begin(st, 1);
	add(st, &leaf_c, "jti-c");
	snprintf(key, sizeof(key), "x509_certs_data/%s", leaf_a.serial);
	ca_store_del(st, key);
	ca_store_del(st, "used_ott/kid1.jti-b");
	ca_store_commit(st);
	rc = check(st, &p, &np, &nc);
	ok(rc == 0 && np == 3 && p.n == 3 && nc == 3,
	    "three problems counted and reported (%zu)", np);
	problems_free(&p);
	ca_store_close(st);
}

/* Copy the first len bytes of src's database into a new directory. */
static const char *
truncated_copy(const char *src, off_t len)
{
	const char *dir = new_dir();	/* static: the caller copies it */
	char from[4300], to[4300], buf[4096];
	off_t left = len;
	ssize_t n;
	int in, out;

	snprintf(from, sizeof(from), "%s/ca.gdbm", src);
	snprintf(to, sizeof(to), "%s/ca.gdbm", dir);
	if ((in = open(from, O_RDONLY)) < 0 ||
	    (out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		bail("truncated_copy: open");
	while (left > 0 && (n = read(in, buf, left < (off_t)sizeof(buf) ?
	    (size_t)left : sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			bail("truncated_copy: write");
		left -= n;
	}
	close(in);
	close(out);
	return dir;
}

/*
 * Truncated copies of a store holding a revoked serial, then a writer on
 * them: the revocation is reported, or reading fails; never "absent"
 * (which OCSP would answer as good). Before the header check, the writer
 * filled the missing tail with zeros, read as empty buckets.
 */
static void
test_truncated(void)
{
	struct ca_revocation r;
	struct ca_store *st;
	struct stat sb;
	char *dir, *copy = NULL;
	char key[64], path[4300];
	unsigned char der[300];
	off_t len, lens[64];
	size_t nlens = 0, i, absent = 0, written = 0, bad_open = 0;
	time_t at;
	int rc, reason, wrc;

	if ((dir = strdup(new_dir())) == NULL)
		bail("strdup");
	st = open_store(dir, 1000);
	memset(der, 0x5a, sizeof(der));
	/* Several buckets' worth of records, so that some survive a cut. */
	for (i = 0; i < 600; i++) {
		if (ca_store_begin(st, 1) != 0)
			bail("begin");
		snprintf(key, sizeof(key), "x509_certs/%04zx", i);
		ca_store_put(st, key, der, sizeof(der), 1);
		if (ca_store_commit(st) != 0)
			bail("commit");
	}
	memset(&r, 0, sizeof(r));
	r.serial = "0123";
	r.reason = 1;
	r.revoked_at = T0;
	r.by = "test";
	if (ca_store_begin(st, 1) != 0 || ca_db_add_revocation(st, &r) != 0 ||
	    ca_store_commit(st) != 0)
		bail("revoke");
	ca_store_close(st);
	snprintf(path, sizeof(path), "%s/ca.gdbm", dir);
	if (stat(path, &sb) != 0)
		bail("stat");
	for (len = 4096; len < sb.st_size && nlens < 56; len += 4096)
		lens[nlens++] = len;
	lens[nlens++] = 100;
	lens[nlens++] = 5003;
	lens[nlens++] = sb.st_size / 2 + 7;
	lens[nlens++] = sb.st_size - 1;
	lens[nlens++] = sb.st_size - 300;
	for (i = 0; i < nlens; i++) {
		free(copy);
		if ((copy = strdup(truncated_copy(dir, lens[i]))) == NULL)
			bail("strdup");
		st = open_store(copy, 1000);
		/* A writer first: it must not "repair" the copy. */
		wrc = ca_store_begin(st, 1);
		if (wrc == 0) {
			ca_store_put(st, "x509_certs/ffff", der, sizeof(der), 1);
			wrc = ca_store_commit(st);
		}
		if (wrc == 0)
			written++;
		if ((rc = ca_store_begin(st, 0)) == 0) {
			rc = ca_db_get_revocation(st, "0123", &reason, &at,
			    NULL);
			ca_store_abort(st);
		} else
			bad_open++;
		if (rc == CA_ERR_NOTFOUND) {
			absent++;
			printf("# cut at %lld: the revocation reads as "
			    "absent\n", (long long)lens[i]);
		}
		ca_err_clear();
		ca_store_close(st);
	}
	ok(absent == 0, "%zu truncated copies: the revocation never reads as "
	    "absent (%zu did)", nlens, absent);
	ok(written == 0, "no writer changed a truncated copy (%zu did)",
	    written);
	ok(bad_open == nlens, "every truncated copy is refused at opening "
	    "(%zu of %zu)", bad_open, nlens);
	ok(ca_store_begin(st = open_store(copy, 1000), 0) == CA_ERR_STORE &&
	    strstr(ca_errmsg(), "database damaged") != NULL,
	    "the error says the database is damaged (%s)", ca_errmsg());
	ca_store_close(st);
	free(copy);
	free(dir);
}

/* A participant of a group commit: insert key (CAS), then maybe fail. */
struct part {
	struct ca_store_group	*g;
	const char		*key;
	const char		*also;	/* a second key, put before failing */
	int			 fail;
	int			 rc;
	char			 msg[128];
};

static int
part_fn(struct ca_store *st, void *arg)
{
	struct part *p = arg;
	int rc;

	if ((rc = ca_store_put(st, p->key, "v", 1, 1)) != 0)
		return rc;
	if (p->also != NULL && (rc = ca_store_put(st, p->also, "w", 1, 0)) != 0)
		return rc;
	if (p->fail)
		return ca_err(CA_ERR_FORBIDDEN, "participant %s refused", p->key);
	return 0;
}

static void *
part_thread(void *arg)
{
	struct part *p = arg;

	p->rc = ca_store_group_commit(p->g, part_fn, p);
	snprintf(p->msg, sizeof(p->msg), "%s", p->rc ? ca_errmsg() : "");
	return NULL;
}

/* A redo record of the current protocol: transaction seq's changes. */
static size_t
slot_rec(unsigned char *buf, uint64_t seq)
{
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		buf[i] = (unsigned char)seq;
	return 8;
}

/* db/lock's mark with another boot's id: as after a restart. */
static void
mark_other_boot(const char *dir)
{
	char p[4300], m[56];
	int fd;

	snprintf(p, sizeof(p), "%s/lock", dir);
	memset(m, 0, sizeof(m));
	memcpy(m, "castore1", 8);
	memcpy(m + 8, "00000000-0000-0000-0000-000000000000", 36);
	if ((fd = open(p, O_WRONLY)) < 0 || pwrite(fd, m, sizeof(m), 0) !=
	    (ssize_t)sizeof(m) || close(fd) != 0)
		bail("mark");
}

static void
test_protocol(void)
{
	const char *dir = new_dir();
	struct ca_store *st = open_store(dir, 1000), *other;
	struct ca_store_stats s0, s1;
	unsigned char buf[256];
	size_t n;
	char *r;

	/* A handle kept open sees what another handle (process) wrote. */
	if (ca_store_open(dir, 1000, &other) != 0)
		bail("open");
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_put(st, "k", "1", 1, 0);
	ca_store_put(st, "j", "1", 1, 0);
	is_int(ca_store_commit(st), 0, "commit 1");
	ca_store_stats(st, &s0);
	r = read_key(st, "k");
	is_str(r, "1", "read back on the same handle");
	free(r);
	ca_store_stats(st, &s1);
	is_int(s1.opens - s0.opens, 0, "the handle stayed open for the read");
	if (ca_store_begin(other, 1) != 0)
		bail("begin");
	ca_store_put(other, "k", "2", 1, 0);
	is_int(ca_store_commit(other), 0, "another handle commits 2");
	r = read_key(st, "k");
	is_str(r, "2", "the first handle sees the other's commit");
	free(r);
	ca_store_stats(st, &s0);
	is_int(s0.opens - s1.opens, 1, "it reopened the file to see it");
	{
		/*
		 * A writer that died after marking db/lock "pending" (step 0)
		 * may have changed the file within the mtime's granularity
		 * and kept its size: the mark alone makes handles reopen.
		 */
		unsigned char m[56];
		char *lp;
		int fd;

		if (asprintf(&lp, "%s/lock", dir) < 0 ||
		    (fd = open(lp, O_RDWR)) < 0)
			bail("open lock");
		free(lp);
		ok(pread(fd, m, sizeof(m), 0) == (ssize_t)sizeof(m),
		    "db/lock holds a mark");
		memset(m + 48, 0xff, 8);
		ok(pwrite(fd, m, sizeof(m), 0) == (ssize_t)sizeof(m),
		    "mark it pending, the database file untouched");
		close(fd);
		ca_store_stats(st, &s0);
		r = read_key(st, "k");
		is_str(r, "2", "a read under a pending mark");
		free(r);
		ca_store_stats(st, &s1);
		is_int(s1.opens - s0.opens, 2, "a pending mark makes the "
		    "handle reopen the file, complete as a writer, then read");
		r = read_key(st, "k");
		free(r);
		ca_store_stats(st, &s0);
		is_int(s0.opens - s1.opens, 0,
		    "completed by the reader: the next read reuses it");
	}
	{
		/*
		 * Step 0 comes first: a writer whose commit fails (here the
		 * file may not grow: RLIMIT_FSIZE) leaves db/lock pending.
		 */
		unsigned char m[56], ff[8];
		struct rlimit rl;
		struct stat sb;
		char *lp, *big;
		pid_t pid;
		int fd, status = -1;

		if (asprintf(&lp, "%s/lock", dir) < 0)
			bail("asprintf");
		if (asprintf(&big, "%s/ca.gdbm", dir) < 0 ||
		    stat(big, &sb) != 0)
			bail("stat");
		free(big);
		if ((pid = fork()) == 0) {
			struct ca_store *w;
			char *v = calloc(1, 1 << 20);

			signal(SIGXFSZ, SIG_IGN);
			rl.rlim_cur = rl.rlim_max = (rlim_t)sb.st_size;
			if (v == NULL || setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
			    ca_store_open(dir, 1000, &w) != 0 ||
			    ca_store_begin(w, 1) != 0)
				_exit(2);
			ca_store_put(w, "big", v, 1 << 20, 0);
			_exit(ca_store_commit(w) != 0 ? 0 : 1);
		}
		if (pid > 0)
			waitpid(pid, &status, 0);
		is_int(status, 0, "a commit that cannot grow the file fails");
		memset(ff, 0xff, sizeof(ff));
		ok((fd = open(lp, O_RDONLY)) >= 0 &&
		    pread(fd, m, sizeof(m), 0) == (ssize_t)sizeof(m) &&
		    memcmp(m + 48, ff, 8) == 0,
		    "and leaves db/lock marked pending (step 0 before step 1)");
		if (fd >= 0)
			close(fd);
		free(lp);
		ca_store_stats(st, &s0);
		r = read_key(st, "k");
		is_str(r, "2", "a reader then completes and reads as before");
		free(r);
		is_int(ca_store_get(st, "big", NULL, NULL), CA_ERR_NOTFOUND,
		    "without the failed transaction");
	}
	gdbm_put_raw(dir, "k", "3", 1);
	r = read_key(st, "k");
	is_str(r, "3", "and a change made past the store (GDBM directly)");
	free(r);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_interrupted(st), 0,
	    "the last redo record stays, applied: not an interrupted one");
	ca_store_abort(st);

	/* A crash after the sync (step 2), before anything was applied. */
	n = slot_rec(buf, 3);
	n = redo_add(buf, n, 1, "jti", "spent", 5);
	n = redo_add(buf, n, 1, "cert", "der", 3);
	gdbm_put_raw(dir, "!redo.1", buf, n);
	s1.syncs = ca_store_syncs(st);
	r = read_key(st, "jti");
	is_str(r, "spent", "crash at step 2: a reader completes it first");
	free(r);
	is_int(ca_store_syncs(st) - s1.syncs, 1, "crash at step 2: the "
	    "completion syncs the records before it applies them (the writer "
	    "may have died before its sync)");
	if (ca_store_begin(other, 0) != 0)
		bail("begin");
	is_int(ca_store_interrupted(other), 0,
	    "crash at step 2: no interrupted transaction left");
	ca_store_abort(other);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_interrupted(st), 0, "the next writer completed it");
	is_int(ca_store_get(st, "jti", NULL, NULL) == 0 &&
	    ca_store_get(st, "cert", NULL, NULL) == 0, 1,
	    "crash at step 2: both changes applied by the next writer");
	ca_store_put(st, "next", "x", 1, 0);
	is_int(ca_store_commit(st), 0, "and its own transaction commits");
	r = read_key(other, "k");
	is_str(r, "2", "the older record (transaction 2) was applied again "
	    "first (the change made past the store is not protected)");
	free(r);

	/* A crash during step 3: one change applied, the other not. */
	n = slot_rec(buf, 5);
	n = redo_add(buf, n, 1, "jti2", "spent", 5);
	n = redo_add(buf, n, 1, "cert2", "der", 3);
	gdbm_put_raw(dir, "!redo.1", buf, n);
	gdbm_put_raw(dir, "jti2", "spent", 5);
	if (ca_store_begin(other, 0) != 0)
		bail("begin");
	is_int(ca_store_interrupted(other), 0,
	    "crash at step 3: no interrupted transaction left");
	is_int(ca_store_get(other, "cert2", NULL, NULL), 0,
	    "crash at step 3: a reader completes the rest first");
	ca_store_abort(other);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_get(st, "cert2", NULL, NULL), 0,
	    "crash at step 3: the next writer applied the rest");
	ca_store_abort(st);

	/* A restart: db/lock names another boot; all was applied. */
	mark_other_boot(dir);
	if (ca_store_begin(other, 0) != 0)
		bail("begin");
	is_int(ca_store_interrupted(other), 0,
	    "after a restart: the newest record is in the store, nothing "
	    "interrupted");
	ca_store_abort(other);
	ca_store_close(other);
	ca_store_close(st);
}

static void
test_interface(void)
{
	const char *dir = new_dir();
	struct ca_store *st = open_store(dir, 1000), *other;
	struct ca_store_stats stats;
	struct ca_store_group *g;
	struct part p[8];
	pthread_t th[8];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	unsigned long batches, callers;
	unsigned char buf[64];
	struct seen s;
	size_t mark, n;
	char *r;
	int i, wins;

	/* Savepoint and rollback: the later changes go, the earlier stay. */
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_put(st, "keep", "1", 1, 1);
	mark = ca_store_savepoint(st);
	ca_store_put(st, "drop", "2", 1, 1);
	ca_store_del(st, "keep");
	ca_store_rollback(st, mark);
	is_int(ca_store_get(st, "keep", NULL, NULL), 0,
	    "rollback: the change before the savepoint is kept");
	is_int(ca_store_get(st, "drop", NULL, NULL), CA_ERR_NOTFOUND,
	    "rollback: the change after the savepoint is gone");
	is_int(ca_store_commit(st), 0, "commit after a rollback");
	r = read_key(st, "keep");
	is_str(r, "1", "rollback: the kept change was committed");
	free(r);
	r = read_key(st, "drop");
	ok(r == NULL, "rollback: the dropped change was not committed");
	free(r);
	ca_store_stats(st, &stats);
	is_int(stats.commits, 1, "stats: one write transaction committed");
	ok(stats.opens >= 1, "stats: the database was opened");

	/* Insert is a compare-and-swap between two handles (processes). */
	if (ca_store_open(dir, 1000, &other) != 0)
		bail("open");
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_put(st, "used_ott/k.j1", "a", 1, 1), 0,
	    "CAS: first insert of a token id");
	is_int(ca_store_begin(other, 1), CA_ERR_TEMP,
	    "CAS: a second writer waits for the first (lock timeout)");
	is_int(ca_store_commit(st), 0, "CAS: first insert committed");
	if (ca_store_begin(other, 1) != 0)
		bail("begin");
	is_int(ca_store_put(other, "used_ott/k.j1", "b", 1, 1), CA_ERR_EXISTS,
	    "CAS: the second handle's insert of the same key fails");
	ca_store_abort(other);
	ca_store_close(other);

	/* interrupted(): a redo record left by a crash is reported. */
	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	is_int(ca_store_interrupted(st), 0, "no interrupted transaction");
	ca_store_abort(st);
	n = redo_add(buf, 0, 1, "x", "1", 1);
	n = redo_add(buf, n, 1, "y", "2", 1);
	gdbm_put_raw(dir, "!redo", buf, n);
	if (ca_store_begin(st, 0) != 0)
		bail("begin");
	is_int(ca_store_interrupted(st), 0,
	    "a redo record left by a crash: completed before a reader reads");
	is_int(ca_store_get(st, "x", NULL, NULL) == 0 &&
	    ca_store_get(st, "y", NULL, NULL) == 0, 1,
	    "the reader sees all of it");
	memset(&s, 0, sizeof(s));
	ca_store_foreach(st, "", collect, &s);
	ok(!seen_has(&s, "!redo", ""), "foreach \"\" skips the backend's "
	    "own records");
	ca_store_abort(st);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	is_int(ca_store_interrupted(st), 0,
	    "a write transaction completed it first");
	is_int(ca_store_get(st, "x", NULL, NULL) == 0 &&
	    ca_store_get(st, "y", NULL, NULL) == 0, 1,
	    "both keys of the interrupted transaction are there");
	ca_store_abort(st);

	/* Group commit: one failing participant is rolled back alone. */
	if (ca_store_group_new(st, &lock, &g) != 0)
		bail("group");
	memset(p, 0, sizeof(p));
	p[0] = (struct part){ g, "g/ok", NULL, 0, 0, "" };
	is_int(ca_store_group_commit(g, part_fn, &p[0]), 0,
	    "group: a lone participant commits");
	p[1] = (struct part){ g, "g/bad", "g/bad-also", 1, 0, "" };
	is_int(ca_store_group_commit(g, part_fn, &p[1]), CA_ERR_FORBIDDEN,
	    "group: a failing participant gets its error");
	is_str(ca_errmsg(), "participant g/bad refused",
	    "group: and its message, on its own thread");
	r = read_key(st, "g/bad-also");
	ok(r == NULL, "group: nothing of the failed participant was kept");
	free(r);
	is_int(ca_store_group_commit(g, part_fn, &p[0]), CA_ERR_EXISTS,
	    "group: insert is still a CAS");

	/* Concurrent participants: all commit, or exactly one per key. */
	for (i = 0; i < 8; i++) {
		char *k = malloc(16);
		snprintf(k, 16, "g/t%d", i % 4);
		p[i] = (struct part){ g, k, NULL, i == 5, 0, "" };
		if (pthread_create(&th[i], NULL, part_thread, &p[i]) != 0)
			bail("pthread_create");
	}
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (wins = 0, i = 0; i < 8; i++) {
		wins += p[i].rc == 0;
		ok(p[i].rc == 0 || p[i].rc == CA_ERR_EXISTS ||
		    (i == 5 && p[i].rc == CA_ERR_FORBIDDEN),
		    "group: thread %d: committed, lost the CAS or refused (%d)",
		    i, p[i].rc);
	}
	is_int(wins, 4, "group: one insert per key committed (8 threads, "
	    "4 keys, one refused)");
	for (i = 0; i < 4; i++) {
		char k[16];
		snprintf(k, sizeof(k), "g/t%d", i);
		r = read_key(st, k);
		ok(r != NULL, "group: %s recorded", k);
		free(r);
	}
	ca_store_group_stats(g, &batches, &callers);
	is_int(callers, 11, "group: every caller counted");
	ok(batches >= 3 && batches <= callers, "group: %lu transactions for "
	    "%lu callers", batches, callers);
	for (i = 0; i < 8; i++)
		free((char *)(uintptr_t)p[i].key);
	ca_store_group_free(g);
	ca_store_close(st);
}

/*
 * A writer's handle closed after a clean commit does not sync again (the
 * commit's own sync made it durable); one closed dirty does. Restarts
 * after such a close are covered by test_protocol.
 */
static void
test_close_sync(void)
{
	const char *dir;
	struct ca_store *st, *other;
	unsigned long s0;
	char *r;

	dir = new_dir();
	st = open_store(dir, 1000);
	other = open_store(dir, 1000);
	s0 = ca_store_syncs(st);
	if (ca_store_begin(st, 1) != 0)
		bail("begin");
	ca_store_put(st, "a", "1", 1, 0);
	is_int(ca_store_commit(st), 0, "close-sync: a commit");
	is_int(ca_store_syncs(st) - s0, 1, "close-sync: one sync per commit");
	if (ca_store_begin(other, 1) != 0)
		bail("begin");
	ca_store_put(other, "b", "2", 1, 0);
	ca_store_commit(other);
	/* The first handle must reopen to see it: its writer is closed. */
	r = read_key(st, "b");
	is_str(r, "2", "close-sync: the first handle sees the other's commit");
	free(r);
	is_int(ca_store_syncs(st) - s0, 1,
	    "close-sync: closing the clean writer did not sync");
	ca_store_close(other);
	ca_store_close(st);
	/* What the unsynced close left is there for the next opener. */
	st = open_store(dir, 1000);
	r = read_key(st, "a");
	is_str(r, "1", "close-sync: the commit is there after the close");
	free(r);
	ca_store_close(st);
}

int
main(void)
{
	tmpdir_make("store");
	test_open();
	test_transactions();
	test_locking();
	test_redo();
	test_truncated();
	test_interface();
	test_protocol();
	test_close_sync();
	db_setup();
	test_db_records();
	test_db_check();
	db_teardown();
	tmpdir_remove();
	return tap_done();
}

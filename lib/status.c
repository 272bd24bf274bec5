/*
 * status.c - active revocation: the CRL and the OCSP answers of an
 * authority, and the revocation counter that tells every process using a
 * state directory when they change.
 *
 * The counter is db/revision, 8 bytes, incremented (under flock) after
 * each committed revocation by whichever process made it, and read by
 * every process through a shared read-only mapping: checking whether a
 * cached CRL or OCSP response is still current costs one memory load,
 * no system call, whether the revocation came from this ca-serve, another
 * one behind inetd, or ca-revoke -d. A revocation is counted after it is
 * committed, so a CRL or response built after reading counter value R
 * includes every revocation counted up to R.
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
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authority-local.h"
#include "crl.h"
#include "db.h"
#include "ocsp.h"
#include "store.h"

#define OCSP_SLOTS	32768		/* cached responses, at most 3/4 used */
#define SOUND_SLOTS	16384		/* checked certificate records, 3/4 */

struct ocsp_slot {
	int		 used;
	gnutls_digest_algorithm_t hash;
	unsigned char	 serial[21];
	size_t		 serial_len;
	uint64_t	 revision;
	time_t		 refresh;	/* rebuilt from then on */
	time_t		 next_update;
	unsigned char	*der;
	size_t		 len;
};

struct ca_status {
	pthread_mutex_t		 lock;		/* the counter and the OCSP cache */
	pthread_mutex_t		 crl_lock;	/* crl, and making one */
	int			 tried;		/* db/revision opened (or not) */
	int			 fd;
	const volatile uint64_t	*map;		/* NULL: no shared counter */
	struct ca_db_crl	 crl;		/* der NULL: none in memory */
	struct ca_store		*store;		/* reading for the CRL (crl_lock) */
	struct ocsp_slot	*slots;
	size_t			 n_used;
	unsigned long		 ocsp_hits, ocsp_built;
	struct ca_ocsp_issuer	 oi;		/* the intermediate's CertID hashes */
	int			 oi_ready;
	/*
	 * SHA-256 of serial and DER of the certificate records that checked
	 * out (a->store_lock held): each is verified once per process.
	 */
	unsigned char		(*sound)[32];
	size_t			 n_sound;
};

int
ca_status_new(struct ca_status **out)
{
	struct ca_status *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->crl_lock, NULL);
	s->fd = -1;
	*out = s;
	return 0;
}

static void
ocsp_clear(struct ca_status *s)
{
	size_t i;

	if (s->slots == NULL)
		return;
	for (i = 0; i < OCSP_SLOTS; i++)
		free(s->slots[i].der);
	memset(s->slots, 0, OCSP_SLOTS * sizeof(*s->slots));
	s->n_used = 0;
}

void
ca_status_free(struct ca_status *s)
{
	if (s == NULL)
		return;
	if (s->map != NULL)
		munmap((void *)(uintptr_t)s->map, sizeof(uint64_t));
	if (s->fd >= 0)
		close(s->fd);
	ocsp_clear(s);
	free(s->slots);
	free(s->sound);
	free(s->crl.der);
	ca_store_close(s->store);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->crl_lock);
	free(s);
}

/* Open and map db/revision once (s->lock held). */
static void
rev_open(struct ca_local *a, struct ca_status *s)
{
	struct stat st;
	char *path;
	void *m;
	int fd;

	if (s->tried)
		return;
	s->tried = 1;
	if ((path = ca_path_join(a->cfg->db_dir, "revision")) == NULL)
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ca_debug("%s: %s: caches are refreshed by time only", path,
		    strerror(errno));
		free(path);
		return;
	}
	if (fstat(fd, &st) != 0 || (st.st_size < (off_t)sizeof(uint64_t) &&
	    ftruncate(fd, sizeof(uint64_t)) != 0)) {
		ca_debug("%s: %s: caches are refreshed by time only", path,
		    strerror(errno));
		close(fd);
		free(path);
		return;
	}
	m = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		ca_debug("%s: mmap: %s", path, strerror(errno));
		close(fd);
		free(path);
		return;
	}
	free(path);
	s->fd = fd;
	s->map = m;
}

/* The revocation counter: shared when db/revision is mapped. */
static uint64_t
rev_now(struct ca_local *a, struct ca_status *s)
{
	if (s->map != NULL)
		return __atomic_load_n(s->map, __ATOMIC_ACQUIRE);
	return a->revision;
}

void
ca_status_bump(struct ca_local *a)
{
	struct ca_status *s = a->status;
	uint64_t v = 0;

	pthread_mutex_lock(&s->lock);
	a->revision++;
	rev_open(a, s);
	if (s->map != NULL) {
		if (flock(s->fd, LOCK_EX) != 0 ||
		    pread(s->fd, &v, sizeof(v), 0) != (ssize_t)sizeof(v) ||
		    (v++, pwrite(s->fd, &v, sizeof(v), 0)) !=
		    (ssize_t)sizeof(v))
			ca_debug("db/revision: %s: other processes see this "
			    "revocation when their caches expire",
			    strerror(errno));
		flock(s->fd, LOCK_UN);
	}
	pthread_mutex_unlock(&s->lock);
}

void
ca_local_ocsp_stats(struct ca_local *a, unsigned long *hits,
    unsigned long *built)
{
	pthread_mutex_lock(&a->status->lock);
	*hits = a->status->ocsp_hits;
	*built = __atomic_load_n(&a->status->ocsp_built, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&a->status->lock);
}

/* CRL */

struct collect {
	struct ca_crl_entry	*e;
	unsigned char		*serials;	/* 21 octets per entry */
	size_t			 n, cap;
};

static int
collect_one(void *arg, const char *serial, time_t at, int reason)
{
	struct collect *c = arg;
	struct ca_crl_entry *ne;
	unsigned char *ns;
	size_t i, ncap;
	int rc;

	if (c->n == c->cap) {
		ncap = c->cap ? 2 * c->cap : 1024;
		if ((ne = realloc(c->e, ncap * sizeof(*ne))) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		c->e = ne;
		if ((ns = realloc(c->serials, ncap * 21)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		/* Entries point into serials: re-aim them after a move. */
		for (i = 0; i < c->n; i++)
			c->e[i].serial = ns + 21 * i;
		c->serials = ns;
		c->cap = ncap;
	}
	ne = &c->e[c->n];
	if ((rc = ca_crl_serial_octets(serial, c->serials + 21 * c->n,
	    &ne->serial_len)) != 0)
		return rc;
	ne->serial = c->serials + 21 * c->n;
	ne->revoked_at = at;
	/* RFC 5280 5.3.1: no reasonCode rather than unspecified (0). */
	ne->reason = reason == CA_REASON_UNSPECIFIED ? CA_REASON_NONE : reason;
	c->n++;
	return 0;
}

/* A stored CRL is remade after two thirds of its life (step's renewPeriod). */
static time_t
crl_refresh(const struct ca_db_crl *c)
{
	return c->this_update + (c->next_update - c->this_update) * 2 / 3;
}

static int
crl_copy(const struct ca_db_crl *from, struct ca_db_crl *to)
{
	*to = *from;
	if ((to->der = malloc(from->len)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(to->der, from->der, from->len);
	return 0;
}

/*
 * Whether a stored CRL is the current one at now: it includes every
 * revocation counted (rev) and is less than two thirds through its life.
 */
static int
crl_current(const struct ca_db_crl *c, uint64_t rev, time_t now)
{
	return c->der != NULL && c->revision == rev && now >= c->this_update &&
	    now < crl_refresh(c);
}

/*
 * Read what a CRL needs on the status's own store handle, in a read
 * transaction (shared lock: OCSP lookups and other readers go on
 * meanwhile): the last CRL number, the stored CRL (*got, when it is
 * current and stored_ok), and the revocations.
 */
static int
crl_read(struct ca_status *s, uint64_t rev, time_t now, int stored_ok,
    uint64_t *last, struct ca_db_crl *got, struct collect *c)
{
	int rc;

	if ((rc = ca_store_begin(s->store, 0)) != 0)
		return rc;
	if ((rc = ca_db_crl_number(s->store, last)) != 0)
		goto out;
	if (stored_ok && ca_db_get_crl(s->store, got) == 0) {
		if (crl_current(got, rev, now))
			goto out;
		free(got->der);
		memset(got, 0, sizeof(*got));
	}
	ca_err_clear();
	rc = ca_db_foreach_revocation(s->store, collect_one, c);
out:
	ca_store_abort(s->store);
	return rc;
}

/*
 * Sign a CRL of the collected entries with number, and store it with
 * that number: CA_ERR_EXISTS (nothing stored) when another process took
 * the number meanwhile.
 */
static int
crl_make(struct ca_local *a, const struct collect *c, uint64_t number,
    uint64_t rev, time_t now, int64_t validity, struct ca_db_crl *out)
{
	gnutls_datum_t der = { NULL, 0 };
	uint64_t taken;
	int rc;

	memset(out, 0, sizeof(*out));
	out->number = number;
	out->this_update = now;
	out->next_update = now + validity;
	out->revision = rev;
	pthread_mutex_lock(&a->sign_lock);
	rc = ca_crl_build(&a->issuer, c->e, c->n, number, out->this_update,
	    out->next_update, &der);
	pthread_mutex_unlock(&a->sign_lock);
	if (rc != 0)
		return rc;
	out->der = der.data;
	out->len = der.size;
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 1)) == 0) {
		if ((rc = ca_db_next_crl_number(a->store, &taken)) == 0 &&
		    taken != number)
			rc = ca_err(CA_ERR_EXISTS, "CRL number %llu was taken "
			    "meanwhile", (unsigned long long)number);
		if (rc == 0 && (rc = ca_db_put_crl(a->store, out)) == 0)
			rc = ca_store_commit(a->store);
		else
			ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	out->der = NULL;
	if (rc == 0 && (out->der = malloc(der.size)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if (rc == 0) {
		memcpy(out->der, der.data, der.size);
		ca_debug("CRL %llu: %zu entries, %u bytes",
		    (unsigned long long)number, c->n, der.size);
	}
	gnutls_free(der.data);
	return rc;
}

int
ca_local_crl(struct ca_local *a, time_t now, int fresh,
    struct ca_db_crl *out)
{
	struct ca_status *s = a->status;
	struct ca_db_crl got;
	int64_t validity;
	uint64_t rev, last;
	int rc, shared, attempt;

	memset(out, 0, sizeof(*out));
	memset(&got, 0, sizeof(got));
	if (a->cfg->is_ra)
		return ca_err(CA_ERR_NOTFOUND, "a registration authority "
		    "publishes no CRL: the upstream CA at %s does",
		    a->cfg->upstream_url);
	if (a->issuer.key == NULL)
		return ca_err(CA_ERR_CONFIG,
		    "a CRL needs the intermediate key (this is a read-only "
		    "opening)");
	/*
	 * Making a CRL of 100,000 entries takes half a second. It is read
	 * on a store handle of its own under a shared lock, and signed
	 * outside any store lock, so that OCSP answers and issuance are not
	 * held up; only the short write of the result takes the store.
	 */
	pthread_mutex_lock(&s->crl_lock);
	pthread_mutex_lock(&s->lock);
	rev_open(a, s);
	shared = s->map != NULL;
	rev = rev_now(a, s);
	pthread_mutex_unlock(&s->lock);
	if (!fresh && crl_current(&s->crl, rev, now)) {
		rc = crl_copy(&s->crl, out);
		goto unlock;
	}
	pthread_rwlock_rdlock(&a->cfg_lock);
	validity = a->cfg->crl_validity;
	pthread_rwlock_unlock(&a->cfg_lock);
	if (s->store == NULL && (rc = ca_store_open(a->cfg->db_dir,
	    a->cfg->lock_timeout_ms, &s->store)) != 0)
		goto unlock;
	for (attempt = 0; attempt < 3; attempt++) {
		struct collect c = { NULL, NULL, 0, 0 };

		/* Another process may have made the current one already. */
		rc = crl_read(s, rev, now, !fresh && shared, &last, &got, &c);
		if (rc == 0 && got.der == NULL)
			rc = crl_make(a, &c, last + 1, rev, now, validity, &got);
		free(c.e);
		free(c.serials);
		if (rc != CA_ERR_EXISTS)
			break;
	}
	if (rc == 0) {
		free(s->crl.der);
		s->crl = got;
		rc = crl_copy(&s->crl, out);
	}
unlock:
	pthread_mutex_unlock(&s->crl_lock);
	return rc;
}

/* OCSP */

static size_t
slot_hash(const struct ca_ocsp_certid *id)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < id->serial_len; i++)
		h = (h ^ id->serial[i]) * 1099511628211ULL;
	h = (h ^ (uint64_t)id->hash) * 1099511628211ULL;
	return (size_t)(h % OCSP_SLOTS);
}

/* The slot of id, or the empty one where it would go (s->lock held). */
static struct ocsp_slot *
slot_find(struct ca_status *s, const struct ca_ocsp_certid *id)
{
	struct ocsp_slot *sl;
	size_t i = slot_hash(id), k;

	for (k = 0; k < OCSP_SLOTS; k++, i = (i + 1) % OCSP_SLOTS) {
		sl = &s->slots[i];
		if (!sl->used || (sl->hash == id->hash &&
		    sl->serial_len == id->serial_len &&
		    memcmp(sl->serial, id->serial, id->serial_len) == 0))
			return sl;
	}
	return NULL;	/* not reached: at most 3/4 full */
}

static int
ocsp_error(int status, gnutls_datum_t *resp, const char *why)
{
	ca_debug("OCSP: %s", why);
	return ca_ocsp_response_error(status, resp);
}

/*
 * Whether the stored certificate record of serial checks out (its serial,
 * the intermediate's signature), so that "good" is said only of a
 * certificate this CA signed: 0, or CA_ERR_STORE. A record that checked
 * out is remembered by the digest of serial and DER, so a signature is
 * verified once per record and process (a->store_lock held).
 */
static int
cert_sound(struct ca_local *a, const char *serial,
    const unsigned char *der, size_t len)
{
	struct ca_status *s = a->status;
	unsigned char md[32], zero[32] = { 0 };
	gnutls_hash_hd_t h;
	size_t i, k;
	int rc;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return ca_err(CA_ERR_CRYPTO, "SHA-256 unavailable");
	gnutls_hash(h, serial, strlen(serial) + 1);
	gnutls_hash(h, der, len);
	gnutls_hash_deinit(h, md);
	md[0] |= 1;	/* never all zero: that marks a free slot */
	if (s->sound == NULL &&
	    (s->sound = calloc(SOUND_SLOTS, sizeof(*s->sound))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(&i, md, sizeof(i));
	for (i %= SOUND_SLOTS, k = 0; k < SOUND_SLOTS;
	    k++, i = (i + 1) % SOUND_SLOTS) {
		if (memcmp(s->sound[i], md, 32) == 0)
			return 0;
		if (memcmp(s->sound[i], zero, 32) == 0)
			break;
	}
	if ((rc = ca_db_cert_check(serial, der, len, a->issuer.crt)) != 0)
		return rc;
	if (s->n_sound >= SOUND_SLOTS * 3 / 4) {
		memset(s->sound, 0, SOUND_SLOTS * sizeof(*s->sound));
		s->n_sound = 0;
		memcpy(&i, md, sizeof(i));
		i %= SOUND_SLOTS;
	}
	memcpy(s->sound[i], md, 32);
	s->n_sound++;
	return 0;
}

/* The status of each request's serial (store_lock held). */
static int
ocsp_lookup(struct ca_local *a, const struct ca_ocsp_request *req,
    time_t now, int64_t validity, struct ca_ocsp_single *out)
{
	char hex[2 * 21 + 3], *canon = NULL;
	unsigned char *der = NULL;
	size_t i, k, len;
	int rc, reason;
	time_t at;

	if ((rc = ca_store_begin(a->store, 0)) != 0)
		return rc;
	for (i = 0; i < req->n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = &req->ids[i];
		out[i].this_update = now;
		out[i].next_update = now + validity;
		out[i].reason = CA_REASON_NONE;
		strcpy(hex, "0x");
		for (k = 0; k < req->ids[i].serial_len; k++)
			snprintf(hex + 2 + 2 * k, 3, "%02x",
			    req->ids[i].serial[k]);
		if ((rc = ca_serial_canon(hex, &canon)) != 0)
			break;
		rc = ca_db_get_revocation(a->store, canon, &reason, &at, NULL);
		if (rc == 0) {
			out[i].status = CA_OCSP_REVOKED;
			out[i].revoked_at = at;
			out[i].reason = reason == CA_REASON_UNSPECIFIED ?
			    CA_REASON_NONE : reason;
		} else if (rc == CA_ERR_NOTFOUND) {
			rc = ca_db_get_cert(a->store, canon, &der, &len);
			if (rc == CA_ERR_NOTFOUND) {
				out[i].status = CA_OCSP_UNKNOWN;
				rc = 0;
			} else if (rc == 0 &&
			    (rc = cert_sound(a, canon, der, len)) == 0)
				out[i].status = CA_OCSP_GOOD;
			free(der);
			der = NULL;
			if (rc != 0)
				break;
		} else
			break;
		free(canon);
		canon = NULL;
	}
	free(canon);
	ca_store_abort(a->store);
	return rc;
}

int
ca_local_ocsp(struct ca_local *a, const void *der, size_t len,
    time_t now, gnutls_datum_t *resp, time_t *next_update)
{
	struct ca_status *s = a->status;
	struct ca_ocsp_request req;
	struct ca_ocsp_single single[CA_OCSP_MAX_REQUESTS];
	struct ocsp_slot *sl;
	int64_t validity;
	uint64_t rev;
	size_t i;
	int rc, cacheable;

	resp->data = NULL;
	resp->size = 0;
	*next_update = 0;
	if (a->cfg->is_ra)
		return ca_err(CA_ERR_NOTFOUND, "a registration authority "
		    "answers no OCSP: the upstream CA at %s does",
		    a->cfg->upstream_url);
	if (a->issuer.key == NULL)
		return ca_err(CA_ERR_CONFIG, "OCSP needs the intermediate key");
	if ((rc = ca_ocsp_request_parse(der, len, &req)) != 0) {
		if (rc == CA_ERR_NOMEM)
			return rc;
		return ocsp_error(1, resp, ca_errmsg());	/* malformedRequest */
	}
	/* The issuer's hashes, once per process. */
	pthread_mutex_lock(&s->lock);
	rc = s->oi_ready ? 0 : ca_ocsp_issuer_init(&a->issuer, &s->oi);
	if (rc == 0)
		s->oi_ready = 1;
	pthread_mutex_unlock(&s->lock);
	if (rc != 0)
		return ocsp_error(2, resp, ca_errmsg());
	for (i = 0; i < req.n; i++) {
		if (!ca_ocsp_certid_match(&req.ids[i], &s->oi))
			/* unauthorized: not this CA's certificate */
			return ocsp_error(6, resp,
			    "a certificate of another issuer");
	}
	/* RFC 5019: one certificate, no nonce: the same answer for all. */
	cacheable = req.n == 1 && !req.has_nonce;
	pthread_mutex_lock(&s->lock);
	rev_open(a, s);
	rev = rev_now(a, s);
	if (cacheable && s->slots != NULL &&
	    (sl = slot_find(s, &req.ids[0])) != NULL && sl->used &&
	    sl->revision == rev && now < sl->refresh) {
		if ((resp->data = gnutls_malloc(sl->len)) == NULL) {
			pthread_mutex_unlock(&s->lock);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		memcpy(resp->data, sl->der, sl->len);
		resp->size = (unsigned)sl->len;
		*next_update = sl->next_update;
		s->ocsp_hits++;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);

	pthread_rwlock_rdlock(&a->cfg_lock);
	validity = a->cfg->ocsp_validity;
	pthread_rwlock_unlock(&a->cfg_lock);
	pthread_mutex_lock(&a->store_lock);
	rc = ocsp_lookup(a, &req, now, validity, single);
	pthread_mutex_unlock(&a->store_lock);
	/*
	 * Never "good" for what could not be read: a store that is busy is
	 * tryLater, one that fails or is damaged internalError, and the
	 * operator hears of it.
	 */
	if (rc != 0)
		ca_warn("OCSP: no answer from the store: %s", ca_errmsg());
	if (rc == CA_ERR_TEMP)
		return ocsp_error(3, resp, ca_errmsg());	/* tryLater */
	if (rc != 0)
		return ocsp_error(2, resp, ca_errmsg());	/* internalError */
	pthread_mutex_lock(&a->sign_lock);
	rc = ca_ocsp_response_build(&a->issuer, single, req.n,
	    req.has_nonce ? req.nonce : NULL, req.nonce_len, now, resp);
	pthread_mutex_unlock(&a->sign_lock);
	if (rc != 0)
		return ocsp_error(2, resp, ca_errmsg());
	__atomic_add_fetch(&s->ocsp_built, 1, __ATOMIC_RELAXED);
	*next_update = now + validity;
	/*
	 * Unknown serials are not kept, here or (GET, max-age) downstream:
	 * one may be issued at any time.
	 */
	for (i = 0; i < req.n; i++)
		if (single[i].status == CA_OCSP_UNKNOWN)
			*next_update = now;
	if (!cacheable || single[0].status == CA_OCSP_UNKNOWN)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (s->slots == NULL &&
	    (s->slots = calloc(OCSP_SLOTS, sizeof(*s->slots))) == NULL)
		goto unlock;
	if (rev_now(a, s) != rev)
		goto unlock;	/* revoked meanwhile: do not keep it */
	if (s->n_used >= OCSP_SLOTS * 3 / 4)
		ocsp_clear(s);
	if ((sl = slot_find(s, &req.ids[0])) == NULL)
		goto unlock;
	free(sl->der);
	if ((sl->der = malloc(resp->size)) == NULL) {
		if (sl->used)
			s->n_used--;
		memset(sl, 0, sizeof(*sl));
		goto unlock;
	}
	if (!sl->used)
		s->n_used++;
	sl->used = 1;
	memcpy(sl->der, resp->data, resp->size);
	sl->len = resp->size;
	sl->hash = req.ids[0].hash;
	memcpy(sl->serial, req.ids[0].serial, req.ids[0].serial_len);
	sl->serial_len = req.ids[0].serial_len;
	sl->revision = rev;
	sl->next_update = now + validity;
	/* Refreshed at half its life, so caches downstream stay fresh. */
	sl->refresh = now + (validity + 1) / 2;
unlock:
	pthread_mutex_unlock(&s->lock);
	return 0;
}

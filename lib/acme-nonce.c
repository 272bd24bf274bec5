/*
 * acme-nonce.c - ACME nonces shared by every process on a state
 * directory (see acme-nonce.h).
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "acme-nonce.h"
#include "jose.h"

#define MAGIC		"CANONCE1"
#define BOOT_ID		"/proc/sys/kernel/random/boot_id"
#define HDR_SIZE	4096
#define MAP_SIZE	(HDR_SIZE + ACME_NONCE_WINDOW / 8)
#define MAC_LEN		16
#define REKEY_AT	((uint64_t)1 << 62)	/* a new key past it */

/* The file's first page. */
struct hdr {
	char		 magic[8];
	char		 boot[48];	/* boot id when the key was made */
	unsigned char	 key[32];
	uint64_t	 counter;	/* the next nonce's; starts at 1 */
};

void	(*acme_nonce_race_hook)(void);

struct acme_nonces {
	char		*path;		/* to lock it for a rekey */
	unsigned char	*map;
	struct hdr	*h;
	uint64_t	*bits;
};

static void
boot_id(char out[48])
{
	char *s = NULL;
	size_t len;

	memset(out, 0, 48);
	if (ca_file_read(BOOT_ID, 47, &s, &len) == 0)
		memcpy(out, s, len);
	ca_err_clear();
	free(s);
}

/* New key and counter, no nonce spent: the flock is held. */
static int
setup(struct acme_nonces *n, const char *boot, const char *path)
{
	int ret;

	memset(n->map + HDR_SIZE, 0, ACME_NONCE_WINDOW / 8);
	memset(n->h, 0, sizeof(*n->h));
	if ((ret = gnutls_rnd(GNUTLS_RND_KEY, n->h->key,
	    sizeof(n->h->key))) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	memcpy(n->h->boot, boot, sizeof(n->h->boot));
	n->h->counter = 1;
	memcpy(n->h->magic, MAGIC, sizeof(n->h->magic));
	if (msync(n->map, MAP_SIZE, MS_SYNC) != 0)
		return ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
	return 0;
}

int
acme_nonces_open(const char *path, struct acme_nonces **out)
{
	struct acme_nonces *n = NULL;
	struct stat sb;
	char boot[48];
	void *m;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX) != 0 || fstat(fd, &sb) != 0) {
		rc = ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
		rc = ca_err(CA_ERR_CONFIG, "%s: not a regular file of mode 0600",
		    path);
		goto out;
	}
	if (sb.st_size != (off_t)MAP_SIZE && ftruncate(fd, MAP_SIZE) != 0) {
		rc = ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	m = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		rc = ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		munmap(m, MAP_SIZE);
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((n->path = strdup(path)) == NULL) {
		munmap(m, MAP_SIZE);
		free(n);
		n = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	n->map = m;
	n->h = m;
	n->bits = (uint64_t *)(void *)(n->map + HDR_SIZE);
	boot_id(boot);
	if (sb.st_size != (off_t)MAP_SIZE ||
	    memcmp(n->h->magic, MAGIC, sizeof(n->h->magic)) != 0 ||
	    memcmp(n->h->boot, boot, sizeof(boot)) != 0 ||
	    n->h->counter == 0 || n->h->counter >= REKEY_AT)
		rc = setup(n, boot, path);
out:
	/* Unlocked by hand: the mapping keeps the open file (and a lock). */
	(void)flock(fd, LOCK_UN);
	close(fd);
	if (rc != 0)
		acme_nonces_close(n);
	else
		*out = n;
	return rc;
}

void
acme_nonces_close(struct acme_nonces *n)
{
	if (n == NULL)
		return;
	munmap(n->map, MAP_SIZE);
	free(n->path);
	free(n);
}

/*
 * The counter passed REKEY_AT: a new key and counter, under the flock
 * (another process may have done it already). The nonces given out
 * meanwhile are refused (badNonce: the client retries).
 */
static int
rekey(struct acme_nonces *n)
{
	char boot[48];
	int fd, rc = 0;

	fd = open(n->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ca_err(CA_ERR_IO, "%s: %s", n->path, strerror(errno));
	if (flock(fd, LOCK_EX) != 0)
		rc = ca_err(CA_ERR_IO, "%s: %s", n->path, strerror(errno));
	else if (__atomic_load_n(&n->h->counter, __ATOMIC_SEQ_CST) >=
	    REKEY_AT) {
		boot_id(boot);
		rc = setup(n, boot, n->path);
	}
	(void)flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/* The raw nonce of counter c: c big-endian and its MAC. */
static int
raw_nonce(const struct acme_nonces *n, uint64_t c,
    unsigned char out[8 + MAC_LEN])
{
	unsigned char mac[32];
	int ret;

	ca_be32_put(out, (uint32_t)(c >> 32));
	ca_be32_put(out + 4, (uint32_t)c);
	if ((ret = gnutls_hmac_fast(GNUTLS_MAC_SHA256, n->h->key,
	    sizeof(n->h->key), out, 8, mac)) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	memcpy(out + 8, mac, MAC_LEN);
	return 0;
}

int
acme_nonce_new(struct acme_nonces *n, char out[ACME_NONCE_LEN + 1])
{
	unsigned char raw[8 + MAC_LEN];
	uint64_t c;
	char *s;
	int rc;

	out[0] = '\0';
	c = __atomic_fetch_add(&n->h->counter, 1, __ATOMIC_SEQ_CST);
	if (c >= REKEY_AT) {
		if ((rc = rekey(n)) != 0)
			return rc;
		c = __atomic_fetch_add(&n->h->counter, 1, __ATOMIC_SEQ_CST);
	}
	/* Its bit last served c - WINDOW, out of the window now. */
	__atomic_fetch_and(&n->bits[(c % ACME_NONCE_WINDOW) / 64],
	    ~((uint64_t)1 << (c % 64)), __ATOMIC_SEQ_CST);
	if ((rc = raw_nonce(n, c, raw)) != 0)
		return rc;
	if ((s = ca_b64url_encode(raw, sizeof(raw))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(out, s, ACME_NONCE_LEN + 1);
	free(s);
	return 0;
}

/* Whether c is in the window below the counter (issued, not too old). */
static int
in_window(struct acme_nonces *n, uint64_t c)
{
	uint64_t cur = __atomic_load_n(&n->h->counter, __ATOMIC_SEQ_CST);

	return c < cur && cur - c <= ACME_NONCE_WINDOW;
}

int
acme_nonce_use(struct acme_nonces *n, const char *s)
{
	unsigned char want[8 + MAC_LEN], *raw = NULL;
	unsigned char diff = 0;
	uint64_t c, mask, old;
	size_t len, i;
	int rc;

	if (strlen(s) != ACME_NONCE_LEN ||
	    ca_b64url_decode(s, ACME_NONCE_LEN, &raw, &len) != 0 ||
	    len != sizeof(want)) {
		free(raw);
		return ca_err(CA_ERR_REPLAY, "not a nonce of this server");
	}
	c = (uint64_t)ca_be32_get(raw) << 32 | ca_be32_get(raw + 4);
	if ((rc = raw_nonce(n, c, want)) != 0) {
		free(raw);
		return rc;
	}
	for (i = 8; i < sizeof(want); i++)
		diff |= raw[i] ^ want[i];
	free(raw);
	if (diff != 0)
		return ca_err(CA_ERR_REPLAY, "not a nonce of this server");
	if (!in_window(n, c))
		return ca_err(CA_ERR_REPLAY, "nonce too old");
	if (acme_nonce_race_hook != NULL)
		acme_nonce_race_hook();
	mask = (uint64_t)1 << (c % 64);
	old = __atomic_fetch_or(&n->bits[(c % ACME_NONCE_WINDOW) / 64], mask,
	    __ATOMIC_SEQ_CST);
	if (old & mask)
		return ca_err(CA_ERR_REPLAY, "nonce already used");
	/*
	 * The bit may have been cleared for c + WINDOW just before it was
	 * set: then the counter has passed it, and c is too old; the bit
	 * is c + WINDOW's now, unspent: cleared again.
	 */
	if (!in_window(n, c)) {
		__atomic_fetch_and(&n->bits[(c % ACME_NONCE_WINDOW) / 64],
		    ~mask, __ATOMIC_SEQ_CST);
		return ca_err(CA_ERR_REPLAY, "nonce too old");
	}
	return 0;
}

void
acme_nonces_skip(struct acme_nonces *n, uint64_t k)
{
	__atomic_fetch_add(&n->h->counter, k, __ATOMIC_SEQ_CST);
}

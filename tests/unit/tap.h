/*
 * tap.h - a minimal TAP producer for the C unit tests (automake's
 * tap-driver.sh reads it). Each check is one numbered test line.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_TAP_H
#define CA_TAP_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	int ok_c_ = (cond) ? 1 : 0;					\
	printf("%s %d - ", ok_c_ ? "ok" : "not ok", ++tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_c_) {							\
		tap_failed++;						\
		printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__,	\
		    #cond);						\
	}								\
} while (0)

#define is_int(got, want, ...) do {					\
	long long is_g_ = (long long)(got), is_w_ = (long long)(want);	\
	ok(is_g_ == is_w_, __VA_ARGS__);				\
	if (is_g_ != is_w_)						\
		printf("#   got %lld, want %lld\n", is_g_, is_w_);	\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *is_g_ = (got), *is_w_ = (want);			\
	int is_e_ = is_g_ != NULL && is_w_ != NULL &&			\
	    strcmp(is_g_, is_w_) == 0;					\
	ok(is_e_, __VA_ARGS__);						\
	if (!is_e_)							\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    is_g_ ? is_g_ : "(null)", is_w_ ? is_w_ : "(null)");\
} while (0)

/* A private temporary directory for a test program, and its removal. */
static char tmpdir[4096];

static int
tap_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
tmpdir_make(const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/ca-unit-%s-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp", name);
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
}

static inline void
tmpdir_remove(void)
{
	nftw(tmpdir, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* CA_TAP_H */

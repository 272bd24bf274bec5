/*
 * replay.c - run a fuzz harness over files, without libFuzzer: the
 * check program tests/fuzz/NAME.replay that `make check` runs in every
 * build (gcc too), so that a corpus input or a past crash that breaks
 * again fails the ordinary test run.
 *
 *   NAME.replay [FILE|DIR]...
 *
 * Each FILE, and each file of each DIR (sorted, dot files skipped), is
 * given to LLVMFuzzerTestOneInput once: one TAP test point per file. A
 * crash, a sanitizer report or a leak ends the program before its plan,
 * which the TAP driver counts as a failure. Without arguments the inputs
 * are $CA_TOP_SRCDIR/tests/fuzz/corpus/NAME and .../crashes/NAME, NAME
 * being the program's name without ".replay"; then the corpus must not be
 * empty.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX	(1024 * 1024)

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int tests, failed;

static void
result(int good, const char *path, const char *why)
{
	printf("%s %d - %s%s%s\n", good ? "ok" : "not ok", ++tests, path,
	    why != NULL ? ": " : "", why != NULL ? why : "");
	if (!good)
		failed++;
	fflush(stdout);
}

static void
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	size_t len;

	if ((f = fopen(path, "rb")) == NULL) {
		result(0, path, strerror(errno));
		return;
	}
	if ((buf = malloc(REPLAY_MAX + 1)) == NULL) {
		fclose(f);
		result(0, path, "out of memory");
		return;
	}
	len = fread(buf, 1, REPLAY_MAX + 1, f);
	if (ferror(f) || len > REPLAY_MAX) {
		result(0, path, ferror(f) ? "read error" : "larger than 1 MiB");
		free(buf);
		fclose(f);
		return;
	}
	fclose(f);
	/* Which input it was, should the harness not come back. */
	printf("# %s (%zu bytes)\n", path, len);
	fflush(stdout);
	/* A copy of exactly len bytes, so that ASan sees any overread. */
	{
		uint8_t *exact;

		if ((exact = malloc(len > 0 ? len : 1)) == NULL) {
			free(buf);
			result(0, path, "out of memory");
			return;
		}
		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	result(1, path, NULL);
}

/* The files of dir in name order; returns how many. */
static int
replay_dir(const char *dir, int must_exist)
{
	struct dirent **ents;
	char path[PATH_MAX];
	int i, n, count = 0;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0) {
		if (must_exist || errno != ENOENT)
			result(0, dir, strerror(errno));
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct stat st;

		if (ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]->d_name) < sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(path);
			count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

static void
replay_arg(const char *arg)
{
	struct stat st;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		replay_dir(arg, 1);
	else
		replay_file(arg);
}

int
main(int argc, char **argv)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	const char *top, *base;
	size_t len;
	int i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			replay_arg(argv[i]);
	} else {
		base = strrchr(argv[0], '/') != NULL ?
		    strrchr(argv[0], '/') + 1 : argv[0];
		len = strlen(base);
		if (len > strlen(".replay") &&
		    strcmp(base + len - strlen(".replay"), ".replay") == 0)
			len -= strlen(".replay");
		if (len >= sizeof(name)) {
			fprintf(stderr, "%s: name too long\n", argv[0]);
			return 2;
		}
		memcpy(name, base, len);
		name[len] = '\0';
		if ((top = getenv("CA_TOP_SRCDIR")) == NULL)
			top = ".";
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top,
		    name);
		if (replay_dir(dir, 1) == 0)
			result(0, dir, "no corpus");
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/crashes/%s", top,
		    name);
		replay_dir(dir, 0);
	}
	printf("1..%d\n", tests);
	return failed > 0;
}

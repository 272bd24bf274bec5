/*
 * test-util.c - unit tests of lib/errors.c, files.c, times.c and text.c:
 * durations, times, hex, escaping, files, secrets, error reporting, exit
 * statuses, paths.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "tap.h"

/* Something not NULL, to see that results are cleared. */
static char junk[1];

/* A path inside the temporary directory (static buffer, one at a time). */
static const char *
tpath(const char *name)
{
	static char buf[2][4200];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static void
put_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

/* Whole content of path equals want (len bytes). */
static int
file_is(const char *path, const char *want, size_t len)
{
	char buf[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)len && memcmp(buf, want, len) == 0;
}

/* Number of directory entries other than . and .. */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_duration_parse(void)
{
	static const struct {
		const char	*s;
		int64_t		 want;
	} good[] = {
		{ "90d", 7776000 },
		{ "24h", 86400 },
		{ "5m", 300 },
		{ "30s", 30 },
		{ "1h30m", 5400 },
		{ "24h0m0s", 86400 },
		{ "500ms", 0 },
		{ "1500ms", 1 },
		{ "1.5h", 5400 },
		{ "0", 0 },
		{ "+5m", 300 },
		{ "1d12h", 129600 },
	};
	static const char *bad[] = {
		"", "5", "5x", "h", "m5", "1h 30m", "5m-", ".h", "1..5h",
	};
	int64_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		rc = ca_duration_parse(good[i].s, 0, &v);
		is_int(rc, 0, "duration '%s' accepted", good[i].s);
		is_int(v, good[i].want, "duration '%s' = %" PRId64 " s",
		    good[i].s, good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		rc = ca_duration_parse(bad[i], 1, &v);
		is_int(rc, CA_ERR_INVAL, "duration '%s' refused", bad[i]);
		is_int(v, 0, "duration '%s': result cleared", bad[i]);
	}

	ca_err_clear();
	rc = ca_duration_parse("-5m", 0, &v);
	is_int(rc, CA_ERR_INVAL, "negative duration refused without allow_neg");
	ok(strstr(ca_errmsg(), "-5m") != NULL,
	    "negative duration: message quotes the input (%s)", ca_errmsg());
	rc = ca_duration_parse("-5m", 1, &v);
	is_int(rc, 0, "negative duration accepted with allow_neg");
	is_int(v, -300, "-5m = -300 s");
	rc = ca_duration_parse("-1h30m", 1, &v);
	is_int(v, -5400, "-1h30m = -5400 s (the sign applies to the sum)");

	ca_err_clear();
	rc = ca_duration_parse("99999999999999999999h", 0, &v);
	is_int(rc, CA_ERR_INVAL, "20-digit number of hours refused");
	ok(strstr(ca_errmsg(), "out of range") != NULL,
	    "overflow reported as out of range (%s)", ca_errmsg());
	rc = ca_duration_parse("9999999999999999d", 0, &v);
	is_int(rc, CA_ERR_INVAL, "days overflowing int64 seconds refused");
	rc = ca_duration_parse("2000000000000000000s", 0, &v);
	ok(rc == 0 && v == 2000000000000000000LL, "2e18 s is in range");
	rc = ca_duration_parse("2000000000000000000s2000000000000000000s", 0,
	    &v);
	is_int(rc, CA_ERR_INVAL, "a sum over INT64_MAX / 4 refused");

	/*
	 * Sub-second units summed past int64 nanoseconds: a positive input
	 * must give either its exact value in seconds or a refusal, never a
	 * negative number. 1e19 ns = 1e10 s.
	 */
	v = 0;
	rc = ca_duration_parse("10000000000000000000ns", 0, &v);
	ok((rc == 0 && v == 10000000000LL) || (rc == CA_ERR_INVAL && v == 0),
	    "10000000000000000000ns: exact (1e10 s) or refused, not wrapped "
	    "(rc %d, %" PRId64 " s)", rc, v);
}

static void
test_duration_format(void)
{
	static const struct {
		int64_t		 secs;
		const char	*want;
	} v[] = {
		{ 86400, "24h0m0s" },
		{ 5400, "1h30m0s" },
		{ 3661, "1h1m1s" },
		{ 7776000, "2160h0m0s" },
		{ -5400, "-1h30m0s" },
		{ INT64_MIN, "-2562047788015215h30m8s" },
		{ INT64_MAX, "2562047788015215h30m7s" },
	};
	static const int64_t rt[] = { 0, 1, 59, 60, 300, 3599, 3600, 86399 };
	char buf[64];
	int64_t back;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ca_duration_format(v[i].secs, buf, sizeof(buf));
		is_str(buf, v[i].want, "format %" PRId64, v[i].secs);
	}
	/* Whatever is printed must read back as the same duration. */
	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		ca_duration_format(rt[i], buf, sizeof(buf));
		back = -1;
		ok(ca_duration_parse(buf, 0, &back) == 0 && back == rt[i],
		    "format %" PRId64 " -> '%s' parses back", rt[i], buf);
	}
	ca_duration_format(-90, buf, sizeof(buf));
	ok(ca_duration_parse(buf, 1, &back) == 0 && back == -90,
	    "format -90 -> '%s' parses back", buf);
	memset(buf, 'x', sizeof(buf));
	ca_duration_format(86400, buf, 4);
	is_str(buf, "24h", "format truncates to the buffer");
}

static void
test_time_parse(void)
{
	static const struct {
		const char	*s;
		time_t		 want;
	} good[] = {
		{ "2026-01-02T03:04:05Z", 1767323045 },
		{ "2026-01-02t03:04:05z", 1767323045 },
		{ "2026-01-02 03:04:05Z", 1767323045 },
		{ "2026-01-02T05:04:05+02:00", 1767323045 },
		{ "2026-01-02T01:34:05-01:30", 1767323045 },
		{ "2026-01-02T03:04:05.999Z", 1767323045 },
		{ "2026-01-02T03:04:05.123456789+00:00", 1767323045 },
		{ "2024-02-29T23:59:59Z", 1709251199 },
		{ "1970-01-01T00:00:00Z", 0 },
	};
	static const char *bad[] = {
		"2026-13-01T00:00:00Z",
		"2026-01-32T00:00:00Z",
		"2026-01-01T24:00:00Z",
		"2026-01-01T00:60:00Z",
		"2026-01-01T00:00:00",
		"2026-01-01T00:00:00+0200",
		"2026-01-01T00:00:00+02:00x",
		"2026-01-01T00:00:00.Z",
		"2026-01-01T00:00:00ZZ",
		"2026-1-01T00:00:00Z",
		"20x6-01-01T00:00:00Z",
		"2026-01-01",
		"yesterday",
		"",
		"5",
		/* Dates that do not exist, not normalised into others. */
		"2026-00-10T00:00:00Z",
		"2026-02-30T00:00:00Z",
		"2025-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z",
	};
	const time_t now = 1767323045;
	time_t t;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = -1;
		rc = ca_time_parse(good[i].s, 0, &t);
		ok(rc == 0 && t == good[i].want,
		    "time '%s' = %lld (got rc %d, %lld)",
		    good[i].s, (long long)good[i].want, rc, (long long)t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 12345;
		rc = ca_time_parse(bad[i], now, &t);
		ok(rc == CA_ERR_INVAL && t == 0,
		    "time '%s' refused (got rc %d, %lld)",
		    bad[i], rc, (long long)t);
	}
	rc = ca_time_parse("24h", now, &t);
	ok(rc == 0 && t == now + 86400, "relative 24h = now + 86400");
	rc = ca_time_parse("-5m", now, &t);
	ok(rc == 0 && t == now - 300, "relative -5m = now - 300");
	rc = ca_time_parse("0", now, &t);
	ok(rc == 0 && t == now, "relative 0 = now");
	ca_err_clear();
	rc = ca_time_parse("yesterday", now, &t);
	ok(strstr(ca_errmsg(), "'yesterday'") != NULL,
	    "refused time quoted in the message (%s)", ca_errmsg());
}

static void
test_time_format(void)
{
	char buf[32];
	time_t t;

	ca_time_format(0, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00Z", "format epoch");
	ca_time_format(1767323045, buf, sizeof(buf));
	is_str(buf, "2026-01-02T03:04:05Z", "format 2026-01-02T03:04:05Z");
	ca_time_format(1709251199, buf, sizeof(buf));
	is_str(buf, "2024-02-29T23:59:59Z", "format a leap day");
	ca_time_format(4102444800, buf, sizeof(buf));
	is_str(buf, "2100-01-01T00:00:00Z", "format 2100");
	ok(ca_time_parse(buf, 0, &t) == 0 && t == 4102444800,
	    "formatted time parses back");
}

static void
test_escape(void)
{
	char buf[64], small[8];

	is_str(ca_escape(buf, sizeof(buf), "GET /x%0a", 1), "GET\\x20/x%0a",
	    "ca_escape: a bare field has its spaces escaped");
	is_str(ca_escape(buf, sizeof(buf), "a b", 0), "a b",
	    "ca_escape: a quoted field keeps its spaces");
	is_str(ca_escape(buf, sizeof(buf), "x\n2026 y\r\x1b[2J", 0),
	    "x\\x0a2026 y\\x0d\\x1b[2J",
	    "ca_escape: newline, carriage return, escape as \\xNN");
	is_str(ca_escape(buf, sizeof(buf), "\xc3\xa9\xff\x7f\t", 0),
	    "\\xc3\\xa9\\xff\\x7f\\x09", "ca_escape: 8-bit bytes, DEL, tab");
	is_str(ca_escape(buf, sizeof(buf), "say \"hi\" \\o/", 0),
	    "say \\\"hi\\\" \\\\o/", "ca_escape: quotes and backslashes");
	is_str(ca_escape(small, sizeof(small), "abcd\nef", 0), "abcd",
	    "ca_escape: cut before an escape that does not fit");
	is_str(ca_escape(small, sizeof(small), "abcdef\"", 0), "abcdef",
	    "ca_escape: cut before a backslashed quote that does not fit");
	is_str(ca_escape(small, 1, "abc", 0), "", "ca_escape: room for nothing");
}

static void
test_hex(void)
{
	static const unsigned char bin[] = { 0x00, 0x01, 0x7f, 0x80, 0xab,
	    0xff };
	unsigned char *b;
	size_t n;
	char *s;
	int rc;

	s = ca_hex(bin, sizeof(bin));
	is_str(s, "00017f80abff", "ca_hex lowercase");
	free(s);
	s = ca_hex(bin, 0);
	is_str(s, "", "ca_hex of nothing is \"\"");
	free(s);

	rc = ca_unhex("00017F80abFF", &b, &n);
	ok(rc == 0 && n == sizeof(bin) && memcmp(b, bin, n) == 0,
	    "ca_unhex mixed case");
	free(b);
	rc = ca_unhex("", &b, &n);
	ok(rc == 0 && n == 0, "ca_unhex of \"\" is empty");
	free(b);
	b = (unsigned char *)junk;
	n = 7;
	rc = ca_unhex("abc", &b, &n);
	ok(rc == CA_ERR_INVAL && b == NULL && n == 0,
	    "ca_unhex odd length refused");
	rc = ca_unhex("0g", &b, &n);
	ok(rc == CA_ERR_INVAL && b == NULL && n == 0,
	    "ca_unhex bad digit refused");
	rc = ca_unhex("00 1", &b, &n);
	is_int(rc, CA_ERR_INVAL, "ca_unhex space refused");
	rc = ca_unhex("0x00", &b, &n);
	is_int(rc, CA_ERR_INVAL, "ca_unhex 0x prefix refused");
}

static void
test_write_atomic(void)
{
	const char *p = tpath("out.txt");
	struct stat sb;
	int rc;

	rc = ca_file_publish(p, "hello\n", 6, 0600, 0);
	is_int(rc, 0, "write_atomic creates the file");
	ok(file_is(p, "hello\n", 6), "write_atomic content");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600,
	    "write_atomic mode 0600 (got %o)", (unsigned)(sb.st_mode & 07777));
	is_int(count_entries(tmpdir), 1,
	    "write_atomic leaves no temporary file");

	rc = ca_file_publish(p, "bye", 3, 0644, 0);
	is_int(rc, 0, "write_atomic replaces the file");
	ok(file_is(p, "bye", 3), "write_atomic replaced content");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0644,
	    "write_atomic applies the new mode 0644 (got %o)",
	    (unsigned)(sb.st_mode & 07777));
	is_int(count_entries(tmpdir), 1, "still no temporary file");

	rc = ca_file_publish(p, "", 0, 0600, 0);
	ok(rc == 0 && file_is(p, "", 0), "write_atomic of an empty file");

	rc = ca_file_publish(tpath("no/such/dir/f"), "x", 1, 0600, 0);
	is_int(rc, CA_ERR_IO, "write_atomic into a missing directory fails");
	unlink(p);
}

static void
test_write_new(void)
{
	const char *p = tpath("new.txt");
	struct stat sb;
	int rc;

	rc = ca_file_publish(p, "first", 5, 0600, CA_PUBLISH_NEW);
	is_int(rc, 0, "write_new creates a new file");
	ok(file_is(p, "first", 5) && stat(p, &sb) == 0 &&
	    (sb.st_mode & 07777) == 0600, "write_new content and mode");
	ca_err_clear();
	rc = ca_file_publish(p, "second", 6, 0600, CA_PUBLISH_NEW);
	is_int(rc, CA_ERR_EXISTS, "write_new refuses an existing file");
	ok(strstr(ca_errmsg(), p) != NULL, "message names the file (%s)",
	    ca_errmsg());
	ok(file_is(p, "first", 5),
	    "write_new left the existing file untouched");
	is_int(count_entries(tmpdir), 1, "write_new leaves no temporary file");
	unlink(p);
}

static void
test_stage_commit(void)
{
	const char *p = tpath("staged"), *q;
	struct ca_staged st;
	struct stat sb;
	int rc;

	rc = ca_file_stage(p, "abc", 3, 0640, 0, &st);
	ok(rc == 0 && st.tmp != NULL, "stage returns a temporary name");
	ok(st.tmp != NULL && strncmp(st.tmp, p, strlen(p)) == 0,
	    "temporary file in the same directory (%s)", st.tmp ? st.tmp : "");
	ok(access(p, F_OK) != 0, "stage does not publish");
	ok(st.tmp != NULL && file_is(st.tmp, "abc", 3) &&
	    stat(st.tmp, &sb) == 0 && (sb.st_mode & 07777) == 0640,
	    "temporary file has content and mode");
	ca_file_abort(&st);
	ok(st.tmp == NULL && st.path == NULL, "abort clears the handle");
	is_int(count_entries(tmpdir), 0, "abort leaves no file");
	ca_file_abort(&st);	/* a second abort is a no-op */

	rc = ca_file_stage(p, "abc", 3, 0600, 0, &st);
	rc = rc ? rc : ca_file_commit(&st);
	is_int(rc, 0, "stage + commit");
	ok(file_is(p, "abc", 3), "committed content");
	ca_file_abort(&st);
	ok(file_is(p, "abc", 3), "abort after commit keeps the published file");
	is_int(count_entries(tmpdir), 1, "commit leaves only the file");

	rc = ca_file_stage(p, "def", 3, 0600, CA_PUBLISH_NEW, &st);
	is_int(rc, CA_ERR_EXISTS, "exclusive stage over an existing file");
	ok(file_is(p, "abc", 3), "exclusive stage left the file untouched");
	ca_file_abort(&st);
	is_int(count_entries(tmpdir), 1, "a refused stage leaves no file");

	/* The name appears between stage and commit: link() refuses it. */
	q = tpath("staged2");
	rc = ca_file_stage(q, "ghi", 3, 0600, CA_PUBLISH_NEW, &st);
	ok(rc == 0 && link(p, q) == 0, "exclusive stage, then the name taken");
	rc = ca_file_commit(&st);
	is_int(rc, CA_ERR_EXISTS, "exclusive commit over an existing file");
	ca_file_abort(&st);
	ok(file_is(q, "abc", 3), "exclusive commit left the file untouched");
	is_int(count_entries(tmpdir), 2,
	    "abort after a failed commit cleans up");
	unlink(q);

	rc = ca_file_stage(q, "ghi", 3, 0600, CA_PUBLISH_NEW, &st);
	rc = rc ? rc : ca_file_commit(&st);
	is_int(rc, 0, "exclusive commit of a new file");
	ok(file_is(q, "ghi", 3), "exclusive commit content");
	ca_file_abort(&st);
	is_int(count_entries(tmpdir), 2,
	    "exclusive commit leaves no temporary file");
	unlink(p);
	unlink(q);

	rc = ca_file_stage(tpath("missing/f"), "x", 1, 0600, 0, &st);
	ok(rc == CA_ERR_IO && st.tmp == NULL,
	    "stage into a missing directory fails");
	ca_file_abort(&st);
}

/* Only regular files are replaced; devices and FIFOs are written in place. */
static void
test_publish_targets(void)
{
	const char *p = tpath("target"), *l = tpath("link");
	char buf[16];
	struct stat sb;
	pid_t pid;
	int rc, fd, status;
	ssize_t n;

	ok(symlink("target", l) == 0, "a symbolic link to a missing file");
	ca_err_clear();
	rc = ca_file_publish(l, "x", 1, 0644, 0);
	is_int(rc, CA_ERR_INVAL, "publishing onto a symbolic link is refused");
	ok(strstr(ca_errmsg(), "symbolic link") != NULL,
	    "the message says why (%s)", ca_errmsg());
	is_int(ca_file_publish_check(l, 0), CA_ERR_INVAL, "and so is the check");
	ok(lstat(l, &sb) == 0 && S_ISLNK(sb.st_mode) && access(p, F_OK) != 0,
	    "the link stays a link and nothing was created through it");
	unlink(l);

	ok(mkdir(p, 0700) == 0, "a directory");
	rc = ca_file_publish(p, "x", 1, 0644, 0);
	is_int(rc, CA_ERR_INVAL, "publishing onto a directory is refused");
	rmdir(p);

	ok(mkfifo(p, 0600) == 0, "a FIFO");
	is_int(ca_file_publish_check(p, 0), 0, "a FIFO can be published to");
	is_int(ca_file_publish_check(p, CA_PUBLISH_NEW), CA_ERR_EXISTS,
	    "but not as a new file");
	pid = fork();
	if (pid == 0) {
		fd = open(p, O_RDONLY);
		n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		_exit(n == 5 && memcmp(buf, "fifo\n", 5) == 0 ? 0 : 1);
	}
	rc = ca_file_publish(p, "fifo\n", 5, 0644, 0);
	is_int(rc, 0, "written into the FIFO");
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "the reader got the data");
	ok(lstat(p, &sb) == 0 && S_ISFIFO(sb.st_mode), "the FIFO stays a FIFO");
	is_int(count_entries(tmpdir), 1, "no temporary file next to it");
	unlink(p);

	/* Someone else's run of an older build may have replaced it. */
	if (lstat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode)) {
		rc = ca_file_publish("/dev/null", "null\n", 5, 0644, 0);
		is_int(rc, 0, "written into /dev/null");
		ok(lstat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode),
		    "/dev/null stays a character device");
	}
}

static void
test_file_read(void)
{
	static const char data[] = "0123456789abcdefghij";	/* 20 bytes */
	const char *p = tpath("data");
	char big[10000], *buf;
	size_t len;
	int rc;

	put_file(p, data, 20, 0600);
	rc = ca_file_read(p, 20, &buf, &len);
	ok(rc == 0 && len == 20 && memcmp(buf, data, 20) == 0,
	    "read a file of exactly max bytes");
	ok(rc == 0 && buf[20] == '\0', "buffer NUL-terminated");
	free(buf);
	len = 99;
	buf = junk;
	rc = ca_file_read(p, 19, &buf, &len);
	ok(rc == CA_ERR_TOOBIG && buf == NULL && len == 0,
	    "file of max + 1 bytes: CA_ERR_TOOBIG");
	rc = ca_file_read(p, 20, &buf, NULL);
	ok(rc == 0 && strcmp(buf, data) == 0, "outlen may be NULL");
	free(buf);

	memset(big, 'z', sizeof(big));
	put_file(p, big, sizeof(big), 0600);
	rc = ca_file_read(p, sizeof(big), &buf, &len);
	ok(rc == 0 && len == sizeof(big) && memcmp(buf, big, len) == 0 &&
	    buf[len] == '\0', "read a file larger than one read buffer");
	free(buf);
	rc = ca_file_read(p, 5000, &buf, &len);
	is_int(rc, CA_ERR_TOOBIG, "large file over its limit");

	put_file(p, "a\0b", 3, 0600);
	rc = ca_file_read(p, 100, &buf, &len);
	ok(rc == 0 && len == 3 && memcmp(buf, "a\0b", 4) == 0,
	    "binary content with a NUL kept, length exact");
	free(buf);

	put_file(p, "", 0, 0600);
	rc = ca_file_read(p, 0, &buf, &len);
	ok(rc == 0 && len == 0 && buf != NULL && buf[0] == '\0',
	    "empty file: empty NUL-terminated buffer");
	free(buf);
	unlink(p);

	ca_err_clear();
	buf = junk;
	rc = ca_file_read(tpath("absent"), 100, &buf, &len);
	ok(rc == CA_ERR_NOTFOUND && buf == NULL,
	    "missing file: CA_ERR_NOTFOUND");
	ok(strstr(ca_errmsg(), "absent") != NULL, "message names the file (%s)",
	    ca_errmsg());
	rc = ca_file_read(tmpdir, 100, &buf, &len);
	is_int(rc, CA_ERR_IO, "reading a directory: CA_ERR_IO");
}

static void
test_secret_read(void)
{
	static const struct {
		const char	*content;
		size_t		 len;
		const char	*want;	/* NULL: refused */
	} v[] = {
		{ "s3cret\n", 7, "s3cret" },
		{ "s3cret", 6, "s3cret" },
		{ "s3cret\r\n", 8, "s3cret" },
		{ " pass word ", 11, " pass word " },
		{ "", 0, NULL },
		{ "\n", 1, NULL },
		{ "\r\n", 2, NULL },
		{ "a\nb", 3, NULL },
		{ "a\nb\n", 4, NULL },
		{ "a\n\n", 3, NULL },
		{ "a\0b\n", 4, NULL },
	};
	const char *p = tpath("pw");
	char big[CA_MAX_PASSWORD + 1], *s;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		put_file(p, v[i].content, v[i].len, 0600);
		s = junk;
		len = 99;
		rc = ca_secret_read(p, &s, &len);
		if (v[i].want != NULL) {
			ok(rc == 0 && len == strlen(v[i].want) &&
			    strcmp(s, v[i].want) == 0,
			    "secret %zu read as '%s'", i, v[i].want);
			ca_free_secret(s, len);
		} else
			ok(rc == CA_ERR_INVAL && s == NULL && len == 0,
			    "secret %zu refused (rc %d)", i, rc);
		unlink(p);
	}
	memset(big, 'p', sizeof(big));
	put_file(p, big, sizeof(big), 0600);
	rc = ca_secret_read(p, &s, &len);
	is_int(rc, CA_ERR_TOOBIG, "password file over CA_MAX_PASSWORD");
	unlink(p);
	rc = ca_secret_read(p, &s, &len);
	is_int(rc, CA_ERR_NOTFOUND, "missing password file");
}

static void
test_errors(void)
{
	char longs[2000];
	const char *m;
	int rc;

	ca_err_clear();
	is_str(ca_errmsg(), "", "no message after clear");
	rc = ca_err(CA_ERR_IO, "open %s: %d", "f", 5);
	is_int(rc, CA_ERR_IO, "ca_err returns its code");
	is_str(ca_errmsg(), "open f: 5", "ca_err formats the message");
	ca_err_context("loading %s", "x.json");
	is_str(ca_errmsg(), "loading x.json: open f: 5", "context prefixed");
	ca_err_context("outer");
	is_str(ca_errmsg(), "outer: loading x.json: open f: 5",
	    "context nests");

	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	ca_err(CA_ERR_INVAL, "%s", longs);
	m = ca_errmsg();
	is_int(strlen(m), 511, "long message truncated to the buffer");
	ok(strspn(m, "a") == 511, "truncated message keeps its start");
	ca_err_context("ctx");
	m = ca_errmsg();
	ok(strlen(m) == 511 && strncmp(m, "ctx: aaaa", 9) == 0,
	    "context on a full buffer: prefix kept, total 511");
	ca_err(CA_ERR_INVAL, "short");
	ca_err_context("%s", longs);
	m = ca_errmsg();
	ok(strlen(m) == 262 && strspn(m, "a") == 255 &&
	    strcmp(m + 255, ": short") == 0,
	    "long context truncated to 255 bytes before the message");
	ca_err_clear();
	ca_err_context("ctx");
	is_str(ca_errmsg(), "ctx: ", "context with no message");

	is_int(ca_exit_status(0), 0, "exit status of success");
	is_int(ca_exit_status(CA_ERR_TEMP), 4, "exit status of CA_ERR_TEMP");
	is_int(ca_exit_status(CA_ERR_INVAL), 1, "exit status of CA_ERR_INVAL");
	is_int(ca_exit_status(CA_ERR_STORE), 1, "exit status of CA_ERR_STORE");
	is_int(ca_exit_status(CA_ERR_NOMEM), 1, "exit status of CA_ERR_NOMEM");
	is_int(ca_exit_status(CA_ERR_REPLAY), 1,
	    "exit status of CA_ERR_REPLAY");
	is_int(ca_exit_status(CA_ERR_TOOBIG), 1,
	    "exit status of CA_ERR_TOOBIG");
	ca_err_clear();
}

static void
test_paths(void)
{
	char *s;
	struct stat sb;

	s = ca_path_join("/srv/ca", "config/ca.json");
	is_str(s, "/srv/ca/config/ca.json", "join relative");
	free(s);
	s = ca_path_join("/srv/ca", "/etc/ca.json");
	is_str(s, "/etc/ca.json", "join absolute: rel as is");
	free(s);
	s = ca_path_join("", "x");
	is_str(s, "x", "join with an empty dir");
	free(s);
	s = ca_path_join(NULL, "x");
	is_str(s, "x", "join with a NULL dir");
	free(s);
	s = ca_path_join("rel", "x");
	is_str(s, "rel/x", "join with a relative dir");
	free(s);

	is_int(ca_mkdir_p(tpath("a/b/c"), 0700), 0, "mkdir -p");
	ok(stat(tpath("a/b/c"), &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0700, "mkdir -p made the directory 0700");
	is_int(ca_mkdir_p(tpath("a/b/c"), 0700), 0,
	    "mkdir -p of an existing path");
	put_file(tpath("a/file"), "x", 1, 0600);
	is_int(ca_mkdir_p(tpath("a/file/d"), 0700), CA_ERR_IO,
	    "mkdir -p through a file fails");
}

static void
test_text_escape(void)
{
	char *e;

	e = ca_text_escape("plain CN=a.test", NULL);
	is_str(e, "plain CN=a.test", "text_escape: printable ASCII kept");
	free(e);
	e = ca_text_escape("a\tb\nc\\d\re\x1b[31m\x7f\xc2\x85", NULL);
	is_str(e, "a\\tb\\nc\\\\d\\x0de\\x1b[31m\\x7f\\xc2\\x85",
	    "text_escape: tab, newline, backslash, controls, beyond ASCII");
	free(e);
	e = ca_text_escape("x,y", ",");
	is_str(e, "x\\x2cy", "text_escape: a separator as \\xHH");
	free(e);
	e = ca_text_escape("", ",");
	is_str(e, "", "text_escape: empty");
	free(e);
}

int
main(void)
{
	tmpdir_make("util");
	test_duration_parse();
	test_duration_format();
	test_time_parse();
	test_time_format();
	test_escape();
	test_hex();
	test_text_escape();
	test_write_atomic();
	test_write_new();
	test_stage_commit();
	test_publish_targets();
	test_file_read();
	test_secret_read();
	test_errors();
	test_paths();
	tmpdir_remove();
	return tap_done();
}

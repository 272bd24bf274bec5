/*
 * util.c - error reporting, files, durations, times, hex.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "ca.h"

static _Thread_local char errbuf[512];
int ca_verbose;
static void (*log_fn)(int, const char *);

int
ca_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return code;
}

const char *
ca_errmsg(void)
{
	return errbuf;
}

void
ca_err_clear(void)
{
	errbuf[0] = '\0';
}

void
ca_err_context(const char *fmt, ...)
{
	char ctx[256], old[sizeof(errbuf)];
	size_t n, m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof(old));
	n = strlen(ctx);
	if (n > sizeof(errbuf) - 3)
		n = sizeof(errbuf) - 3;
	memcpy(errbuf, ctx, n);
	errbuf[n++] = ':';
	errbuf[n++] = ' ';
	m = strlen(old);
	if (m > sizeof(errbuf) - 1 - n)
		m = sizeof(errbuf) - 1 - n;
	memcpy(errbuf + n, old, m);
	errbuf[n + m] = '\0';
}

int
ca_exit_status(int code)
{
	if (code == 0)
		return CA_EXIT_OK;
	if (code == CA_ERR_TEMP || code == CA_ERR_UPSTREAM ||
	    code == CA_ERR_UPSTREAM_TIMEOUT)
		return CA_EXIT_TEMP;
	return CA_EXIT_FAIL;
}

void
ca_set_log_function(void (*fn)(int, const char *))
{
	log_fn = fn;
}

/* One diagnostic line: to the program's log function, else stderr. */
static void diag(int, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
diag(int level, const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_fn != NULL)
		log_fn(level, buf);
	else
		fprintf(stderr, "%s: %s%s\n", program_invocation_short_name,
		    prefix, buf);
}

void
ca_debug(const char *fmt, ...)
{
	va_list ap;

	if (!ca_verbose)
		return;
	va_start(ap, fmt);
	diag(1, "", fmt, ap);
	va_end(ap);
}

void
ca_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(0, "warning: ", fmt, ap);
	va_end(ap);
}

void
ca_wipe(void *p, size_t n)
{
	if (p != NULL)
		gnutls_memset(p, 0, n);
}

void
ca_free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	gnutls_memset(p, 0, n);
	free(p);
}

int
ca_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ca_fd_read(int fd, const char *name, size_t max, char **out, size_t *outlen)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int rc = CA_OK;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 2)
				cap = max + 2;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				rc = ca_err(CA_ERR_NOMEM, "out of memory");
				goto out;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ca_err(CA_ERR_IO, "%s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = ca_err(CA_ERR_TOOBIG, "%s: larger than %zu bytes", name,
			    max);
			goto out;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (outlen != NULL)
		*outlen = len;
out:
	if (buf != NULL)
		ca_free_secret(buf, cap);
	return rc;
}

int
ca_file_read(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, rc;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (strcmp(path, "-") == 0)
		return ca_fd_read(STDIN_FILENO, "standard input", max, out, outlen);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ca_err(errno == ENOENT ? CA_ERR_NOTFOUND : CA_ERR_IO,
		    "%s: %s", path, strerror(errno));
	rc = ca_fd_read(fd, path, max, out, outlen);
	close(fd);
	return rc;
}

int
ca_secret_read(const char *path, char **out, size_t *outlen)
{
	char *buf;
	size_t len, i;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = ca_file_read(path, CA_MAX_PASSWORD, &buf, &len)) != 0)
		return rc;
	/* The secret is the first line; a single trailing newline is not part of it. */
	for (i = 0; i < len && buf[i] != '\n'; i++)
		;
	if (i < len && i + 1 < len) {
		ca_free_secret(buf, len);
		return ca_err(CA_ERR_INVAL,
		    "%s: more than one line in a password file", path);
	}
	if (i > 0 && buf[i - 1] == '\r')
		i--;
	if (memchr(buf, '\0', i) != NULL) {
		ca_free_secret(buf, len);
		return ca_err(CA_ERR_INVAL, "%s: NUL byte in password", path);
	}
	gnutls_memset(buf + i, 0, len - i);
	if (i == 0) {
		ca_free_secret(buf, len);
		return ca_err(CA_ERR_INVAL, "%s: empty password", path);
	}
	*out = buf;
	*outlen = i;
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char *copy, *dir;
	int fd, rc = 0;

	if ((copy = strdup(path)) == NULL)
		return -1;
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/*
 * What publishing path means. Symbolic links are never followed here: a
 * caller that means to write through one resolves it first.
 */
enum target {
	T_STDOUT,	/* "-" */
	T_RENAME,	/* absent or a regular file: temporary file + rename */
	T_DIRECT	/* a character device or FIFO: written in place */
};

static int
classify(const char *path, int flags, enum target *t)
{
	struct stat st;

	if (strcmp(path, "-") == 0) {
		if (flags & CA_PUBLISH_NEW)
			return ca_err(CA_ERR_INVAL,
			    "standard output is not a file name");
		*t = T_STDOUT;
		return 0;
	}
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return ca_err(CA_ERR_IO, "%s: %s", path,
			    strerror(errno));
		*t = T_RENAME;
		return 0;
	}
	if (flags & CA_PUBLISH_NEW)
		return ca_err(CA_ERR_EXISTS, "%s: already exists", path);
	if (S_ISREG(st.st_mode))
		*t = T_RENAME;
	else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
		*t = T_DIRECT;
	else if (S_ISLNK(st.st_mode))
		return ca_err(CA_ERR_INVAL, "%s: a symbolic link, not followed: "
		    "name the file it points to", path);
	else if (S_ISDIR(st.st_mode))
		return ca_err(CA_ERR_INVAL, "%s: a directory", path);
	else
		return ca_err(CA_ERR_INVAL, "%s: not a regular file, character "
		    "device or FIFO", path);
	return 0;
}

static int
dir_writable(const char *path)
{
	char *copy;
	int ok;

	if ((copy = strdup(path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	ok = access(dirname(copy), W_OK) == 0;
	free(copy);
	return ok ? 0 : ca_err(CA_ERR_IO, "%s: directory not writable", path);
}

int
ca_file_publish_check(const char *path, int flags)
{
	enum target t;
	int rc;

	if ((rc = classify(path, flags, &t)) != 0)
		return rc;
	if (t == T_RENAME)
		return dir_writable(path);
	if (t == T_DIRECT && access(path, W_OK) != 0)
		return ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
	return 0;
}

/* errno of a failed write, in words; EFBIG names the limit it hit. */
static int
write_error(const char *path, int err)
{
	if (err == EFBIG)
		return ca_err(CA_ERR_IO, "%s: file too large (file size limit)",
		    path);
	return ca_err(CA_ERR_IO, "%s: %s", path, strerror(err));
}

static int
stage_temp(struct ca_staged *s, const void *data, size_t len, int mode)
{
	struct stat st;
	int fd, saved;

	if (asprintf(&s->tmp, "%s.tmpXXXXXX", s->path) < 0) {
		s->tmp = NULL;
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	/* mkostemp: O_CREAT|O_EXCL, mode 0600 until the fchmod below. */
	if ((fd = mkostemp(s->tmp, O_CLOEXEC)) < 0) {
		saved = errno;
		free(s->tmp);
		s->tmp = NULL;
		return ca_err(CA_ERR_IO, "%s: cannot create a temporary file: %s",
		    s->path, strerror(saved));
	}
	if ((s->flags & CA_PUBLISH_KEEP_MODE) && lstat(s->path, &st) == 0) {
		mode = (int)(st.st_mode & 07777);
		if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
		    fchown(fd, st.st_uid, st.st_gid) != 0)
			ca_debug("%s: keeping owner %u:%u: %s", s->path,
			    (unsigned)st.st_uid, (unsigned)st.st_gid,
			    strerror(errno));
	}
	if (fchmod(fd, (mode_t)mode) != 0 || ca_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		return write_error(s->path, saved);
	}
	if (close(fd) != 0)
		return write_error(s->path, errno);
	return 0;
}

int
ca_file_stage(const char *path, const void *data, size_t len, int mode,
    int flags, struct ca_staged *s)
{
	enum target t;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = classify(path, flags, &t)) != 0)
		return rc;
	if ((s->path = strdup(path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	s->flags = flags;
	s->data = data;
	s->len = len;
	s->direct = t != T_RENAME;
	if (t == T_RENAME && (rc = stage_temp(s, data, len, mode)) != 0)
		ca_file_abort(s);
	return rc;
}

/* A device or FIFO: opened without creating or following anything. */
static int
write_direct(const char *path, const void *data, size_t len)
{
	struct stat st;
	int fd, saved;

	if (strcmp(path, "-") == 0) {
		if (ca_write_all(STDOUT_FILENO, data, len) != 0)
			return write_error("standard output", errno);
		return 0;
	}
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)) < 0)
		return ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
	/* It may have been swapped since it was looked at. */
	if (fstat(fd, &st) != 0 ||
	    !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return ca_err(CA_ERR_INVAL, "%s: no longer a character device "
		    "or FIFO", path);
	}
	if (ca_write_all(fd, data, len) != 0) {
		saved = errno;
		close(fd);
		return write_error(path, saved);
	}
	if (close(fd) != 0)
		return write_error(path, errno);
	return 0;
}

int
ca_file_commit(struct ca_staged *s)
{
	int rc;

	if (s->direct)
		return write_direct(s->path, s->data, s->len);
	if (s->tmp == NULL)
		return ca_err(CA_ERR_INVAL, "%s: nothing staged", s->path);
	/* link() fails if path exists: an exclusive rename. */
	if (s->flags & CA_PUBLISH_NEW) {
		if (link(s->tmp, s->path) != 0) {
			rc = errno == EEXIST ? CA_ERR_EXISTS : CA_ERR_IO;
			return ca_err(rc, "%s: %s", s->path, strerror(errno));
		}
		unlink(s->tmp);
	} else if (rename(s->tmp, s->path) != 0)
		return ca_err(CA_ERR_IO, "%s: %s", s->path, strerror(errno));
	free(s->tmp);
	s->tmp = NULL;
	if (fsync_dir_of(s->path) != 0)
		return ca_err(CA_ERR_IO, "%s: cannot sync directory: %s",
		    s->path, strerror(errno));
	return 0;
}

void
ca_file_abort(struct ca_staged *s)
{
	if (s->tmp != NULL) {
		unlink(s->tmp);
		free(s->tmp);
	}
	free(s->path);
	memset(s, 0, sizeof(*s));
}

int
ca_file_publish(const char *path, const void *data, size_t len, int mode,
    int flags)
{
	struct ca_staged s;
	int rc;

	if ((rc = ca_file_stage(path, data, len, mode, flags, &s)) == 0)
		rc = ca_file_commit(&s);
	ca_file_abort(&s);
	return rc;
}

int
ca_mkdir_p(const char *path, int mode)
{
	char *copy, *p;
	int rc = 0;

	if ((copy = strdup(path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, (mode_t)mode) != 0 && errno != EEXIST) {
			rc = ca_err(CA_ERR_IO, "%s: %s", copy, strerror(errno));
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return rc;
}

char *
ca_path_join(const char *dir, const char *rel)
{
	char *s;

	if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
		return strdup(rel);
	if (asprintf(&s, "%s/%s", dir, rel) < 0)
		return NULL;
	return s;
}

/*
 * Durations. Units: d, h, m, s, ms, us, ns, as Go's time.ParseDuration
 * plus days; a bare number is refused (ambiguous).
 */
int
ca_duration_parse(const char *s, int allow_neg, int64_t *secs)
{
	const char *p = s;
	int neg = 0, any = 0;
	int64_t ns = 0, total = 0;

	*secs = 0;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (neg && !allow_neg)
		return ca_err(CA_ERR_INVAL, "negative duration '%s'", s);
	if (strcmp(p, "0") == 0)
		return 0;
	while (*p != '\0') {
		uint64_t v = 0, mult, div;
		int digits = 0;
		double frac = 0, scale = 0.1;

		while (isdigit((unsigned char)*p)) {
			if (v > (UINT64_MAX - 9) / 10)
				goto range;
			v = v * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				frac += (*p++ - '0') * scale;
				scale /= 10;
				digits++;
			}
		}
		if (digits == 0)
			goto bad;
		/* Sub-second units: whole seconds, and the rest in ns. */
		div = 0;
		if (strncmp(p, "ms", 2) == 0) {
			div = 1000;
			p += 2;
		} else if (strncmp(p, "us", 2) == 0) {
			div = 1000000;
			p += 2;
		} else if (strncmp(p, "\xc2\xb5s", 3) == 0) {
			div = 1000000;
			p += 3;
		} else if (strncmp(p, "ns", 2) == 0) {
			div = 1000000000;
			p += 2;
		}
		if (div != 0) {
			if (v / div > (uint64_t)(INT64_MAX / 4) - (uint64_t)total)
				goto range;
			total += (int64_t)(v / div);
			ns += (int64_t)((double)(v % div) * (1e9 / (double)div) +
			    frac * (1e9 / (double)div));
			while (ns >= 1000000000) {
				ns -= 1000000000;
				total++;
			}
			any = 1;
			continue;
		}
		switch (*p) {
		case 'd': mult = 86400; break;
		case 'h': mult = 3600; break;
		case 'm': mult = 60; break;
		case 's': mult = 1; break;
		default: goto bad;
		}
		p++;
		if (v > (uint64_t)(INT64_MAX / 4) / mult)
			goto range;
		total += (int64_t)(v * mult) + (int64_t)(frac * (double)mult);
		if (total > INT64_MAX / 4)
			goto range;
		any = 1;
	}
	if (!any)
		goto bad;
	*secs = neg ? -total : total;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL,
	    "invalid duration '%s' (use e.g. 90d, 24h, 5m, 30s)", s);
range:
	return ca_err(CA_ERR_INVAL, "duration '%s' out of range", s);
}

void
ca_duration_format(int64_t secs, char *buf, size_t len)
{
	const char *sign = "";
	uint64_t u;

	if (secs < 0) {
		sign = "-";
		u = (uint64_t)(-(secs + 1)) + 1;
	} else
		u = (uint64_t)secs;
	/* As Go's time.Duration.String() for whole seconds. */
	if (u >= 3600)
		snprintf(buf, len, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", sign,
		    u / 3600, (u / 60) % 60, u % 60);
	else if (u >= 60)
		snprintf(buf, len, "%s%" PRIu64 "m%" PRIu64 "s", sign, u / 60,
		    u % 60);
	else
		snprintf(buf, len, "%s%" PRIu64 "s", sign, u);
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mon == 1 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[mon];
}

int
ca_time_parse(const char *s, time_t now, time_t *out)
{
	struct tm tm;
	const char *p;
	int64_t d;
	int off = 0;
	time_t t;

	*out = 0;
	/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
	if (strlen(s) >= 20 && s[4] == '-' && s[7] == '-' &&
	    (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && s[13] == ':' &&
	    s[16] == ':') {
		if (!all_digits(s, 4) || !all_digits(s + 5, 2) ||
		    !all_digits(s + 8, 2) || !all_digits(s + 11, 2) ||
		    !all_digits(s + 14, 2) || !all_digits(s + 17, 2))
			goto bad;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = num(s, 4) - 1900;
		tm.tm_mon = num(s + 5, 2) - 1;
		tm.tm_mday = num(s + 8, 2);
		tm.tm_hour = num(s + 11, 2);
		tm.tm_min = num(s + 14, 2);
		tm.tm_sec = num(s + 17, 2);
		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
		    tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon) ||
		    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
			goto bad;
		p = s + 19;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
			off = 0;
		else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
		    all_digits(p + 1, 2) && p[3] == ':' && all_digits(p + 4, 2)) {
			if (num(p + 1, 2) > 23 || num(p + 4, 2) > 59)
				goto bad;
			off = num(p + 1, 2) * 3600 + num(p + 4, 2) * 60;
			if (*p == '-')
				off = -off;
		} else
			goto bad;
		if ((t = timegm(&tm)) == (time_t)-1)
			goto bad;
		*out = t - off;
		return 0;
	}
	if (ca_duration_parse(s, 1, &d) != 0)
		goto bad;
	*out = now + (time_t)d;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL,
	    "invalid time '%s' (use RFC 3339, e.g. 2026-01-02T03:04:05Z, or a duration such as 24h)",
	    s);
}

void
ca_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
ca_escape(char *buf, size_t len, const char *s, int bare)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f || (bare && *p == ' ')) {
			if (n + 4 >= len)
				break;
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = digits[*p >> 4];
			buf[n++] = digits[*p & 15];
			continue;
		}
		if (n + (*p == '"' || *p == '\\' ? 2 : 1) >= len)
			break;
		if (*p == '"' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = (char)*p;
	}
	buf[n] = '\0';
	return buf;
}

char *
ca_hex(const unsigned char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[len * 2] = '\0';
	return s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ca_unhex(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), i;
	unsigned char *b;

	*out = NULL;
	*outlen = 0;
	if (n % 2 != 0)
		return ca_err(CA_ERR_INVAL, "odd number of hex digits");
	if ((b = malloc(n / 2 + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return ca_err(CA_ERR_INVAL, "invalid hex digit");
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = b;
	*outlen = n / 2;
	return 0;
}

char *
ca_text_escape(const char *s, const char *seps)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p;
	char *out, *q;

	/* At most four bytes for each. */
	if ((out = malloc(strlen(s) * 4 + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s, q = out; *p != '\0'; p++) {
		if (*p == '\\' || *p == '\t' || *p == '\n') {
			*q++ = '\\';
			*q++ = *p == '\t' ? 't' : *p == '\n' ? 'n' : '\\';
		} else if (*p < 0x20 || *p >= 0x7f ||
		    (seps != NULL && strchr(seps, *p) != NULL)) {
			*q++ = '\\';
			*q++ = 'x';
			*q++ = digits[*p >> 4];
			*q++ = digits[*p & 15];
		} else
			*q++ = (char)*p;
	}
	*q = '\0';
	return out;
}

/*
 * files.c - reading files and secrets, publishing files atomically,
 * directories and paths, and wiping secrets from memory.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "ca.h"

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

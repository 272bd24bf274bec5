/*
 * ca.h - common definitions of libca: error codes, error reporting
 * (errors.c), files (files.c), durations and times (times.c), escaping and
 * hex (text.c), shared by every module.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_H
#define CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Library status codes: 0 is success, failures are negative. */
enum {
	CA_OK = 0,
	CA_ERR_NOMEM = -1,	/* out of memory */
	CA_ERR_IO = -2,		/* file or system call failed */
	CA_ERR_INVAL = -3,	/* malformed input */
	CA_ERR_AUTH = -4,	/* bad token, signature or password */
	CA_ERR_FORBIDDEN = -5,	/* well-formed but not allowed by policy */
	CA_ERR_REPLAY = -6,	/* one-time token already used */
	CA_ERR_NOTFOUND = -7,	/* no such object */
	CA_ERR_EXISTS = -8,	/* object already exists */
	CA_ERR_TEMP = -9,	/* temporary: lock timeout, unreachable */
	CA_ERR_CRYPTO = -10,	/* cryptographic library failure */
	CA_ERR_CONFIG = -11,	/* state directory or configuration invalid */
	CA_ERR_STORE = -12,	/* database failure or corruption */
	CA_ERR_TOOBIG = -13,	/* input over its size limit */
	CA_ERR_UPSTREAM = -14,	/* RA: the upstream CA failed or misbehaved (502) */
	CA_ERR_UPSTREAM_TIMEOUT = -15,	/* RA: the upstream CA did not answer (504) */
};

/* Exit statuses shared by every tool (see the man pages). */
enum {
	CA_EXIT_OK = 0,
	CA_EXIT_FAIL = 1,
	CA_EXIT_USAGE = 2,
	CA_EXIT_NOTHING = 3,
	CA_EXIT_TEMP = 4,
};

/* Size limits for everything read from files or peers. */
#define CA_MAX_CONFIG	(1024 * 1024)
#define CA_MAX_TOKEN	(16 * 1024)
#define CA_MAX_CSR	(64 * 1024)
#define CA_MAX_CERT	(64 * 1024)
#define CA_MAX_KEY	(64 * 1024)
#define CA_MAX_PASSWORD	1024
#define CA_MAX_JSON_DEPTH 16

/*
 * Error reporting. The function that detects a failure records one line
 * describing it with ca_err() and returns the code; callers propagate the
 * code without adding a message, so a failure yields exactly one line.
 * The message is kept per thread; ca_errmsg() returns it ("" if none).
 */
int	 ca_err(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char *ca_errmsg(void);
void	 ca_err_clear(void);
/* Prefix the recorded message with "what: " (context added by a caller). */
void	 ca_err_context(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Map a library status to the tools' exit status. */
int	 ca_exit_status(int code);

/*
 * Diagnostics for -v: the library calls ca_debug(); the program decides
 * where it goes (stderr by default, a log for the server) and whether it is on.
 */
extern int ca_verbose;
void	 ca_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A warning, or what an operator must hear of even without -v (a server's
 * refusals): always shown, where ca_debug's messages go.
 */
void	 ca_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An event an operator reads (not a fault): always shown, no prefix. */
void	 ca_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 ca_set_log_function(void (*fn)(int level, const char *msg));

/* Memory helpers; all abort-free: they return NULL on failure. */
void	 ca_wipe(void *p, size_t n);
void	 ca_free_secret(void *p, size_t n);

/*
 * Read a whole file (or stdin for "-") of at most max bytes into a new
 * NUL-terminated buffer. *out is freed by the caller with free().
 * Fails with CA_ERR_TOOBIG when the file is larger than max.
 */
int	 ca_file_read(const char *path, size_t max, char **out, size_t *outlen);
/* The same from an open descriptor; name is used in messages. */
int	 ca_fd_read(int fd, const char *name, size_t max, char **out,
	    size_t *outlen);
/*
 * Read a secret: the first line of the file, trailing newline removed,
 * empty refused. Free with ca_free_secret(*out, *outlen).
 */
int	 ca_secret_read(const char *path, char **out, size_t *outlen);
/*
 * Publish a file. What path names decides how:
 * - "-": standard output;
 * - nothing, or a regular file: a temporary file in the same directory
 *   (created O_EXCL, never through a link), written, fsynced, renamed
 *   over path, then the directory fsynced; on failure the old file is
 *   untouched and the temporary file removed;
 * - a character device or a FIFO: written in place (opened O_NOFOLLOW,
 *   never created, truncated or replaced);
 * - anything else, a symbolic link included, is refused (CA_ERR_INVAL):
 *   a caller that means to write through a link resolves it first.
 * mode applies to a new file (0600 for keys). Flags:
 * CA_PUBLISH_NEW fails with CA_ERR_EXISTS if path exists in any form;
 * CA_PUBLISH_KEEP_MODE keeps the mode, owner and group of a replaced file.
 */
#define CA_PUBLISH_NEW		0x1
#define CA_PUBLISH_KEEP_MODE	0x2
int	 ca_file_publish(const char *path, const void *data, size_t len,
	    int mode, int flags);
/*
 * Whether ca_file_publish(path, flags) could succeed, checked before work
 * that must not be wasted (a token spent): 0 or the error it would give.
 */
int	 ca_file_publish_check(const char *path, int flags);
/*
 * Two-step publication, for two files that go together: ca_file_stage
 * writes the temporary file now (for a device, FIFO or "-" nothing yet:
 * data is borrowed until commit), ca_file_commit publishes it.
 * ca_file_abort releases s and removes an uncommitted temporary file;
 * call it in every case, once.
 */
struct ca_staged {
	char		*path;
	char		*tmp;		/* NULL once committed, or in place */
	const void	*data;
	size_t		 len;
	int		 flags;
	int		 direct;	/* written in place at commit */
};
int	 ca_file_stage(const char *path, const void *data, size_t len, int mode,
	    int flags, struct ca_staged *s);
int	 ca_file_commit(struct ca_staged *s);
void	 ca_file_abort(struct ca_staged *s);
/* Write all of buf to fd, retrying short writes. */
int	 ca_write_all(int fd, const void *buf, size_t len);
/* mkdir -p with mode for each created component. */
int	 ca_mkdir_p(const char *path, int mode);
/* Join dir and rel (rel returned as is when absolute). Caller frees. */
char	*ca_path_join(const char *dir, const char *rel);

/*
 * Durations: "90d", "24h", "5m", "30s", "500ms" and sums ("1h30m",
 * "24h0m0s" as Go prints them). Returns seconds in *secs; sub-second
 * parts are rounded down. Negative durations are refused unless allow_neg.
 */
int	 ca_duration_parse(const char *s, int allow_neg, int64_t *secs);
/* Format seconds as Go would ("24h0m0s"); buf of at least 32 bytes. */
void	 ca_duration_format(int64_t secs, char *buf, size_t len);
/*
 * A point in time: RFC 3339 ("2026-01-02T03:04:05Z", offsets allowed),
 * or a duration relative to now ("24h", "-5m"). Result in Unix seconds.
 */
int	 ca_time_parse(const char *s, time_t now, time_t *out);
/* Format Unix seconds as RFC 3339 UTC into buf (at least 21 bytes). */
void	 ca_time_format(time_t t, char *buf, size_t len);

/*
 * One field of a log line: s with '"' and '\\' backslashed, and every byte
 * outside printable ASCII (controls, DEL, 8-bit) as \\xNN, so that what a
 * client sent can neither end the line nor forge a field or a terminal
 * sequence. A bare field (not in quotes) has its spaces escaped too.
 * Written into buf (len > 0), cut at a whole character when it does not
 * fit; returns buf.
 */
char	*ca_escape(char *buf, size_t len, const char *s, int bare);

/* Lowercase hex of len bytes into a new string. */
char	*ca_hex(const unsigned char *p, size_t len);
/* Parse a hex string (even length) into a new buffer. */
int	 ca_unhex(const char *s, unsigned char **out, size_t *outlen);
/*
 * s as one field of text output, in a new string (NULL: out of memory):
 * '\\' doubled, tab and newline as \t and \n, other control bytes,
 * bytes beyond ASCII and each character of seps (NULL: none) as \xHH.
 */
char	*ca_text_escape(const char *s, const char *seps);

/* Big-endian 32-bit integers in wire and record formats (signer, store). */
static inline uint32_t
ca_be32_get(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
ca_be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

#endif /* CA_H */

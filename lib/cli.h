/*
 * cli.h - what every tool's main() shares: diagnostics with the program
 * name, usage errors, option bookkeeping, process hardening.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CLI_H
#define CA_CLI_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>

#include "keys.h"

/* Set by -q. */
extern int ca_cli_quiet;

/* Call first in main(): program name, no core dumps, SIGPIPE ignored. */
void	 ca_cli_init(char **argv);
const char *ca_cli_prog(void);
/* "prog: message" on stderr. */
void	 ca_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the recorded library error for code rc; returns the exit status. */
int	 ca_cli_fail(int rc);
/* "prog: message (see prog --help)", one line; returns 2 (usage). */
int	 ca_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog (ca-tools) VERSION" on stdout; returns 0. */
int	 ca_cli_version(void);

/*
 * The option layer: a tool declares its options in a table and the
 * layer parses argv with getopt_long, once-only rule, conversions and
 * the common options' cross-checks. Every option but a flag or one
 * marked CA_OPT_MULTI may be given once; a flag marked CA_OPT_ONCE too.
 */
enum ca_opt_kind {
	CA_OPT_FLAG,		/* int *: set to 1 */
	CA_OPT_STRING,		/* const char **: the argument */
	CA_OPT_DURATION,	/* long long *: seconds, >= 0 */
	CA_OPT_TIME,		/* time_t *: RFC 3339 or a duration from now,
				   converted after every check */
	CA_OPT_NUMBER,		/* long *: a decimal number, lo to hi */
	CA_OPT_KEYTYPE,		/* enum ca_key_type * */
	CA_OPT_CALL		/* fn(arg, dest): 0, or the exit status */
};
#define CA_OPT_MULTI	0x1	/* may be given more than once */
#define CA_OPT_ONCE	0x2	/* a flag: may be given once only */

struct ca_cli_opt {
	const char	*name;		/* long name, without -- */
	int		 short_name;	/* 0: none */
	enum ca_opt_kind kind;
	void		*dest;
	int		 flags;
	int		(*fn)(char *arg, void *dest);
	long		 lo, hi;	/* CA_OPT_NUMBER */
};

/* A table entry: CA_OPT("csr", 0, STRING, &o.csr); end with CA_OPT_END. */
#define CA_OPT(n, s, k, d)	{ (n), (s), CA_OPT_##k, (d), 0, NULL, 0, 0 }
#define CA_OPT_FN(n, s, f, d)	{ (n), (s), CA_OPT_CALL, (d), 0, (f), 0, 0 }
#define CA_OPT_END		{ NULL, 0, CA_OPT_FLAG, NULL, 0, NULL, 0, 0 }

/* The common options a tool takes (ca_cli.common). */
#define CA_CLI_DIR	0x01	/* -d, --state-dir; $CA_STATE_DIR fallback */
#define CA_CLI_URL	0x02	/* --ca-url, checked; excludes -d */
#define CA_CLI_PASS	0x04	/* --password-file */
#define CA_CLI_PASS_LOCAL 0x08	/* --password-file refused with --ca-url */
#define CA_CLI_OUT	0x10	/* -o, --output-file */
#define CA_CLI_ROOT	0x20	/* --root: the pair of --ca-url */
#define CA_CLI_CONTEXT	0x40	/* --context; the client defaults */
/*
 * A client tool's target: -d, or --ca-url with --root; else, given none
 * of them, $CA_STATE_DIR, unless --context names a context; else the
 * client defaults (defaults.h) fill in --ca-url and --root; else the
 * state directory is missing.
 */
#define CA_CLI_TARGET	(CA_CLI_DIR | CA_CLI_URL | CA_CLI_ROOT | CA_CLI_CONTEXT)

#define CA_CLI_MAX_OPTS	64	/* in a tool's table */

struct ca_cli {
	/* Given by the tool. */
	const char	*usage;		/* the --help text */
	unsigned	 common;	/* CA_CLI_* */
	const struct ca_cli_opt *opts;	/* ends with a NULL name */
	int		 maxargs;	/* operands allowed; -1: any */
	/*
	 * Checks of the tool, 0 or the exit status: pre before the common
	 * cross-checks, post after --ca-url/--root/-d agree and before the
	 * state directory is resolved.
	 */
	int		(*pre)(struct ca_cli *);
	int		(*post)(struct ca_cli *);
	/* Set by ca_cli_parse. */
	const char	*dir, *url, *root, *pass_file, *out;
	const char	*context;	/* --context */
	const char	*defaults;	/* the defaults file url and root
					   came from; NULL: none */
	int		 argc;		/* the operands */
	char	       **argv;
	time_t		 now;
	unsigned long long seen;	/* bit i: option i given (internal) */
	const char	*targ[CA_CLI_MAX_OPTS];	/* CA_OPT_TIME args (internal) */
};

/*
 * Parse argv as cli says. Returns -1 to go on, else the exit status to
 * return at once (0 after --help or --version, 2 on a usage error).
 */
int	 ca_cli_parse(struct ca_cli *cli, int argc, char **argv);
/* Whether option name (long name) was given. */
int	 ca_cli_given(const struct ca_cli *cli, const char *name);
/* Parse a decimal number from lo to hi for option name (else 2). */
int	 ca_cli_number(const char *arg, const char *name, long lo, long hi,
	    long *v);

struct ca_authority;
/*
 * Open the CA in dir with its intermediate key, decrypted with the
 * password in pass_file (NULL: the key is not encrypted); the password
 * is wiped at once.
 */
int	 ca_cli_open_authority(const char *dir, const char *pass_file,
	    struct ca_authority **out);

/* How a tool uses a state directory: with the CA's key, or without. */
enum { CA_CLI_PUBLIC = 0, CA_CLI_KEY = 1 };
/*
 * The authority a client tool acts on, chosen once: the CA's server at
 * url trusting only the root in root_path, else the state directory dir
 * (opened as ca_cli_open_authority does with CA_CLI_KEY, else without
 * its key).
 */
int	 ca_cli_open_target(const char *dir, const char *url,
	    const char *root_path, const char *pass_file, int how,
	    struct ca_authority **out);

#endif /* CA_CLI_H */

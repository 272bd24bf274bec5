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
#include <gnutls/gnutls.h>

#include "keys.h"

/* The options every tool has; end a struct option array with it. */
#define CA_CLI_COMMON_OPTIONS					\
	{ "quiet", no_argument, NULL, 'q' },			\
	{ "verbose", no_argument, NULL, 'v' },			\
	{ "help", no_argument, NULL, 'h' },			\
	{ "version", no_argument, NULL, 'V' },			\
	{ NULL, 0, NULL, 0 }
#define CA_CLI_COMMON_SHORT	"qvhV"

/* Set by -q. */
extern int ca_cli_quiet;

/*
 * The default: branch of every tool's option switch: handles -q, -v,
 * -h (usage on stdout) and -V. Returns -1 to go on parsing, or the exit
 * status to return at once (0 after --help/--version, 2 otherwise).
 */
int	 ca_cli_common(int ch, const char *usage);

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
 * Mark option name as seen; returns 0 the first time, else prints a usage
 * error and returns 2. seen is a bitmask indexed by bit.
 */
int	 ca_cli_once(unsigned long *seen, int bit, const char *name);
/* Parse a non-negative duration argument for option name into seconds. */
int	 ca_cli_duration(const char *arg, const char *name, long long *secs);

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
/*
 * --key-out: a new key and its PEM CSR for the subject and names of
 * token, made here whatever the authority. The type: *type when given,
 * else the one ca.json gives for keys made for clients when a is on a
 * state directory, else ec-p256. Free as ca_client_keygen says.
 */
int	 ca_cli_keygen(const struct ca_authority *a,
	    const enum ca_key_type *type,
	    const char *token, size_t toklen, gnutls_datum_t *csr,
	    char **key_pem, size_t *key_len);

#endif /* CA_CLI_H */

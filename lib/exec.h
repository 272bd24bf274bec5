/*
 * exec.h - running a command after a job (ca-renew --exec): no shell.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_EXEC_H
#define CA_EXEC_H

#include <stddef.h>

/*
 * Split arg at spaces and tabs (no quotes, no variables, no globbing)
 * into v, at most max - 1 words and a NULL; *buf holds them (caller
 * frees; NULL when arg has no word: nothing to run). CA_ERR_CONFIG
 * "more than N words".
 */
int	 ca_exec_split(const char *arg, char **buf, char **v, size_t max);
/*
 * Run argv and wait: standard input from /dev/null, standard output to
 * standard error, SIGPIPE as a shell leaves it. A command that cannot
 * run, is killed or exits non-zero is CA_ERR_IO, "the certificate was
 * renewed, but ...".
 */
int	 ca_exec_run(char **argv);
/*
 * Send sig to the process whose id pid_file holds (decimal, at most 64
 * bytes, blanks and a newline after it; 0 and 1 refused): CA_ERR_INVAL
 * "not a process id", CA_ERR_IO when kill() fails.
 */
int	 ca_exec_kill(const char *pid_file, int sig);
/*
 * A signal as people write it: "HUP", "SIGHUP", "hup" or its number
 * (1 to 64). CA_ERR_INVAL "unknown signal" otherwise.
 */
int	 ca_exec_signal_parse(const char *s, int *sig);

#endif /* CA_EXEC_H */

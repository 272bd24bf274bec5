/*
 * test-cli.c - unit tests of lib/cli.c's option layer: the once-only
 * rule, the common options' cross-checks, conversions and their usage
 * errors, each with its exact message.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "cli.h"
#include "tap.h"

static struct {
	const char	*csr;
	long long	 expires;
	time_t		 nb;
	long		 threads;
	int		 force, dry;
} o;

static const struct ca_cli_opt opts[] = {
	CA_OPT("csr", 0, STRING, &o.csr),
	CA_OPT("expires-in", 0, DURATION, &o.expires),
	CA_OPT("not-before", 0, TIME, &o.nb),
	{ "threads", 't', CA_OPT_NUMBER, &o.threads, 0, NULL, 1, 64 },
	CA_OPT("force", 0, FLAG, &o.force),
	{ "dry-run", 0, CA_OPT_FLAG, &o.dry, CA_OPT_ONCE, NULL, 0, 0 },
	CA_OPT_END,
};

static char err[1024];

/*
 * Parse the NULL-terminated words as tool "t" with the common options
 * common; stderr lands in err. Returns what ca_cli_parse returned.
 */
static int
parse(struct ca_cli *cli, unsigned common, const char **words)
{
	static char *argv[32], store[32][256];
	FILE *f;
	int argc = 0, rc, fd, saved;
	size_t n;

	for (; argc == 0 || (*words != NULL && argc < 31); argc++) {
		snprintf(store[argc], sizeof(store[argc]), "%s",
		    argc == 0 ? "t" : *words++);
		argv[argc] = store[argc];
	}
	argv[argc] = NULL;
	memset(cli, 0, sizeof(*cli));
	memset(&o, 0, sizeof(o));
	cli->usage = "# usage\n";
	cli->common = common;
	cli->opts = opts;
	cli->maxargs = 1;
	optind = 0;
	f = tmpfile();
	fflush(stderr);
	saved = dup(2);
	fd = fileno(f);
	dup2(fd, 2);
	rc = ca_cli_parse(cli, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(err, 1, sizeof(err) - 1, f);
	err[n] = '\0';
	fclose(f);
	return rc;
}

#define W(...)	((const char *[]){ __VA_ARGS__, NULL })

int
main(void)
{
	static char t[] = "t";
	char *argv0[] = { t, NULL };
	struct ca_cli cli;
	unsigned target = CA_CLI_TARGET | CA_CLI_PASS | CA_CLI_PASS_LOCAL |
	    CA_CLI_OUT;

	ca_cli_init(argv0);
	setenv("CA_STATE_DIR", "/nonexistent-state", 1);

	is_int(parse(&cli, target, W("-d", "/s", "--csr", "a", "--force",
	    "--expires-in", "1h", "-t", "8", "-o", "out", "--not-before",
	    "2030-01-01T00:00:00Z", "x")), -1, "a good command line goes on");
	is_str(cli.dir, "/s", "-d sets dir");
	is_str(o.csr, "a", "a string option");
	is_int(o.force, 1, "a flag");
	is_int(o.expires, 3600, "a duration in seconds");
	is_int(o.threads, 8, "a number by its short option");
	is_str(cli.out, "out", "-o sets out");
	is_int(o.nb, 1893456000, "a time, converted");
	is_int(cli.argc, 1, "one operand");
	is_str(cli.argv[0], "x", "the operand");
	is_str(err, "", "nothing on stderr");

	is_int(parse(&cli, target, W("--csr", "a", "--csr", "b")), 2,
	    "an option twice is a usage error");
	is_str(err, "t: option --csr given more than once (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("-d", "a", "--state-dir", "b")), 2,
	    "a common option twice, short then long");
	is_str(err, "t: option --state-dir given more than once (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("--force", "--force", "-d", "/s")), -1,
	    "a flag may be repeated");
	is_int(parse(&cli, target, W("--dry-run", "-d", "/s")), -1,
	    "a flag marked once, once");
	is_int(o.dry, 1, "it is set");
	is_int(parse(&cli, target, W("--dry-run", "--dry-run")), 2,
	    "a flag marked once, twice");
	is_str(err, "t: option --dry-run given more than once (see t --help)\n",
	    "its message");

	is_int(parse(&cli, target, W("-d", "/s", "--ca-url", "https://h",
	    "--root", "r")), 2, "-d and --ca-url exclude each other");
	is_str(err, "t: --state-dir and --ca-url exclude each other (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("--ca-url", "https://h")), 2,
	    "--ca-url needs --root");
	is_str(err, "t: --ca-url needs --root (see t --help)\n", "its message");
	is_int(parse(&cli, target, W("--root", "r", "-d", "/s")), 2,
	    "--root needs --ca-url");
	is_str(err, "t: --root needs --ca-url (see t --help)\n", "its message");
	is_int(parse(&cli, target, W("--ca-url", "https://h", "--root", "r",
	    "--password-file", "p")), 2, "--password-file is local");
	is_str(err, "t: --password-file is for the CA's key: not with --ca-url (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("--ca-url", "http://h", "--root", "r")),
	    2, "a plain http URL is refused");
	ok(strncmp(err, "t: --ca-url: ", 13) == 0, "named --ca-url: %s", err);
	is_int(parse(&cli, target, W("--ca-url", "https://h", "--root", "r")),
	    -1, "--ca-url and --root");
	ok(cli.dir == NULL, "no state directory with --ca-url");
	is_int(parse(&cli, target, W("--csr", "a")), -1,
	    "no -d: $CA_STATE_DIR");
	is_str(cli.dir, "/nonexistent-state", "from the environment");
	is_int(parse(&cli, CA_CLI_OUT, W("-d", "/s")), 2,
	    "-d is no option of a tool without CA_CLI_DIR");
	ok(strstr(err, "invalid option -- 'd'") != NULL &&
	    strstr(err, "t: invalid option (see t --help)\n") != NULL,
	    "getopt's line, then ours");

	is_int(parse(&cli, target, W("-d", "/s", "--expires-in", "5x")), 2,
	    "a bad duration");
	ok(strncmp(err, "t: --expires-in: ", 17) == 0 &&
	    strstr(err, "(see t --help)\n") != NULL, "named: %s", err);
	is_int(parse(&cli, target, W("-d", "/s", "--expires-in", "-1h")), 2,
	    "a negative duration");
	is_int(parse(&cli, target, W("-d", "/s", "--not-before", "soon")), 2,
	    "a bad time");
	ok(strncmp(err, "t: --not-before: ", 17) == 0, "named: %s", err);
	is_int(parse(&cli, target, W("-d", "/s", "-t", "65")), 2,
	    "a number out of range");
	is_str(err, "t: --threads: '65' is not a number from 1 to 64 (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("-d", "/s", "-t", "8x")), 2,
	    "trailing garbage in a number");

	is_int(parse(&cli, target, W("-d", "/s", "--csr")), 2,
	    "a missing argument");
	ok(strstr(err, "requires an argument") != NULL &&
	    strstr(err, "t: invalid option (see t --help)\n") != NULL,
	    "getopt's line, then ours");
	is_int(parse(&cli, target, W("-d", "/s", "x", "y")), 2,
	    "one operand too many");
	is_str(err, "t: unexpected argument 'y' (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("--help")), 0, "--help exits 0");
	return tap_done();
}

/*
 * cli.c - shared helpers of the tools' main() functions.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "conf.h"
#include "defaults.h"

static const char *prog = "ca-tools";
int ca_cli_quiet;

void
ca_cli_init(char **argv)
{
	struct rlimit rl = { 0, 0 };
	const char *p;

	if (argv != NULL && argv[0] != NULL) {
		p = strrchr(argv[0], '/');
		prog = p != NULL ? p + 1 : argv[0];
	}
	/* Processes that may hold key material leave no core behind. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Past RLIMIT_FSIZE a write fails with EFBIG and says which file,
	 * instead of the process dying of SIGXFSZ mid-request.
	 */
	signal(SIGXFSZ, SIG_IGN);
}

const char *
ca_cli_prog(void)
{
	return prog;
}

void
ca_cli_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ca_cli_fail(int rc)
{
	const char *msg = ca_errmsg();

	if (msg[0] == '\0')
		msg = rc == CA_ERR_NOMEM ? "out of memory" : "failed";
	fprintf(stderr, "%s: %s\n", prog, msg);
	return ca_exit_status(rc);
}

int
ca_cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	return CA_EXIT_USAGE;
}

int
ca_cli_version(void)
{
	printf("%s (ca-tools) %s\n", prog, PACKAGE_VERSION);
	return 0;
}

/*
 * -q, -v, -h (usage on stdout) and -V. Returns -1 to go on parsing, or
 * the exit status to return at once (0 after --help/--version, 2
 * otherwise).
 */
static int
common_opt(int ch, const char *usage)
{
	switch (ch) {
	case 'q':
		ca_cli_quiet = 1;
		return -1;
	case 'v':
		ca_verbose = 1;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return fflush(stdout) == 0 ? 0 : CA_EXIT_FAIL;
	case 'V':
		return ca_cli_version();
	default:
		return ca_cli_usage("invalid option");
	}
}

int
ca_cli_open_authority(const char *dir, const char *pass_file,
    struct ca_authority **out)
{
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	*out = NULL;
	if (pass_file != NULL &&
	    (rc = ca_secret_read(pass_file, &pw, &pwlen)) != 0)
		return rc;
	rc = ca_authority_open(dir, pw, out);
	ca_free_secret(pw, pwlen);
	return rc;
}

int
ca_cli_open_target(const char *dir, const char *url, const char *root_path,
    const char *pass_file, int how, struct ca_authority **out)
{
	if (url != NULL)
		return ca_authority_open_remote(url, root_path, out);
	if (how == CA_CLI_KEY)
		return ca_cli_open_authority(dir, pass_file, out);
	return ca_authority_open_public(dir, out);
}

int
ca_cli_number(const char *arg, const char *name, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || arg[0] == '\0' || *v < lo || *v > hi)
		return ca_cli_usage("--%s: '%s' is not a number from %ld to %ld",
		    name, arg, lo, hi);
	return 0;
}

/* The common options, defined once; dest is filled in by ca_cli_parse. */
enum { C_DIR, C_URL, C_ROOT, C_PASS, C_OUT, C_QUIET, C_VERBOSE, C_HELP,
	C_VERSION, C_CONTEXT, C_N };
static const struct {
	const char	*name;
	int		 short_name, has_arg;
	unsigned	 need;		/* CA_CLI_* that brings it; 0: always */
} common[C_N] = {
	[C_DIR] = { "state-dir", 'd', 1, CA_CLI_DIR },
	[C_URL] = { "ca-url", 0, 1, CA_CLI_URL },
	[C_ROOT] = { "root", 0, 1, CA_CLI_ROOT },
	[C_PASS] = { "password-file", 0, 1, CA_CLI_PASS },
	[C_OUT] = { "output-file", 'o', 1, CA_CLI_OUT },
	[C_QUIET] = { "quiet", 'q', 0, 0 },
	[C_VERBOSE] = { "verbose", 'v', 0, 0 },
	[C_HELP] = { "help", 'h', 0, 0 },
	[C_VERSION] = { "version", 'V', 0, 0 },
	[C_CONTEXT] = { "context", 0, 1, CA_CLI_CONTEXT },
};

#define MAX_OPTS	CA_CLI_MAX_OPTS

static int
nopts(const struct ca_cli *cli)
{
	int n = 0;

	while (cli->opts != NULL && cli->opts[n].name != NULL)
		n++;
	return n;
}

int
ca_cli_given(const struct ca_cli *cli, const char *name)
{
	int i, n = nopts(cli);

	for (i = 0; i < n; i++)
		if (strcmp(cli->opts[i].name, name) == 0)
			return (cli->seen >> (C_N + i)) & 1;
	for (i = 0; i < C_N; i++)
		if (strcmp(common[i].name, name) == 0)
			return (cli->seen >> i) & 1;
	return 0;
}

/* Option i of the tool's table with argument arg; -1 or the exit status. */
static int
take(struct ca_cli *cli, int i, char *arg)
{
	const struct ca_cli_opt *o = &cli->opts[i];
	int64_t d;
	int rc;

	if ((o->kind != CA_OPT_FLAG || (o->flags & CA_OPT_ONCE)) &&
	    !(o->flags & CA_OPT_MULTI) && (cli->seen >> (C_N + i)) & 1)
		return ca_cli_usage("option --%s given more than once", o->name);
	cli->seen |= 1ULL << (C_N + i);
	switch (o->kind) {
	case CA_OPT_FLAG:
		*(int *)o->dest = 1;
		break;
	case CA_OPT_STRING:
		*(const char **)o->dest = arg;
		break;
	case CA_OPT_DURATION:
		if (ca_duration_parse(arg, 0, &d) != 0)
			return ca_cli_usage("--%s: %s", o->name, ca_errmsg());
		*(long long *)o->dest = (long long)d;
		break;
	case CA_OPT_TIME:
		cli->targ[i] = arg;
		break;
	case CA_OPT_NUMBER:
		if (ca_cli_number(arg, o->name, o->lo, o->hi, o->dest) != 0)
			return CA_EXIT_USAGE;
		break;
	case CA_OPT_KEYTYPE:
		if (ca_key_type_parse(arg, o->dest) != 0)
			return ca_cli_usage("--%s: %s", o->name, ca_errmsg());
		break;
	case CA_OPT_CALL:
		if ((rc = o->fn(arg, o->dest)) != 0)
			return rc;
		break;
	}
	return -1;
}

/* A common option; -1 or the exit status. */
static int
take_common(struct ca_cli *cli, int i, char *arg)
{
	const char **dest[C_N] = {
		[C_DIR] = &cli->dir, [C_URL] = &cli->url, [C_ROOT] = &cli->root,
		[C_PASS] = &cli->pass_file, [C_OUT] = &cli->out,
		[C_CONTEXT] = &cli->context,
	};

	if (dest[i] != NULL) {
		if ((cli->seen >> i) & 1)
			return ca_cli_usage("option --%s given more than once",
			    common[i].name);
		cli->seen |= 1ULL << i;
		*dest[i] = arg;
		return -1;
	}
	return common_opt(common[i].short_name, cli->usage);
}

/* What the tool's -v says first: the CA it works with, and why that one. */
static struct ca_defaults *defaults;	/* reachable until exit */

/*
 * The client defaults for --ca-url and --root when no target is given:
 * -1 to go on (with or without them), else the exit status. An offline
 * CA named by $CA_STATE_DIR wins, unless --context names a context.
 */
static int
use_defaults(struct ca_cli *cli)
{
	const char *env = getenv("CA_STATE_DIR");
	int rc;

	if (!(cli->common & CA_CLI_CONTEXT) || cli->url != NULL ||
	    cli->dir != NULL || cli->root != NULL)
		return -1;
	if (cli->context == NULL && (cli->common & CA_CLI_DIR) &&
	    env != NULL && env[0] != '\0')
		return -1;
	ca_defaults_free(defaults);
	defaults = NULL;
	if ((rc = ca_defaults_load(cli->context, &defaults)) == CA_ERR_NOTFOUND)
		return -1;
	if (rc != 0)
		return ca_cli_fail(rc);
	cli->url = defaults->url;
	cli->root = defaults->root;
	cli->defaults = defaults->file;
	if (defaults->ignored != NULL && !ca_cli_quiet)
		ca_cli_warn("%s: ignored: %s", defaults->file,
		    defaults->ignored);
	return -1;
}

/* -v: which CA, and from where. */
static void
say_target(const struct ca_cli *cli)
{
	if (!(cli->common & CA_CLI_CONTEXT))
		return;
	if (cli->url != NULL)
		ca_debug("CA %s, root %s (%s)", cli->url,
		    cli->root != NULL ? cli->root : "none",
		    cli->defaults != NULL ? cli->defaults : "--ca-url");
	else if (cli->dir != NULL)
		ca_debug("CA in %s (%s)", cli->dir,
		    (cli->seen >> C_DIR) & 1 ? "--state-dir" : "$CA_STATE_DIR");
}

/* After the loop: the tool's and the common cross-checks, then times. */
static int
check(struct ca_cli *cli)
{
	int i, rc;

	if (cli->maxargs >= 0 && cli->argc > cli->maxargs)
		return ca_cli_usage("unexpected argument '%s'",
		    cli->argv[cli->maxargs]);
	if (cli->pre != NULL && (rc = cli->pre(cli)) != 0)
		return rc;
	if (cli->url != NULL && cli->dir != NULL)
		return ca_cli_usage("--state-dir and --ca-url exclude each other");
	if (cli->context != NULL && (cli->url != NULL || cli->dir != NULL ||
	    cli->root != NULL))
		return ca_cli_usage("--context and --%s exclude each other",
		    cli->url != NULL ? "ca-url" : cli->dir != NULL ?
		    "state-dir" : "root");
	if ((rc = use_defaults(cli)) >= 0)
		return rc;
	if ((cli->common & CA_CLI_ROOT) && (cli->url == NULL) != (cli->root == NULL))
		return ca_cli_usage(cli->url != NULL ? "--ca-url needs --root" :
		    "--root needs --ca-url");
	if ((cli->common & CA_CLI_PASS_LOCAL) && cli->url != NULL &&
	    cli->pass_file != NULL)
		return ca_cli_usage("--password-file is for the CA's key: not with --ca-url");
	if (cli->post != NULL && (rc = cli->post(cli)) != 0)
		return rc;
	if (cli->url != NULL && ca_client_url_check(cli->url) != 0)
		return ca_cli_usage("--ca-url: %s", ca_errmsg());
	if ((cli->common & CA_CLI_DIR) && cli->url == NULL &&
	    (cli->dir = ca_config_state_dir(cli->dir)) == NULL)
		return ca_cli_usage("%s", (cli->common & CA_CLI_CONTEXT) ?
		    "no CA: use -d DIR, set CA_STATE_DIR, give --ca-url and "
		    "--root, or run ca-bootstrap --install" : ca_errmsg());
	say_target(cli);
	cli->now = time(NULL);
	for (i = 0; i < nopts(cli); i++)
		if (cli->targ[i] != NULL && ca_time_parse(cli->targ[i],
		    cli->now, cli->opts[i].dest) != 0)
			return ca_cli_usage("--%s: %s", cli->opts[i].name,
			    ca_errmsg());
	return -1;
}

/* The option getopt_long returned as ch: 0..C_N-1 common, C_N+ tool's. */
static int
which(const struct ca_cli *cli, int ch, int n)
{
	int i;

	if (ch >= 256)
		return ch - 256;
	for (i = 0; i < C_N; i++)
		if (common[i].short_name == ch)
			return i;
	for (i = 0; i < n; i++)
		if (cli->opts[i].short_name == ch)
			return C_N + i;
	return -1;
}

int
ca_cli_parse(struct ca_cli *cli, int argc, char **argv)
{
	struct option lo[C_N + MAX_OPTS + 1];
	char so[2 * (C_N + MAX_OPTS) + 1], *p = so;
	int i, k = 0, ch, rc, n = nopts(cli), has;

	if (n > MAX_OPTS)
		return ca_cli_usage("too many options");	/* a bug */
	for (i = 0; i < C_N + n; i++) {
		const struct ca_cli_opt *o = i >= C_N ? &cli->opts[i - C_N] :
		    NULL;
		const char *name = o != NULL ? o->name : common[i].name;
		int sn = o != NULL ? o->short_name : common[i].short_name;

		if (o == NULL && common[i].need != 0 &&
		    !(cli->common & common[i].need))
			continue;
		has = o != NULL ? o->kind != CA_OPT_FLAG : common[i].has_arg;
		lo[k++] = (struct option){ name,
		    has ? required_argument : no_argument, NULL,
		    sn != 0 ? sn : 256 + i };
		if (sn != 0) {
			*p++ = (char)sn;
			if (has)
				*p++ = ':';
		}
	}
	lo[k] = (struct option){ NULL, 0, NULL, 0 };
	*p = '\0';
	memset(cli->targ, 0, sizeof(cli->targ));
	cli->seen = 0;
	cli->defaults = NULL;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if ((i = which(cli, ch, n)) < 0)
			return ca_cli_usage("invalid option");
		rc = i < C_N ? take_common(cli, i, optarg) :
		    take(cli, i - C_N, optarg);
		if (rc >= 0)
			return rc;
	}
	cli->argc = argc - optind;
	cli->argv = argv + optind;
	return check(cli);
}

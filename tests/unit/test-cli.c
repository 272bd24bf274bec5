/*
 * test-cli.c - unit tests of lib/cli.c's option layer: the once-only
 * rule, the common options' cross-checks, conversions and their usage
 * errors, each with its exact message; and the client defaults
 * (lib/defaults.c) that stand in for --ca-url and --root.
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
#include "defaults.h"
#include "keys.h"
#include "tap.h"
#include "x509.h"

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

/* A self-signed root: its PEM in *pem, its fingerprint in *fp. */
static void
make_root(char **pem, char **fp)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	time_t now = time(NULL);

	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &key) != 0 ||
	    ca_x509_make_ca(key, "T", "T Root", 1, now - 60, now + 3600, NULL,
	    &crt) != 0 || ca_x509_fingerprint(crt, fp) != 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d) != 0) {
		printf("Bail out! no root: %s\n", ca_errmsg());
		exit(1);
	}
	*pem = strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(key);
}

/* ca_defaults_parse of s: its code, the message in err. */
static int
dparse(const char *s, struct ca_defaults *d)
{
	int rc;

	ca_defaults_clear(d);
	rc = ca_defaults_parse(s, strlen(s), "f", d);
	snprintf(err, sizeof(err), "%s", rc != 0 ? ca_errmsg() : "");
	return rc;
}

#define FP64	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The defaults' file format and context names. */
static void
test_defaults_format(void)
{
	struct ca_defaults d;
	char long_name[CA_DEFAULTS_MAX_NAME + 2];

	memset(&d, 0, sizeof(d));
	is_int(dparse("{\"ca-url\": \"https://h:8443\", \"fingerprint\": \""
	    FP64 "\", \"root\": \"/r\", \"redirect-url\": \"\", \"x\": 1}",
	    &d), 0, "step's defaults.json");
	is_str(d.url, "https://h:8443", "ca-url");
	is_str(d.fp, FP64, "fingerprint");
	is_str(d.root, "/r", "root");
	is_str(d.ignored, "redirect-url, x", "the members not used, named");
	is_int(dparse("[]", &d), CA_ERR_CONFIG, "not an object");
	is_str(err, "f: not a JSON object", "its message");
	is_int(dparse("{\"fingerprint\": \"" FP64 "\", \"root\": \"/r\"}",
	    &d), CA_ERR_CONFIG, "no ca-url");
	is_str(err, "f: \"ca-url\" must be a string", "its message");
	is_int(dparse("{\"ca-url\": \"http://h\", \"fingerprint\": \"" FP64
	    "\", \"root\": \"/r\"}", &d), CA_ERR_CONFIG, "not https");
	ok(strncmp(err, "f: \"ca-url\": ", 13) == 0, "named: %s", err);
	is_int(dparse("{\"ca-url\": \"https://h\", \"fingerprint\": \"ab\", "
	    "\"root\": \"/r\"}", &d), CA_ERR_CONFIG, "a short fingerprint");
	ok(strncmp(err, "f: \"fingerprint\": ", 18) == 0, "named: %s", err);
	is_int(dparse("{\"ca-url\": \"https://h\", \"fingerprint\": \"" FP64
	    "\", \"root\": \"r.crt\"}", &d), CA_ERR_CONFIG, "a relative root");
	is_str(err, "f: \"root\" is not an absolute path", "its message");
	is_int(dparse("{\"ca-url\": \"https://h\", \"ca-url\": \"https://i\", "
	    "\"fingerprint\": \"" FP64 "\", \"root\": \"/r\"}", &d),
	    CA_ERR_CONFIG, "a member twice");
	is_int(dparse("{\"ca-url\": ", &d), CA_ERR_CONFIG, "cut short");
	ok(strncmp(err, "f: ", 3) == 0, "named: %s", err);
	ca_defaults_clear(&d);

	is_int(ca_defaults_context_check("ok-1.x_Y"), 0, "a context name");
	is_int(ca_defaults_context_check(""), CA_ERR_INVAL, "empty");
	is_int(ca_defaults_context_check(".x"), CA_ERR_INVAL, "a leading dot");
	is_int(ca_defaults_context_check("a/b"), CA_ERR_INVAL, "a slash");
	is_int(ca_defaults_context_check("a b"), CA_ERR_INVAL, "a space");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	is_int(ca_defaults_context_check(long_name), CA_ERR_INVAL, "too long");
	long_name[CA_DEFAULTS_MAX_NAME] = '\0';
	is_int(ca_defaults_context_check(long_name), 0, "the longest");
}

/* Which CA a target tool chooses when given none: the resolution order. */
static void
test_defaults_target(unsigned target)
{
	struct ca_cli cli;
	char *pem = NULL, *fp = NULL, *other = NULL, *ofp = NULL, path[8800];
	char cfg[4200], json[9000];

	tmpdir_make("cli");
	snprintf(path, sizeof(path), "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/step", tmpdir);
	setenv("STEPPATH", path, 1);
	snprintf(cfg, sizeof(cfg), "%s/xdg/ca-tools", tmpdir);
	unsetenv("CA_STATE_DIR");
	unsetenv("CA_CONTEXT");
	make_root(&pem, &fp);
	make_root(&other, &ofp);

	is_int(parse(&cli, target, W("--csr", "a")), 2, "no CA at all");
	is_str(err, "t: no CA: use -d DIR, set CA_STATE_DIR, give --ca-url "
	    "and --root, or run ca-bootstrap --install (see t --help)\n",
	    "its message");
	/* Step's current context, its authority named by contexts.json. */
	snprintf(path, sizeof(path), "%s/step/authorities/auth/config", tmpdir);
	is_int(ca_mkdir_p(path, 0700), 0, "step's authority directory");
	snprintf(path, sizeof(path), "%s/step/root.crt", tmpdir);
	is_int(ca_file_publish(path, pem, strlen(pem), 0644, 0), 0,
	    "step's root");
	snprintf(json, sizeof(json), "{\"ca-url\": \"https://s:4\", "
	    "\"fingerprint\": \"%s\", \"root\": \"%s\"}", fp, path);
	snprintf(path, sizeof(path), "%s/step/authorities/auth/config/"
	    "defaults.json", tmpdir);
	is_int(ca_file_publish(path, json, strlen(json), 0644, 0), 0,
	    "step's defaults");
	snprintf(path, sizeof(path), "%s/step/current-context.json", tmpdir);
	is_int(ca_file_publish(path, "{\"context\": \"x\"}", 16, 0644, 0), 0,
	    "step's current context");
	snprintf(path, sizeof(path), "%s/step/contexts.json", tmpdir);
	snprintf(json, sizeof(json), "{\"x\": {\"authority\": \"auth\", "
	    "\"profile\": \"x\"}}");
	is_int(ca_file_publish(path, json, strlen(json), 0644, 0), 0,
	    "step's contexts");
	is_int(parse(&cli, target, W("--csr", "a")), -1, "no CA: step's");
	is_str(cli.url, "https://s:4", "its current context's authority");

	is_int(ca_defaults_install(NULL, "https://a:1//", fp, pem, strlen(pem),
	    0, NULL), 0, "install the plain defaults");
	is_int(parse(&cli, target, W("--csr", "a")), -1,
	    "no CA: ours, before step's");
	is_str(cli.url, "https://a:1", "their URL, without trailing slashes");
	snprintf(path, sizeof(path), "%s/certs/root_ca.crt", cfg);
	is_str(cli.root, path, "their root");
	ok(cli.dir == NULL, "no state directory");
	is_int(parse(&cli, target, W("-d", "/s")), -1, "-d wins");
	ok(cli.url == NULL && cli.root == NULL, "no URL nor root with -d");
	is_int(parse(&cli, target, W("--ca-url", "https://b", "--root", "r")),
	    -1, "--ca-url and --root win");
	is_str(cli.url, "https://b", "that URL");
	is_str(cli.root, "r", "that root");
	is_int(parse(&cli, target, W("--root", "r")), 2,
	    "--root alone is still a usage error");
	is_int(parse(&cli, CA_CLI_DIR | CA_CLI_URL | CA_CLI_ROOT,
	    W("--csr", "a")), 2, "a tool without CA_CLI_CONTEXT reads none");
	setenv("CA_STATE_DIR", "/env-state", 1);
	is_int(parse(&cli, target, W("--csr", "a")), -1, "$CA_STATE_DIR");
	is_str(cli.dir, "/env-state", "wins over the defaults");
	ok(cli.url == NULL, "offline");

	is_int(ca_defaults_install("b", "https://b:2", ofp, other,
	    strlen(other), 0, NULL), 0, "install context b");
	is_int(parse(&cli, target, W("--csr", "a")), -1, "$CA_STATE_DIR");
	is_str(cli.dir, "/env-state", "still wins over the current context");
	is_int(parse(&cli, target, W("--context", "b")), -1, "unless --context");
	is_str(cli.url, "https://b:2", "names one");
	unsetenv("CA_STATE_DIR");
	is_int(parse(&cli, target, W("--csr", "a")), -1, "no CA");
	is_str(cli.url, "https://b:2", "the current context");
	setenv("CA_CONTEXT", "nope", 1);
	is_int(parse(&cli, target, W("--csr", "a")), 1,
	    "$CA_CONTEXT names a missing context: a failure");
	snprintf(path, sizeof(path), "t: context (CA_CONTEXT) 'nope': no "
	    "%s/authorities/nope/config/defaults.json (see ca-bootstrap "
	    "--install --context)\n", cfg);
	is_str(err, path, "its message");
	setenv("CA_CONTEXT", "", 1);
	is_int(parse(&cli, target, W("--csr", "a")), -1, "empty: unset");
	is_str(cli.url, "https://b:2", "the current context");
	unsetenv("CA_CONTEXT");
	is_int(parse(&cli, target, W("--context", "a/b")), 1,
	    "a bad context name");
	is_int(parse(&cli, target, W("--context", "b", "-d", "/s")), 2,
	    "--context and -d");
	is_str(err, "t: --context and --state-dir exclude each other (see t --help)\n",
	    "its message");
	is_int(parse(&cli, target, W("--context", "b", "--root", "r")), 2,
	    "--context and --root");

	is_int(ca_defaults_install(NULL, "https://c:3", ofp, other,
	    strlen(other), 0, NULL), CA_ERR_EXISTS,
	    "another CA's plain defaults are kept");
	snprintf(path, sizeof(path), "%s/config/defaults.json holds another CA "
	    "(https://a:1, %s): --force replaces it", cfg, fp);
	is_str(ca_errmsg(), path, "its message");
	is_int(parse(&cli, target, W("--csr", "a")), -1, "no CA");
	is_str(cli.url, "https://b:2", "the current context is unchanged");
	is_int(ca_defaults_install(NULL, "https://a:1", fp, pem, strlen(pem),
	    0, NULL), 0, "the same CA again");
	is_int(parse(&cli, target, W("--csr", "a")), -1, "no CA");
	is_str(cli.url, "https://a:1", "the plain defaults are current again");
	is_int(ca_defaults_install(NULL, "https://c:3", ofp, other,
	    strlen(other), 1, NULL), 0, "--force replaces them");
	is_int(parse(&cli, target, W("--csr", "a")), -1, "no CA");
	is_str(cli.url, "https://c:3", "the new defaults");

	/* Defaults that cannot be read are kept too, and say why. */
	snprintf(path, sizeof(path), "%s/config/defaults.json", cfg);
	is_int(ca_file_publish(path, "{", 1, 0644, 0), 0, "break the defaults");
	is_int(ca_defaults_install(NULL, "https://c:3", ofp, other,
	    strlen(other), 0, NULL), CA_ERR_EXISTS, "broken defaults are kept");
	ok(strncmp(ca_errmsg(), path, strlen(path)) == 0 &&
	    strstr(ca_errmsg(), " cannot be read (") != NULL &&
	    strstr(ca_errmsg(), "invalid JSON") != NULL &&
	    strstr(ca_errmsg(), "): --force replaces it") != NULL,
	    "named, with the reason: %s", ca_errmsg());
	is_int(ca_defaults_install(NULL, "https://c:3", ofp, other,
	    strlen(other), 1, NULL), 0, "--force replaces them");

	/* A root that is not the one the fingerprint pins. */
	snprintf(path, sizeof(path), "%s/certs/root_ca.crt", cfg);
	is_int(ca_file_publish(path, pem, strlen(pem), 0644, 0), 0,
	    "swap the root");
	is_int(parse(&cli, target, W("--csr", "a")), 1, "a swapped root fails");
	ok(strstr(err, "has fingerprint") != NULL, "named: %s", err);

	free(pem);
	free(fp);
	free(other);
	free(ofp);
	tmpdir_remove();
}

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

	test_defaults_format();
	test_defaults_target(target);
	return tap_done();
}

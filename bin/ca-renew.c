/*
 * ca-renew - renew a certificate once it is due, from cron or a timer.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "conf.h"

static const char usage[] =
"Usage: ca-renew -d DIR [OPTION]... CERT KEY\n"
"       ca-renew --ca-url URL --root FILE [OPTION]... CERT KEY\n"
"Renew the certificate in CERT, whose key is KEY, once it is due: a new\n"
"certificate with the same names and lifetime and a new serial, written\n"
"over CERT with the intermediate. With --ca-url, the CA's server renews it,\n"
"over mutual TLS with CERT and KEY. Exits 3 when it is not due yet.\n"
"\n"
"  -d, --state-dir DIR        the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL           the CA's server, https://HOST[:PORT]\n"
"      --root FILE            the CA's root certificate, the only one trusted\n"
"                             for --ca-url (see ca-bootstrap)\n"
"      --no-mtls              with --ca-url: prove the key with an x5c token\n"
"                             (Authorization: Bearer), not with mutual TLS\n"
"                             (done anyway when CERT is not valid now)\n"
"      --expires-in DURATION  due when less than DURATION is left (default: a\n"
"                             third of its lifetime; up to a tenth more, at\n"
"                             random)\n"
"      --force                renew now, however long is left\n"
"      --rekey                a new key too, of the same kind as KEY\n"
"      --key-out FILE         with --rekey: where the new key goes (mode\n"
"                             0600; may be KEY), once renewed\n"
"      --exec COMMAND         run COMMAND after a renewal, split at spaces,\n"
"                             without a shell: 'systemctl reload nginx'\n"
"                             (empty: none)\n"
"      --password-file FILE   password of the intermediate key, if encrypted\n"
"  -o, --output-file FILE     write the certificate chain to FILE (- for\n"
"                             standard output), not over CERT\n"
"  -q, --quiet                no warnings\n"
"  -v, --verbose              say more\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"Exit status: 0 renewed, 1 failure (refused by the CA, or COMMAND failed\n"
"after the renewal), 2 usage error, 3 not due yet, 4 database busy or CA\n"
"unreachable (retry).\n";

enum { O_URL = 256, O_ROOT, O_NOMTLS, O_EXPIRES, O_FORCE, O_REKEY, O_KEYOUT,
	O_EXEC, O_PASS };

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "ca-url", required_argument, NULL, O_URL },
	{ "root", required_argument, NULL, O_ROOT },
	{ "no-mtls", no_argument, NULL, O_NOMTLS },
	{ "expires-in", required_argument, NULL, O_EXPIRES },
	{ "force", no_argument, NULL, O_FORCE },
	{ "rekey", no_argument, NULL, O_REKEY },
	{ "key-out", required_argument, NULL, O_KEYOUT },
	{ "exec", required_argument, NULL, O_EXEC },
	{ "password-file", required_argument, NULL, O_PASS },
	{ "output-file", required_argument, NULL, 'o' },
	CA_CLI_COMMON_OPTIONS,
};

#define MAX_ARGS 64

/*
 * Renew cc at the CA in dir or at url. Offline, KEY was checked to be the
 * certificate's: the key is proven; online, by mutual TLS (mtls) or an
 * x5c token signed with it.
 */
static int
renew(const char *dir, const char *url, const char *root,
    const char *pass_file, int mtls, const struct ca_client_cert *cc,
    const gnutls_datum_t *csr, struct ca_sign_result *res)
{
	struct ca_authority *a = NULL;
	struct ca_renew_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.cc = cc;
	req.mtls = mtls;
	req.csr = (const char *)csr->data;
	req.csr_len = csr->size;
	if ((rc = ca_cli_open_target(dir, url, root, pass_file, CA_CLI_KEY,
	    &a)) == 0 && (rc = ca_authority_renew(a, &req, res)) == 0)
		ca_debug("renewed %s as %s", cc->serial, res->serial);
	ca_authority_close(a);
	return rc;
}

/*
 * --exec's words, split at spaces and tabs: no quotes, no variables, no
 * globbing. *buf holds them (caller frees). Returns 0 or a usage error.
 */
static int
split(const char *arg, char **buf, char **v)
{
	char *save;
	size_t n = 0;

	if ((*buf = strdup(arg)) == NULL)
		return ca_cli_fail(CA_ERR_NOMEM);
	for (v[0] = strtok_r(*buf, " \t", &save); v[n] != NULL;
	    v[n] = strtok_r(NULL, " \t", &save))
		if (++n == MAX_ARGS) {
			free(*buf);
			*buf = NULL;
			return ca_cli_usage("--exec: more than %d words",
			    MAX_ARGS - 1);
		}
	if (n == 0) {
		/* Empty: nothing to run (a unit file's EXEC= left blank). */
		free(*buf);
		*buf = NULL;
	}
	return 0;
}

/*
 * Run the command after a renewal: no shell; standard input from
 * /dev/null, standard output to standard error (ours carries only
 * certificates), signals as a shell would leave them.
 */
static int
run(char **argv)
{
	pid_t pid;
	ssize_t n;
	int status, fd, err = 0, p[2];

	/* The child reports a failed execvp() through a close-on-exec pipe. */
	if (pipe2(p, O_CLOEXEC) != 0)
		return ca_err(CA_ERR_IO, "--exec: pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		err = errno;
		close(p[0]);
		close(p[1]);
		return ca_err(CA_ERR_IO, "--exec: fork: %s", strerror(err));
	}
	if (pid == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			dup2(fd, STDIN_FILENO);
			if (fd != STDIN_FILENO)
				close(fd);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(p[1], &err, sizeof(err));
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ca_err(CA_ERR_IO, "--exec: wait: %s",
			    strerror(errno));
	if (n == (ssize_t)sizeof(err))
		return ca_err(CA_ERR_IO,
		    "the certificate was renewed, but --exec cannot run %s: %s",
		    argv[0], strerror(err));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return ca_err(CA_ERR_IO,
		    "the certificate was renewed, but %s was killed by signal %d",
		    argv[0], WTERMSIG(status));
	return ca_err(CA_ERR_IO,
	    "the certificate was renewed, but %s exited with status %d",
	    argv[0], WEXITSTATUS(status));
}

/*
 * Publish the new key (if any), then the chain: both staged first, so
 * that a failure leaves the old pair in place. The chain keeps the mode,
 * owner and group of the file it replaces.
 */
static int
publish(const char *out, const char *chain, const char *key_out,
    const char *key, size_t key_len)
{
	struct ca_staged cs, ks;
	int rc;

	memset(&ks, 0, sizeof(ks));
	if ((rc = ca_file_stage(out, chain, strlen(chain), 0644,
	    CA_PUBLISH_KEEP_MODE, &cs)) != 0)
		goto out;
	if (key_out != NULL &&
	    ((rc = ca_file_stage(key_out, key, key_len, 0600, 0, &ks)) != 0 ||
	    (rc = ca_file_commit(&ks)) != 0))
		goto out;
	rc = ca_file_commit(&cs);
out:
	ca_file_abort(&ks);
	ca_file_abort(&cs);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_client_cert *cc = NULL;
	struct ca_sign_result res;
	gnutls_datum_t csr = { NULL, 0 };
	const char *dir = NULL, *url = NULL, *root = NULL, *key_out = NULL;
	const char *pass_file = NULL, *out = NULL;
	const char *exec_arg = NULL;
	char *cmd = NULL, *cmdv[MAX_ARGS + 1], *chain = NULL;
	char *key = NULL, *target = NULL;
	size_t key_len = 0;
	unsigned long seen = 0;
	long long expires_in = -1;
	int64_t left;
	time_t now;
	int ch, rc, no_mtls = 0, force = 0, rekey = 0, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	memset(&res, 0, sizeof(res));
	while ((ch = getopt_long(argc, argv, "d:o:" CA_CLI_COMMON_SHORT,
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ca_cli_once(&seen, 0, "state-dir"))
				return CA_EXIT_USAGE;
			dir = optarg;
			break;
		case O_URL:
			if (ca_cli_once(&seen, 1, "ca-url"))
				return CA_EXIT_USAGE;
			url = optarg;
			break;
		case O_ROOT:
			if (ca_cli_once(&seen, 2, "root"))
				return CA_EXIT_USAGE;
			root = optarg;
			break;
		case O_NOMTLS:
			no_mtls = 1;
			break;
		case O_EXPIRES:
			if (ca_cli_once(&seen, 3, "expires-in") ||
			    ca_cli_duration(optarg, "expires-in", &expires_in))
				return CA_EXIT_USAGE;
			break;
		case O_FORCE:
			force = 1;
			break;
		case O_REKEY:
			rekey = 1;
			break;
		case O_KEYOUT:
			if (ca_cli_once(&seen, 4, "key-out"))
				return CA_EXIT_USAGE;
			key_out = optarg;
			break;
		case O_EXEC:
			if (ca_cli_once(&seen, 5, "exec"))
				return CA_EXIT_USAGE;
			exec_arg = optarg;
			break;
		case O_PASS:
			if (ca_cli_once(&seen, 6, "password-file"))
				return CA_EXIT_USAGE;
			pass_file = optarg;
			break;
		case 'o':
			if (ca_cli_once(&seen, 7, "output-file"))
				return CA_EXIT_USAGE;
			out = optarg;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (argc - optind < 2)
		return ca_cli_usage("CERT and KEY are required");
	if (argc - optind > 2)
		return ca_cli_usage("unexpected argument '%s'", argv[optind + 2]);
	if (rekey != (key_out != NULL))
		return ca_cli_usage(rekey ? "--rekey needs --key-out" :
		    "--key-out needs --rekey");
	if (key_out != NULL && strcmp(key_out, "-") == 0)
		return ca_cli_usage("--key-out needs a file name");
	if (url != NULL && dir != NULL)
		return ca_cli_usage("--state-dir and --ca-url exclude each other");
	if ((url == NULL) != (root == NULL))
		return ca_cli_usage(url != NULL ? "--ca-url needs --root" :
		    "--root needs --ca-url");
	if (url != NULL && pass_file != NULL)
		return ca_cli_usage("--password-file is for the CA's key: not with --ca-url");
	if (url == NULL && no_mtls)
		return ca_cli_usage("--no-mtls needs --ca-url");
	if (url != NULL && ca_client_url_check(url) != 0)
		return ca_cli_usage("--ca-url: %s", ca_errmsg());
	if (url == NULL && (dir = ca_config_state_dir(dir)) == NULL)
		return ca_cli_usage("%s", ca_errmsg());
	if (exec_arg != NULL && (rc = split(exec_arg, &cmd, cmdv)) != 0)
		return rc;

	now = time(NULL);
	if ((rc = ca_client_cert_load(argv[optind], argv[optind + 1], &cc)) != 0)
		goto fail;
	if ((rc = ca_client_cert_due(cc, expires_in, now, &left)) < 0)
		goto fail;
	if (rc == 0 && !force) {
		ca_debug("%s: not due, %lld s left", argv[optind],
		    (long long)left);
		status = CA_EXIT_NOTHING;
		goto done;
	}
	/* In place: through a symbolic link, the file it names. */
	if (out == NULL && (target = realpath(argv[optind], NULL)) == NULL) {
		rc = ca_err(CA_ERR_IO, "%s: %s", argv[optind], strerror(errno));
		goto fail;
	}
	if (target == NULL && strcmp(out, "-") != 0 &&
	    (target = strdup(out)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((target != NULL && (rc = ca_file_publish_check(target, 0)) != 0) ||
	    (key_out != NULL && (rc = ca_file_publish_check(key_out, 0)) != 0))
		goto fail;
	if (rekey &&
	    (rc = ca_client_cert_rekey_csr(cc, &csr, &key, &key_len)) != 0)
		goto fail;
	rc = renew(dir, url, root, pass_file, !no_mtls &&
	    now >= cc->not_before && now <= cc->not_after, cc, &csr, &res);
	if (rc != 0 || (rc = ca_client_cert_check_key(cc, res.crt_pem, key,
	    key_len)) != 0)
		goto fail;
	if (asprintf(&chain, "%s%s", res.crt_pem, res.chain_pem) < 0) {
		chain = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = publish(target != NULL ? target : "-", chain, key_out, key,
	    key_len)) != 0)
		goto fail;
	ca_free_secret(key, key_len);
	key = NULL;
	if (cmd != NULL && (rc = run(cmdv)) != 0)
		goto fail;
	status = CA_EXIT_OK;
	goto done;
fail:
	status = ca_cli_fail(rc);
done:
	ca_client_cert_free(cc);
	ca_free_secret(key, key_len);
	gnutls_free(csr.data);
	ca_sign_result_free(&res);
	free(chain);
	free(target);
	free(cmd);
	return status;
}

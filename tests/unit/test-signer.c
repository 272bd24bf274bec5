/*
 * test-signer.c - unit tests of lib/signer.c: the signer's loop fed
 * through a socketpair. Malformed frames are refused and the connection
 * dropped; well-formed requests get the answer (and the error) the local
 * authority gives.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "signer.h"
#include "tap.h"

/* Wire numbers (signer.c): ops and field tags. */
#define OP_PROVISIONERS	4
#define OP_ENCKEY	5
#define T_TOKEN		1
#define T_LIMIT		11
#define T_KID		12

struct loop {
	pthread_t		 th;
	struct ca_authority	*a;
	int			 fd, rc;
	char			 msg[256];
};

static void *
run(void *arg)
{
	struct loop *l = arg;

	l->rc = ca_signer_serve(l->fd, l->a);
	snprintf(l->msg, sizeof(l->msg), "%s", ca_errmsg());
	close(l->fd);
	return NULL;
}

/* A signer loop on one end of a socketpair; *fd is the worker's end. */
static void
start(struct loop *l, struct ca_authority *a, int *fd)
{
	int sv[2];

	memset(l, 0, sizeof(*l));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		printf("Bail out! socketpair\n");
		exit(1);
	}
	l->a = a;
	l->fd = sv[1];
	*fd = sv[0];
	pthread_create(&l->th, NULL, run, l);
}

static size_t
field(unsigned char *p, int tag, const void *v, uint32_t len)
{
	p[0] = (unsigned char)tag;
	p[1] = (unsigned char)(len >> 24);
	p[2] = (unsigned char)(len >> 16);
	p[3] = (unsigned char)(len >> 8);
	p[4] = (unsigned char)len;
	memcpy(p + 5, v, len);
	return 5 + len;
}

/*
 * Send frame body p (with its length unless raw), close our writing
 * side, and expect the signer to drop the connection without a reply
 * and with a message containing want.
 */
static void
refused(const char *what, const void *p, size_t len, int raw,
    const char *want)
{
	struct loop l;
	char c;
	int fd;

	start(&l, NULL, &fd);
	ca_signer_send_raw(fd, p, len, raw);
	shutdown(fd, SHUT_WR);
	is_int(read(fd, &c, 1), 0, "%s: no reply, connection dropped", what);
	pthread_join(l.th, NULL);
	is_int(l.rc, CA_ERR_INVAL, "%s: refused", what);
	ok(strstr(l.msg, want) != NULL, "%s: \"%s\"", what, l.msg);
	if (strstr(l.msg, want) == NULL)
		printf("#   want \"%s\"\n", want);
	close(fd);
}

static void
malformed(void)
{
	unsigned char b[1024], eight[8] = { 0, 0, 0, 0, 0, 0, 0, 5 };
	char big[300];
	size_t n;

	/* An oversize length is refused before anything is read. */
	b[0] = b[1] = b[2] = b[3] = 0xff;
	refused("oversize length", b, 4, 1, "frame of 4294967295 bytes");
	refused("zero length", b, 0, 0, "frame of 0 bytes");
	b[0] = 99;
	refused("unknown op", b, 1, 0, "unknown op 99");
	b[0] = 0x84;
	refused("a reply as a request", b, 1, 0, "unknown op 132");
	/* Length 100, ten bytes, then the end. */
	b[0] = b[1] = b[2] = 0;
	b[3] = 100;
	memset(b + 4, OP_PROVISIONERS, 10);
	refused("truncated frame", b, 14, 1, "truncated frame");

	b[0] = OP_PROVISIONERS;
	n = 1 + field(b + 1, T_LIMIT, eight, 8);
	b[n++] = 0;
	refused("trailing bytes", b, n, 0, "truncated field");

	b[0] = OP_PROVISIONERS;
	refused("missing field", b, 1, 0, "missing field limit");

	n = 1 + field(b + 1, T_LIMIT, eight, 8);
	n += field(b + n, T_LIMIT, eight, 8);
	refused("repeated field", b, n, 0, "repeated field limit");

	n = 1 + field(b + 1, T_LIMIT, eight, 4);
	refused("integer of 4 bytes", b, n, 0, "field limit: bad length 4");

	b[0] = OP_ENCKEY;
	n = 1 + field(b + 1, T_KID, "kid", 3);
	n += field(b + n, T_TOKEN, "x", 1);
	refused("field not of this op", b, n, 0, "unexpected field 1");

	n = 1 + field(b + 1, T_KID, "a\0b", 3);
	refused("NUL in a string", b, n, 0, "field kid: a NUL byte");

	memset(big, 'k', sizeof(big));
	n = 1 + field(b + 1, T_KID, big, sizeof(big));
	refused("field over its bound", b, n, 0, "field kid: bad length 300");

	/* A field length past the frame's end. */
	n = 1 + field(b + 1, T_KID, "kid", 3);
	b[5] = 9;
	refused("field past the end", b, n, 0, "field kid: truncated");
}

/* Through the signer: what the local authority answers, errors included. */
static void
round_trip(void)
{
	struct ca_init_opts o;
	struct ca_authority *a;
	struct ca_signer *sg;
	struct ca_revoke_req rr;
	struct ca_sign_req sr;
	struct ca_sign_result res;
	struct loop l;
	char dir[4200], *fp = NULL, *json = NULL, *serial = NULL, want[512];
	const char *dns[] = { "ca.test" };
	int fd, rc, want_rc;

	snprintf(dir, sizeof(dir), "%s/ca", tmpdir);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "Signer Test";
	o.dns = dns;
	o.n_dns = 1;
	o.address = "127.0.0.1:0";
	o.provisioner = "admin";
	o.password = "pw";
	o.prov_password = "ppw";
	o.p2c = 1000;
	if (ca_init_create(&o, &fp) != 0 || ca_authority_open(dir, "pw", &a) != 0) {
		printf("Bail out! CA: %s\n", ca_errmsg());
		exit(1);
	}
	free(fp);
	start(&l, a, &fd);
	if (ca_signer_new(&fd, 1, &sg) != 0) {
		printf("Bail out! ca_signer_new: %s\n", ca_errmsg());
		exit(1);
	}
	is_int(ca_signer_provisioners(sg, NULL, 0, &json), 0, "provisioners");
	ok(json != NULL && strstr(json, "\"admin\"") != NULL,
	    "provisioners: the list");
	free(json);

	/* A revocation of a serial never issued: the same error. */
	memset(&rr, 0, sizeof(rr));
	rr.serial = "0x1234";
	want_rc = ca_authority_revoke(a, &rr, &serial);
	snprintf(want, sizeof(want), "%s", ca_errmsg());
	ca_err(0, "%s", "");
	rc = ca_signer_revoke(sg, &rr, &serial);
	is_int(rc, want_rc, "revoke, unknown serial: the authority's status");
	is_str(ca_errmsg(), want, "revoke, unknown serial: its message");
	/* A forged token: the same refusal as for a client. */
	memset(&sr, 0, sizeof(sr));
	sr.token = "e30.e30.AAAA";
	sr.token_len = strlen(sr.token);
	sr.csr = "not a csr";
	sr.csr_len = strlen(sr.csr);
	want_rc = ca_authority_sign(a, &sr, &res);
	snprintf(want, sizeof(want), "%s", ca_errmsg());
	rc = ca_signer_sign(sg, &sr, &res);
	ok(rc != 0 && rc == want_rc, "sign, bad token: status %d", rc);
	is_str(ca_errmsg(), want, "sign, bad token: its message");

	/* Too large for the format: refused here, nothing sent. */
	{
		char *huge = malloc((1u << 20) + 2);
		memset(huge, 'a', (1u << 20) + 1);
		huge[(1u << 20) + 1] = '\0';
		sr.token = huge;
		sr.token_len = (1u << 20) + 1;
		is_int(ca_signer_sign(sg, &sr, &res), CA_ERR_TOOBIG,
		    "sign, token over 1 MiB: too big");
		is_str(ca_errmsg(), "token: over 1048576 bytes",
		    "sign, token over 1 MiB: message");
		free(huge);
	}

	/* The worker closes: the loop ends cleanly. */
	ca_signer_free(sg);
	pthread_join(l.th, NULL);
	is_int(l.rc, 0, "end of stream: the signer's loop returns 0");

	/* The "signer" kind of authority: the same answers through it. */
	{
		struct ca_authority *w;
		start(&l, a, &fd);
		is_int(ca_authority_open_signer(&fd, 1, dir, &w), 0,
		    "open_signer");
		is_str(ca_authority_kind(w), "signer", "kind");
		is_str(ca_authority_root_fp(w), ca_authority_root_fp(a),
		    "root fingerprint, from dir");
		is_int(ca_authority_chain_pem(w)->size,
		    ca_authority_chain_pem(a)->size, "intermediate, from dir");
		want_rc = ca_authority_revoke(a, &rr, &serial);
		snprintf(want, sizeof(want), "%s", ca_errmsg());
		is_int(ca_authority_revoke(w, &rr, &serial), want_rc,
		    "revoke through the signer kind: status");
		is_str(ca_errmsg(), want, "revoke through the signer kind: message");
		ca_authority_close(w);
		pthread_join(l.th, NULL);
		is_int(l.rc, 0, "closed: the signer's loop returns 0");
	}

	/* The signer gone: a call fails, not hangs. */
	{
		int sv[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		close(sv[1]);
		ca_signer_new(&sv[0], 1, &sg);
		is_int(ca_signer_provisioners(sg, NULL, 0, &json), CA_ERR_IO,
		    "signer gone: CA_ERR_IO");
		is_int(ca_signer_provisioners(sg, NULL, 0, &json), CA_ERR_IO,
		    "signer gone: again, without a connection");
		is_str(ca_errmsg(), "signer: not running",
		    "signer gone: not running");
		ca_signer_free(sg);
	}
	/* The signer stopped (SIGSTOP): the call ends within its bound with
	 * CA_ERR_TEMP (503), and that connection is given up. */
	{
		struct timespec t0, t1;
		long ms;
		pid_t pid;
		int sv[2], st;

		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		if ((pid = fork()) == 0) {
			close(sv[0]);
			_exit(ca_signer_serve(sv[1], a) == 0 ? 0 : 1);
		}
		close(sv[1]);
		ca_signer_new(&sv[0], 1, &sg);
		ca_signer_set_timeout(sg, 300);
		is_int(ca_signer_provisioners(sg, NULL, 0, &json), 0,
		    "signer in a process: answers");
		free(json);
		json = NULL;
		kill(pid, SIGSTOP);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = ca_signer_provisioners(sg, NULL, 0, &json);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		is_int(rc, CA_ERR_TEMP, "signer stopped: CA_ERR_TEMP");
		is_str(ca_errmsg(), "signer: no reply in time",
		    "signer stopped: its message");
		ok(ms >= 250 && ms < 3000, "signer stopped: ends after the "
		    "300 ms bound, not later (%ld ms)", ms);
		is_int(ca_signer_provisioners(sg, NULL, 0, &json), CA_ERR_IO,
		    "signer stopped: that connection is given up");
		ca_signer_free(sg);
		kill(pid, SIGCONT);
		waitpid(pid, &st, 0);
		ok(WIFEXITED(st), "signer process: ends once resumed and "
		    "closed");
	}
	ca_authority_close(a);
}

int
main(void)
{
	tmpdir_make("signer");
	malformed();
	round_trip();
	tmpdir_remove();
	return tap_done();
}

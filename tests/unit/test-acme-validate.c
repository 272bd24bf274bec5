/*
 * test-acme-validate.c - the ACME challenge checks (lib/acme-validate.c)
 * against peers nobody here wrote: Debian's pebble-challtestsrv (mock
 * DNS, http-01 and tls-alpn-01 responders set over its management API),
 * and hostile responders (tests/acme-hostile.py): a redirect to another
 * port, a 10 MiB body, a server that never answers, a DNS server that
 * never answers. Everything on 127.0.0.1, ports the kernel picks.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <fcntl.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "tap.h"
#include "ca.h"
#include "curl.h"
#include "jose.h"
#include "acme-validate.h"

#define TIMEOUT_MS	2500
/* A failure must come within the timeout, and some slack. */
#define SLACK_MS	1500

struct child {
	pid_t		 pid;
	int		 in, out;	/* its stdin (closed: it exits), stdout */
};

static struct child srv;		/* pebble-challtestsrv */
static int have_v6;			/* ::1 works: served there too */
static int mgmt_port, http_port, tls_port, dns_port;
static char resolver[64];

static void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	if (srv.pid > 0)
		kill(srv.pid, SIGTERM);
	exit(1);
}

static int
spawn(const char *argv[], struct child *c)
{
	int in[2], out[2];

	memset(c, 0, sizeof(*c));
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		return -1;
	if ((c->pid = fork()) < 0)
		return -1;
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = out[0];
	return 0;
}

static void
reap(struct child *c)
{
	int st;

	if (c->pid <= 0)
		return;
	close(c->in);
	kill(c->pid, SIGTERM);
	waitpid(c->pid, &st, 0);
	close(c->out);
	c->pid = 0;
}

/* A line of the child's stdout within ms (its readiness), or -1. */
static int
read_line(struct child *c, char *buf, size_t len, int ms)
{
	struct pollfd p = { c->out, POLLIN, 0 };
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len) {
		if (poll(&p, 1, ms) != 1)
			return -1;
		if ((r = read(c->out, buf + n, 1)) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* A port free for TCP (and UDP, with udp) on 127.0.0.1 right now. */
static int
free_port(int udp)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, fu = -1, port;

	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
		    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
			bail("cannot bind a port");
		port = ntohs(sin.sin_port);
		if (udp) {
			fu = socket(AF_INET, SOCK_DGRAM, 0);
			if (bind(fu, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
				close(fu);
				close(fd);
				continue;
			}
			close(fu);
		}
		close(fd);
		return port;
	}
}

static int
v6_ok(void)
{
	struct sockaddr_in6 sin6;
	int fd, r;

	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) < 0)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	r = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return r;
}

static int
port_open(int port)
{
	struct sockaddr_in sin;
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return r;
}

/* POST json to the management API; its HTTP status. */
static long
mgmt(const char *path, const char *json)
{
	char url[128];
	CURL *h;
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", mgmt_port, path);
	if ((h = ca_curl.easy_init()) == NULL)
		bail("curl_easy_init");
	ca_curl.easy_setopt(h, CURLOPT_URL, url);
	ca_curl.easy_setopt(h, CURLOPT_PROXY, "");
	ca_curl.easy_setopt(h, CURLOPT_POSTFIELDS, json);
	ca_curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	if (ca_curl.easy_perform(h) == CURLE_OK)
		ca_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	ca_curl.easy_cleanup(h);
	return status;
}

static void *
drain_log(void *arg)
{
	char buf[4096];

	while (read(srv.out, buf, sizeof(buf)) > 0)
		;
	return arg;
}

static void
start_challtestsrv(void)
{
	char a_mgmt[32], a_http[64], a_tls[64], a_dns[64];
	char **v, err[256];
	size_t n;
	int64_t until;
	struct acme_dns *d;
	const char *argv[] = { "pebble-challtestsrv", "-management", a_mgmt,
	    "-http01", a_http, "-https01", "", "-tlsalpn01", a_tls,
	    "-dns01", a_dns, "-defaultIPv4", "127.0.0.1", NULL };
	struct pollfd p;
	pthread_t drain;
	int rc, pidfd;

	mgmt_port = free_port(0);
	http_port = free_port(0);
	tls_port = free_port(0);
	dns_port = free_port(1);
	snprintf(a_mgmt, sizeof(a_mgmt), "127.0.0.1:%d", mgmt_port);
	have_v6 = v6_ok();
	snprintf(a_http, sizeof(a_http), have_v6 ? "127.0.0.1:%d,[::1]:%d" :
	    "127.0.0.1:%d", http_port, http_port);
	snprintf(a_tls, sizeof(a_tls), have_v6 ? "127.0.0.1:%d,[::1]:%d" :
	    "127.0.0.1:%d", tls_port, tls_port);
	snprintf(a_dns, sizeof(a_dns), have_v6 ? "127.0.0.1:%d,[::1]:%d" :
	    "127.0.0.1:%d", dns_port, dns_port);
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%d", dns_port);
	if (spawn(argv, &srv) != 0)
		bail("cannot start pebble-challtestsrv");
	/* Its log is read and dropped, so that it never blocks on it. */
	if (pthread_create(&drain, NULL, drain_log, NULL) != 0 ||
	    (pidfd = (int)syscall(SYS_pidfd_open, srv.pid, 0)) < 0)
		bail("cannot watch pebble-challtestsrv");
	/*
	 * Ready when its TCP ports accept (it says nothing when it
	 * listens); meanwhile wait on its log, which also ends if it dies.
	 */
	until = acme_now_ms() + 20000;
	while (!(port_open(mgmt_port) && port_open(http_port) &&
	    port_open(tls_port) && port_open(dns_port))) {
		if (acme_now_ms() > until)
			bail("pebble-challtestsrv did not open its ports");
		/* Wake at once if it dies. */
		p.fd = pidfd;
		p.events = POLLIN;
		if (poll(&p, 1, 20) == 1)
			bail("pebble-challtestsrv exited");
	}
	/* Its UDP side: a query answered. */
	if (acme_dns_open(resolver, &d) != 0)
		bail("acme_dns_open");
	do {
		rc = acme_dns_lookup(d, "probe.test", ns_t_a,
		    acme_now_ms() + 1000, &v, &n, err, sizeof(err));
		acme_dns_free(v);
	} while (rc != ACME_DNS_OK && acme_now_ms() < until);
	acme_dns_close(d);
	if (rc != ACME_DNS_OK)
		bail("pebble-challtestsrv's DNS does not answer");
	close(pidfd);
	pthread_detach(drain);
}

static struct child
hostile4(const char *mode, const char *arg, const char *arg2,
    const char *arg3, int *port)
{
	struct child c;
	char py[4096], line[64];
	const char *top = getenv("CA_TOP_SRCDIR");
	const char *python = getenv("PYTHON");
	const char *argv[] = { python != NULL ? python : "python3", py, mode,
	    arg, arg2, arg3, NULL };

	snprintf(py, sizeof(py), "%s/tests/acme-hostile.py",
	    top != NULL ? top : ".");
	if (spawn(argv, &c) != 0 || read_line(&c, line, sizeof(line),
	    10000) != 0)
		bail("a hostile responder did not start");
	*port = atoi(line);
	return c;
}

static struct child
hostile(const char *mode, const char *arg, int *port)
{
	return hostile4(mode, arg, NULL, NULL, port);
}

static char *
digest(const char *ka)
{
	unsigned char h[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, ka, strlen(ka), h);
	return ca_b64url_encode(h, sizeof(h));
}

static struct ca_acme_job
job(const char *type, const char *id_type, const char *id, const char *token,
    const char *ka)
{
	struct ca_acme_job j;

	memset(&j, 0, sizeof(j));
	j.type = (char *)(uintptr_t)type;
	j.id_type = (char *)(uintptr_t)id_type;
	j.id_value = (char *)(uintptr_t)id;
	j.token = (char *)(uintptr_t)token;
	j.key_auth = (char *)(uintptr_t)ka;
	j.challenge = (char *)(uintptr_t)"chall";
	return j;
}

static struct ca_acme_va_opts
opts(void)
{
	struct ca_acme_va_opts o;

	o.http_port = http_port;
	o.tls_port = tls_port;
	o.resolver = resolver;
	o.timeout_ms = TIMEOUT_MS;
	return o;
}

/*
 * Run a check: want 0 (valid) or the problem type after the prefix.
 * Also checks that it ended within the timeout and its slack.
 */
static void
expect(const struct ca_acme_va_opts *o, struct ca_acme_job j, const char *want,
    const char *what)
{
	char *type = NULL, *detail = NULL, full[128];
	int64_t t0 = acme_now_ms(), ms;
	int rc;

	rc = ca_acme_check(o, &j, &type, &detail);
	ms = acme_now_ms() - t0;
	if (want == NULL) {
		is_int(rc, 0, "%s: valid", what);
		if (rc != 0)
			printf("#   %s: %s\n", type, detail);
	} else {
		snprintf(full, sizeof(full), "urn:ietf:params:acme:error:%s",
		    want);
		is_int(rc, 1, "%s: not valid", what);
		is_str(type, full, "%s: %s", what, want);
		ok(detail != NULL && detail[0] != '\0' &&
		    strchr(detail, '\n') == NULL, "%s: one line of detail",
		    what);
		if (detail != NULL)
			printf("#   detail: %s\n", detail);
	}
	ok(ms < (int64_t)o->timeout_ms + SLACK_MS, "%s: within the timeout (%lld ms)",
	    what, (long long)ms);
	free(type);
	free(detail);
}

/*
 * Run a check against a hostile responder (tests/acme-hostile.py MODE
 * ARGS...) on the http-01 port, or the tls-alpn-01 one with tls.
 */
static void
expect_peer(int tls, const char *mode, const char *a1, const char *a2,
    const char *a3, struct ca_acme_job j, const char *want, const char *what)
{
	struct ca_acme_va_opts o = opts();
	struct child h;
	int hp;

	h = hostile4(mode, a1, a2, a3, &hp);
	if (tls)
		o.tls_port = hp;
	else
		o.http_port = hp;
	expect(&o, j, want, what);
	reap(&h);
}

/* The detail of a failed check (a new string, or NULL). */
static char *
detail_for(const struct ca_acme_va_opts *o, struct ca_acme_job j)
{
	char *type = NULL, *detail = NULL;

	if (ca_acme_check(o, &j, &type, &detail) != 1) {
		free(detail);
		detail = NULL;
	}
	free(type);
	if (detail != NULL)
		printf("#   detail: %s\n", detail);
	return detail;
}

/*
 * What a failed http-01 tells the client: never the body of what a
 * redirect led to (a read into another network), only its host:port
 * and status; before any redirect the body only if it looks like a key
 * authorization, else its length.
 */
static void
http01_details(void)
{
	struct ca_acme_va_opts o = opts();
	char json[512], hp[64], *d;

	is_int(mgmt("/add-http01", "{\"token\":\"sec\",\"content\":"
	    "\"SECRET internal 12345\"}"), 200, "challtestsrv: add-http01");
	snprintf(json, sizeof(json),
	    "{\"path\":\"/.well-known/acme-challenge/tok3\",\"targetURL\":\"http://b.test:%d/.well-known/acme-challenge/sec\"}",
	    http_port);
	is_int(mgmt("/add-redirect", json), 200, "challtestsrv: add-redirect");
	snprintf(hp, sizeof(hp), "b.test:%d", http_port);
	d = detail_for(&o, job("http-01", "dns", "a.test", "tok3",
	    "tok3.thumb"));
	ok(d != NULL && strstr(d, "SECRET") == NULL && strstr(d, "12345") ==
	    NULL, "after a redirect the body is not told");
	ok(d != NULL && strstr(d, hp) != NULL && strstr(d, "sec") == NULL,
	    "... only the host:port it led to");
	free(d);
	d = detail_for(&o, job("http-01", "dns", "a.test", "sec",
	    "sec.thumb"));
	ok(d != NULL && strstr(d, "SECRET") == NULL &&
	    strstr(d, "21 bytes") != NULL,
	    "no redirect, a body unlike a key authorization: its length only");
	free(d);
	d = detail_for(&o, job("http-01", "dns", "a.test", "tok1",
	    "tok1.other"));
	ok(d != NULL && strstr(d, "\"tok1.thumb\"") != NULL,
	    "a body like a key authorization is shown");
	free(d);
}

static void
http01_checks(void)
{
	struct ca_acme_va_opts o = opts();
	char json[512], port[16];

	is_int(mgmt("/add-http01", "{\"token\":\"tok1\",\"content\":\"tok1.thumb\"}"),
	    200, "challtestsrv: add-http01");
	expect(&o, job("http-01", "dns", "a.test", "tok1", "tok1.thumb"), NULL,
	    "http-01 with the right body");
	expect(&o, job("http-01", "ip", "127.0.0.1", "tok1", "tok1.thumb"),
	    NULL, "http-01 for an IP address (RFC 8738)");
	expect(&o, job("http-01", "dns", "a.test", "tok1", "tok1.other"),
	    "unauthorized", "http-01 with another key authorization");
	expect(&o, job("http-01", "dns", "a.test", "nosuch", "nosuch.thumb"),
	    "unauthorized", "http-01 for a token it has no answer for");
	/* A redirect within the rules: same port, another name. */
	snprintf(json, sizeof(json),
	    "{\"path\":\"/.well-known/acme-challenge/tok2\",\"targetURL\":\"http://b.test:%d/.well-known/acme-challenge/tok1\"}",
	    http_port);
	is_int(mgmt("/add-redirect", json), 200, "challtestsrv: add-redirect");
	expect(&o, job("http-01", "dns", "a.test", "tok2", "tok1.thumb"), NULL,
	    "http-01 through an allowed redirect");
	o.http_port = free_port(0);
	expect(&o, job("http-01", "dns", "a.test", "tok1", "tok1.thumb"),
	    "connection", "http-01 to a closed port");
	o = opts();
	is_int(mgmt("/set-servfail", "{\"host\":\"sf.test.\"}"), 200,
	    "challtestsrv: set-servfail");
	expect(&o, job("http-01", "dns", "sf.test", "tok1", "tok1.thumb"),
	    "dns", "http-01 for a name whose lookup fails");

	/* Hostile: a redirect to a port that is neither http nor tls. */
	snprintf(port, sizeof(port), "%d", free_port(0));
	expect_peer(0, "redirect", port, NULL, NULL, job("http-01", "dns",
	    "a.test", "tok1", "tok1.thumb"), "connection",
	    "http-01 redirected to another port");
	/* A redirect loop on the right port: more than 10 refused. */
	snprintf(json, sizeof(json),
	    "{\"path\":\"/.well-known/acme-challenge/loop\",\"targetURL\":\"http://a.test:%d/.well-known/acme-challenge/loop\"}",
	    http_port);
	is_int(mgmt("/add-redirect", json), 200, "challtestsrv: add-redirect (a loop)");
	o = opts();
	expect(&o, job("http-01", "dns", "a.test", "loop", "loop.thumb"),
	    "connection", "http-01 redirected in a loop");
	/* Hostile: 10 MiB. */
	expect_peer(0, "big", NULL, NULL, NULL, job("http-01", "dns", "a.test",
	    "tok1", "tok1.thumb"), "incorrectResponse",
	    "http-01 answered with 10 MiB");
	/* Hostile: never answers. */
	expect_peer(0, "silent", NULL, NULL, NULL, job("http-01", "dns",
	    "a.test", "tok1", "tok1.thumb"), "connection",
	    "http-01 to a server that never answers");
}

static void
dns01_checks(void)
{
	struct ca_acme_va_opts o = opts();
	struct child h;
	char json[512], *d = digest("tok3.thumb");
	int hp;

	snprintf(json, sizeof(json),
	    "{\"host\":\"_acme-challenge.d.test.\",\"value\":\"%s\"}", d);
	is_int(mgmt("/set-txt", json), 200, "challtestsrv: set-txt");
	expect(&o, job("dns-01", "dns", "d.test", "tok3", "tok3.thumb"), NULL,
	    "dns-01 with the right TXT");
	expect(&o, job("dns-01", "dns", "d.test", "tok3", "tok3.other"),
	    "unauthorized", "dns-01 with another key authorization's TXT");
	expect(&o, job("dns-01", "dns", "none.test", "tok3", "tok3.thumb"),
	    "unauthorized", "dns-01 with no TXT record");
	/* A CNAME to where the record is (delegated validation). */
	is_int(mgmt("/set-cname",
	    "{\"host\":\"_acme-challenge.c.test.\",\"target\":\"_acme-challenge.d.test.\"}"),
	    200, "challtestsrv: set-cname");
	expect(&o, job("dns-01", "dns", "c.test", "tok3", "tok3.thumb"), NULL,
	    "dns-01 through a CNAME");
	/* A CNAME loop: bounded. */
	is_int(mgmt("/set-cname",
	    "{\"host\":\"_acme-challenge.loop.test.\",\"target\":\"_acme-challenge.loop.test.\"}"),
	    200, "challtestsrv: set-cname (a loop)");
	expect(&o, job("dns-01", "dns", "loop.test", "tok3", "tok3.thumb"),
	    "dns", "dns-01 on a CNAME loop");
	is_int(mgmt("/set-servfail",
	    "{\"host\":\"_acme-challenge.sf.test.\"}"), 200,
	    "challtestsrv: set-servfail");
	expect(&o, job("dns-01", "dns", "sf.test", "tok3", "tok3.thumb"),
	    "dns", "dns-01 answered SERVFAIL");
	/* Hostile: a DNS server that never answers. */
	h = hostile("dns-silent", NULL, &hp);
	snprintf(json, sizeof(json), "127.0.0.1:%d", hp);
	o.resolver = json;
	expect(&o, job("dns-01", "dns", "d.test", "tok3", "tok3.thumb"),
	    "dns", "dns-01 through a DNS server that never answers");
	expect(&o, job("http-01", "dns", "a.test", "tok1", "tok1.thumb"),
	    "dns", "http-01 through a DNS server that never answers");
	reap(&h);
	free(d);
}

static void
tlsalpn01_checks(void)
{
	struct ca_acme_va_opts o = opts();

	is_int(mgmt("/add-tlsalpn01",
	    "{\"host\":\"t.test\",\"content\":\"tok4.thumb\"}"), 200,
	    "challtestsrv: add-tlsalpn01");
	expect(&o, job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"),
	    NULL, "tls-alpn-01 with the right certificate");
	expect(&o, job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.other"),
	    "unauthorized", "tls-alpn-01 with another key authorization");
	/* challtestsrv answers a name it has no certificate for with none. */
	expect(&o, job("tls-alpn-01", "dns", "other.test", "tok4",
	    "tok4.thumb"), "tls", "tls-alpn-01 for a name it has no answer for");
	/* Plain HTTP where TLS is expected. */
	o.tls_port = http_port;
	expect(&o, job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"),
	    "tls", "tls-alpn-01 to a port that speaks no TLS");
	expect_peer(1, "silent", NULL, NULL, NULL, job("tls-alpn-01", "dns",
	    "t.test", "tok4", "tok4.thumb"), "connection",
	    "tls-alpn-01 to a server that never answers");
	o.tls_port = free_port(0);
	expect(&o, job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"),
	    "connection", "tls-alpn-01 to a closed port");
	/* Certificates done wrong (python's ssl and cryptography). */
	expect_peer(1, "tls", "noalpn", "t.test", "tok4.thumb",
	    job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"), "tls",
	    "tls-alpn-01 from a server that does not select acme-tls/1");
	expect_peer(1, "tls", "noncritical", "t.test", "tok4.thumb",
	    job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"),
	    "incorrectResponse",
	    "tls-alpn-01 with an acmeIdentifier that is not critical");
	expect_peer(1, "tls", "twosans", "t.test", "tok4.thumb",
	    job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"),
	    "incorrectResponse", "tls-alpn-01 with a second name");
	expect_peer(1, "tls", "good", "t.test", "tok4.thumb",
	    job("tls-alpn-01", "dns", "t.test", "tok4", "tok4.thumb"), NULL,
	    "tls-alpn-01 from python's ssl, done right");
}

/* The validator: outcomes reported once each, queue drained. */
struct seen {
	pthread_mutex_t	 lock;
	int		 n, valid;
	char		 last_type[128];
};

static int
on_report(void *arg, const struct ca_acme_job *j, int okv, const char *type,
    const char *detail, time_t now)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	s->n++;
	s->valid += okv != 0;
	if (!okv)
		snprintf(s->last_type, sizeof(s->last_type), "%s", type);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static struct ca_acme_job *
job_new(const char *type, const char *id, const char *token, const char *ka)
{
	struct ca_acme_job *j = calloc(1, sizeof(*j));

	j->type = strdup(type);
	j->id_type = strdup("dns");
	j->id_value = strdup(id);
	j->token = strdup(token);
	j->key_auth = strdup(ka);
	j->challenge = strdup("chall");
	return j;
}

static void
ipv6_checks(void)
{
	struct ca_acme_va_opts o = opts();
	char r6[64];

	if (!have_v6) {
		printf("ok %d # SKIP no IPv6 loopback (::1)\n", ++tap_n);
		return;
	}
	snprintf(r6, sizeof(r6), "[::1]:%d", dns_port);
	o.resolver = r6;
	expect(&o, job("dns-01", "dns", "d.test", "tok3", "tok3.thumb"), NULL,
	    "dns-01 through a resolver at [::1]");
	expect(&o, job("http-01", "ip", "::1", "tok1", "tok1.thumb"), NULL,
	    "http-01 for the IPv6 address ::1 (RFC 8738)");
	is_int(mgmt("/add-aaaa", "{\"host\":\"v6only.test.\",\"addresses\":[\"::1\"]}"),
	    200, "challtestsrv: add-aaaa");
	is_int(mgmt("/add-a", "{\"host\":\"v6only.test.\",\"addresses\":[\"192.0.2.1\"]}"),
	    200, "challtestsrv: add-a (an address nobody answers on)");
	expect(&o, job("http-01", "dns", "v6only.test", "tok1", "tok1.thumb"),
	    NULL, "http-01 for a name answered on its AAAA");
}

static void
validator_checks(void)
{
	struct ca_acme_va_opts o = opts();
	struct ca_acme_validator *v;
	struct seen s = { PTHREAD_MUTEX_INITIALIZER, 0, 0, "" };
	struct child h;
	int hp, i;

	is_int(ca_acme_validator_new_report(on_report, &s, &o, 2, &v), 0,
	    "validator: started with 2 threads");
	for (i = 0; i < 4; i++)
		is_int(ca_acme_validator_submit(v, job_new("http-01", "a.test",
		    "tok1", "tok1.thumb")), 0, "validator: job %d taken", i);
	is_int(ca_acme_validator_submit(v, job_new("dns-01", "d.test", "tok3",
	    "tok3.other")), 0, "validator: an invalid job taken");
	is_int(ca_acme_validator_drain(v, 10000), 0, "validator: drained");
	is_int(s.n, 5, "validator: 5 outcomes reported");
	is_int(s.valid, 4, "validator: 4 of them valid");
	is_str(s.last_type, "urn:ietf:params:acme:error:unauthorized",
	    "validator: the invalid one's type");
	ca_acme_validator_free(v);

	/* A job stuck on a silent peer: drain gives up, free waits. */
	h = hostile("silent", NULL, &hp);
	o.http_port = hp;
	o.timeout_ms = 1500;
	memset(&s.last_type, 0, sizeof(s.last_type));
	s.n = s.valid = 0;
	is_int(ca_acme_validator_new_report(on_report, &s, &o, 2, &v), 0,
	    "validator: started");
	ca_acme_validator_submit(v, job_new("http-01", "a.test", "tok1",
	    "tok1.thumb"));
	/* The other thread goes on validating: dns-01 needs no http port. */
	ca_acme_validator_submit(v, job_new("dns-01", "d.test", "tok3",
	    "tok3.thumb"));
	is_int(ca_acme_validator_drain(v, 500), CA_ERR_TEMP,
	    "validator: drain gives up after its time");
	pthread_mutex_lock(&s.lock);
	is_int(s.valid, 1, "validator: a job validated while another waits "
	    "on a silent peer");
	pthread_mutex_unlock(&s.lock);
	is_int(ca_acme_validator_drain(v, 10000), 0,
	    "validator: then drains once the check timed out");
	is_str(s.last_type, "urn:ietf:params:acme:error:connection",
	    "validator: the silent peer's outcome: connection");
	ca_acme_validator_free(v);
	reap(&h);

	o = opts();
	ok(ca_acme_validator_new_report(on_report, &s, &o, 0, &v) ==
	    CA_ERR_INVAL && v == NULL, "validator: 0 threads refused");
	o.resolver = "localhost:53";
	ok(ca_acme_validator_new_report(on_report, &s, &o, 1, &v) ==
	    CA_ERR_INVAL, "validator: a resolver that is not IP:PORT refused");
}

/* acme_dns_parse on the dns harness's seeds (tests/fuzz/mkcorpus-dns.py). */
static void
parse_one(const char *seed, int type, const char *qname, int want,
    const char *first, size_t count)
{
	char path[4096], *buf = NULL, **v = NULL;
	const char *top = getenv("CA_TOP_SRCDIR");
	size_t len = 0, n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/dns/%s",
	    top != NULL ? top : ".", seed);
	if (ca_file_read(path, 65536, &buf, &len) != 0) {
		ok(0, "dns answer %s: %s", seed, ca_errmsg());
		return;
	}
	rc = acme_dns_parse((unsigned char *)buf, len, type, qname, &v, &n);
	is_int(rc, want, "dns answer %s: %s", seed, want == ACME_DNS_OK ?
	    "read" : "refused");
	if (want == ACME_DNS_OK) {
		is_int(n, count, "dns answer %s: %zu records", seed, count);
		if (first != NULL)
			is_str(n > 0 ? v[0] : NULL, first,
			    "dns answer %s: the first record", seed);
	}
	acme_dns_free(v);
	free(buf);
}

static void
parse_checks(void)
{
	const char *chal = "_acme-challenge.d.test";
	const char *dg = "Z-awq7sVVWUwWyfH3FR8pbtVLP4qQK5yqi2jX26FPgI";

	parse_one("txt", ns_t_txt, chal, ACME_DNS_OK, dg, 1);
	parse_one("txt-split", ns_t_txt, chal, ACME_DNS_OK, dg, 1);
	parse_one("txt-two", ns_t_txt, chal, ACME_DNS_OK, "other", 2);
	parse_one("txt-pointer", ns_t_txt, chal, ACME_DNS_OK, dg, 1);
	parse_one("cname-txt", ns_t_txt, chal, ACME_DNS_OK, dg, 1);
	parse_one("cname-chain-reversed", ns_t_txt, chal, ACME_DNS_OK, dg, 1);
	parse_one("cname-only", ns_t_txt, chal, ACME_DNS_OK, NULL, 0);
	parse_one("cname-loop", ns_t_txt, chal, ACME_DNS_FAIL, NULL, 0);
	parse_one("other-name", ns_t_txt, chal, ACME_DNS_OK, NULL, 0);
	parse_one("other-class", ns_t_txt, chal, ACME_DNS_OK, NULL, 0);
	parse_one("truncated", ns_t_txt, chal, ACME_DNS_FAIL, NULL, 0);
	parse_one("a-two", ns_t_a, "d.test", ACME_DNS_OK, "127.0.0.1", 2);
	parse_one("a-bad-length", ns_t_a, "d.test", ACME_DNS_FAIL, NULL, 0);
	parse_one("aaaa", ns_t_aaaa, "d.test", ACME_DNS_OK, "::1", 1);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ok(ca_acme_resolver_check("127.0.0.1:53") == 0 &&
	    ca_acme_resolver_check("[::1]:8053") == 0 &&
	    ca_acme_resolver_check("127.0.0.1") != 0 &&
	    ca_acme_resolver_check("127.0.0.1:0") != 0 &&
	    ca_acme_resolver_check("::1:53") != 0,
	    "resolver settings: IP:PORT and [IPv6]:PORT only");
	parse_checks();
	if (system("command -v pebble-challtestsrv >/dev/null") != 0) {
		printf("ok %d # SKIP pebble-challtestsrv (package pebble) not installed\n",
		    ++tap_n);
		return tap_done();
	}
	if (ca_curl_load() != 0)
		bail(ca_errmsg());
	start_challtestsrv();
	http01_checks();
	http01_details();
	dns01_checks();
	tlsalpn01_checks();
	ipv6_checks();
	validator_checks();
	reap(&srv);
	ca_curl_unload();
	return tap_done();
}

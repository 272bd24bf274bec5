/*
 * test-acme-serve.c - the server's validator (lib/acme-serve.c): made
 * from caTools.acme when ca.json has an ACME provisioner, fed jobs by
 * ca_serve_acme_job, each outcome checked and logged in the server's
 * log, drained; none without an ACME provisioner. Hermetic: the check
 * is http-01 for 127.0.0.1 on a port nobody listens on.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "unit-ca.h"
#include "acme.h"
#include "acme-validate.h"
#include "http.h"
#include "serve-internal.h"

static char dir[4200], prov[4200], logpath[4200];

/* A port on 127.0.0.1 that nothing listens on (bound, never listened). */
static int
dead_port(int *fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sin, &sl) != 0) {
		printf("Bail out! bind: %s\n", strerror(errno));
		exit(1);
	}
	return ntohs(sin.sin_port);
}

/* ca.json with (or without) an ACME provisioner and caTools.acme. */
static void
set_config(int acme, int http_port)
{
	char path[4300];
	struct json_object *o, *provs, *p, *tools, *a;
	size_t i;

	snprintf(path, sizeof(path), "%s/config/ca.json", dir);
	if ((o = json_object_from_file(path)) == NULL) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	provs = json_object_object_get(json_object_object_get(o, "authority"),
	    "provisioners");
	for (i = json_object_array_length(provs); i > 0; i--) {
		p = json_object_array_get_idx(provs, i - 1);
		if (strcmp(json_object_get_string(json_object_object_get(p,
		    "type")), "ACME") == 0)
			json_object_array_del_idx(provs, i - 1, 1);
	}
	if (acme) {
		p = json_object_new_object();
		json_object_object_add(p, "type", json_object_new_string("ACME"));
		json_object_object_add(p, "name", json_object_new_string("acme"));
		json_object_array_add(provs, p);
	}
	if ((tools = json_object_object_get(o, "caTools")) == NULL) {
		tools = json_object_new_object();
		json_object_object_add(o, "caTools", tools);
	}
	a = json_object_new_object();
	json_object_object_add(a, "httpPort", json_object_new_int(http_port));
	json_object_object_add(a, "validationTimeout",
	    json_object_new_string("2s"));
	json_object_object_add(tools, "acme", a);
	if (json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	json_object_put(o);
}

static struct ca_acme_job *
job_new(const char *challenge)
{
	struct ca_acme_job *j = calloc(1, sizeof(*j));

	j->provisioner = strdup("acme");
	j->authz = strdup("authz");
	j->challenge = strdup(challenge);
	j->type = strdup("http-01");
	j->id_type = strdup("ip");
	j->id_value = strdup("127.0.0.1");
	j->token = strdup("tok");
	j->key_auth = strdup("tok.thumb");
	return j;
}

/* Whether the server's log has a line holding s. */
static int
log_has(const char *s)
{
	char *buf = NULL;
	size_t len;
	int r;

	if (ca_file_read(logpath, 1 << 20, &buf, &len) != 0)
		return 0;
	r = strstr(buf, s) != NULL;
	if (!r)
		printf("#   log:\n%s", buf);
	free(buf);
	return r;
}

static void
serve(int acme, int port)
{
	struct ca_authority *a = NULL;
	struct ca_server *s = NULL;
	struct ca_server_opts so;
	char want[256];

	set_config(acme, port);
	memset(&so, 0, sizeof(so));
	so.log_file = logpath;
	so.threads = 1;
	if (ca_authority_open(dir, NULL, &a) != 0 ||
	    ca_server_new(a, &so, &s) != 0) {
		printf("Bail out! %s\n", ca_errmsg());
		exit(1);
	}
	if (acme) {
		ok(s->acme_va != NULL, "an ACME provisioner: a validator");
		is_int(s->acme_timeout_ms, 2000,
		    "caTools.acme.validationTimeout 2s");
		ca_serve_acme_job(s, job_new("ch-1"));
		ca_serve_acme_job(s, job_new("ch-2"));
		ca_serve_acme_drain(s, 2 * s->acme_timeout_ms);
		/* (The server's log escapes the line's quotes once more.) */
		snprintf(want, sizeof(want),
		    "challenge ch-1: invalid urn:ietf:params:acme:error:connection");
		ok(log_has(want), "the job checked, its outcome logged");
		snprintf(want, sizeof(want), "http://127.0.0.1:%d/", port);
		ok(log_has(want), "on caTools.acme.httpPort");
		ok(log_has("challenge ch-2: invalid"),
		    "the second job checked too");
	} else {
		ok(s->acme_va == NULL, "no ACME provisioner: no validator");
		ca_serve_acme_job(s, job_new("ch-3"));
		ok(log_has("acme: no validator"),
		    "a job anyway: logged, dropped (it stays processing)");
	}
	ca_server_free(s);
	ca_authority_close(a);
}

int
main(void)
{
	int fd, port;

	tmpdir_make("acme-serve");
	unit_ca_make(dir, sizeof(dir), prov, sizeof(prov));
	snprintf(logpath, sizeof(logpath), "%s/serve.log", tmpdir);
	port = dead_port(&fd);
	serve(1, port);
	serve(0, port);
	close(fd);
	tmpdir_remove();
	return tap_done();
}

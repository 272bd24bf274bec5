/*
 * test-pkcs11.c - unit tests of lib/pkcs11.c: the strict RFC 7512 URI
 * checks, and keys on a SoftHSM2 token across fork(): a child opens the
 * key itself (the module initialised anew there) and signs; the parent's
 * session is untouched by the child.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "ca.h"
#include "pkcs11.h"
#include "tap.h"

#define MODULE	"/usr/lib/softhsm/libsofthsm2.so"

static void
uri_checks(void)
{
	static const struct {
		const char	*uri;
		int		 kms;		/* 1 kms, 0 key */
		const char	*err;		/* NULL: accepted */
	} cases[] = {
		{ "pkcs11:module-path=/m.so;token=ca?pin-source=/etc/pin", 1, NULL },
		{ "pkcs11:token=ca;serial=1a?module-path=/m.so&pin-source=file:/p",
		    1, NULL },
		{ "pkcs11:module-path=%2Fm.so;token=My%20CA", 1, NULL },
		{ "pkcs11:token=ca", 1, "k: no module-path=MODULE (the PKCS#11 "
		    "library, e.g. /usr/lib/softhsm/libsofthsm2.so)" },
		{ "pkcs11:module-path=/m.so?pin-value=1234", 1, "k: pin-value "
		    "writes the PIN into ca.json: put it in a file (mode 0600) "
		    "and name it with pin-source=FILE" },
		{ "pkcs11:module-path=/m.so?module-name=softhsm2", 1,
		    "k: module-name: name the module by module-path (p11-kit's "
		    "configuration is not read)" },
		{ "pkcs11:module-path=/m.so;object=x", 1,
		    "k: object names a key: it belongs in \"key\"" },
		{ "pkcs11:module-path=/m.so;token=a;token=b", 1,
		    "k: \"token\" given twice" },
		{ "pkcs11:module-path=/m.so;token=%4", 1, "k: \"token\": a "
		    "character RFC 7512 does not allow, or a bad %-escape" },
		{ "pkcs11:module-path=/m.so;token=a\nb", 1, "k: \"token\": a "
		    "character RFC 7512 does not allow, or a bad %-escape" },
		{ "pkcs11:module-path=/m.so;;token=a", 1, "k: empty attribute" },
		{ "pkcs11:module-path=/m.so;token", 1,
		    "k: attribute without a name or '='" },
		{ "pkcs11:module-path=/m.so;pin-source=/p", 1,
		    "k: unknown path attribute \"pin-source\"" },
		{ "pkcs11:module-path=/m.so?pin-source=p", 1,
		    "k: pin-source must be an absolute file name" },
		{ "pkcs11:module-path=/m.so?pin-source=/a%00b", 1,
		    "k: pin-source: a NUL byte" },
		{ "PKCS11:module-path=/m.so", 1, "k: not a pkcs11: URI" },
		{ "pkcs11:id=%01%02;object=k;type=private", 0, NULL },
		{ "pkcs11:object=k", 0, NULL },
		{ "pkcs11:token=ca", 0, "k: names no key (id= or object=)" },
		{ "pkcs11:object=k;type=cert", 0, "k: type must be private" },
		{ "pkcs11:object=k?pin-source=/p", 0,
		    "k: pin-source: the module and the PIN belong in kms.uri" },
	};
	char longuri[1100];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_err_clear();
		rc = cases[i].kms ? ca_pkcs11_kms_check(cases[i].uri, "k") :
		    ca_pkcs11_key_check(cases[i].uri, "k");
		if (cases[i].err == NULL)
			is_int(rc, 0, "accepted: %s", cases[i].uri);
		else {
			is_int(rc, CA_ERR_CONFIG, "refused: case %zu", i);
			is_str(ca_errmsg(), cases[i].err, "its message");
		}
	}
	memset(longuri, 'a', sizeof(longuri) - 1);
	longuri[sizeof(longuri) - 1] = '\0';
	memcpy(longuri, "pkcs11:module-path=/", 20);
	is_int(ca_pkcs11_kms_check(longuri, "k"), CA_ERR_CONFIG, "too long");
	{
		char *s = NULL;

		is_int(ca_pkcs11_kms_with_pin("pkcs11:module-path=/m.so",
		    "/a b/p=1", &s), 0, "pin-source added");
		is_str(s, "pkcs11:module-path=/m.so?pin-source=/a%20b/p%3D1",
		    "escaped");
		ok(s != NULL && ca_pkcs11_kms_check(s, "k") == 0, "and valid");
		free(s);
		is_int(ca_pkcs11_kms_with_pin("pkcs11:module-path=/m.so?x",
		    "rel", &s), CA_ERR_INVAL, "a relative PIN file refused");
	}
}

/* Sign and verify with key: 1 when both work. */
static int
signs(gnutls_privkey_t key)
{
	static unsigned char msg[] = "to be signed";
	gnutls_datum_t data = { msg, sizeof(msg) - 1 };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	int good;

	good = gnutls_privkey_sign_data2(key, GNUTLS_SIGN_ECDSA_SHA256, 0,
	    &data, &sig) >= 0 &&
	    gnutls_pubkey_init(&pub) >= 0 &&
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) >= 0 &&
	    gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &data,
	    &sig) >= 0;
	gnutls_pubkey_deinit(pub);
	gnutls_free(sig.data);
	return good;
}

static void
token_checks(void)
{
	char conf[4300], pin[4300], cmd[9000], *kms = NULL, *uri = NULL;
	gnutls_privkey_t key = NULL;
	FILE *f;
	pid_t pid;
	int st = -1;

	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", tmpdir);
	snprintf(pin, sizeof(pin), "%s/pin", tmpdir);
	snprintf(cmd, sizeof(cmd), "%s/tokens", tmpdir);
	if (mkdir(cmd, 0700) != 0 || (f = fopen(conf, "w")) == NULL) {
		ok(0, "token directory");
		return;
	}
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", cmd);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label "
	    "unit --pin 1234 --so-pin 12345678 >/dev/null");
	is_int(system(cmd), 0, "softhsm2-util --init-token");
	ok(ca_file_publish(pin, "1234\n", 5, 0600, CA_PUBLISH_NEW) == 0,
	    "PIN file");
	ok(ca_pkcs11_kms_with_pin("pkcs11:module-path=" MODULE ";token=unit",
	    pin, &kms) == 0, "kms URI");
	is_int(ca_pkcs11_login(kms, NULL), 0, "login");
	is_int(ca_pkcs11_key_generate(CA_KEY_EC_P256, "unit_key", &uri, &key),
	    0, "a key made on the token");
	ca_pkcs11_logout();
	ok(key != NULL && signs(key), "it signs");
	if (key == NULL)
		goto out;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		gnutls_privkey_t own = NULL;
		int bad = 0;

		/* The parent's session is not the child's: it opens its own. */
		if (ca_pkcs11_key_open(kms, uri, &own) != 0)
			bad |= 1;
		else if (!signs(own))
			bad |= 2;
		gnutls_privkey_deinit(own);
		_exit(bad);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st),
	    "the child exited");
	is_int(WEXITSTATUS(st), 0, "the child opened the key and signed");
	ok(signs(key), "the parent still signs after the child is gone");

	/* (A wrong PIN is refused in tests/pkcs11.bats, by a new process:
	 * SoftHSM2 keeps a forked child logged in as its parent was.) */
	is_int(ca_pkcs11_login(kms, NULL), 0, "login again");
	is_int(ca_pkcs11_key_delete(uri), 0, "the key deleted");
	{
		gnutls_privkey_t k3 = NULL;

		is_int(ca_pkcs11_key_find(uri, &k3), CA_ERR_NOTFOUND,
		    "and gone");
	}
	ca_pkcs11_logout();
out:
	gnutls_privkey_deinit(key);
	free(uri);
	free(kms);
}

int
main(void)
{
	uri_checks();
	if (access(MODULE, R_OK) != 0 ||
	    system("command -v softhsm2-util >/dev/null") != 0) {
		printf("ok %d # SKIP SoftHSM2 (package softhsm2) not installed\n",
		    ++tap_n);
		return tap_done();
	}
	tmpdir_make("pkcs11");
	token_checks();
	tmpdir_remove();
	return tap_done();
}

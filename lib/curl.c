/*
 * curl.c - libcurl loaded on first use (see curl.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "ca.h"
#include "curl.h"

struct ca_curl_fns ca_curl;
static void *curl_dl;
static unsigned curl_refs;
/* curl_global_init and _cleanup are not thread-safe: under this lock. */
static pthread_mutex_t curl_lock = PTHREAD_MUTEX_INITIALIZER;

static int
curl_open(void)
{
	void *sym;
	const char *missing = NULL;
	CURLcode cc;
	int rc;

	/* NODELETE: a tool that loads it for one fetch and unloads it (the
	 * OIDC keys of an offline ca-sign) must not unmap a library whose
	 * dependencies left thread-local storage behind (LeakSanitizer
	 * crashed on it at exit). */
	if ((curl_dl = dlopen(CA_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL |
	    RTLD_NODELETE)) == NULL)
		return ca_err(CA_ERR_CONFIG,
		    "cannot load %s, which the online mode needs (install the Debian package libcurl3-gnutls): %s",
		    CA_LIBCURL_SONAME, dlerror());
#define LOAD(field, name) do {						\
	if ((sym = dlsym(curl_dl, name)) == NULL && missing == NULL)	\
		missing = name;						\
	memcpy(&ca_curl.field, &sym, sizeof(sym));			\
} while (0)
	LOAD(global_init, "curl_global_init");
	LOAD(global_cleanup, "curl_global_cleanup");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_perform, "curl_easy_perform");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(slist_append, "curl_slist_append");
	LOAD(slist_free_all, "curl_slist_free_all");
	LOAD(url, "curl_url");
	LOAD(url_set, "curl_url_set");
	LOAD(url_get, "curl_url_get");
	LOAD(url_cleanup, "curl_url_cleanup");
	LOAD(free, "curl_free");
#undef LOAD
	if (missing != NULL) {
		rc = ca_err(CA_ERR_CONFIG, "%s has no %s: too old?",
		    CA_LIBCURL_SONAME, missing);
		goto fail;
	}
	if ((cc = ca_curl.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		rc = ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
		    ca_curl.easy_strerror(cc));
		goto fail;
	}
	return 0;
fail:
	dlclose(curl_dl);
	curl_dl = NULL;
	memset(&ca_curl, 0, sizeof(ca_curl));
	return rc;
}

int
ca_curl_load(void)
{
	int rc = 0;

	pthread_mutex_lock(&curl_lock);
	if (curl_refs == 0)
		rc = curl_open();
	if (rc == 0)
		curl_refs++;
	pthread_mutex_unlock(&curl_lock);
	return rc;
}

void
ca_curl_unload(void)
{
	pthread_mutex_lock(&curl_lock);
	if (curl_refs > 0 && --curl_refs == 0) {
		ca_curl.global_cleanup();
		dlclose(curl_dl);
		curl_dl = NULL;
		memset(&ca_curl, 0, sizeof(ca_curl));
	}
	pthread_mutex_unlock(&curl_lock);
}

/*
 * curl.h - libcurl (GnuTLS flavour), loaded with dlopen() on first use
 * and shared by its users: the online clients (client.c) and the ACME
 * validator (acme-validate.c). Linking it would cost every offline run
 * the start-up of some thirty libraries.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CURL_H
#define CA_CURL_H

#include <curl/curl.h>

/* The part of libcurl we use, resolved with dlsym(); valid while loaded. */
struct ca_curl_fns {
	__typeof__(curl_global_init)	*global_init;
	__typeof__(curl_global_cleanup)	*global_cleanup;
	__typeof__(curl_easy_init)	*easy_init;
	__typeof__(curl_easy_setopt)	*easy_setopt;
	__typeof__(curl_easy_perform)	*easy_perform;
	__typeof__(curl_easy_getinfo)	*easy_getinfo;
	__typeof__(curl_easy_cleanup)	*easy_cleanup;
	__typeof__(curl_easy_strerror)	*easy_strerror;
	__typeof__(curl_slist_append)	*slist_append;
	__typeof__(curl_slist_free_all)	*slist_free_all;
	__typeof__(curl_url)		*url;
	__typeof__(curl_url_set)	*url_set;
	__typeof__(curl_url_get)	*url_get;
	__typeof__(curl_url_cleanup)	*url_cleanup;
	__typeof__(curl_free)		*free;
};
extern struct ca_curl_fns ca_curl;

/*
 * Take a reference on libcurl, loading it (and curl_global_init) the
 * first time: 0, or CA_ERR_CONFIG with the reason. Thread-safe; each
 * success is paired with one ca_curl_unload(), and the last unloads it
 * (no leaks at exit).
 */
int	 ca_curl_load(void);
void	 ca_curl_unload(void);

#endif /* CA_CURL_H */

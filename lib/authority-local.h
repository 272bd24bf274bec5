/*
 * authority-local.h - the local authority's state (a state directory, in
 * this process), shared by its files: authority-local.c, status.c, ra.c.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_AUTHORITY_LOCAL_H
#define CA_AUTHORITY_LOCAL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "authority-impl.h"
#include "conf.h"
#include "x509.h"

struct ca_store;
struct ca_pending;
struct ca_status;
struct ca_upstream;
struct ca_db_crl;

/*
 * Every function may be called from several threads at once: the
 * configuration is read under cfg_lock (reload takes it for writing), the
 * key is used under sign_lock, and the records of concurrent issuances
 * are committed together (group commit) by whichever caller finds the
 * store idle, with one set of syncs.
 */
struct ca_local {
	struct ca_authority	*pub;		/* the handle that wraps this */
	char			*dir;
	struct ca_config	*cfg;
	pthread_rwlock_t	 cfg_lock;
	struct ca_issuer	 issuer;	/* the intermediate */
	pthread_mutex_t		 sign_lock;
	gnutls_x509_crt_t	 root;
	char			*root_fp;	/* lowercase hex SHA-256 */
	gnutls_datum_t		 root_pem;
	gnutls_datum_t		 crt_pem;	/* the intermediate's PEM */
	struct ca_store		*store;
	pthread_mutex_t		 store_lock;	/* one user of a->store at a time */
	pthread_mutex_t		 commit_lock;
	pthread_cond_t		 commit_cv;
	struct ca_pending	*queue;		/* waiting to be committed */
	int			 committing;
	int			 ports[CA_MAX_PORTS];	/* also accepted in audiences */
	size_t			 n_ports;
	unsigned long		 batches, batched;	/* group commit statistics */
	volatile unsigned long	 revision;	/* bumped by each revocation here */
	struct ca_status	*status;	/* lib/status.c: CRL, OCSP, db/revision */
	struct ca_upstream	*upstream;	/* a registration authority's CA */
};

/* lib/status.c: its state, counting a committed revocation, CRL, OCSP. */
int	 ca_status_new(struct ca_status **out);
void	 ca_status_free(struct ca_status *s);
void	 ca_status_bump(struct ca_local *a);
int	 ca_local_crl(struct ca_local *a, time_t now, int fresh,
	    struct ca_db_crl *out);
int	 ca_local_ocsp(struct ca_local *a, const void *der, size_t len,
	    time_t now, gnutls_datum_t *resp, time_t *next_update);
void	 ca_local_ocsp_stats(struct ca_local *a, unsigned long *hits,
	    unsigned long *built);

#endif /* CA_AUTHORITY_LOCAL_H */

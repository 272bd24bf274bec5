/*
 * store-group.c - group commit: the changes of concurrent callers in one
 * write transaction, so that they share its syncs (see store.h).
 *
 * Each caller waiting to be committed is a struct waiter on g->queue. The
 * first caller to find nobody committing takes the whole queue and runs
 * it in one transaction, each waiter's fn between a savepoint and, if fn
 * fails, a rollback to it; the others wait on g->cv and find their result
 * in their waiter. Backend-neutral: it uses only the store's operations.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "store.h"

struct waiter {
	int		(*fn)(struct ca_store *, void *);
	void		*arg;
	int		 rc;
	int		 done;
	char		 msg[256];
	struct waiter	*next;
};

struct ca_store_group {
	struct ca_store	*st;
	pthread_mutex_t	*store_lock;	/* the store's users' lock, or NULL */
	pthread_mutex_t	 lock;		/* queue, committing, counters */
	pthread_cond_t	 cv;
	struct waiter	*queue;		/* waiting to be committed */
	int		 committing;
	unsigned long	 batches, callers;
};

int
ca_store_group_new(struct ca_store *st, pthread_mutex_t *lock,
    struct ca_store_group **out)
{
	struct ca_store_group *g;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	g->st = st;
	g->store_lock = lock;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cv, NULL);
	*out = g;
	return 0;
}

void
ca_store_group_free(struct ca_store_group *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cv);
	free(g);
}

/* One transaction for the waiters on batch; their rc and msg are set. */
static size_t
run_batch(struct ca_store_group *g, struct waiter *batch)
{
	struct waiter *w;
	size_t n = 0, ok = 0, mark;
	int rc;

	if (g->store_lock != NULL)
		pthread_mutex_lock(g->store_lock);
	if ((rc = ca_store_begin(g->st, 1)) == 0) {
		for (w = batch; w != NULL; w = w->next) {
			n++;
			mark = ca_store_savepoint(g->st);
			ca_err_clear();
			if ((w->rc = w->fn(g->st, w->arg)) == 0) {
				ok++;
				continue;
			}
			ca_store_rollback(g->st, mark);
			snprintf(w->msg, sizeof(w->msg), "%s", ca_errmsg());
		}
		if (ok > 0)
			rc = ca_store_commit(g->st);
		else
			ca_store_abort(g->st);
	}
	if (rc != 0)
		for (w = batch; w != NULL; w = w->next)
			if (w->rc == 0) {
				w->rc = rc;
				snprintf(w->msg, sizeof(w->msg), "%s", ca_errmsg());
			}
	if (g->store_lock != NULL)
		pthread_mutex_unlock(g->store_lock);
	return n;
}

int
ca_store_group_commit(struct ca_store_group *g,
    int (*fn)(struct ca_store *, void *), void *arg)
{
	struct waiter me, **tail, *batch;
	size_t n;

	memset(&me, 0, sizeof(me));
	me.fn = fn;
	me.arg = arg;
	pthread_mutex_lock(&g->lock);
	for (tail = &g->queue; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = &me;
	while (!me.done) {
		if (g->committing) {
			pthread_cond_wait(&g->cv, &g->lock);
			continue;
		}
		g->committing = 1;
		batch = g->queue;
		g->queue = NULL;
		pthread_mutex_unlock(&g->lock);
		n = run_batch(g, batch);
		pthread_mutex_lock(&g->lock);
		g->batches++;
		g->callers += n;
		for (; batch != NULL; batch = batch->next)
			batch->done = 1;
		g->committing = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->lock);
	/* The message was set on the committing thread: set it on ours. */
	ca_err_clear();
	if (me.rc != 0 && me.msg[0] != '\0')
		ca_err(me.rc, "%s", me.msg);
	return me.rc;
}

void
ca_store_group_stats(struct ca_store_group *g, unsigned long *batches,
    unsigned long *callers)
{
	pthread_mutex_lock(&g->lock);
	*batches = g->batches;
	*callers = g->callers;
	pthread_mutex_unlock(&g->lock);
}

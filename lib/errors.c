/*
 * errors.c - the error model (ca_err and its message), exit statuses,
 * and the diagnostics of -v (ca_debug, ca_warn).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ca.h"

static _Thread_local char errbuf[512];
int ca_verbose;
static void (*log_fn)(int, const char *);

int
ca_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return code;
}

const char *
ca_errmsg(void)
{
	return errbuf;
}

void
ca_err_clear(void)
{
	errbuf[0] = '\0';
}

void
ca_err_context(const char *fmt, ...)
{
	char ctx[256], old[sizeof(errbuf)];
	size_t n, m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof(old));
	n = strlen(ctx);
	if (n > sizeof(errbuf) - 3)
		n = sizeof(errbuf) - 3;
	memcpy(errbuf, ctx, n);
	errbuf[n++] = ':';
	errbuf[n++] = ' ';
	m = strlen(old);
	if (m > sizeof(errbuf) - 1 - n)
		m = sizeof(errbuf) - 1 - n;
	memcpy(errbuf + n, old, m);
	errbuf[n + m] = '\0';
}

int
ca_exit_status(int code)
{
	if (code == 0)
		return CA_EXIT_OK;
	if (code == CA_ERR_TEMP || code == CA_ERR_UPSTREAM ||
	    code == CA_ERR_UPSTREAM_TIMEOUT)
		return CA_EXIT_TEMP;
	return CA_EXIT_FAIL;
}

void
ca_set_log_function(void (*fn)(int, const char *))
{
	log_fn = fn;
}

/* One diagnostic line: to the program's log function, else stderr. */
static void diag(int, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
diag(int level, const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_fn != NULL)
		log_fn(level, buf);
	else
		fprintf(stderr, "%s: %s%s\n", program_invocation_short_name,
		    prefix, buf);
}

void
ca_debug(const char *fmt, ...)
{
	va_list ap;

	if (!ca_verbose)
		return;
	va_start(ap, fmt);
	diag(1, "", fmt, ap);
	va_end(ap);
}

void
ca_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(1, "", fmt, ap);
	va_end(ap);
}

void
ca_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag(0, "warning: ", fmt, ap);
	va_end(ap);
}

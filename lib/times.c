/*
 * times.c - durations ("90d", "1h30m" as Go writes them) and RFC 3339
 * times.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca.h"

/*
 * Durations. Units: d, h, m, s, ms, us, ns, as Go's time.ParseDuration
 * plus days; a bare number is refused (ambiguous).
 */
int
ca_duration_parse(const char *s, int allow_neg, int64_t *secs)
{
	const char *p = s;
	int neg = 0, any = 0;
	int64_t ns = 0, total = 0;

	*secs = 0;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (neg && !allow_neg)
		return ca_err(CA_ERR_INVAL, "negative duration '%s'", s);
	if (strcmp(p, "0") == 0)
		return 0;
	while (*p != '\0') {
		uint64_t v = 0, mult, div;
		int digits = 0;
		double frac = 0, scale = 0.1;

		while (isdigit((unsigned char)*p)) {
			if (v > (UINT64_MAX - 9) / 10)
				goto range;
			v = v * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				frac += (*p++ - '0') * scale;
				scale /= 10;
				digits++;
			}
		}
		if (digits == 0)
			goto bad;
		/* Sub-second units: whole seconds, and the rest in ns. */
		div = 0;
		if (strncmp(p, "ms", 2) == 0) {
			div = 1000;
			p += 2;
		} else if (strncmp(p, "us", 2) == 0) {
			div = 1000000;
			p += 2;
		} else if (strncmp(p, "\xc2\xb5s", 3) == 0) {
			div = 1000000;
			p += 3;
		} else if (strncmp(p, "ns", 2) == 0) {
			div = 1000000000;
			p += 2;
		}
		if (div != 0) {
			if (v / div > (uint64_t)(INT64_MAX / 4) - (uint64_t)total)
				goto range;
			total += (int64_t)(v / div);
			ns += (int64_t)((double)(v % div) * (1e9 / (double)div) +
			    frac * (1e9 / (double)div));
			while (ns >= 1000000000) {
				ns -= 1000000000;
				total++;
			}
			any = 1;
			continue;
		}
		switch (*p) {
		case 'd': mult = 86400; break;
		case 'h': mult = 3600; break;
		case 'm': mult = 60; break;
		case 's': mult = 1; break;
		default: goto bad;
		}
		p++;
		if (v > (uint64_t)(INT64_MAX / 4) / mult)
			goto range;
		total += (int64_t)(v * mult) + (int64_t)(frac * (double)mult);
		if (total > INT64_MAX / 4)
			goto range;
		any = 1;
	}
	if (!any)
		goto bad;
	*secs = neg ? -total : total;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL,
	    "invalid duration '%s' (use e.g. 90d, 24h, 5m, 30s)", s);
range:
	return ca_err(CA_ERR_INVAL, "duration '%s' out of range", s);
}

void
ca_duration_format(int64_t secs, char *buf, size_t len)
{
	const char *sign = "";
	uint64_t u;

	if (secs < 0) {
		sign = "-";
		u = (uint64_t)(-(secs + 1)) + 1;
	} else
		u = (uint64_t)secs;
	/* As Go's time.Duration.String() for whole seconds. */
	if (u >= 3600)
		snprintf(buf, len, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", sign,
		    u / 3600, (u / 60) % 60, u % 60);
	else if (u >= 60)
		snprintf(buf, len, "%s%" PRIu64 "m%" PRIu64 "s", sign, u / 60,
		    u % 60);
	else
		snprintf(buf, len, "%s%" PRIu64 "s", sign, u);
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mon == 1 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[mon];
}

int
ca_time_parse(const char *s, time_t now, time_t *out)
{
	struct tm tm;
	const char *p;
	int64_t d;
	int off = 0;
	time_t t;

	*out = 0;
	/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
	if (strlen(s) >= 20 && s[4] == '-' && s[7] == '-' &&
	    (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && s[13] == ':' &&
	    s[16] == ':') {
		if (!all_digits(s, 4) || !all_digits(s + 5, 2) ||
		    !all_digits(s + 8, 2) || !all_digits(s + 11, 2) ||
		    !all_digits(s + 14, 2) || !all_digits(s + 17, 2))
			goto bad;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = num(s, 4) - 1900;
		tm.tm_mon = num(s + 5, 2) - 1;
		tm.tm_mday = num(s + 8, 2);
		tm.tm_hour = num(s + 11, 2);
		tm.tm_min = num(s + 14, 2);
		tm.tm_sec = num(s + 17, 2);
		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
		    tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon) ||
		    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
			goto bad;
		p = s + 19;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
			off = 0;
		else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
		    all_digits(p + 1, 2) && p[3] == ':' && all_digits(p + 4, 2)) {
			if (num(p + 1, 2) > 23 || num(p + 4, 2) > 59)
				goto bad;
			off = num(p + 1, 2) * 3600 + num(p + 4, 2) * 60;
			if (*p == '-')
				off = -off;
		} else
			goto bad;
		if ((t = timegm(&tm)) == (time_t)-1)
			goto bad;
		*out = t - off;
		return 0;
	}
	if (ca_duration_parse(s, 1, &d) != 0)
		goto bad;
	*out = now + (time_t)d;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL,
	    "invalid time '%s' (use RFC 3339, e.g. 2026-01-02T03:04:05Z, or a duration such as 24h)",
	    s);
}

void
ca_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

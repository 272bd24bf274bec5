/*
 * defaults.h - a client's CA defaults, as step keeps them: the CA's URL,
 * its root's fingerprint and the root file, written by ca-bootstrap
 * --install and read by the online tools when they are given no CA.
 *
 * Layout, under the configuration directory D ($XDG_CONFIG_HOME/ca-tools,
 * else $HOME/.config/ca-tools), the one of step's $STEPPATH:
 *   D/config/defaults.json                  {"ca-url", "fingerprint", "root"}
 *   D/certs/root_ca.crt                     the root it names
 *   D/authorities/NAME/config/defaults.json a context NAME, the same
 *   D/authorities/NAME/certs/root_ca.crt
 *   D/current-context.json                  {"context": "NAME"}: the
 *                                           context used when none is named
 * Which defaults apply: the context named (--context, else $CA_CONTEXT),
 * else the current context, else D/config/defaults.json, else step's own
 * ($STEPPATH, else ~/.step: the same files, its current context) for its
 * "ca-url", "fingerprint" and "root" only.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_DEFAULTS_H
#define CA_DEFAULTS_H

#include <stddef.h>

#define CA_DEFAULTS_MAX_FILE	(64 * 1024)	/* a defaults file */
#define CA_DEFAULTS_MAX_NAME	64		/* a context name */
#define CA_DEFAULTS_ENV		"CA_CONTEXT"

struct ca_defaults {
	char	*url;		/* "ca-url", checked */
	char	*fp;		/* "fingerprint", lowercase hex */
	char	*root;		/* "root", an absolute path */
	char	*file;		/* the defaults file read */
	char	*context;	/* its context; NULL: none */
	char	*ignored;	/* members not used, "a, b"; NULL: none */
};

/*
 * Whether name can name a context: 1 to 64 of [A-Za-z0-9._-], not
 * starting with a dot. CA_ERR_INVAL (recorded) otherwise.
 */
int	 ca_defaults_context_check(const char *name);
/* The configuration directory D (see above). Caller frees *dir. */
int	 ca_defaults_dir(char **dir);
/*
 * Parse len bytes of a defaults file (what names it in messages): a JSON
 * object with the strings "ca-url", "fingerprint" and "root" (absolute),
 * other members collected in d->ignored. d is cleared first; release it
 * with ca_defaults_clear in every case. CA_ERR_CONFIG with the member
 * named when malformed.
 */
int	 ca_defaults_parse(const char *buf, size_t len, const char *what,
	    struct ca_defaults *d);
/*
 * The defaults that apply (see above) for context (NULL: not named).
 * CA_ERR_NOTFOUND without a message when there are none and no context
 * was named; a named or current context that does not exist, an
 * unreadable or malformed file, or a root whose fingerprint is not the
 * file's are CA_ERR_CONFIG. *out: free with ca_defaults_free.
 */
int	 ca_defaults_load(const char *context, struct ca_defaults **out);
/*
 * ca-bootstrap --install: publish root_pem (the root, checked to have
 * fingerprint fp by the caller) and the defaults for url and fp, for
 * context (NULL: the plain defaults), each atomically, then make it the
 * current context (NULL: none, removing current-context.json). A
 * defaults file for another URL or fingerprint is kept (CA_ERR_EXISTS)
 * unless force. *out (may be NULL) the defaults written.
 */
int	 ca_defaults_install(const char *context, const char *url,
	    const char *fp, const char *root_pem, size_t len, int force,
	    struct ca_defaults **out);
void	 ca_defaults_clear(struct ca_defaults *d);
void	 ca_defaults_free(struct ca_defaults *d);

#endif /* CA_DEFAULTS_H */

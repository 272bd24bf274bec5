/*
 * provisioner-args.h - ca-provisioner's command line checked together and
 * turned into the change an edit makes (lib/provisioner.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_PROVISIONER_ARGS_H
#define CA_PROVISIONER_ARGS_H

#include "provisioner.h"

struct ca_prov_args {
	/* What the tool was given; NULL, 0 or -1 (durations): not given. */
	const char	*cmd;		/* list, add, update, remove */
	int		 nargs;		/* operands after cmd */
	int		 json, create, require_eab, password;
	const char	*type, *public_key, *pid_file;
	/* SCEP: --challenge-file, --decrypter-cert, --decrypter-key */
	const char	*challenge_file, *decrypter_cert, *decrypter_key;
	unsigned	 challenges;	/* --challenge, CA_ACME_* */
	long long	 min_dur, max_dur, default_dur;
	int		 disable_renewal, no_disable_renewal;
	int		 allow_after_expiry, no_allow_after_expiry;
	const char	*x509_template, *x509_template_data;	/* files */
	/* policy.x509: --x509-allow-dns ... in order; --remove-names */
	struct ca_prov_rule rules[CA_PROV_RULES_MAX];
	size_t		 nrules;
	int		 remove_names;
	int		 allow_wildcards, disallow_wildcards;
	/* Set by ca_prov_args_check; the templates by ca_prov_args_read. */
	struct ca_prov_change change;
	char		*template_text;
	struct json_object *template_data;
};

/* Clear a: nothing given. */
void	 ca_prov_args_init(struct ca_prov_args *a);
/* Add challenge name (http-01, dns-01, tls-alpn-01): 0 or CA_ERR_INVAL. */
int	 ca_prov_args_challenge(struct ca_prov_args *a, const char *name);
/*
 * Add value to the policy list (--x509-allow-dns ...), borrowed: 0, or
 * CA_ERR_INVAL past CA_PROV_RULES_MAX or for an empty value.
 */
int	 ca_prov_args_rule(struct ca_prov_args *a, enum ca_prov_list list,
	    const char *value);
/*
 * Refuse step's SSH flags (--ssh-*: policy, claims, templates) among the
 * options argv[1..argc-1] before "--": 0, or CA_ERR_INVAL naming the flag.
 */
int	 ca_prov_args_no_ssh(int argc, char **argv);
/*
 * Whether the options in a go with its command, checked before anything
 * is read: 0 (and a->change set), or CA_ERR_INVAL with the usage error
 * recorded.
 */
int	 ca_prov_args_check(struct ca_prov_args *a);
/*
 * Read the files of --x509-template (text, at most CA_CERTTMPL_FILE_MAX
 * bytes) and --x509-template-data (a JSON object, strictly parsed) into
 * a->change. Free with ca_prov_args_free().
 */
int	 ca_prov_args_read(struct ca_prov_args *a);
void	 ca_prov_args_free(struct ca_prov_args *a);

#endif /* CA_PROVISIONER_ARGS_H */

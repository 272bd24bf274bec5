/*
 * provisioner.h - managing the provisioners of config/ca.json
 * (ca-provisioner, and ca-init's first one).
 *
 * An edit is one read-modify-write of ca.json under the flock
 * config/ca.json.lock: the file is read, the change applied to its JSON,
 * the result loaded with ca_config_parse() (what ca-serve loads), and only
 * if that succeeds is the old file copied to config/ca.json.bak and the new
 * one published (temporary file, fsync, rename; mode and owner kept). A
 * refused edit leaves both files as they were.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_PROVISIONER_H
#define CA_PROVISIONER_H

#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#define CA_PROV_NAME_MAX	128	/* bytes */
#define CA_PROV_LOCK_MS		10000	/* wait for another edit */
#define CA_PROV_RULES_MAX	64	/* policy entries one edit names */

/* The lists of policy.x509 an edit adds to or removes from. */
enum ca_prov_list {
	CA_PROV_ALLOW_DNS, CA_PROV_ALLOW_IP, CA_PROV_ALLOW_EMAIL,
	CA_PROV_ALLOW_URI, CA_PROV_ALLOW_CN,
	CA_PROV_DENY_DNS, CA_PROV_DENY_IP, CA_PROV_DENY_EMAIL,
	CA_PROV_DENY_URI, CA_PROV_DENY_CN,
	CA_PROV_LIST_N
};

/* One entry of a policy list (value borrowed). */
struct ca_prov_rule {
	enum ca_prov_list list;
	const char	*value;
};

/* What an edit changes in a provisioner; -1 (0 for challenges): unchanged. */
struct ca_prov_change {
	int64_t		 min_dur;	/* claims, seconds */
	int64_t		 max_dur;
	int64_t		 default_dur;
	int		 disable_renewal;	/* 0 or 1 */
	int		 allow_renewal_after_expiry;
	unsigned	 challenges;	/* ACME: CA_ACME_* */
	int		 require_eab;	/* ACME */
	/* options.x509 (borrowed; NULL: unchanged): the template's text,
	 * stored inline as step does (a templateFile is dropped), and the
	 * templateData object. */
	const char	*x509_template;
	struct json_object *x509_template_data;
	/* policy.x509 (as step ca policy ... x509 edits it): rules appended
	 * to their lists in order, or with remove_rules every equal entry
	 * removed; allow_wildcards 1 sets allowWildcardNames, 0 drops it
	 * (step leaves false out). Emptied lists and objects are removed. */
	const struct ca_prov_rule *rules;
	size_t		 nrules;
	int		 remove_rules;
	int		 allow_wildcards;
};

/* Clear c: nothing changed. */
void	 ca_prov_change_init(struct ca_prov_change *c);

/*
 * A provisioner name as ca.json may hold it: 1 to CA_PROV_NAME_MAX bytes,
 * no control characters. 0 or CA_ERR_INVAL.
 */
int	 ca_provisioner_name_check(const char *name);

/*
 * A new JWK provisioner {"type": "JWK", "name", "key", "encryptedKey"}: a
 * new P-256 key, its private JWK encrypted under password (PBES2, p2c
 * iterations, 0: step's 600000). If key_out is not NULL, the private JWK
 * is also written there (a new file, 0600) and *wrote_key set. Caller puts
 * *out.
 */
int	 ca_provisioner_jwk_new(const char *name, const char *password,
	    size_t pwlen, unsigned p2c, const char *key_out,
	    struct json_object **out, int *wrote_key);
/*
 * A JWK provisioner for the public JWK in the file path (no encryptedKey:
 * tokens are signed with the private key the user keeps). A private key
 * is refused. Caller puts *out.
 */
int	 ca_provisioner_jwk_public(const char *name, const char *path,
	    struct json_object **out);
/* An ACME provisioner {"type": "ACME", "name"}. Caller puts *out. */
int	 ca_provisioner_acme_new(const char *name, struct json_object **out);
/*
 * A provisioner {"type": type, "name", member} whose member holds, as step
 * stores a []byte, the standard base64 of the PEM files paths[0..n-1]
 * concatenated (each at most CA_MAX_CERT bytes): X5C "roots", K8sSA
 * "publicKeys". The loader judges the PEM. Caller puts *out.
 */
int	 ca_provisioner_pem_new(const char *type, const char *name,
	    const char *member, const char *const *paths, size_t n,
	    struct json_object **out);
/*
 * A SCEP provisioner: its challenge (the first line of challenge_file),
 * encryptionAlgorithmIdentifier 2 (AES-256-CBC), and when crt_file is not
 * NULL the decrypter (PEM files, each at most 64 KiB, stored in base64 as
 * step does). The edit's loader checks them. Caller puts *out.
 */
int	 ca_provisioner_scep_new(const char *name, const char *challenge_file,
	    const char *crt_file, const char *key_file,
	    struct json_object **out);

enum ca_prov_op {
	CA_PROV_ADD,		/* add (a new name) */
	CA_PROV_UPDATE,		/* apply change to name */
	CA_PROV_REMOVE		/* remove name */
};

/*
 * One edit of dir's ca.json (see above). add: the provisioner for
 * CA_PROV_ADD (borrowed; its name must be new); change: applied to the
 * added or updated provisioner, may be NULL. Removing the last provisioner
 * that can issue (JWK or ACME) is refused. CA_ERR_NOTFOUND: no such
 * provisioner; CA_ERR_EXISTS: the name is taken; CA_ERR_CONFIG: the
 * result would not load (the loader's reason); CA_ERR_TEMP: another edit
 * held the lock for CA_PROV_LOCK_MS.
 */
int	 ca_provisioner_edit(const char *dir, enum ca_prov_op op,
	    const char *name, struct json_object *add,
	    const struct ca_prov_change *change);

/*
 * Write dir's provisioners to out: one a line, "NAME\tTYPE\tKID" (KID "-"
 * but for JWK) under a header line, fields escaped as ca_text_escape()
 * does; or with json, authority.provisioners as ca.json holds it (step ca
 * provisioner list's shape).
 */
int	 ca_provisioner_list(const char *dir, int json, FILE *out);

/*
 * Send SIGHUP to the process whose id the file pid_file holds (ca-serve
 * reloads ca.json on it).
 */
int	 ca_provisioner_notify(const char *pid_file);

#endif /* CA_PROVISIONER_H */

/*
 * tmpl.h - step's certificate template language: the subset of Go's
 * text/template (with sprig's and step's functions) that step's own
 * templates and its documented examples use, rendering to text (JSON,
 * read by the certificate template code).
 *
 * A template is parsed once (when ca.json is loaded) and rendered per
 * request. Everything outside the subset is refused by ca_tmpl_parse
 * with "NAME:LINE:COL: what" (columns count bytes from 1), never
 * rendered half-right. Rendering is bounded: source size, nesting depth,
 * node count, evaluation steps, output size and the bytes the functions
 * may create are all capped, and a render that hits a cap fails without
 * output. A parsed template is read-only: two renders may run in two
 * threads at once; the library keeps no global state.
 *
 * The data is a json-c tree read as step's Go data: objects are
 * map[string]interface{} (fields missing from them give Go's "<no value>",
 * key order sorted by toJson and range), arrays []interface{}, numbers
 * float64, unless ca_tmpl_set_gotype (or ca_tmpl_mark_step_data, for
 * step's usual members) marks an object with a Go type.
 * A struct object's members are keyed by Go field name, as templates
 * write them (.Subject.CommonName, .Insecure.CR.DNSNames, .SANs[i].Type);
 * for step's own structs (x509util.Subject, x509util.SubjectAlternative-
 * Name, x509util.DistinguishedName, *x509util.CertificateRequest) toJson
 * writes the JSON names in Go's field order, leaves out "-" fields
 * (PublicKey...) and empty omitempty ones, exactly as json.Marshal, and
 * a field the object lacks is Go's zero value; for other struct types
 * members keep their names and order, and a missing field is an error
 * ("can't evaluate field"). An integer member of a struct is a Go int
 * (a method without arguments is a member too: *rsa.PublicKey's Size,
 * in bytes, for example.tpl's {{ lt .Insecure.CR.PublicKey.Size 384 }}).
 * Values must already be what Go marshals
 * (IP addresses and URIs as strings, []byte as base64). The tree is not
 * modified.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_TMPL_H
#define CA_TMPL_H

#include <stddef.h>
#include <json-c/json.h>

#define CA_TMPL_MAX_SRC		(64 * 1024)	/* template text */
#define CA_TMPL_MAX_OUT		(1024 * 1024)	/* rendered bytes */
#define CA_TMPL_MAX_STEPS	1000000		/* evaluation steps */
#define CA_TMPL_MAX_DEPTH	64	/* nested blocks, parentheses, values */
#define CA_TMPL_MAX_NODES	20000	/* parse nodes */
#define CA_TMPL_MAX_MEM		(4 * 1024 * 1024) /* bytes functions create */

struct ca_tmpl;

/*
 * Parse len bytes of template text. name is used in messages. Anything
 * outside the supported subset (unknown function, define/template/block,
 * a syntax error, text over CA_TMPL_MAX_SRC) is refused here:
 * CA_ERR_INVAL with "NAME:LINE:COL: what". *out: free with ca_tmpl_free.
 */
int	 ca_tmpl_parse(const char *src, size_t len, const char *name,
	    struct ca_tmpl **out);
void	 ca_tmpl_free(struct ca_tmpl *t);

/*
 * Render t with data (a json-c tree, not modified, may be NULL). *out is
 * NUL-terminated, *outlen its length (outlen may be NULL); caller frees.
 * Errors: CA_ERR_INVAL with "NAME:LINE:COL: what"; `fail "msg"` gives
 * CA_ERR_FORBIDDEN with msg only; CA_ERR_TOOBIG for output over
 * CA_TMPL_MAX_OUT, more than CA_TMPL_MAX_STEPS steps or more than
 * CA_TMPL_MAX_MEM bytes made by functions. Never a truncated output.
 */
int	 ca_tmpl_render(const struct ca_tmpl *t, struct json_object *data,
	    char **out, size_t *outlen);

/*
 * Mark a json object in data with the Go type name typeIs compares
 * against, e.g. "*rsa.PublicKey", "*ecdsa.PublicKey", "ed25519.PublicKey",
 * "x509util.Subject" (a static string; json_object_set_userdata with no
 * free function). An object so marked is a Go struct (see above) unless
 * the name starts with "map[".
 */
void	 ca_tmpl_set_gotype(struct json_object *o, const char *gotype);

/*
 * Mark the members of step's template data that are Go structs in step,
 * where present: .Subject, each of .SANs, .Insecure.CR, its .Subject
 * (and its ExtraNames) and its .SANs. Their members may be keyed by Go
 * field name (CommonName) or by JSON name (commonName): templates reach
 * them by Go name, toJson writes JSON names. The public key
 * (.Insecure.CR.PublicKey) is marked by the caller with its type.
 */
void	 ca_tmpl_mark_step_data(struct json_object *data);

#endif /* CA_TMPL_H */

/*
 * dbfmt.c - what ca-db prints of the CA's records: a table, a record as
 * text, or JSON.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "crl.h"
#include "db.h"
#include "dbfmt.h"
#include "json.h"
#include "x509.h"

/*
 * The names as JSON: "sans", an array with one string per name (a ','
 * inside a name stays inside it), and "names", the same by type.
 */
static void
names_json(struct json_object *o, const struct ca_names *nm)
{
	struct json_object *sans, *typed, *l;
	const char *name, *type;
	size_t i;

	if ((sans = json_object_new_array()) == NULL ||
	    (typed = json_object_new_object()) == NULL) {
		json_object_put(sans);
		return;
	}
	json_object_object_add(typed, "dns", json_object_new_array());
	json_object_object_add(typed, "ip", json_object_new_array());
	json_object_object_add(typed, "email", json_object_new_array());
	json_object_object_add(typed, "uri", json_object_new_array());
	for (i = 0; (name = ca_names_at(nm, i, &type)) != NULL; i++) {
		json_object_array_add(sans, json_object_new_string(name));
		if (json_object_object_get_ex(typed, type, &l))
			json_object_array_add(l, json_object_new_string(name));
	}
	json_object_object_add(o, "sans", sans);
	json_object_object_add(o, "names", typed);
}

static struct json_object *
info_json(const struct ca_cert_info *ci, time_t now)
{
	struct json_object *o = json_object_new_object();
	char t[32], *dec;
	unsigned char *bytes;
	size_t n;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "serial", json_object_new_string(ci->serial));
	if (ca_unhex(ci->serial, &bytes, &n) == 0) {
		if ((dec = ca_serial_decimal(bytes, n)) != NULL)
			json_object_object_add(o, "serialDecimal",
			    json_object_new_string(dec));
		free(dec);
		free(bytes);
	}
	json_object_object_add(o, "subject", json_object_new_string(ci->subject));
	names_json(o, &ci->names);
	ca_time_format(ci->not_before, t, sizeof(t));
	json_object_object_add(o, "notBefore", json_object_new_string(t));
	ca_time_format(ci->not_after, t, sizeof(t));
	json_object_object_add(o, "notAfter", json_object_new_string(t));
	json_object_object_add(o, "provisioner", ci->provisioner ?
	    json_object_new_string(ci->provisioner) : NULL);
	json_object_object_add(o, "status",
	    json_object_new_string(ca_cert_info_status(ci, now)));
	if (ci->issued_at) {
		ca_time_format(ci->issued_at, t, sizeof(t));
		json_object_object_add(o, "issuedAt", json_object_new_string(t));
	}
	if (ci->renewed_from != NULL)
		json_object_object_add(o, "renewedFrom",
		    json_object_new_string(ci->renewed_from));
	if (ci->acme_account != NULL)
		json_object_object_add(o, "acmeAccount",
		    json_object_new_string(ci->acme_account));
	if (ci->acme_order != NULL)
		json_object_object_add(o, "acmeOrder",
		    json_object_new_string(ci->acme_order));
	if (ci->identity != NULL)
		json_object_object_add(o, "identity",
		    json_object_new_string(ci->identity));
	if (ci->revoked) {
		ca_time_format(ci->revoked_at, t, sizeof(t));
		json_object_object_add(o, "revokedAt", json_object_new_string(t));
		json_object_object_add(o, "reasonCode", json_object_new_int(
		    ci->reason < 0 ? 0 : ci->reason));
		json_object_object_add(o, "reason", json_object_new_string(
		    ca_reason_name(ci->reason)));
		if (ci->reason_text != NULL)
			json_object_object_add(o, "reasonText",
			    json_object_new_string(ci->reason_text));
	}
	return o;
}

static int
print_json(FILE *fp, struct json_object *o)
{
	char *s = ca_json_dump_pretty(o);
	int rc;

	if (s == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = fputs(s, fp) < 0 ? ca_err(CA_ERR_IO, "standard output") : 0;
	free(s);
	return rc;
}

int
ca_dbfmt_list(FILE *fp, const struct ca_cert_info *v, size_t n, time_t now,
    int json)
{
	struct json_object *arr = NULL;
	char t[32];
	size_t i;
	int rc = 0;

	if (json) {
		if ((arr = json_object_new_array()) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		for (i = 0; i < n && rc == 0; i++)
			json_object_array_add(arr, info_json(&v[i], now));
		if (rc == 0)
			rc = print_json(fp, arr);
		json_object_put(arr);
		return rc;
	}
	fprintf(fp, "SERIAL\tNOT-AFTER\tSTATUS\tPROVISIONER\tSUBJECT\tSANS\t"
	    "REVOKED-AT\tREASON\tACME-ACCOUNT\tACME-ORDER\tIDENTITY\n");
	for (i = 0; i < n && rc == 0; i++) {
		char rt[32] = "-", *sans, *prov, *sub, *acct, *ord, *id;

		ca_time_format(v[i].not_after, t, sizeof(t));
		if (v[i].revoked)
			ca_time_format(v[i].revoked_at, rt, sizeof(rt));
		sans = ca_names_text(&v[i].names);
		prov = ca_text_escape(v[i].provisioner ?
		    v[i].provisioner : "-", NULL);
		sub = ca_text_escape(v[i].subject, NULL);
		acct = ca_text_escape(v[i].acme_account ?
		    v[i].acme_account : "-", NULL);
		ord = ca_text_escape(v[i].acme_order ?
		    v[i].acme_order : "-", NULL);
		id = ca_text_escape(v[i].identity ? v[i].identity : "-", NULL);
		if (sans != NULL && prov != NULL && sub != NULL &&
		    acct != NULL && ord != NULL && id != NULL)
			fprintf(fp, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s"
			    "\t%s\n", v[i].serial, t,
			    ca_cert_info_status(&v[i], now), prov, sub, sans,
			    rt, v[i].revoked ? ca_reason_name(v[i].reason) : "-",
			    acct, ord, id);
		else
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		free(sans);
		free(prov);
		free(sub);
		free(acct);
		free(ord);
		free(id);
	}
	return rc;
}

int
ca_dbfmt_show(FILE *fp, const struct ca_cert_info *ci, time_t now, int json)
{
	struct json_object *o;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	char *sans = NULL, *sub = NULL, *prov = NULL, *why = NULL;
	char *acct = NULL, *ord = NULL, *id = NULL;
	char t1[32], t2[32];
	int rc;

	if ((rc = ca_x509_import(ci->der, ci->der_len, &crt)) != 0 ||
	    (rc = ca_x509_export(crt, GNUTLS_X509_FMT_PEM, &pem)) != 0)
		goto out;
	if (json) {
		if ((o = info_json(ci, now)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		json_object_object_add(o, "pem",
		    json_object_new_string_len((char *)pem.data, (int)pem.size));
		rc = print_json(fp, o);
		json_object_put(o);
		goto out;
	}
	if ((sans = ca_names_text(&ci->names)) == NULL ||
	    (sub = ca_text_escape(ci->subject, NULL)) == NULL ||
	    (prov = ca_text_escape(ci->provisioner ? ci->provisioner :
	    "-", NULL)) == NULL || (ci->reason_text != NULL &&
	    (why = ca_text_escape(ci->reason_text, NULL)) == NULL) ||
	    (ci->acme_account != NULL &&
	    (acct = ca_text_escape(ci->acme_account, NULL)) == NULL) ||
	    (ci->acme_order != NULL &&
	    (ord = ca_text_escape(ci->acme_order, NULL)) == NULL) ||
	    (ci->identity != NULL &&
	    (id = ca_text_escape(ci->identity, NULL)) == NULL)) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	ca_time_format(ci->not_before, t1, sizeof(t1));
	ca_time_format(ci->not_after, t2, sizeof(t2));
	fprintf(fp, "serial: %s\nsubject: %s\nsans: %s\nnot-before: %s\n"
	    "not-after: %s\nstatus: %s\nprovisioner: %s\n",
	    ci->serial, sub, sans, t1, t2, ca_cert_info_status(ci, now), prov);
	if (ci->renewed_from != NULL)
		fprintf(fp, "renewed-from: %s\n", ci->renewed_from);
	if (acct != NULL)
		fprintf(fp, "acme-account: %s\n", acct);
	if (ord != NULL)
		fprintf(fp, "acme-order: %s\n", ord);
	if (id != NULL)
		fprintf(fp, "identity: %s\n", id);
	if (ci->revoked) {
		ca_time_format(ci->revoked_at, t1, sizeof(t1));
		fprintf(fp, "revoked-at: %s\nreason: %s\n", t1,
		    ca_reason_name(ci->reason));
		if (why != NULL)
			fprintf(fp, "reason-text: %s\n", why);
	}
	fprintf(fp, "%.*s", (int)pem.size, (char *)pem.data);
out:
	free(sans);
	free(sub);
	free(prov);
	free(why);
	free(acct);
	free(ord);
	free(id);
	gnutls_free(pem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

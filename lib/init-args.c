/*
 * init-args.c - ca-init's options checked together (required ones, the
 * registration authority's, --kms's) and turned into ca_init_opts.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "client.h"
#include "conf.h"
#include "init-args.h"
#include "keys.h"
#include "pkcs11.h"
#include "x509.h"

int
ca_init_args_dns(struct ca_init_args *a, char *arg)
{
	char *tok, *save;

	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (a->n_dns == CA_INIT_MAX_DNS)
			return ca_err(CA_ERR_INVAL, "too many --dns names");
		a->dns[a->n_dns++] = tok;
	}
	return 0;
}

/* The options a registration authority needs, or must not have. */
static int
check_ra(const struct ca_init_args *a)
{
	const struct ca_init_opts *o = &a->opts;
	char *fp;

	if (!a->ra) {
		if (o->ra_url != NULL || o->ra_fingerprint != NULL ||
		    o->ra_provisioner != NULL || a->upstream_pass_file != NULL)
			return ca_err(CA_ERR_INVAL,
			    "the --upstream options need --ra");
		return 0;
	}
	if (o->ra_url == NULL || o->ra_fingerprint == NULL ||
	    o->ra_provisioner == NULL || a->upstream_pass_file == NULL)
		return ca_err(CA_ERR_INVAL, "--ra needs --upstream, "
		    "--upstream-fingerprint, --upstream-provisioner and "
		    "--upstream-password-file");
	if (o->key_type != NULL || o->unencrypted_intermediate)
		return ca_err(CA_ERR_INVAL, "--ra makes no CA keys: no "
		    "--key-type or --unencrypted-intermediate-key");
	if (ca_client_url_check(o->ra_url) != 0) {
		ca_err_context("--upstream");
		return CA_ERR_INVAL;
	}
	if (ca_client_fingerprint_parse(o->ra_fingerprint, &fp) != 0) {
		ca_err_context("--upstream-fingerprint");
		return CA_ERR_INVAL;
	}
	free(fp);
	return 0;
}

/* --kms and --kms-pin-file; ca.json names the PIN file absolutely. */
static int
check_kms(struct ca_init_args *a)
{
	struct ca_init_opts *o = &a->opts;
	const char *pin = a->kms_pin_file;

	if (o->kms == NULL)
		return pin == NULL ? 0 :
		    ca_err(CA_ERR_INVAL, "--kms-pin-file needs --kms");
	if (a->ra || o->unencrypted_intermediate)
		return ca_err(CA_ERR_INVAL, "--kms makes the CA keys on a token: "
		    "no --ra or --unencrypted-intermediate-key");
	if (o->key_type != NULL && strcmp(o->key_type, "ed25519") == 0)
		return ca_err(CA_ERR_INVAL, "--kms: --key-type ec-p256, ec-p384 "
		    "or rsa-3072");
	if (ca_pkcs11_kms_check(o->kms, "--kms") != 0)
		return CA_ERR_INVAL;
	if (strstr(o->kms, "pin-source=") != NULL && pin != NULL)
		return ca_err(CA_ERR_INVAL, "the PIN file twice: --kms-pin-file "
		    "and pin-source in --kms");
	if (strstr(o->kms, "pin-source=") == NULL && pin == NULL)
		return ca_err(CA_ERR_INVAL, "--kms needs --kms-pin-file FILE (or "
		    "pin-source=FILE in the URI)");
	if (pin != NULL && (a->pin_abs = realpath(pin, NULL)) == NULL)
		return ca_err(CA_ERR_IO, "--kms-pin-file %s: %s", pin,
		    strerror(errno));
	o->kms_pin_file = a->pin_abs;
	return 0;
}

int
ca_init_args_check(struct ca_init_args *a)
{
	struct ca_init_opts *o = &a->opts;
	struct ca_names names;
	enum ca_key_type kt;
	int rc, port, bad;

	if (o->name == NULL)
		return ca_err(CA_ERR_INVAL, "--name is required");
	if (a->n_dns == 0)
		return ca_err(CA_ERR_INVAL, "--dns is required");
	if (o->provisioner == NULL)
		return ca_err(CA_ERR_INVAL, "--provisioner is required");
	if (a->pass_file == NULL)
		return ca_err(CA_ERR_INVAL, "--password-file is required");
	if ((rc = check_ra(a)) != 0 || (rc = check_kms(a)) != 0)
		return rc;
	if (a->ra && o->acme)
		return ca_err(CA_ERR_INVAL, "--acme needs a CA with its key: "
		    "not with --ra");
	if (a->ra && (o->root_template != NULL || o->int_template != NULL))
		return ca_err(CA_ERR_INVAL, "--%s-template: a registration "
		    "authority makes no CA certificate", o->root_template !=
		    NULL ? "root" : "intermediate");
	if (o->acme && strcmp(o->provisioner, "acme") == 0)
		return ca_err(CA_ERR_INVAL, "--acme adds a provisioner named "
		    "acme: name the JWK one otherwise");
	o->dns = (const char *const *)a->dns;
	o->n_dns = a->n_dns;
	if (o->key_type != NULL && ca_key_type_parse(o->key_type, &kt) != 0) {
		ca_err_context("--key-type");
		return CA_ERR_INVAL;
	}
	if (ca_address_parse(o->address, &port) != 0) {
		ca_err_context("--address");
		return CA_ERR_INVAL;
	}
	if (ca_names_classify(o->dns, o->n_dns, &names) != 0) {
		ca_err_context("--dns");
		return CA_ERR_INVAL;
	}
	bad = names.n_email > 0 || names.n_uri > 0;
	ca_names_free(&names);
	if (bad)
		return ca_err(CA_ERR_INVAL,
		    "--dns takes DNS names and IP addresses");
	return 0;
}

int
ca_init_args_secrets(struct ca_init_args *a)
{
	struct ca_init_opts *o = &a->opts;
	int rc;

	if ((rc = ca_secret_read(a->pass_file, &a->pw, &a->pwlen)) != 0 ||
	    (a->prov_pass_file != NULL && (rc = ca_secret_read(
	    a->prov_pass_file, &a->ppw, &a->ppwlen)) != 0) ||
	    (a->upstream_pass_file != NULL && (rc = ca_secret_read(
	    a->upstream_pass_file, &a->upw, &a->upwlen)) != 0))
		return rc;
	o->password = a->pw;
	o->prov_password = a->ppw != NULL ? a->ppw : a->pw;
	o->ra_password = a->upw;
	return 0;
}

void
ca_init_args_free(struct ca_init_args *a)
{
	a->opts.password = a->opts.prov_password = a->opts.ra_password = NULL;
	a->opts.kms_pin_file = NULL;
	ca_free_secret(a->pw, a->pwlen);
	ca_free_secret(a->ppw, a->ppwlen);
	ca_free_secret(a->upw, a->upwlen);
	a->pw = a->ppw = a->upw = NULL;
	a->pwlen = a->ppwlen = a->upwlen = 0;
	free(a->pin_abs);
	a->pin_abs = NULL;
}

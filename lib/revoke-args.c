/*
 * revoke-args.c - ca-revoke's options checked together and turned into
 * one struct ca_revoke_req, whatever the authority.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "client.h"
#include "crl.h"
#include "revoke-args.h"
#include "x509.h"

/* The usage error when the options of --crl, online or offline clash. */
static int
check_mode(const struct ca_revoke_args *a)
{
	if (a->crl) {
		if (a->online)
			return ca_err(CA_ERR_INVAL,
			    "--crl needs --state-dir, not --ca-url");
		if (a->serial != NULL || a->token_file != NULL ||
		    a->cert != NULL || a->key != NULL ||
		    a->reason_text != NULL || a->reason != CA_REASON_NONE)
			return ca_err(CA_ERR_INVAL, "--crl revokes nothing: no "
			    "SERIAL, --reason, --reason-text, --token-file, "
			    "--cert or --key");
	} else if (a->output || a->password)
		return ca_err(CA_ERR_INVAL, "%s is for --crl", a->output ?
		    "--output-file" : "--password-file");
	else if (a->online) {
		if ((a->cert == NULL) != (a->key == NULL))
			return ca_err(CA_ERR_INVAL, a->cert != NULL ?
			    "--cert needs --key" : "--key needs --cert");
		if ((a->token_file == NULL) == (a->cert == NULL))
			return ca_err(CA_ERR_INVAL,
			    "give either --token-file or --cert and --key");
		if (a->token_file != NULL && a->serial == NULL)
			return ca_err(CA_ERR_INVAL, "SERIAL is required");
	} else {
		if (a->token_file != NULL || a->cert != NULL || a->key != NULL)
			return ca_err(CA_ERR_INVAL,
			    "--token-file, --cert and --key are for --ca-url");
		if (a->serial == NULL)
			return ca_err(CA_ERR_INVAL, "SERIAL is required");
	}
	return 0;
}

int
ca_revoke_args_check(const struct ca_revoke_args *a)
{
	char *canon;
	int rc;

	if ((rc = check_mode(a)) != 0)
		return rc;
	if (a->serial != NULL) {
		if (ca_serial_canon(a->serial, &canon) != 0)
			return CA_ERR_INVAL;
		free(canon);
	}
	if (a->reason_text != NULL &&
	    strlen(a->reason_text) > CA_REVOKE_MAX_REASON_TEXT)
		return ca_err(CA_ERR_INVAL, "--reason-text: longer than %d bytes",
		    CA_REVOKE_MAX_REASON_TEXT);
	return 0;
}

int
ca_revoke_args_request(struct ca_revoke_args *a)
{
	struct ca_revoke_req *req = &a->req;
	int rc;

	memset(req, 0, sizeof(*req));
	req->serial = a->serial;
	req->reason = a->reason;
	req->reason_text = a->reason_text;
	if (a->token_file != NULL) {
		if ((rc = ca_file_read(a->token_file, CA_MAX_TOKEN, &a->token,
		    &a->token_len)) != 0)
			return rc;
		req->token = a->token;
		req->token_len = a->token_len;
	} else if (a->cert != NULL) {
		if ((rc = ca_client_cert_load(a->cert, a->key, &a->cc)) != 0)
			return rc;
		if (a->serial == NULL) {
			if (asprintf(&a->own_serial, "0x%s", a->cc->serial) < 0) {
				a->own_serial = NULL;
				return ca_err(CA_ERR_NOMEM, "out of memory");
			}
			req->serial = a->own_serial;
		}
		req->cert_path = a->cert;
		req->key_path = a->key;
		req->peer_der = a->cc->der[0].data;
		req->peer_len = a->cc->der[0].size;
	} else {
		req->trusted = 1;
		req->by = "ca-revoke -d";
	}
	return 0;
}

void
ca_revoke_args_free(struct ca_revoke_args *a)
{
	memset(&a->req, 0, sizeof(a->req));
	ca_client_cert_free(a->cc);
	a->cc = NULL;
	ca_free_secret(a->token, a->token_len);
	a->token = NULL;
	a->token_len = 0;
	free(a->own_serial);
	a->own_serial = NULL;
}

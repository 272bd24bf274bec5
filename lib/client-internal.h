/*
 * client-internal.h - shared by the files of the HTTPS client
 * (client.c, client-api.c, client-leaf.c); not for other callers.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CLIENT_INTERNAL_H
#define CA_CLIENT_INTERNAL_H

#include <stddef.h>
#include <json-c/json.h>

#include "client.h"

/*
 * One request (method "GET" or "POST", body for POST, bearer a token or
 * NULL) into r; errors only for the transport, as ca_client_get says.
 */
int	 ca_client_request(struct ca_client *c, const char *method, const char *path,
    const char *body, size_t blen, const char *bearer,
    struct ca_client_response *r);
/* r's body as a JSON object when its status is want, else its error. */
int	 ca_client_response_json(const struct ca_client_response *r, long want,
    struct json_object **out);

#endif /* CA_CLIENT_INTERNAL_H */

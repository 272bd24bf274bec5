/*
 * signer.h - privilege separation for ca-serve: the CA key lives in a
 * signer process, the network side (the worker) asks it over socketpairs.
 *
 * The messages are small and strictly parsed, in the manner of OpenBSD
 * acme-client's keyproc and OpenSSH's monitor: a frame is a 4-byte
 * big-endian length, then one op byte, then tagged fields (tag byte,
 * 4-byte length, value). Each op has a fixed set of allowed and required
 * fields, each field its own bound; an unknown op or field, a frame over
 * its bound, a truncated frame, trailing bytes, a missing or repeated
 * field, a string with a NUL or an integer not 8 bytes long are refused
 * and the connection is dropped.
 *
 * The signer trusts nothing the worker says except "this peer certificate
 * was presented over TLS": every request goes through the public
 * ca_authority_* function of its local authority, which checks the token
 * (signature and jti burn), names, lifetime, revocation status and the
 * renewal proof as for an in-process server.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_SIGNER_H
#define CA_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>

#include "acme.h"
#include "authority.h"
#include "scep.h"

/* Largest frames: a request (token and CSR), a reply (a CRL). */
#define CA_SIGNER_MAX_REQUEST	(4u << 20)
#define CA_SIGNER_MAX_REPLY	(80u << 20)

/*
 * The signer side: answer requests on fd with authority a until the peer
 * closes it (returns 0) or sends a frame that is refused (returns
 * CA_ERR_INVAL, the reason logged once; the caller closes fd). I/O errors
 * return CA_ERR_IO. Several threads may serve several descriptors with
 * one authority: concurrent issuances are committed together.
 */
int	 ca_signer_serve(int fd, struct ca_authority *a);

/*
 * The worker side: a pool of n connections to a signer (the descriptors
 * are taken over). A call takes a free connection, sends one request and
 * reads its reply; when the signer is gone the call fails with CA_ERR_IO
 * ("signer: ...") and the connection is closed.
 */
struct ca_signer;
int	 ca_signer_new(const int *fds, size_t n, struct ca_signer **out);
void	 ca_signer_free(struct ca_signer *sg);
/*
 * How long a call waits for the signer's reply (ms; 0 or less: the
 * default). A signer that does not answer in time (hung, stopped) gives
 * CA_ERR_TEMP ("signer: no reply in time", HTTP 503) and that connection
 * is closed, since its late reply would answer the next request.
 */
#define CA_SIGNER_TIMEOUT_MS 30000
void	 ca_signer_set_timeout(struct ca_signer *sg, int ms);

/* The operations of authority.h, performed by the signer. */
int	 ca_signer_sign(struct ca_signer *sg, const struct ca_sign_req *req,
	    struct ca_sign_result *res);
int	 ca_signer_renew(struct ca_signer *sg, const struct ca_renew_req *req,
	    struct ca_sign_result *res);
/* req->trusted and req->by are not sent: the signer never trusts them. */
int	 ca_signer_revoke(struct ca_signer *sg, const struct ca_revoke_req *req,
	    char **serial);
int	 ca_signer_provisioners(struct ca_signer *sg, const char *cursor,
	    size_t limit, char **json);
int	 ca_signer_encrypted_key(struct ca_signer *sg, const char *kid,
	    char **jwe);
int	 ca_signer_server_cert(struct ca_signer *sg, char **pem, size_t *len,
	    time_t *not_before, time_t *not_after);
int	 ca_signer_crl(struct ca_signer *sg, time_t now, int fresh,
	    struct ca_db_crl *out);
/* resp->data: gnutls_free, as ca_authority_ocsp's. */
int	 ca_signer_ocsp(struct ca_signer *sg, const void *der, size_t len,
	    time_t now, gnutls_datum_t *resp, time_t *next_update);
/*
 * ACME (lib/acme.h): one request and its whole answer, a validation's
 * outcome. Each field bounded (signer.c's table); an answer that does not
 * fit is an error, never a truncated answer.
 */
int	 ca_signer_acme(struct ca_signer *sg, const struct ca_acme_req *req,
	    struct ca_acme_resp *resp);
int	 ca_signer_acme_validated(struct ca_signer *sg,
	    const struct ca_acme_job *job, int ok, const char *problem_type,
	    const char *detail, time_t now);
/* SCEP (lib/scep.h): one request and its whole answer. */
int	 ca_signer_scep(struct ca_signer *sg, const struct ca_scep_req *req,
	    struct ca_scep_resp *resp);
int	 ca_signer_reload(struct ca_signer *sg);
int	 ca_signer_set_ports(struct ca_signer *sg, const int *ports, size_t n);
/* OCSP counters and group commit statistics of the signer's authority. */
int	 ca_signer_stats(struct ca_signer *sg, unsigned long *ocsp_hits,
	    unsigned long *ocsp_built, unsigned long *batches,
	    unsigned long *batched);

/*
 * The worker's authority, kind "signer": its operations are asked of the
 * signer over the n connections fds (taken over, also on failure); its
 * public material (configuration, root and intermediate certificates) is
 * read from dir, without the key or the store. A registration authority
 * is refused.
 */
int	 ca_authority_open_signer(const int *fds, size_t n, const char *dir,
	    struct ca_authority **out);

/*
 * For tests: send one raw frame body (op byte and fields, without the
 * length) on fd, or a raw byte string when raw is set.
 */
int	 ca_signer_send_raw(int fd, const void *p, size_t len, int raw);

#endif /* CA_SIGNER_H */

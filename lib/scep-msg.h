/*
 * scep-msg.h - SCEP's PKCS#7 messages (RFC 8894 section 3): open a
 * client's pkiMessage (SignedData verified with GnuTLS, its
 * EnvelopedData decrypted with the decrypter key) and build the CA's
 * answers (CertRep, the certs-only degenerate SignedData). Pure: no
 * store, no configuration, no I/O. The protocol is lib/scep.c's.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_SCEP_MSG_H
#define CA_SCEP_MSG_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#define CA_SCEP_MAX_MSG		(2u << 20)	/* a pkiMessage, DER */
#define CA_SCEP_NONCE_LEN	16		/* RFC 8894 3.2.1.5 */
#define CA_SCEP_MAX_TXID	128

/* messageType (RFC 8894 3.2.1.2). */
#define CA_SCEP_CERTREP		3
#define CA_SCEP_RENEWALREQ	17
#define CA_SCEP_UPDATEREQ	18
#define CA_SCEP_PKCSREQ		19
#define CA_SCEP_CERTPOLL	20
#define CA_SCEP_GETCERT		21
#define CA_SCEP_GETCRL		22

/* failInfo (RFC 8894 3.2.1.4). */
#define CA_SCEP_BADALG		0
#define CA_SCEP_BADMSGCHECK	1
#define CA_SCEP_BADREQUEST	2
#define CA_SCEP_BADTIME		3
#define CA_SCEP_BADCERTID	4

/* A client's pkiMessage, opened. */
struct ca_scep_msg {
	int		 type;		/* messageType */
	char		 tx[CA_SCEP_MAX_TXID + 1];	/* transactionID */
	unsigned char	 nonce[CA_SCEP_NONCE_LEN];	/* senderNonce */
	gnutls_x509_crt_t signer;	/* the SignedData's signer certificate */
	/*
	 * The decrypted pkcsPKIEnvelope content (PKCS#10 DER for PKCSReq
	 * and RenewalReq), gnutls memory; empty when fail is set.
	 */
	gnutls_datum_t	 content;
	/*
	 * -1: opened; else the failInfo the answer carries: CA_SCEP_BADALG
	 * (a content cipher we do not have), CA_SCEP_BADMSGCHECK for every
	 * other envelope failure, whichever step it was (no padding or key
	 * oracle: a wrong key decrypts to noise).
	 */
	int		 fail;
};

/*
 * Open the pkiMessage der (len bytes, at most CA_SCEP_MAX_MSG): verify its
 * SignedData (one signer, 1-4 certificates, the signer's among them), read
 * messageType, transactionID and senderNonce, and decrypt its envelope
 * with key, whose certificate crt must be a recipient. *m is cleared on
 * entry; release it with ca_scep_msg_free. Returns 0 (then m->fail says
 * whether the envelope opened), or CA_ERR_INVAL when no CertRep can be
 * built (not a signed pkiMessage, a bad signature, no transactionID or
 * senderNonce): the caller answers HTTP 400.
 */
int	 ca_scep_open(const void *der, size_t len, gnutls_privkey_t key,
	    gnutls_x509_crt_t crt, struct ca_scep_msg *m);
void	 ca_scep_msg_free(struct ca_scep_msg *m);

/*
 * Whether m's signer certificate holds pub: 1 yes, 0 no, or a CA_ERR_*.
 * A PKCSReq must be signed by the key its CSR asks a certificate for
 * (RFC 8894 2.3); else an envelope seen on the wire could be signed
 * again by anyone with a fresh senderNonce.
 */
int	 ca_scep_signed_by(const struct ca_scep_msg *m, gnutls_pubkey_t pub);

/* What a CertRep says. */
struct ca_scep_rep {
	int		 status;	/* 0 SUCCESS, 2 FAILURE */
	int		 fail_info;	/* CA_SCEP_BAD*, FAILURE only */
	const char	*fail_text;	/* failInfoText, or NULL */
	const gnutls_datum_t *issued;	/* SUCCESS: the certificate, DER */
	int		 enc_alg;	/* 0 DES-CBC, 1 AES-128-CBC, 2 AES-256-CBC */
	time_t		 now;		/* signingTime */
};

/*
 * The CertRep answering m: SignedData by key (RSA, SHA-256) whose
 * certificate is crt; SUCCESS envelopes a certs-only SignedData with the
 * issued certificate to m's signer certificate (RSA). *out is gnutls
 * memory. Returns 0, CA_ERR_INVAL (the client's certificate has no RSA
 * key to encrypt to), CA_ERR_CRYPTO, CA_ERR_NOMEM.
 */
int	 ca_scep_certrep(const struct ca_scep_msg *m,
	    const struct ca_scep_rep *rep, gnutls_x509_crt_t crt,
	    gnutls_privkey_t key, gnutls_datum_t *out);

/*
 * A certs-only ("degenerate") SignedData holding the n DER certificates
 * certs: GetCACert's answer for more than one. *out is gnutls memory.
 */
int	 ca_scep_degenerate(const gnutls_datum_t *certs, size_t n,
	    gnutls_datum_t *out);

#endif /* CA_SCEP_MSG_H */

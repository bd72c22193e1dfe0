// SPDX-License-Identifier: MIT
#include "pskpipe.h"
#include "stream.h"
#include "tlsio.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define PSK_PRIORITY   "NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+ECDHE-PSK:+DHE-PSK"
#define PSK_KEY_LEN    32 /* SHA-256 */
#define PSK_PIPE_STACK (128 * 1024)

struct psk {
	struct tlsio_pipe pipe; /* first: the relay threads get p */
	gnutls_psk_client_credentials_t client;
	gnutls_psk_server_credentials_t server;
	unsigned char key[PSK_KEY_LEN];
	const char *identity; /* the server's expectation (the caller's, handshake only) */
};

static void psk_free(struct tlsio_pipe *pipe)
{
	struct psk *p = (struct psk *)pipe;

	if (p->client)
		gnutls_psk_free_client_credentials(p->client);
	if (p->server)
		gnutls_psk_free_server_credentials(p->server);
	memset(p->key, 0, sizeof(p->key));
	free(p);
}

/* The server's key for the client's identity: ours, when it is the expected one. */
static int server_key(gnutls_session_t session, const char *identity, gnutls_datum_t *key)
{
	struct psk *p = gnutls_session_get_ptr(session);

	if (p->identity && strcmp(identity, p->identity) != 0)
		return -1;
	key->data = gnutls_malloc(PSK_KEY_LEN);
	if (!key->data)
		return -1;
	memcpy(key->data, p->key, PSK_KEY_LEN);
	key->size = PSK_KEY_LEN;
	return 0;
}

static int write_plain(void *ctx, char *buf, size_t len)
{
	return stream_write_all(((struct psk *)ctx)->pipe.plain, buf, len);
}

static int send_records(void *ctx, char *buf, size_t len)
{
	return tlsio_send_all(((struct psk *)ctx)->pipe.session, buf, len);
}

static void send_bye(void *ctx)
{
	gnutls_bye(((struct psk *)ctx)->pipe.session, GNUTLS_SHUT_WR);
}

/* Peer's bytes to the caller, until the peer's close_notify. */
static void *from_peer(void *data)
{
	struct psk *p = data;

	tlsio_pump_from_peer(p->pipe.session, p->pipe.tcp, p->pipe.plain, false, write_plain, p);
	tlsio_pipe_put(&p->pipe);
	return NULL;
}

/* The caller's bytes to the peer, until the caller's end of input. */
static void *to_peer(void *data)
{
	struct psk *p = data;
	char buf[16384];

	tlsio_pump_to_peer(p->pipe.tcp, p->pipe.plain, buf, sizeof(buf), send_records, send_bye, p);
	tlsio_pipe_put(&p->pipe);
	return NULL;
}

static int session_new(struct psk *p, bool server, const char *identity)
{
	gnutls_datum_t key = {.data = p->key, .size = PSK_KEY_LEN};
	gnutls_session_t *session = &p->pipe.session;
	int r;

	r = gnutls_init(session, server ? GNUTLS_SERVER : GNUTLS_CLIENT);
	if (r == 0 && server) {
		r = gnutls_psk_allocate_server_credentials(&p->server);
		if (r == 0)
			gnutls_psk_set_server_credentials_function(p->server, server_key);
	} else if (r == 0) {
		r = gnutls_psk_allocate_client_credentials(&p->client);
		if (r == 0)
			r = gnutls_psk_set_client_credentials(p->client, identity, &key,
							      GNUTLS_PSK_KEY_RAW);
	}
	if (r == 0)
		r = gnutls_priority_set_direct(*session, PSK_PRIORITY, NULL);
	if (r == 0)
		r = gnutls_credentials_set(*session, GNUTLS_CRD_PSK,
					   server ? (void *)p->server : (void *)p->client);
	if (r < 0)
		return r;
	gnutls_session_set_ptr(*session, p);
	gnutls_transport_set_int(*session, p->pipe.tcp);
	gnutls_handshake_set_timeout(*session, PSKPIPE_HANDSHAKE_MS);
	return 0;
}

static int handshake(struct psk *p)
{
	int r;

	do
		r = gnutls_handshake(p->pipe.session);
	while (r == GNUTLS_E_INTERRUPTED);
	return r;
}

/* A TLS failure as -errno: a key or identity that does not match is -EPERM. */
static int tls_errno(int r)
{
	switch (r) {
	case GNUTLS_E_DECRYPTION_FAILED:
	case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER: /* TLS 1.3: the PSK binder does not verify */
	case GNUTLS_E_WARNING_ALERT_RECEIVED:
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_KEYFILE_ERROR:
		return -EPERM;
	case GNUTLS_E_TIMEDOUT:
	case GNUTLS_E_AGAIN:
		return -ETIMEDOUT;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

static int psk_open(int tcp, bool server, const char *identity, const char *secret, int *plain,
		    char *err, size_t errlen)
{
	struct psk *p = tlsio_pipe_new(sizeof(*p), tcp, psk_free, err, errlen);
	int r;

	if (!p)
		return -ENOMEM;
	p->identity = identity;
	r = gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), p->key);
	if (r == 0)
		r = session_new(p, server, identity);
	if (r < 0) {
		snprintf(err, errlen, "cannot set up TLS: %s", gnutls_strerror(r));
		r = -ENOMEM;
		goto cleanup;
	}
	stream_set_timeout(tcp, PSKPIPE_HANDSHAKE_MS);
	r = handshake(p);
	if (r < 0 && server)
		gnutls_alert_send_appropriate(p->pipe.session, r); /* the client learns why */
	if (r < 0) {
		snprintf(err, errlen, "TLS handshake failed: %s%s", gnutls_strerror(r),
			 tls_errno(r) == -EPERM ? " (the peer holds another secret or names another node)" : "");
		r = tls_errno(r);
		goto cleanup;
	}
	stream_set_timeout(tcp, 0);
	p->identity = NULL;
	r = tlsio_pipe_start(&p->pipe, from_peer, to_peer, PSK_PIPE_STACK, plain, err, errlen);
cleanup:
	tlsio_pipe_put(&p->pipe); /* the threads hold theirs */
	return r;
}

int pskpipe_client(int tcp, const char *identity, const char *secret, int *plain, char *err,
		   size_t errlen)
{
	return psk_open(tcp, false, identity, secret, plain, err, errlen);
}

int pskpipe_server(int tcp, const char *identity, const char *secret, int *plain, char *err,
		   size_t errlen)
{
	return psk_open(tcp, true, identity, secret, plain, err, errlen);
}

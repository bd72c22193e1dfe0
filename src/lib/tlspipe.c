/* SPDX-License-Identifier: MIT */
#include "tlspipe.h"
#include "stream.h"
#include "streamframe.h"
#include "tlsio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_PIPE_STACK (128 * 1024)

struct head_scan {
	char start[12]; /* the first bytes: "HTTP/1.1 101" */
	uint8_t have;	/* of start */
	uint8_t crlf;	/* bytes of "\r\n\r\n" matched */
	bool done;	/* the head has passed */
};

/* Two threads, one per direction (GnuTLS allows a session's sends and
 * receives in two threads at once): a single thread blocked in a send to a
 * server that waits for its own sends to be read would never read again. */
struct pipe {
	struct tlsio_pipe pipe; /* first: the relay threads get p; its tcp is the server's side */
	gnutls_certificate_credentials_t cred;
	/* Each direction: its HTTP head passes as it is, the stream after it in
	 * frames (streamframe.h); the answer's only when it is a 101. */
	struct head_scan out, in;
	struct streamframe_reader frames; /* the server's, after its 101 */
};

/* How many of buf[0..len) still belong to the head (all of them, or up to
 * and with its blank line, after which h->done). */
static size_t head_scan(struct head_scan *h, const char *buf, size_t len)
{
	static const char end[] = "\r\n\r\n";
	size_t i;

	for (i = 0; i < len && !h->done; i++) {
		if (h->have < sizeof(h->start))
			h->start[h->have++] = buf[i];
		if (buf[i] == end[h->crlf])
			h->crlf++;
		else
			h->crlf = buf[i] == '\r' ? 1 : 0;
		h->done = h->crlf == 4;
	}
	return i;
}

static bool head_is_101(const struct head_scan *h)
{
	return h->have == sizeof(h->start) && memcmp(h->start, "HTTP/1.1 101", 12) == 0;
}

static void pipe_free(struct tlsio_pipe *pipe)
{
	struct pipe *p = (struct pipe *)pipe;

	if (p->cred)
		gnutls_certificate_free_credentials(p->cred);
	free(p);
}

/* A read of the server's: its answer's head as it is, then the stream
 * unframed after a 101, any other answer's body as it is. */
static int from_server_deliver(void *ctx, char *buf, size_t len)
{
	struct pipe *p = ctx;
	size_t head = p->in.done ? 0 : head_scan(&p->in, buf, len);
	int r = 0;

	if (head)
		r = stream_write_all(p->pipe.plain, buf, head);
	if (r == 0 && len > head)
		r = p->in.done && head_is_101(&p->in)
			? stream_unframe(&p->frames, p->pipe.plain, buf + head, len - head)
			: stream_write_all(p->pipe.plain, buf + head, len - head);
	return r;
}

/* The server's bytes to the caller, until the server's end of input. */
static void *from_server(void *data)
{
	struct pipe *p = data;

	tlsio_pump_from_peer(p->pipe.session, p->pipe.tcp, p->pipe.plain, true, from_server_deliver,
			     p);
	tlsio_pipe_put(&p->pipe);
	return NULL;
}

/* A read of the caller's: its request head as it is, then a frame. data
 * stands STREAMFRAME_HEAD bytes into to_server's buffer. */
static int to_server_send(void *ctx, char *data, size_t len)
{
	struct pipe *p = ctx;
	size_t head = p->out.done ? 0 : head_scan(&p->out, data, len);
	char *frame = data - STREAMFRAME_HEAD + head;
	int r = 0;

	if (head)
		r = tlsio_send_all(p->pipe.session, data, head);
	if (r == 0 && len > head) {
		/* the frame's head right before its payload (over head bytes
		 * already sent), for one record */
		streamframe_head((uint8_t *)frame, (uint32_t)(len - head));
		r = tlsio_send_all(p->pipe.session, frame, STREAMFRAME_HEAD + len - head);
	}
	return r;
}

/* The caller's end of input: the end frame, or close_notify before any stream. */
static void to_server_end(void *ctx)
{
	struct pipe *p = ctx;
	uint8_t end[STREAMFRAME_HEAD];

	if (p->out.done) {
		streamframe_head(end, 0);
		tlsio_send_all(p->pipe.session, end, STREAMFRAME_HEAD);
	} else {
		gnutls_bye(p->pipe.session, GNUTLS_SHUT_WR);
	}
}

/* The caller's bytes to the server, until the caller's end of input: its
 * request head as it is, then frames, the end frame at its end of input. */
static void *to_server(void *data)
{
	struct pipe *p = data;
	char buf[STREAMFRAME_HEAD + 16384];

	tlsio_pump_to_peer(p->pipe.tcp, p->pipe.plain, buf + STREAMFRAME_HEAD,
			   sizeof(buf) - STREAMFRAME_HEAD, to_server_send, to_server_end, p);
	tlsio_pipe_put(&p->pipe);
	return NULL;
}

static bool is_ip(const char *host)
{
	unsigned char bin[16];

	return inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
}

static void verify_error(struct pipe *p, const char *host, const char *ca_file, char *err,
			 size_t errlen)
{
	gnutls_datum_t why = {0};
	unsigned status = gnutls_session_get_verify_cert_status(p->pipe.session);

	gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
	snprintf(err, errlen, "the certificate of %s does not verify against %s%s: %s", host,
		 ca_file ? "the CA " : "the system's CAs", ca_file ? ca_file : "",
		 why.data ? (const char *)why.data : "unknown reason");
	gnutls_free(why.data);
}

int tls_pipe_open(int tcp, const char *host, const char *ca_file, int *fd, char *err, size_t errlen)
{
	struct pipe *p = tlsio_pipe_new(sizeof(*p), tcp, pipe_free, err, errlen);
	gnutls_session_t *session;
	int gr, r;

	if (!p)
		return -ENOMEM;
	session = &p->pipe.session;
	gr = gnutls_certificate_allocate_credentials(&p->cred);
	if (gr == 0) {
		gr = ca_file ? gnutls_certificate_set_x509_trust_file(p->cred, ca_file,
								      GNUTLS_X509_FMT_PEM)
			     : gnutls_certificate_set_x509_system_trust(p->cred);
		if (gr <= 0) {
			snprintf(err, errlen, "cannot read the CA %s: %s",
				 ca_file ? ca_file : "certificates of the system",
				 gr == 0 ? "no certificate in it" : gnutls_strerror(gr));
			r = -EINVAL;
			goto cleanup;
		}
		gr = 0;
	}
	if (gr == 0)
		gr = gnutls_init(session, GNUTLS_CLIENT);
	if (gr == 0)
		gr = gnutls_set_default_priority(*session);
	if (gr == 0)
		gr = gnutls_credentials_set(*session, GNUTLS_CRD_CERTIFICATE, p->cred);
	if (gr == 0 && !is_ip(host))
		gr = gnutls_server_name_set(*session, GNUTLS_NAME_DNS, host, strlen(host));
	if (gr < 0) {
		snprintf(err, errlen, "cannot set up TLS to %s: %s", host, gnutls_strerror(gr));
		r = -ENOMEM;
		goto cleanup;
	}
	gnutls_session_set_verify_cert(*session, host, 0);
	gnutls_transport_set_int(*session, tcp);
	gnutls_handshake_set_timeout(*session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
	do
		gr = gnutls_handshake(*session);
	while (gr < 0 && !gnutls_error_is_fatal(gr));
	if (gr == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		verify_error(p, host, ca_file, err, errlen);
		r = -EPERM;
		goto cleanup;
	}
	if (gr < 0) {
		snprintf(err, errlen, "TLS handshake with %s failed: %s", host,
			 gnutls_strerror(gr));
		r = -EPROTO;
		goto cleanup;
	}
	r = tlsio_pipe_start(&p->pipe, from_server, to_server, TLS_PIPE_STACK, fd, err, errlen);
cleanup:
	tlsio_pipe_put(&p->pipe); /* the threads hold theirs */
	return r;
}

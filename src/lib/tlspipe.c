/* SPDX-License-Identifier: MIT */
#include "tlspipe.h"
#include "stream.h"
#include "streamframe.h"
#include "tlsio.h"
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	atomic_int refs; /* the threads still running */
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	int tcp;   /* the server's side, under TLS */
	int plain; /* our end of the socketpair */
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

static void pipe_free(struct pipe *p)
{
	tlsio_close(p->session, p->tcp, p->plain);
	if (p->cred)
		gnutls_certificate_free_credentials(p->cred);
	free(p);
}

static void pipe_put(struct pipe *p)
{
	if (atomic_fetch_sub(&p->refs, 1) == 1)
		pipe_free(p);
}

/* A read of the server's: its answer's head as it is, then the stream
 * unframed after a 101, any other answer's body as it is. */
static int from_server_deliver(void *ctx, char *buf, size_t len)
{
	struct pipe *p = ctx;
	size_t head = p->in.done ? 0 : head_scan(&p->in, buf, len);
	int r = 0;

	if (head)
		r = stream_write_all(p->plain, buf, head);
	if (r == 0 && len > head)
		r = p->in.done && head_is_101(&p->in)
			? stream_unframe(&p->frames, p->plain, buf + head, len - head)
			: stream_write_all(p->plain, buf + head, len - head);
	return r;
}

/* The server's bytes to the caller, until the server's end of input. */
static void *from_server(void *data)
{
	struct pipe *p = data;

	tlsio_pump_from_peer(p->session, p->tcp, p->plain, true, from_server_deliver, p);
	pipe_put(p);
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
		r = tlsio_send_all(p->session, data, head);
	if (r == 0 && len > head) {
		/* the frame's head right before its payload (over head bytes
		 * already sent), for one record */
		streamframe_head((uint8_t *)frame, (uint32_t)(len - head));
		r = tlsio_send_all(p->session, frame, STREAMFRAME_HEAD + len - head);
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
		tlsio_send_all(p->session, end, STREAMFRAME_HEAD);
	} else {
		gnutls_bye(p->session, GNUTLS_SHUT_WR);
	}
}

/* The caller's bytes to the server, until the caller's end of input: its
 * request head as it is, then frames, the end frame at its end of input. */
static void *to_server(void *data)
{
	struct pipe *p = data;
	char buf[STREAMFRAME_HEAD + 16384];

	tlsio_pump_to_peer(p->tcp, p->plain, buf + STREAMFRAME_HEAD, sizeof(buf) - STREAMFRAME_HEAD,
			   to_server_send, to_server_end, p);
	pipe_put(p);
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
	unsigned status = gnutls_session_get_verify_cert_status(p->session);

	gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
	snprintf(err, errlen, "the certificate of %s does not verify against %s%s: %s", host,
		 ca_file ? "the CA " : "the system's CAs", ca_file ? ca_file : "",
		 why.data ? (const char *)why.data : "unknown reason");
	gnutls_free(why.data);
}

int tls_pipe_open(int tcp, const char *host, const char *ca_file, int *fd, char *err, size_t errlen)
{
	struct pipe *p = calloc(1, sizeof(*p));
	int sp[2] = {-1, -1}, gr, r;

	if (!p) {
		close(tcp);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->tcp = tcp;
	p->plain = -1;
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
			goto fail;
		}
		gr = 0;
	}
	if (gr == 0)
		gr = gnutls_init(&p->session, GNUTLS_CLIENT);
	if (gr == 0)
		gr = gnutls_set_default_priority(p->session);
	if (gr == 0)
		gr = gnutls_credentials_set(p->session, GNUTLS_CRD_CERTIFICATE, p->cred);
	if (gr == 0 && !is_ip(host))
		gr = gnutls_server_name_set(p->session, GNUTLS_NAME_DNS, host, strlen(host));
	if (gr < 0) {
		snprintf(err, errlen, "cannot set up TLS to %s: %s", host, gnutls_strerror(gr));
		r = -ENOMEM;
		goto fail;
	}
	gnutls_session_set_verify_cert(p->session, host, 0);
	gnutls_transport_set_int(p->session, tcp);
	gnutls_handshake_set_timeout(p->session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
	do
		gr = gnutls_handshake(p->session);
	while (gr < 0 && !gnutls_error_is_fatal(gr));
	if (gr == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		verify_error(p, host, ca_file, err, errlen);
		r = -EPERM;
		goto fail;
	}
	if (gr < 0) {
		snprintf(err, errlen, "TLS handshake with %s failed: %s", host,
			 gnutls_strerror(gr));
		r = -EPROTO;
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		r = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(-r));
		goto fail;
	}
	p->plain = sp[1];
	atomic_init(&p->refs, 2);
	r = worker_detached(from_server, p, TLS_PIPE_STACK);
	if (r < 0) {
		snprintf(err, errlen, "no thread for the TLS relay: %s", strerror(-r));
		close(sp[0]);
		goto fail;
	}
	r = worker_detached(to_server, p, TLS_PIPE_STACK);
	if (r < 0) {
		/* The reader runs and frees p: end it through the caller's side. */
		snprintf(err, errlen, "no thread for the TLS relay: %s", strerror(-r));
		shutdown(p->tcp, SHUT_RDWR);
		close(sp[0]);
		pipe_put(p);
		return r;
	}
	*fd = sp[0];
	return 0;
fail:
	pipe_free(p);
	return r;
}

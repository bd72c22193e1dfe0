// SPDX-License-Identifier: MIT
#include "tlsio.h"
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

int tlsio_send_all(gnutls_session_t s, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = gnutls_record_send(s, p, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A relay direction failed: both directions of the pipe end, so the other thread returns too. */
static void end_both(int tcp, int plain)
{
	shutdown(tcp, SHUT_RDWR);
	shutdown(plain, SHUT_RDWR);
}

/* A pipe's end: the session (if any) deinitialised, then tcp and plain (those >= 0) closed. */
static void pipe_close(gnutls_session_t s, int tcp, int plain)
{
	if (s)
		gnutls_deinit(s);
	if (tcp >= 0)
		close(tcp);
	if (plain >= 0)
		close(plain);
}

void tlsio_pump_from_peer(gnutls_session_t s, int tcp, int plain, bool lax_eof,
			  int (*deliver)(void *ctx, char *buf, size_t len), void *ctx)
{
	char buf[16384];

	for (;;) {
		ssize_t n = gnutls_record_recv(s, buf, sizeof(buf));

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n == 0 || (lax_eof && n == GNUTLS_E_PREMATURE_TERMINATION)) {
			shutdown(plain, SHUT_WR); /* the peer's end of input, passed on */
			return;
		}
		if (n < 0 || deliver(ctx, buf, (size_t)n) < 0) {
			end_both(tcp, plain); /* ends the other direction too */
			return;
		}
	}
}

void tlsio_pump_to_peer(int tcp, int plain, char *buf, size_t cap,
			int (*send)(void *ctx, char *buf, size_t len), void (*end)(void *ctx),
			void *ctx)
{
	for (;;) {
		ssize_t n = read(plain, buf, cap);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			end(ctx);
			return;
		}
		if (n < 0 || send(ctx, buf, (size_t)n) < 0) {
			end_both(tcp, plain);
			return;
		}
	}
}

void *tlsio_pipe_new(size_t size, int tcp, void (*free_fn)(struct tlsio_pipe *p), char *err,
		     size_t errlen)
{
	struct tlsio_pipe *p = calloc(1, size);

	if (!p) {
		close(tcp);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&p->refs, 1);
	p->tcp = tcp;
	p->plain = -1;
	p->free_fn = free_fn;
	return p;
}

void tlsio_pipe_put(struct tlsio_pipe *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	pipe_close(p->session, p->tcp, p->plain);
	p->free_fn(p);
}

int tlsio_pipe_start(struct tlsio_pipe *p, void *(*from_peer)(void *), void *(*to_peer)(void *),
		     size_t stack, int *fd, char *err, size_t errlen)
{
	void *(*const fns[2])(void *) = {from_peer, to_peer};
	int sv[2], i, r = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(-r));
		return r;
	}
	p->plain = sv[1];
	for (i = 0; i < 2 && r == 0; i++) {
		atomic_fetch_add(&p->refs, 1);
		r = worker_detached(fns[i], p, stack);
		if (r < 0)
			atomic_fetch_sub(&p->refs, 1);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot start the TLS relay: %s", strerror(-r));
		close(sv[0]);
		end_both(p->tcp, p->plain); /* a thread that started ends */
		return r;
	}
	*fd = sv[0];
	return 0;
}

// SPDX-License-Identifier: MIT
#include "tlsio.h"

#include <errno.h>
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

void tlsio_end_both(int tcp, int plain)
{
	shutdown(tcp, SHUT_RDWR);
	shutdown(plain, SHUT_RDWR);
}

void tlsio_close(gnutls_session_t s, int tcp, int plain)
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
			tlsio_end_both(tcp, plain); /* ends the other direction too */
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
			tlsio_end_both(tcp, plain);
			return;
		}
	}
}

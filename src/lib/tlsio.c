// SPDX-License-Identifier: MIT
#include "tlsio.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

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

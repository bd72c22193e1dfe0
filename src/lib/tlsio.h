/* SPDX-License-Identifier: MIT */
/* tlsio: what both TLS pipes (tlspipe.h, pskpipe.h) do with a GnuTLS session and their sockets. */
#ifndef GODWIT_LIB_TLSIO_H
#define GODWIT_LIB_TLSIO_H

#include <gnutls/gnutls.h>
#include <stddef.h>

/* All of buf as records on s (retrying GNUTLS_E_AGAIN and _INTERRUPTED); 0 or -EIO. */
int tlsio_send_all(gnutls_session_t s, const void *buf, size_t len);

/* A relay direction failed: both directions of the pipe end (the TLS side's
 * socket tcp and the caller's end plain), so the other thread returns too. */
void tlsio_end_both(int tcp, int plain);

#endif

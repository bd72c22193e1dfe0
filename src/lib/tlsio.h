/* SPDX-License-Identifier: MIT */
/* tlsio: what both TLS pipes (tlspipe.h, pskpipe.h) do with a GnuTLS session and their sockets. */
#ifndef GODWIT_LIB_TLSIO_H
#define GODWIT_LIB_TLSIO_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

/* All of buf as records on s (retrying GNUTLS_E_AGAIN and _INTERRUPTED); 0 or -EIO. */
int tlsio_send_all(gnutls_session_t s, const void *buf, size_t len);

/* A relay direction failed: both directions of the pipe end (the TLS side's
 * socket tcp and the caller's end plain), so the other thread returns too. */
void tlsio_end_both(int tcp, int plain);

/* A pipe's end: the session (if any) deinitialised, then tcp and plain (those >= 0) closed. */
void tlsio_close(gnutls_session_t s, int tcp, int plain);

/*
 * The two relay directions of a pipe, each in its own thread, returning at
 * the end of that direction. A failure ends both (tlsio_end_both).
 *
 * tlsio_pump_from_peer: the peer's records, each handed to deliver (0 or
 * -errno), until the peer's end of input (its close_notify; also a close
 * without one when lax_eof), passed on to plain (SHUT_WR).
 *
 * tlsio_pump_to_peer: what plain reads into buf[0..cap), each read handed to
 * send (0 or -errno), until plain's end of input, where end runs. send always
 * gets buf itself with the read at its start, so a caller may keep headroom
 * of its own before buf (tlspipe writes its frame head there).
 */
void tlsio_pump_from_peer(gnutls_session_t s, int tcp, int plain, bool lax_eof,
			  int (*deliver)(void *ctx, char *buf, size_t len), void *ctx);
void tlsio_pump_to_peer(int tcp, int plain, char *buf, size_t cap,
			int (*send)(void *ctx, char *buf, size_t len), void (*end)(void *ctx),
			void *ctx);

#endif

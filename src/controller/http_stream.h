/* SPDX-License-Identifier: MIT */
/*
 * http_stream: the API's streams as HTTP upgrades (docs/API.md, "Streams";
 * where they lead: tunnel.h).
 *
 * A stream request is authenticated like every request (http.c), its far
 * end opened first (tunnel_open), and only then answered "101 Switching
 * Protocols" (Upgrade: godwit-stream), so every refusal is a plain JSON error.
 * After the 101 the connection leaves libmicrohttpd: the upgrade handler
 * takes a duplicate of the socket and closes MHD's side at once, so a stream
 * counts neither against HTTP_MAX_CONNECTIONS nor against the
 * HTTP_MAX_PER_ADDRESS share of its host, and no idle timeout ends a quiet
 * SSH session. Over TLS (every TCP listener) the socket the handler gets is
 * MHD's end of its TLS relay: the connection then stays with MHD, and in its
 * listener's connection count, until the stream ends; that relay drops
 * half-closes, so the stream's bytes are framed there (lib/streamframe.h). Streams have their own
 * bound, HTTP_MAX_STREAMS at a time (503 beyond it), each relayed by a thread of its own with a
 * small stack.
 */
#ifndef GODWIT_CONTROLLER_HTTP_STREAM_H
#define GODWIT_CONTROLLER_HTTP_STREAM_H

#include "http.h"
#include "tunnel.h"

#include <microhttpd.h>

#define HTTP_MAX_STREAMS	 1024
#define HTTP_STREAM_THREAD_STACK (128 * 1024)

/*
 * Answers the stream request req on conn: an error, or the 101 and the relay.
 * *slot (the request's, alive until MHD's completion callback) holds the
 * stream while the 101 is on its way; the upgrade handler clears it. A slot
 * still set at completion (the 101 never reached the client) goes to
 * http_stream_abandon.
 */
enum MHD_Result http_stream_serve(const struct http_context *ctx, struct MHD_Connection *conn,
				  const char *method, const struct tunnel_request *req,
				  void **slot);
void http_stream_abandon(void *stream); /* accepts NULL */

/* Streams relayed now (for tests and logs). */
int http_streams_active(void);

#endif

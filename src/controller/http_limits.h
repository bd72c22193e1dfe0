/* SPDX-License-Identifier: MIT */
/*
 * http_limits: what one HTTP daemon (http.h) lets its clients hold.
 *
 * - A header deadline. libmicrohttpd's idle timeout restarts at every byte,
 *   so a client that dribbles a byte a second into a header holds its
 *   connection (and its thread) for ever. Every connection is known here
 *   from MHD_OPTION_NOTIFY_CONNECTION; a fresh one must complete a request
 *   header within HTTP_HEADER_DEADLINE_S, a kept-alive one the next header
 *   within HTTP_TIMEOUT_S + HTTP_HEADER_DEADLINE_S of its last answer (an
 *   idle keep-alive connection meets MHD's idle timeout first and lasts
 *   what it did; one that dribbles into its next header is cut). A watchdog thread checks the
 * deadlines every HTTP_WATCHDOG_MS and shuts a late connection's socket down; its own thread then
 * reads the end of the stream and MHD closes it. Nothing here reads the bytes, so it works the same
 * under TLS (the handshake counts against the deadline too). The socket is shut under the lock that
 *   MHD's close notification takes, before MHD closes the descriptor, so
 *   the descriptor cannot be another connection's by then. Upgraded
 *   connections (http_stream.h) leave the watchdog once their header is
 *   in, as every request does, and never come back to it.
 *   Why not MHD's epoll mode with suspended watches: the watch callback
 *   blocks (watch.h) and would need a rewrite to a resumable producer; the
 *   thread per connection already costs little (small stacks, measured in
 *   bench/results), and the deadline is what was missing.
 * - Watches counted apart: at most max_watches watch streams at a time, and
 *   at most HTTP_MAX_REQUEST_CONNECTIONS other connections, so watchers
 *   never take the slots a heartbeat needs. Past a cap the request gets 503
 *   with the cap in the message and the connection is closed; MHD's own
 *   hard limit (HTTP_MAX_CONNECTIONS, the sum plus room to send those 503s)
 *   is never the one met.
 */
#ifndef GODWIT_CONTROLLER_HTTP_LIMITS_H
#define GODWIT_CONTROLLER_HTTP_LIMITS_H

#include "lib/worker.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HTTP_HEADER_DEADLINE_S	     10
#define HTTP_WATCHDOG_MS	     500
#define HTTP_MAX_WATCHES	     4096  /* an agent holds one */
#define HTTP_MAX_WATCHES_MAX	     65536 /* of --max-watches */
#define HTTP_MAX_REQUEST_CONNECTIONS 4096  /* an agent keeps one alive */

struct http_conn; /* one connection, MHD's socket context */

struct http_limits {
	pthread_mutex_t lock;
	struct http_conn *conns; /* a list of every open connection */
	unsigned connections, watches;
	unsigned max_watches;
	int header_deadline_ms, keepalive_deadline_ms;
	uint64_t cut; /* connections shut at a deadline */
	struct worker watchdog;
};

/* max_watches 0: HTTP_MAX_WATCHES; deadlines in s (0: HTTP_HEADER_DEADLINE_S). */
int http_limits_start(struct http_limits *l, unsigned max_watches, int header_deadline_s,
		      int keepalive_deadline_s);
void http_limits_stop(struct http_limits *l); /* accepts one never started */

/* MHD_OPTION_NOTIFY_CONNECTION (cls: the limits). */
void http_limits_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code);

/* The header of a request on conn is in: no deadline until it is answered. */
void http_limits_header_in(struct http_limits *l, struct MHD_Connection *conn);
/* A request on conn was answered; keep: the connection may carry another
 * (false for an upgraded one, which never does). */
void http_limits_answered(struct http_limits *l, struct MHD_Connection *conn, bool keep);

/* Admits a watch on conn: true, or false at the cap. */
bool http_limits_watch_begin(struct http_limits *l, struct MHD_Connection *conn);
void http_limits_watch_end(struct http_limits *l, struct MHD_Connection *conn);
/* Whether other connections than watches are over their cap. */
bool http_limits_requests_full(struct http_limits *l);

#endif

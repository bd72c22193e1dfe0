/* SPDX-License-Identifier: MIT */
/*
 * http: the HTTP face of godwitd on libmicrohttpd: listening sockets (TCP
 * "HOST:PORT" or "unix:/path"), bearer-token authentication, routing of
 * docs/API.md to the registry and the watch stream.
 * One MHD daemon per listening socket, a thread per connection (the watch
 * callback blocks; small stacks, so thousands of mostly idle agents' watch
 * and heartbeat connections cost little). What a client may hold
 * (http_limits.h): a complete request header within HTTP_HEADER_DEADLINE_S
 * of connecting, however slowly it dribbles bytes (MHD's idle timer
 * restarts at every byte); watches and other connections capped apart
 * (HTTP_MAX_WATCHES, HTTP_MAX_REQUEST_CONNECTIONS; 503 beyond), so that
 * watchers never take the slot of a heartbeat; and, on TCP,
 * HTTP_MAX_PER_ADDRESS connections from one address, so a host holds its
 * own share, never the API. Idle connections are closed after
 * HTTP_TIMEOUT_S. Streams (port-forward, console: http_stream.h) leave
 * this accounting once upgraded and have their own bound.
 */
#ifndef GODWIT_CONTROLLER_HTTP_H
#define GODWIT_CONTROLLER_HTTP_H

#include "http_limits.h"
#include "registry.h"
#include "watch.h"

#include <stdbool.h>

#define HTTP_SPARE_CONNECTIONS 256 /* beyond both caps: room to answer 503 */
#define HTTP_MAX_PER_ADDRESS   64  /* a node's agent, a CLI host's users */
#define HTTP_THREAD_STACK      (512 * 1024)
#define HTTP_TIMEOUT_S	       30

struct http_context {
	struct registry *registry;
	struct store *store;
	struct watch_hub *hub;
	const char *token;
	struct leader *leader; /* NULL: the only controller on its store */
	unsigned max_watches;  /* per listening socket; 0: HTTP_MAX_WATCHES */
};

struct leader;
struct http_server; /* one listening socket's daemon */

/* Whether addr is "HOST:PORT" (numeric host, port 1..65535) or "unix:/path". */
bool http_listen_addr_valid(const char *addr);

/* Binds and listens on addr ("HOST:PORT" or "unix:/path"); *fd on success. */
int http_listen(const char *addr, int *fd);

/* Serves on the listening socket fd (taken over by the daemon): HTTPS with the
 * PEM certificate and key when cert_pem is set (every TCP listener, tls.h),
 * plain HTTP when NULL (the unix socket). */
int http_start(int fd, const struct http_context *ctx, const char *cert_pem, const char *key_pem,
	       struct http_server **out);
void http_stop(struct http_server *srv); /* accepts NULL */

#endif

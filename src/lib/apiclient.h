/* SPDX-License-Identifier: MIT */
/*
 * apiclient: the HTTP/JSON client of the godwit API (docs/API.md), used by
 * the CLI and the agent. libcurl underneath; one client per thread.
 *
 * server is "https://HOST:PORT" (every TCP listener of godwitd), "http://..."
 * or "unix:/path/to/api.sock" (HTTP over a unix socket, used by the lab so
 * that the CLI in the root namespace reaches a controller running in the
 * lab's underlay namespace). An https:// server's certificate is verified
 * against ca_file (the cluster CA, STATE/tls/ca.crt of godwitd; NULL: the
 * system's CAs) and its host name or IP; verification is never turned off.
 *
 * server may list several controllers of one cluster, comma-separated (at
 * most API_MAX_SERVERS): a request that cannot reach the current one (no
 * connection made: refused, unresolved, timed out connecting) goes to the
 * next, with a log line, and the client stays with the one that answered.
 * A request that reached a controller is never sent to another.
 */
#ifndef GODWIT_LIB_APICLIENT_H
#define GODWIT_LIB_APICLIENT_H

#include <jansson.h>
#include <stddef.h>

#define API_MAX_SERVERS 8

struct api_client;

int api_client_new(const char *server, const char *token, const char *ca_file,
		   struct api_client **out);
void api_client_free(struct api_client *c); /* accepts NULL */

/* Sets the total timeout of plain requests (default 10 s). */
void api_client_set_timeout_ms(struct api_client *c, long ms);

/*
 * One request. body may be NULL. On any HTTP answer returns 0 and stores the
 * status in *status and the decoded JSON body in *reply (NULL when the body is
 * empty; caller json_decref()s). Transport failures return -errno
 * (-ECONNREFUSED, -ETIMEDOUT, -EPROTO for a body that is not JSON, -EPERM for
 * a certificate that does not verify, -ENOENT for an unusable CA file) and
 * write nothing to the output parameters; api_client_error says why.
 */
int api_request(struct api_client *c, const char *method, const char *path, const json_t *body,
		long *status, json_t **reply);

/*
 * Streaming GET (the watch): on_line is called once per newline-terminated
 * line (without the newline, NUL-terminated). A non-zero return from on_line
 * stops the stream and is returned. Returns 0 when the server closes the
 * stream, -EPROTO with *status set for a non-200 answer (e.g. 410 resync),
 * -errno for transport errors. idle_timeout_ms: abort when nothing arrives for
 * that long (the server sends a BOOKMARK line every few seconds).
 */
int api_stream(struct api_client *c, const char *path, long idle_timeout_ms,
	       int (*on_line)(const char *line, size_t len, void *userdata), void *userdata,
	       long *status);

/* Why the last request failed in transport (names the server and the CA
 * file for a certificate that does not verify); "" when it did not. */
const char *api_client_error(const struct api_client *c);

/* The "error" string of an error reply, or a generic text. Never NULL. */
const char *api_error_text(const json_t *reply);

#endif

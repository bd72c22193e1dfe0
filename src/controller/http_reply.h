/* SPDX-License-Identifier: MIT */
/*
 * http_reply: the responses every handler of godwitd builds the same way —
 * a body of text or JSON with its content type, queued and released in one
 * step — and the pending bytes of a streamed (callback) response. http.c,
 * http_stream.c, the watch streams and the Kubernetes face (k8s_reply.h)
 * use these, so a reply's shape is written once.
 */
#ifndef GODWIT_CONTROLLER_HTTP_REPLY_H
#define GODWIT_CONTROLLER_HTTP_REPLY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* text of len bytes (taken: freed with the response, or here on failure)
 * with Content-Type type; NULL when out of memory. */
struct MHD_Response *http_text_response(char *text, size_t len, const char *type);
/* body (taken) as compact JSON, one line ended by '\n' when newline. */
struct MHD_Response *http_json_response(json_t *body, bool newline);
/* A streamed response of Content-Type type read through reader; NULL when
 * out of memory (cls is then the caller's to free). */
struct MHD_Response *http_stream_response(MHD_ContentReaderCallback reader, void *cls,
					  MHD_ContentReaderFreeCallback done, const char *type);
/* Queues resp with status and releases it; NULL resp: MHD_NO. */
enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp);

/* What a content reader has made and not yet handed to MHD. */
struct http_pending {
	char *buf;
	size_t len, off;
};

static inline bool http_pending_empty(const struct http_pending *p)
{
	return p->off == p->len;
}
/* Frees what was handed over, for the next batch. */
void http_pending_reset(struct http_pending *p);
/* Copies up to max pending bytes into out; their number. */
ssize_t http_pending_take(struct http_pending *p, char *out, size_t max);

#endif

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

/* What a content reader has made and not yet handed to MHD, and how it
 * makes the next batch: fill(p) puts it in p (reset), returning 0 (bytes, or
 * none yet: fill again), 1 at the end of the stream, -errno on failure (fill
 * logs what it wants told). */
struct http_pending {
	char *buf;
	size_t len, off;
	int (*fill)(struct http_pending *p);
};

static inline bool http_pending_empty(const struct http_pending *p)
{
	return p->off == p->len;
}
/* Frees what was handed over, for the next batch. */
void http_pending_reset(struct http_pending *p);
/* Copies up to max pending bytes into out; their number. */
ssize_t http_pending_take(struct http_pending *p, char *out, size_t max);
/* The content reader (MHD_ContentReaderCallback) of a stream whose cls
 * starts with its struct http_pending: the pending bytes, filled as needed;
 * MHD's end of stream or error when fill says so. */
ssize_t http_pending_read(void *cls, uint64_t pos, char *out, size_t max);

#endif

// SPDX-License-Identifier: MIT
#include "http_reply.h"

#include <stdlib.h>
#include <string.h>

struct MHD_Response *http_text_response(char *text, size_t len, const char *type)
{
	struct MHD_Response *resp;

	if (!text)
		return NULL;
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return resp;
}

struct MHD_Response *http_json_response(json_t *body, bool newline)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	size_t n = text ? strlen(text) : 0;

	json_decref(body);
	if (text && newline) {
		char *grown = realloc(text, n + 2);

		if (!grown) {
			free(text);
			return NULL;
		}
		text = grown;
		text[n++] = '\n';
		text[n] = '\0';
	}
	return http_text_response(text, n, "application/json");
}

struct MHD_Response *http_stream_response(MHD_ContentReaderCallback reader, void *cls,
					  MHD_ContentReaderFreeCallback done, const char *type)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, cls, done);

	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return resp;
}

enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

void http_pending_reset(struct http_pending *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = p->off = 0;
}

ssize_t http_pending_take(struct http_pending *p, char *out, size_t max)
{
	size_t n = p->len - p->off < max ? p->len - p->off : max;

	memcpy(out, p->buf + p->off, n);
	p->off += n;
	return (ssize_t)n;
}

ssize_t http_pending_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_pending *p = cls;
	int r;

	(void)pos;
	while (http_pending_empty(p)) {
		http_pending_reset(p);
		r = p->fill(p);
		if (r > 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	return http_pending_take(p, out, max);
}

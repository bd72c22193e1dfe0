/* SPDX-License-Identifier: MIT */
/* libFuzzer: the parsers of a stream's outside input: the controller's answer
 * head as the CLI reads it (lib/stream.h) and the request and answer lines
 * between controller and agent (lib/streamproto.h). A request that parses
 * must format back to a line that parses to the same request. The frames of
 * an https:// stream (lib/streamframe.h), read in one piece and in two, give
 * the same payload. */
#include "lib/stream.h"
#include "lib/streamframe.h"
#include "lib/streamproto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_frames(const uint8_t *data, size_t size)
{
	struct streamframe_reader one = {0}, two = {0};
	uint8_t *a = malloc(size + 1), *b = malloc(size + 1);
	size_t got_a = 0, got_b = 0, got_b2 = 0, half = size / 2;
	int ra, rb;

	if (!a || !b)
		abort();
	ra = streamframe_read(&one, data, size, a, &got_a);
	rb = streamframe_read(&two, data, half, b, &got_b);
	if (rb >= 0) {
		rb = streamframe_read(&two, data + half, size - half, b + got_b, &got_b2);
		got_b += got_b2;
	}
	if (got_a > size || ra != rb || (ra >= 0 && (got_a != got_b || memcmp(a, b, got_a))))
		abort();
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct streamproto_request req, again;
	char err[256], msg[256], *line = NULL;
	long clen;
	int status, n;

	check_frames(data, size);
	if (stream_parse_head((const char *)data, size, &status, &clen) == 0 &&
	    (status < 100 || status > 999 || clen > STREAM_ERROR_MAX))
		abort();
	streamproto_reply_parse((const char *)data, size, msg, sizeof(msg));
	if (streamproto_request_parse((const char *)data, size, &req, err, sizeof(err)) < 0)
		return 0;
	n = streamproto_request_format(&req, &line);
	if (n < 0)
		return 0; /* a token too long for one line */
	if (line[n - 1] != '\n' ||
	    streamproto_request_parse(line, (size_t)n - 1, &again, err, sizeof(err)) < 0 ||
	    again.kind != req.kind || strcmp(again.token, req.token) ||
	    (req.kind == STREAMPROTO_PORTFORWARD &&
	     (again.ipv4 != req.ipv4 || again.port != req.port ||
	      strcmp(again.netns, req.netns))) ||
	    (req.kind == STREAMPROTO_CONSOLE && strcmp(again.vm, req.vm)))
		abort();
	free(line);
	return 0;
}

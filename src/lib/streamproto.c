/* SPDX-License-Identifier: MIT */
#include "streamproto.h"

#include "lib/addr.h"
#include "lib/kinds.h"
#include "lib/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int dump_line(json_t *j, char **out)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n;

	json_decref(j);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	if (n + 1 >= STREAMPROTO_LINE_MAX) {
		free(text);
		return -E2BIG;
	}
	*out = realloc(text, n + 2);
	if (!*out) {
		free(text);
		return -ENOMEM;
	}
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	return (int)n + 1;
}

int streamproto_request_format(const struct streamproto_request *req, char **out)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = {.s_addr = htonl(req->ipv4)};

	if (req->kind == STREAMPROTO_CONSOLE)
		return dump_line(json_pack("{s:s, s:s, s:s}", "token", req->token, "kind",
					   "console", "vm", req->vm),
				 out);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	return dump_line(json_pack("{s:s, s:s, s:s, s:s, s:i}", "token", req->token, "kind",
				   "portforward", "netns", req->netns, "ipv4", ip, "port",
				   (int)req->port),
			 out);
}

/* obj.key as a string into buf; -EINVAL naming key when absent, not a string or too long. */
static int get_str(const json_t *obj, const char *key, char *buf, size_t cap, char *err,
		   size_t errlen)
{
	const char *v = json_string_value(json_object_get(obj, key));

	if (!v || strlen(v) == 0 || strlen(v) >= cap) {
		snprintf(err, errlen, "\"%s\": missing, not a string, or longer than %zu bytes",
			 key, cap - 1);
		return -EINVAL;
	}
	strcpy(buf, v);
	return 0;
}

int streamproto_request_parse(const char *line, size_t len, struct streamproto_request *out,
			      char *err, size_t errlen)
{
	struct streamproto_request req = {0};
	char kind[16], ip[INET_ADDRSTRLEN + 1];
	json_error_t jerr;
	json_int_t port;
	json_t *j;
	int r = -EINVAL;

	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object: %s", j ? "another value" : jerr.text);
		goto cleanup;
	}
	if (get_str(j, "token", req.token, sizeof(req.token), err, errlen) < 0 ||
	    get_str(j, "kind", kind, sizeof(kind), err, errlen) < 0)
		goto cleanup;
	if (strcmp(kind, "console") == 0) {
		req.kind = STREAMPROTO_CONSOLE;
		if (get_str(j, "vm", req.vm, sizeof(req.vm), err, errlen) < 0)
			goto cleanup;
		if (!object_name_valid(req.vm)) {
			snprintf(err, errlen, "\"vm\": `%s' is not an object name", req.vm);
			goto cleanup;
		}
	} else if (strcmp(kind, "portforward") == 0) {
		req.kind = STREAMPROTO_PORTFORWARD;
		if (get_str(j, "netns", req.netns, sizeof(req.netns), err, errlen) < 0 ||
		    get_str(j, "ipv4", ip, sizeof(ip), err, errlen) < 0)
			goto cleanup;
		if (strchr(req.netns, '/') || strcmp(req.netns, ".") == 0 ||
		    strcmp(req.netns, "..") == 0) {
			snprintf(err, errlen, "\"netns\": `%s' is not a namespace name", req.netns);
			goto cleanup;
		}
		if (addr_ipv4_parse(ip, &req.ipv4) < 0 || req.ipv4 == 0) {
			snprintf(err, errlen, "\"ipv4\": `%s' is not an IPv4 address", ip);
			goto cleanup;
		}
		port = json_integer_value(json_object_get(j, "port"));
		if (!json_is_integer(json_object_get(j, "port")) || port < 1 || port > 65535) {
			snprintf(err, errlen, "\"port\": not a number in 1..65535");
			goto cleanup;
		}
		req.port = (uint16_t)port;
	} else {
		snprintf(err, errlen, "\"kind\": `%s' is neither portforward nor console", kind);
		goto cleanup;
	}
	*out = req;
	r = 0;
cleanup:
	json_decref(j);
	return r;
}

int streamproto_reply_format(const char *error, char **out)
{
	if (!error)
		return dump_line(json_pack("{s:b}", "ok", 1), out);
	return dump_line(json_pack("{s:s%}", "error", error, strnlen(error, 1024)), out);
}

int streamproto_reply_parse(const char *line, size_t len, char *msg, size_t msglen)
{
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *e;
	int r = -EINVAL;

	if (!json_is_object(j))
		goto cleanup;
	if (json_is_true(json_object_get(j, "ok"))) {
		r = 0;
		goto cleanup;
	}
	e = json_object_get(j, "error");
	if (json_is_string(e)) {
		snprintf(msg, msglen, "%s", json_string_value(e));
		r = -EPROTO;
	}
cleanup:
	json_decref(j);
	return r;
}

int streamproto_read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		int r = stream_read_exact(fd, buf + n, 1);

		if (r < 0)
			return r;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
		n++;
	}
	return -E2BIG;
}

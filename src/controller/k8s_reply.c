/* SPDX-License-Identifier: MIT */
/* Answers of the Kubernetes API (k8s_reply.h). */
#include "k8s_reply.h"
#include "http_reply.h"
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *k8s_reason(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 410:
		return "Expired";
	case 413:
		return "RequestEntityTooLarge";
	case 415:
		return "UnsupportedMediaType";
	case 422:
		return "Invalid";
	case 503:
		return "ServiceUnavailable";
	case 507:
		return "InsufficientStorage";
	default:
		return "InternalError";
	}
}

enum MHD_Result k8s_reply(struct MHD_Connection *conn, unsigned status, json_t *body,
			  const struct k8s_status *st)
{
	struct MHD_Response *resp = http_json_response(body, false);
	size_t i;
	json_t *w;

	if (!resp)
		return MHD_NO;
	/* kubectl prints each as "Warning: ..." (RFC 7234 warn-code 299) */
	json_array_foreach(st ? st->warnings : NULL, i, w)
	{
		char h[512], *q;

		snprintf(h, sizeof(h), "299 - \"%s\"", json_string_value(w));
		for (q = h + 7; *q && q[1]; q++)
			if (*q == '"' || *q == '\\' || *q < ' ')
				*q = '\'';
		MHD_add_response_header(resp, "Warning", h);
	}
	return http_queue(conn, status, resp);
}

int k8s_status_cause(struct k8s_status *st, const char *field, const char *message)
{
	char path[256];
	size_t o = 0;

	/* "a.0.b" -> "a[0].b": Kubernetes' form of a list index */
	for (const char *p = field ? field : ""; *p && o + 4 < sizeof(path); p++) {
		if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
			path[o++] = '[';
			for (p++; *p >= '0' && *p <= '9' && o + 3 < sizeof(path); p++)
				path[o++] = *p;
			path[o++] = ']';
			p--;
			continue;
		}
		path[o++] = *p;
	}
	path[o] = '\0';
	if (!st->causes && !(st->causes = json_array()))
		return -ENOMEM;
	return json_array_append_new(st->causes,
				     json_pack("{s:s, s:s, s:s}", "type", "FieldValueInvalid",
					       "message", message, "field", path))
		   ? -ENOMEM
		   : 0;
}

void k8s_status_clear(struct k8s_status *st)
{
	json_decref(st->causes);
	json_decref(st->warnings);
	st->causes = st->warnings = NULL;
}

enum MHD_Result k8s_reply_status(struct MHD_Connection *conn, const struct k8s_status *st,
				 const struct k8s_target *t)
{
	json_t *details = json_object(), *body;

	if (!details)
		return MHD_NO;
	if (t && t->name)
		json_object_set_new(details, "name", json_string(t->name));
	if (t && t->resource) {
		json_object_set_new(details, "group", json_string("kubevirt.io"));
		json_object_set_new(details, "kind", json_string(t->kind ? t->kind : t->resource));
	}
	if (st->causes)
		json_object_set(details, "causes", st->causes);
	body = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:o, s:i}", "kind", "Status",
			 "apiVersion", "v1", "metadata", "status", "Failure", "message",
			 st->message, "reason", st->reason[0] ? st->reason : k8s_reason(st->code),
			 "details", details, "code", st->code);
	return k8s_reply(conn, (unsigned)st->code, body, st);
}

enum MHD_Result k8s_reply_error(struct MHD_Connection *conn, int code, const struct k8s_target *t,
				const char *fmt, ...)
{
	struct k8s_status st = {.code = code};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st.message, sizeof(st.message), fmt, ap);
	va_end(ap);
	return k8s_reply_status(conn, &st, t);
}

enum MHD_Result k8s_reply_api_error(struct MHD_Connection *conn, const struct api_error *err,
				    const struct k8s_target *t, struct k8s_status *st)
{
	enum MHD_Result ret;

	if (!err->status) {
		log_error("kubernetes API: request failed in the store");
		st->code = 500;
		snprintf(st->message, sizeof(st->message),
			 "internal error (see the controller's log)");
	} else {
		st->code = err->status;
		snprintf(st->message, sizeof(st->message), "%s", err->message);
		if (err->status == 409 && strstr(err->message, "already exists"))
			snprintf(st->reason, sizeof(st->reason), "AlreadyExists");
		if (err->field[0]) {
			/* the cause's message without the "field: " it starts with */
			size_t n = strlen(err->field);
			const char *m = err->message;

			if (strncmp(m, err->field, n) == 0 && strncmp(m + n, ": ", 2) == 0)
				m += n + 2;
			if (k8s_status_cause(st, err->field, m) < 0)
				return MHD_NO;
			snprintf(st->reason, sizeof(st->reason), "%s", k8s_reason(err->status));
		}
	}
	ret = k8s_reply_status(conn, st, t);
	return ret;
}

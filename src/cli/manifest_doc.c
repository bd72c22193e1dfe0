/* SPDX-License-Identifier: MIT */
/* The mapping context of one manifest document (manifest_doc.h). */
#include "manifest_doc.h"
#include "lib/kinds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int manifest_lines_lookup(const json_t *lines, const char *path)
{
	char buf[256];

	if (!lines || !path || strlen(path) >= sizeof(buf))
		return 0;
	strcpy(buf, path);
	for (;;) {
		json_t *l = json_object_get(lines, buf);
		char *dot;

		if (json_is_integer(l))
			return (int)json_integer_value(l);
		dot = strrchr(buf, '.');
		if (!dot)
			return 0;
		*dot = '\0';
	}
}

int manifest_field_line(const struct manifest_obj *obj, const char *path)
{
	return manifest_lines_lookup(obj->lines, path);
}

int manifest_doc_error(struct manifest_doc *ctx, const char *path, const char *fmt, ...)
{
	int line = manifest_lines_lookup(ctx->lines, path);
	int n;
	va_list ap;

	if (line > 0)
		n = snprintf(ctx->err, ctx->errlen, "document %d: line %d: %s%s", ctx->index, line,
			     path ? path : "", path ? ": " : "");
	else
		n = snprintf(ctx->err, ctx->errlen, "document %d: %s%s", ctx->index,
			     path ? path : "", path ? ": " : "");
	if (n >= 0 && (size_t)n < ctx->errlen) {
		va_start(ap, fmt);
		vsnprintf(ctx->err + n, ctx->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int manifest_doc_warn(struct manifest_doc *ctx, const char *fmt, ...)
{
	char buf[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!ctx->m->warnings && !(ctx->m->warnings = json_array()))
		return -ENOMEM;
	return json_array_append_new(ctx->m->warnings, json_string(buf)) ? -ENOMEM : 0;
}

int manifest_doc_append(struct manifest_doc *ctx, const struct kind_info *kind, json_t *body)
{
	struct manifest *m = ctx->m;
	struct manifest_obj *grown;

	grown = realloc(m->objs, (m->n + 1) * sizeof(*grown));
	if (!grown) {
		json_decref(body);
		return -ENOMEM;
	}
	m->objs = grown;
	m->objs[m->n] = (struct manifest_obj){
	    .kind = kind,
	    .body = body,
	    .lines = ctx->lines,
	    .doc = ctx->index,
	    .name = obj_name(body),
	};
	m->n++;
	return 0;
}

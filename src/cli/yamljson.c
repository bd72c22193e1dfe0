/* SPDX-License-Identifier: MIT */
#include "yamljson.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAMLJSON_MAX_DOCS 1024

struct reader {
	yaml_parser_t parser;
	json_t *lines; /* of the current document */
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, const yaml_mark_t *mark, const char *fmt, const char *arg)
{
	int n = snprintf(r->err, r->errlen, "line %zu: ", mark->line + 1);

	if (n >= 0 && (size_t)n < r->errlen)
		snprintf(r->err + n, r->errlen - n, fmt, arg);
	return -EINVAL;
}

static int next_event(struct reader *r, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&r->parser, ev)) {
		const yaml_parser_t *p = &r->parser;

		if (p->error == YAML_MEMORY_ERROR)
			return -ENOMEM;
		snprintf(r->err, r->errlen, "line %zu: %s%s%s", p->problem_mark.line + 1,
			 p->problem ? p->problem : "syntax error", p->context ? " " : "",
			 p->context ? p->context : "");
		return -EINVAL;
	}
	return 0;
}

/* The next event of a mapping or a sequence into *ev: 0, or 1 at the end
 * event (then nothing to free), or -errno. */
static int next_item(struct reader *r, yaml_event_type_t end, yaml_event_t *ev)
{
	int err = next_event(r, ev);

	if (err || ev->type != end)
		return err;
	yaml_event_delete(ev);
	return 1;
}

static bool all_chars(const char *s, size_t len, const char *set)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(s, *words, len) == 0)
			return true;
	return false;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_core_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, exp++;
		if (exp == 0)
			return false;
	}
	return i == len;
}

static json_t *parse_int(const char *s, size_t len, int base, char *err, size_t errlen)
{
	char buf[80];
	char *end;
	long long v;

	if (len >= sizeof(buf)) {
		snprintf(err, errlen, "integer %.20s... out of range", s);
		return NULL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoll(base == 10 ? buf : buf + 2, &end, base);
	if (errno || *end) {
		snprintf(err, errlen, "integer %s out of range", buf);
		return NULL;
	}
	return json_integer(v);
}

json_t *yaml_plain_scalar(const char *s, size_t len, char *err, size_t errlen)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const specials[] = {".inf",	".Inf",	 ".INF",  "+.inf", "+.Inf",
					       "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
					       ".NaN",	".NAN",	 NULL};
	size_t sign = (len > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;

	if (len == 0 || is_one_of(s, len, nulls))
		return json_null();
	if (is_one_of(s, len, trues))
		return json_true();
	if (is_one_of(s, len, falses))
		return json_false();
	if (all_chars(s + sign, len - sign, "0123456789"))
		return parse_int(s, len, 10, err, errlen);
	if (len > 2 && s[0] == '0' && s[1] == 'o' && all_chars(s + 2, len - 2, "01234567"))
		return parse_int(s, len, 8, err, errlen);
	if (len > 2 && s[0] == '0' && s[1] == 'x' &&
	    all_chars(s + 2, len - 2, "0123456789abcdefABCDEF"))
		return parse_int(s, len, 16, err, errlen);
	if (is_one_of(s, len, specials)) {
		snprintf(err, errlen, "%.*s is not representable in JSON (quote it for a string)",
			 (int)len, s);
		return NULL;
	}
	if (is_core_float(s, len)) {
		char *buf = strndup(s, len);
		double d;

		if (!buf) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		d = strtod(buf, NULL);
		if (!isfinite(d)) {
			snprintf(err, errlen, "number %s out of range", buf);
			free(buf);
			return NULL;
		}
		free(buf);
		return json_real(d);
	}
	return json_stringn(s, len);
}

static char *child_path(const char *path, const char *key)
{
	char *p;

	if (asprintf(&p, "%s%s%s", path, *path ? "." : "", key) < 0)
		return NULL;
	return p;
}

static int record_line(struct reader *r, const char *path, const yaml_mark_t *mark)
{
	if (!*path)
		return 0;
	return json_object_set_new(r->lines, path, json_integer((json_int_t)mark->line + 1))
		   ? -ENOMEM
		   : 0;
}

static int read_node(struct reader *r, yaml_event_t *ev, const char *path, int depth, json_t **out);

static int read_scalar(struct reader *r, yaml_event_t *ev, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	char why[160];
	json_t *v;

	if (tag && strcmp(tag, YAML_STR_TAG) != 0 && strcmp(tag, "!") != 0)
		return fail(r, &ev->start_mark, "unsupported tag %s (only !!str is supported)",
			    tag);
	snprintf(why, sizeof(why), "string is not valid UTF-8");
	if (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		v = json_stringn(s, len);
	else
		v = yaml_plain_scalar(s, len, why, sizeof(why));
	if (!v)
		return fail(r, &ev->start_mark, "%s", why);
	*out = v;
	return 0;
}

static int read_mapping(struct reader *r, const char *path, int depth, json_t *obj)
{
	for (;;) {
		yaml_event_t kev, vev;
		json_t *v = NULL;
		char *cpath = NULL;
		const char *key;
		int err;

		err = next_item(r, YAML_MAPPING_END_EVENT, &kev);
		if (err)
			return err < 0 ? err : 0;
		if (kev.type != YAML_SCALAR_EVENT) {
			err = fail(r, &kev.start_mark, "%s", "mapping keys must be strings");
			yaml_event_delete(&kev);
			return err;
		}
		key = (const char *)kev.data.scalar.value;
		if (kev.data.scalar.anchor)
			err = fail(r, &kev.start_mark, "anchors (&%s) are not supported",
				   (const char *)kev.data.scalar.anchor);
		else if (strlen(key) != kev.data.scalar.length)
			err =
			    fail(r, &kev.start_mark, "%s", "mapping key contains a NUL character");
		else if (json_object_get(obj, key))
			err = fail(r, &kev.start_mark, "duplicate key '%s'", key);
		else if (!(cpath = child_path(path, key)))
			err = -ENOMEM;
		else
			err = record_line(r, cpath, &kev.start_mark);
		if (!err)
			err = next_event(r, &vev);
		if (!err) {
			err = read_node(r, &vev, cpath, depth + 1, &v);
			yaml_event_delete(&vev);
		}
		if (!err && json_object_set_new(obj, key, v))
			err = -ENOMEM;
		free(cpath);
		yaml_event_delete(&kev);
		if (err)
			return err;
	}
}

static int read_sequence(struct reader *r, const char *path, int depth, json_t *arr)
{
	for (size_t i = 0;; i++) {
		yaml_event_t ev;
		char idx[24];
		char *cpath;
		json_t *v = NULL;
		int err;

		err = next_item(r, YAML_SEQUENCE_END_EVENT, &ev);
		if (err)
			return err < 0 ? err : 0;
		snprintf(idx, sizeof(idx), "%zu", i);
		cpath = child_path(path, idx);
		err = cpath ? record_line(r, cpath, &ev.start_mark) : -ENOMEM;
		if (!err)
			err = read_node(r, &ev, cpath, depth + 1, &v);
		if (!err && json_array_append_new(arr, v))
			err = -ENOMEM;
		free(cpath);
		yaml_event_delete(&ev);
		if (err)
			return err;
	}
}

/* ev is the node's first event (owned by the caller). */
static int read_node(struct reader *r, yaml_event_t *ev, const char *path, int depth, json_t **out)
{
	const yaml_char_t *anchor = NULL;
	json_t *v;
	int err;

	if (depth > YAMLJSON_MAX_DEPTH)
		return fail(r, &ev->start_mark, "nesting deeper than %s levels", "64");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(r, &ev->start_mark, "aliases (*%s) are not supported",
			    (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	default:
		return fail(r, &ev->start_mark, "%s", "unexpected YAML event");
	}
	if (anchor)
		return fail(r, &ev->start_mark, "anchors (&%s) are not supported",
			    (const char *)anchor);
	if (ev->type == YAML_SCALAR_EVENT)
		return read_scalar(r, ev, out);

	v = ev->type == YAML_MAPPING_START_EVENT ? json_object() : json_array();
	if (!v)
		return -ENOMEM;
	if (ev->type == YAML_MAPPING_START_EVENT)
		err = read_mapping(r, path, depth, v);
	else
		err = read_sequence(r, path, depth, v);
	if (err) {
		json_decref(v);
		return err;
	}
	*out = v;
	return 0;
}

static int read_document(struct reader *r, struct yaml_doc *doc)
{
	yaml_event_t ev;
	json_t *v = NULL;
	int err;

	r->lines = json_object();
	if (!r->lines)
		return -ENOMEM;
	err = next_event(r, &ev);
	if (!err) {
		err = read_node(r, &ev, "", 1, &v);
		yaml_event_delete(&ev);
	}
	if (!err)
		err = next_event(r, &ev);
	if (!err) {
		if (ev.type != YAML_DOCUMENT_END_EVENT)
			err = fail(r, &ev.start_mark, "%s", "expected the end of the document");
		yaml_event_delete(&ev);
	}
	if (err) {
		json_decref(v);
		json_decref(r->lines);
		r->lines = NULL;
		return err;
	}
	doc->value = v;
	doc->lines = r->lines;
	r->lines = NULL;
	return 0;
}

void yaml_docs_free(struct yaml_docs *docs)
{
	for (size_t i = 0; i < docs->n; i++) {
		json_decref(docs->docs[i].value);
		json_decref(docs->docs[i].lines);
	}
	free(docs->docs);
	docs->docs = NULL;
	docs->n = 0;
}

int yaml_parse_docs(const char *buf, size_t len, struct yaml_docs *out, char *err, size_t errlen)
{
	struct yaml_docs docs = {0};
	struct reader r = {.err = err, .errlen = errlen};
	bool done = false;
	int ret = 0;

	if (!yaml_parser_initialize(&r.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)buf, len);
	while (!done && !ret) {
		yaml_event_t ev;
		struct yaml_doc *grown;

		ret = next_event(&r, &ev);
		if (ret)
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs.n >= YAMLJSON_MAX_DOCS) {
				ret = fail(&r, &ev.start_mark, "more than %s documents", "1024");
				break;
			}
			grown = realloc(docs.docs, (docs.n + 1) * sizeof(*grown));
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			docs.docs = grown;
			docs.docs[docs.n].line = (int)ev.start_mark.line + 1;
			ret = read_document(&r, &docs.docs[docs.n]);
			if (!ret)
				docs.n++;
			break;
		default:
			ret = fail(&r, &ev.start_mark, "%s", "unexpected YAML event");
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&r.parser);
	if (ret) {
		yaml_docs_free(&docs);
		return ret;
	}
	*out = docs;
	return 0;
}

/* Emitting */

static int emit_scalar(yaml_emitter_t *e, const char *s, size_t len, bool typed_plain)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	if (!typed_plain) {
		/* A string that would read back as null/bool/number must be quoted. */
		char why[160];
		json_t *probe = yaml_plain_scalar(s, len, why, sizeof(why));

		if (!probe || !json_is_string(probe))
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		json_decref(probe);
	}
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1,
					  style) ||
	    !yaml_emitter_emit(e, &ev))
		return -EIO;
	return 0;
}

static int emit_value(yaml_emitter_t *e, const json_t *v)
{
	yaml_event_t ev;
	char num[64];
	int err;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *child;
		bool empty = json_object_size(v) == 0;

		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 empty ? YAML_FLOW_MAPPING_STYLE
							       : YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return -EIO;
		json_object_foreach((json_t *)v, key, child)
		{
			err = emit_scalar(e, key, strlen(key), false);
			if (!err)
				err = emit_value(e, child);
			if (err)
				return err;
		}
		if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
			return -EIO;
		return 0;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *child;
		bool empty = json_array_size(v) == 0;

		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  empty ? YAML_FLOW_SEQUENCE_STYLE
								: YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return -EIO;
		json_array_foreach(v, i, child)
		{
			err = emit_value(e, child);
			if (err)
				return err;
		}
		if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
			return -EIO;
		return 0;
	}
	case JSON_STRING:
		return emit_scalar(e, json_string_value(v), json_string_length(v), false);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(e, num, strlen(num), true);
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		if (!strpbrk(num, ".eE"))
			strcat(num, ".0");
		return emit_scalar(e, num, strlen(num), true);
	case JSON_TRUE:
		return emit_scalar(e, "true", 4, true);
	case JSON_FALSE:
		return emit_scalar(e, "false", 5, true);
	case JSON_NULL:
	default:
		return emit_scalar(e, "null", 4, true);
	}
}

int yaml_emit(FILE *f, const json_t *v)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int err = -EIO;

	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output_file(&e, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&e, &ev))
		goto cleanup;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&e, &ev))
		goto cleanup;
	err = emit_value(&e, v);
	if (err)
		goto cleanup;
	err = -EIO;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&e, &ev))
		goto cleanup;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&e, &ev))
		goto cleanup;
	if (!yaml_emitter_flush(&e))
		goto cleanup;
	err = 0;
cleanup:
	yaml_emitter_delete(&e);
	return err;
}

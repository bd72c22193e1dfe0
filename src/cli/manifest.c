/* SPDX-License-Identifier: MIT */
#include "manifest.h"

#include "kubevirt.h"
#include "manifest_doc.h"
#include "yamljson.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_list(const char *key, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(key, *allowed) == 0)
			return true;
	return false;
}

/* godwit/v1 objects: metadata.name checked, spec passed through for the server to check. */
static int map_godwit(const struct manifest_kind *mk, const json_t *doc, struct manifest_doc *ctx)
{
	static const char *const top_fields[] = {"apiVersion", "kind",	 "metadata",
						 "spec",       "status", NULL};
	static const char *const meta_fields[] = {"name", "revision", "created", NULL};
	const char *key, *name;
	json_t *v, *meta, *spec, *body;

	json_object_foreach((json_t *)doc, key, v)
	{
		if (!in_list(key, top_fields))
			return manifest_doc_error(ctx, key,
						  "unknown field (expected apiVersion, kind, "
						  "metadata, spec)");
	}
	meta = json_object_get(doc, "metadata");
	if (!json_is_object(meta))
		return manifest_doc_error(ctx, meta ? "metadata" : NULL, "%s",
					  meta ? "must be a mapping" : "metadata.name is missing");
	json_object_foreach(meta, key, v)
	{
		if (!in_list(key, meta_fields)) {
			char path[128];

			snprintf(path, sizeof(path), "metadata.%.100s", key);
			return manifest_doc_error(ctx, path, "unknown field (expected name)");
		}
	}
	v = json_object_get(meta, "name");
	if (!v)
		return manifest_doc_error(ctx, "metadata", "metadata.name is missing");
	name = json_string_value(v);
	if (!name || !object_name_valid(name))
		return manifest_doc_error(ctx, "metadata.name",
					  "'%.80s' is not a valid name (1-63 of a-z, 0-9, '-'; "
					  "starts and ends alphanumeric)",
					  name ? name : "(not a string)");
	spec = json_object_get(doc, "spec");
	if (spec && !json_is_object(spec))
		return manifest_doc_error(ctx, "spec", "must be a mapping");

	body = kind_object_new(kind_of(mk->target), name, spec ? json_incref(spec) : json_object());
	if (!body)
		return -ENOMEM;
	return manifest_doc_append(ctx, mk->target, body);
}

/* Supported (apiVersion, kind) pairs; kind NULL: the target's (lib/kinds.h). */
static const struct manifest_kind manifest_kinds[] = {
    {API_VERSION, NULL, map_godwit, &kind_table[KIND_NETWORK]},
    {API_VERSION, NULL, map_godwit, &kind_table[KIND_PORT]},
    {API_VERSION, NULL, map_godwit, &kind_table[KIND_VM]},
    {"kubevirt.io/v1", "VirtualMachine", kubevirt_map_vm, &kind_table[KIND_VM]},
};

static const char *mk_kind(const struct manifest_kind *mk)
{
	return mk->kind ? mk->kind : mk->target->name;
}

static int supported_list(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(manifest_kinds) / sizeof(manifest_kinds[0]); i++) {
		int n = snprintf(buf + off, len - off, "%s%s %s", i ? ", " : "",
				 manifest_kinds[i].api_version, mk_kind(&manifest_kinds[i]));

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
	return 0;
}

static int map_document(struct manifest_doc *ctx, const json_t *doc)
{
	const char *api_version, *kind;
	char supported[256];

	if (!json_is_object(doc))
		return manifest_doc_error(ctx, NULL, "expected a mapping (an object), got %s",
					  json_is_array(doc) ? "a list" : "a scalar");
	api_version = json_string_value(json_object_get(doc, "apiVersion"));
	kind = json_string_value(json_object_get(doc, "kind"));
	if (!api_version)
		return manifest_doc_error(ctx, "apiVersion", "missing or not a string");
	if (!kind)
		return manifest_doc_error(ctx, "kind", "missing or not a string");
	for (size_t i = 0; i < sizeof(manifest_kinds) / sizeof(manifest_kinds[0]); i++) {
		const struct manifest_kind *mk = &manifest_kinds[i];

		if (strcmp(mk->api_version, api_version) == 0 && strcmp(mk_kind(mk), kind) == 0)
			return mk->map(mk, doc, ctx);
	}
	supported_list(supported, sizeof(supported));
	return manifest_doc_error(ctx, "kind", "%.60s %.60s is not supported (supported: %s)",
				  api_version, kind, supported);
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		json_decref(m->objs[i].body);
	free(m->objs);
	json_decref(m->lines_keep);
	json_decref(m->warnings);
	m->objs = NULL;
	m->n = 0;
	m->lines_keep = NULL;
	m->warnings = NULL;
}

static bool looks_like_json(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)buf[i]))
			continue;
		return buf[i] == '{' || buf[i] == '[';
	}
	return false;
}

/* Parses JSON input as documents (an array = one document per element). */
static int parse_json_docs(const char *buf, size_t len, struct yaml_docs *out, char *err,
			   size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	struct yaml_docs docs = {0};
	size_t n;

	if (!root) {
		snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
		return -EINVAL;
	}
	n = json_is_array(root) ? json_array_size(root) : 1;
	docs.docs = calloc(n ? n : 1, sizeof(*docs.docs));
	if (!docs.docs) {
		json_decref(root);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		docs.docs[i].value =
		    json_incref(json_is_array(root) ? json_array_get(root, i) : root);
		docs.docs[i].lines = NULL;
		docs.docs[i].line = 0;
	}
	docs.n = n;
	json_decref(root);
	*out = docs;
	return 0;
}

int manifest_parse(const char *buf, size_t len, struct manifest *out, char *err, size_t errlen)
{
	struct manifest m = {0};
	struct yaml_docs docs = {0};
	int ret;

	if (looks_like_json(buf, len)) {
		ret = parse_json_docs(buf, len, &docs, err, errlen);
		/* YAML flow style also starts with '{': fall back, keep the JSON error. */
		if (ret == -EINVAL) {
			char yerr[16];

			if (yaml_parse_docs(buf, len, &docs, yerr, sizeof(yerr)) == 0)
				ret = 0;
		}
	} else {
		ret = yaml_parse_docs(buf, len, &docs, err, errlen);
	}
	if (ret)
		return ret;

	m.lines_keep = json_array();
	if (!m.lines_keep) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < docs.n; i++) {
		struct manifest_doc ctx = {
		    .m = &m,
		    .lines = docs.docs[i].lines,
		    .index = (int)i + 1,
		    .err = err,
		    .errlen = errlen,
		};

		if (json_is_null(docs.docs[i].value))
			continue; /* an empty document, e.g. a trailing "---" */
		if (ctx.lines && json_array_append(m.lines_keep, ctx.lines)) {
			ret = -ENOMEM;
			goto cleanup;
		}
		ret = map_document(&ctx, docs.docs[i].value);
		if (ret)
			goto cleanup;
	}
	if (m.n == 0) {
		snprintf(err, errlen, "no objects found (expected apiVersion/kind documents)");
		ret = -EINVAL;
		goto cleanup;
	}
	*out = m;
	m = (struct manifest){0};
cleanup:
	manifest_free(&m);
	yaml_docs_free(&docs);
	return ret;
}

int manifest_update_body(const json_t *desired, const json_t *stored, json_t **put)
{
	const json_t *want = json_object_get(desired, "spec");
	const json_t *have = json_object_get(stored, "spec");
	const json_t *rev = json_object_get(json_object_get(stored, "metadata"), "revision");
	const char *key;
	json_t *v, *body, *spec;
	bool same = true;

	json_object_foreach((json_t *)want, key, v)
	{
		if (!json_equal(v, json_object_get(have, key))) {
			same = false;
			break;
		}
	}
	if (same) {
		*put = NULL;
		return 0;
	}
	body = json_deep_copy(desired);
	spec = json_is_object(have) ? json_deep_copy(have) : json_object();
	if (!body || !spec || json_object_update(spec, (json_t *)want) ||
	    json_object_set(body, "spec", spec) ||
	    (rev &&
	     json_object_set(json_object_get(body, "metadata"), "revision", (json_t *)rev))) {
		json_decref(body);
		json_decref(spec);
		return -ENOMEM;
	}
	json_decref(spec);
	*put = body;
	return 0;
}

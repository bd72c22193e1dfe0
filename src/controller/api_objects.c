/* SPDX-License-Identifier: MIT */
#include "api_objects.h"
#include "lib/addr.h"
#include "lib/phases.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int api_error_set(struct api_error *err, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

json_t *api_error_json(const struct api_error *err)
{
	json_t *j = json_pack("{s:s}", "error", err->message);

	if (j && err->field[0])
		json_object_set_new(j, "field", json_string(err->field));
	return j;
}

int api_body_decode(const char *body, size_t len, json_t **out, struct api_error *err)
{
	json_error_t jerr;
	json_t *j;

	if (len > API_MAX_BODY)
		return api_error_set(err, 413, NULL, "body is larger than %d bytes", API_MAX_BODY);
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return api_error_set(err, 400, NULL, "body is not JSON: %s at line %d column %d",
				     jerr.text, jerr.line, jerr.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return api_error_set(err, 400, NULL, "body is not a JSON object");
	}
	*out = j;
	return 0;
}

const char *api_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

int api_check_fields(const json_t *obj, const char *prefix, const char *const *allowed,
		     struct api_error *err)
{
	const char *key;
	json_t *value;
	char field[64];

	json_object_foreach((json_t *)obj, key, value)
	{
		bool known = false;

		for (size_t i = 0; allowed[i]; i++)
			known = known || strcmp(key, allowed[i]) == 0;
		if (!known) {
			snprintf(field, sizeof(field), "%s%s%.40s", prefix, prefix[0] ? "." : "",
				 key);
			return api_error_set(err, 400, field, "unknown field \"%s%s%.200s\"",
					     prefix, prefix[0] ? "." : "", key);
		}
	}
	return 0;
}

int api_expect_type(const json_t *j, json_type type, const char *field, struct api_error *err)
{
	static const char *const names[] = {
	    [JSON_OBJECT] = "an object",   [JSON_ARRAY] = "an array", [JSON_STRING] = "a string",
	    [JSON_INTEGER] = "an integer", [JSON_REAL] = "a number",  [JSON_TRUE] = "a boolean",
	};

	if (json_typeof(j) == type || (type == JSON_TRUE && json_is_boolean(j)))
		return 0;
	return api_error_set(err, 400, field, "%s: expected %s, got %s", field, names[type],
			     api_type_name(j));
}

int api_check_object(const json_t *j, const char *field, const char *const *allowed,
		     struct api_error *err)
{
	int r = api_expect_type(j, JSON_OBJECT, field ? field : "body", err);

	return r < 0 ? r : api_check_fields(j, field ? field : "", allowed, err);
}

int api_require(const json_t *obj, const char *key, const char *field, struct api_error *err)
{
	if (json_object_get(obj, key))
		return 0;
	return api_error_set(err, 400, field, "%s is required", field);
}

int api_get_string(const json_t *obj, const char *key, const char *field, const char **out,
		   struct api_error *err)
{
	json_t *j = json_object_get(obj, key);
	int r;

	*out = NULL;
	if (!j)
		return 0;
	r = api_expect_type(j, JSON_STRING, field, err);
	if (r < 0)
		return r;
	*out = json_string_value(j);
	return 0;
}

int api_get_name(const json_t *obj, const char *key, const char *field, const char *what,
		 const char **out, struct api_error *err)
{
	int r = api_get_string(obj, key, field, out, err);

	if (r < 0)
		return r;
	if (*out && !object_name_valid(*out))
		return api_error_set(err, 400, field, "%s: \"%.64s\" is not %s", field, *out, what);
	return 0;
}

int api_get_ipv4(const json_t *obj, const char *key, const char *field, const char **text,
		 uint32_t *addr, struct api_error *err)
{
	const char *v;
	int r = api_get_string(obj, key, field, &v, err);

	if (r < 0)
		return r;
	if (v && addr_ipv4_parse(v, addr) < 0)
		return api_error_set(err, 400, field, "%s: \"%.64s\" is not an IPv4 address", field,
				     v);
	*text = v;
	return 0;
}

int api_copy_name(const json_t *obj, const char *key, const char *field, const char *what,
		  json_t *out, struct api_error *err)
{
	const char *v;
	int r = api_get_name(obj, key, field, what, &v, err);

	if (r < 0 || !v)
		return r;
	return json_object_set_new(out, key, json_string(v)) < 0 ? -ENOMEM : 0;
}

int api_get_nonnegative(const json_t *obj, const char *key, const char *field, const json_t **out,
			struct api_error *err)
{
	const json_t *v = json_object_get(obj, key);
	int r;

	if (v) {
		r = api_expect_type(v, JSON_INTEGER, field, err);
		if (r < 0)
			return r;
		if (json_integer_value(v) < 0)
			return api_error_set(err, 400, field, "%s: must not be negative", field);
	}
	*out = v;
	return 0;
}

int api_get_choice(const json_t *obj, const char *key, const char *field,
		   const char *const *choices, json_t *out, struct api_error *err)
{
	char list[128] = "";
	size_t used = 0;
	const char *v;
	int r;

	r = api_get_string(obj, key, field, &v, err);
	if (r < 0)
		return r;
	if (!v)
		v = choices[0];
	for (size_t i = 0; choices[i]; i++) {
		if (strcmp(v, choices[i]) == 0)
			return json_object_set_new(out, key, json_string(v)) < 0 ? -ENOMEM : 0;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 i ? "|" : "", choices[i]);
	}
	return api_error_set(err, 400, field, "%s: \"%.64s\" is not one of %s", field, v, list);
}

int api_get_strategy(const json_t *spec, bool fill_default, json_t *out, struct api_error *err)
{
	if (!fill_default && !json_object_get(spec, "strategy"))
		return 0;
	return api_get_choice(spec, "strategy", "spec.strategy", strategy_names, out, err);
}

int api_get_int(const json_t *obj, const char *key, const char *field, json_int_t lo, json_int_t hi,
		json_int_t def, json_t *out, struct api_error *err)
{
	json_t *j = json_object_get(obj, key);
	json_int_t v = def;
	int r;

	if (j) {
		r = api_expect_type(j, JSON_INTEGER, field, err);
		if (r < 0)
			return r;
		v = json_integer_value(j);
		if (v < lo || v > hi)
			return api_error_set(err, 400, field, "%s: %lld is out of range %lld..%lld",
					     field, (long long)v, (long long)lo, (long long)hi);
	}
	return json_object_set_new(out, key, json_integer(v)) < 0 ? -ENOMEM : 0;
}

int api_get_bool(const json_t *obj, const char *key, const char *field, bool def, json_t *out,
		 struct api_error *err)
{
	json_t *j = json_object_get(obj, key);
	int r;

	if (j && (r = api_expect_type(j, JSON_TRUE, field, err)) < 0)
		return r;
	return json_object_set_new(out, key, json_boolean(j ? json_is_true(j) : def)) < 0 ? -ENOMEM
											  : 0;
}

/* metadata.labels / .annotations: string -> string, at most max bytes in all; copied to out. */
static int string_map(const json_t *meta, const char *key, size_t max, json_t *out,
		      struct api_error *err)
{
	const json_t *m = json_object_get(meta, key);
	size_t total = 0;
	const char *k;
	json_t *v;
	int r;

	if (!m)
		return 0;
	r = api_expect_type(m, JSON_OBJECT, key, err);
	if (r < 0)
		return r;
	json_object_foreach((json_t *)m, k, v)
	{
		if (!k[0] || strlen(k) > API_KEY_MAX)
			return api_error_set(err, 400, "metadata",
					     "metadata.%s: key \"%.64s\" is not "
					     "1..%d characters",
					     key, k, API_KEY_MAX);
		if (!json_is_string(v))
			return api_error_set(err, 400, "metadata",
					     "metadata.%s.%.64s: expected a "
					     "string, got %s",
					     key, k, api_type_name(v));
		total += strlen(k) + json_string_length(v);
	}
	if (total > max)
		return api_error_set(err, 400, "metadata", "metadata.%s: %zu bytes, more than %zu",
				     key, total, max);
	return json_object_size(m) ? (json_object_set(out, key, (json_t *)m) < 0 ? -ENOMEM : 0) : 0;
}

static int validate_metadata(const json_t *in, const char *path_name, json_t *out,
			     const char **name, struct api_error *err)
{
	static const char *const allowed[] = {
	    "name", "revision", "created", "creationTimestamp", "labels", "annotations", NULL};
	json_t *meta = json_object_get(in, "metadata");
	const json_t *rev;
	const char *n = NULL;
	int r;

	if (meta) {
		r = api_check_object(meta, "metadata", allowed, err);
		if (r < 0)
			return r;
		r = api_get_string(meta, "name", "metadata.name", &n, err);
		if (r < 0)
			return r;
		r = api_get_nonnegative(meta, "revision", "metadata.revision", &rev, err);
		if (r < 0)
			return r;
		if (rev)
			json_object_set_new(out, "revision", json_integer(json_integer_value(rev)));
		if (json_object_get(meta, "created") &&
		    (r = api_expect_type(json_object_get(meta, "created"), JSON_INTEGER,
					 "metadata.created", err)) < 0)
			return r;
		r = string_map(meta, "labels", API_LABELS_MAX, out, err);
		if (r == 0)
			r = string_map(meta, "annotations", API_ANNOTATIONS_MAX, out, err);
		if (r < 0)
			return r;
	}
	if (!n && !path_name)
		return api_error_set(err, 400, "metadata.name", "metadata.name is required");
	if (n && path_name && strcmp(n, path_name) != 0)
		return api_error_set(err, 400, "metadata.name",
				     "metadata.name: \"%.64s\" does not match the path (\"%s\")", n,
				     path_name);
	if (!n)
		n = path_name;
	if (!object_name_valid(n))
		return api_error_set(err, 400, "metadata.name",
				     "metadata.name: \"%.64s\" is not a DNS label "
				     "([a-z0-9]([-a-z0-9]*[a-z0-9])?, 1-63 chars)",
				     n);
	json_object_set_new(out, "name", json_string(n));
	*name = json_string_value(json_object_get(out, "name"));
	return 0;
}

int api_object_decode(enum kind kind, api_spec_fn *spec_fn, const json_t *in, const char *path_name,
		      json_t **out, struct api_error *err)
{
	static const char *const allowed[] = {"apiVersion", "kind",   "metadata",
					      "spec",	    "status", NULL};
	json_t *obj = NULL, *meta = NULL, *spec_out = NULL, *spec;
	const char *s, *name = NULL;
	int r;

	r = api_check_object(in, NULL, allowed, err);
	if (r < 0)
		return r;
	r = api_get_string(in, "apiVersion", "apiVersion", &s, err);
	if (r < 0)
		return r;
	if (s && strcmp(s, API_VERSION) != 0)
		return api_error_set(err, 400, "apiVersion",
				     "apiVersion: \"%.64s\" is not supported (use \"%s\")", s,
				     API_VERSION);
	r = api_get_string(in, "kind", "kind", &s, err);
	if (r < 0)
		return r;
	if (s && strcmp(s, kind_str(kind)) != 0)
		return api_error_set(err, 400, "kind",
				     "kind: \"%.64s\" does not match the path (/v1/%s takes %s)", s,
				     kind_plural(kind), kind_str(kind));

	meta = json_object();
	spec_out = json_object();
	if (!meta || !spec_out) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = validate_metadata(in, path_name, meta, &name, err);
	if (r < 0)
		goto cleanup;

	spec = json_object_get(in, "spec");
	r = api_require(in, "spec", "spec", err);
	if (r == 0)
		r = api_expect_type(spec, JSON_OBJECT, "spec", err);
	if (r < 0)
		goto cleanup;
	r = spec_fn(spec, name, spec_out, err);
	if (r < 0)
		goto cleanup;

	obj = json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", API_VERSION, "kind", kind_str(kind),
			"metadata", meta, "spec", spec_out);
	if (!obj) {
		r = -ENOMEM;
		goto cleanup;
	}
	*out = obj;
	r = 0;
cleanup:
	json_decref(meta);
	json_decref(spec_out);
	return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * api_objects: what every API object of docs/API.md shares: errors for the
 * client, the request body, the envelope (apiVersion, kind, metadata) and the
 * readers of spec fields each kind's rules are built of. Each kind's own
 * spec rules are its row of the kind table (kind.h, kind_<kind>.c).
 *
 * Pure functions from JSON to JSON (or an error naming the field): no I/O, no
 * store. A validated object is normalised: the envelope reduced to apiVersion,
 * kind, metadata {name[, revision]} and spec with every default filled in,
 * except the values only the registry can assign (spec.vni, spec.mac,
 * spec.ipv4, spec.ifname), which are kept only when the client gave them.
 */
#ifndef GODWIT_CONTROLLER_API_OBJECTS_H
#define GODWIT_CONTROLLER_API_OBJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/kinds.h"

#define API_MAX_BODY (1024 * 1024)
/* metadata.labels and .annotations (docs/API.md), as Kubernetes bounds them. */
#define API_KEY_MAX	    253
#define API_LABELS_MAX	    (16 * 1024)
#define API_ANNOTATIONS_MAX (256 * 1024)

#define MIGRATION_TIMEOUT_DEFAULT_S 120
#define MIGRATION_TIMEOUT_MAX_S	    3600

/* VM spec limits (docs/VM.md). */
#define VM_USER_DATA_BASE64_MAX 2048 /* bytes of base64 text */
#define VM_USER_DATA_TEXT_MAX	1536
#define VM_IMAGE_MAX		256

/* An error for the client: HTTP status, the field to blame ("" if none), text. */
struct api_error {
	int status;
	char field[64];
	char message[512];
};

/* Fills err and returns -EINVAL (so callers can `return api_error_set(...)`). */
int api_error_set(struct api_error *err, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* {"error": message[, "field": field]} */
json_t *api_error_json(const struct api_error *err);

/* Parses a request body; it must be one JSON object. */
int api_body_decode(const char *body, size_t len, json_t **out, struct api_error *err);

/*
 * Validates and normalises an object of `kind` through its row of the kind
 * table (kind_table.c). path_name is the name from the URL (PUT) or NULL
 * (POST); when given, metadata.name may be absent and must otherwise match.
 */
int api_object_validate(enum kind kind, const json_t *in, const char *path_name, json_t **out,
			struct api_error *err);

/*
 * A kind's spec rules: the spec of a body (an object) -> the normalised spec
 * in out, every default filled in. name is the object's (validated) name.
 */
typedef int api_spec_fn(const json_t *spec, const char *name, json_t *out, struct api_error *err);

/* api_object_validate with the spec rules given: the envelope, then spec_fn. */
int api_object_decode(enum kind kind, api_spec_fn *spec_fn, const json_t *in, const char *path_name,
		      json_t **out, struct api_error *err);

/*
 * Validates a node status report {"applied_revision": R, "counters": {...},
 * "ports": {NAME: {...}}, "drops_standby": N, "vms": {NAME: {...}}}
 * (docs/MIGRATION.md, docs/VM.md; "ports", "drops_standby" and "vms" are kept
 * as given when present, checked for type only). In kind_node.c.
 */
int api_node_status_validate(const json_t *in, json_t **out, struct api_error *err);

/*
 * The readers of fields. key is the member of obj, field its name for the
 * client ("spec.cidr"). Errors are 400s naming field. An optional value that
 * is absent leaves *out NULL (or puts the default in out).
 */
const char *api_type_name(const json_t *j); /* "object", "string", ... */
/* Rejects any key of obj not in allowed (NULL-terminated); prefix names obj. */
int api_check_fields(const json_t *obj, const char *prefix, const char *const *allowed,
		     struct api_error *err);
/* type JSON_TRUE stands for either boolean. */
int api_expect_type(const json_t *j, json_type type, const char *field, struct api_error *err);
/* An object with no key but allowed ones; field names it (NULL: the body). */
int api_check_object(const json_t *j, const char *field, const char *const *allowed,
		     struct api_error *err);
/* obj.key must be there ("spec.cidr is required"); its type is the reader's. */
int api_require(const json_t *obj, const char *key, const char *field, struct api_error *err);
int api_get_string(const json_t *obj, const char *key, const char *field, const char **out,
		   struct api_error *err);
/* A string that must be an object name; what: "a valid name", "a node name". */
int api_get_name(const json_t *obj, const char *key, const char *field, const char *what,
		 const char **out, struct api_error *err);
/* A string that must be an IPv4 address: *text, and *addr when given. */
int api_get_ipv4(const json_t *obj, const char *key, const char *field, const char **text,
		 uint32_t *addr, struct api_error *err);
/* api_get_name() into out[key] when given. */
int api_copy_name(const json_t *obj, const char *key, const char *field, const char *what,
		  json_t *out, struct api_error *err);
/* An optional integer obj.key that must not be negative: *out (NULL when absent). */
int api_get_nonnegative(const json_t *obj, const char *key, const char *field, const json_t **out,
			struct api_error *err);
/* One of choices (NULL-terminated) into out[key]; absent: choices[0]. */
int api_get_choice(const json_t *obj, const char *key, const char *field,
		   const char *const *choices, json_t *out, struct api_error *err);
/* An integer in lo..hi into out[key]; absent: def. */
int api_get_int(const json_t *obj, const char *key, const char *field, json_int_t lo, json_int_t hi,
		json_int_t def, json_t *out, struct api_error *err);
/* A boolean into out[key]; absent: def. */
int api_get_bool(const json_t *obj, const char *key, const char *field, bool def, json_t *out,
		 struct api_error *err);
/*
 * spec.strategy (lib/phases.h strategy_names) into out; absent: the default
 * strategy when fill_default, else left out.
 */
int api_get_strategy(const json_t *spec, bool fill_default, json_t *out, struct api_error *err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * api_objects: decoding and validation of the API objects of docs/API.md.
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

#include "lib/kinds.h"

#define API_VERSION  "godwit/v1"
#define API_MAX_BODY (1024 * 1024)

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
 * Validates and normalises an object of `kind`. path_name is the name from the
 * URL (PUT) or NULL (POST); when given, metadata.name may be absent and must
 * otherwise match.
 */
int api_object_validate(enum kind kind, const json_t *in, const char *path_name, json_t **out,
			struct api_error *err);

/*
 * Validates a node status report {"applied_revision": R, "counters": {...},
 * "ports": {NAME: {...}}, "drops_standby": N, "vms": {NAME: {...}}}
 * (docs/MIGRATION.md, docs/VM.md; "ports", "drops_standby" and "vms" are kept
 * as given when present, checked for type only).
 */
int api_node_status_validate(const json_t *in, json_t **out, struct api_error *err);

#endif

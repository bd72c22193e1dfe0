/* SPDX-License-Identifier: MIT */
/*
 * kinds: the API's object kinds and the rule for object names, shared by the
 * controller (paths and bodies it serves), the agent (what it caches from a
 * watch) and the CLI (the words a user types, what it prints).
 *
 * One row per kind in kind_table[], indexed by enum kind:
 *   name      "Network"   the `kind` of a body and of a watch event
 *   plural    "networks"  the path segment (/v1/networks)
 *   singular  "network"   as the CLI prints a reference (network/blue)
 *   aliases               the other words the CLI accepts (net, nets)
 * Adding a kind is one enum value and one row; tests/unit/lib/test_kinds.c checks every row
 * is complete and every word maps back to its own kind.
 *
 * Every object is {"apiVersion": API_VERSION, "kind", "metadata": {"name",
 * ...}, "spec": {...}, "status"}; kind_object_new() makes the first four.
 *
 * An object name (every kind; also a Node's name given to an agent) is a DNS
 * label: 1..63 of [a-z0-9-], not starting or ending with '-'.
 */
#ifndef GODWIT_LIB_KINDS_H
#define GODWIT_LIB_KINDS_H

#include <jansson.h>
#include <stdbool.h>

#define API_VERSION "godwit/v1"

enum kind {
	KIND_NETWORK,
	KIND_PORT,
	KIND_NODE,
	KIND_MIGRATION,
	KIND_VM,
	KIND_EVENT, /* written by the controller only (controller/recorder.h) */
	KIND__COUNT,
};

#define KIND_ALIASES_MAX 4
#define OBJECT_NAME_MAX	 63

struct kind_info {
	const char *name;
	const char *plural;
	const char *singular;
	const char *aliases[KIND_ALIASES_MAX]; /* NULL-terminated unless full */
};

extern const struct kind_info kind_table[KIND__COUNT];

const char *kind_str(enum kind k);    /* "Network" */
const char *kind_plural(enum kind k); /* "networks" */
/* "Network" -> KIND_NETWORK; -EINVAL when no kind has that name (or NULL). */
int kind_from_str(const char *name, enum kind *out);
/* "networks" -> KIND_NETWORK; -EINVAL otherwise. */
int kind_from_plural(const char *plural, enum kind *out);
/* A word of the CLI: the name, the plural, the singular or an alias ("net",
 * "Network", "networks") -> its row; NULL when none. */
const struct kind_info *kind_lookup(const char *word);
/* The enum value of a row of kind_table. */
enum kind kind_of(const struct kind_info *ki);

/* {"apiVersion", "kind", "metadata": {"name": name}, "spec": spec}: a body to
 * create. Takes spec's reference, also on failure; NULL when out of memory or
 * spec is NULL (a json_pack() that failed). */
json_t *kind_object_new(enum kind k, const char *name, json_t *spec);

/* The string at an object's part.key ("spec", "network"), or NULL. */
static inline const char *obj_str(const json_t *obj, const char *part, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, part), key));
}

static inline const char *obj_name(const json_t *obj)
{
	return obj_str(obj, "metadata", "name");
}

static inline json_t *obj_spec(const json_t *obj)
{
	return json_object_get(obj, "spec");
}

static inline json_t *obj_status(const json_t *obj)
{
	return json_object_get(obj, "status");
}

static inline const char *obj_spec_str(const json_t *obj, const char *key)
{
	return obj_str(obj, "spec", key);
}

/* The object name rule above (false for NULL). */
bool object_name_valid(const char *name);

#endif

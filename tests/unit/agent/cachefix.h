/* SPDX-License-Identifier: MIT */
/* A cache filled from JSON texts, for the agent's unit tests. */
#ifndef GODWIT_TESTS_CACHEFIX_H
#define GODWIT_TESTS_CACHEFIX_H

#include <jansson.h>
#include <stddef.h>

#include "agent/cache.h"

/* Fills c (initialised here) with the objects, each {"kind", "metadata": {"name"}, ...}. */
static inline int cachefix_load(struct cache *c, const char *const *objects, size_t n)
{
	if (cache_init(c) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_loads(objects[i], 0, NULL);
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name =
		    json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));

		if (!o || !kind || !name)
			return -1;
		json_object_set_new(c->objs[cache_kind_from_name(kind)], name, o);
	}
	return 0;
}

#endif

/* SPDX-License-Identifier: MIT */
#include "agent/cache.h"
#include "lib/kinds.h"

#include <errno.h>
#include <string.h>

int cache_init(struct cache *c)
{
	memset(c, 0, sizeof(*c));
	for (int k = 0; k < CACHE__KINDS; k++) {
		c->objs[k] = json_object();
		if (!c->objs[k]) {
			cache_clear(c);
			return -ENOMEM;
		}
	}
	return 0;
}

void cache_clear(struct cache *c)
{
	for (int k = 0; k < CACHE__KINDS; k++) {
		json_decref(c->objs[k]);
		c->objs[k] = NULL;
	}
	c->revision = 0;
}

int cache_copy(const struct cache *src, struct cache *dst)
{
	struct cache tmp = {.revision = src->revision};

	memcpy(tmp.changes, src->changes, sizeof(tmp.changes));
	for (int k = 0; k < CACHE__KINDS; k++) {
		tmp.objs[k] = json_deep_copy(src->objs[k]);
		if (!tmp.objs[k]) {
			cache_clear(&tmp);
			return -ENOMEM;
		}
	}
	*dst = tmp;
	return 0;
}

int cache_kind_from_path(const char *plural)
{
	enum kind k;

	return kind_from_plural(plural, &k) == 0 && k < (enum kind)CACHE__KINDS ? (int)k : -1;
}

int cache_kind_from_name(const char *kind)
{
	enum kind k;

	return kind_from_str(kind, &k) == 0 && k < (enum kind)CACHE__KINDS ? (int)k : -1;
}

const char *cache_kind_path(enum cache_kind kind)
{
	return kind_plural((enum kind)kind);
}

static int json_revision(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int cache_load_list(struct cache *c, enum cache_kind kind, const json_t *reply, uint64_t *revision)
{
	const json_t *items = json_object_get(reply, "items");
	json_t *objs, *item;
	uint64_t rev;
	size_t i;

	if (json_revision(json_object_get(reply, "revision"), &rev) < 0 || !json_is_array(items))
		return -EINVAL;
	objs = json_object();
	if (!objs)
		return -ENOMEM;
	json_array_foreach(items, i, item)
	{
		const char *name = obj_name(item);

		if (!name || !*name || json_object_set(objs, name, item) < 0) {
			json_decref(objs);
			return -EINVAL;
		}
	}
	json_decref(c->objs[kind]);
	c->objs[kind] = objs;
	c->changes[kind]++;
	*revision = rev;
	return 0;
}

int cache_apply_line(struct cache *c, const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type, *name, *kind_name;
	json_t *obj;
	uint64_t rev;
	int kind, r;

	if (!ev)
		return -EINVAL;
	type = json_string_value(json_object_get(ev, "type"));
	if (!type || json_revision(json_object_get(ev, "revision"), &rev) < 0) {
		r = -EINVAL;
		goto cleanup;
	}
	if (strcmp(type, "BOOKMARK") == 0) {
		r = 0;
		goto done;
	}
	if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0 &&
	    strcmp(type, "DELETED") != 0) {
		r = -EINVAL;
		goto cleanup;
	}
	obj = json_object_get(ev, "object");
	kind_name = json_string_value(json_object_get(obj, "kind"));
	name = obj_name(obj);
	if (!json_is_object(obj) || !kind_name || !name || !*name) {
		r = -EINVAL;
		goto cleanup;
	}
	kind = cache_kind_from_name(kind_name);
	if (kind < 0) {
		r = 0; /* other kinds: not the agent's business */
		goto done;
	}
	if (type[0] == 'D') {
		r = json_object_del(c->objs[kind], name) == 0 ? 1 : 0;
	} else {
		if (json_object_set(c->objs[kind], name, obj) < 0) {
			r = -ENOMEM;
			goto cleanup;
		}
		r = 1;
	}
	if (r == 1)
		c->changes[kind]++;
done:
	if (rev > c->revision)
		c->revision = rev;
cleanup:
	json_decref(ev);
	return r;
}

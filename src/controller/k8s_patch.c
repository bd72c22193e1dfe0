/* SPDX-License-Identifier: MIT */
/* JSON merge patch, RFC 7386 section 2 (k8s_patch.h). */
#include "k8s_patch.h"

#include <errno.h>

static json_t *merge(const json_t *target, const json_t *patch, int depth, int *r)
{
	json_t *out, *v, *merged;
	const char *key;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	if (depth > K8S_PATCH_MAX_DEPTH) {
		*r = -E2BIG;
		return NULL;
	}
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (!out)
		return NULL;
	json_object_foreach((json_t *)patch, key, v)
	{
		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		merged = merge(json_object_get(out, key), v, depth + 1, r);
		if (!merged || json_object_set_new(out, key, merged)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

int k8s_merge_patch(const json_t *target, const json_t *patch, json_t **out)
{
	int r = -ENOMEM;
	json_t *m = merge(target, patch, 0, &r);

	if (!m)
		return r;
	*out = m;
	return 0;
}

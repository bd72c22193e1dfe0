/* SPDX-License-Identifier: MIT */
/* The entry points of registry.h: one transaction each, the kinds through their rows. */
#include "registry.h"
#include "kind.h"
#include "kind_network.h"

#include <errno.h>

static const struct kind_ops *ops_of(enum kind kind)
{
	return kind_ops_table[kind];
}

static int decorate(struct registry *reg, enum kind kind, json_t *obj)
{
	const struct kind_ops *ops = ops_of(kind);

	return ops->decorate ? ops->decorate(reg, obj) : 0;
}

static int not_found(enum kind kind, const char *name, struct api_error *err)
{
	return api_error_set(err, 404, NULL, "%s \"%s\" not found", kind_plural(kind), name);
}

/* Commits t and fills *out with obj as a reader sees it. */
static int finish(struct txn *t, enum kind kind, json_t *obj, json_t **out)
{
	int r;

	r = txn_commit(t);
	if (r < 0)
		return r;
	r = decorate(t->reg, kind, obj);
	if (r < 0)
		return r;
	*out = json_incref(obj);
	return 0;
}

static int create_once(struct registry *reg, enum kind kind, const json_t *body, json_t **out,
		       struct api_error *err)
{
	json_t *obj = NULL;
	struct txn t;
	int r;

	r = api_object_validate(kind, body, NULL, &obj, err);
	if (r < 0)
		return r;
	json_object_del(json_object_get(obj, "metadata"), "revision"); /* server-set on create */
	r = txn_begin(&t, reg, kind_ops_table);
	if (r < 0)
		goto cleanup;
	r = txn_create(&t, kind, obj, err);
	if (r < 0) {
		txn_rollback(&t);
		goto cleanup;
	}
	r = finish(&t, kind, obj, out);
cleanup:
	json_decref(obj);
	return r;
}

static int update_once(struct registry *reg, enum kind kind, const char *name, const json_t *body,
		       json_t **out, bool *created, struct api_error *err)
{
	const struct kind_ops *ops = ops_of(kind);
	json_t *obj = NULL, *old = NULL;
	bool changed = false;
	struct txn t;
	int r;

	if (ops->refuse_update)
		return ops->refuse_update(name, err);
	r = api_object_validate(kind, body, name, &obj, err);
	if (r < 0)
		return r;
	r = txn_begin(&t, reg, kind_ops_table);
	if (r < 0)
		goto cleanup;
	r = txn_get(&t, kind, name, &old);
	if (r == -ENOENT && ops->put_creates) {
		json_object_del(json_object_get(obj, "metadata"), "revision");
		r = txn_create(&t, kind, obj, err);
		if (r < 0)
			goto fail;
		*created = true;
		r = finish(&t, kind, obj, out);
		goto cleanup;
	}
	if (r == -ENOENT)
		r = not_found(kind, name, err);
	if (r < 0)
		goto fail;
	r = txn_update(&t, kind, obj, old, body, &changed, err);
	if (r < 0)
		goto fail;
	*created = false;
	if (changed) {
		r = finish(&t, kind, obj, out);
		goto cleanup;
	}
	txn_rollback(&t); /* nothing changed: no revision, no event */
	if ((r = decorate(reg, kind, old)) < 0)
		goto cleanup;
	*out = json_incref(old);
	goto cleanup;
fail:
	txn_rollback(&t);
cleanup:
	json_decref(obj);
	json_decref(old);
	return r;
}

static int delete_once(struct registry *reg, enum kind kind, const char *name, json_t **out,
		       struct api_error *err)
{
	const struct kind_ops *ops = ops_of(kind);
	json_t *old = NULL;
	struct txn t;
	int r;

	r = txn_begin(&t, reg, kind_ops_table);
	if (r < 0)
		return r;
	r = txn_get(&t, kind, name, &old);
	if (r == -ENOENT)
		r = not_found(kind, name, err);
	if (r == 0 && ops->check_delete)
		r = ops->check_delete(&t, old, err);
	if (r == 0)
		r = txn_delete(&t, kind, old, err);
	if (r < 0) {
		txn_rollback(&t);
		goto cleanup;
	}
	r = txn_commit(&t);
	if (r == 0)
		*out = json_incref(old);
cleanup:
	json_decref(old);
	return r;
}

/* Each change again while its commit lost to another controller's (-EAGAIN,
 * store_etcd.c): it is decided anew on what that one wrote. */
int registry_create(struct registry *reg, enum kind kind, const json_t *body, json_t **out,
		    struct api_error *err)
{
	int r, tries = 0;

	do
		r = create_once(reg, kind, body, out, err);
	while (txn_retry(r, &tries));
	return r;
}

int registry_update(struct registry *reg, enum kind kind, const char *name, const json_t *body,
		    json_t **out, bool *created, struct api_error *err)
{
	int r, tries = 0;

	do
		r = update_once(reg, kind, name, body, out, created, err);
	while (txn_retry(r, &tries));
	return r;
}

int registry_delete(struct registry *reg, enum kind kind, const char *name, json_t **out,
		    struct api_error *err)
{
	int r, tries = 0;

	do
		r = delete_once(reg, kind, name, out, err);
	while (txn_retry(r, &tries));
	return r;
}

int registry_get(struct registry *reg, enum kind kind, const char *name, json_t **out,
		 struct api_error *err)
{
	struct store *s = reg->store;
	json_t *obj = NULL;
	int r;

	r = s->ops->get(s, kind_str(kind), name, &obj);
	if (r == -ENOENT)
		return not_found(kind, name, err);
	if (r < 0)
		return r;
	if ((r = decorate(reg, kind, obj)) < 0) {
		json_decref(obj);
		return r;
	}
	*out = obj;
	return 0;
}

int registry_list(struct registry *reg, enum kind kind, json_t **out, struct api_error *err)
{
	struct store *s = reg->store;
	json_t *items = NULL, *item, *res;
	int64_t rev;
	size_t i;
	int r;

	(void)err;
	r = s->ops->list(s, kind_str(kind), &items, &rev);
	if (r < 0)
		return r;
	json_array_foreach(items, i, item)
	{
		r = decorate(reg, kind, item);
		if (r < 0) {
			json_decref(items);
			return r;
		}
	}
	res = json_pack("{s:I, s:s, s:o}", "revision", (json_int_t)rev, "cluster",
			s->ops->cluster_id(s), "items", items);
	if (!res)
		return -ENOMEM;
	*out = res;
	return 0;
}

static int default_network_once(struct registry *reg, const char *cidr, bool *created,
				struct api_error *err)
{
	bool made = false;
	struct txn t;
	int r;

	*created = false;
	if (!cidr)
		return 0;
	r = txn_begin(&t, reg, kind_ops_table);
	if (r < 0)
		return r;
	r = network_create_default(&t, cidr, &made, err);
	if (r < 0) {
		txn_rollback(&t);
		return r;
	}
	r = txn_commit(&t);
	if (r == 0)
		*created = made;
	return r;
}

int registry_default_network(struct registry *reg, const char *cidr, bool *created,
			     struct api_error *err)
{
	int r, tries = 0;

	do
		r = default_network_once(reg, cidr, created, err);
	while (txn_retry(r, &tries));
	return r;
}

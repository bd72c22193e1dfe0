/* SPDX-License-Identifier: MIT */
/* The transaction core of kind.h: written once for every kind. */
#include "kind.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"

static json_t *meta_of(const json_t *obj)
{
	return json_object_get(obj, "metadata");
}

static int64_t max_objects(const struct registry *reg)
{
	return reg->max_objects > 0 ? reg->max_objects : REGISTRY_MAX_OBJECTS;
}

bool txn_retry(int r, int *tries)
{
	unsigned seed = (unsigned)(uintptr_t)tries ^ (unsigned)clock_mono_ns();

	if (r != -EAGAIN || ++*tries >= TXN_TRIES)
		return false;
	usleep((useconds_t)(rand_r(&seed) % (2000 * *tries)) + 100);
	return true;
}

int txn_begin(struct txn *t, struct registry *reg, const struct kind_ops *const *kinds)
{
	int64_t rev;
	int r;

	r = reg->store->ops->begin(reg->store, &rev);
	if (r < 0)
		return r;
	*t = (struct txn){.reg = reg, .store = reg->store, .kinds = kinds, .rev = rev};
	return 0;
}

int txn_commit(struct txn *t)
{
	struct registry *reg = t->reg;
	int r;

	json_decref(t->after);
	t->after = NULL;
	r = t->store->ops->commit(t->store);
	if (r < 0)
		return r;
	if (t->wrote && reg->on_commit)
		reg->on_commit(reg->on_commit_ctx, t->rev);
	return 0;
}

void txn_rollback(struct txn *t)
{
	json_decref(t->after);
	t->after = NULL;
	t->store->ops->rollback(t->store);
}

int txn_validate(struct txn *t, enum kind kind, const json_t *body, const char *path_name,
		 json_t **out, struct api_error *err)
{
	return api_object_decode(kind, t->kinds[kind]->validate, body, path_name, out, err);
}

int txn_get(struct txn *t, enum kind kind, const char *name, json_t **out)
{
	return t->store->ops->get(t->store, kind_str(kind), name, out);
}

int txn_get_ref(struct txn *t, enum kind kind, const char *name, const char *field, json_t **out,
		struct api_error *err)
{
	int r = txn_get(t, kind, name, out);

	if (r == -ENOENT)
		return api_error_set(err, 404, field, "%s: %s \"%s\" does not exist", field,
				     kind_table[kind].singular, name);
	return r;
}

int txn_list(struct txn *t, enum kind kind, json_t **items)
{
	int64_t rev;

	return t->store->ops->list(t->store, kind_str(kind), items, &rev);
}

void txn_stamp(const struct txn *t, json_t *obj)
{
	json_object_set_new(meta_of(obj), "revision", json_integer(t->rev));
}

int txn_put(struct txn *t, enum kind kind, const json_t *obj, const char *type)
{
	int r = t->store->ops->put(t->store, kind_str(kind), obj_name(obj), type, obj);

	if (r == 0)
		t->wrote = true;
	return r;
}

int txn_put_after(struct txn *t, enum kind kind, const json_t *obj)
{
	if (!t->after && !(t->after = json_array()))
		return -ENOMEM;
	return json_array_append_new(t->after, json_pack("[i,O]", (int)kind, obj)) < 0 ? -ENOMEM
										       : 0;
}

/* The writes txn_put_after staged, in order. */
static int put_staged(struct txn *t)
{
	json_t *staged = t->after, *w;
	size_t i;
	int r = 0;

	t->after = NULL;
	json_array_foreach(staged, i, w)
	{
		r = txn_put(t, (enum kind)json_integer_value(json_array_get(w, 0)),
			    json_array_get(w, 1), "MODIFIED");
		if (r < 0)
			break;
	}
	json_decref(staged);
	return r;
}

/* metadata.creationTimestamp: the wall-clock time of the create, RFC 3339 UTC (an AGE). */
static int set_timestamp(json_t *meta)
{
	time_t now = time(NULL);
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&now, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -EINVAL;
	return json_object_set_new(meta, "creationTimestamp", json_string(buf)) < 0 ? -ENOMEM : 0;
}

static bool same_member(const json_t *a, const json_t *b, const char *key)
{
	const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	return (!x && !y) || (x && y && json_equal(x, y));
}

/* 409 when kind has an object of obj's name, 507 when it has too many. */
static int check_room(struct txn *t, enum kind kind, const char *name, struct api_error *err)
{
	const struct kind_ops *ops = t->kinds[kind];
	int64_t n, limit = max_objects(t->reg);
	json_t *existing = NULL;
	int r;

	r = txn_get(t, kind, name, &existing);
	json_decref(existing);
	if (r == 0)
		return api_error_set(err, 409, "metadata.name", "%s \"%s\" already exists",
				     kind_plural(kind), name);
	if (r != -ENOENT)
		return r;
	r = t->store->ops->count(t->store, kind_str(kind), &n);
	if (r < 0)
		return r;
	if (n >= limit)
		return api_error_set(err, 507, NULL, "too many %s (limit %lld)", kind_plural(kind),
				     (long long)limit);
	if (ops->datapath_limit && n >= ops->datapath_limit)
		return api_error_set(
		    err, 507, NULL, "too many %s: every node's datapath holds %lld (its %s)",
		    kind_plural(kind), (long long)ops->datapath_limit, ops->datapath_table);
	return 0;
}

int txn_create(struct txn *t, enum kind kind, json_t *obj, struct api_error *err)
{
	const struct kind_ops *ops = t->kinds[kind];
	json_t *meta = meta_of(obj), *outer = t->after; /* staged by a create around this one */
	int r;

	r = check_room(t, kind, obj_name(obj), err);
	if (r < 0)
		return r;
	json_object_set_new(meta, "revision", json_integer(t->rev));
	json_object_set_new(meta, "created", json_integer(t->rev));
	r = set_timestamp(meta);
	if (r < 0)
		return r;
	t->after = NULL;
	if (ops->create)
		r = ops->create(t, obj, err);
	if (r == 0 && ops->stored_status && !json_object_get(obj, "status") &&
	    json_object_set_new(obj, "status", json_object()) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = txn_put(t, kind, obj, "ADDED");
	if (r == 0)
		r = put_staged(t);
	json_decref(t->after);
	t->after = outer;
	return r;
}

int txn_update(struct txn *t, enum kind kind, json_t *obj, const json_t *old, const json_t *body,
	       bool *changed, struct api_error *err)
{
	const struct kind_ops *ops = t->kinds[kind];
	json_t *meta = meta_of(obj), *given = json_object_get(meta, "revision");
	json_int_t stored = json_integer_value(json_object_get(meta_of(old), "revision"));
	int r;

	if (given && json_integer_value(given) != stored)
		return api_error_set(err, 409, "metadata.revision",
				     "metadata.revision: %lld is not the stored %lld "
				     "(changed meanwhile; get it again)",
				     (long long)json_integer_value(given), (long long)stored);
	if (ops->update && (r = ops->update(t, obj, old, body, err)) < 0)
		return r;
	if (json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec")) &&
	    same_member(meta, meta_of(old), "labels") &&
	    same_member(meta, meta_of(old), "annotations")) {
		*changed = false;
		return 0;
	}
	json_object_set_new(meta, "revision", json_integer(t->rev));
	json_object_set(meta, "created", json_object_get(meta_of(old), "created"));
	if (json_object_get(meta_of(old), "creationTimestamp"))
		json_object_set(meta, "creationTimestamp",
				json_object_get(meta_of(old), "creationTimestamp"));
	else
		json_object_del(meta, "creationTimestamp");
	if (json_object_get(old, "status"))
		json_object_set(obj, "status", json_object_get(old, "status"));
	r = txn_put(t, kind, obj, "MODIFIED");
	if (r < 0)
		return r;
	*changed = true;
	return 0;
}

int txn_delete(struct txn *t, enum kind kind, const json_t *old, struct api_error *err)
{
	const struct kind_ops *ops = t->kinds[kind];
	int r;

	if (ops->release && (r = ops->release(t, old, err)) < 0)
		return r;
	r = t->store->ops->del(t->store, kind_str(kind), obj_name(old), old);
	if (r == 0)
		t->wrote = true;
	return r;
}

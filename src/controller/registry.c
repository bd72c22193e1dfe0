/* SPDX-License-Identifier: MIT */
#include "registry.h"
#include "ipam.h"
#include "lib/addr.h"
#include "migration_api.h"
#include "vm.h"
#include "kind_vm.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include "lib/clock.h"

static json_t *spec_of(const json_t *obj)
{
	return json_object_get(obj, "spec");
}

static const char *spec_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(spec_of(obj), key));
}

static json_t *meta_of(const json_t *obj)
{
	return json_object_get(obj, "metadata");
}

static const char *obj_name(const json_t *obj)
{
	return json_string_value(json_object_get(meta_of(obj), "name"));
}

/* Whether the client's raw body gave spec.<key>. */
static bool body_has(const json_t *body, const char *key)
{
	return json_object_get(json_object_get(body, "spec"), key) != NULL;
}

static int64_t max_objects(const struct registry *reg)
{
	return reg->max_objects > 0 ? reg->max_objects : REGISTRY_MAX_OBJECTS;
}

int registry_node_status_get(struct registry *reg, const char *name, json_t **out)
{
	struct store *s = reg->store;
	json_t *st = NULL;
	int64_t age = 0;
	int r;

	r = s->ops->node_status_get(s, name, &st);
	if (r < 0)
		return r;
	if (reg->obs)
		age = observer_node_age(reg->obs, name,
					json_integer_value(json_object_get(st, "heartbeat_ms")));
	if (json_object_set_new(st, "age_ms", json_integer(age)) < 0 ||
	    json_object_set_new(st, "ready", json_boolean(age < NODE_READY_MS)) < 0) {
		json_decref(st);
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

/* Adds the computed node status (liveness is computed at read time). */
static int node_decorate(struct registry *reg, json_t *node)
{
	json_t *st = NULL, *status;
	int r;

	r = registry_node_status_get(reg, obj_name(node), &st);
	if (r < 0 && r != -ENOENT)
		return r;
	if (st)
		status = st;
	else
		status = json_pack("{s:b}", "ready", 0);
	if (!status)
		return -ENOMEM;
	return json_object_set_new(node, "status", status) < 0 ? -ENOMEM : 0;
}

/* What a reader sees of obj beyond what is stored (nodes and VMs). */
static int decorate(struct registry *reg, enum kind kind, json_t *obj)
{
	if (kind == KIND_NODE)
		return node_decorate(reg, obj);
	if (kind == KIND_VM)
		return vm_decorate(reg, obj);
	return 0;
}

static int network_allocate(struct registry *reg, json_t *obj, const json_t *old,
			    const json_t *body, struct api_error *err)
{
	struct store *s = reg->store;
	json_t *spec = spec_of(obj);
	json_int_t want = json_integer_value(json_object_get(spec, "vni"));
	json_int_t had = old ? json_integer_value(json_object_get(spec_of(old), "vni")) : 0;
	uint32_t vni;
	int r;

	if (old) {
		if (strcmp(spec_str(obj, "cidr"), spec_str(old, "cidr")) != 0)
			return api_error_set(err, 422, "spec.cidr",
					     "spec.cidr is immutable (network %s has %s)",
					     obj_name(old), spec_str(old, "cidr"));
		if (!body_has(body, "gateway"))
			json_object_set(spec, "gateway", json_object_get(spec_of(old), "gateway"));
		else if (strcmp(spec_str(obj, "gateway"), spec_str(old, "gateway")) != 0)
			return api_error_set(err, 422, "spec.gateway",
					     "spec.gateway is immutable (network %s has %s)",
					     obj_name(old), spec_str(old, "gateway"));
		if (!want || want == had) {
			json_object_set_new(spec, "vni", json_integer(had));
			return 0;
		}
		r = ipam_vni_release(s, obj_name(old), (uint32_t)had);
		if (r < 0)
			return r;
	}
	r = ipam_vni_acquire(s, obj_name(obj), want, &vni, err);
	if (r < 0)
		return r;
	json_object_set_new(spec, "vni", json_integer(vni));
	return 0;
}

static int port_allocate(struct registry *reg, json_t *obj, struct api_error *err)
{
	struct store *s = reg->store;
	json_t *spec = spec_of(obj), *network = NULL;
	const char *name = obj_name(obj), *owner = spec_str(obj, "owner");
	struct ipam_network n;
	char ifname[16], text[18];
	uint32_t addr;
	uint64_t mac;
	int r;

	if (spec_str(obj, "ifname"))
		return api_error_set(err, 400, "spec.ifname",
				     "spec.ifname is set by the server; leave it out");
	if (spec_str(obj, "target"))
		return api_error_set(err, 422, "spec.target",
				     "spec.target is set by the controller through a migration; "
				     "leave it out (POST /v1/migrations)");
	r = s->ops->get(s, kind_str(KIND_NETWORK), spec_str(obj, "network"), &network);
	if (r == -ENOENT)
		return api_error_set(err, 404, "spec.network",
				     "spec.network: network \"%s\" does not exist",
				     spec_str(obj, "network"));
	if (r < 0)
		return r;
	r = ipam_network_from_object(network, &n);
	if (r < 0)
		goto cleanup;
	r = ipam_ipv4_acquire(s, &n, owner, spec_str(obj, "ipv4"), &addr, err);
	if (r < 0)
		goto cleanup;
	r = ipam_mac_acquire(s, n.name, owner, spec_str(obj, "mac"), &mac, err);
	if (r < 0)
		goto cleanup;
	r = ipam_ifname_acquire(s, name, ifname, err);
	if (r < 0)
		goto cleanup;
	addr_ipv4_format(addr, text);
	json_object_set_new(spec, "ipv4", json_string(text));
	addr_mac_format_u64(mac, text);
	json_object_set_new(spec, "mac", json_string(text));
	json_object_set_new(spec, "ifname", json_string(ifname));
cleanup:
	json_decref(network);
	return r;
}

/* The name of the migration a port is in, or NULL. */
static const char *port_migration(const json_t *port)
{
	return json_string_value(json_object_get(json_object_get(port, "status"), "migration"));
}

/*
 * spec.target belongs to migrations: left out = kept, changed = 422. While a
 * migration runs, so do locations and strategy (left out = kept, changed = 409).
 */
static int port_merge_migration(json_t *obj, const json_t *old, const json_t *body,
				struct api_error *err)
{
	static const char *const owned[] = {"locations", "strategy"};
	json_t *spec = spec_of(obj), *was = json_object_get(spec_of(old), "target");
	const char *migration = port_migration(old);

	if (!body_has(body, "target")) {
		if (was)
			json_object_set(spec, "target", was);
	} else if (!was || !json_equal(was, json_object_get(spec, "target"))) {
		return api_error_set(err, 422, "spec.target",
				     "spec.target is set by the controller through a migration "
				     "(port %s has %s%s%s); leave it out",
				     obj_name(old), was ? "\"" : "",
				     was ? json_string_value(was) : "none", was ? "\"" : "");
	}
	if (!migration)
		return 0;
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		json_t *had = json_object_get(spec_of(old), owned[i]);

		if (!body_has(body, owned[i]) && had) {
			json_object_set(spec, owned[i], had);
		} else if (!json_equal(had, json_object_get(spec, owned[i]))) {
			char field[32];

			snprintf(field, sizeof(field), "spec.%s", owned[i]);
			return api_error_set(err, 409, field,
					     "%s: port %s is being migrated by %s; it changes "
					     "through the migration",
					     field, obj_name(old), migration);
		}
	}
	return 0;
}

/* On update the addresses and identity of a port stay; the rest may change. */
static int port_merge(json_t *obj, const json_t *old, const json_t *body, struct api_error *err)
{
	static const char *const fixed[] = {"network", "owner", "mac", "ipv4", "ifname"};
	json_t *spec = spec_of(obj);
	int r;

	r = port_merge_migration(obj, old, body, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const char *key = fixed[i], *was = spec_str(old, key);
		char field[32];

		if (!body_has(body, key)) {
			json_object_set_new(spec, key, json_string(was));
			continue;
		}
		if (strcmp(spec_str(obj, key), was) != 0) {
			snprintf(field, sizeof(field), "spec.%s", key);
			return api_error_set(err, 422, field,
					     "%s is immutable (port %s has \"%s\")", field,
					     obj_name(old), was);
		}
	}
	return 0;
}

static int port_release(struct registry *reg, const json_t *port)
{
	struct store *s = reg->store;
	const char *network = spec_str(port, "network"), *owner = spec_str(port, "owner");
	uint32_t addr;
	uint64_t mac;
	int r;

	if (addr_ipv4_parse(spec_str(port, "ipv4"), &addr) < 0 ||
	    addr_mac_parse_u64(spec_str(port, "mac"), &mac) < 0)
		return -EIO;
	r = ipam_ipv4_release(s, network, addr, owner);
	if (r < 0)
		return r;
	r = ipam_mac_release(s, network, mac, owner);
	if (r < 0)
		return r;
	return ipam_ifname_release(s, obj_name(port), spec_str(port, "ifname"));
}

static void notify(struct registry *reg, int64_t revision)
{
	if (reg->on_commit)
		reg->on_commit(reg->on_commit_ctx, revision);
}

/* Commits and fills *out with a copy of obj (decorated for nodes). */
static int finish(struct registry *reg, enum kind kind, json_t *obj, int64_t rev, json_t **out)
{
	struct store *s = reg->store;
	int r;

	r = s->ops->commit(s);
	if (r < 0)
		return r;
	notify(reg, rev);
	r = decorate(reg, kind, obj);
	if (r < 0)
		return r;
	*out = json_incref(obj);
	return 0;
}

int registry_create_locked(struct registry *reg, enum kind kind, json_t *obj, int64_t rev,
			   struct api_error *err)
{
	struct store *s = reg->store;
	const char *kname = kind_str(kind), *name = obj_name(obj);
	json_t *meta = meta_of(obj), *existing = NULL;
	int64_t n;
	int r;

	r = s->ops->get(s, kname, name, &existing);
	json_decref(existing);
	if (r == 0)
		return api_error_set(err, 409, "metadata.name", "%s \"%s\" already exists",
				     kind_plural(kind), name);
	if (r != -ENOENT)
		return r;
	r = s->ops->count(s, kname, &n);
	if (r < 0)
		return r;
	if (n >= max_objects(reg))
		return api_error_set(err, 507, NULL, "too many %s (limit %lld)", kind_plural(kind),
				     (long long)max_objects(reg));
	if (kind == KIND_NETWORK)
		r = network_allocate(reg, obj, NULL, NULL, err);
	else if (kind == KIND_PORT)
		r = port_allocate(reg, obj, err);
	else if (kind == KIND_VM)
		r = vm_prepare_create(reg, obj, rev, err);
	if (r < 0)
		return r;
	json_object_set_new(meta, "revision", json_integer(rev));
	json_object_set_new(meta, "created", json_integer(rev));
	if (kind != KIND_NODE && !json_object_get(obj, "status"))
		json_object_set_new(obj, "status", json_object());
	return s->ops->put(s, kname, name, "ADDED", obj);
}

int registry_create(struct registry *reg, enum kind kind, const json_t *body, json_t **out,
		    struct api_error *err)
{
	struct store *s = reg->store;
	json_t *obj = NULL;
	int64_t rev;
	int r;

	if (kind == KIND_MIGRATION)
		return migration_create(reg, body, out, err);
	r = api_object_validate(kind, body, NULL, &obj, err);
	if (r < 0)
		return r;
	if (json_object_get(meta_of(obj), "revision")) /* server-set on create */
		json_object_del(meta_of(obj), "revision");
	r = s->ops->begin(s, &rev);
	if (r < 0)
		goto cleanup;
	r = registry_create_locked(reg, kind, obj, rev, err);
	if (r < 0) {
		s->ops->rollback(s);
		goto cleanup;
	}
	r = finish(reg, kind, obj, rev, out);
cleanup:
	json_decref(obj);
	return r;
}

static int do_update(struct registry *reg, enum kind kind, json_t *obj, const json_t *old,
		     const json_t *body, int64_t rev, bool *changed, struct api_error *err)
{
	struct store *s = reg->store;
	json_t *meta = meta_of(obj), *given = json_object_get(meta, "revision");
	json_int_t stored = json_integer_value(json_object_get(meta_of(old), "revision"));
	int r = 0;

	if (given && json_integer_value(given) != stored)
		return api_error_set(err, 409, "metadata.revision",
				     "metadata.revision: %lld is not the stored %lld "
				     "(changed meanwhile; get it again)",
				     (long long)json_integer_value(given), (long long)stored);
	if (kind == KIND_NETWORK)
		r = network_allocate(reg, obj, old, body, err);
	else if (kind == KIND_PORT)
		r = port_merge(obj, old, body, err);
	else if (kind == KIND_VM)
		r = vm_merge(obj, old, body, err);
	if (r < 0)
		return r;
	*changed = !json_equal(spec_of(obj), spec_of(old));
	if (!*changed)
		return 0;
	json_object_set_new(meta, "revision", json_integer(rev));
	json_object_set(meta, "created", json_object_get(meta_of(old), "created"));
	if (json_object_get(old, "status"))
		json_object_set(obj, "status", json_object_get(old, "status"));
	return s->ops->put(s, kind_str(kind), obj_name(obj), "MODIFIED", obj);
}

int registry_update(struct registry *reg, enum kind kind, const char *name, const json_t *body,
		    json_t **out, bool *created, struct api_error *err)
{
	struct store *s = reg->store;
	json_t *obj = NULL, *old = NULL;
	bool changed = false;
	int64_t rev;
	int r;

	if (kind == KIND_MIGRATION)
		return api_error_set(err, 405, NULL,
				     "a migration changes only through its actions (POST "
				     "/v1/migrations/%s/{abort,running,complete,fail})",
				     name);
	r = api_object_validate(kind, body, name, &obj, err);
	if (r < 0)
		return r;
	r = s->ops->begin(s, &rev);
	if (r < 0)
		goto cleanup;
	r = s->ops->get(s, kind_str(kind), name, &old);
	if (r == -ENOENT && kind == KIND_NODE) {
		json_object_del(meta_of(obj), "revision");
		r = registry_create_locked(reg, kind, obj, rev, err);
		if (r < 0)
			goto fail;
		*created = true;
		r = finish(reg, kind, obj, rev, out);
		goto cleanup;
	}
	if (r == -ENOENT)
		r = api_error_set(err, 404, NULL, "%s \"%s\" not found", kind_plural(kind), name);
	if (r < 0)
		goto fail;
	r = do_update(reg, kind, obj, old, body, rev, &changed, err);
	if (r < 0)
		goto fail;
	*created = false;
	if (changed) {
		r = finish(reg, kind, obj, rev, out);
		goto cleanup;
	}
	s->ops->rollback(s); /* nothing changed: no revision, no event */
	if ((r = decorate(reg, kind, old)) < 0)
		goto cleanup;
	*out = json_incref(old);
	r = 0;
	goto cleanup;
fail:
	s->ops->rollback(s);
cleanup:
	json_decref(obj);
	json_decref(old);
	return r;
}

int registry_delete_locked(struct registry *reg, enum kind kind, const json_t *old,
			   struct api_error *err)
{
	struct store *s = reg->store;
	const char *name = obj_name(old);
	bool in_use;
	int r;

	switch (kind) {
	case KIND_NETWORK:
		r = ipam_network_in_use(s, name, &in_use);
		if (r < 0)
			return r;
		if (in_use)
			return api_error_set(err, 409, NULL,
					     "network %s still has ports; delete them first", name);
		r = ipam_vni_release(
		    s, name, (uint32_t)json_integer_value(json_object_get(spec_of(old), "vni")));
		if (r < 0)
			return r;
		r = ipam_network_drop(s, name);
		break;
	case KIND_PORT:
		if (port_migration(old))
			return api_error_set(err, 409, NULL,
					     "port %s is being migrated by %s; abort the migration "
					     "first",
					     name, port_migration(old));
		r = port_release(reg, old);
		break;
	case KIND_VM:
		r = vm_release_port(reg, old, err);
		break;
	default:
		r = s->ops->node_status_del(s, name);
		break;
	}
	if (r < 0)
		return r;
	return s->ops->del(s, kind_str(kind), name, old);
}

int registry_delete(struct registry *reg, enum kind kind, const char *name, json_t **out,
		    struct api_error *err)
{
	struct store *s = reg->store;
	json_t *old = NULL;
	int64_t rev;
	int r;

	if (kind == KIND_MIGRATION)
		return migration_delete(reg, name, out, err);
	r = s->ops->begin(s, &rev);
	if (r < 0)
		return r;
	r = s->ops->get(s, kind_str(kind), name, &old);
	if (r == -ENOENT)
		r = api_error_set(err, 404, NULL, "%s \"%s\" not found", kind_plural(kind), name);
	if (r == 0 && kind == KIND_PORT) /* a VM's port goes with its VM */
		r = vm_port_guard(reg, old, err);
	if (r < 0)
		goto fail;
	r = registry_delete_locked(reg, kind, old, err);
	if (r < 0)
		goto fail;
	r = s->ops->commit(s);
	if (r < 0)
		goto cleanup;
	notify(reg, rev);
	*out = json_incref(old);
	goto cleanup;
fail:
	s->ops->rollback(s);
cleanup:
	json_decref(old);
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
		return api_error_set(err, 404, NULL, "%s \"%s\" not found", kind_plural(kind),
				     name);
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
	res = json_pack("{s:I, s:o}", "revision", (json_int_t)rev, "items", items);
	if (!res)
		return -ENOMEM;
	*out = res;
	return 0;
}

int registry_node_status(struct registry *reg, const char *name, const json_t *body, json_t **out,
			 struct api_error *err)
{
	struct store *s = reg->store;
	json_t *status = NULL, *node = NULL;
	int r;

	r = api_node_status_validate(body, &status, err);
	if (r < 0)
		return r;
	r = s->ops->get(s, kind_str(KIND_NODE), name, &node);
	if (r == -ENOENT)
		r = api_error_set(err, 404, NULL, "nodes \"%s\" not found (register it first)",
				  name);
	if (r < 0)
		goto cleanup;
	json_object_set_new(status, "heartbeat_ms", json_integer(clock_unix_ms()));
	r = s->ops->node_status_put(s, name, status);
	if (r < 0)
		goto cleanup;
	if (reg->obs) /* heard now, not at the next reader */
		observer_node_age(reg->obs, name,
				  json_integer_value(json_object_get(status, "heartbeat_ms")));
	if (reg->on_status)
		reg->on_status(reg->on_status_ctx, name);
	r = node_decorate(reg, node);
	if (r < 0)
		goto cleanup;
	*out = node;
	node = NULL;
cleanup:
	json_decref(status);
	json_decref(node);
	return r;
}

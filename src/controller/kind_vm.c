/* SPDX-License-Identifier: MIT */
/* The VM kind: its spec rules (docs/VM.md), its Port, its derived status. */
#include "kind_vm.h"
#include "kind_node.h"
#include "lib/base64.h"
#include "migration.h"
#include "vm.h"

#include "lib/catalog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int validate_user_data(const json_t *spec, json_t *out, struct api_error *err)
{
	static const char *const encodings[] = {"text", "base64", NULL};
	const char *data, *encoding;
	size_t len;
	int r;

	r = api_get_string(spec, "user_data", "spec.user_data", &data, err);
	if (r < 0)
		return r;
	r = api_get_string(spec, "user_data_encoding", "spec.user_data_encoding", &encoding, err);
	if (r < 0)
		return r;
	if (!data) {
		if (encoding)
			return api_error_set(err, 400, "spec.user_data_encoding",
					     "spec.user_data_encoding: given without "
					     "spec.user_data");
		return 0;
	}
	r = api_get_choice(spec, "user_data_encoding", "spec.user_data_encoding", encodings, out,
			   err);
	if (r < 0)
		return r;
	len = strlen(data);
	if (encoding && strcmp(encoding, "base64") == 0) {
		if (len > VM_USER_DATA_BASE64_MAX)
			return api_error_set(err, 400, "spec.user_data",
					     "spec.user_data: %zu bytes of base64, more than %d",
					     len, VM_USER_DATA_BASE64_MAX);
		if (!base64_valid(data))
			return api_error_set(err, 400, "spec.user_data",
					     "spec.user_data: not valid base64 (A-Z a-z 0-9 + /, "
					     "padded with = to a multiple of 4)");
	} else if (len > VM_USER_DATA_TEXT_MAX) {
		return api_error_set(err, 400, "spec.user_data",
				     "spec.user_data: %zu bytes of text, more than %d", len,
				     VM_USER_DATA_TEXT_MAX);
	}
	return json_object_set_new(out, "user_data", json_string(data)) < 0 ? -ENOMEM : 0;
}

/*
 * docs/VM.md. The catalog (spec.image), the network's existence and spec.node
 * are checked by vm_create, which has the store.
 */
static int vm_validate(const json_t *spec, const char *name, json_t *out, struct api_error *err)
{
	static const char *const allowed[] = {
	    "running", "memory_mib", "cpus", "image",  "user_data", "user_data_encoding",
	    "network", "migratable", "node", "target", NULL};
	const char *image, *network;
	int r;

	(void)name;
	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = api_get_bool(spec, "running", "spec.running", true, out, err);
	if (r < 0)
		return r;
	r = api_require(spec, "memory_mib", "spec.memory_mib", err);
	if (r == 0)
		r = api_get_int(spec, "memory_mib", "spec.memory_mib", 1, VM_MEMORY_MIB_MAX, 0, out,
				err);
	if (r < 0)
		return r;
	r = api_get_int(spec, "cpus", "spec.cpus", 1, VM_CPUS_MAX, 1, out, err);
	if (r < 0)
		return r;
	r = api_get_string(spec, "image", "spec.image", &image, err);
	if (r < 0)
		return r;
	if (!image || !image[0])
		return api_error_set(err, 400, "spec.image", "spec.image is required");
	if (strlen(image) > VM_IMAGE_MAX)
		return api_error_set(err, 400, "spec.image", "spec.image: longer than %d bytes",
				     VM_IMAGE_MAX);
	json_object_set_new(out, "image", json_string(image));
	r = validate_user_data(spec, out, err);
	if (r < 0)
		return r;
	r = api_get_name(spec, "network", "spec.network", "a valid name", &network, err);
	if (r < 0)
		return r;
	json_object_set_new(out, "network", json_string(network ? network : "default"));
	r = api_get_bool(spec, "migratable", "spec.migratable", false, out, err);
	if (r < 0)
		return r;
	/* Set by the controller (scheduler, migrations); vm_merge (vm.h) checks changes. */
	r = api_copy_name(spec, "node", "spec.node", "a node name", out, err);
	if (r < 0)
		return r;
	return api_copy_name(spec, "target", "spec.target", "a node name", out, err);
}

/* spec.node given by the client: it must exist and be ready. */
static int check_node(const json_t *nodes, const char *name, struct api_error *err)
{
	const json_t *node = migration_find_node(nodes, name);
	char live[64];

	if (!node)
		return api_error_set(err, 404, "spec.node", "spec.node: node \"%s\" does not exist",
				     name);
	if (!migration_node_ready(node)) {
		migration_node_liveness(node, live, sizeof(live));
		return api_error_set(err, 409, "spec.node", "spec.node: node %s is not ready (%s)",
				     name, live);
	}
	return 0;
}

static int schedule(struct txn *t, json_t *vm, struct api_error *err)
{
	json_t *spec = json_object_get(vm, "spec"), *nodes = NULL, *vms = NULL;
	const char *given = json_string_value(json_object_get(spec, "node")), *node;
	int r;

	r = node_list(t->reg, &nodes);
	if (r < 0)
		return r;
	if (given) {
		r = check_node(nodes, given, err);
		goto cleanup;
	}
	r = txn_list(t, KIND_VM, &vms);
	if (r < 0)
		goto cleanup;
	r = vm_schedule(nodes, vms, &node);
	if (r == -ENOENT) {
		r = api_error_set(err, 409, "spec.node",
				  "no ready node to run %s (%zu node(s) registered, none reported "
				  "within the last %d s)",
				  obj_name(vm), json_array_size(nodes), NODE_READY_MS / 1000);
		goto cleanup;
	}
	if (r == 0 && json_object_set_new(spec, "node", json_string(node)) < 0)
		r = -ENOMEM;
cleanup:
	json_decref(nodes);
	json_decref(vms);
	return r;
}

/*
 * A port of the VM's name is replaced when it was made for this VM (owner the
 * VM, type tap: e.g. reserved ahead); its addresses stay, as IPAM is sticky
 * per owner. Any other port of that name is a conflict.
 */
static int clear_port_name(struct txn *t, const char *vm, struct api_error *err)
{
	const char *owner, *type;
	json_t *port = NULL;
	int r;

	r = txn_get(t, KIND_PORT, vm, &port);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	owner = obj_str(port, "spec", "owner");
	type = obj_str(port, "spec", "type");
	if (!owner || strcmp(owner, vm) != 0 || !type || strcmp(type, "tap") != 0)
		r = api_error_set(err, 409, "metadata.name",
				  "port %s already exists (owner %s, type %s); a VM's port has "
				  "the VM's name: delete the port or name the VM otherwise",
				  vm, owner ? owner : "none", type ? type : "none");
	else
		r = txn_delete(t, KIND_PORT, port, err);
	json_decref(port);
	return r;
}

static int create_port(struct txn *t, const json_t *vm, json_t **out, struct api_error *err)
{
	const char *name = obj_name(vm);
	json_t *body = NULL, *port = NULL;
	int r;

	r = clear_port_name(t, name, err);
	if (r < 0)
		return r;
	body = json_pack("{s:{s:s}, s:{s:s, s:s, s:s, s:[s]}}", "metadata", "name", name, "spec",
			 "network", obj_str(vm, "spec", "network"), "owner", name, "type", "tap",
			 "locations", obj_str(vm, "spec", "node"));
	if (!body)
		return -ENOMEM;
	r = txn_validate(t, KIND_PORT, body, NULL, &port, err);
	if (r < 0)
		goto cleanup;
	r = txn_create(t, KIND_PORT, port, err);
	if (r < 0)
		goto cleanup;
	*out = port;
	port = NULL;
cleanup:
	json_decref(body);
	json_decref(port);
	return r;
}

/*
 * In the create transaction of a validated VM: checks spec.image against the
 * catalog (422), the network (404), schedules spec.node (409 without a ready
 * node), creates the VM's Port and fills the VM's stored status.
 */
static int vm_create(struct txn *t, json_t *vm, struct api_error *err)
{
	const char *image = obj_str(vm, "spec", "image"), *net = obj_str(vm, "spec", "network");
	const struct catalog_image *img = catalog_find(image);
	json_t *network = NULL, *port = NULL, *status = NULL;
	char names[512];
	int r;

	if (obj_str(vm, "spec", "target"))
		return api_error_set(err, 422, "spec.target",
				     "spec.target is set by the controller through a migration; "
				     "leave it out (POST /v1/migrations)");
	if (!img) {
		catalog_names(names, sizeof(names));
		return api_error_set(err, 422, "spec.image",
				     "spec.image: unknown image \"%.128s\"; the catalog has: %s",
				     image, names);
	}
	r = txn_get_ref(t, KIND_NETWORK, net, "spec.network", &network, err);
	json_decref(network);
	if (r < 0)
		return r;
	r = schedule(t, vm, err);
	if (r < 0)
		return r;
	r = create_port(t, vm, &port, err);
	if (r < 0)
		return r;
	r = vm_initial_status(vm, port, img, &status);
	if (r == 0 && json_object_set_new(vm, "status", status) < 0)
		r = -ENOMEM;
	json_decref(port);
	return r;
}

/* The port of vm when it exists and vm owns it (else *out NULL). */
static int owned_port(struct txn *t, const json_t *vm, json_t **out)
{
	json_t *port = NULL;
	const char *owner;
	int r;

	*out = NULL;
	r = txn_get(t, KIND_PORT, vm_port_name(vm), &port);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	owner = obj_str(port, "spec", "owner");
	if (owner && strcmp(owner, obj_name(vm)) == 0)
		*out = port;
	else
		json_decref(port);
	return 0;
}

/* In the delete transaction of a VM: deletes its Port (409 while it migrates). */
static int vm_release(struct txn *t, const json_t *vm, struct api_error *err)
{
	const char *migration;
	json_t *port = NULL;
	int r;

	r = owned_port(t, vm, &port);
	if (r < 0 || !port)
		return r;
	migration = obj_str(port, "status", "migration");
	if (migration)
		r = api_error_set(err, 409, NULL,
				  "vm %s is being migrated by %s; abort the migration first "
				  "(POST /v1/migrations/%s/abort)",
				  obj_name(vm), migration, migration);
	else
		r = txn_delete(t, KIND_PORT, port, err);
	json_decref(port);
	return r;
}

/* The VM that owns port, if one exists (*vm_out NULL otherwise). */
static int owner_vm(struct txn *t, const json_t *port, json_t **vm_out)
{
	const char *owner = obj_str(port, "spec", "owner");
	json_t *vm = NULL;
	int r;

	*vm_out = NULL;
	if (!owner)
		return 0;
	r = txn_get(t, KIND_VM, owner, &vm);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (strcmp(vm_port_name(vm), obj_name(port)) == 0)
		*vm_out = vm;
	else
		json_decref(vm);
	return 0;
}

int vm_port_guard(struct txn *t, const json_t *port, struct api_error *err)
{
	json_t *vm = NULL;
	int r;

	r = owner_vm(t, port, &vm);
	if (r < 0 || !vm)
		return r;
	r = api_error_set(err, 409, NULL,
			  "port %s belongs to vm %s; it goes when the VM is deleted "
			  "(DELETE /v1/vms/%s)",
			  obj_name(port), obj_name(vm), obj_name(vm));
	json_decref(vm);
	return r;
}

/* Replaces the VM's status by the derived one (vm.h vm_status_derive). */
static int vm_decorate(struct registry *reg, json_t *vm)
{
	struct store *s = reg->store;
	const char *node_name = obj_str(vm, "spec", "node");
	json_t *node = NULL, *st = NULL, *status = NULL;
	int r = 0;

	if (node_name) {
		r = s->ops->get(s, kind_str(KIND_NODE), node_name, &node);
		if (r == -ENOENT)
			r = 0;
		if (r < 0)
			return r;
	}
	if (node) {
		r = node_status_get(reg, node_name, &st);
		if (r < 0 && r != -ENOENT)
			goto cleanup;
		r = 0;
		if (st)
			json_object_set_new(node, "status", st);
	}
	r = vm_status_derive(vm, node, &status);
	if (r == 0 && json_object_set_new(vm, "status", status) < 0)
		r = -ENOMEM;
cleanup:
	json_decref(node);
	return r;
}

int vm_migration_subject(struct txn *t, json_t *mig, struct api_error *err)
{
	const char *vm_name = obj_str(mig, "spec", "vm"), *port_name = obj_str(mig, "spec", "port");
	json_t *vm = NULL, *port = NULL, *spec = json_object_get(mig, "spec");
	int r;

	if (!vm_name) {
		r = txn_get(t, KIND_PORT, port_name, &port);
		if (r == -ENOENT)
			return 0; /* the migration's create answers 404 */
		if (r < 0)
			return r;
		r = owner_vm(t, port, &vm);
		if (r == 0 && vm)
			r = api_error_set(err, 422, "spec.port",
					  "spec.port: port %s belongs to vm %s; migrate the VM "
					  "({\"spec\": {\"vm\": \"%s\"}})",
					  port_name, obj_name(vm), obj_name(vm));
		goto cleanup;
	}
	r = txn_get_ref(t, KIND_VM, vm_name, "spec.vm", &vm, err);
	if (r < 0)
		return r;
	if (!json_is_true(json_object_get(json_object_get(vm, "spec"), "migratable"))) {
		r = api_error_set(err, 422, "spec.vm",
				  "%s is not live-migratable: the annotation "
				  "kubevirt.io/allow-pod-bridge-network-live-migration is not "
				  "\"true\" on its template",
				  vm_name);
		goto cleanup;
	}
	if (!json_is_true(json_object_get(json_object_get(vm, "spec"), "running"))) {
		r = api_error_set(err, 409, "spec.vm",
				  "spec.vm: vm %s is not running (spec.running is false); there is "
				  "nothing to migrate live",
				  vm_name);
		goto cleanup;
	}
	r = json_object_set_new(spec, "port", json_string(vm_port_name(vm))) < 0 ? -ENOMEM : 0;
cleanup:
	json_decref(vm);
	json_decref(port);
	return r;
}

int vm_follow_migration(struct txn *t, const json_t *mig, const json_t *port, json_t **out)
{
	const char *name = obj_str(mig, "spec", "vm");
	json_t *vm = NULL;
	int r;

	*out = NULL;
	if (!name || !port)
		return 0;
	r = txn_get(t, KIND_VM, name, &vm);
	if (r == -ENOENT)
		return 0; /* deleted meanwhile: nothing follows */
	if (r < 0)
		return r;
	if (vm_follow_port(vm, port)) {
		txn_stamp(t, vm);
		*out = vm;
	} else {
		json_decref(vm);
	}
	return 0;
}

static int vm_update(struct txn *t, json_t *obj, const json_t *old, const json_t *body,
		     struct api_error *err)
{
	(void)t;
	return vm_merge(obj, old, body, err);
}

const struct kind_ops kind_vm = {
    .kind = KIND_VM,
    .stored_status = true,
    .validate = vm_validate,
    .create = vm_create,
    .update = vm_update,
    .release = vm_release,
    .decorate = vm_decorate,
};

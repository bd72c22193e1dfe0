/* SPDX-License-Identifier: MIT */
/*
 * kind: the controller's kinds as a table, one row per kind, and the
 * transaction every change of an object runs in (docs/API.md).
 *
 * Design
 * - A row (struct kind_ops, defined in kind_<kind>.c; the table in
 *   kind_table.c) holds what is particular to a kind: its spec rules
 *   (validate: the body's spec normalised, every default filled in), its
 *   steps inside the transaction of a create, an update and a delete
 *   (allocations, references, the rules of a PUT, the objects it owns), and
 *   what a reader sees beyond what is stored (decorate). A kind without a
 *   step leaves it NULL.
 * - The transaction core (txn.c) is written once, for every kind:
 *   create: "exists" (409) and "too many" (507, per kind) checks,
 *     metadata.revision and .created, the kind's create step, the write
 *     (ADDED), then the writes the step staged for after it (txn_put_after);
 *   update: the metadata.revision check (409), the kind's update step, the
 *     write (MODIFIED) only when the spec changed;
 *   delete: the kind's release step, then the delete.
 *   Any failure rolls the whole transaction back, so nothing is
 *   half-stored; txn_commit commits and then, when an object was written,
 *   tells the registry's on_commit (watchers, the migrator).
 * - Who calls whom: the entry points (registry.c: create, update, delete,
 *   get, list; migration_api.c: a migration's actions and evaluation) begin
 *   each transaction with the table (kind_ops_table). A kind file calls the
 *   core and the kinds it builds on (a VM reads its node's status from
 *   kind_node.c; a Migration checks its VM through kind_vm.c); the core
 *   reaches a kind only through the table the transaction carries. So no two
 *   files call each other in a loop.
 * - A kind creates or deletes another kind's objects through the core
 *   (txn_validate, txn_create, txn_delete), so with that kind's rules: a VM's
 *   Port is a Port like any other (its addresses, the limit of ports).
 *   A Migration changes its Port and VM by plain writes (txn_put): those
 *   are the migration's fields of theirs, not a client's update.
 * - Errors: a client mistake returns a negative errno with err->status set
 *   (400/404/405/409/422/507); a failure of the store returns a negative
 *   errno with err->status left 0 (the HTTP layer answers 500).
 */
#ifndef GODWIT_CONTROLLER_KIND_H
#define GODWIT_CONTROLLER_KIND_H

#include "api_objects.h"
#include "registry.h"

#include <stdbool.h>
#include <stdint.h>

struct txn;

struct kind_ops {
	enum kind kind;
	/* The object stores a status of its own (a Node's is its report). */
	bool stored_status;
	/* A PUT of a missing object creates it (nodes register so). */
	bool put_creates;
	/* What every node's datapath holds of this kind (bpf/abi.h; 0: no
	 * limit below the registry's): a create beyond it is refused (507)
	 * rather than left for the agents to drop. */
	int64_t datapath_limit;
	const char *datapath_table; /* its name in the 507's message */
	/* The spec rules (api_objects.h): 400s, every default filled in. */
	api_spec_fn *validate;
	/* Set: no PUT at all, answered before the body is read (405). */
	int (*refuse_update)(const char *name, struct api_error *err);
	/*
	 * Inside the transaction, before the object is written. create: a
	 * validated obj (metadata set); allocations, references, owned objects.
	 * update: obj from the client's body against the stored old; what may
	 * change, what is kept when the body leaves it out.
	 */
	int (*create)(struct txn *t, json_t *obj, struct api_error *err);
	int (*update)(struct txn *t, json_t *obj, const json_t *old, const json_t *body,
		      struct api_error *err);
	/* A client's DELETE only: whether old may go on its own (409). */
	int (*check_delete)(struct txn *t, const json_t *old, struct api_error *err);
	/* Every delete, before it: what old holds is released (or 409). */
	int (*release)(struct txn *t, const json_t *old, struct api_error *err);
	/* At every read: what is computed, not stored (a node's liveness). */
	int (*decorate)(struct registry *reg, json_t *obj);
};

/* Whether a client's raw body gives spec.key (a PUT that leaves it out keeps it). */
static inline bool body_gives(const json_t *body, const char *key)
{
	return json_object_get(json_object_get(body, "spec"), key) != NULL;
}

/* The rows, each in its kind_<kind>.c. */
extern const struct kind_ops kind_network, kind_port, kind_node, kind_migration, kind_vm,
    kind_event;

/* Indexed by enum kind (kind_table.c); for the entry points only. */
extern const struct kind_ops *const kind_ops_table[KIND__COUNT];

struct txn {
	struct registry *reg;
	struct store *store;
	const struct kind_ops *const *kinds;
	int64_t rev;   /* the revision this transaction writes */
	bool wrote;    /* an object was written or deleted */
	json_t *after; /* [[kind, object], ...] staged by txn_put_after */
};

/* Tries of a change whose commit lost to another controller's (-EAGAIN). */
#define TXN_TRIES 20

/* Whether a change that returned r is to be tried again: it lost to another
 * controller's commit and has tries left (counted in *tries); then sleeps a
 * random while first (up to 2 ms per try so far), so that controllers that
 * collided do not collide again. */
bool txn_retry(int r, int *tries);

int txn_begin(struct txn *t, struct registry *reg, const struct kind_ops *const *kinds);
/* Commits; then on_commit when an object was written. Ends t either way. */
int txn_commit(struct txn *t);
void txn_rollback(struct txn *t);

/* api_object_validate through the transaction's table. */
int txn_validate(struct txn *t, enum kind kind, const json_t *body, const char *path_name,
		 json_t **out, struct api_error *err);
/* Creates a validated obj (without metadata.revision) as above. */
int txn_create(struct txn *t, enum kind kind, json_t *obj, struct api_error *err);
/* Updates old with obj (validated from body); *changed: whether it was written. */
int txn_update(struct txn *t, enum kind kind, json_t *obj, const json_t *old, const json_t *body,
	       bool *changed, struct api_error *err);
/* Deletes the stored old, after the kind's release step. */
int txn_delete(struct txn *t, enum kind kind, const json_t *old, struct api_error *err);

/* Plain reads and writes (type "ADDED"/"MODIFIED"); -ENOENT when missing. */
int txn_get(struct txn *t, enum kind kind, const char *name, json_t **out);
/* txn_get() of the object that field ("spec.port") names: a 404 naming it
 * when it is missing. */
int txn_get_ref(struct txn *t, enum kind kind, const char *name, const char *field, json_t **out,
		struct api_error *err);
/* Every stored object of kind, a new array. */
int txn_list(struct txn *t, enum kind kind, json_t **items);
/* metadata.revision of obj := the revision this transaction writes. */
void txn_stamp(const struct txn *t, json_t *obj);
int txn_put(struct txn *t, enum kind kind, const json_t *obj, const char *type);
/* A write (MODIFIED) of obj after the object being created (txn_create). */
int txn_put_after(struct txn *t, enum kind kind, const json_t *obj);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * registry: the API operations on objects (docs/API.md), each one store
 * transaction: validate, check references, allocate (ipam.c), write, commit.
 * On any failure the transaction is rolled back, so nothing is half-stored.
 *
 * VMs (KIND_VM) create and delete their Port in the same transaction
 * (vm_api.c); their status is derived at every read.
 * Migrations (KIND_MIGRATION) are handed to migration_api.c; a port's
 * spec.target and, while a migration runs, its locations and strategy belong
 * to the migration (422/409 on a change by a client).
 *
 * Errors: a client mistake returns a negative errno with err->status set
 * (400/404/409/422/507); a failure of the store returns a negative errno with
 * err->status left 0 (the HTTP layer answers 500).
 */
#ifndef GODWIT_CONTROLLER_REGISTRY_H
#define GODWIT_CONTROLLER_REGISTRY_H

#include "api_objects.h"
#include "observer.h"
#include "store.h"

#include <stdint.h>

#define REGISTRY_MAX_OBJECTS 100000
#define NODE_READY_MS	     6000 /* 3 heartbeats of 2 s */

struct registry {
	struct store *store;
	int64_t max_objects; /* per kind; 0: REGISTRY_MAX_OBJECTS */
	/* Finished Migrations kept per port; 0: MIGRATION_GC_KEEP (migration_gc.h). */
	int keep_finished_migrations;
	/* Called after every commit that changed the revision. */
	void (*on_commit)(void *ctx, int64_t revision);
	void *on_commit_ctx;
	/*
	 * The ages of node reports and migration phases by this controller's
	 * monotonic clock (observer.h); NULL: every node counts as just heard.
	 */
	struct observer *obs;
	/* Called after every stored node status report. */
	void (*on_status)(void *ctx, const char *node);
	void *on_status_ctx;
};

int registry_create(struct registry *reg, enum kind kind, const json_t *body, json_t **out,
		    struct api_error *err);
/* For nodes a PUT of a missing object creates it (*created set). */
int registry_update(struct registry *reg, enum kind kind, const char *name, const json_t *body,
		    json_t **out, bool *created, struct api_error *err);
int registry_delete(struct registry *reg, enum kind kind, const char *name, json_t **out,
		    struct api_error *err);
int registry_get(struct registry *reg, enum kind kind, const char *name, json_t **out,
		 struct api_error *err);
/* {"revision": R, "items": [...]} */
int registry_list(struct registry *reg, enum kind kind, json_t **out, struct api_error *err);
/*
 * Inside a transaction (begin .. commit/rollback by the caller), for kinds
 * that create or delete others: create a validated obj at revision rev
 * (allocations, metadata and status filled in), or delete the stored old.
 */
int registry_create_locked(struct registry *reg, enum kind kind, json_t *obj, int64_t rev,
			   struct api_error *err);
int registry_delete_locked(struct registry *reg, enum kind kind, const json_t *old,
			   struct api_error *err);

int registry_node_status(struct registry *reg, const char *name, const json_t *body, json_t **out,
			 struct api_error *err);
/*
 * The stored status report of node name with what the controller computes:
 * age_ms (since its last report, observer.h) and ready (age < NODE_READY_MS).
 * -ENOENT when the node never reported.
 */
int registry_node_status_get(struct registry *reg, const char *name, json_t **out);

#endif

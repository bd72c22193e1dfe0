/* SPDX-License-Identifier: MIT */
/*
 * registry: the API operations on objects (docs/API.md), each one store
 * transaction through the kind table and its core (design in kind.h):
 * validate, the kind's checks and allocations, write, commit; on any failure
 * the transaction is rolled back, so nothing is half-stored.
 *
 * Errors: a client mistake returns a negative errno with err->status set
 * (400/404/405/409/422/507); a failure of the store returns a negative errno
 * with err->status left 0 (the HTTP layer answers 500).
 */
#ifndef GODWIT_CONTROLLER_REGISTRY_H
#define GODWIT_CONTROLLER_REGISTRY_H

#include "api_objects.h"
#include "observer.h"
#include "store.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define REGISTRY_MAX_OBJECTS 100000
#define NODE_READY_MS	     6000 /* 3 heartbeats of 2 s */

struct registry {
	struct store *store;
	/* The stream secret of a node that never joined (auth.h, "Streams"); may be NULL. */
	const char *admin_token;
	/* A VM migration without spec.tls runs under TLS (lib/migtls.h). */
	bool migration_tls;
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
	/* Counts and histograms of finished migrations (metrics.h); may be NULL. */
	struct metrics *metrics;
	/* Called after every stored node status report. */
	void (*on_status)(void *ctx, const char *node);
	void *on_status_ctx;
	/* Whether this controller leads the ones on its store (leader.h); NULL:
	 * it is the only one. The migrator and the recorder act only then. */
	const atomic_bool *leading;
};

static inline bool registry_leads(const struct registry *reg)
{
	return !reg->leading || atomic_load(reg->leading);
}

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
 * At the controller's start: creates the Network "default" (cidr, dhcp) once
 * in the life of the store, unless a network of that name exists; after
 * that, never again (a user may delete it). cidr NULL: never create it.
 * *created tells whether it was created now (kind_network.h).
 */
int registry_default_network(struct registry *reg, const char *cidr, bool *created,
			     struct api_error *err);

#endif

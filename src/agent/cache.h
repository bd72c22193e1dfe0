/* SPDX-License-Identifier: MIT */
/*
 * cache: the agent's in-memory copy of the controller's objects (Networks,
 * Ports, Nodes, VMs, Migrations) and the store revision it reflects. Filled by a list, kept
 * current by watch events (docs/API.md "Watch"). Plain data, no locking: the
 * informer owns the live cache under its mutex and hands out deep copies.
 */
#ifndef GODWIT_AGENT_CACHE_H
#define GODWIT_AGENT_CACHE_H

#include <jansson.h>
#include <stdint.h>

#include "lib/kinds.h"

/* The agent caches the kinds of lib/kinds.h up to KIND_EVENT (the controller's
 * record, none of a datapath's business), indexed by them. */
enum cache_kind {
	CACHE_NETWORKS = KIND_NETWORK,
	CACHE_PORTS = KIND_PORT,
	CACHE_NODES = KIND_NODE,
	CACHE_VMS = KIND_VM,
	/* the source agent drives the hypervisor's side (vm_flow.h) */
	CACHE_MIGRATIONS = KIND_MIGRATION,
	CACHE__KINDS = KIND_EVENT
};

struct cache {
	json_t *objs[CACHE__KINDS]; /* JSON object: name -> object */
	uint64_t revision;
	/* How many times each kind changed (a list, a watch event that changed
	 * it): a reader compares them to tell what changed since it last looked. */
	uint64_t changes[CACHE__KINDS];
};

int cache_init(struct cache *c);
void cache_clear(struct cache *c); /* frees the objects; accepts a zeroed cache */
int cache_copy(const struct cache *src, struct cache *dst);

/* "networks" / "Network" -> kind; -1 when unknown. */
int cache_kind_from_path(const char *plural);
int cache_kind_from_name(const char *kind);
const char *cache_kind_path(enum cache_kind kind);

/* Replaces every object of kind with the items of a list reply
 * {"revision": R, "items": [...]}; *revision gets R. Nothing changes on error. */
int cache_load_list(struct cache *c, enum cache_kind kind, const json_t *reply,
		    uint64_t *revision);

/*
 * Applies one watch line. Returns 1 when objects changed, 0 when only the
 * revision moved (BOOKMARK, an event of a kind the agent does not cache),
 * -EINVAL for a line that is not a valid event (nothing changes;
 * the caller logs and skips it).
 */
int cache_apply_line(struct cache *c, const char *line, size_t len);

#endif

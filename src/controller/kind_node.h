/* SPDX-License-Identifier: MIT */
/*
 * kind_node: the Node kind's row (kind.h) and the nodes as this controller
 * sees them: their status reports with the age of each by the controller's
 * own clock (observer.h), and ready (age < NODE_READY_MS).
 */
#ifndef GODWIT_CONTROLLER_KIND_NODE_H
#define GODWIT_CONTROLLER_KIND_NODE_H

#include "kind.h"

/*
 * The stored status report of node name with what the controller computes:
 * age_ms (since its last report) and ready. -ENOENT when the node never
 * reported.
 */
int node_status_get(struct registry *reg, const char *name, json_t **out);

/* The nodes, sorted by name, each with its "status" when it reported, as
 * migration_decide() and vm_schedule() take them. */
int node_list(struct registry *reg, json_t **out);

/*
 * A status report of node name (PUT /v1/nodes/NAME/status, validated by
 * api_node_status_validate), stamped now; *out: the node as a reader sees it.
 * 404 for a node never registered.
 */
int node_status_report(struct registry *reg, const char *name, const json_t *body, json_t **out,
		       struct api_error *err);

#endif

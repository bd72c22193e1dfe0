/* SPDX-License-Identifier: MIT */
/*
 * vm: the VM kind (docs/VM.md) as pure functions on JSON objects: where a new
 * VM runs, what a PUT may change, what its status is, and how it follows its
 * Port through a migration. kind_vm.c does the store part (the VM row of kind.h).
 *
 * Design
 * - A VM owns one Port (same name, owner = the VM, type tap, network
 *   spec.network, locations [spec.node]); the Port carries the VM's MAC and
 *   IPv4 for its whole life. Both are written in one transaction.
 * - spec.node and spec.target belong to the controller: the scheduler sets
 *   spec.node at creation; a VM migration moves the Port as a port migration
 *   does, and the VM follows the Port (vm_follow_port): spec.target while the
 *   Port has one, spec.node = the Port's single location otherwise.
 * - The stored status holds what does not change (port, ipv4, mac, the
 *   effective memory and notes); phase and the rest are derived at every read
 *   from the status report of the VM's node (vm_status_derive), so a restarted
 *   controller has nothing to rebuild.
 */
#ifndef GODWIT_CONTROLLER_VM_H
#define GODWIT_CONTROLLER_VM_H

#include "api_objects.h"
#include "lib/catalog.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The ready node (nodes: as node_list() gives them, sorted by name)
 * with the fewest VMs (spec.node or spec.target) among vms; ties go to the
 * first by name. *node points into nodes. -ENOENT when no node is ready.
 */
int vm_schedule(const json_t *nodes, const json_t *vms, const char **node);

/*
 * PUT rules on a validated obj against the stored old (body: the client's
 * raw body): spec.running may change; the other fields the body gives must
 * equal the stored ones (422), the ones it leaves out are kept.
 */
int vm_merge(json_t *obj, const json_t *old, const json_t *body, struct api_error *err);

/* The status a new VM is stored with: port, ipv4, mac, memory_mib, notes. */
int vm_initial_status(const json_t *vm, const json_t *port, const struct catalog_image *img,
		      json_t **out);

/*
 * The status of vm as a reader sees it: the stored one plus phase, node,
 * target, ready, pid, console, reason and memory_mib from the report of the
 * VM's node. node is that Node with its "status" (age_ms, vms), or
 * NULL when it does not exist. Phases: Scheduled (no report yet), Starting,
 * Running (running and ready), Migrating (spec.target set), Stopped
 * (spec.running false, or reported stopped), Failed (reported, with reason).
 */
int vm_status_derive(const json_t *vm, const json_t *node, json_t **out);

/*
 * Makes vm follow its port: spec.target = the port's spec.target (or none);
 * without a target and with one location, spec.node = that location.
 * Returns whether vm changed.
 */
bool vm_follow_port(json_t *vm, const json_t *port);

/* The name of the VM's Port (status.port, else the VM's name). */
const char *vm_port_name(const json_t *vm);

#endif

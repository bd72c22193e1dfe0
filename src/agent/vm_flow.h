/* SPDX-License-Identifier: MIT */
/*
 * vm_flow: the source agent's part of a VM migration (docs/MIGRATION.md "VM
 * migrations"): it turns the Migration objects of the cache into QMP calls of
 * the vm manager and reports back to the controller.
 *
 * Design
 * - A thread of its own (QMP calls and HTTP requests block for up to seconds;
 *   the main loop must keep reconciling the datapath). The main loop hands it
 *   the Migrations at every reconcile (vm_flow_sync); it also looks every
 *   VM_FLOW_TICK_MS at the vm manager's migration state.
 * - Only migrations with spec.vm whose status.source is this node concern it.
 *   The decision is a pure function (vm_flow_decide) of the Migration, what
 *   this agent did for it (struct vm_flow_rec) and QEMU's state:
 *     Replicating/Running + status.incoming_uri, not started -> START
 *        (vm_migrate_start with spec.downtime_ms or --migrate-downtime-ms,
 *        spec.max_bandwidth_mib, then POST running; QEMU refusing -> POST fail);
 *     started, QEMU completed -> POST complete;
 *     started, QEMU failed/cancelled (not by us) -> POST fail with QEMU's error;
 *     Failed/Aborted while started or while QEMU still transfers -> RECOVER
 *        (vm_migrate_recover: migrate_cancel, `cont`: the guest runs on here).
 * - The target's side needs nothing here: its QEMU is started with -incoming
 *   by the vm manager while spec.target names the node, and quit when the
 *   controller clears spec.target.
 * - What it did lives in memory only: an agent restarted mid-transfer does
 *   not pick the transfer up again (the migration times out or fails).
 */
#ifndef GODWIT_AGENT_VM_FLOW_H
#define GODWIT_AGENT_VM_FLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/cache.h"
#include "agent/vm.h"

#define VM_FLOW_TICK_MS 50

struct vm_flow_config {
	const char *node, *server, *token;
	uint32_t downtime_ms; /* when the Migration gives no spec.downtime_ms; 0: default */
	struct vm_manager *vms;
};

struct vm_flow;

int vm_flow_start(const struct vm_flow_config *cfg, struct vm_flow **out);
void vm_flow_stop(struct vm_flow *f); /* accepts NULL */
/* The Migrations of a cache snapshot (copied). */
int vm_flow_sync(struct vm_flow *f, const struct cache *c);

enum vm_flow_action {
	VM_FLOW_NONE,
	VM_FLOW_START,	  /* migrate to status.incoming_uri, POST running */
	VM_FLOW_COMPLETE, /* POST complete */
	VM_FLOW_FAIL,	  /* POST fail with QEMU's error */
	VM_FLOW_RECOVER,  /* cancel the transfer, make sure the guest runs here */
};

/* What this agent did for one migration. */
struct vm_flow_rec {
	bool started;	/* vm_migrate_start succeeded (or failed: reported) */
	bool reported;	/* complete or fail was accepted by the controller */
	bool recovered; /* vm_migrate_recover ran after the end */
};

/* The next step for mig on node (pure; qemu may be NULL: VM not here). */
enum vm_flow_action vm_flow_decide(const json_t *mig, const char *node,
				   const struct vm_flow_rec *rec,
				   const struct vm_migrate_state *qemu);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vm_flow: the source agent's part of a VM migration (docs/MIGRATION.md "VM
 * migrations", the handover protocol of controller/migration_vm.h): it turns
 * the Migration objects of the cache into calls of the vm manager.
 *
 * Design
 * - A thread of its own (connecting and QMP calls block; the main loop must
 *   keep reconciling the datapath). The main loop hands it the Migrations at
 *   every reconcile (vm_flow_sync); it also looks every VM_FLOW_TICK_MS at
 *   the vm manager's state of each VM.
 * - Only migrations with spec.vm whose status.source is this node concern
 *   it. The decision is a pure function (vm_flow_decide) of the Migration
 *   and the VM's state here; nothing of it lives only in memory: the vm
 *   manager keeps (and an agent restarted mid-transfer adopts) the transfer,
 *   and the controller reads it from the node's reports, not from requests:
 *     Replicating/Running, status.incoming_uri, no transfer of it yet, not
 *        ending -> START (connect with bounded buffers, vm_migrate_start);
 *     ending (status.cancel, or Failed/Aborted) -> CANCEL (shut the
 *        transfer's socket down, or decline the Migration);
 *     Failed/Aborted, its transfer ended, the guest paused -> RESUME (`cont`
 *        only when the transfer did not complete, or status.resume_source).
 * - A guest whose transfer completed is never resumed because a migration
 *   failed: the target has it (the old rule that did is a defect).
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
	const char *node;
	uint32_t downtime_ms;	 /* when the Migration gives no spec.downtime_ms; 0: default */
	unsigned int buffer_kib; /* the migration socket's send buffer (migsock.h) */
	const char *stream_secret; /* unwraps a Migration's TLS key (lib/migtls.h); may be NULL */
	struct vm_manager *vms;
};

struct vm_flow;

int vm_flow_start(const struct vm_flow_config *cfg, struct vm_flow **out);
void vm_flow_stop(struct vm_flow *f); /* accepts NULL */
/* The Migrations of a cache snapshot (copied). */
int vm_flow_sync(struct vm_flow *f, const struct cache *c);

enum vm_flow_action {
	VM_FLOW_NONE,
	VM_FLOW_START,	/* connect to status.incoming_uri, vm_migrate_start */
	VM_FLOW_CANCEL, /* vm_migrate_cancel: shut down, or decline */
	VM_FLOW_RESUME, /* vm_migrate_resume */
};

/* The next step for mig on node (pure; qemu NULL: the VM is not here). */
enum vm_flow_action vm_flow_decide(const json_t *mig, const char *node,
				   const struct vm_migrate_state *qemu);

#endif

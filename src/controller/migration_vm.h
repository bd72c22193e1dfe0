/* SPDX-License-Identifier: MIT */
/*
 * migration_vm: the hypervisor's side of a VM migration (spec.vm set), as
 * pure functions used by migration_decide (docs/MIGRATION.md "VM
 * migrations"). The agents report each VM in their node status (vms[VM]:
 * phase, reason, events {STOP, RESUME} in realtime ns, incoming_uri,
 * migration {status, transferred, ...}); from those the controller
 *
 * - publishes the target's status.incoming_uri (the source agent migrates to
 *   it) and, while Running, the source's status.progress;
 * - records the figures: stop_unix_ns (source STOP), resume_unix_ns (target
 *   RESUME), vm_blackout_ms, qemu_downtime_ms, first_frame_to_activation_ms;
 * - fails the migration when the target's QEMU exits before Switched.
 *
 * Reports from an earlier migration of the same VM must not count: events
 * older than the migration's creation are ignored, the target's reports need
 * applied_revision >= the creation revision, and the source's transfer figures
 * count only once the transfer was started (POST running).
 */
#ifndef GODWIT_CONTROLLER_MIGRATION_VM_H
#define GODWIT_CONTROLLER_MIGRATION_VM_H

#include "migration.h"

/* Waiting for the hypervisor's figures after `complete` at most this long. */
#define MIGRATION_VM_FIGURES_WAIT_MS 2000

/* Whether mig migrates a VM (spec.vm). */
bool migration_is_vm(const json_t *mig);

/*
 * Status fields (d->status) and figures (d->figures) from the reports.
 * target/source: the Node objects with "status" (may be NULL).
 */
int migration_vm_observe(const json_t *mig, enum migration_phase cur, const json_t *source,
			 const json_t *target, struct migration_decision *d);

/* Figures computed from others (vm_blackout_ms, first_frame_to_activation_ms). */
int migration_vm_derive(const json_t *mig, struct migration_decision *d);

/* true (and reason) when the target's QEMU failed during this migration. */
bool migration_vm_target_failed(const json_t *mig, const json_t *target, char *reason,
				size_t size);

/*
 * Whether Succeeded may be entered after `complete`: every figure is known
 * (stored or in d), or MIGRATION_VM_FIGURES_WAIT_MS have passed (then a
 * note names what is missing).
 */
bool migration_vm_figures_ready(const json_t *mig, int64_t now_ms, struct migration_decision *d);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * migration_vm: the hypervisor's side of a VM migration (spec.vm set), as
 * pure functions used by migration_decide (docs/MIGRATION.md "VM
 * migrations"), and the handover protocol that keeps a guest running exactly
 * once whatever fails.
 *
 * The handover protocol
 * - Where the guest may run is decided by QEMU alone: the source's transfer
 *   reaching `completed` moves the guest to the target (the target QEMU has
 *   the whole state and resumes on its own; the source QEMU stays in
 *   postmigrate and never resumes by itself). A transfer that ends `failed`
 *   or `cancelled` leaves it on the source (the target never got the end of
 *   the stream: QEMU runs with suppress-vmdesc, so the end-of-state marker is
 *   the last byte, and the agents cancel by shutting the migration socket,
 *   never with migrate_cancel, whose race with completion can report
 *   `cancelled` after the target got everything).
 * - The controller only follows: every terminal step needs evidence from the
 *   side that holds the guest, named by migration (never by clock):
 *     source report vms[VM].migration {name: M, status, ...}: completed ->
 *       the guest is on the target; failed/cancelled -> on the source;
 *     source report vms[VM].declined == M: the source will never start M;
 *     target report vms[VM].incoming {migration: M, state, ran}: ran (RESUME
 *       seen, or the QEMU runs after the transfer) or the port active on the
 *       target -> on the target; failed/aborted without ran -> the target
 *       never ran it (then, and only then, the source may `cont` a guest
 *       whose transfer completed: status.resume_source).
 * - Ending a migration that may be transferring (phases Replicating and
 *   Running: an abort, a reported failure, a timeout) is a request first:
 *   status.cancel {phase, reason} is recorded, the phase stays, both agents
 *   cancel (the source shuts its migration socket or declines to start, the
 *   target aborts its incoming side), and the migration ends as the evidence
 *   says: Failed/Aborted with the guest on the source, or Switched when the
 *   transfer had already completed ("came too late").
 * - Switched (the guest is on the target) ends Succeeded once the target
 *   confirms it runs the guest; only then is the source QEMU quit (the VM's
 *   spec.node moves). Unconfirmed after MIGRATION_VM_CONFIRM_MS it ends
 *   Succeeded all the same (the source's `completed` is QEMU's word that the
 *   target has the guest), with a note.
 * - Bounds: each phase before the transfer has spec.timeout_s from when it
 *   began; the transfer ends when it makes no progress for
 *   spec.progress_timeout_s or runs past spec.completion_timeout_per_gib_s
 *   per GiB of guest memory (at least MIGRATION_COMPLETION_MIN_S); a cancel
 *   waits for either side to confirm (it cannot know otherwise where the
 *   guest runs), with a note naming them.
 *
 * Figures: the source's transfer record carries stop_unix_ns (QMP STOP),
 * handoff_unix_ns, handoff_drained and QEMU's downtime; the target's incoming
 * record resume_unix_ns (QMP RESUME): vm_blackout_ms and the rest follow.
 */
#ifndef GODWIT_CONTROLLER_MIGRATION_VM_H
#define GODWIT_CONTROLLER_MIGRATION_VM_H

#include "migration.h"

/* Waiting for the hypervisor's figures in Switched at most this long. */
#define MIGRATION_VM_FIGURES_WAIT_MS 2000
/* Switched without the target's confirmation that the guest runs there. */
#define MIGRATION_VM_CONFIRM_MS 60000
/* A cancel not confirmed by either side gets a note after this long. */
#define MIGRATION_VM_CANCEL_NOTE_MS 10000

/* Whether mig migrates a VM (spec.vm). */
bool migration_is_vm(const json_t *mig);

/*
 * Status fields (d->status: incoming_uri, progress) and figures (d->figures)
 * from the reports. source/target: the Node objects with "status" (may be
 * NULL).
 */
int migration_vm_observe(const json_t *mig, enum migration_phase cur, const json_t *source,
			 const json_t *target, struct migration_decision *d);

/* Figures computed from others (vm_blackout_ms, first_frame_to_activation_ms). */
int migration_vm_derive(const json_t *mig, struct migration_decision *d);

/* true (and reason) when the target's QEMU failed during this migration. */
bool migration_vm_target_failed(const json_t *mig, const json_t *target, char *reason, size_t size);

/* The decision from phase Replicating on (the handover protocol above). */
int migration_vm_decide_transfer(const json_t *mig, enum migration_phase cur, const json_t *nodes,
				 const struct migration_clock *c, struct migration_decision *d);

#endif

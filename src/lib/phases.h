/* SPDX-License-Identifier: MIT */
/*
 * phases: the state words of the API, one table each with its JSON names, so
 * that a program compares enums and no file spells a phase out.
 *
 * - migration_phase: a Migration's status.phase (docs/API.md), in the order
 *   the state machine walks it; the last three are final.
 * - migration_action: what a client POSTs to /v1/migrations/NAME/ACTION,
 *   recorded in status.requested.ACTION.
 * - vm_phase: a VM's status.phase as the controller derives it.
 * - vm_state: what an agent reports of a VM it runs (the node status's
 *   vms.NAME.phase, lower case: "running", "incoming", ...).
 * - vm_incoming_state: how the incoming QEMU of a Migration fared, as the
 *   target's agent reports it (vms.NAME.incoming.state) and records it.
 * - port_state: what an agent reports of a port (ports.NAME.state); the
 *   datapath's HANDOFF is reported as active.
 * - strategy: a Port's or Migration's spec.strategy, how the target's port
 *   activates (docs/API.md "Activation").
 *
 * Each has NAME_name(value) -> its JSON name ("?" for a value out of range),
 * NAME_parse(text, &value) -> 0, or -EINVAL (NULL or an unknown word;
 * value untouched), and NAME_is(text, value). A word is added in one place:
 * the enum and its row in phases.c (whose PHASES_TABLE defines the three);
 * strategies come from the datapath's list (bpf/abi.h GW_ACTIVATIONS).
 */
#ifndef GODWIT_LIB_PHASES_H
#define GODWIT_LIB_PHASES_H

#include "bpf/abi.h"

#include <stdbool.h>

enum migration_phase {
	MIGRATION_PENDING,
	MIGRATION_TARGET_READY,
	MIGRATION_REPLICATING,
	MIGRATION_RUNNING,
	MIGRATION_SWITCHED,
	MIGRATION_SUCCEEDED,
	MIGRATION_FAILED,
	MIGRATION_ABORTED,
	MIGRATION_PHASE_COUNT,
};

const char *migration_phase_name(enum migration_phase p);
int migration_phase_parse(const char *name, enum migration_phase *p);
static inline bool migration_phase_finished(enum migration_phase p)
{
	return p >= MIGRATION_SUCCEEDED;
}
/* As the demo prints it ("target ready"); the JSON name when it has none. */
const char *migration_phase_label(enum migration_phase p);
/* Failed or aborted: finished without the VM moving. */
static inline bool migration_phase_failed(enum migration_phase p)
{
	return p == MIGRATION_FAILED || p == MIGRATION_ABORTED;
}
/* Whether text names a final phase (false for NULL or an unknown word). */
bool migration_phase_name_finished(const char *text);
/* Whether text names phase p (false for NULL or an unknown word). */
bool migration_phase_is(const char *text, enum migration_phase p);

enum migration_action {
	MIGRATION_ACTION_ABORT,
	MIGRATION_ACTION_RUNNING, /* port migrations: the hypervisor's transfer started */
	MIGRATION_ACTION_COMPLETE,
	MIGRATION_ACTION_FAIL, /* with a reason */
	MIGRATION_ACTION_COUNT,
};

const char *migration_action_name(enum migration_action a);
int migration_action_parse(const char *name, enum migration_action *a);
bool migration_action_is(const char *text, enum migration_action a);

enum vm_phase {
	VM_PHASE_SCHEDULED,
	VM_PHASE_STARTING,
	VM_PHASE_RUNNING,
	VM_PHASE_STOPPED,
	VM_PHASE_FAILED,
	VM_PHASE_MIGRATING,
	VM_PHASE_COUNT,
};

const char *vm_phase_name(enum vm_phase p);
int vm_phase_parse(const char *name, enum vm_phase *p);
bool vm_phase_is(const char *text, enum vm_phase p);

enum vm_state {
	VM_STARTING,
	VM_RUNNING,
	VM_INCOMING,
	VM_STOPPED,
	VM_FAILED,
	VM_STATE_COUNT,
};

const char *vm_state_name(enum vm_state s);
int vm_state_parse(const char *name, enum vm_state *s);
bool vm_state_is(const char *text, enum vm_state s);

enum vm_incoming_state {
	VM_IN_NONE,
	VM_IN_LISTENING, /* the agent listens; QEMU waits for migrate-incoming */
	VM_IN_RECEIVING, /* QEMU reads the stream */
	VM_IN_COMPLETED, /* QEMU loaded it all (and runs the guest) */
	VM_IN_FAILED,	 /* QEMU ended before running the guest */
	VM_IN_ABORTED,	 /* the agent ended it (the Migration was ending) before it ran */
	VM_IN_LOST,	 /* QEMU went while the agent was away: whether it ran is unknown */
	VM_IN_STATE_COUNT,
};

const char *vm_incoming_state_name(enum vm_incoming_state s);
int vm_incoming_state_parse(const char *name, enum vm_incoming_state *s);
bool vm_incoming_state_is(const char *text, enum vm_incoming_state s);

enum port_state {
	PORT_STATE_ACTIVE,
	PORT_STATE_STANDBY,
	PORT_STATE_COUNT,
};

const char *port_state_name(enum port_state s);
int port_state_parse(const char *name, enum port_state *s);
bool port_state_is(const char *text, enum port_state s);

/* The datapath's list (bpf/abi.h GW_ACTIVATIONS): STRATEGY_X == GW_ACT_X. */
enum strategy {
#define STRATEGY_ENUM_(id, name) STRATEGY_##id = GW_ACT_##id,
	GW_ACTIVATIONS(STRATEGY_ENUM_)
#undef STRATEGY_ENUM_
	    STRATEGY_COUNT,
};
_Static_assert((int)STRATEGY_COUNT == (int)GW_ACT__MAX, "one strategy list");

/* The JSON names in enum order, NULL-terminated (for "one of a|b" checks);
 * the first is the default. */
extern const char *const strategy_names[STRATEGY_COUNT + 1];
/* "first-frame|rarp": every name, for usages and errors. */
extern const char *const strategy_choices;
const char *strategy_name(enum strategy s);
int strategy_parse(const char *name, enum strategy *s);
bool strategy_is(const char *text, enum strategy s);

#endif

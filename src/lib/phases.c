/* SPDX-License-Identifier: MIT */
#include "lib/phases.h"

#include <errno.h>
#include <string.h>

static const char *const migration_phase_names[MIGRATION_PHASE_COUNT] = {
    [MIGRATION_PENDING] = "Pending",	     [MIGRATION_TARGET_READY] = "TargetReady",
    [MIGRATION_REPLICATING] = "Replicating", [MIGRATION_RUNNING] = "Running",
    [MIGRATION_SWITCHED] = "Switched",	     [MIGRATION_SUCCEEDED] = "Succeeded",
    [MIGRATION_FAILED] = "Failed",	     [MIGRATION_ABORTED] = "Aborted",
};

static const char *const migration_phase_labels[MIGRATION_PHASE_COUNT] = {
    [MIGRATION_PENDING] = "created",
    [MIGRATION_TARGET_READY] = "target ready",
    [MIGRATION_REPLICATING] = "replication confirmed",
    [MIGRATION_RUNNING] = "running",
    [MIGRATION_SWITCHED] = "switched",
    [MIGRATION_SUCCEEDED] = "completed",
};

static const char *const migration_action_names[MIGRATION_ACTION_COUNT] = {
    [MIGRATION_ACTION_ABORT] = "abort",
    [MIGRATION_ACTION_RUNNING] = "running",
    [MIGRATION_ACTION_COMPLETE] = "complete",
    [MIGRATION_ACTION_FAIL] = "fail",
};

static const char *const vm_phase_names[VM_PHASE_COUNT] = {
    [VM_PHASE_SCHEDULED] = "Scheduled", [VM_PHASE_STARTING] = "Starting",
    [VM_PHASE_RUNNING] = "Running",	[VM_PHASE_STOPPED] = "Stopped",
    [VM_PHASE_FAILED] = "Failed",	[VM_PHASE_MIGRATING] = "Migrating",
};

static const char *const vm_state_names[VM_STATE_COUNT] = {
    [VM_STARTING] = "starting", [VM_RUNNING] = "running", [VM_INCOMING] = "incoming",
    [VM_STOPPED] = "stopped",	[VM_FAILED] = "failed",
};

static const char *const vm_incoming_state_names[VM_IN_STATE_COUNT] = {
    [VM_IN_NONE] = "none",	     [VM_IN_LISTENING] = "listening",
    [VM_IN_RECEIVING] = "receiving", [VM_IN_COMPLETED] = "completed",
    [VM_IN_FAILED] = "failed",	     [VM_IN_ABORTED] = "aborted",
    [VM_IN_LOST] = "lost",
};

static const char *const port_state_names[PORT_STATE_COUNT] = {
    [PORT_STATE_ACTIVE] = "active",
    [PORT_STATE_STANDBY] = "standby",
};

const char *const strategy_names[STRATEGY_COUNT + 1] = {
#define STRATEGY_NAME_(id, name) [STRATEGY_##id] = name,
    GW_ACTIVATIONS(STRATEGY_NAME_)
#undef STRATEGY_NAME_
	[STRATEGY_COUNT] = NULL,
};

#define STRATEGY_CHOICE_(id, name) "|" name
static const char strategy_choices_[] = GW_ACTIVATIONS(STRATEGY_CHOICE_);
#undef STRATEGY_CHOICE_
const char *const strategy_choices = strategy_choices_ + 1; /* without the first '|' */

static const char *name_of(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : "?";
}

/* The index of text in names[0..n), or -EINVAL. */
static int index_of(const char *const *names, int n, const char *text)
{
	for (int i = 0; text && i < n; i++)
		if (strcmp(names[i], text) == 0)
			return i;
	return -EINVAL;
}

/* NAME_name(), NAME_parse() and NAME_is() of one table (declared in phases.h). */
#define PHASES_TABLE(prefix, type, names, count)                                                   \
	const char *prefix##_name(type v)                                                          \
	{                                                                                          \
		return name_of(names, count, (int)v);                                              \
	}                                                                                          \
	int prefix##_parse(const char *text, type *out)                                            \
	{                                                                                          \
		int i = index_of(names, count, text);                                              \
                                                                                                   \
		if (i < 0)                                                                         \
			return i;                                                                  \
		*out = (type)i;                                                                    \
		return 0;                                                                          \
	}                                                                                          \
	bool prefix##_is(const char *text, type v)                                                 \
	{                                                                                          \
		return index_of(names, count, text) == (int)v;                                     \
	}

PHASES_TABLE(migration_phase, enum migration_phase, migration_phase_names, MIGRATION_PHASE_COUNT)
PHASES_TABLE(migration_action, enum migration_action, migration_action_names,
	     MIGRATION_ACTION_COUNT)
PHASES_TABLE(vm_phase, enum vm_phase, vm_phase_names, VM_PHASE_COUNT)
PHASES_TABLE(vm_state, enum vm_state, vm_state_names, VM_STATE_COUNT)
PHASES_TABLE(vm_incoming_state, enum vm_incoming_state, vm_incoming_state_names, VM_IN_STATE_COUNT)
PHASES_TABLE(port_state, enum port_state, port_state_names, PORT_STATE_COUNT)
PHASES_TABLE(strategy, enum strategy, strategy_names, STRATEGY_COUNT)

const char *migration_phase_label(enum migration_phase p)
{
	const char *label = name_of(migration_phase_labels, MIGRATION_PHASE_COUNT, (int)p);

	return label ? label : migration_phase_name(p);
}

bool migration_phase_name_finished(const char *text)
{
	enum migration_phase p;

	return migration_phase_parse(text, &p) == 0 && migration_phase_finished(p);
}

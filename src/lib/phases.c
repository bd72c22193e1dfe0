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

static const char *const vm_phase_names[VM_PHASE_COUNT] = {
    [VM_PHASE_SCHEDULED] = "Scheduled", [VM_PHASE_STARTING] = "Starting",
    [VM_PHASE_RUNNING] = "Running",	[VM_PHASE_STOPPED] = "Stopped",
    [VM_PHASE_FAILED] = "Failed",	[VM_PHASE_MIGRATING] = "Migrating",
};

static const char *const vm_state_names[VM_STATE_COUNT] = {
    [VM_STARTING] = "starting", [VM_RUNNING] = "running", [VM_INCOMING] = "incoming",
    [VM_STOPPED] = "stopped",	[VM_FAILED] = "failed",
};

static const char *const port_state_names[PORT_STATE_COUNT] = {
    [PORT_STATE_ACTIVE] = "active",
    [PORT_STATE_STANDBY] = "standby",
};

const char *const strategy_names[STRATEGY_COUNT + 1] = {
    [STRATEGY_FIRST_FRAME] = "first-frame",
    [STRATEGY_RARP] = "rarp",
    [STRATEGY_COUNT] = NULL,
};

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

const char *migration_phase_name(enum migration_phase p)
{
	return name_of(migration_phase_names, MIGRATION_PHASE_COUNT, (int)p);
}

int migration_phase_parse(const char *name, enum migration_phase *p)
{
	int i = index_of(migration_phase_names, MIGRATION_PHASE_COUNT, name);

	if (i < 0)
		return i;
	*p = (enum migration_phase)i;
	return 0;
}

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

bool migration_phase_is(const char *text, enum migration_phase p)
{
	return index_of(migration_phase_names, MIGRATION_PHASE_COUNT, text) == (int)p;
}

const char *vm_phase_name(enum vm_phase p)
{
	return name_of(vm_phase_names, VM_PHASE_COUNT, (int)p);
}

int vm_phase_parse(const char *name, enum vm_phase *p)
{
	int i = index_of(vm_phase_names, VM_PHASE_COUNT, name);

	if (i < 0)
		return i;
	*p = (enum vm_phase)i;
	return 0;
}

bool vm_phase_is(const char *text, enum vm_phase p)
{
	return index_of(vm_phase_names, VM_PHASE_COUNT, text) == (int)p;
}

const char *vm_state_name(enum vm_state s)
{
	return name_of(vm_state_names, VM_STATE_COUNT, (int)s);
}

int vm_state_parse(const char *name, enum vm_state *s)
{
	int i = index_of(vm_state_names, VM_STATE_COUNT, name);

	if (i < 0)
		return i;
	*s = (enum vm_state)i;
	return 0;
}

bool vm_state_is(const char *text, enum vm_state s)
{
	return index_of(vm_state_names, VM_STATE_COUNT, text) == (int)s;
}

const char *port_state_name(enum port_state s)
{
	return name_of(port_state_names, PORT_STATE_COUNT, (int)s);
}

int port_state_parse(const char *name, enum port_state *s)
{
	int i = index_of(port_state_names, PORT_STATE_COUNT, name);

	if (i < 0)
		return i;
	*s = (enum port_state)i;
	return 0;
}

bool port_state_is(const char *text, enum port_state s)
{
	return index_of(port_state_names, PORT_STATE_COUNT, text) == (int)s;
}

const char *strategy_name(enum strategy s)
{
	return name_of(strategy_names, STRATEGY_COUNT, (int)s);
}

int strategy_parse(const char *name, enum strategy *s)
{
	int i = index_of(strategy_names, STRATEGY_COUNT, name);

	if (i < 0)
		return i;
	*s = (enum strategy)i;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * What the decision functions (migration.c, migration_vm.c) share: reading
 * the nodes' reports, and filling a decision (migration.h "Helpers").
 */
#include "migration.h"
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool migration_node_ready(const json_t *node)
{
	json_t *age = json_object_get(obj_status(node), "age_ms");

	return json_is_integer(age) && json_integer_value(age) < NODE_READY_MS;
}

void migration_node_liveness(const json_t *node, char *buf, size_t size)
{
	json_t *age = json_object_get(obj_status(node), "age_ms");

	if (!json_is_integer(age))
		snprintf(buf, size, "no status report yet");
	else
		snprintf(buf, size, "last report %lld s ago",
			 (long long)(json_integer_value(age) / 1000));
}

const json_t *migration_find_node(const json_t *nodes, const char *name)
{
	const json_t *node;
	size_t i;

	if (!name)
		return NULL;
	json_array_foreach(nodes, i, node)
	{
		const char *n = obj_str(node, "metadata", "name");

		if (n && strcmp(n, name) == 0)
			return node;
	}
	return NULL;
}

int64_t migration_applied_revision(const json_t *node)
{
	return json_integer_value(json_object_get(obj_status(node), "applied_revision"));
}

bool migration_report_fresh(const json_t *mig, const json_t *node)
{
	json_int_t created =
	    json_integer_value(json_object_get(json_object_get(mig, "metadata"), "created"));

	return node && migration_applied_revision(node) >= created;
}

/* The node's report of the port (ports[P]), or NULL. */
static const json_t *port_report(const json_t *node, const char *port)
{
	return json_object_get(json_object_get(obj_status(node), "ports"), port);
}

const char *migration_port_state(const json_t *node, const char *port)
{
	return json_string_value(json_object_get(port_report(node, port), "state"));
}

void migration_finish(struct migration_decision *d, enum migration_phase p,
		      enum migration_port_change port, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->next = p;
	d->port = port;
}

void migration_note(struct migration_decision *d, const char *fmt, ...)
{
	va_list ap;

	if (d->note[0])
		return; /* one note per evaluation: the first cause */
	va_start(ap, fmt);
	vsnprintf(d->note, sizeof(d->note), fmt, ap);
	va_end(ap);
}

/* Figures from the target's report: activation time (once). */
static void activation_figures(const json_t *mig, const json_t *target, const char *port,
			       json_t *figures)
{
	const json_t *rep = port_report(target, port);
	json_t *have = json_object_get(obj_status(mig), "figures");
	json_t *ns = json_object_get(rep, "activated_unix_ns");
	json_t *mono = json_object_get(rep, "activated_mono_ns");

	if (json_is_integer(ns) && !json_object_get(have, "activation_unix_ns"))
		json_object_set_new(figures, "activation_unix_ns",
				    json_integer(json_integer_value(ns)));
	if (json_is_integer(mono) && !json_object_get(have, "activation_mono_ns"))
		json_object_set_new(figures, "activation_mono_ns",
				    json_integer(json_integer_value(mono)));
}

/*
 * The target's standby drop counter from its first report that shows the port
 * active (a report from before the activation, e.g. when `complete` came
 * first, would count the drops of the blackout as drops after the switch).
 */
static void switch_drops(const json_t *mig, const char *state, const json_t *drops, json_t *figures)
{
	const json_t *have = json_object_get(obj_status(mig), "figures");

	if (!port_state_is(state, PORT_STATE_ACTIVE) || !json_is_integer(drops) ||
	    json_object_get(have, "drops_standby_at_switch"))
		return;
	json_object_set_new(figures, "drops_standby_at_switch",
			    json_integer(json_integer_value(drops)));
}

void migration_port_figures(const json_t *mig, const json_t *target, struct migration_decision *d)
{
	const char *port = obj_str(mig, "spec", "port");

	if (!target)
		return;
	switch_drops(mig, migration_port_state(target, port),
		     json_object_get(obj_status(target), "drops_standby"), d->figures);
	activation_figures(mig, target, port, d->figures);
}

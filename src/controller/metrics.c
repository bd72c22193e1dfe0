/* SPDX-License-Identifier: MIT */
/* The controller's Prometheus metrics; the design note is in metrics.h. */
#include "metrics.h"

#include "kind.h"
#include "lib/phases.h"
#include "lib/promtext.h"
#include "registry.h"
#include "store.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds: from a millisecond switchover to a minute-long transfer. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				 0.5,	1,	2.5,   5,    10,    30,	  60,  300};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct histogram {
	unsigned long long count[N_BUCKETS]; /* per bucket, not cumulative */
	unsigned long long n;
	double sum;
};

struct metrics {
	pthread_mutex_t lock;
	unsigned long long finished[MIGRATION_PHASE_COUNT]; /* by final phase */
	struct histogram blackout, downtime, total;
	struct histogram in_phase[MIGRATION_PHASE_COUNT];
};

int metrics_new(struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static void observe(struct histogram *h, double seconds)
{
	size_t i = 0;

	if (!isfinite(seconds) || seconds < 0)
		return;
	while (i < N_BUCKETS && seconds > buckets[i])
		i++;
	if (i < N_BUCKETS)
		h->count[i]++;
	h->n++;
	h->sum += seconds;
}

static double figure_s(const json_t *mig, const char *name)
{
	const json_t *v = json_object_get(json_object_get(obj_status(mig), "figures"), name);

	return json_is_number(v) ? json_number_value(v) / 1000.0 : NAN;
}

void metrics_migration_finished(struct metrics *m, const json_t *mig)
{
	const json_t *phases = json_object_get(obj_status(mig), "phases"), *p, *next;
	enum migration_phase phase, outcome;
	size_t i;

	if (!m ||
	    migration_phase_parse(json_string_value(json_object_get(obj_status(mig), "phase")),
				  &outcome) < 0 ||
	    !migration_phase_finished(outcome))
		return;
	pthread_mutex_lock(&m->lock);
	m->finished[outcome]++;
	if (outcome == MIGRATION_SUCCEEDED) {
		observe(&m->blackout, figure_s(mig, "vm_blackout_ms"));
		observe(&m->downtime, figure_s(mig, "qemu_downtime_ms"));
		observe(&m->total, figure_s(mig, "total_ms"));
	}
	json_array_foreach(phases, i, p)
	{
		next = json_array_get(phases, i + 1);
		if (next && migration_phase_parse(json_string_value(json_object_get(p, "name")),
						  &phase) == 0)
			observe(&m->in_phase[phase],
				(json_number_value(json_object_get(next, "unix_ms")) -
				 json_number_value(json_object_get(p, "unix_ms"))) /
				    1000.0);
	}
	pthread_mutex_unlock(&m->lock);
}

/* A histogram's series; labels is "" or `key="value",`. */
static void series(FILE *f, const char *name, const char *labels, const struct histogram *h)
{
	unsigned long long cum = 0;
	size_t len = strlen(labels);

	for (size_t i = 0; i < N_BUCKETS; i++) {
		cum += h->count[i];
		fprintf(f, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, buckets[i], cum);
	}
	fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, h->n);
	/* labels without the trailing comma for _sum and _count */
	fprintf(f, "%s_sum%s%.*s%s %.6f\n", name, len ? "{" : "", len ? (int)len - 1 : 0, labels,
		len ? "}" : "", h->sum);
	fprintf(f, "%s_count%s%.*s%s %llu\n", name, len ? "{" : "", len ? (int)len - 1 : 0, labels,
		len ? "}" : "", h->n);
}

static void histogram(FILE *f, const char *name, const char *help, const struct histogram *h)
{
	promtext_header(f, name, "histogram", help);
	series(f, name, "", h);
}

static void render_finished(FILE *f, struct metrics *m)
{
	char labels[64];

	pthread_mutex_lock(&m->lock);
	promtext_header(
	    f, "godwit_migrations_finished_total", "counter",
	    "Migrations that reached a final phase while this controller ran, by outcome.");
	for (int p = 0; p < MIGRATION_PHASE_COUNT; p++)
		if (migration_phase_finished((enum migration_phase)p))
			fprintf(f, "godwit_migrations_finished_total{outcome=\"%s\"} %llu\n",
				migration_phase_name((enum migration_phase)p), m->finished[p]);
	histogram(f, "godwit_migration_blackout_seconds",
		  "VM blackout of succeeded migrations: QMP STOP on the source to RESUME on the "
		  "target.",
		  &m->blackout);
	histogram(f, "godwit_migration_qemu_downtime_seconds",
		  "QEMU's own reported downtime of succeeded migrations.", &m->downtime);
	histogram(f, "godwit_migration_duration_seconds",
		  "Succeeded migrations from their creation to Succeeded.", &m->total);
	promtext_header(f, "godwit_migration_phase_duration_seconds", "histogram",
			"Time finished migrations spent in each phase.");
	for (int p = 0; p < MIGRATION_PHASE_COUNT; p++) {
		if (!m->in_phase[p].n)
			continue;
		snprintf(labels, sizeof(labels), "phase=\"%s\",",
			 migration_phase_name((enum migration_phase)p));
		series(f, "godwit_migration_phase_duration_seconds", labels, &m->in_phase[p]);
	}
	pthread_mutex_unlock(&m->lock);
}

/* Counts of items by their status.phase, as `name{phase="P"} N` lines. */
static void by_phase(FILE *f, const char *name, const json_t *items, bool unfinished_only)
{
	unsigned long long n[MIGRATION_PHASE_COUNT] = {0};
	json_t *counts = json_object();
	const char *phase;
	const json_t *it;
	json_t *c;
	size_t i;

	json_array_foreach(items, i, it)
	{
		enum migration_phase p;

		phase = json_string_value(json_object_get(obj_status(it), "phase")) ?: "Unknown";
		if (unfinished_only) {
			if (migration_phase_parse(phase, &p) == 0 && !migration_phase_finished(p))
				n[p]++;
			continue;
		}
		c = json_object_get(counts, phase);
		json_object_set_new(counts, phase, json_integer(json_integer_value(c) + 1));
	}
	if (unfinished_only) {
		for (int p = 0; p < MIGRATION_PHASE_COUNT; p++)
			if (!migration_phase_finished((enum migration_phase)p))
				fprintf(f, "%s{phase=\"%s\"} %llu\n", name,
					migration_phase_name((enum migration_phase)p), n[p]);
	} else {
		json_object_foreach(counts, phase, c) fprintf(
		    f, "%s{phase=\"%s\"} %lld\n", name, phase, (long long)json_integer_value(c));
	}
	json_decref(counts);
}

static int list_items(struct registry *reg, enum kind kind, json_t **items)
{
	struct api_error err = {0};
	json_t *reply = NULL;
	int r;

	r = registry_list(reg, kind, &reply, &err);
	if (r < 0)
		return r;
	*items = json_incref(json_object_get(reply, "items"));
	json_decref(reply);
	return *items ? 0 : -EIO;
}

static int render_store(FILE *f, struct registry *reg)
{
	json_t *nodes = NULL, *vms = NULL, *migs = NULL;
	const json_t *node;
	long long ready = 0;
	int64_t rev = 0;
	size_t i;
	int r;

	reg->store->ops->revision(reg->store, &rev);
	r = list_items(reg, KIND_NODE, &nodes);
	if (r == 0)
		r = list_items(reg, KIND_VM, &vms);
	if (r == 0)
		r = list_items(reg, KIND_MIGRATION, &migs);
	if (r < 0)
		goto cleanup;
	promtext_header(f, "godwit_store_revision", "gauge", "The store's revision.");
	fprintf(f, "godwit_store_revision %lld\n", (long long)rev);
	json_array_foreach(nodes, i, node) ready +=
	    json_is_true(json_object_get(obj_status(node), "ready"));
	promtext_header(f, "godwit_nodes", "gauge", "Nodes by readiness (a report within 6 s).");
	fprintf(f, "godwit_nodes{ready=\"true\"} %lld\n", ready);
	fprintf(f, "godwit_nodes{ready=\"false\"} %lld\n",
		(long long)json_array_size(nodes) - ready);
	promtext_header(f, "godwit_node_apply_lag_revisions", "gauge",
			"The store's revision minus the revision the node's datapath applied.");
	json_array_foreach(nodes, i, node)
	{
		const json_t *applied = json_object_get(obj_status(node), "applied_revision");

		if (json_is_integer(applied))
			fprintf(f, "godwit_node_apply_lag_revisions{node=\"%s\"} %lld\n",
				obj_name(node), (long long)(rev - json_integer_value(applied)));
	}
	promtext_header(
	    f, "godwit_datapath_packets_total", "counter",
	    "Frames each node's datapath counted, by counter (bpf/abi.h GW_COUNTERS: "
	    "deliveries, floods, activations, handoffs, drops by reason), as last reported.");
	json_array_foreach(nodes, i, node)
	{
		const json_t *counters = json_object_get(obj_status(node), "counters"), *v;
		const char *name;

		json_object_foreach((json_t *)counters, name, v) if (json_is_integer(v))
		    fprintf(f, "godwit_datapath_packets_total{node=\"%s\",counter=\"%s\"} %lld\n",
			    obj_name(node), name, (long long)json_integer_value(v));
	}
	promtext_header(f, "godwit_vms", "gauge", "VirtualMachines by phase.");
	by_phase(f, "godwit_vms", vms, false);
	promtext_header(f, "godwit_migrations", "gauge", "Unfinished migrations by phase.");
	by_phase(f, "godwit_migrations", migs, true);
cleanup:
	json_decref(nodes);
	json_decref(vms);
	json_decref(migs);
	return r;
}

int metrics_render(struct metrics *m, struct registry *reg, char **text, size_t *len)
{
	struct promtext p;
	int r;

	r = promtext_open(&p);
	if (r < 0)
		return r;
	if (m)
		render_finished(p.f, m);
	r = render_store(p.f, reg);
	return promtext_close(&p, r, text, len);
}

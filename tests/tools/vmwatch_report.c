/* SPDX-License-Identifier: MIT */
/*
 * vmwatch's timeline and report. The timeline: when each QEMU ran, by QEMU's own event timestamps
 * (RESUME opens a span, STOP closes it; a QEMU first seen running opens one when it answers, one
 * that goes closes it at the last word heard from it). Two spans of different nodes that overlap
 * are a violation. Sampling alone cannot decide it: a target busy loading the state answers its
 * query-status only after its RESUME, while the source's answer came before its STOP, so one round
 * may see both running though they never did at once. Spans start at the latest and end at the
 * earliest instant known, so an overlap found is real.
 */
#include "vmwatch.h"

struct span {
	char node[NAME_MAX + 1];
	uint64_t from, to; /* unix ns */
};
static struct span *spans;
static size_t n_spans, cap_spans;

void span_open(struct node *nd, uint64_t from)
{
	nd->tl_known = nd->tl_running = true;
	nd->tl_from = from;
}

void span_close(struct node *nd, uint64_t to)
{
	struct span *s;

	nd->tl_known = true;
	if (!nd->tl_running)
		return;
	nd->tl_running = false;
	if (n_spans == cap_spans) {
		size_t cap = cap_spans ? cap_spans * 2 : 64;

		s = realloc(spans, cap * sizeof(*s));
		if (!s)
			return;
		spans = s;
		cap_spans = cap;
	}
	s = &spans[n_spans++];
	snprintf(s->node, sizeof(s->node), "%s", nd->name);
	s->from = nd->tl_from;
	s->to = to > nd->tl_from ? to : nd->tl_from;
}

/* Every span, the running ones closed now; and the overlaps among them. */
static json_t *timeline(const struct watch *w, json_t **overlaps)
{
	size_t n = n_spans;
	struct span *all = calloc(n_spans + w->n_nodes + 1, sizeof(*all));
	json_t *list = json_array();
	uint64_t now = (uint64_t)clock_unix_ns();

	*overlaps = json_array();
	if (!all || !list || !*overlaps) {
		free(all);
		return list;
	}
	if (n_spans) /* spans is NULL until the first one */
		memcpy(all, spans, n_spans * sizeof(*all));
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].tl_running) {
			snprintf(all[n].node, sizeof(all[n].node), "%s", w->nodes[i].name);
			all[n].from = w->nodes[i].tl_from;
			all[n++].to = now;
		}
	for (size_t i = 0; i < n; i++) {
		if (i < 1000)
			json_array_append_new(list,
					      json_pack("{s:s, s:I, s:I}", "node", all[i].node,
							"from_ns", (json_int_t)all[i].from, "to_ns",
							(json_int_t)all[i].to));
		for (size_t j = i + 1; j < n; j++) {
			uint64_t from = all[i].from > all[j].from ? all[i].from : all[j].from;
			uint64_t to = all[i].to < all[j].to ? all[i].to : all[j].to;

			if (strcmp(all[i].node, all[j].node) == 0 || from >= to)
				continue;
			json_array_append_new(
			    *overlaps, json_pack("{s:[s,s], s:I, s:I, s:f}", "nodes", all[i].node,
						 all[j].node, "from_ns", (json_int_t)from, "to_ns",
						 (json_int_t)to, "ms", (double)(to - from) / 1e6));
		}
	}
	free(all);
	return list;
}

static json_t *report(const struct watch *w)
{
	json_t *samples = json_object(), *triggers = json_array(), *now = json_array();

	for (size_t i = 0; i < w->n_nodes; i++) {
		const struct node *nd = &w->nodes[i];

		json_object_set_new(samples, nd->name, json_integer((json_int_t)nd->samples));
		if (nd->fd >= 0 && nd->answered && nd->running)
			json_array_append_new(now, json_string(nd->name));
	}
	for (size_t i = 0; i < w->n_triggers; i++) {
		const struct trigger *t = &w->triggers[i];
		json_t *o = json_pack("{s:s, s:b}", "spec", t->spec, "fired", t->fired);

		if (o && t->matched)
			json_object_set_new(o, "event_recv_ns",
					    json_integer((json_int_t)t->event_ns));
		if (o && t->unix_ns)
			json_object_set_new(o, "unix_ns", json_integer((json_int_t)t->unix_ns));
		if (o && t->err)
			json_object_set_new(o, "error", json_string(strerror(-t->err)));
		json_array_append_new(triggers, o);
	}
	json_t *overlaps = NULL, *spans_json = timeline(w, &overlaps);

	return json_pack("{s:s, s:i, s:I, s:o, s:i, s:o, s:I, s:o, s:O, s:I, s:O, s:I, s:o, s:o}",
			 "vm", w->vm, "interval_ms", w->interval_ms, "rounds",
			 (json_int_t)w->rounds, "samples_per_node", samples, "max_running",
			 w->max_running, "violations", overlaps, "violation_count",
			 (json_int_t)json_array_size(overlaps), "spans", spans_json,
			 "sampled_overlaps", w->sampled, "sampled_overlap_count",
			 (json_int_t)w->sample_overlaps, "events", w->events, "events_dropped",
			 (json_int_t)w->events_dropped, "triggers", triggers, "running_now", now);
}

/* FILE via FILE.tmp.PID and a rename: a reader never sees half of it. */
int report_write(const struct watch *w)
{
	json_t *root = report(w);
	char tmp[PATH_MAX];
	int r = 0;

	if (!root)
		return log_error_errno(-ENOMEM, "building the report");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", w->out, (int)getpid()) >= (int)sizeof(tmp)) {
		r = log_error_errno(-ENAMETOOLONG, "%s", w->out);
		goto cleanup;
	}
	if (json_dump_file(root, tmp, JSON_INDENT(2)) < 0) {
		r = log_error_errno(-EIO, "cannot write %s", tmp);
		unlink(tmp);
		goto cleanup;
	}
	if (rename(tmp, w->out) < 0) {
		r = log_error_errno(-errno, "cannot rename %s to %s", tmp, w->out);
		unlink(tmp);
	}
cleanup:
	json_decref(root);
	return r;
}

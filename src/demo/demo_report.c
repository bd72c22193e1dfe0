/* SPDX-License-Identifier: MIT */
/* The demo's report: pure functions from what the probe, the drill and the
 * Migration recorded to one JSON object, and its text for a person. */
#include "demo.h"
#include "lab/lab.h"
#include "lib/kinds.h"
#include "lib/phases.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A loss window belongs to the switchover when it overlaps [STOP, RESUME or
 * activation + this]: the first frames after RESUME may still be lost. */
#define SWITCHOVER_TAIL_MS 500
/* The picture shows this much before the migration's creation and after its end. */
#define TIMELINE_MARGIN_MS 1000
/* The longest gap between replies is looked for this long around the switchover. */
#define GAP_BEFORE_MS 500
#define GAP_AFTER_MS  1500
/* A guest that answers no probe sent this long after its resume has died:
 * a failed migration, whatever the network did. */
#define DEAD_AFTER_MS 1000

static const char csv_header[] = "seq,send_unix_ms,rtt_ms,dups";

int demo_parse_csv(const char *text, struct demo_sample **out, size_t *n)
{
	struct demo_sample *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = text;
	char *end;
	int r = 0;

	if (strncmp(p, csv_header, strlen(csv_header)) != 0)
		return -EINVAL;
	p = strchr(p, '\n');
	p = p ? p + 1 : text + strlen(text);
	while (*p) {
		struct demo_sample s = {.rtt_ms = -1};

		strtoull(p, &end, 10);
		if (end == p || *end != ',')
			goto bad;
		p = end + 1;
		s.send_unix_ms = strtod(p, &end);
		if (end == p || *end != ',')
			goto bad;
		p = end + 1;
		if (*p != ',') {
			s.rtt_ms = strtod(p, &end);
			if (end == p || *end != ',' || s.rtt_ms < 0)
				goto bad;
			p = end;
		}
		p++;
		s.dups = (unsigned)strtoul(p, &end, 10);
		if (end == p)
			goto bad;
		p = end;
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		else if (*p)
			goto bad;
		if (cnt == cap) {
			struct demo_sample *grown;

			cap = cap ? cap * 2 : 1024;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				r = -ENOMEM;
				goto cleanup;
			}
			v = grown;
		}
		v[cnt++] = s;
	}
	*out = v;
	*n = cnt;
	return 0;
bad:
	r = -EINVAL;
cleanup:
	free(v);
	return r;
}

/* A number, or NAN when absent; 0 and negatives count as absent (unset times). */
static double time_value(const json_t *v)
{
	double d = json_is_number(v) ? json_number_value(v) : NAN;

	return d > 0 ? d : NAN;
}

/* status.figures.key, else status.events.key (where a runner may record events). */
static const json_t *figure(const json_t *migration, const char *key)
{
	const json_t *status = json_object_get(migration, "status");
	const json_t *v = json_object_get(json_object_get(status, "figures"), key);

	if (!json_is_number(v))
		v = json_object_get(json_object_get(status, "events"), key);
	return json_is_number(v) ? v : NULL;
}

static double phase_time(const json_t *phases, const char *name)
{
	const json_t *p;
	size_t i;

	json_array_foreach(phases, i,
			   p) if (!strcmp(json_string_value(json_object_get(p, "name")) ?: "",
					  name)) return time_value(json_object_get(p, "unix_ms"));
	return NAN;
}

/* Milliseconds rounded to the microsecond (readable JSON). */
static json_t *json_ms(double ms)
{
	return isfinite(ms) ? json_real(round(ms * 1000.0) / 1000.0) : json_null();
}

static double max_finite(double a, double b)
{
	if (!isfinite(a))
		return b;
	if (!isfinite(b))
		return a;
	return a > b ? a : b;
}

static bool sample_lost(const struct demo_sample *s, double grace_ms)
{
	return s->rtt_ms < 0 || s->rtt_ms > grace_ms;
}

struct switchover {
	double t0, stop, resume, activation, blackout_ms;
};

static void learn_switchover(const struct demo_inputs *in, struct switchover *sw)
{
	const json_t *phases = json_object_get(json_object_get(in->migration, "status"), "phases");

	sw->t0 = time_value(json_object_get(json_array_get(phases, 0), "unix_ms"));
	sw->activation = time_value(figure(in->migration, "activation_unix_ns")) / 1e6;
	if (in->drill) {
		sw->stop = time_value(json_object_get(in->drill, "silence_unix_ns")) / 1e6;
		sw->resume = time_value(json_object_get(in->drill, "resume_unix_ns")) / 1e6;
		sw->blackout_ms =
		    json_is_number(json_object_get(in->drill, "blackout_us"))
			? json_number_value(json_object_get(in->drill, "blackout_us")) / 1000.0
			: NAN;
	} else {
		sw->stop = time_value(figure(in->migration, "stop_unix_ns")) / 1e6;
		sw->resume = time_value(figure(in->migration, "resume_unix_ns")) / 1e6;
		sw->blackout_ms = figure(in->migration, "vm_blackout_ms")
				      ? json_number_value(figure(in->migration, "vm_blackout_ms"))
				      : sw->resume - sw->stop;
	}
}

/* stop, resume and activation in the order they happened */
static json_t *rel_events(const struct switchover *sw)
{
	struct {
		const char *name;
		double t;
	} ev[] = {{"stop", sw->stop}, {"resume", sw->resume}, {"activation", sw->activation}}, tmp;
	json_t *a = json_array();
	size_t n = sizeof(ev) / sizeof(ev[0]);

	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && (!isfinite(ev[j - 1].t) || ev[j - 1].t > ev[j].t);
		     j--) {
			tmp = ev[j];
			ev[j] = ev[j - 1];
			ev[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		if (isfinite(ev[i].t))
			json_array_append_new(a, json_pack("{s:s, s:o}", "name", ev[i].name, "t_ms",
							   json_ms(ev[i].t - sw->t0)));
	return a;
}

static json_t *rel_phases(const json_t *phases, double t0, double *last)
{
	json_t *a = json_array();
	const json_t *p;
	size_t i;

	*last = t0;
	json_array_foreach(phases, i, p)
	{
		double t = time_value(json_object_get(p, "unix_ms"));

		if (!isfinite(t))
			continue;
		*last = t;
		json_array_append_new(
		    a, json_pack("{s:s, s:I}", "name",
				 json_string_value(json_object_get(p, "name")) ?: "?", "t_ms",
				 (json_int_t)llround(t - t0)));
	}
	return a;
}

/* The longest probe window overlapping the switchover (NULL when none). */
static const json_t *switchover_window(const json_t *probe, double lo, double hi)
{
	const json_t *w, *best = NULL;
	size_t i;

	json_array_foreach(json_object_get(probe, "windows"), i, w)
	{
		double ws = json_number_value(json_object_get(w, "start_unix_ms"));
		double we = json_number_value(json_object_get(w, "end_unix_ms"));
		double len = json_number_value(json_object_get(w, "length_ms"));

		if (we < lo || ws > hi + SWITCHOVER_TAIL_MS)
			continue;
		if (!best || len > json_number_value(json_object_get(best, "length_ms")))
			best = w;
	}
	return best;
}

/* The stream's stalls (the probe's, of 30 ms or more) at t_ms relative to t0. */
static json_t *rel_stalls(const json_t *stalls, double t0)
{
	json_t *out = json_array();
	const json_t *s;
	size_t i;

	json_array_foreach(stalls, i, s)
	{
		const json_t *at = json_object_get(s, "start_unix_ms");
		const json_t *len = json_object_get(s, "length_ms");

		if (out && json_is_number(at) && json_is_number(len))
			json_array_append_new(out, json_pack("{s:o, s:o}", "t_ms",
							     json_ms(json_number_value(at) - t0),
							     "length_ms",
							     json_ms(json_number_value(len))));
	}
	return out;
}

static json_t *tcp_summary(const json_t *tcp, double t0)
{
	const json_t *stall = json_object_get(tcp, "longest_stall_ms");

	if (!json_is_object(tcp))
		return json_pack("{s:b, s:b, s:I, s:I, s:I, s:n, s:[]}", "connected", 0, "reset", 0,
				 "bytes_sent", (json_int_t)0, "bytes_verified", (json_int_t)0,
				 "retransmits", (json_int_t)0, "longest_stall_ms", "stalls");
	return json_pack("{s:b, s:b, s:I, s:I, s:I, s:O, s:o}", "connected",
			 json_is_true(json_object_get(tcp, "connected")), "reset",
			 json_is_true(json_object_get(tcp, "reset")), "bytes_sent",
			 json_integer_value(json_object_get(tcp, "bytes_sent")), "bytes_verified",
			 json_integer_value(json_object_get(tcp, "bytes_verified")), "retransmits",
			 json_integer_value(json_object_get(tcp, "retransmits")),
			 "longest_stall_ms", json_is_number(stall) ? stall : json_null(), "stalls",
			 rel_stalls(json_object_get(tcp, "stalls"), t0));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The longest gap between two replies received within [from, to] (unix ms);
 * NAN with fewer than two there. */
static double longest_reply_gap(const struct demo_inputs *in, double grace_ms, double from,
				double to)
{
	double *t = malloc((in->n_samples + 1) * sizeof(*t)), gap = NAN;
	size_t n = 0;

	if (!t)
		return NAN;
	for (size_t i = 0; i < in->n_samples; i++) {
		const struct demo_sample *s = &in->samples[i];
		double at = s->send_unix_ms + s->rtt_ms;

		if (!sample_lost(s, grace_ms) && at > from && at < to)
			t[n++] = at;
	}
	if (n >= 2) {
		qsort(t, n, sizeof(*t), cmp_double);
		gap = 0;
		for (size_t i = 1; i < n; i++)
			if (t[i] - t[i - 1] > gap)
				gap = t[i] - t[i - 1];
	}
	free(t);
	return gap;
}

/* Whether the guest answered a probe sent after `after` (-1: no probe was
 * sent that late, so it cannot be told). */
static int answered_after(const struct demo_inputs *in, double after)
{
	int sent = 0;

	for (size_t i = 0; i < in->n_samples; i++) {
		if (in->samples[i].send_unix_ms < after)
			continue;
		sent = 1;
		if (!sample_lost(&in->samples[i], in->grace_ms))
			return 1;
	}
	return sent ? 0 : -1;
}

int demo_report(const struct demo_inputs *in, json_t **out)
{
	const json_t *status = json_object_get(in->migration, "status");
	const json_t *phases = json_object_get(status, "phases");
	const json_t *win, *fig;
	json_t *rep, *notes;
	struct switchover sw;
	long long sent = (long long)in->n_samples, lost = 0, dups = 0, lost_after = 0;
	long long standby = 0, early = 0;
	double lo, hi, last, from_ms, to_ms;
	bool early_measured = true;
	char verdict[96], note[256];
	int alive;

	if (!json_array_size(phases) ||
	    !isfinite(time_value(json_object_get(json_array_get(phases, 0), "unix_ms"))))
		return -EINVAL;
	learn_switchover(in, &sw);
	for (size_t i = 0; i < in->n_samples; i++) {
		const struct demo_sample *s = &in->samples[i];

		dups += s->dups;
		if (!sample_lost(s, in->grace_ms))
			continue;
		lost++;
		if (isfinite(sw.resume) && s->send_unix_ms > sw.resume)
			lost_after++;
	}
	fig = figure(in->migration, "standby_drops_after_switch");
	standby = fig ? (long long)json_number_value(fig) : 0;

	lo = isfinite(sw.stop) ? sw.stop
			       : phase_time(phases, migration_phase_name(MIGRATION_RUNNING));
	if (!isfinite(lo))
		lo = sw.t0;
	hi = max_finite(sw.resume, sw.activation);
	if (!isfinite(hi))
		hi = max_finite(phase_time(phases, migration_phase_name(MIGRATION_SWITCHED)),
				phase_time(phases, migration_phase_name(MIGRATION_SUCCEEDED)));
	if (!isfinite(hi))
		hi = lo;
	win = switchover_window(in->probe, lo, hi);

	if (in->drill) {
		early = json_integer_value(json_object_get(in->drill, "early_deliveries"));
	} else if ((fig = figure(in->migration, "early_deliveries"))) {
		early = (long long)json_number_value(fig);
	} else {
		early_measured = false;
	}

	rep = json_object();
	if (!rep)
		return -ENOMEM;
	notes = json_array();
	json_object_set_new(rep, "subject", json_string(in->subject));
	json_object_set_new(
	    rep, "migration",
	    json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?}", "name", obj_name(in->migration), "source",
		      json_string_value(json_object_get(status, "source")), "target",
		      obj_str(in->migration, "spec", "target"), "strategy",
		      obj_str(in->migration, "spec", "strategy"), "phase",
		      json_string_value(json_object_get(status, "phase"))));
	json_object_set_new(rep, "vm_blackout_ms", json_ms(sw.blackout_ms));
	json_object_set_new(
	    rep, "loss_window_ms",
	    json_ms(win ? json_number_value(json_object_get(win, "length_ms")) : 0));
	json_object_set_new(
	    rep, "loss_window",
	    win ? json_pack(
		      "{s:o, s:o, s:I}", "start_ms",
		      json_ms(json_number_value(json_object_get(win, "start_unix_ms")) - sw.t0),
		      "end_ms",
		      json_ms(json_number_value(json_object_get(win, "end_unix_ms")) - sw.t0),
		      "lost", json_integer_value(json_object_get(win, "lost")))
		: json_null());
	if (isfinite(sw.resume)) {
		json_object_set_new(rep, "network_added_loss", json_integer(lost_after + standby));
		json_object_set_new(rep, "network_added_loss_detail",
				    json_pack("{s:I, s:I}", "probes_lost_after_resume",
					      (json_int_t)lost_after, "standby_drops_after_switch",
					      (json_int_t)standby));
		if (lost_after + standby == 0)
			snprintf(verdict, sizeof(verdict), "network added no loss");
		else
			snprintf(verdict, sizeof(verdict), "network added %lld lost probe%s",
				 lost_after + standby, lost_after + standby == 1 ? "" : "s");
	} else {
		json_object_set_new(rep, "network_added_loss", json_null());
		snprintf(verdict, sizeof(verdict),
			 "network-added loss not measured (no RESUME time recorded)");
	}
	alive = isfinite(hi) ? answered_after(in, hi + DEAD_AFTER_MS) : -1;
	json_object_set_new(rep, "guest_answers_after_migration",
			    alive < 0 ? json_null() : json_boolean(alive));
	if (alive == 0)
		snprintf(verdict, sizeof(verdict),
			 "the guest stopped answering after the migration: a failed migration");
	json_object_set_new(rep, "verdict", json_string(verdict));
	json_object_set_new(rep, "migration_failed", json_boolean(alive == 0));
	fig = figure(in->migration, "qemu_downtime_ms");
	json_object_set_new(rep, "qemu_downtime_ms",
			    fig ? json_incref((json_t *)fig) : json_null());
	json_object_set_new(
	    rep, "reply_gap_ms",
	    json_ms(longest_reply_gap(in, in->grace_ms, lo - GAP_BEFORE_MS, hi + GAP_AFTER_MS)));
	if ((fig = figure(in->migration, "stop_to_handoff_ms")))
		json_object_set_new(rep, "handoff",
				    json_pack("{s:o, s:O?}", "stop_to_handoff_ms",
					      json_ms(json_number_value(fig)), "tap_frames",
					      figure(in->migration, "handoff_tap_frames")));
	json_object_set_new(
	    rep, "duplicates",
	    json_integer(json_integer_value(json_object_get(in->probe, "duplicates"))));
	json_object_set_new(rep, "early_deliveries", json_integer(early));
	json_object_set_new(rep, "early_deliveries_measured", json_boolean(early_measured));
	json_object_set_new(rep, "tcp", tcp_summary(json_object_get(in->probe, "tcp"), sw.t0));
	if (in->sessions)
		json_object_set(rep, "sessions", (json_t *)in->sessions);
	json_object_set_new(rep, "probe",
			    json_pack("{s:I, s:I, s:I, s:o}", "rate_hz",
				      json_integer_value(json_object_get(in->probe, "rate_hz")),
				      "sent", (json_int_t)sent, "lost", (json_int_t)lost,
				      "grace_ms", json_ms(in->grace_ms)));
	json_object_set_new(rep, "phases", rel_phases(phases, sw.t0, &last));
	json_object_set_new(rep, "events", rel_events(&sw));
	if (in->drill)
		json_object_set(rep, "first_frame_to_activation_us",
				json_object_get(in->drill, "first_frame_to_activation_us")
				    ?: json_null());
	else if ((fig = figure(in->migration, "first_frame_to_activation_us")))
		json_object_set_new(rep, "first_frame_to_activation_us",
				    json_integer((json_int_t)json_number_value(fig)));
	else
		json_object_set_new(
		    rep, "first_frame_to_activation_us",
		    isfinite(sw.activation) && isfinite(sw.resume)
			? json_integer((json_int_t)llround((sw.activation - sw.resume) * 1000.0))
			: json_null());
	from_ms = -TIMELINE_MARGIN_MS;
	to_ms = max_finite(last, max_finite(sw.resume, sw.activation)) - sw.t0 + TIMELINE_MARGIN_MS;
	json_object_set_new(rep, "timeline",
			    json_pack("{s:o, s:o, s:o}", "from_ms", json_ms(from_ms), "to_ms",
				      json_ms(to_ms), "t0_unix_ms", json_ms(sw.t0)));
	json_object_set_new(
	    rep, "machine",
	    json_pack("{s:i, s:s}", "cores", in->cores, "kernel", in->kernel ? in->kernel : "?"));
	json_object_set_new(rep, "generated_at",
			    json_string(in->generated_at ? in->generated_at : ""));

	/* What the probe said itself must agree with its per-probe record. */
	if (json_integer_value(json_object_get(in->probe, "sent")) != sent) {
		snprintf(note, sizeof(note), "the probe reported %lld sent, its record has %lld",
			 (long long)json_integer_value(json_object_get(in->probe, "sent")), sent);
		json_array_append_new(notes, json_string(note));
	}
	if (json_integer_value(json_object_get(in->probe, "lost")) != lost) {
		snprintf(note, sizeof(note), "the probe reported %lld lost, its record has %lld",
			 (long long)json_integer_value(json_object_get(in->probe, "lost")), lost);
		json_array_append_new(notes, json_string(note));
	}
	if (json_integer_value(json_object_get(in->probe, "duplicates")) != dups) {
		snprintf(
		    note, sizeof(note), "the probe reported %lld duplicates, its record has %lld",
		    (long long)json_integer_value(json_object_get(in->probe, "duplicates")), dups);
		json_array_append_new(notes, json_string(note));
	}
	if (json_array_size(json_object_get(in->probe, "windows")) > (win ? 1u : 0u)) {
		snprintf(note, sizeof(note), "%zu loss window(s) away from the switchover",
			 json_array_size(json_object_get(in->probe, "windows")) - (win ? 1 : 0));
		json_array_append_new(notes, json_string(note));
	}
	json_object_set_new(rep, "notes", notes);
	*out = rep;
	return 0;
}

static const char *pretty_phase(const char *name)
{
	enum migration_phase p;

	return migration_phase_parse(name, &p) == 0 ? migration_phase_label(p) : name;
}

/* The seed's SSH sessions (demo_sessions.c), when they ran. */
static void print_sessions(FILE *f, const json_t *s)
{
	const json_t *ping = json_object_get(s, "ping"), *tcp = json_object_get(s, "outbound_tcp");

	if (!json_is_object(s))
		return;
	fprintf(f, "  %-26s %s\n", "SSH sessions (godwit ssh)",
		json_is_true(json_object_get(s, "survived")) ? "survived the migration, status 0"
							     : "DID NOT SURVIVE");
	if (json_is_integer(json_object_get(ping, "sent")))
		fprintf(f, "  %-26s %lld sent, %lld lost at 100/s, from inside the guest\n",
			"ping " LAB_OUTSIDE_HOST,
			(long long)json_integer_value(json_object_get(ping, "sent")),
			(long long)json_integer_value(json_object_get(ping, "lost")));
	else
		fprintf(f, "  %-26s no summary\n", "ping " LAB_OUTSIDE_HOST);
	fprintf(f, "  %-26s %lld of %lld lines back from %s's echo%s\n", "outbound TCP (SNAT)",
		(long long)json_integer_value(json_object_get(tcp, "lines_back")),
		(long long)json_integer_value(json_object_get(tcp, "lines_sent")), LAB_OUTSIDE_HOST,
		json_is_true(json_object_get(tcp, "in_order")) ? ", all in order" : ", NOT WHOLE");
}

void demo_print_report(FILE *f, const json_t *rep, const char *out_dir, bool have_png)
{
	const json_t *tcp = json_object_get(rep, "tcp"), *probe = json_object_get(rep, "probe");
	const json_t *detail = json_object_get(rep, "network_added_loss_detail"), *p;
	const json_t *ff = json_object_get(rep, "first_frame_to_activation_us");
	bool vm = !strcmp(json_string_value(json_object_get(rep, "subject")) ?: "", "vm");
	size_t i;

	fprintf(f, "\n\033[1m%s\033[0m\n", json_string_value(json_object_get(rep, "verdict")));
	if (json_is_number(json_object_get(rep, "vm_blackout_ms")) &&
	    json_is_number(json_object_get(rep, "qemu_downtime_ms")))
		fprintf(f, "  %-26s %.1f ms (QEMU's own downtime %.0f ms)\n",
			"VM blackout (STOP->RESUME)",
			json_number_value(json_object_get(rep, "vm_blackout_ms")),
			json_number_value(json_object_get(rep, "qemu_downtime_ms")));
	else if (json_is_number(json_object_get(rep, "vm_blackout_ms")))
		fprintf(f, "  %-26s %.1f ms\n",
			vm ? "VM blackout (STOP->RESUME)" : "blackout (link down->up)",
			json_number_value(json_object_get(rep, "vm_blackout_ms")));
	else
		fprintf(f, "  %-26s not recorded\n",
			vm ? "VM blackout (STOP->RESUME)" : "blackout");
	fprintf(f, "  %-26s %.1f ms (%lld of %lld probes lost at %lld/s)", "client loss window",
		json_number_value(json_object_get(rep, "loss_window_ms")),
		(long long)json_integer_value(json_object_get(probe, "lost")),
		(long long)json_integer_value(json_object_get(probe, "sent")),
		(long long)json_integer_value(json_object_get(probe, "rate_hz")));
	if (json_is_number(json_object_get(rep, "reply_gap_ms")))
		fprintf(f, "; longest reply gap %.1f ms",
			json_number_value(json_object_get(rep, "reply_gap_ms")));
	fputc('\n', f);
	if (detail)
		fprintf(f, "  %-26s %lld (%lld probes lost after resume + %lld standby drops)\n",
			"network-added loss",
			(long long)json_integer_value(json_object_get(rep, "network_added_loss")),
			(long long)json_integer_value(
			    json_object_get(detail, "probes_lost_after_resume")),
			(long long)json_integer_value(
			    json_object_get(detail, "standby_drops_after_switch")));
	else
		fprintf(f, "  %-26s not measured\n", "network-added loss");
	if (json_object_get(rep, "handoff"))
		fprintf(f, "  %-26s %.3f ms after STOP (%lld frames from the source tap)\n",
			"handoff to the target",
			json_number_value(
			    json_object_get(json_object_get(rep, "handoff"), "stop_to_handoff_ms")),
			(long long)json_integer_value(
			    json_object_get(json_object_get(rep, "handoff"), "tap_frames")));
	fprintf(f, "  %-26s %lld\n", "duplicates",
		(long long)json_integer_value(json_object_get(rep, "duplicates")));
	if (json_is_true(json_object_get(rep, "early_deliveries_measured")))
		fprintf(f, "  %-26s %lld\n", "early deliveries",
			(long long)json_integer_value(json_object_get(rep, "early_deliveries")));
	else
		fprintf(f, "  %-26s not measured\n", "early deliveries");
	if (!json_is_true(json_object_get(tcp, "connected")))
		fprintf(f, "  %-26s not connected\n", "TCP");
	else
		fprintf(f,
			"  %-26s %s, %lld of %lld bytes verified, %lld retransmits, longest stall "
			"%.0f ms\n",
			"TCP", json_is_true(json_object_get(tcp, "reset")) ? "RESET" : "survived",
			(long long)json_integer_value(json_object_get(tcp, "bytes_verified")),
			(long long)json_integer_value(json_object_get(tcp, "bytes_sent")),
			(long long)json_integer_value(json_object_get(tcp, "retransmits")),
			json_number_value(json_object_get(tcp, "longest_stall_ms")));
	print_sessions(f, json_object_get(rep, "sessions"));
	if (json_is_number(ff))
		fprintf(f, "  %-26s %.3f ms\n",
			vm ? "resume -> activation" : "first frame -> activation",
			json_number_value(ff) / 1000.0);
	fprintf(f, "  %-26s", "phases (ms)");
	json_array_foreach(json_object_get(rep, "phases"), i, p)
	    fprintf(f, "%s%s +%lld", i ? ", " : " ",
		    pretty_phase(json_string_value(json_object_get(p, "name")) ?: "?"),
		    (long long)json_integer_value(json_object_get(p, "t_ms")));
	fputc('\n', f);
	if (json_array_size(json_object_get(rep, "events"))) {
		fprintf(f, "  %-26s", "events (ms)");
		json_array_foreach(json_object_get(rep, "events"), i, p)
		    fprintf(f, "%s%s +%.1f", i ? ", " : " ",
			    json_string_value(json_object_get(p, "name")) ?: "?",
			    json_number_value(json_object_get(p, "t_ms")));
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(rep, "notes"), i, p) if (i < 2)
	    fprintf(f, "  note: %s\n", json_string_value(p));
	fprintf(f, "  files: %s/report.json, %s/timeline.svg%s%s%s, %s/probe.csv\n", out_dir,
		out_dir, have_png ? ", " : "", have_png ? out_dir : "",
		have_png ? "/timeline.png" : "", out_dir);
}

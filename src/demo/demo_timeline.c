/* SPDX-License-Identifier: MIT */
/*
 * The demo's timeline picture (timeline.svg): x = ms since the migration was
 * created, y = each probe's RTT; lost probes are red ticks on the x axis, the
 * blackout is a shaded band, the client's loss window a bar under the axis,
 * and every phase and event a labelled vertical line. Labels are stacked in
 * rows above the plot so that close phases do not overwrite each other.
 * Below it, a zoom on the switchover (from a little before STOP to well after
 * RESUME): one tick per probe by its send time (answered, late: beyond the
 * probe's grace, lost, duplicated) and a lane with the TCP stream's stalls,
 * so that the loss window can be read against the VM's pause.
 */
#include "demo.h"
#include "lib/phases.h"
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W	    1000
#define PLOT_L	    70.0
#define PLOT_R	    970.0
#define PLOT_H	    300.0 /* the plot's height; the labels above it take what they need */
#define MARKS_MAX   32
#define LABEL_ROW_H 15.0
#define LABEL_TOP   92.0 /* under the title, the figures and the sessions' line */
#define PLOT_T	    (ax->top)
#define PLOT_B	    (ax->top + PLOT_H)
#define ZOOM_GAP    64.0 /* from the plot's bottom to the zoom panel's title */
#define ZOOM_H	    44.0 /* the probe lane */
#define TCP_H	    22.0 /* the TCP lane */
#define ZOOM_TOTAL  (ZOOM_GAP + 24 + ZOOM_H + 8 + TCP_H + 40)
#define ZOOM_BEFORE 40.0  /* ms shown before STOP */
#define ZOOM_AFTER  150.0 /* ms shown after RESUME (or the activation) */
#define H_OF(a)	    ((a)->top + PLOT_H + ZOOM_TOTAL + 70)
#define H	    H_OF(ax)
#define CHAR_W	    6.2 /* average width of an 11 px sans-serif character */

#define C_DOT	"#2b6cb0"
#define C_LOST	"#d62728"
#define C_BAND	"#f6ad55"
#define C_PHASE "#4a5568"
#define C_EVENT "#c05621"
#define C_ACT	"#2f855a"
#define C_GRID	"#e2e8f0"
#define C_TEXT	"#1a202c"
#define C_MUTED "#4a5568"
#define C_LATE	"#dd6b20"
#define C_DUP	"#805ad5"
#define C_STALL "#718096"

struct axis {
	double from, to; /* ms */
	double ymax;	 /* ms RTT */
	double top;	 /* y of the plot's top edge */
};

static double xpos(const struct axis *ax, double t)
{
	return PLOT_L + (t - ax->from) / (ax->to - ax->from) * (PLOT_R - PLOT_L);
}

static double ypos(const struct axis *ax, double rtt)
{
	if (rtt > ax->ymax)
		rtt = ax->ymax;
	return PLOT_B - rtt / ax->ymax * (PLOT_B - PLOT_T);
}

/* 1, 2, 5 × 10^k at or above v */
static double nice_step(double v)
{
	double p = pow(10, floor(log10(v)));

	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

static const char *label_of(const char *name)
{
	static const char *const map[][2] = {
	    {"stop", "STOP: blackout starts"},
	    {"resume", "RESUME"},
	    {"activation", "activation"},
	};

	enum migration_phase p;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(name, map[i][0]))
			return map[i][1];
	return migration_phase_parse(name, &p) == 0 ? migration_phase_label(p) : name;
}

struct mark {
	const char *name;
	double t;
	const char *color;
	bool event;
};

static int mark_cmp(const void *a, const void *b)
{
	double d = ((const struct mark *)a)->t - ((const struct mark *)b)->t;

	return d < 0 ? -1 : d > 0;
}

struct label {
	double x, lx, y;
	const char *anchor;
};

static size_t collect_marks(const json_t *rep, struct mark m[MARKS_MAX])
{
	const json_t *p;
	size_t n = 0, i;

	json_array_foreach(json_object_get(rep, "phases"), i, p) if (n < MARKS_MAX / 2) m[n++] =
	    (struct mark){json_string_value(json_object_get(p, "name")) ?: "?",
			  json_number_value(json_object_get(p, "t_ms")), C_PHASE, false};
	json_array_foreach(json_object_get(rep, "events"), i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name")) ?: "?";

		if (n < MARKS_MAX)
			m[n++] = (struct mark){name, json_number_value(json_object_get(p, "t_ms")),
					       !strcmp(name, "activation") ? C_ACT : C_EVENT, true};
	}
	qsort(m, n, sizeof(m[0]), mark_cmp);
	return n;
}

/* Each label right of its line (left near the right edge), in the first row
 * where it does not overlap the previous label; returns the rows used. */
static size_t layout_labels(const struct axis *ax, const struct mark *m, size_t n,
			    struct label *lab)
{
	double row_end[MARKS_MAX];
	size_t rows = 0;

	for (size_t i = 0; i < n; i++) {
		double x = xpos(ax, m[i].t);
		double w = (double)(strlen(label_of(m[i].name)) + 7) * CHAR_W;
		double left, right;
		size_t row = 0;

		lab[i] = (struct label){x, x + 3, 0, "start"};
		if (x + 3 + w > W - 4)
			lab[i] = (struct label){x, x - 3, 0, "end"};
		left = lab[i].anchor[0] == 's' ? lab[i].lx : lab[i].lx - w;
		right = lab[i].anchor[0] == 's' ? lab[i].lx + w : lab[i].lx;
		while (row < rows && row_end[row] > left - 4)
			row++;
		if (row == rows)
			rows++;
		row_end[row] = right;
		lab[i].y = LABEL_TOP + (double)row * LABEL_ROW_H;
	}
	return rows;
}

static void draw_marks(FILE *f, const struct axis *ax, const struct mark *m, size_t n,
		       const struct label *lab)
{
	for (size_t i = 0; i < n; i++) {
		svg_line(f, "phase", lab[i].x, lab[i].y - 10, lab[i].x, PLOT_B, m[i].color,
			 m[i].event ? 1.4 : 1.0, m[i].event ? NULL : "4 3");
		svg_text(f, lab[i].lx, lab[i].y, 11, lab[i].anchor, m[i].color, m[i].event,
			 "%s +%.1f", label_of(m[i].name), m[i].t);
	}
}

static void draw_axes(FILE *f, const struct axis *ax)
{
	double step = nice_step((ax->to - ax->from) / 10), ystep = nice_step(ax->ymax / 5);

	for (double t = ceil(ax->from / step) * step; t <= ax->to + 1e-9; t += step) {
		svg_line(f, NULL, xpos(ax, t), PLOT_T, xpos(ax, t), PLOT_B, C_GRID, 1, NULL);
		svg_text(f, xpos(ax, t), PLOT_B + 30, 11, "middle", C_MUTED, false, "%.0f", t);
	}
	for (double y = 0; y <= ax->ymax + 1e-9; y += ystep) {
		svg_line(f, NULL, PLOT_L, ypos(ax, y), PLOT_R, ypos(ax, y), C_GRID, 1, NULL);
		svg_text(f, PLOT_L - 6, ypos(ax, y) + 4, 11, "end", C_MUTED, false, "%g", y);
	}
	svg_line(f, NULL, PLOT_L, PLOT_B, PLOT_R, PLOT_B, C_TEXT, 1, NULL);
	svg_line(f, NULL, PLOT_L, PLOT_T, PLOT_L, PLOT_B, C_TEXT, 1, NULL);
	svg_text(f, (PLOT_L + PLOT_R) / 2, PLOT_B + 48, 12, "middle", C_TEXT, false,
		 "time since the migration was created (ms)");
	fprintf(f,
		"<text x=\"18\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" fill=\"%s\" "
		"transform=\"rotate(-90 18 %.1f)\">probe round-trip time (ms)</text>\n",
		(PLOT_T + PLOT_B) / 2, C_TEXT, (PLOT_T + PLOT_B) / 2);
}

static void draw_legend(FILE *f, const struct axis *ax, const json_t *rep)
{
	double y = H - 42;

	svg_circle(f, PLOT_L + 6, y - 4, 3, C_DOT);
	svg_text(f, PLOT_L + 14, y, 11, "start", C_TEXT, false, "reply (RTT)");
	svg_line(f, NULL, PLOT_L + 110, y - 10, PLOT_L + 110, y + 2, C_LOST, 2, NULL);
	svg_text(f, PLOT_L + 118, y, 11, "start", C_TEXT, false, "lost probe");
	svg_rect(f, NULL, PLOT_L + 205, y - 11, 16, 13, C_BAND, 0.35);
	svg_text(f, PLOT_L + 226, y, 11, "start", C_TEXT, false, "blackout (STOP to RESUME)");
	svg_rect(f, NULL, PLOT_L + 400, y - 7, 16, 5, C_LOST, 0.6);
	svg_text(f, PLOT_L + 421, y, 11, "start", C_TEXT, false, "client loss window");
	svg_text(f, PLOT_L, H - 16, 11, "start", C_MUTED, false,
		 "godwit lab demo, %s; %lld cores, Linux %s; probe at %lld/s",
		 json_string_value(json_object_get(rep, "generated_at")) ?: "",
		 (long long)json_integer_value(
		     json_object_get(json_object_get(rep, "machine"), "cores")),
		 json_string_value(json_object_get(json_object_get(rep, "machine"), "kernel"))
		     ?: "?",
		 (long long)json_integer_value(
		     json_object_get(json_object_get(rep, "probe"), "rate_hz")));
}

/* The seed's SSH sessions (demo_sessions.c), under the figures, when they ran. */
static void draw_sessions_line(FILE *f, const json_t *s)
{
	const json_t *ping = json_object_get(s, "ping"), *tcp = json_object_get(s, "outbound_tcp");

	if (!json_is_object(s))
		return;
	svg_text(
	    f, PLOT_L, 70, 12, "start",
	    json_is_true(json_object_get(s, "survived")) ? C_ACT : C_LOST, false,
	    "godwit ssh sessions %s  ·  in-guest ping to %s: %lld of %lld lost  ·  outbound TCP "
	    "through SNAT: %lld of %lld lines back%s",
	    json_is_true(json_object_get(s, "survived")) ? "survived" : "DID NOT SURVIVE",
	    json_string_value(json_object_get(ping, "target")) ?: "?",
	    (long long)json_integer_value(json_object_get(ping, "lost")),
	    (long long)json_integer_value(json_object_get(ping, "sent")),
	    (long long)json_integer_value(json_object_get(tcp, "lines_back")),
	    (long long)json_integer_value(json_object_get(tcp, "lines_sent")),
	    json_is_true(json_object_get(tcp, "in_order")) ? ", in order" : ", NOT WHOLE");
}

static void draw_title(FILE *f, const json_t *rep)
{
	const json_t *mig = json_object_get(rep, "migration");
	const json_t *bo = json_object_get(rep, "vm_blackout_ms");
	const json_t *tcp = json_object_get(rep, "tcp");
	char blackout[48] = "not recorded";

	if (json_is_number(bo))
		snprintf(blackout, sizeof(blackout), "%.1f ms", json_number_value(bo));
	svg_text(f, PLOT_L, 30, 18, "start", C_TEXT, true, "Live migration (%s %s -> %s): %s",
		 json_string_value(json_object_get(rep, "subject")) ?: "?",
		 json_string_value(json_object_get(mig, "source")) ?: "?",
		 json_string_value(json_object_get(mig, "target")) ?: "?",
		 json_string_value(json_object_get(rep, "verdict")) ?: "");
	svg_text(f, PLOT_L, 52, 13, "start", C_MUTED, false,
		 "blackout %s  ·  client loss window %.1f ms  ·  duplicates %lld  ·  TCP %s",
		 blackout, json_number_value(json_object_get(rep, "loss_window_ms")),
		 (long long)json_integer_value(json_object_get(rep, "duplicates")),
		 !json_is_true(json_object_get(tcp, "connected")) ? "not connected"
		 : json_is_true(json_object_get(tcp, "reset"))	  ? "RESET"
								  : "survived, byte-exact");
	draw_sessions_line(f, json_object_get(rep, "sessions"));
}

/* The blackout band between the stop and resume events, labelled inside. */
static void draw_band(FILE *f, const struct axis *ax, const json_t *rep)
{
	double stop = NAN, resume = NAN;
	const json_t *e, *w = json_object_get(rep, "loss_window");
	size_t i;

	json_array_foreach(json_object_get(rep, "events"), i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name")) ?: "";

		if (!strcmp(n, "stop"))
			stop = json_number_value(json_object_get(e, "t_ms"));
		else if (!strcmp(n, "resume"))
			resume = json_number_value(json_object_get(e, "t_ms"));
	}
	if (isfinite(stop) && isfinite(resume) && resume >= stop)
		svg_rect(f, "blackout", xpos(ax, stop), PLOT_T, xpos(ax, resume) - xpos(ax, stop),
			 PLOT_B - PLOT_T, C_BAND, 0.35);
	if (json_is_object(w)) {
		double s = json_number_value(json_object_get(w, "start_ms"));
		double en = json_number_value(json_object_get(w, "end_ms"));

		svg_rect(f, "loss-window", xpos(ax, s), PLOT_B + 6, xpos(ax, en) - xpos(ax, s), 5,
			 C_LOST, 0.6);
	}
}

static void draw_probes(FILE *f, const struct axis *ax, const struct demo_sample *s, size_t n,
			double t0)
{
	fprintf(f, "<g class=\"probes\">\n");
	for (size_t i = 0; i < n; i++) {
		double t = s[i].send_unix_ms - t0;

		if (t < ax->from || t > ax->to)
			continue;
		if (s[i].rtt_ms < 0)
			svg_line(f, NULL, xpos(ax, t), PLOT_B - 9, xpos(ax, t), PLOT_B, C_LOST, 1.2,
				 NULL);
		else
			svg_circle(f, xpos(ax, t), ypos(ax, s[i].rtt_ms), 1.6, C_DOT);
	}
	fprintf(f, "</g>\n");
}

/* The report's event t_ms of name, NAN when absent. */
static double event_t(const json_t *rep, const char *name)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(rep, "events"), i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")) ?: "", name))
			return json_number_value(json_object_get(e, "t_ms"));
	}
	return NAN;
}

/* The zoom's probe lane: a tick per probe; a duplicate gets a dot above. */
static void draw_zoom_probes(FILE *f, const struct axis *z, double lane_t,
			     const struct demo_sample *s, size_t n, double t0, double grace_ms)
{
	fprintf(f, "<g class=\"zoom-probes\">\n");
	for (size_t i = 0; i < n; i++) {
		double t = s[i].send_unix_ms - t0, x = xpos(z, t);
		bool lost = s[i].rtt_ms < 0, late = !lost && s[i].rtt_ms > grace_ms;

		if (t < z->from || t > z->to)
			continue;
		svg_line(f,
			 lost	? "lost"
			 : late ? "late"
				: "answered",
			 x, lost || late ? lane_t : lane_t + ZOOM_H / 2, x, lane_t + ZOOM_H,
			 lost	? C_LOST
			 : late ? C_LATE
				: C_DOT,
			 1.2, NULL);
		if (s[i].dups)
			svg_circle(f, x, lane_t - 4, 2.2, C_DUP);
	}
	fprintf(f, "</g>\n");
}

/* The zoom's TCP lane: each stall of the stream as a bar, labelled. */
static void draw_zoom_tcp(FILE *f, const struct axis *z, double lane_t, const json_t *rep)
{
	const json_t *st;
	size_t i, shown = 0;

	svg_text(f, PLOT_L - 6, lane_t + TCP_H / 2 + 4, 11, "end", C_MUTED, false, "TCP");
	json_array_foreach(json_object_get(json_object_get(rep, "tcp"), "stalls"), i, st)
	{
		double from = json_number_value(json_object_get(st, "t_ms"));
		double len = json_number_value(json_object_get(st, "length_ms"));
		double a = fmax(from, z->from), b = fmin(from + len, z->to);

		if (!(b > a))
			continue;
		svg_rect(f, "tcp-stall", xpos(z, a), lane_t, xpos(z, b) - xpos(z, a), TCP_H,
			 C_STALL, 0.45);
		svg_text(f, xpos(z, a) + 3, lane_t + TCP_H / 2 + 4, 11, "start", C_TEXT, false,
			 "stalled %.0f ms", len);
		shown++;
	}
	if (!shown)
		svg_text(f, PLOT_L + 4, lane_t + TCP_H / 2 + 4, 11, "start", C_MUTED, false,
			 "no stall of 30 ms or more");
}

static void draw_zoom_key(FILE *f, double x, double y)
{
	static const struct {
		const char *name, *color;
	} keys[] = {{"answered", C_DOT}, {"late (after the grace)", C_LATE}, {"lost", C_LOST}};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		svg_line(f, NULL, x, y - 10, x, y + 2, keys[i].color, 2, NULL);
		svg_text(f, x + 6, y, 11, "start", C_TEXT, false, "%s", keys[i].name);
		x += 14 + (double)strlen(keys[i].name) * CHAR_W;
	}
	svg_circle(f, x, y - 4, 2.2, C_DUP);
	svg_text(f, x + 6, y, 11, "start", C_TEXT, false, "duplicate");
}

/* The zoom on the switchover, below the main plot; nothing without STOP and RESUME. */
static void draw_zoom(FILE *f, const struct axis *ax, const json_t *rep,
		      const struct demo_sample *s, size_t n, double t0)
{
	double stop = event_t(rep, "stop"), resume = event_t(rep, "resume");
	double act = event_t(rep, "activation"), top = PLOT_B + ZOOM_GAP;
	double grace =
	    json_number_value(json_object_get(json_object_get(rep, "probe"), "grace_ms"));
	double lane = top + 24, tcp_lane = lane + ZOOM_H + 8;
	struct axis z;
	double step;

	if (!isfinite(stop) || !isfinite(resume) || resume < stop)
		return;
	z = (struct axis){stop - ZOOM_BEFORE,
			  fmax(resume, isfinite(act) ? act : resume) + ZOOM_AFTER, 1, top};
	if (!(grace > 0))
		grace = INFINITY;
	fprintf(f, "<g class=\"zoom\">\n");
	svg_text(f, PLOT_L, top + 10, 12, "start", C_TEXT, true,
		 "The switchover, zoomed: one tick per probe, by its send time");
	draw_zoom_key(f, PLOT_L + 430, top + 10);
	svg_rect(f, "zoom-blackout", xpos(&z, stop), lane, xpos(&z, resume) - xpos(&z, stop),
		 tcp_lane + TCP_H - lane, C_BAND, 0.35);
	draw_zoom_probes(f, &z, lane, s, n, t0, grace);
	draw_zoom_tcp(f, &z, tcp_lane, rep);
	svg_line(f, NULL, PLOT_L, tcp_lane + TCP_H, PLOT_R, tcp_lane + TCP_H, C_TEXT, 1, NULL);
	step = nice_step((z.to - z.from) / 8);
	for (double t = ceil(z.from / step) * step; t <= z.to + 1e-9; t += step)
		svg_text(f, xpos(&z, t), tcp_lane + TCP_H + 16, 11, "middle", C_MUTED, false,
			 "%.0f", t);
	svg_text(f, PLOT_L - 6, lane + ZOOM_H / 2 + 4, 11, "end", C_MUTED, false, "probes");
	fprintf(f, "</g>\n");
}

int demo_timeline_svg(FILE *f, const json_t *rep, const struct demo_sample *s, size_t n)
{
	const json_t *tl = json_object_get(rep, "timeline");
	struct axis ax = {json_number_value(json_object_get(tl, "from_ms")),
			  json_number_value(json_object_get(tl, "to_ms")), 0, 0};
	double t0 = json_number_value(json_object_get(tl, "t0_unix_ms")), top = 0;
	struct mark marks[MARKS_MAX];
	struct label labels[MARKS_MAX];
	size_t nm;

	if (!(ax.to > ax.from))
		ax.to = ax.from + 1000;
	for (size_t i = 0; i < n; i++) {
		double t = s[i].send_unix_ms - t0;

		if (t >= ax.from && t <= ax.to && s[i].rtt_ms > top)
			top = s[i].rtt_ms;
	}
	ax.ymax = nice_step(top > 0 ? top * 1.1 : 1);
	nm = collect_marks(rep, marks);
	ax.top = LABEL_TOP + (double)layout_labels(&ax, marks, nm, labels) * LABEL_ROW_H + 6;
	svg_begin(f, W, (int)H_OF(&ax));
	draw_title(f, rep);
	draw_axes(f, &ax);
	draw_band(f, &ax, rep);
	draw_probes(f, &ax, s, n, t0);
	draw_marks(f, &ax, marks, nm, labels);
	draw_zoom(f, &ax, rep, s, n, t0);
	draw_legend(f, &ax, rep);
	return svg_end(f);
}

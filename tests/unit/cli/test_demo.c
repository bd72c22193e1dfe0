/* SPDX-License-Identifier: MIT */
/* `lab demo`'s report: from the probe's JSON and per-probe record and the
 * Migration (and the drill) to the figures, and the timeline picture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "demo.h"

#define T0 1764000000000.0 /* the migration's creation, unix ms */

/* A probe at 1000/s from T0 - 1000 ms for n ms; lost[] lists lost offsets (ms from T0). */
struct run {
	struct demo_sample s[4000];
	size_t n;
};

static void make_run(struct run *r, int from_ms, int to_ms)
{
	r->n = 0;
	for (int t = from_ms; t < to_ms; t++)
		r->s[r->n++] = (struct demo_sample){T0 + t, 0.25, 0};
}

static void lose(struct run *r, int from_ms, int to_ms)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->s[i].send_unix_ms >= T0 + from_ms && r->s[i].send_unix_ms < T0 + to_ms)
			r->s[i].rtt_ms = -1;
}

/* The probe's own JSON for the run: counts and loss windows as tally computes them. */
static json_t *probe_json(const struct run *r)
{
	json_t *windows = json_array();
	long long lost = 0, dups = 0;
	double last_ok = -1, start = -1;
	long long run_lost = 0;

	for (size_t i = 0; i < r->n; i++) {
		dups += r->s[i].dups;
		if (r->s[i].rtt_ms < 0) {
			lost++;
			if (run_lost++ == 0)
				start = last_ok >= 0 ? last_ok : r->s[i].send_unix_ms;
			continue;
		}
		if (run_lost)
			json_array_append_new(
			    windows,
			    json_pack("{s:f, s:f, s:f, s:f, s:f, s:I, s:b}", "start_ms", 0.0,
				      "end_ms", 0.0, "length_ms", r->s[i].send_unix_ms - start,
				      "start_unix_ms", start, "end_unix_ms", r->s[i].send_unix_ms,
				      "lost", (json_int_t)run_lost, "closed", 1));
		run_lost = 0;
		last_ok = r->s[i].send_unix_ms;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:f, s:o, s:{s:b, s:b, s:I, s:I, s:I}}", "rate_hz",
			 (json_int_t)1000, "sent", (json_int_t)r->n, "lost", (json_int_t)lost,
			 "duplicates", (json_int_t)dups, "start_unix_ms", r->s[0].send_unix_ms,
			 "windows", windows, "tcp", "connected", 1, "reset", 0, "bytes_sent",
			 (json_int_t)5000, "bytes_verified", (json_int_t)5000, "retransmits",
			 (json_int_t)1);
}

/* A VM Migration: phases at the given offsets, STOP/RESUME, activation. */
static json_t *vm_migration(double stop, double resume, double act, long long standby)
{
	json_t *m = json_pack(
	    "{s:{s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:[{s:s, s:I}, {s:s, s:I}, {s:s, s:I}, "
	    "{s:s, s:I}, {s:s, s:I}, {s:s, s:I}], s:{s:f, s:I, s:I, s:I, s:I}}}",
	    "metadata", "name", "m1", "spec", "vm", "testvm", "target", "node-2", "strategy",
	    "first-frame", "status", "phase", "Succeeded", "source", "node-1", "phases", "name",
	    "Pending", "unix_ms", (json_int_t)T0, "name", "TargetReady", "unix_ms",
	    (json_int_t)(T0 + 20), "name", "Replicating", "unix_ms", (json_int_t)(T0 + 40), "name",
	    "Running", "unix_ms", (json_int_t)(T0 + 50), "name", "Switched", "unix_ms",
	    (json_int_t)(T0 + act + 1), "name", "Succeeded", "unix_ms", (json_int_t)(T0 + 600),
	    "figures", "vm_blackout_ms", resume - stop, "stop_unix_ns",
	    (json_int_t)((T0 + stop) * 1e6), "resume_unix_ns", (json_int_t)((T0 + resume) * 1e6),
	    "activation_unix_ns", (json_int_t)((T0 + act) * 1e6), "standby_drops_after_switch",
	    (json_int_t)standby);
	assert_non_null(m);
	return m;
}

static json_t *report_for(const struct run *r, json_t *probe, json_t *mig, json_t *drill)
{
	json_t *rep = NULL;
	struct demo_inputs in = {.subject = drill ? "endpoint" : "vm",
				 .probe = probe,
				 .samples = r->s,
				 .n_samples = r->n,
				 .migration = mig,
				 .drill = drill,
				 .grace_ms = 1000,
				 .generated_at = "2026-01-01T00:00:00Z",
				 .cores = 2,
				 .kernel = "6.1.0"};

	assert_int_equal(demo_report(&in, &rep), 0);
	return rep;
}

static long long iget(const json_t *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	assert_true(json_is_integer(o));
	return json_integer_value(o);
}

static double nget(const json_t *o, const char *key)
{
	assert_true(json_is_number(json_object_get(o, key)));
	return json_number_value(json_object_get(o, key));
}

static struct run run;

static void test_no_loss(void **state)
{
	json_t *probe, *mig, *rep;

	(void)state;
	make_run(&run, -1000, 1600);
	probe = probe_json(&run);
	mig = vm_migration(100, 130, 131, 0);
	rep = report_for(&run, probe, mig, NULL);
	assert_int_equal(iget(rep, "network_added_loss"), 0);
	assert_float_equal(nget(rep, "loss_window_ms"), 0, 1e-9);
	assert_float_equal(nget(rep, "vm_blackout_ms"), 30, 1e-9);
	assert_int_equal(iget(rep, "probe.sent"), 2600);
	assert_int_equal(iget(rep, "probe.lost"), 0);
	assert_int_equal(iget(rep, "duplicates"), 0);
	assert_int_equal(iget(rep, "tcp.bytes_verified"), 5000);
	assert_false(json_is_true(json_object_get(json_object_get(rep, "tcp"), "reset")));
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")),
			    "network added no loss");
	assert_int_equal(json_array_size(json_object_get(rep, "phases")), 6);
	assert_int_equal(iget(json_array_get(json_object_get(rep, "phases"), 3), "t_ms"), 50);
	/* vm without an early-delivery figure: 0, and said to be unmeasured */
	assert_int_equal(iget(rep, "early_deliveries"), 0);
	assert_true(json_is_false(json_object_get(rep, "early_deliveries_measured")));
	/* resume -> activation stands in for first frame -> activation */
	assert_int_equal(iget(rep, "first_frame_to_activation_us"), 1000);
	assert_int_equal(json_array_size(json_object_get(rep, "notes")), 0);
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

/* Loss only inside the blackout: the client saw a window, the network added nothing. */
static void test_loss_inside_blackout(void **state)
{
	json_t *probe, *mig, *rep;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, 101, 130);
	probe = probe_json(&run);
	mig = vm_migration(100, 130, 131, 0);
	rep = report_for(&run, probe, mig, NULL);
	assert_int_equal(iget(rep, "network_added_loss"), 0);
	assert_int_equal(iget(rep, "probe.lost"), 29);
	assert_float_equal(nget(rep, "loss_window_ms"), 30, 1e-9); /* 100 -> 130 */
	assert_float_equal(nget(json_object_get(rep, "loss_window"), "start_ms"), 100, 1e-6);
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")),
			    "network added no loss");
	/* the replies to 100 and 130 are the longest gap around the switchover */
	assert_float_equal(nget(rep, "reply_gap_ms"), 30, 1e-6);
	assert_true(json_is_true(json_object_get(rep, "guest_answers_after_migration")));
	assert_false(json_is_true(json_object_get(rep, "migration_failed")));
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

/* Probes lost after RESUME are the network's, plus the standby drops after the switch. */
static void test_loss_after_resume(void **state)
{
	json_t *probe, *mig, *rep;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, 101, 136); /* 5 probes after resume at 130: 131..135 */
	probe = probe_json(&run);
	mig = vm_migration(100, 130.5, 136, 2); /* 131..135 lost after it */
	rep = report_for(&run, probe, mig, NULL);
	assert_int_equal(iget(rep, "network_added_loss_detail.probes_lost_after_resume"), 5);
	assert_int_equal(iget(rep, "network_added_loss_detail.standby_drops_after_switch"), 2);
	assert_int_equal(iget(rep, "network_added_loss"), 7);
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")),
			    "network added 7 lost probes");
	assert_float_equal(nget(rep, "loss_window_ms"), 36, 1e-9);
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

/* A guest that answers nothing a second after its resume died: whatever the
 * network did, the migration failed, and the report says so first. */
static void test_guest_death(void **state)
{
	json_t *probe, *mig, *rep;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, 101, 1600);
	probe = probe_json(&run);
	mig = vm_migration(100, 130, 131, 0);
	rep = report_for(&run, probe, mig, NULL);
	assert_true(json_is_false(json_object_get(rep, "guest_answers_after_migration")));
	assert_true(json_is_true(json_object_get(rep, "migration_failed")));
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")),
			    "the guest stopped answering after the migration: a failed migration");
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

static void test_duplicates_and_late(void **state)
{
	json_t *probe, *mig, *rep;

	(void)state;
	make_run(&run, -1000, 1600);
	run.s[1200].dups = 1;
	run.s[1201].dups = 2;
	run.s[1500].rtt_ms = 1500; /* a reply after the grace: lost */
	probe = probe_json(&run);
	json_object_set_new(probe, "lost", json_integer(1));
	mig = vm_migration(100, 130, 131, 0);
	rep = report_for(&run, probe, mig, NULL);
	assert_int_equal(iget(rep, "duplicates"), 3);
	assert_int_equal(iget(rep, "probe.lost"), 1);
	assert_int_equal(iget(rep, "network_added_loss"), 1); /* sent at +500, after resume */
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

/* Windows away from the switchover are not the client's loss window. */
static void test_window_choice(void **state)
{
	json_t *probe, *mig, *rep;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, -900, -800); /* 100 ms long, long before STOP */
	lose(&run, 101, 120);	/* the switchover's */
	lose(&run, 1300, 1400); /* long after */
	probe = probe_json(&run);
	mig = vm_migration(100, 130, 131, 0);
	rep = report_for(&run, probe, mig, NULL);
	assert_float_equal(nget(rep, "loss_window_ms"), 20, 1e-9);
	assert_int_equal(iget(rep, "loss_window.lost"), 19);
	assert_int_equal(json_array_size(json_object_get(rep, "notes")), 1);
	/* the late window is after resume: the network's */
	assert_int_equal(iget(rep, "network_added_loss"), 100);
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

/* An endpoint: blackout, early deliveries, first frame from the drill. */
static void test_drill(void **state)
{
	json_t *probe, *mig, *rep, *drill;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, 71, 100);
	probe = probe_json(&run);
	mig = vm_migration(0, 0, 99, 0); /* no STOP/RESUME figures for a port migration */
	json_object_del(json_object_get(json_object_get(mig, "status"), "figures"), "stop_unix_ns");
	json_object_del(json_object_get(json_object_get(mig, "status"), "figures"),
			"resume_unix_ns");
	json_object_del(json_object_get(json_object_get(mig, "status"), "figures"),
			"vm_blackout_ms");
	drill = json_pack("{s:I, s:I, s:I, s:I, s:I}", "blackout_us", (json_int_t)30500,
			  "silence_unix_ns", (json_int_t)((T0 + 70) * 1e6), "resume_unix_ns",
			  (json_int_t)((T0 + 100.5) * 1e6), "early_deliveries", (json_int_t)3,
			  "first_frame_to_activation_us", (json_int_t)134);
	rep = report_for(&run, probe, mig, drill);
	assert_float_equal(nget(rep, "vm_blackout_ms"), 30.5, 1e-9);
	assert_int_equal(iget(rep, "early_deliveries"), 3);
	assert_true(json_is_true(json_object_get(rep, "early_deliveries_measured")));
	assert_int_equal(iget(rep, "first_frame_to_activation_us"), 134);
	assert_int_equal(iget(rep, "network_added_loss"), 0);
	assert_float_equal(nget(rep, "loss_window_ms"), 30, 1e-9);
	assert_string_equal(json_string_value(json_object_get(rep, "subject")), "endpoint");
	json_decref(rep);
	json_decref(drill);
	json_decref(probe);
	json_decref(mig);
}

static void test_no_phases(void **state)
{
	json_t *probe, *mig = json_pack("{s:{s:[]}}", "status", "phases"), *rep = NULL;
	struct demo_inputs in = {0};

	(void)state;
	make_run(&run, 0, 10);
	probe = probe_json(&run);
	in = (struct demo_inputs){.subject = "vm",
				  .probe = probe,
				  .samples = run.s,
				  .n_samples = run.n,
				  .migration = mig,
				  .grace_ms = 1000};
	assert_int_equal(demo_report(&in, &rep), -22);
	assert_null(rep);
	json_decref(probe);
	json_decref(mig);
}

static void test_csv(void **state)
{
	struct demo_sample *s = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(demo_parse_csv("seq,send_unix_ms,rtt_ms,dups\n0,1000.500,0.250,0\n"
					"1,1001.500,,0\n2,1002.5,0.3,2\n",
					&s, &n),
			 0);
	assert_int_equal(n, 3);
	assert_float_equal(s[0].send_unix_ms, 1000.5, 1e-9);
	assert_true(s[1].rtt_ms < 0);
	assert_int_equal(s[2].dups, 2);
	free(s);
	s = NULL;
	assert_int_equal(demo_parse_csv("seq,send_unix_ms,rtt_ms,dups\n", &s, &n), 0);
	assert_int_equal(n, 0);
	free(s);
	s = NULL;
	assert_int_equal(demo_parse_csv("a,b\n1,2\n", &s, &n), -22);
	assert_int_equal(demo_parse_csv("seq,send_unix_ms,rtt_ms,dups\n0,x,1,0\n", &s, &n), -22);
	assert_int_equal(demo_parse_csv("seq,send_unix_ms,rtt_ms,dups\n0,1,1\n", &s, &n), -22);
	assert_null(s);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every <tag ...> is closed: by "/>" or by a matching "</tag>" (a tag stack). */
static void assert_balanced(const char *svg)
{
	char stack[64][32];
	int depth = 0;

	for (const char *p = strchr(svg, '<'); p; p = strchr(p + 1, '<')) {
		const char *end = strchr(p, '>');
		size_t len;

		assert_non_null(end);
		if (p[1] == '?')
			continue;
		if (p[1] == '/') {
			len = strcspn(p + 2, " >");
			assert_true(depth > 0);
			depth--;
			assert_true(strlen(stack[depth]) == len &&
				    strncmp(stack[depth], p + 2, len) == 0);
			continue;
		}
		if (end[-1] == '/')
			continue;
		len = strcspn(p + 1, " >/");
		assert_true(len < 32 && depth < 64);
		memcpy(stack[depth], p + 1, len);
		stack[depth++][len] = '\0';
	}
	assert_int_equal(depth, 0);
}

/* The seed's sessions: the ping's summary and the lines back from the echo. */
static void test_session_figures(void **state)
{
	json_t *o = NULL;

	(void)state;
	assert_int_equal(demo_session_figures("PING 203.0.113.8 (203.0.113.8): 56 data bytes\n"
					      "64 bytes from 203.0.113.8: seq=0 ttl=63\n\n"
					      "--- 203.0.113.8 ping statistics ---\n"
					      "1000 packets transmitted, 998 packets received, 0% "
					      "packet loss\n",
					      0, "n=0\nn=1\nn=2\n", 0, 1000, 3, &o),
			 0);
	assert_true(json_is_true(json_object_get(o, "survived")));
	assert_int_equal(iget(o, "ping.sent"), 1000);
	assert_int_equal(iget(o, "ping.lost"), 2);
	assert_int_equal(iget(o, "outbound_tcp.lines_back"), 3);
	assert_true(json_is_true(json_object_get(json_object_get(o, "outbound_tcp"), "in_order")));
	json_decref(o);

	/* A gap in the stream, a session killed at the deadline, no ping summary. */
	assert_int_equal(
	    demo_session_figures("ssh: connection closed\n", 255, "n=0\nn=2\n", -1, 1000, 3, &o),
	    0);
	assert_false(json_is_true(json_object_get(o, "survived")));
	assert_true(json_is_null(json_object_get(json_object_get(o, "ping"), "sent")));
	assert_false(json_is_true(json_object_get(json_object_get(o, "outbound_tcp"), "in_order")));
	assert_int_equal(iget(o, "statuses.ping"), 255);
	json_decref(o);
}

static void test_svg(void **state)
{
	json_t *probe, *mig, *rep;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, 101, 130);
	run.s[1080].rtt_ms = 1500; /* t = 80: answered after the 1 s grace */
	run.s[1090].dups = 1;	   /* t = 90 */
	probe = probe_json(&run);
	json_object_set_new(
	    json_object_get(probe, "tcp"), "stalls",
	    json_pack("[{s:f, s:f}]", "start_unix_ms", T0 + 100.0, "length_ms", 45.0));
	mig = vm_migration(100, 130, 131, 0);
	/* names from outside reach the picture escaped */
	json_object_set_new(json_object_get(mig, "status"), "source", json_string("a<b&c>\"'"));
	rep = report_for(&run, probe, mig, NULL);
	json_object_set_new(rep, "sessions",
			    json_pack("{s:b, s:{s:s, s:i, s:i}, s:{s:i, s:i, s:b}}", "survived", 1,
				      "ping", "target", "203.0.113.8", "sent", 1000, "lost", 0,
				      "outbound_tcp", "lines_sent", 500, "lines_back", 500,
				      "in_order", 1));
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(demo_timeline_svg(f, rep, run.s, run.n), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<svg "));
	assert_non_null(strstr(buf, "</svg>"));
	assert_balanced(buf);
	assert_non_null(strstr(buf, "a&lt;b&amp;c&gt;&quot;&apos;"));
	assert_null(strstr(buf, "a<b"));
	/* a line per phase (6) and per event (stop, resume, activation) */
	assert_int_equal(count(buf, "class=\"phase\""), 9);
	assert_int_equal(count(buf, "class=\"blackout\""), 1);
	assert_int_equal(count(buf, "class=\"loss-window\""), 1);
	assert_non_null(strstr(buf, "replication confirmed"));
	assert_non_null(strstr(buf, "network added no loss"));
	/* no font smaller than 11 px */
	for (const char *p = buf; (p = strstr(p, "font-size=\"")); p++)
		assert_true(atoi(p + 11) >= 11);
	/* 29 lost probes drawn as red ticks, 2571 replies as dots (one late) */
	assert_int_equal(count(buf, "<circle"),
			 2571 + 1 /* legend */ + 1 /* zoom key */ + 1 /* the duplicate, zoomed */);
	/* The zoom: STOP - 40 ms to the activation + 150 ms (t = 60 .. 281), a
	 * tick per probe: 29 lost, 1 late, the rest answered; the TCP stall. */
	assert_int_equal(count(buf, "class=\"zoom\""), 1);
	assert_int_equal(count(buf, "class=\"zoom-blackout\""), 1);
	assert_int_equal(count(buf, "class=\"lost\""), 29);
	assert_int_equal(count(buf, "class=\"late\""), 1);
	assert_int_equal(count(buf, "class=\"answered\""), 222 - 29 - 1);
	assert_int_equal(count(buf, "class=\"tcp-stall\""), 1);
	assert_non_null(strstr(buf, "stalled 45 ms"));
	assert_non_null(strstr(buf, "godwit ssh sessions survived"));
	assert_non_null(strstr(buf, "0 of 1000 lost"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(rep, "tcp"), "stalls")),
			 1);
	assert_true(json_number_value(json_object_get(
			json_array_get(json_object_get(json_object_get(rep, "tcp"), "stalls"), 0),
			"t_ms")) == 100.0);
	free(buf);
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

/* The printed report stays within 15 lines and leads with the verdict. */
static void test_text(void **state)
{
	json_t *probe, *mig, *rep, *extra;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	make_run(&run, -1000, 1600);
	lose(&run, 101, 136);
	probe = probe_json(&run);
	mig = vm_migration(100, 130.5, 136, 0);
	extra = json_pack("{s:f, s:i}", "stop_to_handoff_ms", 0.25, "handoff_tap_frames", 2);
	json_object_update(json_object_get(json_object_get(mig, "status"), "figures"), extra);
	json_decref(extra);
	rep = report_for(&run, probe, mig, NULL);
	assert_float_equal(json_number_value(json_object_get(json_object_get(rep, "handoff"),
							     "stop_to_handoff_ms")),
			   0.25, 1e-9);
	f = open_memstream(&buf, &len);
	demo_print_report(f, rep, "/tmp/out", true);
	fclose(f);
	assert_true(count(buf, "\n") <= 15);
	assert_non_null(strstr(buf, "network added 5 lost probes"));
	assert_non_null(strstr(buf, "early deliveries           not measured"));
	assert_non_null(strstr(buf, "/tmp/out/timeline.png"));
	assert_non_null(strstr(
	    buf, "handoff to the target      0.250 ms after STOP (2 frames from the source tap)"));
	free(buf);
	json_decref(rep);
	json_decref(probe);
	json_decref(mig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_loss),
	    cmocka_unit_test(test_loss_inside_blackout),
	    cmocka_unit_test(test_loss_after_resume),
	    cmocka_unit_test(test_duplicates_and_late),
	    cmocka_unit_test(test_window_choice),
	    cmocka_unit_test(test_drill),
	    cmocka_unit_test(test_no_phases),
	    cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_svg),
	    cmocka_unit_test(test_session_figures),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_guest_death),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

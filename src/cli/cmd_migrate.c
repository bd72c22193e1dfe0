/* SPDX-License-Identifier: MIT */
/*
 * `godwit migrate VM [--to NODE] [--wait] [--abort]`: a live migration of a
 * VM (virtctl migrate). It creates a Migration {spec: {vm, target}}; the
 * controller and the agents do the rest (docs/MIGRATION.md "VM migrations").
 * With --wait it follows the Migration: on a terminal a one-line progress bar
 * refreshed every 200 ms, otherwise one line per phase; then the figures.
 * --abort aborts the VM's unfinished migration.
 */
#include "cli.h"
#include "migclient.h"

#include "lib/num.h"
#include "lib/clock.h"
#include "lib/kinds.h"
#include "lib/phases.h"
#include "lib/proc.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_MS 200
#define MIB	   (1024.0 * 1024.0)

struct migrate {
	const char *vm, *target;
	long downtime_ms, bandwidth_mib, progress_timeout_s;
	int tls; /* migclient_spec.tls */
	bool wait, abort, json, tty;
	char name[96];
};

static int create(struct migclient *mc, struct migrate *g, json_t **out)
{
	int r;

	snprintf(g->name, sizeof(g->name), "%.40s-%lld", g->vm,
		 (long long)(clock_unix_ms() % 100000000));
	r = migclient_create(mc,
			     &(struct migclient_spec){.name = g->name,
						      .vm = g->vm,
						      .target = g->target,
						      .downtime_ms = g->downtime_ms,
						      .max_bandwidth_mib = g->bandwidth_mib,
						      .progress_timeout_s = g->progress_timeout_s,
						      .tls = g->tls},
			     out);
	if (r && mc->refused.status)
		fprintf(stderr, "godwit migrate: %s\n", mc->refused.text);
	return r;
}

/* The VM's unfinished migration, for --abort. */
static int find_unfinished(struct migclient *mc, struct migrate *g)
{
	int r = migclient_find_unfinished(mc, g->vm, g->name, sizeof(g->name));

	if (r && mc->refused.status)
		fprintf(stderr, "godwit migrate: GET /v1/migrations: %s\n", mc->refused.text);
	if (!r && !g->name[0]) {
		fprintf(stderr, "godwit migrate: vm %s has no unfinished migration\n", g->vm);
		r = -ENOENT;
	}
	return r;
}

static int post_abort(struct migclient *mc, const struct migrate *g)
{
	int r = migclient_action(mc, g->name, MIGRATION_ACTION_ABORT);

	if (r && mc->refused.status)
		fprintf(stderr, "godwit migrate: %s\n", mc->refused.text);
	return r;
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

/* The progress line (without newline). */
static void progress_line(const json_t *m, long long t0, char *buf, size_t len)
{
	const json_t *p = json_object_get(obj_status(m), "progress");
	const char *qs = json_string_value(json_object_get(p, "status"));

	if (!p) {
		snprintf(buf, len, "%-12s %5.1f s", migclient_phase(m),
			 (clock_mono_ms() - t0) / 1000.0);
		return;
	}
	snprintf(buf, len,
		 "%-12s %5.1f s  memory %.1f MiB sent, %.1f MiB left, dirty %.0f pages/s (%s)",
		 migclient_phase(m), (clock_mono_ms() - t0) / 1000.0, num(p, "transferred") / MIB,
		 num(p, "remaining") / MIB, num(p, "dirty_rate"), qs ? qs : "?");
}

struct follow {
	const struct migrate *g;
	long long t0;
	char last[32];
};

/* Progress while following: a refreshed line on a terminal, else one line per phase. */
static int follow_progress(const json_t *m, void *arg)
{
	struct follow *f = arg;
	char line[256];

	if (f->g->tty) {
		progress_line(m, f->t0, line, sizeof(line));
		printf("\r\033[K%s", line);
		fflush(stdout);
	} else if (!f->g->json && strcmp(migclient_phase(m), f->last)) {
		printf("  phase %s\n", migclient_phase(m));
		fflush(stdout);
	}
	snprintf(f->last, sizeof(f->last), "%s", migclient_phase(m));
	return 0;
}

static int follow(struct migclient *mc, const struct migrate *g, json_t **out)
{
	struct follow f = {.g = g, .t0 = clock_mono_ms()};
	struct migclient_wait w = {.until = MIGRATION_PHASE_COUNT,
				   .interval_ms = g->tty ? REFRESH_MS : 50,
				   .progress = follow_progress,
				   .arg = &f};
	int r = migclient_wait(mc, g->name, &w, out);

	if (g->tty && (r == 0 || r == -ETIME))
		putchar('\n');
	if (r == -ETIME)
		fprintf(stderr, "godwit migrate: migration %s stuck in phase %s\n", g->name,
			f.last);
	else if (r && mc->refused.status)
		fprintf(stderr, "godwit migrate: %s %s: %s\n", mc->refused.method, mc->refused.path,
			mc->refused.text);
	return r;
}

static void print_ms(const char *what, const json_t *figures, const char *key, const char *absent)
{
	const json_t *v = json_object_get(figures, key);

	if (json_is_number(v))
		printf("  %-36s %.1f ms\n", what, json_number_value(v));
	else
		printf("  %-36s %s\n", what, absent);
}

static void print_figures(const json_t *m)
{
	const json_t *st = obj_status(m), *figures = json_object_get(st, "figures"), *p, *v;
	const json_t *notes = json_object_get(st, "notes");
	long long t0 = 0;
	size_t i;

	printf("migration %s: %s %s -> %s: %s\n", obj_name(m), obj_str(m, "spec", "vm") ?: "?",
	       json_string_value(json_object_get(st, "source")) ?: "?",
	       obj_str(m, "spec", "target") ?: "?", migclient_phase(m));
	if (json_object_get(st, "reason"))
		printf("  reason: %s\n", json_string_value(json_object_get(st, "reason")));
	json_array_foreach(json_object_get(st, "phases"), i, p)
	{
		long long t = json_integer_value(json_object_get(p, "unix_ms"));

		if (i == 0)
			t0 = t;
		printf("  %-12s +%lld ms\n", json_string_value(json_object_get(p, "name")), t - t0);
	}
	print_ms("VM blackout (STOP -> RESUME)", figures, "vm_blackout_ms", "n/a (not reported)");
	print_ms("QEMU's own downtime", figures, "qemu_downtime_ms", "n/a (not reported)");
	print_ms("STOP -> source hands off to target", figures, "stop_to_handoff_ms",
		 "n/a (no handoff reported)");
	print_ms("first frame -> activation", figures, "first_frame_to_activation_ms",
		 "n/a (activated by completion, or not reported)");
	v = json_object_get(figures, "first_frame_to_activation_ms");
	if (json_is_number(v) && json_number_value(v) < 0)
		printf("  %-36s (negative: QEMU's RARP went out before RESUME)\n", "");
	v = json_object_get(figures, "standby_drops_after_switch");
	if (json_is_integer(v))
		printf("  %-36s %lld\n", "standby drops after activation",
		       (long long)json_integer_value(v));
	else
		printf("  %-36s n/a\n", "standby drops after activation");
	print_ms("total", figures, "total_ms", "n/a");
	json_array_foreach(notes, i, v) printf("  note: %s\n", json_string_value(v));
}

static int parse_long(const char *flag, const char *text, long max, long *out)
{
	return num_parse_flag("godwit migrate", flag, text, 1, max, out);
}

int cmd_migrate(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
					     {"wait", no_argument, NULL, 'w'},
					     {"abort", no_argument, NULL, 'a'},
					     {"downtime-ms", required_argument, NULL, 'd'},
					     {"max-bandwidth-mib", required_argument, NULL, 'b'},
					     {"progress-timeout-s", required_argument, NULL, 'p'},
					     {"tls", no_argument, NULL, 'T'},
					     {"no-tls", no_argument, NULL, 'N'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct migrate g = {0};
	struct migclient mc = {.cli = cli};
	json_t *m = NULL;
	int opt, r;
	bool ok;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":t:wad:b:p:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage(verb, stdout);
			return 0;
		case 't':
			g.target = optarg;
			break;
		case 'w':
			g.wait = true;
			break;
		case 'a':
			g.abort = true;
			break;
		case 'j':
			g.json = true;
			break;
		case 'T':
			g.tls = 1;
			break;
		case 'N':
			g.tls = -1;
			break;
		case 'd':
			if (parse_long("--downtime-ms", optarg, 60000, &g.downtime_ms))
				return EXIT_USAGE;
			break;
		case 'b':
			if (parse_long("--max-bandwidth-mib", optarg, 1048576, &g.bandwidth_mib))
				return EXIT_USAGE;
			break;
		case 'p':
			if (parse_long("--progress-timeout-s", optarg, 86400,
				       &g.progress_timeout_s))
				return EXIT_USAGE;
			break;
		default:
			return cli_bad_flag(verb, opt, argv);
		}
	}
	if (optind + 1 != argc || (g.abort && (g.target || g.downtime_ms || g.bandwidth_mib ||
					       g.progress_timeout_s || g.tls))) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	g.vm = argv[optind];
	g.tty = isatty(STDOUT_FILENO) && !g.json;
	if (g.abort) {
		r = find_unfinished(&mc, &g);
		if (!r)
			r = post_abort(&mc, &g);
		if (r)
			return 1;
		if (!g.json)
			printf("migration %s: abort requested\n", g.name);
	} else {
		r = create(&mc, &g, &m);
		if (r)
			return 1;
		if (!g.json)
			printf("migration %s: vm %s from %s to %s\n", g.name, g.vm,
			       json_string_value(json_object_get(obj_status(m), "source")) ?: "?",
			       obj_str(m, "spec", "target") ?: "?");
		fflush(stdout);
	}
	if (!g.wait) {
		if (g.json && m) {
			json_dumpf(m, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(m);
		return 0;
	}
	json_decref(m);
	m = NULL;
	r = follow(&mc, &g, &m);
	if (r)
		return 1;
	if (g.json) {
		json_dumpf(m, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_figures(m);
	}
	ok = migration_phase_is(migclient_phase(m),
				g.abort ? MIGRATION_ABORTED : MIGRATION_SUCCEEDED);
	json_decref(m);
	return ok ? 0 : 1;
}

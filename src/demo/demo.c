/* SPDX-License-Identifier: MIT */
/*
 * `godwit lab demo`: checks, a 3-node lab, the subject (a VM from
 * examples/testvm.yaml, or an endpoint with a TCP echo), an observer endpoint
 * probing it from the third node, the migration, the report and the picture
 * (see demo.h for what is computed and how).
 */
#include "demo.h"
#include "demo_run.h"

#include "cli/cli.h"
#include "cli/migclient.h"
#include "lab/lab.h"

#include "lib/num.h"
#include "lib/clock.h"
#include "lib/kinds.h"
#include "lib/phases.h"
#include "lib/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int bring_up(struct demo *d)
{
	char ul[32], log[PATH_MAX + 16], dir[PATH_MAX];
	long long t = clock_mono_ms();
	int saved, fd, r;

	snprintf(ul, sizeof(ul), "%s-ul", d->name);
	snprintf(dir, sizeof(dir), "%s/%s", LAB_ROOT, d->name);
	if (proc_netns_exists(ul) || access(dir, F_OK) == 0) {
		demo_step("a lab named %s is left over from an earlier run: taking it down",
			  d->name);
		lab_down(d->name, true);
	}
	demo_step("bringing up a 3-node lab %s (a controller and an agent per node)", d->name);
	/* lab up's own chatter goes to a log; its errors still reach stderr */
	snprintf(log, sizeof(log), "%s/lab-up.log", d->out);
	fflush(stdout);
	saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && saved >= 0)
		dup2(fd, STDOUT_FILENO);
	r = lab_up(d->name, &(struct lab_up_options){.nodes = 3});
	fflush(stdout);
	if (fd >= 0 && saved >= 0)
		dup2(saved, STDOUT_FILENO);
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	if (r) {
		fprintf(stderr, "godwit lab demo: the lab did not come up (its output: %s)\n", log);
		return r;
	}
	printf("lab %s is up: node-1, node-2, node-3 in %.1f s\n", d->name,
	       (double)(clock_mono_ms() - t) / 1000);
	return 0;
}

static void pick_nodes(struct demo *d)
{
	const char *nodes[] = {"node-1", "node-2", "node-3"};
	size_t k = 0;

	d->target[0] = d->observer[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(nodes[i], d->source))
			continue;
		snprintf(k++ ? d->observer : d->target, 32, "%s", nodes[i]);
	}
}

static int run_demo(struct demo *d)
{
	int r;

	r = bring_up(d);
	if (r)
		return r;
	d->cli->cfg.flag_lab = d->name;
	r = !strcmp(d->subject, "vm") ? demo_subject_vm(d) : demo_subject_endpoint(d);
	if (r)
		return r;
	pick_nodes(d);
	r = demo_start_observer(d);
	if (r)
		return r;
	r = demo_start_sessions(d);
	if (r)
		return r;
	r = !strcmp(d->subject, "vm") ? demo_migrate_vm(d) : demo_migrate_endpoint(d);
	if (r)
		return r;
	demo_step("migration %s: %s; probing %.1f s more", d->migration,
		  obj_str(d->mig, "status", "phase") ?: "?", PROBE_TAIL_MS / 1000.0);
	if (!demo_pause_ms(PROBE_TAIL_MS))
		return -EINTR;
	r = demo_stop_probe(d);
	if (r)
		return r;
	r = demo_end_sessions(d);
	if (r)
		return r;
	demo_step("results (%s)", d->out);
	r = demo_write_outputs(d);
	if (!r && d->sessions && !json_is_true(json_object_get(d->sessions, "survived"))) {
		fprintf(stderr,
			"godwit lab demo: an SSH session did not survive the migration "
			"(%s/ssh-*.txt)\n",
			d->out);
		r = -EPROTO;
	}
	if (!r && !migration_phase_name_finished(migclient_phase(d->mig)))
		r = -EPROTO;
	else if (!r &&
		 !migration_phase_is(obj_str(d->mig, "status", "phase"), MIGRATION_SUCCEEDED)) {
		fprintf(stderr, "godwit lab demo: the migration ended %s: %s\n",
			obj_str(d->mig, "status", "phase"),
			obj_str(d->mig, "status", "reason") ?: "");
		r = -EPROTO;
	}
	return r;
}

static void demo_usage(FILE *f)
{
	fprintf(f,
		"usage: godwit lab demo [--name LAB] [--out DIR] [--keep] [--subject vm|endpoint]\n"
		"                       [--rate HZ] [--strategy %s]\n"
		"A 3-node lab, a live migration measured by a probe from a third node,\n"
		"OUT/report.json and OUT/timeline.svg (defaults: --name demo --out ./demo-out\n"
		"--subject vm --rate 1000 --strategy %s). The lab is taken down at the\n"
		"end unless --keep.\n",
		strategy_choices, strategy_names[0]);
}

int lab_demo(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
	    {"keep", no_argument, NULL, 'k'},	    {"subject", required_argument, NULL, 's'},
	    {"rate", required_argument, NULL, 'r'}, {"strategy", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},	    {0}};
	struct demo d = {.cli = cli,
			 .name = "demo",
			 .subject = "vm",
			 .strategy = strategy_names[0],
			 .rate = 1000};
	struct sigaction sa = {.sa_handler = demo_on_signal}, old_int, old_term;
	const char *out = "demo-out";
	long v;
	ssize_t n;
	int opt, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":n:o:ks:r:S:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			demo_usage(stdout);
			return 0;
		case 'n':
			d.name = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			d.keep = true;
			break;
		case 's':
			d.subject = optarg;
			break;
		case 'r':
			if (num_parse_flag("godwit lab demo", "--rate", optarg, 1, 100000, &v) < 0)
				return EXIT_USAGE;
			d.rate = (unsigned long)v;
			break;
		case 'S':
			d.strategy = optarg;
			break;
		default:
			return cli_bad_flag(verb, opt, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "godwit lab demo: unexpected argument '%s'\n", argv[optind]);
		demo_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(d.subject, "vm") && strcmp(d.subject, "endpoint")) {
		fprintf(stderr, "godwit lab demo: --subject '%s': expected vm or endpoint\n",
			d.subject);
		return EXIT_USAGE;
	}
	if (cli_strategy_arg("lab demo", d.strategy, NULL))
		return EXIT_USAGE;
	if (lab_check_name(d.name))
		return EXIT_USAGE;
	if (strlen(d.name) > LAB_NAME_MAX - 3) {
		/* LAB-ep-observer must stay a valid netns/device-friendly name */
		fprintf(stderr, "godwit lab demo: --name '%s': at most %d characters\n", d.name,
			LAB_NAME_MAX - 3);
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "godwit lab demo: must run as root (it creates network namespaces "
				"and loads eBPF programs); try: sudo godwit lab demo\n");
		return 1;
	}
	if (proc_mkdir_p(out, 0755) < 0) {
		fprintf(stderr, "godwit lab demo: cannot create --out %s: %s\n", out,
			strerror(errno));
		return 1;
	}
	if (!realpath(out, d.out)) {
		fprintf(stderr, "godwit lab demo: --out %s: %s\n", out, strerror(errno));
		return 1;
	}
	n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1);
	if (n <= 0) {
		fprintf(stderr, "godwit lab demo: cannot find my own executable\n");
		return 1;
	}
	d.self[n] = '\0';
	snprintf(d.probe_csv, sizeof(d.probe_csv), "%s/probe.csv", d.out);
	snprintf(d.probe_json, sizeof(d.probe_json), "%s/probe.json", d.out);
	for (size_t i = 0; i < 5; i++) { /* no stale results from an earlier run */
		char stale[PATH_MAX + 16];

		snprintf(stale, sizeof(stale), "%s/%s", d.out,
			 (const char *[]){"report.json", "timeline.svg", "timeline.png",
					  "probe.csv", "drill.json"}[i]);
		unlink(stale);
	}

	demo_step("checking this machine (root, bpffs, %sdisk space)",
		  strcmp(d.subject, "vm") ? "" : "/dev/net/tun, qemu, ");
	r = demo_preflight(&d);
	if (r)
		return 1;

	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	r = run_demo(&d);
	if (demo_interrupted)
		fprintf(stderr, "\ngodwit lab demo: interrupted\n");
	if (d.probe_pid > 0)
		proc_stop_pid(d.probe_pid, 500);
	if (d.echo_pid > 0)
		proc_stop_pid(d.echo_pid, 500);
	if (d.ping_pid > 0)
		proc_stop_pid(d.ping_pid, 500);
	if (d.stream_pid > 0)
		proc_stop_pid(d.stream_pid, 500);
	demo_save_logs(&d);
	if (d.keep) {
		printf("\nthe lab stays up (--keep): godwit --lab %s get ports; "
		       "godwit lab down --name %s\n",
		       d.name, d.name);
	} else {
		demo_step("tearing the lab down");
		if (lab_down(d.name, true) == 0)
			printf("lab %s removed\n", d.name);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	json_decref(d.drill);
	json_decref(d.mig);
	json_decref(d.sessions);
	if (r)
		fprintf(stderr, "godwit lab demo: failed%s; the daemons' logs are in %s/logs\n",
			r == -EINTR ? " (interrupted)" : "", d.out);
	return r ? 1 : 0;
}

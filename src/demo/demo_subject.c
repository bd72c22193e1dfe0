/* SPDX-License-Identifier: MIT */
/* Steps 3-4 of `lab demo`: the subject and the observer probing it (demo_run.h). */
#include "demo_run.h"

#include "cli/cli.h"
#include "lab/endpoint.h"
#include "lab/netns.h"

#include "lib/clock.h"
#include "lib/kinds.h"
#include "lib/phases.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- step 3: the subject ---- */

static int echo_listening(const char *netns)
{
	char *out = NULL;
	bool yes;

	if (run_capture((const char *const[]){"ip", "netns", "exec", netns, "ss", "-Hltn",
					      "sport = :" ECHO_PORT, NULL},
			&out))
		return false;
	yes = strstr(out, ":" ECHO_PORT) != NULL;
	free(out);
	return yes;
}

int demo_subject_endpoint(struct demo *d)
{
	char ns[96], log[PATH_MAX + 16], path[96];
	const char *node = "node-1";
	json_t *body, *port = NULL;
	long long deadline;
	int r;

	snprintf(d->network, sizeof(d->network), DEMO_NETWORK);
	demo_step("creating network %s (%s) and endpoint %s on %s with a TCP echo on port %s",
		  DEMO_NETWORK, DEMO_CIDR, SUBJECT_EP, node, ECHO_PORT);
	body = kind_object_new(KIND_NETWORK, DEMO_NETWORK, json_pack("{s:s}", "cidr", DEMO_CIDR));
	r = demo_api(d, "POST", "/v1/networks", body, 201, 200, NULL);
	json_decref(body);
	if (!r)
		r = endpoint_add(d->cli, d->name, SUBJECT_EP, d->network, node);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/v1/ports/%s", SUBJECT_EP);
	r = demo_api(d, "GET", path, NULL, 200, 200, &port);
	if (r)
		return r;
	snprintf(d->ip, sizeof(d->ip), "%s", obj_str(port, "spec", "ipv4") ?: "");
	json_decref(port);
	snprintf(d->source, sizeof(d->source), "%s", node);

	snprintf(ns, sizeof(ns), "%s-ep-%s", d->name, SUBJECT_EP);
	snprintf(log, sizeof(log), "%s/echo.log", d->out);
	r = demo_spawn(
	    ns, (const char *const[]){d->self, "probe", "--serve", "--port", ECHO_PORT, NULL}, log,
	    log, &d->echo_pid);
	if (r) {
		fprintf(stderr, "godwit lab demo: cannot start the echo service: %s\n",
			strerror(-r));
		return r;
	}
	deadline = clock_mono_ms() + ECHO_DEADLINE_MS;
	while (!echo_listening(ns)) {
		if (!proc_pid_alive(d->echo_pid) || clock_mono_ms() > deadline ||
		    demo_interrupted) {
			fprintf(stderr,
				"godwit lab demo: the TCP echo in %s is not listening on port "
				"%s (is the port in use?)\n",
				ns, ECHO_PORT);
			demo_show_file(log, "echo service output");
			return -EIO;
		}
		proc_sleep_ms(50);
	}
	printf("endpoint %s (%s) answers TCP echo on port %s\n", SUBJECT_EP, d->ip, ECHO_PORT);
	return 0;
}

/* examples/testvm.yaml: in the current directory, or next to the build/install tree. */
static int find_manifest(const struct demo *d, char *out, size_t len)
{
	char dir[PATH_MAX];
	const char *rel[] = {"%s/../examples/testvm.yaml", "%s/../../examples/testvm.yaml",
			     "%s/../share/godwit/examples/testvm.yaml"};

	if (access("examples/testvm.yaml", R_OK) == 0 && realpath("examples/testvm.yaml", out))
		return 0;
	snprintf(dir, sizeof(dir), "%s", d->self);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX * 2];

		snprintf(cand, sizeof(cand), rel[i], dirname(dir));
		snprintf(dir, sizeof(dir), "%s", d->self);
		if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len)
			return 0;
	}
	fprintf(stderr, "godwit lab demo: cannot find examples/testvm.yaml (looked in the current "
			"directory and next to godwit); run it from the source tree\n");
	return -ENOENT;
}

int demo_subject_vm(struct demo *d)
{
	static const struct cli_verb apply_verb = {"apply", cmd_apply, "", "apply -f FILE|-"};
	char manifest[PATH_MAX], last[32] = "";
	char *argv[] = {"apply", "-f", manifest, NULL};
	long long start, deadline;
	json_t *vm = NULL;
	int r;

	r = find_manifest(d, manifest, sizeof(manifest));
	if (r)
		return r;
	demo_step("applying %s (a KubeVirt VirtualMachine) and waiting for it to boot", manifest);
	if (cmd_apply(d->cli, &apply_verb, 3, argv))
		return -EIO;
	start = clock_mono_ms();
	deadline = start + VM_READY_DEADLINE_MS;
	for (;;) {
		const json_t *st;
		const char *phase;

		json_decref(vm);
		vm = NULL;
		r = demo_api(d, "GET", "/v1/vms/" VM_NAME, NULL, 200, 200, &vm);
		if (r)
			return r;
		st = json_object_get(vm, "status");
		phase = json_string_value(json_object_get(st, "phase")) ?: "?";
		if (strcmp(phase, last)) {
			printf("  %-10s +%.1f s\n", phase,
			       (double)(clock_mono_ms() - start) / 1000);
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", phase);
		}
		if (vm_phase_is(phase, VM_PHASE_RUNNING) &&
		    !json_is_false(json_object_get(st, "ready")))
			break;
		if (vm_phase_is(phase, VM_PHASE_FAILED)) {
			fprintf(stderr, "godwit lab demo: VM %s failed: %s\n", VM_NAME,
				json_string_value(json_object_get(st, "reason")) ?: "(no reason)");
			r = -EIO;
			goto cleanup;
		}
		if (clock_mono_ms() > deadline || demo_interrupted) {
			fprintf(stderr,
				"godwit lab demo: VM %s not running and ready after %d s "
				"(phase %s); see the node logs in %s/logs\n",
				VM_NAME, VM_READY_DEADLINE_MS / 1000, phase, d->out);
			r = -ETIMEDOUT;
			goto cleanup;
		}
		proc_sleep_ms(100);
	}
	snprintf(d->ip, sizeof(d->ip), "%s", obj_str(vm, "status", "ipv4") ?: "");
	snprintf(d->source, sizeof(d->source), "%s",
		 obj_str(vm, "status", "node")
			 ?: obj_str(vm, "spec", "node")
			 ?: "node-1");
	snprintf(d->network, sizeof(d->network), "%s", obj_str(vm, "spec", "network") ?: "default");
	printf("VM %s is running and ready on %s after %.1f s (%s)\n", VM_NAME, d->source,
	       (double)(clock_mono_ms() - start) / 1000, d->ip);
cleanup:
	json_decref(vm);
	return r;
}

/* ---- step 4: the observer ---- */

int demo_start_observer(struct demo *d)
{
	char ns[96], rate[24], duration[24], err[PATH_MAX + 16];
	int r;

	demo_step("observer endpoint on %s probing %s: ICMP at %lu/s and a TCP stream to port %s",
		  d->observer, d->ip, d->rate, ECHO_PORT);
	r = endpoint_add(d->cli, d->name, OBSERVER_EP, d->network, d->observer);
	if (r)
		return r;
	snprintf(ns, sizeof(ns), "%s-ep-%s", d->name, OBSERVER_EP);
	snprintf(rate, sizeof(rate), "%lu", d->rate);
	/* until we stop it with SIGINT; bounded by the probe's memory cap */
	snprintf(duration, sizeof(duration), "%lu", d->rate > 5000 ? 20000000UL / d->rate : 3600UL);
	snprintf(err, sizeof(err), "%s/probe.err", d->out);
	r = demo_spawn(ns,
		       (const char *const[]){d->self, "probe", d->ip, "--rate", rate, "--tcp",
					     ECHO_PORT, "--json", "--record", d->probe_csv,
					     "--duration", duration, NULL},
		       d->probe_json, err, &d->probe_pid);
	if (r) {
		fprintf(stderr, "godwit lab demo: cannot start the probe: %s\n", strerror(-r));
		return r;
	}
	if (!demo_pause_ms(PROBE_BASELINE_MS))
		return -EINTR;
	if (!proc_pid_alive(d->probe_pid)) {
		fprintf(stderr, "godwit lab demo: the probe stopped at once\n");
		demo_show_file(err, "probe errors");
		d->probe_pid = 0;
		return -EIO;
	}
	printf("probing for %.1f s before the migration\n", PROBE_BASELINE_MS / 1000.0);
	return 0;
}

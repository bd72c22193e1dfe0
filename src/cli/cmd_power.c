/* SPDX-License-Identifier: MIT */
/*
 * `godwit start|stop|restart VM` and `godwit migrate-cancel VM`, virtctl's
 * verbs. start and stop set the VM's spec.running (docs/VM.md: the one field
 * of a VM's spec a PUT may change; the node's agent starts or stops QEMU);
 * restart stops, waits until the node no longer runs it (phase Stopped
 * without the reason "stopping ...") and starts it again.
 * migrate-cancel is `godwit migrate VM --abort`.
 */
#include "cli.h"

#include "lib/apiclient.h"
#include "lib/kinds.h"
#include "lib/proc.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESTART_WAIT_S 120

/* GET /v1/vms/NAME; errors printed. */
static int get_vm(struct cli *cli, const char *name, json_t **out)
{
	json_t *reply = NULL;
	char path[160];
	long code;

	snprintf(path, sizeof(path), "/v1/vms/%s", name);
	if (cli_request(cli, "GET", path, NULL, &code, &reply))
		return -EIO;
	if (code == 200) {
		*out = reply;
		return 0;
	}
	if (code == 404)
		fprintf(stderr, "Error: vm/%s does not exist\n", name);
	else
		fprintf(stderr, "Error: vm/%s: %s\n", name, api_error_text(reply));
	json_decref(reply);
	return code == 404 ? -ENOENT : -EIO;
}

static const char *phase_of(const json_t *vm)
{
	return obj_str(vm, "status", "phase");
}

/* Sets spec.running of vm name (the stored spec, revision-checked; retried on a conflict). */
static int set_running(struct cli *cli, const char *name, bool running)
{
	char path[160];
	json_t *vm = NULL, *reply = NULL;
	long code = 0;

	snprintf(path, sizeof(path), "/v1/vms/%s", name);
	for (int attempt = 0; attempt < 5; attempt++) {
		if (get_vm(cli, name, &vm) < 0)
			return -EIO;
		json_object_del(vm, "status");
		json_object_set_new(json_object_get(vm, "spec"), "running", json_boolean(running));
		reply = NULL;
		if (cli_request(cli, "PUT", path, vm, &code, &reply)) {
			json_decref(vm);
			return -EIO;
		}
		json_decref(vm);
		if (code == 200) {
			json_decref(reply);
			return 0;
		}
		if (code != 409) {
			fprintf(stderr, "Error: vm/%s: %s\n", name, api_error_text(reply));
			json_decref(reply);
			return -EIO;
		}
		json_decref(reply); /* changed meanwhile (a migration): again */
	}
	fprintf(stderr, "Error: vm/%s keeps changing; try again\n", name);
	return -EAGAIN;
}

static int wait_stopped(struct cli *cli, const char *name)
{
	time_t deadline = time(NULL) + RESTART_WAIT_S;
	json_t *vm = NULL;

	while (time(NULL) < deadline) {
		bool stopped;

		if (get_vm(cli, name, &vm) < 0)
			return -EIO;
		/* Stopped at once by spec; stopped on the node when no "stopping" reason. */
		stopped = phase_of(vm) && strcmp(phase_of(vm), "Stopped") == 0 &&
			  !json_object_get(json_object_get(vm, "status"), "reason");
		json_decref(vm);
		if (stopped)
			return 0;
		proc_sleep_ms(200);
	}
	fprintf(stderr, "Error: vm/%s did not stop within %d s\n", name, RESTART_WAIT_S);
	return -ETIMEDOUT;
}

int cmd_power(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	bool start = strcmp(verb->name, "start") == 0, stop = strcmp(verb->name, "stop") == 0;
	const char *name, *phase;
	json_t *vm = NULL;
	bool running;
	int r;

	r = cli_operands(verb, argc, argv, 1);
	if (r != CLI_GO_ON)
		return r;
	name = argv[optind];
	if (get_vm(cli, name, &vm) < 0)
		return 1;
	running = !json_is_false(json_object_get(json_object_get(vm, "spec"), "running"));
	phase = phase_of(vm);
	if (start && running) {
		printf("vm/%s is already running (phase %s)\n", name, phase ? phase : "unknown");
		json_decref(vm);
		return 0;
	}
	if (stop && !running) {
		printf("vm/%s is already stopped\n", name);
		json_decref(vm);
		return 0;
	}
	json_decref(vm);
	if (!start) {
		if (running && set_running(cli, name, false) < 0)
			return 1;
		if (stop) {
			printf("vm/%s: stop requested\n", name);
			return 0;
		}
		if (wait_stopped(cli, name) < 0)
			return 1;
	}
	if (set_running(cli, name, true) < 0)
		return 1;
	printf("vm/%s: %s requested\n", name, start ? "start" : "restart");
	return 0;
}

int cmd_migrate_cancel(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct cli_verb migrate = {"migrate", cmd_migrate, "", "migrate VM --abort"};
	char *args[8] = {"migrate"};
	int n = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_usage(verb, stdout);
			return 0;
		}
	}
	if (argc < 2 || argc > 4 || argv[1][0] == '-') {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n++] = "--abort";
	args[n] = NULL;
	return cmd_migrate(cli, &migrate, n, args);
}

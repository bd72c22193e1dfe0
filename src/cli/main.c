/* SPDX-License-Identifier: MIT */
/* godwit: the command line of the fabric. Global flags, then one verb from the table. */
#include "cli.h"

#include "demo/demo.h"
#include "demo/drill.h"
#include "lab/lab_verbs.h"

#include "lib/log.h"
#include "probe/probe.h"

#include <stdlib.h>
#include <string.h>

static int cmd_help(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);

/* The probe needs no controller: it runs on its own flags. */
static int cmd_probe(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	(void)cli;
	(void)verb;
	return probe_main(argc, argv);
}

/* The sub-verbs of `lab` that live above the lab wing (lab/lab_verbs.h). */
static const struct cli_verb lab_more[] = {
    {"demo", lab_demo, "From a fresh machine to a measured live migration.",
     "lab demo [--name LAB] [--out DIR] [--keep] [--subject vm|endpoint] ..."},
};

static int cmd_lab_all(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	return cmd_lab(cli, verb, argc, argv, lab_more, sizeof(lab_more) / sizeof(lab_more[0]));
}

static const struct cli_verb verbs[] = {
    {"apply", cmd_apply, "Create or update the objects of a manifest (YAML or JSON).",
     "apply -f FILE|-"},
    {"get", cmd_get,
     "List objects, or show one (kinds: networks|net, ports, nodes, migrations, vms).",
     "get KIND [NAME] [-o wide|json|yaml]"},
    {"describe", cmd_describe, "Show one object in detail, with status and counters.",
     "describe KIND NAME"},
    {"delete", cmd_delete, "Delete one object, or every object of a manifest.",
     "delete KIND NAME | delete -f FILE|-"},
    {"migrate", cmd_migrate, "Live-migrate a VM to another node (or abort its migration).",
     "migrate VM [--to NODE] [--wait] [--downtime-ms N] [--max-bandwidth-mib N]\n"
     "       [--progress-timeout-s N] [--tls | --no-tls] [--json]\n"
     "       godwit migrate VM --abort [--wait] [--json]"},
    {"migrate-cancel", cmd_migrate_cancel, "Cancel a VM's unfinished migration (migrate --abort).",
     "migrate-cancel VM [--wait] [--json]"},
    {"start", cmd_power, "Start a stopped VM (spec.running = true).", "start VM"},
    {"stop", cmd_power, "Stop a VM (spec.running = false).", "stop VM"},
    {"restart", cmd_power, "Stop a VM, wait until it is stopped, start it again.", "restart VM"},
    {"port-forward", cmd_port_forward,
     "Forward local TCP connections to a VM's port through the controller.",
     "port-forward [--address ADDR] [vm/|port/]NAME [LOCAL:]REMOTE\n"
     "       godwit port-forward --stdio [vm/|port/]NAME REMOTE"},
    {"ssh", cmd_ssh, "SSH into a VM through the controller (the system's ssh).",
     "ssh [-i FILE] [-l USER] [-p PORT] [-o OPT]... [USER@][vm/|port/]NAME [-- COMMAND...]"},
    {"console", cmd_console, "Connect to a VM's serial console (Ctrl-] leaves).", "console VM"},
    {"lab", cmd_lab_all, "Run a fabric on this machine: nodes as network namespaces.",
     "lab up [--name LAB] [--nodes N] | down [--name LAB] | status [--name LAB] | list"},
    {"endpoint", cmd_endpoint, "Endpoints (a netns with one port) in a lab.",
     "endpoint add NAME --network NET --node NODE [--lab LAB]\n"
     "       godwit endpoint del NAME [--lab LAB]\n"
     "       godwit endpoint exec NAME [--lab LAB] -- CMD [ARGS...]\n"
     "       godwit endpoint list [--lab LAB]"},
    {"drill", cmd_drill, "Rehearse a live migration with an endpoint (no hypervisor).",
     "drill ENDPOINT --to NODE [--strategy STRATEGY] [--silence-ms N]\n"
     "                    [--announce rarp|garp|none] [--transfer-ms N] [--naive] [--abort] "
     "[--json]"},
    {"probe", cmd_probe, "Measure reachability: fixed-rate ICMP echo and a verified TCP stream.",
     "probe TARGET [--rate HZ] [--duration S] [--tcp PORT] [--json] [--record FILE]\n"
     "       godwit probe --serve [--port PORT]"},
    {"config", cmd_config, "Write a context of the CLI's config file.",
     "config set-context NAME --server URL [--token-file F] [--ca FILE] [--current]"},
    {"token", cmd_token, "Make a node's join token, or revoke its credentials.",
     "token create --node NAME [--ttl 1h] | token revoke --node NAME"},
    {"help", cmd_help, "Show the verbs, or the usage of one.", "help [VERB]"},
};

static const struct cli_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void show_verbs(FILE *f)
{
	fprintf(f, "usage: godwit [--server URL] [--ca FILE] [--lab NAME] VERB [ARGS...]\n\n"
		   "Verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-14s %s\n", verbs[i].name, verbs[i].description);
	fprintf(f,
		"\nThe controller (a URL, or several comma-separated: the first reachable):\n"
		"--server, else GODWIT_SERVER, else the current context of\n"
		"$GODWIT_CONFIG or ~/.godwit/config (written by `lab up`, `config set-context`);\n"
		"the token: GODWIT_TOKEN, else that context's token-file (never a flag). An\n"
		"https:// server is verified against --ca FILE, else GODWIT_CA, else the\n"
		"context's CA (the controller's STATE/tls/ca.crt).\n"
		"`godwit VERB --help` shows the usage of a verb.\n");
}

static int cmd_help(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	const struct cli_verb *v;

	(void)cli;
	(void)verb;
	if (argc < 2) {
		show_verbs(stdout);
		return 0;
	}
	v = find_verb(argv[1]);
	if (!v) {
		fprintf(stderr, "godwit help: unknown verb '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	cli_usage(v, stdout);
	return 0;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const struct cli_verb *verb;
	int i, ret;

	log_init("godwit", LOG_LVL_WARN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char **slot = NULL;
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			show_verbs(stdout);
			return 0;
		}
		if (strcmp(arg, "--server") == 0 || strncmp(arg, "--server=", 9) == 0)
			slot = &cli.cfg.flag_server;
		else if (strcmp(arg, "--token") == 0 || strncmp(arg, "--token=", 8) == 0) {
			fprintf(stderr,
				"godwit: --token is no flag: a command line is seen by every "
				"user of the host; set GODWIT_TOKEN or a context's token-file "
				"(godwit help)\n");
			return EXIT_USAGE;
		} else if (strcmp(arg, "--lab") == 0 || strncmp(arg, "--lab=", 6) == 0)
			slot = &cli.cfg.flag_lab;
		else if (strcmp(arg, "--ca") == 0 || strncmp(arg, "--ca=", 5) == 0)
			slot = &cli.cfg.flag_ca;
		if (!slot) {
			fprintf(stderr,
				"godwit: unknown flag '%s' (global flags: --server URL "
				"--ca FILE --lab NAME)\n",
				arg);
			return EXIT_USAGE;
		}
		if (strchr(arg, '=')) {
			*slot = strchr(arg, '=') + 1;
		} else if (i + 1 < argc) {
			*slot = argv[++i];
		} else {
			fprintf(stderr, "godwit: flag '%s' needs a value\n", arg);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		show_verbs(stderr);
		return EXIT_USAGE;
	}
	verb = find_verb(argv[i]);
	if (!verb) {
		fprintf(stderr, "godwit: unknown verb '%s'\n\n", argv[i]);
		show_verbs(stderr);
		return EXIT_USAGE;
	}
	cli.cfg.env_server = env("GODWIT_SERVER");
	cli.cfg.env_token = env("GODWIT_TOKEN");
	cli.cfg.env_ca = env("GODWIT_CA");
	cli.cfg.env_config = env("GODWIT_CONFIG");
	cli.cfg.home = env("HOME");
	ret = verb->handler(&cli, verb, argc - i, argv + i);
	cli_free(&cli);
	return ret;
}

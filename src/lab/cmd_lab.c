/* SPDX-License-Identifier: MIT */
/* The `lab` verb: up, down, status, list, and the sub-verbs main.c adds (lab_verbs.h). */
#include "lab.h"
#include "lab_verbs.h"

#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char lab_usage[] =
    "usage: godwit lab up [--name LAB] [--nodes N] [--migration-tls]\n"
    "                                                start a lab (default godwit, 3 nodes;\n"
    "                                                --migration-tls: VM migrations under TLS)\n"
    "       godwit lab down [--name LAB]             stop it and remove everything it made\n"
    "       godwit lab status [--name LAB]           daemons, nodes, endpoints\n"
    "       godwit lab list                          labs on this machine\n"
    "       godwit lab demo [--subject vm|endpoint]  a measured live migration (--help)\n";

int cmd_lab(struct cli *cli, const struct cli_verb *verb, int argc, char **argv,
	    const struct cli_verb *more, size_t n_more)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
					     {"nodes", required_argument, NULL, 'N'},
					     {"migration-tls", no_argument, NULL, 'T'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	char labname[64];
	const char *sub, *name = NULL;
	struct lab_up_options up = {.nodes = 3};
	bool up_only = false; /* a flag of `lab up` was given */
	int opt;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(lab_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	for (size_t i = 0; i < n_more; i++)
		if (strcmp(sub, more[i].name) == 0)
			return more[i].handler(cli, verb, argc - 1, argv + 1);
	if (strcmp(sub, "up") && strcmp(sub, "down") && strcmp(sub, "status") &&
	    strcmp(sub, "list")) {
		fprintf(stderr, "godwit lab: unknown subcommand '%s'\n%s", sub, lab_usage);
		return EXIT_USAGE;
	}
	optind = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, ":n:N:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(lab_usage, stdout);
			return 0;
		} else if (opt == 'n') {
			name = optarg;
		} else if (opt == 'N') {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 1 || v > LAB_NODES_MAX) {
				fprintf(stderr, "godwit lab: --nodes '%s': expected 1..%d\n",
					optarg, LAB_NODES_MAX);
				return EXIT_USAGE;
			}
			up.nodes = (int)v;
			up_only = true;
		} else if (opt == 'T') {
			up.migration_tls = true;
			up_only = true;
		} else {
			return cli_bad_flag(verb, opt, argv + 1);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "godwit lab %s: unexpected argument '%s'\n", sub, argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (up_only && strcmp(sub, "up") != 0) {
		fprintf(stderr, "godwit lab %s: --nodes and --migration-tls only apply to `lab up`\n",
			sub);
		return EXIT_USAGE;
	}
	if (!name)
		name = cli->cfg.flag_lab;
	if (!name && strcmp(sub, "up") != 0 &&
	    config_lab_name(&cli->cfg, labname, sizeof(labname)) == 0)
		name = labname;
	if (!name)
		name = "godwit";
	if (lab_check_name(name))
		return EXIT_USAGE;
	if (strcmp(sub, "list") == 0)
		return lab_list();
	if (strcmp(sub, "status") == 0)
		return lab_status(name);
	if (geteuid() != 0) {
		fprintf(stderr,
			"godwit lab %s: must run as root (it creates network namespaces "
			"and loads eBPF programs); try sudo\n",
			sub);
		return 1;
	}
	if (strcmp(sub, "up") == 0)
		return lab_up(name, &up) ? 1 : 0;
	return lab_down(name, false) ? 1 : 0;
}

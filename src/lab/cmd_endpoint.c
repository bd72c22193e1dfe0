/* SPDX-License-Identifier: MIT */
/* The `endpoint` verb: add, del, exec, list (endpoint.h does the work). */
#include "endpoint.h"
#include "lab.h"
#include "lab_verbs.h"

#include "cli/cli.h"

#include "lib/kinds.h"
#include "lib/proc.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ep_usage[] =
    "usage: godwit endpoint add NAME --network NET --node NODE [--lab LAB]\n"
    "       godwit endpoint del NAME [--lab LAB]\n"
    "       godwit endpoint exec NAME [--lab LAB] -- CMD [ARGS...]\n"
    "       godwit endpoint list [--lab LAB]\n";

/* The lab's API: a --lab given to the verb selects its context like the global flag. */
static void use_lab(struct cli *cli, const char *lab)
{
	if (lab)
		cli->cfg.flag_lab = lab;
}

int cmd_endpoint(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {{"network", required_argument, NULL, 'n'},
					     {"node", required_argument, NULL, 'N'},
					     {"lab", required_argument, NULL, 'l'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *sub, *net = NULL, *node = NULL, *labflag = NULL;
	char lab[64];
	int opt, nargs;
	char **args;

	(void)verb;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(ep_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "add") && strcmp(sub, "del") && strcmp(sub, "exec") &&
	    strcmp(sub, "list")) {
		fprintf(stderr, "godwit endpoint: unknown subcommand '%s'\n%s", sub, ep_usage);
		return EXIT_USAGE;
	}
	optind = 0;
	/* exec: "+" stops at NAME so the command's own flags are left alone. */
	while ((opt = getopt_long(argc - 1, argv + 1,
				  strcmp(sub, "exec") ? ":n:N:l:h" : "+:n:N:l:h", opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'h':
			fputs(ep_usage, stdout);
			return 0;
		case 'n':
			net = optarg;
			break;
		case 'N':
			node = optarg;
			break;
		case 'l':
			labflag = optarg;
			break;
		default:
			return cli_bad_flag(verb, opt, argv + 1);
		}
	}
	args = argv + 1 + optind;
	nargs = argc - 1 - optind;
	use_lab(cli, labflag);
	if (config_lab_name(&cli->cfg, lab, sizeof(lab)) || lab_check_name(lab))
		return EXIT_USAGE;

	if (strcmp(sub, "list") == 0) {
		if (nargs) {
			fputs(ep_usage, stderr);
			return EXIT_USAGE;
		}
		return endpoint_list(cli, lab) ? 1 : 0;
	}
	if (nargs < 1 || !object_name_valid(args[0])) {
		fprintf(stderr, "godwit endpoint %s: %s\n%s", sub,
			nargs < 1 ? "NAME is required" : "NAME must be a DNS label (a-z, 0-9, '-')",
			ep_usage);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "exec") == 0) {
		char ns[160];
		char **cmd = args + 1;
		int ncmd = nargs - 1;

		/* optional --lab after NAME, then "--" */
		while (ncmd >= 2 && strcmp(cmd[0], "--lab") == 0) {
			use_lab(cli, cmd[1]);
			cmd += 2;
			ncmd -= 2;
			if (config_lab_name(&cli->cfg, lab, sizeof(lab)) || lab_check_name(lab))
				return EXIT_USAGE;
		}
		if (ncmd > 0 && strcmp(cmd[0], "--") == 0) {
			cmd++;
			ncmd--;
		}
		if (ncmd < 1) {
			fprintf(stderr, "godwit endpoint exec: no command given\n%s", ep_usage);
			return EXIT_USAGE;
		}
		endpoint_netns(lab, args[0], ns, sizeof(ns));
		if (!proc_netns_exists(ns)) {
			fprintf(stderr,
				"godwit endpoint exec: no endpoint %s in lab %s (netns %s "
				"missing)\n",
				args[0], lab, ns);
			return 1;
		}
		char **full = calloc(ncmd + 5, sizeof(*full));

		if (!full)
			return 1;
		full[0] = "ip";
		full[1] = "netns";
		full[2] = "exec";
		full[3] = ns;
		memcpy(full + 4, cmd, ncmd * sizeof(*cmd));
		execvp("ip", full);
		fprintf(stderr, "godwit endpoint exec: cannot run ip: %s\n", strerror(errno));
		free(full);
		return 1;
	}
	if (nargs != 1) {
		fprintf(stderr, "godwit endpoint %s: unexpected argument '%s'\n", sub, args[1]);
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "godwit endpoint %s: must run as root (network namespaces)\n", sub);
		return 1;
	}
	if (strcmp(sub, "del") == 0)
		return endpoint_del(cli, lab, args[0]) ? 1 : 0;
	if (!net || !node) {
		fprintf(stderr,
			"godwit endpoint add: --network NET and --node NODE are required\n");
		return EXIT_USAGE;
	}
	return endpoint_add(cli, lab, args[0], net, node) ? 1 : 0;
}

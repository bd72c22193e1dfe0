/* SPDX-License-Identifier: MIT */
/*
 * `godwit config set-context NAME --server URL [--token-file F] [--ca FILE]
 * [--current]`: a context of the CLI's config file (config.h), for a
 * controller outside a lab: https://CTRL:7480 with the cluster CA
 * (STATE/tls/ca.crt of godwitd, copied to this host).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An absolute path of a file that exists (the context outlives the cwd). */
static int absolute_file(const char *flag, const char *path, char *out)
{
	if (!realpath(path, out)) {
		int r = -errno;

		fprintf(stderr, "godwit config: %s: cannot use '%s': %s\n", flag, path,
			strerror(-r));
		return r;
	}
	return 0;
}

int cmd_config(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'}, {"token-file", required_argument, NULL, 't'},
	    {"ca", required_argument, NULL, 'c'},     {"current", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	const char *server = NULL, *token = NULL, *ca = NULL, *name;
	char token_abs[PATH_MAX], ca_abs[PATH_MAX], *path;
	bool current = false;
	int opt, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			server = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'C':
			current = true;
			break;
		case 'h':
			cli_usage(verb, stdout);
			return 0;
		default:
			return cli_bad_flag(verb, opt, argv);
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "set-context") != 0 || !server) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	name = argv[optind + 1];
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7) &&
	    strncmp(server, "unix:/", 6)) {
		fprintf(stderr,
			"godwit config: --server: '%s' is neither https://HOST:PORT, "
			"http://HOST:PORT nor unix:/PATH\n",
			server);
		return EXIT_USAGE;
	}
	if ((token && absolute_file("--token-file", token, token_abs) < 0) ||
	    (ca && absolute_file("--ca", ca, ca_abs) < 0))
		return 1;
	path = config_path(&cli->cfg);
	if (!path) {
		fprintf(stderr, "godwit config: out of memory\n");
		return 1;
	}
	r = config_set_context(path, name, server, token ? token_abs : NULL, ca ? ca_abs : NULL,
			       current);
	if (r < 0)
		fprintf(stderr, "godwit config: cannot write %s: %s\n", path, strerror(-r));
	else
		printf("context %s%s in %s: %s%s%s\n", name, current ? " (current)" : "", path,
		       server, ca ? ", CA " : "", ca ? ca_abs : "");
	free(path);
	return r < 0 ? 1 : 0;
}

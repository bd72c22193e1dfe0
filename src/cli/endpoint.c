/* SPDX-License-Identifier: MIT */
/*
 * `endpoint add|del|exec|list`: an endpoint is a netns LAB-ep-NAME holding
 * one Port of type veth. The agent of the port's node creates the veth, moves
 * the peer into the netns as eth0 and configures MAC/IPv4 from IPAM; the CLI
 * only creates the netns, posts the Port and waits for the address.
 */
#include "cli.h"
#include "lab.h"
#include "manifest.h"
#include "netns.h"
#include "views.h"

#include "lib/apiclient.h"
#include "lib/clock.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EP_DEADLINE_MS 20000

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

static void ep_netns(const char *lab, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s-ep-%s", lab, name);
}

/* True when eth0 in netns carries ipv4. */
static bool has_ipv4(const char *netns, const char *ipv4)
{
	char *out = NULL;
	char needle[64];
	bool found;

	if (run_capture((const char *const[]){ "ip", "-n", netns, "-4", "-o", "addr", "show",
					       "dev", "eth0", NULL },
			&out))
		return false;
	snprintf(needle, sizeof(needle), "inet %s/", ipv4);
	found = strstr(out, needle) != NULL;
	free(out);
	return found;
}

static void delete_port(struct cli *cli, const char *name)
{
	char path[128];
	json_t *reply = NULL;
	long status;

	snprintf(path, sizeof(path), "/v1/ports/%s", name);
	if (cli_request(cli, "DELETE", path, NULL, &status, &reply) == 0 && status != 200 &&
	    status != 404)
		fprintf(stderr, "godwit endpoint: DELETE %s: %s\n", path, api_error_text(reply));
	json_decref(reply);
}

static int ep_add(struct cli *cli, const char *lab, const char *name, const char *net,
		  const char *node)
{
	char ns[160];
	json_t *body = NULL, *reply = NULL;
	const char *ipv4, *mac;
	bool posted = false;
	long status;
	long long deadline;
	int ret = 1;

	ep_netns(lab, name, ns, sizeof(ns));
	if (proc_netns_exists(ns)) {
		fprintf(stderr, "godwit endpoint add: netns %s already exists (endpoint %s is "
				"there; `godwit endpoint del %s` first)\n",
			ns, name, name);
		return 1;
	}
	if (run_cmd((const char *const[]){ "ip", "netns", "add", ns, NULL }, false))
		return 1;
	if (run_cmd((const char *const[]){ "ip", "-n", ns, "link", "set", "lo", "up", NULL },
		    false))
		goto cleanup;
	body = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:[s], s:s, s:s}}", "apiVersion", "godwit/v1",
			 "kind", kind_str(KIND_PORT), "metadata", "name", name, "spec", "network",
			 net, "locations", node, "type", "veth", "netns", ns);
	if (!body || cli_request(cli, "POST", "/v1/ports", body, &status, &reply))
		goto cleanup;
	if (status != 201 && status != 200) {
		fprintf(stderr, "godwit endpoint add: port %s: %s (HTTP %ld)\n", name,
			api_error_text(reply), status);
		goto cleanup;
	}
	posted = true;
	ipv4 = json_string_value(json_object_get(json_object_get(reply, "spec"), "ipv4"));
	mac = json_string_value(json_object_get(json_object_get(reply, "spec"), "mac"));
	if (!ipv4) {
		fprintf(stderr, "godwit endpoint add: the controller gave port %s no ipv4\n", name);
		goto cleanup;
	}
	deadline = clock_mono_ms() + EP_DEADLINE_MS;
	while (!has_ipv4(ns, ipv4)) {
		if (clock_mono_ms() > deadline) {
			fprintf(stderr,
				"godwit endpoint add: eth0 in %s did not get %s within %d s "
				"(is the agent on %s running? see `godwit lab status`)\n",
				ns, ipv4, EP_DEADLINE_MS / 1000, node);
			goto cleanup;
		}
		proc_sleep_ms(100);
	}
	printf("endpoint %s: %s (%s) on %s\n", name, ipv4, mac ? mac : "?", node);
	ret = 0;
cleanup:
	if (ret) {
		if (posted)
			delete_port(cli, name);
		run_cmd((const char *const[]){ "ip", "netns", "del", ns, NULL }, true);
	}
	json_decref(body);
	json_decref(reply);
	return ret;
}

static int ep_del(struct cli *cli, const char *lab, const char *name)
{
	char ns[160], path[128];
	json_t *reply = NULL;
	long status = 0;
	int ret = 0;

	ep_netns(lab, name, ns, sizeof(ns));
	snprintf(path, sizeof(path), "/v1/ports/%s", name);
	if (cli_request(cli, "DELETE", path, NULL, &status, &reply)) {
		ret = 1;
	} else if (status == 404) {
		fprintf(stderr, "godwit endpoint del: port %s not found\n", name);
	} else if (status != 200) {
		fprintf(stderr, "godwit endpoint del: port %s: %s\n", name, api_error_text(reply));
		ret = 1;
	}
	json_decref(reply);
	if (proc_netns_exists(ns)) {
		proc_netns_kill_all(ns);
		if (run_cmd((const char *const[]){ "ip", "netns", "del", ns, NULL }, false))
			ret = 1;
	} else if (status == 404) {
		ret = 1; /* neither port nor netns: nothing by that name */
	}
	if (!ret)
		printf("endpoint %s deleted\n", name);
	return ret;
}

static int ep_list(struct cli *cli, const char *lab)
{
	json_t *reply = NULL, *eps, *p;
	char prefix[96];
	struct table t;
	long status;
	size_t i;

	if (cli_request(cli, "GET", "/v1/ports", NULL, &status, &reply))
		return 1;
	if (status != 200) {
		fprintf(stderr, "godwit endpoint list: %s\n", api_error_text(reply));
		json_decref(reply);
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "%s-ep-", lab);
	eps = json_array();
	json_array_foreach(json_object_get(reply, "items"), i, p) {
		const char *ns =
			json_string_value(json_object_get(json_object_get(p, "spec"), "netns"));

		if (ns && strncmp(ns, prefix, strlen(prefix)) == 0)
			json_array_append(eps, p);
	}
	if (json_array_size(eps) == 0)
		printf("No endpoints in lab %s.\n", lab);
	else if (view_table(&kind_table[KIND_PORT], eps, NULL, true, &t) == 0) {
		table_print(&t, stdout);
		table_free(&t);
	}
	json_decref(eps);
	json_decref(reply);
	return 0;
}

int cmd_endpoint(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = { { "network", required_argument, NULL, 'n' },
					      { "node", required_argument, NULL, 'N' },
					      { "lab", required_argument, NULL, 'l' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
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
	while ((opt = getopt_long(argc - 1, argv + 1, strcmp(sub, "exec") ? ":n:N:l:h" : "+:n:N:l:h",
				  opts, NULL)) != -1) {
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
		return ep_list(cli, lab);
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
		ep_netns(lab, args[0], ns, sizeof(ns));
		if (!proc_netns_exists(ns)) {
			fprintf(stderr, "godwit endpoint exec: no endpoint %s in lab %s (netns %s "
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
		return ep_del(cli, lab, args[0]);
	if (!net || !node) {
		fprintf(stderr, "godwit endpoint add: --network NET and --node NODE are required\n");
		return EXIT_USAGE;
	}
	return ep_add(cli, lab, args[0], net, node);
}

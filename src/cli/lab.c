/* SPDX-License-Identifier: MIT */
/* The lab's state file, `lab status`, `lab list` and the `lab` verb. */
#include "lab.h"

#include "cli.h"
#include "config.h"
#include "demo.h"
#include "netns.h"
#include "table.h"
#include "views.h"

#include "lib/apiclient.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lab_check_name(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			n = 0;
	if (n == 0 || n > LAB_NAME_MAX) {
		fprintf(stderr, "godwit lab: bad lab name '%s' (1-%d of a-z, 0-9, '-')\n", name,
			LAB_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

int lab_init(struct lab *lab, const char *name)
{
	int r = lab_check_name(name);

	if (r)
		return r;
	*lab = (struct lab){ 0 };
	snprintf(lab->name, sizeof(lab->name), "%s", name);
	snprintf(lab->dir, sizeof(lab->dir), "%s/%s", LAB_ROOT, name);
	return 0;
}

void lab_free(struct lab *lab)
{
	json_decref(lab->state);
	lab->state = NULL;
}

void lab_path(const struct lab *lab, const char *file, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", lab->dir, file);
}

int lab_load_state(struct lab *lab)
{
	char path[PATH_MAX + 16];
	json_t *st;

	lab_path(lab, "lab.json", path, sizeof(path));
	st = json_load_file(path, 0, NULL);
	if (!st)
		return access(path, F_OK) == 0 ? -EINVAL : -ENOENT;
	json_decref(lab->state);
	lab->state = st;
	lab->nodes = (int)json_integer_value(json_object_get(st, "nodes"));
	return 0;
}

int lab_save_state(const struct lab *lab)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 24];

	lab_path(lab, "lab.json", path, sizeof(path));
	lab_path(lab, "lab.json.tmp", tmp, sizeof(tmp));
	if (json_dump_file(lab->state, tmp, JSON_INDENT(2)) < 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

int lab_record_daemon(struct lab *lab, const char *name, pid_t pid, const char *exe)
{
	json_t *daemons = json_object_get(lab->state, "daemons");

	if (json_array_append_new(daemons, json_pack("{s:s, s:i, s:s}", "name", name, "pid",
						     (int)pid, "exe", exe)))
		return -ENOMEM;
	return lab_save_state(lab);
}

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Another existing lab whose name is longer and also prefixes netns owns it. */
static bool longer_lab_claims(const char *lab, const char *netns)
{
	DIR *d = opendir(LAB_ROOT);
	struct dirent *de;
	bool claimed = false;

	if (!d)
		return false;
	while ((de = readdir(d)) && !claimed) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n <= strlen(lab))
			continue;
		if (strncmp(netns, de->d_name, n) == 0 && netns[n] == '-')
			claimed = true;
	}
	closedir(d);
	return claimed;
}

bool lab_owns_netns(const char *lab, const char *netns)
{
	size_t n = strlen(lab);
	const char *rest;

	if (strncmp(netns, lab, n) != 0 || netns[n] != '-')
		return false;
	rest = netns + n + 1;
	if (strcmp(rest, "ul") == 0)
		return true;
	if (strncmp(rest, "node-", 5) == 0 && digits(rest + 5))
		return !longer_lab_claims(lab, netns);
	if (strncmp(rest, "ep-", 3) == 0 && rest[3])
		return !longer_lab_claims(lab, netns);
	return false;
}

char *lab_user_config_path(void)
{
	struct config_input in = { .env_config = getenv("GODWIT_CONFIG"),
				   .home = getenv("HOME") };

	return config_path(&in);
}

/* A client to the lab's controller over its unix socket (token from LABDIR/token). */
static int lab_client(const struct lab *lab, struct api_client **out)
{
	char sock[PATH_MAX + 32], tokpath[PATH_MAX + 16], token[256] = "";
	FILE *f;

	lab_path(lab, "token", tokpath, sizeof(tokpath));
	f = fopen(tokpath, "re");
	if (f) {
		if (!fgets(token, sizeof(token), f))
			token[0] = '\0';
		token[strcspn(token, "\r\n")] = '\0';
		fclose(f);
	}
	snprintf(sock, sizeof(sock), "unix:%s/api.sock", lab->dir);
	return api_client_new(sock, token, out);
}

int lab_status(const char *name)
{
	struct lab lab;
	struct api_client *api = NULL;
	struct table t;
	json_t *d, *reply = NULL;
	size_t i;
	long status;
	int r;

	if (lab_init(&lab, name))
		return 2;
	r = lab_load_state(&lab);
	if (r) {
		fprintf(stderr, "lab %s is not up (%s/lab.json: %s)\n", name, lab.dir,
			r == -ENOENT ? "missing" : "unreadable");
		return 1;
	}
	printf("Lab %s: %d nodes, state in %s\n\nDaemons:\n", name, lab.nodes, lab.dir);
	table_init(&t, 4, (const char *const[]){ "NAME", "PID", "STATE", "LOG" });
	json_array_foreach(json_object_get(lab.state, "daemons"), i, d) {
		const char *dn = json_string_value(json_object_get(d, "name"));
		const char *exe = json_string_value(json_object_get(d, "exe"));
		char pid[32], log[PATH_MAX + 16];
		const char *base = exe && strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;

		snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(d, "pid")));
		snprintf(log, sizeof(log), "%s/%s.log", lab.dir, dn ? dn : "?");
		table_add_row(
		    &t, (const char *const[]){
			    dn, pid,
			    proc_pid_runs((pid_t)json_integer_value(json_object_get(d, "pid")),
					  base ? base : "")
				? "running"
				: "dead",
			    log});
	}
	table_print(&t, stdout);
	table_free(&t);

	printf("\nNodes:\n");
	if (lab_client(&lab, &api) == 0) {
		api_client_set_timeout_ms(api, 3000);
		r = api_request(api, "GET", "/v1/nodes", NULL, &status, &reply);
	} else {
		r = -ENOMEM;
	}
	if (r || status != 200) {
		printf("  controller not reachable at unix:%s/api.sock (%s)\n", lab.dir,
		       r ? strerror(-r) : api_error_text(reply));
	} else {
		if (view_table(&kind_table[KIND_NODE], json_object_get(reply, "items"), NULL, false,
			       &t) == 0) {
			table_print(&t, stdout);
			table_free(&t);
		}
		json_decref(reply);
		reply = NULL;
		printf("\nEndpoints:\n");
		if (api_request(api, "GET", "/v1/ports", NULL, &status, &reply) == 0 &&
		    status == 200) {
			json_t *eps = json_array(), *p;
			char prefix[LAB_NAME_MAX + 8];

			snprintf(prefix, sizeof(prefix), "%s-ep-", name);
			json_array_foreach(json_object_get(reply, "items"), i, p) {
				const char *ns = json_string_value(
					json_object_get(json_object_get(p, "spec"), "netns"));

				if (ns && strncmp(ns, prefix, strlen(prefix)) == 0)
					json_array_append(eps, p);
			}
			if (json_array_size(eps) == 0)
				printf("  (none)\n");
			else if (view_table(&kind_table[KIND_PORT], eps, NULL, true, &t) == 0) {
				table_print(&t, stdout);
				table_free(&t);
			}
			json_decref(eps);
		}
	}
	json_decref(reply);
	api_client_free(api);
	lab_free(&lab);
	return 0;
}

int lab_list(void)
{
	DIR *d = opendir(LAB_ROOT);
	struct dirent *de;
	struct table t;
	int n = 0;

	if (!d) {
		printf("No labs.\n");
		return 0;
	}
	table_init(&t, 4, (const char *const[]){ "NAME", "NODES", "CONTROLLER", "SERVER" });
	while ((de = readdir(d))) {
		struct lab lab;
		char nodes[16] = "?", server[PATH_MAX + 32];
		const char *state = "unknown";
		json_t *dm;
		size_t i;

		if (de->d_name[0] == '.' || lab_check_name(de->d_name))
			continue;
		lab_init(&lab, de->d_name);
		if (lab_load_state(&lab) == 0) {
			snprintf(nodes, sizeof(nodes), "%d", lab.nodes);
			state = "dead";
			json_array_foreach(json_object_get(lab.state, "daemons"), i, dm) {
				const char *dn = json_string_value(json_object_get(dm, "name"));

				if (dn && strcmp(dn, "godwitd") == 0 &&
				    proc_pid_runs(
					(pid_t)json_integer_value(json_object_get(dm, "pid")),
					"godwitd"))
					state = "running";
			}
		}
		snprintf(server, sizeof(server), "unix:%s/api.sock", lab.dir);
		table_add_row(&t, (const char *const[]){ lab.name, nodes, state, server });
		lab_free(&lab);
		n++;
	}
	closedir(d);
	if (n)
		table_print(&t, stdout);
	else
		printf("No labs.\n");
	table_free(&t);
	return 0;
}

static const char lab_usage[] =
	"usage: godwit lab up [--name LAB] [--nodes N]   start a lab (default godwit, 3 nodes)\n"
	"       godwit lab down [--name LAB]             stop it and remove everything it made\n"
	"       godwit lab status [--name LAB]           daemons, nodes, endpoints\n"
	"       godwit lab list                          labs on this machine\n"
	"       godwit lab demo [--subject vm|endpoint]  a measured live migration (--help)\n";

int cmd_lab(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "nodes", required_argument, NULL, 'N' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	char labname[64];
	const char *sub, *name = NULL;
	int opt, nodes = 3;
	bool nodes_given = false;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(lab_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "demo") == 0)
		return lab_demo(cli, verb, argc - 1, argv + 1);
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
			nodes = (int)v;
			nodes_given = true;
		} else {
			return cli_bad_flag(verb, opt, argv + 1);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "godwit lab %s: unexpected argument '%s'\n", sub,
			argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (nodes_given && strcmp(sub, "up") != 0) {
		fprintf(stderr, "godwit lab %s: --nodes only applies to `lab up`\n", sub);
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
		fprintf(stderr, "godwit lab %s: must run as root (it creates network namespaces "
				"and loads eBPF programs); try sudo\n",
			sub);
		return 1;
	}
	if (strcmp(sub, "up") == 0)
		return lab_up(name, nodes) ? 1 : 0;
	return lab_down(name, false) ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* `lab status` (the daemons, and the nodes and endpoints as the controller sees them) and `lab
 * list`. */
#include "lab.h"

#include "cli/table.h"
#include "cli/views.h"

#include "lib/apiclient.h"
#include "lib/proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	return api_client_new(sock, token, NULL, out);
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
	printf("Lab %s: %d nodes, state in %s\n", name, lab.nodes, lab.dir);
	printf("Controller: unix:%s/api.sock (plain HTTP, this host's root),\n"
	       "  " LAB_API_URL " in netns %s-ul (TLS; CA %s/" LAB_CA_FILE ")\n\nDaemons:\n",
	       lab.dir, name, lab.dir);
	table_init(&t, 4, (const char *const[]){"NAME", "PID", "STATE", "LOG"});
	json_array_foreach(json_object_get(lab.state, "daemons"), i, d)
	{
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

	{
		char out[48];

		snprintf(out, sizeof(out), "%s-%s", name, LAB_OUTSIDE);
		printf("\nOutside: netns %s (%s), host %s answering ping and TCP echo on %s,\n"
		       "  behind %s's uplink %s (the SNAT address of networks routed out "
		       "there)\n",
		       out, proc_netns_exists(out) ? "present" : "missing", LAB_OUTSIDE_HOST,
		       LAB_OUTSIDE_ECHO, LAB_GATEWAY_NODE, LAB_UPLINK_ADDR);
	}

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
		view_print_table(&kind_table[KIND_NODE], json_object_get(reply, "items"), NULL,
				 false, stdout);
		json_decref(reply);
		reply = NULL;
		/* with GATEWAY-NODE: the networks routed out through the lab's outside */
		printf("\nNetworks:\n");
		if (api_request(api, "GET", "/v1/networks", NULL, &status, &reply) == 0 &&
		    status == 200)
			view_print_table(&kind_table[KIND_NETWORK], json_object_get(reply, "items"),
					 NULL, true, stdout);
		json_decref(reply);
		reply = NULL;
		printf("\nEndpoints:\n");
		if (api_request(api, "GET", "/v1/ports", NULL, &status, &reply) == 0 &&
		    status == 200) {
			json_t *eps = json_array(), *p;
			char prefix[LAB_NAME_MAX + 8];

			snprintf(prefix, sizeof(prefix), "%s-ep-", name);
			json_array_foreach(json_object_get(reply, "items"), i, p)
			{
				const char *ns = obj_str(p, "spec", "netns");

				if (ns && strncmp(ns, prefix, strlen(prefix)) == 0)
					json_array_append(eps, p);
			}
			if (json_array_size(eps) == 0)
				printf("  (none)\n");
			else
				view_print_table(&kind_table[KIND_PORT], eps, NULL, true, stdout);
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
	table_init(&t, 4, (const char *const[]){"NAME", "NODES", "CONTROLLER", "SERVER"});
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
			json_array_foreach(json_object_get(lab.state, "daemons"), i, dm)
			{
				const char *dn = json_string_value(json_object_get(dm, "name"));

				if (dn && strcmp(dn, "godwitd") == 0 &&
				    proc_pid_runs(
					(pid_t)json_integer_value(json_object_get(dm, "pid")),
					"godwitd"))
					state = "running";
			}
		}
		snprintf(server, sizeof(server), "unix:%s/api.sock", lab.dir);
		table_add_row(&t, (const char *const[]){lab.name, nodes, state, server});
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

/* SPDX-License-Identifier: MIT */
/* Endpoints of a lab: add, del, list (endpoint.h). */
#include "endpoint.h"

#include "netns.h"

#include "cli/cli.h"
#include "cli/views.h"

#include "lib/apiclient.h"
#include "lib/clock.h"
#include "lib/kinds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EP_DEADLINE_MS 20000

void endpoint_netns(const char *lab, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s-ep-%s", lab, name);
}

/* True when eth0 in netns carries ipv4. */
static bool has_ipv4(const char *netns, const char *ipv4)
{
	char *out = NULL;
	char needle[64];
	bool found;

	if (run_capture((const char *const[]){"ip", "-n", netns, "-4", "-o", "addr", "show", "dev",
					      "eth0", NULL},
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

int endpoint_add(struct cli *cli, const char *lab, const char *name, const char *network,
		 const char *node)
{
	char ns[160];
	json_t *body = NULL, *reply = NULL;
	const char *ipv4, *mac;
	bool posted = false;
	long status;
	long long deadline;
	int r;

	endpoint_netns(lab, name, ns, sizeof(ns));
	if (proc_netns_exists(ns)) {
		fprintf(stderr,
			"godwit endpoint add: netns %s already exists (endpoint %s is "
			"there; `godwit endpoint del %s` first)\n",
			ns, name, name);
		return -EEXIST;
	}
	r = run_cmd((const char *const[]){"ip", "netns", "add", ns, NULL}, false);
	if (r)
		return r;
	r = run_cmd((const char *const[]){"ip", "-n", ns, "link", "set", "lo", "up", NULL}, false);
	if (r)
		goto cleanup;
	body = kind_object_new(KIND_PORT, name,
			       json_pack("{s:s, s:[s], s:s, s:s}", "network", network, "locations",
					 node, "type", "veth", "netns", ns));
	r = body ? cli_request(cli, "POST", "/v1/ports", body, &status, &reply) : -ENOMEM;
	if (r)
		goto cleanup;
	if (status != 201 && status != 200) {
		fprintf(stderr, "godwit endpoint add: port %s: %s (HTTP %ld)\n", name,
			api_error_text(reply), status);
		r = -EPROTO;
		goto cleanup;
	}
	posted = true;
	ipv4 = obj_str(reply, "spec", "ipv4");
	mac = obj_str(reply, "spec", "mac");
	if (!ipv4) {
		fprintf(stderr, "godwit endpoint add: the controller gave port %s no ipv4\n", name);
		r = -EPROTO;
		goto cleanup;
	}
	deadline = clock_mono_ms() + EP_DEADLINE_MS;
	while (!has_ipv4(ns, ipv4)) {
		if (clock_mono_ms() > deadline) {
			fprintf(stderr,
				"godwit endpoint add: eth0 in %s did not get %s within %d s "
				"(is the agent on %s running? see `godwit lab status`)\n",
				ns, ipv4, EP_DEADLINE_MS / 1000, node);
			r = -ETIMEDOUT;
			goto cleanup;
		}
		proc_sleep_ms(100);
	}
	printf("endpoint %s: %s (%s) on %s\n", name, ipv4, mac ? mac : "?", node);
cleanup:
	if (r) {
		if (posted)
			delete_port(cli, name);
		run_cmd((const char *const[]){"ip", "netns", "del", ns, NULL}, true);
	}
	json_decref(body);
	json_decref(reply);
	return r;
}

int endpoint_del(struct cli *cli, const char *lab, const char *name)
{
	char ns[160], path[128];
	json_t *reply = NULL;
	long status = 0;
	int r;

	endpoint_netns(lab, name, ns, sizeof(ns));
	snprintf(path, sizeof(path), "/v1/ports/%s", name);
	r = cli_request(cli, "DELETE", path, NULL, &status, &reply);
	if (!r && status == 404) {
		fprintf(stderr, "godwit endpoint del: port %s not found\n", name);
	} else if (!r && status != 200) {
		fprintf(stderr, "godwit endpoint del: port %s: %s\n", name, api_error_text(reply));
		r = -EPROTO;
	}
	json_decref(reply);
	if (proc_netns_exists(ns)) {
		int d;

		proc_netns_kill_all(ns);
		d = run_cmd((const char *const[]){"ip", "netns", "del", ns, NULL}, false);
		if (!r)
			r = d;
	} else if (status == 404) {
		r = -ENOENT; /* neither port nor netns: nothing by that name */
	}
	if (!r)
		printf("endpoint %s deleted\n", name);
	return r;
}

int endpoint_list(struct cli *cli, const char *lab)
{
	json_t *reply = NULL, *eps, *p;
	char prefix[96];
	struct table t;
	long status;
	size_t i;
	int r;

	r = cli_request(cli, "GET", "/v1/ports", NULL, &status, &reply);
	if (r)
		return r;
	if (status != 200) {
		fprintf(stderr, "godwit endpoint list: %s\n", api_error_text(reply));
		json_decref(reply);
		return -EPROTO;
	}
	snprintf(prefix, sizeof(prefix), "%s-ep-", lab);
	eps = json_array();
	json_array_foreach(json_object_get(reply, "items"), i, p)
	{
		const char *ns = obj_str(p, "spec", "netns");

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

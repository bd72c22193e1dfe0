/* SPDX-License-Identifier: MIT */
/* `lab down`: stop by PID, delete the lab's namespaces and pins, forget the context. */
#include "lab.h"

#include "cli/config.h"
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_TIMEOUT_MS 5000

static int stop_daemons(struct lab *lab, bool quiet)
{
	json_t *daemons = json_object_get(lab->state, "daemons"), *d;
	int failed = 0;
	size_t i;

	/* Agents first (they may clean up their nodes), the controller last. */
	for (i = json_array_size(daemons); i-- > 0;) {
		const char *name, *exe, *base;
		pid_t pid;

		d = json_array_get(daemons, i);
		name = json_string_value(json_object_get(d, "name"));
		exe = json_string_value(json_object_get(d, "exe"));
		pid = (pid_t)json_integer_value(json_object_get(d, "pid"));
		base = exe && strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
		if (!base || !proc_pid_runs(pid, base))
			continue;
		if (proc_stop_pid(pid, STOP_TIMEOUT_MS) < 0) {
			fprintf(stderr, "godwit lab down: cannot stop %s (pid %d)\n", name,
				(int)pid);
			failed = 1;
		} else if (!quiet) {
			printf("stopped %s (pid %d)\n", name, (int)pid);
		}
	}
	return failed ? -EBUSY : 0;
}

/* Order: endpoints, nodes, the underlay last. */
static int ns_rank(const char *lab, const char *ns)
{
	size_t n = strlen(lab);

	if (strncmp(ns + n + 1, "ep-", 3) == 0 || strstr(ns + n + 1, "-gw-"))
		return 0;
	if (strncmp(ns + n + 1, "node-", 5) == 0)
		return 1;
	return 2;
}

static int delete_namespaces(const char *lab, bool quiet)
{
	char **names = NULL;
	size_t n = 0;
	int r, failed = 0;

	r = proc_netns_list(&names, &n);
	if (r)
		return r;
	for (int rank = 0; rank < 3; rank++) {
		for (size_t i = 0; i < n; i++) {
			int killed;

			if (!lab_owns_netns(lab, names[i]) || ns_rank(lab, names[i]) != rank)
				continue;
			killed = proc_netns_kill_all(names[i]);
			if (killed > 0 && !quiet)
				printf("killed %d leftover process(es) in %s\n", killed, names[i]);
			if (killed > 0)
				proc_sleep_ms(50);
			if (run_cmd((const char *const[]){"ip", "netns", "del", names[i], NULL},
				    false))
				failed = 1;
			else if (!quiet)
				printf("deleted netns %s\n", names[i]);
		}
	}
	proc_strv_free(names, n);
	return failed ? -EIO : 0;
}

/* The tunnel namespaces the lab's agents made (agent/streams.h: their names
 * under vms/NODE/tunnels/ of the lab's dir); their veths go with the nodes. */
static int delete_tunnels(struct lab *lab, bool quiet)
{
	char vms[PATH_MAX];
	struct dirent *node, *t;
	DIR *d, *td;
	int failed = 0;

	lab_path(lab, "vms", vms, sizeof(vms));
	d = opendir(vms);
	if (!d)
		return 0;
	while ((node = readdir(d))) {
		char dir[PATH_MAX + 300];

		if (node->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s/tunnels", vms, node->d_name);
		td = opendir(dir);
		if (!td)
			continue;
		while ((t = readdir(td))) {
			if (t->d_name[0] == '.' || !proc_netns_exists(t->d_name))
				continue;
			proc_netns_kill_all(t->d_name);
			if (run_cmd((const char *const[]){"ip", "netns", "del", t->d_name, NULL},
				    false))
				failed = 1;
			else if (!quiet)
				printf("deleted tunnel netns %s\n", t->d_name);
		}
		closedir(td);
	}
	closedir(d);
	return failed ? -EIO : 0;
}

static int unpin(const char *lab, bool quiet)
{
	DIR *d = opendir(LAB_PIN_ROOT);
	struct dirent *de;
	char prefix[LAB_NAME_MAX + 8];
	int failed = 0;

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s-node-", lab);
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		const char *rest = de->d_name + strlen(prefix);
		bool num = *rest != '\0';

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		for (const char *c = rest; *c; c++)
			num = num && *c >= '0' && *c <= '9';
		if (!num)
			continue;
		snprintf(path, sizeof(path), "%s/%s", LAB_PIN_ROOT, de->d_name);
		if (proc_rm_rf(path)) {
			fprintf(stderr, "godwit lab down: cannot remove %s: %s\n", path,
				strerror(errno));
			failed = 1;
		} else if (!quiet) {
			printf("removed pins %s\n", path);
		}
	}
	closedir(d);
	return failed ? -EIO : 0;
}

int lab_down(const char *name, bool quiet)
{
	char ctx[32];
	char *user;
	struct lab lab;
	int r, failed = 0;

	r = lab_init(&lab, name);
	if (r)
		return r;
	if (lab_load_state(&lab) == 0 && stop_daemons(&lab, quiet))
		failed = 1;
	if (delete_tunnels(&lab, quiet))
		failed = 1;
	if (delete_namespaces(name, quiet))
		failed = 1;
	if (unpin(name, quiet))
		failed = 1;
	snprintf(ctx, sizeof(ctx), "lab-%s", name);
	user = lab_user_config_path();
	if (user && config_remove_context(user, ctx) < 0) {
		fprintf(stderr, "godwit lab down: cannot update %s\n", user);
		failed = 1;
	}
	free(user);
	if (!failed && proc_rm_rf(lab.dir)) {
		fprintf(stderr, "godwit lab down: cannot remove %s: %s\n", lab.dir,
			strerror(errno));
		failed = 1;
	}
	lab_free(&lab);
	if (failed) {
		fprintf(stderr,
			"godwit lab down: lab %s is only partly down (see above); kept %s\n", name,
			lab.dir);
		return -EIO;
	}
	if (!quiet)
		printf("lab %s is down\n", name);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* `lab up`: namespaces, underlay, controller, agents, then wait until all is ready. */
#include "lab.h"

#include "cli/config.h"
#include "netns.h"

#include "lib/apiclient.h"
#include "lib/clock.h"
#include "lib/secret.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11
#define HEALTH_DEADLINE_MS  15000
#define READY_DEADLINE_MS   30000

/* godwitd / godwit-agent: next to us, in the build tree, then PATH. */
static int find_binary(const char *name, const char *build_subdir, char *out, size_t len)
{
	char self[PATH_MAX], cand[PATH_MAX * 2];
	const char *path = getenv("PATH");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		const char *layouts[] = {"%s/%s", "%s/../%s/%s", "%s/src/%s/%s"};
		char *dir;

		self[n] = '\0';
		dir = dirname(self);
		for (size_t i = 0; i < 3; i++) {
			if (i == 0)
				snprintf(cand, sizeof(cand), layouts[i], dir, name);
			else
				snprintf(cand, sizeof(cand), layouts[i], dir, build_subdir, name);
			if (access(cand, X_OK) == 0 && realpath(cand, out) && strlen(out) < len)
				return 0;
		}
	}
	while (path && *path) {
		size_t seg = strcspn(path, ":");

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)seg, path, name);
		if (seg && access(cand, X_OK) == 0 && strlen(cand) < len) {
			strcpy(out, cand);
			return 0;
		}
		path += seg + (path[seg] == ':');
	}
	fprintf(stderr,
		"godwit lab up: cannot find %s (looked next to godwit, in the build tree "
		"and in PATH); build it first (make build)\n",
		name);
	return -ENOENT;
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC_NUMBER)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0) {
		int r = -errno;

		fprintf(stderr, "godwit lab up: cannot mount bpffs on /sys/fs/bpf: %s\n",
			strerror(errno));
		return r;
	}
	return 0;
}

#define IP(...) run_cmd((const char *const[]){"ip", __VA_ARGS__, NULL}, false)

static int build_underlay(const struct lab *lab)
{
	char ul[32];
	int r;

	snprintf(ul, sizeof(ul), "%s-ul", lab->name);
	if ((r = IP("netns", "add", ul)) || (r = IP("-n", ul, "link", "set", "lo", "up")) ||
	    (r = IP("-n", ul, "link", "add", "br0", "type", "bridge")) ||
	    (r = IP("-n", ul, "addr", "add", "10.254.0.1/24", "dev", "br0")) ||
	    (r = IP("-n", ul, "link", "set", "br0", "up")))
		return r;
	for (int i = 1; i <= lab->nodes; i++) {
		char node[32], veth[16], addr[32];

		snprintf(node, sizeof(node), "%s-node-%d", lab->name, i);
		snprintf(veth, sizeof(veth), "n%d", i);
		snprintf(addr, sizeof(addr), "10.254.0.%d/24", 10 + i);
		if ((r = IP("netns", "add", node)) ||
		    (r = IP("-n", node, "link", "set", "lo", "up")) ||
		    (r = IP("-n", ul, "link", "add", veth, "type", "veth", "peer", "name", "ul0",
			    "netns", node)) ||
		    (r = IP("-n", ul, "link", "set", veth, "master", "br0", "up")) ||
		    (r = IP("-n", node, "link", "set", "ul0", "mtu", "1500", "up")) ||
		    (r = IP("-n", node, "addr", "add", addr, "dev", "ul0")))
			return r;
	}
	return 0;
}

/* The last lines of a daemon's log, to stderr. */
static void show_log_tail(const struct lab *lab, const char *daemon)
{
	char path[PATH_MAX + 32], line[1024];
	char *ring[15] = {0};
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", lab->dir, daemon);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		free(ring[n % 15]);
		ring[n % 15] = strdup(line);
		n++;
	}
	fclose(f);
	fprintf(stderr, "--- last lines of %s ---\n", path);
	for (size_t i = n > 15 ? n - 15 : 0; i < n; i++)
		fputs(ring[i % 15] ? ring[i % 15] : "\n", stderr);
	fprintf(stderr, "---\n");
	for (size_t i = 0; i < 15; i++)
		free(ring[i]);
}

static int start_daemon(struct lab *lab, const char *name, const char *netns,
			const char *const *argv)
{
	char log[PATH_MAX + 32];
	pid_t pid;
	int r;

	snprintf(log, sizeof(log), "%s/%s.log", lab->dir, name);
	r = proc_spawn(
	    argv,
	    &(struct proc_spawn_opts){
		.netns = netns, .out = log, .err_to_out = true, .append = true, .mode = 0640},
	    &pid);
	if (r) {
		fprintf(stderr, "godwit lab up: cannot start %s: %s\n", name, strerror(-r));
		return r;
	}
	return lab_record_daemon(lab, name, pid, argv[0]);
}

static pid_t daemon_pid(const struct lab *lab, const char *name)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(lab->state, "daemons"), i, d)
	{
		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			return (pid_t)json_integer_value(json_object_get(d, "pid"));
	}
	return 0;
}

/* Some daemon died: name it (and show its log). */
static const char *dead_daemon(const struct lab *lab)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(lab->state, "daemons"), i, d)
	{
		if (!proc_pid_alive((pid_t)json_integer_value(json_object_get(d, "pid"))))
			return json_string_value(json_object_get(d, "name"));
	}
	return NULL;
}

static int wait_controller(const struct lab *lab, struct api_client **out)
{
	char token_path[PATH_MAX + 16], sock[PATH_MAX + 32], token[256];
	long long deadline = clock_mono_ms() + HEALTH_DEADLINE_MS;
	struct api_client *api = NULL;
	FILE *f;

	lab_path(lab, "token", token_path, sizeof(token_path));
	snprintf(sock, sizeof(sock), "unix:%s/api.sock", lab->dir);
	printf("waiting for the controller (token and /v1/healthz)...\n");
	fflush(stdout);
	while (clock_mono_ms() < deadline) {
		long status;
		json_t *reply = NULL;

		if (!proc_pid_alive(daemon_pid(lab, "godwitd"))) {
			fprintf(stderr, "godwit lab up: godwitd exited during start-up\n");
			show_log_tail(lab, "godwitd");
			return -ECHILD;
		}
		f = fopen(token_path, "re");
		if (f) {
			bool ok = fgets(token, sizeof(token), f) != NULL;

			fclose(f);
			token[strcspn(token, "\r\n")] = '\0';
			if (ok && *token && !api && api_client_new(sock, token, NULL, &api) == 0)
				api_client_set_timeout_ms(api, 1000);
		}
		if (api && api_request(api, "GET", "/v1/healthz", NULL, &status, &reply) == 0 &&
		    status == 200) {
			json_decref(reply);
			*out = api;
			return 0;
		}
		json_decref(reply);
		proc_sleep_ms(100);
	}
	api_client_free(api);
	fprintf(stderr,
		"godwit lab up: the controller did not answer /v1/healthz on %s within "
		"%d s\n",
		sock, HEALTH_DEADLINE_MS / 1000);
	show_log_tail(lab, "godwitd");
	return -ETIMEDOUT;
}

static int count_ready(const struct lab *lab, struct api_client *api)
{
	json_t *reply = NULL, *n;
	long status;
	size_t i;
	int ready = 0;

	if (api_request(api, "GET", "/v1/nodes", NULL, &status, &reply) || status != 200) {
		json_decref(reply);
		return 0;
	}
	json_array_foreach(json_object_get(reply, "items"), i, n)
	{
		const char *name =
		    json_string_value(json_object_get(json_object_get(n, "metadata"), "name"));
		int idx;

		if (!name || sscanf(name, "node-%d", &idx) != 1 || idx < 1 || idx > lab->nodes)
			continue;
		if (json_is_true(json_object_get(json_object_get(n, "status"), "ready")))
			ready++;
	}
	json_decref(reply);
	return ready;
}

static int wait_nodes(const struct lab *lab, struct api_client *api)
{
	long long deadline = clock_mono_ms() + READY_DEADLINE_MS;
	int ready = -1;

	while (clock_mono_ms() < deadline) {
		const char *dead = dead_daemon(lab);
		int now;

		if (dead) {
			fprintf(stderr, "godwit lab up: %s exited during start-up\n", dead);
			show_log_tail(lab, dead);
			return -ECHILD;
		}
		now = count_ready(lab, api);
		if (now != ready) {
			printf("nodes ready: %d/%d\n", now, lab->nodes);
			fflush(stdout);
			ready = now;
		}
		if (ready == lab->nodes)
			return 0;
		proc_sleep_ms(200);
	}
	fprintf(stderr, "godwit lab up: only %d of %d nodes became ready within %d s\n", ready,
		lab->nodes, READY_DEADLINE_MS / 1000);
	show_log_tail(lab, "node-1");
	return -ETIMEDOUT;
}

/* The outside host's TCP echo: `godwit probe --serve`, stopped by PID at down. */
static int start_outside_echo(struct lab *lab)
{
	char self[PATH_MAX], ns[48];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	snprintf(ns, sizeof(ns), "%s-%s", lab->name, LAB_OUTSIDE);
	return start_daemon(
	    lab, "outside-echo", ns,
	    (const char *const[]){self, "probe", "--serve", "--port", LAB_OUTSIDE_ECHO, NULL});
}

/* The lab's CA where the agents and tests find it: LABDIR/ca.crt. */
static int copy_ca(const struct lab *lab, char *out, size_t len)
{
	char from[PATH_MAX + 16], buf[16384];
	FILE *in, *to = NULL;
	size_t n;
	int r = 0;

	errno = 0;
	lab_path(lab, "tls/ca.crt", from, sizeof(from));
	lab_path(lab, LAB_CA_FILE, out, len);
	in = fopen(from, "re");
	if (in)
		to = fopen(out, "we");
	while (in && to && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, to) != n)
			break;
	if (!in || !to || ferror(in) || ferror(to))
		r = errno ? -errno : -EIO;
	if (to && fclose(to) != 0 && r == 0)
		r = -errno;
	if (in)
		fclose(in);
	if (r)
		fprintf(stderr, "godwit lab up: cannot copy the controller's CA %s to %s: %s\n",
			from, out, strerror(-r));
	return r;
}

static int write_configs(const struct lab *lab)
{
	char ctx[32], server[PATH_MAX + 32], token[PATH_MAX + 16], local[PATH_MAX + 16];
	char *user = lab_user_config_path();
	int r;

	if (!user)
		return -ENOMEM;
	snprintf(ctx, sizeof(ctx), "lab-%s", lab->name);
	snprintf(server, sizeof(server), "unix:%s/api.sock", lab->dir);
	lab_path(lab, "token", token, sizeof(token));
	lab_path(lab, "config", local, sizeof(local));
	r = config_set_context(local, ctx, server, token, NULL, true);
	if (!r)
		r = config_set_context(user, ctx, server, token, NULL, true);
	if (r)
		fprintf(stderr, "godwit lab up: cannot write %s: %s\n", user, strerror(-r));
	free(user);
	return r;
}

/*
 * LAB/kubeconfig for kubectl: the underlay's https:// URL (kubectl sends no
 * token over a unix socket or plain HTTP), reachable only inside netns
 * LAB-ul, the lab's CA and its admin token (so mode 0600).
 */
static int write_kubeconfig(const struct lab *lab, const char *ca, char *out, size_t len)
{
	char ctx[32], token_path[PATH_MAX + 16], *token = NULL;
	int r;

	snprintf(ctx, sizeof(ctx), "lab-%s", lab->name);
	lab_path(lab, "token", token_path, sizeof(token_path));
	lab_path(lab, LAB_KUBECONFIG_FILE, out, len);
	r = secret_read_file(token_path, &token);
	if (!r)
		r = config_write_kubeconfig(out, ctx, LAB_API_URL, ca, token);
	if (r)
		fprintf(stderr, "godwit lab up: cannot write %s: %s\n", out, strerror(-r));
	free(token);
	return r;
}

/*
 * A join token for node through the API (auth.h), written 0600 to
 * LAB/NODE.join-token for the agent's --join-token-file; the agent keeps
 * the credential it gets for it in LAB/NODE-state/, which its restarts
 * (tests/e2e/restarts.sh) reuse.
 */
static int make_join_token(const struct lab *lab, struct api_client *api, const char *node,
			   char *path, size_t len)
{
	json_t *body = json_pack("{s:s, s:i}", "node", node, "ttl_s", 600), *reply = NULL;
	char file[64];
	long status = 0;
	int r;

	snprintf(file, sizeof(file), "%s.join-token", node);
	lab_path(lab, file, path, len);
	r = body ? api_request(api, "POST", "/v1/tokens", body, &status, &reply) : -ENOMEM;
	if (r == 0 && status != 201) {
		fprintf(stderr, "godwit lab up: a join token for %s: HTTP %ld: %s\n", node, status,
			api_error_text(reply));
		r = -EIO;
	}
	if (r == 0)
		r = secret_write_file(path,
				      json_string_value(json_object_get(reply, "token")) ?: "");
	json_decref(body);
	json_decref(reply);
	return r;
}

int lab_up(const char *name, const struct lab_up_options *opts)
{
	int nodes = opts->nodes;
	char godwitd[PATH_MAX], agent[PATH_MAX], ul[32], listen_unix[PATH_MAX + 32];
	char db_dir[PATH_MAX], ca[PATH_MAX + 16], kubeconfig[PATH_MAX + 16];
	struct api_client *api = NULL;
	struct lab lab;
	int r;

	r = lab_init(&lab, name);
	if (r)
		return r;
	lab.nodes = nodes;
	snprintf(ul, sizeof(ul), "%s-ul", name);
	if (access(lab.dir, F_OK) == 0 || proc_netns_exists(ul)) {
		fprintf(stderr,
			"godwit lab up: lab %s is already up (or half up); run "
			"`godwit lab down --name %s` first\n",
			name, name);
		return -EEXIST;
	}
	r = find_binary("godwitd", "controller", godwitd, sizeof(godwitd));
	if (!r)
		r = find_binary("godwit-agent", "agent", agent, sizeof(agent));
	if (r)
		return r;
	if (mkdir("/run/godwit", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(LAB_ROOT, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(lab.dir, 0700) < 0) {
		r = -errno;
		fprintf(stderr, "godwit lab up: cannot create %s: %s\n", lab.dir, strerror(errno));
		return r;
	}
	lab.state = json_pack("{s:s, s:i, s:[]}", "name", name, "nodes", nodes, "daemons");
	r = lab.state ? lab_save_state(&lab) : -ENOMEM;
	if (r)
		goto fail;

	printf("lab %s: creating the underlay and %d node namespaces\n", name, nodes);
	fflush(stdout);
	r = ensure_bpffs();
	if (!r && mkdir(LAB_PIN_ROOT, 0700) < 0 && errno != EEXIST)
		r = -errno;
	if (!r)
		r = build_underlay(&lab);
	if (!r)
		r = lab_outside_build(&lab);
	if (r)
		goto fail;

	snprintf(db_dir, sizeof(db_dir), "%s", lab.dir);
	snprintf(listen_unix, sizeof(listen_unix), "unix:%s/api.sock", lab.dir);
	r = start_daemon(&lab, "godwitd", ul,
			 (const char *const[]){godwitd, "--state-dir", db_dir, "--listen",
					       LAB_API_ADDR, "--listen", listen_unix,
					       opts->migration_tls ? "--migration-tls" : NULL, NULL});
	if (r)
		goto fail;
	r = wait_controller(&lab, &api);
	if (!r)
		r = copy_ca(&lab, ca, sizeof(ca));
	if (r)
		goto fail;

	for (int i = 1; i <= nodes; i++) {
		char node[32], ns[32], ip[32], pin[PATH_MAX], vms[PATH_MAX], gw_prefix[48],
		    metrics[48];
		char join[PATH_MAX + 64], state[PATH_MAX + 64], file[48];
		bool gw;

		snprintf(node, sizeof(node), "node-%d", i);
		snprintf(ns, sizeof(ns), "%s-node-%d", name, i);
		snprintf(ip, sizeof(ip), "10.254.0.%d", 10 + i);
		gw = strcmp(node, LAB_GATEWAY_NODE) == 0;
		snprintf(pin, sizeof(pin), "%s/%s", LAB_PIN_ROOT, ns);
		/* Every lab names its nodes node-1..: VM run dirs live in the lab's own dir. */
		lab_path(&lab, "vms", vms, sizeof(vms));
		/* Gateway namespaces carry the node's: nodes share /run/netns here. */
		snprintf(gw_prefix, sizeof(gw_prefix), "%s-gw-", ns);
		snprintf(metrics, sizeof(metrics), "%s:%d", ip, LAB_AGENT_METRICS_PORT);
		snprintf(file, sizeof(file), "%s-state", node);
		lab_path(&lab, file, state, sizeof(state));
		r = make_join_token(&lab, api, node, join, sizeof(join));
		if (r)
			goto fail;
		r = start_daemon(&lab, node, ns,
				 (const char *const[]){agent,
						       "--node",
						       node,
						       "--server",
						       LAB_API_URL,
						       "--ca-file",
						       ca,
						       "--join-token-file",
						       join,
						       "--state-dir",
						       state,
						       "--underlay-ip",
						       ip,
						       "--pin-dir",
						       pin,
						       "--vm-run-dir",
						       vms,
						       "--gateway-netns-prefix",
						       gw_prefix,
						       "--metrics-listen",
						       metrics,
						       gw ? "--gateway-uplink" : NULL,
						       LAB_UPLINK_IFNAME,
						       NULL});
		if (r)
			goto fail;
	}
	r = wait_nodes(&lab, api);
	if (!r)
		r = start_outside_echo(&lab);
	if (!r)
		r = lab_outside_route_default(api);
	if (r)
		goto fail;
	r = write_configs(&lab);
	if (!r)
		r = write_kubeconfig(&lab, ca, kubeconfig, sizeof(kubeconfig));
	if (r)
		goto fail;

	printf("\nlab %s is up: %d nodes (node-1 .. node-%d, underlay 10.254.0.0/24)\n", name,
	       nodes, nodes);
	printf("  controller: unix:%s/api.sock (in netns %s: " LAB_API_URL ", CA %s)\n", lab.dir,
	       ul, ca);
	printf("  kubeconfig: %s (server " LAB_API_URL
	       ": ip netns exec %s kubectl --kubeconfig %s get vm)\n",
	       kubeconfig, ul, kubeconfig);
	{
		char *user = lab_user_config_path();

		printf("  context lab-%s is now current in %s\n", name, user ? user : "?");
		free(user);
	}
	printf("  outside: netns %s-%s, host %s (ping, TCP echo on %s) behind %s's uplink %s;\n"
	       "           network default routed out through %s\n",
	       name, LAB_OUTSIDE, LAB_OUTSIDE_HOST, LAB_OUTSIDE_ECHO, LAB_GATEWAY_NODE,
	       LAB_UPLINK_ADDR, LAB_GATEWAY_NODE);
	printf("  logs and state: %s\n\n", lab.dir);
	printf("try:\n  godwit get nodes\n  godwit apply -f network.yaml\n"
	       "  godwit endpoint add a --network blue --node node-1\n"
	       "  godwit lab down%s%s\n",
	       strcmp(name, "godwit") ? " --name " : "", strcmp(name, "godwit") ? name : "");
	api_client_free(api);
	lab_free(&lab);
	return 0;

fail:
	api_client_free(api);
	if (r == -ECHILD || r == -ETIMEDOUT || r == -EIO) /* already explained above */
		fprintf(stderr, "godwit lab up: failed; tearing down lab %s\n", name);
	else
		fprintf(stderr, "godwit lab up: failed (%s); tearing down lab %s\n", strerror(-r),
			name);
	lab_free(&lab);
	lab_down(name, true);
	return r;
}

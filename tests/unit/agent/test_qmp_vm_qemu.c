/* SPDX-License-Identifier: MIT */
/*
 * A real QEMU through the vm module (root; 77 without root, QEMU or the guest
 * image). In a private netns with two taps: manager "na" boots the guest and
 * waits for its ready line; manager "nb" starts the incoming side
 * (-incoming defer; the manager listens on 127.0.0.1 and hands the connection
 * to QEMU); vm_migrate_start moves the guest over a socket of our own; then:
 * migration completed, STOP on the source, RESUME on the target with
 * timestamps, the target running, the completed source refused a `cont`; a
 * crash and restart of the target; a transfer back cancelled mid-way (its
 * socket shut down): the source runs on, the target never ran it; at last both
 * are stopped and their run dirs removed. Prints the timings.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/migsock.h"
#include "agent/vm.h"
#include "lib/migtls.h"
#include "lib/log.h"

static char run_dir[128];
static pid_t pids[4];
static int n_pids;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cleanup(void)
{
	char cmd[256];

	for (int i = 0; i < n_pids; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	if (run_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", run_dir);
	}
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void remember_pid(json_t *vm)
{
	json_t *pid = json_object_get(vm, "pid");

	if (json_is_integer(pid) && n_pids < 4) {
		for (int i = 0; i < n_pids; i++)
			if (pids[i] == (pid_t)json_integer_value(pid))
				return;
		pids[n_pids++] = (pid_t)json_integer_value(pid);
	}
}

/* Polls m's report of vm1 until pred holds (or the deadline): the report. */
typedef bool (*pred_fn)(json_t *vm);
static json_t *wait_for(struct vm_manager *m, pred_fn pred, int timeout_ms, const char *what)
{
	int64_t deadline = now_ms() + timeout_ms;
	json_t *all = NULL, *vm = NULL;

	for (;;) {
		json_decref(all);
		all = vm_manager_report(m);
		vm = json_object_get(all, "vm1");
		if (vm)
			remember_pid(vm);
		if (pred(vm)) {
			json_incref(vm);
			json_decref(all);
			return vm;
		}
		if (now_ms() > deadline) {
			char *s = json_dumps(all, JSON_COMPACT);

			die("timeout waiting for %s; report: %s", what, s ? s : "?");
		}
		usleep(50 * 1000);
	}
}

static const char *str(json_t *vm, const char *k)
{
	return json_string_value(json_object_get(vm, k));
}

static bool is_ready(json_t *vm)
{
	if (vm && strcmp(str(vm, "phase") ?: "", "failed") == 0)
		die("the VM failed: %s", str(vm, "reason") ?: "?");
	return vm && json_is_true(json_object_get(vm, "ready"));
}
static bool has_uri(json_t *vm)
{
	json_t *in = json_object_get(vm, "incoming");

	if (vm && strcmp(str(vm, "phase") ?: "", "failed") == 0)
		die("the incoming VM failed: %s", str(vm, "reason") ?: "?");
	return in && !strcmp(str(in, "state") ?: "", "listening") && str(in, "uri");
}
static bool mig_ended(json_t *vm)
{
	const char *st = str(json_object_get(vm, "migration"), "status");

	return st &&
	       (!strcmp(st, "completed") || !strcmp(st, "failed") || !strcmp(st, "cancelled"));
}
static bool mig_active(json_t *vm)
{
	json_t *mig = json_object_get(vm, "migration");

	return !strcmp(str(mig, "status") ?: "", "active") &&
	       json_integer_value(json_object_get(mig, "transferred")) > 0;
}
static bool running_resumed(json_t *vm)
{
	return vm && !strcmp(str(vm, "phase") ?: "", "running") &&
	       json_is_true(json_object_get(json_object_get(vm, "incoming"), "ran"));
}
static bool incoming_ended(json_t *vm)
{
	const char *st = str(json_object_get(vm, "incoming"), "state") ?: "";

	return !strcmp(st, "failed") || !strcmp(st, "aborted");
}
static bool crashed(json_t *vm)
{
	return vm && !strcmp(str(vm, "phase") ?: "", "failed") &&
	       strstr(str(vm, "reason") ?: "", "qemu was killed by signal 9");
}
static bool restarted(json_t *vm)
{
	return vm && json_is_integer(json_object_get(vm, "pid")) &&
	       strcmp(str(vm, "phase") ?: "", "failed");
}
static bool gone(json_t *vm)
{
	return vm == NULL;
}

/* The cache as the controller would have it: VM vm1 on node (migrating to
 * target, by Migration migration, ending when cancel), its Port, the nodes. */
/* m1's status.transport (lib/migtls.h): its stream runs over TLS */
static json_t *m1_transport;

static struct cache make_cache(const char *node, const char *target, const char *tap, bool present,
			       const char *migration, bool cancel)
{
	struct cache c;
	json_t *vm, *port, *mig;

	if (cache_init(&c) < 0)
		die("cache_init");
	if (!present)
		return c;
	vm = json_pack("{s:s, s:s, s:{s:s}, s:{s:b, s:i, s:i, s:s, s:s, s:s, s:s}}", "apiVersion",
		       "godwit/v1", "kind", "VM", "metadata", "name", "vm1", "spec", "running", 1,
		       "memory_mib", 64, "cpus", 1, "image", "godwit-demo", "user_data",
		       "hello from the test", "user_data_encoding", "text", "node", node);
	if (target)
		json_object_set_new(json_object_get(vm, "spec"), "target", json_string(target));
	port = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:s, s:[s]}, s:{}}", "kind", "Port",
			 "metadata", "name", "vm1", "spec", "ifname", tap, "mac",
			 "0a:58:0a:f4:00:05", "type", "tap", "locations", node, "status");
	if (migration) {
		json_object_set_new(json_object_get(port, "status"), "migration",
				    json_string(migration));
		mig = json_pack("{s:{s:s}, s:{s:s}, s:{s:s, s:s}}", "metadata", "name", migration,
				"spec", "vm", "vm1", "status", "phase", "Running", "source", node);
		if (strcmp(migration, "m1") == 0)
			json_object_set(json_object_get(mig, "status"), "transport", m1_transport);
		if (cancel)
			json_object_set_new(json_object_get(mig, "status"), "cancel",
					    json_pack("{s:s, s:s}", "phase", "Aborted", "reason",
						      "the test cancels it"));
		json_object_set_new(c.objs[CACHE_MIGRATIONS], migration, mig);
	}
	json_object_set_new(c.objs[CACHE_NODES], node,
			    json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", node, "spec",
				      "underlay_ip", "127.0.0.1"));
	json_object_set_new(c.objs[CACHE_VMS], "vm1", vm);
	json_object_set_new(c.objs[CACHE_PORTS], "vm1", port);
	return c;
}

static void sync_mig(struct vm_manager *m, const char *node, const char *target, const char *tap,
		     const char *migration, bool cancel)
{
	struct cache c = make_cache(node, target, tap, true, migration, cancel);

	if (vm_manager_sync(m, &c) < 0)
		die("vm_manager_sync");
	cache_clear(&c);
}

static void sync_to(struct vm_manager *m, const char *node, const char *target, const char *tap,
		    bool present)
{
	struct cache c = make_cache(node, target, tap, present, target ? "m1" : NULL, false);

	if (vm_manager_sync(m, &c) < 0)
		die("vm_manager_sync");
	cache_clear(&c);
}

static bool file_has(const char *path, const char *needle)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

int main(void)
{
	char kernel[512], initrd[512], tap_a[16], tap_b[16], cmd[256], path[256], uri[64];
	int sock;
	struct vm_config ca = {
	    .node = "na", .underlay_ip = "127.0.0.1", .accel = "tcg", .stream_secret = "secret-a"};
	struct vm_config cb = {
	    .node = "nb", .underlay_ip = "127.0.0.1", .accel = "tcg", .stream_secret = "secret-b"};
	struct vm_migrate_params mp = {.downtime_ms = 30};
	struct vm_manager *ma = NULL, *mb = NULL;
	json_t *va, *vb;
	int64_t t0, t_boot, t_mig;
	int r;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root\n");
		return 77;
	}
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: qemu-system-x86_64 is not installed\n");
		return 77;
	}
	if (vm_guest_find(NULL, kernel, initrd, sizeof(kernel)) < 0) {
		fprintf(stderr, "SKIP: no guest image under %s (tools/guest/build.sh)\n",
			VM_DEFAULT_GUEST_DIR);
		return 77;
	}
	log_init("test-vm-qemu", LOG_LVL_INFO);
	/* Everything below happens in a netns of our own: it dies with us. */
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET): %s", strerror(errno));
	snprintf(tap_a, sizeof(tap_a), "t%da", getpid() % 100000);
	snprintf(tap_b, sizeof(tap_b), "t%db", getpid() % 100000);
	snprintf(cmd, sizeof(cmd),
		 "ip link set lo up && ip tuntap add mode tap name %s && ip link set %s up && "
		 "ip tuntap add mode tap name %s && ip link set %s up",
		 tap_a, tap_a, tap_b, tap_b);
	if (system(cmd) != 0)
		die("cannot create the taps");
	snprintf(run_dir, sizeof(run_dir), "/tmp/godwit-vmtest-%d", getpid());
	atexit(cleanup);
	ca.run_dir = cb.run_dir = run_dir;

	if ((r = vm_manager_start(&ca, &ma)) < 0 || (r = vm_manager_start(&cb, &mb)) < 0)
		die("vm_manager_start: %s", strerror(-r));

	/* boot */
	t0 = now_ms();
	sync_to(ma, "na", NULL, tap_a, true);
	va = wait_for(ma, is_ready, 90000, "the ready line");
	t_boot = now_ms() - t0;
	if (json_integer_value(json_object_get(va, "memory_mib")) != 128)
		die("memory_mib is not raised to 128");
	if (!json_object_get(va, "notes"))
		die("no note about the raised memory");
	snprintf(path, sizeof(path), "%s/na/vm1/console.log", run_dir);
	if (!file_has(path, "godwit-guest: ready") || !file_has(path, "hello from the test"))
		die("%s lacks the ready line or the user data", path);
	printf("boot: QEMU start to ready line %lld ms\n", (long long)t_boot);
	json_decref(va);

	/* the incoming side: the agent listens (the source is "na" on 127.0.0.1) */
	sync_to(ma, "na", "nb", tap_a, true);
	sync_to(mb, "na", "nb", tap_b, true);
	vb = wait_for(mb, has_uri, 20000, "incoming.uri");
	snprintf(uri, sizeof(uri), "%s", str(json_object_get(vb, "incoming"), "uri"));
	if (strncmp(uri, "tcp:127.0.0.1:", 14) != 0 || strcmp(str(vb, "phase"), "incoming"))
		die("unexpected incoming side: uri %s phase %s", uri, str(vb, "phase"));
	json_decref(vb);

	/* migrate over the agent's own socket, under TLS with m1's key */
	if (migtls_transport_new("secret-a", "secret-b", &m1_transport) < 0 ||
	    migtls_key_of(m1_transport, MIGTLS_ROLE_SOURCE, "secret-a", mp.tls_key) < 0)
		die("the transport key of m1");
	sync_to(mb, "na", "nb", tap_b, true); /* the target's want gets its key */
	t0 = now_ms();
	if ((r = migsock_connect(uri, 256, 2000, &sock)) < 0)
		die("connect to %s: %s", uri, strerror(-r));
	if ((r = vm_migrate_start(ma, "vm1", "m1", sock, &mp)) < 0)
		die("vm_migrate_start: %s", strerror(-r));
	if (vm_migrate_start(ma, "vm1", "m1", -1, &mp) != -EBUSY)
		die("a second migration was not refused");
	va = wait_for(ma, mig_ended, 30000, "the end of the migration");
	t_mig = now_ms() - t0;
	json_t *mig = json_object_get(va, "migration");
	if (strcmp(str(mig, "status"), "completed") || strcmp(str(mig, "name") ?: "", "m1"))
		die("migration %s %s: %s", str(mig, "name"), str(mig, "status"),
		    str(mig, "error") ?: "");
	vb = wait_for(mb, running_resumed, 10000, "RESUME on the target");
	/* The source's QEMU was a TLS client with m1's key: the transfer completed,
	 * so the target's was the server with the same key (a clear or another
	 * key's end fails the handshake; e2e vm_migrate checks the wire). The
	 * target's key file went with the transfer. */
	snprintf(path, sizeof(path), "%s/nb/vm1/tls/keys.psk", run_dir);
	if (access(path, F_OK) == 0)
		die("%s is still there after the transfer", path);
	mp.tls_key[0] = '\0'; /* m2: no transport, no TLS */
	json_t *stop_a = json_object_get(mig, "stop_unix_ns");
	json_t *stop_recv = json_object_get(json_object_get(va, "events_recv"), "STOP");
	json_t *resume_b = json_object_get(json_object_get(vb, "incoming"), "resume_unix_ns");
	if (!json_is_integer(stop_a) || !json_is_integer(resume_b) || !json_is_integer(stop_recv))
		die("missing STOP at the source or RESUME at the target");
	/* the guest is the target's now: the source is never resumed on its own */
	if ((r = vm_migrate_resume(ma, "vm1", "m1", false)) != -EPERM)
		die("the completed source was not refused a cont: %d", r);
	if (json_integer_value(resume_b) <= json_integer_value(stop_a))
		die("RESUME is not after STOP");
	if (strcmp(str(va, "phase"), "stopped") || !json_is_true(json_object_get(vb, "ready")))
		die("source phase %s, target ready %d", str(va, "phase"),
		    json_is_true(json_object_get(vb, "ready")));
	printf("migration: %lld ms by the clock, QEMU total %lld ms, QEMU downtime %lld ms, "
	       "STOP->RESUME %.3f ms, %lld bytes\n",
	       (long long)t_mig, (long long)json_integer_value(json_object_get(mig, "total_ms")),
	       (long long)json_integer_value(json_object_get(mig, "downtime_ms")),
	       (double)(json_integer_value(resume_b) - json_integer_value(stop_a)) / 1e6,
	       (long long)json_integer_value(json_object_get(mig, "transferred")));
	json_decref(va);
	json_decref(vb);

	/* the controller's flip: the target owns it, the source stops its QEMU */
	sync_to(ma, "nb", NULL, tap_a, true);
	sync_to(mb, "nb", NULL, tap_b, true);
	json_decref(wait_for(ma, gone, 10000, "the source to stop"));
	snprintf(path, sizeof(path), "%s/na/vm1", run_dir);
	if (access(path, F_OK) == 0)
		die("%s is still there", path);
	vb = wait_for(mb, running_resumed, 1000, "the target still running");
	pid_t target_pid = (pid_t)json_integer_value(json_object_get(vb, "pid"));
	json_decref(vb);

	/* a crash: failed with the reason, then a restart with a new QEMU */
	if (target_pid <= 0 || kill(target_pid, SIGKILL) < 0)
		die("cannot kill the target QEMU");
	vb = wait_for(mb, crashed, 5000, "the crash to be reported");
	json_decref(vb);
	vb = wait_for(mb, restarted, 10000, "a restart");
	if ((pid_t)json_integer_value(json_object_get(vb, "pid")) == target_pid)
		die("the restarted QEMU has the old pid");
	json_decref(vb);

	/* a cancel mid-transfer (1 MiB/s): the socket is shut down, the transfer
	 * fails, the source runs on with the same QEMU, the target never ran it */
	json_decref(wait_for(mb, is_ready, 90000, "the restarted guest's ready line"));
	vb = wait_for(mb, restarted, 1000, "the restarted QEMU");
	pid_t source_pid = (pid_t)json_integer_value(json_object_get(vb, "pid"));
	json_decref(vb);
	sync_mig(mb, "nb", "na", tap_b, "m2", false);
	sync_mig(ma, "nb", "na", tap_a, "m2", false);
	va = wait_for(ma, has_uri, 20000, "incoming.uri of m2");
	snprintf(uri, sizeof(uri), "%s", str(json_object_get(va, "incoming"), "uri"));
	json_decref(va);
	mp.max_bandwidth = 1024 * 1024;
	if ((r = migsock_connect(uri, 256, 2000, &sock)) < 0 ||
	    (r = vm_migrate_start(mb, "vm1", "m2", sock, &mp)) < 0)
		die("m2 not started: %s", strerror(-r));
	json_decref(wait_for(mb, mig_active, 20000, "m2 transferring"));
	sync_mig(mb, "nb", "na", tap_b, "m2", true);
	sync_mig(ma, "nb", "na", tap_a, "m2", true);
	if ((r = vm_migrate_cancel(mb, "vm1", "m2")) < 0)
		die("vm_migrate_cancel: %s", strerror(-r));
	vb = wait_for(mb, mig_ended, 10000, "m2 to end");
	if (strcmp(str(json_object_get(vb, "migration"), "status"), "failed") ||
	    (pid_t)json_integer_value(json_object_get(vb, "pid")) != source_pid ||
	    strcmp(str(vb, "phase"), "running"))
		die("after the cancel: %s", json_dumps(vb, JSON_COMPACT));
	json_decref(vb);
	va = wait_for(ma, incoming_ended, 10000, "the target's incoming side to end");
	if (json_is_true(json_object_get(json_object_get(va, "incoming"), "ran")))
		die("the target ran the guest of a cancelled transfer");
	printf("cancel mid-transfer: the source runs on (pid %d), the target's side %s\n",
	       (int)source_pid, str(json_object_get(va, "incoming"), "state"));
	json_decref(va);
	if ((r = vm_migrate_resume(mb, "vm1", "m2", false)) != 0)
		die("the running source after a failed transfer: %d", r);

	/* spec.running false: the target stops too */
	sync_to(ma, "nb", NULL, tap_a, false);
	sync_to(mb, "nb", NULL, tap_b, false);
	json_decref(wait_for(mb, gone, 10000, "the target to stop"));
	for (int i = 0; i < n_pids; i++)
		if (kill(pids[i], 0) == 0)
			die("QEMU pid %d is still running", pids[i]);
	vm_manager_stop(ma);
	vm_manager_stop(mb);
	printf("ok\n");
	return 0;
}

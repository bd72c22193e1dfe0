/* SPDX-License-Identifier: MIT */
/* The vm module without QEMU: the command line, query-migrate parsing, and
 * the manager's report for VMs it cannot start (no guest image, no tap). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/vm.h"
#include "agent/vm_internal.h"
#include "fake_qmp.h"

static bool has_pair(char **argv, const char *opt, const char *val)
{
	for (char **a = argv; *a && a[1]; a++)
		if (strcmp(a[0], opt) == 0 && strcmp(a[1], val) == 0)
			return true;
	return false;
}

static void test_argv(void **state)
{
	struct vm_qemu_spec s = {
	    .name = "vm1",
	    .rundir = "/run/godwit/vms/n1/vm1",
	    .kernel = "/g/vmlinuz",
	    .initrd = "/g/initramfs.cpio.gz",
	    .ifname = "gw0123456789",
	    .mac = "0a:58:0a:f4:00:05",
	    .userdata_b64 = "SGkK",
	    .memory_mib = 128,
	    .cpus = 2,
	    .accel = "kvm:tcg",
	};
	char **argv = NULL, big[4096];

	(void)state;
	assert_int_equal(vm_qemu_argv(&s, &argv), 0);
	assert_string_equal(argv[0], "qemu-system-x86_64");
	assert_true(has_pair(argv, "-accel", "kvm"));
	assert_true(has_pair(argv, "-accel", "tcg"));
	assert_true(has_pair(argv, "-m", "128"));
	assert_true(has_pair(argv, "-smp", "2"));
	assert_true(has_pair(argv, "-append",
			     "console=ttyS0 quiet loglevel=4 panic=-1 "
			     "ipv6.disable=1 godwit.userdata=SGkK"));
	assert_true(has_pair(argv, "-netdev",
			     "tap,id=n0,ifname=gw0123456789,script=no,"
			     "downscript=no,vhost=off"));
	assert_true(
	    has_pair(argv, "-device", "virtio-net-pci,netdev=n0,mac=0a:58:0a:f4:00:05,romfile="));
	assert_true(has_pair(argv, "-qmp",
			     "unix:/run/godwit/vms/n1/vm1/qmp.sock,server=on,"
			     "wait=off"));
	assert_true(has_pair(argv, "-chardev",
			     "socket,id=qmpw,path=/run/godwit/vms/n1/vm1/qmp-watch.sock,"
			     "server=on,wait=off"));
	assert_true(has_pair(argv, "-mon", "chardev=qmpw,mode=control"));
	assert_true(has_pair(argv, "-serial", "chardev:ser0"));
	/* the end-of-state marker is the stream's last byte (controller/migration_vm.h) */
	assert_true(has_pair(argv, "-machine", "pc,suppress-vmdesc=on"));
	assert_false(has_pair(argv, "-incoming", "defer"));
	vm_qemu_argv_free(argv);

	s.incoming = 1;
	s.accel = "tcg";
	s.userdata_b64 = NULL;
	assert_int_equal(vm_qemu_argv(&s, &argv), 0);
	assert_true(has_pair(argv, "-incoming", "defer"));
	assert_false(has_pair(argv, "-accel", "kvm"));
	assert_true(has_pair(argv, "-append",
			     "console=ttyS0 quiet loglevel=4 panic=-1 "
			     "ipv6.disable=1"));
	for (char **a = argv; *a; a++)
		assert_string_not_equal(*a, "-S");
	vm_qemu_argv_free(argv);
	s.incoming_paused = true; /* verification: stays paused after the transfer */
	assert_int_equal(vm_qemu_argv(&s, &argv), 0);
	assert_true(has_pair(argv, "defer", "-S"));
	vm_qemu_argv_free(argv);

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s.userdata_b64 = big;
	argv = (char **)0x1;
	assert_int_equal(vm_qemu_argv(&s, &argv), -E2BIG);
	assert_ptr_equal(argv, (char **)0x1);
}

static void test_migration_from_json(void **state)
{
	struct vm_outgoing mig = {0};
	json_t *info =
	    json_loads("{\"status\": \"completed\", \"total-time\": 450, \"downtime\": 7,"
		       " \"ram\": {\"transferred\": 92000000, \"remaining\": 0,"
		       " \"total\": 134217728, \"dirty-pages-rate\": 120}}",
		       0, NULL);

	(void)state;
	vm_outgoing_from_json(info, &mig);
	assert_int_equal(mig.total, 134217728);
	assert_string_equal(mig.status, "completed");
	assert_int_equal(mig.total_ms, 450);
	assert_int_equal(mig.downtime_ms, 7);
	assert_int_equal(mig.transferred, 92000000);
	assert_int_equal(mig.dirty_rate, 120);
	json_decref(info);
	info =
	    json_loads("{\"status\": \"failed\", \"error-desc\": \"Connection refused\"}", 0, NULL);
	vm_outgoing_from_json(info, &mig);
	assert_string_equal(mig.status, "failed");
	assert_string_equal(mig.error, "Connection refused");
	json_decref(info);
}

static struct cache one_vm(const char *node, int memory, const char *image, const char *ifname)
{
	struct cache c;

	assert_int_equal(cache_init(&c), 0);
	json_object_set_new(c.objs[CACHE_VMS], "vm1",
			    json_pack("{s:s, s:{s:s}, s:{s:b, s:i, s:s, s:s}}", "kind", "VM",
				      "metadata", "name", "vm1", "spec", "running", 1, "memory_mib",
				      memory, "image", image, "node", node));
	json_object_set_new(c.objs[CACHE_PORTS], "vm1",
			    json_pack("{s:{s:s}, s:{s:s, s:s}}", "metadata", "name", "vm1", "spec",
				      "ifname", ifname, "mac", "0a:58:0a:f4:00:05"));
	return c;
}

/* Waits (≤ 3 s) for vm1's report to have phase and a reason containing text. */
static json_t *wait_phase(struct vm_manager *m, const char *phase, const char *text)
{
	for (int i = 0; i < 300; i++) {
		json_t *all = vm_manager_report(m), *vm = json_object_get(all, "vm1");
		const char *p = json_string_value(json_object_get(vm, "phase"));
		const char *r = json_string_value(json_object_get(vm, "reason"));

		if (p && strcmp(p, phase) == 0 && r && strstr(r, text)) {
			json_incref(vm);
			json_decref(all);
			return vm;
		}
		json_decref(all);
		usleep(10000);
	}
	fail_msg("vm1 never reached %s (%s)", phase, text);
	return NULL;
}

static int kicks;
static void on_kick(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&kicks, 1, __ATOMIC_SEQ_CST);
}

static void test_manager_cannot_start(void **state)
{
	char dir[] = "/tmp/godwit-vmunit-XXXXXX", guest[64], cmd[256];
	struct vm_config cfg = {.node = "n1", .kick = on_kick};
	struct vm_manager *m = NULL;
	struct cache c;
	json_t *vm;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(guest, sizeof(guest), "%s/no-guest", dir);
	cfg.run_dir = dir;
	cfg.guest_dir = guest;
	assert_int_equal(vm_manager_start(&cfg, &m), 0);

	/* another node's VM: not ours */
	c = one_vm("n2", 64, "godwit-demo", "gw0000000001");
	assert_int_equal(vm_manager_sync(m, &c), 0);
	cache_clear(&c);
	usleep(200000);
	vm = vm_manager_report(m);
	assert_int_equal(json_object_size(vm), 0);
	json_decref(vm);

	/* ours, but no guest image: failed with the reason, memory raised */
	c = one_vm("n1", 64, "godwit-demo", "gw0000000001");
	assert_int_equal(vm_manager_sync(m, &c), 0);
	cache_clear(&c);
	vm = wait_phase(m, "failed", "guest image not built");
	assert_int_equal(json_integer_value(json_object_get(vm, "memory_mib")), 128);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(vm, "notes"), 0)),
			       "from 64 MiB to 128 MiB"));
	assert_non_null(
	    strstr(json_string_value(json_object_get(vm, "console")), "/n1/vm1/console.sock"));
	assert_true(__atomic_load_n(&kicks, __ATOMIC_SEQ_CST) > 0);
	json_decref(vm);

	/* an unknown image */
	c = one_vm("n1", 256, "docker.io/nginx", "gw0000000001");
	assert_int_equal(vm_manager_sync(m, &c), 0);
	cache_clear(&c);
	json_decref(wait_phase(m, "failed", "not in the catalog"));
	vm_manager_stop(m);

	/* a guest image, but the tap does not exist (yet) */
	snprintf(guest, sizeof(guest), "%s/g", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && touch %s/vmlinuz %s/initramfs.cpio.gz", guest,
		 guest, guest);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(vm_manager_start(&cfg, &m), 0);
	c = one_vm("n1", 256, "godwit-demo", "gw00000000ff");
	assert_int_equal(vm_manager_sync(m, &c), 0);
	cache_clear(&c);
	json_decref(wait_phase(m, "starting", "waiting for the tap gw00000000ff"));
	/* deleted: gone from the report */
	assert_int_equal(cache_init(&c), 0);
	assert_int_equal(vm_manager_sync(m, &c), 0);
	cache_clear(&c);
	for (int i = 0; i < 300; i++) {
		vm = vm_manager_report(m);
		size_t n = json_object_size(vm);

		json_decref(vm);
		if (n == 0)
			break;
		assert_true(i < 299);
		usleep(10000);
	}
	vm_manager_stop(m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the handoff hook at STOP / RESUME (no QEMU: events fed directly) ---- */

struct hook_call {
	char ifname[16];
	int tap_fd;
	enum vm_handoff step;
};
static struct hook_call hook_calls[8];
static int n_hook_calls, hook_result;

static int fake_handoff(void *ctx, const char *ifname, int tap_fd, enum vm_handoff step)
{
	(void)ctx;
	assert_true(n_hook_calls < 8);
	snprintf(hook_calls[n_hook_calls].ifname, sizeof(hook_calls[0].ifname), "%s", ifname);
	hook_calls[n_hook_calls].tap_fd = tap_fd;
	hook_calls[n_hook_calls++].step = step;
	return hook_result;
}

static void feed(struct vm *v, const char *name)
{
	struct qmp_event ev = {.name = name, .qemu_ns = 1000, .recv_ns = 2000};

	vm_on_event(&ev, v);
}

static void test_handoff_events(void **state)
{
	struct vm_manager m = {.cfg = {.handoff = fake_handoff}};
	struct vm v = {.mgr = &m, .name = "vm1", .tap_fd = 42, .phase = VM_RUNNING};
	(void)state;
	snprintf(v.want.ifname, sizeof(v.want.ifname), "gw00000000a1");

	/* A pause without a transfer of ours: no handoff. */
	feed(&v, "STOP");
	assert_int_equal(n_hook_calls, 0);
	feed(&v, "RESUME");
	assert_int_equal(n_hook_calls, 0);

	/* STOP during our transfer: handed off once, with QEMU's tap. */
	v.out.active = true;
	hook_result = 3; /* frames drained */
	feed(&v, "STOP");
	assert_int_equal(n_hook_calls, 1);
	assert_string_equal(hook_calls[0].ifname, "gw00000000a1");
	assert_int_equal(hook_calls[0].tap_fd, 42);
	assert_int_equal(hook_calls[0].step, VM_HANDOFF_START);
	assert_true(v.handoff);
	assert_int_equal(v.out.handoff_drained, 3);
	assert_true(v.out.handoff_ns > 0);
	assert_int_equal(v.out.stop_ns, 1000); /* QEMU's STOP of this transfer */
	feed(&v, "STOP");
	assert_int_equal(n_hook_calls, 1);
	feed(&v, "MIGRATION");
	assert_int_equal(n_hook_calls, 1);

	/* RESUME here afterwards: the migration failed late, taken back. */
	hook_result = 0;
	feed(&v, "RESUME");
	assert_int_equal(n_hook_calls, 2);
	assert_int_equal(hook_calls[1].step, VM_HANDOFF_END);
	assert_false(v.handoff);

	/* A hook that fails leaves the port as it was. */
	hook_result = -ENOENT;
	feed(&v, "STOP");
	assert_int_equal(n_hook_calls, 3);
	assert_false(v.handoff);
}

/* Primed while the transfer runs: once, without QEMU's tap; a STOP hands
 * the port off (no unpriming after it); a transfer that ends without a STOP
 * unprimes it. */
static void test_prime_steps(void **state)
{
	struct vm_manager m = {.cfg = {.handoff = fake_handoff}};
	struct vm v = {.mgr = &m, .name = "vm1", .tap_fd = 42, .phase = VM_RUNNING};
	int calls = n_hook_calls;

	(void)state;
	snprintf(v.want.ifname, sizeof(v.want.ifname), "gw00000000a1");
	hook_result = 0;
	v.out.active = true;
	vm_port_prime(&m, &v, true);
	vm_port_prime(&m, &v, true);
	assert_int_equal(n_hook_calls, calls + 1);
	assert_int_equal(hook_calls[calls].step, VM_HANDOFF_PRIME);
	assert_int_equal(hook_calls[calls].tap_fd, -1);
	assert_true(v.primed);
	feed(&v, "STOP");
	assert_int_equal(hook_calls[calls + 1].step, VM_HANDOFF_START);
	assert_false(v.primed);
	assert_true(v.handoff);
	vm_port_prime(&m, &v, false);
	assert_int_equal(n_hook_calls, calls + 2);

	/* A transfer that fails before its STOP. */
	v.handoff = false;
	vm_port_prime(&m, &v, true);
	vm_port_prime(&m, &v, false);
	assert_int_equal(n_hook_calls, calls + 4);
	assert_int_equal(hook_calls[calls + 3].step, VM_HANDOFF_END);
	assert_false(v.primed);
}

/* A guest that reboots itself (RESET): counted, reported, not ready until
 * its ready line comes again; no handoff business. */
static void test_guest_reset(void **state)
{
	struct vm_manager m = {.cfg = {.handoff = fake_handoff}};
	struct vm v = {.mgr = &m, .name = "vm1", .tap_fd = -1, .phase = VM_RUNNING, .ready = true};
	json_t *data = json_pack("{s:b, s:s}", "guest", 1, "reason", "guest-reset");
	struct qmp_event ev = {.name = "RESET", .data = data, .qemu_ns = 1000, .recv_ns = 2000};
	int calls = n_hook_calls;

	(void)state;
	vm_on_event(&ev, &v);
	assert_int_equal(v.guest_resets, 1);
	assert_false(v.ready);
	assert_int_equal(v.phase, VM_RUNNING);
	assert_int_equal(n_hook_calls, calls);
	vm_on_event(&ev, &v);
	assert_int_equal(v.guest_resets, 2);
	json_decref(data);
}

/* ---- resuming a source after its migration ended (a scripted fake QEMU) ---- */

static pthread_t fake_thread;
static struct fake fake_q;

/* A manager with one VM vm1 on a fake QEMU playing script. */
static void fake_vm(struct vm_manager *m, struct vm *v, const char *const *script)
{
	int sv[2];

	memset(m, 0, sizeof(*m));
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&m->lock, NULL);
	m->vms = v;
	v->mgr = m;
	snprintf(v->name, sizeof(v->name), "vm1");
	v->phase = VM_STOPPED;
	v->tap_fd = v->out.sock = v->in.listen_fd = v->in.sock = -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fake_q = (struct fake){.fd = sv[1], .script = script, .got_fd = -1};
	assert_int_equal(pthread_create(&fake_thread, NULL, fake_main, &fake_q), 0);
	assert_int_equal(qmp_open_fd(sv[0], 2000, NULL, NULL, &v->qmp), 0);
}

static void fake_done(struct vm_manager *m, struct vm *v)
{
	char extra[256];

	pthread_join(fake_thread, NULL);
	assert_string_equal(fake_q.failure, "");
	/* nothing sent after the script's end (a command it did not expect) */
	assert_int_equal(recv(fake_q.fd, extra, sizeof(extra), MSG_DONTWAIT | MSG_PEEK), -1);
	qmp_close(v->qmp);
	close(fake_q.fd);
	pthread_mutex_destroy(&m->lock);
}

#define QMP_HELLO GREETING, "<{\"execute\":\"qmp_capabilities\"", ">{\"return\": {}, \"id\": 1}"
#define QUERY_STATUS(id, st)                                                                       \
	"<{\"execute\":\"query-status\",\"id\":" #id,                                              \
	    ">{\"return\": {\"status\": \"" st "\", \"running\": false}, \"id\": " #id "}"

/*
 * The source guest of a completed transfer stays paused: the target has it
 * (the rule that resumed it after any failed migration ran the guest twice).
 * Only the controller's word that the target never ran it allows a `cont`;
 * a transfer that failed is resumed.
 */
static void test_resume_rules(void **state)
{
	static const char *const refused[] = {QMP_HELLO, QUERY_STATUS(2, "postmigrate"), NULL};
	static const char *const allowed[] = {QMP_HELLO, QUERY_STATUS(2, "postmigrate"),
					      "<{\"execute\":\"cont\",\"id\":3",
					      ">{\"return\": {}, \"id\": 3}", NULL};
	struct vm_manager m;
	struct vm v;

	(void)state;
	fake_vm(&m, &v, refused);
	vm_outgoing_reset(&v, "m1");
	snprintf(v.out.status, sizeof(v.out.status), "completed");
	assert_int_equal(vm_migrate_resume(&m, "vm1", "m1", false), -EPERM);
	assert_int_equal(vm_migrate_resume(&m, "vm1", "m0", true), -ENOENT); /* not its transfer */
	fake_done(&m, &v);
	assert_int_equal(v.phase, VM_STOPPED);

	fake_vm(&m, &v, allowed);
	vm_outgoing_reset(&v, "m1");
	snprintf(v.out.status, sizeof(v.out.status), "completed");
	assert_int_equal(vm_migrate_resume(&m, "vm1", "m1", true), 0);
	fake_done(&m, &v);
	assert_int_equal(v.phase, VM_RUNNING);

	fake_vm(&m, &v, allowed);
	vm_outgoing_reset(&v, "m1");
	snprintf(v.out.status, sizeof(v.out.status), "failed");
	assert_int_equal(vm_migrate_resume(&m, "vm1", "m1", false), 0);
	fake_done(&m, &v);
	assert_int_equal(v.phase, VM_RUNNING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argv),
	    cmocka_unit_test(test_migration_from_json),
	    cmocka_unit_test(test_manager_cannot_start),
	    cmocka_unit_test(test_handoff_events),
	    cmocka_unit_test(test_prime_steps),
	    cmocka_unit_test(test_guest_reset),
	    cmocka_unit_test(test_resume_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

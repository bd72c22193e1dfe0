/* SPDX-License-Identifier: MIT */
/*
 * vm: runs this node's QEMU guests (docs/VM.md) and reports them.
 *
 * Design
 * - A manager thread owns every VM; one mutex guards its state and every
 *   QMP exchange, so the migration calls below may come from any thread.
 *   The main loop hands it the cache after each change (vm_manager_sync);
 *   the heartbeat asks for the "vms" report (vm_manager_report).
 * - Desired: VMs whose spec.node is this node and spec.running is true; and,
 *   during a migration, VMs whose spec.target is this node (an "incoming"
 *   QEMU started with -incoming defer; vm_incoming_prepare is called on it at
 *   once with the underlay IP, so its incoming_uri shows up in the report).
 * - Each VM lives in RUNDIR = <run-dir>/<node>/<name> (node in the path:
 *   nodes of a lab share the filesystem): qmp.sock (the manager's QMP
 *   monitor), qmp-watch.sock (a second QMP monitor for observers such as
 *   tests/tools/vmwatch; QEMU sends every event to both; one client at a
 *   time), console.sock (the serial port, for `godwit console`; one client at
 *   a time), console.log (QEMU's copy of the serial output, tailed for the
 *   guest's ready line), qemu.log (QEMU's stdout/stderr), qemu.pid.
 * - QEMU runs in its own session (it survives the agent). On start the
 *   manager adopts every QEMU under <run-dir>/<node>/ whose pidfile names a
 *   live qemu process with a working QMP socket; adopted ones that are not
 *   desired are stopped like any other.
 * - Supervision, every 100 ms: start what is missing (once its tap exists:
 *   the net module creates it from the Port), notice exits (phase failed,
 *   reason "qemu exited with status N: <last line of qemu.log>"), restart a
 *   failed VM with backoff (1 s doubling to 30 s) unless a migration is under
 *   way (spec.target set) or it was the incoming side; stop what is no longer
 *   desired (QMP quit, SIGKILL after 5 s, RUNDIR removed); poll query-migrate
 *   while a migration is active.
 * - The heartbeat is kicked on phase changes, the ready line, STOP/RESUME/
 *   MIGRATION events and migration end.
 * - Events carry QEMU's own timestamp (events.STOP, realtime ns, µs
 *   precision) and the agent's receive time (events_recv.STOP).
 *   events.HANDOFF is when the source's port went into handoff (right after
 *   the STOP of an outgoing transfer), by the agent's clock.
 *
 * The migration phases: vm_flow.h (a thread of its own) calls
 * vm_migrate_start with the target's incoming_uri that the controller
 * publishes on the Migration, watches vm_migrate_state, and after a failed or
 * aborted migration vm_migrate_recover (cancel, and `cont` a paused source).
 * While a transfer runs the report is kicked at every query-migrate poll, so
 * the controller sees the progress.
 */
#ifndef GODWIT_AGENT_VM_H
#define GODWIT_AGENT_VM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cache.h"

#define VM_GUEST_MIN_MIB       128 /* the catalog guest does not boot below ~80 MiB */
#define VM_DEFAULT_RUN_DIR     "/run/godwit/vms"
#define VM_DEFAULT_GUEST_DIR   "/var/cache/godwit/guest"
#define VM_DEFAULT_DOWNTIME_MS 30
#define VM_READY_LINE	       "godwit-guest: ready"

struct vm_config {
	const char *node;
	const char *underlay_ip; /* dotted quad, for incoming_uri */
	const char *run_dir;	 /* NULL: VM_DEFAULT_RUN_DIR */
	const char *guest_dir;	 /* a dir with vmlinuz + initramfs.cpio.gz, or its parent
				    (then "current", else the newest subdir); NULL: default */
	const char *qemu;	 /* NULL: qemu-system-x86_64 */
	/* "tcg" (NULL), "kvm", or "kvm:tcg" (KVM, else TCG: for real hosts). Not
	 * kvm:tcg by default: where /dev/kvm opens but cannot run guests (nested
	 * sandboxes, this build machine) QEMU picks KVM and the guest dies with
	 * "KVM internal error" after the BIOS. */
	const char *accel;
	void (*kick)(void *ctx); /* report now; called on the manager thread */
	void *kick_ctx;
	/* Zero-loss handoff (bpf/abi.h, handoff.h): called on the manager thread
	 * at the source QEMU's STOP during a transfer (on = true) and at a RESUME
	 * after it (the migration failed late: on = false). ifname is the VM's
	 * tap, tap_fd a duplicate of QEMU's descriptor of it to drain, or -1.
	 * Returns the number of frames drained (>= 0) or -errno. NULL: none. */
	int (*handoff)(void *ctx, const char *ifname, int tap_fd, bool on);
	void *handoff_ctx;
};

struct vm_manager;

int vm_manager_start(const struct vm_config *cfg, struct vm_manager **out);
/* Stops the thread; QEMUs keep running (the next agent adopts them). Accepts NULL. */
void vm_manager_stop(struct vm_manager *m);
/* The desired VMs from a cache snapshot (VMs and Ports are read). */
int vm_manager_sync(struct vm_manager *m, const struct cache *c);
/* The "vms" object of the node status; NULL on ENOMEM. */
json_t *vm_manager_report(struct vm_manager *m);

struct vm_migrate_params {
	uint32_t downtime_ms;	/* 0: VM_DEFAULT_DOWNTIME_MS */
	uint64_t max_bandwidth; /* bytes/s; 0: unlimited */
};

/* Source side: events on, downtime-limit, max-bandwidth, migrate uri
 * ("tcp:IP:PORT"). -ENOENT: no such running VM; -EBUSY: one is active;
 * -EPROTO: QEMU refused (logged with its error text). */
int vm_migrate_start(struct vm_manager *m, const char *name, const char *uri,
		     const struct vm_migrate_params *p);
int vm_migrate_cancel(struct vm_manager *m, const char *name);

/* The source side's view of its last migration (query-migrate, events). */
struct vm_migrate_state {
	bool known;	 /* a migration was started or seen on this QEMU */
	bool active;	 /* not ended yet */
	char status[24]; /* QEMU's: setup, active, completed, failed, cancelled, ... */
	char error[256];
	char run_state[24]; /* "running" or what vm_migrate_recover found */
};
/* -ENOENT: no such VM here. */
int vm_migrate_state(struct vm_manager *m, const char *name, struct vm_migrate_state *out);
/*
 * After a failed or aborted migration: migrate_cancel when a transfer is
 * still on, wait (up to ~3 s) until QEMU says it ended, then `cont` when the
 * guest is not running (paused at the switchover, or postmigrate). out (may
 * be NULL) gets the end state; out->run_state is the run state found.
 */
int vm_migrate_recover(struct vm_manager *m, const char *name, struct vm_migrate_state *out);
/* Target side: migrate-incoming on ip:<a free port>; uri gets "tcp:IP:PORT".
 * Only on an incoming VM (-ENOENT otherwise); idempotent. */
int vm_incoming_prepare(struct vm_manager *m, const char *name, const char *ip, char *uri,
			size_t len);

/* The QEMU command line of a VM, for the tests and the logs (vm_qemu.c). */
struct vm_qemu_spec {
	const char *qemu, *accel, *name, *rundir, *kernel, *initrd;
	const char *ifname, *mac, *userdata_b64; /* userdata may be NULL */
	uint32_t memory_mib, cpus;
	int incoming;
};
/* A NULL-terminated argv (free with vm_qemu_argv_free). -E2BIG: the kernel
 * command line would be too long (user data). */
int vm_qemu_argv(const struct vm_qemu_spec *s, char ***out);
void vm_qemu_argv_free(char **argv);
/* Finds vmlinuz + initramfs.cpio.gz under dir (see vm_config.guest_dir). */
int vm_guest_find(const char *dir, char *kernel, char *initrd, size_t len);

#endif

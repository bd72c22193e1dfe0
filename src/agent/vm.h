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
 *   QEMU started with -incoming defer, below).
 * - Each VM lives in RUNDIR = <run-dir>/<node>/<name> (node in the path:
 * - Each VM lives in RUNDIR = <run-dir>/<node>/<name> (node in the path:
 *   nodes of a lab share the filesystem): qmp.sock (the manager's QMP
 *   monitor), qmp-watch.sock (a second QMP monitor for observers such as
 *   tests/tools/vmwatch; QEMU sends every event to both; one client at a
 *   time), console.sock (the serial port, for `godwit console`; one client at
 *   a time), console.log (QEMU's copy of the serial output, tailed for the
 *   guest's ready line), qemu.log (QEMU's stdout/stderr), qemu.pid, and the
 *   agent's records: ready (the guest was ready: an adopter need not see the
 *   ready line again), outgoing and incoming (the migration sides, below).
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
 *   precision) and the agent's receive time (events_recv.STOP); a
 *   migration's own are in its records (below): the source's STOP and
 *   handoff time, the target's RESUME.
 *
 * Live migration (the handover protocol: controller/migration_vm.h)
 * - Source: vm_flow.h (a thread of its own) connects to the target's
 *   incoming_uri itself (migsock.h: bounded buffers) and calls
 *   vm_migrate_start with the socket: QMP getfd + migrate fd:. The transfer
 *   is recorded in RUNDIR/outgoing (the Migration's name) before QEMU is
 *   told, so an agent restarted mid-transfer adopts it: it polls QEMU on and
 *   reports it, and takes the socket back to be able to cancel.
 * - Target: the manager starts the incoming QEMU (-incoming defer) while the
 *   VM's spec.target names this node, listens on the underlay for the
 *   Migration of the VM's Port, accepts the source node only, and hands the
 *   connection to QEMU (getfd + migrate-incoming fd:); RUNDIR/incoming keeps
 *   how that QEMU fared (listening, receiving, completed, failed, aborted;
 *   whether the guest ran) across agent restarts.
 * - Cancel (the Migration is ending): the source shuts its migration socket
 *   down, or declines the Migration when it has not started it; the target
 *   shuts its side down, or closes its listener. Either way a transfer that
 *   had sent everything completes and the guest moves; one that had not
 *   fails and the target never runs the guest.
 * - Resume: a source guest is `cont`ed only when its transfer ended without
 *   completing, or when the controller allows it (the target reported that
 *   its QEMU never ran the guest). Never merely because a migration failed.
 * - Reports (vms[VM]): migration {name, status, figures, stop_unix_ns, ...}
 *   of the last outgoing transfer, declined, incoming {migration, state,
 *   ran, uri, resume_unix_ns, error}; a report is kicked at every poll of a
 *   running transfer.
 */
#ifndef GODWIT_AGENT_VM_H
#define GODWIT_AGENT_VM_H

#include "lib/secret.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cache.h"

#define VM_DEFAULT_RUN_DIR     "/run/godwit/vms"
#define VM_DEFAULT_GUEST_DIR   "/var/cache/godwit/guest"
/* QEMU's downtime-limit. 20 was tried against 30, 100 migrations each side
 * by side (bench/results/2026-12-07-downtime-ab.json): about the same at p50
 * (blackout 7.4 against 8.3 ms), the tail (QEMU overrunning its limit under
 * TCG on two cores) no shorter. */
#define VM_DEFAULT_DOWNTIME_MS 30
#define VM_READY_LINE	       "godwit-guest: ready"

/* The source port's steps in a live migration (bpf/abi.h): primed while the
 * transfer runs, handed off at STOP, active again when the VM runs here. */
enum vm_handoff {
	VM_HANDOFF_PRIME,
	VM_HANDOFF_START,
	VM_HANDOFF_END,
};

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
	 * with VM_HANDOFF_PRIME when a transfer starts, VM_HANDOFF_START at the
	 * source QEMU's STOP during it, VM_HANDOFF_END at a RESUME after that
	 * (the migration failed late) or when a primed transfer ends without a
	 * STOP. ifname is the VM's tap, tap_fd a duplicate of QEMU's descriptor
	 * of it to drain, or -1. Returns the number of frames drained (>= 0) or
	 * -errno. NULL: none. */
	int (*handoff)(void *ctx, const char *ifname, int tap_fd, enum vm_handoff step);
	void *handoff_ctx;
	/* The migration sockets' buffer (migsock.h; 0: the kernel's autotuning). */
	unsigned int migrate_buffer_kib;
	/* This node's stream secret (credential.h): unwraps an incoming
	 * Migration's TLS key (lib/migtls.h). NULL: incoming streams in the clear. */
	const char *stream_secret;
	/* Verification (bench/ramcheck.py): an incoming QEMU stays paused after
	 * the transfer until someone `cont`s it on its qmp-watch.sock, so that
	 * both guests' RAM can be compared at the switchover. Never in production:
	 * the guest stays paused without that someone. */
	bool incoming_paused;
	/* Comparison (bench/vm_migration.sh "unprimed"): the source port is not
	 * primed during a transfer, so QEMU's last reads can take a real frame. */
	bool no_source_primers;
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
	char tls_key[SECRET_HEX_LEN + 1]; /* the Migration's TLS key (lib/migtls.h); "": none */
};

/*
 * Source side: migrates VM name for Migration migration over sock (a
 * connected TCP socket: migsock_connect; taken over, closed on every path).
 * -ENOENT: no such running VM; -EBUSY: a transfer is on; -EALREADY: this
 * Migration was started here before; -ECANCELED: it was declined; -EPROTO:
 * QEMU refused (its error is the transfer's, in the report).
 */
int vm_migrate_start(struct vm_manager *m, const char *name, const char *migration, int sock,
		     const struct vm_migrate_params *p);
/* Ends migration on the source: shuts the transfer's socket down when it is
 * on, else declines it (it will never start here). */
int vm_migrate_cancel(struct vm_manager *m, const char *name, const char *migration);
/* `cont` a paused source guest after migration ended: only when the transfer
 * ended without completing, or when allowed (the target never ran the
 * guest). 0 when the guest runs; -EPERM when it must not. */
int vm_migrate_resume(struct vm_manager *m, const char *name, const char *migration, bool allowed);

/* The source side's view of a VM for the flow. */
struct vm_migrate_state {
	bool running;	    /* the VM runs here (phase running, QEMU not paused) */
	bool active;	    /* a transfer is on */
	char migration[64]; /* the last transfer's Migration ("" none) */
	char status[24];    /* its QEMU status */
	char declined[64];
	char error[256];
};
/* -ENOENT: no such VM here. */
int vm_migrate_state(struct vm_manager *m, const char *name, struct vm_migrate_state *out);

/* The QEMU command line of a VM, for the tests and the logs (vm_qemu.c). */
struct vm_qemu_spec {
	const char *qemu, *accel, *name, *rundir, *kernel, *initrd;
	const char *ifname, *mac, *userdata_b64; /* userdata may be NULL */
	uint32_t memory_mib, cpus;
	int incoming;
	bool incoming_paused; /* -S: the incoming guest stays paused after the transfer */
};
/* A NULL-terminated argv (free with vm_qemu_argv_free). -E2BIG: the kernel
 * command line would be too long (user data). */
int vm_qemu_argv(const struct vm_qemu_spec *s, char ***out);
void vm_qemu_argv_free(char **argv);
/* Finds vmlinuz + initramfs.cpio.gz under dir (see vm_config.guest_dir). */
int vm_guest_find(const char *dir, char *kernel, char *initrd, size_t len);

#endif

/* SPDX-License-Identifier: MIT */
/* The vm module's shared state (vm.c, vm_supervise.c, vm_migrate.c). All of
 * it is guarded by vm_manager.lock. */
#ifndef GODWIT_AGENT_VM_INTERNAL_H
#define GODWIT_AGENT_VM_INTERNAL_H

#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/vm.h"
#include "lib/phases.h"
#include "lib/qmp.h"

#define VM_QMP_TIMEOUT_MS 2000
#define VM_QUIT_GRACE_MS  5000
#define VM_BACKOFF_MIN_MS 1000
#define VM_BACKOFF_MAX_MS 30000
#define VM_POLL_MS	  100

/* a VM's phase here is the vm_state of lib/phases.h (VM_STARTING, ...) */

struct vm_want {
	bool present;	/* desired on this node (after the last sync) */
	bool incoming;	/* this node is spec.target, not spec.node */
	bool migrating; /* spec.target is set */
	/* incoming: the Migration (the Port's status.migration), whether it is
	 * ending (status.cancel, or finished), the source node's underlay IP */
	char migration[64];
	bool cancel;
	char source_ip[16];
	char tls_key[SECRET_HEX_LEN + 1]; /* the Migration's TLS key (lib/migtls.h); "": none */
	bool tls_invalid;		  /* its status.transport is malformed: refuse the stream */
	uint32_t memory_mib; /* already raised to the minimum */
	uint32_t spec_memory_mib;
	uint32_t cpus;
	char ifname[IFNAMSIZ];
	char mac[18];
	char *userdata_b64;    /* NULL: none */
	char image_error[160]; /* non-empty: cannot run (unknown image, bad user data) */
};

/* Timestamped events of a VM: QEMU's three. */
enum vm_event { VM_EV_STOP, VM_EV_RESUME, VM_EV_MIGRATION, VM__EVENTS };

/* The source side of the VM's last outgoing transfer (vm_outgoing.c). */
struct vm_outgoing {
	char migration[64]; /* the Migration it belongs to ("": none) */
	bool active;	    /* not ended: poll query-migrate */
	char status[24];    /* QEMU's: setup, active, completed, failed, cancelled */
	uint64_t transferred, remaining, total, dirty_rate, total_ms, downtime_ms;
	uint64_t stop_ns, handoff_ns; /* STOP of this transfer; the port's handoff */
	unsigned int handoff_drained; /* frames the drain sent on at the handoff */
	char error[256];
	int sock;	   /* our copy of the migration socket (a shutdown cancels); -1 */
	char declined[64]; /* a Migration this VM will never start (it was ending) */
};

/* The target side (vm_incoming.c): how the incoming QEMU of a Migration
 * fared is enum vm_incoming_state of lib/phases.h. */

struct vm_incoming {
	char migration[64];
	enum vm_incoming_state state;
	bool ran; /* the guest ran in this QEMU (RESUME, or running after the transfer) */
	char uri[64];
	uint64_t resume_ns;
	char error[256];
	int listen_fd, sock; /* -1 */
	bool aborting;	     /* the agent shut the stream down: QEMU's verdict follows */
};

struct vm {
	struct vm *next;
	struct vm_manager *mgr;
	char name[64];
	char rundir[PATH_MAX];
	struct vm_want want;

	enum vm_state phase;
	pid_t pid;  /* 0: no QEMU */
	bool child; /* ours (waitpid) or adopted (kill 0) */
	bool records_pending; /* adopted: its run dir's records not read yet (no QMP yet) */
	bool quitting;
	bool incoming_run;     /* the running QEMU was started with -incoming */
	int64_t quit_deadline; /* CLOCK_MONOTONIC ms */
	int64_t retry_at;
	int64_t next_migrate_poll;
	int backoff_ms;
	struct qmp *qmp;
	bool ready;
	off_t console_off;
	char console_line[256]; /* partial line carried between reads */
	size_t console_len;
	char reason[512];
	uint64_t ev_qemu[VM__EVENTS], ev_recv[VM__EVENTS];
	bool handoff; /* the port is in handoff (set at STOP of an outgoing transfer) */
	bool primed;  /* the port is primed (an outgoing transfer runs, no STOP yet) */
	int tap_fd;   /* QEMU's tap, duplicated while a transfer runs (handoff.h); -1 */
	unsigned int guest_resets; /* RESET events of the running QEMU */
	struct vm_outgoing out;
	struct vm_incoming in;
};

struct vm_manager {
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	bool synced; /* a first sync arrived: act */
	int wake_fd; /* eventfd */
	int epoll_fd;
	struct vm_config cfg;
	char *node, *underlay_ip, *run_dir, *guest_dir, *qemu, *accel;
	char node_dir[PATH_MAX - 128]; /* + "/" + name fits rundir */
	struct vm *vms;
};

void vm_set_phase(struct vm_manager *m, struct vm *v, enum vm_state p, const char *reason);
void vm_kick(struct vm_manager *m);

/* vm_supervise.c: one step of a VM; returns true when the VM is gone and
 * can be freed. */
bool vm_step(struct vm_manager *m, struct vm *v);
/* Adopts the QEMUs found under node_dir (at the first sync). */
void vm_adopt_all(struct vm_manager *m);
struct vm *vm_find(struct vm_manager *m, const char *name);
struct vm *vm_add(struct vm_manager *m, const char *name);
void vm_qmp_closed(struct vm_manager *m, struct vm *v);
/* QMP cmd with args (stolen; NULL: out of memory) and pass_fd (or -1); a
 * refusal is logged with QEMU's error. */
int vm_qmp_exec(struct vm *v, const char *cmd, json_t *args, int pass_fd);
/* The migration's TLS in QEMU, before migrate or migrate-incoming (vm_tls.c):
 * key "" or NULL clears it. */
int vm_tls_prepare(struct vm *v, bool server, const char *key);
/* The transfer ended: its key file goes (best effort). */
void vm_tls_forget(struct vm *v);

/* vm_events.c: QMP events (STOP/RESUME/MIGRATION/RESET) and the handoff. */
void vm_on_event(const struct qmp_event *ev, void *ctx); /* ctx: the struct vm */
void vm_tap_release(struct vm *v);			 /* closes tap_fd */
/* The port primed for a transfer that starts (on), or no longer once it
 * ended without a STOP (off). A failure is logged: the port stays as it is. */
void vm_port_prime(struct vm_manager *m, struct vm *v, bool on);
/* Marks the guest ready (and remembers it in RUNDIR/ready for an adopter). */
void vm_set_ready(struct vm_manager *m, struct vm *v);

/* vm_outgoing.c: the source side. */
void vm_outgoing_reset(struct vm *v, const char *migration);
void vm_outgoing_poll(struct vm_manager *m, struct vm *v);
void vm_outgoing_event(struct vm_manager *m, struct vm *v, const char *status);
/* The QEMU went: a transfer still on failed with it. */
void vm_outgoing_qemu_gone(struct vm *v, const char *why);
/* An adopted QEMU: its transfer from RUNDIR/outgoing and query-migrate. */
void vm_outgoing_adopt(struct vm_manager *m, struct vm *v, bool alive);
json_t *vm_outgoing_report(const struct vm *v);
/* Parses a query-migrate answer into out (pure; unit tested). */
void vm_outgoing_from_json(const json_t *info, struct vm_outgoing *out);

/* vm_incoming.c: the target side. */
void vm_incoming_reset(struct vm *v);
/* One supervision step of an incoming QEMU: listen, accept, abort. */
void vm_incoming_step(struct vm_manager *m, struct vm *v);
void vm_incoming_event(struct vm_manager *m, struct vm *v, enum vm_event e, const char *status,
		       uint64_t qemu_ns);
void vm_incoming_qemu_gone(struct vm *v, const char *why);
void vm_incoming_adopt(struct vm_manager *m, struct vm *v, bool alive, const char *run_state);
json_t *vm_incoming_report(const struct vm *v);

/* vm_record.c: small JSON records in the run dir that outlive the agent. */
int vm_record_save(const struct vm *v, const char *file, json_t *rec); /* steals rec */
json_t *vm_record_load(const struct vm *v, const char *file);	       /* NULL: none */

#endif

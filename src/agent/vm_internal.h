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
#include "lib/qmp.h"

#define VM_QMP_TIMEOUT_MS 2000
#define VM_QUIT_GRACE_MS  5000
#define VM_BACKOFF_MIN_MS 1000
#define VM_BACKOFF_MAX_MS 30000
#define VM_POLL_MS	  100

enum vm_phase { VM_STARTING, VM_RUNNING, VM_INCOMING, VM_STOPPED, VM_FAILED };

struct vm_want {
	bool present;	     /* desired on this node (after the last sync) */
	bool incoming;	     /* this node is spec.target, not spec.node */
	bool migrating;	     /* spec.target is set */
	uint32_t memory_mib; /* already raised to the minimum */
	uint32_t spec_memory_mib;
	uint32_t cpus;
	char ifname[IFNAMSIZ];
	char mac[18];
	char *userdata_b64;    /* NULL: none */
	char image_error[160]; /* non-empty: cannot run (unknown image, bad user data) */
};

/* Timestamped events of a VM: QEMU's three, and the agent's handoff. */
enum vm_event { VM_EV_STOP, VM_EV_RESUME, VM_EV_MIGRATION, VM_EV_HANDOFF, VM_EV__MAX };

struct vm_migration {
	bool known;  /* a migration was started or seen */
	bool active; /* poll query-migrate */
	char status[24];
	uint64_t transferred, remaining, dirty_rate, total_ms, downtime_ms;
	char error[256];
};

struct vm {
	struct vm *next;
	struct vm_manager *mgr;
	char name[64];
	char rundir[PATH_MAX];
	struct vm_want want;

	enum vm_phase phase;
	pid_t pid;  /* 0: no QEMU */
	bool child; /* ours (waitpid) or adopted (kill 0) */
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
	char incoming_uri[64];
	uint64_t ev_qemu[VM_EV__MAX], ev_recv[VM_EV__MAX];
	bool handoff; /* the port is in handoff (set at STOP of an outgoing transfer) */
	int tap_fd;   /* QEMU's tap, duplicated while a transfer runs (handoff.h); -1 */
	unsigned int handoff_drained; /* frames the drain sent on at the handoff */
	unsigned int guest_resets;    /* RESET events of the running QEMU */
	struct vm_migration mig;
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

int64_t vm_now_ms(void);
const char *vm_phase_name(enum vm_phase p);
void vm_set_phase(struct vm_manager *m, struct vm *v, enum vm_phase p, const char *reason);
void vm_kick(struct vm_manager *m);

/* vm_supervise.c: one step of a VM; returns true when the VM is gone and
 * can be freed. */
bool vm_step(struct vm_manager *m, struct vm *v);
/* Adopts the QEMUs found under node_dir (at the first sync). */
void vm_adopt_all(struct vm_manager *m);
struct vm *vm_find(struct vm_manager *m, const char *name);
struct vm *vm_add(struct vm_manager *m, const char *name);
void vm_qmp_closed(struct vm_manager *m, struct vm *v);

/* vm_migrate.c */
void vm_on_event(const struct qmp_event *ev, void *ctx); /* ctx: the struct vm */
void vm_migrate_poll(struct vm_manager *m, struct vm *v);
void vm_tap_release(struct vm *v); /* closes tap_fd */
int vm_incoming_prepare_locked(struct vm_manager *m, struct vm *v, const char *ip);
void vm_incoming_uri_save(const struct vm *v);
void vm_incoming_uri_load(struct vm *v);
/* Parses a query-migrate answer into mig (pure; unit tested). */
void vm_migration_from_json(const json_t *info, struct vm_migration *mig);

#endif

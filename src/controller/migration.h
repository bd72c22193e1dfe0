/* SPDX-License-Identifier: MIT */
/*
 * migration: the migration state machine of docs/MIGRATION.md as pure
 * functions on JSON objects (no I/O, no store, no clock): given the stored
 * Migration, its Port, the nodes with their status reports and the time, what
 * happens next. migration_api.c wraps each evaluation in one store
 * transaction; migrator.c runs it in a loop. Because every input lives in the
 * store, a restarted controller computes the same decisions from the same
 * state: nothing that matters is kept only in memory.
 *
 * Stored status of a Migration:
 *   phase, source, reason, phases [{name, unix_ms}], replication_revision,
 *   requested {running, complete, abort: unix_ms; fail: {reason, unix_ms}},
 *   cancel {phase, reason, unix_ms} (VM migrations: ending, not yet confirmed),
 *   resume_source (VM migrations: the source may run the guest again),
 *   figures {...}, notes [string].
 * Actions (abort, running, complete, fail) are recorded in status.requested
 * and take effect through the same decision function, so that "running"
 * before Replicating is remembered and acted on when Replicating is reached.
 *
 * Time: the decision function never reads a clock. It gets the wall-clock
 * time only to record it (phases[].unix_ms, figures) and the ages it decides
 * on (time in phase, since progress, of the nodes' last reports) from the
 * controller's monotonic observer (observer.h): a wall-clock step changes no
 * decision.
 *
 * VM migrations from phase Replicating on follow the handover protocol of
 * migration_vm.h: no step there trusts a single unconfirmed report.
 */
#ifndef GODWIT_CONTROLLER_MIGRATION_H
#define GODWIT_CONTROLLER_MIGRATION_H

#include "api_objects.h"
#include "lib/phases.h"
#include "observer.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define MIGRATION_MAX_STEPS  8 /* transitions in one evaluation */
#define MIGRATION_MAX_NOTES  16
#define MIGRATION_REASON_MAX 256 /* of a reported failure */
/* Defaults of the transfer's bounds (VM migrations; KubeVirt's defaults). */
#define MIGRATION_PROGRESS_TIMEOUT_DEFAULT_S   150
#define MIGRATION_COMPLETION_PER_GIB_DEFAULT_S 800
#define MIGRATION_COMPLETION_MIN_S	       60

/* What a transition does to the port's spec. */
enum migration_port_change {
	MIGRATION_PORT_KEEP,
	MIGRATION_PORT_REPLICATE, /* locations [source, target]; remember the revision */
	MIGRATION_PORT_MOVE,	  /* locations [target]; no spec.target */
	MIGRATION_PORT_ROLLBACK,  /* locations [source]; no spec.target */
};

struct migration_decision {
	enum migration_phase next; /* the current phase: no transition */
	enum migration_port_change port;
	char reason[512]; /* why it failed or was aborted */
	json_t *figures;  /* figures to set (an object; owned) */
	json_t *status;	  /* other status fields to set (NULL or an object; owned):
			     incoming_uri, progress (VM migrations, migration_vm.h) */
	char note[256];	  /* to add to status.notes ("" none) */
};

/* The phase of a stored migration; -EINVAL when it has no valid one. */
int migration_phase_of(const json_t *mig, enum migration_phase *p);

/*
 * The time of one evaluation: unix_ms to record, t the ages to decide on
 * (observer.h). Nodes carry their own age (status.age_ms, node_list in kind_node.h).
 */
struct migration_clock {
	int64_t unix_ms;
	struct migration_times t;
};

/* Whether a node (with "status" {age_ms}) reported within NODE_READY_MS. */
bool migration_node_ready(const json_t *node);
/* "last report 12 s ago" or "no status report yet". */
void migration_node_liveness(const json_t *node, char *buf, size_t size);
/* The node named name in an array of nodes, or NULL. */
const json_t *migration_find_node(const json_t *nodes, const char *name);

/*
 * Starts a validated migration (spec.port, spec.target, spec.strategy set):
 * status Pending from source at now; the port gets spec.target,
 * spec.strategy and status.migration.
 */
int migration_start(json_t *mig, json_t *port, const char *source, int64_t now_ms);

/*
 * Records an action ("abort", "running", "complete", "fail" with reason) in
 * status.requested. 409 when the phase does not take it (naming the phase),
 * 400 for a bad reason. *recorded tells whether anything new was recorded.
 */
int migration_request(json_t *mig, const char *action, const char *reason, int64_t now_ms,
		      bool *recorded, struct api_error *err);

/*
 * The next step of mig. port is NULL when it no longer exists; nodes is an
 * array of Node objects, each with "status" {age_ms, applied_revision, ports,
 * drops_standby, vms} when the node has reported. Release d after use.
 */
int migration_decide(const json_t *mig, const json_t *port, const json_t *nodes,
		     const struct migration_clock *c, struct migration_decision *d);
void migration_decision_release(struct migration_decision *d);

/*
 * Applies d to mig and port (in place): phase and its timestamp, reason,
 * figures, notes, port spec and status.migration. revision is the revision
 * of the transaction that stores the result (replication_revision).
 */
int migration_apply(json_t *mig, json_t *port, const struct migration_decision *d, int64_t now_ms,
		    int64_t revision);

/* Decides and applies until nothing changes (at most MIGRATION_MAX_STEPS);
 * a phase entered on the way is 0 ms old. */
int migration_evaluate(json_t *mig, json_t *port, const json_t *nodes,
		       const struct migration_clock *c, int64_t revision);

/* Helpers of the decision functions (migration.c, migration_vm.c), in migration_report.c. */
void migration_finish(struct migration_decision *d, enum migration_phase p,
		      enum migration_port_change port, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void migration_note(struct migration_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The target's report of the port (activation time, standby drops) into d->figures. */
void migration_port_figures(const json_t *mig, const json_t *target, struct migration_decision *d);
/* The node's report of port (status.ports[port].state), or NULL. */
const char *migration_port_state(const json_t *node, const char *port);
int64_t migration_applied_revision(const json_t *node);
/* Whether node's report was made after it applied the migration's creation:
 * an older one (a restarted controller's written-behind copy, a previous
 * stay of the port on that node) says nothing of this migration. */
bool migration_report_fresh(const json_t *mig, const json_t *node);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * demo_run: the state of one `godwit lab demo` run and its steps, shared by
 * the files of the demo (private to src/demo; demo.h is the public side).
 *
 *   demo.c          the verb: flags, the run in order, teardown
 *   demo_check.c    step 1: what the machine must offer
 *   demo_subject.c  steps 3-4: the subject (VM or endpoint with a TCP echo)
 *                   and the observer probing it
 *   demo_sessions.c the seed's SSH sessions around the migration (VMs)
 *   demo_migrate.c  step 5: the migration (migclient, or the drill for an
 *                   endpoint), then stopping the probe
 *   demo_results.c  steps 6-8: report.json, timeline.svg/png, the summary,
 *                   the daemons' logs
 *   demo_util.c     the helpers every step uses: the step banner, the
 *                   interruptible pause, processes, one API call
 * Steps call only demo_util.c and the wings below (lab, cli); demo.c alone
 * calls the steps, so the demo's files form no call loop.
 *
 * Each step prints what went wrong ("godwit lab demo: ...") and returns 0 or
 * -errno; -EINTR when the user interrupted (SIGINT/SIGTERM set
 * demo_interrupted).
 */
#ifndef GODWIT_DEMO_DEMO_RUN_H
#define GODWIT_DEMO_DEMO_RUN_H

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cli;

#define NEED_FREE_MB	       50
#define ECHO_DEADLINE_MS       5000
#define VM_READY_DEADLINE_MS   180000
#define MIGRATION_DEADLINE_MS  120000
#define PROBE_BASELINE_MS      1000
#define PROBE_TAIL_MS	       1500
#define PROBE_STOP_DEADLINE_MS 10000
#define PROBE_GRACE_MS	       1000 /* the probe's default --grace-ms */
#define ECHO_PORT	       "7"
#define SUBJECT_EP	       "demo-vm"
#define OBSERVER_EP	       "observer"
#define DEMO_NETWORK	       "demo"
#define DEMO_CIDR	       "10.20.0.0/24"
#define VM_NAME		       "testvm"

struct demo {
	struct cli *cli;
	const char *name, *subject, *strategy;
	char out[PATH_MAX];
	char self[PATH_MAX];
	unsigned long rate;
	bool keep;
	/* learnt on the way */
	char network[64], ip[32], source[32], target[32], observer[32];
	char migration[96], probe_csv[PATH_MAX + 16], probe_json[PATH_MAX + 16];
	pid_t echo_pid, probe_pid;
	pid_t ping_pid, stream_pid; /* the seed's sessions (demo_sessions.c); 0: none */
	json_t *drill, *mig;
	json_t *sessions; /* what the sessions showed; NULL when they did not run */
	bool have_png;
};

/* Set by demo_on_signal() (installed for SIGINT and SIGTERM during the run). */
extern volatile sig_atomic_t demo_interrupted;
void demo_on_signal(int sig);

/* "==> what" in bold, flushed. */
void demo_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sleeps ms in short slices; false when the user interrupted. */
bool demo_pause_ms(int ms);
bool demo_in_path(const char *exe);
/* The same, with the full path of exe into out. */
bool demo_find_in_path(const char *exe, char *out, size_t len);
/* Starts argv in netns (NULL: ours), stdout to out_path, stderr to err_path
 * (NULL: ours; out_path again: the same file), in its own session so a Ctrl-C reaches only us. */
int demo_spawn(const char *netns, const char *const *argv, const char *out_path,
	       const char *err_path, pid_t *pid);
/* The first 20 lines of path on stderr, under "--- what (path) ---". */
void demo_show_file(const char *path, const char *what);
/* One API call; prints what went wrong unless the status is one of want / want2. */
int demo_api(struct demo *d, const char *method, const char *path, json_t *body, long want,
	     long want2, json_t **reply);

int demo_preflight(struct demo *d);

/* The subject: d->network, d->ip and d->source are set when they return 0. */
int demo_subject_endpoint(struct demo *d);
int demo_subject_vm(struct demo *d);
/* The observer endpoint on d->observer, probing d->ip (d->probe_pid). */
int demo_start_observer(struct demo *d);

/* The migration to d->target; d->migration and d->mig (final) are set when they return 0. */
int demo_migrate_vm(struct demo *d);
int demo_migrate_endpoint(struct demo *d);
/* SIGINT to the probe, so it writes its report. */
int demo_stop_probe(struct demo *d);

/* The seed's scenario around the migration (a VM subject with sshpass and
 * ssh at hand; otherwise a note and 0): `godwit ssh cirros@testvm -- ping
 * -i 0.01 203.0.113.8` and an outbound TCP stream through the gateway's SNAT
 * (numbered lines to the outside host's echo), started before the migration;
 * after it, their results into d->sessions. */
int demo_start_sessions(struct demo *d);
int demo_end_sessions(struct demo *d);

/* OUT/report.json, OUT/timeline.svg (and .png), the summary on stdout. */
int demo_write_outputs(struct demo *d);
/* The lab's daemon logs into OUT/logs (the lab directory goes with the lab). */
void demo_save_logs(const struct demo *d);

#endif

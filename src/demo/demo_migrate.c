/* SPDX-License-Identifier: MIT */
/* Step 5 of `lab demo`: the migration, then the probe stopped (demo_run.h). */
#include "demo_run.h"

#include "cli/migclient.h"
#include "lab/lab.h"

#include "lib/clock.h"
#include "lib/phases.h"
#include "lib/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* ---- step 5: the migration ---- */

static void print_new_phases(const json_t *mig, size_t *shown)
{
	const json_t *phases = json_object_get(json_object_get(mig, "status"), "phases");
	long long t0 = json_integer_value(json_object_get(json_array_get(phases, 0), "unix_ms"));

	for (; *shown < json_array_size(phases); (*shown)++) {
		const json_t *p = json_array_get(phases, *shown);

		printf("  %-12s +%lld ms\n", json_string_value(json_object_get(p, "name")) ?: "?",
		       (long long)json_integer_value(json_object_get(p, "unix_ms")) - t0);
	}
	fflush(stdout);
}

/* How the demo reports a refused call of the migration client. */
static void say_refused(const struct migclient *mc)
{
	if (mc->refused.status)
		fprintf(stderr, "godwit lab demo: %s %s: %s (HTTP %ld)\n", mc->refused.method,
			mc->refused.path, mc->refused.text, mc->refused.status);
}

struct vm_progress {
	struct demo *d;
	size_t shown;
	long long hint_at;
};

/* Each phase once; a hint when the transfer is slow to start; Ctrl-C ends the wait. */
static int vm_progress(const json_t *mig, void *arg)
{
	struct vm_progress *p = arg;

	print_new_phases(mig, &p->shown);
	if (migration_phase_name_finished(migclient_phase(mig)))
		return 0;
	if (p->hint_at && clock_mono_ms() > p->hint_at && p->shown <= 3) {
		printf("  (still Replicating: the source's agent starts the QEMU transfer; "
		       "see %s/%s/%s.log)\n",
		       LAB_ROOT, p->d->name, p->d->source);
		fflush(stdout);
		p->hint_at = 0;
	}
	return demo_interrupted ? -EINTR : 0;
}

int demo_migrate_vm(struct demo *d)
{
	struct migclient mc = {.cli = d->cli};
	struct vm_progress p = {.d = d, .hint_at = clock_mono_ms() + 15000};
	struct migclient_wait w = {.until = MIGRATION_PHASE_COUNT,
				   .interval_ms = 20,
				   .timeout_ms = MIGRATION_DEADLINE_MS,
				   .progress = vm_progress,
				   .arg = &p};
	json_t *created = NULL;
	int r;

	snprintf(d->migration, sizeof(d->migration), "demo-%lld", (long long)time(NULL));
	demo_step("migrating VM %s from %s to %s (strategy %s)", VM_NAME, d->source, d->target,
		  d->strategy);
	r = migclient_create(
	    &mc,
	    &(struct migclient_spec){
		.name = d->migration, .vm = VM_NAME, .target = d->target, .strategy = d->strategy},
	    &created);
	json_decref(created);
	if (!r)
		r = migclient_wait(&mc, d->migration, &w, &d->mig);
	say_refused(&mc);
	if (r == -ETIME || r == -EINTR) {
		fprintf(stderr, "godwit lab demo: migration %s unfinished after %d s\n",
			d->migration, MIGRATION_DEADLINE_MS / 1000);
		r = -ETIMEDOUT;
	}
	return r;
}

int demo_migrate_endpoint(struct demo *d)
{
	struct migclient mc = {.cli = d->cli};
	char out[PATH_MAX + 16];
	const char *name;
	size_t shown = 0;
	pid_t pid;
	int r, status;

	demo_step("migrating endpoint %s from %s to %s (drill: 30 ms blackout, strategy %s)",
		  SUBJECT_EP, d->source, d->target, d->strategy);
	snprintf(out, sizeof(out), "%s/drill.json", d->out);
	r = demo_spawn(NULL,
		       (const char *const[]){d->self, "--lab", d->name, "drill", SUBJECT_EP, "--to",
					     d->target, "--silence-ms", "30", "--strategy",
					     d->strategy, "--json", NULL},
		       out, NULL, &pid);
	if (r)
		return r;
	r = proc_wait_exit(pid, clock_mono_ms() + MIGRATION_DEADLINE_MS, &status);
	if (r) {
		proc_stop_pid(pid, 1000);
		fprintf(stderr, "godwit lab demo: the drill did not finish\n");
		return r;
	}
	d->drill = json_load_file(out, 0, NULL);
	name = json_string_value(json_object_get(d->drill, "migration"));
	if (!name) {
		fprintf(stderr, "godwit lab demo: the drill wrote no report (exit %d)\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	snprintf(d->migration, sizeof(d->migration), "%s", name);
	r = migclient_get(&mc, name, &d->mig);
	say_refused(&mc);
	if (r)
		return r;
	print_new_phases(d->mig, &shown);
	return 0;
}

int demo_stop_probe(struct demo *d)
{
	int status, r;

	kill(d->probe_pid, SIGINT);
	r = proc_wait_exit(d->probe_pid, clock_mono_ms() + PROBE_STOP_DEADLINE_MS, &status);
	if (r) {
		proc_stop_pid(d->probe_pid, 500);
		fprintf(stderr, "godwit lab demo: the probe did not stop on SIGINT\n");
	}
	d->probe_pid = 0;
	return r;
}

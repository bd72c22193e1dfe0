/* SPDX-License-Identifier: MIT */
/*
 * `godwit lab demo`: checks, a 3-node lab, the subject (a VM from
 * examples/testvm.yaml, or an endpoint with a TCP echo), an observer endpoint
 * probing it from the third node, the migration, the report and the picture
 * (see demo.h for what is computed and how).
 */
#include "demo.h"

#include "cli/cli.h"
#include "cli/migclient.h"
#include "lab/endpoint.h"
#include "lab/lab.h"
#include "lab/netns.h"

#include "lib/apiclient.h"
#include "lib/clock.h"
#include "lib/kinds.h"
#include "lib/phases.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BPF_FS_MAGIC	       0xcafe4a11
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

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

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
	json_t *drill, *mig;
	bool have_png;
};

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	printf("\n\033[1m==> ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\033[0m\n");
	fflush(stdout);
}

/* Sleeps ms in short slices; false when the user interrupted. */
static bool pause_ms(int ms)
{
	for (; ms > 0 && !interrupted; ms -= 20)
		proc_sleep_ms(ms < 20 ? ms : 20);
	return !interrupted;
}

static bool in_path(const char *exe)
{
	const char *path = getenv("PATH") ?: "/usr/sbin:/usr/bin:/sbin:/bin";
	char cand[PATH_MAX];

	while (*path) {
		size_t seg = strcspn(path, ":");

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)seg, path, exe);
		if (seg && access(cand, X_OK) == 0)
			return true;
		path += seg + (path[seg] == ':');
	}
	return false;
}

/* Starts argv in netns (NULL: ours), stdout to out_path, stderr to err_path
 * (NULL: ours), in its own session so a Ctrl-C reaches only us. */
static int spawn(const char *netns, const char *const *argv, const char *out_path,
		 const char *err_path, pid_t *pid)
{
	struct proc_spawn_opts o = {.netns = netns, .out = out_path, .err = err_path, .mode = 0644};

	return proc_spawn(argv, &o, pid);
}

static void show_file(const char *path, const char *what)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return;
	fprintf(stderr, "--- %s (%s) ---\n", what, path);
	while (fgets(line, sizeof(line), f) && n++ < 20)
		fputs(line, stderr);
	fclose(f);
}

/* One API call; prints what went wrong unless the status is one of want / want2. */
static int api(struct demo *d, const char *method, const char *path, json_t *body, long want,
	       long want2, json_t **reply)
{
	json_t *rep = NULL;
	long status;
	int r = cli_request(d->cli, method, path, body, &status, &rep);

	if (r)
		return r;
	if (status != want && status != want2) {
		fprintf(stderr, "godwit lab demo: %s %s: %s (HTTP %ld)\n", method, path,
			api_error_text(rep), status);
		json_decref(rep);
		return status == 404 ? -ENOENT : -EPROTO;
	}
	if (reply)
		*reply = rep;
	else
		json_decref(rep);
	return 0;
}

/* ---- step 1: what the machine must offer ---- */

static int check_free_space(const char *path, const char *what)
{
	struct statvfs st;
	unsigned long long mb;

	if (statvfs(path, &st) < 0)
		return 0; /* cannot tell: let the steps fail on their own */
	mb = (unsigned long long)st.f_bavail * st.f_frsize / (1024 * 1024);
	if (mb >= NEED_FREE_MB)
		return 0;
	fprintf(stderr,
		"godwit lab demo: only %llu MB free in %s (%s); the demo needs ~%d MB there. "
		"Free some space%s.\n",
		mb, path, what, NEED_FREE_MB,
		strcmp(what, "the output") == 0 ? " or choose another --out DIR" : "");
	return -ENOSPC;
}

static int preflight(struct demo *d)
{
	struct statfs st;
	int r = 0;

	if (!in_path("ip")) {
		fprintf(stderr, "godwit lab demo: the `ip` command (iproute2) is missing: install "
				"iproute2 (make deps)\n");
		r = -ENOENT;
	}
	if (statfs("/sys/fs/bpf", &st) != 0 || (unsigned long)st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0) {
			fprintf(
			    stderr,
			    "godwit lab demo: cannot mount bpffs on /sys/fs/bpf (%s): the "
			    "datapath pins its maps there. The kernel needs CONFIG_BPF_SYSCALL; "
			    "in a container, run it privileged.\n",
			    strerror(errno));
			r = -ENOTSUP;
		}
	}
	if (!strcmp(d->subject, "vm")) {
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr,
				"godwit lab demo: /dev/net/tun is missing or unusable (%s): the "
				"VM's tap needs it (CONFIG_TUN; `modprobe tun`), or run "
				"--subject endpoint\n",
				strerror(errno));
			r = -ENOTSUP;
		} else {
			close(fd);
		}
		if (!in_path("qemu-system-x86_64")) {
			fprintf(stderr, "godwit lab demo: qemu-system-x86_64 is not installed: the "
					"VM subject needs it (make deps), or run --subject "
					"endpoint\n");
			r = -ENOENT;
		}
	}
	if (!r)
		r = check_free_space("/run", "lab state and logs");
	if (!r)
		r = check_free_space(d->out, "the output");
	return r;
}

/* ---- step 3: the subject ---- */

static int echo_listening(const char *netns)
{
	char *out = NULL;
	bool yes;

	if (run_capture((const char *const[]){"ip", "netns", "exec", netns, "ss", "-Hltn",
					      "sport = :" ECHO_PORT, NULL},
			&out))
		return false;
	yes = strstr(out, ":" ECHO_PORT) != NULL;
	free(out);
	return yes;
}

static int subject_endpoint(struct demo *d)
{
	char ns[96], log[PATH_MAX + 16], path[96];
	const char *node = "node-1";
	json_t *body, *port = NULL;
	long long deadline;
	int r;

	snprintf(d->network, sizeof(d->network), DEMO_NETWORK);
	step("creating network %s (%s) and endpoint %s on %s with a TCP echo on port %s",
	     DEMO_NETWORK, DEMO_CIDR, SUBJECT_EP, node, ECHO_PORT);
	body = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "godwit/v1", "kind",
			 kind_str(KIND_NETWORK), "metadata", "name", DEMO_NETWORK, "spec", "cidr",
			 DEMO_CIDR);
	r = api(d, "POST", "/v1/networks", body, 201, 200, NULL);
	json_decref(body);
	if (!r)
		r = endpoint_add(d->cli, d->name, SUBJECT_EP, d->network, node);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/v1/ports/%s", SUBJECT_EP);
	r = api(d, "GET", path, NULL, 200, 200, &port);
	if (r)
		return r;
	snprintf(d->ip, sizeof(d->ip), "%s",
		 json_string_value(json_object_get(json_object_get(port, "spec"), "ipv4")) ?: "");
	json_decref(port);
	snprintf(d->source, sizeof(d->source), "%s", node);

	snprintf(ns, sizeof(ns), "%s-ep-%s", d->name, SUBJECT_EP);
	snprintf(log, sizeof(log), "%s/echo.log", d->out);
	r = spawn(ns, (const char *const[]){d->self, "probe", "--serve", "--port", ECHO_PORT, NULL},
		  log, log, &d->echo_pid);
	if (r) {
		fprintf(stderr, "godwit lab demo: cannot start the echo service: %s\n",
			strerror(-r));
		return r;
	}
	deadline = clock_mono_ms() + ECHO_DEADLINE_MS;
	while (!echo_listening(ns)) {
		if (!proc_pid_alive(d->echo_pid) || clock_mono_ms() > deadline || interrupted) {
			fprintf(stderr,
				"godwit lab demo: the TCP echo in %s is not listening on port "
				"%s (is the port in use?)\n",
				ns, ECHO_PORT);
			show_file(log, "echo service output");
			return -EIO;
		}
		proc_sleep_ms(50);
	}
	printf("endpoint %s (%s) answers TCP echo on port %s\n", SUBJECT_EP, d->ip, ECHO_PORT);
	return 0;
}

/* examples/testvm.yaml: in the current directory, or next to the build/install tree. */
static int find_manifest(const struct demo *d, char *out, size_t len)
{
	char dir[PATH_MAX];
	const char *rel[] = {"%s/../examples/testvm.yaml", "%s/../../examples/testvm.yaml",
			     "%s/../share/godwit/examples/testvm.yaml"};

	if (access("examples/testvm.yaml", R_OK) == 0 && realpath("examples/testvm.yaml", out))
		return 0;
	snprintf(dir, sizeof(dir), "%s", d->self);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX * 2];

		snprintf(cand, sizeof(cand), rel[i], dirname(dir));
		snprintf(dir, sizeof(dir), "%s", d->self);
		if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len)
			return 0;
	}
	fprintf(stderr, "godwit lab demo: cannot find examples/testvm.yaml (looked in the current "
			"directory and next to godwit); run it from the source tree\n");
	return -ENOENT;
}

static int subject_vm(struct demo *d)
{
	static const struct cli_verb apply_verb = {"apply", cmd_apply, "", "apply -f FILE|-"};
	char manifest[PATH_MAX], last[32] = "";
	char *argv[] = {"apply", "-f", manifest, NULL};
	long long start, deadline;
	json_t *vm = NULL;
	int r;

	r = find_manifest(d, manifest, sizeof(manifest));
	if (r)
		return r;
	step("applying %s (a KubeVirt VirtualMachine) and waiting for it to boot", manifest);
	if (cmd_apply(d->cli, &apply_verb, 3, argv))
		return -EIO;
	start = clock_mono_ms();
	deadline = start + VM_READY_DEADLINE_MS;
	for (;;) {
		const json_t *st;
		const char *phase;

		json_decref(vm);
		vm = NULL;
		r = api(d, "GET", "/v1/vms/" VM_NAME, NULL, 200, 200, &vm);
		if (r)
			return r;
		st = json_object_get(vm, "status");
		phase = json_string_value(json_object_get(st, "phase")) ?: "?";
		if (strcmp(phase, last)) {
			printf("  %-10s +%.1f s\n", phase,
			       (double)(clock_mono_ms() - start) / 1000);
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", phase);
		}
		if (vm_phase_is(phase, VM_PHASE_RUNNING) &&
		    !json_is_false(json_object_get(st, "ready")))
			break;
		if (vm_phase_is(phase, VM_PHASE_FAILED)) {
			fprintf(stderr, "godwit lab demo: VM %s failed: %s\n", VM_NAME,
				json_string_value(json_object_get(st, "reason")) ?: "(no reason)");
			r = -EIO;
			goto cleanup;
		}
		if (clock_mono_ms() > deadline || interrupted) {
			fprintf(stderr,
				"godwit lab demo: VM %s not running and ready after %d s "
				"(phase %s); see the node logs in %s/logs\n",
				VM_NAME, VM_READY_DEADLINE_MS / 1000, phase, d->out);
			r = -ETIMEDOUT;
			goto cleanup;
		}
		proc_sleep_ms(100);
	}
	snprintf(d->ip, sizeof(d->ip), "%s",
		 json_string_value(json_object_get(json_object_get(vm, "status"), "ipv4")) ?: "");
	snprintf(d->source, sizeof(d->source), "%s",
		 json_string_value(json_object_get(json_object_get(vm, "status"), "node"))
			 ?: json_string_value(json_object_get(json_object_get(vm, "spec"), "node"))
			 ?: "node-1");
	snprintf(d->network, sizeof(d->network), "%s",
		 json_string_value(json_object_get(json_object_get(vm, "spec"), "network"))
		     ?: "default");
	printf("VM %s is running and ready on %s after %.1f s (%s)\n", VM_NAME, d->source,
	       (double)(clock_mono_ms() - start) / 1000, d->ip);
cleanup:
	json_decref(vm);
	return r;
}

/* ---- step 4: the observer ---- */

static int start_observer(struct demo *d)
{
	char ns[96], rate[24], duration[24], err[PATH_MAX + 16];
	int r;

	step("observer endpoint on %s probing %s: ICMP at %lu/s and a TCP stream to port %s",
	     d->observer, d->ip, d->rate, ECHO_PORT);
	r = endpoint_add(d->cli, d->name, OBSERVER_EP, d->network, d->observer);
	if (r)
		return r;
	snprintf(ns, sizeof(ns), "%s-ep-%s", d->name, OBSERVER_EP);
	snprintf(rate, sizeof(rate), "%lu", d->rate);
	/* until we stop it with SIGINT; bounded by the probe's memory cap */
	snprintf(duration, sizeof(duration), "%lu", d->rate > 5000 ? 20000000UL / d->rate : 3600UL);
	snprintf(err, sizeof(err), "%s/probe.err", d->out);
	r = spawn(ns,
		  (const char *const[]){d->self, "probe", d->ip, "--rate", rate, "--tcp", ECHO_PORT,
					"--json", "--record", d->probe_csv, "--duration", duration,
					NULL},
		  d->probe_json, err, &d->probe_pid);
	if (r) {
		fprintf(stderr, "godwit lab demo: cannot start the probe: %s\n", strerror(-r));
		return r;
	}
	if (!pause_ms(PROBE_BASELINE_MS))
		return -EINTR;
	if (!proc_pid_alive(d->probe_pid)) {
		fprintf(stderr, "godwit lab demo: the probe stopped at once\n");
		show_file(err, "probe errors");
		d->probe_pid = 0;
		return -EIO;
	}
	printf("probing for %.1f s before the migration\n", PROBE_BASELINE_MS / 1000.0);
	return 0;
}

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
	return interrupted ? -EINTR : 0;
}

static int migrate_vm(struct demo *d)
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
	step("migrating VM %s from %s to %s (strategy %s)", VM_NAME, d->source, d->target,
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

static int migrate_endpoint(struct demo *d)
{
	struct migclient mc = {.cli = d->cli};
	char out[PATH_MAX + 16];
	const char *name;
	size_t shown = 0;
	pid_t pid;
	int r, status;

	step("migrating endpoint %s from %s to %s (drill: 30 ms blackout, strategy %s)", SUBJECT_EP,
	     d->source, d->target, d->strategy);
	snprintf(out, sizeof(out), "%s/drill.json", d->out);
	r = spawn(NULL,
		  (const char *const[]){d->self, "--lab", d->name, "drill", SUBJECT_EP, "--to",
					d->target, "--silence-ms", "30", "--strategy", d->strategy,
					"--json", NULL},
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

/* ---- step 6-8: results ---- */

static int stop_probe(struct demo *d)
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

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_outputs(struct demo *d)
{
	char path[PATH_MAX + 32], when[32], *csv = NULL;
	struct demo_sample *samples = NULL;
	size_t n = 0, len;
	struct utsname un;
	json_t *probe, *rep = NULL;
	FILE *f;
	int r;

	probe = json_load_file(d->probe_json, 0, NULL);
	if (!probe) {
		fprintf(stderr, "godwit lab demo: the probe wrote no report\n");
		snprintf(path, sizeof(path), "%s/probe.err", d->out);
		show_file(path, "probe errors");
		return -EIO;
	}
	r = read_input(d->probe_csv, &csv, &len);
	if (!r && (r = demo_parse_csv(csv, &samples, &n)))
		fprintf(stderr, "godwit lab demo: %s is not the probe's record\n", d->probe_csv);
	if (r)
		goto cleanup;
	snprintf(path, sizeof(path), "%s/migration.json", d->out);
	json_dump_file(d->mig, path, JSON_INDENT(2)); /* the raw record, for the curious */
	iso_now(when, sizeof(when));
	uname(&un);
	r = demo_report(&(struct demo_inputs){.subject = d->subject,
					      .probe = probe,
					      .samples = samples,
					      .n_samples = n,
					      .migration = d->mig,
					      .drill = d->drill,
					      .grace_ms = PROBE_GRACE_MS,
					      .generated_at = when,
					      .cores = (int)sysconf(_SC_NPROCESSORS_ONLN),
					      .kernel = un.release},
			&rep);
	if (r) {
		fprintf(stderr, "godwit lab demo: migration %s recorded no phases\n", d->migration);
		goto cleanup;
	}
	snprintf(path, sizeof(path), "%s/report.json", d->out);
	if (json_dump_file(rep, path, JSON_INDENT(2)) < 0) {
		fprintf(stderr, "godwit lab demo: cannot write %s\n", path);
		r = -EIO;
		goto cleanup;
	}
	snprintf(path, sizeof(path), "%s/timeline.svg", d->out);
	f = fopen(path, "we");
	r = f ? demo_timeline_svg(f, rep, samples, n) : -errno;
	if (f && fclose(f) == EOF && !r)
		r = -EIO;
	if (r) {
		fprintf(stderr, "godwit lab demo: cannot write %s: %s\n", path, strerror(-r));
		goto cleanup;
	}
	{
		char png[PATH_MAX + 32];

		snprintf(png, sizeof(png), "%s/timeline.png", d->out);
		if (in_path("rsvg-convert"))
			d->have_png =
			    run_cmd((const char *const[]){"rsvg-convert", "-o", png, path, NULL},
				    true) == 0;
		else if (in_path("convert"))
			d->have_png =
			    run_cmd((const char *const[]){"convert", path, png, NULL}, true) == 0;
	}
	demo_print_report(stdout, rep, d->out, d->have_png);
	if (json_is_true(json_object_get(rep, "migration_failed"))) {
		fprintf(stderr,
			"godwit lab demo: the guest stopped answering after the migration "
			"(its console: %s/logs)\n",
			d->out);
		r = -EPROTO;
	}
cleanup:
	json_decref(rep);
	json_decref(probe);
	free(samples);
	free(csv);
	return r;
}

/* The lab's daemon logs into OUT/logs (the lab directory goes with the lab). */
static void save_logs(const struct demo *d)
{
	char src[PATH_MAX + 300], dst[PATH_MAX + 300], dir[PATH_MAX + 16];
	struct dirent *de;
	DIR *dp;

	snprintf(src, sizeof(src), "%s/%s", LAB_ROOT, d->name);
	dp = opendir(src);
	if (!dp)
		return;
	snprintf(dir, sizeof(dir), "%s/logs", d->out);
	mkdir(dir, 0755);
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".log"))
			continue;
		snprintf(src, sizeof(src), "%s/%s/%s", LAB_ROOT, d->name, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dir, de->d_name);
		run_cmd((const char *const[]){"cp", src, dst, NULL}, true);
	}
	closedir(dp);
}

static int bring_up(struct demo *d)
{
	char ul[32], log[PATH_MAX + 16], dir[PATH_MAX];
	long long t = clock_mono_ms();
	int saved, fd, r;

	snprintf(ul, sizeof(ul), "%s-ul", d->name);
	snprintf(dir, sizeof(dir), "%s/%s", LAB_ROOT, d->name);
	if (proc_netns_exists(ul) || access(dir, F_OK) == 0) {
		step("a lab named %s is left over from an earlier run: taking it down", d->name);
		lab_down(d->name, true);
	}
	step("bringing up a 3-node lab %s (a controller and an agent per node)", d->name);
	/* lab up's own chatter goes to a log; its errors still reach stderr */
	snprintf(log, sizeof(log), "%s/lab-up.log", d->out);
	fflush(stdout);
	saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && saved >= 0)
		dup2(fd, STDOUT_FILENO);
	r = lab_up(d->name, 3);
	fflush(stdout);
	if (fd >= 0 && saved >= 0)
		dup2(saved, STDOUT_FILENO);
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	if (r) {
		fprintf(stderr, "godwit lab demo: the lab did not come up (its output: %s)\n", log);
		return r;
	}
	printf("lab %s is up: node-1, node-2, node-3 in %.1f s\n", d->name,
	       (double)(clock_mono_ms() - t) / 1000);
	return 0;
}

static void pick_nodes(struct demo *d)
{
	const char *nodes[] = {"node-1", "node-2", "node-3"};
	size_t k = 0;

	d->target[0] = d->observer[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(nodes[i], d->source))
			continue;
		snprintf(k++ ? d->observer : d->target, 32, "%s", nodes[i]);
	}
}

static int run_demo(struct demo *d)
{
	int r;

	r = bring_up(d);
	if (r)
		return r;
	d->cli->cfg.flag_lab = d->name;
	r = !strcmp(d->subject, "vm") ? subject_vm(d) : subject_endpoint(d);
	if (r)
		return r;
	pick_nodes(d);
	r = start_observer(d);
	if (r)
		return r;
	r = !strcmp(d->subject, "vm") ? migrate_vm(d) : migrate_endpoint(d);
	if (r)
		return r;
	step("migration %s: %s; probing %.1f s more", d->migration,
	     json_string_value(json_object_get(json_object_get(d->mig, "status"), "phase")) ?: "?",
	     PROBE_TAIL_MS / 1000.0);
	if (!pause_ms(PROBE_TAIL_MS))
		return -EINTR;
	r = stop_probe(d);
	if (r)
		return r;
	step("results (%s)", d->out);
	r = write_outputs(d);
	if (!r && !migration_phase_name_finished(migclient_phase(d->mig)))
		r = -EPROTO;
	else if (!r && !migration_phase_is(json_string_value(json_object_get(
					       json_object_get(d->mig, "status"), "phase")),
					   MIGRATION_SUCCEEDED)) {
		fprintf(
		    stderr, "godwit lab demo: the migration ended %s: %s\n",
		    json_string_value(json_object_get(json_object_get(d->mig, "status"), "phase")),
		    json_string_value(json_object_get(json_object_get(d->mig, "status"), "reason"))
			?: "");
		r = -EPROTO;
	}
	return r;
}

static const char demo_usage[] =
    "usage: godwit lab demo [--name LAB] [--out DIR] [--keep] [--subject vm|endpoint]\n"
    "                       [--rate HZ] [--strategy first-frame|rarp]\n"
    "A 3-node lab, a live migration measured by a probe from a third node,\n"
    "OUT/report.json and OUT/timeline.svg (defaults: --name demo --out ./demo-out\n"
    "--subject vm --rate 1000 --strategy first-frame). The lab is taken down at the\n"
    "end unless --keep.\n";

int lab_demo(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
	    {"keep", no_argument, NULL, 'k'},	    {"subject", required_argument, NULL, 's'},
	    {"rate", required_argument, NULL, 'r'}, {"strategy", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},	    {0}};
	struct demo d = {.cli = cli,
			 .name = "demo",
			 .subject = "vm",
			 .strategy = strategy_names[STRATEGY_FIRST_FRAME],
			 .rate = 1000};
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	const char *out = "demo-out";
	char *end;
	ssize_t n;
	int opt, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":n:o:ks:r:S:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(demo_usage, stdout);
			return 0;
		case 'n':
			d.name = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			d.keep = true;
			break;
		case 's':
			d.subject = optarg;
			break;
		case 'r':
			errno = 0;
			d.rate = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || d.rate < 1 || d.rate > 100000) {
				fprintf(stderr,
					"godwit lab demo: --rate '%s': expected 1..100000\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'S':
			d.strategy = optarg;
			break;
		default:
			return cli_bad_flag(verb, opt, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "godwit lab demo: unexpected argument '%s'\n%s", argv[optind],
			demo_usage);
		return EXIT_USAGE;
	}
	if (strcmp(d.subject, "vm") && strcmp(d.subject, "endpoint")) {
		fprintf(stderr, "godwit lab demo: --subject '%s': expected vm or endpoint\n",
			d.subject);
		return EXIT_USAGE;
	}
	if (strategy_parse(d.strategy, &(enum strategy){0}) < 0) {
		fprintf(stderr, "godwit lab demo: --strategy '%s': expected first-frame or rarp\n",
			d.strategy);
		return EXIT_USAGE;
	}
	if (lab_check_name(d.name))
		return EXIT_USAGE;
	if (strlen(d.name) > LAB_NAME_MAX - 3) {
		/* LAB-ep-observer must stay a valid netns/device-friendly name */
		fprintf(stderr, "godwit lab demo: --name '%s': at most %d characters\n", d.name,
			LAB_NAME_MAX - 3);
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "godwit lab demo: must run as root (it creates network namespaces "
				"and loads eBPF programs); try: sudo godwit lab demo\n");
		return 1;
	}
	if (proc_mkdir_p(out, 0755) < 0) {
		fprintf(stderr, "godwit lab demo: cannot create --out %s: %s\n", out,
			strerror(errno));
		return 1;
	}
	if (!realpath(out, d.out)) {
		fprintf(stderr, "godwit lab demo: --out %s: %s\n", out, strerror(errno));
		return 1;
	}
	n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1);
	if (n <= 0) {
		fprintf(stderr, "godwit lab demo: cannot find my own executable\n");
		return 1;
	}
	d.self[n] = '\0';
	snprintf(d.probe_csv, sizeof(d.probe_csv), "%s/probe.csv", d.out);
	snprintf(d.probe_json, sizeof(d.probe_json), "%s/probe.json", d.out);
	for (size_t i = 0; i < 5; i++) { /* no stale results from an earlier run */
		char stale[PATH_MAX + 16];

		snprintf(stale, sizeof(stale), "%s/%s", d.out,
			 (const char *[]){"report.json", "timeline.svg", "timeline.png",
					  "probe.csv", "drill.json"}[i]);
		unlink(stale);
	}

	step("checking this machine (root, bpffs, %sdisk space)",
	     strcmp(d.subject, "vm") ? "" : "/dev/net/tun, qemu, ");
	r = preflight(&d);
	if (r)
		return 1;

	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	r = run_demo(&d);
	if (interrupted)
		fprintf(stderr, "\ngodwit lab demo: interrupted\n");
	if (d.probe_pid > 0)
		proc_stop_pid(d.probe_pid, 500);
	if (d.echo_pid > 0)
		proc_stop_pid(d.echo_pid, 500);
	save_logs(&d);
	if (d.keep) {
		printf("\nthe lab stays up (--keep): godwit --lab %s get ports; "
		       "godwit lab down --name %s\n",
		       d.name, d.name);
	} else {
		step("tearing the lab down");
		if (lab_down(d.name, true) == 0)
			printf("lab %s removed\n", d.name);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	json_decref(d.drill);
	json_decref(d.mig);
	if (r)
		fprintf(stderr, "godwit lab demo: failed%s; the daemons' logs are in %s/logs\n",
			r == -EINTR ? " (interrupted)" : "", d.out);
	return r ? 1 : 0;
}

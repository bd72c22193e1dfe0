/* SPDX-License-Identifier: MIT */
/* Live-migration primitives over QMP, and the events that mark them. */
#include "agent/vm_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/handoff.h"
#include "lib/log.h"

static bool migration_ended(const char *status)
{
	return strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
	       strcmp(status, "cancelled") == 0;
}

static uint64_t u64_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

void vm_migration_from_json(const json_t *info, struct vm_migration *mig)
{
	const char *status = json_string_value(json_object_get(info, "status"));
	const char *err = json_string_value(json_object_get(info, "error-desc"));
	const json_t *ram = json_object_get(info, "ram");

	if (status)
		snprintf(mig->status, sizeof(mig->status), "%s", status);
	if (ram) {
		mig->transferred = u64_at(ram, "transferred");
		mig->remaining = u64_at(ram, "remaining");
		mig->dirty_rate = u64_at(ram, "dirty-pages-rate");
	}
	if (json_object_get(info, "total-time"))
		mig->total_ms = u64_at(info, "total-time");
	if (json_object_get(info, "downtime"))
		mig->downtime_ms = u64_at(info, "downtime");
	if (err)
		snprintf(mig->error, sizeof(mig->error), "%s", err);
}

/* The incoming side has the whole guest: from now on it is an ordinary VM
 * of this node (it may migrate on). RESUME sets its phase. */
static void incoming_done(struct vm *v)
{
	char path[PATH_MAX + 16];

	v->incoming_run = false;
	v->incoming_uri[0] = '\0';
	/* The incoming side's view of the transfer is not a figure of the
	 * next migration, where this node is the source. */
	memset(&v->mig, 0, sizeof(v->mig));
	snprintf(path, sizeof(path), "%s/incoming_uri", v->rundir);
	unlink(path);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Zero-loss handoff (bpf/abi.h): the source QEMU stopped for the last phase
 * of our transfer, so frames for the VM go on to the target from now on; a
 * RESUME here afterwards means the migration failed late: take them back. */
static void handoff_on_event(struct vm_manager *m, struct vm *v, enum vm_event e)
{
	bool on = e == VM_EV_STOP;
	int r;

	if (!m->cfg.handoff || (on ? !v->mig.active || v->handoff : !v->handoff))
		return;
	r = m->cfg.handoff(m->cfg.handoff_ctx, v->want.ifname, v->tap_fd, on);
	if (r < 0) {
		log_warn_errno(r, "vm %s: cannot %s the handoff of port %s", v->name,
			       on ? "start" : "end", v->want.ifname);
		return;
	}
	v->handoff = on;
	if (on) {
		v->ev_qemu[VM_EV_HANDOFF] = v->ev_recv[VM_EV_HANDOFF] = realtime_ns();
		v->handoff_drained = (unsigned int)r;
		log_info("vm %s: port %s handed off to the target (%d frames from its tap)",
			 v->name, v->want.ifname, r);
	} else {
		log_info("vm %s: port %s taken back (the VM runs here again)", v->name,
			 v->want.ifname);
	}
}

void vm_tap_release(struct vm *v)
{
	if (v->tap_fd >= 0)
		close(v->tap_fd);
	v->tap_fd = -1;
}

/* The guest rebooted itself (its kernel runs with panic=-1, so a panic is
 * one too): said loudly, counted, and the ready line is awaited again. Its
 * console up to here is kept when the QEMU goes (vm_supervise.c). */
static void guest_reset(struct vm_manager *m, struct vm *v, const struct qmp_event *ev)
{
	const char *why = json_string_value(json_object_get(ev->data, "reason"));

	v->guest_resets++;
	v->ready = false;
	log_warn("vm %s: the guest reset itself (%s): it reboots, its connections are gone",
		 v->name, why ? why : "no reason given");
	vm_kick(m);
}

void vm_on_event(const struct qmp_event *ev, void *ctx)
{
	static const char *const names[3] = {"STOP", "RESUME", "MIGRATION"};
	struct vm *v = ctx;
	struct vm_manager *m = v->mgr;
	int i;

	if (strcmp(ev->name, "RESET") == 0)
		return guest_reset(m, v, ev);
	for (i = 0; i < 3 && strcmp(ev->name, names[i]) != 0; i++)
		;
	if (i == 3)
		return;
	if (i != VM_EV_MIGRATION)
		handoff_on_event(m, v, (enum vm_event)i); /* first: every µs counts */
	v->ev_qemu[i] = ev->qemu_ns ? ev->qemu_ns : ev->recv_ns;
	v->ev_recv[i] = ev->recv_ns;
	log_info("vm %s: %s%s%s at %llu ns (received %+.3f ms later)", v->name, ev->name,
		 i == 2 ? " " : "",
		 i == 2 ? json_string_value(json_object_get(ev->data, "status")) ?: "?" : "",
		 (unsigned long long)v->ev_qemu[i],
		 ((double)ev->recv_ns - (double)v->ev_qemu[i]) / 1e6);
	if (i == 1 && v->phase == VM_INCOMING) {
		/* The target took over: the guest was ready on the source. */
		v->ready = true;
		vm_set_phase(m, v, VM_RUNNING, NULL);
	} else if (i == 2) {
		const char *st = json_string_value(json_object_get(ev->data, "status"));

		/* A transfer of ours ends by the poll it triggers: its report then
		 * carries QEMU's final figures (downtime) with the status. */
		if (st && !(v->mig.active && migration_ended(st))) {
			snprintf(v->mig.status, sizeof(v->mig.status), "%s", st);
			v->mig.known = true;
		}
		if (st && migration_ended(st) && v->mig.active)
			v->next_migrate_poll = 0; /* the final figures, at the next step */
		if (st && strcmp(st, "completed") == 0 && v->incoming_run)
			incoming_done(v);
		else if (st && strcmp(st, "completed") == 0)
			vm_set_phase(m, v, VM_STOPPED, "migrated to the target");
	}
	vm_kick(m);
}

void vm_migrate_poll(struct vm_manager *m, struct vm *v)
{
	json_t *info = NULL;
	int r;

	if (!v->qmp)
		return;
	r = qmp_execute(v->qmp, "query-migrate", NULL, &info, VM_QMP_TIMEOUT_MS);
	if (r < 0) {
		log_warn("vm %s: query-migrate: %s", v->name, qmp_error(v->qmp));
		return;
	}
	vm_migration_from_json(info, &v->mig);
	json_decref(info);
	if (!migration_ended(v->mig.status)) {
		vm_kick(m); /* the progress goes to the controller */
	} else {
		v->mig.active = false;
		vm_tap_release(v);
		log_info("vm %s: migration %s: %llu bytes in %llu ms, downtime %llu ms%s%s",
			 v->name, v->mig.status, (unsigned long long)v->mig.transferred,
			 (unsigned long long)v->mig.total_ms,
			 (unsigned long long)v->mig.downtime_ms, v->mig.error[0] ? ": " : "",
			 v->mig.error);
		vm_kick(m);
	}
}

static int set_events_capability(struct vm *v)
{
	json_t *args =
	    json_pack("{s:[{s:s, s:b}]}", "capabilities", "capability", "events", "state", 1);
	int r;

	if (!args)
		return -ENOMEM;
	r = qmp_execute(v->qmp, "migrate-set-capabilities", args, NULL, VM_QMP_TIMEOUT_MS);
	json_decref(args);
	return r;
}

static int exec_logged(struct vm *v, const char *cmd, json_t *args)
{
	int r;

	if (!args)
		return -ENOMEM;
	r = qmp_execute(v->qmp, cmd, args, NULL, VM_QMP_TIMEOUT_MS);
	json_decref(args);
	if (r < 0)
		log_warn("vm %s: %s: %s", v->name, cmd, qmp_error(v->qmp));
	return r;
}

int vm_migrate_start(struct vm_manager *m, const char *name, const char *uri,
		     const struct vm_migrate_params *p)
{
	uint32_t downtime = p && p->downtime_ms ? p->downtime_ms : VM_DEFAULT_DOWNTIME_MS;
	uint64_t bw = p ? p->max_bandwidth : 0;
	struct vm *v;
	int r;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v || !v->qmp || v->phase != VM_RUNNING || v->incoming_run) {
		r = -ENOENT;
		goto cleanup;
	}
	if (v->mig.active) {
		r = -EBUSY;
		goto cleanup;
	}
	r = set_events_capability(v);
	if (r < 0) {
		log_warn("vm %s: migrate-set-capabilities: %s", v->name, qmp_error(v->qmp));
		goto cleanup;
	}
	r = exec_logged(v, "migrate-set-parameters",
			json_pack("{s:I, s:I}", "downtime-limit", (json_int_t)downtime,
				  "max-bandwidth", (json_int_t)bw));
	if (r < 0)
		goto cleanup;
	memset(&v->mig, 0, sizeof(v->mig));
	vm_tap_release(v);
	v->tap_fd = handoff_tap_fd(v->pid, v->want.ifname);
	if (v->tap_fd < 0) {
		log_warn_errno(v->tap_fd, "vm %s: QEMU's tap %s not found: no drain at the handoff",
			       v->name, v->want.ifname);
		v->tap_fd = -1;
	}
	v->handoff_drained = 0;
	v->mig.known = true;
	v->mig.active = true;
	snprintf(v->mig.status, sizeof(v->mig.status), "setup");
	v->ev_qemu[VM_EV_STOP] = v->ev_recv[VM_EV_STOP] = 0;
	v->ev_qemu[VM_EV_RESUME] = v->ev_recv[VM_EV_RESUME] = 0;
	v->ev_qemu[VM_EV_HANDOFF] = v->ev_recv[VM_EV_HANDOFF] = 0;
	r = exec_logged(v, "migrate", json_pack("{s:s}", "uri", uri));
	if (r < 0) {
		v->mig.active = false;
		vm_tap_release(v);
		snprintf(v->mig.status, sizeof(v->mig.status), "failed");
		snprintf(v->mig.error, sizeof(v->mig.error), "%s",
			 v->qmp ? qmp_error(v->qmp) : "QMP gone");
		goto cleanup;
	}
	log_info("vm %s: migrating to %s (downtime-limit %u ms, max-bandwidth %llu B/s)", name, uri,
		 downtime, (unsigned long long)bw);
	v->next_migrate_poll = 0;
	vm_kick(m);
cleanup:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int vm_migrate_cancel(struct vm_manager *m, const char *name)
{
	struct vm *v;
	int r;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v || !v->qmp)
		r = -ENOENT;
	else
		r = exec_logged(v, "migrate_cancel", json_object());
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* A TCP port on ip that is free now (QEMU binds it right after). */
static int free_port(const char *ip, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, r = 0;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		*port = ntohs(sa.sin_port);
	return r;
}

/* RUNDIR/incoming_uri: an agent that adopts a listening QEMU reports it
 * again (QEMU refuses a second migrate-incoming). */
void vm_incoming_uri_save(const struct vm *v)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/incoming_uri", v->rundir);
	f = fopen(path, "we");
	if (!f || fprintf(f, "%s\n", v->incoming_uri) < 0)
		log_warn("vm %s: cannot write %s", v->name, path);
	if (f)
		fclose(f);
}

void vm_incoming_uri_load(struct vm *v)
{
	char path[PATH_MAX + 16], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/incoming_uri", v->rundir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && strncmp(buf, "tcp:", 4) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(v->incoming_uri, sizeof(v->incoming_uri), "%s", buf);
	}
	fclose(f);
}

int vm_incoming_prepare_locked(struct vm_manager *m, struct vm *v, const char *ip)
{
	char uri[64];
	uint16_t port = 0;
	int r;

	if (v->incoming_uri[0])
		return 0;
	r = free_port(ip, &port);
	if (r < 0)
		return log_warn_errno(r, "vm %s: no free TCP port on %s", v->name, ip);
	snprintf(uri, sizeof(uri), "tcp:%s:%u", ip, port);
	if (set_events_capability(v) < 0)
		log_warn("vm %s: migrate-set-capabilities: %s", v->name, qmp_error(v->qmp));
	r = exec_logged(v, "migrate-incoming", json_pack("{s:s}", "uri", uri));
	if (r < 0)
		return r;
	snprintf(v->incoming_uri, sizeof(v->incoming_uri), "%s", uri);
	vm_incoming_uri_save(v);
	r = handoff_prime(v->want.ifname, v->want.mac);
	if (r < 0)
		log_warn_errno(r,
			       "vm %s: no primer frame in tap %s (the first handed-off frame "
			       "may be lost)",
			       v->name, v->want.ifname);
	log_info("vm %s: waiting for the migration on %s", v->name, uri);
	vm_kick(m);
	return 0;
}

int vm_incoming_prepare(struct vm_manager *m, const char *name, const char *ip, char *uri,
			size_t len)
{
	struct vm *v;
	int r;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v || !v->qmp || !v->incoming_run || v->phase != VM_INCOMING) {
		r = -ENOENT;
		goto cleanup;
	}
	r = vm_incoming_prepare_locked(m, v, ip ? ip : m->underlay_ip);
	if (r == 0 && strlen(v->incoming_uri) >= len)
		r = -ENOSPC;
	if (r == 0)
		strcpy(uri, v->incoming_uri);
cleanup:
	pthread_mutex_unlock(&m->lock);
	return r;
}

static void state_of(const struct vm *v, struct vm_migrate_state *out)
{
	memset(out, 0, sizeof(*out));
	out->known = v->mig.known;
	out->active = v->mig.active;
	snprintf(out->status, sizeof(out->status), "%s", v->mig.status);
	snprintf(out->error, sizeof(out->error), "%s", v->mig.error);
	snprintf(out->run_state, sizeof(out->run_state), "%s",
		 v->phase == VM_RUNNING ? "running" : vm_phase_name(v->phase));
}

int vm_migrate_state(struct vm_manager *m, const char *name, struct vm_migrate_state *out)
{
	struct vm *v;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (v)
		state_of(v, out);
	else
		r = -ENOENT;
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* query-migrate into v->mig; "none" (no migration ever) counts as ended. */
static bool transfer_ended(struct vm *v)
{
	json_t *info = NULL;

	if (qmp_execute(v->qmp, "query-migrate", NULL, &info, VM_QMP_TIMEOUT_MS) < 0)
		return true; /* QEMU does not answer: nothing to wait for */
	if (!json_object_get(info, "status")) {
		json_decref(info);
		return true;
	}
	vm_migration_from_json(info, &v->mig);
	json_decref(info);
	return migration_ended(v->mig.status) || strcmp(v->mig.status, "none") == 0;
}

static void sleep_unlocked(struct vm_manager *m, int ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

	pthread_mutex_unlock(&m->lock);
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&m->lock);
}

int vm_migrate_recover(struct vm_manager *m, const char *name, struct vm_migrate_state *out)
{
	int64_t deadline = vm_now_ms() + 3000;
	json_t *st = NULL;
	const char *run;
	struct vm *v;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v || !v->qmp || v->incoming_run) {
		r = -ENOENT;
		goto cleanup;
	}
	if (!transfer_ended(v)) {
		log_info("vm %s: cancelling the migration (%s)", name, v->mig.status);
		exec_logged(v, "migrate_cancel", json_object());
	}
	/* The manager may drop v while the lock is released: look it up again. */
	while (v && v->qmp && !transfer_ended(v) && vm_now_ms() < deadline) {
		sleep_unlocked(m, 50);
		v = vm_find(m, name);
	}
	if (!v || !v->qmp) {
		r = -ENOENT;
		goto cleanup;
	}
	v->mig.active = false;
	vm_tap_release(v);
	r = qmp_execute(v->qmp, "query-status", NULL, &st, VM_QMP_TIMEOUT_MS);
	if (r < 0) {
		log_warn("vm %s: query-status: %s", name, qmp_error(v->qmp));
		goto cleanup;
	}
	run = json_string_value(json_object_get(st, "status")) ?: "?";
	if (strcmp(run, "running") != 0) {
		log_info("vm %s: the guest is %s after the migration ended %s: cont", name, run,
			 v->mig.status);
		r = exec_logged(v, "cont", json_object());
		if (r < 0)
			goto cleanup;
	}
	vm_set_phase(m, v, VM_RUNNING, NULL);
	vm_kick(m);
	if (out) {
		state_of(v, out);
		snprintf(out->run_state, sizeof(out->run_state), "%s", run);
	}
cleanup:
	json_decref(st);
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* SPDX-License-Identifier: MIT */
/* The source side of a live migration (vm.h "Live migration"). */
#include "agent/vm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/handoff.h"
#include "agent/migsock.h"
#include "lib/log.h"

#define OUTGOING_RECORD "outgoing"
#define QEMU_FDNAME	"godwit-migration"

static bool ended(const char *status)
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

void vm_outgoing_from_json(const json_t *info, struct vm_outgoing *out)
{
	const char *status = json_string_value(json_object_get(info, "status"));
	const char *err = json_string_value(json_object_get(info, "error-desc"));
	const json_t *ram = json_object_get(info, "ram");

	if (status)
		snprintf(out->status, sizeof(out->status), "%s", status);
	if (ram) {
		out->transferred = u64_at(ram, "transferred");
		out->remaining = u64_at(ram, "remaining");
		out->total = u64_at(ram, "total");
		out->dirty_rate = u64_at(ram, "dirty-pages-rate");
	}
	if (json_object_get(info, "total-time"))
		out->total_ms = u64_at(info, "total-time");
	if (json_object_get(info, "downtime"))
		out->downtime_ms = u64_at(info, "downtime");
	if (err)
		snprintf(out->error, sizeof(out->error), "%s", err);
}

static void close_sock(struct vm *v)
{
	if (v->out.sock >= 0)
		close(v->out.sock);
	v->out.sock = -1;
}

void vm_outgoing_reset(struct vm *v, const char *migration)
{
	char declined[sizeof(v->out.declined)];

	close_sock(v);
	snprintf(declined, sizeof(declined), "%s", v->out.declined);
	memset(&v->out, 0, sizeof(v->out));
	v->out.sock = -1;
	snprintf(v->out.declined, sizeof(v->out.declined), "%s", declined);
	snprintf(v->out.migration, sizeof(v->out.migration), "%s", migration ? migration : "");
}

/* The transfer ended (QEMU says so): its final figures are in v->out. */
static void transfer_ended(struct vm_manager *m, struct vm *v)
{
	if (strcmp(v->out.status, "completed") == 0)
		vm_set_phase(m, v, VM_STOPPED, "migrated to the target");
	v->out.active = false;
	vm_tls_forget(v);
	close_sock(v);
	vm_tap_release(v);
	vm_port_prime(m, v, false);
	log_info("vm %s: migration %s %s: %llu bytes in %llu ms, downtime %llu ms%s%s", v->name,
		 v->out.migration, v->out.status, (unsigned long long)v->out.transferred,
		 (unsigned long long)v->out.total_ms, (unsigned long long)v->out.downtime_ms,
		 v->out.error[0] ? ": " : "", v->out.error);
	vm_kick(m);
}

void vm_outgoing_poll(struct vm_manager *m, struct vm *v)
{
	json_t *info = NULL;

	if (!v->qmp)
		return;
	if (qmp_execute(v->qmp, "query-migrate", NULL, &info, VM_QMP_TIMEOUT_MS) < 0) {
		log_warn("vm %s: query-migrate: %s", v->name, qmp_error(v->qmp));
		return;
	}
	vm_outgoing_from_json(info, &v->out);
	json_decref(info);
	if (ended(v->out.status))
		transfer_ended(m, v);
	else
		vm_kick(m); /* the progress goes to the controller */
}

void vm_outgoing_event(struct vm_manager *m, struct vm *v, const char *status)
{
	/* Only a transfer of ours (an incoming QEMU's own late MIGRATION events
	 * come after its RESUME). It ends by the poll it triggers: its report
	 * then carries QEMU's final figures (downtime) with the status. */
	if (!v->out.active)
		return;
	if (ended(status))
		v->next_migrate_poll = 0;
	else
		snprintf(v->out.status, sizeof(v->out.status), "%s", status);
	if (strcmp(status, "completed") == 0)
		vm_set_phase(m, v, VM_STOPPED, "migrated to the target");
}

void vm_outgoing_qemu_gone(struct vm *v, const char *why)
{
	if (!v->out.active)
		return;
	v->out.active = false;
	vm_tls_forget(v);
	close_sock(v);
	snprintf(v->out.status, sizeof(v->out.status), "failed");
	snprintf(v->out.error, sizeof(v->out.error), "%s", why);
}

void vm_outgoing_adopt(struct vm_manager *m, struct vm *v, bool alive)
{
	json_t *rec = vm_record_load(v, OUTGOING_RECORD), *info = NULL;
	const char *name = json_string_value(json_object_get(rec, "migration"));

	if (!name) {
		json_decref(rec);
		return;
	}
	vm_outgoing_reset(v, name);
	json_decref(rec);
	if (!alive) {
		snprintf(v->out.status, sizeof(v->out.status), "failed");
		snprintf(v->out.error, sizeof(v->out.error),
			 "the source QEMU exited while the agent was away");
		return;
	}
	if (!v->qmp || qmp_execute(v->qmp, "query-migrate", NULL, &info, VM_QMP_TIMEOUT_MS) < 0) {
		snprintf(v->out.status, sizeof(v->out.status), "active"); /* polled on */
		v->out.active = true;
		return;
	}
	vm_outgoing_from_json(info, &v->out);
	json_decref(info);
	if (!v->out.status[0] || strcmp(v->out.status, "none") == 0) {
		v->out.migration[0] = '\0'; /* told, but QEMU never started it */
		return;
	}
	if (ended(v->out.status)) {
		log_info("vm %s: adopted after migration %s %s", v->name, v->out.migration,
			 v->out.status);
		return;
	}
	v->out.active = true;
	v->next_migrate_poll = 0;
	if (migsock_of_qemu(v->pid, &v->out.sock) < 0)
		log_warn("vm %s: migration %s: QEMU's socket not found: a cancel would wait for "
			 "the target",
			 v->name, v->out.migration);
	v->tap_fd = handoff_tap_fd(v->pid, v->want.ifname);
	if (v->tap_fd < 0)
		v->tap_fd = -1;
	vm_port_prime(m, v, true);
	log_info("vm %s: adopted migration %s in flight (%s)", v->name, v->out.migration,
		 v->out.status);
	vm_kick(m);
}

json_t *vm_outgoing_report(const struct vm *v)
{
	const struct vm_outgoing *o = &v->out;
	json_t *rep;

	if (!o->migration[0])
		return NULL;
	rep = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "name", o->migration, "status",
			o->status[0] ? o->status : "setup", "transferred",
			(json_int_t)o->transferred, "remaining", (json_int_t)o->remaining, "total",
			(json_int_t)o->total, "dirty_rate", (json_int_t)o->dirty_rate, "total_ms",
			(json_int_t)o->total_ms, "downtime_ms", (json_int_t)o->downtime_ms);
	if (!rep)
		return NULL;
	if (o->error[0])
		json_object_set_new(rep, "error", json_string(o->error));
	if (o->stop_ns)
		json_object_set_new(rep, "stop_unix_ns", json_integer((json_int_t)o->stop_ns));
	if (o->handoff_ns) {
		json_object_set_new(rep, "handoff_unix_ns",
				    json_integer((json_int_t)o->handoff_ns));
		json_object_set_new(rep, "handoff_drained", json_integer(o->handoff_drained));
	}
	return rep;
}

/* ---- what the flow calls ---- */

static int prepare_qemu(struct vm *v, uint32_t downtime, uint64_t bw, const char *tls_key)
{
	int r =
	    vm_qmp_exec(v, "migrate-set-capabilities",
			json_pack("{s:[{s:s, s:b}, {s:s, s:b}]}", "capabilities", "capability",
				  "events", "state", 1, "capability", "return-path", "state", 0),
			-1);

	if (r == 0)
		r = vm_qmp_exec(v, "migrate-set-parameters",
				json_pack("{s:I, s:I}", "downtime-limit", (json_int_t)downtime,
					  "max-bandwidth", (json_int_t)bw),
				-1);
	if (r == 0)
		r = vm_tls_prepare(v, false, tls_key);
	return r;
}

/* Tells QEMU: the socket, then migrate fd:. The transfer is the Migration's
 * from here on, also when QEMU refuses (then it failed, with QEMU's error). */
static int hand_over(struct vm_manager *m, struct vm *v, const char *migration, int sock)
{
	char uri[64];
	int r;

	vm_outgoing_reset(v, migration);
	v->out.active = true;
	v->out.sock = sock;
	snprintf(v->out.status, sizeof(v->out.status), "setup");
	vm_record_save(v, OUTGOING_RECORD, json_pack("{s:s}", "migration", migration));
	vm_tap_release(v);
	v->tap_fd = handoff_tap_fd(v->pid, v->want.ifname);
	if (v->tap_fd < 0) {
		log_warn_errno(v->tap_fd, "vm %s: QEMU's tap %s not found: no drain at the handoff",
			       v->name, v->want.ifname);
		v->tap_fd = -1;
	}
	vm_port_prime(m, v, true); /* before QEMU can stop for the switchover */
	r = vm_qmp_exec(v, "getfd", json_pack("{s:s}", "fdname", QEMU_FDNAME), sock);
	snprintf(uri, sizeof(uri), "fd:%s", QEMU_FDNAME);
	if (r == 0)
		r = vm_qmp_exec(v, "migrate", json_pack("{s:s}", "uri", uri), -1);
	if (r < 0) {
		snprintf(v->out.error, sizeof(v->out.error), "%s",
			 v->qmp ? qmp_error(v->qmp) : "QMP gone");
		snprintf(v->out.status, sizeof(v->out.status), "failed");
		v->out.active = false;
		vm_tls_forget(v);
		close_sock(v);
		vm_tap_release(v);
		vm_port_prime(m, v, false);
	}
	v->next_migrate_poll = 0;
	vm_kick(m);
	return r;
}

int vm_migrate_start(struct vm_manager *m, const char *name, const char *migration, int sock,
		     const struct vm_migrate_params *p)
{
	uint32_t downtime = p && p->downtime_ms ? p->downtime_ms : VM_DEFAULT_DOWNTIME_MS;
	uint64_t bw = p ? p->max_bandwidth : 0;
	struct vm *v;
	int r;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v || !v->qmp || v->phase != VM_RUNNING || v->incoming_run)
		r = -ENOENT;
	else if (v->out.active)
		r = -EBUSY;
	else if (strcmp(v->out.declined, migration) == 0)
		r = -ECANCELED;
	else if (strcmp(v->out.migration, migration) == 0)
		r = -EALREADY;
	else
		r = prepare_qemu(v, downtime, bw, p ? p->tls_key : NULL);
	if (r == 0) {
		r = hand_over(m, v, migration, sock);
		sock = -1;
		if (r == 0)
			log_info("vm %s: migrating for %s (downtime-limit %u ms, max-bandwidth "
				 "%llu B/s, %s)",
				 name, migration, downtime, (unsigned long long)bw,
				 p && p->tls_key[0] ? "TLS" : "no TLS");
	}
	pthread_mutex_unlock(&m->lock);
	if (sock >= 0)
		close(sock);
	return r;
}

int vm_migrate_cancel(struct vm_manager *m, const char *name, const char *migration)
{
	struct vm *v;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v) {
		r = -ENOENT;
	} else if (strcmp(v->out.migration, migration) == 0 && v->out.active) {
		if (v->out.sock < 0 && v->pid > 0)
			migsock_of_qemu(v->pid, &v->out.sock);
		if (v->out.sock < 0) {
			r = -ENOTCONN;
		} else {
			log_info("vm %s: migration %s is ending: shutting its socket down", name,
				 migration);
			migsock_cancel(v->out.sock);
		}
	} else if (strcmp(v->out.migration, migration) != 0 &&
		   strcmp(v->out.declined, migration) != 0) {
		snprintf(v->out.declined, sizeof(v->out.declined), "%s", migration);
		log_info("vm %s: migration %s is ending: it will not start here", name, migration);
		vm_kick(m);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* The run state over QMP ("running", "paused", "postmigrate", ...). */
static int run_state(struct vm *v, char *out, size_t len)
{
	json_t *st = NULL;
	int r = qmp_execute(v->qmp, "query-status", NULL, &st, VM_QMP_TIMEOUT_MS);

	if (r == 0)
		snprintf(out, len, "%s", json_string_value(json_object_get(st, "status")) ?: "?");
	json_decref(st);
	return r;
}

int vm_migrate_resume(struct vm_manager *m, const char *name, const char *migration, bool allowed)
{
	char state[32];
	struct vm *v;
	bool failed;
	int r;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (!v || !v->qmp || v->incoming_run || strcmp(v->out.migration, migration) != 0 ||
	    v->out.active) {
		r = -ENOENT;
		goto cleanup;
	}
	r = run_state(v, state, sizeof(state));
	if (r < 0 || strcmp(state, "running") == 0)
		goto cleanup;
	failed = strcmp(v->out.status, "failed") == 0 || strcmp(v->out.status, "cancelled") == 0;
	if (!failed && !(allowed && strcmp(v->out.status, "completed") == 0)) {
		r = -EPERM;
		goto cleanup;
	}
	log_info("vm %s: %s after migration %s %s: cont (%s)", name, state, migration,
		 v->out.status,
		 failed ? "the target never got the whole guest"
			: "the target reported that it never ran the guest");
	r = vm_qmp_exec(v, "cont", json_object(), -1);
	if (r == 0) {
		vm_set_phase(m, v, VM_RUNNING, NULL);
		vm_kick(m);
	}
cleanup:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int vm_migrate_state(struct vm_manager *m, const char *name, struct vm_migrate_state *out)
{
	struct vm *v;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	v = vm_find(m, name);
	if (v) {
		memset(out, 0, sizeof(*out));
		out->running = v->phase == VM_RUNNING && v->qmp && !v->incoming_run &&
			       strcmp(v->reason, "paused") != 0;
		out->active = v->out.active;
		snprintf(out->migration, sizeof(out->migration), "%s", v->out.migration);
		snprintf(out->status, sizeof(out->status), "%s", v->out.status);
		snprintf(out->declined, sizeof(out->declined), "%s", v->out.declined);
		snprintf(out->error, sizeof(out->error), "%s", v->out.error);
	} else {
		r = -ENOENT;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

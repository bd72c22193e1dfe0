/* SPDX-License-Identifier: MIT */
/* The target side of a live migration (vm.h "Live migration"). */
#include "agent/vm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent/handoff.h"
#include "agent/migsock.h"
#include "lib/log.h"

#define INCOMING_RECORD "incoming"
#define QEMU_FDNAME	"godwit-incoming"

static void close_listener(struct vm_manager *m, struct vm *v)
{
	if (v->in.listen_fd < 0)
		return;
	epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, v->in.listen_fd, NULL);
	close(v->in.listen_fd);
	v->in.listen_fd = -1;
}

static void close_fds(struct vm *v)
{
	if (v->in.listen_fd >= 0) {
		epoll_ctl(v->mgr->epoll_fd, EPOLL_CTL_DEL, v->in.listen_fd, NULL);
		close(v->in.listen_fd);
	}
	if (v->in.sock >= 0)
		close(v->in.sock);
	v->in.listen_fd = v->in.sock = -1;
}

void vm_incoming_reset(struct vm *v)
{
	close_fds(v);
	memset(&v->in, 0, sizeof(v->in));
	v->in.listen_fd = v->in.sock = -1;
}

static void save(const struct vm *v)
{
	json_t *rec =
	    json_pack("{s:s, s:s, s:b, s:s, s:I, s:s}", "migration", v->in.migration, "state",
		      vm_incoming_state_name(v->in.state), "ran", v->in.ran, "uri", v->in.uri,
		      "resume_unix_ns", (json_int_t)v->in.resume_ns, "error", v->in.error);

	vm_record_save(v, INCOMING_RECORD, rec);
}

static void set_state(struct vm_manager *m, struct vm *v, enum vm_incoming_state s,
		      const char *error)
{
	if (error)
		snprintf(v->in.error, sizeof(v->in.error), "%s", error);
	if (v->in.state != s)
		log_info("vm %s: incoming side of %s: %s -> %s%s%s", v->name, v->in.migration,
			 vm_incoming_state_name(v->in.state), vm_incoming_state_name(s),
			 error ? ": " : "", error ? error : "");
	v->in.state = s;
	if (s == VM_IN_COMPLETED || s == VM_IN_FAILED || s == VM_IN_ABORTED)
		vm_tls_forget(v);
	save(v);
	vm_kick(m);
}

/* The guest ran here: from now on the QEMU is an ordinary VM of this node,
 * ready as it was on the source (its ready line is not printed again). */
static void ran(struct vm_manager *m, struct vm *v, uint64_t resume_ns)
{
	v->in.ran = true;
	if (resume_ns)
		v->in.resume_ns = resume_ns;
	close_fds(v);
	set_state(m, v, VM_IN_COMPLETED, NULL);
	vm_set_ready(m, v);
}

static void listen_now(struct vm_manager *m, struct vm *v)
{
	struct epoll_event ev = {.events = EPOLLIN};
	uint16_t port;
	int fd, r;

	r = migsock_listen(m->underlay_ip, m->cfg.migrate_buffer_kib, &port, &fd);
	if (r < 0) {
		log_warn_errno(r, "vm %s: cannot listen on %s for the migration", v->name,
			       m->underlay_ip);
		return;
	}
	vm_incoming_reset(v);
	snprintf(v->in.migration, sizeof(v->in.migration), "%s", v->want.migration);
	snprintf(v->in.uri, sizeof(v->in.uri), "tcp:%s:%u", m->underlay_ip, port);
	v->in.listen_fd = fd;
	ev.data.fd = fd;
	if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_warn_errno(-errno, "vm %s: epoll", v->name);
	r = handoff_prime(v->want.ifname, v->want.mac);
	if (r < 0)
		log_warn_errno(r,
			       "vm %s: no primer frame in tap %s (the first handed-off frame "
			       "may be lost)",
			       v->name, v->want.ifname);
	log_info("vm %s: waiting for migration %s on %s", v->name, v->in.migration, v->in.uri);
	set_state(m, v, VM_IN_LISTENING, NULL);
}

/* The source connected: only its node's address is handed to QEMU. */
static void accept_now(struct vm_manager *m, struct vm *v)
{
	char peer[64], uri[64], why[320];
	int fd, r;

	r = migsock_accept(v->in.listen_fd, &fd, peer, sizeof(peer));
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		log_warn_errno(r, "vm %s: accept", v->name);
		return;
	}
	if (v->want.source_ip[0] && strcmp(peer, v->want.source_ip) != 0) {
		log_warn("vm %s: migration %s: a connection from %s, not from the source %s: "
			 "refused",
			 v->name, v->in.migration, peer, v->want.source_ip);
		close(fd);
		return;
	}
	close_listener(m, v);
	v->in.sock = fd;
	if (v->want.tls_invalid) {
		close_fds(v);
		set_state(m, v, VM_IN_FAILED,
			  "the Migration's status.transport is malformed: no key for its TLS");
		return;
	}
	snprintf(uri, sizeof(uri), "fd:%s", QEMU_FDNAME);
	r = vm_qmp_exec(
	    v, "migrate-set-capabilities",
	    json_pack("{s:[{s:s, s:b}]}", "capabilities", "capability", "events", "state", 1), -1);
	if (r == 0)
		r = vm_tls_prepare(v, true, v->want.tls_key);
	if (r == 0)
		r = vm_qmp_exec(v, "getfd", json_pack("{s:s}", "fdname", QEMU_FDNAME), fd);
	if (r == 0)
		r = vm_qmp_exec(v, "migrate-incoming", json_pack("{s:s}", "uri", uri), -1);
	if (r < 0) {
		snprintf(why, sizeof(why), "QEMU refused the incoming stream: %s",
			 v->qmp ? qmp_error(v->qmp) : "QMP gone");
		close_fds(v);
		set_state(m, v, VM_IN_FAILED, why);
		return;
	}
	log_info("vm %s: receiving migration %s from %s%s", v->name, v->in.migration, peer,
		 v->want.tls_key[0] ? " (TLS)" : " (no TLS: the Migration has no transport key)");
	set_state(m, v, VM_IN_RECEIVING, NULL);
}

/* The Migration is ending: nothing more reaches QEMU. A stream that had
 * ended already completes (the guest ran here); otherwise QEMU fails. */
static void abort_now(struct vm_manager *m, struct vm *v)
{
	if (v->in.state == VM_IN_NONE && v->want.migration[0]) {
		snprintf(v->in.migration, sizeof(v->in.migration), "%s", v->want.migration);
		set_state(m, v, VM_IN_ABORTED,
			  "the migration was ending before the agent listened");
	} else if (v->in.state == VM_IN_LISTENING) {
		close_listener(m, v);
		set_state(m, v, VM_IN_ABORTED,
			  "the migration was ending before the source connected");
	} else if (v->in.state == VM_IN_RECEIVING && !v->in.aborting) {
		v->in.aborting = true;
		if (v->in.sock < 0 && v->pid > 0)
			migsock_of_qemu(v->pid, &v->in.sock);
		log_info("vm %s: migration %s is ending: shutting the stream down", v->name,
			 v->in.migration);
		migsock_cancel(v->in.sock);
	}
}

void vm_incoming_step(struct vm_manager *m, struct vm *v)
{
	if (!v->incoming_run || !v->qmp || v->phase != VM_INCOMING)
		return;
	if (v->want.cancel) {
		abort_now(m, v);
		return;
	}
	if (v->want.migration[0] &&
	    (v->in.state == VM_IN_NONE || strcmp(v->in.migration, v->want.migration) != 0))
		listen_now(m, v);
	else if (v->in.state == VM_IN_LISTENING)
		accept_now(m, v);
}

void vm_incoming_event(struct vm_manager *m, struct vm *v, enum vm_event e, const char *status,
		       uint64_t qemu_ns)
{
	if (e == VM_EV_RESUME) {
		/* The target took over: the guest was ready on the source. */
		v->incoming_run = false;
		ran(m, v, qemu_ns);
		vm_set_phase(m, v, VM_RUNNING, NULL);
	} else if (e == VM_EV_MIGRATION && status && strcmp(status, "completed") == 0) {
		ran(m, v, 0); /* QEMU resumes the guest on its own */
	} else if (e == VM_EV_MIGRATION && status && strcmp(status, "failed") == 0 && !v->in.ran) {
		snprintf(v->in.error, sizeof(v->in.error), "QEMU: the incoming migration failed");
	}
}

void vm_incoming_qemu_gone(struct vm *v, const char *why)
{
	struct vm_manager *m = v->mgr;

	if (v->in.ran || (v->in.state != VM_IN_LISTENING && v->in.state != VM_IN_RECEIVING))
		return;
	close_fds(v);
	set_state(m, v, v->in.aborting ? VM_IN_ABORTED : VM_IN_FAILED, why);
}

void vm_incoming_adopt(struct vm_manager *m, struct vm *v, bool alive, const char *run_state)
{
	json_t *rec = vm_record_load(v, INCOMING_RECORD);
	enum vm_incoming_state state;

	if (!rec ||
	    vm_incoming_state_parse(json_string_value(json_object_get(rec, "state")), &state) < 0) {
		json_decref(rec);
		return;
	}
	vm_incoming_reset(v);
	snprintf(v->in.migration, sizeof(v->in.migration), "%s",
		 json_string_value(json_object_get(rec, "migration")) ?: "");
	snprintf(v->in.uri, sizeof(v->in.uri), "%s",
		 json_string_value(json_object_get(rec, "uri")) ?: "");
	snprintf(v->in.error, sizeof(v->in.error), "%s",
		 json_string_value(json_object_get(rec, "error")) ?: "");
	v->in.ran = json_is_true(json_object_get(rec, "ran"));
	v->in.resume_ns = (uint64_t)json_integer_value(json_object_get(rec, "resume_unix_ns"));
	v->in.state = state;
	json_decref(rec);
	if (!alive) {
		if (!v->in.ran && (state == VM_IN_LISTENING || state == VM_IN_RECEIVING))
			set_state(m, v, VM_IN_LOST,
				  "the incoming QEMU exited while the agent was away");
		return;
	}
	if (run_state && strcmp(run_state, "inmigrate") == 0) {
		if (state == VM_IN_LISTENING)
			v->in.state = VM_IN_NONE; /* the listener went with the old agent */
		else if (state == VM_IN_RECEIVING && migsock_of_qemu(v->pid, &v->in.sock) < 0)
			log_warn("vm %s: migration %s: QEMU's stream socket not found", v->name,
				 v->in.migration);
		return;
	}
	if (!v->in.ran && state == VM_IN_RECEIVING) /* it completed while we were away */
		ran(m, v, 0);
	else if (v->in.ran)
		vm_set_ready(m, v);
}

json_t *vm_incoming_report(const struct vm *v)
{
	json_t *rep;

	if (!v->in.migration[0] || v->in.state == VM_IN_NONE)
		return NULL;
	rep = json_pack("{s:s, s:s, s:b}", "migration", v->in.migration, "state",
			vm_incoming_state_name(v->in.state), "ran", v->in.ran);
	if (!rep)
		return NULL;
	if (v->in.uri[0])
		json_object_set_new(rep, "uri", json_string(v->in.uri));
	if (v->in.resume_ns)
		json_object_set_new(rep, "resume_unix_ns",
				    json_integer((json_int_t)v->in.resume_ns));
	if (v->in.error[0])
		json_object_set_new(rep, "error", json_string(v->in.error));
	return rep;
}

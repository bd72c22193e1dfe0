/* SPDX-License-Identifier: MIT */
/* QMP events of a VM's QEMU (STOP, RESUME, MIGRATION, RESET) and the handoff. */
#include "agent/vm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

static const char *const event_names[VM__EVENTS] = {"STOP", "RESUME", "MIGRATION"};

void vm_tap_release(struct vm *v)
{
	if (v->tap_fd >= 0)
		close(v->tap_fd);
	v->tap_fd = -1;
}

void vm_set_ready(struct vm_manager *m, struct vm *v)
{
	char path[PATH_MAX + 16];
	int fd;

	if (v->ready)
		return;
	v->ready = true;
	snprintf(path, sizeof(path), "%s/ready", v->rundir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	vm_kick(m);
}

void vm_port_prime(struct vm_manager *m, struct vm *v, bool on)
{
	int r;

	if (!m->cfg.handoff || m->cfg.no_source_primers || v->primed == on || v->handoff)
		return;
	r = m->cfg.handoff(m->cfg.handoff_ctx, v->want.ifname, -1,
			   on ? VM_HANDOFF_PRIME : VM_HANDOFF_END);
	if (r < 0) {
		log_warn_errno(r, "vm %s: cannot %s port %s", v->name, on ? "prime" : "unprime",
			       v->want.ifname);
		return;
	}
	v->primed = on;
}

/* Zero-loss handoff (bpf/abi.h): the source QEMU stopped for the last phase
 * of our transfer, so frames for the VM go on to the target from now on; a
 * RESUME here afterwards means the migration failed late: take them back. */
static void handoff_on_event(struct vm_manager *m, struct vm *v, enum vm_event e)
{
	bool on = e == VM_EV_STOP;
	int r;

	if (!m->cfg.handoff || (on ? !v->out.active || v->handoff : !v->handoff))
		return;
	r = m->cfg.handoff(m->cfg.handoff_ctx, v->want.ifname, v->tap_fd,
			   on ? VM_HANDOFF_START : VM_HANDOFF_END);
	if (r < 0) {
		log_warn_errno(r, "vm %s: cannot %s the handoff of port %s", v->name,
			       on ? "start" : "end", v->want.ifname);
		return;
	}
	v->handoff = on;
	v->primed = false; /* a handoff or an active port, either way */
	if (on) {
		v->out.handoff_ns = (uint64_t)clock_unix_ns();
		v->out.handoff_drained = (unsigned int)r;
		log_info("vm %s: port %s handed off to the target (%d frames from its tap)",
			 v->name, v->want.ifname, r);
	} else {
		log_info("vm %s: port %s taken back (the VM runs here again)", v->name,
			 v->want.ifname);
	}
}

/* The guest rebooted itself (its kernel runs with panic=-1, so a panic is
 * one too): said loudly, counted, and the ready line is awaited again. Its
 * console up to here is kept when the QEMU goes (vm_supervise.c). */
static void guest_reset(struct vm_manager *m, struct vm *v, const struct qmp_event *ev)
{
	const char *why = json_string_value(json_object_get(ev->data, "reason"));
	char path[PATH_MAX + 16];

	v->guest_resets++;
	v->ready = false;
	snprintf(path, sizeof(path), "%s/ready", v->rundir);
	unlink(path);
	log_warn("vm %s: the guest reset itself (%s): it reboots, its connections are gone",
		 v->name, why ? why : "no reason given");
	vm_kick(m);
}

void vm_on_event(const struct qmp_event *ev, void *ctx)
{
	struct vm *v = ctx;
	struct vm_manager *m = v->mgr;
	const char *status = json_string_value(json_object_get(ev->data, "status"));
	uint64_t ns = ev->qemu_ns ? ev->qemu_ns : ev->recv_ns;
	int i;

	if (strcmp(ev->name, "RESET") == 0)
		return guest_reset(m, v, ev);
	for (i = 0; i < VM__EVENTS && strcmp(ev->name, event_names[i]) != 0; i++)
		;
	if (i == VM__EVENTS)
		return;
	if (i != VM_EV_MIGRATION)
		handoff_on_event(m, v, (enum vm_event)i); /* first: every µs counts */
	v->ev_qemu[i] = ns;
	v->ev_recv[i] = ev->recv_ns;
	log_info("vm %s: %s%s%s at %llu ns (received %+.3f ms later)", v->name, ev->name,
		 status ? " " : "", status ? status : "", (unsigned long long)ns,
		 ((double)ev->recv_ns - (double)ns) / 1e6);
	if (v->incoming_run)
		vm_incoming_event(m, v, (enum vm_event)i, status, ns);
	else if (i == VM_EV_STOP && v->out.active && !v->out.stop_ns)
		v->out.stop_ns = ns;
	else if (i == VM_EV_MIGRATION && status)
		vm_outgoing_event(m, v, status);
	vm_kick(m);
}

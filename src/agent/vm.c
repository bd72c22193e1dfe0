/* SPDX-License-Identifier: MIT */
/* The vm manager: its thread, the desired set from the cache, the report. */
#include "agent/vm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/catalog.h"
#include "lib/log.h"
#include "lib/migtls.h"
#include "lib/proc.h"

static const char *const event_names[VM__EVENTS] = {"STOP", "RESUME", "MIGRATION"};

void vm_kick(struct vm_manager *m)
{
	if (m->cfg.kick)
		m->cfg.kick(m->cfg.kick_ctx);
}

void vm_set_phase(struct vm_manager *m, struct vm *v, enum vm_state p, const char *reason)
{
	bool changed = v->phase != p || strcmp(v->reason, reason ? reason : "") != 0;

	if (!changed)
		return;
	if (v->phase != p)
		log_info("vm %s: %s -> %s%s%s", v->name, vm_state_name(v->phase), vm_state_name(p),
			 reason && *reason ? ": " : "", reason ? reason : "");
	v->phase = p;
	snprintf(v->reason, sizeof(v->reason), "%s", reason ? reason : "");
	vm_kick(m);
}

struct vm *vm_find(struct vm_manager *m, const char *name)
{
	for (struct vm *v = m->vms; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

struct vm *vm_add(struct vm_manager *m, const char *name)
{
	struct vm *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->mgr = m;
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->rundir, sizeof(v->rundir), "%s/%s", m->node_dir, name);
	v->phase = VM_STARTING;
	v->backoff_ms = VM_BACKOFF_MIN_MS;
	v->tap_fd = -1;
	v->out.sock = v->in.listen_fd = v->in.sock = -1;
	v->next = m->vms;
	m->vms = v;
	return v;
}

static void vm_free(struct vm *v)
{
	vm_tap_release(v);
	vm_outgoing_reset(v, NULL);
	vm_incoming_reset(v);
	qmp_close(v->qmp);
	free(v->want.userdata_b64);
	free(v);
}

int vm_qmp_exec(struct vm *v, const char *cmd, json_t *args, int pass_fd)
{
	int r;

	if (!args)
		return -ENOMEM;
	r = qmp_execute_fd(v->qmp, cmd, args, pass_fd, NULL, VM_QMP_TIMEOUT_MS);
	json_decref(args);
	if (r < 0)
		log_warn("vm %s: %s: %s", v->name, cmd, qmp_error(v->qmp));
	return r;
}

void vm_qmp_closed(struct vm_manager *m, struct vm *v)
{
	if (!v->qmp)
		return;
	epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, qmp_fd(v->qmp), NULL);
	qmp_close(v->qmp);
	v->qmp = NULL;
}

/* ---- desired state ---- */

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

/* The incoming side's Migration (the Port's status.migration): whether it is
 * ending, and the source node's underlay IP (the only peer let in). */
static void want_migration(const struct cache *c, const json_t *port, const char *secret,
			   struct vm_want *w)
{
	const char *name = str_at(port, "status", "migration");
	const json_t *mig = name ? json_object_get(c->objs[CACHE_MIGRATIONS], name) : NULL;
	const char *phase = str_at(mig, "status", "phase");
	const char *source = json_string_value(
	    json_array_get(json_object_get(json_object_get(port, "spec"), "locations"), 0));
	const char *ip =
	    str_at(json_object_get(c->objs[CACHE_NODES], source ?: ""), "spec", "underlay_ip");

	snprintf(w->migration, sizeof(w->migration), "%s", name ?: "");
	w->cancel = json_object_get(json_object_get(mig, "status"), "cancel") ||
		    (migration_phase_is(phase, MIGRATION_FAILED) ||
		     migration_phase_is(phase, MIGRATION_ABORTED));
	snprintf(w->source_ip, sizeof(w->source_ip), "%s", ip ?: "");
	w->tls_key[0] = '\0';
	w->tls_invalid = mig && secret &&
			 migtls_key_of(json_object_get(json_object_get(mig, "status"), "transport"),
				       MIGTLS_ROLE_TARGET, secret, w->tls_key) == -EINVAL;
}

/* Fills w from the VM object (and its Port); w->present says whether it
 * belongs here. */
static int want_from(const struct cache *c, const char *node, const char *secret, const json_t *vm,
		     struct vm_want *w)
{
	const json_t *spec = json_object_get(vm, "spec");
	const char *vnode = json_string_value(json_object_get(spec, "node"));
	const char *target = json_string_value(json_object_get(spec, "target"));
	const char *image = json_string_value(json_object_get(spec, "image"));
	const char *ud = json_string_value(json_object_get(spec, "user_data"));
	const char *enc = json_string_value(json_object_get(spec, "user_data_encoding"));
	const char *port_name = str_at(vm, "status", "port");
	const json_t *port, *mem = json_object_get(spec, "memory_mib");
	const json_t *cpus = json_object_get(spec, "cpus");
	bool running = json_is_true(json_object_get(spec, "running"));
	json_int_t want_mib;

	memset(w, 0, sizeof(*w));
	w->migrating = target && *target;
	w->incoming = w->migrating && strcmp(target, node) == 0 && (!vnode || strcmp(vnode, node));
	w->present = running && ((vnode && strcmp(vnode, node) == 0) || w->incoming);
	if (!w->present)
		return 0;
	want_mib = json_is_integer(mem) ? json_integer_value(mem) : 0;
	w->memory_mib = catalog_memory_mib(catalog_find(image), want_mib);
	w->spec_memory_mib =
	    want_mib >= 1 && want_mib <= VM_MEMORY_MIB_MAX ? (uint32_t)want_mib : w->memory_mib;
	w->cpus = json_is_integer(cpus) && catalog_cpus_valid(json_integer_value(cpus))
		      ? (uint32_t)json_integer_value(cpus)
		      : 1;
	port = json_object_get(c->objs[CACHE_PORTS],
			       port_name ? port_name
					 : json_string_value(json_object_get(
					       json_object_get(vm, "metadata"), "name")));
	snprintf(w->ifname, sizeof(w->ifname), "%s", str_at(port, "spec", "ifname") ?: "");
	snprintf(w->mac, sizeof(w->mac), "%s", str_at(port, "spec", "mac") ?: "");
	if (w->incoming)
		want_migration(c, port, secret, w);
	if (image && !catalog_find(image))
		snprintf(w->image_error, sizeof(w->image_error),
			 "spec.image `%.80s' is not in the catalog (godwit-demo)", image);
	if (ud && *ud) {
		if (enc && strcmp(enc, "text") == 0) {
			w->userdata_b64 = base64_encode(ud);
			if (!w->userdata_b64)
				return -ENOMEM;
		} else if (base64_valid(ud)) {
			w->userdata_b64 = strdup(ud);
			if (!w->userdata_b64)
				return -ENOMEM;
		} else {
			snprintf(w->image_error, sizeof(w->image_error),
				 "spec.user_data is not valid base64");
		}
	}
	return 0;
}

static bool want_changed(const struct vm_want *a, const struct vm_want *b)
{
	return a->memory_mib != b->memory_mib || a->cpus != b->cpus ||
	       strcmp(a->ifname, b->ifname) || strcmp(a->mac, b->mac) ||
	       strcmp(a->image_error, b->image_error) ||
	       strcmp(a->userdata_b64 ?: "", b->userdata_b64 ?: "");
}

int vm_manager_sync(struct vm_manager *m, const struct cache *c)
{
	const char *name;
	json_t *vm;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	for (struct vm *v = m->vms; v; v = v->next)
		v->want.present = false;
	json_object_foreach(c->objs[CACHE_VMS], name, vm)
	{
		struct vm_want w;
		struct vm *v;

		r = want_from(c, m->node, m->cfg.stream_secret, vm, &w);
		if (r < 0)
			break;
		if (!w.present)
			continue;
		if (strlen(name) >= sizeof(v->name)) {
			free(w.userdata_b64);
			continue;
		}
		v = vm_find(m, name);
		if (!v)
			v = vm_add(m, name);
		if (!v) {
			free(w.userdata_b64);
			r = -ENOMEM;
			break;
		}
		if (want_changed(&v->want, &w))
			v->retry_at = 0; /* a new spec is tried at once */
		free(v->want.userdata_b64);
		v->want = w;
	}
	if (r == 0 && !m->synced) {
		m->synced = true;
		vm_adopt_all(m);
	}
	pthread_mutex_unlock(&m->lock);
	if (eventfd_write(m->wake_fd, 1) < 0)
		log_warn_errno(-errno, "vm: cannot wake the manager");
	return r;
}

/* ---- report ---- */

static json_t *vm_report_one(const struct vm *v)
{
	json_t *o = json_object(), *ev = json_object(), *evr = json_object();
	char console[PATH_MAX + 16], note[128];

	if (!o || !ev || !evr)
		goto fail;
	snprintf(console, sizeof(console), "%s/console.sock", v->rundir);
	if (json_object_set_new(o, "phase", json_string(vm_state_name(v->phase))) < 0 ||
	    json_object_set_new(o, "ready", json_boolean(v->ready)) < 0 ||
	    json_object_set_new(o, "memory_mib", json_integer(v->want.memory_mib)) < 0 ||
	    json_object_set_new(o, "console", json_string(console)) < 0)
		goto fail;
	if (v->pid > 0 && json_object_set_new(o, "pid", json_integer(v->pid)) < 0)
		goto fail;
	if (v->reason[0] && json_object_set_new(o, "reason", json_string(v->reason)) < 0)
		goto fail;
	if (v->want.spec_memory_mib < v->want.memory_mib) {
		snprintf(note, sizeof(note),
			 "memory raised from %u MiB to %u MiB (the guest's minimum)",
			 v->want.spec_memory_mib, v->want.memory_mib);
		if (json_object_set_new(o, "notes", json_pack("[s]", note)) < 0)
			goto fail;
	}
	for (int i = 0; i < VM__EVENTS; i++) {
		if (v->ev_qemu[i] &&
		    json_object_set_new(ev, event_names[i],
					json_integer((json_int_t)v->ev_qemu[i])) < 0)
			goto fail;
		if (v->ev_recv[i] &&
		    json_object_set_new(evr, event_names[i],
					json_integer((json_int_t)v->ev_recv[i])) < 0)
			goto fail;
	}
	if (json_object_size(ev) && json_object_set(o, "events", ev) < 0)
		goto fail;
	if (json_object_size(evr) && json_object_set(o, "events_recv", evr) < 0)
		goto fail;
	if (v->guest_resets &&
	    json_object_set_new(o, "guest_resets", json_integer(v->guest_resets)) < 0)
		goto fail;
	if ((v->out.migration[0] &&
	     json_object_set_new(o, "migration", vm_outgoing_report(v)) < 0) ||
	    (v->out.declined[0] &&
	     json_object_set_new(o, "declined", json_string(v->out.declined)) < 0) ||
	    (v->in.migration[0] && v->in.state != VM_IN_NONE &&
	     json_object_set_new(o, "incoming", vm_incoming_report(v)) < 0))
		goto fail;
	json_decref(ev);
	json_decref(evr);
	return o;
fail:
	json_decref(o);
	json_decref(ev);
	json_decref(evr);
	return NULL;
}

json_t *vm_manager_report(struct vm_manager *m)
{
	json_t *all = json_object();

	if (!all)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (struct vm *v = m->vms; v; v = v->next) {
		if (json_object_set_new(all, v->name, vm_report_one(v)) < 0) {
			json_decref(all);
			all = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return all;
}

/* ---- the thread ---- */

static void *manager_main(void *data)
{
	struct vm_manager *m = data;
	struct epoll_event evs[8];

	for (;;) {
		int n = epoll_wait(m->epoll_fd, evs, 8, VM_POLL_MS);
		eventfd_t dummy;

		(void)n;
		eventfd_read(m->wake_fd, &dummy); /* non-blocking */
		pthread_mutex_lock(&m->lock);
		if (m->stop) {
			pthread_mutex_unlock(&m->lock);
			break;
		}
		for (struct vm **pv = &m->vms; m->synced && *pv;) {
			struct vm *v = *pv;

			if (v->qmp && qmp_poll(v->qmp) < 0) {
				log_debug("vm %s: %s", v->name, qmp_error(v->qmp));
				vm_qmp_closed(m, v);
			}
			if (vm_step(m, v)) {
				*pv = v->next;
				vm_free(v);
				vm_kick(m);
			} else {
				pv = &v->next;
			}
		}
		pthread_mutex_unlock(&m->lock);
	}
	return NULL;
}

static void manager_free(struct vm_manager *m)
{
	while (m->vms) {
		struct vm *v = m->vms;

		m->vms = v->next;
		vm_free(v);
	}
	if (m->epoll_fd >= 0)
		close(m->epoll_fd);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	free(m->node);
	free(m->underlay_ip);
	free(m->run_dir);
	free(m->guest_dir);
	free(m->qemu);
	free(m->accel);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static char *dup_or(const char *s, const char *dflt)
{
	return s || dflt ? strdup(s ? s : dflt) : NULL;
}

int vm_manager_start(const struct vm_config *cfg, struct vm_manager **out)
{
	struct vm_manager *m = calloc(1, sizeof(*m));
	struct epoll_event ev = {.events = EPOLLIN};
	int r;

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->cfg = *cfg;
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	m->node = dup_or(cfg->node, NULL);
	m->underlay_ip = dup_or(cfg->underlay_ip, "127.0.0.1");
	m->run_dir = dup_or(cfg->run_dir, VM_DEFAULT_RUN_DIR);
	m->guest_dir = dup_or(cfg->guest_dir, VM_DEFAULT_GUEST_DIR);
	m->qemu = dup_or(cfg->qemu, "qemu-system-x86_64");
	m->accel = dup_or(cfg->accel, "tcg");
	if (m->wake_fd < 0 || m->epoll_fd < 0) {
		r = -errno;
		goto cleanup;
	}
	if (!m->node || !m->underlay_ip || !m->run_dir || !m->guest_dir || !m->qemu || !m->accel) {
		r = -ENOMEM;
		goto cleanup;
	}
	snprintf(m->node_dir, sizeof(m->node_dir), "%s/%s", m->run_dir, m->node);
	r = proc_mkdir_p(m->node_dir, 0755);
	if (r < 0)
		goto cleanup;
	ev.data.fd = m->wake_fd;
	if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->wake_fd, &ev) < 0) {
		r = -errno;
		goto cleanup;
	}
	r = -pthread_create(&m->thread, NULL, manager_main, m);
	if (r < 0)
		goto cleanup;
	*out = m;
	return 0;
cleanup:
	manager_free(m);
	return r;
}

void vm_manager_stop(struct vm_manager *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_mutex_unlock(&m->lock);
	eventfd_write(m->wake_fd, 1);
	pthread_join(m->thread, NULL);
	manager_free(m);
}

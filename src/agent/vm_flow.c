/* SPDX-License-Identifier: MIT */
/* The source agent's migration flow (vm_flow.h). */
#include "agent/vm_flow.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/migsock.h"
#include "lib/clock.h"
#include "lib/phases.h"
#include "lib/worker.h"
#include "lib/log.h"
#include "lib/migtls.h"

#define MIB	 (1024ULL * 1024ULL)
#define RETRY_MS 1000 /* after a failed connect or resume */

struct entry {
	struct entry *next;
	char name[128];
	json_t *mig;	    /* the latest copy from the cache */
	int64_t not_before; /* mono ms: no new attempt before */
	bool settled;	    /* RESUME gave its answer: nothing more to do */
	bool seen;	    /* in the latest sync */
};

struct vm_flow {
	struct worker worker; /* a round every VM_FLOW_TICK_MS, and at each sync */
	pthread_mutex_t lock;
	json_t *pending; /* under lock; name -> Migration, from the last sync (NULL: none new) */
	char *node;
	char *stream_secret; /* NULL: none (no TLS) */
	uint32_t downtime_ms;
	unsigned int buffer_kib;
	struct vm_manager *vms;
	struct entry *entries; /* the thread's own */
};

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static bool is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

enum vm_flow_action vm_flow_decide(const json_t *mig, const char *node,
				   const struct vm_migrate_state *qemu)
{
	const char *name = str_at(mig, "metadata", "name"), *phase = str_at(mig, "status", "phase");
	const char *uri = str_at(mig, "status", "incoming_uri");
	bool failed = migration_phase_is(phase, MIGRATION_FAILED) ||
		      migration_phase_is(phase, MIGRATION_ABORTED);
	bool ending = failed || json_object_get(json_object_get(mig, "status"), "cancel");
	bool mine;

	if (!str_at(mig, "spec", "vm") || !is(str_at(mig, "status", "source"), node) || !name ||
	    !qemu)
		return VM_FLOW_NONE;
	mine = is(qemu->migration, name);
	if (ending && mine && qemu->active)
		return VM_FLOW_CANCEL;
	if (ending && !mine && !is(qemu->declined, name))
		return VM_FLOW_CANCEL; /* declines it */
	if (failed && mine && !qemu->active && !qemu->running)
		return VM_FLOW_RESUME;
	if (!ending &&
	    (migration_phase_is(phase, MIGRATION_REPLICATING) ||
	     migration_phase_is(phase, MIGRATION_RUNNING)) &&
	    uri && *uri && !mine && !is(qemu->declined, name) && qemu->running && !qemu->active)
		return VM_FLOW_START;
	return VM_FLOW_NONE;
}

/* -EINVAL: the Migration's status.transport is malformed (no TLS key). */
static int params_of(const struct vm_flow *f, const json_t *mig, struct vm_migrate_params *p)
{
	int r;

	const json_t *spec = json_object_get(mig, "spec");
	json_int_t dt = json_integer_value(json_object_get(spec, "downtime_ms"));
	json_int_t bw = json_integer_value(json_object_get(spec, "max_bandwidth_mib"));

	p->downtime_ms = dt > 0 ? (uint32_t)dt : f->downtime_ms;
	p->max_bandwidth = bw > 0 ? (uint64_t)bw * MIB : 0;
	p->tls_key[0] = '\0';
	if (!f->stream_secret)
		return 0;
	r = migtls_key_of(json_object_get(json_object_get(mig, "status"), "transport"),
			  MIGTLS_ROLE_SOURCE, f->stream_secret, p->tls_key);
	return r == -ENOENT ? 0 : r;
}

static void start(struct vm_flow *f, struct entry *e, const char *vm)
{
	const char *uri = str_at(e->mig, "status", "incoming_uri");
	struct vm_migrate_params p;
	int sock, r;

	if (params_of(f, e->mig, &p) < 0) {
		log_error("migration %s: status.transport is malformed: no key for its TLS, not "
			  "starting",
			  e->name);
		e->not_before = clock_mono_ms() + RETRY_MS;
		return;
	}
	r = migsock_connect(uri, f->buffer_kib, MIGSOCK_CONNECT_TIMEOUT_MS, &sock);
	if (r < 0) {
		log_warn_errno(r, "migration %s: cannot connect to the target at %s (retrying)",
			       e->name, uri);
		e->not_before = clock_mono_ms() + RETRY_MS;
		return;
	}
	r = vm_migrate_start(f->vms, vm, e->name, sock, &p);
	if (r < 0 && r != -EPROTO)
		log_warn_errno(r, "migration %s: vm %s not started", e->name, vm);
}

static void step(struct vm_flow *f, struct entry *e)
{
	const char *vm = str_at(e->mig, "spec", "vm");
	struct vm_migrate_state st, *qemu = NULL;
	int r;

	if (e->settled || clock_mono_ms() < e->not_before)
		return;
	if (vm && vm_migrate_state(f->vms, vm, &st) == 0)
		qemu = &st;
	switch (vm_flow_decide(e->mig, f->node, qemu)) {
	case VM_FLOW_START:
		start(f, e, vm);
		break;
	case VM_FLOW_CANCEL:
		r = vm_migrate_cancel(f->vms, vm, e->name);
		if (r < 0) {
			log_warn_errno(r,
				       "migration %s: cannot cancel the transfer here (the target "
				       "aborts its side)",
				       e->name);
			e->not_before = clock_mono_ms() + RETRY_MS;
		}
		break;
	case VM_FLOW_RESUME:
		r = vm_migrate_resume(f->vms, vm, e->name,
				      json_is_true(json_object_get(
					  json_object_get(e->mig, "status"), "resume_source")));
		if (r == -EPERM)
			log_info(
			    "migration %s: vm %s stays paused here: its transfer completed, the "
			    "guest is the target's",
			    e->name, vm);
		if (r == 0 || r == -EPERM || r == -ENOENT)
			e->settled = true;
		else
			e->not_before = clock_mono_ms() + RETRY_MS;
		break;
	default:
		break;
	}
}

static struct entry *entry_find(struct vm_flow *f, const char *name)
{
	for (struct entry *e = f->entries; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* Takes the last sync's migrations: new ones get an entry, gone ones lose it. */
static void absorb(struct vm_flow *f, json_t *migs)
{
	const char *name;
	json_t *mig;

	for (struct entry *e = f->entries; e; e = e->next)
		e->seen = false;
	json_object_foreach(migs, name, mig)
	{
		struct entry *e = entry_find(f, name);

		if (!e && strlen(name) < sizeof(e->name)) {
			e = calloc(1, sizeof(*e));
			if (!e)
				continue;
			snprintf(e->name, sizeof(e->name), "%s", name);
			e->next = f->entries;
			f->entries = e;
		}
		if (!e)
			continue;
		json_decref(e->mig);
		e->mig = json_incref(mig);
		e->seen = true;
	}
	for (struct entry **pe = &f->entries; *pe;) {
		struct entry *e = *pe;

		if (e->seen) {
			pe = &e->next;
			continue;
		}
		*pe = e->next;
		json_decref(e->mig);
		free(e);
	}
}

static int64_t flow_round(void *data)
{
	struct vm_flow *f = data;
	json_t *migs;

	pthread_mutex_lock(&f->lock);
	migs = f->pending;
	f->pending = NULL;
	pthread_mutex_unlock(&f->lock);
	if (migs) {
		absorb(f, migs);
		json_decref(migs);
	}
	for (struct entry *e = f->entries; e; e = e->next)
		step(f, e);
	return VM_FLOW_TICK_MS;
}

/* Only the migrations of VMs whose source is this node. */
int vm_flow_sync(struct vm_flow *f, const struct cache *c)
{
	json_t *migs = json_object(), *mig;
	const char *name;

	if (!f)
		return 0;
	if (!migs)
		return -ENOMEM;
	json_object_foreach(c->objs[CACHE_MIGRATIONS], name, mig)
	{
		const char *source = str_at(mig, "status", "source");

		if (str_at(mig, "spec", "vm") && source && strcmp(source, f->node) == 0 &&
		    json_object_set_new(migs, name, json_deep_copy(mig)) < 0) {
			json_decref(migs);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&f->lock);
	json_decref(f->pending);
	f->pending = migs;
	pthread_mutex_unlock(&f->lock);
	worker_kick(&f->worker);
	return 0;
}

static void flow_free(struct vm_flow *f)
{
	while (f->entries) {
		struct entry *e = f->entries;

		f->entries = e->next;
		json_decref(e->mig);
		free(e);
	}
	json_decref(f->pending);
	free(f->node);
	free(f->stream_secret);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int vm_flow_start(const struct vm_flow_config *cfg, struct vm_flow **out)
{
	struct vm_flow *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->vms = cfg->vms;
	f->downtime_ms = cfg->downtime_ms ? cfg->downtime_ms : VM_DEFAULT_DOWNTIME_MS;
	f->buffer_kib = cfg->buffer_kib;
	f->node = strdup(cfg->node);
	f->stream_secret = cfg->stream_secret ? strdup(cfg->stream_secret) : NULL;
	if (!f->node || (cfg->stream_secret && !f->stream_secret)) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = worker_start_periodic(&f->worker, 0, flow_round, f); /* a first round at once */
	if (r < 0)
		goto cleanup;
	*out = f;
	return 0;
cleanup:
	flow_free(f);
	return r;
}

void vm_flow_stop(struct vm_flow *f)
{
	if (!f)
		return;
	worker_stop(&f->worker);
	flow_free(f);
}

/* SPDX-License-Identifier: MIT */
/* The source agent's migration flow (vm_flow.h). */
#include "agent/vm_flow.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/apiclient.h"
#include "lib/log.h"

#define MIB	       (1024ULL * 1024ULL)
#define POST_TIMEOUT_MS 3000

struct entry {
	struct entry *next;
	char name[128];
	json_t *mig; /* the latest copy from the cache */
	struct vm_flow_rec rec;
	bool seen; /* in the latest sync */
};

struct vm_flow {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, wake;
	json_t *pending; /* name -> Migration, from the last sync (NULL: none new) */
	struct api_client *client;
	char *node;
	uint32_t downtime_ms;
	struct vm_manager *vms;
	struct entry *entries; /* the thread's own */
};

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static bool phase_is(const char *phase, const char *a, const char *b)
{
	return phase && ((a && strcmp(phase, a) == 0) || (b && strcmp(phase, b) == 0));
}

enum vm_flow_action vm_flow_decide(const json_t *mig, const char *node,
				   const struct vm_flow_rec *rec,
				   const struct vm_migrate_state *qemu)
{
	const char *vm = str_at(mig, "spec", "vm"), *source = str_at(mig, "status", "source");
	const char *phase = str_at(mig, "status", "phase");
	const char *uri = str_at(mig, "status", "incoming_uri");

	if (!vm || !source || !phase || strcmp(source, node) != 0)
		return VM_FLOW_NONE;
	if (phase_is(phase, "Failed", "Aborted"))
		return !rec->recovered && (rec->started || (qemu && qemu->active))
			   ? VM_FLOW_RECOVER
			   : VM_FLOW_NONE;
	if (phase_is(phase, "Succeeded", NULL) || rec->reported)
		return VM_FLOW_NONE;
	if (!rec->started)
		return phase_is(phase, "Replicating", "Running") && uri && *uri && qemu
			   ? VM_FLOW_START
			   : VM_FLOW_NONE;
	if (!qemu)
		return VM_FLOW_FAIL; /* the VM is gone from this node */
	if (strcmp(qemu->status, "completed") == 0)
		return VM_FLOW_COMPLETE;
	if (phase_is(qemu->status, "failed", "cancelled"))
		return VM_FLOW_FAIL;
	return VM_FLOW_NONE;
}

/* POST /v1/migrations/NAME/ACTION; 0 when the controller took it (or the
 * migration is past it: 409), -errno to retry at the next tick. */
static int post(struct vm_flow *f, const char *name, const char *action, const char *reason)
{
	char path[256];
	json_t *body = reason ? json_pack("{s:s}", "reason", reason) : json_object(), *reply = NULL;
	long status = 0;
	int r;

	if (!body)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/v1/migrations/%s/%s", name, action);
	r = api_request(f->client, "POST", path, body, &status, &reply);
	json_decref(body);
	if (r < 0) {
		log_warn_errno(r, "migration %s: POST %s", name, action);
		return r;
	}
	if (status == 200)
		log_info("migration %s: POST %s%s%s", name, action, reason ? ": " : "",
			 reason ? reason : "");
	else
		log_warn("migration %s: POST %s: HTTP %ld: %s", name, action, status,
			 api_error_text(reply));
	json_decref(reply);
	return status == 200 || status == 409 || status == 404 ? 0 : -EPROTO;
}

static void params_of(const struct vm_flow *f, const json_t *mig, struct vm_migrate_params *p)
{
	const json_t *spec = json_object_get(mig, "spec");
	json_int_t dt = json_integer_value(json_object_get(spec, "downtime_ms"));
	json_int_t bw = json_integer_value(json_object_get(spec, "max_bandwidth_mib"));

	p->downtime_ms = dt > 0 ? (uint32_t)dt : f->downtime_ms;
	p->max_bandwidth = bw > 0 ? (uint64_t)bw * MIB : 0;
}

static void start(struct vm_flow *f, struct entry *e)
{
	const char *vm = str_at(e->mig, "spec", "vm"), *uri = str_at(e->mig, "status", "incoming_uri");
	struct vm_migrate_params p;
	struct vm_migrate_state st;
	char reason[320];
	int r;

	params_of(f, e->mig, &p);
	r = vm_migrate_start(f->vms, vm, uri, &p);
	if (r == -ENOENT || r == -EBUSY)
		return; /* not running here yet, or busy: the next tick retries */
	e->rec.started = true;
	if (r == 0) {
		if (post(f, e->name, "running", NULL) < 0)
			log_warn("migration %s: the controller has not heard of the transfer yet",
				 e->name);
		return;
	}
	if (vm_migrate_state(f->vms, vm, &st) == 0 && st.error[0])
		snprintf(reason, sizeof(reason), "migrate to %s: %s", uri, st.error);
	else
		snprintf(reason, sizeof(reason), "migrate to %s: %s", uri, strerror(-r));
	e->rec.reported = post(f, e->name, "fail", reason) == 0;
}

static void step(struct vm_flow *f, struct entry *e)
{
	const char *vm = str_at(e->mig, "spec", "vm");
	struct vm_migrate_state st, *qemu = NULL;
	char reason[320];

	if (vm && vm_migrate_state(f->vms, vm, &st) == 0)
		qemu = &st;
	switch (vm_flow_decide(e->mig, f->node, &e->rec, qemu)) {
	case VM_FLOW_START:
		start(f, e);
		break;
	case VM_FLOW_COMPLETE:
		e->rec.reported = post(f, e->name, "complete", NULL) == 0;
		break;
	case VM_FLOW_FAIL:
		if (!qemu)
			snprintf(reason, sizeof(reason), "the VM %s no longer runs on %s", vm,
				 f->node);
		else
			snprintf(reason, sizeof(reason), "QEMU migration %s: %s", qemu->status,
				 qemu->error[0] ? qemu->error : "no error text");
		e->rec.reported = post(f, e->name, "fail", reason) == 0;
		break;
	case VM_FLOW_RECOVER:
		log_info("migration %s: %s: the guest stays on %s", e->name,
			 str_at(e->mig, "status", "phase"), f->node);
		if (vm_migrate_recover(f->vms, vm, &st) == 0)
			log_info("migration %s: vm %s runs on %s (transfer %s, was %s)", e->name,
				 vm, f->node, st.status, st.run_state);
		else
			log_warn("migration %s: vm %s could not be recovered on %s", e->name, vm,
				 f->node);
		e->rec.recovered = true;
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

static void *flow_main(void *data)
{
	struct vm_flow *f = data;
	struct timespec ts;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		json_t *migs = f->pending;

		f->pending = NULL;
		pthread_mutex_unlock(&f->lock);
		if (migs) {
			absorb(f, migs);
			json_decref(migs);
		}
		for (struct entry *e = f->entries; e; e = e->next)
			step(f, e);
		pthread_mutex_lock(&f->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += VM_FLOW_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!f->stop && !f->wake &&
		       pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
			;
		f->wake = false;
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
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
	f->wake = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
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
	api_client_free(f->client);
	free(f->node);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int vm_flow_start(const struct vm_flow_config *cfg, struct vm_flow **out)
{
	struct vm_flow *f = calloc(1, sizeof(*f));
	pthread_condattr_t attr;
	int r;

	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &attr);
	pthread_condattr_destroy(&attr);
	f->vms = cfg->vms;
	f->downtime_ms = cfg->downtime_ms ? cfg->downtime_ms : VM_DEFAULT_DOWNTIME_MS;
	f->node = strdup(cfg->node);
	if (!f->node) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = api_client_new(cfg->server, cfg->token, &f->client);
	if (r < 0)
		goto cleanup;
	api_client_set_timeout_ms(f->client, POST_TIMEOUT_MS);
	r = -pthread_create(&f->thread, NULL, flow_main, f);
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
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	flow_free(f);
}

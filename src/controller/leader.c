/* SPDX-License-Identifier: MIT */
/* Leader election on an etcd lease (leader.h). */
#include "leader.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_leading(struct leader *l, bool leading)
{
	if (atomic_exchange(&l->leading, leading) == leading)
		return;
	if (leading)
		log_info("leader: %s leads (lease %lld)", l->id, (long long)l->lease);
	else
		log_warn("leader: %s no longer leads", l->id);
	if (l->on_change)
		l->on_change(l->ctx, leading);
}

/* The lease alive, a new one when there is none or it expired; -ENOLCK
 * when the leader's lease is gone (the lead with it). */
static int keep_lease(struct leader *l)
{
	int64_t ttl = 0;
	int r;

	if (l->lease) {
		r = etcd_lease_keepalive(l->etcd, l->lease, &ttl);
		if (r == 0 && ttl > 0)
			return 0;
		l->lease = 0;
		if (atomic_load(&l->leading))
			return r < 0 ? r : -ENOLCK;
		if (r < 0)
			return r;
	}
	ttl = LEADER_TTL_S;
	return etcd_lease_grant(l->etcd, &ttl, &l->lease);
}

/* The key, when nobody holds it. */
static int campaign(struct leader *l, bool *won)
{
	json_t *cmp = json_pack("[o]", etcd_cmp_mod(l->key, 0)),
	       *ops = json_pack("[o]", etcd_op_put_leased(l->key, l->id, l->lease));
	int64_t rev;
	int r = cmp && ops ? etcd_txn(l->etcd, cmp, ops, won, &rev) : -ENOMEM;

	json_decref(cmp);
	json_decref(ops);
	return r;
}

static int64_t round_of(void *arg)
{
	struct leader *l = arg;
	bool won = false;
	int r = keep_lease(l);

	if (r < 0) {
		if (atomic_load(&l->leading))
			log_warn_errno(r, "leader: cannot keep the lease alive");
		set_leading(l, false);
		return LEADER_PERIOD_MS;
	}
	if (atomic_load(&l->leading))
		return LEADER_PERIOD_MS;
	r = campaign(l, &won);
	if (r == 0 && won)
		set_leading(l, true);
	return LEADER_PERIOD_MS;
}

int leader_start(struct leader *l, const char *endpoints, const char *prefix, const char *id,
		 void (*on_change)(void *ctx, bool leading), void *ctx)
{
	int r;

	memset(l, 0, sizeof(*l));
	atomic_init(&l->leading, false);
	l->on_change = on_change;
	l->ctx = ctx;
	if (snprintf(l->key, sizeof(l->key), "%smeta/leader", prefix) >= (int)sizeof(l->key) ||
	    snprintf(l->id, sizeof(l->id), "%s", id) >= (int)sizeof(l->id))
		return -ENAMETOOLONG;
	l->endpoints = strdup(endpoints);
	if (!l->endpoints)
		return -ENOMEM;
	r = etcd_open(endpoints, &l->etcd);
	if (r < 0)
		goto fail;
	r = worker_start_periodic(&l->worker, 0, round_of, l);
	if (r == 0)
		return 0;
fail:
	etcd_close(l->etcd);
	l->etcd = NULL;
	free(l->endpoints);
	l->endpoints = NULL;
	return r;
}

void leader_stop(struct leader *l)
{
	if (!l->etcd)
		return;
	worker_stop(&l->worker);
	if (l->lease && etcd_lease_revoke(l->etcd, l->lease) == 0 && atomic_load(&l->leading))
		log_info("leader: %s gave the lead up", l->id);
	atomic_store(&l->leading, false);
	etcd_close(l->etcd);
	l->etcd = NULL;
	free(l->endpoints);
	l->endpoints = NULL;
}

int leader_holder(struct leader *l, char *holder)
{
	struct etcd_range res = {0};
	struct etcd *e = NULL;
	/* a connection of its own: the worker's belongs to the worker's thread */
	int r = etcd_open(l->endpoints, &e);

	if (r == 0)
		r = etcd_range(e, &(struct etcd_range_req){.key = l->key}, &res);
	if (r == 0)
		snprintf(holder, LEADER_ID_MAX, "%s", res.n ? res.kvs[0].value : "");
	etcd_range_free(&res);
	etcd_close(e);
	return r;
}

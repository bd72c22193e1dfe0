/* SPDX-License-Identifier: MIT */
#include "agent/reconcile.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/dhcp.h"
#include "agent/gateway.h"
#include "agent/gwns.h"
#include "agent/mapsync.h"
#include "agent/ports.h"
#include "lib/clock.h"
#include "lib/log.h"

#define MAX_ATTACHED GW_MAX_PORTS

struct reconciler {
	struct datapath *dp;
	struct nl_sock *nl;
	const char *node;
	uint32_t mtu;
	int *attached; /* ifindexes this process attached from_port to */
	size_t n_attached;
	json_t *warned;	       /* port name -> last warning, so each is logged once */
	struct port_ref *refs; /* local ports with a device, after the last run */
	size_t n_refs;
	struct dhcp_server *dhcp; /* started with the first DHCP-enabled port */
	char gw_prefix[48];	  /* gateway.h */
	bool gw_uplink;		  /* this node can serve gateways */
	struct gwns *gwns;
};

int reconciler_new(struct datapath *dp, struct nl_sock *nl, const char *node, uint32_t mtu,
		   struct reconciler **out)
{
	struct reconciler *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	rc->attached = calloc(MAX_ATTACHED, sizeof(*rc->attached));
	rc->warned = json_object();
	if (!rc->attached || !rc->warned) {
		reconciler_free(rc);
		return -ENOMEM;
	}
	if (gwns_new(GATEWAY_DEFAULT_PREFIX, NULL, &rc->gwns) < 0) {
		reconciler_free(rc);
		return -ENOMEM;
	}
	snprintf(rc->gw_prefix, sizeof(rc->gw_prefix), "%s", GATEWAY_DEFAULT_PREFIX);
	rc->dp = dp;
	rc->nl = nl;
	rc->node = node;
	rc->mtu = mtu;
	*out = rc;
	return 0;
}

int reconciler_set_gateway(struct reconciler *rc, const char *prefix, const char *uplink)
{
	struct gwns *g;
	int r;

	if (strlen(prefix) >= sizeof(rc->gw_prefix) || !*prefix || strchr(prefix, '/'))
		return -EINVAL;
	r = gwns_new(prefix, uplink, &g);
	if (r < 0)
		return r;
	gwns_free(rc->gwns);
	rc->gwns = g;
	snprintf(rc->gw_prefix, sizeof(rc->gw_prefix), "%s", prefix);
	rc->gw_uplink = uplink != NULL;
	return 0;
}

void reconciler_free(struct reconciler *rc)
{
	if (!rc)
		return;
	dhcp_server_stop(rc->dhcp);
	gwns_free(rc->gwns);
	free(rc->attached);
	free(rc->refs);
	json_decref(rc->warned);
	free(rc);
}

/* Logs a port's problem once until it changes or goes away. */
static void warn_once(struct reconciler *rc, const char *port, const char *msg)
{
	const char *last = json_string_value(json_object_get(rc->warned, port));

	if (last && strcmp(last, msg) == 0)
		return;
	log_warn("port %s: %s", port, msg);
	json_object_set_new(rc->warned, port, json_string(msg));
}

static bool is_attached(const struct reconciler *rc, int ifindex)
{
	for (size_t i = 0; i < rc->n_attached; i++)
		if (rc->attached[i] == ifindex)
			return true;
	return false;
}

static int attach_port(struct reconciler *rc, int ifindex)
{
	int r;

	if (is_attached(rc, ifindex))
		return 0;
	if (rc->n_attached == MAX_ATTACHED)
		return -ENOSPC;
	r = datapath_attach_port(rc->dp, ifindex);
	if (r < 0)
		return r;
	rc->attached[rc->n_attached++] = ifindex;
	return 0;
}

/* Plumbs every local port; returns -EAGAIN when one must be retried. */
static int sync_devices(struct reconciler *rc, const struct desired_local *want)
{
	int result = 0, r;
	char msg[160];

	for (size_t i = 0; i < want->n; i++) {
		const struct desired_port *p = &want->ports[i];
		int ifindex = 0;

		if (p->type == DESIRED_TAP)
			r = ports_plumb_tap(rc->nl, p, rc->mtu, &ifindex);
		else
			r = ports_plumb_veth(rc->nl, p, rc->mtu, &ifindex);
		if (r == 0)
			r = attach_port(rc, ifindex);
		if (r < 0) {
			if (r == -ENOENT && p->type == DESIRED_VETH)
				snprintf(msg, sizeof(msg), "netns %s does not exist; will retry",
					 p->netns);
			else if (p->type == DESIRED_TAP)
				snprintf(msg, sizeof(msg), "cannot make tap %s: %s", p->ifname,
					 strerror(-r));
			else
				snprintf(msg, sizeof(msg), "cannot plumb %s into netns %s: %s",
					 p->ifname, p->netns, strerror(-r));
			warn_once(rc, p->name, msg);
			result = -EAGAIN;
			continue;
		}
		if (json_object_get(rc->warned, p->name)) {
			log_info("port %s: plumbed as %s (ifindex %d)", p->name, p->ifname,
				 ifindex);
			json_object_del(rc->warned, p->name);
		}
	}
	r = ports_delete_stale(rc->nl, want);
	if (r < 0)
		return log_error_errno(r, "cannot delete stale port devices");
	if (r > 0)
		log_info("deleted %d stale port device(s)", r);
	return result;
}

struct link_table {
	struct nl_link *links;
	size_t n;
};

static int collect_link(const struct nl_link *link, void *data)
{
	struct link_table *t = data;
	struct nl_link *p;

	if (!desired_ifname_valid(link->name))
		return 0;
	p = realloc(t->links, (t->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->links = p;
	t->links[t->n++] = *link;
	return 0;
}

static int lookup_ifindex(const char *ifname, void *data)
{
	const struct link_table *t = data;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->links[i].name, ifname) == 0)
			return t->links[i].ifindex;
	return 0;
}

/* Forgets attachments of devices that are gone (ifindexes can be reused). */
static void prune_attached(struct reconciler *rc, const struct link_table *t)
{
	size_t j = 0;

	for (size_t i = 0; i < rc->n_attached; i++) {
		bool alive = false;

		for (size_t k = 0; k < t->n && !alive; k++)
			alive = t->links[k].ifindex == rc->attached[i];
		if (alive)
			rc->attached[j++] = rc->attached[i];
	}
	rc->n_attached = j;
}

/* state/activated_ns belong to the datapath once an entry exists. */
static void port_merge(void *want_val, const void *old_val, const void *entry)
{
	const struct desired_port_entry *e = entry;
	const struct gw_port *o = old_val;
	struct gw_port *w = want_val;

	desired_port_merge(w, o, e->force_active, e->handoff_ok,
			   (uint64_t)clock_mono_ns() /* the clock of bpf_ktime_get_ns() */);
	/* Migration completed with a silent guest: activated here. */
	if (o->state == GW_PORT_STANDBY && w->state == GW_PORT_ACTIVE)
		log_info("port ifindex %u: migration completed, standby port activated",
			 e->ifindex);
	if ((o->state == GW_PORT_HANDOFF || o->state == GW_PORT_PRIMED) &&
	    w->state == GW_PORT_ACTIVE)
		log_info("port ifindex %u: migration over, handoff ended", e->ifindex);
}

/* Remembers the local ports that have a device, for the status report. */
static int note_refs(struct reconciler *rc, const struct desired_local *local,
		     const struct link_table *links)
{
	struct port_ref *refs = NULL;
	size_t n = 0;

	if (local->n) {
		refs = calloc(local->n, sizeof(*refs));
		if (!refs)
			return -ENOMEM;
	}
	for (size_t i = 0; i < local->n; i++) {
		int ifindex = lookup_ifindex(local->ports[i].ifname, (void *)links);

		if (ifindex <= 0 || local->ports[i].gateway_port)
			continue;
		snprintf(refs[n].name, sizeof(refs[n].name), "%s", local->ports[i].name);
		refs[n++].ifindex = (uint32_t)ifindex;
	}
	free(rc->refs);
	rc->refs = refs;
	rc->n_refs = n;
	return 0;
}

void reconciler_ports(const struct reconciler *rc, const struct port_ref **refs, size_t *n)
{
	*refs = rc->refs;
	*n = rc->n_refs;
}

static int sync_maps(struct reconciler *rc, struct desired_maps *m)
{
	int r, total = 0;

#define SYNC(map, arr, n, type, keyf, valf, merge)                                                 \
	do {                                                                                       \
		r = map_sync(datapath_map_fd(rc->dp, map), arr, n, sizeof(type),                   \
			     sizeof(((type *)0)->keyf), offsetof(type, valf),                      \
			     sizeof(((type *)0)->valf), merge);                                    \
		if (r < 0)                                                                         \
			return log_error_errno(r, "cannot sync map %s", #map);                     \
		total += r;                                                                        \
	} while (0)

	SYNC(DP_MAP_PORTS, m->ports, m->n_ports, struct desired_port_entry, ifindex, val,
	     port_merge);
	SYNC(DP_MAP_FDB, m->fdb, m->n_fdb, struct desired_fdb_entry, key, val, NULL);
	SYNC(DP_MAP_NEIGH, m->neigh, m->n_neigh, struct desired_neigh_entry, key, val, NULL);
	SYNC(DP_MAP_FLOOD, m->flood, m->n_flood, struct desired_flood_entry, vni, val, NULL);
	SYNC(DP_MAP_NODES, m->nodes, m->n_nodes, struct desired_node_entry, key, val, NULL);
#undef SYNC
	return total;
}

/* Serves DHCP on the local ports with GW_PORT_F_DHCP that have a device. */
static int sync_dhcp(struct reconciler *rc, const struct desired_local *local,
		     const struct link_table *links)
{
	struct dhcp_port *ports = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < local->n; i++) {
		const struct desired_port *p = &local->ports[i];
		int ifindex = lookup_ifindex(p->ifname, (void *)links);
		struct dhcp_port *dp;

		if (!(p->flags & GW_PORT_F_DHCP) || ifindex <= 0)
			continue;
		if (!ports && !(ports = calloc(local->n, sizeof(*ports))))
			return -ENOMEM;
		dp = &ports[n++];
		snprintf(dp->name, sizeof(dp->name), "%s", p->name);
		dp->ifindex = ifindex;
		memcpy(dp->lease.mac, p->mac, 6);
		dp->lease.ipv4 = p->ipv4;
		dp->lease.gateway = p->gateway;
		dp->lease.prefixlen = p->prefixlen;
		dp->lease.mtu = (uint16_t)rc->mtu;
		dp->lease.lease_s = DHCP_LEASE_SECONDS;
	}
	if (n && !rc->dhcp) {
		struct dhcp_server *started = NULL;

		r = dhcp_server_start(&started);
		if (r == 0) /* read by other threads: reconcile_dhcp_stats */
			__atomic_store_n(&rc->dhcp, started, __ATOMIC_RELEASE);
	}
	if (r == 0 && rc->dhcp)
		r = dhcp_server_set_ports(rc->dhcp, ports, n);
	free(ports);
	return r;
}

/* The gateway ports of this node into local, and what they need around them. */
static int sync_gateways(struct reconciler *rc, const struct cache *snapshot,
			 struct desired_local *local)
{
	const char *name;
	json_t *net;
	int r;

	if (rc->gw_uplink) {
		r = gateway_local_ports(snapshot, rc->node, rc->gw_prefix, local);
		if (r < 0)
			return r;
	} else {
		json_object_foreach(snapshot->objs[CACHE_NETWORKS], name, net)
		{
			const char *gw = gateway_node_of(net);

			char key[80];

			snprintf(key, sizeof(key), "gateway:%s", name);
			if (!gw || strcmp(gw, rc->node) != 0 || json_object_get(rc->warned, key))
				continue;
			log_warn("network %s names this node its gateway, but the agent has no "
				 "--gateway-uplink: it is not routed out here",
				 name);
			json_object_set_new(rc->warned, key, json_true());
		}
	}
	return gwns_sync(rc->gwns, rc->nl, local);
}

int reconcile_run(struct reconciler *rc, const struct cache *snapshot)
{
	struct desired_local local = {0};
	struct desired_maps maps = {0};
	struct link_table links = {0};
	int r, devices, gateways, dhcp = 0;

	r = desired_local_ports(snapshot, rc->node, &local);
	if (r < 0)
		goto cleanup;
	r = sync_gateways(rc, snapshot, &local);
	if (r < 0 && r != -EAGAIN)
		goto cleanup;
	gateways = r;
	devices = sync_devices(rc, &local);
	if (devices < 0 && devices != -EAGAIN) {
		r = devices;
		goto cleanup;
	}
	r = nl_link_dump(rc->nl, collect_link, &links);
	if (r < 0) {
		log_error_errno(r, "cannot dump links");
		goto cleanup;
	}
	prune_attached(rc, &links);
	r = desired_maps_compute(snapshot, rc->node, lookup_ifindex, &links, &maps);
	if (r < 0)
		goto cleanup;
	r = sync_maps(rc, &maps);
	if (r < 0)
		goto cleanup;
	if (note_refs(rc, &local, &links) < 0)
		log_warn("out of memory: the port report is not updated");
	dhcp = sync_dhcp(rc, &local, &links); /* per-port failures are logged there */
	log_debug("reconciled revision %llu: %zu local port(s), %d map change(s)",
		  (unsigned long long)snapshot->revision, local.n, r);
	r = devices < 0 || gateways < 0 || maps.missing_local || dhcp < 0 ? -EAGAIN : 0;
cleanup:
	desired_local_free(&local);
	desired_maps_free(&maps);
	free(links.links);
	return r;
}

int reconcile_dhcp_stats(struct reconciler *rc, struct dhcp_stats *out)
{
	struct dhcp_server *s = __atomic_load_n(&rc->dhcp, __ATOMIC_ACQUIRE);

	if (!s)
		return -ENOENT;
	dhcp_server_stats(s, out);
	return 0;
}

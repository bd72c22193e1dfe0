/* SPDX-License-Identifier: MIT */
#include "agent/desired.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dhcp_proto.h"
#include "agent/gateway.h"
#include "lib/addr.h"
#include "lib/phases.h"
#include "lib/log.h"

/* Grows *arr (of elem-sized items) so that one more fits. */
static int grow(void **arr, size_t n, size_t elem)
{
	void *p;

	/* capacity: 16, then the next power of two */
	if ((n > 0 && n < 16) || (n > 16 && (n & (n - 1))))
		return 0;
	p = realloc(*arr, (n < 16 ? 16 : n * 2) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

bool desired_ifname_valid(const char *ifname)
{
	if (!ifname || strlen(ifname) != 12 || strncmp(ifname, "gw", 2) != 0)
		return false;
	for (int i = 2; i < 12; i++)
		if (!((ifname[i] >= '0' && ifname[i] <= '9') || (ifname[i] >= 'a' && ifname[i] <= 'f')))
			return false;
	return true;
}

static const json_t *spec_of(const json_t *obj)
{
	return json_object_get(obj, "spec");
}

static const char *spec_str(const json_t *obj, const char *field)
{
	return json_string_value(json_object_get(spec_of(obj), field));
}

/* An IPv4 address in network byte order (the datapath's form). */
static int parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t a;
	int r = addr_ipv4_parse(s, &a);

	if (r < 0)
		return r;
	*out = htonl(a);
	return 0;
}

/* A Network's VNI and prefix length. */
static int parse_network(const json_t *net, uint32_t *vni, uint8_t *prefixlen)
{
	const json_t *v = json_object_get(spec_of(net), "vni");
	const char *cidr = spec_str(net, "cidr");
	const char *slash;
	char *end;
	long len;

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > (json_int_t)GW_VNI_MAX || !cidr)
		return -EINVAL;
	slash = strchr(cidr, '/');
	if (!slash)
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len < 0 || len > 32)
		return -EINVAL;
	*vni = (uint32_t)json_integer_value(v);
	*prefixlen = (uint8_t)len;
	return 0;
}

static bool network_dhcp(const json_t *net)
{
	return json_is_true(json_object_get(spec_of(net), "dhcp"));
}

/* The port's locations: 1..GW_FDB_MAX_LOC node names. */
static size_t port_locations(const json_t *port, const char *names[GW_FDB_MAX_LOC])
{
	const json_t *locs = json_object_get(spec_of(port), "locations");
	size_t n = 0, i;
	json_t *l;

	json_array_foreach(locs, i, l) {
		if (n == GW_FDB_MAX_LOC || !json_string_value(l))
			return 0;
		names[n++] = json_string_value(l);
	}
	return n;
}

/* Fills everything but the name/ifname/netns fields that only local ports use. */
static int parse_port(const struct cache *c, const json_t *port, struct desired_port *p)
{
	const json_t *net = json_object_get(c->objs[CACHE_NETWORKS], spec_str(port, "network") ?: "");
	const json_t *security = json_object_get(spec_of(port), "security");
	const char *ipv4 = spec_str(port, "ipv4"), *type = spec_str(port, "type");
	const char *strategy = spec_str(port, "strategy");
	enum strategy st = STRATEGY_FIRST_FRAME; /* absent: the default */

	memset(p, 0, sizeof(*p));
	if (!net || parse_network(net, &p->vni, &p->prefixlen) < 0)
		return -ENOENT;
	if (addr_mac_parse(spec_str(port, "mac"), p->mac) < 0)
		return -EINVAL;
	if (ipv4 && parse_ipv4(ipv4, &p->ipv4) < 0)
		return -EINVAL;
	if (!type || strcmp(type, "veth") == 0) {
		p->type = DESIRED_VETH;
		p->flags |= GW_PORT_F_VETH;
	} else if (strcmp(type, "tap") == 0)
		p->type = DESIRED_TAP;
	else
		return -EINVAL;
	if (strategy && strategy_parse(strategy, &st) < 0)
		return -EINVAL;
	p->strategy = (enum gw_activation)st; /* one list: the same values */
	if (!json_is_false(security))
		p->flags |= GW_PORT_F_SECURITY;
	if (p->ipv4)
		p->flags |= GW_PORT_F_HAS_IPV4;
	if (parse_ipv4(spec_str(net, "gateway"), &p->gateway) < 0)
		p->gateway = 0;
	if (network_dhcp(net) && p->ipv4 && p->gateway)
		p->flags |= GW_PORT_F_DHCP;
	return 0;
}

static int parse_local_port(const struct cache *c, const char *name, const json_t *port,
			    const char *node, struct desired_port *p)
{
	const char *locs[GW_FDB_MAX_LOC], *ifname = spec_str(port, "ifname");
	const char *netns = spec_str(port, "netns"), *target = spec_str(port, "target");
	size_t n = port_locations(port, locs), i;
	bool located = false, is_target;

	if (target && !*target)
		target = NULL;
	is_target = target && strcmp(target, node) == 0;
	for (i = 0; i < n; i++)
		if (strcmp(locs[i], node) == 0)
			located = true;
	if (!located && !is_target)
		return -ENOENT;
	if (parse_port(c, port, p) < 0 || !desired_ifname_valid(ifname) ||
	    strlen(name) >= sizeof(p->name))
		return -EINVAL;
	if (p->type == DESIRED_VETH &&
	    (!netns || !*netns || strlen(netns) >= sizeof(p->netns) || strchr(netns, '/') ||
	     strcmp(netns, ".") == 0 || strcmp(netns, "..") == 0))
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	snprintf(p->netns, sizeof(p->netns), "%s", netns ? netns : "");
	p->standby = is_target;
	p->force_active = located && n == 1 && !target;
	p->handoff_ok = located && target && !is_target;
	return 0;
}

int desired_local_ports(const struct cache *c, const char *node, struct desired_local *out)
{
	struct desired_local d = { 0 };
	struct desired_port p;
	const char *name;
	json_t *port;
	int r;

	json_object_foreach(c->objs[CACHE_PORTS], name, port) {
		r = parse_local_port(c, name, port, node, &p);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			log_debug("port %s: unusable spec, skipped", name);
			continue;
		}
		if (grow((void **)&d.ports, d.n, sizeof(*d.ports)) < 0) {
			desired_local_free(&d);
			return -ENOMEM;
		}
		d.ports[d.n++] = p;
	}
	*out = d;
	return 0;
}

void desired_local_free(struct desired_local *d)
{
	free(d->ports);
	d->ports = NULL;
	d->n = 0;
}

/* The underlay IPv4 (network order) of a node other than this one; 0 if unknown. */
static uint32_t node_ip(const struct cache *c, const char *name)
{
	const json_t *node = json_object_get(c->objs[CACHE_NODES], name);
	uint32_t ip;

	if (!node || parse_ipv4(spec_str(node, "underlay_ip"), &ip) < 0)
		return 0;
	return ip;
}

static int add_u32_unique(uint32_t *arr, uint32_t *n, uint32_t max, uint32_t v)
{
	for (uint32_t i = 0; i < *n; i++)
		if (arr[i] == v)
			return 0;
	if (*n == max)
		return -ENOSPC;
	arr[(*n)++] = v;
	return 0;
}

static int add_addr_unique(union gw_addr *arr, uint32_t *n, uint32_t max, const union gw_addr *v)
{
	for (uint32_t i = 0; i < *n; i++)
		if (memcmp(&arr[i], v, sizeof(*v)) == 0)
			return 0;
	if (*n == max)
		return -ENOSPC;
	arr[(*n)++] = *v;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(union gw_addr));
}

static struct desired_flood_entry *flood_for(struct desired_maps *m, uint32_t vni)
{
	for (size_t i = 0; i < m->n_flood; i++)
		if (m->flood[i].vni == vni)
			return &m->flood[i];
	if (grow((void **)&m->flood, m->n_flood, sizeof(*m->flood)) < 0)
		return NULL;
	memset(&m->flood[m->n_flood], 0, sizeof(m->flood[0]));
	m->flood[m->n_flood].vni = vni;
	return &m->flood[m->n_flood++];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The ports map entry of a local port (it may not be a location yet: a
 * prepared migration target); *ifindex is 0 when it has no device. */
static int add_local_entry(struct desired_maps *m, const struct desired_port *lp,
			   desired_ifindex_fn ifindex_of, void *ctx, uint32_t *ifindex)
{
	struct desired_port_entry *e;
	int r = ifindex_of(lp->ifname, ctx);

	*ifindex = 0;
	if (r <= 0) {
		m->missing_local++;
		return 0;
	}
	if (grow((void **)&m->ports, m->n_ports, sizeof(*m->ports)) < 0)
		return -ENOMEM;
	e = &m->ports[m->n_ports++];
	memset(e, 0, sizeof(*e));
	e->ifindex = (uint32_t)r;
	e->val = (struct gw_port){.vni = lp->vni,
				  .ip = GW_ADDR_V4(lp->ipv4),
				  .flags = lp->flags,
				  .state = lp->standby ? GW_PORT_STANDBY : GW_PORT_ACTIVE,
				  .strategy = lp->strategy};
	memcpy(e->val.mac, lp->mac, 6);
	e->force_active = lp->force_active;
	e->handoff_ok = lp->handoff_ok;
	*ifindex = (uint32_t)r;
	return 0;
}

/* Adds the entries one Port contributes to every map. */
static int add_port(struct desired_maps *m, const struct cache *c, const char *name,
		    const json_t *port, const char *node, desired_ifindex_fn ifindex_of, void *ctx)
{
	const char *locs[GW_FDB_MAX_LOC];
	size_t n = port_locations(port, locs);
	struct desired_fdb_entry fdb = { 0 };
	struct desired_flood_entry *flood;
	struct desired_port p, lp;
	uint32_t local_ifindex = 0;
	int r;

	if (parse_port(c, port, &p) < 0) {
		log_debug("port %s: unusable spec, skipped", name);
		return 0;
	}
	if (parse_local_port(c, name, port, node, &lp) == 0) {
		r = add_local_entry(m, &lp, ifindex_of, ctx, &local_ifindex);
		if (r < 0)
			return r;
	}
	if (n == 0)
		return 0;
	flood = flood_for(m, p.vni);
	if (!flood)
		return -ENOMEM;
	fdb.key.vni = p.vni;
	memcpy(fdb.key.mac, p.mac, 6);
	for (size_t i = 0; i < n; i++) {
		struct gw_location *loc = &fdb.val.loc[fdb.val.count];

		if (strcmp(locs[i], node) == 0) {
			if (!local_ifindex)
				continue;
			loc->ifindex = local_ifindex;
			if (add_u32_unique(flood->val.local_ifindex, &flood->val.n_local,
					   GW_FLOOD_MAX_LOCAL, loc->ifindex) < 0)
				log_warn("network vni %u: more than %d local ports, flood list cut",
					 p.vni, GW_FLOOD_MAX_LOCAL);
		} else {
			loc->node_ip.v4 = node_ip(c, locs[i]);
			if (!loc->node_ip.v4)
				continue; /* node not registered (yet) */
			if (add_addr_unique(flood->val.remote_ip, &flood->val.n_remote,
					    GW_FLOOD_MAX_REMOTE, &loc->node_ip) < 0)
				log_warn("network vni %u: more than %d remote nodes, flood list cut",
					 p.vni, GW_FLOOD_MAX_REMOTE);
		}
		fdb.val.count++;
	}
	if (fdb.val.count > 0) {
		if (grow((void **)&m->fdb, m->n_fdb, sizeof(*m->fdb)) < 0)
			return -ENOMEM;
		m->fdb[m->n_fdb++] = fdb;
	}
	if (p.ipv4) {
		struct desired_neigh_entry ne = {
		    .key = {.vni = p.vni, .family = GW_FAMILY_IPV4, .ip = GW_ADDR_V4(p.ipv4)}};

		memcpy(ne.val.mac, p.mac, 6);
		if (grow((void **)&m->neigh, m->n_neigh, sizeof(*m->neigh)) < 0)
			return -ENOMEM;
		m->neigh[m->n_neigh++] = ne;
	}
	return 0;
}

/* ARP for the gateway of a DHCP network (the server id) or of a network with a
 * gateway node gets its virtual MAC. */
static int add_dhcp_gateways(struct desired_maps *m, const struct cache *c)
{
	struct desired_neigh_entry ne;
	const char *name;
	uint8_t prefixlen;
	uint32_t vni, gw;
	json_t *net;

	json_object_foreach(c->objs[CACHE_NETWORKS], name, net) {
		if ((!network_dhcp(net) && !gateway_node_of(net)) ||
		    parse_network(net, &vni, &prefixlen) < 0 ||
		    parse_ipv4(spec_str(net, "gateway"), &gw) < 0 || gw == 0)
			continue;
		memset(&ne, 0, sizeof(ne));
		ne.key = (struct gw_neigh_key){
		    .vni = vni, .family = GW_FAMILY_IPV4, .ip = GW_ADDR_V4(gw)};
		dhcp_gateway_mac(gw, ne.val.mac);
		if (grow((void **)&m->neigh, m->n_neigh, sizeof(*m->neigh)) < 0)
			return -ENOMEM;
		m->neigh[m->n_neigh++] = ne;
	}
	return 0;
}

/* The other nodes' underlay addresses: where VXLAN may come from. */
static int add_nodes(struct desired_maps *m, const struct cache *c, const char *node)
{
	const char *name;
	json_t *obj;

	json_object_foreach(c->objs[CACHE_NODES], name, obj)
	{
		uint32_t ip = node_ip(c, name);

		if (!ip || strcmp(name, node) == 0)
			continue;
		if (grow((void **)&m->nodes, m->n_nodes, sizeof(*m->nodes)) < 0)
			return -ENOMEM;
		m->nodes[m->n_nodes++] = (struct desired_node_entry){.key = GW_ADDR_V4(ip)};
	}
	return 0;
}

/* The gateway port's fdb entry (and, on the gateway node, its ports entry). */
static int add_gateway(struct desired_maps *m, const struct cache *c, const char *name,
		       const json_t *net, const char *node, desired_ifindex_fn ifindex_of,
		       void *ctx)
{
	const char *gw_node = gateway_node_of(net);
	struct desired_fdb_entry fdb = {0};
	struct desired_port p;
	uint32_t ifindex = 0;
	int r;

	if (gateway_port_of(name, net, &p) < 0)
		return 0;
	fdb.key.vni = p.vni;
	memcpy(fdb.key.mac, p.mac, 6);
	if (strcmp(gw_node, node) == 0) {
		/* No device: not served here (gateway_local_ports says why), not missing. */
		if (ifindex_of(p.ifname, ctx) <= 0)
			return 0;
		r = add_local_entry(m, &p, ifindex_of, ctx, &ifindex);
		if (r < 0 || !ifindex)
			return r;
		fdb.val.loc[0].ifindex = ifindex;
	} else {
		fdb.val.loc[0].node_ip.v4 = node_ip(c, gw_node);
		if (!fdb.val.loc[0].node_ip.v4)
			return 0; /* not registered (yet) */
	}
	fdb.val.count = 1;
	if (grow((void **)&m->fdb, m->n_fdb, sizeof(*m->fdb)) < 0)
		return -ENOMEM;
	m->fdb[m->n_fdb++] = fdb;
	return 0;
}

void desired_port_merge(struct gw_port *want, const struct gw_port *old, bool force_active,
			bool handoff_ok, uint64_t now_ns)
{
	want->state = old->state;
	want->activated_ns = old->activated_ns;
	if (force_active && old->state == GW_PORT_STANDBY) {
		want->state = GW_PORT_ACTIVE;
		want->activated_ns = now_ns;
	}
	if (!handoff_ok && (old->state == GW_PORT_HANDOFF || old->state == GW_PORT_PRIMED))
		want->state = GW_PORT_ACTIVE; /* the migration ended: the VM is here */
}

int desired_maps_compute(const struct cache *c, const char *node, desired_ifindex_fn ifindex_of,
			 void *ctx, struct desired_maps *out)
{
	struct desired_maps m = { 0 };
	const char *name;
	json_t *port, *net;
	size_t i, j;
	int r;

	json_object_foreach(c->objs[CACHE_PORTS], name, port) {
		r = add_port(&m, c, name, port, node, ifindex_of, ctx);
		if (r < 0) {
			desired_maps_free(&m);
			return r;
		}
	}
	r = add_dhcp_gateways(&m, c);
	if (r == 0)
		r = add_nodes(&m, c, node);
	if (r < 0) {
		desired_maps_free(&m);
		return r;
	}
	json_object_foreach(c->objs[CACHE_NETWORKS], name, net)
	{
		r = add_gateway(&m, c, name, net, node, ifindex_of, ctx);
		if (r < 0) {
			desired_maps_free(&m);
			return r;
		}
	}
	/* Sorted flood lists, and no entry for a network with nothing to flood to. */
	for (i = 0, j = 0; i < m.n_flood; i++) {
		struct gw_flood *f = &m.flood[i].val;

		if (f->n_local + f->n_remote == 0)
			continue;
		qsort(f->local_ifindex, f->n_local, sizeof(uint32_t), cmp_u32);
		qsort(f->remote_ip, f->n_remote, sizeof(union gw_addr), cmp_addr);
		m.flood[j++] = m.flood[i];
	}
	m.n_flood = j;
	*out = m;
	return 0;
}

void desired_maps_free(struct desired_maps *d)
{
	free(d->ports);
	free(d->fdb);
	free(d->neigh);
	free(d->flood);
	free(d->nodes);
	memset(d, 0, sizeof(*d));
}

/* SPDX-License-Identifier: MIT */
/* gateway: what a network's way out needs on each node (design in gateway.h). */
#include "agent/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dhcp_proto.h"
#include "lib/addr.h"
#include "lib/kinds.h"
#include "lib/log.h"

/* 169.254.1.0 .. 169.254.254.255 (RFC 3927 keeps the first and last /24). */
#define LINK_BASE  0xa9fe0100U
#define LINK_SLOTS (254U * 256U / 2U)

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Hashed with a tag, so that the three names never agree by chance. */
static uint64_t name_hash(const char *tag, const char *network)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s/%s", tag, network);
	return fnv1a(buf);
}

const char *gateway_node_of(const json_t *net)
{
	const char *n = obj_str(net, "spec", "gatewayNode");

	return n && *n ? n : NULL;
}

void gateway_port_ifname(const char *network, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "gw%010llx",
		 (unsigned long long)(name_hash("port", network) & 0xffffffffffULL));
}

void gateway_link_ifname(const char *network, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "gwup%08x", (unsigned)(name_hash("link", network) >> 32));
}

bool gateway_link_ifname_valid(const char *ifname)
{
	if (!ifname || strlen(ifname) != 12 || strncmp(ifname, "gwup", 4) != 0)
		return false;
	for (int i = 4; i < 12; i++)
		if (!((ifname[i] >= '0' && ifname[i] <= '9') ||
		      (ifname[i] >= 'a' && ifname[i] <= 'f')))
			return false;
	return true;
}

int gateway_netns_name(const char *prefix, const char *network, char out[64])
{
	size_t lp = strlen(prefix), ln = strlen(network);

	if (lp + ln <= 63) {
		memcpy(out, prefix, lp);
		memcpy(out + lp, network, ln + 1);
		return 0;
	}
	if (lp + 10 > 63)
		return -EINVAL;
	snprintf(out, 64, "%s%.*s-%08x", prefix, (int)(63 - lp - 9), network,
		 (unsigned)(name_hash("netns", network) >> 32));
	return 0;
}

void gateway_link_addrs(uint32_t vni, uint32_t *node_end, uint32_t *ns_end)
{
	uint32_t a = LINK_BASE + 2U * (vni % LINK_SLOTS);

	*node_end = htonl(a);
	*ns_end = htonl(a + 1);
}

int gateway_port_of(const char *name, const json_t *net, struct desired_port *p)
{
	const json_t *spec = json_object_get(net, "spec");
	const json_t *vni = json_object_get(spec, "vni");
	const char *cidr = json_string_value(json_object_get(spec, "cidr"));
	uint32_t gw, netaddr;
	unsigned len;

	memset(p, 0, sizeof(*p));
	if (!gateway_node_of(net))
		return -ENOENT;
	if (!json_is_integer(vni) || json_integer_value(vni) < 1 ||
	    json_integer_value(vni) > (json_int_t)GW_VNI_MAX || !cidr ||
	    addr_ipv4_parse_cidr(cidr, &netaddr, &len) < 0 ||
	    addr_ipv4_parse(json_string_value(json_object_get(spec, "gateway")), &gw) < 0 ||
	    gw == 0)
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "gateway:%s", name);
	snprintf(p->network, sizeof(p->network), "%s", name);
	gateway_port_ifname(name, p->ifname);
	p->type = DESIRED_VETH;
	p->vni = (uint32_t)json_integer_value(vni);
	p->ipv4 = htonl(gw);
	p->gateway = 0; /* it is the gateway: no route via itself */
	p->prefixlen = (uint8_t)len;
	dhcp_gateway_mac(p->ipv4, p->mac);
	/* No port security: it sends for every address outside. */
	p->flags = GW_PORT_F_VETH | GW_PORT_F_HAS_IPV4;
	p->strategy = GW_ACT_FIRST_FRAME;
	p->force_active = true;
	p->gateway_port = true;
	return 0;
}

static bool slot_taken(const struct desired_local *d, size_t from, uint32_t vni)
{
	uint32_t a, b, x, y;

	gateway_link_addrs(vni, &a, &b);
	for (size_t i = from; i < d->n; i++) {
		if (!d->ports[i].gateway_port)
			continue;
		gateway_link_addrs(d->ports[i].vni, &x, &y);
		if (x == a)
			return true;
	}
	return false;
}

int gateway_local_ports(const struct cache *c, const char *node, const char *prefix,
			struct desired_local *out)
{
	size_t first = out->n;
	const char *name;
	json_t *net;

	json_object_foreach(c->objs[CACHE_NETWORKS], name, net)
	{
		const char *gw_node = gateway_node_of(net);
		struct desired_port p, *grown;

		if (!gw_node || strcmp(gw_node, node) != 0)
			continue;
		if (gateway_port_of(name, net, &p) < 0 ||
		    gateway_netns_name(prefix, name, p.netns) < 0) {
			log_debug("network %s: unusable for a gateway, skipped", name);
			continue;
		}
		if (slot_taken(out, first, p.vni)) {
			log_warn("network %s: its gateway link would share 169.254 addresses with "
				 "another network's (VNI %u modulo %u); no gateway",
				 name, p.vni, LINK_SLOTS);
			continue;
		}
		grown = realloc(out->ports, (out->n + 1) * sizeof(*out->ports));
		if (!grown)
			return -ENOMEM;
		out->ports = grown;
		out->ports[out->n++] = p;
	}
	return 0;
}

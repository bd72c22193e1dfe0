/* SPDX-License-Identifier: MIT */
#include "agent/fabric.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "lib/log.h"

struct owner_of {
	uint32_t ipv4;
	int ifindex;
};

static int match_owner(int ifindex, uint32_t ipv4, uint8_t prefixlen, void *ctx)
{
	struct owner_of *o = ctx;

	(void)prefixlen;
	if (ipv4 == o->ipv4 && o->ifindex == 0)
		o->ifindex = ifindex;
	return 0;
}

/* The device that holds the underlay address: the VXLAN device sends through it. */
static int underlay_device(struct nl_sock *nl, uint32_t underlay_ip, int *ifindex)
{
	struct owner_of o = {.ipv4 = underlay_ip};
	int r;

	r = nl_addr_dump(nl, 0, match_owner, &o);
	if (r < 0)
		return r;
	if (o.ifindex == 0)
		return -EADDRNOTAVAIL;
	*ifindex = o.ifindex;
	return 0;
}

int fabric_setup(struct nl_sock *nl, struct datapath *dp, uint32_t underlay_ip, int *ifindex)
{
	struct gw_config cfg = { 0 };
	struct nl_link link;
	uint32_t key = 0;
	char ip[INET_ADDRSTRLEN];
	int r, dev;

	inet_ntop(AF_INET, &underlay_ip, ip, sizeof(ip));
	r = underlay_device(nl, underlay_ip, &dev);
	if (r < 0)
		return log_error_errno(r, "no device holds the underlay address %s", ip);
	r = nl_link_get(nl, FABRIC_IFNAME, &link);
	/* A device of an earlier version, or made by hand, with another local
	 * address is made again: only the tc programs hang on it, attached below. */
	if (r == 0 && strcmp(link.kind, "vxlan") == 0 && link.vxlan_local != underlay_ip) {
		log_info("%s is not bound to %s: making it again", FABRIC_IFNAME, ip);
		r = nl_link_del(nl, link.ifindex);
		if (r < 0)
			return log_error_errno(r, "cannot delete %s", FABRIC_IFNAME);
		r = -ENODEV;
	}
	if (r == -ENODEV) {
		r = nl_vxlan_create_external(nl, FABRIC_IFNAME, GW_VXLAN_PORT, FABRIC_MTU,
					     underlay_ip);
		if (r < 0)
			return log_error_errno(r, "cannot create %s", FABRIC_IFNAME);
		log_info("created %s (external, dstport %d, local %s on ifindex %d)", FABRIC_IFNAME,
			 GW_VXLAN_PORT, ip, dev);
		r = nl_link_get(nl, FABRIC_IFNAME, &link);
	}
	if (r < 0)
		return log_error_errno(r, "cannot read %s", FABRIC_IFNAME);
	if (strcmp(link.kind, "vxlan") != 0) {
		log_error("%s exists but is a '%s' device, not vxlan", FABRIC_IFNAME, link.kind);
		return -EEXIST;
	}
	if (link.mtu != FABRIC_MTU) {
		r = nl_link_set(nl, link.ifindex, NULL, FABRIC_MTU, NULL);
		if (r < 0)
			return log_error_errno(r, "cannot set the MTU of %s", FABRIC_IFNAME);
	}
	if (!(link.flags & IFF_UP)) {
		r = nl_link_set_up(nl, link.ifindex, true);
		if (r < 0)
			return log_error_errno(r, "cannot set %s up", FABRIC_IFNAME);
	}
	r = datapath_attach_fabric(dp, link.ifindex);
	if (r < 0)
		return log_error_errno(r, "cannot attach from_fabric to %s", FABRIC_IFNAME);
	cfg.vxlan_ifindex = (uint32_t)link.ifindex;
	cfg.underlay_family = GW_FAMILY_IPV4;
	cfg.local_ip.v4 = underlay_ip;
	if (bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_CONFIG), &key, &cfg, BPF_ANY) < 0)
		return log_error_errno(-errno, "cannot write %s", GW_MAP_CONFIG);
	*ifindex = link.ifindex;
	return 0;
}

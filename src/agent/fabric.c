/* SPDX-License-Identifier: MIT */
#include "agent/fabric.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "lib/log.h"

int fabric_setup(struct nl_sock *nl, struct datapath *dp, uint32_t underlay_ip, int *ifindex)
{
	struct gw_config cfg = { 0 };
	struct nl_link link;
	uint32_t key = 0;
	int r;

	r = nl_link_get(nl, FABRIC_IFNAME, &link);
	if (r == -ENODEV) {
		r = nl_vxlan_create_external(nl, FABRIC_IFNAME, GW_VXLAN_PORT, FABRIC_MTU);
		if (r < 0)
			return log_error_errno(r, "cannot create %s", FABRIC_IFNAME);
		log_info("created %s (external, dstport %d)", FABRIC_IFNAME, GW_VXLAN_PORT);
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

/* SPDX-License-Identifier: MIT */
/*
 * Activation of a standby port (migration target) by the VM's own traffic.
 * The STANDBY -> ACTIVE flip is a cmpxchg on the 32-bit state, so exactly one
 * CPU wins, stamps the time and reports the event; every frame that passed
 * the strategy's test is forwarded whether or not it won.
 */
#ifndef GODWIT_BPF_LIB_ACTIVATION_H
#define GODWIT_BPF_LIB_ACTIVATION_H

#include "common.h"
#include "maps.h"
#include "eth.h"

static __always_inline void activation_report(__u32 ifindex, const struct gw_port *port,
					      const struct ethhdr *eth, __u64 now)
{
	struct gw_event *ev = bpf_ringbuf_reserve(&gw_events, sizeof(*ev), 0);

	if (!ev)
		return; /* ring full: activated_ns in the port still tells the time */
	ev->ts_ns = now;
	ev->type = GW_EV_ACTIVATED;
	ev->ifindex = ifindex;
	ev->vni = port->vni;
	mac_copy(ev->mac, eth->h_source);
	ev->ethertype = bpf_ntohs(eth->h_proto);
	bpf_ringbuf_submit(ev, 0);
}

/* TC_ACT_OK when the frame may go on (port active or just activated). */
static __always_inline int activation_check(struct gw_port *port, __u32 ifindex,
					    const struct ethhdr *eth)
{
	__u64 now;

	if (port->state != GW_PORT_STANDBY)
		return TC_ACT_OK;
	if (port->strategy == GW_ACT_RARP && eth->h_proto != bpf_htons(ETH_P_RARP_))
		return DROP(GW_CNT_DROP_NOT_ACTIVE);
	if (__sync_val_compare_and_swap(&port->state, GW_PORT_STANDBY, GW_PORT_ACTIVE) !=
	    GW_PORT_STANDBY)
		return TC_ACT_OK; /* another CPU won the race */
	now = bpf_ktime_get_ns();
	port->activated_ns = now;
	count(GW_CNT_ACTIVATION);
	activation_report(ifindex, port, eth, now);
	return TC_ACT_OK;
}

#endif

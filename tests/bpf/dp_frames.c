/* SPDX-License-Identifier: MIT */
/*
 * The test frames: each builds a frame in (and, where the datapath rewrites
 * or answers it, the frame expected out) from the baseline's ports and MACs.
 */
#include "dptest.h"

uint8_t macbuf[16][6];

void f_local(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
}

void f_remote(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(10), MAC(1), vm_ip(1), vm_ip(10), 1000, 2000);
}

void f_unknown(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(15), MAC(1), vm_ip(1), vm_ip(15), 1000, 2000);
}

const uint8_t zero_mac[6];

void f_arp_answered(struct frame *in, struct frame *out)
{
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(2));
	frame_arp(out, 2, MAC(1), MAC(2), MAC(2), vm_ip(2), MAC(1), vm_ip(1));
}

void f_arp_unicast_remote(struct frame *in, struct frame *out)
{
	/* A unicast refresh for a remote VM's address is answered too. */
	frame_arp(in, 1, MAC(10), MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(10));
	frame_arp(out, 2, MAC(1), MAC(10), MAC(10), vm_ip(10), MAC(1), vm_ip(1));
}

void f_garp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(2), MAC(2), vm_ip(2), zero_mac, vm_ip(2));
}

void f_arp_unknown_target(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(99));
}

void f_arp_probe(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), 0, zero_mac, vm_ip(1));
}

void f_spoof_mac(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(9), vm_ip(1), vm_ip(2), 1000, 2000);
}

void f_spoof_ip(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(9), vm_ip(2), 1000, 2000);
}

void f_arp_spoof_sha(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(9), vm_ip(1), zero_mac, vm_ip(2));
}

void f_arp_spoof_spa(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(9), zero_mac, vm_ip(2));
}

void f_dhcp_discover(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(1), 0, 0xffffffffU, 68, 67);
}

void f_zero_src_not_dhcp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(1), 0, 0xffffffffU, 1234, 67);
}

void f_dhcp_discover_2(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(2), 0, 0xffffffffU, 68, 67);
}

void f_dhcp_renew_2(struct frame *in, struct frame *out)
{
	(void)out;
	/* RENEWING: unicast from the lease to the server id (any MAC). */
	frame_ipv4_udp(in, MAC(12), MAC(2), vm_ip(2), vm_ip(99), 68, 67);
}

void f_dhcp_spoofed_2(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(9), 0, 0xffffffffU, 68, 67);
}

void f_dhcp_server_port_2(struct frame *in, struct frame *out)
{
	(void)out;
	/* To port 67 but not from 68: not a DHCP client, not consumed. */
	frame_ipv4_udp(in, mac_broadcast, MAC(2), vm_ip(2), 0xffffffffU, 1000, 67);
}

void f_vlan(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
	/* Insert an 802.1Q tag (VID 5) after the MAC addresses. */
	memmove(in->data + 16, in->data + 12, in->len - 12);
	in->data[12] = 0x81;
	in->data[13] = 0x00;
	in->data[14] = 0x00;
	in->data[15] = 0x05;
	in->len += 4;
}

/* BPF_PROG_TEST_RUN refuses an IPv4 frame shorter than an IPv4 header, so
 * the malformed cases are a bad version and a truncated ARP. */
void f_bad_ip_version(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
	in->data[14] = 0x65;
}

void f_truncated_arp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(2));
	in->len -= 4; /* no target IPv4 */
}

void f_other_vni_fdb(struct frame *in, struct frame *out)
{
	(void)out;
	/* From port 3 (VNI B) to M2, which only VNI A knows. */
	frame_ipv4_udp(in, MAC(2), MAC(3), vm_ip(3), vm_ip(2), 1000, 2000);
}

void f_other_vni_arp(struct frame *in, struct frame *out)
{
	(void)out;
	/* VNI B asks for an address only VNI A knows: not answered, flooded
	 * in VNI B (where port 3 is alone: no copy). */
	frame_arp(in, 1, mac_broadcast, MAC(3), MAC(3), vm_ip(3), zero_mac, vm_ip(2));
}

void f_cross_vni_entry(struct frame *in, struct frame *out)
{
	(void)out;
	/* fdb (A, M3) points at port 3, which is in VNI B. */
	frame_ipv4_udp(in, MAC(3), MAC(1), vm_ip(1), vm_ip(3), 1000, 2000);
}

void f_to_standby(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(4), MAC(1), vm_ip(1), vm_ip(4), 1000, 2000);
}

void f_victim_mac(struct frame *in, struct frame *out)
{
	(void)out;
	/* Port 1 sends as the standby VM 4, and a RARP as the standby VM 5. */
	frame_ipv4_udp(in, MAC(2), MAC(4), vm_ip(4), vm_ip(2), 1000, 2000);
}

void f_victim_rarp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_rarp(in, MAC(5));
}

void f_no_port(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
}

void f_replicate(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(6), MAC(1), vm_ip(1), vm_ip(6), 1000, 2000);
}

void f_hairpin(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(1), MAC(1), vm_ip(1), vm_ip(1), 1000, 2000);
}

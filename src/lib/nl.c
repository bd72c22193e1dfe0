/* SPDX-License-Identifier: MIT */
#include "nl.h"

#include "lib/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NL_BUF_SIZE 32768

struct nl_sock {
	struct mnl_socket *mnl;
	unsigned int portid;
	unsigned int seq;
	char buf[NL_BUF_SIZE];
};

int nl_open(struct nl_sock **out)
{
	struct nl_sock *nl;
	int r;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->mnl) {
		r = -errno;
		goto cleanup;
	}
	if (mnl_socket_bind(nl->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto cleanup;
	}
	nl->portid = mnl_socket_get_portid(nl->mnl);
	nl->seq = (unsigned int)time(NULL);
	*out = nl;
	return 0;
cleanup:
	nl_close(nl);
	return r;
}

int nl_open_netns(const char *name, struct nl_sock **out)
{
	int saved, r;

	r = proc_netns_enter(name, &saved);
	if (r < 0)
		return r;
	r = nl_open(out);
	/* The calling thread must never stay in the other namespace. */
	if (proc_netns_leave(saved) < 0) {
		perror("nl_open_netns: cannot return to the original network namespace");
		abort();
	}
	return r;
}

void nl_close(struct nl_sock *nl)
{
	if (!nl)
		return;
	if (nl->mnl)
		mnl_socket_close(nl->mnl);
	free(nl);
}

static struct nlmsghdr *nl_msg(struct nl_sock *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Sends nlh and reads answers until the ACK (or the end of a dump). */
static int nl_talk(struct nl_sock *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *ctx)
{
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl->mnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->mnl, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, ctx);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* A dump request of type for family (the request's header is hdrlen bytes
 * with the family first, as every rtnetlink header has it: struct rtgenmsg),
 * each answer to cb; nl_talk's error, else the first error of cb (*cb_err). */
static int nl_dump(struct nl_sock *nl, uint16_t type, size_t hdrlen, uint8_t family, mnl_cb_t cb,
		   void *ctx, const int *cb_err)
{
	struct nlmsghdr *nlh = nl_msg(nl, type, NLM_F_DUMP);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	int r;

	g->rtgen_family = family;
	r = nl_talk(nl, nlh, cb, ctx);
	return r < 0 ? r : *cb_err;
}

struct link_dump_ctx {
	int (*cb)(const struct nl_link *link, void *ctx);
	void *ctx;
	int err; /* first error of cb; the dump is drained anyway */
};

/* Attributes into a table indexed by type, those beyond max skipped. */
struct attr_table {
	const struct nlattr **tb;
	uint16_t max;
};

static int attr_table_cb(const struct nlattr *attr, void *data)
{
	const struct attr_table *t = data;

	if (mnl_attr_type_valid(attr, t->max) < 0)
		return MNL_CB_OK;
	t->tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static void parse_vxlan(const struct nlattr *data, struct nl_link *link)
{
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1] = {0};
	struct attr_table vx = {tb, IFLA_VXLAN_MAX};

	if (mnl_attr_parse_nested(data, attr_table_cb, &vx) < 0)
		return;
	if (tb[IFLA_VXLAN_LOCAL] && mnl_attr_get_payload_len(tb[IFLA_VXLAN_LOCAL]) >= 4)
		memcpy(&link->vxlan_local, mnl_attr_get_payload(tb[IFLA_VXLAN_LOCAL]), 4);
}

static int parse_link(const struct nlmsghdr *nlh, struct nl_link *link)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct nlattr *info[IFLA_INFO_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct attr_table links = {tb, IFLA_MAX}, infos = {info, IFLA_INFO_MAX};

	memset(link, 0, sizeof(*link));
	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_table_cb, &links) < 0)
		return -EPROTO;
	link->ifindex = ifi->ifi_index;
	link->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(link->name, sizeof(link->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU] && mnl_attr_get_payload_len(tb[IFLA_MTU]) >= 4)
		link->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_LINK] && mnl_attr_get_payload_len(tb[IFLA_LINK]) >= 4)
		link->link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(link->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		link->has_mac = true;
	}
	if (tb[IFLA_LINKINFO] &&
	    mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_table_cb, &infos) >= 0 &&
	    info[IFLA_INFO_KIND])
		snprintf(link->kind, sizeof(link->kind), "%s", mnl_attr_get_str(info[IFLA_INFO_KIND]));
	if (strcmp(link->kind, "vxlan") == 0 && info[IFLA_INFO_DATA])
		parse_vxlan(info[IFLA_INFO_DATA], link);
	return 0;
}

static int link_dump_msg(const struct nlmsghdr *nlh, void *data)
{
	struct link_dump_ctx *d = data;
	struct nl_link link;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK || d->err)
		return MNL_CB_OK;
	if (parse_link(nlh, &link) < 0)
		return MNL_CB_OK;
	r = d->cb(&link, d->ctx);
	if (r < 0)
		d->err = r;
	return MNL_CB_OK;
}

int nl_link_dump(struct nl_sock *nl, int (*cb)(const struct nl_link *link, void *ctx), void *ctx)
{
	struct link_dump_ctx d = {.cb = cb, .ctx = ctx};

	return nl_dump(nl, RTM_GETLINK, sizeof(struct ifinfomsg), AF_UNSPEC, link_dump_msg, &d,
		       &d.err);
}

static int link_get_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link *out = data;

	if (nlh->nlmsg_type == RTM_NEWLINK)
		parse_link(nlh, out);
	return MNL_CB_OK;
}

int nl_link_get(struct nl_sock *nl, const char *name, struct nl_link *out)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nl_link link = { 0 };
	int r;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = nl_talk(nl, nlh, link_get_msg, &link);
	if (r < 0)
		return r;
	if (link.ifindex == 0)
		return -ENODEV;
	*out = link;
	return 0;
}

int nl_link_del(struct nl_sock *nl, int ifindex)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_talk(nl, nlh, NULL, NULL);
}

static struct nlmsghdr *newlink_msg(struct nl_sock *nl, const char *name, uint32_t mtu)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nlh;
}

int nl_veth_create(struct nl_sock *nl, const char *name, const char *peer_name, int peer_netns_fd,
		   const uint8_t *peer_mac, uint32_t mtu)
{
	struct nlattr *linkinfo, *data, *peer;
	struct nlmsghdr *nlh;
	struct ifinfomsg *pifi;

	if (strlen(name) >= IFNAMSIZ || strlen(peer_name) >= IFNAMSIZ)
		return -EINVAL;
	nlh = newlink_msg(nl, name, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg inside the nest. */
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_vxlan_create_external(struct nl_sock *nl, const char *name, uint16_t dstport, uint32_t mtu,
			     uint32_t local_ipv4)
{
	struct nlattr *linkinfo, *data;
	struct nlmsghdr *nlh;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	nlh = newlink_msg(nl, name, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_COLLECT_METADATA, 1);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(dstport));
	if (local_ipv4)
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL, sizeof(local_ipv4), &local_ipv4);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set(struct nl_sock *nl, int ifindex, const uint8_t *mac, uint32_t mtu,
		const char *name)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	if (name && strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set_up(struct nl_sock *nl, int ifindex, bool up)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl_sock *nl, int ifindex, uint32_t ipv4, uint8_t prefixlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	if (prefixlen > 32)
		return -EINVAL;
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, ipv4);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, ipv4);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_route_default(struct nl_sock *nl, int ifindex, uint32_t via)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, via);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct addr_dump_ctx {
	int ifindex;
	int (*cb)(int ifindex, uint32_t ipv4, uint8_t prefixlen, void *ctx);
	void *ctx;
	int err;
};

static int addr_dump_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attr_table attrs = {tb, IFA_MAX};
	struct addr_dump_ctx *d = data;
	const struct nlattr *a;
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR || d->err || ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	if (d->ifindex && (int)ifa->ifa_index != d->ifindex)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_table_cb, &attrs) < 0)
		return MNL_CB_OK;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != 4)
		return MNL_CB_OK;
	r = d->cb((int)ifa->ifa_index, mnl_attr_get_u32(a), ifa->ifa_prefixlen, d->ctx);
	if (r < 0)
		d->err = r;
	return MNL_CB_OK;
}

int nl_addr_dump(struct nl_sock *nl, int ifindex,
		 int (*cb)(int ifindex, uint32_t ipv4, uint8_t prefixlen, void *ctx), void *ctx)
{
	struct addr_dump_ctx d = {.ifindex = ifindex, .cb = cb, .ctx = ctx};

	return nl_dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), AF_INET, addr_dump_msg, &d,
		       &d.err);
}

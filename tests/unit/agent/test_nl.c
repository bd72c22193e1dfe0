/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink helper (src/lib/nl.c) and port plumbing (ports.c) against the real
 * kernel: the test unshares a private netns (the "node") and uses a second,
 * named netns t<pid>-ep (the "endpoint"). Needs root; exits 77 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/ports.h"
#include "lib/nl.h"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)
#define CHECK_OK(expr)                                                                           \
	do {                                                                                     \
		int r_ = (expr);                                                                 \
		if (r_ < 0) {                                                                    \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,            \
				strerror(-r_));                                                  \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

static char ep_name[64];

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ep_name);
	if (system(cmd) != 0)
		fprintf(stderr, "note: could not delete netns %s\n", ep_name);
}

struct found {
	const char *name;
	int count;
	uint32_t addr;
	uint8_t plen;
};

static int find_link(const struct nl_link *l, void *ctx)
{
	struct found *f = ctx;

	if (strcmp(l->name, f->name) == 0)
		f->count++;
	return 0;
}

static int find_addr(int ifindex, uint32_t ipv4, uint8_t plen, void *ctx)
{
	struct found *f = ctx;

	(void)ifindex;
	if (ipv4 == f->addr && plen == f->plen)
		f->count++;
	return 0;
}

static int count_any_addr(int ifindex, uint32_t ipv4, uint8_t plen, void *ctx)
{
	struct found *f = ctx;

	(void)ifindex;
	(void)ipv4;
	(void)plen;
	f->count++;
	return 0;
}

static int count_links(struct nl_sock *nl, const char *name)
{
	struct found f = { .name = name };

	CHECK_OK(nl_link_dump(nl, find_link, &f));
	return f.count;
}

static void test_nl(struct nl_sock *nl)
{
	static const uint8_t mac[6] = { 0x0a, 0x58, 0x01, 0x02, 0x03, 0x04 };
	struct nl_sock *ep;
	struct nl_link host, peer, vx;
	char path[128];
	struct found fa = { .plen = 24 };
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ep_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_OK(nl_veth_create(nl, "gw00000000aa", "eth0", fd, mac, 1400));
	close(fd);
	CHECK_OK(nl_link_get(nl, "gw00000000aa", &host));
	CHECK(strcmp(host.kind, "veth") == 0);
	CHECK(host.mtu == 1400);
	CHECK(count_links(nl, "eth0") == 0); /* the peer is elsewhere */

	CHECK_OK(nl_open_netns(ep_name, &ep));
	CHECK_OK(nl_link_get(ep, "eth0", &peer));
	CHECK(peer.has_mac && memcmp(peer.mac, mac, 6) == 0);
	CHECK(peer.mtu == 1400);
	CHECK_OK(nl_link_set_up(nl, host.ifindex, true));
	CHECK_OK(nl_link_set_up(ep, peer.ifindex, true));
	CHECK_OK(nl_link_get(ep, "eth0", &peer));
	CHECK(peer.flags & IFF_UP);
	inet_pton(AF_INET, "10.1.2.3", &fa.addr);
	CHECK_OK(nl_addr_add(ep, peer.ifindex, fa.addr, 24));
	CHECK_OK(nl_addr_add(ep, peer.ifindex, fa.addr, 24)); /* idempotent */
	CHECK_OK(nl_addr_dump(ep, peer.ifindex, find_addr, &fa));
	CHECK(fa.count == 1);
	CHECK_OK(nl_link_set(nl, host.ifindex, NULL, 1300, "gw00000000ab"));
	CHECK_OK(nl_link_get(nl, "gw00000000ab", &host));
	CHECK(host.mtu == 1300);
	CHECK(nl_link_get(nl, "gw00000000aa", &host) == -ENODEV);
	CHECK(count_links(nl, "gw00000000ab") == 1);
	CHECK_OK(nl_link_get(nl, "gw00000000ab", &host));
	CHECK_OK(nl_link_del(nl, host.ifindex));
	CHECK(nl_link_get(ep, "eth0", &peer) == -ENODEV); /* the peer went with it */
	CHECK(nl_link_del(nl, host.ifindex) == -ENODEV);
	nl_close(ep);

	/* with the underlay's address, read back as such */
	inet_pton(AF_INET, "10.1.9.1", &fa.addr);
	CHECK_OK(nl_vxlan_create_external(nl, "gw-vxlan", 4789, 1500, fa.addr));
	CHECK_OK(nl_link_get(nl, "gw-vxlan", &vx));
	CHECK(strcmp(vx.kind, "vxlan") == 0);
	CHECK(vx.mtu == 1500);
	CHECK(vx.vxlan_local == fa.addr);
	CHECK(nl_vxlan_create_external(nl, "gw-vxlan", 4789, 1500, 0) == -EEXIST);
	CHECK_OK(nl_link_del(nl, vx.ifindex));
	CHECK_OK(nl_vxlan_create_external(nl, "gw-vxlan", 4789, 1500, 0));
	CHECK_OK(nl_link_get(nl, "gw-vxlan", &vx));
	CHECK(vx.vxlan_local == 0);
	CHECK(nl_open_netns("t-no-such-netns-here", &ep) == -ENOENT);
}

static void test_ports(struct nl_sock *nl)
{
	struct desired_port p = {
		.name = "a", .ifname = "gw0000000001", .type = DESIRED_VETH,
		.mac = { 0x0a, 0x58, 0, 0, 0, 1 }, .prefixlen = 24, .vni = 100,
	};
	struct desired_local want = { .ports = &p, .n = 1 };
	struct found fa = { .plen = 24 };
	struct nl_link eth0, lo;
	struct nl_sock *ep;
	int ifindex = 0, again = 0;

	snprintf(p.netns, sizeof(p.netns), "%s", ep_name);
	inet_pton(AF_INET, "10.7.0.2", &p.ipv4);
	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &ifindex));
	CHECK(ifindex > 0);
	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &again));
	CHECK(again == ifindex); /* adopted, not recreated */
	CHECK_OK(nl_open_netns(ep_name, &ep));
	CHECK_OK(nl_link_get(ep, "eth0", &eth0));
	CHECK(memcmp(eth0.mac, p.mac, 6) == 0 && eth0.mtu == 1450 && (eth0.flags & IFF_UP));
	CHECK_OK(nl_link_get(ep, "lo", &lo));
	CHECK(lo.flags & IFF_UP);
	fa.addr = p.ipv4;
	CHECK_OK(nl_addr_dump(ep, eth0.ifindex, find_addr, &fa));
	CHECK(fa.count == 1);

	/* A stale gw device and a foreign one: only the first goes. */
	CHECK_OK(nl_veth_create(nl, "gw00000000ff", "xpeer0", -1, NULL, 0));
	CHECK_OK(nl_veth_create(nl, "other0", "other1", -1, NULL, 0));
	CHECK(ports_delete_stale(nl, &want) == 1);
	CHECK(count_links(nl, "gw00000000ff") == 0);
	CHECK(count_links(nl, "xpeer0") == 0);
	CHECK(count_links(nl, "other0") == 1);
	CHECK(count_links(nl, "gw0000000001") == 1);

	/* A missing endpoint netns is reported, not fatal. */
	snprintf(p.netns, sizeof(p.netns), "t-no-such-netns-here");
	CHECK(ports_plumb_veth(nl, &p, 1450, &again) == -ENOENT);

	/* No port wanted any more: the pair is deleted, eth0 with it. */
	want.n = 0;
	CHECK(ports_delete_stale(nl, &want) == 1);
	CHECK(nl_link_get(ep, "eth0", &eth0) == -ENODEV);
	nl_close(ep);
}

/* The first line of a command's output as a number; -1 when none. */
static long run_number(const char *cmd)
{
	char line[64] = "";
	FILE *f = popen(cmd, "r");

	CHECK(f);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	pclose(f);
	return line[0] ? strtol(line, NULL, 10) : -1;
}

static long ep_sysctl(const char *which)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ep_name, which);
	return run_number(cmd);
}

static int count_addrs(struct nl_sock *ep, int ifindex)
{
	struct found fa = { .addr = 0 };

	CHECK_OK(nl_addr_dump(ep, ifindex, count_any_addr, &fa));
	return fa.count;
}

/* A migration target's port: created in standby next to the source's eth0. */
static void test_standby_peer(struct nl_sock *nl)
{
	struct desired_port p = {
		.name = "m", .ifname = "gw00000000c1", .type = DESIRED_VETH, .standby = true,
		.mac = { 0x0a, 0x58, 0, 0, 0, 0xc1 }, .prefixlen = 24, .vni = 100,
	};
	struct nl_link eth0, eth1, host;
	struct nl_sock *ep;
	char cmd[256];
	int ifindex = 0, again = 0, fd;

	snprintf(p.netns, sizeof(p.netns), "%s", ep_name);
	inet_pton(AF_INET, "10.7.0.9", &p.ipv4);
	CHECK_OK(nl_open_netns(ep_name, &ep));
	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && "
		 "echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6'", ep_name);
	CHECK(system(cmd) == 0);
	CHECK(ep_sysctl("default") == 0 && ep_sysctl("all") == 0);

	/* The source's link, up with the address, as a drill has it. */
	snprintf(cmd, sizeof(cmd), "/run/netns/%s", ep_name);
	fd = open(cmd, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_OK(nl_veth_create(nl, "src0", "eth0", fd, p.mac, 1450));
	close(fd);
	CHECK_OK(nl_link_get(ep, "eth0", &eth0));
	CHECK_OK(nl_link_set_up(ep, eth0.ifindex, true));
	CHECK_OK(nl_addr_add(ep, eth0.ifindex, p.ipv4, 24));

	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &ifindex));
	CHECK(ep_sysctl("default") == 1 && ep_sysctl("all") == 1);
	CHECK_OK(nl_link_get(ep, "eth1", &eth1));
	CHECK(memcmp(eth1.mac, p.mac, 6) == 0 && eth1.mtu == 1450);
	CHECK(!(eth1.flags & IFF_UP));
	CHECK(count_addrs(ep, eth1.ifindex) == 0);
	CHECK_OK(nl_link_get(nl, "gw00000000c1", &host));
	CHECK(host.flags & IFF_UP);
	CHECK(host.link == eth1.ifindex);
	CHECK_OK(nl_link_get(ep, "eth0", &eth0)); /* the source's link is untouched */
	CHECK((eth0.flags & IFF_UP) && count_addrs(ep, eth0.ifindex) == 1);

	/* Adopted by its IFLA_LINK, and left down. */
	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &again));
	CHECK(again == ifindex);
	CHECK_OK(nl_link_get(ep, "eth1", &eth1));
	CHECK(!(eth1.flags & IFF_UP) && count_addrs(ep, eth1.ifindex) == 0);

	/* The drill switches over: eth1 up, the address moves. The agent
	 * keeps its hands off, and does not take the address back either. */
	CHECK_OK(nl_link_set_up(ep, eth1.ifindex, true));
	CHECK_OK(nl_addr_add(ep, eth1.ifindex, p.ipv4, 24));
	CHECK_OK(nl_link_set_up(ep, eth0.ifindex, false));
	p.standby = false; /* completed: the same port is now plain active */
	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &again));
	CHECK(again == ifindex);
	CHECK_OK(nl_link_get(ep, "eth1", &eth1));
	CHECK((eth1.flags & IFF_UP) && count_addrs(ep, eth1.ifindex) == 1);
	CHECK_OK(nl_link_set_up(ep, eth1.ifindex, false));
	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &again));
	CHECK_OK(nl_link_get(ep, "eth1", &eth1));
	CHECK(!(eth1.flags & IFF_UP)); /* nor brings it up again */

	/* A port created active next to a foreign eth0: refused as before. */
	CHECK(ports_delete_stale(nl, &(struct desired_local){ 0 }) == 1);
	CHECK(ports_plumb_veth(nl, &p, 1450, &again) == -EEXIST);
	/* Standby without a source link: the peer is eth0, down. */
	CHECK_OK(nl_link_get(nl, "src0", &host));
	CHECK_OK(nl_link_del(nl, host.ifindex));
	p.standby = true;
	CHECK_OK(ports_plumb_veth(nl, &p, 1450, &ifindex));
	CHECK_OK(nl_link_get(ep, "eth0", &eth0));
	CHECK(!(eth0.flags & IFF_UP) && count_addrs(ep, eth0.ifindex) == 0);
	CHECK(nl_link_get(ep, "eth1", &eth1) == -ENODEV);
	CHECK(ports_delete_stale(nl, &(struct desired_local){ 0 }) == 1);
	nl_close(ep);
}

/* A tap port: persistent, up, openable by name (as QEMU does), deleted as stale. */
static void test_tap(struct nl_sock *nl)
{
	struct desired_port p = {
		.name = "vm", .ifname = "gw00000000d1", .type = DESIRED_TAP,
		.mac = { 0x0a, 0x58, 0, 0, 0, 0xd1 }, .vni = 100,
	};
	struct desired_local want = { .ports = &p, .n = 1 };
	struct ifreq ifr = { 0 };
	struct nl_link tap;
	int ifindex = 0, again = 0, fd;

	CHECK_OK(ports_plumb_tap(nl, &p, 1400, &ifindex));
	CHECK_OK(nl_link_get(nl, "gw00000000d1", &tap));
	CHECK(tap.ifindex == ifindex);
	CHECK(strcmp(tap.kind, "tun") == 0);
	CHECK(tap.mtu == 1400 && (tap.flags & IFF_UP));
	CHECK(run_number("cat /proc/sys/net/ipv6/conf/gw00000000d1/disable_ipv6") == 1);
	CHECK_OK(ports_plumb_tap(nl, &p, 1400, &again));
	CHECK(again == ifindex); /* adopted */

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "gw00000000d1");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	CHECK(ioctl(fd, TUNSETIFF, &ifr) == 0);
	close(fd);
	CHECK_OK(nl_link_get(nl, "gw00000000d1", &tap)); /* persistent */
	CHECK(tap.ifindex == ifindex);

	/* A gw* veth under the tap's name is not adopted. */
	CHECK(ports_delete_stale(nl, &want) == 0);
	want.n = 0;
	CHECK(ports_delete_stale(nl, &want) == 1);
	CHECK(nl_link_get(nl, "gw00000000d1", &tap) == -ENODEV);
	CHECK_OK(nl_veth_create(nl, "gw00000000d1", "xpeer1", -1, NULL, 0));
	CHECK(ports_plumb_tap(nl, &p, 1400, &again) == -EEXIST);
	CHECK(ports_delete_stale(nl, &want) == 1);
}

int main(void)
{
	struct nl_sock *nl;
	char cmd[128];

	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		perror("skip: unshare(CLONE_NEWNET)");
		return 77;
	}
	snprintf(ep_name, sizeof(ep_name), "t%d-ep", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s", ep_name);
	if (system(cmd) != 0) {
		fprintf(stderr, "skip: cannot create netns %s\n", ep_name);
		return 77;
	}
	atexit(cleanup);
	CHECK_OK(nl_open(&nl));
	test_nl(nl);
	test_ports(nl);
	test_standby_peer(nl);
	test_tap(nl);
	nl_close(nl);
	printf("ok\n");
	return 0;
}

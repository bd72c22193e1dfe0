/* SPDX-License-Identifier: MIT */
/* Gateways (gateway.c) and what they add to the desired maps (desired.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "agent/desired.h"
#include "agent/dhcp_proto.h"
#include "agent/gateway.h"

static const char *const objects[] = {
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
    "\"vni\":100,\"gateway\":\"10.0.0.1\",\"gatewayNode\":\"n1\"}}",
    /* The same /31 as blue (VNI modulo the slots): no gateway. */
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"clash\"},\"spec\":{\"cidr\":\"10.1.0.0/24\","
    "\"vni\":32612,\"gateway\":\"10.1.0.1\",\"gatewayNode\":\"n1\"}}",
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"red\"},\"spec\":{\"cidr\":\"10.2.0.0/24\","
    "\"vni\":200,\"gateway\":\"10.2.0.1\",\"gatewayNode\":\"n2\"}}",
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"none\"},\"spec\":{\"cidr\":\"10.3.0.0/24\","
    "\"vni\":300,\"gateway\":\"10.3.0.1\"}}",
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"underlay_ip\":\"10.9.0.1\"}}",
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n2\"},\"spec\":{\"underlay_ip\":\"10.9.0.2\"}}",
};

static struct cache cache;

static int setup(void **state)
{
	(void)state;
	if (cache_init(&cache) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		json_t *o = json_loads(objects[i], 0, NULL);
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name =
		    json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));

		if (!o || !kind || !name)
			return -1;
		json_object_set_new(cache.objs[cache_kind_from_name(kind)], name, o);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cache_clear(&cache);
	return 0;
}

static void test_names(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], ns[64], ns2[64];
	char long_name[64];

	(void)state;
	gateway_port_ifname("blue", a);
	assert_true(desired_ifname_valid(a));
	gateway_port_ifname("red", b);
	assert_string_not_equal(a, b);
	gateway_link_ifname("blue", a);
	assert_true(gateway_link_ifname_valid(a));
	assert_false(desired_ifname_valid(a)); /* never taken for a port device */
	assert_false(gateway_link_ifname_valid("gwup1234567"));
	assert_false(gateway_link_ifname_valid("gw0123456789"));

	assert_int_equal(gateway_netns_name("lab-node-1-gw-", "blue", ns), 0);
	assert_string_equal(ns, "lab-node-1-gw-blue");
	memset(long_name, 'n', 63);
	long_name[63] = '\0';
	assert_int_equal(gateway_netns_name("lab-node-1-gw-", long_name, ns), 0);
	assert_int_equal(strlen(ns), 63);
	assert_memory_equal(ns, "lab-node-1-gw-nnn", 17);
	assert_int_equal(ns[54], '-'); /* cut, then 8 hex digits of the whole name */
	long_name[62] = 'x';
	assert_int_equal(gateway_netns_name("lab-node-1-gw-", long_name, ns2), 0);
	assert_string_not_equal(ns, ns2); /* the same cut, another hash */
	/* a prefix that leaves no room for a cut name and its hash */
	assert_int_equal(
	    gateway_netns_name("0123456789012345678901234567890123456789012345678901234", long_name,
			       ns),
	    -EINVAL);
}

static void test_link_addrs(void **state)
{
	uint32_t n, g, n2, g2;

	(void)state;
	gateway_link_addrs(100, &n, &g);
	assert_int_equal(ntohl(n), 0xa9fe0100U + 200);
	assert_int_equal(ntohl(g), ntohl(n) + 1);
	assert_int_equal(ntohl(n) & 1, 0); /* a /31 */
	gateway_link_addrs(100 + 32512, &n2, &g2);
	assert_int_equal(n, n2);
	gateway_link_addrs(32511, &n2, &g2); /* the last slot stays below 169.254.255.0 */
	assert_true(ntohl(g2) < 0xa9feff00U);
}

static void test_local_ports(void **state)
{
	struct desired_local d = {0};
	uint8_t mac[6];

	(void)state;
	assert_int_equal(gateway_local_ports(&cache, "n1", "p-", &d), 0);
	/* blue or clash (they share a /31: the second one met is left out); red is n2's */
	assert_int_equal(d.n, 1);
	if (strcmp(d.ports[0].network, "blue") != 0) {
		desired_local_free(&d);
		json_object_del(cache.objs[CACHE_NETWORKS], "clash");
		assert_int_equal(gateway_local_ports(&cache, "n1", "p-", &d), 0);
		assert_int_equal(d.n, 1);
	}
	assert_true(d.ports[0].gateway_port);
	assert_string_equal(d.ports[0].network, "blue");
	assert_string_equal(d.ports[0].netns, "p-blue");
	assert_int_equal(d.ports[0].type, DESIRED_VETH);
	assert_int_equal(d.ports[0].ipv4, htonl(0x0a000001));
	assert_int_equal(d.ports[0].prefixlen, 24);
	assert_int_equal(d.ports[0].gateway, 0); /* no default route via itself */
	dhcp_gateway_mac(htonl(0x0a000001), mac);
	assert_memory_equal(d.ports[0].mac, mac, 6);
	assert_false(d.ports[0].flags & GW_PORT_F_SECURITY);
	assert_true(d.ports[0].flags & GW_PORT_F_HAS_IPV4);
	desired_local_free(&d);

	assert_int_equal(gateway_local_ports(&cache, "n3", "p-", &d), 0);
	assert_int_equal(d.n, 0);
	desired_local_free(&d);
}

static int gateway_device(const char *ifname, void *ctx)
{
	char want[IFNAMSIZ];

	(void)ctx;
	gateway_port_ifname("blue", want);
	return strcmp(ifname, want) == 0 ? 42 : 0;
}

static const struct desired_fdb_entry *fdb_of(const struct desired_maps *m, uint32_t vni,
					      uint32_t gw)
{
	uint8_t mac[6];

	dhcp_gateway_mac(htonl(gw), mac);
	for (size_t i = 0; i < m->n_fdb; i++)
		if (m->fdb[i].key.vni == vni && memcmp(m->fdb[i].key.mac, mac, 6) == 0)
			return &m->fdb[i];
	return NULL;
}

static bool has_neigh(const struct desired_maps *m, uint32_t vni, uint32_t gw)
{
	for (size_t i = 0; i < m->n_neigh; i++)
		if (m->neigh[i].key.vni == vni && m->neigh[i].key.ip.v4 == htonl(gw))
			return true;
	return false;
}

static void test_maps(void **state)
{
	const struct desired_fdb_entry *f;
	struct desired_maps m;

	(void)state;
	/* On n1: blue's gateway port is local (device 42), red's is on n2. */
	assert_int_equal(desired_maps_compute(&cache, "n1", gateway_device, NULL, &m), 0);
	f = fdb_of(&m, 100, 0x0a000001);
	assert_non_null(f);
	assert_int_equal(f->val.count, 1);
	assert_int_equal(f->val.loc[0].ifindex, 42);
	assert_int_equal(m.n_ports, 1);
	assert_int_equal(m.ports[0].ifindex, 42);
	assert_false(m.ports[0].val.flags & GW_PORT_F_SECURITY);
	assert_int_equal(m.ports[0].val.state, GW_PORT_ACTIVE);
	f = fdb_of(&m, 200, 0x0a020001);
	assert_non_null(f);
	assert_int_equal(f->val.loc[0].node_ip.v4, htonl(0x0a090002));
	assert_null(fdb_of(&m, 300, 0x0a030001)); /* no gateway node */
	assert_true(has_neigh(&m, 100, 0x0a000001));
	assert_true(has_neigh(&m, 200, 0x0a020001));
	assert_false(has_neigh(&m, 300, 0x0a030001)); /* neither DHCP nor a gateway node */
	assert_int_equal(m.missing_local, 0);
	desired_maps_free(&m);

	/* On n2: blue's gateway is n1's; a local gateway without a device is not missing. */
	assert_int_equal(desired_maps_compute(&cache, "n2", gateway_device, NULL, &m), 0);
	f = fdb_of(&m, 100, 0x0a000001);
	assert_non_null(f);
	assert_int_equal(f->val.loc[0].node_ip.v4, htonl(0x0a090001));
	assert_null(fdb_of(&m, 200, 0x0a020001));
	assert_int_equal(m.n_ports, 0);
	assert_int_equal(m.missing_local, 0);
	desired_maps_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_link_addrs),
	    cmocka_unit_test_setup_teardown(test_local_ports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

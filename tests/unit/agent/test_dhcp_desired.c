/* SPDX-License-Identifier: MIT */
/* desired.c's part of DHCP: the port flag, the gateway, the gateway's neigh entry. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "agent/desired.h"
#include "agent/dhcp_proto.h"

static const char *const objects[] = {
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"on\"},\"spec\":{\"cidr\":\"10.1.0.0/24\","
    "\"vni\":100,\"gateway\":\"10.1.0.1\",\"dhcp\":true}}",
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"off\"},\"spec\":{\"cidr\":\"10.2.0.0/16\","
    "\"vni\":200,\"gateway\":\"10.2.0.1\",\"dhcp\":false}}",
    /* dhcp without a gateway: nothing to name as the server */
    "{\"kind\":\"Network\",\"metadata\":{\"name\":\"nogw\"},\"spec\":{\"cidr\":\"10.3.0.0/24\","
    "\"vni\":300,\"dhcp\":true}}",
    "{\"kind\":\"Port\",\"metadata\":{\"name\":\"a\"},\"spec\":{\"network\":\"on\",\"locations\":["
    "\"n1\"],"
    "\"mac\":\"0a:58:00:00:00:01\",\"ipv4\":\"10.1.0.2\",\"netns\":\"ep-a\",\"ifname\":"
    "\"gw0000000001\"}}",
    "{\"kind\":\"Port\",\"metadata\":{\"name\":\"b\"},\"spec\":{\"network\":\"off\",\"locations\":["
    "\"n1\"],"
    "\"mac\":\"0a:58:00:00:00:02\",\"ipv4\":\"10.2.0.2\",\"netns\":\"ep-b\",\"ifname\":"
    "\"gw0000000002\"}}",
    /* no address: nothing to lease */
    "{\"kind\":\"Port\",\"metadata\":{\"name\":\"c\"},\"spec\":{\"network\":\"on\",\"locations\":["
    "\"n1\"],"
    "\"mac\":\"0a:58:00:00:00:03\",\"netns\":\"ep-c\",\"ifname\":\"gw0000000003\"}}",
    "{\"kind\":\"Port\",\"metadata\":{\"name\":\"d\"},\"spec\":{\"network\":\"nogw\",\"locations\":"
    "[\"n1\"],"
    "\"mac\":\"0a:58:00:00:00:04\",\"ipv4\":\"10.3.0.4\",\"netns\":\"ep-d\",\"ifname\":"
    "\"gw0000000004\"}}",
    /* a tap on a DHCP network: the VM case */
    "{\"kind\":\"Port\",\"metadata\":{\"name\":\"vm\"},\"spec\":{\"network\":\"on\",\"locations\":["
    "\"n1\"],"
    "\"mac\":\"0a:58:00:00:00:05\",\"ipv4\":\"10.1.0.5\",\"type\":\"tap\",\"ifname\":"
    "\"gw0000000005\"}}",
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

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static const struct desired_port *local(const struct desired_local *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->ports[i].name, name) == 0)
			return &d->ports[i];
	fail_msg("port %s is not local", name);
	return NULL;
}

static void test_flag_and_gateway(void **state)
{
	struct desired_local d;
	const struct desired_port *p;

	(void)state;
	assert_int_equal(desired_local_ports(&cache, "n1", &d), 0);
	assert_int_equal(d.n, 5);
	p = local(&d, "a");
	assert_true(p->flags & GW_PORT_F_DHCP);
	assert_int_equal(p->gateway, ip("10.1.0.1"));
	assert_int_equal(p->prefixlen, 24);
	p = local(&d, "vm");
	assert_true(p->flags & GW_PORT_F_DHCP);
	p = local(&d, "b");
	assert_false(p->flags & GW_PORT_F_DHCP);
	assert_int_equal(p->gateway, ip("10.2.0.1"));
	assert_false(local(&d, "c")->flags & GW_PORT_F_DHCP);
	assert_false(local(&d, "d")->flags & GW_PORT_F_DHCP);
	desired_local_free(&d);
}

static int one_device(const char *ifname, void *ctx)
{
	(void)ctx;
	return strcmp(ifname, "gw0000000001") == 0 ? 11 : 0;
}

static void test_maps(void **state)
{
	struct desired_maps m;
	bool gw_on = false;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(desired_maps_compute(&cache, "n1", one_device, NULL, &m), 0);
	assert_int_equal(m.n_ports, 1);
	assert_int_equal(m.ports[0].ifindex, 11);
	assert_true(m.ports[0].val.flags & GW_PORT_F_DHCP);
	dhcp_gateway_mac(ip("10.1.0.1"), mac);
	for (size_t i = 0; i < m.n_neigh; i++) {
		const struct desired_neigh_entry *e = &m.neigh[i];

		/* only the DHCP network's gateway is answered */
		assert_false(e->key.ip.v4 == ip("10.2.0.1"));
		if (e->key.vni == 100 && e->key.ip.v4 == ip("10.1.0.1")) {
			assert_memory_equal(e->val.mac, mac, 6);
			gw_on = true;
		}
	}
	assert_true(gw_on);
	/* ports a, b, d, vm have addresses; + one gateway */
	assert_int_equal(m.n_neigh, 5);
	desired_maps_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flag_and_gateway),
	    cmocka_unit_test(test_maps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

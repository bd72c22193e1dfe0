/* SPDX-License-Identifier: MIT */
/* The "ports" part of the node status report (portreport.c, heartbeat.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "agent/heartbeat.h"
#include "agent/portreport.h"

static const struct gw_port map[] = {
	{ .vni = 100, .state = GW_PORT_STANDBY },
	{ .vni = 100, .state = GW_PORT_ACTIVE, .activated_ns = 5000 },
	{ .vni = 100, .state = GW_PORT_ACTIVE, .activated_ns = 0 },
	{ .vni = 100, .state = GW_PORT_ACTIVE, .activated_ns = 7000 },
};

/* ifindex 1..4 are the map entries above; anything else has none. */
static int lookup(uint32_t ifindex, struct gw_port *out, void *ctx)
{
	(void)ctx;
	if (ifindex < 1 || ifindex > 4)
		return -ENOENT;
	*out = map[ifindex - 1];
	return 0;
}

static json_int_t field(const json_t *ports, const char *name, const char *key)
{
	const json_t *v = json_object_get(json_object_get(ports, name), key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *state_of(const json_t *ports, const char *name)
{
	return json_string_value(json_object_get(json_object_get(ports, name), "state"));
}

static void test_conversion(void **state)
{
	(void)state;
	/* 1 s ago on the monotonic clock is 1 s ago on the wall clock. */
	assert_int_equal(port_mono_to_unix(9000000000ULL, 10000000000ULL, 1764000000000000000ULL),
			 1763999999000000000ULL);
	/* An event stamped after the clocks were read: no negative age. */
	assert_int_equal(port_mono_to_unix(11, 10, 1000), 1000);
}

static void test_ports_json(void **state)
{
	static const struct port_ref refs[] = {
		{ "standby", 1 }, { "activated", 2 }, { "plain", 3 }, { "seen", 4 }, { "nodev", 9 },
	};
	static const struct port_activation acts[] = {
		{ .ifindex = 4, .mono_ns = 7000, .unix_ns = 123456789 },
		{ .ifindex = 2, .mono_ns = 4999, .unix_ns = 42 }, /* an older activation */
	};
	json_t *p;

	(void)state;
	p = port_report_json(refs, 5, lookup, NULL, acts, 2, 10000, 1000000);
	assert_non_null(p);
	assert_int_equal(json_object_size(p), 4); /* nodev has no map entry */
	assert_string_equal(state_of(p, "standby"), "standby");
	assert_int_equal(field(p, "standby", "ifindex"), 1);
	assert_int_equal(field(p, "standby", "activated_unix_ns"), -1);
	assert_string_equal(state_of(p, "activated"), "active");
	/* not seen as an event: converted from the map at report time */
	assert_int_equal(field(p, "activated", "activated_mono_ns"), 5000);
	assert_int_equal(field(p, "activated", "activated_unix_ns"), 1000000 - 5000);
	assert_string_equal(state_of(p, "plain"), "active");
	assert_int_equal(field(p, "plain", "activated_mono_ns"), -1);
	/* seen as an event: the conversion made then */
	assert_int_equal(field(p, "seen", "activated_mono_ns"), 7000);
	assert_int_equal(field(p, "seen", "activated_unix_ns"), 123456789);
	json_decref(p);
}

static void test_status_body(void **state)
{
	uint64_t counters[GW_CNT__MAX] = { 0 };
	json_t *b;

	(void)state;
	counters[GW_CNT_DROP_STANDBY] = 12;
	counters[GW_CNT_RX_PORT] = 3;
	b = heartbeat_status_body(7, counters, json_pack("{s:{s:s}}", "web", "state", "active"));
	assert_non_null(b);
	assert_int_equal(json_integer_value(json_object_get(b, "applied_revision")), 7);
	assert_int_equal(json_integer_value(json_object_get(b, "drops_standby")), 12);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "counters"),
							    "rx_port")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "counters"),
							    "drop_standby")), 12);
	assert_string_equal(state_of(json_object_get(b, "ports"), "web"), "active");
	json_decref(b);
	b = heartbeat_status_body(7, counters, NULL);
	assert_true(json_is_object(json_object_get(b, "ports")));
	json_decref(b);
	b = heartbeat_basic_body(7, counters);
	assert_int_equal(json_object_size(b), 2); /* applied_revision, counters */
	assert_null(json_object_get(b, "ports"));
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversion),
		cmocka_unit_test(test_ports_json),
		cmocka_unit_test(test_status_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

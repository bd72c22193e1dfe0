/* SPDX-License-Identifier: MIT */
/* Table layout and the `get` views built from API objects. */
#include "views.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *render(const struct table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table_print(t, f);
	fclose(f);
	return buf;
}

static void test_alignment(void **state)
{
	struct table t;
	char *out;

	(void)state;
	assert_int_equal(table_init(&t, 3, (const char *const[]){ "NAME", "VNI", "CIDR" }), 0);
	assert_int_equal(table_add_row(&t, (const char *const[]){ "blue", "100", "10.20.0.0/24" }),
			 0);
	assert_int_equal(
		table_add_row(&t, (const char *const[]){ "a-long-name", NULL, "10.0.0.0/8" }), 0);
	out = render(&t);
	assert_string_equal(out, "NAME          VNI   CIDR\n"
				 "blue          100   10.20.0.0/24\n"
				 "a-long-name   -     10.0.0.0/8\n");
	free(out);
	table_free(&t);
}

static void test_views(void **state)
{
	json_t *nets = json_loads(
		"[{\"metadata\": {\"name\": \"blue\", \"revision\": 5}, \"spec\": {\"cidr\": "
		"\"10.20.0.0/24\", \"vni\": 100, \"gateway\": \"10.20.0.1\", \"dhcp\": true}}]",
		0, NULL);
	json_t *ports = json_loads(
		"[{\"metadata\": {\"name\": \"a\"}, \"spec\": {\"network\": \"blue\", \"ipv4\": "
		"\"10.20.0.2\", \"mac\": \"0a:58:00:00:00:01\", \"locations\": [\"node-1\", "
		"\"node-2\"], \"type\": \"veth\"}},"
		" {\"metadata\": {\"name\": \"b\"}, \"spec\": {\"network\": \"red\"}}]",
		0, NULL);
	json_t *nodes = json_loads(
		"[{\"metadata\": {\"name\": \"node-1\"}, \"spec\": {\"underlay_ip\": "
		"\"10.254.0.11\"}, \"status\": {\"ready\": true, \"applied_revision\": 7, "
		"\"counters\": {\"rx_port\": 3, \"rx_fabric\": 2, \"fwd_local\": 1, "
		"\"drop_src_mac\": 4, \"drop_no_port\": 1}}}]",
		0, NULL);
	struct table t;
	char *out;

	(void)state;
	assert_int_equal(view_table(&kind_table[KIND_NETWORK], nets, ports, false, &t), 0);
	out = render(&t);
	assert_string_equal(out, "NAME   VNI   CIDR           GATEWAY     DHCP   PORTS\n"
				 "blue   100   10.20.0.0/24   10.20.0.1   true   1\n");
	free(out);
	table_free(&t);

	assert_int_equal(view_table(&kind_table[KIND_PORT], ports, NULL, false, &t), 0);
	out = render(&t);
	assert_string_equal(out,
			    "NAME   NETWORK   IP          MAC                 NODE(S)         TYPE\n"
			    "a      blue      10.20.0.2   0a:58:00:00:00:01   node-1,node-2   veth\n"
			    "b      red       -           -                   -               veth\n");
	free(out);
	table_free(&t);

	assert_int_equal(view_table(&kind_table[KIND_NODE], nodes, NULL, true, &t), 0);
	out = render(&t);
	assert_string_equal(out, "NAME     UNDERLAY      READY   APPLIED   COUNTERS\n"
				 "node-1   10.254.0.11   True    7         "
				 "rx=5 fwd=1 flood=0 drops=5\n");
	free(out);
	table_free(&t);
	json_decref(nets);
	json_decref(ports);
	json_decref(nodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

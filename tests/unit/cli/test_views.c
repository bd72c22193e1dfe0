/* SPDX-License-Identifier: MIT */
/* views.c: what `describe network` says of the gateway node, and the wide column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/views.h"
#include "lib/kinds.h"

static char *gateway_text(const char *net, const char *node)
{
	json_t *n = json_loads(net, 0, NULL), *nd = node ? json_loads(node, 0, NULL) : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(n);
	assert_non_null(f);
	view_gateway_node(n, nd, f);
	fclose(f);
	json_decref(n);
	json_decref(nd);
	return buf;
}

#define NET_GW                                                                                     \
	"{\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.0.0.0/"                         \
	"24\",\"gatewayNode\":\"node-1\"}}"

static void test_gateway_node(void **state)
{
	char *s;

	(void)state;
	s = gateway_text(NET_GW, "{\"status\":{\"ready\":true,\"age_ms\":100}}");
	assert_string_equal(s, "Gateway node:\n  node-1: ready\n");
	free(s);
	s = gateway_text(NET_GW, "{\"status\":{\"ready\":false,\"age_ms\":9000}}");
	assert_non_null(strstr(s, "node-1: not ready (9000 ms since its last report)"));
	free(s);
	s = gateway_text(NET_GW, "{\"spec\":{}}");
	assert_non_null(strstr(s, "node-1: not ready (no report yet)"));
	free(s);
	s = gateway_text(NET_GW, NULL);
	assert_non_null(
	    strstr(s, "node-1: missing (no such node registered): nothing routes blue out"));
	free(s);
	s = gateway_text("{\"metadata\":{\"name\":\"blue\"},\"spec\":{}}", NULL);
	assert_string_equal(s, ""); /* no gateway node: nothing said */
	free(s);
}

static void test_wide_column(void **state)
{
	json_t *items = json_loads("[" NET_GW "]", 0, NULL);
	struct table t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(view_table(&kind_table[KIND_NETWORK], items, NULL, true, &t), 0);
	f = open_memstream(&buf, &len);
	table_print(&t, f);
	fclose(f);
	assert_non_null(strstr(buf, "GATEWAY-NODE"));
	assert_non_null(strstr(buf, "node-1"));
	table_free(&t);
	free(buf);
	assert_int_equal(view_table(&kind_table[KIND_NETWORK], items, NULL, false, &t), 0);
	f = open_memstream(&buf, &len);
	table_print(&t, f);
	fclose(f);
	assert_null(strstr(buf, "GATEWAY-NODE"));
	table_free(&t);
	free(buf);
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gateway_node),
	    cmocka_unit_test(test_wide_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

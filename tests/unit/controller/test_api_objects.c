/* SPDX-License-Identifier: MIT */
/* Validation of API objects: tables of good and bad JSON with the expected error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api_objects.h"

struct validation_case {
	const char *description;
	enum kind kind;
	const char *path_name; /* NULL: POST */
	const char *json;
	int status;	      /* 0: valid */
	const char *fragment; /* in the error message, or a "key":value in the normalised spec */
};

static const struct validation_case cases[] = {
    /* Networks */
    {"minimal network", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.20.0.0/24\"}}", 0,
     "\"gateway\":\"10.20.0.1\""},
    {"full network", KIND_NETWORK, NULL,
     "{\"apiVersion\":\"godwit/v1\",\"kind\":\"Network\",\"metadata\":{\"name\":\"b-1\"},"
     "\"spec\":{\"cidr\":\"10.0.0.0/8\",\"vni\":7,\"gateway\":\"10.0.0.254\",\"dhcp\":true}}",
     0, "\"vni\":7"},
    {"default dhcp false", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/30\"}}", 0, "\"dhcp\":false"},
    {"unknown spec field", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidrr\":\"10.0.0.0/24\"}}", 400,
     "unknown field \"spec.cidrr\""},
    {"unknown top field", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spce\":{},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "unknown field \"spce\""},
    {"unknown metadata field", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\",\"uid\":\"x\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "unknown field \"metadata.uid\""},
    {"label not a string", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\",\"labels\":{\"a\":1}},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}",
     400, "metadata.labels.a: expected a string"},
    {"prefix 33", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/33\"}}", 400,
     "spec.cidr: \"10.0.0.0/33\" is not an IPv4 CIDR"},
    {"prefix too long", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/31\"}}", 400,
     "prefix length must be 8..30"},
    {"host bits", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.1/24\"}}", 400,
     "has host bits set"},
    {"octet 256", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.256.0.0/16\"}}", 400,
     "is not an IPv4 CIDR"},
    {"leading zero", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"010.0.0.0/8\"}}", 400,
     "is not an IPv4 CIDR"},
    {"cidr missing", KIND_NETWORK, NULL, "{\"metadata\":{\"name\":\"b\"},\"spec\":{}}", 400,
     "spec.cidr is required"},
    {"cidr not a string", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":10}}", 400,
     "spec.cidr: expected a string, got integer"},
    {"gateway outside", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gateway\":\"10.0.1.1\"}}",
     400, "spec.gateway: \"10.0.1.1\" is not a host address of 10.0.0.0/24"},
    {"gateway broadcast", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gateway\":\"10.0.0.255\"}}",
     400, "is not a host address"},
    {"gateway node", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gatewayNode\":\"node-1\"}}",
     0, "\"gatewayNode\":\"node-1\""},
    {"gateway node keeps the gateway", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gateway\":\"10.0.0.254\",\"gatewayNode\":\"gw\"}}",
     0, "\"gateway\":\"10.0.0.254\""},
    {"gateway node bad name", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gatewayNode\":\"Node_1\"}}",
     400, "spec.gatewayNode: \"Node_1\" is not a node name"},
    {"gateway node empty", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gatewayNode\":\"\"}}",
     400, "spec.gatewayNode: \"\" is not a node name"},
    {"gateway node not a string", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
     "\"gatewayNode\":1}}",
     400, "spec.gatewayNode: expected a string"},
    {"vni zero", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\",\"vni\":0}}", 400,
     "spec.vni: 0 is out of range"},
    {"vni too big", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\",\"vni\":16777216}}", 400,
     "out of range"},
    {"vni string", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\",\"vni\":\"7\"}}", 400,
     "spec.vni: expected an integer, got string"},
    {"dhcp string", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\",\"dhcp\":\"yes\"}}", 400,
     "spec.dhcp: expected a boolean"},
    {"kind mismatch", KIND_NETWORK, NULL,
     "{\"kind\":\"Port\",\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "kind: \"Port\" does not match the path"},
    {"bad apiVersion", KIND_NETWORK, NULL,
     "{\"apiVersion\":\"v2\",\"metadata\":{\"name\":\"b\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}",
     400, "apiVersion: \"v2\" is not supported"},
    {"name upper case", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"Blue\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "metadata.name: \"Blue\" is not a DNS label"},
    {"name trailing dash", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b-\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "is not a DNS label"},
    {"name 64 chars", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"
     ","
     "\"spec\":{\"cidr\":\"10.0.0.0/24\"}}",
     400, "is not a DNS label"},
    {"name missing on POST", KIND_NETWORK, NULL, "{\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "metadata.name is required"},
    {"name from path on PUT", KIND_NETWORK, "blue", "{\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 0,
     "\"cidr\":\"10.0.0.0/24\""},
    {"name differs from path", KIND_NETWORK, "blue",
     "{\"metadata\":{\"name\":\"red\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "does not match the path"},
    {"spec missing", KIND_NETWORK, NULL, "{\"metadata\":{\"name\":\"b\"}}", 400,
     "spec is required"},
    {"spec an array", KIND_NETWORK, NULL, "{\"metadata\":{\"name\":\"b\"},\"spec\":[]}", 400,
     "spec: expected an object, got array"},
    {"negative revision", KIND_NETWORK, NULL,
     "{\"metadata\":{\"name\":\"b\",\"revision\":-1},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}", 400,
     "metadata.revision: must not be negative"},
    /* Ports */
    {"minimal port", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"]}}", 0,
     "\"owner\":\"p\""},
    {"port defaults", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"]}}", 0,
     "\"type\":\"veth\""},
    {"port strategy default", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"]}}", 0,
     "\"strategy\":\"first-frame\""},
    {"port security default", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"]}}", 0,
     "\"security\":true"},
    {"mac normalised", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"],"
     "\"mac\":\"0A:58:00:00:00:AB\"}}",
     0, "\"mac\":\"0a:58:00:00:00:ab\""},
    {"two locations", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\",\"n2\"],"
     "\"type\":\"tap\",\"strategy\":\"rarp\",\"security\":false,\"netns\":\"ep-1\","
     "\"owner\":\"vm1\",\"ipv4\":\"10.0.0.5\"}}",
     0, "\"owner\":\"vm1\""},
    {"no network", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"locations\":[\"n1\"]}}", 400,
     "spec.network is required"},
    {"no locations", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\"}}", 400,
     "spec.locations is required"},
    {"three locations", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\","
     "\"locations\":[\"a\",\"b\",\"c\"]}}",
     400, "needs 1 or 2 node names, got 3"},
    {"empty locations", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[]}}", 400,
     "got 0"},
    {"location twice", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\",\"a\"]}}",
     400, "\"a\" is listed twice"},
    {"location not a name", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[1]}}", 400,
     "spec.locations[0]: not a node name"},
    {"bad type", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"type\":\"macvtap\"}}",
     400, "spec.type: \"macvtap\" is not one of veth|tap"},
    {"bad strategy", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"strategy\":\"garp\"}}",
     400, "spec.strategy: \"garp\""},
    {"bad mac", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"mac\":\"0a:58:00:00:00\"}}",
     400, "spec.mac: \"0a:58:00:00:00\" is not a MAC address"},
    {"multicast mac", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"mac\":\"01:00:5e:00:00:01\"}}",
     400, "is not a unicast address"},
    {"bad ipv4", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"ipv4\":\"10.0.0\"}}",
     400, "spec.ipv4: \"10.0.0\" is not an IPv4 address"},
    {"bad netns", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"netns\":\"../etc\"}}",
     400, "spec.netns: \"../etc\" is not a namespace name"},
    {"security not bool", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"security\":1}}",
     400, "spec.security: expected a boolean, got integer"},
    {"unknown port field", KIND_PORT, NULL,
     "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"a\"],"
     "\"vlan\":3}}",
     400, "unknown field \"spec.vlan\""},
    /* Nodes */
    {"node", KIND_NODE, "n1", "{\"spec\":{\"underlay_ip\":\"192.168.0.1\"}}", 0,
     "\"underlay_ip\":\"192.168.0.1\""},
    {"node without ip", KIND_NODE, "n1", "{\"spec\":{}}", 400, "spec.underlay_ip is required"},
    {"node bad ip", KIND_NODE, "n1", "{\"spec\":{\"underlay_ip\":\"1.2.3.4.5\"}}", 400,
     "spec.underlay_ip: \"1.2.3.4.5\" is not an IPv4 address"},
    {"node kind mismatch", KIND_NODE, "n1",
     "{\"kind\":\"Network\",\"spec\":{\"underlay_ip\":\"1.2.3.4\"}}", 400,
     "does not match the path"},
};

static void test_validation_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct validation_case *c = &cases[i];
		struct api_error err = {0};
		json_t *in = NULL, *out = NULL;
		char *text;
		int r;

		r = api_body_decode(c->json, strlen(c->json), &in, &err);
		if (r < 0)
			fail_msg("%s: the test JSON does not parse: %s", c->description,
				 err.message);
		r = api_object_validate(c->kind, in, c->path_name, &out, &err);
		if (c->status == 0) {
			if (r < 0)
				fail_msg("%s: rejected: %s", c->description, err.message);
			text = json_dumps(json_object_get(out, "spec"), JSON_COMPACT);
			if (!strstr(text, c->fragment))
				fail_msg("%s: spec %s lacks %s", c->description, text, c->fragment);
			free(text);
			assert_string_equal(json_string_value(json_object_get(out, "apiVersion")),
					    API_VERSION);
		} else {
			if (r == 0)
				fail_msg("%s: accepted", c->description);
			if (err.status != c->status || !strstr(err.message, c->fragment))
				fail_msg("%s: got %d \"%s\", want %d with \"%s\"", c->description,
					 err.status, err.message, c->status, c->fragment);
			assert_null(out);
		}
		json_decref(in);
		json_decref(out);
	}
}

static void test_body_decode(void **state)
{
	struct api_error err = {0};
	json_t *out = NULL;

	(void)state;
	assert_int_not_equal(api_body_decode("{\"a\":", 5, &out, &err), 0);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "body is not JSON"));
	assert_non_null(strstr(err.message, "line 1 column"));
	assert_int_not_equal(api_body_decode("[1]", 3, &out, &err), 0);
	assert_non_null(strstr(err.message, "not a JSON object"));
	assert_int_not_equal(api_body_decode("{\"a\":1,\"a\":2}", 13, &out, &err), 0);
	assert_int_not_equal(api_body_decode("{}", API_MAX_BODY + 1, &out, &err), 0);
	assert_int_equal(err.status, 413);
	assert_null(out);
}

static void test_node_status(void **state)
{
	struct api_error err = {0};
	json_t *in, *out = NULL;

	(void)state;
	in = json_loads("{\"applied_revision\":4,\"counters\":{\"rx\":1}}", 0, NULL);
	assert_int_equal(api_node_status_validate(in, &out, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "applied_revision")), 4);
	json_decref(out);
	json_decref(in);
	in = json_loads("{\"applied_revision\":4,\"counters\":{\"rx\":\"1\"}}", 0, NULL);
	assert_int_not_equal(api_node_status_validate(in, &out, &err), 0);
	assert_non_null(strstr(err.message, "counters.rx: expected an integer"));
	json_decref(in);
	in = json_loads("{\"heartbeat_ms\":4}", 0, NULL);
	assert_int_not_equal(api_node_status_validate(in, &out, &err), 0);
	assert_non_null(strstr(err.message, "unknown field \"heartbeat_ms\""));
	json_decref(in);
}

static void test_kinds(void **state)
{
	enum kind k;

	(void)state;
	assert_int_equal(kind_from_plural("ports", &k), 0);
	assert_int_equal(k, KIND_PORT);
	assert_int_not_equal(kind_from_plural("port", &k), 0);
	assert_string_equal(kind_str(KIND_NODE), "Node");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation_table),
	    cmocka_unit_test(test_body_decode),
	    cmocka_unit_test(test_node_status),
	    cmocka_unit_test(test_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

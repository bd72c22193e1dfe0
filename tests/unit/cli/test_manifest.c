/* SPDX-License-Identifier: MIT */
/* Manifests -> API objects: mapping, JSON input, errors with document/line, apply's update rule. */
#include "manifest.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void parse_ok(const char *text, struct manifest *m)
{
	char err[512] = "";

	if (manifest_parse(text, strlen(text), m, err, sizeof(err)))
		fail_msg("manifest did not parse: %s", err);
}

static void expect_error(const char *text, const char *needle)
{
	struct manifest m = { 0 };
	char err[512] = "";

	assert_int_equal(manifest_parse(text, strlen(text), &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(m.n, 0);
	if (!strstr(err, needle))
		fail_msg("error is '%s', want it to contain '%s'", err, needle);
}

static void test_network_and_port(void **state)
{
	const char *text = "# two objects\n"
			   "apiVersion: godwit/v1\n"
			   "kind: Network\n"
			   "metadata:\n"
			   "  name: blue\n"
			   "spec:\n"
			   "  cidr: 10.20.0.0/24\n"
			   "  vni: 100\n"
			   "  dhcp: true\n"
			   "---\n"
			   "apiVersion: godwit/v1\n"
			   "kind: Port\n"
			   "metadata: {name: a}\n"
			   "spec:\n"
			   "  network: blue\n"
			   "  locations: [node-1]\n"
			   "  ipv4: \"10.20.0.9\"\n"
			   "---\n";
	struct manifest m;
	json_t *want;

	(void)state;
	parse_ok(text, &m);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.objs[0].kind->plural, "networks");
	assert_string_equal(m.objs[0].name, "blue");
	assert_int_equal(m.objs[0].doc, 1);
	want = json_loads("{\"apiVersion\": \"godwit/v1\", \"kind\": \"Network\","
			  " \"metadata\": {\"name\": \"blue\"},"
			  " \"spec\": {\"cidr\": \"10.20.0.0/24\", \"vni\": 100, \"dhcp\": true}}",
			  0, NULL);
	assert_true(json_equal(want, m.objs[0].body));
	json_decref(want);
	assert_string_equal(m.objs[1].kind->plural, "ports");
	assert_int_equal(m.objs[1].doc, 2);
	assert_int_equal(manifest_field_line(&m.objs[1], "spec.ipv4"), 17);
	assert_int_equal(manifest_field_line(&m.objs[1], "spec.locations.0"), 16);
	/* unknown paths fall back to the nearest parent */
	assert_int_equal(manifest_field_line(&m.objs[1], "spec.mac"), 14);
	manifest_free(&m);
}

static void test_json_input(void **state)
{
	struct manifest m;

	(void)state;
	parse_ok("{\"apiVersion\": \"godwit/v1\", \"kind\": \"Network\", \"metadata\": {\"name\": "
		 "\"red\"}, \"spec\": {\"cidr\": \"10.0.0.0/24\"}}",
		 &m);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.objs[0].name, "red");
	manifest_free(&m);

	parse_ok("[{\"apiVersion\": \"godwit/v1\", \"kind\": \"Network\", \"metadata\": {\"name\": "
		 "\"x\"}}, {\"apiVersion\": \"godwit/v1\", \"kind\": \"Port\", \"metadata\": "
		 "{\"name\": \"p\", \"revision\": 4}, \"spec\": {\"network\": \"x\"}, "
		 "\"status\": {}}]",
		 &m);
	assert_int_equal(m.n, 2);
	/* spec defaults to {}, server-set metadata and status are dropped */
	assert_int_equal(json_object_size(json_object_get(m.objs[0].body, "spec")), 0);
	assert_null(json_object_get(json_object_get(m.objs[1].body, "metadata"), "revision"));
	assert_null(json_object_get(m.objs[1].body, "status"));
	manifest_free(&m);

	/* YAML flow style also starts with '{' */
	parse_ok("{apiVersion: godwit/v1, kind: Network, metadata: {name: f}}", &m);
	assert_int_equal(m.n, 1);
	manifest_free(&m);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: vm}\n",
		     "document 1: line 2: kind: kubevirt.io/v1 VirtualMachineInstance is not "
		     "supported (supported: godwit/v1 Network, godwit/v1 Port, godwit/v1 VM, "
		     "kubevirt.io/v1 VirtualMachine)");
	expect_error("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: vm}\n",
		     "document 1: spec: missing");
	expect_error("apiVersion: godwit/v1\nkind: Network\nmetadata: {name: a}\n---\n"
		     "apiVersion: godwit/v1\nkind: Port\nmetadata:\n  name: Bad_Name\n",
		     "document 2: line 8: metadata.name: 'Bad_Name' is not a valid name");
	expect_error("apiVersion: godwit/v1\nkind: Network\n", "document 1: metadata.name is missing");
	expect_error("apiVersion: godwit/v1\nkind: Network\nmetadata: {name: a}\nspecs: {}\n",
		     "document 1: line 4: specs: unknown field");
	expect_error("apiVersion: godwit/v1\nkind: Network\nmetadata: {name: a}\nspec: [1]\n",
		     "line 4: spec: must be a mapping");
	expect_error("apiVersion: godwit/v1\nkind: Network\nmetadata: {name: a, labels: {}}\n",
		     "metadata.labels: unknown field");
	expect_error("kind: Network\nmetadata: {name: a}\n", "document 1: apiVersion: missing");
	expect_error("apiVersion: godwit/v1\nmetadata: {name: a}\n", "kind: missing");
	expect_error("- a\n- b\n", "document 1: expected a mapping");
	expect_error("a: &x 1\n", "line 1: anchors (&x) are not supported");
	expect_error("---\n---\n", "no objects found");
	expect_error("{\"apiVersion\": \"godwit/v1\",\n \"kind\": }", "line 2:");
	expect_error("{\"a\": 1, \"a\": 2}", "duplicate");
	expect_error("apiVersion: godwit/v1\nkind: Network\nmetadata: {name: 5}\n",
		     "'(not a string)' is not a valid name");
}

static void test_kind_lookup(void **state)
{
	static const char *const words[] = { "network", "networks", "net", "Network" };

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(kind_lookup(words[i])->plural, "networks");
	assert_string_equal(kind_lookup("ports")->plural, "ports");
	assert_string_equal(kind_lookup("node")->plural, "nodes");
	assert_string_equal(kind_lookup("vm")->plural, "vms");
	assert_null(kind_lookup("vmi"));
}

static void test_update_rule(void **state)
{
	json_t *desired = json_loads("{\"apiVersion\": \"godwit/v1\", \"kind\": \"Network\","
				     " \"metadata\": {\"name\": \"blue\"},"
				     " \"spec\": {\"cidr\": \"10.20.0.0/24\"}}",
				     0, NULL);
	json_t *stored = json_loads("{\"apiVersion\": \"godwit/v1\", \"kind\": \"Network\","
				    " \"metadata\": {\"name\": \"blue\", \"revision\": 12},"
				    " \"spec\": {\"cidr\": \"10.20.0.0/24\", \"vni\": 100,"
				    " \"gateway\": \"10.20.0.1\", \"dhcp\": false}}",
				    0, NULL);
	json_t *put = NULL;

	(void)state;
	/* server-filled fields the manifest leaves out: unchanged */
	assert_int_equal(manifest_update_body(desired, stored, &put), 0);
	assert_null(put);

	/* a changed field: PUT with the stored revision and the allocations kept */
	json_object_set_new(json_object_get(desired, "spec"), "dhcp", json_true());
	assert_int_equal(manifest_update_body(desired, stored, &put), 0);
	assert_non_null(put);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(put, "metadata"),
							    "revision")),
			 12);
	assert_true(json_is_true(json_object_get(json_object_get(put, "spec"), "dhcp")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(put, "spec"), "vni")),
			 100);
	json_decref(put);
	json_decref(desired);
	json_decref(stored);
}

static void test_name_rule(void **state)
{
	(void)state;
	assert_true(object_name_valid("a"));
	assert_true(object_name_valid("node-1"));
	assert_false(object_name_valid(""));
	assert_false(object_name_valid("-a"));
	assert_false(object_name_valid("a-"));
	assert_false(object_name_valid("A"));
	assert_false(object_name_valid("a_b"));
	assert_true(
	    object_name_valid("a23456789012345678901234567890123456789012345678901234567890123"));
	assert_false(
	    object_name_valid("a234567890123456789012345678901234567890123456789012345678901234"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_and_port), cmocka_unit_test(test_json_input),
		cmocka_unit_test(test_errors),		 cmocka_unit_test(test_kind_lookup),
		cmocka_unit_test(test_update_rule),	 cmocka_unit_test(test_name_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

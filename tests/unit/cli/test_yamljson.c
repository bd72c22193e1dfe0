/* SPDX-License-Identifier: MIT */
/* YAML -> JSON conversion: scalar typing, nesting, documents, errors, and the emitter. */
#include "yamljson.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Parses yaml (one document) and compares it with the JSON text expected. */
static void expect_doc(const char *yaml, const char *expected_json)
{
	struct yaml_docs docs = { 0 };
	char err[256] = "";
	json_t *want = json_loads(expected_json, JSON_DECODE_ANY, NULL);
	int r = yaml_parse_docs(yaml, strlen(yaml), &docs, err, sizeof(err));

	if (r)
		fail_msg("parse of %s failed: %s", yaml, err);
	assert_int_equal(docs.n, 1);
	assert_non_null(want);
	if (!json_equal(want, docs.docs[0].value)) {
		char *got = json_dumps(docs.docs[0].value, JSON_ENCODE_ANY);

		fail_msg("%s: got %s, want %s", yaml, got, expected_json);
	}
	json_decref(want);
	yaml_docs_free(&docs);
}

static void expect_error(const char *yaml, const char *needle)
{
	struct yaml_docs docs = { 0 };
	char err[256] = "";
	int r = yaml_parse_docs(yaml, strlen(yaml), &docs, err, sizeof(err));

	assert_int_equal(r, -EINVAL);
	assert_int_equal(docs.n, 0);
	if (!strstr(err, needle))
		fail_msg("error for %s is '%s', want it to contain '%s'", yaml, err, needle);
}

static void test_scalar_types(void **state)
{
	static const struct {
		const char *yaml, *json;
	} cases[] = {
		{ "v: 42", "{\"v\": 42}" },
		{ "v: -7", "{\"v\": -7}" },
		{ "v: +3", "{\"v\": 3}" },
		{ "v: 0x1f", "{\"v\": 31}" },
		{ "v: 0o17", "{\"v\": 15}" },
		{ "v: 1.5", "{\"v\": 1.5}" },
		{ "v: 1e3", "{\"v\": 1000.0}" },
		{ "v: .5", "{\"v\": 0.5}" },
		{ "v: true", "{\"v\": true}" },
		{ "v: False", "{\"v\": false}" },
		{ "v: null", "{\"v\": null}" },
		{ "v: ~", "{\"v\": null}" },
		{ "v:", "{\"v\": null}" },
		{ "v: yes", "{\"v\": \"yes\"}" }, /* YAML 1.1 booleans are strings in 1.2 */
		{ "v: on", "{\"v\": \"on\"}" },
		{ "v: 010", "{\"v\": 10}" },
		{ "v: 10.20.0.0/24", "{\"v\": \"10.20.0.0/24\"}" },
		{ "v: 0a:58:00:00:00:01", "{\"v\": \"0a:58:00:00:00:01\"}" },
		{ "v: 1_000", "{\"v\": \"1_000\"}" },
		{ "v: \"42\"", "{\"v\": \"42\"}" },
		{ "v: 'true'", "{\"v\": \"true\"}" },
		{ "v: \"\"", "{\"v\": \"\"}" },
		{ "v: !!str 7", "{\"v\": \"7\"}" },
		{ "v: \"a\\tb\"", "{\"v\": \"a\\tb\"}" },
		{ "\"1\": x", "{\"1\": \"x\"}" },
		{ "3: x", "{\"3\": \"x\"}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_doc(cases[i].yaml, cases[i].json);
}

static void test_nesting(void **state)
{
	(void)state;
	expect_doc("a:\n  b:\n    - 1\n    - x: [2, 3]\n      y: {}\n  c: []\n",
		   "{\"a\": {\"b\": [1, {\"x\": [2, 3], \"y\": {}}], \"c\": []}}");
	expect_doc("- a\n- - b\n  - c\n", "[\"a\", [\"b\", \"c\"]]");
	expect_doc("{a: 1, b: [x, \"y\"]}", "{\"a\": 1, \"b\": [\"x\", \"y\"]}");
	expect_doc("plain", "\"plain\"");
}

static void test_multi_document(void **state)
{
	const char *yaml = "a: 1\n---\nb: 2\n---\n---\nc: [3]\n";
	struct yaml_docs docs = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(yaml_parse_docs(yaml, strlen(yaml), &docs, err, sizeof(err)), 0);
	assert_int_equal(docs.n, 4);
	assert_int_equal(json_integer_value(json_object_get(docs.docs[0].value, "a")), 1);
	assert_int_equal(json_integer_value(json_object_get(docs.docs[1].value, "b")), 2);
	assert_true(json_is_null(docs.docs[2].value));
	assert_int_equal(json_array_size(json_object_get(docs.docs[3].value, "c")), 1);
	assert_int_equal(docs.docs[1].line, 2);
	yaml_docs_free(&docs);

	assert_int_equal(yaml_parse_docs("", 0, &docs, err, sizeof(err)), 0);
	assert_int_equal(docs.n, 0);
	yaml_docs_free(&docs);
}

static void test_line_map(void **state)
{
	const char *yaml = "kind: Port\nspec:\n  network: blue\n  locations:\n    - node-1\n";
	struct yaml_docs docs = { 0 };
	char err[256];
	json_t *lines;

	(void)state;
	assert_int_equal(yaml_parse_docs(yaml, strlen(yaml), &docs, err, sizeof(err)), 0);
	lines = docs.docs[0].lines;
	assert_int_equal(json_integer_value(json_object_get(lines, "kind")), 1);
	assert_int_equal(json_integer_value(json_object_get(lines, "spec")), 2);
	assert_int_equal(json_integer_value(json_object_get(lines, "spec.network")), 3);
	assert_int_equal(json_integer_value(json_object_get(lines, "spec.locations.0")), 5);
	yaml_docs_free(&docs);
}

static void test_errors(void **state)
{
	char deep[400];
	size_t n = 0;

	(void)state;
	expect_error("a: &anchor 1\nb: *anchor\n", "line 1: anchors (&anchor)");
	expect_error("a: 1\nb: *nothing\n", "line 2:");
	expect_error("base: &b {x: 1}\n", "anchors");
	expect_error("a: 1\na: 2\n", "line 2: duplicate key 'a'");
	expect_error("a: 1\n b: 2\n", "line 2:");
	expect_error("a: [1, 2\n", "line 2:");
	expect_error("? [x]\n: 1\n", "line 1: mapping keys must be strings");
	expect_error("v: 99999999999999999999\n", "line 1: integer 99999999999999999999 out of range");
	expect_error("v: .inf\n", "not representable");
	expect_error("v: !!int 3\n", "unsupported tag");
	expect_error("ok: 1\nlist:\n  - a\n  - &x b\n", "line 4: anchors");
	for (int i = 0; i < 70; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	expect_error(deep, "nesting deeper than 64");
}

static void test_emit_roundtrip(void **state)
{
	static const char *const cases[] = {
		"{\"apiVersion\": \"godwit/v1\", \"metadata\": {\"name\": \"blue\", \"revision\": 3},"
		" \"spec\": {\"cidr\": \"10.20.0.0/24\", \"dhcp\": false, \"vni\": 100}}",
		"{\"s\": [\"true\", \"42\", \"null\", \"\", \"a: b\", \"- x\", \"#c\", \"x\\ny\"],"
		" \"e\": {}, \"l\": [], \"f\": 1.25, \"n\": null, \"neg\": -3}",
		"[1, [2, [3]], {\"k\": \"0x10\"}]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i], 0, NULL);
		struct yaml_docs docs = { 0 };
		char *buf = NULL, err[256];
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_non_null(v);
		assert_int_equal(yaml_emit(f, v), 0);
		fclose(f);
		if (yaml_parse_docs(buf, len, &docs, err, sizeof(err)))
			fail_msg("emitted YAML does not parse (%s):\n%s", err, buf);
		assert_int_equal(docs.n, 1);
		if (!json_equal(v, docs.docs[0].value))
			fail_msg("round trip changed %s; YAML was:\n%s", cases[i], buf);
		yaml_docs_free(&docs);
		json_decref(v);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalar_types), cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_multi_document), cmocka_unit_test(test_line_map),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_emit_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

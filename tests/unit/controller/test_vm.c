/* SPDX-License-Identifier: MIT */
/*
 * The VM kind: validation rows (status, field, message), the catalog, the
 * scheduler's choice, PUT rules, status derivation from node reports, and how
 * a VM follows its port through a migration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_objects.h"
#include "lib/catalog.h"
#include "registry.h"
#include "vm.h"

#define VM_BODY(extra)                                                                             \
	"{\"metadata\":{\"name\":\"testvm\"},\"spec\":{\"memory_mib\":64,\"image\":\"godwit-"      \
	"demo\"" extra "}}"

struct row {
	const char *description;
	enum kind kind;
	const char *json;
	int status;	      /* 0: valid */
	const char *field;    /* of the error */
	const char *fragment; /* in the error, or in the normalised spec */
};

static const struct row rows[] = {
    {"minimal VM: defaults", KIND_VM, VM_BODY(""), 0, NULL,
     "{\"running\":true,\"memory_mib\":64,\"cpus\":1,\"image\":\"godwit-demo\","
     "\"network\":\"default\",\"migratable\":false}"},
    {"full VM", KIND_VM,
     VM_BODY(",\"running\":false,\"cpus\":16,\"user_data\":\"SGkuXG4=\","
	     "\"user_data_encoding\":\"base64\",\"network\":\"blue\",\"migratable\":true"),
     0, NULL, "\"user_data_encoding\":\"base64\",\"user_data\":\"SGkuXG4=\""},
    {"text user data by default", KIND_VM, VM_BODY(",\"user_data\":\"#cloud-config\""), 0, NULL,
     "\"user_data_encoding\":\"text\""},
    {"memory missing", KIND_VM,
     "{\"metadata\":{\"name\":\"v\"},\"spec\":{\"image\":\"godwit-demo\"}}", 400, "spec.memory_mib",
     "spec.memory_mib is required"},
    {"memory 0", KIND_VM, VM_BODY(",\"memory_mib\":0"), 400, "spec.memory_mib",
     "spec.memory_mib: 0 is out of range 1..65536"},
    {"memory 65537", KIND_VM, VM_BODY(",\"memory_mib\":65537"), 400, "spec.memory_mib",
     "out of range"},
    {"memory a string", KIND_VM, VM_BODY(",\"memory_mib\":\"64Mi\""), 400, "spec.memory_mib",
     "expected an integer, got string"},
    {"cpus 0", KIND_VM, VM_BODY(",\"cpus\":0"), 400, "spec.cpus",
     "spec.cpus: 0 is out of range 1..16"},
    {"cpus 17", KIND_VM, VM_BODY(",\"cpus\":17"), 400, "spec.cpus", "out of range 1..16"},
    {"image empty", KIND_VM,
     "{\"metadata\":{\"name\":\"v\"},\"spec\":{\"memory_mib\":64,\"image\":\"\"}}", 400,
     "spec.image", "spec.image is required"},
    {"image missing", KIND_VM, "{\"metadata\":{\"name\":\"v\"},\"spec\":{\"memory_mib\":64}}", 400,
     "spec.image", "spec.image is required"},
    {"running not a bool", KIND_VM, VM_BODY(",\"running\":1"), 400, "spec.running",
     "spec.running: expected a boolean"},
    {"migratable not a bool", KIND_VM, VM_BODY(",\"migratable\":\"true\""), 400, "spec.migratable",
     "expected a boolean, got string"},
    {"bad base64", KIND_VM, VM_BODY(",\"user_data\":\"SGk*\",\"user_data_encoding\":\"base64\""),
     400, "spec.user_data", "not valid base64"},
    {"base64 not padded", KIND_VM,
     VM_BODY(",\"user_data\":\"SGkuX\",\"user_data_encoding\":\"base64\""), 400, "spec.user_data",
     "not valid base64"},
    {"padding inside", KIND_VM,
     VM_BODY(",\"user_data\":\"SG==SGku\",\"user_data_encoding\":\"base64\""), 400,
     "spec.user_data", "not valid base64"},
    {"bad encoding", KIND_VM, VM_BODY(",\"user_data\":\"x\",\"user_data_encoding\":\"gzip\""), 400,
     "spec.user_data_encoding", "\"gzip\" is not one of text|base64"},
    {"encoding without data", KIND_VM, VM_BODY(",\"user_data_encoding\":\"text\""), 400,
     "spec.user_data_encoding", "given without spec.user_data"},
    {"bad network name", KIND_VM, VM_BODY(",\"network\":\"Blue\""), 400, "spec.network",
     "spec.network: \"Blue\" is not a valid name"},
    {"bad node name", KIND_VM, VM_BODY(",\"node\":\"n_1\""), 400, "spec.node",
     "is not a node name"},
    {"unknown field", KIND_VM, VM_BODY(",\"disk\":\"x\""), 400, "spec.disk",
     "unknown field \"spec.disk\""},
    {"kind mismatch", KIND_VM,
     "{\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"v\"},\"spec\":{}}", 400, "kind",
     "does not match the path (/v1/vms takes VM)"},
    /* Migrations of VMs */
    {"migration of a VM", KIND_MIGRATION,
     "{\"metadata\":{\"name\":\"m\"},\"spec\":{\"vm\":\"testvm\"}}", 0, NULL, "\"vm\":\"testvm\""},
    {"migration normalised: vm and port equal", KIND_MIGRATION,
     "{\"metadata\":{\"name\":\"m\"},\"spec\":{\"vm\":\"testvm\",\"port\":\"testvm\"}}", 0, NULL,
     "\"port\":\"testvm\",\"vm\":\"testvm\""},
    {"migration: vm and port differ", KIND_MIGRATION,
     "{\"metadata\":{\"name\":\"m\"},\"spec\":{\"vm\":\"a\",\"port\":\"b\"}}", 400, "spec.vm",
     "give one of them"},
    {"migration of nothing", KIND_MIGRATION, "{\"metadata\":{\"name\":\"m\"},\"spec\":{}}", 400,
     "spec.port", "spec.port or spec.vm is required"},
    {"migration: bad vm name", KIND_MIGRATION,
     "{\"metadata\":{\"name\":\"m\"},\"spec\":{\"vm\":\"A\"}}", 400, "spec.vm",
     "is not a valid name"},
};

static void test_validation(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *c = &rows[i];
		struct api_error err = {0};
		json_t *in = json_loads(c->json, 0, NULL), *out = NULL, *again = NULL;
		char *text;
		int r;

		if (!in)
			fail_msg("%s: the test JSON does not parse", c->description);
		r = api_object_validate(c->kind, in, NULL, &out, &err);
		if (c->status == 0) {
			if (r < 0)
				fail_msg("%s: rejected: %s", c->description, err.message);
			text = json_dumps(json_object_get(out, "spec"), JSON_COMPACT);
			if (!strstr(text, c->fragment))
				fail_msg("%s: spec %s lacks %s", c->description, text, c->fragment);
			free(text);
			/* normalisation is idempotent */
			assert_int_equal(api_object_validate(c->kind, out, NULL, &again, &err), 0);
			assert_true(json_equal(out, again));
			json_decref(again);
		} else {
			if (r == 0)
				fail_msg("%s: accepted", c->description);
			if (err.status != c->status || strcmp(err.field, c->field) != 0 ||
			    !strstr(err.message, c->fragment))
				fail_msg("%s: got %d %s \"%s\", want %d %s with \"%s\"",
					 c->description, err.status, err.field, err.message,
					 c->status, c->field, c->fragment);
		}
		json_decref(in);
		json_decref(out);
	}
}

static void test_user_data_sizes(void **state)
{
	char body[4096], data[2100];
	struct api_error err = {0};
	json_t *in, *out = NULL;

	(void)state;
	/* text: 1536 bytes pass, 1537 do not */
	memset(data, 'a', 1537);
	data[1536] = '\0';
	snprintf(body, sizeof(body), VM_BODY(",\"user_data\":\"%s\""), data);
	in = json_loads(body, 0, NULL);
	assert_int_equal(api_object_validate(KIND_VM, in, NULL, &out, &err), 0);
	json_decref(out);
	json_decref(in);
	data[1536] = 'a';
	data[1537] = '\0';
	snprintf(body, sizeof(body), VM_BODY(",\"user_data\":\"%s\""), data);
	in = json_loads(body, 0, NULL);
	assert_int_not_equal(api_object_validate(KIND_VM, in, NULL, &out, &err), 0);
	assert_string_equal(err.field, "spec.user_data");
	assert_non_null(strstr(err.message, "1537 bytes of text, more than 1536"));
	json_decref(in);
	/* base64: 2048 pass, 2052 do not */
	memset(data, 'Q', 2052);
	data[2048] = '\0';
	snprintf(body, sizeof(body),
		 VM_BODY(",\"user_data\":\"%s\",\"user_data_encoding\":\"base64\""), data);
	in = json_loads(body, 0, NULL);
	assert_int_equal(api_object_validate(KIND_VM, in, NULL, &out, &err), 0);
	json_decref(out);
	json_decref(in);
	data[2048] = 'Q';
	data[2052] = '\0';
	snprintf(body, sizeof(body),
		 VM_BODY(",\"user_data\":\"%s\",\"user_data_encoding\":\"base64\""), data);
	in = json_loads(body, 0, NULL);
	assert_int_not_equal(api_object_validate(KIND_VM, in, NULL, &out, &err), 0);
	assert_non_null(strstr(err.message, "2052 bytes of base64, more than 2048"));
	json_decref(in);
}

static void test_catalog(void **state)
{
	char names[256];

	(void)state;
	assert_non_null(catalog_find("godwit-demo"));
	assert_string_equal(catalog_find("quay.io/kubevirt/cirros-container-disk-demo")->guest,
			    "godwit-demo");
	assert_int_equal(catalog_find("godwit-demo")->min_memory_mib, 128);
	assert_null(catalog_find("quay.io/kubevirt/fedora"));
	assert_null(catalog_find(NULL));
	catalog_names(names, sizeof(names));
	assert_string_equal(names, "godwit-demo, quay.io/kubevirt/cirros-container-disk-demo");
}

#define NOW 1000000000000LL

/* A node that reported age_ms ago (-1: never), with a vms map (may be NULL). */
static json_t *node(const char *name, int64_t age_ms, const char *vms)
{
	json_t *n = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", name, "spec", "underlay_ip",
			      "192.168.0.1");

	if (age_ms >= 0) {
		json_t *st = json_pack("{s:I, s:I}", "heartbeat_ms", (json_int_t)(NOW - age_ms),
				       "age_ms", (json_int_t)age_ms);

		if (vms)
			json_object_set_new(st, "vms", json_loads(vms, 0, NULL));
		json_object_set_new(n, "status", st);
	}
	return n;
}

static json_t *vm(const char *name, const char *node_name, const char *target, bool running)
{
	json_t *v = json_pack("{s:{s:s}, s:{s:b, s:i, s:s}, s:{s:s, s:i}}", "metadata", "name",
			      name, "spec", "running", running, "memory_mib", 64, "image",
			      "godwit-demo", "status", "port", name, "memory_mib", 128);

	if (node_name)
		json_object_set_new(json_object_get(v, "spec"), "node", json_string(node_name));
	if (target)
		json_object_set_new(json_object_get(v, "spec"), "target", json_string(target));
	return v;
}

static void test_schedule(void **state)
{
	json_t *nodes =
	    json_pack("[o, o, o, o]", node("node-1", 100, NULL), node("node-2", 100, NULL),
		      node("node-3", -1, NULL), node("node-4", NODE_READY_MS + 1, NULL));
	json_t *vms = json_array();
	const char *chosen = NULL;

	(void)state;
	assert_int_equal(vm_schedule(nodes, vms, &chosen), 0);
	assert_string_equal(chosen, "node-1"); /* tie: first by name */
	json_array_append_new(vms, vm("a", "node-1", NULL, true));
	assert_int_equal(vm_schedule(nodes, vms, &chosen), 0);
	assert_string_equal(chosen, "node-2"); /* fewest */
	json_array_append_new(vms, vm("b", "node-2", NULL, true));
	json_array_append_new(vms, vm("c", "node-3", "node-2", true)); /* a target counts */
	assert_int_equal(vm_schedule(nodes, vms, &chosen), 0);
	assert_string_equal(chosen, "node-1");
	json_decref(nodes);
	/* no ready node: never reported, or too long ago */
	nodes = json_pack("[o, o]", node("node-3", -1, NULL), node("node-4", NODE_READY_MS, NULL));
	assert_int_equal(vm_schedule(nodes, vms, &chosen), -ENOENT);
	json_decref(nodes);
	json_decref(vms);
}

struct derive_case {
	const char *description;
	int64_t age_ms; /* of the node's report; -1 never; -2 no such node */
	const char *vms;
	bool running;
	const char *target;
	const char *phase;
	const char *reason; /* fragment, or NULL for none */
};

static const struct derive_case derive_cases[] = {
    {"no report yet", -1, NULL, true, NULL, "Scheduled",
     "node node-1 is not ready (no status report yet)"},
    {"node reports, not the VM", 100, "{}", true, NULL, "Scheduled", NULL},
    {"starting", 100, "{\"testvm\":{\"phase\":\"starting\"}}", true, NULL, "Starting", NULL},
    {"running, not ready", 100, "{\"testvm\":{\"phase\":\"running\",\"ready\":false}}", true, NULL,
     "Starting", NULL},
    {"running and ready", 100, "{\"testvm\":{\"phase\":\"running\",\"ready\":true}}", true, NULL,
     "Running", NULL},
    {"failed", 100, "{\"testvm\":{\"phase\":\"failed\",\"reason\":\"qemu exited: boom\"}}", true,
     NULL, "Failed", "qemu exited: boom"},
    {"failed without reason", 100, "{\"testvm\":{\"phase\":\"failed\"}}", true, NULL, "Failed",
     "no reason given"},
    {"stopped by the agent", 100, "{\"testvm\":{\"phase\":\"stopped\"}}", true, NULL, "Stopped",
     NULL},
    {"spec.running false", 100, "{\"testvm\":{\"phase\":\"stopped\"}}", false, NULL, "Stopped",
     NULL},
    {"spec.running false, still running", 100,
     "{\"testvm\":{\"phase\":\"running\",\"ready\":true}}", false, NULL, "Stopped", "stopping"},
    {"migrating", 100, "{\"testvm\":{\"phase\":\"running\",\"ready\":true}}", true, "node-2",
     "Migrating", NULL},
    {"node not ready", NODE_READY_MS + 2000, "{\"testvm\":{\"phase\":\"running\",\"ready\":true}}",
     true, NULL, "Running", "node node-1 is not ready (last report 8 s ago)"},
    {"node deleted", -2, NULL, true, NULL, "Scheduled", "node node-1 does not exist"},
};

static void test_status_derive(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(derive_cases) / sizeof(derive_cases[0]); i++) {
		const struct derive_case *c = &derive_cases[i];
		json_t *v = vm("testvm", "node-1", c->target, c->running);
		json_t *n = c->age_ms == -2 ? NULL : node("node-1", c->age_ms, c->vms);
		json_t *st = NULL;
		const char *phase, *reason;

		assert_int_equal(vm_status_derive(v, n, &st), 0);
		phase = json_string_value(json_object_get(st, "phase"));
		reason = json_string_value(json_object_get(st, "reason"));
		if (!phase || strcmp(phase, c->phase) != 0)
			fail_msg("%s: phase %s, want %s", c->description, phase, c->phase);
		if (c->reason ? !reason || !strstr(reason, c->reason) : reason != NULL)
			fail_msg("%s: reason \"%s\", want \"%s\"", c->description,
				 reason ? reason : "(none)", c->reason ? c->reason : "(none)");
		/* the stored part stays */
		assert_string_equal(json_string_value(json_object_get(st, "port")), "testvm");
		assert_string_equal(json_string_value(json_object_get(st, "node")), "node-1");
		json_decref(st);
		json_decref(v);
		json_decref(n);
	}
}

static void test_status_reported_fields(void **state)
{
	json_t *v = vm("testvm", "node-1", NULL, true), *st = NULL, *v2;
	json_t *n = node("node-1", 10,
			 "{\"testvm\":{\"phase\":\"running\",\"ready\":true,\"pid\":77,"
			 "\"memory_mib\":256,\"console\":\"/run/godwit/vms/testvm/console.sock\","
			 "\"guest_resets\":1,\"events\":{}},\"other\":{\"phase\":\"failed\"}}");

	(void)state;
	assert_int_equal(vm_status_derive(v, n, &st), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "pid")), 77);
	assert_int_equal(json_integer_value(json_object_get(st, "memory_mib")), 256);
	assert_string_equal(json_string_value(json_object_get(st, "console")),
			    "/run/godwit/vms/testvm/console.sock");
	assert_true(json_is_true(json_object_get(st, "ready")));
	assert_int_equal(json_integer_value(json_object_get(st, "guest_resets")), 1);
	json_decref(n);
	/* the next report (a new QEMU) has none: gone from the status */
	v2 = vm("testvm", "node-1", NULL, true);
	json_object_set_new(v2, "status", st);
	n = node("node-1", 10, "{\"testvm\":{\"phase\":\"running\",\"ready\":true}}");
	assert_int_equal(vm_status_derive(v2, n, &st), 0);
	assert_null(json_object_get(st, "guest_resets"));
	json_decref(st);
	json_decref(n);
	json_decref(v2);
	/* a report with wrong types is not copied */
	n = node("node-1", 10, "{\"testvm\":{\"phase\":7,\"pid\":\"x\",\"console\":1}}");
	assert_int_equal(vm_status_derive(v, n, &st), 0);
	assert_string_equal(json_string_value(json_object_get(st, "phase")), "Scheduled");
	assert_null(json_object_get(st, "pid"));
	assert_null(json_object_get(st, "console"));
	assert_int_equal(json_integer_value(json_object_get(st, "memory_mib")), 128);
	json_decref(st);
	json_decref(n);
	json_decref(v);
}

static void test_initial_status(void **state)
{
	json_t *v = vm("testvm", "node-1", NULL, true), *st = NULL;
	json_t *port = json_loads("{\"metadata\":{\"name\":\"testvm\"},\"spec\":{\"ipv4\":"
				  "\"10.244.0.2\",\"mac\":\"0a:58:00:00:00:01\"}}",
				  0, NULL);

	(void)state;
	assert_int_equal(vm_initial_status(v, port, catalog_find("godwit-demo"), &st), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "memory_mib")), 128);
	assert_string_equal(json_string_value(json_array_get(json_object_get(st, "notes"), 0)),
			    "memory raised from 64 MiB to 128 MiB (the guest's minimum)");
	assert_string_equal(json_string_value(json_object_get(st, "ipv4")), "10.244.0.2");
	json_decref(st);
	json_object_set_new(json_object_get(v, "spec"), "memory_mib", json_integer(512));
	assert_int_equal(vm_initial_status(v, port, catalog_find("godwit-demo"), &st), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "memory_mib")), 512);
	assert_int_equal(json_array_size(json_object_get(st, "notes")), 0);
	json_decref(st);
	json_decref(port);
	json_decref(v);
}

/* Validates body as a PUT of the stored old and merges; returns the error status or 0. */
static int put(const json_t *old, const char *body_text, json_t **merged, struct api_error *err)
{
	json_t *body = json_loads(body_text, 0, NULL), *obj = NULL;
	int r;

	r = api_object_validate(KIND_VM, body, "testvm", &obj, err);
	if (r == 0)
		r = vm_merge(obj, old, body, err);
	json_decref(body);
	if (r == 0)
		*merged = obj;
	else
		json_decref(obj);
	return r == 0 ? 0 : err->status;
}

static void test_merge(void **state)
{
	json_t *old = vm("testvm", "node-1", NULL, true), *merged = NULL;
	struct api_error err = {0};

	(void)state;
	json_object_set_new(json_object_get(old, "spec"), "cpus", json_integer(2));
	json_object_set_new(json_object_get(old, "spec"), "migratable", json_true());
	json_object_set_new(json_object_get(old, "spec"), "network", json_string("default"));
	/* running changes; left-out fields are kept (cpus 2, not the default 1) */
	assert_int_equal(put(old,
			     "{\"spec\":{\"running\":false,\"memory_mib\":64,\"image\":"
			     "\"godwit-demo\"}}",
			     &merged, &err),
			 0);
	assert_true(json_is_false(json_object_get(json_object_get(merged, "spec"), "running")));
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(merged, "spec"), "cpus")), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(merged, "spec"), "node")), "node-1");
	json_decref(merged);
	assert_int_equal(
	    put(old, "{\"spec\":{\"memory_mib\":128,\"image\":\"godwit-demo\"}}", &merged, &err),
	    422);
	assert_string_equal(err.field, "spec.memory_mib");
	assert_non_null(strstr(err.message, "spec.memory_mib is immutable (vm testvm has 64)"));
	assert_int_equal(put(old,
			     "{\"spec\":{\"memory_mib\":64,\"image\":\"godwit-demo\","
			     "\"cpus\":1}}",
			     &merged, &err),
			 422);
	assert_string_equal(err.field, "spec.cpus");
	assert_int_equal(put(old,
			     "{\"spec\":{\"memory_mib\":64,\"image\":\"godwit-demo\","
			     "\"node\":\"node-2\"}}",
			     &merged, &err),
			 422);
	assert_string_equal(err.field, "spec.node");
	assert_int_equal(put(old,
			     "{\"spec\":{\"memory_mib\":64,\"image\":\"godwit-demo\","
			     "\"target\":\"node-2\"}}",
			     &merged, &err),
			 422);
	assert_string_equal(err.field, "spec.target");
	/* running left out stays as stored, not the create-time default */
	json_object_set_new(json_object_get(old, "spec"), "running", json_false());
	assert_int_equal(
	    put(old, "{\"spec\":{\"memory_mib\":64,\"image\":\"godwit-demo\"}}", &merged, &err), 0);
	assert_true(json_is_false(json_object_get(json_object_get(merged, "spec"), "running")));
	json_decref(merged);
	json_decref(old);
}

static void test_follow_port(void **state)
{
	json_t *v = vm("testvm", "node-1", NULL, true);
	json_t *port = json_loads("{\"metadata\":{\"name\":\"testvm\"},\"spec\":{\"locations\":"
				  "[\"node-1\"],\"target\":\"node-2\"}}",
				  0, NULL);
	json_t *pspec = json_object_get(port, "spec");

	(void)state;
	assert_true(vm_follow_port(v, port)); /* Pending: target set, node kept */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(v, "spec"), "target")), "node-2");
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "spec"), "node")),
			    "node-1");
	assert_false(vm_follow_port(v, port)); /* nothing new */
	json_object_set_new(pspec, "locations", json_pack("[s, s]", "node-1", "node-2"));
	assert_false(vm_follow_port(v, port)); /* replicating: the VM still runs on node-1 */
	json_object_del(pspec, "target");      /* succeeded */
	json_object_set_new(pspec, "locations", json_pack("[s]", "node-2"));
	assert_true(vm_follow_port(v, port));
	assert_null(json_object_get(json_object_get(v, "spec"), "target"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "spec"), "node")),
			    "node-2");
	json_decref(port);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation),	   cmocka_unit_test(test_user_data_sizes),
	    cmocka_unit_test(test_catalog),	   cmocka_unit_test(test_schedule),
	    cmocka_unit_test(test_status_derive),  cmocka_unit_test(test_status_reported_fields),
	    cmocka_unit_test(test_initial_status), cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_follow_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* The source agent's migration steps: vm_flow_decide (pure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "agent/vm_flow.h"

static json_t *mig(const char *phase, const char *source, const char *uri)
{
	json_t *m = json_pack("{s:{s:s}, s:{s:s}, s:{s:s, s:s}}", "metadata", "name", "m1", "spec",
			      "vm", "testvm", "status", "phase", phase, "source", source);

	assert_non_null(m);
	if (uri)
		json_object_set_new(json_object_get(m, "status"), "incoming_uri", json_string(uri));
	return m;
}

static struct vm_migrate_state qemu(const char *status, bool active)
{
	struct vm_migrate_state s = {.known = true, .active = active};

	strcpy(s.status, status);
	strcpy(s.run_state, "running");
	return s;
}

#define URI "tcp:10.254.0.12:4444"

static void test_decide(void **state)
{
	struct vm_flow_rec none = {0}, started = {.started = true},
			   reported = {.started = true, .reported = true},
			   recovered = {.started = true, .reported = true, .recovered = true};
	struct vm_migrate_state idle = qemu("", false), active = qemu("active", true),
				done = qemu("completed", false), failed = qemu("failed", false),
				cancelled = qemu("cancelled", false);
	json_t *m;

	(void)state;
	/* not ours: another node is the source, or a port migration */
	m = mig("Replicating", "node-2", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &idle), VM_FLOW_NONE);
	json_decref(m);
	m = json_pack("{s:{s:s}, s:{s:s, s:s, s:s}}", "spec", "port", "web", "status", "phase",
		      "Replicating", "source", "node-1", "incoming_uri", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &idle), VM_FLOW_NONE);
	json_decref(m);

	/* start only once Replicating with the target's uri, and with the VM here */
	m = mig("TargetReady", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &idle), VM_FLOW_NONE);
	json_decref(m);
	m = mig("Replicating", "node-1", NULL);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &idle), VM_FLOW_NONE);
	json_decref(m);
	m = mig("Replicating", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, NULL), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &idle), VM_FLOW_START);
	json_decref(m);

	/* running: wait, complete, or fail with QEMU's error */
	m = mig("Running", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &active), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &done), VM_FLOW_COMPLETE);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &failed), VM_FLOW_FAIL);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &cancelled), VM_FLOW_FAIL);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, NULL), VM_FLOW_FAIL);
	assert_int_equal(vm_flow_decide(m, "node-1", &reported, &done), VM_FLOW_NONE);
	json_decref(m);

	/* aborted or failed by the controller: recover once */
	m = mig("Aborted", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &active), VM_FLOW_RECOVER);
	assert_int_equal(vm_flow_decide(m, "node-1", &reported, &failed), VM_FLOW_RECOVER);
	assert_int_equal(vm_flow_decide(m, "node-1", &recovered, &idle), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &idle), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &none, &active), VM_FLOW_RECOVER);
	json_decref(m);
	m = mig("Failed", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &done), VM_FLOW_RECOVER);
	json_decref(m);

	/* succeeded: nothing more */
	m = mig("Succeeded", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &started, &done), VM_FLOW_NONE);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

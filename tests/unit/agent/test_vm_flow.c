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

static void set_status(json_t *m, const char *key, json_t *value)
{
	json_object_set_new(json_object_get(m, "status"), key, value);
}

/* The VM here: running or not, its last transfer (of migration, in status). */
static struct vm_migrate_state qemu(bool running, const char *migration, const char *status,
				    bool active)
{
	struct vm_migrate_state s = {.running = running, .active = active};

	strcpy(s.migration, migration);
	strcpy(s.status, status);
	return s;
}

#define URI "tcp:10.254.0.12:4444"

static void test_start(void **state)
{
	struct vm_migrate_state idle = qemu(true, "", "", false),
				paused = qemu(false, "", "", false),
				earlier = qemu(true, "m0", "failed", false),
				declined = qemu(true, "", "", false);
	json_t *m;

	(void)state;
	strcpy(declined.declined, "m1");
	/* not ours: another node is the source, or a port migration */
	m = mig("Replicating", "node-2", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_NONE);
	json_decref(m);
	m = json_pack("{s:{s:s}, s:{s:s}, s:{s:s, s:s, s:s}}", "metadata", "name", "m1", "spec",
		      "port", "web", "status", "phase", "Replicating", "source", "node-1",
		      "incoming_uri", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_NONE);
	json_decref(m);

	/* start only once Replicating with the target's uri, with the VM running here */
	m = mig("TargetReady", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_NONE);
	json_decref(m);
	m = mig("Replicating", "node-1", NULL);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_NONE);
	json_decref(m);
	m = mig("Replicating", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", NULL), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &paused), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_START);
	assert_int_equal(vm_flow_decide(m, "node-1", &earlier), VM_FLOW_START);
	assert_int_equal(vm_flow_decide(m, "node-1", &declined), VM_FLOW_NONE);
	json_decref(m);

	/* once started, never again for the same migration (also after it failed) */
	m = mig("Running", "node-1", URI);
	struct vm_migrate_state on = qemu(true, "m1", "active", true),
				failed = qemu(true, "m1", "failed", false),
				done = qemu(false, "m1", "completed", false);
	assert_int_equal(vm_flow_decide(m, "node-1", &on), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &failed), VM_FLOW_NONE);
	assert_int_equal(vm_flow_decide(m, "node-1", &done), VM_FLOW_NONE);
	json_decref(m);
}

/* Ending: the transfer is cut (socket shut down) or the migration declined. */
static void test_cancel(void **state)
{
	struct vm_migrate_state on = qemu(true, "m1", "active", true),
				idle = qemu(true, "", "", false), declined = idle;
	json_t *m = mig("Running", "node-1", URI);

	(void)state;
	strcpy(declined.declined, "m1");
	set_status(m, "cancel", json_pack("{s:s, s:s}", "phase", "Aborted", "reason", "x"));
	assert_int_equal(vm_flow_decide(m, "node-1", &on), VM_FLOW_CANCEL);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_CANCEL);
	assert_int_equal(vm_flow_decide(m, "node-1", &declined), VM_FLOW_NONE);
	json_decref(m);
	m = mig("Aborted", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &on), VM_FLOW_CANCEL);
	assert_int_equal(vm_flow_decide(m, "node-1", &idle), VM_FLOW_CANCEL);
	json_decref(m);
}

/*
 * The old rule resumed (`cont`) a source after any Failed/Aborted, also when
 * QEMU had completed the transfer: the guest then ran on both nodes with one
 * MAC and IP. A completed transfer is resumed only with the controller's
 * word that the target never ran the guest (status.resume_source).
 */
static void test_no_resume_after_completion(void **state)
{
	struct vm_migrate_state done = qemu(false, "m1", "completed", false),
				failed_paused = qemu(false, "m1", "failed", false),
				failed_running = qemu(true, "m1", "failed", false);
	json_t *m = mig("Failed", "node-1", URI);

	(void)state;
	/* the flow asks the vm manager, whose vm_migrate_resume refuses a
	 * completed transfer unless allowed (vm_outgoing.c) */
	assert_int_equal(vm_flow_decide(m, "node-1", &done), VM_FLOW_RESUME);
	assert_int_equal(vm_flow_decide(m, "node-1", &failed_paused), VM_FLOW_RESUME);
	/* QEMU itself resumed a source whose transfer failed: nothing to do */
	assert_int_equal(vm_flow_decide(m, "node-1", &failed_running), VM_FLOW_NONE);
	json_decref(m);
	/* succeeded: the source is quit by the vm manager, never resumed */
	m = mig("Succeeded", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &done), VM_FLOW_NONE);
	json_decref(m);
	/* Switched while the target has not confirmed: the source waits paused */
	m = mig("Switched", "node-1", URI);
	assert_int_equal(vm_flow_decide(m, "node-1", &done), VM_FLOW_NONE);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_no_resume_after_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * kubevirt.io/v1 VirtualMachine -> the VM kind: examples/testvm.yaml to the
 * exact VM JSON, quantities, every refused field with its path, and the
 * warnings for ignored fields.
 */
#include "kubevirt.h"
#include "manifest.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A VM manifest with one line replaced: "{{X}}" in the template stands for extra. */
static const char *const base_vm = "apiVersion: kubevirt.io/v1\n"
				   "kind: VirtualMachine\n"
				   "metadata:\n"
				   "  name: testvm\n"
				   "spec:\n"
				   "  runStrategy: Always\n"
				   "  template:\n"
				   "    spec:\n"
				   "      domain:\n"
				   "        devices:\n"
				   "          interfaces:\n"
				   "          - name: default\n"
				   "            bridge: {}\n"
				   "        resources:\n"
				   "          requests:\n"
				   "            memory: 128Mi\n"
				   "      networks:\n"
				   "      - name: default\n"
				   "        pod: {}\n"
				   "      volumes:\n"
				   "        - name: containerdisk\n"
				   "          containerDisk:\n"
				   "            image: godwit-demo\n";

static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(at);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

static void parse_ok(const char *text, struct manifest *m)
{
	char err[512] = "";

	if (manifest_parse(text, strlen(text), m, err, sizeof(err)))
		fail_msg("manifest did not parse: %s", err);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static void test_testvm_yaml(void **state)
{
	struct manifest m = {0};
	size_t len;
	char *text = read_file(GODWIT_SOURCE_ROOT "/examples/testvm.yaml", &len);
	json_t *want;
	char *got;

	(void)state;
	parse_ok(text, &m);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.objs[0].kind->plural, "vms");
	assert_string_equal(m.objs[0].name, "testvm");
	/* 64M = 64 000 000 bytes = 61.04 MiB, rounded up */
	want = json_loads("{\"apiVersion\":\"godwit/v1\",\"kind\":\"VM\","
			  "\"metadata\":{\"name\":\"testvm\"},"
			  "\"spec\":{\"running\":true,\"memory_mib\":62,"
			  "\"image\":\"quay.io/kubevirt/cirros-container-disk-demo\","
			  "\"user_data\":\"SGkuXG4=\",\"user_data_encoding\":\"base64\","
			  "\"network\":\"default\",\"migratable\":true}}",
			  0, NULL);
	got = json_dumps(m.objs[0].body, JSON_SORT_KEYS | JSON_COMPACT);
	if (!json_equal(want, m.objs[0].body))
		fail_msg("mapped to %s", got);
	free(got);
	json_decref(want);
	/* the labels are all it ignores; the virtio disks say nothing godwit does not do */
	assert_int_equal(json_array_size(m.warnings), 1);
	assert_string_equal(json_string_value(json_array_get(m.warnings, 0)),
			    "ignoring spec.template.metadata.labels");
	manifest_free(&m);
	free(text);
}

struct quantity_case {
	const char *yaml; /* the value as written after "memory: " */
	int64_t mib;	  /* 0: refused */
	const char *why;  /* fragment of the refusal */
};

static const struct quantity_case quantities[] = {
    {"64M", 62, NULL},
    {"64Mi", 64, NULL},
    {"1G", 954, NULL},
    {"1Gi", 1024, NULL},
    {"512Ki", 1, NULL},
    {"1536Ki", 2, NULL},
    {"1.5Gi", 1536, NULL},
    {"0.5Mi", 1, NULL},
    {"134217728", 128, NULL},
    {"\"134217729\"", 129, NULL},
    {"128e6", 123, NULL},
    {"64Gi", 65536, NULL},
    {"1048576k", 1000, NULL},
    {"65Gi", 0, "is more than 65536 MiB"},
    {"1E", 0, "is more than 65536 MiB"},
    {"64m", 0, "the suffix m means milli"},
    {"64MB", 0, "unknown suffix 'MB'"},
    {"0", 0, "is zero"},
    {"0Mi", 0, "is zero"},
    {"-1Mi", 0, "not a quantity"},
    {"Mi", 0, "not a quantity"},
    {"1.Mi", 1, NULL},
    {"[1]", 0, "expected a quantity"},
};

static void test_quantities(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(quantities) / sizeof(quantities[0]); i++) {
		const struct quantity_case *c = &quantities[i];
		char line[96], err[512] = "";
		struct manifest m = {0};
		char *text;
		int r;

		snprintf(line, sizeof(line), "memory: %s\n", c->yaml);
		text = replace(base_vm, "memory: 128Mi\n", line);
		r = manifest_parse(text, strlen(text), &m, err, sizeof(err));
		if (c->mib) {
			if (r)
				fail_msg("%s: refused: %s", c->yaml, err);
			if (json_integer_value(json_object_get(
				json_object_get(m.objs[0].body, "spec"), "memory_mib")) != c->mib)
				fail_msg(
				    "%s: %lld MiB, want %lld", c->yaml,
				    (long long)json_integer_value(json_object_get(
					json_object_get(m.objs[0].body, "spec"), "memory_mib")),
				    (long long)c->mib);
			manifest_free(&m);
		} else {
			if (r != -EINVAL)
				fail_msg("%s: accepted", c->yaml);
			if (!strstr(err, "spec.template.spec.domain.resources.requests.memory: ") ||
			    !strstr(err, c->why))
				fail_msg("%s: error '%s', want the path and '%s'", c->yaml, err,
					 c->why);
		}
		free(text);
	}
}

struct invalid_case {
	const char *from, *to;
	const char *error; /* fragment: the path and why */
};

static const struct invalid_case invalid[] = {
    {"runStrategy: Always", "runStrategy: Manual",
     "line 6: spec.runStrategy: 'Manual' is not supported (godwit takes Always or Halted)"},
    {"runStrategy: Always", "runStrategy: Always\n  running: true",
     "spec.running: give spec.runStrategy or spec.running, not both"},
    {"runStrategy: Always", "running: \"yes\"", "spec.running: must be true or false"},
    {"            bridge: {}", "            masquerade: {}",
     "line 13: spec.template.spec.domain.devices.interfaces.0.masquerade: not supported"},
    {"            bridge: {}", "            sriov: {}",
     "spec.template.spec.domain.devices.interfaces.0.sriov: not supported"},
    {"            bridge: {}", "            model: virtio",
     "spec.template.spec.domain.devices.interfaces.0: needs bridge: {}"},
    {"          - name: default\n            bridge: {}",
     "          - name: default\n            bridge: {}\n          - name: b\n            bridge: "
     "{}",
     "spec.template.spec.domain.devices.interfaces.1: godwit gives a VM one interface"},
    {"          - name: default\n            bridge: {}", "          - default",
     "spec.template.spec.domain.devices.interfaces.0: must be a mapping"},
    {"      - name: default\n        pod: {}\n",
     "      - name: default\n        pod: {}\n      - name: b\n        pod: {}\n",
     "spec.template.spec.networks.1: godwit gives a VM one network (2 are listed)"},
    {"      - name: default\n        pod: {}\n", "      - default\n",
     "spec.template.spec.networks.0: must be a mapping"},
    {"          - name: default\n            bridge: {}",
     "          - name: other\n            bridge: {}",
     "spec.template.spec.domain.devices.interfaces.0.name: 'other' names no network"},
    {"        pod: {}", "        multus: {networkName: Blue_}",
     "spec.template.spec.networks.0.multus.networkName: 'Blue_' is not a network name"},
    {"        pod: {}", "        multus: {}",
     "spec.template.spec.networks.0.multus.networkName: missing"},
    {"        pod: {}", "        other: {}",
     "spec.template.spec.networks.0: needs pod: {} or multus"},
    {"            image: godwit-demo", "            image: 7",
     "spec.template.spec.volumes.0.containerDisk.image: missing or not a string"},
    {"        - name: containerdisk\n          containerDisk:\n            image: godwit-demo\n",
     "        - name: x\n          emptyDisk: {capacity: 1Gi}\n",
     "spec.template.spec.volumes: no containerDisk volume"},
    {"            image: godwit-demo\n",
     "            image: godwit-demo\n        - name: ci\n          cloudInitNoCloud:\n"
     "            userDataBase64: \"SGk*\"\n",
     "spec.template.spec.volumes.1.cloudInitNoCloud.userDataBase64: not valid base64"},
    {"            image: godwit-demo\n",
     "            image: godwit-demo\n        - name: ci\n          cloudInitNoCloud:\n"
     "            userData: a\n            userDataBase64: YQ==\n",
     "spec.template.spec.volumes.1.cloudInitNoCloud: give userData or userDataBase64"},
    {"            memory: 128Mi\n", "            cpu: 1\n",
     "spec.template.spec.domain.resources.requests.memory: missing"},
    {"        resources:", "        cpu: {cores: 17}\n        resources:",
     "spec.template.spec.domain.cpu.cores: must be a number in 1..16"},
    {"  name: testvm", "  name: TestVM", "metadata.name: 'TestVM' is not a valid name"},
    {"  name: testvm", "  name: testvm\n  namespace: prod",
     "metadata.namespace: 'prod': godwit has only the namespace \"default\""},
    {"  name: testvm", "  name: testvm\n  labels: {app: 7}",
     "metadata.labels.app: must be a string"},
    {"        resources:\n          requests:\n            memory: 128Mi\n",
     "        resources: 3\n", "spec.template.spec.domain.resources: must be a mapping"},
};

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		char *text = replace(base_vm, c->from, c->to);
		struct manifest m = {0};
		char err[512] = "";

		if (manifest_parse(text, strlen(text), &m, err, sizeof(err)) != -EINVAL)
			fail_msg("case %zu (%s): accepted", i, c->to);
		if (!strstr(err, c->error))
			fail_msg("case %zu: error '%s', want '%s'", i, err, c->error);
		assert_int_equal(m.n, 0);
		free(text);
	}
}

static void test_warnings_and_options(void **state)
{
	const char *text =
	    "apiVersion: kubevirt.io/v1\n"
	    "kind: VirtualMachine\n"
	    "metadata:\n"
	    "  name: vm-b\n"
	    "  namespace: default\n"
	    "spec:\n"
	    "  running: false\n"
	    "  dataVolumeTemplates: []\n"
	    "  template:\n"
	    "    metadata:\n"
	    "      annotations:\n"
	    "        kubevirt.io/allow-pod-bridge-network-live-migration: \"false\"\n"
	    "        foo: bar\n"
	    "    spec:\n"
	    "      terminationGracePeriodSeconds: 0\n"
	    "      domain:\n"
	    "        machine: {type: q35}\n"
	    "        cpu: {cores: 2, sockets: 1}\n"
	    "        devices:\n"
	    "          rng: {}\n"
	    "          disks:\n"
	    "          - name: containerdisk\n"
	    "            disk: {bus: sata}\n"
	    "          interfaces:\n"
	    "          - name: blue\n"
	    "            bridge: {}\n"
	    "            macAddress: 02:00:00:00:00:01\n"
	    "        resources:\n"
	    "          requests: {memory: 1Gi, cpu: 100m}\n"
	    "          limits: {memory: 2Gi}\n"
	    "      networks:\n"
	    "      - name: blue\n"
	    "        multus: {networkName: default/blue}\n"
	    "      volumes:\n"
	    "      - name: containerdisk\n"
	    "        containerDisk: {image: godwit-demo, imagePullPolicy: Always}\n"
	    "      - name: ci\n"
	    "        cloudInitNoCloud: {userData: \"#cloud-config\\n\", networkData: x}\n"
	    "      - name: data\n"
	    "        dataVolume: {name: d}\n";
	static const char *const want_warnings[] = {
	    "ignoring spec.dataVolumeTemplates",
	    "ignoring spec.template.metadata.annotations.foo",
	    "ignoring spec.template.spec.terminationGracePeriodSeconds",
	    "ignoring spec.template.spec.domain.machine",
	    "ignoring spec.template.spec.domain.resources.limits",
	    "ignoring spec.template.spec.domain.resources.requests.cpu",
	    "ignoring spec.template.spec.domain.cpu.sockets",
	    "ignoring spec.template.spec.domain.devices.rng",
	    "ignoring spec.template.spec.domain.devices.interfaces.0.macAddress",
	    "ignoring spec.template.spec.domain.devices.disks.0.disk.bus (godwit uses virtio)",
	    "ignoring spec.template.spec.volumes.0.containerDisk.imagePullPolicy",
	    "ignoring spec.template.spec.volumes.1.cloudInitNoCloud.networkData",
	    "ignoring spec.template.spec.volumes.2.dataVolume",
	};
	struct manifest m = {0};
	json_t *want;
	char *got;

	(void)state;
	parse_ok(text, &m);
	want = json_loads("{\"apiVersion\":\"godwit/v1\",\"kind\":\"VM\","
			  "\"metadata\":{\"name\":\"vm-b\"},"
			  "\"spec\":{\"running\":false,\"memory_mib\":1024,\"cpus\":2,"
			  "\"image\":\"godwit-demo\",\"user_data\":\"#cloud-config\\n\","
			  "\"user_data_encoding\":\"text\",\"network\":\"blue\","
			  "\"migratable\":false}}",
			  0, NULL);
	got = json_dumps(m.objs[0].body, JSON_SORT_KEYS | JSON_COMPACT);
	if (!json_equal(want, m.objs[0].body))
		fail_msg("mapped to %s", got);
	free(got);
	json_decref(want);
	for (size_t i = 0; i < json_array_size(m.warnings); i++)
		printf("warning %zu: %s\n", i, json_string_value(json_array_get(m.warnings, i)));
	assert_int_equal(json_array_size(m.warnings),
			 sizeof(want_warnings) / sizeof(want_warnings[0]));
	for (size_t i = 0; i < sizeof(want_warnings) / sizeof(want_warnings[0]); i++) {
		bool found = false;

		for (size_t j = 0; j < json_array_size(m.warnings); j++)
			found = found || strcmp(json_string_value(json_array_get(m.warnings, j)),
						want_warnings[i]) == 0;
		if (!found)
			fail_msg("no warning '%s'", want_warnings[i]);
	}
	manifest_free(&m);
}

static void test_halted_and_godwit_vm(void **state)
{
	char *text = replace(base_vm, "runStrategy: Always", "runStrategy: Halted");
	struct manifest m = {0};

	(void)state;
	parse_ok(text, &m);
	assert_true(
	    json_is_false(json_object_get(json_object_get(m.objs[0].body, "spec"), "running")));
	assert_false(
	    json_is_true(json_object_get(json_object_get(m.objs[0].body, "spec"), "migratable")));
	assert_null(m.warnings);
	manifest_free(&m);
	free(text);
	/* the native kind passes through, and the CLI words find it */
	parse_ok("apiVersion: godwit/v1\nkind: VM\nmetadata: {name: a}\nspec: {memory_mib: 64}\n",
		 &m);
	assert_string_equal(m.objs[0].kind->plural, "vms");
	manifest_free(&m);
	assert_string_equal(kind_lookup("virtualmachines")->plural, "vms");
	assert_string_equal(kind_lookup("vm")->plural, "vms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_testvm_yaml),
	    cmocka_unit_test(test_quantities),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_warnings_and_options),
	    cmocka_unit_test(test_halted_and_godwit_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

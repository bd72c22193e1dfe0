/* SPDX-License-Identifier: MIT */
/* lib/catalog: the images, their minimum memory, the VM spec limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/catalog.h"

static void test_images(void **state)
{
	const struct catalog_image *demo = catalog_find("godwit-demo");
	const struct catalog_image *kv =
	    catalog_find("quay.io/kubevirt/cirros-container-disk-demo");
	char names[256], small[12];

	(void)state;
	assert_non_null(demo);
	assert_non_null(kv);
	assert_string_equal(kv->guest, "godwit-demo");
	assert_int_equal(demo->min_memory_mib, CATALOG_MIN_MEMORY_MIB);
	assert_null(catalog_find("quay.io/kubevirt/fedora"));
	assert_null(catalog_find("Godwit-demo"));
	assert_null(catalog_find(""));
	assert_null(catalog_find(NULL));
	catalog_names(names, sizeof(names));
	assert_string_equal(names, "godwit-demo, quay.io/kubevirt/cirros-container-disk-demo");
	catalog_names(small, sizeof(small)); /* stops at the last whole name */
	assert_string_equal(small, "godwit-demo");
}

static void test_memory(void **state)
{
	const struct catalog_image *demo = catalog_find("godwit-demo");

	(void)state;
	assert_int_equal(catalog_memory_mib(demo, 0), 128); /* absent */
	assert_int_equal(catalog_memory_mib(demo, 1), 128); /* raised */
	assert_int_equal(catalog_memory_mib(demo, 127), 128);
	assert_int_equal(catalog_memory_mib(demo, 128), 128);
	assert_int_equal(catalog_memory_mib(demo, 512), 512);
	assert_int_equal(catalog_memory_mib(demo, VM_MEMORY_MIB_MAX), VM_MEMORY_MIB_MAX);
	assert_int_equal(catalog_memory_mib(demo, VM_MEMORY_MIB_MAX + 1), 128); /* as absent */
	assert_int_equal(catalog_memory_mib(demo, -5), 128);
	assert_int_equal(catalog_memory_mib(NULL, 64), CATALOG_MIN_MEMORY_MIB);
	assert_int_equal(catalog_memory_mib(NULL, 1024), 1024);
}

static void test_cpus(void **state)
{
	(void)state;
	assert_int_equal(VM_CPUS_MAX, 16);
	assert_false(catalog_cpus_valid(0));
	assert_false(catalog_cpus_valid(-1));
	assert_true(catalog_cpus_valid(1));
	assert_true(catalog_cpus_valid(16));
	assert_false(catalog_cpus_valid(17));
	assert_false(catalog_cpus_valid(64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_images),
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

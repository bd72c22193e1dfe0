/* SPDX-License-Identifier: MIT */
/* The cluster pin: the first cluster is pinned, the same one passes, another
 * is refused and named, bad ids never get pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/clusterpin.h"

struct dir {
	char root[64], pin[128];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->root, sizeof(d->root), "/tmp/godwit-pin-XXXXXX");
	if (!mkdtemp(d->root))
		return -1;
	/* the node's run dir does not exist yet: the pin makes it */
	snprintf(d->pin, sizeof(d->pin), "%s/vms/node-1/" CLUSTERPIN_FILE, d->root);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->root);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static void test_first_pins_then_same_passes(void **state)
{
	struct dir *d = *state;
	char pinned[CLUSTERPIN_ID_MAX + 1] = "";
	char buf[80] = "";
	FILE *f;

	assert_int_equal(clusterpin_check(d->pin, "aaaa1111", pinned, sizeof(pinned)), 0);
	f = fopen(d->pin, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "aaaa1111\n");
	assert_int_equal(clusterpin_check(d->pin, "aaaa1111", pinned, sizeof(pinned)), 0);
	assert_string_equal(pinned, "");
}

static void test_other_cluster_refused(void **state)
{
	struct dir *d = *state;
	char pinned[CLUSTERPIN_ID_MAX + 1] = "";

	assert_int_equal(clusterpin_check(d->pin, "aaaa1111", pinned, sizeof(pinned)), 0);
	assert_int_equal(clusterpin_check(d->pin, "bbbb2222", pinned, sizeof(pinned)), -EPERM);
	assert_string_equal(pinned, "aaaa1111");
	/* still refused the next time: the pin did not move */
	assert_int_equal(clusterpin_check(d->pin, "bbbb2222", pinned, sizeof(pinned)), -EPERM);
	/* the operator removes the pin: the next cluster is accepted */
	assert_int_equal(unlink(d->pin), 0);
	assert_int_equal(clusterpin_check(d->pin, "bbbb2222", pinned, sizeof(pinned)), 0);
}

static void test_bad_ids_not_pinned(void **state)
{
	struct dir *d = *state;
	char pinned[CLUSTERPIN_ID_MAX + 1] = "", longer[CLUSTERPIN_ID_MAX + 2];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(clusterpin_check(d->pin, "", pinned, sizeof(pinned)), -EINVAL);
	assert_int_equal(clusterpin_check(d->pin, "a b", pinned, sizeof(pinned)), -EINVAL);
	assert_int_equal(clusterpin_check(d->pin, "a\nb", pinned, sizeof(pinned)), -EINVAL);
	assert_int_equal(clusterpin_check(d->pin, longer, pinned, sizeof(pinned)), -EINVAL);
	assert_int_equal(access(d->pin, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_pins_then_same_passes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_cluster_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_ids_not_pinned, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

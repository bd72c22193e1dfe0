/* SPDX-License-Identifier: MIT */
/*
 * Leader election on a real etcd (with-etcd.sh): of several controllers one
 * leads; one that gives the lead up, or that dies (its lease expires),
 * hands it to another; one that cannot keep its lease stops leading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leader.h"

#define WAIT_MS 15000 /* far more than a lease: a slow machine still passes */

static const char *endpoint(void)
{
	const char *e = getenv("GODWIT_TEST_ETCD");

	if (!e || !*e)
		fail_msg("GODWIT_TEST_ETCD unset: run through with-etcd.sh");
	return e;
}

struct changes {
	int up, down;
};

static void on_change(void *ctx, bool leading)
{
	struct changes *c = ctx;

	if (leading)
		c->up++;
	else
		c->down++;
}

static int leaders(struct leader *ls, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += atomic_load(&ls[i].leading);
	return k;
}

/* Waits until exactly one of ls[0..n) leads; its index. */
static int wait_for_one(struct leader *ls, int n)
{
	for (int t = 0; t < WAIT_MS / 50; t++) {
		if (leaders(ls, n) == 1)
			for (int i = 0; i < n; i++)
				if (atomic_load(&ls[i].leading))
					return i;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
	}
	fail_msg("no single leader within %d ms (%d lead)", WAIT_MS, leaders(ls, n));
	return -1;
}

/* The lead goes from one to another, never to two at once. */
static void test_one_leads(void **state)
{
	struct leader ls[3];
	struct changes ch[3] = {0};
	char names[3][16], holder[LEADER_ID_MAX];
	int first, second;

	(void)state;
	for (int i = 0; i < 3; i++) {
		snprintf(names[i], sizeof(names[i]), "ctl-%d", i);
		assert_int_equal(
		    leader_start(&ls[i], endpoint(), "/lead/", names[i], on_change, &ch[i]), 0);
	}
	first = wait_for_one(ls, 3);
	assert_int_equal(leader_holder(&ls[(first + 1) % 3], holder), 0);
	assert_string_equal(holder, names[first]);
	nanosleep(&(struct timespec){.tv_sec = 3}, NULL); /* longer than a lease */
	assert_int_equal(leaders(ls, 3), 1);		  /* kept alive, not lost */
	assert_true(atomic_load(&ls[first].leading));

	/* Given up (a controller stopped): another one leads. */
	leader_stop(&ls[first]);
	assert_int_equal(ch[first].up, 1);
	second = wait_for_one(ls, 3);
	assert_int_not_equal(second, first);

	/* Died (no revoke): its lease expires, the last one leads. */
	worker_stop(&ls[second].worker);
	etcd_close(ls[second].etcd);
	ls[second].etcd = NULL;
	free(ls[second].endpoints);
	ls[second].endpoints = NULL;
	atomic_store(&ls[second].leading, false);
	for (int t = 0; t < WAIT_MS / 50; t++) {
		int last = 3 - first - second;

		if (atomic_load(&ls[last].leading))
			break;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
	}
	assert_true(atomic_load(&ls[3 - first - second].leading));
	assert_int_equal(leader_holder(&ls[3 - first - second], holder), 0);
	assert_string_equal(holder, names[3 - first - second]);
	leader_stop(&ls[3 - first - second]);
	for (int i = 0; i < 3; i++)
		assert_true(ch[i].up <= 1); /* each led once at most: no flapping */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_leads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

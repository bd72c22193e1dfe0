/* SPDX-License-Identifier: MIT */
/* tally: tables of reply sequences -> lost, duplicates, late, windows, max gap. */
#include "tally.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MS    1000000ULL
#define GRACE (1000 * MS)
#define NONE  UINT64_MAX

struct reply {
	uint64_t seq;
	uint64_t arrival_ns;
};

struct window {
	uint64_t start_ns, end_ns, lost;
	bool closed;
};

struct tally_case {
	const char *name;
	uint64_t probes; /* sent every 10 ms from 0 */
	struct reply replies[32];
	uint64_t stop_ns;
	uint64_t received, lost, late, duplicates, max_gap_ns;
	size_t n_windows;
	struct window windows[4];
};

/* probe i is sent at i*10 ms; R(i, rtt) is its reply rtt ms later */
#define R(i, rtt)                                                                                  \
	{                                                                                          \
		(i), (i)*10 * MS + (rtt)*MS                                                        \
	}

static const struct tally_case cases[] = {
    {"all answered",
     5,
     {R(0, 1), R(1, 1), R(2, 1), R(3, 1), R(4, 1), {NONE, 0}},
     50 * MS,
     5,
     0,
     0,
     0,
     10 * MS,
     0,
     {{0}}},
    {"gap of 5 in the middle",
     12,
     {R(0, 1), R(1, 1), R(2, 1), R(3, 1), R(4, 1), R(10, 1), R(11, 1), {NONE, 0}},
     120 * MS,
     7,
     5,
     0,
     0,
     60 * MS,
     1,
     {{40 * MS, 100 * MS, 5, true}}},
    {"duplicates",
     3,
     {R(0, 1), R(1, 1), R(1, 2), R(1, 3), R(2, 1), R(2, 4), {NONE, 0}},
     30 * MS,
     3,
     0,
     0,
     3,
     10 * MS,
     0,
     {{0}}},
    {"reordered replies",
     5,
     {{1, 15 * MS}, {0, 16 * MS}, {3, 35 * MS}, {2, 36 * MS}, {4, 45 * MS}, {NONE, 0}},
     50 * MS,
     5,
     0,
     0,
     0,
     19 * MS,
     0,
     {{0}}},
    {"loss at the very end",
     10,
     {R(0, 1), R(1, 1), R(2, 1), R(3, 1), R(4, 1), R(5, 1), R(6, 1), {NONE, 0}},
     100 * MS,
     7,
     3,
     0,
     0,
     10 * MS,
     1,
     {{60 * MS, 100 * MS, 3, false}}},
    {"loss at the very start",
     4,
     {R(2, 1), R(3, 1), {NONE, 0}},
     40 * MS,
     2,
     2,
     0,
     0,
     10 * MS,
     1,
     {{0, 20 * MS, 2, true}}},
    {"late reply is lost, its duplicate counted",
     3,
     {R(0, 1), R(1, 1500), R(1, 1501), R(2, 1), {NONE, 0}},
     30 * MS,
     2,
     1,
     1,
     1,
     20 * MS,
     1,
     {{0, 20 * MS, 1, true}}},
    {"two windows, nothing answered in one",
     9,
     {R(0, 1), R(2, 1), R(3, 1), R(8, 2), {NONE, 0}},
     90 * MS,
     4,
     5,
     0,
     0,
     51 * MS,
     2,
     {{0, 20 * MS, 1, true}, {30 * MS, 80 * MS, 4, true}}},
    {"nothing answered", 3, {{NONE, 0}}, 30 * MS, 0, 3, 0, 0, 0, 1, {{0, 30 * MS, 3, false}}},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct tally_case *tc = &cases[c];
		struct tally t;
		struct tally_result res;
		uint64_t seq;

		print_message("case: %s\n", tc->name);
		tally_init(&t, GRACE, 1000);
		for (uint64_t i = 0; i < tc->probes; i++) {
			assert_int_equal(tally_sent(&t, i * 10 * MS, &seq), 0);
			assert_int_equal(seq, i);
		}
		for (const struct reply *r = tc->replies; r->seq != NONE; r++)
			assert_int_equal(tally_reply(&t, r->seq, r->arrival_ns), 0);
		assert_int_equal(tally_finish(&t, tc->stop_ns, &res), 0);
		assert_int_equal(res.sent, tc->probes);
		assert_int_equal(res.received, tc->received);
		assert_int_equal(res.lost, tc->lost);
		assert_int_equal(res.late, tc->late);
		assert_int_equal(res.duplicates, tc->duplicates);
		assert_int_equal(res.max_gap_ns, tc->max_gap_ns);
		assert_int_equal(res.n_windows, tc->n_windows);
		for (size_t w = 0; w < tc->n_windows; w++) {
			assert_int_equal(res.windows[w].start_ns, tc->windows[w].start_ns);
			assert_int_equal(res.windows[w].end_ns, tc->windows[w].end_ns);
			assert_int_equal(res.windows[w].lost, tc->windows[w].lost);
			assert_int_equal(res.windows[w].closed, tc->windows[w].closed);
		}
		tally_result_free(&res);
		tally_free(&t);
	}
}

static void test_extend_seq(void **state)
{
	struct tally t;
	uint64_t seq = 42;

	(void)state;
	tally_init(&t, GRACE, 100000);
	assert_int_equal(tally_extend_seq(&t, 0, &seq), -ENOENT);
	for (uint64_t i = 0; i < 5; i++)
		assert_int_equal(tally_sent(&t, i, &seq), 0);
	assert_int_equal(tally_extend_seq(&t, 3, &seq), 0);
	assert_int_equal(seq, 3);
	seq = 42;
	assert_int_equal(tally_extend_seq(&t, 7, &seq), -ENOENT); /* not sent yet */
	assert_int_equal(seq, 42);
	for (uint64_t i = 5; i < 70000; i++)
		assert_int_equal(tally_sent(&t, i, &seq), 0);
	assert_int_equal(tally_extend_seq(&t, 0, &seq), 0);
	assert_int_equal(seq, 65536);
	assert_int_equal(tally_extend_seq(&t, 69999 - 65536, &seq), 0);
	assert_int_equal(seq, 69999);
	assert_int_equal(tally_extend_seq(&t, 69999 - 65536 + 1, &seq), 0);
	assert_int_equal(seq, 69999 - 65535);
	tally_free(&t);
}

/* 70000 probes answered by their 16-bit wire sequence, a gap across the wrap */
static void test_wraparound(void **state)
{
	struct tally t;
	struct tally_result res;
	uint64_t seq;

	(void)state;
	tally_init(&t, GRACE, 100000);
	for (uint64_t i = 0; i < 70000; i++) {
		assert_int_equal(tally_sent(&t, i * MS, &seq), 0);
		if (i >= 65533 && i <= 65538)
			continue; /* lost: 65533..65538, across 16-bit wrap at 65536 */
		assert_int_equal(tally_extend_seq(&t, (uint16_t)i, &seq), 0);
		assert_int_equal(seq, i);
		assert_int_equal(tally_reply(&t, seq, i * MS + 100000), 0);
	}
	assert_int_equal(tally_finish(&t, 70000 * MS, &res), 0);
	assert_int_equal(res.sent, 70000);
	assert_int_equal(res.lost, 6);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.n_windows, 1);
	assert_int_equal(res.windows[0].start_ns, 65532 * MS);
	assert_int_equal(res.windows[0].end_ns, 65539 * MS);
	assert_int_equal(res.windows[0].lost, 6);
	assert_int_equal(res.max_gap_ns, 7 * MS);
	tally_result_free(&res);
	tally_free(&t);
}

static void test_bounds(void **state)
{
	struct tally t;
	uint64_t seq = 7;

	(void)state;
	tally_init(&t, GRACE, 2);
	assert_int_equal(tally_reply(&t, 0, 1), -ERANGE);
	assert_int_equal(tally_sent(&t, 0, &seq), 0);
	assert_int_equal(tally_sent(&t, 1, &seq), 0);
	seq = 7;
	assert_int_equal(tally_sent(&t, 2, &seq), -E2BIG);
	assert_int_equal(seq, 7);
	assert_int_equal(tally_reply(&t, 2, 5), -ERANGE);
	tally_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_extend_seq),
	    cmocka_unit_test(test_wraparound),
	    cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* lib/worker: rounds on a period and on a kick, a stop that wakes at once,
 * kicks held over a sleep that is not kickable, the timed stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/worker.h"

struct counter {
	atomic_int rounds;
	int64_t delay_ms;
};

static int64_t count_round(void *arg)
{
	struct counter *c = arg;

	atomic_fetch_add(&c->rounds, 1);
	return c->delay_ms;
}

/* Waits (bounded) until the counter reaches n; returns the count. */
static int wait_rounds(struct counter *c, int n, int64_t bound_ms)
{
	int64_t deadline = clock_mono_ms() + bound_ms;

	while (atomic_load(&c->rounds) < n && clock_mono_ms() < deadline)
		usleep(1000);
	return atomic_load(&c->rounds);
}

static void test_bad_args(void **state)
{
	struct worker w;

	(void)state;
	assert_int_equal(worker_start(&w, NULL, NULL), -EINVAL);
	assert_int_equal(worker_start_periodic(&w, 10, NULL, NULL), -EINVAL);
	assert_int_equal(worker_start_periodic(&w, -1, count_round, NULL), -EINVAL);
	memset(&w, 0, sizeof(w));
	worker_kick(&w); /* never started: nothing to do, nothing to crash */
	worker_stop(&w);
	assert_int_equal(worker_stop_timeout(&w, 10), 0);
}

static void test_periodic(void **state)
{
	struct counter c = {.delay_ms = 5};
	struct worker w;

	(void)state;
	assert_int_equal(worker_start_periodic(&w, 0, count_round, &c), 0);
	assert_true(wait_rounds(&c, 5, 5000) >= 5);
	worker_stop(&w);
}

static void test_kick_and_stop_wake_at_once(void **state)
{
	struct counter c = {.delay_ms = 60000};
	struct worker w;
	int64_t t0;

	(void)state;
	assert_int_equal(worker_start_periodic(&w, 60000, count_round, &c), 0);
	usleep(20000);
	assert_int_equal(atomic_load(&c.rounds), 0); /* the first round is a minute away */
	worker_kick(&w);
	assert_int_equal(wait_rounds(&c, 1, 5000), 1);
	worker_kick(&w);
	assert_int_equal(wait_rounds(&c, 2, 5000), 2);
	t0 = clock_mono_ms();
	worker_stop(&w); /* sleeping for a minute: woken, not waited for */
	assert_true(clock_mono_ms() - t0 < 2000);
	assert_int_equal(atomic_load(&c.rounds), 2); /* stopping runs no round */
}

struct sleeper {
	atomic_int phase;
	bool first, second;
};

/* A sleep that is not kickable runs out; the kick waits for a kickable one. */
static void sleeper_main(struct worker *w, void *arg)
{
	struct sleeper *s = arg;

	atomic_store(&s->phase, 1);
	s->first = worker_sleep(w, 100, false);
	atomic_store(&s->phase, 2);
	s->second = worker_sleep(w, 60000, true); /* the pending kick: at once */
	atomic_store(&s->phase, 3);
	while (!worker_sleep(w, 60000, true))
		;
}

static void test_kick_pending_over_unkickable_sleep(void **state)
{
	struct sleeper s = {0};
	struct worker w;
	int64_t t0 = clock_mono_ms();

	(void)state;
	assert_int_equal(worker_start(&w, sleeper_main, &s), 0);
	while (atomic_load(&s.phase) < 1)
		usleep(1000);
	worker_kick(&w);
	while (atomic_load(&s.phase) < 3 && clock_mono_ms() - t0 < 5000)
		usleep(1000);
	assert_int_equal(atomic_load(&s.phase), 3);
	assert_true(clock_mono_ms() - t0 >= 100); /* the first sleep was not cut short */
	assert_false(s.first);
	assert_false(s.second);
	assert_false(worker_take_kick(&w)); /* consumed by the kickable sleep */
	worker_stop(&w);
}

static atomic_bool release;

static void busy_main(struct worker *w, void *arg)
{
	(void)w;
	(void)arg;
	while (!atomic_load(&release)) /* ignores the stop flag, like a blocked call */
		usleep(1000);
}

static void test_stop_timeout(void **state)
{
	static struct worker w; /* stays allocated: the thread is detached */
	struct counter c = {.delay_ms = 60000};
	struct worker quick;

	(void)state;
	assert_int_equal(worker_start(&w, busy_main, NULL), 0);
	assert_int_equal(worker_stop_timeout(&w, 50), -ETIMEDOUT);
	assert_true(worker_stopping(&w));
	atomic_store(&release, true);

	assert_int_equal(worker_start_periodic(&quick, 60000, count_round, &c), 0);
	assert_int_equal(worker_stop_timeout(&quick, 2000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_periodic),
	    cmocka_unit_test(test_kick_and_stop_wake_at_once),
	    cmocka_unit_test(test_kick_pending_over_unkickable_sleep),
	    cmocka_unit_test(test_stop_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

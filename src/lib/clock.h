/* SPDX-License-Identifier: MIT */
/*
 * clock: the project's clocks, by what they are for.
 *
 * - mono: CLOCK_MONOTONIC, for every deadline, timeout and liveness decision
 *   (a step of the wall clock moves none of them).
 * - unix: CLOCK_REALTIME, for what is recorded and shown (phase times,
 *   figures, QEMU's event timestamps), never for a decision.
 */
#ifndef GODWIT_LIB_CLOCK_H
#define GODWIT_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int64_t clock_mono_ns(void)
{
	return clock_ns_of(CLOCK_MONOTONIC);
}

static inline int64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

static inline int64_t clock_unix_ns(void)
{
	return clock_ns_of(CLOCK_REALTIME);
}

static inline int64_t clock_unix_ms(void)
{
	return clock_unix_ns() / 1000000;
}

/* An absolute CLOCK_MONOTONIC time ms from now (pthread_cond_timedwait on a
 * condition variable whose clock is CLOCK_MONOTONIC). */
static inline struct timespec clock_mono_after(int64_t ms)
{
	int64_t ns = clock_mono_ns() + ms * 1000000;

	return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

/* An absolute CLOCK_REALTIME time ms from now, for the calls that take no
 * other clock (pthread_timedjoin_np, pthread_mutex_timedlock). */
static inline struct timespec clock_unix_after(int64_t ms)
{
	int64_t ns = clock_unix_ns() + ms * 1000000;

	return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

#endif

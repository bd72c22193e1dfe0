/* SPDX-License-Identifier: MIT */
/* A fixed-rate schedule on a timerfd (CLOCK_MONOTONIC, absolute first deadline,
 * periodic). The sender never waits for replies: each wakeup reports how many
 * slots have come due since the last one, and the caller sends that many probes,
 * so a late wakeup (a loaded machine) catches up instead of slowing the rate down.
 */
#ifndef GODWIT_PROBE_SCHEDULE_H
#define GODWIT_PROBE_SCHEDULE_H

#include <stdint.h>

struct schedule {
	int fd;
	uint64_t period_ns;
};

/* Starts a schedule of rate_hz slots per second, the first one at start_ns. */
int schedule_start(struct schedule *s, uint64_t rate_hz, uint64_t start_ns);
/* Number of slots due since the last call (0 when none; -errno on failure). */
int64_t schedule_due(struct schedule *s);
void schedule_stop(struct schedule *s);
/* Best effort: SCHED_FIFO so a busy machine does not delay the sender. */
void schedule_try_realtime(void);

#endif

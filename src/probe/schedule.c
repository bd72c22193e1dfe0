/* SPDX-License-Identifier: MIT */
#include "schedule.h"

#include <errno.h>
#include <sched.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static struct timespec to_ts(uint64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000ULL),
				 .tv_nsec = (long)(ns % 1000000000ULL)};
}

int schedule_start(struct schedule *s, uint64_t rate_hz, uint64_t start_ns)
{
	struct itimerspec its;
	uint64_t period;
	int fd, ret;

	if (rate_hz == 0)
		return -EINVAL;
	period = 1000000000ULL / rate_hz;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	its.it_value = to_ts(start_ns);
	its.it_interval = to_ts(period);
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	s->fd = fd;
	s->period_ns = period;
	return 0;
}

int64_t schedule_due(struct schedule *s)
{
	uint64_t n;

	if (read(s->fd, &n, sizeof(n)) != sizeof(n))
		return errno == EAGAIN ? 0 : -errno;
	return (int64_t)n;
}

void schedule_stop(struct schedule *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void schedule_try_realtime(void)
{
	struct sched_param sp = {.sched_priority = 10};

	(void)sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
}

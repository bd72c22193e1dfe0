/* SPDX-License-Identifier: MIT */
#include "lib/worker.h"

#include <errno.h>
#include <string.h>

#include "lib/clock.h"

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	w->fn(w, w->ctx);
	return NULL;
}

static void periodic_main(struct worker *w, void *ctx)
{
	int64_t delay = w->first_ms;

	while (!worker_sleep(w, delay, true))
		delay = w->round(ctx);
}

/* Fills every field before the thread exists: it reads them unlocked. */
static int start(struct worker *w, worker_main_fn fn, worker_round_fn round, int64_t first_ms,
		 void *ctx)
{
	pthread_condattr_t attr;
	int r;

	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->round = round;
	w->first_ms = first_ms;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	r = -pthread_create(&w->thread, NULL, thread_main, w);
	if (r < 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return r;
	}
	w->started = true;
	return 0;
}

int worker_detached(void *(*fn)(void *), void *arg, size_t stack_bytes)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stack_bytes)
		pthread_attr_setstacksize(&attr, stack_bytes);
	r = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -r;
}

int worker_start(struct worker *w, worker_main_fn fn, void *ctx)
{
	if (!fn)
		return -EINVAL;
	return start(w, fn, NULL, 0, ctx);
}

int worker_start_periodic(struct worker *w, int64_t first_ms, worker_round_fn round, void *ctx)
{
	if (!round || first_ms < 0)
		return -EINVAL;
	return start(w, periodic_main, round, first_ms, ctx);
}

bool worker_sleep(struct worker *w, int64_t ms, bool kickable)
{
	struct timespec deadline = clock_mono_after(ms > 0 ? ms : 0);
	bool stop;

	pthread_mutex_lock(&w->lock);
	while (!w->stop && !(kickable && w->kick) &&
	       pthread_cond_timedwait(&w->cond, &w->lock, &deadline) != ETIMEDOUT)
		;
	stop = w->stop;
	if (kickable)
		w->kick = false;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* Reads a flag under the lock, clearing it when asked. */
static bool read_flag(struct worker *w, bool *flag, bool clear)
{
	bool v;

	pthread_mutex_lock(&w->lock);
	v = *flag;
	if (clear)
		*flag = false;
	pthread_mutex_unlock(&w->lock);
	return v;
}

bool worker_stopping(struct worker *w)
{
	return read_flag(w, &w->stop, false);
}

bool worker_take_kick(struct worker *w)
{
	return read_flag(w, &w->kick, true);
}

void worker_kick(struct worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->kick = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void request_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void destroy(struct worker *w)
{
	w->started = false;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

void worker_stop(struct worker *w)
{
	if (!w->started)
		return;
	request_stop(w);
	pthread_join(w->thread, NULL);
	destroy(w);
}

int worker_stop_timeout(struct worker *w, int64_t timeout_ms)
{
	struct timespec deadline;

	if (!w->started)
		return 0;
	request_stop(w);
	deadline = clock_unix_after(timeout_ms); /* pthread_timedjoin_np takes no other clock */
	if (pthread_timedjoin_np(w->thread, NULL, &deadline) != 0) {
		pthread_detach(w->thread);
		return -ETIMEDOUT;
	}
	destroy(w);
	return 0;
}

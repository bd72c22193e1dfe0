/* SPDX-License-Identifier: MIT */
/*
 * worker: a thread that sleeps between rounds and that stop wakes at once.
 *
 * The pattern the controller's migrator and the agent's heartbeat and
 * informer each wrote by hand: a thread, a mutex, a CLOCK_MONOTONIC
 * condition variable, a stop flag and a kick ("do a round now").
 *
 * - worker_start(): the thread runs fn(w, ctx), which loops on its own and
 *   sleeps with worker_sleep(), whose true return means "stop now". A
 *   kickable sleep also ends on worker_kick() and consumes the kick; a kick
 *   during a sleep that is not kickable, or while the thread is busy, stays
 *   pending until the next kickable sleep (or worker_take_kick()).
 * - worker_start_periodic(): the loop is given: round(ctx) runs first_ms
 *   after the start, then the delay it returns after each round (ae's timer
 *   callbacks do the same), or at once on a kick.
 * - worker_stop() sets the stop flag, wakes the thread and joins it.
 *
 * The worker's lock guards only its own flags: data the thread shares with
 * others keeps its own lock. A struct worker is embedded by its owner;
 * worker_stop() accepts one that was never started.
 */
#ifndef GODWIT_LIB_WORKER_H
#define GODWIT_LIB_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;
typedef void (*worker_main_fn)(struct worker *w, void *ctx);
typedef int64_t (*worker_round_fn)(void *ctx);

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool stop, kick, started;
	worker_main_fn fn;
	worker_round_fn round;
	int64_t first_ms;
	void *ctx;
};

/* 0, or -errno (nothing left to stop). */
int worker_start(struct worker *w, worker_main_fn fn, void *ctx);
/* fn(arg) on a detached thread of its own (stack_bytes, 0: the default) that
 * nobody joins: a relay, a connection's handler. 0 or -errno. */
int worker_detached(void *(*fn)(void *), void *arg, size_t stack_bytes);
int worker_start_periodic(struct worker *w, int64_t first_ms, worker_round_fn round, void *ctx);

/* From the worker's thread: sleeps up to ms; true when it must stop. */
bool worker_sleep(struct worker *w, int64_t ms, bool kickable);
bool worker_stopping(struct worker *w);
/* Whether a kick was pending; clears it. */
bool worker_take_kick(struct worker *w);

/* From any thread. */
void worker_kick(struct worker *w);
void worker_stop(struct worker *w);
/* Stops and waits up to timeout_ms for the thread: 0 when joined; -ETIMEDOUT
 * when it is still busy, in which case it is detached and w (with whatever
 * the thread uses) must stay allocated. */
int worker_stop_timeout(struct worker *w, int64_t timeout_ms);

#endif

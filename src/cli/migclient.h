/* SPDX-License-Identifier: MIT */
/*
 * migclient: the CLI's one client of the Migration API (docs/API.md), used by
 * `godwit migrate`, `godwit drill` and `godwit lab demo`.
 *
 * It creates a Migration, finds a VM's unfinished one, posts an action
 * (abort, and the drill's hypervisor reports: running, complete, fail), gets
 * one, and waits for one: it polls until a phase the caller wants or a final
 * one, and hands every polled object to the caller's progress callback. The
 * callers print progress, refusals and timeouts in their own words (their
 * output is what the tests and the operators read), so this module prints
 * nothing itself; cli_request() has already printed a transport failure.
 *
 * Every call returns 0 or -errno and writes its output only on success. When
 * the controller refused a call (an HTTP status other than the expected
 * one), the call returns -ENOENT (404) or -EPROTO and mc->refused describes
 * the refusal (status, method, path, the API's error text); refused.status is
 * 0 after any other outcome. A wait past its deadline returns -ETIME (not
 * -ETIMEDOUT, which is the transport's).
 *
 * With mc->retry_ms > 0, transport failures of GETs and actions are retried
 * for that long (the drill survives a controller restart: the migration
 * resumes from the store); creating is never retried.
 */
#ifndef GODWIT_CLI_MIGCLIENT_H
#define GODWIT_CLI_MIGCLIENT_H

#include "lib/phases.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cli;

struct migclient {
	struct cli *cli;
	int retry_ms;
	struct {
		long status; /* 0: the last call was not refused */
		char method[8];
		char path[192];
		char text[256];
	} refused;
};

/* What to migrate: spec.vm or spec.port, and the options (NULL / 0 / false: the controller's). */
struct migclient_spec {
	const char *name;
	const char *vm, *port; /* the subject: one of the two */
	const char *target, *strategy;
	long downtime_ms, max_bandwidth_mib, progress_timeout_s;
	bool no_replicate; /* the drill's --naive baseline: spec.replicate false */
	int tls;	   /* spec.tls: 1 true, -1 false, 0 the controller's default */
};

/* POSTs the Migration; *out is the created object. */
int migclient_create(struct migclient *mc, const struct migclient_spec *spec, json_t **out);

/* The name of vm's unfinished Migration into name ("" when it has none). */
int migclient_find_unfinished(struct migclient *mc, const char *vm, char *name, size_t len);

/* POSTs /v1/migrations/NAME/ACTION with an empty object. */
int migclient_action(struct migclient *mc, const char *name, enum migration_action action);

int migclient_get(struct migclient *mc, const char *name, json_t **out);
/* GET of any API path with the same retries and refusal record (the drill reads its port). */
int migclient_get_path(struct migclient *mc, const char *path, json_t **out);

/* status.phase of a Migration object ("" when it has none). */
const char *migclient_phase(const json_t *migration);

/* Called with each polled Migration: 0 to go on, -errno to end the wait with that error. */
typedef int (*migclient_progress_fn)(const json_t *migration, void *arg);

struct migclient_wait {
	/* Stop at this phase or at a final one (MIGRATION_PHASE_COUNT: a final one only). */
	enum migration_phase until;
	int interval_ms;
	/* From the start of the wait; 0: the migration's own bounds (each phase before the
	 * transfer, the transfer's progress timeout, the confirmation) and 30 s of slack. */
	long long timeout_ms;
	migclient_progress_fn progress; /* may be NULL */
	void *arg;
};

/* Polls name as w says; *out is the Migration in the phase that ended the wait. */
int migclient_wait(struct migclient *mc, const char *name, const struct migclient_wait *w,
		   json_t **out);

#endif

/* SPDX-License-Identifier: MIT */
/* The Migration API for the CLI's verbs (migclient.h). */
#include "migclient.h"

#include "cli.h"

#include "lib/apiclient.h"
#include "lib/clock.h"
#include "lib/kinds.h"
#include "lib/proc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RETRY_PAUSE_MS 100
#define WAIT_SLACK_MS  30000 /* beyond the migration's own bounds */

/* One call; transport failures retried for mc->retry_ms when retry. */
static int request(struct migclient *mc, const char *method, const char *path, const json_t *body,
		   bool retry, long *status, json_t **reply)
{
	long long deadline = clock_mono_ms() + (retry ? mc->retry_ms : 0);
	int r;

	mc->refused.status = 0;
	while ((r = cli_request(mc->cli, method, path, body, status, reply)) < 0 &&
	       clock_mono_ms() < deadline)
		proc_sleep_ms(RETRY_PAUSE_MS);
	return r;
}

/* Records a refusal (see migclient.h) and drops the reply. */
static int refuse(struct migclient *mc, const char *method, const char *path, long status,
		  json_t *reply)
{
	mc->refused.status = status;
	snprintf(mc->refused.method, sizeof(mc->refused.method), "%s", method);
	snprintf(mc->refused.path, sizeof(mc->refused.path), "%s", path);
	snprintf(mc->refused.text, sizeof(mc->refused.text), "%s", api_error_text(reply));
	json_decref(reply);
	return status == 404 ? -ENOENT : -EPROTO;
}

/* The request body of spec; NULL on ENOMEM. */
static json_t *create_body(const struct migclient_spec *s)
{
	json_t *body, *spec;
	int r = 0;

	body = kind_object_new(KIND_MIGRATION, s->name, json_object());
	spec = json_object_get(body, "spec");
	if (!spec)
		return NULL;
	if (s->vm)
		r |= json_object_set_new(spec, "vm", json_string(s->vm));
	if (s->port)
		r |= json_object_set_new(spec, "port", json_string(s->port));
	if (s->target)
		r |= json_object_set_new(spec, "target", json_string(s->target));
	if (s->strategy)
		r |= json_object_set_new(spec, "strategy", json_string(s->strategy));
	if (s->downtime_ms)
		r |= json_object_set_new(spec, "downtime_ms", json_integer(s->downtime_ms));
	if (s->max_bandwidth_mib)
		r |= json_object_set_new(spec, "max_bandwidth_mib",
					 json_integer(s->max_bandwidth_mib));
	if (s->progress_timeout_s)
		r |= json_object_set_new(spec, "progress_timeout_s",
					 json_integer(s->progress_timeout_s));
	if (s->no_replicate)
		r |= json_object_set_new(spec, "replicate", json_false());
	if (s->tls)
		r |= json_object_set_new(spec, "tls", json_boolean(s->tls > 0));
	if (r) {
		json_decref(body);
		return NULL;
	}
	return body;
}

int migclient_create(struct migclient *mc, const struct migclient_spec *spec, json_t **out)
{
	json_t *body = create_body(spec), *reply = NULL;
	long status;
	int r;

	if (!body)
		return -ENOMEM;
	r = request(mc, "POST", "/v1/migrations", body, false, &status, &reply);
	json_decref(body);
	if (r)
		return r;
	if (status != 201)
		return refuse(mc, "POST", "/v1/migrations", status, reply);
	*out = reply;
	return 0;
}

const char *migclient_phase(const json_t *migration)
{
	return obj_str(migration, "status", "phase") ?: "";
}

int migclient_find_unfinished(struct migclient *mc, const char *vm, char *name, size_t len)
{
	const char *found = "";
	json_t *reply = NULL, *m;
	long status;
	size_t i;
	int r;

	r = request(mc, "GET", "/v1/migrations", NULL, true, &status, &reply);
	if (r)
		return r;
	if (status != 200)
		return refuse(mc, "GET", "/v1/migrations", status, reply);
	json_array_foreach(json_object_get(reply, "items"), i, m)
	{
		const char *v = obj_str(m, "spec", "vm");

		if (v && !strcmp(v, vm) && !migration_phase_name_finished(migclient_phase(m))) {
			found = obj_name(m) ?: "";
			break;
		}
	}
	snprintf(name, len, "%s", found);
	json_decref(reply);
	return 0;
}

int migclient_action(struct migclient *mc, const char *name, enum migration_action action)
{
	char path[192];
	json_t *reply = NULL, *body = json_object();
	long status;
	int r;

	if (!body)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/v1/migrations/%s/%s", name, migration_action_name(action));
	r = request(mc, "POST", path, body, true, &status, &reply);
	json_decref(body);
	if (r)
		return r;
	if (status != 200)
		return refuse(mc, "POST", path, status, reply);
	json_decref(reply);
	return 0;
}

int migclient_get_path(struct migclient *mc, const char *path, json_t **out)
{
	json_t *reply = NULL;
	long status;
	int r;

	r = request(mc, "GET", path, NULL, true, &status, &reply);
	if (r)
		return r;
	if (status != 200)
		return refuse(mc, "GET", path, status, reply);
	*out = reply;
	return 0;
}

int migclient_get(struct migclient *mc, const char *name, json_t **out)
{
	char path[192];

	snprintf(path, sizeof(path), "/v1/migrations/%s", name);
	return migclient_get_path(mc, path, out);
}

/* How long a migration may take by its own bounds (docs/MIGRATION.md): each
 * phase before the transfer, the transfer's progress, the confirmation. */
static long long own_bound_ms(const json_t *m)
{
	const json_t *spec = json_object_get(m, "spec");
	json_int_t t = json_integer_value(json_object_get(spec, "timeout_s"));
	json_int_t p = json_integer_value(json_object_get(spec, "progress_timeout_s"));

	return (3 * (t > 0 ? t : 120) + (p > 0 ? p : 150) + 60) * 1000LL;
}

static bool wait_done(const json_t *m, enum migration_phase until)
{
	const char *phase = migclient_phase(m);

	return migration_phase_is(phase, until) || migration_phase_name_finished(phase);
}

int migclient_wait(struct migclient *mc, const char *name, const struct migclient_wait *w,
		   json_t **out)
{
	long long deadline = clock_mono_ms() + w->timeout_ms;
	bool bounded = w->timeout_ms > 0;
	json_t *m = NULL;
	int r;

	while (!(r = migclient_get(mc, name, &m))) {
		if (!bounded) {
			deadline += own_bound_ms(m) + WAIT_SLACK_MS;
			bounded = true;
		}
		r = w->progress ? w->progress(m, w->arg) : 0;
		if (r || wait_done(m, w->until))
			break;
		if (clock_mono_ms() > deadline) {
			r = -ETIME;
			break;
		}
		proc_sleep_ms(w->interval_ms);
		json_decref(m);
		m = NULL;
	}
	if (!r) {
		*out = m;
		m = NULL;
	}
	json_decref(m);
	return r;
}

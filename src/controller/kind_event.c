/* SPDX-License-Identifier: MIT */
/*
 * The Event kind: what the controller saw happen (recorder.h). Events are
 * written by the controller only: a client's POST or PUT is refused (405); a
 * client may delete one.
 */
#include "kind.h"

static int event_validate(const json_t *spec, const char *name, json_t *out, struct api_error *err)
{
	(void)spec;
	(void)name;
	(void)out;
	return api_error_set(err, 405, NULL,
			     "events are recorded by the controller; clients read them "
			     "(GET /v1/events) and may delete them");
}

static int event_refuse_update(const char *name, struct api_error *err)
{
	return api_error_set(err, 405, NULL,
			     "event %s was recorded by the controller and does not change", name);
}

const struct kind_ops kind_event = {
    .kind = KIND_EVENT,
    .stored_status = true,
    .validate = event_validate,
    .refuse_update = event_refuse_update,
};

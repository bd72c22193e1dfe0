/* SPDX-License-Identifier: MIT */
/* Server-side printing (k8s_table.h). */
#include "k8s_table.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool k8s_table_wanted(struct MHD_Connection *conn)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");

	return a && strstr(a, "as=Table") && strstr(a, "g=meta.k8s.io");
}

void k8s_human_age(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 600)
		snprintf(buf, len, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 3 * 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 8 * 3600)
		snprintf(buf, len, "%lldh%lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s < 8 * 86400)
		snprintf(buf, len, "%lldd%lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

static json_t *age_cell(const json_t *view, int64_t now)
{
	const char *ts = json_string_value(
	    json_object_get(json_object_get(view, "metadata"), "creationTimestamp"));
	struct tm tm = {0};
	char buf[32];

	if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_string("<unknown>");
	k8s_human_age(now - (int64_t)timegm(&tm), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *column(const char *name, const char *type, const char *format)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", type, "format", format,
			 "description", "", "priority", 0);
}

json_t *k8s_table(const struct k8s_resource *res, const json_t *views, const char *rv, int64_t now)
{
	json_t *cols = json_array(), *rows = json_array(), *view, *cells, *extra;
	size_t i;

	if (!cols || !rows)
		goto fail;
	json_array_append_new(cols, column("Name", "string", "name"));
	json_array_append_new(cols, column("Age", "date", ""));
	for (i = 0; i < 6 && res->columns[i]; i++)
		json_array_append_new(cols, column(res->columns[i], res->column_types[i], ""));
	json_array_foreach(views, i, view)
	{
		cells =
		    json_pack("[O, o]", json_object_get(json_object_get(view, "metadata"), "name"),
			      age_cell(view, now));
		extra = res->cells(view);
		if (!cells || !extra || json_array_extend(cells, extra)) {
			json_decref(cells);
			json_decref(extra);
			goto fail;
		}
		json_decref(extra);
		json_array_append_new(rows, json_pack("{s:o, s:{s:s, s:s, s:O}}", "cells", cells,
						      "object", "kind", "PartialObjectMetadata",
						      "apiVersion", "meta.k8s.io/v1", "metadata",
						      json_object_get(view, "metadata")));
	}
	return json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion",
			 "meta.k8s.io/v1", "metadata", "resourceVersion", rv ? rv : "",
			 "columnDefinitions", cols, "rows", rows);
fail:
	json_decref(cols);
	json_decref(rows);
	return NULL;
}

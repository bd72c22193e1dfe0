/* SPDX-License-Identifier: MIT */
/* get, list, create, patch, replace, delete of the kubevirt.io/v1 resources (k8s_objects.h). */
#include "k8s_objects.h"
#include "k8s_patch.h"
#include "k8s_table.h"
#include "lib/kubevirt.h"
#include "migration_api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct diag_ctx {
	struct k8s_status *st;
	const char *name;
};

static int diag_error(void *c, const char *path, const char *msg)
{
	struct diag_ctx *d = c;
	struct k8s_status *st = d->st;

	st->code = 422;
	snprintf(st->reason, sizeof(st->reason), "Invalid");
	snprintf(st->message, sizeof(st->message),
		 "VirtualMachine.kubevirt.io \"%.63s\" is invalid: %s%s%s", d->name ? d->name : "",
		 path ? path : "", path ? ": " : "", msg);
	if (k8s_status_cause(st, path, msg) < 0)
		return -ENOMEM;
	return -EINVAL;
}

static int diag_warn(void *c, const char *msg)
{
	struct diag_ctx *d = c;

	if (!d->st->warnings && !(d->st->warnings = json_array()))
		return -ENOMEM;
	return json_array_append_new(d->st->warnings, json_string(msg)) ? -ENOMEM : 0;
}

/* A copy of doc without what the server sets (status, metadata.uid, ...). */
static json_t *client_fields(const json_t *doc)
{
	static const char *const server_set[] = {"uid",
						 "resourceVersion",
						 "creationTimestamp",
						 "generation",
						 "managedFields",
						 "selfLink",
						 "deletionTimestamp",
						 "deletionGracePeriodSeconds",
						 NULL};
	json_t *copy = json_deep_copy(doc), *meta;

	if (!copy)
		return NULL;
	json_object_del(copy, "status");
	meta = json_object_get(copy, "metadata");
	for (size_t i = 0; json_is_object(meta) && server_set[i]; i++)
		json_object_del(meta, server_set[i]);
	return copy;
}

int k8s_vm_translate(const json_t *doc, const char *name, struct k8s_status *st, json_t **out)
{
	struct diag_ctx d = {.st = st, .name = name};
	const struct kubevirt_diag diag = {.error = diag_error, .warn = diag_warn, .ctx = &d};
	const char *av = json_string_value(json_object_get(doc, "apiVersion"));
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *copy;
	int r;

	if (!d.name)
		d.name =
		    json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	if ((av && strcmp(av, KUBEVIRT_API_VERSION) != 0) ||
	    (kind && strcmp(kind, "VirtualMachine") != 0))
		return diag_error(&d,
				  av && strcmp(av, KUBEVIRT_API_VERSION) ? "apiVersion" : "kind",
				  "this path takes kubevirt.io/v1 VirtualMachine");
	copy = client_fields(doc);
	if (!copy)
		return -ENOMEM;
	r = kubevirt_vm_to_godwit(copy, &diag, out);
	json_decref(copy);
	return r;
}

static struct k8s_target target_of(const struct k8s_request *kr, const char *name)
{
	return (struct k8s_target){.resource = kr->res->name, .kind = kr->res->kind, .name = name};
}

/* A Table of one view (taken). */
static json_t *table_of(const struct k8s_resource *res, json_t *view)
{
	json_t *one = json_pack("[o]", view), *t;

	t = one ? k8s_table(res, one,
			    json_string_value(json_object_get(json_object_get(view, "metadata"),
							      "resourceVersion")),
			    (int64_t)time(NULL))
		: NULL;
	json_decref(one);
	return t;
}

/* The view of the godwit object obj (taken), answered with status. */
static enum MHD_Result reply_view(struct MHD_Connection *conn, const struct k8s_request *kr,
				  json_t *obj, unsigned status, struct k8s_status *st)
{
	const struct k8s_target t = target_of(kr, kr->name);
	json_t *view = NULL;
	enum MHD_Result ret;
	int r = kr->res->view(obj, &view);

	json_decref(obj);
	if (r == -ENOENT)
		ret = k8s_reply_error(conn, 404, &t, "%s.kubevirt.io \"%s\" not found",
				      kr->res->name, kr->name ? kr->name : "");
	else if (r < 0)
		ret = k8s_reply_error(conn, 500, &t, "cannot show the object");
	else if (k8s_table_wanted(conn))
		ret = k8s_reply(conn, status, table_of(kr->res, view), st);
	else
		ret = k8s_reply(conn, status, view, st);
	k8s_status_clear(st);
	return ret;
}

/* The registry's answer: the view, or the error as a Status. */
static enum MHD_Result reply_result(struct MHD_Connection *conn, const struct k8s_request *kr,
				    int r, json_t *obj, unsigned status,
				    const struct api_error *err, struct k8s_status *st)
{
	const struct k8s_target t = target_of(kr, kr->name);
	enum MHD_Result ret;

	if (r == 0)
		return reply_view(conn, kr, obj, status, st);
	if (err->status == 404)
		ret = k8s_reply_error(conn, 404, &t, "%s.kubevirt.io \"%s\" not found",
				      kr->res->name, kr->name ? kr->name : "");
	else
		ret = k8s_reply_api_error(conn, err, &t, st);
	k8s_status_clear(st);
	return ret;
}

static int decode(const struct k8s_request *kr, json_t **doc, struct k8s_status *st)
{
	json_error_t jerr;

	*doc = json_loadb(kr->body ? kr->body : "", kr->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*doc || !json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		st->code = 400;
		snprintf(st->message, sizeof(st->message),
			 "the body is not a JSON object: %s (line %d)", jerr.text, jerr.line);
		return -EINVAL;
	}
	return 0;
}

/* A VirtualMachineInstanceMigration -> a godwit Migration of its VM. */
static int vmim_translate(const json_t *doc, struct k8s_status *st, json_t **out)
{
	const json_t *meta = json_object_get(doc, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *gen = json_string_value(json_object_get(meta, "generateName"));
	const char *vmi =
	    json_string_value(json_object_get(json_object_get(doc, "spec"), "vmiName"));
	char generated[64];
	struct timespec ts;

	if (!name && gen && strlen(gen) < 40) {
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(generated, sizeof(generated), "%s%05lx", gen,
			 (unsigned long)((ts.tv_sec * 1000 + ts.tv_nsec / 1000000) & 0xfffff));
		name = generated;
	}
	st->code = 422;
	snprintf(st->reason, sizeof(st->reason), "Invalid");
	if (!vmi) {
		snprintf(st->message, sizeof(st->message),
			 "VirtualMachineInstanceMigration.kubevirt.io \"%s\" is invalid: "
			 "spec.vmiName: Required value",
			 name ? name : "");
		return k8s_status_cause(st, "spec.vmiName", "Required value") ?: -EINVAL;
	}
	if (!name) {
		snprintf(st->message, sizeof(st->message),
			 "VirtualMachineInstanceMigration.kubevirt.io is invalid: metadata.name: "
			 "Required value (or metadata.generateName)");
		return k8s_status_cause(st, "metadata.name", "Required value") ?: -EINVAL;
	}
	*out = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", name, "spec", "vm", vmi);
	st->code = 0;
	st->reason[0] = '\0';
	return *out ? 0 : -ENOMEM;
}

static enum MHD_Result create(const struct http_context *ctx, struct MHD_Connection *conn,
			      const struct k8s_request *kr)
{
	struct k8s_status st = {0};
	struct api_error err = {0};
	json_t *doc, *body = NULL, *out = NULL;
	int r;

	if (decode(kr, &doc, &st) < 0)
		return k8s_reply_status(conn, &st, NULL);
	if (kr->res->source == KIND_VM)
		r = k8s_vm_translate(doc, NULL, &st, &body);
	else
		r = vmim_translate(doc, &st, &body);
	if (r < 0) {
		const struct k8s_target t = {.resource = kr->res->name,
					     .kind = kr->res->kind,
					     .name = json_string_value(json_object_get(
						 json_object_get(doc, "metadata"), "name"))};
		enum MHD_Result ret = k8s_reply_status(conn, &st, &t);

		json_decref(doc);
		k8s_status_clear(&st);
		return ret;
	}
	json_decref(doc);
	r = registry_create(ctx->registry, kr->res->source, body, &out, &err);
	{
		struct k8s_request named = *kr;

		named.name =
		    json_string_value(json_object_get(json_object_get(body, "metadata"), "name"));
		enum MHD_Result ret = reply_result(conn, &named, r, out, 201, &err, &st);

		json_decref(body);
		return ret;
	}
}

/* PATCH (merge patch) or PUT of a VirtualMachine. */
static enum MHD_Result update(const struct http_context *ctx, struct MHD_Connection *conn,
			      const struct k8s_request *kr, bool patch)
{
	const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	struct k8s_target t = target_of(kr, kr->name);
	struct k8s_status st = {0};
	struct api_error err = {0};
	json_t *doc, *cur = NULL, *view = NULL, *merged = NULL, *body = NULL, *out = NULL;
	bool created = false;
	int r;

	if (patch && (!ctype || strncmp(ctype, "application/merge-patch+json", 28) != 0))
		return k8s_reply_error(conn, 415, &t,
				       "the patch type %s is not supported (godwit takes "
				       "application/merge-patch+json)",
				       ctype ? ctype : "(none)");
	if (decode(kr, &doc, &st) < 0)
		return k8s_reply_status(conn, &st, &t);
	if (patch) {
		r = registry_get(ctx->registry, KIND_VM, kr->name, &cur, &err);
		if (r < 0) {
			json_decref(doc);
			return reply_result(conn, kr, r, NULL, 200, &err, &st);
		}
		r = kr->res->view(cur, &view);
		json_decref(cur);
		if (r == 0)
			r = k8s_merge_patch(view, doc, &merged);
		json_decref(view);
		json_decref(doc);
		if (r < 0)
			return k8s_reply_error(conn, r == -E2BIG ? 400 : 500, &t,
					       r == -E2BIG ? "the patch nests too deep"
							   : "cannot apply the patch");
		doc = merged;
	}
	r = k8s_vm_translate(doc, kr->name, &st, &body);
	t.kind = kr->res->kind;
	if (r == 0 && !patch) {
		/* PUT: resourceVersion given = the one the client read (409 otherwise) */
		const char *rv = json_string_value(
		    json_object_get(json_object_get(doc, "metadata"), "resourceVersion"));

		if (rv)
			json_object_set_new(json_object_get(body, "metadata"), "revision",
					    json_integer(strtoll(rv, NULL, 10)));
	}
	json_decref(doc);
	if (r < 0) {
		enum MHD_Result ret = k8s_reply_status(conn, &st, &t);

		k8s_status_clear(&st);
		return ret;
	}
	r = registry_update(ctx->registry, KIND_VM, kr->name, body, &out, &created, &err);
	json_decref(body);
	return reply_result(conn, kr, r, out, 200, &err, &st);
}

static enum MHD_Result delete (const struct http_context *ctx, struct MHD_Connection *conn,
			       const struct k8s_request *kr) {
	struct k8s_status st = {0}; struct api_error err = {0}; json_t *out = NULL; int r;

	if (kr->res->source == KIND_MIGRATION){
	    /* DELETE = cancel: abort an unfinished migration, then it goes */
	    r = migration_action(ctx->registry, kr->name, "abort", NULL, &out, &err);
	    json_decref(out); out = NULL; if (r < 0 && err.status != 409 && err.status != 422){
		return reply_result(conn, kr, r, NULL, 200, &err, &st);}
memset(&err, 0, sizeof(err));
}
r = registry_delete(ctx->registry, kr->res->source, kr->name, &out, &err);
return reply_result(conn, kr, r, out, 200, &err, &st);
}

enum MHD_Result k8s_objects_serve(const struct http_context *ctx, struct MHD_Connection *conn,
				  const struct k8s_request *kr)
{
	const struct k8s_target t = target_of(kr, kr->name);
	struct k8s_status st = {0};
	struct api_error err = {0};
	json_t *out = NULL, *list;
	const char *m = kr->method;
	int r;

	if (MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "dryRun"))
		return k8s_reply_error(conn, 400, &t, "dryRun is not supported by godwit");
	if (strcmp(m, "GET") == 0 && kr->name) {
		r = registry_get(ctx->registry, kr->res->source, kr->name, &out, &err);
		return reply_result(conn, kr, r, out, 200, &err, &st);
	}
	if (strcmp(m, "GET") == 0) {
		r = registry_list(ctx->registry, kr->res->source, &out, &err);
		if (r < 0)
			return reply_result(conn, kr, r, NULL, 200, &err, &st);
		r = k8s_view_list(kr->res, out, &list);
		json_decref(out);
		if (r < 0)
			return k8s_reply_error(conn, 500, &t, "cannot list");
		if (k8s_table_wanted(conn)) {
			json_t *table =
			    k8s_table(kr->res, json_object_get(list, "items"),
				      json_string_value(json_object_get(
					  json_object_get(list, "metadata"), "resourceVersion")),
				      (int64_t)time(NULL));

			json_decref(list);
			list = table;
		}
		return k8s_reply(conn, 200, list, NULL);
	}
	if (kr->res->source == KIND_VM && strcmp(kr->res->name, "virtualmachines") != 0)
		return k8s_reply_error(conn, 405, &t,
				       "%s are read-only (they follow the "
				       "virtualmachines)",
				       kr->res->name);
	if (strcmp(m, "POST") == 0 && !kr->name)
		return create(ctx, conn, kr);
	if (strcmp(m, "DELETE") == 0 && kr->name)
		return delete (ctx, conn, kr);
	if ((strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0) && kr->name &&
	    kr->res->source == KIND_VM)
		return update(ctx, conn, kr, strcmp(m, "PATCH") == 0);
	return k8s_reply_error(conn, 405, &t, "method %s is not allowed on %s%s%s", m,
			       kr->res->name, kr->name ? "/" : "", kr->name ? kr->name : "");
}

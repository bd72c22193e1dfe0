/* SPDX-License-Identifier: MIT */
#include "auth.h"
#include "lib/secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Who may do what (design in auth.h): the rows a node credential passes. */
static const struct auth_row {
	const char *method;
	enum auth_target target;
	int kind;
	enum auth_rule rule;
	const char *what;
} auth_table[] = {
    {"GET", AUTH_T_OBJECTS, AUTH_ANY_KIND, AUTH_ALLOW, "read objects"},
    {"GET", AUTH_T_NODE_STATUS, KIND_NODE, AUTH_ALLOW, "read a node's status"},
    {"GET", AUTH_T_WATCH, AUTH_ANY_KIND, AUTH_ALLOW, "watch"},
    {"GET", AUTH_T_DISCOVERY, AUTH_ANY_KIND, AUTH_ALLOW, "read the Kubernetes API's discovery"},
    {"PUT", AUTH_T_OBJECTS, KIND_NODE, AUTH_OWN_NODE, "register a node other than its own"},
    {"PUT", AUTH_T_NODE_STATUS, KIND_NODE, AUTH_OWN_NODE,
     "report the status of a node other than its own"},
    {"POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION, AUTH_MIGRATION_PARTY,
     "act on a migration whose source or target it is not"},
};

enum auth_rule auth_rule_for(const struct auth_request *req, const char **what)
{
	for (size_t i = 0; i < sizeof(auth_table) / sizeof(auth_table[0]); i++) {
		const struct auth_row *row = &auth_table[i];

		if (strcmp(row->method, req->method) != 0 || row->target != req->target ||
		    (row->kind != AUTH_ANY_KIND && row->kind != req->kind))
			continue;
		if (what)
			*what = row->what;
		return row->rule;
	}
	if (what)
		*what = NULL;
	return AUTH_DENY;
}

int auth_identify(struct store *s, const char *admin_token, const char *header,
		  struct auth_principal *p, struct api_error *err)
{
	char hash[SECRET_HEX_LEN + 1];
	const char *token, *node;
	json_t *rec = NULL;
	int r;

	if (!header || strncmp(header, "Bearer ", 7) != 0 || !header[7])
		return api_error_set(err, 401, NULL, "missing bearer token");
	token = header + 7;
	if (secret_equal(token, admin_token)) {
		*p = (struct auth_principal){.role = AUTH_ADMIN};
		return 0;
	}
	if (strlen(token) > SECRET_MAX)
		return api_error_set(err, 401, NULL, "wrong bearer token");
	r = secret_hash(token, hash);
	if (r < 0)
		return r;
	r = s->ops->cred_get(s, hash, &rec);
	if (r == -ENOENT)
		return api_error_set(err, 401, NULL,
				     "wrong bearer token (unknown, or a revoked node credential)");
	if (r < 0)
		return r;
	node = json_string_value(json_object_get(rec, "node"));
	if (!node || strlen(node) >= sizeof(p->node) ||
	    strcmp(json_string_value(json_object_get(rec, "type")) ?: "", "node") != 0) {
		/* a join token is good for POST /v1/join only */
		r = api_error_set(err, 401, NULL,
				  "this bearer token is not a credential (a join token is used "
				  "once, with POST /v1/join)");
		goto cleanup;
	}
	p->role = AUTH_NODE;
	snprintf(p->node, sizeof(p->node), "%s", node);
	r = 0;
cleanup:
	json_decref(rec);
	return r;
}

/* Whether node is the source or the target of migration name. */
static int migration_party(struct registry *reg, const char *name, const char *node, bool *party)
{
	struct store *s = reg->store;
	json_t *mig = NULL;
	const char *src, *dst;
	int r;

	r = s->ops->get(s, kind_str(KIND_MIGRATION), name, &mig);
	if (r < 0)
		return r;
	src = json_string_value(json_object_get(json_object_get(mig, "status"), "source"));
	dst = json_string_value(json_object_get(json_object_get(mig, "spec"), "target"));
	*party = (src && strcmp(src, node) == 0) || (dst && strcmp(dst, node) == 0);
	json_decref(mig);
	return 0;
}

int auth_check(struct registry *reg, const struct auth_principal *p, const struct auth_request *req,
	       struct api_error *err)
{
	const char *what = NULL;
	bool party = false;
	int r;

	if (p->role == AUTH_ADMIN)
		return 0;
	switch (auth_rule_for(req, &what)) {
	case AUTH_ALLOW:
		return 0;
	case AUTH_OWN_NODE:
		if (req->name && strcmp(req->name, p->node) == 0)
			return 0;
		return api_error_set(err, 403, NULL, "the credential of node %s may not %s (%s %s)",
				     p->node, what, req->method, req->url);
	case AUTH_MIGRATION_PARTY:
		r = req->name ? migration_party(reg, req->name, p->node, &party) : -ENOENT;
		if (r == -ENOENT) /* the handler answers 404 */
			return 0;
		if (r < 0)
			return r;
		if (party)
			return 0;
		return api_error_set(err, 403, NULL,
				     "the credential of node %s may not %s (migration %s)", p->node,
				     what, req->name);
	case AUTH_DENY:
		break;
	}
	return api_error_set(err, 403, NULL,
			     "the credential of node %s may not %s %s: only an admin may (a "
			     "node reads, writes its own Node and status and acts on its "
			     "migrations)",
			     p->node, req->method, req->url);
}

/* Whether the stored object kind/name is placed on node (auth.h). */
static int placed_on(struct registry *reg, enum kind kind, const char *name, const char *node,
		     bool *placed)
{
	struct store *s = reg->store;
	json_t *obj = NULL, *spec, *locs, *loc;
	size_t i;
	int r;

	*placed = false;
	r = s->ops->get(s, kind_str(kind), name, &obj);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	spec = json_object_get(obj, "spec");
	if (strcmp(json_string_value(json_object_get(spec, "target")) ?: "", node) == 0)
		*placed = true;
	if (kind == KIND_VM &&
	    strcmp(json_string_value(json_object_get(spec, "node")) ?: "", node) == 0)
		*placed = true;
	locs = json_object_get(spec, "locations");
	json_array_foreach(locs, i,
			   loc) if (strcmp(json_string_value(loc) ?: "", node) == 0) *placed = true;
	json_decref(obj);
	return 0;
}

int auth_status_placed(struct registry *reg, const char *node, json_t *body, int *dropped)
{
	static const struct {
		const char *key;
		enum kind kind;
	} maps[] = {{"ports", KIND_PORT}, {"vms", KIND_VM}};
	const char *name;
	json_t *map, *value;
	void *tmp;
	bool placed;
	int r, n = 0;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		map = json_object_get(body, maps[i].key);
		if (!json_is_object(map))
			continue; /* the validation names it */
		json_object_foreach_safe(map, tmp, name, value)
		{
			r = placed_on(reg, maps[i].kind, name, node, &placed);
			if (r < 0)
				return r;
			if (!placed) {
				json_object_del(map, name);
				n++;
			}
		}
	}
	if (dropped)
		*dropped = n;
	return 0;
}

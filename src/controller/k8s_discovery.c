/* SPDX-License-Identifier: MIT */
/* Discovery: what kubectl reads first to learn the resources (k8s.h). */
#include "k8s_discovery.h"
#include "k8s_view.h"

#include "lib/kubevirt.h"

#include <stdio.h>
#include <string.h>

#define GROUP_VERSION K8S_GROUP "/" K8S_VERSION

static json_t *strings(const char *const *list, size_t max)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < max && list[i]; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static json_t *resource_list(void)
{
	json_t *res = json_array();

	for (size_t i = 0; res && i < k8s_resources_n; i++) {
		const struct k8s_resource *r = &k8s_resources[i];

		json_array_append_new(
		    res, json_pack("{s:s, s:s, s:b, s:s, s:o, s:o, s:[s]}", "name", r->name,
				   "singularName", r->singular, "namespaced", 1, "kind", r->kind,
				   "verbs", strings(r->verbs, 8), "shortNames",
				   strings(r->short_names, 3), "categories", "all"));
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", GROUP_VERSION, "resources", res);
}

static json_t *group(void)
{
	return json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", K8S_GROUP, "versions",
			 "groupVersion", GROUP_VERSION, "version", K8S_VERSION, "preferredVersion",
			 "groupVersion", GROUP_VERSION, "version", K8S_VERSION);
}

/* The one namespace (name NULL: the list; another name: none). */
static json_t *namespaces(const char *name)
{
	json_t *ns = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "kind", "Namespace",
			       "apiVersion", "v1", "metadata", "name", KUBEVIRT_NAMESPACE,
			       "resourceVersion", "1", "status", "phase", "Active");

	if (!ns || name)
		return name && strcmp(name, KUBEVIRT_NAMESPACE) != 0 ? (json_decref(ns), NULL) : ns;
	return json_pack("{s:s, s:s, s:{}, s:[o]}", "kind", "NamespaceList", "apiVersion", "v1",
			 "metadata", "items", ns);
}

/*
 * The OpenAPI v3 document of kubevirt.io/v1, as much as kubectl reads: for
 * each kind a PATCH operation that takes the fieldValidation parameter, so
 * kubectl leaves validation to the server (it has no schema to check
 * against; without this it refuses to apply: "failed to download openapi").
 */
static json_t *openapi_v3(void)
{
	json_t *paths = json_object();
	char path[160];

	for (size_t i = 0; paths && i < k8s_resources_n; i++) {
		const struct k8s_resource *r = &k8s_resources[i];

		snprintf(path, sizeof(path),
			 "/apis/" GROUP_VERSION "/namespaces/{namespace}/%s/{name}", r->name);
		json_object_set_new(
		    paths, path,
		    json_pack("{s:{s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:{s:s}}], s:{s:{s:s}}}}",
			      "patch", "x-kubernetes-group-version-kind", "group", K8S_GROUP,
			      "version", K8S_VERSION, "kind", r->kind, "parameters", "name",
			      "fieldValidation", "in", "query", "schema", "type", "string",
			      "responses", "200", "description", "OK"));
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:{}}}", "openapi", "3.0.0", "info", "title",
			 "godwit", "version", K8S_VERSION, "paths", paths, "components", "schemas");
}

json_t *k8s_discovery(int n, char **seg)
{
	json_t *g;

	if (n == 1 && strcmp(seg[0], "version") == 0)
		/* kubectl warns beyond one minor of skew: claim the one it was built with */
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor", "32",
				 "gitVersion", "v1.32.0-godwit", "gitCommit", "", "buildDate", "",
				 "goVersion", "", "platform", "linux/amd64");
	if (n == 1 && strcmp(seg[0], "api") == 0)
		return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
				 "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
				 "serverAddress", "");
	if (n == 2 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1") == 0)
		return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:b, s:s, s:[s, s], s:[s]}]}",
				 "kind", "APIResourceList", "apiVersion", "v1", "groupVersion",
				 "v1", "resources", "name", "namespaces", "singularName",
				 "namespace", "namespaced", 0, "kind", "Namespace", "verbs", "get",
				 "list", "shortNames", "ns");
	if (n >= 3 && n <= 4 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1") == 0 &&
	    strcmp(seg[2], "namespaces") == 0)
		return namespaces(n == 4 ? seg[3] : NULL);
	if (n == 2 && strcmp(seg[0], "openapi") == 0 && strcmp(seg[1], "v3") == 0)
		return json_pack("{s:{s:{s:s}}}", "paths", "apis/" GROUP_VERSION,
				 "serverRelativeURL", "/openapi/v3/apis/" GROUP_VERSION "?hash=1");
	if (n == 5 && strcmp(seg[0], "openapi") == 0 && strcmp(seg[1], "v3") == 0 &&
	    strcmp(seg[2], "apis") == 0 && strcmp(seg[3], K8S_GROUP) == 0 &&
	    strcmp(seg[4], K8S_VERSION) == 0)
		return openapi_v3();
	if (n == 1 && strcmp(seg[0], "apis") == 0) {
		g = group();
		return g ? json_pack("{s:s, s:s, s:[o]}", "kind", "APIGroupList", "apiVersion",
				     "v1", "groups", g)
			 : NULL;
	}
	if (n == 2 && strcmp(seg[0], "apis") == 0 && strcmp(seg[1], K8S_GROUP) == 0) {
		g = group();
		if (g) {
			json_object_set_new(g, "kind", json_string("APIGroup"));
			json_object_set_new(g, "apiVersion", json_string("v1"));
		}
		return g;
	}
	if (n == 3 && strcmp(seg[0], "apis") == 0 && strcmp(seg[1], K8S_GROUP) == 0 &&
	    strcmp(seg[2], K8S_VERSION) == 0)
		return resource_list();
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * k8s_view: godwit objects (as the registry reads them, decorated) seen as
 * Kubernetes objects, one row per resource of the kubevirt.io/v1 group
 * (design in k8s.h). A view returns -ENOENT when the godwit object has no
 * such Kubernetes object (a VM that does not run has no instance; a
 * Migration of a bare port has no VirtualMachineInstanceMigration).
 */
#ifndef GODWIT_CONTROLLER_K8S_VIEW_H
#define GODWIT_CONTROLLER_K8S_VIEW_H

#include "lib/kinds.h"

#include <jansson.h>
#include <stdbool.h>

#define K8S_GROUP	 "kubevirt.io"
#define K8S_VERSION	 "v1"
#define K8S_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

struct k8s_resource {
	const char *name;     /* "virtualmachines" */
	const char *singular; /* "virtualmachine" */
	const char *kind;     /* "VirtualMachine" */
	const char *short_names[3];
	const char *verbs[8];
	enum kind source; /* the godwit kind it is a view of */
	int (*view)(const json_t *obj, json_t **out);
	/* The Table's columns (after NAME) and the cells of one view. */
	const char *columns[6];
	const char *column_types[6];
	json_t *(*cells)(const json_t *view);
};

extern const struct k8s_resource k8s_resources[];
extern const size_t k8s_resources_n;

/* The resource of a URL segment ("virtualmachines", "vm"); NULL if none. */
const struct k8s_resource *k8s_resource_find(const char *name);

/* metadata of a view: name, namespace, uid, resourceVersion, creationTimestamp, labels... */
json_t *k8s_view_metadata(const json_t *obj, bool with_annotations);

/* The resource's views of a registry list's items: {"kind": "XList", ...}. */
int k8s_view_list(const struct k8s_resource *res, const json_t *list, json_t **out);

#endif

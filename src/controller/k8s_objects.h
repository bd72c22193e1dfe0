/* SPDX-License-Identifier: MIT */
/* k8s_objects: the verbs on the kubevirt.io/v1 resources (design in k8s.h). */
#ifndef GODWIT_CONTROLLER_K8S_OBJECTS_H
#define GODWIT_CONTROLLER_K8S_OBJECTS_H

#include "http.h"
#include "k8s_reply.h"
#include "k8s_view.h"

#include <microhttpd.h>

/* A request on /apis/kubevirt.io/v1/namespaces/default/RES[/NAME] (name NULL: the collection). */
struct k8s_request {
	const struct k8s_resource *res;
	const char *name;
	const char *method;
	const char *body; /* may be NULL */
	size_t len;
};

enum MHD_Result k8s_objects_serve(const struct http_context *ctx, struct MHD_Connection *conn,
				  const struct k8s_request *kr);

/*
 * A VirtualMachine document (a client's body) -> the godwit VM body; errors
 * as a 422 Invalid Status in st (causes naming the fields), warnings added.
 * Server-set metadata and the status are dropped first.
 */
int k8s_vm_translate(const json_t *doc, const char *name, struct k8s_status *st, json_t **out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * k8s: the subset of the Kubernetes API that a KubeVirt user's kubectl needs,
 * served next to /v1/ (docs/API.md, "Kubernetes API"). A view, not a second
 * store: every request is translated to the registry's operations on the
 * godwit kinds, and every answer back, so both APIs always agree.
 *
 *   /api, /apis, /apis/kubevirt.io, /apis/kubevirt.io/v1, /version: discovery
 *   /apis/kubevirt.io/v1/namespaces/default/RESOURCE[/NAME]:
 *     virtualmachines                 <-> VM (lib/kubevirt.h translates)
 *     virtualmachineinstances          <- a VM that runs (read-only)
 *     virtualmachineinstancemigrations <-> Migration of a VM
 *   also /apis/kubevirt.io/v1/RESOURCE (all namespaces = default).
 *
 * Files: k8s.c routes; k8s_reply.c answers (objects, Status errors, the
 * Warning headers); k8s_discovery.c; k8s_vm.c the VirtualMachine verbs;
 * k8s_view.c the godwit object -> Kubernetes object views; k8s_patch.c the
 * JSON merge patch (RFC 7386) of `kubectl apply`; k8s_watch.c the
 * ?watch=true stream, fed by the watch hub and, for what is derived at read
 * time (a VM's phase comes from its node's report, which is no event), by
 * comparing each view with the one last sent, once a second.
 *
 * Who may do what: the bearer is identified (auth.h) before routing, as for
 * /v1/, and each request is checked against auth.h's one table as the godwit
 * request it stands for (k8s_auth_requests): virtualmachines and
 * virtualmachineinstances are VMs, virtualmachineinstancemigrations are
 * Migrations; get and list are GET, ?watch=true a watch, create POST, apply
 * (merge patch) and replace PUT, delete DELETE (a migration's delete also
 * its abort action); discovery is AUTH_T_DISCOVERY. So a node credential
 * reads, and may not write, through kubectl too. A refusal is a Status 403
 * Forbidden; a missing or wrong token a Status 401. A watch counts against
 * the listener's watch cap (http_limits.h), as GET /v1/watch does.
 *
 * Errors are Kubernetes Status objects; a malformed manifest's cause names
 * the field in Kubernetes' form ("spec.template.spec.domain.devices.
 * interfaces[0].masquerade"). Only the namespace "default" exists.
 */
#ifndef GODWIT_CONTROLLER_K8S_H
#define GODWIT_CONTROLLER_K8S_H

#include "auth.h"
#include "http.h"
#include "k8s_view.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether url is one of the Kubernetes API's (/api, /apis..., /version, /openapi...). */
bool k8s_path(const char *url);

/* Whether a request asks for ?watch=true (a stream, if on a collection). */
bool k8s_is_watch(struct MHD_Connection *conn);

/* One request on the Kubernetes API, as http.c's routing hands it over. */
struct k8s_call {
	const struct auth_principal *who; /* identified before routing (auth.h) */
	const char *body;		  /* may be NULL */
	size_t len;
	struct http_limits *limits; /* the listener's, for a watch */
	bool *watching;		    /* set once a watch was admitted (http_limits_watch_end) */
};

/* Answers a request for a k8s_path() url. */
enum MHD_Result k8s_serve(const struct http_context *ctx, struct MHD_Connection *conn,
			  const char *url, const char *method, const struct k8s_call *call);

/* Answers an authentication failure (err: 401) on a k8s_path() url as a Status. */
enum MHD_Result k8s_reply_unauthorized(struct MHD_Connection *conn, const struct api_error *err);

/*
 * The godwit requests (auth.h) that a Kubernetes request stands for, into
 * out (at most K8S_AUTH_MAX); the count. res NULL: a discovery path; name
 * NULL: the collection; watch: ?watch=true on it.
 */
#define K8S_AUTH_MAX 2
size_t k8s_auth_requests(const char *method, const struct k8s_resource *res, const char *name,
			 bool watch, const char *url, struct auth_request *out);

#endif

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
 * Errors are Kubernetes Status objects; a malformed manifest's cause names
 * the field in Kubernetes' form ("spec.template.spec.domain.devices.
 * interfaces[0].masquerade"). Only the namespace "default" exists.
 */
#ifndef GODWIT_CONTROLLER_K8S_H
#define GODWIT_CONTROLLER_K8S_H

#include "http.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether url is one of the Kubernetes API's (/api, /apis..., /version, /openapi...). */
bool k8s_path(const char *url);

/* Answers a request for a k8s_path() url; body may be NULL. */
enum MHD_Result k8s_serve(const struct http_context *ctx, struct MHD_Connection *conn,
			  const char *url, const char *method, const char *body, size_t len);

#endif

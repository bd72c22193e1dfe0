/* SPDX-License-Identifier: MIT */
/* k8s_discovery: /api, /apis, /apis/kubevirt.io[/v1], /version (k8s.h). */
#ifndef GODWIT_CONTROLLER_K8S_DISCOVERY_H
#define GODWIT_CONTROLLER_K8S_DISCOVERY_H

#include <jansson.h>

/* The document of the path's segments, or NULL when they name none. */
json_t *k8s_discovery(int n, char **seg);

#endif

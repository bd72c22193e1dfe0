/* SPDX-License-Identifier: MIT */
/* k8s_patch: JSON merge patch (RFC 7386), what kubectl apply sends for kubevirt.io kinds. */
#ifndef GODWIT_CONTROLLER_K8S_PATCH_H
#define GODWIT_CONTROLLER_K8S_PATCH_H

#include <jansson.h>

#define K8S_PATCH_MAX_DEPTH 32

/*
 * target with patch merged in: a new reference in *out (target untouched).
 * -E2BIG when patch nests deeper than K8S_PATCH_MAX_DEPTH.
 */
int k8s_merge_patch(const json_t *target, const json_t *patch, json_t **out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * kubevirt (CLI): the manifest map function of `kubevirt.io/v1
 * VirtualMachine`; the mapping itself is lib/kubevirt.h, shared with godwitd.
 */
#ifndef GODWIT_CLI_KUBEVIRT_H
#define GODWIT_CLI_KUBEVIRT_H

#include "lib/kubevirt.h"
#include "manifest_doc.h"

#include <jansson.h>

/* The manifest_kind map function of kubevirt.io/v1 VirtualMachine. */
int kubevirt_map_vm(const struct manifest_kind *mk, const json_t *doc, struct manifest_doc *ctx);

#endif

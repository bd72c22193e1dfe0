/* SPDX-License-Identifier: MIT */
/*
 * kubevirt: `apiVersion: kubevirt.io/v1, kind: VirtualMachine` -> the VM kind
 * (docs/VM.md). The subset godwit understands:
 *   metadata.name
 *   spec.runStrategy (Always -> running, Halted -> stopped) or spec.running
 *   spec.template.metadata.annotations
 *       kubevirt.io/allow-pod-bridge-network-live-migration: "true" -> migratable
 *   spec.template.spec.domain.resources.requests.memory (a quantity) -> memory_mib
 *   spec.template.spec.domain.cpu.cores -> cpus
 *   spec.template.spec.domain.devices.interfaces[0] with bridge: {}
 *   spec.template.spec.domain.devices.disks[] with disk: {bus: virtio}
 *   spec.template.spec.networks[0]: pod: {} -> network "default",
 *       multus: {networkName: X} -> network X
 *   spec.template.spec.volumes[]: containerDisk.image -> image,
 *       cloudInitNoCloud.userData / userDataBase64 -> user_data
 * Anything else is ignored with a warning naming its path; a value godwit
 * cannot honour (masquerade, runStrategy Manual, 64m, ...) is an error naming
 * its path. Paths use the line map's form: "...interfaces.0.masquerade".
 */
#ifndef GODWIT_CLI_KUBEVIRT_H
#define GODWIT_CLI_KUBEVIRT_H

#include "manifest_doc.h"

#include <jansson.h>
#include <stdint.h>

#define KUBEVIRT_MIGRATION_ANNOTATION "kubevirt.io/allow-pod-bridge-network-live-migration"

/* The manifest_kind map function of kubevirt.io/v1 VirtualMachine. */
int kubevirt_map_vm(const struct manifest_kind *mk, const json_t *doc, struct manifest_doc *ctx);

/*
 * A Kubernetes quantity of bytes (a string "64M", "64Mi", "1.5Gi", "1e9",
 * "512Ki", or an integer) in MiB, rounded up. -EINVAL with why filled
 * ("... is not a quantity", "zero", "more than 65536 MiB") otherwise.
 */
int kubevirt_quantity_mib(const json_t *v, int64_t max_mib, int64_t *mib, char *why, size_t len);

#endif

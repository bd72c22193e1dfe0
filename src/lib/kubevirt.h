/* SPDX-License-Identifier: MIT */
/*
 * kubevirt: KubeVirt's `kubevirt.io/v1` VirtualMachine <-> godwit's VM kind
 * (docs/VM.md), the one definition used by `godwit apply` (src/cli) and by
 * godwitd's Kubernetes API (src/controller/k8s_*.c).
 *
 * KubeVirt -> godwit, the subset godwit understands:
 *   metadata.name, .namespace (only "default"), .labels, .annotations (kept)
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
 * The caller decides what an error and a warning become (a manifest's line,
 * a Kubernetes Status cause, an HTTP Warning header) through kubevirt_diag.
 *
 * godwit -> KubeVirt (kubevirt_vm_spec): the spec of a VirtualMachine that
 * maps back onto the same VM spec (memory in Mi, the fixed disk and
 * interface names of the seed manifest).
 */
#ifndef GODWIT_LIB_KUBEVIRT_H
#define GODWIT_LIB_KUBEVIRT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define KUBEVIRT_MIGRATION_ANNOTATION "kubevirt.io/allow-pod-bridge-network-live-migration"
#define KUBEVIRT_API_VERSION	      "kubevirt.io/v1"
#define KUBEVIRT_NAMESPACE	      "default" /* the only one godwit has */
#define KUBEVIRT_KEY_MAX	      253	/* a label's or annotation's key */

struct kubevirt_diag {
	/* A field that is wrong: path ("spec.running", NULL: the document) and
	 * why. Returns what the mapping returns (normally -EINVAL). */
	int (*error)(void *ctx, const char *path, const char *msg);
	/* An ignored field ("ignoring spec.x"); NULL: warnings are dropped.
	 * Returns 0 or -ENOMEM. */
	int (*warn)(void *ctx, const char *msg);
	void *ctx;
};

/* Formats and hands over an error / a warning (for the mapping's own use). */
int kv_error(const struct kubevirt_diag *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kv_warn(const struct kubevirt_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A VirtualMachine document -> the body of a godwit VM (apiVersion godwit/v1,
 * metadata {name[, labels][, annotations]}, spec) in *out. Errors through d.
 */
int kubevirt_vm_to_godwit(const json_t *doc, const struct kubevirt_diag *d, json_t **out);

/* The VirtualMachine spec that stands for the godwit VM spec vm_spec. */
int kubevirt_vm_spec(const json_t *vm_spec, json_t **out);

/*
 * A Kubernetes quantity of bytes (a string "64M", "64Mi", "1.5Gi", "1e9",
 * "512Ki", or an integer) in MiB, rounded up. -EINVAL with why filled
 * ("... is not a quantity", "zero", "more than 65536 MiB") otherwise.
 */
int kubevirt_quantity_mib(const json_t *v, int64_t max_mib, int64_t *mib, char *why, size_t len);

#endif

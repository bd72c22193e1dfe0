/* SPDX-License-Identifier: MIT */
/*
 * catalog: the VM images godwit runs (VM spec.image) and the limits of a VM
 * spec, for the controller, which validates a VM against them, and the agent,
 * which runs it (docs/VM.md).
 *
 * Today every image is the guest that tools/guest/build.sh builds; an entry
 * names that guest and its minimum memory (a VM asking for less is raised to
 * it; the controller says so in status.notes). To add an image, add a row to
 * the table in catalog.c.
 *
 * Limits: spec.cpus is 1..VM_CPUS_MAX, spec.memory_mib 1..VM_MEMORY_MIB_MAX
 * before the raise. The controller refuses a spec outside them; the agent,
 * which trusts the controller, runs a value outside them as if absent
 * (1 CPU, the image's minimum memory).
 */
#ifndef GODWIT_LIB_CATALOG_H
#define GODWIT_LIB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_CPUS_MAX	  16
#define VM_MEMORY_MIB_MAX 65536
/* The minimum memory of the guest of today's images (it does not boot below
 * ~80 MiB), and of a VM whose image is not in the catalog. */
#define CATALOG_MIN_MEMORY_MIB 128

struct catalog_image {
	const char *name;	 /* as in spec.image */
	const char *guest;	 /* the built guest it stands for */
	unsigned min_memory_mib; /* the guest does not boot with less */
};

/* The entry named name, or NULL. */
const struct catalog_image *catalog_find(const char *name);

/* "godwit-demo, quay.io/kubevirt/cirros-container-disk-demo" into buf. */
void catalog_names(char *buf, size_t size);

/* The memory a VM of img (NULL: not in the catalog) runs with when its spec
 * asks for want MiB: want raised to the image's minimum; a want outside
 * 1..VM_MEMORY_MIB_MAX counts as none (the minimum). */
unsigned catalog_memory_mib(const struct catalog_image *img, int64_t want);
/* spec.cpus within the limits (1..VM_CPUS_MAX). */
static inline bool catalog_cpus_valid(int64_t cpus)
{
	return cpus >= 1 && cpus <= VM_CPUS_MAX;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * catalog: the VM images the controller accepts in VM spec.image, and what it
 * knows of each (docs/VM.md). Today every entry is the guest that
 * tools/guest/build.sh builds; an entry names that guest and its minimum
 * memory (a VM asking for less is raised to it and told so in status.notes).
 * To add an image, add a row to the table in catalog.c.
 */
#ifndef GODWIT_CONTROLLER_CATALOG_H
#define GODWIT_CONTROLLER_CATALOG_H

#include <stddef.h>

struct catalog_image {
	const char *name;	 /* as in spec.image */
	const char *guest;	 /* the built guest it stands for */
	unsigned min_memory_mib; /* the guest does not boot with less */
};

/* The entry named name, or NULL. */
const struct catalog_image *catalog_find(const char *name);

/* "godwit-demo, quay.io/kubevirt/cirros-container-disk-demo" into buf. */
void catalog_names(char *buf, size_t size);

#endif

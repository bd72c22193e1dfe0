/* SPDX-License-Identifier: MIT */
#include "lib/catalog.h"

#include <stdio.h>
#include <string.h>

#define GUEST_DEMO_MIN_MEMORY_MIB CATALOG_MIN_MEMORY_MIB

static const struct catalog_image images[] = {
    {"godwit-demo", "godwit-demo", GUEST_DEMO_MIN_MEMORY_MIB},
    /* The image of KubeVirt's examples, so that their manifests apply as they are. */
    {"quay.io/kubevirt/cirros-container-disk-demo", "godwit-demo", GUEST_DEMO_MIN_MEMORY_MIB},
};

const struct catalog_image *catalog_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(images) / sizeof(images[0]); i++) {
		if (strcmp(images[i].name, name) == 0)
			return &images[i];
	}
	return NULL;
}

void catalog_names(char *buf, size_t size)
{
	size_t off = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", images[i].name);

		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
}

unsigned catalog_memory_mib(const struct catalog_image *img, int64_t want)
{
	unsigned min = img ? img->min_memory_mib : CATALOG_MIN_MEMORY_MIB;

	if (want < 1 || want > VM_MEMORY_MIB_MAX)
		return min;
	return (unsigned)want < min ? min : (unsigned)want;
}

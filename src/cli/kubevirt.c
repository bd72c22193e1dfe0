/* SPDX-License-Identifier: MIT */
/* A VirtualMachine document of a manifest -> its VM object (lib/kubevirt.h). */
#include "kubevirt.h"

static int doc_error(void *ctx, const char *path, const char *msg)
{
	return manifest_doc_error(ctx, path, "%s", msg);
}

static int doc_warn(void *ctx, const char *msg)
{
	return manifest_doc_warn(ctx, "%s", msg);
}

int kubevirt_map_vm(const struct manifest_kind *mk, const json_t *doc, struct manifest_doc *ctx)
{
	const struct kubevirt_diag d = {.error = doc_error, .warn = doc_warn, .ctx = ctx};
	json_t *body;
	int r;

	r = kubevirt_vm_to_godwit(doc, &d, &body);
	if (r)
		return r;
	return manifest_doc_append(ctx, mk->target, body);
}

/* SPDX-License-Identifier: MIT */
/*
 * manifest: files given to `apply -f` / `delete -f` -> API objects.
 *
 * Input is YAML (one or more `---` documents) or JSON (an object, or an array
 * of objects). Each document is dispatched on (apiVersion, kind) through
 * manifest_kinds[]; a kind's map function checks the document and appends the
 * API objects it stands for (godwit/v1 Network and Port map 1:1). That table is
 * the extension point for foreign kinds: `kubevirt.io/v1 VirtualMachine` maps
 * to the VM kind (kubevirt.c). A map function may also warn about fields it
 * ignores (manifest.warnings). Nothing here does I/O, so the fuzzer and unit
 * tests drive it directly.
 *
 * Errors read "document N: line L: FIELD: what" (line when known).
 */
#ifndef GODWIT_CLI_MANIFEST_H
#define GODWIT_CLI_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

#include "lib/kinds.h" /* the kinds, their words and the name rule */

struct manifest_obj {
	const struct kind_info *kind;
	json_t *body;  /* {apiVersion, kind, metadata: {name}, spec} ready to POST */
	json_t *lines; /* borrowed ref of the document's line map (NULL for JSON) */
	int doc;       /* 1-based document index */
	const char *name; /* points into body */
};

struct manifest {
	struct manifest_obj *objs;
	size_t n;
	json_t *lines_keep; /* array holding the documents' line maps */
	json_t *warnings;   /* array of strings ("ignoring spec.x"), in document order */
};

/* Parses and maps buf; on error -EINVAL with err set (or -ENOMEM), out untouched. */
int manifest_parse(const char *buf, size_t len, struct manifest *out, char *err, size_t errlen);
void manifest_free(struct manifest *m);

/* Line of field path ("spec.cidr") in obj's document, or of its nearest parent; 0 if unknown. */
int manifest_field_line(const struct manifest_obj *obj, const char *path);

/*
 * apply's update rule: desired is a manifest body, stored the server's object.
 * The spec fields the manifest names must equal the stored ones; fields it
 * leaves out keep the server's values (allocations such as vni, mac, ipv4).
 * Sets *put to NULL when nothing changes, else to the PUT body (stored spec
 * overlaid with the manifest's, metadata.revision = the stored revision).
 */
int manifest_update_body(const json_t *desired, const json_t *stored, json_t **put);
#endif

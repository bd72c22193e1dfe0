/* SPDX-License-Identifier: MIT */
/*
 * manifest_doc: what a kind's map function writes into while one document of
 * a manifest is mapped: the API objects it stands for, the warnings, and the
 * error naming the document, the line and the field.
 *
 * manifest.c owns the dispatch (manifest_kinds[]: apiVersion and kind -> map
 * function) and calls the map functions of each family of kinds (its own
 * godwit/v1 one, kubevirt.c's VirtualMachine); those call back only into this
 * module, never into manifest.c, so adding a foreign kind adds no call loop:
 *
 *   manifest.c -> kubevirt.c -> manifest_doc.c
 *   manifest.c ------------------^
 */
#ifndef GODWIT_CLI_MANIFEST_DOC_H
#define GODWIT_CLI_MANIFEST_DOC_H

#include "manifest.h"

#include <jansson.h>
#include <stddef.h>

/* One document being mapped (manifest_parse() fills it; map functions pass it on). */
struct manifest_doc {
	struct manifest *m;
	json_t *lines;
	int index;
	char *err;
	size_t errlen;
};

/* One supported (apiVersion, kind) of a manifest document. */
struct manifest_kind {
	const char *api_version;
	const char *kind; /* NULL: target->name */
	/* Checks doc and appends its API objects with manifest_doc_append(). */
	int (*map)(const struct manifest_kind *mk, const json_t *doc, struct manifest_doc *ctx);
	const struct kind_info *target; /* for 1:1 kinds */
};

int manifest_doc_append(struct manifest_doc *ctx, const struct kind_info *kind, json_t *body);
/* Formats a mapping error for field path (line looked up), returns -EINVAL. */
int manifest_doc_error(struct manifest_doc *ctx, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a warning ("ignoring spec.x") to the manifest; -ENOMEM or 0. */
int manifest_doc_warn(struct manifest_doc *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Line of field path ("spec.cidr") in the line map lines, or of its nearest parent; 0 if unknown.
 */
int manifest_lines_lookup(const json_t *lines, const char *path);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * yamljson: YAML text <-> jansson values, for manifests and `-o yaml`.
 *
 * Reading uses libyaml's event parser and types plain scalars by the YAML 1.2
 * core schema (null, true/false, ints incl. 0x/0o, floats); quoted scalars and
 * `!!str` stay strings. Anchors and aliases are rejected (a manifest has no need
 * for them and they enable "billion laughs"), nesting is bounded, duplicate
 * keys are an error. Every document also gets a line map: an object from a
 * dotted path ("spec.cidr", "spec.locations.0") to the 1-based line of that
 * node, so later checks (ours or the server's "field") can point at a line.
 *
 * Writing uses libyaml's emitter: strings that would read back as another type
 * are double-quoted, so YAML output round-trips through the reader.
 */
#ifndef GODWIT_CLI_YAMLJSON_H
#define GODWIT_CLI_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define YAMLJSON_MAX_DEPTH 64

struct yaml_doc {
	json_t *value; /* the document (json null for an empty document) */
	json_t *lines; /* object: dotted path -> line (int) */
	int line;      /* line of the document start */
};

struct yaml_docs {
	struct yaml_doc *docs;
	size_t n;
};

/*
 * Parses every document of buf. On error returns -EINVAL and writes
 * "line N: what" into err (outputs untouched); -ENOMEM on allocation failure.
 */
int yaml_parse_docs(const char *buf, size_t len, struct yaml_docs *out, char *err, size_t errlen);
void yaml_docs_free(struct yaml_docs *docs); /* accepts an empty/zeroed struct */

/* Types one plain scalar by the core schema: a new json value, or NULL with err set. */
json_t *yaml_plain_scalar(const char *s, size_t len, char *err, size_t errlen);

/* Writes v as one YAML document to f (no "---" header). */
int yaml_emit(FILE *f, const json_t *v);

#endif

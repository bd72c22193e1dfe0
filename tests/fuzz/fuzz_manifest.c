/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes what `godwit apply -f` does before any I/O: YAML/JSON manifest
 * parsing and the mapping to API objects; for mapped objects also the YAML
 * emitter and a re-parse of its output (the emitter must always produce YAML
 * the reader takes back unchanged).
 */
#include "manifest.h"
#include "yamljson.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m = { 0 };
	char err[512];

	if (manifest_parse((const char *)data, size, &m, err, sizeof(err)) != 0)
		return 0;
	for (size_t i = 0; i < m.n; i++) {
		struct yaml_docs docs = { 0 };
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			break;
		if (yaml_emit(f, m.objs[i].body) != 0) {
			fclose(f);
			free(buf);
			continue;
		}
		fclose(f);
		if (yaml_parse_docs(buf, len, &docs, err, sizeof(err)) != 0 || docs.n != 1 ||
		    !json_equal(docs.docs[0].value, m.objs[i].body))
			abort();
		yaml_docs_free(&docs);
		free(buf);
	}
	manifest_free(&m);
	return 0;
}

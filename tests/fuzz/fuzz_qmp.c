/* SPDX-License-Identifier: MIT */
/* libFuzzer: the QMP line parser (qmp_parse_line) on arbitrary bytes. An
 * accepted message must be self-consistent; a refused one must say why. */
#include "lib/qmp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1); /* exact size, so ASan sees overreads */
	struct qmp_msg m = {0};
	char err[256] = "";

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (qmp_parse_line(copy, size, &m, err, sizeof(err)) == 0) {
		if (!m.root || (m.type == QMP_MSG_EVENT && (!m.event || !*m.event)) ||
		    (m.type == QMP_MSG_ERROR && (!m.error_desc || !m.error_class)) ||
		    (m.type != QMP_MSG_EVENT && m.qemu_ns != 0))
			abort();
		qmp_msg_clear(&m);
	} else if (strncmp(err, "QMP: ", 5) != 0) {
		abort();
	}
	free(copy);
	return 0;
}

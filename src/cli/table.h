/* SPDX-License-Identifier: MIT */
/* table: kubectl-style aligned columns (three spaces apart, last column unpadded). */
#ifndef GODWIT_CLI_TABLE_H
#define GODWIT_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table {
	size_t ncols;
	size_t nrows; /* including the header */
	char **cells; /* row-major */
};

/* header: ncols column titles. */
int table_init(struct table *t, size_t ncols, const char *const *header);
/* Appends a row of ncols cells (NULL cell prints as "-"). */
int table_add_row(struct table *t, const char *const *cells);
/* Renders into f. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * lab_verbs: the verbs of the lab wing, `lab` and `endpoint` (rows of the
 * verb table in src/cli/main.c; handler conventions in src/cli/cli.h).
 *
 * The wings call downwards only: main.c -> demo -> lab -> cli's core pieces
 * (client, config, table, views) -> lib. `lab demo` belongs to the demo wing,
 * which uses the lab, so the lab cannot call it: main.c hands cmd_lab the
 * sub-verbs that live above the lab (`more`), and cmd_lab runs one of them
 * when its name is the sub-command, with the `lab` row as verb and argv from
 * the sub-command on (argv[0] = "demo").
 */
#ifndef GODWIT_LAB_LAB_VERBS_H
#define GODWIT_LAB_LAB_VERBS_H

#include "cli/cli.h"

#include <stddef.h>

/* `godwit lab up|down|status|list` and the sub-verbs of more[]. */
int cmd_lab(struct cli *cli, const struct cli_verb *verb, int argc, char **argv,
	    const struct cli_verb *more, size_t n_more);

/* `godwit endpoint add|del|exec|list`. */
int cmd_endpoint(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);

#endif

/* SPDX-License-Identifier: MIT */
/* drill: rehearsal of the migration path with a container endpoint (drill.c). */
#ifndef GODWIT_DEMO_DRILL_H
#define GODWIT_DEMO_DRILL_H

#include <stddef.h>
#include <stdint.h>

struct cli;
struct cli_verb;

/* `godwit drill ENDPOINT --to NODE ...` (argv[0] is "drill"). Returns the exit status. */
int cmd_drill(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);

enum drill_announce {
	DRILL_ANNOUNCE_NONE, /* a silent guest: only completion activates the target */
	DRILL_ANNOUNCE_GARP, /* a gratuitous ARP request: an ordinary first frame */
	DRILL_ANNOUNCE_RARP, /* QEMU's announcement after a migration (ethertype 0x8035) */
};

/* Writes the 60-byte announcement frame for mac / ipv4_be into frame; returns its length. */
size_t drill_build_announce(enum drill_announce kind, const unsigned char mac[6], uint32_t ipv4_be,
			    unsigned char frame[60]);

#endif

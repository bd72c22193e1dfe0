/* SPDX-License-Identifier: MIT */
/*
 * endpoint: a lab's stand-in for a workload. Endpoint NAME of lab LAB is the
 * network namespace LAB-ep-NAME holding one Port NAME of type veth. The agent
 * of the port's node creates the veth, moves the peer into the namespace as
 * eth0 and configures its MAC and IPv4 from IPAM; this module only creates
 * the namespace, posts the Port and waits for the address.
 *
 * The `endpoint` verb (cmd_endpoint.c) parses flags and calls these; so does
 * `lab demo` for its subject and observer. The caller checks that NAME is an
 * object name and LAB a lab name, and that it runs as root. Each function
 * prints what went wrong and returns 0 or -errno; endpoint_add undoes what it
 * made when it fails.
 */
#ifndef GODWIT_LAB_ENDPOINT_H
#define GODWIT_LAB_ENDPOINT_H

#include <stddef.h>

struct cli;

/* "LAB-ep-NAME" into buf. */
void endpoint_netns(const char *lab, const char *name, char *buf, size_t len);

/* Creates endpoint name on node, in network; prints "endpoint NAME: IPV4 (MAC) on NODE". */
int endpoint_add(struct cli *cli, const char *lab, const char *name, const char *network,
		 const char *node);

/* Deletes the Port and the namespace (-ENOENT when neither exists). */
int endpoint_del(struct cli *cli, const char *lab, const char *name);

/* The table of the lab's endpoints (ports whose netns is LAB-ep-*). */
int endpoint_list(struct cli *cli, const char *lab);

#endif

/* SPDX-License-Identifier: MIT */
/* The TCP echo service of the probe (`godwit probe --serve`): one epoll loop,
 * non-blocking sockets, at most ECHO_MAX_CLIENTS clients. A client whose echo
 * cannot be written back is not read until its buffer drains (backpressure, no
 * unbounded memory). Stops on SIGINT/SIGTERM.
 */
#ifndef GODWIT_PROBE_ECHO_SERVER_H
#define GODWIT_PROBE_ECHO_SERVER_H

#include <netinet/in.h>

#define ECHO_MAX_CLIENTS 1024

/* Serves until SIGINT/SIGTERM. Prints "listening on ADDR:PORT" to stdout once
 * ready (PORT is the one the kernel chose when addr has port 0). */
int echo_serve(const struct sockaddr_in *addr);

#endif

/* SPDX-License-Identifier: MIT */
/* godwit probe: the measuring instrument of the live-migration tests.
 *
 *   godwit probe TARGET [--rate HZ] [--duration S] [--tcp PORT] [--tcp-rate BYTES]
 *                       [--grace-ms MS] [--json] [--interval-report] [--record FILE]
 *   godwit probe --serve [--port PORT] [--bind ADDR]
 *
 * The client sends timestamped ICMP echo requests to TARGET on a fixed schedule
 * (never waiting for replies), optionally keeps one TCP connection carrying a
 * verified byte stream, and reports loss, loss windows, duplicates, the largest
 * gap between replies and the TCP stream's health. --serve runs the TCP echo
 * service the stream talks to. Modules: icmp (wire format), schedule (timer),
 * tally (bookkeeping), tcpstream (stream client), echo_server, report (output),
 * probe_run (the event loop), probe_main (flags).
 */
#ifndef GODWIT_PROBE_PROBE_H
#define GODWIT_PROBE_PROBE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define PROBE_MAX_RATE	 100000
#define PROBE_MAX_PROBES 20000000ULL /* bounds memory: 16 bytes per probe */

struct probe_opts {
	const char *target_str;
	struct sockaddr_in target;
	uint64_t rate_hz;
	double duration_s;
	uint64_t grace_ns;
	uint16_t tcp_port; /* 0: no TCP stream */
	uint64_t tcp_rate; /* bytes per second */
	bool json;
	bool interval_report;
	const char *record_path;
};

/* Entry point of `godwit probe` and of the godwit-probe executable; argv[0] is
 * the verb or program name. Returns the exit status: 0 ran, 1 bad flags or a setup error. */
int probe_main(int argc, char **argv);
/* Runs the client; returns the exit status. */
int probe_run(const struct probe_opts *o);

#endif

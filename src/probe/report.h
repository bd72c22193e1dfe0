/* SPDX-License-Identifier: MIT */
/* The probe's results as text for people, one JSON object for tools, and the
 * per-probe CSV timeline (--record). Times in the report are milliseconds; window
 * times are relative to the probe's start (the first send slot), with absolute
 * CLOCK_REALTIME copies (*_unix_ms) to line them up with migration phases.
 */
#ifndef GODWIT_PROBE_REPORT_H
#define GODWIT_PROBE_REPORT_H

#include "tally.h"
#include "tcpstream.h"

#include <stdbool.h>
#include <stdio.h>

struct probe_report {
	const char *target;
	uint64_t rate_hz;
	double duration_s;	/* how long it sent */
	uint64_t start_unix_ns; /* CLOCK_REALTIME of the start */
	uint64_t start_mono_ns; /* the same instant, CLOCK_MONOTONIC */
	struct tally_result icmp;
	uint64_t ignored;     /* replies that were not ours or malformed */
	uint64_t send_errors; /* probes the kernel refused to send (counted as sent) */
	bool has_tcp;
	uint16_t tcp_port;
	struct tcp_result tcp;
	const char *record_path; /* NULL: no CSV */
};

void report_text(FILE *f, const struct probe_report *r);
/* -ENOMEM or -EIO */
int report_json(FILE *f, const struct probe_report *r);
/* Writes "seq,send_unix_ms,rtt_ms,dups" per probe; rtt_ms is empty without a reply. */
int report_record_csv(const char *path, const struct tally *t, uint64_t start_unix_ns);

#endif

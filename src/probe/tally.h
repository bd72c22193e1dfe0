/* SPDX-License-Identifier: MIT */
/* Sequence bookkeeping of the ICMP probe: pure, no I/O, unit tested.
 *
 * Every probe sent gets the next 64-bit sequence number and a record of its send
 * time (ns since the start of the run, CLOCK_MONOTONIC). The wire carries only the
 * low 16 bits; tally_extend_seq() maps them back to the most recent probe with those
 * bits, which is unambiguous while a reply comes back within 65536 probe intervals.
 *
 * A probe counts as received when its first reply came within the grace period after
 * it was sent; replies beyond the first for one sequence are duplicates; a first reply
 * after the grace period makes the probe "late" (and lost).
 *
 * A loss window is a maximal run of consecutive lost probes. It spans from the send
 * time of the last probe answered before the run to the send time of the first probe
 * answered after it ("last reply before the gap to first reply after it"). A run at
 * the very start begins at the send time of its first probe; a run at the very end is
 * open and ends when sending stopped. max_gap is the largest interval between the
 * arrivals of consecutive received replies.
 */
#ifndef GODWIT_PROBE_TALLY_H
#define GODWIT_PROBE_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TALLY_NO_RTT UINT32_MAX

struct tally_probe {
	uint64_t send_ns;
	uint32_t rtt_ns;  /* first reply; saturates at TALLY_NO_RTT - 1; TALLY_NO_RTT: none */
	uint16_t replies; /* saturating */
	uint16_t pad;
};

struct tally {
	struct tally_probe *probes;
	uint64_t count;
	uint64_t capacity;
	uint64_t max_probes;
	uint64_t grace_ns;
};

struct tally_window {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t lost;
	bool closed; /* false: the run reaches the end of the probe */
};

struct tally_result {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;
	uint64_t late;
	uint64_t duplicates;
	uint64_t max_gap_ns;
	uint64_t rtt_min_ns, rtt_max_ns, rtt_sum_ns; /* over received probes */
	struct tally_window *windows;
	size_t n_windows;
};

void tally_init(struct tally *t, uint64_t grace_ns, uint64_t max_probes);
void tally_free(struct tally *t);
/* Records a probe sent at send_ns; its sequence number is t->count before the call.
 * -E2BIG past max_probes, -ENOMEM. */
int tally_sent(struct tally *t, uint64_t send_ns, uint64_t *seq);
/* The most recent sent sequence whose low 16 bits are wire; -ENOENT before any send. */
int tally_extend_seq(const struct tally *t, uint16_t wire, uint64_t *seq);
/* Records a reply to seq arriving at arrival_ns; -ERANGE for a sequence never sent. */
int tally_reply(struct tally *t, uint64_t seq, uint64_t arrival_ns);
/* Computes the result; stop_ns is when sending stopped (end of an open window). */
int tally_finish(const struct tally *t, uint64_t stop_ns, struct tally_result *res);
void tally_result_free(struct tally_result *res);
/* True when probe p counts as received. */
bool tally_probe_received(const struct tally *t, const struct tally_probe *p);

#endif

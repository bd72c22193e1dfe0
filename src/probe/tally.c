/* SPDX-License-Identifier: MIT */
#include "tally.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tally_init(struct tally *t, uint64_t grace_ns, uint64_t max_probes)
{
	memset(t, 0, sizeof(*t));
	t->grace_ns = grace_ns;
	t->max_probes = max_probes;
}

void tally_free(struct tally *t)
{
	free(t->probes);
	t->probes = NULL;
	t->count = t->capacity = 0;
}

int tally_sent(struct tally *t, uint64_t send_ns, uint64_t *seq)
{
	if (t->count >= t->max_probes)
		return -E2BIG;
	if (t->count == t->capacity) {
		uint64_t cap = t->capacity ? t->capacity * 2 : 4096;
		struct tally_probe *p;

		if (cap > t->max_probes)
			cap = t->max_probes;
		p = realloc(t->probes, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->probes = p;
		t->capacity = cap;
	}
	t->probes[t->count] = (struct tally_probe){.send_ns = send_ns, .rtt_ns = TALLY_NO_RTT};
	*seq = t->count++;
	return 0;
}

int tally_extend_seq(const struct tally *t, uint16_t wire, uint64_t *seq)
{
	uint64_t last;

	if (t->count == 0)
		return -ENOENT;
	last = t->count - 1;
	/* distance back from the newest probe to the one with these low bits */
	if ((uint16_t)(last - wire) > last)
		return -ENOENT;
	*seq = last - (uint16_t)(last - wire);
	return 0;
}

int tally_reply(struct tally *t, uint64_t seq, uint64_t arrival_ns)
{
	struct tally_probe *p;

	if (seq >= t->count)
		return -ERANGE;
	p = &t->probes[seq];
	if (p->replies == 0) {
		uint64_t rtt = arrival_ns > p->send_ns ? arrival_ns - p->send_ns : 0;

		p->rtt_ns = rtt >= TALLY_NO_RTT ? TALLY_NO_RTT - 1 : (uint32_t)rtt;
	}
	if (p->replies < UINT16_MAX)
		p->replies++;
	return 0;
}

bool tally_probe_received(const struct tally *t, const struct tally_probe *p)
{
	return p->replies > 0 && p->rtt_ns <= t->grace_ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int max_arrival_gap(const struct tally *t, uint64_t received, uint64_t *gap)
{
	uint64_t *arrivals, n = 0, best = 0;

	if (received < 2) {
		*gap = 0;
		return 0;
	}
	arrivals = malloc(received * sizeof(*arrivals));
	if (!arrivals)
		return -ENOMEM;
	for (uint64_t i = 0; i < t->count; i++)
		if (tally_probe_received(t, &t->probes[i]))
			arrivals[n++] = t->probes[i].send_ns + t->probes[i].rtt_ns;
	qsort(arrivals, n, sizeof(*arrivals), cmp_u64);
	for (uint64_t i = 1; i < n; i++)
		if (arrivals[i] - arrivals[i - 1] > best)
			best = arrivals[i] - arrivals[i - 1];
	free(arrivals);
	*gap = best;
	return 0;
}

static int add_window(struct tally_window **w, size_t *n, size_t *cap, struct tally_window win)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct tally_window *nw = realloc(*w, c * sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		*w = nw;
		*cap = c;
	}
	(*w)[(*n)++] = win;
	return 0;
}

int tally_finish(const struct tally *t, uint64_t stop_ns, struct tally_result *res)
{
	struct tally_result r = {.sent = t->count};
	size_t cap = 0;
	uint64_t run_start = 0, run_len = 0;
	bool have_prev = false;
	uint64_t prev_send = 0;
	int ret;

	for (uint64_t i = 0; i < t->count; i++) {
		const struct tally_probe *p = &t->probes[i];

		if (p->replies > 1)
			r.duplicates += p->replies - 1;
		if (!tally_probe_received(t, p)) {
			if (p->replies > 0)
				r.late++;
			if (run_len++ == 0)
				run_start = have_prev ? prev_send : p->send_ns;
			continue;
		}
		r.received++;
		if (r.received == 1 || p->rtt_ns < r.rtt_min_ns)
			r.rtt_min_ns = p->rtt_ns;
		if (p->rtt_ns > r.rtt_max_ns)
			r.rtt_max_ns = p->rtt_ns;
		r.rtt_sum_ns += p->rtt_ns;
		if (run_len) {
			ret =
			    add_window(&r.windows, &r.n_windows, &cap,
				       (struct tally_window){run_start, p->send_ns, run_len, true});
			if (ret < 0)
				goto cleanup;
			run_len = 0;
		}
		have_prev = true;
		prev_send = p->send_ns;
	}
	if (run_len) {
		uint64_t end = stop_ns > run_start ? stop_ns : run_start;

		ret = add_window(&r.windows, &r.n_windows, &cap,
				 (struct tally_window){run_start, end, run_len, false});
		if (ret < 0)
			goto cleanup;
	}
	r.lost = r.sent - r.received;
	ret = max_arrival_gap(t, r.received, &r.max_gap_ns);
	if (ret < 0)
		goto cleanup;
	*res = r;
	return 0;
cleanup:
	free(r.windows);
	return ret;
}

void tally_result_free(struct tally_result *res)
{
	free(res->windows);
	res->windows = NULL;
	res->n_windows = 0;
}

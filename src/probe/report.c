/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* milliseconds rounded to the microsecond, so JSON stays readable */
static json_t *json_ms(uint64_t ns)
{
	return json_real((double)(ns / 1000) / 1000.0);
}

/* an EOF from the echo service is recorded as -ENODATA */
static const char *tcp_error_str(int err)
{
	return err == -ENODATA ? "unexpected EOF" : strerror(-err);
}

void report_text(FILE *f, const struct probe_report *r)
{
	const struct tally_result *t = &r->icmp;

	fprintf(f, "probe %s: %llu Hz for %.3f s\n", r->target, (unsigned long long)r->rate_hz,
		r->duration_s);
	fprintf(f,
		"icmp: sent %llu, received %llu, lost %llu (%.2f%%), duplicates %llu, late %llu, "
		"ignored %llu",
		(unsigned long long)t->sent, (unsigned long long)t->received,
		(unsigned long long)t->lost,
		t->sent ? 100.0 * (double)t->lost / (double)t->sent : 0.0,
		(unsigned long long)t->duplicates, (unsigned long long)t->late,
		(unsigned long long)r->ignored);
	if (r->send_errors)
		fprintf(f, ", send errors %llu", (unsigned long long)r->send_errors);
	fputc('\n', f);
	if (t->received)
		fprintf(f, "rtt: min %.3f ms, avg %.3f ms, max %.3f ms; ", ms(t->rtt_min_ns),
			ms(t->rtt_sum_ns / t->received), ms(t->rtt_max_ns));
	fprintf(f, "max gap between replies %.3f ms\n", ms(t->max_gap_ns));
	fprintf(f, "loss windows: %zu\n", t->n_windows);
	for (size_t i = 0; i < t->n_windows; i++) {
		const struct tally_window *w = &t->windows[i];

		fprintf(f, "  at %.3f s: %.3f ms, %llu lost%s\n", (double)w->start_ns / 1e9,
			ms(w->end_ns - w->start_ns), (unsigned long long)w->lost,
			w->closed ? "" : " (until the end)");
	}
	if (!r->has_tcp)
		return;
	fprintf(f, "tcp %s:%u: ", r->target, r->tcp_port);
	if (!r->tcp.connected) {
		fprintf(f, "not connected: %s\n",
			r->tcp.error ? tcp_error_str(r->tcp.error) : "no answer");
		return;
	}
	fprintf(f, "%s; %llu bytes sent, %llu verified", r->tcp.reset ? "RESET" : "no reset",
		(unsigned long long)r->tcp.bytes_sent, (unsigned long long)r->tcp.bytes_verified);
	if (r->tcp.mismatch >= 0)
		fprintf(f, ", MISMATCH at byte %lld", (long long)r->tcp.mismatch);
	else
		fprintf(f, ", no mismatch");
	fprintf(f, "; %llu retransmits; longest stall %.3f ms",
		(unsigned long long)r->tcp.retransmits, ms(r->tcp.longest_stall_ns));
	if (r->tcp.error)
		fprintf(f, " (%s)", tcp_error_str(r->tcp.error));
	fputc('\n', f);
}

static json_t *windows_json(const struct probe_report *r)
{
	json_t *arr = json_array();
	uint64_t start_unix_ns = r->start_unix_ns;

	for (size_t i = 0; arr && i < r->icmp.n_windows; i++) {
		const struct tally_window *w = &r->icmp.windows[i];
		json_t *o = json_pack(
		    "{s:o, s:o, s:o, s:I, s:o, s:o, s:b}", "start_ms", json_ms(w->start_ns),
		    "end_ms", json_ms(w->end_ns), "length_ms",
		    json_ms(w->end_ns / 1000 * 1000 - w->start_ns / 1000 * 1000), "lost",
		    (json_int_t)w->lost, "start_unix_ms", json_ms(start_unix_ns + w->start_ns),
		    "end_unix_ms", json_ms(start_unix_ns + w->end_ns), "closed", w->closed);

		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The stalls of at least TCP_STALL_MIN_NS: [{start_unix_ms, length_ms}]. */
static json_t *stalls_json(const struct probe_report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < r->tcp.n_stalls; i++) {
		const struct tcp_stall *s = &r->tcp.stalls[i];
		uint64_t unix_ns = r->start_unix_ns + (s->from_ns - r->start_mono_ns);

		if (json_array_append_new(arr,
					  json_pack("{s:o, s:o}", "start_unix_ms", json_ms(unix_ns),
						    "length_ms", json_ms(s->len_ns))) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *tcp_json(const struct probe_report *r)
{
	const struct tcp_result *t = &r->tcp;

	if (!r->has_tcp)
		return json_null();
	return json_pack("{s:i, s:b, s:b, s:I, s:I, s:I, s:o, s:I, s:o, s:o, s:o}", "port",
			 r->tcp_port, "connected", t->connected, "reset", t->reset, "bytes_sent",
			 (json_int_t)t->bytes_sent, "bytes_received", (json_int_t)t->bytes_received,
			 "bytes_verified", (json_int_t)t->bytes_verified, "mismatch",
			 t->mismatch >= 0 ? json_integer(t->mismatch) : json_null(), "retransmits",
			 (json_int_t)t->retransmits, "longest_stall_ms",
			 json_ms(t->longest_stall_ns), "error",
			 t->error ? json_string(tcp_error_str(t->error)) : json_null(), "stalls",
			 stalls_json(r));
}

int report_json(FILE *f, const struct probe_report *r)
{
	const struct tally_result *t = &r->icmp;
	json_t *rtt, *root;
	int ret = 0;

	rtt = t->received
		  ? json_pack("{s:o, s:o, s:o}", "min", json_ms(t->rtt_min_ns), "avg",
			      json_ms(t->rtt_sum_ns / t->received), "max", json_ms(t->rtt_max_ns))
		  : json_null();
	root = json_pack("{s:s, s:I, s:f, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, "
			 "s:o}",
			 "target", r->target, "rate_hz", (json_int_t)r->rate_hz, "duration_s",
			 r->duration_s, "start_unix_ms", json_ms(r->start_unix_ns), "sent",
			 (json_int_t)t->sent, "received", (json_int_t)t->received, "lost",
			 (json_int_t)t->lost, "duplicates", (json_int_t)t->duplicates, "late",
			 (json_int_t)t->late, "ignored", (json_int_t)r->ignored, "send_errors",
			 (json_int_t)r->send_errors, "max_gap_ms", json_ms(t->max_gap_ns), "rtt_ms",
			 rtt, "windows", windows_json(r), "tcp", tcp_json(r));
	if (!root)
		return -ENOMEM;
	if (r->record_path && json_object_set_new(root, "replies", json_string(r->record_path)) < 0)
		ret = -ENOMEM;
	if (!ret && (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(16)) < 0 ||
		     fputc('\n', f) == EOF || fflush(f) == EOF))
		ret = -EIO;
	json_decref(root);
	return ret;
}

int report_record_csv(const char *path, const struct tally *t, uint64_t start_unix_ns)
{
	FILE *f = fopen(path, "we");
	int ret = 0;

	if (!f)
		return -errno;
	fprintf(f, "seq,send_unix_ms,rtt_ms,dups\n");
	for (uint64_t i = 0; i < t->count; i++) {
		const struct tally_probe *p = &t->probes[i];

		fprintf(f, "%llu,%.3f,", (unsigned long long)i,
			(double)((start_unix_ns + p->send_ns) / 1000) / 1000.0);
		if (p->replies)
			fprintf(f, "%.3f", (double)(p->rtt_ns / 1000) / 1000.0);
		fprintf(f, ",%u\n", p->replies ? p->replies - 1 : 0);
	}
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) == EOF && !ret)
		ret = -errno;
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* The probe's event loop: one thread, poll() over the send timer, the ICMP socket,
 * the TCP stream and a signalfd. Phases: sending until --duration or a signal, then
 * draining (no more sends; ICMP replies for the grace period, the TCP stream's
 * outstanding bytes for up to 2 s), then the report. A second signal ends the drain.
 */
#include "probe.h"

#include "icmp.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "report.h"
#include "schedule.h"
#include "tally.h"
#include "tcpstream.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCP_DRAIN_NS 2000000000ULL
#define SEC_NS	     1000000000ULL

/* counters of the current --interval-report second */
struct interval {
	uint64_t index;
	uint64_t sent, replies, dups, ignored;
	uint64_t rtt_sum, rtt_max;
};

struct run {
	const struct probe_opts *o;
	struct icmp_sock sock;
	struct icmp_expect expect;
	struct schedule sched;
	struct tally tally;
	struct tcp_client *tcp;
	uint64_t t0;	      /* CLOCK_MONOTONIC of slot 0 */
	uint64_t slots;	      /* send slots consumed */
	uint64_t total_slots; /* slots within --duration */
	uint64_t ignored;
	uint64_t send_errors;
	uint64_t answered;   /* probes with at least one reply */
	bool stop_requested; /* a signal came: stop sending */
	struct interval iv;
	FILE *iv_out;
};

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint64_t)clock_mono_ns() ^
		    ((uint64_t)getpid() << 32); /* unique enough per run */
	return v;
}

static void interval_flush(struct run *r, uint64_t rel)
{
	while (rel / SEC_NS > r->iv.index) {
		struct interval *iv = &r->iv;

		fprintf(r->iv_out,
			"t=%llus sent %llu replies %llu dups %llu ignored %llu rtt avg %.3f ms max "
			"%.3f ms\n",
			(unsigned long long)iv->index + 1, (unsigned long long)iv->sent,
			(unsigned long long)iv->replies, (unsigned long long)iv->dups,
			(unsigned long long)iv->ignored,
			iv->replies ? (double)iv->rtt_sum / (double)iv->replies / 1e6 : 0.0,
			(double)iv->rtt_max / 1e6);
		fflush(r->iv_out);
		*iv = (struct interval){.index = iv->index + 1};
	}
}

static void send_due(struct run *r, int64_t due)
{
	uint8_t pkt[ICMP_PROBE_LEN];

	for (; due > 0 && r->slots < r->total_slots; due--, r->slots++) {
		uint64_t rel = (uint64_t)clock_mono_ns() - r->t0, seq;

		if (tally_sent(&r->tally, rel, &seq) < 0) {
			r->total_slots = r->slots; /* out of memory: stop sending */
			return;
		}
		icmp_build_echo(pkt, r->sock.id, seq, r->expect.nonce, rel);
		if (sendto(r->sock.fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)&r->o->target,
			   sizeof(r->o->target)) < 0) {
			/* still a probe: the network (route, neighbour) may be what fails */
			if (r->send_errors++ == 0)
				log_warn_errno(-errno, "sending probe %llu",
					       (unsigned long long)seq);
		}
		r->iv.sent++;
	}
}

static void read_replies(struct run *r)
{
	uint8_t buf[2048];

	for (;;) {
		ssize_t n = recv(r->sock.fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct icmp_reply reply;
		uint64_t rel;

		if (n < 0)
			return; /* EAGAIN, or an ICMP error queued for the socket: nothing to count
				 */
		rel = (uint64_t)clock_mono_ns() - r->t0;
		if (icmp_parse_reply(buf, (size_t)n, &r->expect, &reply) < 0 ||
		    tally_reply(&r->tally, reply.seq, rel) < 0) {
			r->ignored++;
			r->iv.ignored++;
			continue;
		}
		if (r->tally.probes[reply.seq].replies == 1) {
			uint64_t rtt = r->tally.probes[reply.seq].rtt_ns;

			r->answered++;
			r->iv.replies++;
			r->iv.rtt_sum += rtt;
			if (rtt > r->iv.rtt_max)
				r->iv.rtt_max = rtt;
		} else {
			r->iv.dups++;
		}
	}
}

static int open_signals(sigset_t *old)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, old);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool got_signal(int sfd)
{
	struct signalfd_siginfo si;
	bool got = false;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		got = true;
	return got;
}

static int ms_until(uint64_t deadline, uint64_t now)
{
	uint64_t ms = deadline > now ? (deadline - now + 999999) / 1000000 : 0;

	return ms > 1000 ? 1000 : (int)ms;
}

/* The loop; fills *stop_rel with the time sending stopped, relative to t0. */
static int loop(struct run *r, int sfd, uint64_t *stop_rel)
{
	const uint64_t end_send = r->t0 + (uint64_t)(r->o->duration_s * 1e9);
	bool sending = true;
	uint64_t drain_until = 0, tcp_until = 0;

	*stop_rel = 0;
	for (;;) {
		short tcp_events = r->tcp ? tcp_client_events(r->tcp) : 0;
		/* a closed stream's socket is left out: poll would report its HUP forever */
		struct pollfd p[4] = {
		    {.fd = r->sched.fd, .events = sending ? POLLIN : 0},
		    {.fd = r->sock.fd, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = tcp_events ? r->tcp->fd : -1, .events = tcp_events},
		};
		uint64_t now = (uint64_t)clock_mono_ns();
		int timeout;

		if (sending && (now >= end_send || r->stop_requested)) {
			if (!r->stop_requested) /* slots that came due since the last wakeup */
				send_due(r, schedule_due(&r->sched));
			sending = false;
			*stop_rel = (now < end_send ? now : end_send) - r->t0;
			drain_until = now + r->o->grace_ns;
			tcp_until = now + TCP_DRAIN_NS;
			if (r->tcp)
				tcp_client_stop_writing(r->tcp);
		}
		if (!sending) {
			bool icmp_done = now >= drain_until || r->answered == r->tally.count;
			bool tcp_done = !r->tcp || tcp_client_drained(r->tcp) || now >= tcp_until;

			if (icmp_done && tcp_done)
				return 0;
			timeout = ms_until(icmp_done ? tcp_until : drain_until, now);
		} else {
			timeout = ms_until(end_send, now);
		}
		if (r->tcp && timeout > 10)
			timeout = 10; /* the stream writes every TCP_CLIENT_TICK_NS */
		if (poll(p, 4, timeout) < 0 && errno != EINTR)
			return -errno;
		if (p[2].revents && got_signal(sfd)) {
			if (!sending)
				return 0; /* second signal: report now */
			r->stop_requested = true;
			continue;
		}
		if (sending && (p[0].revents & POLLIN))
			send_due(r, schedule_due(&r->sched));
		if (p[1].revents)
			read_replies(r);
		if (r->tcp)
			tcp_client_run(r->tcp, p[3].revents, (uint64_t)clock_mono_ns());
		now = (uint64_t)clock_mono_ns();
		if (r->o->interval_report && now > r->t0)
			interval_flush(r, now - r->t0);
	}
}

static int finish(struct run *r, uint64_t stop_rel, uint64_t start_unix_ns)
{
	const struct probe_opts *o = r->o;
	struct probe_report rep = {
	    .target = o->target_str,
	    .rate_hz = o->rate_hz,
	    .duration_s = (double)stop_rel / 1e9,
	    .start_unix_ns = start_unix_ns,
	    .start_mono_ns = r->t0, /* start_unix_ns is slot 0's time */
	    .ignored = r->ignored,
	    .send_errors = r->send_errors,
	    .has_tcp = r->tcp != NULL,
	    .tcp_port = o->tcp_port,
	    .record_path = o->record_path,
	};
	int ret;

	ret = tally_finish(&r->tally, stop_rel, &rep.icmp);
	if (ret < 0)
		return log_error_errno(ret, "computing the results");
	if (r->tcp)
		tcp_client_finish(r->tcp, (uint64_t)clock_mono_ns(), &rep.tcp);
	if (o->record_path) {
		ret = report_record_csv(o->record_path, &r->tally, start_unix_ns);
		if (ret < 0)
			log_error_errno(ret, "writing --record `%s'", o->record_path);
	}
	if (o->json) {
		int r2 = report_json(stdout, &rep);

		if (r2 < 0)
			ret = log_error_errno(r2, "writing the JSON report");
	} else {
		report_text(stdout, &rep);
		fflush(stdout);
	}
	tally_result_free(&rep.icmp);
	return ret;
}

int probe_run(const struct probe_opts *o)
{
	static struct tcp_client tcp; /* large buffer; one probe per process */
	struct run r = {.o = o, .sock.fd = -1, .sched.fd = -1};
	uint64_t stop_rel = 0, start_unix_ns, mono, real;
	sigset_t old;
	int sfd, ret;

	r.expect.nonce = random_u64();
	tally_init(&r.tally, o->grace_ns, PROBE_MAX_PROBES);
	r.total_slots = (uint64_t)((double)o->rate_hz * o->duration_s + 0.999999);
	r.iv_out = o->json ? stderr : stdout;
	sfd = open_signals(&old);
	if (sfd < 0) {
		ret = log_error_errno(sfd, "setting up signal handling");
		goto cleanup;
	}
	ret = icmp_open(&r.sock, (uint16_t)r.expect.nonce);
	if (ret < 0) {
		log_error_errno(ret, "cannot open an ICMP socket (raw sockets need CAP_NET_RAW, "
				     "datagram ones net.ipv4.ping_group_range)");
		goto cleanup;
	}
	r.expect.raw = r.sock.raw;
	r.expect.check_id = true;
	r.expect.id = r.sock.id;
	r.expect.src = o->target.sin_addr.s_addr;
	schedule_try_realtime();
	r.t0 = (uint64_t)clock_mono_ns() + 1000000; /* first slot 1 ms from now */
	real = (uint64_t)clock_unix_ns();
	mono = (uint64_t)clock_mono_ns();
	start_unix_ns = real + (r.t0 - mono);
	if (o->tcp_port) {
		struct sockaddr_in addr = o->target;

		addr.sin_port = htons(o->tcp_port);
		ret = tcp_client_start(&tcp, &addr, o->tcp_rate, random_u64(),
				       (uint64_t)clock_mono_ns());
		if (ret < 0) {
			log_error_errno(ret, "creating the TCP socket");
			goto cleanup;
		}
		r.tcp = &tcp;
	}
	ret = schedule_start(&r.sched, o->rate_hz, r.t0);
	if (ret < 0) {
		log_error_errno(ret, "starting the send timer");
		goto cleanup;
	}
	ret = loop(&r, sfd, &stop_rel);
	if (ret < 0) {
		log_error_errno(ret, "probe loop");
		goto cleanup;
	}
	if (r.tcp && !tcp.connected)
		log_warn_errno(tcp.error ? tcp.error : -ETIMEDOUT, "TCP %s:%u: not connected",
			       o->target_str, o->tcp_port);
	ret = finish(&r, stop_rel, start_unix_ns);
cleanup:
	if (r.tcp && tcp.fd >= 0) {
		struct tcp_result unused;

		tcp_client_finish(&tcp, (uint64_t)clock_mono_ns(), &unused);
	}
	schedule_stop(&r.sched);
	icmp_close(&r.sock);
	tally_free(&r.tally);
	if (sfd >= 0) {
		close(sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	return ret < 0 ? 1 : 0;
}

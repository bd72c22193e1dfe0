/* SPDX-License-Identifier: MIT */
/* Flags of `godwit probe`: parse, validate (naming the bad value), dispatch. */
#include "probe.h"

#include "echo_server.h"
#include "lib/addr.h"
#include "lib/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: godwit probe TARGET [--rate HZ] [--duration S] [--tcp PORT] [--tcp-rate "
	    "BYTES]\n"
	    "                    [--grace-ms MS] [--json] [--interval-report] [--record FILE]\n"
	    "       godwit probe --serve [--port PORT] [--bind ADDR]\n\n"
	    "Sends timestamped ICMP echo requests to TARGET (IPv4) on a fixed schedule and "
	    "reports\n"
	    "loss, loss windows, duplicates and the largest gap between replies.\n"
	    "  --rate HZ          probes per second, 1..%d (default 1000)\n"
	    "  --duration S       seconds to send, may be fractional (default 10); SIGINT/SIGTERM\n"
	    "                     end it early and still print the report\n"
	    "  --tcp PORT         also keep a TCP connection to TARGET:PORT (an echo service) and\n"
	    "                     verify every echoed byte of a pseudo-random stream\n"
	    "  --tcp-rate BYTES   stream bytes per second (default 65536)\n"
	    "  --grace-ms MS      a probe is lost without a reply within MS (default 1000)\n"
	    "  --json             print one JSON object instead of text\n"
	    "  --interval-report  a line per second while running (stderr with --json)\n"
	    "  --record FILE      write every probe as CSV: seq,send_unix_ms,rtt_ms,dups\n"
	    "  --serve            run the TCP echo service until SIGINT/SIGTERM\n"
	    "  --port PORT        port of the echo service (default 7; 0: any, printed)\n"
	    "  --bind ADDR        address of the echo service (default 0.0.0.0)\n",
	    PROBE_MAX_RATE);
}

static int parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno || v < min || v > max) {
		log_error("invalid %s `%s': expected an integer in %llu..%llu", flag, s,
			  (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_ipv4(const char *flag, const char *s, struct in_addr *out)
{
	uint32_t a;

	if (addr_ipv4_parse(s, &a) < 0) {
		log_error("invalid %s `%s': expected an IPv4 address", flag, s);
		return -EINVAL;
	}
	out->s_addr = htonl(a);
	return 0;
}

enum {
	OPT_RATE = 256,
	OPT_DURATION,
	OPT_TCP,
	OPT_TCP_RATE,
	OPT_GRACE,
	OPT_JSON,
	OPT_INTERVAL,
	OPT_RECORD,
	OPT_SERVE,
	OPT_PORT,
	OPT_BIND,
};

static const struct option long_opts[] = {
    {"rate", required_argument, NULL, OPT_RATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"tcp", required_argument, NULL, OPT_TCP},
    {"tcp-rate", required_argument, NULL, OPT_TCP_RATE},
    {"grace-ms", required_argument, NULL, OPT_GRACE},
    {"json", no_argument, NULL, OPT_JSON},
    {"interval-report", no_argument, NULL, OPT_INTERVAL},
    {"record", required_argument, NULL, OPT_RECORD},
    {"serve", no_argument, NULL, OPT_SERVE},
    {"port", required_argument, NULL, OPT_PORT},
    {"bind", required_argument, NULL, OPT_BIND},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v <= 0 || v > 86400) {
		log_error("invalid --duration `%s': expected seconds in (0, 86400]", s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int probe_main(int argc, char **argv)
{
	struct probe_opts o = {
	    .rate_hz = 1000,
	    .duration_s = 10,
	    .grace_ns = 1000000000ULL,
	    .tcp_rate = 65536,
	};
	struct sockaddr_in bind_addr = {.sin_family = AF_INET, .sin_port = htons(7)};
	bool serve = false;
	uint64_t v;
	int c, r;

	optind = 0; /* glibc: re-initialise, probe_main may run after the CLI's getopt */
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case OPT_RATE:
			r = parse_u64("--rate", optarg, 1, PROBE_MAX_RATE, &o.rate_hz);
			break;
		case OPT_DURATION:
			r = parse_duration(optarg, &o.duration_s);
			break;
		case OPT_TCP:
			r = parse_u64("--tcp", optarg, 1, 65535, &v);
			o.tcp_port = (uint16_t)v;
			break;
		case OPT_TCP_RATE:
			r = parse_u64("--tcp-rate", optarg, 100, 100000000, &o.tcp_rate);
			break;
		case OPT_GRACE:
			r = parse_u64("--grace-ms", optarg, 1, 60000, &v);
			o.grace_ns = v * 1000000ULL;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_INTERVAL:
			o.interval_report = true;
			break;
		case OPT_RECORD:
			o.record_path = optarg;
			break;
		case OPT_SERVE:
			serve = true;
			break;
		case OPT_PORT:
			r = parse_u64("--port", optarg, 0, 65535, &v);
			bind_addr.sin_port = htons((uint16_t)v);
			break;
		case OPT_BIND:
			r = parse_ipv4("--bind", optarg, &bind_addr.sin_addr);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
		if (r < 0)
			return 1;
	}
	if (serve) {
		if (optind != argc) {
			log_error("--serve takes no TARGET (got `%s')", argv[optind]);
			return 1;
		}
		return echo_serve(&bind_addr) < 0 ? 1 : 0;
	}
	if (argc - optind != 1) {
		if (argc == optind)
			log_error("missing TARGET");
		else
			log_error("more than one TARGET (`%s')", argv[argc - 1]);
		usage(stderr);
		return 1;
	}
	o.target_str = argv[optind];
	o.target.sin_family = AF_INET;
	if (parse_ipv4("TARGET", o.target_str, &o.target.sin_addr) < 0)
		return 1;
	if ((double)o.rate_hz * o.duration_s > (double)PROBE_MAX_PROBES) {
		log_error("--rate %llu for --duration %g s makes more than %llu probes",
			  (unsigned long long)o.rate_hz, o.duration_s, PROBE_MAX_PROBES);
		return 1;
	}
	return probe_run(&o);
}

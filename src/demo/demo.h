/* SPDX-License-Identifier: MIT */
/*
 * `godwit lab demo`: from a fresh machine to a measured live migration.
 *
 * demo.c and its step files (demo_run.h) run the steps (checks, lab up, the
 * subject, an observer probing it from a third node, the migration,
 * teardown); everything they measure is turned into the report by pure
 * functions that the unit tests drive:
 *
 *   probe --json  +  probe --record CSV  +  the Migration object
 *   (+ the drill's --json for an endpoint subject)
 *        -> demo_report()        -> report.json (the figures, one object)
 *        -> demo_print_report()  -> the ≤ 15 lines a person reads
 *        -> demo_timeline_svg()  -> timeline.svg (the picture)
 *
 * Times: the Migration's first phase (its creation) is t = 0; the report's
 * phases and events are milliseconds relative to it. The switchover runs from
 * STOP (source paused; the drill: old link down) to RESUME (target running;
 * the drill: address on the new link). Probes sent after RESUME that got no
 * reply within the probe's grace are the loss the network added.
 */
#ifndef GODWIT_DEMO_DEMO_H
#define GODWIT_DEMO_DEMO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli;
struct cli_verb;

/* One probe as `godwit probe --record` wrote it. */
struct demo_sample {
	double send_unix_ms;
	double rtt_ms; /* < 0: no reply */
	unsigned dups;
};

/* Parses the CSV "seq,send_unix_ms,rtt_ms,dups" (header first). -EINVAL names the line. */
int demo_parse_csv(const char *text, struct demo_sample **out, size_t *n);

struct demo_inputs {
	const char *subject; /* "vm" or "endpoint" */
	const json_t *probe; /* the probe's --json report */
	const struct demo_sample *samples;
	size_t n_samples;
	const json_t *migration;  /* the Migration object as the API returns it */
	const json_t *drill;	  /* endpoint: the drill's --json report; vm: NULL */
	double grace_ms;	  /* a reply later than this is a loss (the probe's --grace-ms) */
	const json_t *sessions;	  /* demo_session_figures(), or NULL */
	const char *generated_at; /* ISO 8601 */
	int cores;
	const char *kernel;
};

/*
 * What the seed's SSH sessions showed: ping_text is the in-guest ping's
 * output (its summary line counts), stream_text the lines that came back
 * from the outside echo ("n=0".."n=LINES-1" wanted, in order); a status is
 * the session's exit status (-1: killed at the deadline). *out:
 * {"survived", "ping": {"target", "sent", "received", "lost"},
 *  "outbound_tcp": {"lines_sent", "lines_back", "in_order"}, "statuses"}.
 */
int demo_session_figures(const char *ping_text, int ping_status, const char *stream_text,
			 int stream_status, long pings, long lines, json_t **out);

/* The report object (fields in docs of `lab demo`); -EINVAL when the migration has no phases. */
int demo_report(const struct demo_inputs *in, json_t **out);

/* The verdict and figures for a person, ≤ 15 lines; files are listed under out_dir. */
void demo_print_report(FILE *f, const json_t *report, const char *out_dir, bool have_png);

/* The timeline picture: probes (RTT / lost), phase lines, the blackout band. -EIO on a write error.
 */
int demo_timeline_svg(FILE *f, const json_t *report, const struct demo_sample *samples, size_t n);

/* `godwit lab demo ...` (argv[0] is "demo"). Returns the exit status. */
int lab_demo(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);

#endif

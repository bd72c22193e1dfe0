/* SPDX-License-Identifier: MIT */
/*
 * vmwatch's parts (vmwatch.c holds the design): the watch's state, its flags
 * (vmwatch_args.c) and its timeline and report (vmwatch_report.c).
 */
#ifndef GODWIT_TESTS_TOOLS_VMWATCH_H
#define GODWIT_TESTS_TOOLS_VMWATCH_H

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/qmp.h"
#include "lib/clock.h"

#define MAX_NODES      64
#define MAX_TRIGGERS   32
#define MAX_VIOLATIONS 100
#define MAX_EVENTS     100000
#define GREET_MS       200
#define NS_PER_MS      1000000LL
#define SOCK_NAME      "qmp-watch.sock"

enum conn_state { C_CLOSED, C_GREETING, C_NEGOTIATING, C_READY };

struct node {
	char name[NAME_MAX + 1];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	enum conn_state state;
	int64_t greet_deadline; /* monotonic ns, while greeting/negotiating */
	char *buf;		/* bytes read, not yet a full line */
	size_t len, cap;
	int64_t next_id, caps_id, pending_id; /* pending_id 0: no query out */
	uint64_t pending_round;
	bool answered, running; /* the last query-status answer */
	uint64_t samples;
	/* the timeline (below): running since tl_from, as far as known */
	bool tl_known, tl_running;
	uint64_t tl_from, heard_ns; /* heard_ns: its last message, our clock */
	int last_err;		    /* of the last failed connect, logged once */
};

struct trigger {
	const char *spec;
	char node[NAME_MAX + 1], event[16], status[32]; /* status "": any */
	int sig;
	pid_t pid;
	int64_t delay_ms;
	bool matched, fired;
	int64_t due;	   /* monotonic ns, once matched */
	uint64_t event_ns; /* receive time of the event that matched */
	uint64_t unix_ns;  /* when kill() ran */
	int err;	   /* kill()'s -errno */
};

struct watch {
	const char *run_dir, *vm, *out;
	int interval_ms, duration_s;
	struct node nodes[MAX_NODES];
	size_t n_nodes;
	struct trigger triggers[MAX_TRIGGERS];
	size_t n_triggers;
	uint64_t rounds, sample_overlaps, events_dropped;
	bool round_open;
	int max_running;
	json_t *sampled, *events; /* sampled: rounds that saw two running (a cross-check) */
};

/* vmwatch_args.c */
int parse_args(int argc, char **argv, struct watch *w);
bool watched(const char *event);

/* vmwatch_report.c */
void span_open(struct node *nd, uint64_t from);
void span_close(struct node *nd, uint64_t to);
int report_write(const struct watch *w);

#endif

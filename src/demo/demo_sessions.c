/* SPDX-License-Identifier: MIT */
/*
 * The seed's scenario inside the demo (demo_run.h): while the VM migrates, an
 * SSH session into it (`godwit ssh`, the password at ssh's prompt through
 * sshpass, as the seed's user types it) pings the lab's stand-in for 8.8.8.8
 * at 100/s, and a second session streams numbered lines from the guest to the
 * outside host's TCP echo through the gateway's SNAT. The report gets whether
 * both sessions survived, the in-guest ping's loss and whether every line
 * came back, in order (demo_session_figures, demo.h).
 */
#include "demo.h"
#include "demo_run.h"

#include "cli/cli.h"
#include "lab/lab.h"
#include "lib/clock.h"
#include "lib/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SESSION_PINGS	   1000 /* 10 s at 100/s: spans the demo's migration */
#define SESSION_LINES	   500	/* one every 10 ms, slower under TCG */
#define SESSION_START_MS   60000
#define SESSION_END_MS	   120000
#define SESSION_PASSWORD   "gocubsgo" /* the seed's image's account (tools/guest) */
#define SESSION_USER_AT_VM "cirros@" VM_NAME

static void session_path(const struct demo *d, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", d->out, name);
}

static int spawn_session(struct demo *d, const char *sshpass, const char *command,
			 const char *out_name, pid_t *pid)
{
	char out[PATH_MAX + 32], err[PATH_MAX + 40];
	const char *argv[] = {sshpass,
			      "-p",
			      SESSION_PASSWORD,
			      d->self,
			      "--lab",
			      d->name,
			      "ssh",
			      "-o",
			      "ConnectTimeout=30",
			      "-o",
			      "ServerAliveInterval=5",
			      "-o",
			      "LogLevel=ERROR",
			      SESSION_USER_AT_VM,
			      "--",
			      command,
			      NULL};

	session_path(d, out_name, out, sizeof(out));
	snprintf(err, sizeof(err), "%s.err", out);
	return demo_spawn(NULL, argv, out, err, pid);
}

/* Whether the file has a line starting with prefix (the session is under way). */
static bool file_has(const char *path, const char *prefix)
{
	char line[256];
	bool found = false;
	FILE *f = fopen(path, "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strncmp(line, prefix, strlen(prefix)) == 0;
	if (f)
		fclose(f);
	return found;
}

/* Waits until the session's output has a line starting with prefix. */
static int session_under_way(struct demo *d, pid_t pid, const char *out_name, const char *prefix,
			     int64_t deadline)
{
	char path[PATH_MAX + 40];

	session_path(d, out_name, path, sizeof(path));
	while (!file_has(path, prefix)) {
		if (!proc_pid_alive(pid) || clock_mono_ms() > deadline) {
			demo_show_file(strcat(path, ".err"), "ssh errors");
			return -ETIMEDOUT;
		}
		if (!demo_pause_ms(100))
			return -EINTR;
	}
	return 0;
}

int demo_start_sessions(struct demo *d)
{
	char sshpass[PATH_MAX], ping[96], stream[256];
	int64_t deadline = clock_mono_ms() + SESSION_START_MS;
	int r;

	if (strcmp(d->subject, "vm") != 0)
		return 0;
	if (!demo_find_in_path("sshpass", sshpass, sizeof(sshpass)) || !demo_in_path("ssh")) {
		demo_step("no sshpass or ssh here (make deps): the SSH sessions are left out");
		return 0;
	}
	demo_step("SSH into %s (godwit ssh %s): ping -i 0.01 %s, and numbered lines to its TCP "
		  "echo through the gateway",
		  VM_NAME, SESSION_USER_AT_VM, LAB_OUTSIDE_HOST);
	snprintf(ping, sizeof(ping), "ping -c %d -i 0.01 %s", SESSION_PINGS, LAB_OUTSIDE_HOST);
	snprintf(stream, sizeof(stream),
		 "i=0; (while [ $i -lt %d ]; do echo n=$i; i=$((i + 1)); sleep 0.01; done; sleep 3)"
		 " | nc %s %s",
		 SESSION_LINES, LAB_OUTSIDE_HOST, LAB_OUTSIDE_ECHO);
	/* One after the other: an SSH handshake takes the TCG guest's CPU for a
	 * second or two, and a ping already running would lose replies to it. */
	r = spawn_session(d, sshpass, stream, "ssh-stream.txt", &d->stream_pid);
	if (r == 0)
		r = session_under_way(d, d->stream_pid, "ssh-stream.txt", "n=10", deadline);
	if (r == 0)
		r = spawn_session(d, sshpass, ping, "ssh-ping.txt", &d->ping_pid);
	if (r == 0)
		r = session_under_way(d, d->ping_pid, "ssh-ping.txt", "64 bytes", deadline);
	if (r < 0 && r != -EINTR)
		fprintf(stderr, "godwit lab demo: the SSH sessions did not start: %s\n",
			strerror(-r));
	return r;
}

/* The session's exit status (-1 when it did not end by the deadline: stopped). */
static int session_status(pid_t pid, int64_t deadline)
{
	int status = 0;

	if (proc_wait_exit(pid, deadline, &status) < 0) {
		proc_stop_pid(pid, 1000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int demo_end_sessions(struct demo *d)
{
	int64_t deadline = clock_mono_ms() + SESSION_END_MS;
	char path[PATH_MAX + 32], *ping = NULL, *stream = NULL;
	int ping_status, stream_status, r;
	size_t len;

	if (!d->ping_pid || !d->stream_pid)
		return 0;
	demo_step("waiting for the SSH sessions to end");
	ping_status = session_status(d->ping_pid, deadline);
	stream_status = session_status(d->stream_pid, deadline);
	d->ping_pid = d->stream_pid = 0;
	session_path(d, "ssh-ping.txt", path, sizeof(path));
	if (read_input(path, &ping, &len) < 0)
		ping = NULL;
	session_path(d, "ssh-stream.txt", path, sizeof(path));
	if (read_input(path, &stream, &len) < 0)
		stream = NULL;
	r = demo_session_figures(ping ?: "", ping_status, stream ?: "", stream_status,
				 SESSION_PINGS, SESSION_LINES, &d->sessions);
	free(ping);
	free(stream);
	return r;
}

/* "N packets transmitted, M packets received": -1s when there is no summary. */
static void ping_summary(const char *text, long *sent, long *received)
{
	const char *p = strstr(text, " packets transmitted, ");

	*sent = *received = -1;
	if (!p)
		return;
	while (p > text && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (sscanf(p, "%ld packets transmitted, %ld packets received", sent, received) != 2)
		*sent = *received = -1;
}

/* Lines "n=K" back in order from 0: how many came, and whether in order. */
static void stream_lines(const char *text, long *back, bool *in_order)
{
	long want = 0;

	*back = 0;
	*in_order = true;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *end;
		long v;

		if (len > 2 && p[0] == 'n' && p[1] == '=') {
			v = strtol(p + 2, &end, 10);
			if (end != p + len || v != want)
				*in_order = false;
			want = v + 1;
			(*back)++;
		}
		p += len + (nl != NULL);
	}
}

int demo_session_figures(const char *ping_text, int ping_status, const char *stream_text,
			 int stream_status, long pings, long lines, json_t **out)
{
	long sent, received, back;
	bool in_order;
	json_t *o;

	ping_summary(ping_text, &sent, &received);
	stream_lines(stream_text, &back, &in_order);
	o = json_pack("{s:b, s:{s:i, s:i}, s:{s:s, s:I, s:o, s:o, s:o}, s:{s:I, s:I, s:b}}",
		      "survived", ping_status == 0 && stream_status == 0 && sent == pings,
		      "statuses", "ping", ping_status, "stream", stream_status, "ping", "target",
		      LAB_OUTSIDE_HOST, "wanted", (json_int_t)pings, "sent",
		      sent < 0 ? json_null() : json_integer(sent), "received",
		      received < 0 ? json_null() : json_integer(received), "lost",
		      sent < 0 ? json_null() : json_integer(sent - received), "outbound_tcp",
		      "lines_sent", (json_int_t)lines, "lines_back", (json_int_t)back, "in_order",
		      in_order && back == lines);
	if (!o)
		return -ENOMEM;
	*out = o;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The helpers of the demo's steps (demo_run.h). */
#include "demo_run.h"

#include "cli/cli.h"

#include "lib/apiclient.h"
#include "lib/proc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t demo_interrupted;

void demo_on_signal(int sig)
{
	(void)sig;
	demo_interrupted = 1;
}

void demo_step(const char *fmt, ...)
{
	va_list ap;

	printf("\n\033[1m==> ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\033[0m\n");
	fflush(stdout);
}

/* Sleeps ms in short slices; false when the user interrupted. */
bool demo_pause_ms(int ms)
{
	for (; ms > 0 && !demo_interrupted; ms -= 20)
		proc_sleep_ms(ms < 20 ? ms : 20);
	return !demo_interrupted;
}

bool demo_find_in_path(const char *exe, char *out, size_t len)
{
	const char *path = getenv("PATH") ?: "/usr/sbin:/usr/bin:/sbin:/bin";
	char cand[PATH_MAX];

	while (*path) {
		size_t seg = strcspn(path, ":");

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)seg, path, exe);
		if (seg && access(cand, X_OK) == 0) {
			if (out)
				snprintf(out, len, "%s", cand);
			return true;
		}
		path += seg + (path[seg] == ':');
	}
	return false;
}

bool demo_in_path(const char *exe)
{
	return demo_find_in_path(exe, NULL, 0);
}

/* Starts argv in netns (NULL: ours), stdout to out_path, stderr to err_path
 * (NULL: ours), in its own session so a Ctrl-C reaches only us. */
int demo_spawn(const char *netns, const char *const *argv, const char *out_path,
	       const char *err_path, pid_t *pid)
{
	/* one path for both: one open file, so neither stream writes over the other */
	bool same = err_path && strcmp(err_path, out_path) == 0;
	struct proc_spawn_opts o = {.netns = netns,
				    .out = out_path,
				    .err = same ? NULL : err_path,
				    .err_to_out = same,
				    .mode = 0644};

	return proc_spawn(argv, &o, pid);
}

void demo_show_file(const char *path, const char *what)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return;
	fprintf(stderr, "--- %s (%s) ---\n", what, path);
	while (fgets(line, sizeof(line), f) && n++ < 20)
		fputs(line, stderr);
	fclose(f);
}

/* One API call; prints what went wrong unless the status is one of want / want2. */
int demo_api(struct demo *d, const char *method, const char *path, json_t *body, long want,
	     long want2, json_t **reply)
{
	json_t *rep = NULL;
	long status;
	int r = cli_request(d->cli, method, path, body, &status, &rep);

	if (r)
		return r;
	if (status != want && status != want2) {
		fprintf(stderr, "godwit lab demo: %s %s: %s (HTTP %ld)\n", method, path,
			api_error_text(rep), status);
		json_decref(rep);
		return status == 404 ? -ENOENT : -EPROTO;
	}
	if (reply)
		*reply = rep;
	else
		json_decref(rep);
	return 0;
}

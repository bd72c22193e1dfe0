/* SPDX-License-Identifier: MIT */
/* Steps 6-8 of `lab demo`: the report, the picture, the summary, the logs (demo_run.h). */
#include "demo_run.h"

#include "demo.h"

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/netns.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int demo_write_outputs(struct demo *d)
{
	char path[PATH_MAX + 32], when[32], *csv = NULL;
	struct demo_sample *samples = NULL;
	size_t n = 0, len;
	struct utsname un;
	json_t *probe, *rep = NULL;
	FILE *f;
	int r;

	probe = json_load_file(d->probe_json, 0, NULL);
	if (!probe) {
		fprintf(stderr, "godwit lab demo: the probe wrote no report\n");
		snprintf(path, sizeof(path), "%s/probe.err", d->out);
		demo_show_file(path, "probe errors");
		return -EIO;
	}
	r = read_input(d->probe_csv, &csv, &len);
	if (!r && (r = demo_parse_csv(csv, &samples, &n)))
		fprintf(stderr, "godwit lab demo: %s is not the probe's record\n", d->probe_csv);
	if (r)
		goto cleanup;
	snprintf(path, sizeof(path), "%s/migration.json", d->out);
	json_dump_file(d->mig, path, JSON_INDENT(2)); /* the raw record, for the curious */
	iso_now(when, sizeof(when));
	uname(&un);
	r = demo_report(&(struct demo_inputs){.subject = d->subject,
					      .probe = probe,
					      .samples = samples,
					      .n_samples = n,
					      .migration = d->mig,
					      .drill = d->drill,
					      .grace_ms = PROBE_GRACE_MS,
					      .sessions = d->sessions,
					      .generated_at = when,
					      .cores = (int)sysconf(_SC_NPROCESSORS_ONLN),
					      .kernel = un.release},
			&rep);
	if (r) {
		fprintf(stderr, "godwit lab demo: migration %s recorded no phases\n", d->migration);
		goto cleanup;
	}
	snprintf(path, sizeof(path), "%s/report.json", d->out);
	if (json_dump_file(rep, path, JSON_INDENT(2)) < 0) {
		fprintf(stderr, "godwit lab demo: cannot write %s\n", path);
		r = -EIO;
		goto cleanup;
	}
	snprintf(path, sizeof(path), "%s/timeline.svg", d->out);
	f = fopen(path, "we");
	r = f ? demo_timeline_svg(f, rep, samples, n) : -errno;
	if (f && fclose(f) == EOF && !r)
		r = -EIO;
	if (r) {
		fprintf(stderr, "godwit lab demo: cannot write %s: %s\n", path, strerror(-r));
		goto cleanup;
	}
	{
		char png[PATH_MAX + 32];

		snprintf(png, sizeof(png), "%s/timeline.png", d->out);
		if (demo_in_path("rsvg-convert"))
			d->have_png =
			    run_cmd((const char *const[]){"rsvg-convert", "-o", png, path, NULL},
				    true) == 0;
		else if (demo_in_path("convert"))
			d->have_png =
			    run_cmd((const char *const[]){"convert", path, png, NULL}, true) == 0;
	}
	demo_print_report(stdout, rep, d->out, d->have_png);
	if (json_is_true(json_object_get(rep, "migration_failed"))) {
		fprintf(stderr,
			"godwit lab demo: the guest stopped answering after the migration "
			"(its console: %s/logs)\n",
			d->out);
		r = -EPROTO;
	}
cleanup:
	json_decref(rep);
	json_decref(probe);
	free(samples);
	free(csv);
	return r;
}

/* The lab's daemon logs into OUT/logs (the lab directory goes with the lab). */
void demo_save_logs(const struct demo *d)
{
	char src[PATH_MAX + 300], dst[PATH_MAX + 300], dir[PATH_MAX + 16];
	struct dirent *de;
	DIR *dp;

	snprintf(src, sizeof(src), "%s/%s", LAB_ROOT, d->name);
	dp = opendir(src);
	if (!dp)
		return;
	snprintf(dir, sizeof(dir), "%s/logs", d->out);
	mkdir(dir, 0755);
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".log"))
			continue;
		snprintf(src, sizeof(src), "%s/%s/%s", LAB_ROOT, d->name, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dir, de->d_name);
		run_cmd((const char *const[]){"cp", src, dst, NULL}, true);
	}
	closedir(dp);
}

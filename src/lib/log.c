/* SPDX-License-Identifier: MIT */
#include "log.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_program = "godwit";
static enum log_level log_level_max = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level_max = level;
}

void log_set_level(enum log_level level)
{
	log_level_max = level;
}

static void log_vprint(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	int64_t ns = clock_unix_ns();
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char stamp[32];

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ld %s[%s] ", stamp, (long)(ns % 1000000000 / 1000000), log_program,
		level_names[level]);
	vfprintf(stderr, fmt, ap);
	if (suffix)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level_max)
		return;
	va_start(ap, fmt);
	log_vprint(level, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level level, int err, const char *fmt, ...)
{
	va_list ap;
	char buf[128];

	if (level > log_level_max)
		return err;
	va_start(ap, fmt);
	log_vprint(level, strerror_r(err < 0 ? -err : err, buf, sizeof(buf)), fmt, ap);
	va_end(ap);
	return err;
}

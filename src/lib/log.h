/* SPDX-License-Identifier: MIT */
/* Logging to stderr with a level and the program name, as text or as one JSON
 * object per line (--log-format json: {"ts", "level", "program", "msg" and,
 * from log_*_errno, "error"}); log_*_errno return the negative errno they
 * were given so callers can `return log_error_errno(r, ...)`. */
#ifndef GODWIT_LIB_LOG_H
#define GODWIT_LIB_LOG_H

#include <errno.h>
#include <stdarg.h>

/* LOG_LVL_OFF: nothing at all (a fuzz target, whose every refused input
 * would log: its output fills the test runner's memory). */
enum log_level { LOG_LVL_OFF = -1, LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_init(const char *program, enum log_level level);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
/* "text" or "json"; -EINVAL otherwise. */
int log_format_parse(const char *name, enum log_format *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "<msg>: <strerror(-err)>" and returns err (negative). */
int log_errno(enum log_level level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A library's own message as a warning of this program, with the time stamp
 * and format of the others: "LIBRARY: message" (cls names the library), its
 * trailing newline dropped. The signature of libmicrohttpd's
 * MHD_OPTION_EXTERNAL_LOGGER. */
void log_library(void *cls, const char *fmt, va_list ap);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_error_errno(err, ...) log_errno(LOG_LVL_ERROR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_errno(LOG_LVL_WARN, (err), __VA_ARGS__)

#endif

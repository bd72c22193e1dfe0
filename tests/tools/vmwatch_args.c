/* SPDX-License-Identifier: MIT */
/* vmwatch's flags and triggers (usage() says them all). */
#include "vmwatch.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
};

static const char *const watched_events[] = {"STOP", "RESUME", "MIGRATION", "RESET"};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vmwatch --run-dir DIR --vm NAME --out FILE [--interval-ms 10]\n"
	    "               [--duration-s N] [--trigger NODE:EVENT[=STATUS]:SIGNAL:PID"
	    "[:DELAY_MS]]...\n"
	    "Watches DIR/*/NAME/" SOCK_NAME " and checks that at most one QEMU of NAME\n"
	    "runs at any time. EVENT: STOP, RESUME, MIGRATION (=STATUS matches data.status)\n"
	    "or RESET; NODE may be '*'; SIGNAL: a name (KILL, STOP, CONT, TERM, ...) or a\n"
	    "number; PID may be qemu (the QEMU that sent the event). On SIGTERM/SIGINT\n"
	    "(or after --duration-s) writes FILE:\n"
	    "{\"vm\", \"interval_ms\", \"rounds\", \"samples_per_node\": {NODE: n},\n"
	    " \"max_running\", \"violations\": [{\"nodes\", \"from_ns\", \"to_ns\", \"ms\"}] (two\n"
	    " QEMUs running at once by their own RESUME/STOP timestamps), \"violation_count\",\n"
	    " \"spans\": [{\"node\", \"from_ns\", \"to_ns\"}], \"sampled_overlaps\": "
	    "[{\"unix_ms\",\n"
	    " \"nodes\"}] (the first %d rounds whose answers said both), "
	    "\"sampled_overlap_count\",\n"
	    " \"events\": [{\"node\", \"event\", \"status\"?, \"qemu_ns\",\n"
	    " \"recv_ns\"}], \"events_dropped\", \"triggers\": [{\"spec\", \"fired\",\n"
	    " \"event_recv_ns\"?, \"unix_ns\"?, \"error\"?}], \"running_now\": [NODE]}\n",
	    MAX_VIOLATIONS);
}

/* A decimal in [min, max], the whole string. */
static int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_signal(const char *s)
{
	long long v;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcmp(s, signals[i].name) == 0)
			return signals[i].sig;
	if (parse_int(s, 1, SIGRTMAX, &v) < 0)
		return -EINVAL;
	return (int)v;
}

bool watched(const char *event)
{
	for (size_t i = 0; i < sizeof(watched_events) / sizeof(watched_events[0]); i++)
		if (strcmp(event, watched_events[i]) == 0)
			return true;
	return false;
}

static int trig_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int trig_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* NODE:EVENT[=STATUS]:SIGNAL:PID[:DELAY_MS]; err says what is wrong. */
static int parse_trigger(const char *spec, struct trigger *t, char *err, size_t len)
{
	char copy[512], *rest = copy, *f[6], *status;
	size_t n = 0;
	long long v;

	if (snprintf(copy, sizeof(copy), "%s", spec) >= (int)sizeof(copy))
		return trig_err(err, len, "too long");
	while (rest && n < 6)
		f[n++] = strsep(&rest, ":");
	if (n < 4 || n > 5)
		return trig_err(err, len, "expected NODE:EVENT[=STATUS]:SIGNAL:PID[:DELAY_MS]");
	for (size_t i = 0; i < n; i++)
		if (!*f[i])
			return trig_err(err, len, "field %zu is empty", i + 1);
	memset(t, 0, sizeof(*t));
	t->spec = spec;
	snprintf(t->node, sizeof(t->node), "%s", f[0]);
	status = strchr(f[1], '=');
	if (status)
		*status++ = '\0';
	if (!watched(f[1]))
		return trig_err(err, len, "unknown event `%s' (STOP, RESUME, MIGRATION or RESET)",
				f[1]);
	if (status &&
	    (strcmp(f[1], "MIGRATION") != 0 || !*status || strlen(status) >= sizeof(t->status)))
		return trig_err(err, len,
				"=STATUS only after MIGRATION (e.g. MIGRATION=completed)");
	snprintf(t->event, sizeof(t->event), "%s", f[1]);
	snprintf(t->status, sizeof(t->status), "%s", status ? status : "");
	t->sig = parse_signal(f[2]);
	if (t->sig < 0)
		return trig_err(err, len, "unknown signal `%s'", f[2]);
	/* 0 and negative pids would signal process groups; "qemu": the QEMU
	 * that sent the event (its qemu.pid), resolved when it comes */
	if (strcmp(f[3], "qemu") == 0)
		v = 0;
	else if (parse_int(f[3], 2, INT32_MAX, &v) < 0)
		return trig_err(err, len, "PID `%s' is not a process id (> 1) or qemu", f[3]);
	t->pid = (pid_t)v;
	if (n == 5 && parse_int(f[4], 0, 3600 * 1000, &v) < 0)
		return trig_err(err, len, "DELAY_MS `%s' is not 0..3600000", f[4]);
	t->delay_ms = n == 5 ? v : 0;
	return 0;
}

static int bad_flag(const char *flag, const char *val, const char *why)
{
	fprintf(stderr, "vmwatch: %s `%s': %s\n", flag, val, why);
	return -EINVAL;
}

int parse_args(int argc, char **argv, struct watch *w)
{
	static const struct option opts[] = {
	    {"run-dir", required_argument, NULL, 'd'},
	    {"vm", required_argument, NULL, 'v'},
	    {"interval-ms", required_argument, NULL, 'i'},
	    {"out", required_argument, NULL, 'o'},
	    {"trigger", required_argument, NULL, 't'},
	    {"duration-s", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[256];
	long long v;
	int c;

	w->interval_ms = 10;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			w->run_dir = optarg;
			break;
		case 'v':
			if (!*optarg || strchr(optarg, '/'))
				return bad_flag("--vm", optarg, "not a VM name");
			w->vm = optarg;
			break;
		case 'o':
			w->out = optarg;
			break;
		case 'i':
			if (parse_int(optarg, 1, 60000, &v) < 0)
				return bad_flag("--interval-ms", optarg, "expected 1..60000");
			w->interval_ms = (int)v;
			break;
		case 's':
			if (parse_int(optarg, 1, 7 * 86400, &v) < 0)
				return bad_flag("--duration-s", optarg, "expected 1..604800");
			w->duration_s = (int)v;
			break;
		case 't':
			if (w->n_triggers == MAX_TRIGGERS)
				return bad_flag("--trigger", optarg, "too many triggers (32)");
			if (parse_trigger(optarg, &w->triggers[w->n_triggers], err, sizeof(err)) <
			    0)
				return bad_flag("--trigger", optarg, err);
			w->n_triggers++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default: /* getopt said which flag */
			return -EINVAL;
		}
	}
	if (optind < argc)
		return bad_flag("argument", argv[optind], "unexpected (all options are flags)");
	if (!w->run_dir || !w->vm || !w->out) {
		fprintf(stderr, "vmwatch: %s is required\n",
			!w->run_dir ? "--run-dir"
			: !w->vm    ? "--vm"
				    : "--out");
		return -EINVAL;
	}
	return 0;
}

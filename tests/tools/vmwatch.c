/* SPDX-License-Identifier: MIT */
/*
 * vmwatch: the invariant checker of the migration fault tests, "a VM runs on
 * at most one node at any instant".
 *
 * Every --interval-ms it connects to each RUN_DIR/NODE/VM/qmp-watch.sock it
 * has no connection to (the observers' monitor of QEMU, src/agent/vm.h) and
 * sends query-status to every connected QEMU. When the round's answers are
 * in (or at the next round, for a QEMU that did not answer) it counts the
 * QEMUs whose last answer was running:true; two or more is a violation. A
 * QEMU that has not answered (frozen) keeps its last answer and is not asked
 * again until it does; a closed connection drops the QEMU.
 * Between rounds ppoll() waits on every QMP socket, so STOP, RESUME,
 * MIGRATION and RESET are recorded, and triggers fire, as they arrive.
 * SIGTERM, SIGINT or the end of --duration-s write the report (usage()).
 *
 * The sockets are driven without blocking, with qmp_parse_line for the
 * messages, rather than with qmp_execute: a frozen (SIGSTOP is one of the
 * faults) or slow QEMU must not hold up the events of the others, and a
 * trigger must fire within a millisecond of its event.
 */
#include "vmwatch.h"

static volatile sig_atomic_t stop_requested;

/* why: logged unless NULL */
static void conn_drop(struct node *nd, const char *why)
{
	if (why)
		log_info("%s: %s", nd->name, why);
	span_close(nd, nd->heard_ns);
	nd->tl_known = false;
	close(nd->fd);
	nd->fd = -1;
	nd->state = C_CLOSED;
	nd->len = 0;
	nd->pending_id = 0;
	nd->answered = false;
	nd->running = false;
}

/* One command, whole or not at all: one is out at a time, so the socket
 * buffer has room unless QEMU stopped reading long ago. */
static int conn_send(struct node *nd, const char *cmd, int64_t *id)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "{\"execute\":\"%s\",\"id\":%lld}\n", cmd,
			 (long long)nd->next_id);
	ssize_t w = send(nd->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w < 0)
		return -errno;
	if (w != n)
		return -EIO;
	*id = nd->next_id++;
	return 0;
}

static int conn_open(struct node *nd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	memcpy(sa.sun_path, nd->path, sizeof(nd->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a unix connect completes at once, or fails (EAGAIN: backlog full) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	nd->fd = fd;
	nd->state = C_GREETING;
	nd->greet_deadline = clock_mono_ns() + GREET_MS * NS_PER_MS;
	nd->next_id = 1;
	return 0;
}

/* The pid in qemu.pid next to the node's watch socket (0 when unreadable). */
static pid_t qemu_pid_of(const struct node *nd)
{
	char path[sizeof(nd->path) + 16], *slash;
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s", nd->path);
	slash = strrchr(path, '/');
	if (!slash)
		return 0;
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "qemu.pid");
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid < 2)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static void trigger_fire(struct trigger *t)
{
	if (t->pid < 2) {
		t->unix_ns = (uint64_t)clock_unix_ns();
		t->err = -ESRCH;
		log_warn("trigger %s: the QEMU's pid is unknown", t->spec);
		return;
	}
	t->unix_ns = (uint64_t)clock_unix_ns();
	t->fired = kill(t->pid, t->sig) == 0;
	t->err = t->fired ? 0 : -errno;
	if (t->fired)
		log_info("trigger %s: sent signal %d to %d", t->spec, t->sig, (int)t->pid);
	else
		log_warn_errno(t->err, "trigger %s: kill(%d, %d)", t->spec, (int)t->pid, t->sig);
}

static void triggers_match(struct watch *w, const struct node *nd, const char *event,
			   const char *status, uint64_t recv_ns, int64_t recv_mono)
{
	for (size_t i = 0; i < w->n_triggers; i++) {
		struct trigger *t = &w->triggers[i];

		if (t->matched || strcmp(t->event, event) != 0 ||
		    (strcmp(t->node, "*") != 0 && strcmp(t->node, nd->name) != 0) ||
		    (t->status[0] && (!status || strcmp(t->status, status) != 0)))
			continue;
		t->matched = true;
		t->event_ns = recv_ns;
		if (!t->pid)
			t->pid = qemu_pid_of(nd);
		t->due = recv_mono + t->delay_ms * NS_PER_MS;
		if (t->delay_ms == 0)
			trigger_fire(t);
	}
}

/* The delayed triggers whose time has come; the earliest due later, or 0. */
static int64_t triggers_due(struct watch *w, int64_t now)
{
	int64_t next = 0;

	for (size_t i = 0; i < w->n_triggers; i++) {
		struct trigger *t = &w->triggers[i];

		if (!t->matched || t->unix_ns)
			continue;
		if (t->due <= now)
			trigger_fire(t);
		else if (!next || t->due < next)
			next = t->due;
	}
	return next;
}

static void on_event(struct watch *w, struct node *nd, const struct qmp_msg *m, uint64_t recv_ns,
		     int64_t recv_mono)
{
	const char *status = json_string_value(json_object_get(m->body, "status"));
	json_t *e;

	if (!watched(m->event))
		return;
	if (strcmp(m->event, "MIGRATION") != 0)
		status = NULL;
	triggers_match(w, nd, m->event, status, recv_ns, recv_mono);
	if (strcmp(m->event, "RESUME") == 0 && !nd->tl_running)
		span_open(nd, m->qemu_ns ? m->qemu_ns : recv_ns);
	else if (strcmp(m->event, "STOP") == 0)
		span_close(nd, m->qemu_ns ? m->qemu_ns : recv_ns);
	if (json_array_size(w->events) >= MAX_EVENTS) {
		w->events_dropped++;
		return;
	}
	e = json_pack("{s:s, s:s, s:I, s:I}", "node", nd->name, "event", m->event, "qemu_ns",
		      (json_int_t)m->qemu_ns, "recv_ns", (json_int_t)recv_ns);
	if (e && status)
		json_object_set_new(e, "status", json_string(status));
	if (!e || json_array_append_new(w->events, e) < 0)
		w->events_dropped++;
}

/* query-status, counted in the current round. */
static int query(struct watch *w, struct node *nd)
{
	int r = conn_send(nd, "query-status", &nd->pending_id);

	if (r < 0)
		return r;
	nd->pending_round = w->rounds;
	w->round_open = true;
	return 0;
}

static int on_reply(struct watch *w, struct node *nd, const struct qmp_msg *m)
{
	const json_t *running;

	if (nd->state == C_NEGOTIATING && m->id == nd->caps_id) {
		if (m->type == QMP_MSG_ERROR)
			return -EPROTO;
		nd->state = C_READY;
		nd->last_err = 0;
		log_info("%s: connected to %s", nd->name, nd->path);
		return query(w, nd); /* at once, not an interval later */
	}
	if (!nd->pending_id || m->id != nd->pending_id)
		return 0;
	nd->pending_id = 0;
	running = json_object_get(m->body, "running");
	if (m->type == QMP_MSG_ERROR || !json_is_boolean(running)) {
		log_warn("%s: query-status: %s", nd->name,
			 m->type == QMP_MSG_ERROR ? m->error_desc : "no \"running\" in the answer");
		return 0;
	}
	nd->answered = true;
	nd->running = json_is_true(running);
	nd->samples++;
	if (!nd->tl_known && nd->running)
		span_open(nd, nd->heard_ns);
	nd->tl_known = true;
	return 0;
}

static int on_msg(struct watch *w, struct node *nd, const struct qmp_msg *m, uint64_t recv_ns,
		  int64_t recv_mono)
{
	switch (m->type) {
	case QMP_MSG_EVENT:
		on_event(w, nd, m, recv_ns, recv_mono);
		return 0;
	case QMP_MSG_GREETING:
		if (nd->state != C_GREETING)
			return 0;
		nd->state = C_NEGOTIATING;
		return conn_send(nd, "qmp_capabilities", &nd->caps_id);
	default:
		return on_reply(w, nd, m);
	}
}

/* The complete lines in nd->buf. */
static int conn_lines(struct watch *w, struct node *nd, uint64_t recv_ns, int64_t recv_mono)
{
	char err[256];
	size_t off = 0;
	char *nl;
	int r = 0;

	while (r == 0 && (nl = memchr(nd->buf + off, '\n', nd->len - off))) {
		size_t n = (size_t)(nl - (nd->buf + off));
		struct qmp_msg m;

		if (n && nd->buf[off + n - 1] == '\r')
			n--;
		if (n) {
			nd->heard_ns = recv_ns;
			r = qmp_parse_line(nd->buf + off, n, &m, err, sizeof(err));
			if (r < 0) {
				log_warn("%s: %s", nd->name, err);
				break;
			}
			r = on_msg(w, nd, &m, recv_ns, recv_mono);
			qmp_msg_clear(&m);
		}
		off = (size_t)(nl + 1 - nd->buf);
	}
	memmove(nd->buf, nd->buf + off, nd->len - off);
	nd->len -= off;
	return r;
}

/* Reads what is there. 0, or -errno when the connection is to be dropped. */
static int conn_read(struct watch *w, struct node *nd)
{
	for (;;) {
		ssize_t n;
		int r;

		if (nd->len > QMP_MAX_LINE) /* and no newline in it */
			return -EMSGSIZE;
		if (nd->cap - nd->len < 4096) {
			size_t cap = nd->cap ? nd->cap * 2 : 16384;
			char *b;

			b = realloc(nd->buf, cap);
			if (!b)
				return -ENOMEM;
			nd->buf = b;
			nd->cap = cap;
		}
		n = read(nd->fd, nd->buf + nd->len, nd->cap - nd->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		nd->len += (size_t)n;
		r = conn_lines(w, nd, (uint64_t)clock_unix_ns(), clock_mono_ns());
		if (r < 0)
			return r;
	}
}

static struct node *node_get(struct watch *w, const char *name)
{
	struct node *nd;

	for (size_t i = 0; i < w->n_nodes; i++)
		if (strcmp(w->nodes[i].name, name) == 0)
			return &w->nodes[i];
	if (w->n_nodes == MAX_NODES)
		return NULL;
	nd = &w->nodes[w->n_nodes];
	if (snprintf(nd->path, sizeof(nd->path), "%s/%s/%s/" SOCK_NAME, w->run_dir, name, w->vm) >=
	    (int)sizeof(nd->path))
		return NULL;
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	nd->fd = -1;
	w->n_nodes++;
	return nd;
}

/* Connects to the sockets of DIR/NODE/VM/ it has no connection to. */
static void discover(struct watch *w)
{
	DIR *d = opendir(w->run_dir);
	struct dirent *e;

	if (!d)
		return; /* not there yet */
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct node *nd;
		struct stat st;
		int r;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/" SOCK_NAME, w->run_dir, e->d_name, w->vm);
		if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		nd = node_get(w, e->d_name);
		if (!nd || nd->fd >= 0)
			continue;
		r = conn_open(nd);
		if (r < 0 && r != nd->last_err)
			log_info("%s: cannot connect to %s (retrying): %s", nd->name, nd->path,
				 strerror(-r));
		nd->last_err = r;
	}
	closedir(d);
}

static void round_count(struct watch *w)
{
	json_t *nodes = json_array(), *v;
	int running = 0;

	w->round_open = false;
	for (size_t i = 0; i < w->n_nodes; i++) {
		const struct node *nd = &w->nodes[i];

		if (nd->fd >= 0 && nd->answered && nd->running) {
			running++;
			json_array_append_new(nodes, json_string(nd->name));
		}
	}
	if (running > w->max_running)
		w->max_running = running;
	if (running >= 2) {
		w->sample_overlaps++;
		if (json_array_size(w->sampled) < MAX_VIOLATIONS) {
			v = json_pack("{s:I, s:O}", "unix_ms",
				      (json_int_t)((uint64_t)clock_unix_ns() / NS_PER_MS), "nodes",
				      nodes);
			json_array_append_new(w->sampled, v);
		}
	}
	json_decref(nodes);
}

/* The round is over once every query it sent has its answer. */
static void round_maybe_done(struct watch *w)
{
	if (!w->round_open)
		return;
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].pending_id && w->nodes[i].pending_round == w->rounds)
			return;
	round_count(w);
}

static void round_start(struct watch *w)
{
	if (w->round_open)
		round_count(w); /* some did not answer: their last answers count */
	discover(w);
	w->rounds++;
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct node *nd = &w->nodes[i];
		int r;

		if (nd->state != C_READY || nd->pending_id) /* a frozen QEMU: not again */
			continue;
		r = query(w, nd);
		if (r < 0)
			conn_drop(nd, strerror(-r));
	}
	round_maybe_done(w);
}

static void greetings_expire(struct watch *w, int64_t now)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct node *nd = &w->nodes[i];

		if (nd->state != C_GREETING && nd->state != C_NEGOTIATING)
			continue;
		if (now < nd->greet_deadline)
			continue;
		if (nd->last_err != -ETIMEDOUT)
			log_info("%s: no QMP greeting within %d ms (retrying)", nd->name, GREET_MS);
		conn_drop(nd, NULL);
		nd->last_err = -ETIMEDOUT;
	}
}

static int64_t min_deadline(int64_t a, int64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static int watch_run(struct watch *w, const sigset_t *waitmask)
{
	int64_t interval = w->interval_ms * NS_PER_MS, next_round = clock_mono_ns();
	int64_t end = w->duration_s ? next_round + w->duration_s * 1000 * NS_PER_MS : 0;
	struct pollfd pfd[MAX_NODES];
	struct node *pnode[MAX_NODES];

	while (!stop_requested) {
		int64_t now = clock_mono_ns(), deadline, left;
		struct timespec ts;
		nfds_t n = 0;

		if (end && now >= end)
			break;
		if (now >= next_round) {
			round_start(w);
			next_round += interval;
			if (next_round <= now) /* fell behind: skip, do not burst */
				next_round = now + interval;
		}
		greetings_expire(w, now);
		deadline = min_deadline(min_deadline(next_round, end), triggers_due(w, now));
		for (size_t i = 0; i < w->n_nodes; i++) {
			struct node *nd = &w->nodes[i];

			if (nd->fd < 0)
				continue;
			if (nd->state != C_READY)
				deadline = min_deadline(deadline, nd->greet_deadline);
			pfd[n] = (struct pollfd){.fd = nd->fd, .events = POLLIN};
			pnode[n++] = nd;
		}
		left = deadline - clock_mono_ns();
		if (left < 0)
			left = 0;
		ts = (struct timespec){.tv_sec = left / 1000000000LL,
				       .tv_nsec = left % 1000000000LL};
		if (ppoll(pfd, n, &ts, waitmask) < 0 && errno != EINTR)
			return log_error_errno(-errno, "ppoll");
		for (nfds_t i = 0; i < n; i++) {
			int r;

			if (!pfd[i].revents)
				continue;
			r = conn_read(w, pnode[i]);
			if (r == -ECONNRESET)
				conn_drop(pnode[i], "QMP connection closed (QEMU exited)");
			else if (r < 0)
				conn_drop(pnode[i], strerror(-r));
		}
		round_maybe_done(w);
	}
	return 0;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGTERM/SIGINT are blocked except inside ppoll(): no wakeup is lost. */
static int signals_setup(sigset_t *waitmask)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) < 0)
		return -errno;
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static struct watch w;
	sigset_t waitmask;
	int r;

	log_init("vmwatch", LOG_LVL_INFO);
	if (parse_args(argc, argv, &w) < 0) {
		fprintf(stderr, "vmwatch: see vmwatch --help\n");
		return 2;
	}
	r = signals_setup(&waitmask);
	if (r < 0) {
		log_error_errno(r, "signals");
		return 1;
	}
	w.sampled = json_array();
	w.events = json_array();
	r = w.sampled && w.events ? watch_run(&w, &waitmask) : -ENOMEM;
	if (r == 0)
		r = report_write(&w);
	for (size_t i = 0; i < w.n_nodes; i++) {
		if (w.nodes[i].fd >= 0)
			close(w.nodes[i].fd);
		free(w.nodes[i].buf);
	}
	json_decref(w.sampled);
	json_decref(w.events);
	return r < 0 ? 1 : 0;
}

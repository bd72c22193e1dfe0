/* SPDX-License-Identifier: MIT */
/* godwitd: the godwit controller (docs/API.md). */
#include "http.h"
#include "lib/num.h"
#include "lib/log.h"
#include "metrics.h"
#include "migration_api.h"
#include "migration_gc.h"
#include "migrator.h"
#include "recorder.h"
#include "registry.h"
#include "statedir.h"
#include "etcd.h"
#include "leader.h"
#include "store.h"
#include "tls.h"
#include "token.h"
#include "watch.h"

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_LISTEN     8
#define DEFAULT_LISTEN "127.0.0.1:7480"
#define DEFAULT_CIDR   "10.244.0.0/16"

struct options {
	const char *state_dir;
	const char *store; /* NULL or "sqlite": DIR/godwit.db; else etcd://... */
	const char *name;  /* among the controllers on one etcd store */
	const char *listen[MAX_LISTEN];
	int n_listen;
	const char *token_file;
	const char *tls_san[TLS_MAX_SANS / 2];
	int n_tls_san;
	const char *tls_cert, *tls_key;
	int verbose;
	int event_retention;
	long max_objects;
	long keep_finished_migrations;
	long max_watches;
	const char *default_cidr; /* NULL: no default network */
	bool migration_tls;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: godwitd --state-dir DIR [--listen ADDR]... [--token-file F] [-v]\n"
	    "       godwitd backup|restore --state-dir DIR FILE   (godwitd backup --help)\n"
	    "  --state-dir DIR      godwit.db (SQLite) and token live here (created if absent)\n"
	    "  --store URL          where the fabric's state lives: sqlite (default:\n"
	    "                       DIR/godwit.db) or etcd://HOST:PORT[,HOST:PORT...][/PREFIX/]\n"
	    "                       (an etcd v3 cluster's members; keys under /godwit/)\n"
	    "  --name NAME          this controller's name among those on one etcd store\n"
	    "                       (default HOSTNAME-PID): the one that leads runs migrations\n"
	    "  --listen ADDR        HOST:PORT or unix:/path/api.sock; repeatable\n"
	    "                       (default " DEFAULT_LISTEN ")\n"
	    "  --token-file F       the API token file (default DIR/token; created if absent)\n"
	    "  --tls-san NAME|IP    one more name of the server certificate; repeatable\n"
	    "                       (TCP listeners serve HTTPS; the CA is DIR/tls/ca.crt)\n"
	    "  --tls-cert F --tls-key F\n"
	    "                       the operator's own certificate and key (PEM) instead\n"
	    "  --event-retention N  watch events kept (default %d)\n"
	    "  --max-objects N      objects per kind (default %d)\n"
	    "  --keep-finished-migrations N\n"
	    "                       finished Migrations kept per port, the newest (default %d)\n"
	    "  --max-watches N      watch streams at a time per listening socket (default %d;\n"
	    "                       other requests are capped apart, so watchers never take them)\n"
	    "  --default-cidr CIDR  the CIDR of the Network \"default\" created at the first\n"
	    "                       start (default " DEFAULT_CIDR
	    "; \"none\": no default network)\n"
	    "  --migration-tls      VM migrations' QEMU streams under TLS unless their spec.tls\n"
	    "                       says otherwise (lib/migtls.h; default: only with spec.tls)\n"
	    "  --log-format F       text (default) or json: one JSON object per line\n"
	    "  -v, --verbose        debug logging\n",
	    STORE_EVENT_RETENTION, REGISTRY_MAX_OBJECTS, MIGRATION_GC_KEEP, HTTP_MAX_WATCHES);
}

static int parse_positive(const char *flag, const char *text, long max, long *out)
{
	return num_parse_flag("godwitd", flag, text, 1, max, out);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"state-dir", required_argument, NULL, 's'},
	    {"store", required_argument, NULL, 'D'},
	    {"name", required_argument, NULL, 'N'},
	    {"listen", required_argument, NULL, 'l'},
	    {"token-file", required_argument, NULL, 't'},
	    {"tls-san", required_argument, NULL, 'S'},
	    {"tls-cert", required_argument, NULL, 'C'},
	    {"tls-key", required_argument, NULL, 'K'},
	    {"event-retention", required_argument, NULL, 'e'},
	    {"max-objects", required_argument, NULL, 'm'},
	    {"keep-finished-migrations", required_argument, NULL, 'k'},
	    {"max-watches", required_argument, NULL, 'W'},
	    {"default-cidr", required_argument, NULL, 'c'},
	    {"log-format", required_argument, NULL, 'L'},
	    {"migration-tls", no_argument, NULL, 'T'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	enum log_format format;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->state_dir = optarg;
			break;
		case 'D':
			o->store = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'l':
			if (o->n_listen == MAX_LISTEN) {
				fprintf(stderr, "godwitd: at most %d --listen\n", MAX_LISTEN);
				return -EINVAL;
			}
			if (!http_listen_addr_valid(optarg)) {
				fprintf(stderr,
					"godwitd: --listen: \"%s\" is neither HOST:PORT nor "
					"unix:/path\n",
					optarg);
				return -EINVAL;
			}
			o->listen[o->n_listen++] = optarg;
			break;
		case 't':
			o->token_file = optarg;
			break;
		case 'S':
			if (!tls_san_valid(optarg)) {
				fprintf(stderr,
					"godwitd: --tls-san: \"%s\" is neither an IP address nor a "
					"DNS name\n",
					optarg);
				return -EINVAL;
			}
			if (o->n_tls_san == TLS_MAX_SANS / 2) {
				fprintf(stderr, "godwitd: at most %d --tls-san\n",
					TLS_MAX_SANS / 2);
				return -EINVAL;
			}
			o->tls_san[o->n_tls_san++] = optarg;
			break;
		case 'C':
			o->tls_cert = optarg;
			break;
		case 'K':
			o->tls_key = optarg;
			break;
		case 'e':
			if (parse_positive("--event-retention", optarg, INT_MAX, &v) < 0)
				return -EINVAL;
			o->event_retention = (int)v;
			break;
		case 'm':
			if (parse_positive("--max-objects", optarg, 10000000, &v) < 0)
				return -EINVAL;
			o->max_objects = v;
			break;
		case 'k':
			if (parse_positive("--keep-finished-migrations", optarg,
					   MIGRATION_GC_KEEP_MAX, &v) < 0)
				return -EINVAL;
			o->keep_finished_migrations = v;
			break;
		case 'W':
			if (parse_positive("--max-watches", optarg, HTTP_MAX_WATCHES_MAX, &v) < 0)
				return -EINVAL;
			o->max_watches = v;
			break;
		case 'c':
			o->default_cidr = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case 'T':
			o->migration_tls = true;
			break;
		case 'L':
			if (log_format_parse(optarg, &format) < 0) {
				fprintf(stderr, "godwitd: --log-format: '%s' is not text or json\n",
					optarg);
				return -EINVAL;
			}
			log_set_format(format);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "godwitd: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->state_dir) {
		fprintf(stderr, "godwitd: --state-dir is required\n");
		usage(stderr);
		return -EINVAL;
	}
	if (!o->tls_cert != !o->tls_key) {
		fprintf(stderr, "godwitd: --tls-cert and --tls-key go together\n");
		return -EINVAL;
	}
	if (o->n_listen == 0)
		o->listen[o->n_listen++] = DEFAULT_LISTEN;
	return 0;
}

/* Every commit feeds the watch streams and wakes the migrator. */
struct commit_listeners {
	struct watch_hub *hub;
	struct migrator *migrator;
};

static void on_commit(void *ctx, int64_t revision)
{
	struct commit_listeners *l = ctx;

	watch_hub_notify(l->hub, revision);
	migrator_wake(l->migrator);
}

static void on_status(void *ctx, const char *node)
{
	(void)node;
	migrator_wake(ctx);
}

/* Every connection is a descriptor (http.h: thousands): the soft limit up to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn_errno(-errno, "cannot raise the descriptor limit");
	}
}

/* The store --store names: SQLite in the state directory, or etcd at
 * endpoints/prefix (etcd_parse_url of --store). */
static int open_store(const struct options *o, const char *endpoints, const char *prefix,
		      struct store **out)
{
	struct store_sqlite_options sopts = {.event_retention = o->event_retention};
	struct store_etcd_options eopts = {
	    .endpoints = endpoints, .prefix = prefix, .event_retention = o->event_retention};
	char path[PATH_MAX];
	int r;

	if (endpoints) {
		r = store_etcd_open(&eopts, out);
		if (r < 0)
			log_error_errno(r, "cannot open the store %s", o->store);
		return r;
	}
	snprintf(path, sizeof(path), "%s/godwit.db", o->state_dir);
	r = store_sqlite_open(path, &sopts, out);
	if (r < 0)
		log_error_errno(r, "cannot open the store %s", path);
	return r;
}

/* Commits of the other controllers on an etcd store: the watch streams and
 * the migrator hear of them within FOLLOW_PERIOD_MS. */
#define FOLLOW_PERIOD_MS 100

struct follower {
	struct worker worker;
	struct store *store;
	struct commit_listeners *listeners;
	int64_t seen;
};

static int64_t follow_round(void *ctx)
{
	struct follower *f = ctx;
	int64_t rev = 0;

	if (f->store->ops->revision(f->store, &rev) == 0 && rev > f->seen) {
		f->seen = rev;
		on_commit(f->listeners, rev);
	}
	return FOLLOW_PERIOD_MS;
}

static void on_leading(void *ctx, bool leading)
{
	if (leading)
		migrator_wake(ctx); /* resume every unfinished migration now */
}

/* The name among the controllers on one store: --name or HOSTNAME-PID. */
static void controller_name(const struct options *o, char *name, size_t len)
{
	char host[64] = "godwitd";

	if (o->name) {
		snprintf(name, len, "%s", o->name);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(name, len, "%s-%d", host, (int)getpid());
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	return sig;
}

int main(int argc, char **argv)
{
	struct options o = {.default_cidr = DEFAULT_CIDR};
	struct http_server *daemons[MAX_LISTEN] = {0};
	struct store *store = NULL;
	struct watch_hub hub;
	bool hub_ready = false;
	struct registry reg = {0};
	struct observer *obs = NULL;
	struct recorder *recorder = NULL;
	struct metrics *metrics = NULL;
	struct migrator migrator = {0};
	struct commit_listeners listeners = {.hub = &hub, .migrator = &migrator};
	struct leader leader = {0};
	struct follower follower = {.listeners = &listeners};
	char *endpoints = NULL, *prefix = NULL, name[LEADER_ID_MAX];
	struct http_context ctx = {0};
	struct tls_creds tls = {0};
	char path[PATH_MAX];
	char *token = NULL;
	struct api_error err = {0};
	bool created = false;
	int64_t rev = 0;
	sigset_t set;
	int r, fd, sig, lock_fd = -1;

	log_init("godwitd", LOG_LVL_INFO);
	if (statedir_is_command(argc, argv))
		return statedir_command(argc, argv);
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.verbose)
		log_set_level(LOG_LVL_DEBUG);

	/* Every thread (MHD's included) inherits this mask; main takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	r = statedir_lock(o.state_dir, &lock_fd);
	if (r < 0)
		goto cleanup;
	if (!o.token_file) {
		snprintf(path, sizeof(path), "%s/token", o.state_dir);
		o.token_file = path;
	}
	r = token_load_or_create(o.token_file, &token);
	if (r < 0) {
		log_error_errno(r, "cannot read or create the token %s", o.token_file);
		goto cleanup;
	}
	if (o.store && strcmp(o.store, "sqlite") != 0) {
		r = etcd_parse_url(o.store, &endpoints, &prefix);
		if (r < 0)
			goto cleanup;
	}
	r = open_store(&o, endpoints, prefix, &store);
	if (r < 0)
		goto cleanup;
	store->ops->revision(store, &rev);
	r = watch_hub_init(&hub, store, rev);
	if (r < 0) {
		log_error_errno(r, "cannot set up the watch hub");
		goto cleanup;
	}
	hub_ready = true;
	r = observer_new(&obs);
	if (r < 0) {
		log_error_errno(r, "cannot create the observer");
		goto cleanup;
	}
	r = metrics_new(&metrics);
	if (r < 0) {
		log_error_errno(r, "cannot create the metrics");
		goto cleanup;
	}
	reg = (struct registry){.store = store,
				.admin_token = token,
				.migration_tls = o.migration_tls,
				.max_objects = o.max_objects,
				.keep_finished_migrations = (int)o.keep_finished_migrations,
				.obs = obs,
				.metrics = metrics,
				.on_commit = on_commit,
				.on_commit_ctx = &listeners,
				.on_status = on_status,
				.on_status_ctx = &migrator};
	r = registry_default_network(&reg, o.default_cidr, &created, &err);
	if (r < 0) {
		if (err.status)
			log_error("--default-cidr: %s", err.message);
		else
			log_error_errno(r, "cannot create the default network");
		goto cleanup;
	}
	if (created)
		log_info("created the network \"default\" (%s)", o.default_cidr);
	if (endpoints) { /* one of several controllers, maybe: elect the one that leads */
		controller_name(&o, name, sizeof(name));
		reg.leading = &leader.leading;
		r = leader_start(&leader, endpoints, prefix, name, on_leading, &migrator);
		if (r == 0) {
			follower.store = store;
			follower.seen = rev;
			r = worker_start_periodic(&follower.worker, FOLLOW_PERIOD_MS, follow_round,
						  &follower);
		}
		if (r < 0) {
			log_error_errno(r, "cannot take part in the leader election");
			goto cleanup;
		}
	}
	/* Resumes every unfinished migration from the store at its first round. */
	r = migrator_start(&migrator, &reg);
	if (r < 0) {
		log_error_errno(r, "cannot start the migrator");
		goto cleanup;
	}
	r = recorder_start(&reg, &recorder);
	if (r < 0) {
		log_error_errno(r, "cannot start the event recorder");
		goto cleanup;
	}
	r = tls_prepare(&(struct tls_config){.state_dir = o.state_dir,
					     .listen = o.listen,
					     .n_listen = o.n_listen,
					     .extra_sans = o.tls_san,
					     .n_extra_sans = o.n_tls_san,
					     .cert_file = o.tls_cert,
					     .key_file = o.tls_key},
			&tls);
	if (r < 0)
		goto cleanup;
	ctx = (struct http_context){.registry = &reg,
				    .store = store,
				    .hub = &hub,
				    .token = token,
				    .leader = endpoints ? &leader : NULL,
				    .max_watches = (unsigned)o.max_watches};
	for (int i = 0; i < o.n_listen; i++) {
		bool is_unix = strncmp(o.listen[i], "unix:", 5) == 0;

		r = http_listen(o.listen[i], &fd);
		if (r < 0) {
			log_error_errno(r, "cannot listen on %s", o.listen[i]);
			goto cleanup;
		}
		r = http_start(fd, &ctx, is_unix ? NULL : tls.cert_pem,
			       is_unix ? NULL : tls.key_pem, &daemons[i]);
		if (r < 0) {
			log_error("cannot start the %s server on %s", is_unix ? "HTTP" : "HTTPS",
				  o.listen[i]);
			goto cleanup;
		}
		log_info("listening on %s%s", is_unix ? "" : "https://", o.listen[i]);
	}
	log_info("ready: state %s, revision %lld", o.state_dir, (long long)rev);

	sig = wait_for_signal();
	log_info("%s: shutting down", strsignal(sig));
	r = 0;
cleanup:
	if (hub_ready)
		watch_hub_close(&hub); /* ends open watches so the daemons can stop */
	for (int i = 0; i < MAX_LISTEN; i++)
		http_stop(daemons[i]);
	worker_stop(&follower.worker);
	leader_stop(&leader); /* gives the lead up: another controller leads at once */
	recorder_stop(recorder);
	migrator_stop(&migrator);
	for (int i = 0; i < o.n_listen; i++)
		if (strncmp(o.listen[i], "unix:", 5) == 0 && daemons[i])
			unlink(o.listen[i] + 5);
	if (hub_ready)
		watch_hub_destroy(&hub);
	store_close(store);
	observer_free(obs);
	metrics_free(metrics);
	free(token);
	free(endpoints);
	free(prefix);
	tls_creds_free(&tls);
	if (lock_fd >= 0)
		close(lock_fd);
	return r < 0 ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * godwit-agent: the node agent. Runs inside the node's network namespace.
 *
 * Threads: the informer (list+watch into a cache), the heartbeat
 * (registration + status), the vm manager (QEMU guests, vm.h; it gets the
 * cache at every reconcile and feeds "vms" into the status), and this main
 * loop, which owns the datapath,
 * netlink and the reconciler. The main loop waits on an epoll set of
 * signalfd (SIGTERM/SIGINT: leave everything in place and exit), the
 * informer's eventfd (cache changed: reconcile after a short coalescing
 * delay) and the datapath ring buffer (activation events). A reconcile also
 * runs every RESYNC_MS (repairs what someone changed behind our back), and
 * after RETRY_MS when the last one could not finish (e.g. a missing netns).
 * Everything the agent makes lives in the kernel (pinned maps, devices,
 * filters), so SIGKILL is as safe as SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/bpffs.h"
#include "agent/clusterpin.h"
#include "agent/credential.h"
#include "agent/datapath.h"
#include "agent/handoff.h"
#include "agent/events.h"
#include "agent/fabric.h"
#include "agent/gateway.h"
#include "agent/heartbeat.h"
#include "agent/metrics.h"
#include "agent/informer.h"
#include "agent/migsock.h"
#include "agent/reconcile.h"
#include "agent/streams.h"
#include "agent/vm.h"
#include "agent/vm_flow.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "lib/num.h"
#include "lib/streamproto.h"

#define COALESCE_MS 20
#define RETRY_MS    1000
#define RESYNC_MS   10000
#define DEFAULT_MTU 1450
#define MAX_MTU	    (FABRIC_MTU - 50) /* VXLAN over IPv4 adds 50 bytes */

struct options {
	const char *node;
	const char *server;
	const char *token_file, *join_token_file, *state_dir; /* credential.h */
	const char *ca_file; /* the cluster CA for an https:// server */
	const char *underlay;
	const char *guest_dir, *vm_run_dir, *qemu, *vm_accel;
	const char *gw_prefix, *gw_uplink; /* gateway.h */
	const char *metrics_listen;	   /* metrics.h */
	char pin_dir[256];
	uint32_t underlay_ip; /* network order */
	uint32_t mtu;
	uint32_t migrate_downtime_ms; /* 0: VM_DEFAULT_DOWNTIME_MS */
	uint32_t migrate_buffer_kib;  /* migsock.h */
	bool vm_incoming_paused;      /* vm.h: verification only */
	bool no_source_primers;	      /* vm.h: comparison only */
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: godwit-agent --node NAME --server URL[,URL...] --underlay-ip IPV4\n"
		"                    (several controllers of one cluster: the first reachable)\n"
		"                    [--join-token-file PATH (the first start) | --token-file "
		"PATH]\n"
		"                    [--state-dir DIR (the node's credential; default %s)]\n"
		"                    [--ca-file PATH (the cluster CA, godwitd's STATE/tls/ca.crt:\n"
		"                    an https:// server's certificate is verified against it)]\n"
		"                    [--pin-dir DIR] [--mtu %d] [--log-format text|json] [-v]\n"
		"                    [--guest-dir DIR] [--vm-run-dir DIR] [--qemu PATH]\n"
		"                    [--vm-accel tcg|kvm|kvm:tcg (default tcg)]\n"
		"                    [--migrate-downtime-ms N (default %d)]\n"
		"                    [--migrate-socket-buffer-kib N (default %d; 0: the "
		"kernel's)]\n"
		"                    [--vm-incoming-paused (verification: bench/ramcheck.py)]\n"
		"                    [--no-source-primers (comparison: bench/vm_migration.sh)]\n"
		"                    [--gateway-uplink IFNAME (route networks out: gatewayNode)]\n"
		"                    [--gateway-netns-prefix PREFIX (default %s)]\n"
		"                    [--metrics-listen IPV4:PORT (GET /metrics for Prometheus)]\n"
		"Runs inside the node's network namespace. Default pin dir: "
		"/sys/fs/bpf/godwit/<node>.\n"
		"VMs: guest image from --guest-dir, else $GODWIT_GUEST_DIR, else %s\n"
		"(current or the newest version), run dirs under %s/<node>/<vm>.\n",
		CREDENTIAL_DEFAULT_STATE_DIR, DEFAULT_MTU, VM_DEFAULT_DOWNTIME_MS,
		MIGSOCK_DEFAULT_BUFFER_KIB, GATEWAY_DEFAULT_PREFIX, VM_DEFAULT_GUEST_DIR,
		VM_DEFAULT_RUN_DIR);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"node", required_argument, NULL, 'n'},
	    {"server", required_argument, NULL, 's'},
	    {"token-file", required_argument, NULL, 't'},
	    {"join-token-file", required_argument, NULL, 'J'},
	    {"state-dir", required_argument, NULL, 'S'},
	    {"ca-file", required_argument, NULL, 'c'},
	    {"underlay-ip", required_argument, NULL, 'u'},
	    {"pin-dir", required_argument, NULL, 'p'},
	    {"mtu", required_argument, NULL, 'm'},
	    {"guest-dir", required_argument, NULL, 'G'},
	    {"vm-run-dir", required_argument, NULL, 'R'},
	    {"qemu", required_argument, NULL, 'Q'},
	    {"vm-accel", required_argument, NULL, 'A'},
	    {"migrate-downtime-ms", required_argument, NULL, 'D'},
	    {"migrate-socket-buffer-kib", required_argument, NULL, 'B'},
	    {"vm-incoming-paused", no_argument, NULL, 'P'},
	    {"no-source-primers", no_argument, NULL, 'N'},
	    {"log-format", required_argument, NULL, 'L'},
	    {"gateway-uplink", required_argument, NULL, 'U'},
	    {"gateway-netns-prefix", required_argument, NULL, 'X'},
	    {"metrics-listen", required_argument, NULL, 'M'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *pin_dir = NULL;
	uint32_t a;
	enum log_format format;
	long v;
	int c;

	o->mtu = DEFAULT_MTU;
	o->migrate_buffer_kib = MIGSOCK_DEFAULT_BUFFER_KIB;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->node = optarg;
			break;
		case 's':
			o->server = optarg;
			break;
		case 't':
			o->token_file = optarg;
			break;
		case 'J':
			o->join_token_file = optarg;
			break;
		case 'S':
			o->state_dir = optarg;
			break;
		case 'c':
			o->ca_file = optarg;
			break;
		case 'u':
			o->underlay = optarg;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'G':
			o->guest_dir = optarg;
			break;
		case 'R':
			o->vm_run_dir = optarg;
			break;
		case 'Q':
			o->qemu = optarg;
			break;
		case 'A':
			if (strcmp(optarg, "kvm:tcg") && strcmp(optarg, "tcg") &&
			    strcmp(optarg, "kvm")) {
				fprintf(stderr,
					"godwit-agent: --vm-accel: `%s' is not kvm:tcg, tcg "
					"or kvm\n",
					optarg);
				return -EINVAL;
			}
			o->vm_accel = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'D':
			if (num_parse_flag("godwit-agent", "--migrate-downtime-ms", optarg, 1,
					   60000, &v) < 0)
				return -EINVAL;
			o->migrate_downtime_ms = (uint32_t)v;
			break;
		case 'B':
			if (num_parse_flag("godwit-agent", "--migrate-socket-buffer-kib", optarg, 0,
					   1048576, &v) < 0)
				return -EINVAL;
			o->migrate_buffer_kib = (uint32_t)v;
			break;
		case 'P':
			o->vm_incoming_paused = true;
			break;
		case 'N':
			o->no_source_primers = true;
			break;
		case 'U':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ || strpbrk(optarg, "\"\\ /")) {
				fprintf(stderr,
					"godwit-agent: --gateway-uplink: `%s' is not an "
					"interface name\n",
					optarg);
				return -EINVAL;
			}
			o->gw_uplink = optarg;
			break;
		case 'X':
			o->gw_prefix = optarg;
			break;
		case 'M':
			o->metrics_listen = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'L':
			if (log_format_parse(optarg, &format) < 0) {
				fprintf(stderr,
					"godwit-agent: --log-format: '%s' is not text or json\n",
					optarg);
				return -EINVAL;
			}
			log_set_format(format);
			break;
		case 'm':
			if (num_parse_flag("godwit-agent", "--mtu", optarg, 576, MAX_MTU, &v) < 0)
				return -EINVAL;
			o->mtu = (uint32_t)v;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	/* Tests and side-by-side guest builds point a whole lab at another image
	 * (lab up passes its environment on to the agents). */
	if (!o->guest_dir) {
		const char *env = getenv("GODWIT_GUEST_DIR");

		if (env && *env)
			o->guest_dir = env;
	}
	if (optind < argc) {
		fprintf(stderr, "godwit-agent: unexpected argument `%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->node || !o->server || !o->underlay) {
		fprintf(stderr, "godwit-agent: --node, --server and --underlay-ip are required\n");
		usage(stderr);
		return -EINVAL;
	}
	if (!object_name_valid(o->node)) {
		fprintf(stderr,
			"godwit-agent: --node: `%s' is not a DNS label "
			"([a-z0-9]([-a-z0-9]*[a-z0-9])?, 1-63 chars)\n",
			o->node);
		return -EINVAL;
	}
	if (addr_ipv4_parse(o->underlay, &a) < 0 || a == 0) {
		fprintf(stderr, "godwit-agent: --underlay-ip: `%s' is not an IPv4 address\n",
			o->underlay);
		return -EINVAL;
	}
	o->underlay_ip = htonl(a);
	if (!o->state_dir)
		o->state_dir = CREDENTIAL_DEFAULT_STATE_DIR;
	if (pin_dir && (!*pin_dir || strlen(pin_dir) >= sizeof(o->pin_dir))) {
		fprintf(stderr, "godwit-agent: --pin-dir: `%s' is not a usable path\n", pin_dir);
		return -EINVAL;
	}
	if (pin_dir)
		snprintf(o->pin_dir, sizeof(o->pin_dir), "%s", pin_dir);
	else
		snprintf(o->pin_dir, sizeof(o->pin_dir), "/sys/fs/bpf/godwit/%s", o->node);
	return 0;
}

struct agent {
	struct options opt;
	char *token, *stream_secret; /* credential.h */
	struct datapath *dp;
	struct nl_sock *nl;
	struct events *events;
	struct informer *informer;
	struct heartbeat *heartbeat; /* the vm manager's kicks read it under hb_lock */
	pthread_mutex_t hb_lock;
	struct vm_manager *vms;
	struct vm_flow *flow; /* the source side of VM migrations */
	struct reconciler *rc;
	struct streams *streams;       /* port-forward and console streams (streams.h) */
	struct agent_metrics *metrics; /* GET /metrics (metrics.h), or NULL */
	bool reconciled;	       /* the last reconcile_run succeeded, at reconciled_changes */
	uint64_t reconciled_changes[CACHE__KINDS];
	int sig_fd, notify_fd, epoll_fd;
};

static json_t *last_report(void *ctx)
{
	struct agent *a = ctx;
	json_t *report = NULL;

	pthread_mutex_lock(&a->hb_lock);
	if (a->heartbeat)
		report = heartbeat_last_report(a->heartbeat);
	pthread_mutex_unlock(&a->hb_lock);
	return report;
}

static int dhcp_stats(void *ctx, struct dhcp_stats *out)
{
	struct agent *a = ctx;

	return a->rc ? reconcile_dhcp_stats(a->rc, out) : -ENOENT;
}

/* An activation event: its time on both clocks goes to the next status
 * report, which goes out at once. */
static void on_activation(const struct gw_event *e, void *ctx)
{
	struct agent *a = ctx;
	struct port_activation act = {.ifindex = e->ifindex, .mono_ns = e->ts_ns};
	uint64_t mono, real;

	port_clocks_now(&mono, &real);
	act.unix_ns = port_mono_to_unix(e->ts_ns, mono, real);
	log_info("port ifindex %u (vni %u, mac %02x:%02x:%02x:%02x:%02x:%02x) activated at %" PRIu64
		 " ns (unix %" PRIu64 " ns) by a frame of ethertype 0x%04x",
		 e->ifindex, e->vni, e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
		 e->mac[5], (uint64_t)e->ts_ns, act.unix_ns, e->ethertype);
	if (a->heartbeat)
		heartbeat_note_activation(a->heartbeat, &act);
}

/*
 * Whether the datapath needs no reconcile for snap: the kinds it is made of
 * (Networks, Ports, Nodes) are as they were at the last reconcile that
 * succeeded. A migration's progress changes its Migration ten times a second:
 * that is for the VM modules only, and a node that re-synced its devices and
 * maps each time would take the CPU from the guests it moves.
 */
static bool datapath_unchanged(const struct agent *a, const struct cache *snap)
{
	static const enum cache_kind made_of[] = {CACHE_NETWORKS, CACHE_PORTS, CACHE_NODES};

	if (!a->reconciled)
		return false;
	for (size_t i = 0; i < sizeof(made_of) / sizeof(made_of[0]); i++)
		if (snap->changes[made_of[i]] != a->reconciled_changes[made_of[i]])
			return false;
	return true;
}

/* Returns the delay until the next reconcile; full: also when only the VM
 * modules' kinds changed (the periodic resync repairs drift). */
static int64_t reconcile_once(struct agent *a, bool full)
{
	const struct port_ref *refs;
	struct cache snap;
	size_t n_refs;
	int r;

	r = informer_snapshot(a->informer, &snap);
	if (r == -EAGAIN)
		return RESYNC_MS; /* not listed yet: the informer notifies */
	if (r < 0) {
		log_error_errno(r, "cannot copy the cache");
		return RETRY_MS;
	}
	if (a->vms && vm_manager_sync(a->vms, &snap) < 0)
		log_warn("out of memory: the VMs are not updated");
	if (a->flow && vm_flow_sync(a->flow, &snap) < 0)
		log_warn("out of memory: the VM migrations are not updated");
	if (!full && datapath_unchanged(a, &snap)) {
		heartbeat_set_applied(a->heartbeat, snap.revision);
		cache_clear(&snap);
		return RESYNC_MS;
	}
	r = reconcile_run(a->rc, &snap);
	a->reconciled = r == 0;
	memcpy(a->reconciled_changes, snap.changes, sizeof(a->reconciled_changes));
	reconciler_ports(a->rc, &refs, &n_refs);
	if (heartbeat_set_ports(a->heartbeat, refs, n_refs) < 0)
		log_warn("out of memory: the port report is not updated");
	if (r == 0)
		heartbeat_set_applied(a->heartbeat, snap.revision);
	else if (r != -EAGAIN)
		log_warn_errno(r, "reconcile of revision %" PRIu64 " failed; retrying",
			       snap.revision);
	cache_clear(&snap);
	return r == 0 ? RESYNC_MS : RETRY_MS;
}

static int run_loop(struct agent *a)
{
	int64_t next = clock_mono_ms() + RESYNC_MS;
	struct epoll_event evs[4];
	bool pending = false;

	for (;;) {
		int64_t wait = next - clock_mono_ms();
		int n = epoll_wait(a->epoll_fd, evs, 4, wait < 0 ? 0 : (int)wait);

		if (n < 0 && errno != EINTR)
			return log_error_errno(-errno, "epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == a->sig_fd) {
				struct signalfd_siginfo si;

				if (read(fd, &si, sizeof(si)) == sizeof(si)) {
					log_info(
					    "signal %u: exiting, devices and maps stay in place",
					    si.ssi_signo);
					return 0;
				}
			} else if (fd == a->notify_fd) {
				uint64_t v;

				if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn_errno(-errno, "reading the informer's eventfd");
				if (!pending) {
					pending = true;
					next = clock_mono_ms() + COALESCE_MS;
				}
			} else if (a->events) {
				int r = events_consume(a->events);

				if (r < 0)
					log_warn_errno(r, "reading datapath events");
			}
		}
		if (clock_mono_ms() >= next) {
			bool notified = pending;

			pending = false;
			next = clock_mono_ms() + reconcile_once(a, !notified);
		}
	}
}

static int epoll_add(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void kick_from_vms(void *ctx)
{
	struct agent *a = ctx;

	pthread_mutex_lock(&a->hb_lock);
	if (a->heartbeat)
		heartbeat_kick(a->heartbeat);
	pthread_mutex_unlock(&a->hb_lock);
}

/* The vm module's handoff hook (vm.h, handoff.h), on its thread: the port's
 * state; at the handoff, then the frames left in the source tap go the same
 * way. */
static int handoff_port(void *ctx, const char *ifname, int tap_fd, enum vm_handoff step)
{
	static const uint32_t state_of[] = {
	    [VM_HANDOFF_PRIME] = GW_PORT_PRIMED,
	    [VM_HANDOFF_START] = GW_PORT_HANDOFF,
	    [VM_HANDOFF_END] = GW_PORT_ACTIVE,
	};
	struct agent *a = ctx;
	struct handoff_drain_stats st = {0};
	unsigned int ifindex = if_nametoindex(ifname);
	uint32_t vni, target;
	int r;

	if (ifindex == 0)
		return -errno;
	r = datapath_set_source_state(a->dp, ifindex, state_of[step]);
	if (r < 0 || step != VM_HANDOFF_START || tap_fd < 0)
		return r;
	r = datapath_handoff_target(a->dp, ifindex, &vni, &target);
	if (r == 0)
		r = handoff_drain(tap_fd, vni, target, &st);
	if (r < 0) {
		log_warn_errno(r, "port %s: frames left in the tap not drained", ifname);
		return 0; /* the handoff itself stands */
	}
	if (st.skipped)
		log_info("port %s: %u frames from the tap not sent on (GSO or malformed)", ifname,
			 st.skipped);
	return (int)st.sent;
}

static json_t *report_vms(void *ctx)
{
	return vm_manager_report(ctx);
}

static int agent_start(struct agent *a)
{
	struct vm_config vc = {
	    .node = a->opt.node,
	    .underlay_ip = a->opt.underlay,
	    .run_dir = a->opt.vm_run_dir,
	    .guest_dir = a->opt.guest_dir,
	    .qemu = a->opt.qemu,
	    .accel = a->opt.vm_accel,
	    .kick = kick_from_vms,
	    .kick_ctx = a,
	    .handoff = handoff_port,
	    .handoff_ctx = a,
	    .migrate_buffer_kib = a->opt.migrate_buffer_kib,
	    .stream_secret = a->stream_secret,
	    .incoming_paused = a->opt.vm_incoming_paused,
	    .no_source_primers = a->opt.no_source_primers,
	};
	struct heartbeat_config hc = {
	    .server = a->opt.server,
	    .token = a->token,
	    .ca_file = a->opt.ca_file,
	    .node = a->opt.node,
	    .underlay_ip = a->opt.underlay,
	};
	char pin[PATH_MAX];
	sigset_t mask;
	int vxlan, r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* Blocked before any thread starts, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	a->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sig_fd < 0 || a->notify_fd < 0 || a->epoll_fd < 0)
		return log_error_errno(-errno, "cannot create the event loop");

	r = bpffs_check_pins_outlive(a->opt.pin_dir);
	if (r < 0) {
		/* Not log_error_errno: strerror(EXDEV) would only confuse. */
		log_error(BPFFS_ROOT
			  " is not the host's bpffs: this process has a private "
			  "mount namespace with its own /sys (started with `ip netns exec`?); "
			  "pins made here would vanish with the agent and a restarted agent "
			  "could not adopt the live datapath. Start the agent in the node's "
			  "network namespace only (`nsenter --net=/run/netns/NAME`) or "
			  "bind-mount the host's bpffs on " BPFFS_ROOT);
		return r;
	}
	r = datapath_open(a->opt.pin_dir, &a->dp);
	if (r < 0)
		return log_error_errno(r, "cannot open the datapath (pin dir %s)", a->opt.pin_dir);
	r = nl_open(&a->nl);
	if (r < 0)
		return log_error_errno(r, "cannot open rtnetlink");
	r = fabric_setup(a->nl, a->dp, a->opt.underlay_ip, &vxlan);
	if (r < 0)
		return r;
	r = events_open(a->dp, on_activation, a, &a->events);
	if (r < 0)
		return log_error_errno(r, "cannot open the datapath event ring");
	r = reconciler_new(a->dp, a->nl, a->opt.node, a->opt.mtu, &a->rc);
	if (r < 0)
		return log_error_errno(r, "cannot create the reconciler");
	r = reconciler_set_gateway(a->rc, a->opt.gw_prefix ?: GATEWAY_DEFAULT_PREFIX,
				   a->opt.gw_uplink);
	if (r < 0)
		return log_error_errno(r, "--gateway-netns-prefix: `%s'", a->opt.gw_prefix);
	r = vm_manager_start(&vc, &a->vms);
	if (r < 0)
		log_warn_errno(r, "cannot start the vm module: this node runs no VMs");
	if (a->vms) {
		struct vm_flow_config fc = {
		    .node = a->opt.node,
		    .downtime_ms = a->opt.migrate_downtime_ms,
		    .buffer_kib = a->opt.migrate_buffer_kib,
		    .stream_secret = a->stream_secret,
		    .vms = a->vms,
		};

		r = vm_flow_start(&fc, &a->flow);
		if (r < 0)
			log_warn_errno(r, "cannot start the migration flow: VMs do not migrate "
					  "from this node");
	}
	hc.dp = a->dp;
	hc.vms_report = a->vms ? report_vms : NULL;
	hc.vms_ctx = a->vms;
	pthread_mutex_lock(&a->hb_lock);
	r = heartbeat_start(&hc, &a->heartbeat);
	pthread_mutex_unlock(&a->hb_lock);
	if (r < 0)
		return log_error_errno(r, "cannot start the heartbeat");
	{
		struct streams_config sc = {
		    .underlay_ip = a->opt.underlay,
		    .token = a->stream_secret,
		    .node = a->opt.node,
		    .vm_run_dir = a->opt.vm_run_dir,
		};

		r = streams_start(&sc, &a->streams);
		if (r < 0)
			log_warn_errno(r,
				       "cannot listen for streams on %s:%d: no port-forward or "
				       "console through this node",
				       a->opt.underlay, STREAMPROTO_AGENT_PORT);
	}
	if (a->opt.metrics_listen) {
		struct agent_metrics_config mc = {
		    .listen = a->opt.metrics_listen,
		    .dp = a->dp,
		    .last_report = last_report,
		    .dhcp_stats = dhcp_stats,
		    .ctx = a,
		};

		r = agent_metrics_start(&mc, &a->metrics);
		if (r < 0)
			return log_error_errno(r, "--metrics-listen: cannot serve /metrics on %s",
					       a->opt.metrics_listen);
	}
	snprintf(pin, sizeof(pin), "%s/%s/%s",
		 a->opt.vm_run_dir ? a->opt.vm_run_dir : VM_DEFAULT_RUN_DIR, a->opt.node,
		 CLUSTERPIN_FILE);
	r = informer_start(a->opt.server, a->token, a->opt.ca_file, pin, a->notify_fd,
			   &a->informer);
	if (r < 0)
		return log_error_errno(r, "cannot start the informer");
	if ((r = epoll_add(a->epoll_fd, a->sig_fd)) < 0 ||
	    (r = epoll_add(a->epoll_fd, a->notify_fd)) < 0 ||
	    (r = epoll_add(a->epoll_fd, events_fd(a->events))) < 0)
		return log_error_errno(r, "cannot set up the event loop");
	log_info("node %s: %s ifindex %d, underlay %s, pin dir %s, controller %s", a->opt.node,
		 FABRIC_IFNAME, vxlan, a->opt.underlay, a->opt.pin_dir, a->opt.server);
	return 0;
}

static void agent_stop(struct agent *a)
{
	struct heartbeat *hb;

	agent_metrics_stop(a->metrics); /* it reads the heartbeat and the reconciler */
	streams_stop(a->streams);
	informer_stop(a->informer, 1000);
	pthread_mutex_lock(&a->hb_lock);
	hb = a->heartbeat;
	a->heartbeat = NULL;
	pthread_mutex_unlock(&a->hb_lock);
	heartbeat_stop(hb);	 /* no more reports from the vm manager */
	vm_flow_stop(a->flow);	 /* before the manager it calls */
	vm_manager_stop(a->vms); /* QEMUs keep running */
	reconciler_free(a->rc);
	events_close(a->events);
	nl_close(a->nl);
	datapath_close(a->dp);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	if (a->notify_fd >= 0)
		close(a->notify_fd);
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	free(a->token);
	free(a->stream_secret);
}

int main(int argc, char **argv)
{
	struct agent a = {
	    .sig_fd = -1, .notify_fd = -1, .epoll_fd = -1, .hb_lock = PTHREAD_MUTEX_INITIALIZER};
	int r;

	if (parse_options(argc, argv, &a.opt) < 0)
		return 2;
	log_init("godwit-agent", a.opt.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	r = credential_obtain(&(struct credential_config){.node = a.opt.node,
							  .server = a.opt.server,
							  .ca_file = a.opt.ca_file,
							  .state_dir = a.opt.state_dir,
							  .token_file = a.opt.token_file,
							  .join_token_file = a.opt.join_token_file},
			      &a.token, &a.stream_secret);
	if (r < 0)
		return 1;
	r = agent_start(&a);
	if (r == 0)
		r = run_loop(&a);
	agent_stop(&a);
	return r < 0 ? 1 : 0;
}

// SPDX-License-Identifier: MIT
/*
 * tund's entry point: options, logging, crypto start-up, signals, the event
 * loop. The only place that may exit the process.
 */
#include <errno.h>
#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"
#include "crypto.h"
#include "daemon.h"
#include "detach.h"
#include "iface_state.h"
#include "log.h"
#include "metrics_http.h"
#include "noise.h"
#include "privdrop.h"
#include "reload.h"
#include "service.h"
#include "timers.h"
#include "uapi_server.h"
#include "udp.h"
#include "workers.h"

#define DEFAULT_CONFIG_DIR     "/etc/tund"

struct options {
	const char *config_dir;
	const char *control_socket;
	const char *control_group;
	bool foreground;
	enum log_level level;
	bool no_offload;
	unsigned int threads; /* 0: one per CPU */
	union sockaddr_inet metrics[METRICS_HTTP_MAX_LISTEN]; /* --metrics-listen */
	size_t n_metrics;
	const char *user; /* --user: drop to this user after set-up */
};

#define OPT_NO_OFFLOAD	   256
#define OPT_USER	   257
#define OPT_METRICS_LISTEN 258

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tund [OPTIONS]\n"
		"\n"
		"A VPN tunnel daemon that speaks the WireGuard protocol.\n"
		"\n"
		"  -c, --config-dir DIR        interface files DIR/*.conf (default %s)\n"
		"  -s, --control-socket PATH   control socket (default %s)\n"
		"  -g, --control-group GROUP   group that may change state through the\n"
		"                              control socket (default %s)\n"
		"  -f, --foreground            stay attached and log to stderr; without it\n"
		"                              tund goes to the background once ready,\n"
		"                              unless a service manager started it\n"
		"  -l, --log-level LEVEL       error, warn, info or debug (default info)\n"
		"      --metrics-listen ADDR:PORT\n"
		"                              serve Prometheus metrics at /metrics over\n"
		"                              HTTP (IPv6 as [ADDR]:PORT; loopback or a\n"
		"                              management address: the text names every\n"
		"                              peer); may be given up to 8 times\n"
		"      --no-offload            plain TUN and UDP: no TSO/USO, UDP GSO or GRO\n"
		"  -t, --threads N             threads that encrypt and decrypt, the event\n"
		"                              loop's included (default one per CPU)\n"
		"      --user NAME             drop to NAME after set-up, keeping CAP_NET_ADMIN\n"
		"                              (and CAP_NET_BIND_SERVICE); needs root\n"
		"  -V, --version               print the version and exit\n"
		"  -h, --help                  print this help and exit\n",
		DEFAULT_CONFIG_DIR, CONTROL_DEFAULT_SOCKET, CONTROL_DEFAULT_GROUP);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"config-dir", required_argument, NULL, 'c'},
		{"control-socket", required_argument, NULL, 's'},
		{"control-group", required_argument, NULL, 'g'},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'l'},
		{"no-offload", no_argument, NULL, OPT_NO_OFFLOAD},
		{"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
		{"threads", required_argument, NULL, 't'},
		{"user", required_argument, NULL, OPT_USER},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct options){.config_dir = DEFAULT_CONFIG_DIR,
			      .control_socket = CONTROL_DEFAULT_SOCKET,
			      .control_group = CONTROL_DEFAULT_GROUP,
			      .level = LOG_LEVEL_INFO};
	while ((c = getopt_long(argc, argv, "c:s:g:fl:t:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_dir = optarg;
			break;
		case 's':
			o->control_socket = optarg;
			break;
		case 'g':
			o->control_group = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case OPT_NO_OFFLOAD:
			o->no_offload = true;
			break;
		case OPT_METRICS_LISTEN:
			if (o->n_metrics == METRICS_HTTP_MAX_LISTEN ||
			    sockaddr_parse_numeric(optarg, &o->metrics[o->n_metrics]) != 0) {
				fprintf(stderr,
					"tund: --metrics-listen: \"%s\": expected ADDR:PORT or [ADDR]:PORT, numeric, at most %d times\n",
					optarg, METRICS_HTTP_MAX_LISTEN);
				return 2;
			}
			o->n_metrics++;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case 't': {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > CRYPTO_MAX_LANES) {
				fprintf(stderr, "tund: --threads: \"%s\": expected a number from 1 to %d\n",
					optarg, CRYPTO_MAX_LANES);
				return 2;
			}
			o->threads = (unsigned int)n;
			break;
		}
		case 'l':
			if (log_level_parse(optarg, &o->level) != 0) {
				fprintf(stderr, "tund: --log-level: \"%s\": expected error, warn, info or debug\n",
					optarg);
				return 2;
			}
			break;
		case 'V':
			printf("tund %s\n", TUND_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tund: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

/*
 * The crypto threads, before any keypair exists (each keypair gets one
 * cipher context per thread). n 0: one per online CPU.
 */
static int start_workers(struct scratch *s, unsigned int n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	if (!n)
		n = cpus < 1 ? 1 : cpus > CRYPTO_MAX_LANES ? CRYPTO_MAX_LANES : (unsigned int)cpus;
	rc = crypto_set_lanes(n);
	if (rc == 0)
		rc = workers_create(n, &s->workers);
	if (rc == 0)
		log_info("%u crypto thread%s", n, n == 1 ? "" : "s");
	return rc;
}

/* PATH, made absolute against the working directory: it must stay right after chdir("/"). */
static char *absolute(const char *path)
{
	char *cwd, *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (cwd && asprintf(&out, "%s/%s", cwd, path) < 0)
		out = NULL;
	free(cwd);
	return out;
}

/*
 * Without --foreground, and not under a service manager (which wants its
 * child to stay: Type=notify), go to the background as tradition expects.
 * The paths kept for later (reload, removing the socket) become absolute.
 * Returns 0, or 1 after logging why not.
 */
static int go_to_background(struct options *o, char **dir, char **sock)
{
	int rc;

	if (o->foreground || detach_under_service_manager())
		return 0;
	*dir = absolute(o->config_dir);
	*sock = absolute(o->control_socket);
	if (!*dir || !*sock) {
		log_error("cannot go to the background: %s", strerror(errno));
		return 1;
	}
	o->config_dir = *dir;
	o->control_socket = *sock;
	rc = detach_begin();
	if (rc != 0) {
		log_error("cannot go to the background: %s", strerror(-rc));
		return 1;
	}
	return 0;
}

/*
 * --user: give the user tund's own runtime directories (the default control
 * socket's, the UAPI sockets'), where it makes and removes sockets later,
 * and the UAPI sockets made so far (as those made later are), then switch
 * to it. Returns 0, or 1 after logging why not.
 */
static int drop_privileges(struct daemon *d, const struct privdrop *p, const char *control_socket)
{
	char *dir = strdup(CONTROL_DEFAULT_SOCKET);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	struct iface *iface;

	/* Only tund's own directory: never a directory an operator named. */
	if (slash && !strcmp(control_socket, CONTROL_DEFAULT_SOCKET)) {
		*slash = '\0';
		privdrop_give_dir(p, dir);
	}
	free(dir);
	privdrop_give_dir(p, uapi_server_dir());
	list_for_each(iface, &d->ifaces, node)
		privdrop_give_file(p, uapi_server_path(iface));
	return privdrop_apply(p) == 0 ? 0 : 1;
}

/* Test-only knobs from the environment; loud, so nobody runs with them by accident. */
static void apply_test_knobs(void)
{
	const char *s = getenv("TUND_TEST_TIME_SCALE");

	if (s && *s) {
		double scale = strtod(s, NULL);

		if (scale > 0 && scale <= 1) {
			proto_time_scale = scale;
			log_warn("TUND_TEST_TIME_SCALE=%g: protocol timers shortened FOR TESTING ONLY",
				 scale);
		}
	}
	if (getenv("TUND_TEST_UNDER_LOAD_THRESHOLD"))
		log_warn("TUND_TEST_UNDER_LOAD_THRESHOLD is set: cookie threshold changed FOR TESTING ONLY");
}

/*
 * Each relayed connection of a localhost tunnel holds two descriptors: take
 * every one the hard limit allows (systemd's default soft limit is 1024).
 */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		/* An unlimited hard limit is more than the kernel takes (fs.nr_open). */
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the open files limit from %llu: %s",
				 (unsigned long long)was, strerror(errno));
			return;
		}
	}
	log_info("open files limit: %llu", (unsigned long long)rl.rlim_cur);
}

/* How long the loop runs on after a stop signal, when localhost-tunnel connections were closed. */
#define MAIN_DRAIN_S 0.3

struct main_ctx {
	struct daemon *daemon;
	struct service *service;
	ev_signal sighup;
	ev_timer drain;
	bool stopping;
};

static void main_on_drained(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Stop. Localhost-tunnel connections are closed first, and the loop runs a
 * moment longer so that their FINs and resets go through the tunnel: the
 * peers learn at once that the services and sessions are gone, instead of
 * after 30 s without pings. A second signal stops at once.
 */
static void main_on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct main_ctx *ctx = w->data;

	(void)revents;
	if (ctx->stopping) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_info("received signal %d, shutting down", w->signum);
	ctx->stopping = true;
	ev_signal_stop(loop, &ctx->sighup);
	if (!daemon_close_localhost_tunnels(ctx->daemon)) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&ctx->drain, main_on_drained, MAIN_DRAIN_S, 0.);
	ev_timer_start(loop, &ctx->drain);
}

static void main_on_reload_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct main_ctx *ctx = w->data;
	struct diag_list diags = {0};
	json_t *changes = json_array();
	int rc;

	(void)loop;
	(void)revents;
	log_info("received SIGHUP");
	rc = reload_run(ctx->daemon, ctx->service, &diags, changes);
	diag_list_clear(&diags);
	json_decref(changes);
	if (rc < 0)
		log_error("reload failed: %s", strerror(-rc));
}

int main(int argc, char **argv)
{
	struct options opts;
	struct ev_loop *loop;
	struct daemon *d = NULL;
	struct service service;
	struct control_options ctl_opts;
	struct control *ctl = NULL;
	struct metrics_http *metrics = NULL;
	ev_signal sigterm, sigint;
	struct main_ctx ctx = {0};
	static char *abs_dir, *abs_sock; /* static: still reachable on an early return */
	static struct privdrop drop;
	int rc;

	rc = parse_options(argc, argv, &opts);
	if (rc != 0)
		return rc;
	log_init(opts.level);
	if (opts.user) {
		char why[256];

		if (privdrop_prepare(opts.user, &drop, why, sizeof(why)) != 0) {
			log_error("%s", why);
			return 1;
		}
	}
	/* Before the loop and any thread: only the forked daemon returns. */
	if (go_to_background(&opts, &abs_dir, &abs_sock) != 0)
		return 1;
	apply_test_knobs();
	if (crypto_init() != 0) {
		log_error("the cryptographic library lacks an algorithm tund needs");
		return 1;
	}
	noise_init();
	signal(SIGPIPE, SIG_IGN);
	raise_nofile_limit();

	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		log_error("cannot initialise the event loop");
		return 1;
	}
	rc = daemon_create(loop, opts.config_dir, &d);
	if (rc == 0)
		rc = start_workers(d->scratch, opts.threads);
	if (rc != 0) {
		log_error("cannot start: %s", strerror(-rc));
		daemon_destroy(d);
		return 1;
	}
	d->scratch->use_offloads = !opts.no_offload;
	log_info("tund %s starting, configuration from %s", TUND_VERSION, opts.config_dir);
	service_init(&service, loop);
	/* The socket first: a second tund on the same socket stops here, before any interface. */
	ctl_opts = (struct control_options){opts.control_socket, opts.control_group};
	if (control_create(loop, d, &service, &ctl_opts, &ctl) != 0) {
		daemon_destroy(d);
		return 1;
	}
	if (opts.n_metrics &&
	    metrics_http_create(loop, d, opts.metrics, opts.n_metrics, &metrics) != 0) {
		control_destroy(ctl);
		daemon_destroy(d);
		return 1;
	}
	(void)daemon_start(d);
	if (opts.user && drop_privileges(d, &drop, opts.control_socket) != 0) {
		metrics_http_destroy(metrics);
		control_destroy(ctl);
		daemon_destroy(d);
		return 1;
	}
	if (!opts.user)
		privdrop_report();
	/* Ready once every interface that could come up is up (failures are logged). */
	service_ready(&service, d);
	detach_ready();

	ctx.daemon = d;
	ctx.service = &service;
	ev_signal_init(&sigterm, main_on_stop_signal, SIGTERM);
	ev_signal_init(&sigint, main_on_stop_signal, SIGINT);
	sigterm.data = sigint.data = &ctx;
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sigint);
	ev_signal_init(&ctx.sighup, main_on_reload_signal, SIGHUP);
	ctx.sighup.data = &ctx;
	ev_signal_start(loop, &ctx.sighup);

	ev_run(loop, 0);

	service_stopping(&service);
	metrics_http_destroy(metrics);
	control_destroy(ctl);
	daemon_destroy(d);
	crypto_cleanup();
	log_info("stopped");
	free(abs_dir);
	free(abs_sock);
	privdrop_free(&drop);
	return 0;
}

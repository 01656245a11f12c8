// SPDX-License-Identifier: MIT
/* The localhost-tunnel fuzzers' interface and loop: see expose_harness.h. */
#include "expose_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "expose.h"
#include "expose_int.h"
#include "iface.h"
#include "log.h"
#include "noise.h"
#include "support.h"
#include "udp.h"

/* The interface is named lo: SO_BINDTODEVICE must find a device, and lo is in every namespace. */
static const char config_text[] = "[Interface]\n"
				  "PrivateKey = " TS_PRIV_1 "\n"
				  "Address = 10.0.0.1/24\n"
				  "ExposeBindAddress = 127.0.0.1\n"
				  "ExposeGracePeriod = 0\n"
				  "ExposeIdleTimeout = 5\n"
				  "[Peer]\n"
				  "Name = laptop\n"
				  "PublicKey = " TS_PUB_2 "\n"
				  "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
				  "AllowExpose = 47000-47009\n"
				  "[Peer]\n"
				  "Name = server\n"
				  "PublicKey = " TS_PUB_3 "\n"
				  "AllowedIPs = 10.0.0.3/32\n"
				  "[Peer]\n"
				  "Name = hub\n"
				  "PublicKey = " TS_PUB_4 "\n"
				  "AllowedIPs = 10.0.0.0/24, 192.168.0.0/16\n"
				  "[Expose web]\n"
				  "LocalPort = 47100\n"
				  "PublicPort = 8080\n"
				  "Peer = server\n"
				  "[Expose px]\n"
				  "LocalPort = 47101\n"
				  "PublicPort = 8081\n"
				  "ProxyProtocol = yes\n"
				  "Peer = server\n"
				  "[Expose secret]\n"
				  "LocalPort = 47102\n"
				  "PublicPort = 9000\n"
				  "Peer = server\n";

static struct ev_loop *loop;
static struct iface *iface;
static struct expose *kept; /* back where it started after the last input: used again */
static int services[2] = {-1, -1}; /* the local services of web and px */

/* Our own network namespace with lo up, when we may make one. */
static void private_network(void)
{
	struct ifreq ifr = {0};
	int fd;

	if (unshare(CLONE_NEWNET) != 0)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
}

static int listen_local(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void harness_init(void)
{
	static struct scratch *scratch;
	static uint64_t next_id;
	struct iface_config *cfg = NULL;
	struct diag_list diags = {0};

	/* TUND_FUZZ_DEBUG=1: the daemon's log, to see what an input reaches. */
	log_init(getenv("TUND_FUZZ_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	signal(SIGPIPE, SIG_IGN); /* as the daemon does: a closed socket is an error, not death */
	if (crypto_init() != 0)
		abort();
	noise_init();
	private_network();
	loop = ev_default_loop(0);
	if (scratch_create(&scratch) != 0 ||
	    config_load_string("lo.conf", config_text, sizeof(config_text) - 1, &cfg, &diags) != 0 ||
	    iface_new(loop, scratch, NULL, &next_id, cfg, &iface) != 0)
		abort();
	diag_list_clear(&diags);
	iface->tun_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	services[0] = listen_local(47100);
	services[1] = listen_local(47101);
}

struct expose *harness_expose(void)
{
	struct expose *ex = kept;

	kept = NULL;
	if (!ex && expose_create(iface, &ex) != 0)
		abort();
	iface->expose = ex;
	return ex;
}

/* Nothing open but the control port and the link, as after expose_create(). */
static bool at_rest(const struct expose *ex)
{
	return list_empty(&ex->incoming) && list_empty(&ex->sessions) &&
	       list_empty(&ex->listeners) && list_empty(&ex->relays);
}

void harness_expose_free(struct expose *ex)
{
	/*
	 * Creating an expose costs sockets and syscalls, a third of a run: one
	 * that is back at rest (its connections ended, with ExposeGracePeriod
	 * = 0 their ports too) serves the next input.
	 */
	if (at_rest(ex)) {
		if (expose_fds_held() != 0)
			abort(); /* nothing holds a unit: the budget leaks */
		kept = ex;
		return;
	}
	iface->expose = NULL;
	expose_destroy(ex);
	if (expose_fds_held() != 0)
		abort(); /* the descriptor budget leaks: it would run out in a long-lived daemon */
}

void harness_pair(int *ours, int *theirs)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	*ours = sv[0];
	*theirs = sv[1];
}

/*
 * The local services take what the relays open and reset it at once: a
 * close with a FIN would leave each in TIME_WAIT, and a million of them
 * make every later connect() hunt for a free port (the runs slowed from
 * 2000 to 400 a second).
 */
static void serve_locally(void)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	for (int i = 0; i < 2; i++) {
		int fd;

		while (services[i] >= 0 && (fd = accept4(services[i], NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		}
	}
}

/* One turn of the loop, and what came back to ours dropped. */
static void turn(int ours)
{
	char sink[16384];

	ev_run(loop, EVRUN_NOWAIT);
	serve_locally();
	while (read(ours, sink, sizeof(sink)) > 0)
		;
}

void harness_feed(int ours, const void *data, size_t len, bool eof)
{
	const uint8_t *p = data;
	int unread = 0;

	/* Bounded: a connection the code stopped reading (it waits) must not hang us. */
	for (int i = 0; i < 4096 && len > 0; i++) {
		ssize_t n = send(ours, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
		turn(ours);
	}
	if (eof)
		(void)shutdown(ours, SHUT_WR);
	for (int i = 0; i < 64; i++) {
		turn(ours);
		if (ioctl(ours, SIOCOUTQ, &unread) != 0 || unread == 0)
			break;
	}
	turn(ours); /* the EOF */
}

void harness_knock(struct expose *ex, unsigned int n)
{
	struct expose_listener *l;
	int fds[64], n_fds = 0;

	list_for_each(l, &ex->listeners, node) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(l->port)};

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (unsigned int i = 0; i < n && n_fds < 64; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (fd < 0)
				break;
			(void)connect(fd, (struct sockaddr *)&a, sizeof(a));
			fds[n_fds++] = fd;
		}
	}
	for (int i = 0; i < 4; i++)
		ev_run(loop, EVRUN_NOWAIT);
	while (n_fds > 0)
		close(fds[--n_fds]);
	for (int i = 0; i < 4; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static union sockaddr_inet inet(const char *text, uint16_t port)
{
	union sockaddr_inet sa = {0};

	if (inet_pton(AF_INET, text, &sa.in.sin_addr) == 1) {
		sa.in.sin_family = AF_INET;
		sa.in.sin_port = htons(port);
	} else if (inet_pton(AF_INET6, text, &sa.in6.sin6_addr) == 1) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons(port);
	}
	return sa;
}

union sockaddr_inet harness_remote(unsigned int sel)
{
	static const char *const remotes[] = {
		"10.0.0.3",	 /* the server, where our link goes */
		"10.0.0.2",	 /* the laptop, a client of ours */
		"fd00::2",	 /* the laptop over IPv6 */
		"10.0.0.9",	 /* a host behind the hub */
		"192.168.1.1", /* another */
		"10.0.0.1",	 /* our own address */
		"172.16.0.1",	 /* no peer's */
		"fd00::3",	 /* no peer's */
	};

	return inet(remotes[sel % (sizeof(remotes) / sizeof(remotes[0]))], 40000);
}

union sockaddr_inet harness_local(const union sockaddr_inet *remote)
{
	/* The interface has no IPv6 address: one control socket less to open per run. */
	return inet(remote->sa.sa_family == AF_INET6 ? "fd00::1" : "10.0.0.1",
		    EXPOSE_DEFAULT_CONTROL_PORT);
}

union sockaddr_inet harness_server(void)
{
	return inet("10.0.0.3", EXPOSE_DEFAULT_CONTROL_PORT);
}

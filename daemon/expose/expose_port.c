// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels: the control port, a TCP listener on the interface's
 * tunnel addresses bound to its TUN device, so that only what came through
 * the tunnel reaches it, and who may get in (docs/localhost-tunnels.md,
 * "Who may connect"): a data connection only from the address of a server
 * we publish through, a control session only from a client peer's own
 * address; then a slot until the first line says which of the two it is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "changes.h"
#include "expose_int.h"
#include "iface.h"
#include "peer.h"

/* An accepted connection on the control port, until its first line says what it is. */
struct expose_incoming {
	struct list_head node; /* in ex->incoming */
	struct expose *ex;
	struct jsonline *conn;
	uint8_t peer_key[KEY_LEN];
	union sockaddr_inet remote, local;
	unsigned int from; /* enum expose_from: what its source may open */
	int pool; /* its place in ex->n_incoming: 0 from a server, 1 from a client */
	ev_timer timeout;
};

/* Its unit of the descriptor budget goes back in every case: a relay or session takes its own. */
static void incoming_destroy(struct expose_incoming *in, bool close_conn)
{
	list_del(&in->node);
	in->ex->n_incoming[in->pool]--;
	expose_fds_put(1);
	ev_timer_stop(in->ex->loop, &in->timeout);
	if (close_conn)
		jsonline_destroy(in->conn);
	free(in);
}

/* The first line: a control session (server role) or a relayed connection (client role). */
static bool incoming_on_msg(struct jsonline *conn, json_t *msg)
{
	struct expose_incoming *in = conn->owner;
	struct expose *ex = in->ex;
	const char *op = expose_str(msg, "op");
	union sockaddr_inet remote = in->remote, local = in->local;
	char label[KEY_BASE64_LEN + 1], addr[ADDR_STR_LEN];
	unsigned int from = in->from;
	uint8_t key[KEY_LEN];
	bool is_session =
		strcmp(op, "expose") == 0 || strcmp(op, "unexpose") == 0 || strcmp(op, "ping") == 0;

	/* in goes first: conn passes to a relay or a session, which may end it at once. */
	memcpy(key, in->peer_key, KEY_LEN);
	if (strcmp(op, "connect") == 0 && (from & EXPOSE_FROM_SERVER)) {
		incoming_destroy(in, false);
		expose_client_connect(ex, key, &remote, conn, msg);
		return false;
	}
	if (is_session && (from & EXPOSE_FROM_CLIENT)) {
		incoming_destroy(in, false);
		return expose_server_session(ex, key, &remote, &local, conn, msg);
	}
	incoming_destroy(in, false);
	relay_close_reset(jsonline_release(conn, addr, 0, &(size_t){0}));
	expose_peer_label(ex, key, label, sizeof(label));
	sockaddr_format(addr, sizeof(addr), &remote);
	if (strcmp(op, "connect") == 0 || is_session)
		expose_log_remote(ex, LOG_LEVEL_WARN,
				  "peer %s: control port: refusing a \"%s\" from %s: %s", label, op,
				  addr,
				  is_session ? "not its own tunnel address (AllowExposeFrom)"
					     : "not the address of a server we publish through");
	else
		expose_log_remote(ex, LOG_LEVEL_WARN,
				  "peer %s: control port: the first line from %s is not a request; reset",
				  label, addr);
	return false;
}

static void incoming_on_close(struct jsonline *conn, int err)
{
	struct expose_incoming *in = conn->owner;
	char label[KEY_BASE64_LEN + 1];

	if (err == -EMSGSIZE)
		expose_log_remote(in->ex, LOG_LEVEL_WARN,
				  "peer %s: control port: a line over %d bytes; closed",
				  expose_peer_label(in->ex, in->peer_key, label, sizeof(label)),
				  JSONLINE_MAX);
	incoming_destroy(in, true);
}

static void expose_on_incoming_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct expose_incoming *in = w->data;

	(void)loop;
	(void)revents;
	incoming_destroy(in, true);
}

/*
 * Whether addr is one of this host's own addresses. SO_BINDTODEVICE does not
 * keep local processes out: a connection from this host to the tunnel
 * address is accepted as if it came in on the TUN device. Such a connection
 * can only come from a local address (the answers to any other go out
 * through the tunnel), and a local address must not pass for a peer's, even
 * when a peer's AllowedIPs cover it (0.0.0.0/0). The addresses of this
 * network namespace's interfaces tell; a bind() probe would not, with
 * net.ipv4.ip_nonlocal_bind set.
 */
static bool is_local(const union sockaddr_inet *addr)
{
	struct ifaddrs *list, *i;
	bool local = false;

	if (addr->sa.sa_family == AF_INET &&
	    (ntohl(addr->in.sin_addr.s_addr) >> 24) == IN_LOOPBACKNET)
		return true;
	if (addr->sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&addr->in6.sin6_addr))
		return true;
	if (getifaddrs(&list) != 0)
		return true; /* cannot tell: refuse */
	for (i = list; i && !local; i = i->ifa_next) {
		const struct sockaddr *a = i->ifa_addr;

		if (!a || a->sa_family != addr->sa.sa_family)
			continue;
		if (a->sa_family == AF_INET)
			local = ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
				addr->in.sin_addr.s_addr;
		else
			local = memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
				       &addr->in6.sin6_addr, sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(list);
	return local;
}

/* Connections of peer_key accepted into pool and not past their first line. */
static size_t incoming_of(const struct expose *ex, const uint8_t peer_key[KEY_LEN], int pool)
{
	const struct expose_incoming *in;
	size_t n = 0;

	list_for_each(in, &ex->incoming, node)
		n += in->pool == pool && memcmp(in->peer_key, peer_key, KEY_LEN) == 0;
	return n;
}

/*
 * What remote, an address of peer's, may open here. The allowed-IPs lookup
 * says which peer a packet came through, not which host sent it: a hub,
 * a site-to-site peer or a full-tunnel client routes many. So a data
 * connection must come from the very address our control connection to
 * that server reached, and a control session from the client peer's own
 * tunnel address.
 */
static unsigned int may_open(const struct expose *ex, const struct peer *peer,
			     const union sockaddr_inet *remote)
{
	const struct peer_config *pc = expose_peer_config(ex, peer->public_key);
	unsigned int from = 0;

	if (expose_client_is_server(ex, peer->public_key, remote))
		from |= EXPOSE_FROM_SERVER;
	if (pc && expose_server_is_client(pc, remote))
		from |= EXPOSE_FROM_CLIENT;
	return from;
}

/* Why remote gets no place on the control port, or NULL when it does; *from: what it may open. */
static const char *refuse_why(struct expose *ex, const union sockaddr_inet *remote,
			      struct peer **peer, unsigned int *from, int *pool)
{
	/*
	 * is_local() asks the kernel for every address (a netlink dump): only
	 * for what the tunnel cannot have sent (no peer's address), or would
	 * be let in. A flood through the tunnel never gets that far.
	 */
	*from = 0;
	*peer = expose_peer_of(ex, remote);
	if (!*peer)
		return is_local(remote) ? "a local address, not through the tunnel"
					: "no peer has that address";
	*from = may_open(ex, *peer, remote);
	if (!*from)
		return "neither the address of a server we publish through nor a client peer's own (AllowExposeFrom)";
	if (is_local(remote)) {
		*from = 0; /* logged as a refusal, not as a limit */
		return "a local address, not through the tunnel";
	}
	/* Neither kind, nor one peer, may take every place: the others must still get in. */
	*pool = (*from & EXPOSE_FROM_SERVER) ? 0 : 1;
	if (ex->n_incoming[*pool] >= EXPOSE_MAX_INCOMING ||
	    incoming_of(ex, (*peer)->public_key, *pool) >= EXPOSE_MAX_INCOMING_PER_PEER)
		return "too many unanswered connections";
	if (!expose_fds_take_pending())
		return "out of descriptors for localhost tunnels";
	return NULL;
}

static void accept_one(struct expose *ex, int fd)
{
	socklen_t len = sizeof(union sockaddr_inet);
	union sockaddr_inet remote, local;

	if (getpeername(fd, &remote.sa, &len) != 0 ||
	    (len = sizeof(local), getsockname(fd, &local.sa, &len)) != 0) {
		close(fd);
		return;
	}
	expose_unmap(&remote);
	expose_unmap(&local);
	expose_accepted(ex, fd, &remote, &local);
}

void expose_accepted(struct expose *ex, int fd, const union sockaddr_inet *from_addr,
		     const union sockaddr_inet *to_addr)
{
	union sockaddr_inet remote = *from_addr, local = *to_addr;
	struct expose_incoming *in;
	struct peer *peer;
	char buf[ADDR_STR_LEN], label[KEY_BASE64_LEN + 1];
	unsigned int from;
	const char *why;
	int pool = 0;

	why = refuse_why(ex, &remote, &peer, &from, &pool);
	if (why) {
		/* Those over a limit are many and expected under load: only in the debug log. */
		expose_log_remote(
			ex, from ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN,
			"control port: refusing %s%s%s%s: %s",
			sockaddr_format(buf, sizeof(buf), &remote), peer ? " (peer " : "",
			peer ? expose_peer_label(ex, peer->public_key, label, sizeof(label)) : "",
			peer ? ")" : "", why);
		relay_close_reset(fd);
		return;
	}
	in = calloc(1, sizeof(*in));
	if (!in || jsonline_create(ex->loop, fd, false, incoming_on_msg, incoming_on_close, in,
				   &in->conn) != 0) {
		if (!in)
			close(fd);
		free(in);
		expose_fds_put(1);
		return;
	}
	in->ex = ex;
	memcpy(in->peer_key, peer->public_key, KEY_LEN);
	in->remote = remote;
	in->local = local;
	in->from = from;
	in->pool = pool;
	ev_timer_init(&in->timeout, expose_on_incoming_timeout, EXPOSE_FIRST_LINE_TIMEOUT_S, 0);
	in->timeout.data = in;
	ev_timer_start(ex->loop, &in->timeout);
	list_add_tail(&in->node, &ex->incoming);
	ex->n_incoming[pool]++;
}

static void expose_on_control_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct expose *ex = w->data;

	(void)loop;
	(void)revents;
	/* A bounded batch per wake-up: other sockets get their turn. */
	for (int i = 0; i < 32; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EMFILE && errno != ENFILE)
				return;
			/* The queue stays readable: wait instead of spinning, and say why. */
			expose_log_remote(ex, LOG_LEVEL_WARN,
					  "control port: out of file descriptors; pausing");
			for (size_t j = 0; j < ex->n_ctl; j++)
				ev_io_stop(ex->loop, &ex->ctl_watcher[j]);
			ev_timer_start(ex->loop, &ex->ctl_pause);
			return;
		}
		accept_one(ex, fd);
	}
}

/* One listening socket on addr:port, bound to the TUN device. -errno on failure. */
static int open_control_socket(struct expose *ex, const union sockaddr_inet *addr)
{
	int fd, on = 1, off = 0, rc;

	fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    expose_bind_to_device(ex, fd) != 0 || expose_set_freebind(fd, addr->sa.sa_family) != 0)
		goto fail;
	/* A wildcard socket serves both families; a tunnel address only its own. */
	if (addr->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		       IN6_IS_ADDR_UNSPECIFIED(&addr->in6.sin6_addr) ? &off : &on,
		       sizeof(int)) != 0)
		goto fail;
	if (bind(fd, &addr->sa, sockaddr_len(addr)) != 0 || listen(fd, 512) != 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

static void expose_on_control_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct expose *ex = w->data;

	(void)revents;
	for (size_t i = 0; i < ex->n_ctl; i++)
		ev_io_start(loop, &ex->ctl_watcher[i]);
}

void expose_port_close(struct expose *ex)
{
	for (size_t i = 0; i < ex->n_ctl; i++) {
		ev_io_stop(ex->loop, &ex->ctl_watcher[i]);
		close(ex->ctl_fd[i]);
	}
	ev_timer_stop(ex->loop, &ex->ctl_pause);
	ex->n_ctl = 0;
	ex->control_port = 0;
	while (!list_empty(&ex->incoming))
		incoming_destroy(list_entry(ex->incoming.next, struct expose_incoming, node), true);
}

void expose_port_open(struct expose *ex, json_t *changes)
{
	static bool is_logged; /* the budget, once per process */
	const struct iface_config *cfg = ex->iface->cfg;
	uint16_t port = expose_control_port(ex);
	union sockaddr_inet addrs[EXPOSE_MAX_CTL_SOCKETS];
	size_t n = 0;
	char buf[ADDR_STR_LEN];

	for (size_t i = 0; i < cfg->n_addresses && n < EXPOSE_MAX_CTL_SOCKETS; i++) {
		const struct ip_prefix *p = &cfg->addresses[i];

		memset(&addrs[n], 0, sizeof(addrs[n]));
		addrs[n].sa.sa_family = p->family;
		if (p->family == AF_INET) {
			addrs[n].in.sin_addr = p->addr.ip4;
			addrs[n].in.sin_port = htons(port);
		} else {
			addrs[n].in6.sin6_addr = p->addr.ip6;
			addrs[n].in6.sin6_port = htons(port);
		}
		n++;
	}
	if (n == 0) {
		memset(&addrs[0], 0, sizeof(addrs[0]));
		addrs[0].in6.sin6_family = AF_INET6;
		addrs[0].in6.sin6_port = htons(port);
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		int fd = open_control_socket(ex, &addrs[i]);

		if (fd < 0) {
			log_error("%s: localhost tunnels: cannot listen on %s: %s", ex->iface->name,
				  sockaddr_format(buf, sizeof(buf), &addrs[i]), strerror(-fd));
			continue;
		}
		ex->ctl_fd[ex->n_ctl] = fd;
		ev_io_init(&ex->ctl_watcher[ex->n_ctl], expose_on_control_accept, fd, EV_READ);
		ex->ctl_watcher[ex->n_ctl].data = ex;
		ev_io_start(ex->loop, &ex->ctl_watcher[ex->n_ctl]);
		ex->n_ctl++;
	}
	/* Not open at all: the next apply (a reload, a peer change) tries again. */
	ex->control_port = ex->n_ctl ? port : 0;
	if (ex->n_ctl && !is_logged) {
		is_logged = true;
		log_info("localhost tunnels: at most %zu relayed connections (of %zu descriptors: the open files limit less those kept for the daemon)",
			 expose_relay_cap(), expose_fd_budget());
	}
	if (ex->n_ctl)
		note_change(changes, false,
			    "%s: localhost tunnels: control port %u on %zu address%s",
			    ex->iface->name, port, ex->n_ctl, ex->n_ctl == 1 ? "" : "es");
}

void expose_port_init(struct expose *ex)
{
	ev_timer_init(&ex->ctl_pause, expose_on_control_pause, EXPOSE_PAUSE_S, 0);
	ex->ctl_pause.data = ex;
}

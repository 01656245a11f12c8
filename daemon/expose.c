// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels, the part both roles share: the control port (a TCP
 * listener on the interface's tunnel addresses, bound to its TUN device so
 * that only what came through the tunnel reaches it), the first line of each
 * accepted connection (a client's control session, or a server's relayed
 * connection), applying the configuration, and show. The roles are in
 * expose_client.c and expose_server.c; the protocol in
 * docs/localhost-tunnels.md.
 */
#include "expose.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "allowedips.h"
#include "clock.h"
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

/* ---- Helpers for both roles ---- */

const struct peer_config *expose_peer_config(const struct expose *ex, const uint8_t key[KEY_LEN])
{
	return iface_config_find_peer_key(ex->iface->cfg, key);
}

const char *expose_peer_label(const struct expose *ex, const uint8_t key[KEY_LEN], char *buf,
			      size_t len)
{
	const struct peer_config *pc = expose_peer_config(ex, key);
	char b64[KEY_BASE64_LEN + 1];

	if (pc && pc->name) {
		snprintf(buf, len, "%s", pc->name);
	} else {
		key_to_base64(b64, key);
		snprintf(buf, len, "%s", b64);
	}
	return buf;
}

size_t expose_max_connections(const struct expose *ex)
{
	uint32_t n = ex->iface->cfg->expose_max_connections;

	return n ? n : EXPOSE_DEFAULT_MAX_CONNECTIONS;
}

double expose_grace_s(const struct expose *ex)
{
	const struct iface_config *cfg = ex->iface->cfg;

	return cfg->has_expose_grace ? cfg->expose_grace_s : EXPOSE_DEFAULT_GRACE_S;
}

size_t expose_max_per_source(const struct expose *ex)
{
	uint32_t n = ex->iface->cfg->expose_max_per_source;

	return n ? n : EXPOSE_DEFAULT_MAX_PER_SOURCE;
}

double expose_idle_timeout_s(const struct expose *ex)
{
	const struct iface_config *cfg = ex->iface->cfg;

	return cfg->has_expose_idle_timeout ? cfg->expose_idle_timeout_s
					    : EXPOSE_DEFAULT_IDLE_TIMEOUT_S;
}

bool expose_same_address(const union sockaddr_inet *a, const union sockaddr_inet *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) == 0;
}

static uint16_t control_port(const struct expose *ex)
{
	uint16_t p = ex->iface->cfg->expose_control_port;

	return p ? p : EXPOSE_DEFAULT_CONTROL_PORT;
}

void expose_log_remote(struct expose *ex, enum log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_enabled(level) || !log_ratelimit_ok(&ex->log_rl, clock_now_s(), 5, 20))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s: %s", ex->iface->name, msg);
}

void expose_unmap(union sockaddr_inet *sa)
{
	struct sockaddr_in in = {.sin_family = AF_INET};

	if (sa->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sa->in6.sin6_addr))
		return;
	in.sin_port = sa->in6.sin6_port;
	memcpy(&in.sin_addr, &sa->in6.sin6_addr.s6_addr[12], 4);
	memset(sa, 0, sizeof(*sa));
	sa->in = in;
}

char *expose_format_listen(char *buf, size_t len, const union sockaddr_inet *sa)
{
	bool any = (sa->sa.sa_family == AF_INET && sa->in.sin_addr.s_addr == htonl(INADDR_ANY)) ||
		   (sa->sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&sa->in6.sin6_addr));

	if (any)
		snprintf(buf, len, "*:%u",
			 ntohs(sa->sa.sa_family == AF_INET ? sa->in.sin_port : sa->in6.sin6_port));
	else
		sockaddr_format(buf, len, sa);
	return buf;
}

static int set_freebind(int fd, sa_family_t family)
{
	int on = 1;

	/* The tunnel's IPv6 address may still be tentative (DAD) when we bind. */
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on));
}

/* Only traffic that came in (or goes out) through this interface's TUN device. */
static int bind_to_device(const struct expose *ex, int fd)
{
	return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ex->iface->name,
			  (socklen_t)strlen(ex->iface->name));
}

int expose_connect(struct expose *ex, const union sockaddr_inet *src,
		   const union sockaddr_inet *dst, bool *in_progress)
{
	int fd, rc;

	*in_progress = false;
	fd = socket(dst->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind_to_device(ex, fd) != 0)
		goto fail;
	if (src && src->sa.sa_family == dst->sa.sa_family) {
		union sockaddr_inet s = *src;

		if (s.sa.sa_family == AF_INET)
			s.in.sin_port = 0;
		else
			s.in6.sin6_port = 0;
		if (set_freebind(fd, s.sa.sa_family) != 0 || bind(fd, &s.sa, sockaddr_len(&s)) != 0)
			goto fail;
	}
	if (connect(fd, &dst->sa, sockaddr_len(dst)) != 0) {
		if (errno != EINPROGRESS)
			goto fail;
		*in_progress = true;
	}
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int expose_relay(struct expose *ex, int fd_a, int fd_b, bool b_connecting, const void *pre,
		 size_t len, void *owner, relay_done_fn done, struct relay **out)
{
	struct relay *r;
	int rc;

	*out = NULL;
	if (!ex->scratch && !(ex->scratch = malloc(RELAY_BUF_LEN))) {
		relay_close_reset(fd_a);
		relay_close_reset(fd_b);
		expose_fds_put(2);
		return -ENOMEM;
	}
	rc = relay_start(ex->loop, fd_a, fd_b, b_connecting, EXPOSE_CONNECT_TIMEOUT_S, pre, len,
			 ex->scratch, done, owner, &r);
	if (rc != 0) {
		expose_fds_put(2);
		return rc;
	}
	relay_set_idle_timeout(r, expose_idle_timeout_s(ex));
	list_add_tail(&r->node, &ex->relays);
	*out = r;
	return 0;
}

void expose_relays_detach(struct expose *ex, const void *owner)
{
	struct relay *r;

	list_for_each(r, &ex->relays, node)
		if (r->owner == owner)
			r->owner = NULL;
}

/* ---- Incoming connections on the control port ---- */

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

struct peer *expose_peer_of(const struct expose *ex, const union sockaddr_inet *remote)
{
	if (remote->sa.sa_family == AF_INET)
		return allowedips_lookup(ex->iface->allowedips, AF_INET, &remote->in.sin_addr);
	return allowedips_lookup(ex->iface->allowedips, AF_INET6, &remote->in6.sin6_addr);
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
	    bind_to_device(ex, fd) != 0 || set_freebind(fd, addr->sa.sa_family) != 0)
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

/* The control port and the connections accepted on it that have not said what they are. */
static void close_control(struct expose *ex)
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

/* The sockets of the control port: one per tunnel address, or [::] when there is none. */
static void open_control(struct expose *ex, json_t *changes)
{
	static bool is_logged; /* the budget, once per process */
	const struct iface_config *cfg = ex->iface->cfg;
	uint16_t port = control_port(ex);
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

/* ---- Applying the configuration ---- */

void expose_apply(struct expose *ex, json_t *changes)
{
	struct relay *r;
	bool wanted;

	if (!ex)
		return;
	wanted = ex->iface->cfg->n_exposes > 0 || expose_server_wanted(ex);
	if (ex->control_port && (!wanted || ex->control_port != control_port(ex)))
		close_control(ex);
	if (wanted && !ex->control_port)
		open_control(ex, changes);
	expose_server_sync(ex, changes);
	expose_client_sync(ex, changes);
	/* Cheap, and a new ExposeIdleTimeout holds for the connections already there too. */
	list_for_each(r, &ex->relays, node)
		relay_set_idle_timeout(r, expose_idle_timeout_s(ex));
}

static void expose_on_sync(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	expose_apply(w->data, NULL);
}

void expose_peers_changed(struct expose *ex)
{
	if (ex && !ev_is_active(&ex->sync_timer))
		ev_timer_start(ex->loop, &ex->sync_timer);
}

int expose_create(struct iface *iface, struct expose **out)
{
	struct expose *ex;

	*out = NULL;
	ex = calloc(1, sizeof(*ex));
	if (!ex || expose_sources_create(&ex->sources) != 0) {
		free(ex);
		return -ENOMEM;
	}

	ex->iface = iface;
	ex->loop = iface->loop;
	list_init(&ex->incoming);
	list_init(&ex->services);
	list_init(&ex->links);
	list_init(&ex->sessions);
	list_init(&ex->listeners);
	list_init(&ex->relays);
	ev_timer_init(&ex->sync_timer, expose_on_sync, 0, 0);
	ex->sync_timer.data = ex;
	ev_timer_init(&ex->ctl_pause, expose_on_control_pause, EXPOSE_PAUSE_S, 0);
	ex->ctl_pause.data = ex;
	expose_apply(ex, NULL);
	*out = ex;
	return 0;
}

void expose_destroy(struct expose *ex)
{
	if (!ex)
		return;
	ev_timer_stop(ex->loop, &ex->sync_timer);
	close_control(ex);
	expose_client_destroy_all(ex);
	expose_server_destroy_all(ex);
	while (!list_empty(&ex->relays)) {
		struct relay *r = list_entry(ex->relays.next, struct relay, node);

		list_del(&r->node);
		relay_destroy(r);
		expose_fds_put(2);
	}
	expose_sources_destroy(ex->sources); /* the relays' entries too */
	free(ex->scratch);
	free(ex);
}

bool expose_busy(const struct expose *ex)
{
	struct expose_link *k;

	if (!ex)
		return false;
	if (!list_empty(&ex->relays) || !list_empty(&ex->sessions))
		return true;
	list_for_each(k, &ex->links, node)
		if (k->conn)
			return true;
	return false;
}

/* ---- tunctl expose / unexpose ---- */

int expose_check(const struct expose *ex, struct expose_config *e, char *why, size_t len)
{
	const struct iface_config *cfg = ex->iface->cfg;
	const struct peer_config *pc = iface_config_find_peer(cfg, e->peer), *owner;
	char buf[ADDR_STR_LEN];

	if (!pc) {
		snprintf(why, len, "%s has no peer \"%s\"", ex->iface->name, e->peer);
		return -ENOENT;
	}
	memcpy(e->peer_key, pc->public_key, KEY_LEN);
	owner = e->has_server_address ? iface_config_route_owner(cfg, &e->server_address) : pc;
	if (owner != pc) {
		prefix_format_addr(buf, sizeof(buf), &e->server_address);
		if (owner)
			snprintf(why, len,
				 "the server address %s goes to another peer (a longer AllowedIPs entry), not to %s",
				 buf, e->peer);
		else
			snprintf(why, len, "the server address %s is not in the AllowedIPs of peer %s",
				 buf, e->peer);
		return -EINVAL;
	}
	if (!e->has_server_address && !expose_config_default_server(cfg, pc)) {
		snprintf(
			why, len,
			"peer %s has no single-address AllowedIPs entry (/32 or /128): give the server's tunnel address (--server-address)",
			e->peer);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_exposes; i++) {
		const struct expose_config *o = &cfg->exposes[i];

		if (strcmp(o->name, e->name) != 0 && o->public_port == e->public_port &&
		    memcmp(o->peer_key, e->peer_key, KEY_LEN) == 0) {
			snprintf(why, len,
				 "public port %u through peer %s is already asked for by %s",
				 e->public_port, e->peer, o->name);
			return -EEXIST;
		}
	}
	return 0;
}

int expose_add(struct expose *ex, const struct expose_config *e, char *why, size_t len)
{
	if (iface_config_put_expose(ex->iface->cfg, e) != 0) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	expose_apply(ex, NULL);
	return 0;
}

const char *expose_find(const struct expose *ex, const char *what)
{
	const struct iface_config *cfg = ex->iface->cfg;
	const struct expose_config *found = iface_config_find_expose(cfg, what);
	char *end;
	unsigned long port = strtoul(what, &end, 10);

	for (size_t i = 0; !found && *what && !*end && i < cfg->n_exposes; i++) {
		const union sockaddr_inet *l = &cfg->exposes[i].local;

		if (ntohs(l->sa.sa_family == AF_INET ? l->in.sin_port : l->in6.sin6_port) == port)
			found = &cfg->exposes[i];
	}
	return found ? found->name : NULL;
}

int expose_remove(struct expose *ex, const char *name)
{
	if (iface_config_drop_expose(ex->iface->cfg, name) != 0)
		return -ENOENT;
	expose_apply(ex, NULL);
	return 0;
}

/* ---- show ---- */

json_t *expose_service_json(const struct expose *ex, const char *name)
{
	struct expose_service *s;

	list_for_each(s, &ex->services, node)
		if (strcmp(s->cfg.name, name) == 0)
			return expose_client_json(s);
	return NULL;
}

void expose_show(const struct expose *ex, json_t *obj)
{
	json_t *services = json_array(), *listeners = json_array();
	struct expose_service *s;
	struct expose_listener *l;

	if (ex) {
		list_for_each(s, &ex->services, node)
			json_array_append_new(services, expose_client_json(s));
		list_for_each(l, &ex->listeners, node)
			json_array_append_new(listeners, expose_server_json(l));
	}
	json_object_set_new(obj, "exposes", services);
	json_object_set_new(obj, "public_ports", listeners);
}

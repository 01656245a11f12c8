// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels, client side: the services this interface publishes
 * ([Expose] sections, tunctl expose), one control connection per server
 * (peer and tunnel address) that asks for each of them and keeps pinging,
 * reconnecting with backoff when it fails, and the relayed connections the
 * server opens back to us, each joined to a new connection to the local
 * service (with a PROXY v2 header when asked).
 */
#include "expose_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "changes.h"
#include "clock.h"
#include "iface.h"
#include "peer.h"
#include "proxyv2.h"

static const char *const state_names[] = {
	[EXPOSE_PENDING] = "pending",
	[EXPOSE_ACTIVE] = "active",
	[EXPOSE_REFUSED] = "refused",
};

static uint16_t port_of(const union sockaddr_inet *sa)
{
	return ntohs(sa->sa.sa_family == AF_INET6 ? sa->in6.sin6_port : sa->in.sin_port);
}

static void set_message(struct expose_service *s, enum expose_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Copy text from the server into dst (len bytes), with every control
 * character a '?': it goes to our log and to tunctl show, where a newline
 * or an escape sequence of the server's must not forge lines or colours.
 */
static void copy_printable(char *dst, size_t len, const char *text)
{
	size_t i;

	for (i = 0; i + 1 < len && text[i]; i++)
		dst[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
	dst[i] = '\0';
}

static void set_message(struct expose_service *s, enum expose_state state, const char *fmt, ...)
{
	va_list ap;

	s->state = state;
	va_start(ap, fmt);
	vsnprintf(s->message, sizeof(s->message), fmt, ap);
	va_end(ap);
}

static bool link_used(const struct expose_link *k)
{
	struct expose_service *s;

	list_for_each(s, &k->ex->services, node)
		if (s->link == k)
			return true;
	return false;
}

static void arm(struct expose_link *k, double after_s)
{
	ev_timer_stop(k->ex->loop, &k->timer);
	ev_timer_set(&k->timer, after_s, 0);
	ev_timer_start(k->ex->loop, &k->timer);
}

static void link_destroy(struct expose_link *k)
{
	struct expose_service *s;

	list_for_each(s, &k->ex->services, node)
		if (s->link == k)
			s->link = NULL;
	ev_timer_stop(k->ex->loop, &k->timer);
	jsonline_destroy(k->conn);
	list_del(&k->node);
	free(k);
}

static bool link_connected(const struct expose_link *k)
{
	return k->conn && !k->conn->connecting;
}

/* Ask the server for s on k's connection. */
static void send_expose(struct expose_link *k, struct expose_service *s)
{
	json_t *msg;

	if (!k->conn)
		return;
	msg = json_pack("{s:s,s:i,s:s,s:i,s:b}", "op", "expose", "version",
			EXPOSE_PROTOCOL_VERSION, "name", s->cfg.name, "public_port",
			(int)s->cfg.public_port, "proxy_protocol", s->cfg.proxy_protocol);
	if (jsonline_send(k->conn, msg) != 0)
		return;
	s->is_sent = true;
	if (s->state != EXPOSE_REFUSED)
		set_message(s, EXPOSE_PENDING, "waiting for the server's answer");
}

static void send_unexpose(struct expose_link *k, const char *name)
{
	if (k->conn)
		(void)jsonline_send(k->conn,
				    json_pack("{s:s,s:s}", "op", "unexpose", "name", name));
}

/* The control connection failed or ended: services wait, and we connect again later. */
static void link_fail(struct expose_link *k, const char *why)
{
	char addr[ADDR_STR_LEN];
	struct expose_service *s;

	sockaddr_format(addr, sizeof(addr), &k->server);
	if (k->is_up)
		expose_log_remote(
			k->ex, LOG_LEVEL_WARN,
			"localhost tunnels: control connection to %s lost: %s; connecting again",
			addr, why);
	else
		expose_log_remote(
			k->ex, LOG_LEVEL_DEBUG,
			"localhost tunnels: control connection to %s: %s; again in %.0f s", addr,
			why, k->backoff_s);
	jsonline_destroy(k->conn);
	k->conn = NULL;
	k->is_up = false;
	snprintf(k->why, sizeof(k->why), "%s", why);
	list_for_each(s, &k->ex->services, node) {
		if (s->link != k)
			continue;
		s->is_sent = false;
		if (s->state != EXPOSE_REFUSED)
			set_message(s, EXPOSE_PENDING, "control connection to %s: %s; retrying",
				    addr, why);
	}
	arm(k, k->backoff_s);
	k->backoff_s =
		k->backoff_s * 2 > EXPOSE_BACKOFF_MAX_S ? EXPOSE_BACKOFF_MAX_S : k->backoff_s * 2;
}

static struct expose_service *service_on_link(struct expose_link *k, const char *name)
{
	struct expose_service *s;

	list_for_each(s, &k->ex->services, node)
		if (s->link == k && strcmp(s->cfg.name, name) == 0)
			return s;
	return NULL;
}

/* The server's answer to an expose, or its notice that it closed one ("closed"). */
static void handle_answer(struct expose_link *k, json_t *msg, bool is_closed)
{
	struct expose_service *s = service_on_link(k, expose_str(msg, "name"));
	const char *listen_in = json_string_value(json_object_get(msg, "listen"));
	const char *text_in = json_string_value(json_object_get(msg, "message"));
	char label[KEY_BASE64_LEN + 1], listen[sizeof(s->listen)], text[sizeof(s->message)];

	if (!s)
		return;
	s->is_sent = false;
	expose_peer_label(k->ex, k->peer_key, label, sizeof(label));
	copy_printable(text, sizeof(text), text_in ? text_in : "refused by the server");
	if (!is_closed && json_is_true(json_object_get(msg, "ok")) && listen_in) {
		bool changed;

		copy_printable(listen, sizeof(listen), listen_in);
		changed = s->state != EXPOSE_ACTIVE || strcmp(s->listen, listen) != 0;
		memcpy(s->listen, listen, sizeof(listen));
		set_message(s, EXPOSE_ACTIVE, "%s", "");
		if (changed)
			expose_log_remote(k->ex, LOG_LEVEL_INFO,
					  "expose %s: published by peer %s on %s", s->cfg.name,
					  label, s->listen);
		if (changed)
			expose_event(k->ex, "expose-published", k->peer_key, false, s->cfg.name,
				     0, s->listen, NULL);
		return;
	}
	s->listen[0] = '\0';
	s->refused_s = clock_now_s();
	if (s->state != EXPOSE_REFUSED || strcmp(s->message, text) != 0)
		expose_log_remote(k->ex, LOG_LEVEL_WARN, "expose %s: %s by peer %s: %s",
				  s->cfg.name, is_closed ? "closed" : "refused", label, text);
	if (s->state != EXPOSE_REFUSED || strcmp(s->message, text) != 0)
		expose_event(k->ex, is_closed ? "expose-withdrawn" : "expose-refused", k->peer_key,
			     false, s->cfg.name, 0, NULL, text);
	set_message(s, EXPOSE_REFUSED, "%s", text);
}

/* Ask again for k's services refused at least after_s ago and not asked for now. */
static void retry_refused(struct expose_link *k, double after_s)
{
	double now_s = clock_now_s();
	struct expose_service *s;

	list_for_each(s, &k->ex->services, node)
		if (s->link == k && s->state == EXPOSE_REFUSED && !s->is_sent &&
		    now_s - s->refused_s >= after_s)
			send_expose(k, s);
}

static bool link_on_msg(struct jsonline *conn, json_t *msg)
{
	struct expose_link *k = conn->owner;
	const char *op = json_string_value(json_object_get(msg, "op"));

	k->last_rx_s = clock_now_s();
	if (!msg || !op) {
		link_fail(k, "the server sent a line that is not a message");
		return false;
	}
	if (!k->is_up) {
		char addr[ADDR_STR_LEN];

		k->is_up = true;
		k->backoff_s = EXPOSE_BACKOFF_MIN_S;
		k->why[0] = '\0';
		expose_log_remote(k->ex, LOG_LEVEL_INFO,
				  "localhost tunnels: control connection to %s up",
				  sockaddr_format(addr, sizeof(addr), &k->server));
	}
	if (strcmp(op, "expose") == 0 || strcmp(op, "closed") == 0)
		handle_answer(k, msg, strcmp(op, "closed") == 0);
	else if (strcmp(op, "changed") == 0)
		retry_refused(k, 0);
	/* "pong", "unexpose" answers, and what a newer server may add: nothing to do. */
	return true;
}

static void link_on_close(struct jsonline *conn, int err)
{
	struct expose_link *k = conn->owner;

	if (err == 0)
		link_fail(k, "closed by the server");
	else if (err == -EMSGSIZE)
		link_fail(k, "the server sent a line that is too long");
	else
		link_fail(k, strerror(-err));
}

/* Our tunnel address of the server's family: the source of the connection. */
static const union sockaddr_inet *
source_for(const struct expose *ex, const union sockaddr_inet *server, union sockaddr_inet *buf)
{
	const struct iface_config *cfg = ex->iface->cfg;

	for (size_t i = 0; i < cfg->n_addresses; i++) {
		const struct ip_prefix *p = &cfg->addresses[i];

		if (p->family != server->sa.sa_family)
			continue;
		memset(buf, 0, sizeof(*buf));
		buf->sa.sa_family = p->family;
		if (p->family == AF_INET)
			buf->in.sin_addr = p->addr.ip4;
		else
			buf->in6.sin6_addr = p->addr.ip6;
		return buf;
	}
	return NULL;
}

/* fd is the connection to the server (in_progress: still connecting): ask for every service. */
static void link_start(struct expose_link *k, int fd, bool in_progress)
{
	struct expose *ex = k->ex;
	struct expose_service *s;

	if (jsonline_create(ex->loop, fd, in_progress, link_on_msg, link_on_close, k, &k->conn) !=
	    0) {
		link_fail(k, "out of memory");
		return;
	}
	k->last_rx_s = clock_now_s();
	list_for_each(s, &ex->services, node)
		if (s->link == k)
			send_expose(k, s);
	arm(k, EXPOSE_PING_INTERVAL_S);
}

static void link_connect(struct expose_link *k)
{
	union sockaddr_inet src_buf;
	bool in_progress;
	int fd;

	fd = expose_connect(k->ex, source_for(k->ex, &k->server, &src_buf), &k->server,
			    &in_progress);
	if (fd < 0) {
		link_fail(k, strerror(-fd));
		return;
	}
	link_start(k, fd, in_progress);
}

int expose_client_adopt_link(struct expose *ex, const union sockaddr_inet *server, int fd)
{
	struct expose_link *k;

	list_for_each(k, &ex->links, node) {
		if (!sockaddr_equal(&k->server, server))
			continue;
		jsonline_destroy(k->conn);
		k->conn = NULL;
		link_start(k, fd, false);
		return 0;
	}
	close(fd);
	return -ENOENT;
}

/* One timer per link; what it means follows from the link's state. */
static void expose_on_link_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct expose_link *k = w->data;
	double now_s = clock_now_s();

	(void)loop;
	(void)revents;
	if (!link_used(k)) {
		link_destroy(k); /* the linger after its last service went */
		return;
	}
	if (!k->conn) {
		link_connect(k);
		return;
	}
	if (k->conn->connecting) {
		link_fail(k, "cannot connect: timed out");
		return;
	}
	if (now_s - k->last_rx_s >= EXPOSE_DEAD_AFTER_S) {
		link_fail(k, "no answer from the server");
		return;
	}
	(void)jsonline_send(k->conn, json_pack("{s:s}", "op", "ping"));
	retry_refused(k, EXPOSE_REFUSED_RETRY_S);
	arm(k, EXPOSE_PING_INTERVAL_S);
}

/* The link to (key, server), made when missing; it connects from the timer. */
static struct expose_link *link_get(struct expose *ex, const uint8_t key[KEY_LEN],
				    const union sockaddr_inet *server)
{
	struct expose_link *k;

	list_for_each(k, &ex->links, node)
		if (memcmp(k->peer_key, key, KEY_LEN) == 0 && sockaddr_equal(&k->server, server))
			return k;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->ex = ex;
	memcpy(k->peer_key, key, KEY_LEN);
	k->server = *server;
	k->backoff_s = EXPOSE_BACKOFF_MIN_S;
	ev_timer_init(&k->timer, expose_on_link_timer, 0, 0);
	k->timer.data = k;
	list_add_tail(&k->node, &ex->links);
	arm(k, 0);
	return k;
}

/* ---- Services ---- */

static void service_destroy(struct expose_service *s, bool tell_server)
{
	struct expose_link *k = s->link;

	if (k && tell_server && (s->state == EXPOSE_ACTIVE || s->is_sent))
		send_unexpose(k, s->cfg.name);
	if (k && s->state == EXPOSE_ACTIVE)
		expose_event(s->ex, "expose-withdrawn", k->peer_key, false, s->cfg.name, 0,
			     s->listen, "no longer published by this side");
	expose_relays_detach(s->ex, s);
	list_del(&s->node);
	expose_config_clear(&s->cfg);
	free(s);
	if (k && !link_used(k))
		arm(k, EXPOSE_LINGER_S);
}

/* The server's tunnel address and control port for s, or a reason in s->message. */
static bool resolve_server(struct expose_service *s, union sockaddr_inet *out)
{
	struct expose *ex = s->ex;
	const struct peer_config *pc = expose_peer_config(ex, s->cfg.peer_key);
	const struct ip_prefix *p;
	struct peer *owner;
	uint16_t port = ex->iface->cfg->expose_control_port;

	if (!pc) {
		set_message(s, EXPOSE_PENDING, "peer %s is not configured on %s", s->cfg.peer,
			    ex->iface->name);
		return false;
	}
	p = s->cfg.has_server_address ? &s->cfg.server_address
				      : expose_config_default_server(ex->iface->cfg, pc);
	if (!p) {
		set_message(s, EXPOSE_PENDING,
			    "peer %s has no single-address AllowedIPs entry for the server's tunnel address",
			    s->cfg.peer);
		return false;
	}
	memset(out, 0, sizeof(*out));
	out->sa.sa_family = p->family;
	port = port ? port : EXPOSE_DEFAULT_CONTROL_PORT;
	if (p->family == AF_INET) {
		out->in.sin_addr = p->addr.ip4;
		out->in.sin_port = htons(port);
	} else {
		out->in6.sin6_addr = p->addr.ip6;
		out->in6.sin6_port = htons(port);
	}
	/* Where cryptokey routing sends it, by the longest prefix: not some peer's list. */
	owner = expose_peer_of(ex, out);
	if (!owner || memcmp(owner->public_key, s->cfg.peer_key, KEY_LEN) != 0) {
		set_message(s, EXPOSE_PENDING,
			    "the server's tunnel address does not go to peer %s (AllowedIPs)",
			    s->cfg.peer);
		return false;
	}
	return true;
}

/* Put s on the link to its server (or none), asking for it when that link is connected. */
static void service_route(struct expose_service *s)
{
	union sockaddr_inet server;
	struct expose_link *k = NULL, *old = s->link;

	if (resolve_server(s, &server))
		k = link_get(s->ex, s->cfg.peer_key, &server);
	if (k == old)
		return;
	if (old && (s->state == EXPOSE_ACTIVE || s->is_sent))
		send_unexpose(old, s->cfg.name);
	s->link = k;
	s->is_sent = false;
	s->server = k ? server : (union sockaddr_inet){0};
	if (old && !link_used(old))
		arm(old, EXPOSE_LINGER_S);
	if (k && link_connected(k))
		send_expose(k, s);
	else if (k)
		set_message(s, EXPOSE_PENDING, "connecting to the server");
}

static struct expose_service *service_find(struct expose *ex, const char *name)
{
	struct expose_service *s;

	list_for_each(s, &ex->services, node)
		if (strcmp(s->cfg.name, name) == 0)
			return s;
	return NULL;
}

static void service_add(struct expose *ex, const struct expose_config *e, json_t *changes)
{
	struct expose_service *s = calloc(1, sizeof(*s));
	char local[ADDR_STR_LEN];

	if (!s || expose_config_copy(&s->cfg, e) != 0) {
		free(s);
		log_error("%s: expose %s: out of memory", ex->iface->name, e->name);
		return;
	}
	s->ex = ex;
	set_message(s, EXPOSE_PENDING, "starting");
	list_add_tail(&s->node, &ex->services);
	note_change(changes, false, "%s: expose %s: %s through peer %s, public port %u",
		    ex->iface->name, e->name, sockaddr_format(local, sizeof(local), &e->local),
		    e->peer, e->public_port);
}

/* Only where the local service is changed: the server need not hear of it. */
static bool same_for_server(const struct expose_config *a, const struct expose_config *b)
{
	struct expose_config x = *a;

	x.local = b->local;
	x.line = b->line;
	return expose_config_same(&x, b);
}

void expose_client_sync(struct expose *ex, json_t *changes)
{
	const struct iface_config *cfg = ex->iface->cfg;
	struct expose_service *s, *tmp;

	list_for_each_safe(s, tmp, &ex->services, node) {
		const struct expose_config *e = iface_config_find_expose(cfg, s->cfg.name);

		if (e && expose_config_same(e, &s->cfg))
			continue;
		if (e && same_for_server(e, &s->cfg)) {
			s->cfg.local = e->local;
			note_change(changes, false, "%s: expose %s: local service changed",
				    ex->iface->name, e->name);
			continue;
		}
		if (!e)
			note_change(changes, false, "%s: expose %s: removed", ex->iface->name,
				    s->cfg.name);
		service_destroy(s, true);
	}
	for (size_t i = 0; i < cfg->n_exposes; i++)
		if (!service_find(ex, cfg->exposes[i].name))
			service_add(ex, &cfg->exposes[i], changes);
	list_for_each(s, &ex->services, node)
		service_route(s);
}

/* ---- Relayed connections from the server ---- */

static void service_relay_done(struct relay *r, void *owner, int err)
{
	struct expose_service *s = owner;

	list_del(&r->node);
	expose_fds_put(2);
	if (s)
		s->n_active--;
	if (err == -ETIME)
		log_debug("expose: a relayed connection was idle too long; reset");
	else if (err)
		log_debug("expose: a relayed connection failed: %s", strerror(-err));
}

/* A connection to the local service, in progress or made. -errno on failure. */
static int connect_local(const struct expose_service *s, bool *in_progress)
{
	int fd = socket(s->cfg.local.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	*in_progress = false;
	if (fd < 0)
		return -errno;
	if (connect(fd, &s->cfg.local.sa, sockaddr_len(&s->cfg.local)) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		*in_progress = true;
		return fd;
	}
	rc = -errno;
	close(fd);
	return rc;
}

bool expose_client_is_server(const struct expose *ex, const uint8_t peer_key[KEY_LEN],
			     const union sockaddr_inet *remote)
{
	const struct expose_link *k;

	list_for_each(k, &ex->links, node)
		if (memcmp(k->peer_key, peer_key, KEY_LEN) == 0 &&
		    expose_same_address(&k->server, remote))
			return true;
	return false;
}

/* Why peer may not open a data connection to s from remote, or NULL when it may. */
static const char *connect_refused(const struct expose_service *s, const uint8_t peer_key[KEY_LEN],
				   const union sockaddr_inet *remote)
{
	if (!s || memcmp(s->cfg.peer_key, peer_key, KEY_LEN) != 0)
		return "which it was not given";
	/* Only the server's own address, where our control connection for s went. */
	if (!s->link || !expose_same_address(&s->server, remote))
		return "from an address other than the one its control connection reached";
	if (s->state != EXPOSE_ACTIVE)
		return s->state == EXPOSE_REFUSED ? "which it refused" : "which it has not accepted";
	return NULL;
}

void expose_client_connect(struct expose *ex, const uint8_t peer_key[KEY_LEN],
			   const union sockaddr_inet *from, struct jsonline *conn, json_t *msg)
{
	const char *name = json_string_value(json_object_get(msg, "name")), *why;
	uint8_t pre[PROXYV2_MAX_LEN + JSONLINE_MAX];
	union sockaddr_inet remote, local;
	struct expose_service *s = name ? service_find(ex, name) : NULL;
	char label[KEY_BASE64_LEN + 1], addr[ADDR_STR_LEN], what[EXPOSE_NAME_MAX + 1];
	size_t n = 0, rest;
	bool in_progress;
	int fd_tunnel, fd_local;
	struct relay *r;

	why = connect_refused(s, peer_key, from);
	if (why) {
		copy_printable(what, sizeof(what), name ? name : "(no name)");
		expose_log_remote(ex, LOG_LEVEL_WARN,
				  "peer %s asked from %s to connect to \"%s\", %s; reset",
				  expose_peer_label(ex, peer_key, label, sizeof(label)),
				  sockaddr_format(addr, sizeof(addr), from), what, why);
		relay_close_reset(jsonline_release(conn, pre, sizeof(pre), &rest));
		return;
	}
	if (s->n_active >= expose_max_connections(ex) || !expose_fds_take_relay()) {
		s->n_refused++;
		if (s->n_active >= expose_max_connections(ex))
			expose_log_remote(
				ex, LOG_LEVEL_WARN,
				"expose %s: %zu connections (ExposeMaxConnections); refusing one",
				s->cfg.name, s->n_active);
		else
			expose_log_remote(ex, LOG_LEVEL_WARN,
					  "expose %s: out of descriptors for relays; refusing one",
					  s->cfg.name);
		relay_close_reset(jsonline_release(conn, pre, sizeof(pre), &rest));
		return;
	}
	if (s->cfg.proxy_protocol) {
		bool ok = sockaddr_parse_numeric(expose_str(msg, "remote"), &remote) == 0 &&
			  sockaddr_parse_numeric(expose_str(msg, "local"), &local) == 0;

		n = proxyv2_encode(pre, ok ? &remote : NULL, ok ? &local : NULL);
	}
	fd_tunnel = jsonline_release(conn, pre + n, sizeof(pre) - n, &rest);
	n += rest;
	fd_local = connect_local(s, &in_progress);
	if (fd_local < 0) {
		s->n_refused++;
		expose_log_remote(ex, LOG_LEVEL_WARN,
				  "expose %s: cannot connect to the local service: %s", s->cfg.name,
				  strerror(-fd_local));
		relay_close_reset(fd_tunnel);
		expose_fds_put(2);
		return;
	}
	if (expose_relay(ex, fd_tunnel, fd_local, in_progress, pre, n, s, service_relay_done, &r) !=
	    0)
		return;
	s->n_active++;
	s->n_total++;
}

/* ---- show ---- */

/* Where users reach the service: the listening address, or the server's endpoint for "*". */
static void public_address(const struct expose_service *s, char *buf, size_t len)
{
	struct peer *peer = iface_find_peer(s->ex->iface, s->cfg.peer_key);
	char host[ADDR_STR_LEN];
	union sockaddr_inet a;

	buf[0] = '\0';
	if (s->state != EXPOSE_ACTIVE)
		return;
	if (strncmp(s->listen, "*:", 2) != 0) {
		snprintf(buf, len, "%s", s->listen);
		return;
	}
	if (!peer || !peer->has_endpoint)
		return;
	a = peer->endpoint.addr;
	expose_unmap(&a);
	if (a.sa.sa_family == AF_INET)
		a.in.sin_port = htons(s->cfg.public_port);
	else
		a.in6.sin6_port = htons(s->cfg.public_port);
	snprintf(buf, len, "%s", sockaddr_format(host, sizeof(host), &a));
}

json_t *expose_client_json(const struct expose_service *s)
{
	char local[ADDR_STR_LEN], server[ADDR_STR_LEN] = "", pub[ADDR_STR_LEN];

	if (s->server.sa.sa_family)
		sockaddr_format(server, sizeof(server), &s->server);
	public_address(s, pub, sizeof(pub));
	return json_pack("{s:s,s:s,s:s,s:i,s:i,s:b,s:s?,s:s,s:s?,s:s?,s:s?,s:I,s:I,s:I}", "name",
			 s->cfg.name, "peer", s->cfg.peer, "local",
			 sockaddr_format(local, sizeof(local), &s->cfg.local), "local_port",
			 (int)port_of(&s->cfg.local), "public_port", (int)s->cfg.public_port,
			 "proxy_protocol", s->cfg.proxy_protocol, "server",
			 server[0] ? server : NULL, "state", state_names[s->state], "message",
			 s->message[0] ? s->message : NULL, "listen",
			 s->listen[0] ? s->listen : NULL, "public_address", pub[0] ? pub : NULL,
			 "active_connections", (json_int_t)s->n_active, "total_connections",
			 (json_int_t)s->n_total, "refused_connections", (json_int_t)s->n_refused);
}

void expose_client_destroy_all(struct expose *ex)
{
	while (!list_empty(&ex->services))
		service_destroy(list_entry(ex->services.next, struct expose_service, node), false);
	while (!list_empty(&ex->links))
		link_destroy(list_entry(ex->links.next, struct expose_link, node));
}

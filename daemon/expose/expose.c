// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels, the part both roles share: helpers, the sockets both
 * open through the tunnel, relays, applying the configuration, tunctl
 * expose and unexpose, and show. The control port is in expose_port.c, the
 * roles in expose_client.c and expose_server.c, the limits in
 * expose_limits.c; the protocol in docs/localhost-tunnels.md.
 */
#include "expose.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "allowedips.h"
#include "clock.h"
#include "events.h"
#include "expose_int.h"
#include "iface.h"
#include "peer.h"

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

void expose_event(const struct expose *ex, const char *event, const uint8_t key[KEY_LEN],
		  bool server, const char *service, unsigned int port, const char *listen,
		  const char *message)
{
	const struct peer_config *pc;
	json_t *details;

	if (!events_wanted())
		return;
	pc = expose_peer_config(ex, key);
	details = json_pack("{s:s,s:s?}", "role", server ? "server" : "client", "service", service);
	if (details && port)
		json_object_set_new(details, "port", json_integer(port));
	if (details && listen)
		json_object_set_new(details, "listen", json_string(listen));
	if (details && message)
		json_object_set_new(details, "message", json_string(message));
	events_emit(event, ex->iface->name, key, pc ? pc->name : NULL, details);
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

uint16_t expose_control_port(const struct expose *ex)
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

int expose_set_freebind(int fd, sa_family_t family)
{
	int on = 1;

	/* The tunnel's IPv6 address may still be tentative (DAD) when we bind. */
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on));
}

/* A public port's listening socket (expose_server.c). */
int expose_listen_tcp(const union sockaddr_inet *a)
{
	int fd, on = 1, off = 0, rc;

	fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_REUSEADDR: a port freed moments ago (TIME_WAIT) can be published again. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr) &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0) ||
	    bind(fd, &a->sa, sockaddr_len(a)) != 0 || listen(fd, 1024) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Only traffic that came in (or goes out) through this interface's TUN device. */
int expose_bind_to_device(const struct expose *ex, int fd)
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
	if (expose_bind_to_device(ex, fd) != 0)
		goto fail;
	if (src && src->sa.sa_family == dst->sa.sa_family) {
		union sockaddr_inet s = *src;

		if (s.sa.sa_family == AF_INET)
			s.in.sin_port = 0;
		else
			s.in6.sin6_port = 0;
		if (expose_set_freebind(fd, s.sa.sa_family) != 0 || bind(fd, &s.sa, sockaddr_len(&s)) != 0)
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

struct peer *expose_peer_of(const struct expose *ex, const union sockaddr_inet *remote)
{
	if (remote->sa.sa_family == AF_INET)
		return allowedips_lookup(ex->iface->allowedips, AF_INET, &remote->in.sin_addr);
	return allowedips_lookup(ex->iface->allowedips, AF_INET6, &remote->in6.sin6_addr);
}

/* ---- Applying the configuration ---- */

void expose_apply(struct expose *ex, json_t *changes)
{
	struct relay *r;
	bool wanted;

	if (!ex)
		return;
	wanted = ex->iface->cfg->n_exposes > 0 || expose_server_wanted(ex);
	if (ex->control_port && (!wanted || ex->control_port != expose_control_port(ex)))
		expose_port_close(ex);
	if (wanted && !ex->control_port)
		expose_port_open(ex, changes);
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
	expose_port_init(ex);
	expose_apply(ex, NULL);
	*out = ex;
	return 0;
}

void expose_destroy(struct expose *ex)
{
	if (!ex)
		return;
	ev_timer_stop(ex->loop, &ex->sync_timer);
	expose_port_close(ex);
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

void expose_counts(const struct expose *ex, struct expose_counts *out)
{
	struct expose_service *s;
	struct expose_listener *l;

	*out = (struct expose_counts){0};
	if (!ex)
		return;
	list_for_each(s, &ex->services, node) {
		out->total[0] += s->n_total;
		out->refused[0] += s->n_refused;
		out->active[0] += s->n_active;
	}
	list_for_each(l, &ex->listeners, node) {
		out->total[1] += l->n_total;
		out->refused[1] += l->n_refused;
		out->active[1] += l->n_active;
	}
}

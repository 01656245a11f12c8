// SPDX-License-Identifier: MIT
/*
 * Peer objects: creation from a [Peer] config, in-place update that keeps
 * the session, endpoint tracking (roaming), the staged-packet queue and the
 * log prefix. The tables that find peers are iface.c's.
 */
#include "peer.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "iface.h"
#include "resolve.h"
#include "send.h"
#include "udp.h"

/*
 * A numeric host:port, with no DNS: 0, -EAGAIN when host is a name, or
 * another -errno.
 */
static int numeric_endpoint(const char *host, uint16_t port, union sockaddr_inet *out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
				 .ai_protocol = IPPROTO_UDP,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portstr[8];
	int rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc == EAI_NONAME)
		return -EAGAIN;
	if (rc != 0)
		return -EINVAL;
	rc = -EINVAL;
	if ((res->ai_family == AF_INET && res->ai_addrlen == sizeof(struct sockaddr_in)) ||
	    (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof(struct sockaddr_in6))) {
		memset(out, 0, sizeof(*out));
		memcpy(out, res->ai_addr, res->ai_addrlen);
		rc = 0;
	}
	freeaddrinfo(res);
	return rc;
}

static void use_configured_endpoint(struct peer *peer, const union sockaddr_inet *sa)
{
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	peer->endpoint.addr = *sa;
	peer->has_endpoint = true;
}

static void unresolved(struct peer *peer)
{
	/* Not fatal: the peer may still reach us and be learnt by roaming. */
	peer_log(LOG_LEVEL_WARN, peer,
		 "cannot resolve endpoint %s port %u; waiting for the peer to reach us",
		 peer->endpoint_host, peer->endpoint_port);
}

/* The answer for Endpoint = NAME:PORT, on the loop (resolve.c). */
static void on_resolved(void *ctx, int rc, const union sockaddr_inet *sa)
{
	struct peer *peer = ctx;
	char buf[ADDR_STR_LEN];

	peer->resolving = NULL;
	if (rc != 0) {
		unresolved(peer);
		return;
	}
	use_configured_endpoint(peer, sa);
	peer_log(LOG_LEVEL_DEBUG, peer, "endpoint %s resolved to %s", peer->endpoint_host,
		 sockaddr_format(buf, sizeof(buf), sa));
	/* Packets that waited for an address, sent now by this interface's socket. */
	send_staged_packets(peer, clock_now_s());
	peer->iface->stats.tx_errors += udp_flush(peer->iface->scratch);
}

/*
 * Take the endpoint host (owned; NULL: none) and port: a numeric one at
 * once, a name on the resolver's thread (the loop goes on; packets are
 * staged meanwhile). Cannot fail: a name that does not resolve waits for
 * the peer to reach us.
 */
static void set_configured_endpoint(struct peer *peer, char *host, uint16_t port)
{
	union sockaddr_inet sa;
	int rc;

	resolve_cancel(peer->resolving);
	peer->resolving = NULL;
	free(peer->endpoint_host);
	peer->endpoint_host = host;
	peer->endpoint_port = port;
	if (!host)
		return;
	rc = numeric_endpoint(host, port, &sa);
	if (rc == 0)
		use_configured_endpoint(peer, &sa);
	else if (rc != -EAGAIN)
		unresolved(peer);
	else if (!(peer->resolving = resolve_start(host, port, on_resolved, peer)))
		unresolved(peer);
	else
		peer_log(LOG_LEVEL_DEBUG, peer, "resolving endpoint %s", host);
}

/* A copy of s in *out (NULL for NULL): 0 or -ENOMEM. */
static int dup_or_null(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int peer_create(struct iface *iface, const struct peer_config *pc, uint64_t id, struct peer **out)
{
	struct peer *peer;
	char *host = NULL;

	*out = NULL;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	peer->iface = iface;
	peer->id = id;
	list_init(&peer->node);
	memcpy(peer->public_key, pc->public_key, NOISE_PUBLIC_KEY_LEN);
	if (dup_or_null(pc->name, &peer->name) != 0 || dup_or_null(pc->endpoint_host, &host) != 0) {
		free(peer->name);
		free(peer);
		return -ENOMEM;
	}
	peer->has_preshared_key = pc->has_preshared_key;
	noise_handshake_init(&peer->handshake, &iface->local, pc->public_key,
			     pc->has_preshared_key ? pc->preshared_key : NULL, peer);
	peer->keypairs.index = iface->index;
	cookie_init(&peer->cookie, pc->public_key);
	timers_init(peer);
	peer->persistent_keepalive_s = pc->persistent_keepalive_s;
	peer->last_sent_handshake_s = -1e9;
	set_configured_endpoint(peer, host, pc->endpoint_port);
	*out = peer;
	return 0;
}

int peer_update(struct peer *peer, const struct peer_config *pc, double now_s)
{
	bool name_changed = !same_string(peer->name, pc->name);
	/*
	 * Only a changed Endpoint= overrides the endpoint: an unchanged one
	 * must not undo what roaming learnt.
	 */
	bool endpoint_changed = !same_string(peer->endpoint_host, pc->endpoint_host) ||
				peer->endpoint_port != pc->endpoint_port;
	char *name = NULL, *host = NULL;

	/* Everything that can fail comes first: a failed update leaves the peer as it was. */
	if ((name_changed && dup_or_null(pc->name, &name) != 0) ||
	    (endpoint_changed && dup_or_null(pc->endpoint_host, &host) != 0)) {
		free(name);
		return -ENOMEM;
	}
	if (name_changed) {
		free(peer->name);
		peer->name = name;
	}
	if (peer->has_preshared_key != pc->has_preshared_key ||
	    (pc->has_preshared_key &&
	     !crypto_memeq(peer->handshake.preshared_key, pc->preshared_key, KEY_LEN))) {
		noise_handshake_set_psk(&peer->handshake,
					pc->has_preshared_key ? pc->preshared_key : NULL);
		peer->has_preshared_key = pc->has_preshared_key;
	}
	if (endpoint_changed)
		set_configured_endpoint(peer, host, pc->endpoint_port);
	if (peer->persistent_keepalive_s != pc->persistent_keepalive_s) {
		peer->persistent_keepalive_s = pc->persistent_keepalive_s;
		timers_persistent_keepalive_changed(peer, now_s);
	}
	return 0;
}

void peer_destroy(struct peer *peer)
{
	if (!peer)
		return;
	resolve_cancel(peer->resolving);
	/* The send queue may hold this peer's datagrams: send them while it exists. */
	if (peer->iface && peer->iface->scratch)
		peer->iface->stats.tx_errors += udp_flush(peer->iface->scratch);
	timers_stop(peer);
	peer_purge_staged(peer);
	noise_keypairs_clear(&peer->keypairs);
	noise_handshake_destroy(&peer->handshake);
	free(peer->name);
	free(peer->endpoint_host);
	crypto_wipe(peer, sizeof(*peer));
	free(peer);
}

void peer_set_endpoint_from(struct peer *peer, const struct endpoint *from)
{
	struct endpoint *ep = &peer->endpoint;

	if (peer->has_endpoint && sockaddr_equal(&ep->addr, &from->addr)) {
		if (udp_endpoint_same_src(ep, from))
			return;
	} else if (peer->has_endpoint) {
		char buf[ADDR_STR_LEN];

		peer_log(LOG_LEVEL_DEBUG, peer, "endpoint changed to %s",
			 sockaddr_format(buf, sizeof(buf), &from->addr));
	}
	*ep = *from;
	peer->has_endpoint = true;
	/* The peer reached us: its authenticated address beats a late DNS answer. */
	resolve_cancel(peer->resolving);
	peer->resolving = NULL;
}

static struct staged_pkt *staged_alloc(size_t len)
{
	struct staged_pkt *p = malloc(sizeof(*p) + PKT_HEADROOM + len + PKT_TAILROOM);

	if (!p)
		return NULL;
	p->next = NULL;
	p->len = len;
	return p;
}

static void staged_push(struct staged_queue *q, struct staged_pkt *p)
{
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->count++;
}

static void staged_drop_oldest(struct staged_queue *q)
{
	struct staged_pkt *p = q->head;

	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	free(p);
}

void peer_stage_packet(struct peer *peer, const uint8_t *packet, size_t len)
{
	struct staged_pkt *p;

	/* Like the driver: keep the newest, the oldest are the most likely to be stale. */
	if (peer->staged.count >= MAX_STAGED_PACKETS) {
		staged_drop_oldest(&peer->staged);
		peer->iface->stats.tx_staged_dropped++;
	}
	p = staged_alloc(len);
	if (!p) {
		peer->iface->stats.tx_staged_dropped++;
		return;
	}
	memcpy(p->buf + PKT_HEADROOM, packet, len);
	staged_push(&peer->staged, p);
}

void peer_stage_keepalive(struct peer *peer)
{
	struct staged_pkt *p;

	if (peer->staged.count)
		return;
	p = staged_alloc(0);
	if (p)
		staged_push(&peer->staged, p);
}

void peer_purge_staged(struct peer *peer)
{
	while (peer->staged.head)
		staged_drop_oldest(&peer->staged);
}

char *peer_endpoint_str(char *buf, size_t len, const struct peer *peer)
{
	if (!peer->has_endpoint) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	return sockaddr_format(buf, len, &peer->endpoint.addr);
}

void peer_log(enum log_level level, const struct peer *peer, const char *fmt, ...)
{
	char msg[768];
	char ep[ADDR_STR_LEN];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!peer->has_endpoint)
		log_msg(level, "%s: peer %" PRIu64 "%s%s: %s", peer->iface->name, peer->id,
			peer->name ? " " : "", peer->name ? peer->name : "", msg);
	else
		log_msg(level, "%s: peer %" PRIu64 "%s%s (%s): %s", peer->iface->name, peer->id,
			peer->name ? " " : "", peer->name ? peer->name : "",
			peer_endpoint_str(ep, sizeof(ep), peer), msg);
}

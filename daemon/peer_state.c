// SPDX-License-Identifier: MIT
/*
 * What the data path does to a peer: endpoint tracking (roaming), the
 * staged-packet queue, the log prefix.
 */
#include "peer_state.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "iface_state.h"
#include "resolve.h"
#include "udp.h"

/*
 * The assignment under peer_set_endpoint_from(), the one setter (roaming,
 * Endpoint= set, a name resolved): a new address is an "endpoint-changed"
 * event with the old and the new one (none while the peer is being created).
 */
static void peer_set_endpoint(struct peer *peer, const struct endpoint *ep)
{
	char old[ADDR_STR_LEN], new[ADDR_STR_LEN];

	/* A peer not yet in its interface's list (peer_create) has no events. */
	if (events_wanted() && !list_empty(&peer->node) &&
	    (!peer->has_endpoint || !sockaddr_equal(&peer->endpoint.addr, &ep->addr)))
		peer_event(peer, "endpoint-changed",
			   json_pack("{s:s?,s:s}", "old",
				     peer->has_endpoint ? peer_endpoint_str(old, sizeof(old), peer)
							: NULL,
				     "new", sockaddr_format(new, sizeof(new), &ep->addr)));
	peer->endpoint = *ep;
	peer->has_endpoint = true;
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
	peer_set_endpoint(peer, from);
	/* The peer reached us: its authenticated address beats a late DNS answer. */
	resolve_cancel(peer->resolving);
	peer->resolving = NULL;
}

void peer_event(const struct peer *peer, const char *event, json_t *details)
{
	events_emit(event, peer->iface->name, peer->public_key, peer->name, details);
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

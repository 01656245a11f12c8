/* SPDX-License-Identifier: MIT */
/*
 * A peer's lifecycle: made from its [Peer] settings, updated in place,
 * destroyed. Peers are owned by their interface (iface.c creates and
 * destroys them through this file). struct peer, and what the data path
 * does to a peer, are peer_state.h's.
 */
#ifndef TUND_PEER_H
#define TUND_PEER_H

#include <stdint.h>

#include "config.h"
#include "peer_state.h"

/*
 * Create a peer of iface from pc (not yet in the interface's tables: iface.c
 * links it). A numeric endpoint is taken at once; a name is resolved
 * without blocking (resolve.h) and used when the answer comes.
 * Returns 0 or -errno; *out is NULL on failure.
 */
int peer_create(struct iface *iface, const struct peer_config *pc, uint64_t id, struct peer **out);
/*
 * Apply pc to an existing peer with the same public key: name, PSK, endpoint
 * and keepalive change in place; the session is kept (a changed PSK applies
 * from the next handshake). Allowed IPs are iface.c's business. 0, or
 * -ENOMEM with the peer unchanged.
 */
int peer_update(struct peer *peer, const struct peer_config *pc, double now_s);
/*
 * A peer-added or peer-changed event (events.h) with pc's settings that
 * are not secret: endpoint, allowed IPs, persistent keepalive.
 */
void peer_event_settings(const struct peer *peer, const char *event, const struct peer_config *pc);
/* Stop timers, drop staged packets, wipe keys and free. NULL is a no-op. */
void peer_destroy(struct peer *peer);

#endif

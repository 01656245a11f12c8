/* SPDX-License-Identifier: MIT */
/*
 * What the per-peer protocol timers do when they fire (timers.h lists
 * them): retransmit or start a handshake, send a keepalive, zero the keys.
 * Above send.c; the peer's lifecycle (peer.c, iface.c) uses it.
 */
#ifndef TUND_TIMERS_EXPIRY_H
#define TUND_TIMERS_EXPIRY_H

struct peer;

/* Clear every deadline and bind the peer's watcher to the expiry handler. */
void timers_init(struct peer *peer);
/*
 * The persistent keepalive interval changed (config or control): a
 * keepalive now when there is an endpoint, then one per interval.
 */
void timers_persistent_keepalive_changed(struct peer *peer, double now_s);

#endif

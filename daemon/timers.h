/* SPDX-License-Identifier: MIT */
/*
 * The per-peer protocol timers of WireGuard paper section 6, named after the
 * events that arm them (the driver's timers.c):
 *  - retransmit_handshake: no response to an initiation after REKEY_TIMEOUT
 *    plus jitter; retry, up to MAX_TIMER_HANDSHAKES times.
 *  - send_keepalive: we received data but sent nothing for KEEPALIVE_TIMEOUT.
 *  - new_handshake: we sent data but heard nothing for KEEPALIVE_TIMEOUT +
 *    REKEY_TIMEOUT plus jitter.
 *  - zero_key_material: no new keys for 3 x REJECT_AFTER_TIME.
 *  - persistent_keepalive: the user's PersistentKeepalive interval.
 * One ev_timer per peer is armed at the earliest deadline and re-armed
 * lazily (libev's ev.pod, "Be smart about timeouts"). This file sets and
 * clears deadlines (send.c and receive.c report the events);
 * timers_expiry.h acts on them. struct peer_timers is in peer_state.h.
 */
#ifndef TUND_TIMERS_H
#define TUND_TIMERS_H

#include <ev.h>
#include <stdbool.h>

struct peer;

/*
 * For tests only: every protocol duration (rekey, reject, keepalive,
 * retry times) is multiplied by this. Set from the environment variable
 * TUND_TEST_TIME_SCALE at start-up, 1.0 otherwise; never from config.
 */
extern double proto_time_scale;
#define PROTO_TIME(t) ((double)(t)*proto_time_scale)

/* Set the watcher for the earliest deadline (timers_expiry.c, after it fired). */
void timers_rearm(struct peer *peer, double now_s);
/* Stop the watcher and clear every deadline (peer teardown, interface down). */
void timers_stop(struct peer *peer);

void timers_data_sent(struct peer *peer, double now_s);
void timers_data_received(struct peer *peer, double now_s);
void timers_any_authenticated_packet_sent(struct peer *peer, double now_s);
void timers_any_authenticated_packet_received(struct peer *peer, double now_s);
void timers_handshake_initiated(struct peer *peer, double now_s);
void timers_handshake_complete(struct peer *peer, double now_s);
void timers_session_derived(struct peer *peer, double now_s);
void timers_any_authenticated_packet_traversal(struct peer *peer, double now_s);

#endif

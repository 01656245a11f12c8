/* SPDX-License-Identifier: MIT */
/*
 * The sending direction: TUN -> allowed-IPs lookup -> peer -> encrypt -> UDP,
 * and the handshake, cookie and keepalive messages a peer sends (WireGuard
 * paper sections 5.4 and 6; the driver's send.c).
 */
#ifndef TUND_SEND_H
#define TUND_SEND_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

struct iface;
struct peer;

/* libev: the TUN device is readable. */
void send_on_tun_readable(struct ev_loop *loop, ev_io *w, int revents);

/*
 * Send an initiation unless one went out less than REKEY_TIMEOUT ago.
 * is_retry keeps the attempt counter (the retransmit timer); otherwise it
 * restarts at zero.
 */
void send_handshake_initiation(struct peer *peer, bool is_retry, double now_s);
/* Answer a consumed initiation and derive the responder's keypair. */
void send_handshake_response(struct peer *peer, double now_s);
/* Under load: answer a handshake message of len bytes from src with a cookie reply. */
void send_cookie_reply(struct iface *iface, const uint8_t *msg, size_t len, uint32_t sender_index_le,
		       struct endpoint *src, double now_s);
/* An empty data packet, unless data is already waiting to go. */
void send_keepalive(struct peer *peer, double now_s);
/*
 * Encrypt and queue everything staged for peer if a usable keypair exists;
 * otherwise keep it staged and start a handshake.
 */
void send_staged_packets(struct peer *peer, double now_s);

#endif

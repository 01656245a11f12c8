/* SPDX-License-Identifier: MIT */
/*
 * The receiving direction: UDP -> message type -> (handshake | cookie |
 * data) -> decrypt -> replay check -> allowed-IPs source check -> TUN.
 */
#ifndef TUND_RECEIVE_H
#define TUND_RECEIVE_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

struct iface;
struct scratch;

/*
 * Under load, at most this many handshake messages (with a valid cookie)
 * get the Diffie-Hellman work in one turn of the loop, which reads up to
 * 4 * BATCH_SIZE datagrams (receive.c's UDP_ROUNDS); the others are
 * dropped as rate limited. Without a bound, a flood from many addresses
 * that all hold cookies keeps the loop on handshakes (160 us each) while the
 * socket's queue overflows, and the established sessions' data is lost
 * with the flood (the driver bounds its handshake queue for the same
 * reason). 32 leaves a turn some 5 ms of handshakes: data keeps flowing,
 * and most of the core still goes to handshakes (test/bench/handshake.sh,
 * phase C: 16 gave 2,900 responses/s at 61 % of the core, 32 gave 4,900/s
 * at 88 % with no ping lost, 64 lost a fifth of the session's pings).
 */
#define UNDER_LOAD_HANDSHAKES_PER_TURN 32

/* libev: a UDP socket of the interface is readable (w->data is the iface). */
void receive_on_udp_readable(struct ev_loop *loop, ev_io *w, int revents);

/*
 * Process one datagram of len bytes at data from `from`; decryption runs in
 * place. Exposed for the fuzz target; the data path calls it per datagram.
 * Decrypted packets may wait in the coalescer until receive_flush().
 */
void receive_packet(struct iface *iface, uint8_t *data, size_t len, struct endpoint *from,
		    double now_s);
/* Write the packets the coalescer holds to their TUN device. */
void receive_flush(struct scratch *s);
/*
 * A turn of the loop begins (receive_on_udp_readable calls it): under load,
 * UNDER_LOAD_HANDSHAKES_PER_TURN handshake messages may again get their
 * Diffie-Hellman work before the others of the turn are dropped.
 */
void receive_turn_begin(struct scratch *s);

#endif

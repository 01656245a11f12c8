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

#endif

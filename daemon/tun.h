/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: layer-3 packets without a packet-information header
 * (IFF_NO_PI), non-blocking. The device disappears when its descriptor is
 * closed, so a crashed daemon leaves no stale device behind.
 */
#ifndef TUND_TUN_H
#define TUND_TUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Create (or attach to a free persistent) TUN device called name. Returns the fd or -errno. */
int tun_open(const char *name);
/* One packet into buf; 0 when none is waiting, -errno on error. */
ssize_t tun_read(int fd, uint8_t *buf, size_t cap);
/* One packet out; -errno on error (the packet is dropped). */
int tun_write(int fd, const uint8_t *pkt, size_t len);

#endif

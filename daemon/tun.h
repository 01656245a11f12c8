/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: layer-3 packets without a packet-information header
 * (IFF_NO_PI), non-blocking. With offloads, every packet carries a
 * virtio-net header (IFF_VNET_HDR) and the kernel may hand over and accept
 * 64 KiB TCP/UDP super-packets (TUNSETOFFLOAD; offload.h cuts and glues
 * them). The device disappears when its descriptor is closed, so a crashed
 * daemon leaves no stale device behind.
 */
#ifndef TUND_TUN_H
#define TUND_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the device was opened with. */
struct tun_features {
	bool vnet_hdr; /* a struct virtio_net_hdr precedes each packet read and written */
	bool tso;      /* reads may be TCP super-packets (TSO4/6, partial checksums) */
	bool uso;      /* reads may be UDP super-packets, writes may be UDP_L4 GSO */
};

/*
 * Create (or attach to a free persistent) TUN device called name, with the
 * offloads the kernel grants when want_offloads (fewer when it refuses
 * some; none at all is not an error). Returns the fd or -errno.
 */
int tun_open(const char *name, bool want_offloads, struct tun_features *feat);
/* One packet into buf; 0 when none is waiting, -errno on error. */
ssize_t tun_read(int fd, uint8_t *buf, size_t cap);
/* One packet out; -errno on error (the packet is dropped). */
int tun_write(int fd, const uint8_t *pkt, size_t len);

#endif

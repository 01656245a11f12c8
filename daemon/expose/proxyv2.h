/* SPDX-License-Identifier: MIT */
/*
 * The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt,
 * section 2.2): what a localhost tunnel writes to the local service before
 * the relayed bytes, so that the service sees the real remote address.
 * Only the binary header for TCP over IPv4/IPv6, and LOCAL; no TLVs.
 */
#ifndef TUND_PROXYV2_H
#define TUND_PROXYV2_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PROXYV2_SIG_LEN 12
/* Signature, version/command, family, length, then two IPv6 addresses and two ports. */
#define PROXYV2_MAX_LEN (PROXYV2_SIG_LEN + 4 + 36)

/*
 * Write the header for a TCP connection from src to dst into buf and return
 * its length: 28 bytes for IPv4 (TCP4), 52 for IPv6 (TCP6; an IPv4 address
 * beside an IPv6 one is written IPv4-mapped, and two IPv4-mapped addresses
 * as TCP4). With src or dst NULL or of another family, a LOCAL header of 16
 * bytes (the receiver then uses the connection's own addresses).
 */
size_t proxyv2_encode(uint8_t buf[static PROXYV2_MAX_LEN], const union sockaddr_inet *src,
		      const union sockaddr_inet *dst);

#endif

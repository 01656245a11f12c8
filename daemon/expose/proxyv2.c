// SPDX-License-Identifier: MIT
/* The PROXY protocol v2 header: see proxyv2.h. */
#include "proxyv2.h"

#include <stdbool.h>
#include <string.h>

/* "\r\n\r\n\0\r\nQUIT\n": the 12 bytes every v2 header begins with. */
static const uint8_t signature[PROXYV2_SIG_LEN] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
						   0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

#define VERSION_2     0x20
#define CMD_LOCAL     0x00
#define CMD_PROXY     0x01
#define FAM_UNSPEC    0x00
#define FAM_TCP4      0x11 /* AF_INET, SOCK_STREAM */
#define FAM_TCP6      0x21 /* AF_INET6, SOCK_STREAM */
#define ADDR_LEN_TCP4 12
#define ADDR_LEN_TCP6 36

static bool is_v4_mapped(const union sockaddr_inet *sa)
{
	return sa->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sa->in6.sin6_addr);
}

/* The IPv4 address of sa (AF_INET or IPv4-mapped), network order. */
static void v4_of(const union sockaddr_inet *sa, uint8_t out[4])
{
	if (sa->sa.sa_family == AF_INET)
		memcpy(out, &sa->in.sin_addr, 4);
	else
		memcpy(out, &sa->in6.sin6_addr.s6_addr[12], 4);
}

/* The IPv6 address of sa (IPv4 addresses mapped), network order. */
static void v6_of(const union sockaddr_inet *sa, uint8_t out[16])
{
	if (sa->sa.sa_family == AF_INET6) {
		memcpy(out, &sa->in6.sin6_addr, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &sa->in.sin_addr, 4);
}

static const uint8_t *port_of(const union sockaddr_inet *sa)
{
	return sa->sa.sa_family == AF_INET ? (const uint8_t *)&sa->in.sin_port
					   : (const uint8_t *)&sa->in6.sin6_port;
}

static bool usable(const union sockaddr_inet *sa)
{
	return sa && (sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6);
}

size_t proxyv2_encode(uint8_t buf[static PROXYV2_MAX_LEN], const union sockaddr_inet *src,
		      const union sockaddr_inet *dst)
{
	uint8_t *p = buf + PROXYV2_SIG_LEN + 4;
	bool v4;

	memcpy(buf, signature, PROXYV2_SIG_LEN);
	if (!usable(src) || !usable(dst)) {
		buf[12] = VERSION_2 | CMD_LOCAL;
		buf[13] = FAM_UNSPEC;
		buf[14] = buf[15] = 0;
		return PROXYV2_SIG_LEN + 4;
	}
	v4 = (src->sa.sa_family == AF_INET || is_v4_mapped(src)) &&
	     (dst->sa.sa_family == AF_INET || is_v4_mapped(dst));
	buf[12] = VERSION_2 | CMD_PROXY;
	buf[13] = v4 ? FAM_TCP4 : FAM_TCP6;
	buf[14] = 0;
	buf[15] = v4 ? ADDR_LEN_TCP4 : ADDR_LEN_TCP6;
	if (v4) {
		v4_of(src, p);
		v4_of(dst, p + 4);
		p += 8;
	} else {
		v6_of(src, p);
		v6_of(dst, p + 16);
		p += 32;
	}
	memcpy(p, port_of(src), 2);
	memcpy(p + 2, port_of(dst), 2);
	return (size_t)(p + 4 - buf);
}

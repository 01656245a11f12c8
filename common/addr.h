/* SPDX-License-Identifier: MIT */
/*
 * IP addresses, prefixes and endpoints: parsing what users write in config
 * files and on the tunctl command line, and formatting for logs and output.
 */
#ifndef TUND_ADDR_H
#define TUND_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 prefix; addr is in network byte order. */
struct ip_prefix {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t cidr;       /* 0..32 or 0..128 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
		uint8_t bytes[16];
	} addr;
};

/* A socket address of either family, as the UDP code and peers store it. */
union sockaddr_inet {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Enough for "[ffff:...:ffff%ifname]:65535" and "ffff:...:ffff/128". */
#define ADDR_STR_LEN 64

/*
 * Parse "192.0.2.1", "10.0.0.0/8", "2001:db8::/32". Without "/N" the prefix is
 * a host (/32 or /128). Host bits are kept; *has_host_bits (may be NULL) says
 * whether any are set. Returns 0, or -EINVAL with *why (may be NULL) set to a
 * static reason such as "prefix length must be 0-32".
 */
int prefix_parse(const char *s, struct ip_prefix *out, bool *has_host_bits, const char **why);
/* Clear the host bits. */
void prefix_mask(struct ip_prefix *p);
/* True when addr (4 or 16 bytes of family) lies inside p. */
bool prefix_contains(const struct ip_prefix *p, sa_family_t family, const void *addr);
/* "10.0.0.0/8"; returns buf. */
char *prefix_format(char *buf, size_t len, const struct ip_prefix *p);
/* Address without the length ("10.0.0.1"); returns buf. */
char *prefix_format_addr(char *buf, size_t len, const struct ip_prefix *p);

/*
 * Split "host:port", "[v6]:port" or "v6-literal-is-not-allowed-without-brackets"
 * into a host (copied into host, hostlen bytes) and a port 1..65535.
 * The host is not resolved. Returns 0 or -EINVAL with *why.
 */
int endpoint_split(const char *s, char *host, size_t hostlen, uint16_t *port, const char **why);
/* "192.0.2.1:51820" or "[2001:db8::1]:51820"; returns buf. */
char *sockaddr_format(char *buf, size_t len, const union sockaddr_inet *sa);
/* Parse a numeric "ip:port" / "[ip6]:port" into sa. Returns 0 or -EINVAL. */
int sockaddr_parse_numeric(const char *s, union sockaddr_inet *sa);
/* Same family, address and port (and scope id for IPv6). */
bool sockaddr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b);
socklen_t sockaddr_len(const union sockaddr_inet *sa);

#endif

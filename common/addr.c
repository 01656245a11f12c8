// SPDX-License-Identifier: MIT
/* Addresses, prefixes and endpoints as users write them and logs show them. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int family_bits(sa_family_t family)
{
	return family == AF_INET ? 32 : 128;
}

int prefix_parse(const char *s, struct ip_prefix *out, bool *has_host_bits, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct ip_prefix p;
	unsigned long cidr;
	char *end;

	memset(&p, 0, sizeof(p));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN) {
		if (why)
			*why = "is not an IP address";
		return -EINVAL;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &p.addr.ip4) == 1) {
		p.family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, &p.addr.ip6) == 1) {
		p.family = AF_INET6;
	} else {
		if (why)
			*why = "is not an IP address";
		return -EINVAL;
	}
	p.cidr = (uint8_t)family_bits(p.family);
	if (slash) {
		errno = 0;
		cidr = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || errno ||
		    cidr > family_bits(p.family)) {
			if (why)
				*why = p.family == AF_INET ? "prefix length must be 0-32"
							   : "prefix length must be 0-128";
			return -EINVAL;
		}
		p.cidr = (uint8_t)cidr;
	}
	if (has_host_bits) {
		struct ip_prefix masked = p;

		prefix_mask(&masked);
		*has_host_bits = memcmp(&masked.addr, &p.addr, sizeof(p.addr)) != 0;
	}
	*out = p;
	return 0;
}

void prefix_mask(struct ip_prefix *p)
{
	unsigned int bytes = family_bits(p->family) / 8;

	for (unsigned int i = 0; i < bytes; i++) {
		int keep = (int)p->cidr - (int)(i * 8);

		if (keep >= 8)
			continue;
		p->addr.bytes[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

bool prefix_contains(const struct ip_prefix *p, sa_family_t family, const void *addr)
{
	const uint8_t *a = addr;
	unsigned int full = p->cidr / 8, rest = p->cidr % 8;

	if (family != p->family)
		return false;
	if (memcmp(a, p->addr.bytes, full) != 0)
		return false;
	if (rest && ((a[full] ^ p->addr.bytes[full]) & (uint8_t)(0xff << (8 - rest))))
		return false;
	return true;
}

char *prefix_format_addr(char *buf, size_t len, const struct ip_prefix *p)
{
	if (!inet_ntop(p->family, &p->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

char *prefix_format(char *buf, size_t len, const struct ip_prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", prefix_format_addr(a, sizeof(a), p), p->cidr);
	return buf;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int endpoint_split(const char *s, char *host, size_t hostlen, uint16_t *port, const char **why)
{
	const char *colon, *hstart = s;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			if (why)
				*why = "expected [IPv6]:port";
			return -EINVAL;
		}
		hstart = s + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			if (why)
				*why = "expected host:port";
			return -EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			if (why)
				*why = "an IPv6 address needs brackets: [address]:port";
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hostlen) {
		if (why)
			*why = hlen == 0 ? "the host is empty" : "the host name is too long";
		return -EINVAL;
	}
	if (parse_port(colon + 1, port) != 0) {
		if (why)
			*why = "port must be 1-65535";
		return -EINVAL;
	}
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	return 0;
}

char *sockaddr_format(char *buf, size_t len, const union sockaddr_inet *sa)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sa->in.sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sa->in.sin_port));
	} else if (sa->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->in6.sin6_addr, a, sizeof(a));
		if (sa->in6.sin6_scope_id)
			snprintf(buf, len, "[%s%%%u]:%u", a, sa->in6.sin6_scope_id,
				 ntohs(sa->in6.sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", a, ntohs(sa->in6.sin6_port));
	} else {
		snprintf(buf, len, "(none)");
	}
	return buf;
}

int sockaddr_parse_numeric(const char *s, union sockaddr_inet *sa)
{
	char host[INET6_ADDRSTRLEN];
	uint16_t port;

	if (endpoint_split(s, host, sizeof(host), &port, NULL) != 0)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

bool sockaddr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
		       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(struct in6_addr)) == 0;
	return false;
}

socklen_t sockaddr_len(const union sockaddr_inet *sa)
{
	return sa->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

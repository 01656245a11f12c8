// SPDX-License-Identifier: MIT
/*
 * RedirectToLocalhost lists: parsing one item ("8080-8090/udp"), merging a
 * list into sorted disjoint ranges, comparing and printing. The port part
 * is AllowExpose's syntax (port_range_parse); only the "/tcp" or "/udp"
 * suffix is new here.
 */
#include "config_redirect.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_expose.h"

/* The port part of an item; longer ones are not ports anyway. */
#define ITEM_MAX 64

static bool parse_protocol(const char *s, uint8_t *out)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "tcp", 3) == 0)
		*out = IPPROTO_TCP;
	else if (strncasecmp(s, "udp", 3) == 0)
		*out = IPPROTO_UDP;
	else
		return false;
	s += 3;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

int redirect_ports_parse(const char *s, struct redirect_ports *out, const char **why)
{
	const char *slash = strchr(s, '/'), *dummy;
	char ports[ITEM_MAX];
	struct port_range r;
	uint8_t protocol = IPPROTO_TCP;

	if (!why)
		why = &dummy;
	if (slash) {
		if (!parse_protocol(slash + 1, &protocol)) {
			*why = "unknown protocol: expected PORT[-PORT][/tcp|/udp]";
			return -EINVAL;
		}
		if ((size_t)(slash - s) >= sizeof(ports)) {
			*why = "expected a port or a range of ports such as 8000-8099";
			return -EINVAL;
		}
		memcpy(ports, s, (size_t)(slash - s));
		ports[slash - s] = '\0';
		s = ports;
	}
	if (port_range_parse(s, &r, why) != 0)
		return -EINVAL;
	out->first = r.first;
	out->last = r.last;
	out->protocol = protocol;
	return 0;
}

const char *redirect_protocol_name(uint8_t protocol)
{
	return protocol == IPPROTO_UDP ? "udp" : "tcp";
}

static int compare(const void *pa, const void *pb)
{
	const struct redirect_ports *a = pa, *b = pb;

	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return (a->last > b->last) - (a->last < b->last);
}

size_t redirect_ports_normalize(struct redirect_ports *r, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), compare);
	for (size_t i = 1; i < n; i++) {
		struct redirect_ports *last = &r[out];

		/* Overlapping or adjacent (in int: 65535 + 1 does not wrap). */
		if (r[i].protocol == last->protocol && (int)r[i].first <= (int)last->last + 1) {
			if (r[i].last > last->last)
				last->last = r[i].last;
			continue;
		}
		r[++out] = r[i];
	}
	return out + 1;
}

bool redirect_ports_same(const struct redirect_ports *a, size_t na, const struct redirect_ports *b,
			 size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].first != b[i].first || a[i].last != b[i].last ||
		    a[i].protocol != b[i].protocol)
			return false;
	return true;
}

char *redirect_ports_format(char *buf, size_t len, const struct redirect_ports *r, size_t n)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		const char *sep = i ? ", " : "", *proto = redirect_protocol_name(r[i].protocol);
		int w;

		if (r[i].first == r[i].last)
			w = snprintf(buf + used, len - used, "%s%u/%s", sep, r[i].first, proto);
		else
			w = snprintf(buf + used, len - used, "%s%u-%u/%s", sep, r[i].first,
				     r[i].last, proto);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

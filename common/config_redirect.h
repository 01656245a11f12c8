/* SPDX-License-Identifier: MIT */
/*
 * RedirectToLocalhost (docs/localhost-tunnels.md, "L3 redirect"): the ports
 * of an interface whose traffic from peers lands on the host's 127.0.0.1 and
 * ::1. This file owns the type, the parser of one list item, and the helpers
 * the daemon needs to compare, merge and print lists. No I/O.
 */
#ifndef TUND_CONFIG_REDIRECT_H
#define TUND_CONFIG_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ports first..last (first <= last) of one protocol. */
struct redirect_ports {
	uint16_t first, last;
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * Parse one item of a RedirectToLocalhost list: "8000", "8080-8090",
 * "5353/udp", "8000-8010/tcp" (the protocol is tcp unless said). Returns 0,
 * or -EINVAL with *why (may be NULL) set to a static reason.
 */
int redirect_ports_parse(const char *s, struct redirect_ports *out, const char **why);
/* "tcp" or "udp". */
const char *redirect_protocol_name(uint8_t protocol);
/*
 * Sort r by protocol and port and merge ranges that overlap or touch, in
 * place: "8001, 8000, 8002-8005" becomes "8000-8005". Returns the new count.
 */
size_t redirect_ports_normalize(struct redirect_ports *r, size_t n);
/* Same items in the same order. */
bool redirect_ports_same(const struct redirect_ports *a, size_t na, const struct redirect_ports *b,
			 size_t nb);
/* "8000/tcp, 8080-8090/tcp, 5353/udp" into buf (truncated to len), "" for none; returns buf. */
char *redirect_ports_format(char *buf, size_t len, const struct redirect_ports *r, size_t n);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The configuration of localhost tunnels (docs/localhost-tunnels.md): the
 * port ranges of a server's `AllowExpose =`, and the client's `[Expose NAME]`
 * sections. Parsing the text of a file is config_ini.c's; this file owns the
 * types, the port-range parser both the loader and the daemon use, and the
 * copy/compare helpers reload and the control socket need.
 */
#ifndef TUND_CONFIG_EXPOSE_H
#define TUND_CONFIG_EXPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "key.h"

#define EXPOSE_DEFAULT_CONTROL_PORT    51821
#define EXPOSE_DEFAULT_GRACE_S	       60
#define EXPOSE_DEFAULT_MAX_CONNECTIONS 4096
#define EXPOSE_NAME_MAX		       32
/*
 * Relays idle (no byte either way) for this long are reset, as nginx's
 * stream proxy_timeout does by default: an abandoned connection does not
 * hold its descriptors for ever. ExposeIdleTimeout; 0 = never.
 */
#define EXPOSE_DEFAULT_IDLE_TIMEOUT_S 600
#define EXPOSE_IDLE_TIMEOUT_MAX_S     604800
/* Relayed connections from one source (IPv4 address, IPv6 /64) on an interface's public ports. */
#define EXPOSE_DEFAULT_MAX_PER_SOURCE 256

/* Ports first..last, both included; first <= last. */
struct port_range {
	uint16_t first, last;
};

/*
 * Parse one item of an AllowExpose list: "8000", "8000-8099" (blanks around
 * '-' allowed). Returns 0, or -EINVAL with *why (may be NULL) set to a
 * static reason such as "a port is 1-65535".
 */
int port_range_parse(const char *s, struct port_range *out, const char **why);
/* True when port lies in one of the n ranges. */
bool port_ranges_contain(const struct port_range *r, size_t n, uint16_t port);
/* "8000-8099, 9000" into buf (truncated to len), or "" for none; returns buf. */
char *port_ranges_format(char *buf, size_t len, const struct port_range *r, size_t n);

/* True when s is 1..EXPOSE_NAME_MAX of A-Z a-z 0-9 . _ - (a service name, as [Expose NAME]). */
bool expose_name_valid(const char *s);

/* One [Expose NAME] section: publish LocalAddress:LocalPort through the peer. */
struct expose_config {
	unsigned int line; /* of the [Expose] header; 0 for tunctl expose */
	char name[EXPOSE_NAME_MAX + 1];
	char *peer; /* Peer= as written (a Name or a public key); owned */
	uint8_t peer_key[KEY_LEN]; /* that peer's key, resolved when loaded */
	union sockaddr_inet local; /* LocalAddress (default 127.0.0.1) and LocalPort */
	uint16_t public_port; /* PublicPort (default LocalPort) */
	bool proxy_protocol; /* ProxyProtocol: PROXY v2 header to the local service */
	bool has_server_address;
	struct ip_prefix server_address; /* ServerAddress, a host; else the peer's /32 or /128 */
};

struct iface_config;
struct peer_config;

/* Free what e owns (not e). */
void expose_config_clear(struct expose_config *e);
/* Deep copy; dst is overwritten. 0 or -ENOMEM (dst cleared). */
int expose_config_copy(struct expose_config *dst, const struct expose_config *src);
/* Same settings (line and the spelling of Peer aside). */
bool expose_config_same(const struct expose_config *a, const struct expose_config *b);

/* The [Expose] named name, or NULL. */
const struct expose_config *iface_config_find_expose(const struct iface_config *cfg,
						     const char *name);
/* Put a copy of e in cfg, replacing the one of the same name. 0 or -ENOMEM. */
int iface_config_put_expose(struct iface_config *cfg, const struct expose_config *e);
/* Drop the [Expose] named name; -ENOENT when none. */
int iface_config_drop_expose(struct iface_config *cfg, const char *name);

/*
 * The server's tunnel address when no ServerAddress is given: the peer's
 * first single-host AllowedIPs entry (/32 or /128), preferring a family the
 * interface has an Address of. NULL when it has none.
 */
const struct ip_prefix *expose_config_default_server(const struct iface_config *cfg,
						     const struct peer_config *pc);
/*
 * The peer that cryptokey routing sends addr (a host) to: the one with the
 * longest AllowedIPs entry holding it (of equal entries, the later peer's),
 * or NULL. Containment in one peer's list says nothing when another peer
 * has a longer entry.
 */
const struct peer_config *iface_config_route_owner(const struct iface_config *cfg,
						   const struct ip_prefix *addr);
/*
 * The i-th address of family from which peer pc may open localhost-tunnel
 * control sessions, its own tunnel address: its AllowExposeFrom entries, or
 * without any, its first single-address AllowedIPs entry (/32, /128) of the
 * family. NULL past the last.
 */
const struct ip_prefix *expose_config_client_address(const struct peer_config *pc,
						     sa_family_t family, size_t i);
/* Whether addr (4 or 16 bytes of family) is one of those addresses. */
bool expose_config_client_allowed(const struct peer_config *pc, sa_family_t family,
				  const void *addr);

#endif

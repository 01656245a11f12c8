/* SPDX-License-Identifier: MIT */
/*
 * What wg-quick does around the device, done through netlink: addresses,
 * MTU (wg-quick's automatic value when MTU= is unset), link up, DNS through
 * resolvconf, routes for every peer's allowed IPs (Table=auto|off|N, with
 * wg-quick's fwmark policy routing for a default route), and the
 * PreUp/PostUp/PreDown/PostDown hooks. It remembers what it installed so that
 * it can be followed (route sync after peer changes) and undone.
 */
#ifndef TUND_NETCONF_H
#define TUND_NETCONF_H

#include <stddef.h>

struct iface;
struct iface_config;
struct netconf;

/* Run hooks (PreUp, ...) through the shell, %i replaced by the name. Returns 0 or -ECHILD on the first failure. */
int netconf_run_hooks(const char *ifname, const char *phase, char *const *cmds, size_t n);

/*
 * Addresses, MTU, up, DNS, routes, then RedirectToLocalhost (nat.c) for
 * iface (whose peers exist). Returns 0 or -errno.
 */
int netconf_create(struct iface *iface, struct netconf **out);
/* Make the installed routes match the peers' allowed IPs now. */
int netconf_sync_routes(struct iface *iface);
/* Remove the redirect, rules, routes and DNS we installed. NULL is a no-op. */
void netconf_destroy(struct iface *iface, struct netconf *nc);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * What wg-quick does around the device, done through netlink: addresses,
 * MTU (wg-quick's automatic value when MTU= is unset), link up, DNS through
 * resolvconf, routes for every peer's allowed IPs (Table=auto|off|N, with
 * wg-quick's fwmark policy routing for a default route, and under
 * Table=auto none where an Address's own route covers the prefix), and the
 * PreUp/PostUp/PreDown/PostDown hooks. It remembers what it installed so that
 * it can be followed (route sync after peer changes) and undone.
 */
#ifndef TUND_NETCONF_H
#define TUND_NETCONF_H

#include <stddef.h>

#include "addr.h"

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
/*
 * After a change of the table of allowed IPs that touched only prefixes[0..n)
 * (a peer's old and new ones): make their routes, and the policy rules of a
 * default route, match the table now. A prefix gets a route while some peer
 * owns exactly it, whoever that is. Costs O(n), whatever the number of
 * peers. 0 or the first -errno; failures are logged.
 */
int netconf_update_routes(struct iface *iface, const struct ip_prefix *prefixes, size_t n);
/* Make all the installed routes match the peers' allowed IPs now (a walk of every peer). */
int netconf_sync_routes(struct iface *iface);
/* Remove the redirect, rules, routes and DNS we installed. NULL is a no-op. */
void netconf_destroy(struct iface *iface, struct netconf *nc);

#endif

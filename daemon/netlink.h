/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: what wg-quick does with `ip` (link MTU and state,
 * addresses, routes, policy rules), without running `ip`. Synchronous
 * request/ack on one socket; called at interface up/down and on reload, never
 * on the data path.
 */
#ifndef TUND_NETLINK_H
#define TUND_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct netlink;

/* Open a NETLINK_ROUTE socket. Returns 0 or -errno. */
int netlink_open(struct netlink **out);
void netlink_close(struct netlink *nl);

/* All return 0 or a negative errno from the kernel's ack (-EEXIST, -ENOENT, ...). */
int netlink_link_set_mtu(struct netlink *nl, int ifindex, uint32_t mtu);
int netlink_link_set_up(struct netlink *nl, int ifindex, bool up);
int netlink_link_get_mtu(struct netlink *nl, int ifindex, uint32_t *mtu);
/*
 * net.ipv4.conf.IF.route_localnet, set through netlink (no /proc/sys): lets
 * packets that arrive on IF be routed to 127.0.0.0/8 once NAT sent them there.
 */
int netlink_link_set_route_localnet(struct netlink *nl, int ifindex, bool on);

/* Address with its prefix length, host bits kept (10.0.0.1/24). */
int netlink_addr_add(struct netlink *nl, int ifindex, const struct ip_prefix *addr);
int netlink_addr_del(struct netlink *nl, int ifindex, const struct ip_prefix *addr);

/* table 0 means the main table (RT_TABLE_MAIN). dst is a masked prefix. */
int netlink_route_add(struct netlink *nl, int ifindex, const struct ip_prefix *dst, uint32_t table);
int netlink_route_del(struct netlink *nl, int ifindex, const struct ip_prefix *dst, uint32_t table);
/*
 * `ip route add local DST dev IF table local`: a route of type local through
 * IF, which lets what arrives on IF for DST (such as ::1, after NAT) be
 * delivered to this host. It goes with the device.
 */
int netlink_local_route_add(struct netlink *nl, int ifindex, const struct ip_prefix *dst);
int netlink_local_route_del(struct netlink *nl, int ifindex, const struct ip_prefix *dst);
/* True when table has any route of family (wg-quick's free-table search). */
int netlink_table_has_routes(struct netlink *nl, int family, uint32_t table, bool *has);

/*
 * Policy rules, as wg-quick installs them for a default route:
 *   "not fwmark MARK table TABLE"          (is_not_fwmark, fwmark, table)
 *   "table main suppress_prefixlength 0"   (suppress_prefixlen = 0, table main)
 * suppress_prefixlen < 0 means unset. priority 0 means let the kernel choose.
 */
struct netlink_rule {
	int family;
	uint32_t table;
	bool has_fwmark;
	bool is_not_fwmark;
	uint32_t fwmark;
	int suppress_prefixlen;
	uint32_t priority;
};
int netlink_rule_add(struct netlink *nl, const struct netlink_rule *rule);
int netlink_rule_del(struct netlink *nl, const struct netlink_rule *rule);

/*
 * MTU of the device the kernel would route dst through (`ip route get`), as
 * wg-quick uses it for the default MTU. Returns 0, -ENETUNREACH when no route.
 */
int netlink_route_mtu(struct netlink *nl, const union sockaddr_inet *dst, uint32_t *mtu);
/* MTU of the device of the default route of family; -ENETUNREACH when none. */
int netlink_default_route_mtu(struct netlink *nl, int family, uint32_t *mtu);

#endif

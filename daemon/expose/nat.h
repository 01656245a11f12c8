/* SPDX-License-Identifier: MIT */
/*
 * RedirectToLocalhost (L3 localhost tunnelling, docs/localhost-tunnels.md):
 * what peers send to this interface's own addresses on the listed ports is
 * NATed to 127.0.0.1 (IPv4) and ::1 (IPv6). Owns the nftables table
 * "tund-IFACE" (libnftables), the interface's route_localnet, and a local
 * route for ::1 on the interface. Created by netconf.c once addresses and
 * routes are in; updated in place on reload.
 */
#ifndef TUND_NAT_H
#define TUND_NAT_H

#include <jansson.h>
#include <stddef.h>

struct iface;
struct iface_config;
struct nat;

/* Longest table name: "tund_" and two hex digits per byte of an interface name. */
#define NAT_TABLE_NAME_LEN 40

/*
 * The nftables table of interface ifname: "tund-wg0"; a name with bytes the
 * nft syntax does not take unquoted (= +) is spelt in hex, "tund_" + hex.
 */
void nat_table_name(char buf[static NAT_TABLE_NAME_LEN], const char *ifname);

/*
 * Install iface->cfg's RedirectToLocalhost, replacing a table of the same
 * name that a previous tund left behind. Nothing is installed when the list
 * is empty, but *out is still made (for reload). Returns 0, or -errno after
 * logging why (nft's own message included); *out is then NULL.
 */
int nat_create(struct iface *iface, struct nat **out);
/*
 * Make the rules match cfg's list (reload): the table is replaced in one
 * nftables transaction, so a failure leaves the old rules in force. Each
 * change is logged and appended to changes (may be NULL). 0 or -errno.
 */
int nat_update(struct nat *nat, const struct iface_config *cfg, json_t *changes);
/* Remove the table, route_localnet and the ::1 route. NULL is a no-op. */
void nat_destroy(struct nat *nat);

/* Add "redirect_to_localhost" (the ports in force) and "redirect_ipv6" to obj. */
void nat_show(const struct nat *nat, json_t *obj);

#endif

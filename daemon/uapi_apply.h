/* SPDX-License-Identifier: MIT */
/*
 * `wg`'s UAPI against a running interface: what a get answers, and a staged
 * set (common/uapi.h) applied through the one path every change takes
 * (iface_apply_peer()/iface_remove_peer(), iface_set_*()), keeping
 * iface->cfg in step so that `tunctl show` and `wg show` agree.
 */
#ifndef TUND_UAPI_APPLY_H
#define TUND_UAPI_APPLY_H

#include "uapi.h"

struct iface;

/* The get reply's keys, in wireguard-go's order, without the errno line. */
void uapi_get(struct iface *iface, struct uapi_buf *b);
/*
 * Apply set to iface: interface keys, then peers in order, as wireguard-go
 * would (replace_peers, remove, update_only, replace_allowed_ips, allowed_ip
 * additions and removals). A peer whose settings end as they were keeps its
 * session. Returns 0, or the protocol's negative errno (-EADDRINUSE when
 * the port cannot be bound or the fwmark set, -ENOMEM) with the interface
 * and iface->cfg as they were.
 */
int uapi_apply(struct iface *iface, const struct uapi_set *set);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Localhost tunnels at layer 4 (docs/localhost-tunnels.md): a client
 * publishes a local TCP service through its server, which listens on a
 * public port and relays each connection through the tunnel. Both roles
 * speak over ordinary TCP between the peers' tunnel addresses, on the
 * interface's ExposeControlPort, so the wire stays WireGuard; the peer
 * behind a connection is the one whose AllowedIPs hold its source address.
 * Owned by the interface, which reaches the tunnels only through
 * expose_iface_hooks (iface.h's struct iface_hooks); iface->cfg is the
 * configuration it follows: [Expose] sections and tunctl expose on the client, AllowExpose
 * in the [Peer] sections and the Expose* keys on the server.
 */
#ifndef TUND_EXPOSE_H
#define TUND_EXPOSE_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

struct expose;
struct iface;
struct iface_hooks;

/*
 * The tunnels' hooks into an interface (expose_hooks.c): RedirectToLocalhost
 * (nat.h) with the routes, the L4 tunnels with the device. The daemon gives
 * them to iface_create().
 */
extern const struct iface_hooks expose_iface_hooks;

/*
 * Start the interface's localhost tunnels from iface->cfg (after the device
 * and its addresses are up). A port that cannot be bound is logged, not
 * fatal. 0 or -ENOMEM.
 */
int expose_create(struct iface *iface, struct expose **out);
/* Close every connection and listener and free. NULL is a no-op. */
void expose_destroy(struct expose *ex);
/* Whether ex has a connection open through the tunnel: a relay, a session or a control link. */
bool expose_busy(const struct expose *ex);

/*
 * iface->cfg changed (reload, tunctl expose or unexpose): apply it in place,
 * without touching the peers' sessions. Each change is logged and appended
 * to changes when not NULL.
 */
void expose_apply(struct expose *ex, json_t *changes);
/* A peer was added, changed or removed: apply iface->cfg on the next loop iteration. */
void expose_peers_changed(struct expose *ex);

/*
 * tunctl expose: whether e can be published: its peer, the server address
 * and the public port. Sets e->peer_key. 0, or -ENOENT (no such peer),
 * -EINVAL, -EEXIST (the public port is asked for by another service), with why.
 */
int expose_check(const struct expose *ex, struct expose_config *e, char *why, size_t len);
/*
 * Then put e, as expose_check() passed it, into iface->cfg (replacing the
 * service of that name) and publish it. 0 or -ENOMEM (why set).
 */
int expose_add(struct expose *ex, const struct expose_config *e, char *why, size_t len);
/* tunctl unexpose: the name of the service named what, or else of the one of local port what. */
const char *expose_find(const struct expose *ex, const char *what);
/* Stop publishing the service named name. 0 or -ENOENT. */
int expose_remove(struct expose *ex, const char *name);

/* The client-side service's state for tunctl (a new reference), or NULL. */
json_t *expose_service_json(const struct expose *ex, const char *name);
/* Add "exposes" (client side) and "public_ports" (server side) to an interface's show object. */
void expose_show(const struct expose *ex, json_t *obj);

/*
 * Relayed connections of the services and public ports configured now, for
 * the metrics: [0] the client side (services published), [1] the server side
 * (public ports). Zero when ex is NULL.
 */
struct expose_counts {
	uint64_t total[2], refused[2], active[2];
};
void expose_counts(const struct expose *ex, struct expose_counts *out);

#endif

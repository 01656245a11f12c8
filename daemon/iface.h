/* SPDX-License-Identifier: MIT */
/*
 * One interface's lifecycle: a TUN device, its UDP sockets, its identity,
 * its peers and the tables that find them (public key, receiver index,
 * allowed IPs); struct iface itself is iface_state.h's. The one way to add,
 * change or remove a peer is iface_apply_peer() / iface_remove_peer():
 * config load, reload and the control socket all call them. What wg-quick
 * does around the device (addresses, routes, MTU, DNS, hooks) is netconf.c's.
 */
#ifndef TUND_IFACE_H
#define TUND_IFACE_H

#include <ev.h>
#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "changes.h" /* note_change(), for the control commands */
#include "config.h"
#include "iface_state.h"
#include "noise.h"

struct netlink;
struct peer;
struct scratch;

/*
 * Bring up the interface of cfg: TUN device, sockets, peers, then the
 * wg-quick steps (netconf.c). On failure everything done is undone, the
 * reason is logged, and -errno is returned. Takes ownership of cfg in all
 * cases. hooks (borrowed, may be NULL) bring up what runs beside the core.
 */
int iface_create(struct ev_loop *loop, struct scratch *scratch, struct netlink *nl,
		 uint64_t *next_peer_id, struct iface_config *cfg, const struct iface_hooks *hooks,
		 struct iface **out);
/*
 * The first half of iface_create(): tables, identity and peers from cfg,
 * touching nothing outside the process (no device, socket, route or hook).
 * For unit tests and fuzz targets. Takes ownership of cfg.
 */
int iface_new(struct ev_loop *loop, struct scratch *scratch, struct netlink *nl,
	      uint64_t *next_peer_id, struct iface_config *cfg, struct iface **out);
/* Run PreDown, undo routes, rules and DNS, close the device, run PostDown. */
void iface_destroy(struct iface *iface);
/*
 * The link was deleted under tund (`ip link del`): the same, but PreDown,
 * whose moment (the device still there) has passed, is not run; PostDown
 * is (it runs after the device is gone anyway).
 */
void iface_forget(struct iface *iface);
/*
 * Open the UDP sockets on the configured ListenPort (a random one when
 * none), unless they are open. 0 or -errno (logged).
 */
int iface_listen(struct iface *iface);
/*
 * The kernel says the link changed: its flags (IFF_UP, ...) and MTU (0:
 * not said). The MTU is followed (padding); an interface without a
 * socket (no file, no port set yet) starts listening when the link goes
 * up, as wireguard-go does.
 */
void iface_link_changed(struct iface *iface, unsigned int flags, uint32_t mtu);
/*
 * tund is stopping: close the interface's localhost-tunnel connections and
 * listeners now (hooks->close), while the tunnel still carries their FINs
 * and resets to the peers. True when a connection was open.
 */
bool iface_close_localhost_tunnels(struct iface *iface);

/*
 * Add the peer of pc, or update the peer with the same public key in place
 * (keeping its session). Allowed IPs are replaced by pc's; routes follow.
 * *out (may be NULL) gets the peer. Returns 0 or -errno (the peer is then
 * unchanged, or not added).
 */
int iface_apply_peer(struct iface *iface, const struct peer_config *pc, double now_s,
		     struct peer **out);
/*
 * Many peer changes in a row (add-peers): between on and off, nested,
 * iface_apply_peer() and iface_remove_peer() leave the tunnels'
 * peers_changed hook for one call at the outermost off (routes follow each
 * peer's own prefixes at once).
 */
void iface_sync_defer(struct iface *iface, bool on);
/* Remove the peer with this public key: -ENOENT when none. */
int iface_remove_peer(struct iface *iface, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);
/*
 * Reload: apply cfg, a new version of this interface's file, in place.
 * Peers no longer in cfg are removed, new ones added, changed ones updated
 * (keeping their sessions), and a new ListenPort is bound. Each change is
 * logged and, when changes is not NULL, appended to it as a string.
 * Returns -EAGAIN (cfg not taken, nothing changed) when settings that
 * need the interface restarted differ (key, addresses, MTU, DNS, Table,
 * FwMark, hooks). Otherwise cfg is taken and becomes iface->cfg, and the
 * return is 0, or the first -errno when a step failed (a peer that could
 * not be applied, the new port, nftables refusing RedirectToLocalhost):
 * those parts stay as they were, in the interface and in iface->cfg alike,
 * so iface->cfg always describes what runs (AllowExpose, show, the control
 * commands and the next reload's difference all read it).
 */
int iface_reconfigure(struct iface *iface, struct iface_config *cfg, json_t *changes);
/*
 * Interface settings in place (`wg set`): each changes the interface and
 * iface->cfg together, or, returning -errno, neither. A new port is bound
 * before the old sockets close (0: any free port). A new private key (NULL:
 * none) recomputes each peer's static-static DH at its next handshake and
 * expires current sessions, as the kernel does; the caller removes a peer
 * with the new public key first.
 */
int iface_set_listen_port(struct iface *iface, uint16_t port);
int iface_set_fwmark(struct iface *iface, uint32_t fwmark);
int iface_set_private_key(struct iface *iface, const uint8_t *private_key);
/* Find by public key, or NULL. */
struct peer *iface_find_peer(const struct iface *iface,
			     const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);

#endif

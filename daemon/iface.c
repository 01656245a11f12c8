// SPDX-License-Identifier: MIT
/*
 * An interface: bring-up and teardown in wg-quick's order, the peer tables
 * (by public key, by receiver index, by allowed IP), the one path that adds,
 * updates and removes peers, and the load meter that decides when
 * handshakes need cookies.
 */
#include "iface.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowedips.h"
#include "allowedips_swap.h"
#include "changes.h"
#include "clock.h"
#include "crypto.h"
#include "events.h"
#include "index.h"
#include "netconf.h"
#include "peer.h"
#include "peer_dns.h"
#include "ratelimiter.h"
#include "receive.h"
#include "send.h"
#include "timers_expiry.h"
#include "tun.h"

#define INITIAL_PEER_HASH 64

static size_t key_hash(const struct iface *iface, const uint8_t key[NOISE_PUBLIC_KEY_LEN])
{
	uint32_t h;

	/* Public keys are uniformly random; an attacker can only look up, never insert. */
	memcpy(&h, key, sizeof(h));
	return h & (iface->peer_hash_size - 1);
}

struct peer *iface_find_peer(const struct iface *iface,
			     const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	for (struct peer *p = iface->peer_hash[key_hash(iface, public_key)]; p; p = p->hash_next)
		if (memcmp(p->public_key, public_key, NOISE_PUBLIC_KEY_LEN) == 0)
			return p;
	return NULL;
}

static struct noise_handshake *lookup_handshake(struct noise_local *local,
						const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct iface *iface = container_of(local, struct iface, local);
	struct peer *peer = iface_find_peer(iface, public_key);

	return peer ? &peer->handshake : NULL;
}

static int grow_peer_hash(struct iface *iface)
{
	size_t n = iface->peer_hash_size * 2;
	struct peer **nh = calloc(n, sizeof(*nh));
	struct peer *p;

	if (!nh)
		return -ENOMEM;
	free(iface->peer_hash);
	iface->peer_hash = nh;
	iface->peer_hash_size = n;
	list_for_each(p, &iface->peers, node) {
		size_t h = key_hash(iface, p->public_key);

		p->hash_next = nh[h];
		nh[h] = p;
	}
	return 0;
}

static void link_peer(struct iface *iface, struct peer *peer)
{
	size_t h;

	/* Growing is best effort: chains just get longer if it fails. */
	if (iface->n_peers >= iface->peer_hash_size)
		(void)grow_peer_hash(iface);
	h = key_hash(iface, peer->public_key);
	peer->hash_next = iface->peer_hash[h];
	iface->peer_hash[h] = peer;
	list_add_tail(&peer->node, &iface->peers);
	iface->n_peers++;
}

static void unlink_peer(struct iface *iface, struct peer *peer)
{
	for (struct peer **pp = &iface->peer_hash[key_hash(iface, peer->public_key)]; *pp;
	     pp = &(*pp)->hash_next) {
		if (*pp == peer) {
			*pp = peer->hash_next;
			break;
		}
	}
	list_del(&peer->node);
	iface->n_peers--;
}

/* pc's allowed IPs for peer, then (an existing peer) its other settings; all or nothing. */
static int apply_settings(struct iface *iface, struct peer *peer, bool is_new,
			  const struct peer_config *pc, double now_s)
{
	struct allowedips_swap swap;
	int rc;

	rc = allowedips_swap_begin(&swap, iface->allowedips, peer, pc->allowed_ips,
				   pc->n_allowed_ips);
	if (rc != 0)
		return rc;
	rc = allowedips_swap_insert(&swap);
	if (rc == 0 && !is_new) {
		rc = peer_update(peer, pc, now_s);
		if (rc != 0)
			allowedips_swap_undo(&swap);
	}
	if (rc == 0) {
		allowedips_swap_commit(&swap);
		/* Routes for what the peer had and has: nothing else changed. */
		(void)netconf_update_routes(iface, swap.old, swap.n_old);
		(void)netconf_update_routes(iface, pc->allowed_ips, pc->n_allowed_ips);
	}
	allowedips_swap_end(&swap);
	return rc;
}

/* After a peer changed: the tunnels follow, now or at iface_sync_defer()'s end. */
static void peers_changed(struct iface *iface)
{
	if (iface->sync_deferred) {
		iface->sync_pending = true;
		return;
	}
	if (iface->hooks)
		iface->hooks->peers_changed(iface);
}

void iface_sync_defer(struct iface *iface, bool on)
{
	if (on) {
		iface->sync_deferred++;
		return;
	}
	if (iface->sync_deferred && --iface->sync_deferred == 0 && iface->sync_pending) {
		iface->sync_pending = false;
		peers_changed(iface);
	}
}

/* iface_apply_peer(), logging a new peer's "added" at added_level. */
static int apply_peer(struct iface *iface, const struct peer_config *pc, double now_s,
		      struct peer **out, enum log_level added_level)
{
	struct peer *peer;
	bool is_new = false;
	int rc;

	if (out)
		*out = NULL;
	if (iface->local.has_identity &&
	    memcmp(pc->public_key, iface->local.static_public, NOISE_PUBLIC_KEY_LEN) == 0)
		return -EINVAL; /* wg ignores a peer with our own key too */
	peer = iface_find_peer(iface, pc->public_key);
	if (!peer) {
		rc = peer_create(iface, pc, ++*iface->next_peer_id, &peer);
		if (rc != 0)
			return rc;
		link_peer(iface, peer);
		is_new = true;
	}
	rc = apply_settings(iface, peer, is_new, pc, now_s);
	if (rc != 0) {
		peer_log(LOG_LEVEL_ERROR, peer, "cannot apply the change: %s; %s", strerror(-rc),
			 is_new ? "not added" : "the peer is as it was");
		if (is_new) {
			allowedips_remove_peer(iface->allowedips, peer);
			unlink_peer(iface, peer);
			peer_destroy(peer);
		}
		return rc;
	}
	peers_changed(iface);
	peer_event_settings(peer, is_new ? "peer-added" : "peer-changed", pc);
	if (is_new) {
		peer_log(added_level, peer, "added");
		/* As wg does: a persistent keepalive starts the session at once (a NATed client). */
		if (peer->persistent_keepalive_s && iface->netconf)
			timers_persistent_keepalive_changed(peer, now_s);
	}
	if (out)
		*out = peer;
	return 0;
}

int iface_apply_peer(struct iface *iface, const struct peer_config *pc, double now_s,
		     struct peer **out)
{
	return apply_peer(iface, pc, now_s, out, LOG_LEVEL_INFO);
}

static void collect_prefix(const struct ip_prefix *p, void *ctx)
{
	struct ip_prefix **next = ctx;

	*(*next)++ = *p;
}

int iface_remove_peer(struct iface *iface, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct peer *peer = iface_find_peer(iface, public_key);
	struct ip_prefix *owned = NULL, *next;
	size_t n = 0;

	if (!peer)
		return -ENOENT;
	peer_log(LOG_LEVEL_INFO, peer, "removed");
	peer_event(peer, "peer-removed", NULL);
	/* The prefixes whose routes may go (without memory for them, every route is checked). */
	if (iface->netconf) {
		n = allowedips_count(iface->allowedips, peer);
		owned = malloc((n ? n : 1) * sizeof(*owned));
		next = owned;
		if (owned)
			allowedips_for_peer_unordered(iface->allowedips, peer, collect_prefix, &next);
	}
	allowedips_remove_peer(iface->allowedips, peer);
	unlink_peer(iface, peer);
	peer_destroy(peer);
	if (owned)
		(void)netconf_update_routes(iface, owned, n);
	else if (iface->netconf)
		(void)netconf_sync_routes(iface);
	free(owned);
	peers_changed(iface);
	return 0;
}

/* "name" or the base64 public key, for change notes. */
static const char *peer_config_label(const struct peer_config *pc, char buf[KEY_BASE64_LEN + 1])
{
	if (pc->name)
		return pc->name;
	key_to_base64(buf, pc->public_key);
	return buf;
}

/* Watch the UDP sockets (IPv4, IPv6) that are open. */
static void start_udp_watchers(struct iface *iface)
{
	for (int f = 0; f < 2; f++) {
		if (iface->udp.fd[f] < 0)
			continue;
		ev_io_init(&iface->udp_watcher[f], receive_on_udp_readable, iface->udp.fd[f],
			   EV_READ);
		iface->udp_watcher[f].data = iface;
		ev_io_start(iface->loop, &iface->udp_watcher[f]);
	}
}

/* Bind the new port first, so that a failure leaves the old sockets working. */
static int rebind(struct iface *iface, uint16_t port)
{
	struct udp fresh = {.fd = {-1, -1}};
	int rc;

	rc = udp_open(&fresh, port, iface->cfg->fwmark, iface->scratch->use_offloads);
	if (rc != 0)
		return rc;
	for (int f = 0; f < 2; f++)
		ev_io_stop(iface->loop, &iface->udp_watcher[f]);
	iface->stats.tx_errors += udp_flush(iface->scratch);
	udp_close(&iface->udp);
	iface->udp = fresh;
	start_udp_watchers(iface);
	return 0;
}

int iface_set_listen_port(struct iface *iface, uint16_t port)
{
	int rc;

	if (port && port == iface->udp.port)
		return 0;
	rc = rebind(iface, port);
	if (rc != 0)
		return rc;
	iface->cfg->has_listen_port = port != 0;
	iface->cfg->listen_port = port;
	log_info("%s: listening on UDP port %u", iface->name, iface->udp.port);
	return 0;
}

int iface_set_fwmark(struct iface *iface, uint32_t fwmark)
{
	int rc = udp_set_fwmark(&iface->udp, fwmark);

	if (rc != 0) {
		(void)udp_set_fwmark(&iface->udp, iface->cfg->fwmark);
		return rc;
	}
	iface->cfg->fwmark = fwmark;
	return 0;
}

int iface_set_private_key(struct iface *iface, const uint8_t *private_key)
{
	struct peer *peer;
	int rc;

	rc = noise_local_set_private_key(&iface->local, private_key);
	if (rc != 0) {
		(void)noise_local_set_private_key(
			&iface->local, iface->cfg->has_private_key ? iface->cfg->private_key : NULL);
		return rc;
	}
	cookie_checker_init(&iface->cookie_checker,
			    iface->local.has_identity ? iface->local.static_public : NULL);
	/* As the kernel does: sessions made with the old identity stop sending. */
	list_for_each(peer, &iface->peers, node) {
		noise_handshake_clear(&peer->handshake);
		noise_keypairs_expire_current(&peer->keypairs);
	}
	iface->cfg->has_private_key = private_key != NULL;
	if (private_key)
		memcpy(iface->cfg->private_key, private_key, KEY_LEN);
	else
		crypto_wipe(iface->cfg->private_key, KEY_LEN);
	log_info("%s: private key %s", iface->name, private_key ? "changed" : "removed");
	return 0;
}

/*
 * The peer cfg->peers[i] could not be applied and is as it was: make cfg
 * say so, with its entry of old (swapped in: old is freed after) or, a peer
 * that was not running, without it. Never allocates. Returns whether
 * cfg->peers[i] is still there.
 */
static bool keep_running_peer(struct iface_config *cfg, size_t i, struct iface_config *old,
			      bool exists)
{
	for (size_t j = 0; exists && j < old->n_peers; j++) {
		if (!crypto_memeq(old->peers[j].public_key, cfg->peers[i].public_key, KEY_LEN))
			continue;
		iface_config_swap_peer(cfg, i, old, j);
		return true;
	}
	(void)iface_config_drop_peer(cfg, cfg->peers[i].public_key);
	return false;
}

/* Peers that cfg drops are removed; each peer of cfg is added or updated. 0 or the first -errno. */
static int reconfigure_peers(struct iface *iface, struct iface_config *cfg, json_t *changes)
{
	struct iface_config *old = iface->cfg;
	char label[KEY_BASE64_LEN + 1];
	double now_s = clock_now_s();
	struct peer *peer, *tmp;
	int rc, ret = 0;

	list_for_each_safe(peer, tmp, &iface->peers, node) {
		const struct peer_config *was;

		if (iface_config_find_peer_key(cfg, peer->public_key))
			continue;
		was = iface_config_find_peer_key(old, peer->public_key);
		if (was && was->name)
			snprintf(label, sizeof(label), "%s", was->name);
		else
			key_to_base64(label, peer->public_key);
		(void)iface_remove_peer(iface, peer->public_key);
		note_change(changes, true, "%s: peer %s removed", iface->name, label);
	}
	for (size_t i = 0; i < cfg->n_peers;) {
		const struct peer_config *pc = &cfg->peers[i];
		const struct peer_config *was = iface_config_find_peer_key(old, pc->public_key);
		bool exists = iface_find_peer(iface, pc->public_key) != NULL;

		if (exists && was && peer_config_same(was, pc)) {
			i++;
			continue;
		}
		rc = iface_apply_peer(iface, pc, now_s, NULL);
		if (rc != 0) {
			log_error("%s: %s:%u: cannot apply peer: %s; it stays as it was", iface->name,
				  cfg->path, pc->line, strerror(-rc));
			ret = ret ? ret : rc;
			i += keep_running_peer(cfg, i, old, exists);
			continue;
		}
		note_change(changes, !exists, "%s: peer %s %s", iface->name,
			    peer_config_label(pc, label), exists ? "updated" : "added");
		i++;
	}
	return ret;
}

int iface_reconfigure(struct iface *iface, struct iface_config *cfg, json_t *changes)
{
	struct iface_config *old = iface->cfg;
	struct peer *peer;
	int rc, ret = 0;

	if (!iface_config_same_interface(old, cfg))
		return -EAGAIN;

	if (old->has_listen_port != cfg->has_listen_port ||
	    (cfg->has_listen_port && old->listen_port != cfg->listen_port)) {
		uint16_t port = cfg->has_listen_port ? cfg->listen_port : 0;

		rc = rebind(iface, port);
		if (rc == 0) {
			note_change(changes, false, "%s: listening on UDP port %u", iface->name,
				    iface->udp.port);
		} else {
			log_error("%s: cannot listen on UDP port %u: %s; keeping port %u",
				  iface->name, port, strerror(-rc), iface->udp.port);
			cfg->has_listen_port = old->has_listen_port;
			cfg->listen_port = old->listen_port;
			ret = rc;
		}
	}
	rc = reconfigure_peers(iface, cfg, changes);
	ret = ret ? ret : rc;
	/* RedirectToLocalhost, in one nftables transaction: on failure the old rules stay. */
	rc = iface->hooks ? iface->hooks->reconfigure_routes(iface, cfg, changes) : 0;
	if (rc != 0) {
		struct redirect_ports *p = cfg->redirects;
		size_t n = cfg->n_redirects;

		log_error("%s: RedirectToLocalhost not changed: %s", iface->name, strerror(-rc));
		cfg->redirects = old->redirects;
		cfg->n_redirects = old->n_redirects;
		old->redirects = p;
		old->n_redirects = n;
		ret = ret ? ret : rc;
	}
	/* What could not be applied is old's in cfg: cfg is what runs. */
	iface->cfg = cfg;
	if (iface_config_resolve_interval(old) != iface_config_resolve_interval(cfg)) {
		list_for_each(peer, &iface->peers, node)
			peer_dns_interval_changed(peer);
		note_change(changes, false, "%s: endpoint names resolved every %u s", iface->name,
			    iface_config_resolve_interval(cfg));
	}
	iface_config_free(old);
	/* AllowExpose, [Expose] and the Expose* keys, in place. */
	if (iface->hooks)
		iface->hooks->reconfigured(iface, changes);
	events_emit("interface-reloaded", iface->name, NULL, NULL, NULL);
	return ret;
}

static void iface_on_housekeeping(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct iface *iface = w->data;

	(void)loop;
	(void)revents;
	ratelimiter_gc(iface->ratelimiter, clock_now_s());
}

static const char *open_error(int rc)
{
	switch (rc) {
	case -EBUSY:
		return "a TUN device of that name is held by another process";
	case -EINVAL:
		return "a network device of that name exists and is not a TUN device";
	case -EPERM:
		return "permission denied (CAP_NET_ADMIN is needed)";
	case -ENOENT:
	case -ENODEV:
		return "/dev/net/tun is missing (is the tun module loaded?)";
	default:
		return strerror(-rc);
	}
}

static int setup_tables(struct iface *iface)
{
	int rc;

	rc = index_table_create(&iface->index);
	if (rc == 0)
		rc = allowedips_create(&iface->allowedips);
	if (rc == 0)
		rc = ratelimiter_create(&iface->ratelimiter);
	if (rc == 0) {
		iface->peer_hash = calloc(INITIAL_PEER_HASH, sizeof(*iface->peer_hash));
		iface->peer_hash_size = INITIAL_PEER_HASH;
		if (!iface->peer_hash)
			rc = -ENOMEM;
	}
	return rc;
}

static int setup_identity(struct iface *iface, const struct iface_config *cfg)
{
	int rc;

	iface->local.index = iface->index;
	iface->local.lookup = lookup_handshake;
	rc = noise_local_set_private_key(&iface->local, cfg->has_private_key ? cfg->private_key
									     : NULL);
	if (rc != 0)
		return rc;
	cookie_checker_init(&iface->cookie_checker,
			    iface->local.has_identity ? iface->local.static_public : NULL);
	return 0;
}

/* The file's peers: one line for all at info, one a peer at debug (100,000 lines otherwise). */
static int add_peers(struct iface *iface, const struct iface_config *cfg, double now_s)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		int rc = apply_peer(iface, &cfg->peers[i], now_s, NULL, LOG_LEVEL_DEBUG);

		if (rc != 0) {
			log_error("%s: %s:%u: cannot add peer: %s", iface->name, cfg->path,
				  cfg->peers[i].line, strerror(-rc));
			return rc;
		}
	}
	log_info("%s: %zu peer%s", iface->name, cfg->n_peers, cfg->n_peers == 1 ? "" : "s");
	return 0;
}

static void start_watchers(struct iface *iface)
{
	ev_io_init(&iface->tun_watcher, send_on_tun_readable, iface->tun_fd, EV_READ);
	iface->tun_watcher.data = iface;
	ev_io_start(iface->loop, &iface->tun_watcher);
	start_udp_watchers(iface);
	ev_timer_init(&iface->housekeeping, iface_on_housekeeping, 1.0, 1.0);
	iface->housekeeping.data = iface;
	ev_timer_start(iface->loop, &iface->housekeeping);
}

static void stop_watchers(struct iface *iface)
{
	ev_io_stop(iface->loop, &iface->tun_watcher);
	for (int f = 0; f < 2; f++)
		ev_io_stop(iface->loop, &iface->udp_watcher[f]);
	ev_timer_stop(iface->loop, &iface->housekeeping);
}

bool iface_close_localhost_tunnels(struct iface *iface)
{
	return iface->hooks ? iface->hooks->close(iface) : false;
}

/* Everything but the hooks and the netconf state; safe on a half-built iface. */
static void teardown(struct iface *iface)
{
	struct peer *peer, *tmp;

	(void)iface_close_localhost_tunnels(iface);
	stop_watchers(iface);
	list_for_each_safe(peer, tmp, &iface->peers, node) {
		allowedips_remove_peer(iface->allowedips, peer);
		unlink_peer(iface, peer);
		peer_destroy(peer);
	}
	if (iface->scratch)
		(void)udp_flush(iface->scratch);
	udp_close(&iface->udp);
	if (iface->tun_fd >= 0)
		close(iface->tun_fd);
	iface->tun_fd = -1;
	ratelimiter_destroy(iface->ratelimiter);
	allowedips_destroy(iface->allowedips);
	index_table_destroy(iface->index);
	free(iface->peer_hash);
	noise_local_set_private_key(&iface->local, NULL);
	crypto_wipe(&iface->cookie_checker, sizeof(iface->cookie_checker));
	iface_config_free(iface->cfg);
	free(iface);
}

int iface_new(struct ev_loop *loop, struct scratch *scratch, struct netlink *nl,
	      uint64_t *next_peer_id, struct iface_config *cfg, struct iface **out)
{
	struct iface *iface;
	int rc;

	*out = NULL;
	iface = calloc(1, sizeof(*iface));
	if (!iface) {
		iface_config_free(cfg);
		return -ENOMEM;
	}
	snprintf(iface->name, sizeof(iface->name), "%s", cfg->name);
	iface->cfg = cfg;
	iface->loop = loop;
	iface->scratch = scratch;
	iface->nl = nl;
	iface->next_peer_id = next_peer_id;
	iface->tun_fd = -1;
	iface->udp.fd[0] = iface->udp.fd[1] = -1;
	iface->created_s = clock_now_s();
	iface->under_load_threshold = iface_under_load_threshold();
	list_init(&iface->node);
	list_init(&iface->peers);
	rc = setup_tables(iface);
	if (rc == 0)
		rc = setup_identity(iface, cfg);
	if (rc == 0)
		rc = add_peers(iface, cfg, iface->created_s);
	if (rc != 0) {
		if (rc != -EINVAL)
			log_error("%s: %s", iface->name, strerror(-rc));
		teardown(iface);
		return rc;
	}
	*out = iface;
	return 0;
}

int iface_listen(struct iface *iface)
{
	const struct iface_config *cfg = iface->cfg;
	uint16_t port = cfg->has_listen_port ? cfg->listen_port : 0;
	int rc;

	if (iface->udp.fd[0] >= 0 || iface->udp.fd[1] >= 0)
		return 0;
	rc = udp_open(&iface->udp, port, cfg->fwmark, iface->scratch->use_offloads);
	if (rc != 0) {
		log_error("%s: cannot listen on UDP port %u: %s", iface->name, port, strerror(-rc));
		return rc;
	}
	/* At bring-up start_watchers() starts them; later, now. */
	if (iface->netconf)
		start_udp_watchers(iface);
	return 0;
}

void iface_link_changed(struct iface *iface, unsigned int flags, uint32_t mtu)
{
	if (mtu && mtu != iface->mtu) {
		log_debug("%s: MTU %u", iface->name, mtu);
		iface->mtu = mtu;
	}
	if ((flags & IFF_UP) && iface->udp.fd[0] < 0 && iface->udp.fd[1] < 0 &&
	    iface_listen(iface) == 0)
		log_info("%s: link up, listening on UDP port %u", iface->name, iface->udp.port);
}

/* PreUp, device, sockets, wg-quick steps, watchers, PostUp. */
static int bring_up(struct iface *iface)
{
	const struct iface_config *cfg = iface->cfg;
	int rc;

	rc = netconf_run_hooks(iface->name, "PreUp", cfg->pre_up, cfg->n_pre_up);
	if (rc != 0)
		return rc;
	rc = tun_open(iface->name, iface->scratch->use_offloads, &iface->tun_feat);
	if (rc < 0) {
		log_error("%s: cannot create TUN device: %s", iface->name, open_error(rc));
		return rc;
	}
	iface->tun_fd = rc;
	iface->ifindex = (int)if_nametoindex(iface->name);
	/* Without a file, as wireguard-go: no socket until a port is set or the link is up. */
	rc = cfg->path || cfg->has_listen_port ? iface_listen(iface) : 0;
	if (rc != 0)
		return rc;
	rc = netconf_create(iface, &iface->netconf);
	if (rc != 0)
		return rc;
	start_watchers(iface);
	if (iface->hooks) {
		rc = iface->hooks->up(iface);
		if (rc != 0)
			return rc;
	}
	return netconf_run_hooks(iface->name, "PostUp", cfg->post_up, cfg->n_post_up);
}

/* What the kernel granted, for the "up" line: the one place offloads are reported. */
static const char *offload_summary(const struct iface *iface, char *buf, size_t len)
{
	const struct tun_features *t = &iface->tun_feat;
	const struct udp *u = &iface->udp;

	if (!t->vnet_hdr && !u->gso[0] && !u->gro[0])
		return "none";
	snprintf(buf, len, "tun %s%s%s, udp %s%s", t->vnet_hdr ? "vnet" : "plain",
		 t->tso ? "+tso" : "", t->uso ? "+uso" : "", u->gso[0] ? "gso" : "no-gso",
		 u->gro[0] ? "+gro" : "");
	return buf;
}

int iface_create(struct ev_loop *loop, struct scratch *scratch, struct netlink *nl,
		 uint64_t *next_peer_id, struct iface_config *cfg, const struct iface_hooks *hooks,
		 struct iface **out)
{
	char summary[64];
	struct iface *iface;
	struct peer *peer;
	double now_s;
	int rc;

	*out = NULL;
	rc = iface_new(loop, scratch, nl, next_peer_id, cfg, &iface);
	if (rc != 0)
		return rc;
	iface->hooks = hooks;
	rc = bring_up(iface);
	if (rc != 0) {
		/* Like wg-quick: undo what was done, without the down hooks. */
		stop_watchers(iface);
		netconf_destroy(iface, iface->netconf);
		iface->netconf = NULL;
		teardown(iface);
		return rc;
	}
	/* Peers with a persistent keepalive start their sessions now, as with wg. */
	now_s = clock_now_s();
	list_for_each(peer, &iface->peers, node)
		if (peer->persistent_keepalive_s)
			timers_persistent_keepalive_changed(peer, now_s);
	iface->stats.tx_errors += udp_flush(scratch);
	if (!(iface->udp.fd[0] >= 0 || iface->udp.fd[1] >= 0))
		log_info("%s: created without a file, link down, no key, not listening until a "
			 "port is set or the link goes up; offloads: %s", iface->name,
			 offload_summary(iface, summary, sizeof(summary)));
	else
		log_info("%s: up, listening on UDP port %u, %zu peer%s, MTU %u, offloads: %s",
			 iface->name, iface->udp.port, iface->n_peers, iface->n_peers == 1 ? "" : "s",
			 iface->mtu, offload_summary(iface, summary, sizeof(summary)));
	events_emit("interface-up", iface->name, NULL, NULL, NULL);
	*out = iface;
	return 0;
}

/* iface_destroy(), and iface_forget() when link_gone: no PreDown. */
static void destroy(struct iface *iface, bool link_gone)
{
	char name[IFNAMSIZ];
	struct iface_config *cfg;

	if (!iface)
		return;
	memcpy(name, iface->name, sizeof(name));
	cfg = iface->cfg;
	if (!link_gone)
		(void)netconf_run_hooks(name, "PreDown", cfg->pre_down, cfg->n_pre_down);
	stop_watchers(iface);
	netconf_destroy(iface, iface->netconf);
	iface->netconf = NULL;
	/* PostDown runs after the device is gone; keep the commands until then. */
	iface->cfg = NULL;
	teardown(iface);
	(void)netconf_run_hooks(name, "PostDown", cfg->post_down, cfg->n_post_down);
	log_info("%s: down", name);
	if (events_wanted())
		events_emit("interface-down", name, NULL, NULL,
			    json_pack("{s:b}", "link_deleted", link_gone));
	iface_config_free(cfg);
}

void iface_destroy(struct iface *iface)
{
	destroy(iface, false);
}

void iface_forget(struct iface *iface)
{
	destroy(iface, true);
}

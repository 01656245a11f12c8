// SPDX-License-Identifier: MIT
/*
 * `wg`'s UAPI against a running interface (uapi_apply.h). A set is applied
 * in two steps: first folded, without touching anything, into what each
 * peer it names will be (a struct peer_config, as a file would say it);
 * then the interface keys and those peers are applied, each step recorded,
 * and on a failure every recorded step is undone, last first.
 */
#include "uapi_apply.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"
#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "iface.h"
#include "log.h"
#include "peer_state.h"

/* ---- get ---- */

static void put_prefix(const struct ip_prefix *p, void *ctx)
{
	uapi_put_allowed_ip(ctx, p);
}

void uapi_get(struct iface *iface, struct uapi_buf *b)
{
	const struct iface_config *cfg = iface->cfg;
	struct peer *peer;

	uapi_put_interface(b, cfg->has_private_key ? cfg->private_key : NULL, iface->udp.port,
			   cfg->fwmark);
	list_for_each(peer, &iface->peers, node) {
		struct uapi_peer_info info = {
			.public_key = peer->public_key,
			.preshared_key =
				peer->has_preshared_key ? peer->handshake.preshared_key : NULL,
			.endpoint = peer->has_endpoint ? &peer->endpoint.addr : NULL,
			.last_handshake = peer->last_handshake_wall,
			.tx_bytes = peer->tx_bytes,
			.rx_bytes = peer->rx_bytes,
			.keepalive_s = peer->persistent_keepalive_s,
		};

		uapi_put_peer(b, &info);
		allowedips_for_peer(iface->allowedips, peer, put_prefix, b);
	}
}

/* ---- Folding a set into what each peer named will be ---- */

struct staged {
	uint8_t key[KEY_LEN];
	bool present; /* the peer exists after the request */
	struct peer_config pc;
	size_t next; /* hash chain: index + 1, 0 at the end */
};

struct fold {
	struct staged *items;
	size_t n, cap;
	size_t *heads; /* index + 1 */
	size_t n_heads; /* a power of two */
};

static size_t fold_hash(const struct fold *f, const uint8_t key[KEY_LEN])
{
	uint32_t h;

	memcpy(&h, key, sizeof(h));
	return h & (f->n_heads - 1);
}

static struct staged *fold_find(const struct fold *f, const uint8_t key[KEY_LEN])
{
	for (size_t i = f->heads[fold_hash(f, key)]; i; i = f->items[i - 1].next)
		if (memcmp(f->items[i - 1].key, key, KEY_LEN) == 0)
			return &f->items[i - 1];
	return NULL;
}

/* The staged entry of key, made from what runs (or nothing after replace_peers). */
static struct staged *fold_get(struct fold *f, const struct iface_config *cfg, bool replace,
			       const uint8_t key[KEY_LEN])
{
	struct staged *s = fold_find(f, key);
	const struct peer_config *cur;
	size_t h;

	if (s)
		return s;
	if (f->n == f->cap)
		return NULL; /* sized for every section and one more: never */
	s = &f->items[f->n];
	memset(s, 0, sizeof(*s));
	memcpy(s->key, key, KEY_LEN);
	cur = iface_config_find_peer_key(cfg, key);
	if (cur && !replace) {
		if (peer_config_copy(&s->pc, cur) != 0)
			return NULL;
		s->present = true;
	} else if (cur && cur->name && !(s->pc.name = strdup(cur->name))) {
		return NULL; /* replace_peers: a peer named again keeps its Name, tund's own */
	}
	h = fold_hash(f, key);
	s->next = f->heads[h];
	f->heads[h] = ++f->n;
	return s;
}

static void fold_free(struct fold *f)
{
	for (size_t i = 0; i < f->n; i++)
		peer_config_clear(&f->items[i].pc);
	free(f->items);
	free(f->heads);
}

static bool prefix_same(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       !memcmp(&a->addr, &b->addr, a->family == AF_INET ? 4 : 16);
}

static int aip_add(struct peer_config *pc, const struct ip_prefix *p)
{
	struct ip_prefix *n;

	for (size_t i = 0; i < pc->n_allowed_ips; i++)
		if (prefix_same(&pc->allowed_ips[i], p))
			return 0;
	n = realloc(pc->allowed_ips, (pc->n_allowed_ips + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	pc->allowed_ips = n;
	pc->allowed_ips[pc->n_allowed_ips++] = *p;
	return 0;
}

static void aip_remove(struct peer_config *pc, const struct ip_prefix *p)
{
	for (size_t i = 0; i < pc->n_allowed_ips; i++) {
		if (!prefix_same(&pc->allowed_ips[i], p))
			continue;
		memmove(&pc->allowed_ips[i], &pc->allowed_ips[i + 1],
			(pc->n_allowed_ips - i - 1) * sizeof(*p));
		pc->n_allowed_ips--;
		return;
	}
}

/* A section's keys onto s->pc (s present). 0 or -ENOMEM. */
static int fold_section(struct staged *s, const struct uapi_peer *u)
{
	struct peer_config *pc = &s->pc;

	if (u->has_preshared_key) {
		pc->has_preshared_key = !key_is_zero(u->preshared_key);
		memcpy(pc->preshared_key, u->preshared_key, KEY_LEN);
	}
	if (u->has_endpoint) {
		char host[INET6_ADDRSTRLEN];
		const void *a = u->endpoint.sa.sa_family == AF_INET
					? (const void *)&u->endpoint.in.sin_addr
					: (const void *)&u->endpoint.in6.sin6_addr;
		char *dup;

		if (!inet_ntop(u->endpoint.sa.sa_family, a, host, sizeof(host)) ||
		    !(dup = strdup(host)))
			return -ENOMEM;
		free(pc->endpoint_host);
		pc->endpoint_host = dup;
		pc->endpoint_port =
			ntohs(u->endpoint.sa.sa_family == AF_INET ? u->endpoint.in.sin_port
								  : u->endpoint.in6.sin6_port);
	}
	if (u->has_keepalive)
		pc->persistent_keepalive_s = u->keepalive_s;
	for (size_t i = 0; i < u->n_aips; i++) {
		const struct uapi_aip_op *op = &u->aips[i];

		if (op->kind == UAPI_AIP_CLEAR)
			pc->n_allowed_ips = 0;
		else if (op->kind == UAPI_AIP_REMOVE)
			aip_remove(pc, &op->prefix);
		else if (aip_add(pc, &op->prefix) != 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * What every peer set names will be. own (NULL: no identity) is the
 * interface's public key once set's private_key is in: a section with it is
 * ignored, and a peer that has it is removed. 0 or -ENOMEM.
 */
static int fold_set(struct fold *f, const struct iface_config *cfg, const struct uapi_set *set,
		    const uint8_t *own)
{
	size_t heads = 16;

	while (heads < 2 * (set->n_peers + 1))
		heads *= 2;
	f->cap = set->n_peers + 1;
	f->items = calloc(f->cap, sizeof(*f->items));
	f->heads = calloc(heads, sizeof(*f->heads));
	f->n_heads = heads;
	if (!f->items || !f->heads)
		return -ENOMEM;
	if (own && set->has_private_key && iface_config_find_peer_key(cfg, own)) {
		struct staged *s = fold_get(f, cfg, true, own);

		if (!s)
			return -ENOMEM;
	}
	for (size_t i = 0; i < set->n_peers; i++) {
		const struct uapi_peer *u = &set->peers[i];
		struct staged *s;

		if (own && memcmp(u->public_key, own, KEY_LEN) == 0)
			continue; /* wg ignores a peer with the interface's own key */
		s = fold_get(f, cfg, set->replace_peers, u->public_key);
		if (!s)
			return -ENOMEM;
		if (u->remove) {
			s->present = false;
			continue;
		}
		if (u->update_only && !s->present)
			continue;
		if (!s->present) {
			char *name = s->pc.name;

			s->pc.name = NULL;
			peer_config_clear(&s->pc);
			s->pc.name = name;
			memcpy(s->pc.public_key, u->public_key, KEY_LEN);
			s->present = true;
		}
		if (fold_section(s, u) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- Applying, with undo ---- */

/* One change made: the peer of key was old (existed) or absent. */
struct undo {
	uint8_t key[KEY_LEN];
	bool existed;
	struct peer_config old;
};

struct undo_log {
	struct undo *items;
	size_t n, cap;
};

/* Note that the peer of key is about to change. 0 or -ENOMEM. */
static int undo_note(struct undo_log *u, const struct iface_config *cfg, const uint8_t *key)
{
	const struct peer_config *cur = iface_config_find_peer_key(cfg, key);

	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct undo *n = realloc(u->items, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		u->items = n;
		u->cap = cap;
	}
	memset(&u->items[u->n], 0, sizeof(u->items[0]));
	memcpy(u->items[u->n].key, key, KEY_LEN);
	if (cur) {
		if (peer_config_copy(&u->items[u->n].old, cur) != 0)
			return -ENOMEM;
		u->items[u->n].existed = true;
	}
	u->n++;
	return 0;
}

static void undo_run(struct iface *iface, struct undo_log *u)
{
	while (u->n) {
		struct undo *x = &u->items[--u->n];

		if (x->existed) {
			(void)iface_apply_peer(iface, &x->old, clock_now_s(), NULL);
			(void)iface_config_put_peer(iface->cfg, &x->old);
		} else {
			(void)iface_remove_peer(iface, x->key);
			(void)iface_config_drop_peer(iface->cfg, x->key);
		}
		peer_config_clear(&x->old);
	}
}

static void undo_free(struct undo_log *u)
{
	for (size_t i = 0; i < u->n; i++)
		peer_config_clear(&u->items[i].old);
	free(u->items);
}

static int remove_peer(struct iface *iface, struct undo_log *u, const uint8_t *key)
{
	int rc = undo_note(u, iface->cfg, key);

	if (rc != 0)
		return rc;
	(void)iface_remove_peer(iface, key);
	(void)iface_config_drop_peer(iface->cfg, key);
	return 0;
}

/*
 * After pc's peer took its prefixes: another peer that held one of them in
 * the table lost it there, as with the kernel; its iface->cfg entry follows.
 */
static int fix_losers(struct iface *iface, struct undo_log *u, struct peer **losers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct peer_config *cur =
			iface_config_find_peer_key(iface->cfg, losers[i]->public_key);
		struct peer_config pc;
		size_t k = 0;

		if (!cur)
			continue;
		if (undo_note(u, iface->cfg, losers[i]->public_key) != 0 ||
		    peer_config_copy(&pc, cur) != 0)
			return -ENOMEM;
		for (size_t j = 0; j < pc.n_allowed_ips; j++)
			if (allowedips_owner(iface->allowedips, &pc.allowed_ips[j]) == losers[i])
				pc.allowed_ips[k++] = pc.allowed_ips[j];
		pc.n_allowed_ips = k;
		int rc = iface_config_put_peer(iface->cfg, &pc);

		peer_config_clear(&pc);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int put_peer(struct iface *iface, struct undo_log *u, const struct peer_config *pc)
{
	const struct peer_config *cur = iface_config_find_peer_key(iface->cfg, pc->public_key);
	struct peer **losers = NULL;
	size_t n_losers = 0;
	int rc;

	if (cur && iface_find_peer(iface, pc->public_key) && peer_config_same(cur, pc))
		return 0; /* unchanged: its session stays as it is */
	rc = undo_note(u, iface->cfg, pc->public_key);
	if (rc == 0 && pc->n_allowed_ips && !(losers = calloc(pc->n_allowed_ips, sizeof(*losers))))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < pc->n_allowed_ips; i++) {
		struct peer *o = allowedips_owner(iface->allowedips, &pc->allowed_ips[i]);
		bool seen = false;

		if (!o || !memcmp(o->public_key, pc->public_key, KEY_LEN))
			continue;
		for (size_t j = 0; j < n_losers; j++)
			seen = seen || losers[j] == o;
		if (!seen)
			losers[n_losers++] = o;
	}
	if (rc == 0)
		rc = iface_apply_peer(iface, pc, clock_now_s(), NULL);
	if (rc == 0 && iface_config_put_peer(iface->cfg, pc) != 0)
		rc = -ENOMEM;
	if (rc == 0)
		rc = fix_losers(iface, u, losers, n_losers);
	free(losers);
	return rc;
}

static int apply_peers(struct iface *iface, const struct uapi_set *set, struct fold *f,
		       struct undo_log *u)
{
	struct iface_config *cfg = iface->cfg;
	int rc;

	/* replace_peers: every peer the request does not name goes (backwards: drop swaps). */
	for (size_t i = cfg->n_peers; set->replace_peers && i-- > 0;) {
		uint8_t key[KEY_LEN];

		if (i >= cfg->n_peers || fold_find(f, cfg->peers[i].public_key))
			continue;
		memcpy(key, cfg->peers[i].public_key, KEY_LEN);
		rc = remove_peer(iface, u, key);
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct staged *s = &f->items[i];

		if (s->present)
			rc = put_peer(iface, u, &s->pc);
		else if (iface_config_find_peer_key(iface->cfg, s->key))
			rc = remove_peer(iface, u, s->key);
		else
			rc = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The interface keys, each undone on a later failure. */
struct iface_was {
	bool port_set, mark_set, key_set;
	uint16_t port;
	uint32_t mark;
	bool had_key;
	uint8_t key[KEY_LEN];
};

static void iface_undo(struct iface *iface, struct iface_was *w)
{
	if (w->key_set && iface_set_private_key(iface, w->had_key ? w->key : NULL) != 0)
		log_error("%s: UAPI: cannot restore the private key", iface->name);
	if (w->mark_set)
		(void)iface_set_fwmark(iface, w->mark);
	if (w->port_set && iface_set_listen_port(iface, w->port) != 0)
		log_error("%s: UAPI: cannot go back to UDP port %u", iface->name, w->port);
}

static int apply_iface(struct iface *iface, const struct uapi_set *set, struct iface_was *w)
{
	struct iface_config *cfg = iface->cfg;
	int rc;

	w->port = iface->udp.port;
	w->mark = cfg->fwmark;
	w->had_key = cfg->has_private_key;
	memcpy(w->key, cfg->private_key, KEY_LEN);
	if (set->has_listen_port && set->listen_port != iface->udp.port) {
		rc = iface_set_listen_port(iface, set->listen_port);
		if (rc != 0) {
			log_warn("%s: UAPI: cannot listen on UDP port %u: %s", iface->name,
				 set->listen_port, strerror(-rc));
			return -EADDRINUSE;
		}
		w->port_set = true;
	}
	if (set->has_fwmark && set->fwmark != cfg->fwmark) {
		rc = iface_set_fwmark(iface, set->fwmark);
		if (rc != 0) {
			log_warn("%s: UAPI: cannot set fwmark %u: %s", iface->name, set->fwmark,
				 strerror(-rc));
			return -EADDRINUSE;
		}
		w->mark_set = true;
	}
	if (set->has_private_key && (cfg->has_private_key != !key_is_zero(set->private_key) ||
				     !crypto_memeq(cfg->private_key, set->private_key, KEY_LEN))) {
		rc = iface_set_private_key(iface,
					   key_is_zero(set->private_key) ? NULL : set->private_key);
		if (rc != 0)
			return rc;
		w->key_set = true;
	}
	return 0;
}

/* The public key of set's private key (or the running one); false when none. */
static bool own_key(struct iface *iface, const struct uapi_set *set, uint8_t pub[KEY_LEN], int *rc)
{
	struct x25519_key *k = NULL;

	*rc = 0;
	if (!set->has_private_key) {
		memcpy(pub, iface->local.static_public, KEY_LEN);
		return iface->local.has_identity;
	}
	if (key_is_zero(set->private_key))
		return false;
	*rc = x25519_key_create(&k, set->private_key, pub);
	x25519_key_destroy(k);
	return *rc == 0;
}

int uapi_apply(struct iface *iface, const struct uapi_set *set)
{
	struct iface_was was = {0};
	struct undo_log u = {0};
	struct fold f = {0};
	uint8_t pub[KEY_LEN];
	bool has_own;
	int rc;

	has_own = own_key(iface, set, pub, &rc);
	if (rc == 0)
		rc = fold_set(&f, iface->cfg, set, has_own ? pub : NULL);
	if (rc == 0) {
		rc = apply_iface(iface, set, &was);
		if (rc != 0)
			iface_undo(iface, &was);
	}
	if (rc == 0) {
		iface_sync_defer(iface, true);
		rc = apply_peers(iface, set, &f, &u);
		if (rc != 0)
			undo_run(iface, &u);
		iface_sync_defer(iface, false);
		if (rc != 0)
			iface_undo(iface, &was);
	}
	if (rc != 0)
		log_warn("%s: UAPI set failed: %s; nothing was changed", iface->name,
			 strerror(-rc));
	else if (u.n || was.port_set || was.mark_set || was.key_set)
		log_info("%s: UAPI set: %zu peer change%s", iface->name, u.n, u.n == 1 ? "" : "s");
	crypto_wipe(&was, sizeof(was));
	undo_free(&u);
	fold_free(&f);
	return rc;
}

// SPDX-License-Identifier: MIT
/*
 * Reload of one interface (iface_reconfigure) when a step fails half-way:
 * whatever could not be applied stays as it was, and iface->cfg always
 * describes what runs, so that AllowExpose, show, the control commands and
 * the next reload read the truth.
 *
 * Faults are injected at the system boundary (-Wl,--wrap): malloc, calloc,
 * realloc and strdup fail once, at the k-th call during the reload, for
 * every k until a reload needs no more; nat_update stands for nftables
 * refusing the RedirectToLocalhost table (the interface here has no
 * nftables table: iface_new() touches nothing outside the process).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allowedips.h"
#include "config.h"
#include "crypto.h"
#include "expose.h"
#include "iface.h"
#include "key.h"
#include "log.h"
#include "noise.h"
#include "peer.h"
#include "support.h"
#include "udp.h"

/* ---- Fault injection ---- */

static long fail_in = -1; /* allocations to let through before one fails; -1: none */
static bool injected; /* the armed failure happened */
static bool nat_refuses;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
int __real_nat_update(struct nat *nat, const struct iface_config *cfg, json_t *changes);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
int __wrap_nat_update(struct nat *nat, const struct iface_config *cfg, json_t *changes);

static bool fail_now(void)
{
	if (fail_in < 0 || fail_in-- > 0)
		return false;
	injected = true;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

int __wrap_nat_update(struct nat *nat, const struct iface_config *cfg, json_t *changes)
{
	if (nat_refuses)
		return -EPERM;
	return __real_nat_update(nat, cfg, changes);
}

/* ---- The files ---- */

enum {
	ME,
	A,
	B,
	C,
	D,
	E,
	N_KEYS
};
static char priv_b64[KEY_BASE64_LEN + 1], pub_b64[N_KEYS][KEY_BASE64_LEN + 1];
static char psk_b64[KEY_BASE64_LEN + 1];
static char old_text[2048], new_text[2048];

/*
 * A stays; B changes name, address list (taking 10.0.0.66 from E and C's
 * subnet), AllowExpose and endpoint; C goes; D comes; E changes name and PSK and
 * gives up 10.0.0.66; RedirectToLocalhost gains a port.
 */
static void make_texts(void)
{
	snprintf(old_text, sizeof(old_text),
		 "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.1/24\nRedirectToLocalhost = 8080\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.2/32\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.3/32\nAllowExpose = 8000-8009\n"
		 "Endpoint = 192.0.2.3:51820\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.4/32, 10.1.0.0/16\n"
		 "[Peer]\nPublicKey = %s\nName = old-e\n"
		 "AllowedIPs = 10.0.0.6/32, 10.0.0.66/32, fd00::6/128\n",
		 priv_b64, pub_b64[A], pub_b64[B], pub_b64[C], pub_b64[E]);
	snprintf(new_text, sizeof(new_text),
		 "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.1/24\n"
		 "RedirectToLocalhost = 8080, 9090\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.2/32\n"
		 "[Peer]\nPublicKey = %s\nName = b\n"
		 "AllowedIPs = 10.0.0.3/32, 10.0.0.66/32, 10.1.0.0/16\n"
		 "AllowExpose = 8000-8099\nEndpoint = 192.0.2.33:51820\n"
		 "[Peer]\nPublicKey = %s\nName = d\nAllowedIPs = 10.0.0.5/32, 10.2.0.0/16\n"
		 "[Peer]\nPublicKey = %s\nName = new-e\nPresharedKey = %s\n"
		 "AllowedIPs = 10.0.0.6/32, fd00::6/128\n",
		 priv_b64, pub_b64[A], pub_b64[B], pub_b64[D], pub_b64[E], psk_b64);
}

static struct iface_config *load(const char *text)
{
	struct diag_list diags = {0};
	struct iface_config *cfg = NULL;

	if (config_load_string("rl0.conf", text, strlen(text), &cfg, &diags) != 0)
		diag_print(&diags, stderr);
	diag_list_clear(&diags);
	assert_non_null(cfg);
	return cfg;
}

static int group_setup(void **state)
{
	uint8_t k[KEY_LEN];

	(void)state;
	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0)
		return -1;
	noise_init();
	for (int i = 0; i < N_KEYS; i++)
		ts_keypair_b64(i == ME ? priv_b64 : NULL, pub_b64[i]);
	if (crypto_random(k, sizeof(k)) != 0)
		return -1;
	key_to_base64(psk_b64, k);
	make_texts();
	return 0;
}

/* ---- What must hold after any reload ---- */

struct collected {
	struct ip_prefix p[16];
	size_t n;
};

static void collect(const struct ip_prefix *p, void *ctx)
{
	struct collected *c = ctx;

	assert_true(c->n < 16);
	c->p[c->n++] = *p;
}

static bool prefix_eq(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       memcmp(a->addr.bytes, b->addr.bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static bool lists(const struct peer_config *pc, const struct ip_prefix *p)
{
	for (size_t i = 0; i < pc->n_allowed_ips; i++)
		if (prefix_eq(&pc->allowed_ips[i], p))
			return true;
	return false;
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * The live peer is what its entry in iface->cfg says: name, endpoint, PSK,
 * and allowed IPs (a prefix its entry lists may be held by another peer
 * whose entry lists it too: an allowed IP has one owner).
 */
static void check_peer_matches(struct iface *iface, struct peer *peer)
{
	const struct peer_config *pc = iface_config_find_peer_key(iface->cfg, peer->public_key);
	struct collected got = {0};

	assert_non_null(pc);
	assert_true(same_string(peer->name, pc->name));
	assert_true(same_string(peer->endpoint_host, pc->endpoint_host));
	assert_int_equal(peer->endpoint_port, pc->endpoint_port);
	assert_int_equal(peer->has_preshared_key, pc->has_preshared_key);
	if (pc->has_preshared_key)
		assert_memory_equal(peer->handshake.preshared_key, pc->preshared_key, KEY_LEN);
	allowedips_for_peer(iface->allowedips, peer, collect, &got);
	for (size_t i = 0; i < got.n; i++)
		assert_true(lists(pc, &got.p[i]));
	for (size_t i = 0; i < pc->n_allowed_ips; i++) {
		struct peer *owner = allowedips_owner(iface->allowedips, &pc->allowed_ips[i]);

		assert_non_null(owner);
		if (owner != peer)
			assert_true(lists(iface_config_find_peer_key(iface->cfg, owner->public_key),
					  &pc->allowed_ips[i]));
	}
}

static void check_consistent(struct iface *iface)
{
	struct peer *peer;
	size_t n = 0;

	assert_true(allowedips_selfcheck(iface->allowedips));
	list_for_each(peer, &iface->peers, node) {
		check_peer_matches(iface, peer);
		n++;
	}
	/* Every entry of iface->cfg is a running peer. */
	assert_int_equal(n, iface->cfg->n_peers);
	assert_int_equal(n, iface->n_peers);
}

/* Each entry of iface->cfg is either the old file's or the new file's. */
static void check_old_or_new(struct iface *iface, const struct iface_config *was,
			     const struct iface_config *want)
{
	for (size_t i = 0; i < iface->cfg->n_peers; i++) {
		const struct peer_config *pc = &iface->cfg->peers[i];
		const struct peer_config *o = iface_config_find_peer_key(was, pc->public_key);
		const struct peer_config *w = iface_config_find_peer_key(want, pc->public_key);

		assert_true((o && peer_config_same(o, pc)) || (w && peer_config_same(w, pc)));
	}
}

static void check_all_new(struct iface *iface, const struct iface_config *want)
{
	assert_int_equal(iface->cfg->n_peers, want->n_peers);
	for (size_t i = 0; i < want->n_peers; i++) {
		const struct peer_config *pc =
			iface_config_find_peer_key(iface->cfg, want->peers[i].public_key);

		assert_non_null(pc);
		assert_true(peer_config_same(pc, &want->peers[i]));
	}
}

/* ---- Tests ---- */

struct bench {
	struct scratch *scratch;
	struct iface *iface;
	uint64_t next_id;
	struct iface_config *was, *want; /* the two files, for comparison */
};

static void bench_up(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(scratch_create(&b->scratch), 0);
	assert_int_equal(iface_new(ev_default_loop(0), b->scratch, NULL, &b->next_id,
				   load(old_text), &b->iface),
			 0);
	b->iface->hooks = &expose_iface_hooks; /* reload reaches nat_update() */
	b->was = load(old_text);
	b->want = load(new_text);
	check_consistent(b->iface);
}

static void bench_down(struct bench *b)
{
	iface_destroy(b->iface);
	scratch_destroy(b->scratch);
	iface_config_free(b->was);
	iface_config_free(b->want);
}

/* Reload with the allocation after `skip` more failing; returns iface_reconfigure's answer. */
static int reload_failing_at(struct bench *b, long skip)
{
	struct iface_config *cfg = load(new_text);
	json_t *changes = json_array();
	int rc;

	injected = false;
	fail_in = skip;
	rc = iface_reconfigure(b->iface, cfg, changes);
	fail_in = -1;
	json_decref(changes);
	assert_int_not_equal(rc, -EAGAIN);
	return rc;
}

static void test_reload_without_memory_keeps_cfg_true(void **state)
{
	long k;

	(void)state;
	for (k = 0; k < 1000; k++) {
		struct bench b;
		int rc;

		bench_up(&b);
		rc = reload_failing_at(&b, k);
		check_consistent(b.iface);
		check_old_or_new(b.iface, b.was, b.want);
		if (!injected) {
			/* The reload needed fewer than k allocations: it all applied. */
			assert_int_equal(rc, 0);
			check_all_new(b.iface, b.want);
			bench_down(&b);
			break;
		}
		assert_true(rc == 0 || rc == -ENOMEM);
		bench_down(&b);
	}
	/* Some allocations happened, and the loop ended with a clean reload. */
	assert_true(k > 5 && k < 1000);
}

/* nftables refuses the new RedirectToLocalhost: the peers' changes are in force, and in cfg. */
static void test_reload_nat_refused(void **state)
{
	const struct peer_config *pc;
	struct bench b;
	json_t *changes = json_array();
	uint8_t key[KEY_LEN];
	const char *why;
	int rc;

	(void)state;
	bench_up(&b);
	nat_refuses = true;
	rc = iface_reconfigure(b.iface, load(new_text), changes);
	nat_refuses = false;
	json_decref(changes);
	assert_int_equal(rc, -EPERM);
	check_consistent(b.iface);
	check_all_new(b.iface, b.want);
	/* B's new AllowExpose is the one in force. */
	assert_int_equal(key_from_base64(key, pub_b64[B], &why), 0);
	pc = iface_config_find_peer_key(b.iface->cfg, key);
	assert_non_null(pc);
	assert_int_equal(pc->n_allow_expose, 1);
	assert_int_equal(pc->allow_expose[0].last, 8099);
	/* The redirect list in cfg is the one still installed: the old one. */
	assert_int_equal(b.iface->cfg->n_redirects, b.was->n_redirects);
	assert_memory_equal(b.iface->cfg->redirects, b.was->redirects,
			    b.was->n_redirects * sizeof(*b.was->redirects));
	bench_down(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_without_memory_keeps_cfg_true),
		cmocka_unit_test(test_reload_nat_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}

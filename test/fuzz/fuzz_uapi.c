// SPDX-License-Identifier: MIT
/*
 * Fuzz target for `wg`'s UAPI: any bytes as what a client writes to
 * /var/run/wireguard/IFACE.sock, fed to the parser (common/uapi.c) in
 * pieces whose sizes the first byte chooses, each complete request answered
 * as the server does: a get written from a real interface (iface_new(): no
 * device, socket or route), a set applied to it with uapi_apply(). Besides
 * crashes, leaks and UB it checks the parser's contract (it takes what it
 * says, a status that matches its state) and that after every set the
 * interface and iface->cfg agree peer for peer. A set's listen_port and
 * fwmark are dropped before applying (they would bind real ports). The
 * interface is made once (making one per input would cost most of the run)
 * and brought back after each input by a fixed set through the same
 * uapi_apply(), checked against the file it was made from: inputs stay
 * independent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"
#include "config.h"
#include "iface.h"
#include "log.h"
#include "peer_state.h"
#include "support.h"
#include "uapi.h"
#include "uapi_apply.h"
#include "udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (64 * 1024)

static const char conf[] =
	"[Interface]\nPrivateKey = " TS_PRIV_1 "\n"
	"[Peer]\nPublicKey = " TS_PUB_2 "\nAllowedIPs = 10.0.0.2/32, fd00::2/128\n"
	"[Peer]\nPublicKey = " TS_PUB_3 "\n"
	"Endpoint = 192.0.2.3:51820\nAllowedIPs = 10.0.0.3/32, 10.3.0.0/16\n";

static struct scratch *scratch;
static uint64_t next_id;
static struct iface *iface;
static struct iface_config *want; /* conf, loaded: what the restore must give back */
static struct uapi_set restore; /* conf as a UAPI set */

static struct iface_config *load(void)
{
	struct diag_list diags = {0};
	struct iface_config *cfg = NULL;

	if (config_load_string("fz0.conf", conf, strlen(conf), &cfg, &diags) != 0)
		abort();
	diag_list_clear(&diags);
	return cfg;
}

/* conf as `wg setconf` would send it. */
static void make_restore(void)
{
	struct uapi_buf b = {0};
	struct uapi_parser p;
	char hex[2 * KEY_LEN + 1];

	uapi_key_hex(hex, want->private_key);
	uapi_buf_printf(&b, "set=1\nprivate_key=%s\nreplace_peers=true\n", hex);
	for (size_t i = 0; i < want->n_peers; i++) {
		const struct peer_config *pc = &want->peers[i];
		char text[ADDR_STR_LEN];

		uapi_key_hex(hex, pc->public_key);
		uapi_buf_printf(&b, "public_key=%s\npreshared_key=%064d\n", hex, 0);
		uapi_buf_printf(&b, "persistent_keepalive_interval=0\nreplace_allowed_ips=true\n");
		if (pc->endpoint_host)
			uapi_buf_printf(&b, "endpoint=%s:%u\n", pc->endpoint_host,
					pc->endpoint_port);
		for (size_t j = 0; j < pc->n_allowed_ips; j++)
			uapi_buf_printf(&b, "allowed_ip=%s\n",
					prefix_format(text, sizeof(text), &pc->allowed_ips[j]));
	}
	uapi_buf_printf(&b, "\n");
	uapi_parser_init(&p);
	if (b.oom || uapi_parser_feed(&p, b.data, b.len) != b.len || p.status != UAPI_SET)
		abort();
	restore = p.set;
	memset(&p.set, 0, sizeof(p.set));
	uapi_parser_free(&p);
	uapi_buf_free(&b);
}

static void setup(void)
{
	if (scratch)
		return;
	log_init(LOG_LEVEL_ERROR);
	if (scratch_create(&scratch) != 0)
		abort();
	want = load();
	if (iface_new(ev_default_loop(0), scratch, NULL, &next_id, load(), &iface) != 0)
		abort();
	make_restore();
}

/* Back to conf, exactly. */
static void restore_iface(void)
{
	if (uapi_apply(iface, &restore) != 0)
		abort();
	if (iface->cfg->n_peers != want->n_peers ||
	    memcmp(iface->cfg->private_key, want->private_key, KEY_LEN) != 0)
		abort();
	for (size_t i = 0; i < want->n_peers; i++) {
		const struct peer_config *pc =
			iface_config_find_peer_key(iface->cfg, want->peers[i].public_key);

		if (!pc || !peer_config_same(pc, &want->peers[i]))
			abort();
	}
}

static size_t count_prefix(const struct ip_prefix *p, void *ctx)
{
	(void)p;
	return ++*(size_t *)ctx;
}

static void count_cb(const struct ip_prefix *p, void *ctx)
{
	(void)count_prefix(p, ctx);
}

/* The interface runs what iface->cfg says, peer for peer. */
static void check_consistent(void)
{
	const struct iface_config *cfg = iface->cfg;

	if (cfg->n_peers != iface->n_peers)
		abort();
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct peer *peer = iface_find_peer(iface, cfg->peers[i].public_key);
		size_t n = 0;

		if (!peer)
			abort();
		allowedips_for_peer(iface->allowedips, peer, count_cb, &n);
		if (n != cfg->peers[i].n_allowed_ips)
			abort();
		if (peer->persistent_keepalive_s != cfg->peers[i].persistent_keepalive_s)
			abort();
	}
	if (cfg->has_private_key != iface->local.has_identity)
		abort();
}

static void answer(struct uapi_parser *p)
{
	struct uapi_buf out = {0};

	switch (p->status) {
	case UAPI_GET:
		uapi_get(iface, &out);
		uapi_put_errno(&out, 0);
		break;
	case UAPI_SET:
		if (p->state != UAPI_ST_DONE)
			abort();
		p->set.has_listen_port = false;
		p->set.has_fwmark = false;
		uapi_put_errno(&out, uapi_apply(iface, &p->set));
		check_consistent();
		break;
	case UAPI_FAILED:
		if (p->error >= 0)
			abort();
		uapi_put_errno(&out, p->error);
		break;
	default:
		break;
	}
	if (!out.oom && out.len && (out.len < 9 || memcmp(out.data + out.len - 2, "\n\n", 2)))
		abort();
	uapi_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_parser p;
	size_t piece, off = 1;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	setup();
	piece = data[0] ? data[0] : size; /* 0: all at once */
	uapi_parser_init(&p);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		size_t used = uapi_parser_feed(&p, (const char *)data + off, n);

		if (used > n || (used < n && p.status == UAPI_NEED_MORE))
			abort();
		off += used;
		if (p.status == UAPI_NEED_MORE)
			continue;
		answer(&p);
		if (p.status == UAPI_FAILED || p.status == UAPI_CLOSE)
			break; /* the server closes the connection */
		uapi_parser_reset(&p);
	}
	uapi_parser_free(&p);
	restore_iface();
	check_consistent();
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the receive path: every datagram a remote party can send
 * reaches receive_packet(). The interface is real (tables, identity, one
 * peer with a live session) but detached from the system: its TUN writes go
 * to /dev/null and it has no sockets. The first input byte picks a mode so
 * that the fuzzer also gets past the cryptography:
 *   0: the bytes as a raw datagram (all four message types, any length);
 *   1: the rest as plaintext of a correctly encrypted data message
 *      (inner IP parsing, allowed-IPs source check, keepalives);
 *   2: a genuine initiation with the rest XORed over it, mac1 recomputed
 *      (handshake parsing past the MAC check);
 *   3: a data message for the live session with fuzzed counter and body.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "cookie.h"
#include "crypto.h"
#include "iface.h"
#include "index.h"
#include "log.h"
#include "noise.h"
#include "peer.h"
#include "receive.h"
#include "udp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The remote side, kept in memory: its identity and its handshake with us. */
struct remote {
	struct noise_local local;
	struct noise_handshake hs;
	struct noise_keypairs kps;
	struct cookie cookie;
};

static struct iface *iface;
static struct remote them;
static struct endpoint from;
static uint8_t *buf;

static struct noise_handshake *remote_lookup(struct noise_local *local, const uint8_t *pub)
{
	(void)local;
	return memcmp(pub, them.hs.remote_static, 32) == 0 ? &them.hs : NULL;
}

static struct iface_config *make_config(const uint8_t our_priv[32], const uint8_t their_pub[32])
{
	struct iface_config *cfg = calloc(1, sizeof(*cfg));
	struct peer_config *pc;

	strcpy(cfg->name, "fuzz0");
	cfg->path = strdup("fuzz0.conf");
	cfg->has_private_key = true;
	memcpy(cfg->private_key, our_priv, 32);
	cfg->peers = calloc(1, sizeof(*cfg->peers));
	cfg->n_peers = 1;
	pc = &cfg->peers[0];
	memcpy(pc->public_key, their_pub, 32);
	pc->allowed_ips = calloc(2, sizeof(*pc->allowed_ips));
	pc->n_allowed_ips = 2;
	prefix_parse("10.0.0.2/32", &pc->allowed_ips[0], NULL, NULL);
	prefix_parse("fd00::2/128", &pc->allowed_ips[1], NULL, NULL);
	pc->endpoint_host = strdup("192.0.2.2");
	pc->endpoint_port = 51820;
	return cfg;
}

/* A full handshake them -> us through the noise API, and one confirming data packet. */
static void establish(struct peer *peer)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_handshake *hs;
	double now_s = clock_now_s();

	if (!noise_handshake_create_initiation(&init, &them.hs) ||
	    !(hs = noise_handshake_consume_initiation(&init, &iface->local, now_s)) ||
	    !noise_handshake_create_response(&resp, hs) ||
	    !noise_handshake_begin_session(hs, &peer->keypairs, now_s) ||
	    !(hs = noise_handshake_consume_response(&resp, &them.local)) ||
	    !noise_handshake_begin_session(hs, &them.kps, now_s))
		abort();
}

static void init_once(void)
{
	static struct scratch *scratch;
	static uint64_t next_id;
	uint8_t ours[32], theirs[32], their_pub[32];
	struct peer *peer;

	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0)
		abort();
	noise_init();
	if (scratch_create(&scratch) != 0)
		abort();
	curve25519_generate_private(ours);
	curve25519_generate_private(theirs);
	curve25519_public_from_private(their_pub, theirs);

	if (iface_new(ev_default_loop(0), scratch, NULL, &next_id, make_config(ours, their_pub),
		      &iface) != 0)
		abort();
	iface->tun_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	iface->mtu = 1420;

	if (index_table_create(&them.local.index) != 0)
		abort();
	them.local.lookup = remote_lookup;
	noise_local_set_private_key(&them.local, theirs);
	them.kps.index = them.local.index;
	noise_handshake_init(&them.hs, &them.local, iface->local.static_public, NULL, NULL);
	cookie_init(&them.cookie, iface->local.static_public);

	peer = list_entry(iface->peers.next, struct peer, node);
	establish(peer);
	from.addr.in.sin_family = AF_INET;
	from.addr.in.sin_port = htons(51820);
	from.addr.in.sin_addr.s_addr = htonl(0xc0000202);
	buf = malloc(PKT_BUF_SIZE);
}

/* Encrypt plain (len bytes) as them into a data message at buf + PKT_HEADROOM. */
static size_t seal_data(const uint8_t *plain, size_t len, uint64_t counter)
{
	struct noise_keypair *kp = them.kps.current;
	uint8_t *msg = buf + PKT_HEADROOM;
	struct message_data hdr;
	size_t padded = (len + 15) & ~(size_t)15;

	hdr.header.type = htole32(MESSAGE_DATA);
	hdr.key_idx = htole32(kp->remote_index);
	hdr.counter = htole64(counter);
	memcpy(msg, &hdr, sizeof(hdr));
	memset(msg + sizeof(hdr), 0, padded);
	memcpy(msg + sizeof(hdr), plain, len);
	aead_ctx_seal(kp->sending.ctx, 0, counter, msg + sizeof(hdr), msg + sizeof(hdr), padded);
	return sizeof(hdr) + padded + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t counter;
	double now_s;
	size_t len;

	if (!iface)
		init_once();
	if (size < 1 || size > 4096)
		return 0;
	now_s = clock_now_s();
	switch (data[0] & 3) {
	case 0:
		memcpy(buf + PKT_HEADROOM, data + 1, size - 1);
		len = size - 1;
		break;
	case 1:
		len = seal_data(data + 1, size - 1, counter++);
		break;
	case 2: {
		struct message_handshake_initiation init;
		uint8_t *p = (uint8_t *)&init;

		if (!noise_handshake_create_initiation(&init, &them.hs))
			return 0;
		for (size_t i = 1; i < size && i - 1 < sizeof(init); i++)
			p[i - 1] ^= data[i];
		cookie_add_mac_to_packet(p, sizeof(init), &them.cookie, now_s);
		memcpy(buf + PKT_HEADROOM, &init, sizeof(init));
		len = sizeof(init);
		break;
	}
	default: {
		uint64_t c = 0;

		memcpy(&c, data + 1, size - 1 < 8 ? size - 1 : 8);
		len = seal_data(data + 1, size - 1, counter++);
		/* Keep the session's index, fuzz the counter and the ciphertext. */
		memcpy(buf + PKT_HEADROOM + 8, &c, 8);
		if (size > 9)
			buf[PKT_HEADROOM + 16 + (data[9] % (len - 16))] ^= data[size - 1] | 1;
		break;
	}
	}
	receive_packet(iface, buf + PKT_HEADROOM, len, &from, now_s);
	receive_flush(iface->scratch);
	udp_flush(iface->scratch);
	return 0;
}

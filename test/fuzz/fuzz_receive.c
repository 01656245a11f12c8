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
#include "support.h"
#include "twopeer.h"
#include "udp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct iface *iface;
static struct ts_peer them; /* the remote side, in memory (twopeer.h) */
static struct endpoint from;
static uint8_t *buf;

static void init_once(void)
{
	static struct scratch *scratch;
	static uint64_t next_id;
	uint8_t ours[32], theirs[32], their_pub[32];
	struct peer *peer;

	log_init(LOG_LEVEL_ERROR);
	check(crypto_init() == 0);
	noise_init();
	check(scratch_create(&scratch) == 0);
	ts_keypair(ours, NULL);
	ts_keypair(theirs, their_pub);
	check(iface_new(ev_default_loop(0), scratch, NULL, &next_id,
			ts_one_peer_config("fuzz0", ours, their_pub), &iface) == 0);
	iface->tun_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	iface->mtu = 1420;

	ts_peer_init(&them, theirs);
	ts_peer_meet(&them, iface->local.static_public, NULL);
	peer = list_entry(iface->peers.next, struct peer, node);
	/* A full handshake them -> us: the live session. */
	check(ts_handshake(&them, &iface->local, &peer->keypairs, clock_now_s()));
	from.addr.in.sin_family = AF_INET;
	from.addr.in.sin_port = htons(51820);
	from.addr.in.sin_addr.s_addr = htonl(0xc0000202);
	buf = malloc(PKT_BUF_SIZE);
	check(buf != NULL);
}

/* Encrypt plain (len bytes) as them into a data message at buf + PKT_HEADROOM. */
static size_t seal_data(const uint8_t *plain, size_t len, uint64_t counter)
{
	return ts_peer_seal_data(&them, plain, len, counter, buf + PKT_HEADROOM);
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

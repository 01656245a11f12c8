// SPDX-License-Identifier: MIT
/* The other peer, in memory: see twopeer.h. */
#include "twopeer.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "index.h"
#include "key.h"
#include "support.h"
#include "util.h"
#include "wire.h"

static struct noise_handshake *lookup(struct noise_local *local, const uint8_t pub[32])
{
	struct ts_peer *p = container_of(local, struct ts_peer, local);

	if (!p->knows_peer || memcmp(pub, p->hs.remote_static, 32) != 0)
		return NULL;
	return &p->hs;
}

void ts_peer_init(struct ts_peer *p, const uint8_t *priv)
{
	uint8_t fresh[32];

	memset(p, 0, sizeof(*p));
	if (!priv) {
		ts_keypair(fresh, NULL);
		priv = fresh;
	}
	check(index_table_create(&p->local.index) == 0);
	p->local.lookup = lookup;
	check(noise_local_set_private_key(&p->local, priv) == 0);
	p->kps.index = p->local.index;
	cookie_checker_init(&p->checker, p->local.static_public);
	crypto_wipe(fresh, sizeof(fresh));
}

void ts_peer_meet(struct ts_peer *p, const uint8_t pub[32], const uint8_t *psk)
{
	noise_handshake_init(&p->hs, &p->local, pub, psk, NULL);
	cookie_init(&p->cookie, pub);
	p->knows_peer = true;
}

void ts_peer_free(struct ts_peer *p)
{
	noise_keypairs_clear(&p->kps);
	noise_handshake_destroy(&p->hs);
	noise_local_set_private_key(&p->local, NULL);
	index_table_destroy(p->local.index);
}

bool ts_handshake(struct ts_peer *from, struct noise_local *to, struct noise_keypairs *to_kps,
		  double t)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_handshake *hs;

	if (!noise_handshake_create_initiation(&init, &from->hs))
		return false;
	hs = noise_handshake_consume_initiation(&init, to, t);
	if (!hs || !noise_handshake_create_response(&resp, hs) ||
	    !noise_handshake_begin_session(hs, to_kps, t))
		return false;
	hs = noise_handshake_consume_response(&resp, &from->local);
	return hs && noise_handshake_begin_session(hs, &from->kps, t);
}

size_t ts_peer_seal_data(const struct ts_peer *p, const uint8_t *plain, size_t len,
			 uint64_t counter, uint8_t *out)
{
	struct noise_keypair *kp = p->kps.current;
	struct message_data hdr;
	size_t padded = (len + 15) & ~(size_t)15;

	check(kp != NULL);
	hdr.header.type = htole32(MESSAGE_DATA);
	hdr.key_idx = htole32(kp->remote_index);
	hdr.counter = htole64(counter);
	memcpy(out, &hdr, sizeof(hdr));
	memset(out + sizeof(hdr), 0, padded);
	memcpy(out + sizeof(hdr), plain, len);
	check(aead_ctx_seal(kp->sending.ctx, 0, counter, out + sizeof(hdr), out + sizeof(hdr),
			    padded));
	return sizeof(hdr) + padded + 16;
}

struct iface_config *ts_one_peer_config(const char *name, const uint8_t priv[32],
					const uint8_t pub[32])
{
	char priv_b64[KEY_BASE64_LEN + 1], pub_b64[KEY_BASE64_LEN + 1], text[512], path[64];
	struct diag_list diags = {0};
	struct iface_config *cfg = NULL;
	int len;

	key_to_base64(priv_b64, priv);
	key_to_base64(pub_b64, pub);
	len = snprintf(text, sizeof(text),
		       "[Interface]\nPrivateKey = %s\n\n[Peer]\nPublicKey = %s\n"
		       "AllowedIPs = 10.0.0.2/32, fd00::2/128\nEndpoint = 192.0.2.2:51820\n",
		       priv_b64, pub_b64);
	check(len > 0 && (size_t)len < sizeof(text));
	check(snprintf(path, sizeof(path), "%s.conf", name) < (int)sizeof(path));
	check(config_load_string(path, text, (size_t)len, &cfg, &diags) == 0);
	diag_list_clear(&diags);
	crypto_wipe(text, sizeof(text));
	crypto_wipe(priv_b64, sizeof(priv_b64));
	return cfg;
}

// SPDX-License-Identifier: MIT
/*
 * The receiving direction (the driver's receive.c). Checks run cheapest
 * first: length and type, then mac1 (and mac2 under load) before any
 * Diffie-Hellman, the receiver index before any decryption, the replay
 * window only after authentication, and the inner source address against
 * the sender's allowed IPs last. Everything that fails is counted and
 * dropped; nothing here allocates.
 */
#include "receive.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"
#include "offload.h"
#include "clock.h"
#include "iface_state.h"
#include "peer_state.h"
#include "send.h"
#include "timers.h"
#include "tun.h"
#include "udp.h"

#define UDP_ROUNDS 4

static uint32_t message_type(const uint8_t *data, size_t len)
{
	uint32_t type;

	if (len < sizeof(struct message_header))
		return MESSAGE_INVALID;
	memcpy(&type, data, sizeof(type));
	type = le32toh(type);
	/* The exact length of each handshake message is part of its type. */
	switch (type) {
	case MESSAGE_HANDSHAKE_INITIATION:
		return len == sizeof(struct message_handshake_initiation) ? type : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_RESPONSE:
		return len == sizeof(struct message_handshake_response) ? type : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_COOKIE:
		return len == sizeof(struct message_handshake_cookie) ? type : MESSAGE_INVALID;
	case MESSAGE_DATA:
		return len >= MESSAGE_MINIMUM_LENGTH ? type : MESSAGE_INVALID;
	default:
		return MESSAGE_INVALID;
	}
}

static void receive_cookie(struct iface *iface, const uint8_t *data, struct endpoint *from,
			   double now_s)
{
	struct message_handshake_cookie msg;
	struct index_entry *entry;
	char buf[ADDR_STR_LEN];

	memcpy(&msg, data, sizeof(msg));
	entry = index_table_lookup(iface->index, INDEX_HANDSHAKE | INDEX_KEYPAIR,
				   le32toh(msg.receiver_index));
	if (!entry) {
		iface->stats.rx_unknown_index++;
		return;
	}
	if (cookie_message_consume(&msg, &entry->peer->cookie, now_s))
		peer_log(LOG_LEVEL_DEBUG, entry->peer, "received cookie reply");
	else
		iface_log_remote(iface, now_s, LOG_LEVEL_DEBUG,
				 "%s: invalid cookie reply from %s", iface->name,
				 sockaddr_format(buf, sizeof(buf), &from->addr));
}

static void handshake_authenticated(struct peer *peer, size_t len, struct endpoint *from,
				    double now_s)
{
	peer_set_endpoint_from(peer, from);
	peer->rx_bytes += len;
	timers_any_authenticated_packet_received(peer, now_s);
	timers_any_authenticated_packet_traversal(peer, now_s);
}

static bool handshake_budget_take(struct scratch *s);

static void receive_handshake(struct iface *iface, uint32_t type, const uint8_t *data, size_t len,
			      struct endpoint *from, double now_s)
{
	enum cookie_mac_state mac_state;
	struct noise_handshake *hs;
	struct peer *peer;
	char buf[ADDR_STR_LEN];
	bool under_load, needs_cookie;
	uint32_t sender_index;

	under_load = iface_under_load(iface, now_s);
	mac_state = cookie_validate_packet(&iface->cookie_checker, data, len, &from->addr,
					   under_load, iface->ratelimiter, now_s);
	if (under_load && mac_state == VALID_MAC_WITH_COOKIE &&
	    !handshake_budget_take(iface->scratch)) {
		iface->stats.rx_ratelimited++;
		return;
	}
	if ((under_load && mac_state == VALID_MAC_WITH_COOKIE) ||
	    (!under_load && mac_state == VALID_MAC_BUT_NO_COOKIE)) {
		needs_cookie = false;
	} else if (under_load && mac_state == VALID_MAC_BUT_NO_COOKIE) {
		needs_cookie = true;
	} else {
		if (mac_state == VALID_MAC_WITH_COOKIE_BUT_RATELIMITED)
			iface->stats.rx_ratelimited++;
		else
			iface->stats.rx_invalid_mac++;
		iface_log_remote(iface, now_s, LOG_LEVEL_DEBUG,
				 "%s: invalid MAC or rate limited handshake from %s", iface->name,
				 sockaddr_format(buf, sizeof(buf), &from->addr));
		return;
	}
	/* The sender index sits right after the header in both handshake messages. */
	memcpy(&sender_index, data + sizeof(struct message_header), sizeof(sender_index));
	if (needs_cookie) {
		iface->stats.rx_cookie_sent++;
		iface_log_remote(iface, now_s, LOG_LEVEL_DEBUG,
				 "%s: under load, sending a cookie reply to %s", iface->name,
				 sockaddr_format(buf, sizeof(buf), &from->addr));
		send_cookie_reply(iface, data, len, sender_index, from, now_s);
		return;
	}

	if (type == MESSAGE_HANDSHAKE_INITIATION) {
		struct message_handshake_initiation msg;

		memcpy(&msg, data, sizeof(msg));
		hs = noise_handshake_consume_initiation(&msg, &iface->local, now_s);
		if (!hs)
			goto invalid;
		peer = hs->entry.peer;
		iface->stats.hs_initiation_received++;
		handshake_authenticated(peer, len, from, now_s);
		peer_log(LOG_LEVEL_DEBUG, peer, "received handshake initiation");
		send_handshake_response(peer, now_s);
		return;
	}

	{
		struct message_handshake_response msg;
		bool had_session;

		memcpy(&msg, data, sizeof(msg));
		hs = noise_handshake_consume_response(&msg, &iface->local);
		if (!hs)
			goto invalid;
		peer = hs->entry.peer;
		iface->stats.hs_response_received++;
		had_session = peer->keypairs.current != NULL;
		handshake_authenticated(peer, len, from, now_s);
		if (!noise_handshake_begin_session(&peer->handshake, &peer->keypairs, now_s))
			return;
		timers_session_derived(peer, now_s);
		timers_handshake_complete(peer, now_s);
		peer_log(had_session ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, peer,
			 "session established (we initiated)");
		/*
		 * Sends what waited for the session, or an empty packet: the
		 * responder may not use its keys before it sees one from us.
		 */
		send_keepalive(peer, now_s);
		return;
	}
invalid:
	iface->stats.rx_handshake_bad++;
	iface_log_remote(iface, now_s, LOG_LEVEL_DEBUG, "%s: invalid handshake %s from %s",
			 iface->name, type == MESSAGE_HANDSHAKE_INITIATION ? "initiation" : "response",
			 sockaddr_format(buf, sizeof(buf), &from->addr));
}

/* Section 6.2: the initiator renews a session before REJECT_AFTER_TIME cuts it off. */
static void keep_key_fresh(struct peer *peer, double now_s)
{
	struct noise_keypair *kp = peer->keypairs.current;

	if (peer->sent_lastminute_handshake)
		return;
	if (kp && kp->sending.is_valid && kp->i_am_the_initiator &&
	    kp->sending.birthdate_s +
			    PROTO_TIME(REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT) <=
		    now_s) {
		peer->sent_lastminute_handshake = true;
		send_handshake_initiation(peer, false, now_s);
	}
}

/* Length of the IP packet inside plain_len decrypted bytes, or 0 when it is not one. */
static size_t inner_packet_len(const uint8_t *pkt, size_t plain_len, sa_family_t *family,
			       const uint8_t **src)
{
	size_t len;

	if (plain_len >= 20 && (pkt[0] >> 4) == 4) {
		len = ((size_t)pkt[2] << 8) | pkt[3];
		if (len < 20 || len > plain_len)
			return 0;
		*family = AF_INET;
		*src = pkt + 12;
		return len;
	}
	if (plain_len >= 40 && (pkt[0] >> 4) == 6) {
		len = 40 + (((size_t)pkt[4] << 8) | pkt[5]);
		if (len > plain_len)
			return 0;
		*family = AF_INET6;
		*src = pkt + 8;
		return len;
	}
	return 0;
}

void receive_flush(struct scratch *s)
{
	struct iface *iface = s->gro_iface;
	size_t n;

	if (!iface)
		return;
	n = offload_gro_finish(&s->gro);
	if (n && tun_write(iface->tun_fd, s->gro.buf, n) != 0)
		iface->stats.tun_errors++;
	offload_gro_reset(&s->gro);
	s->gro_iface = NULL;
	s->gro_owner = NULL;
}

/*
 * Hand a decrypted packet to the TUN device. With a virtio-net header it
 * goes through the coalescer, which glues consecutive segments of one flow
 * from one keypair of one interface into a super-packet written at the
 * flush; never across peers, keys or flows, and always in order.
 */
static void deliver(struct iface *iface, const struct noise_keypair *kp, const uint8_t *pkt,
		    size_t len)
{
	struct scratch *s = iface->scratch;

	if (!iface->tun_feat.vnet_hdr) {
		if (tun_write(iface->tun_fd, pkt, len) != 0)
			iface->stats.tun_errors++;
		return;
	}
	if (s->gro_iface && (s->gro_iface != iface || s->gro_owner != kp))
		receive_flush(s);
	if (!s->gro_iface) {
		s->gro.allow_udp = iface->tun_feat.uso;
		s->gro_iface = iface;
		s->gro_owner = kp;
	}
	if (offload_gro_add(&s->gro, pkt, len))
		return;
	receive_flush(s);
	s->gro.allow_udp = iface->tun_feat.uso;
	s->gro_iface = iface;
	s->gro_owner = kp;
	(void)offload_gro_add(&s->gro, pkt, len);
}

/*
 * The checks before decryption: the keypair the message names, still good
 * for receiving. NULL (counted) when the message must be dropped.
 */
static struct noise_keypair *data_keypair(struct iface *iface, const uint8_t *data, double now_s)
{
	const struct message_data *msg = (const struct message_data *)data;
	struct index_entry *entry;
	struct noise_keypair *kp;
	uint32_t idx;

	memcpy(&idx, &msg->key_idx, sizeof(idx));
	entry = index_table_lookup(iface->index, INDEX_KEYPAIR, le32toh(idx));
	if (!entry) {
		iface->stats.rx_unknown_index++;
		return NULL;
	}
	kp = container_of(entry, struct noise_keypair, entry);
	if (!kp->receiving.is_valid ||
	    kp->receiving.birthdate_s + PROTO_TIME(REJECT_AFTER_TIME) <= now_s ||
	    kp->receiving_counter.counter >= REJECT_AFTER_MESSAGES) {
		kp->receiving.is_valid = false;
		iface->stats.rx_unknown_index++;
		return NULL;
	}
	return kp;
}

static uint64_t data_counter(const uint8_t *data)
{
	uint64_t counter;

	memcpy(&counter, &((const struct message_data *)data)->counter, sizeof(counter));
	return le64toh(counter);
}

/*
 * Everything after decryption (is_open: the message authenticated): the
 * replay window, roaming, key confirmation, timers, the inner packet and
 * its source, then the TUN device.
 */
static void data_opened(struct iface *iface, struct noise_keypair *kp, uint8_t *data, size_t len,
			struct endpoint *from, uint64_t counter, bool is_open, double now_s)
{
	struct peer *peer = kp->entry.peer;
	uint8_t *plain = data + sizeof(struct message_data);
	size_t plain_len = len - MESSAGE_MINIMUM_LENGTH, ip_len;
	const uint8_t *src;
	sa_family_t family;

	if (!is_open) {
		iface->stats.rx_auth_failed++;
		return;
	}
	/* Only an authentic packet may move the window. */
	if (!replay_check(&kp->receiving_counter, counter)) {
		iface->stats.rx_replayed++;
		return;
	}

	peer_set_endpoint_from(peer, from);
	if (noise_received_with_keypair(&peer->keypairs, kp)) {
		bool first = peer->keypairs.previous == NULL;

		timers_handshake_complete(peer, now_s);
		peer_log(first ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, peer,
			 "session established (peer initiated)");
		send_staged_packets(peer, now_s);
	}
	keep_key_fresh(peer, now_s);
	timers_any_authenticated_packet_received(peer, now_s);
	timers_any_authenticated_packet_traversal(peer, now_s);
	peer->rx_bytes += len;

	if (plain_len == 0)
		return; /* a keepalive */
	timers_data_received(peer, now_s);

	ip_len = inner_packet_len(plain, plain_len, &family, &src);
	if (!ip_len) {
		iface->stats.rx_bad_inner++;
		return;
	}
	/* Cryptokey routing, inbound: the sender must own the source address. */
	if (allowedips_lookup(iface->allowedips, family, src) != peer) {
		iface->stats.rx_bad_source++;
		iface_log_remote(iface, now_s, LOG_LEVEL_DEBUG,
				 "%s: peer %llu sent a packet from a source outside its allowed IPs",
				 iface->name, (unsigned long long)peer->id);
		return;
	}
	deliver(iface, kp, plain, ip_len);
}

static void receive_data(struct iface *iface, uint8_t *data, size_t len, struct endpoint *from,
			 double now_s)
{
	struct noise_keypair *kp = data_keypair(iface, data, now_s);
	uint64_t counter;
	bool is_open;

	if (!kp)
		return;
	counter = data_counter(data);
	is_open = aead_ctx_open(kp->receiving.ctx, 0, counter, data + sizeof(struct message_data),
				data + sizeof(struct message_data), len - sizeof(struct message_data));
	data_opened(iface, kp, data, len, from, counter, is_open, now_s);
}

/*
 * Data messages of one receive batch, decrypted together on every core
 * (workers.h) and then taken in their order. Owned by the scratch (plain
 * memory, freed with it); its pointers live for one batch.
 */
#define RX_BATCH_MAX 1024

struct rx_item {
	uint8_t *data;
	size_t len;
	struct endpoint *from;
	struct noise_keypair *kp;
	uint32_t idx; /* the receiver index, looked up again after decryption */
};

struct rx_batch {
	unsigned int n;
	unsigned int handshakes; /* under load, handshakes given DH work this turn */
	struct crypt_task task[RX_BATCH_MAX];
	struct rx_item item[RX_BATCH_MAX];
};

/*
 * Decrypt what the batch holds, then finish each message in order. A
 * message taken in an earlier turn of this loop may have retired a
 * keypair (key confirmation frees the previous one): each message's index
 * is looked up again and must still name the same keypair.
 */
static void batch_finish(struct iface *iface, struct rx_batch *b, double now_s)
{
	if (!b->n)
		return;
	workers_run(iface->scratch->workers, b->task, b->n);
	for (unsigned int i = 0; i < b->n; i++) {
		struct rx_item *it = &b->item[i];
		struct index_entry *entry = index_table_lookup(iface->index, INDEX_KEYPAIR, it->idx);

		if (!entry || container_of(entry, struct noise_keypair, entry) != it->kp ||
		    !it->kp->receiving.is_valid) {
			iface->stats.rx_unknown_index++;
			continue;
		}
		data_opened(iface, it->kp, it->data, it->len, it->from, b->task[i].counter,
			    b->task[i].ok, now_s);
	}
	b->n = 0;
}

void receive_turn_begin(struct scratch *s)
{
	/* Without the batch's memory, each message is decrypted on its own. */
	if (!s->rx)
		s->rx = calloc(1, sizeof(*s->rx));
	if (s->rx)
		s->rx->handshakes = 0;
}

/* One handshake's Diffie-Hellman work of this turn's budget; false when spent. */
static bool handshake_budget_take(struct scratch *s)
{
	if (!s || !s->rx)
		return true;
	if (s->rx->handshakes >= UNDER_LOAD_HANDSHAKES_PER_TURN)
		return false;
	s->rx->handshakes++;
	return true;
}

static void batch_add(struct iface *iface, struct rx_batch *b, uint8_t *data, size_t len,
		      struct endpoint *from, double now_s)
{
	struct noise_keypair *kp = data_keypair(iface, data, now_s);

	if (!kp)
		return;
	if (b->n == RX_BATCH_MAX)
		batch_finish(iface, b, now_s);
	b->task[b->n] = (struct crypt_task){.ctx = kp->receiving.ctx,
					    .counter = data_counter(data),
					    .data = data + sizeof(struct message_data),
					    .len = len - sizeof(struct message_data),
					    .is_seal = false};
	b->item[b->n++] = (struct rx_item){data, len, from, kp, kp->entry.index};
}

/*
 * One datagram of a receive batch: data messages join the decryption batch;
 * anything else (a handshake may change keypairs) waits until the data
 * before it is finished, to keep the order.
 */
static void receive_one(struct iface *iface, struct rx_batch *b, uint8_t *data, size_t len,
			struct endpoint *from, double now_s)
{
	if (b && message_type(data, len) == MESSAGE_DATA) {
		batch_add(iface, b, data, len, from, now_s);
		return;
	}
	if (b)
		batch_finish(iface, b, now_s);
	receive_packet(iface, data, len, from, now_s);
}

void receive_packet(struct iface *iface, uint8_t *data, size_t len, struct endpoint *from,
		    double now_s)
{
	switch (message_type(data, len)) {
	case MESSAGE_HANDSHAKE_INITIATION:
		receive_handshake(iface, MESSAGE_HANDSHAKE_INITIATION, data, len, from, now_s);
		break;
	case MESSAGE_HANDSHAKE_RESPONSE:
		receive_handshake(iface, MESSAGE_HANDSHAKE_RESPONSE, data, len, from, now_s);
		break;
	case MESSAGE_HANDSHAKE_COOKIE:
		receive_cookie(iface, data, from, now_s);
		break;
	case MESSAGE_DATA:
		receive_data(iface, data, len, from, now_s);
		break;
	default:
		iface->stats.rx_malformed++;
		break;
	}
}

void receive_on_udp_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct iface *iface = w->data;
	struct scratch *s = iface->scratch;
	int fam = w == &iface->udp_watcher[1] ? 1 : 0;
	struct endpoint from[BATCH_SIZE];
	double now_s = clock_now_s();
	struct rx_batch *b;

	(void)loop;
	(void)revents;
	receive_turn_begin(s);
	b = s->rx;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n = udp_recv_batch(&iface->udp, fam, s, from);

		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &s->in.msgs[i].msg_hdr;
			uint8_t *data = s->in.bufs[i] + PKT_HEADROOM;
			size_t len = s->in.msgs[i].msg_len;
			size_t seg = s->in.gso[i] ? s->in.gso[i] : len;

			if (mh->msg_flags & MSG_TRUNC) {
				iface->stats.rx_malformed++;
				continue;
			}
			/* UDP_GRO: datagrams of seg bytes back to back, the last maybe shorter. */
			for (size_t off = 0; off < len; off += seg)
				receive_one(iface, b, data + off, len - off < seg ? len - off : seg,
					    &from[i], now_s);
		}
		if (b)
			batch_finish(iface, b, now_s);
		receive_flush(s);
		iface->stats.tx_errors += udp_flush(s);
		if (n < BATCH_SIZE)
			break;
	}
}

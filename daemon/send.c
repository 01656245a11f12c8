// SPDX-License-Identifier: MIT
/*
 * The sending direction (the driver's send.c): packets read from the TUN
 * device in batches (super-packets cut into MTU-sized ones by offload.c)
 * are routed by destination through the allowed-IPs table, padded,
 * encrypted in place under the peer's current keypair and queued; udp.c
 * sends each run of equal-size datagrams to one endpoint as one GSO send. A peer without a usable session gets
 * its packets staged and a handshake started. Also the handshake, cookie
 * and keepalive messages.
 */
#include "send.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"
#include "offload.h"
#include "clock.h"
#include "iface_state.h"
#include "peer_state.h"
#include "timers.h"
#include "tun.h"
#include "udp.h"

/* Reads per callback before other watchers get a turn. */
#define TUN_READS (4 * BATCH_SIZE)

void send_handshake_initiation(struct peer *peer, bool is_retry, double now_s)
{
	struct message_handshake_initiation msg;
	int rc;

	if (!is_retry)
		peer->timers.handshake_attempts = 0;
	/* Section 6.4: at most one initiation per REKEY_TIMEOUT. */
	if (peer->last_sent_handshake_s + PROTO_TIME(REKEY_TIMEOUT) > now_s)
		return;
	if (!peer->has_endpoint)
		return;
	peer->last_sent_handshake_s = now_s;
	if (!noise_handshake_create_initiation(&msg, &peer->handshake))
		return;
	peer_log(LOG_LEVEL_DEBUG, peer, "sending handshake initiation");
	cookie_add_mac_to_packet((uint8_t *)&msg, sizeof(msg), &peer->cookie, now_s);
	timers_any_authenticated_packet_traversal(peer, now_s);
	timers_any_authenticated_packet_sent(peer, now_s);
	rc = udp_send(&peer->iface->udp, &peer->endpoint, &msg, sizeof(msg));
	if (rc == 0) {
		peer->tx_bytes += sizeof(msg);
		peer->iface->stats.hs_initiation_sent++;
	} else {
		peer->iface->stats.tx_errors++;
	}
	timers_handshake_initiated(peer, now_s);
}

void send_handshake_response(struct peer *peer, double now_s)
{
	struct message_handshake_response msg;

	peer->last_sent_handshake_s = now_s;
	if (!noise_handshake_create_response(&msg, &peer->handshake))
		return;
	cookie_add_mac_to_packet((uint8_t *)&msg, sizeof(msg), &peer->cookie, now_s);
	if (!noise_handshake_begin_session(&peer->handshake, &peer->keypairs, now_s))
		return;
	peer_log(LOG_LEVEL_DEBUG, peer, "sending handshake response");
	timers_session_derived(peer, now_s);
	timers_any_authenticated_packet_traversal(peer, now_s);
	timers_any_authenticated_packet_sent(peer, now_s);
	if (udp_send(&peer->iface->udp, &peer->endpoint, &msg, sizeof(msg)) == 0) {
		peer->tx_bytes += sizeof(msg);
		peer->iface->stats.hs_response_sent++;
	} else {
		peer->iface->stats.tx_errors++;
	}
}

void send_cookie_reply(struct iface *iface, const uint8_t *msg, size_t len, uint32_t sender_index_le,
		       struct endpoint *src, double now_s)
{
	struct message_handshake_cookie reply;

	if (!cookie_message_create(&reply, msg, len, sender_index_le, &iface->cookie_checker,
				   &src->addr, now_s))
		return;
	if (udp_send(&iface->udp, src, &reply, sizeof(reply)) != 0)
		iface->stats.tx_errors++;
}

/* Section 6.2: the initiator renews the session before it gets old or worn. */
static void keep_key_fresh(struct peer *peer, double now_s)
{
	struct noise_keypair *kp = peer->keypairs.current;

	if (kp && kp->sending.is_valid &&
	    (kp->sending_counter > REKEY_AFTER_MESSAGES ||
	     (kp->i_am_the_initiator &&
	      kp->sending.birthdate_s + PROTO_TIME(REKEY_AFTER_TIME) <= now_s)))
		send_handshake_initiation(peer, false, now_s);
}

/*
 * Frame the IP packet of len bytes at payload (with PKT_HEADROOM before and
 * PKT_TAILROOM after it) as a data message in place: header and padding,
 * ready to be sealed. Returns the message start; *padded gets the length to
 * seal, *msg_len the message's.
 */
static uint8_t *frame_in_place(struct noise_keypair *kp, uint64_t counter, uint8_t *payload,
			       size_t len, uint32_t mtu, size_t *padded, size_t *msg_len)
{
	struct message_data *hdr = (struct message_data *)(payload - sizeof(struct message_data));
	size_t p = (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);

	/* Section 5.4.6: pad to 16, but never past the MTU (keepalives stay empty). */
	if (mtu && len <= mtu && p > mtu)
		p = mtu;
	memset(payload + len, 0, p - len);
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->key_idx = htole32(kp->remote_index);
	hdr->counter = htole64(counter);
	*padded = p;
	*msg_len = message_data_len(p);
	return (uint8_t *)hdr;
}

/* A keypair we may send with now, or NULL (then a handshake is due). */
static struct noise_keypair *usable_keypair(struct peer *peer, unsigned int n, double now_s)
{
	struct noise_keypair *kp = peer->keypairs.current;

	if (!kp || !kp->sending.is_valid)
		return NULL;
	if (kp->sending.birthdate_s + PROTO_TIME(REJECT_AFTER_TIME) <= now_s ||
	    kp->sending_counter + n >= REJECT_AFTER_MESSAGES) {
		kp->sending.is_valid = false;
		return NULL;
	}
	return kp;
}

/*
 * Encrypt one packet (in its buffer) and queue it; owned is freed after the
 * send. With defer, the flush seals it together with the rest of the batch
 * on every core (only for the TUN path: see udp_queue_unsealed()).
 */
static bool encrypt_and_queue(struct peer *peer, struct noise_keypair *kp, uint8_t *payload,
			      size_t len, void *owned, bool defer, double now_s)
{
	struct iface *iface = peer->iface;
	uint64_t counter = kp->sending_counter++;
	size_t msg_len, padded;
	uint8_t *msg;

	msg = frame_in_place(kp, counter, payload, len, iface->mtu, &padded, &msg_len);
	if (defer && !owned) {
		struct crypt_task t = {.ctx = kp->sending.ctx,
				       .counter = counter,
				       .data = payload,
				       .len = padded,
				       .is_seal = true};

		udp_queue_unsealed(&iface->udp, iface->scratch, &peer->endpoint, msg, msg_len, &t);
	} else {
		if (!aead_ctx_seal(kp->sending.ctx, 0, counter, payload, payload, padded)) {
			free(owned);
			return false;
		}
		udp_queue(&iface->udp, iface->scratch, &peer->endpoint, msg, msg_len, owned);
	}
	peer->tx_bytes += msg_len;
	timers_any_authenticated_packet_traversal(peer, now_s);
	timers_any_authenticated_packet_sent(peer, now_s);
	if (len)
		timers_data_sent(peer, now_s);
	return true;
}

void send_staged_packets(struct peer *peer, double now_s)
{
	struct noise_keypair *kp;
	struct staged_pkt *p;

	if (!peer->staged.count)
		return;
	kp = usable_keypair(peer, peer->staged.count, now_s);
	if (!kp || !peer->has_endpoint) {
		send_handshake_initiation(peer, false, now_s);
		return;
	}
	while ((p = peer->staged.head)) {
		peer->staged.head = p->next;
		if (!peer->staged.head)
			peer->staged.tail = NULL;
		peer->staged.count--;
		encrypt_and_queue(peer, kp, p->buf + PKT_HEADROOM, p->len, p, false, now_s);
	}
	keep_key_fresh(peer, now_s);
}

void send_keepalive(struct peer *peer, double now_s)
{
	if (!peer->staged.count) {
		peer_stage_keepalive(peer);
		peer_log(LOG_LEVEL_DEBUG, peer, "sending keepalive");
	}
	send_staged_packets(peer, now_s);
}

/* The destination of an IP packet, or false when it is not one. */
static bool packet_destination(const uint8_t *pkt, size_t len, sa_family_t *family,
			       const uint8_t **addr)
{
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		*family = AF_INET;
		*addr = pkt + 16;
		return true;
	}
	if (len >= 40 && (pkt[0] >> 4) == 6) {
		*family = AF_INET6;
		*addr = pkt + 24;
		return true;
	}
	return false;
}

static void send_one_from_tun(struct iface *iface, uint8_t *payload, size_t len, double now_s)
{
	const uint8_t *dst;
	sa_family_t family;
	struct noise_keypair *kp;
	struct peer *peer;

	if (!packet_destination(payload, len, &family, &dst))
		return;
	peer = allowedips_lookup(iface->allowedips, family, dst);
	if (!peer) {
		iface->stats.tx_no_peer++;
		return;
	}
	if (!peer->has_endpoint) {
		iface->stats.tx_no_endpoint++;
		iface_log_remote(iface, now_s, LOG_LEVEL_DEBUG,
				 "%s: peer %llu has no endpoint; dropping packet", iface->name,
				 (unsigned long long)peer->id);
		return;
	}
	/* Fast path: a session and nothing queued ahead of this packet. */
	if (!peer->staged.count && (kp = usable_keypair(peer, 1, now_s))) {
		if (encrypt_and_queue(peer, kp, payload, len, NULL, true, now_s))
			keep_key_fresh(peer, now_s);
		return;
	}
	peer_stage_packet(peer, payload, len);
	send_staged_packets(peer, now_s);
}

/* Send what is queued; every read buffer and the whole arena are free again. */
static void flush_all(struct iface *iface, struct scratch *s, int *buf)
{
	iface->stats.tx_errors += udp_flush(s);
	s->segs.n = 0;
	s->segs.used = 0;
	*buf = 0;
}

/*
 * Room for one more TUN read: a read buffer, queue entries and arena bytes
 * for the largest super-packet. When short, send first.
 */
static void make_room(struct iface *iface, struct scratch *s, int *buf)
{
	if (*buf >= BATCH_SIZE || udp_out_room(s) < UDP_OUT_MAX / 2 ||
	    s->segs.cap - s->segs.used < s->segs.cap / 2)
		flush_all(iface, s, buf);
}

/*
 * One read from the TUN device into buffer *buf; its packets are encrypted
 * and queued. False when the device has nothing more.
 */
static bool read_one(struct iface *iface, struct scratch *s, int *buf, double now_s)
{
	size_t hdr = iface->tun_feat.vnet_hdr ? OFFLOAD_VNET_HDR_LEN : 0;
	uint8_t *pkt = s->tun_bufs[*buf] + PKT_HEADROOM;
	struct virtio_net_hdr vh;
	unsigned int first;
	ssize_t n;
	int rc;

	n = tun_read(iface->tun_fd, pkt - hdr, PKT_MAX_PAYLOAD + hdr);
	if (n <= (ssize_t)hdr)
		return n > 0; /* a header alone: nothing to send, but read on */
	if (!hdr) {
		send_one_from_tun(iface, pkt, (size_t)n, now_s);
		(*buf)++;
		return true;
	}
	memcpy(&vh, pkt - hdr, sizeof(vh));
	first = s->segs.n;
	rc = offload_split(&vh, pkt, (size_t)n - hdr, &s->segs);
	if (rc == -ENOSPC && s->segs.n) {
		/*
		 * Only super-packets take arena room, and this one is not
		 * referenced by the queue: send the rest and cut it again.
		 */
		flush_all(iface, s, buf);
		first = 0;
		rc = offload_split(&vh, pkt, (size_t)n - hdr, &s->segs);
	}
	if (rc < 0) {
		iface->stats.tx_bad_offload++;
		return true;
	}
	if (rc == 0) {
		send_one_from_tun(iface, pkt, (size_t)n - hdr, now_s);
		(*buf)++;
		return true;
	}
	for (unsigned int i = first; i < s->segs.n; i++)
		send_one_from_tun(iface, s->segs.pkt[i], s->segs.len[i], now_s);
	return true;
}

void send_on_tun_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct iface *iface = w->data;
	struct scratch *s = iface->scratch;
	double now_s = clock_now_s();
	int buf = 0;

	(void)loop;
	(void)revents;
	/* Whatever another path queued goes first, by its own sockets. */
	flush_all(iface, s, &buf);
	for (int reads = 0; reads < TUN_READS; reads++) {
		make_room(iface, s, &buf);
		if (!read_one(iface, s, &buf, now_s))
			break;
	}
	iface->stats.tx_errors += udp_flush(s);
}

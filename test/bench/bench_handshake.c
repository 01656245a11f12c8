// SPDX-License-Identifier: MIT
/*
 * Handshake benchmark (issue 13): a WireGuard initiator for many peers that
 * floods a responder with handshake initiations from many source
 * addresses, and the responder's cost measured in process. Run by hand, not
 * by CTest; test/bench/handshake.sh drives it (see README.md).
 *
 *   bench_handshake keys N FILE      N keypairs, "private public" per line
 *   bench_handshake inproc [SECONDS] responder cost in process, one core
 *   bench_handshake flood OPTIONS    the flood over UDP (see usage())
 *
 * The initiator is built from the project's primitives (crypto.h) and MACs
 * (cookie.c). Each peer keeps one ephemeral key for the whole run (a
 * responder does not look at it twice), so an initiation costs the flood
 * no Diffie-Hellman: only {t} changes, a counter that grows by one each
 * time (the responder's replay guard wants it to grow). A response is
 * valid when it decrypts: DH(e_i, e_r) and DH(S_i, e_r) with the
 * initiation's hash, the handshake complete on the initiator's side.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "crypto.h"
#include "index.h"
#include "key.h"
#include "noise.h"
#include "util.h"
#include "wire.h"

#define SLOTS	64 /* initiations of one peer whose response can still be checked */
#define SEQ_MOD 16384 /* sender index = peer * SEQ_MOD + sequence mod SEQ_MOD + 1 */
#define BATCH	64

struct bpeer {
	uint8_t priv[32], pub[32];
	uint8_t e_priv[32], e_pub[32];
	uint8_t ck[32]; /* chaining key once the initiation is built: constant */
	uint8_t h_pre[32]; /* hash before {t} */
	uint8_t key_t[32]; /* the key that seals {t} */
	uint8_t enc_static[48];
	uint8_t h_slot[SLOTS][32];
	uint8_t mac1_slot[SLOTS][COOKIE_LEN]; /* a cookie reply's associated data */
	uint32_t seq;
	double last_sent_s;
	unsigned int src; /* its source address */
	struct x25519_key *e_key, *s_key; /* e_priv and priv, for checking responses */
	struct cookie cookie;
};

static uint8_t init_ck[32], init_h[32];

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_handshake: %s\n", what);
	exit(1);
}

/* The initiation's constant part: e, es, s, ss (paper 5.4.2). */
static void bpeer_setup(struct bpeer *p, const uint8_t server_pub[32])
{
	uint8_t k[32], dh[32];

	memcpy(p->ck, init_ck, 32);
	memcpy(p->h_pre, init_h, 32);
	blake2s_hash(p->h_pre, p->h_pre, 32, server_pub, 32);
	if (curve25519_generate_private(p->e_priv) ||
	    curve25519_public_from_private(p->e_pub, p->e_priv))
		die("ephemeral key");
	blake2s_hash(p->h_pre, p->h_pre, 32, p->e_pub, 32);
	noise_kdf(p->ck, NULL, NULL, p->ck, p->e_pub, 32);
	if (!curve25519_shared(dh, p->e_priv, server_pub))
		die("es");
	noise_kdf(p->ck, k, NULL, p->ck, dh, 32);
	if (!chacha20poly1305_seal(p->enc_static, p->pub, 32, p->h_pre, 32, 0, k))
		die("seal s");
	blake2s_hash(p->h_pre, p->h_pre, 32, p->enc_static, 48);
	if (!curve25519_shared(dh, p->priv, server_pub))
		die("ss");
	noise_kdf(p->ck, p->key_t, NULL, p->ck, dh, 32);
	cookie_init(&p->cookie, server_pub);
	if (x25519_key_create(&p->e_key, p->e_priv, NULL) ||
	    x25519_key_create(&p->s_key, p->priv, NULL))
		die("key objects");
}

static void make_initiation(struct message_handshake_initiation *m, struct bpeer *p, uint32_t id,
			    const uint8_t ts_base[12], double now_s)
{
	uint8_t ts[12];
	uint32_t seq = p->seq++, ns;
	unsigned int slot = seq % SLOTS;

	memcpy(ts, ts_base, 12);
	memcpy(&ns, ts + 8, 4);
	ns = htobe32(be32toh(ns) + seq + 1);
	memcpy(ts + 8, &ns, 4);
	memset(m, 0, sizeof(*m));
	m->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	m->sender_index = htole32(id * SEQ_MOD + seq % SEQ_MOD + 1);
	memcpy(m->unencrypted_ephemeral, p->e_pub, 32);
	memcpy(m->encrypted_static, p->enc_static, 48);
	chacha20poly1305_seal(m->encrypted_timestamp, ts, 12, p->h_pre, 32, 0, p->key_t);
	blake2s_hash(p->h_slot[slot], p->h_pre, 32, m->encrypted_timestamp, 28);
	cookie_add_mac_to_packet((uint8_t *)m, sizeof(*m), &p->cookie, now_s);
	memcpy(p->mac1_slot[slot], m->macs.mac1, COOKIE_LEN);
}

/* Section 5.4.3 on the initiator's side: true when the response opens. */
static bool check_response(const struct message_handshake_response *r, struct bpeer *p,
			   unsigned int slot)
{
	static const uint8_t zero_psk[32];
	uint8_t ck[32], h[32], dh[32], tau[32], k[32];
	bool ok;

	memcpy(ck, p->ck, 32);
	memcpy(h, p->h_slot[slot], 32);
	blake2s_hash(h, h, 32, r->unencrypted_ephemeral, 32);
	noise_kdf(ck, NULL, NULL, ck, r->unencrypted_ephemeral, 32);
	if (!x25519_key_shared(p->e_key, dh, r->unencrypted_ephemeral))
		return false;
	noise_kdf(ck, NULL, NULL, ck, dh, 32);
	if (!x25519_key_shared(p->s_key, dh, r->unencrypted_ephemeral))
		return false;
	noise_kdf(ck, NULL, NULL, ck, dh, 32);
	noise_kdf(ck, tau, k, ck, zero_psk, 32);
	blake2s_hash(h, h, 32, tau, 32);
	ok = chacha20poly1305_open(NULL, r->encrypted_nothing, 16, h, 32, 0, k);
	return ok;
}

static void setup_noise(void)
{
	if (crypto_init() != 0)
		die("crypto_init");
	noise_init();
	blake2s_hash(init_ck, NOISE_CONSTRUCTION, strlen(NOISE_CONSTRUCTION), NULL, 0);
	blake2s_hash(init_h, init_ck, 32, NOISE_IDENTIFIER, strlen(NOISE_IDENTIFIER));
}

/* ---- keys ---- */

static int cmd_keys(int argc, char **argv)
{
	char a[KEY_BASE64_LEN + 1], b[KEY_BASE64_LEN + 1];
	uint8_t priv[32], pub[32];
	long n;
	FILE *f;

	if (argc != 2)
		die("usage: keys N FILE");
	n = strtol(argv[0], NULL, 10);
	if (n < 1 || n > 200000)
		die("keys: N must be 1..200000");
	f = fopen(argv[1], "w");
	if (!f)
		die("keys: cannot write the file");
	for (long i = 0; i < n; i++) {
		if (curve25519_generate_private(priv) || curve25519_public_from_private(pub, priv))
			die("keys: X25519");
		key_to_base64(a, priv);
		key_to_base64(b, pub);
		fprintf(f, "%s %s\n", a, b);
	}
	crypto_wipe(priv, sizeof(priv));
	return fclose(f) == 0 ? 0 : 1;
}

/* ---- inproc: the responder's work without the network ---- */

struct one_peer_local {
	struct noise_local local;
	struct noise_handshake hs;
	struct noise_keypairs kps;
};

static struct noise_handshake *inproc_lookup(struct noise_local *local, const uint8_t pub[32])
{
	struct one_peer_local *s = container_of(local, struct one_peer_local, local);

	return memcmp(pub, s->hs.remote_static, 32) == 0 ? &s->hs : NULL;
}

/* Each primitive the handshake uses, alone: CPU microseconds per call. */
static void time_primitives(double secs)
{
	uint8_t a[32], b[32], pa[32], pb[32], out[64];
	const char *names[] = {"x25519 shared",
			       "x25519 public",
			       "blake2s hash",
			       "blake2s mac",
			       "hmac-blake2s",
			       "noise kdf3",
			       "chacha20poly1305 seal 32",
			       "x25519 key object: shared",
			       "x25519 key object: generate",
			       "aead_ctx create+destroy",
			       "random 32 bytes"};
	struct x25519_key *ka, *kt;
	struct aead_ctx *actx;

	curve25519_generate_private(a);
	curve25519_generate_private(b);
	curve25519_public_from_private(pa, a);
	curve25519_public_from_private(pb, b);
	if (x25519_key_create(&ka, a, NULL))
		die("x25519_key_create");
	for (unsigned int w = 0; w < sizeof(names) / sizeof(names[0]); w++) {
		double c0 = cpu_s(), c;
		unsigned long n = 0;

		do {
			for (int i = 0; i < 50; i++, n++) {
				switch (w) {
				case 0:
					curve25519_shared(out, a, pb);
					break;
				case 1:
					curve25519_public_from_private(out, a);
					break;
				case 2:
					blake2s_hash(out, pa, 32, pb, 32);
					break;
				case 3:
					blake2s_mac(out, pa, 32, out, 64);
					break;
				case 4:
					blake2s_hmac(out, pa, 32, out, 33);
					break;
				case 5:
					noise_kdf(out, out + 32, b, pa, pb, 32);
					break;
				case 6:
					chacha20poly1305_seal(out, pa, 32, pb, 32, 0, a);
					break;
				case 7:
					x25519_key_shared(ka, out, pb);
					break;
				case 8:
					if (x25519_key_generate(&kt, NULL, out) == 0)
						x25519_key_destroy(kt);
					break;
				case 9:
					if (aead_ctx_create(&actx, a, true) == 0)
						aead_ctx_destroy(actx);
					break;
				default:
					crypto_random(out, 32);
					break;
				}
			}
			c = cpu_s() - c0;
		} while (c < secs / 8);
		printf("  %-28s %8.2f us  %9.0f/s\n", names[w], c / n * 1e6, n / c);
	}
	x25519_key_destroy(ka);
}

static int cmd_inproc(int argc, char **argv)
{
	double secs = argc > 0 ? strtod(argv[0], NULL) : 2.0, t0, t, dt;
	struct one_peer_local srv = {0};
	struct cookie_checker checker;
	struct message_handshake_initiation m;
	struct message_handshake_response r;
	struct message_handshake_cookie c;
	union sockaddr_inet src = {0};
	uint8_t spriv[32], ts_base[12];
	struct bpeer *p = calloc(1, sizeof(*p));
	unsigned long n = 0, bad = 0;

	if (!p || secs <= 0 || secs > 60)
		die("inproc: SECONDS is 0..60");
	setup_noise();
	if (curve25519_generate_private(spriv) || index_table_create(&srv.local.index))
		die("inproc: setup");
	srv.local.lookup = inproc_lookup;
	if (noise_local_set_private_key(&srv.local, spriv))
		die("inproc: server key");
	srv.kps.index = srv.local.index;
	cookie_checker_init(&checker, srv.local.static_public);
	if (curve25519_generate_private(p->priv) || curve25519_public_from_private(p->pub, p->priv))
		die("inproc: peer key");
	noise_handshake_init(&srv.hs, &srv.local, p->pub, NULL, NULL);
	bpeer_setup(p, srv.local.static_public);
	tai64n_now(ts_base);
	src.in.sin_family = AF_INET;
	src.in.sin_addr.s_addr = htonl(0xc6336401);
	src.in.sin_port = htons(40000);

	printf("primitives (CPU time, one thread):\n");
	time_primitives(secs);
	/* What tund does for one initiation: mac1, consume, response + mac1, session. */
	t0 = cpu_s();
	do {
		for (int i = 0; i < 100; i++, n++) {
			double fake_now =
				(double)n; /* the per-peer flood guard wants time to pass */

			make_initiation(&m, p, 0, ts_base, fake_now);
			if (cookie_validate_packet(&checker, (uint8_t *)&m, sizeof(m), &src, false,
						   NULL, fake_now) != VALID_MAC_BUT_NO_COOKIE ||
			    !noise_handshake_consume_initiation(&m, &srv.local, fake_now) ||
			    !noise_handshake_create_response(&r, &srv.hs)) {
				bad++;
				continue;
			}
			cookie_add_mac_to_packet((uint8_t *)&r, sizeof(r), &p->cookie, fake_now);
			if (!noise_handshake_begin_session(&srv.hs, &srv.kps, fake_now))
				bad++;
			/* The first responses are checked, once, outside the figure's point. */
			if (n < 4 && !check_response(&r, p, (p->seq - 1) % SLOTS))
				bad++;
		}
		t = cpu_s();
	} while (t - t0 < secs);
	dt = t - t0;
	printf("responder: %lu initiations consumed and answered in %.2f CPU s: %.0f/s, %.1f us each "
	       "(bench's own initiation included: %s), %lu failed\n",
	       n, dt, n / dt, dt / n * 1e6, "hashing and one seal", bad);

	n = 0;
	t0 = cpu_s();
	do {
		for (int i = 0; i < 100; i++, n++) {
			if (cookie_validate_packet(&checker, (uint8_t *)&m, sizeof(m), &src, true,
						   NULL, 1.0) != VALID_MAC_BUT_NO_COOKIE ||
			    !cookie_message_create(&c, (uint8_t *)&m, sizeof(m), m.sender_index,
						   &checker, &src, 1.0))
				bad++;
		}
		t = cpu_s();
	} while (t - t0 < secs);
	dt = t - t0;
	printf("under load: %lu cookie replies (mac1, mac2 checked, reply sealed) in %.2f CPU s: "
	       "%.0f/s, %.2f us each\n",
	       n, dt, n / dt, dt / n * 1e6);
	noise_keypairs_clear(&srv.kps);
	noise_handshake_destroy(&srv.hs);
	noise_local_set_private_key(&srv.local, NULL);
	index_table_destroy(srv.local.index);
	crypto_wipe(spriv, sizeof(spriv));
	x25519_key_destroy(p->e_key);
	x25519_key_destroy(p->s_key);
	free(p);
	return bad ? 1 : 0;
}

/* ---- flood: initiations over UDP from many source addresses ---- */

struct flood {
	struct bpeer *peers;
	unsigned int npeers;
	union sockaddr_inet *srcs;
	unsigned int nsrc, n4;
	union sockaddr_inet target4, target6;
	int fd4, fd6;
	bool cookie_aware;
	unsigned int check_every;
	uint8_t ts_base[12];
	unsigned long sent, send_fail, responses, checked, valid, invalid, stale, cookies,
		cookies_ok, cookies_bad, cookies_stale, other;
};

static void flood_usage(void)
{
	fprintf(stderr,
		"usage: bench_handshake flood --server-pub B64 --keys FILE [--peers N]\n"
		"         [--target4 IP:PORT --src4 IP --n4 N] [--target6 [IP6]:PORT --src6 IP6 --n6 N]\n"
		"         [--rate PER_S (0: as fast as the peers may)] [--duration S] [--cookie]\n"
		"         [--check-every K]\n"
		"  peer I sends from source I mod (n4 + n6); source J of n4 is src4 + J, of n6 is\n"
		"  src6 with J in its fourth group (one /64 each); --cookie answers cookie replies\n"
		"  with mac2; every Kth response is opened (default 1: all).\n");
	exit(2);
}

static int open_sock(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1, buf = 8 << 20;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	}
	return fd;
}

static void read_keys(struct flood *f, const char *path, const uint8_t server_pub[32])
{
	char a[128], b[128];
	FILE *in = fopen(path, "r");

	if (!in)
		die("cannot read the keys file");
	for (unsigned int i = 0; i < f->npeers; i++) {
		struct bpeer *p = &f->peers[i];

		if (fscanf(in, "%127s %127s", a, b) != 2 || key_from_base64(p->priv, a, NULL) ||
		    key_from_base64(p->pub, b, NULL))
			die("the keys file has fewer keys than --peers, or a bad line");
		p->src = i % f->nsrc;
		p->last_sent_s = -1e9;
		bpeer_setup(p, server_pub);
	}
	fclose(in);
}

static void on_message(struct flood *f, const uint8_t *buf, ssize_t len, double now_s)
{
	uint32_t type, idx;
	struct bpeer *p;

	if (len < 8) {
		f->other++;
		return;
	}
	memcpy(&type, buf, 4);
	type = le32toh(type);
	/* Both replies name our sender index right after the header (response: after its own). */
	memcpy(&idx, buf + (type == MESSAGE_HANDSHAKE_RESPONSE ? 8 : 4), 4);
	idx = le32toh(idx);
	if (idx == 0 || (idx - 1) / SEQ_MOD >= f->npeers) {
		f->other++;
		return;
	}
	p = &f->peers[(idx - 1) / SEQ_MOD];
	if (type == MESSAGE_HANDSHAKE_RESPONSE &&
	    len == sizeof(struct message_handshake_response)) {
		struct message_handshake_response r;

		uint32_t seq = (idx - 1) % SEQ_MOD;

		memcpy(&r, buf, sizeof(r));
		if ((p->seq - 1 - seq) % SEQ_MOD >= SLOTS) {
			/* Its initiation's hash is gone: SLOTS newer ones were sent since. */
			f->responses++;
			f->stale++;
		} else if (f->responses++ % f->check_every == 0) {
			f->checked++;
			if (check_response(&r, p, seq % SLOTS))
				f->valid++;
			else
				f->invalid++;
		}
	} else if (type == MESSAGE_HANDSHAKE_COOKIE &&
		   len == sizeof(struct message_handshake_cookie)) {
		struct message_handshake_cookie c;
		struct cookie copy = p->cookie;
		uint32_t seq = (idx - 1) % SEQ_MOD;

		memcpy(&c, buf, sizeof(c));
		f->cookies++;
		if ((p->seq - 1 - seq) % SEQ_MOD >= SLOTS) {
			f->cookies_stale++;
			return;
		}
		/* Opened with the mac1 of the initiation it answers, on a copy. */
		memcpy(copy.last_mac1_sent, p->mac1_slot[seq % SLOTS], COOKIE_LEN);
		copy.have_sent_mac1 = true;
		if (cookie_message_consume(&c, &copy, now_s)) {
			f->cookies_ok++;
			/* A cookie-aware flood sends mac2 from now on; a plain one never. */
			if (f->cookie_aware) {
				memcpy(p->cookie.cookie, copy.cookie, COOKIE_LEN);
				p->cookie.birthdate_s = copy.birthdate_s;
				p->cookie.is_valid = true;
			}
		} else {
			f->cookies_bad++;
		}
		crypto_wipe(&copy, sizeof(copy));
	} else {
		f->other++;
	}
}

static unsigned int drain(struct flood *f, int fd, double now_s)
{
	static uint8_t bufs[BATCH][256];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	unsigned int got = 0;

	for (int round = 0; round < 16; round++) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			on_message(f, bufs[i], mm[i].msg_len, now_s);
		got += (unsigned int)n;
		if (n < BATCH)
			break;
	}
	return got;
}

/* Up to want initiations from peers whose last one is at least gap old. */
static unsigned int send_batch(struct flood *f, unsigned int want, double now_s, double gap,
			       unsigned int *rr)
{
	static struct message_handshake_initiation msg[2][BATCH];
	static union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl[2][BATCH];
	struct mmsghdr mm[2][BATCH];
	struct iovec iov[2][BATCH];
	unsigned int n[2] = {0, 0}, looked = 0, done = 0;

	while (n[0] + n[1] < want && looked++ < f->npeers) {
		unsigned int id = *rr, fam;
		struct bpeer *p = &f->peers[id];
		const union sockaddr_inet *src = &f->srcs[p->src];
		struct cmsghdr *cm;
		unsigned int k;

		*rr = (*rr + 1) % f->npeers;
		if (now_s - p->last_sent_s < gap)
			continue;
		p->last_sent_s = now_s;
		fam = src->sa.sa_family == AF_INET6;
		k = n[fam]++;
		make_initiation(&msg[fam][k], p, id, f->ts_base, now_s);
		iov[fam][k] = (struct iovec){&msg[fam][k], sizeof(msg[fam][k])};
		memset(&ctl[fam][k], 0, sizeof(ctl[fam][k]));
		mm[fam][k] = (struct mmsghdr){
			.msg_hdr = {.msg_name = fam ? (void *)&f->target6 : (void *)&f->target4,
				    .msg_namelen = fam ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in),
				    .msg_iov = &iov[fam][k],
				    .msg_iovlen = 1,
				    .msg_control = ctl[fam][k].buf,
				    .msg_controllen = fam ? CMSG_SPACE(sizeof(struct in6_pktinfo))
							  : CMSG_SPACE(sizeof(struct in_pktinfo))}};
		cm = CMSG_FIRSTHDR(&mm[fam][k].msg_hdr);
		if (fam) {
			struct in6_pktinfo pi = {.ipi6_addr = src->in6.sin6_addr};

			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in_pktinfo pi = {.ipi_spec_dst = src->in.sin_addr};

			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	for (int fam = 0; fam < 2; fam++) {
		int fd = fam ? f->fd6 : f->fd4, r = 0;

		if (!n[fam])
			continue;
		r = sendmmsg(fd, mm[fam], n[fam], MSG_DONTWAIT);
		if (r < 0)
			r = 0;
		f->sent += (unsigned int)r;
		f->send_fail += n[fam] - (unsigned int)r;
		done += n[fam];
	}
	return done;
}

static void parse_src(struct flood *f, const char *base, unsigned int count, bool v6)
{
	union sockaddr_inet a = {0};

	if (v6) {
		a.in6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, base, &a.in6.sin6_addr) != 1)
			die("--src6: not an IPv6 address");
	} else {
		a.in.sin_family = AF_INET;
		if (inet_pton(AF_INET, base, &a.in.sin_addr) != 1)
			die("--src4: not an IPv4 address");
	}
	for (unsigned int i = 0; i < count; i++) {
		union sockaddr_inet s = a;

		if (v6) {
			s.in6.sin6_addr.s6_addr[6] = (uint8_t)(i >> 8);
			s.in6.sin6_addr.s6_addr[7] = (uint8_t)i;
			s.in6.sin6_addr.s6_addr[15] = 1;
		} else {
			s.in.sin_addr.s_addr = htonl(ntohl(a.in.sin_addr.s_addr) + i);
		}
		f->srcs[f->nsrc++] = s;
	}
}

static int flood_main(int argc, char **argv)
{
	struct flood f = {.fd4 = -1, .fd6 = -1, .check_every = 1};
	const char *keys = NULL, *src4 = NULL, *src6 = NULL, *spub = NULL;
	unsigned int n4 = 0, n6 = 0, rr = 0;
	double rate = 0, duration = 10, t0, t, next_report;
	unsigned long last_resp = 0, last_cookies = 0, last_sent = 0;
	uint8_t server_pub[32];

	f.npeers = 1000;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--cookie") == 0) {
			f.cookie_aware = true;
			continue;
		}
		if (!v)
			flood_usage();
		i++;
		if (strcmp(o, "--server-pub") == 0)
			spub = v;
		else if (strcmp(o, "--keys") == 0)
			keys = v;
		else if (strcmp(o, "--peers") == 0)
			f.npeers = (unsigned int)strtoul(v, NULL, 10);
		else if (strcmp(o, "--target4") == 0 && sockaddr_parse_numeric(v, &f.target4) == 0)
			;
		else if (strcmp(o, "--target6") == 0 && sockaddr_parse_numeric(v, &f.target6) == 0)
			;
		else if (strcmp(o, "--src4") == 0)
			src4 = v;
		else if (strcmp(o, "--src6") == 0)
			src6 = v;
		else if (strcmp(o, "--n4") == 0)
			n4 = (unsigned int)strtoul(v, NULL, 10);
		else if (strcmp(o, "--n6") == 0)
			n6 = (unsigned int)strtoul(v, NULL, 10);
		else if (strcmp(o, "--rate") == 0)
			rate = strtod(v, NULL);
		else if (strcmp(o, "--duration") == 0)
			duration = strtod(v, NULL);
		else if (strcmp(o, "--check-every") == 0)
			f.check_every = (unsigned int)strtoul(v, NULL, 10);
		else
			flood_usage();
	}
	if (!spub || !keys || key_from_base64(server_pub, spub, NULL) || f.npeers < 1 ||
	    f.npeers > 200000 || n4 > 65536 || n6 > 65536 || n4 + n6 == 0 || (n4 && !src4) ||
	    (n6 && !src6) || (n4 && !f.target4.sa.sa_family) || (n6 && !f.target6.sa.sa_family) ||
	    rate < 0 || duration <= 0 || duration > 600 || f.check_every < 1)
		flood_usage();
	setup_noise();
	f.srcs = calloc(n4 + n6, sizeof(*f.srcs));
	f.peers = calloc(f.npeers, sizeof(*f.peers));
	if (!f.srcs || !f.peers)
		die("out of memory");
	if (n4)
		parse_src(&f, src4, n4, false);
	if (n6)
		parse_src(&f, src6, n6, true);
	f.n4 = n4;
	read_keys(&f, keys, server_pub);
	f.fd4 = open_sock(AF_INET);
	f.fd6 = open_sock(AF_INET6);
	tai64n_now(f.ts_base);

	t0 = now_mono();
	next_report = t0 + 1;
	for (t = t0; t - t0 < duration + 0.5; t = now_mono()) {
		bool sending = t - t0 < duration;
		unsigned int want = BATCH, did = 0, got;
		struct pollfd pfd[2] = {{f.fd4, POLLIN, 0}, {f.fd6, POLLIN, 0}};

		if (sending && rate > 0) {
			double due = rate * (t - t0) - (double)(f.sent + f.send_fail);

			want = due < 1 ? 0 : due > BATCH ? BATCH : (unsigned int)due;
		}
		/* At most INITIATIONS_PER_SECOND per peer are consumed: 40 per second each. */
		if (sending && want)
			did = send_batch(&f, want, t, 1.0 / 40, &rr);
		got = drain(&f, f.fd4, t) + drain(&f, f.fd6, t);
		if (!did && !got)
			poll(pfd, 2, 1);
		if (t >= next_report) {
			fprintf(stderr, "t=%.0f sent=%lu responses=%lu cookies=%lu\n", t - t0,
				f.sent - last_sent, f.responses - last_resp,
				f.cookies - last_cookies);
			last_sent = f.sent;
			last_resp = f.responses;
			last_cookies = f.cookies;
			next_report += 1;
		}
	}
	printf("RESULT duration=%.3f peers=%u sources=%u sent=%lu send_fail=%lu responses=%lu "
	       "checked=%lu valid=%lu invalid=%lu stale=%lu cookies=%lu cookies_ok=%lu cookies_bad=%lu "
	       "cookies_stale=%lu other=%lu "
	       "sent_per_s=%.0f responses_per_s=%.0f cookies_per_s=%.0f\n",
	       duration, f.npeers, f.nsrc, f.sent, f.send_fail, f.responses, f.checked, f.valid,
	       f.invalid, f.stale, f.cookies, f.cookies_ok, f.cookies_bad, f.cookies_stale, f.other,
	       f.sent / duration, f.responses / duration, f.cookies / duration);
	for (unsigned int i = 0; i < f.npeers; i++) {
		x25519_key_destroy(f.peers[i].e_key);
		x25519_key_destroy(f.peers[i].s_key);
	}
	crypto_wipe(f.peers, f.npeers * sizeof(*f.peers));
	free(f.peers);
	free(f.srcs);
	close(f.fd4);
	close(f.fd6);
	return f.invalid || f.cookies_bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "keys") == 0) {
		setup_noise();
		return cmd_keys(argc - 2, argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], "inproc") == 0)
		return cmd_inproc(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "flood") == 0)
		return flood_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: bench_handshake keys N FILE | inproc [SECONDS] | flood OPTIONS\n");
	return 2;
}

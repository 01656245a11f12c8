// SPDX-License-Identifier: MIT
/*
 * The UAPI text protocol (uapi.h): an incremental reader of requests with
 * hard limits, a set staged and checked before anything is applied, and the
 * writers of a get's reply. No daemon state.
 */
#include "uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "wipebuf.h"

void uapi_parser_init(struct uapi_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = UAPI_ST_OP;
	p->status = UAPI_NEED_MORE;
}

static void peer_clear(struct uapi_peer *peer)
{
	free(peer->aips);
	crypto_wipe(peer, sizeof(*peer));
}

void uapi_set_clear(struct uapi_set *set)
{
	for (size_t i = 0; i < set->n_peers; i++)
		peer_clear(&set->peers[i]);
	free(set->peers);
	crypto_wipe(set, sizeof(*set));
}

void uapi_parser_reset(struct uapi_parser *p)
{
	uapi_set_clear(&p->set);
	crypto_wipe(p->line, sizeof(p->line));
	uapi_parser_init(p);
}

void uapi_parser_free(struct uapi_parser *p)
{
	uapi_parser_reset(p);
}

/* ---- Values ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uapi_key_from_hex(uint8_t key[static KEY_LEN], const char *s)
{
	uint8_t k[KEY_LEN];

	if (strlen(s) != 2 * KEY_LEN)
		return -EINVAL;
	for (size_t i = 0; i < KEY_LEN; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			crypto_wipe(k, sizeof(k));
			return -EINVAL;
		}
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key, k, KEY_LEN);
	crypto_wipe(k, sizeof(k));
	return 0;
}

void uapi_key_hex(char out[static 2 * KEY_LEN + 1], const uint8_t key[static KEY_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < KEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 0xf];
	}
	out[2 * KEY_LEN] = '\0';
}

/* A decimal number up to max, digits only (Go's strconv.ParseUint): 0 or -EINVAL. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* A numeric "ip:port" or "[ip6]:port", port 1..65535 (names are not resolved). */
static int parse_endpoint(const char *s, union sockaddr_inet *sa)
{
	if (sockaddr_parse_numeric(s, sa) != 0)
		return -EINVAL;
	if ((sa->sa.sa_family == AF_INET && sa->in.sin_port == 0) ||
	    (sa->sa.sa_family == AF_INET6 && sa->in6.sin6_port == 0))
		return -EINVAL;
	return 0;
}

/* "addr/bits" (the length is required, as Go's netip.ParsePrefix), masked. */
static int parse_prefix(const char *s, struct ip_prefix *out)
{
	const char *slash = strchr(s, '/');

	if (!slash || !slash[1] || strchr(slash + 1, '/'))
		return -EINVAL;
	for (const char *c = slash + 1; *c; c++)
		if (*c < '0' || *c > '9')
			return -EINVAL;
	if (prefix_parse(s, out, NULL, NULL) != 0)
		return -EINVAL;
	prefix_mask(out);
	return 0;
}

/* ---- A set's lines ---- */

static int add_aip(struct uapi_peer *peer, enum uapi_aip_kind kind, const struct ip_prefix *p)
{
	if (peer->n_aips == peer->cap_aips) {
		size_t cap = peer->cap_aips ? peer->cap_aips * 2 : 4;
		struct uapi_aip_op *n = realloc(peer->aips, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		peer->aips = n;
		peer->cap_aips = cap;
	}
	peer->aips[peer->n_aips].kind = kind;
	if (p)
		peer->aips[peer->n_aips].prefix = *p;
	else
		memset(&peer->aips[peer->n_aips].prefix, 0, sizeof(*p));
	peer->n_aips++;
	return 0;
}

static int new_peer(struct uapi_set *set, const char *value)
{
	uint8_t key[KEY_LEN];

	if (uapi_key_from_hex(key, value) != 0)
		return -EINVAL;
	if (set->n_peers == set->cap_peers) {
		size_t cap = set->cap_peers ? set->cap_peers * 2 : 4;
		struct uapi_peer *n = realloc(set->peers, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		set->peers = n;
		set->cap_peers = cap;
	}
	memset(&set->peers[set->n_peers], 0, sizeof(set->peers[0]));
	memcpy(set->peers[set->n_peers].public_key, key, KEY_LEN);
	set->n_peers++;
	return 0;
}

static int device_line(struct uapi_set *set, const char *key, const char *value, const char **why)
{
	uint64_t v;

	if (strcmp(key, "private_key") == 0) {
		*why = "bad private_key";
		if (uapi_key_from_hex(set->private_key, value) != 0)
			return -EINVAL;
		set->has_private_key = true;
	} else if (strcmp(key, "listen_port") == 0) {
		*why = "bad listen_port";
		if (parse_uint(value, UINT16_MAX, &v) != 0)
			return -EINVAL;
		set->has_listen_port = true;
		set->listen_port = (uint16_t)v;
	} else if (strcmp(key, "fwmark") == 0) {
		*why = "bad fwmark";
		if (parse_uint(value, UINT32_MAX, &v) != 0)
			return -EINVAL;
		set->has_fwmark = true;
		set->fwmark = (uint32_t)v;
	} else if (strcmp(key, "replace_peers") == 0) {
		*why = "bad replace_peers";
		if (strcmp(value, "true") != 0)
			return -EINVAL;
		set->replace_peers = true;
	} else {
		*why = "unknown interface key";
		return -EINVAL;
	}
	return 0;
}

static int peer_line(struct uapi_peer *peer, const char *key, const char *value, const char **why)
{
	struct ip_prefix prefix;
	uint64_t v;

	if (strcmp(key, "remove") == 0 || strcmp(key, "update_only") == 0 ||
	    strcmp(key, "replace_allowed_ips") == 0) {
		*why = "a flag that is not \"true\"";
		if (strcmp(value, "true") != 0)
			return -EINVAL;
		if (key[0] == 'r' && key[2] == 'm')
			peer->remove = true;
		else if (key[0] == 'u')
			peer->update_only = true;
		else
			return add_aip(peer, UAPI_AIP_CLEAR, NULL);
	} else if (strcmp(key, "preshared_key") == 0) {
		*why = "bad preshared_key";
		if (uapi_key_from_hex(peer->preshared_key, value) != 0)
			return -EINVAL;
		peer->has_preshared_key = true;
	} else if (strcmp(key, "endpoint") == 0) {
		*why = "bad endpoint";
		if (parse_endpoint(value, &peer->endpoint) != 0)
			return -EINVAL;
		peer->has_endpoint = true;
	} else if (strcmp(key, "persistent_keepalive_interval") == 0) {
		*why = "bad persistent_keepalive_interval";
		if (parse_uint(value, UINT16_MAX, &v) != 0)
			return -EINVAL;
		peer->has_keepalive = true;
		peer->keepalive_s = (uint16_t)v;
	} else if (strcmp(key, "allowed_ip") == 0) {
		bool del = value[0] == '-';

		*why = "bad allowed_ip";
		if (parse_prefix(value + del, &prefix) != 0)
			return -EINVAL;
		return add_aip(peer, del ? UAPI_AIP_REMOVE : UAPI_AIP_ADD, &prefix);
	} else if (strcmp(key, "protocol_version") == 0) {
		*why = "protocol_version is not 1";
		if (strcmp(value, "1") != 0)
			return -EINVAL;
	} else {
		*why = "unknown peer key";
		return -EINVAL;
	}
	return 0;
}

/* One line of a set, without its '\n'; 1 at the blank line that ends it, 0, or -errno. */
static int set_line(struct uapi_parser *p, char *line)
{
	char *value;
	int rc;

	if (!*line)
		return 1;
	value = strchr(line, '=');
	if (!value) {
		p->why = "a line without '='";
		return -EPROTO;
	}
	*value++ = '\0';
	if (strcmp(line, "public_key") == 0) {
		p->why = "bad public_key";
		rc = new_peer(&p->set, value);
		p->in_peer = p->in_peer || rc == 0;
		return rc;
	}
	if (!p->in_peer)
		return device_line(&p->set, line, value, &p->why);
	return peer_line(&p->set.peers[p->set.n_peers - 1], line, value, &p->why);
}

static void finish(struct uapi_parser *p, enum uapi_status status, int error, const char *why)
{
	p->state = UAPI_ST_DONE;
	p->status = status;
	p->error = error;
	if (why)
		p->why = why;
}

/* A whole line is in p->line (NUL-terminated, no '\n'). */
static void on_line(struct uapi_parser *p)
{
	int rc;

	switch (p->state) {
	case UAPI_ST_OP:
		if (strcmp(p->line, "get=1") == 0)
			p->state = UAPI_ST_GET_END;
		else if (strcmp(p->line, "set=1") == 0)
			p->state = UAPI_ST_SET;
		else
			finish(p, UAPI_CLOSE, 0, "not get=1 or set=1");
		break;
	case UAPI_ST_GET_END:
		if (p->line[0])
			finish(p, UAPI_FAILED, -EINVAL, "get=1 not followed by a blank line");
		else
			finish(p, UAPI_GET, 0, NULL);
		break;
	case UAPI_ST_SET:
		rc = set_line(p, p->line);
		if (rc == 1)
			finish(p, UAPI_SET, 0, NULL);
		else if (rc != 0)
			finish(p, UAPI_FAILED, rc, rc == -ENOMEM ? "out of memory" : NULL);
		break;
	case UAPI_ST_DONE:
		break;
	}
}

size_t uapi_parser_feed(struct uapi_parser *p, const char *data, size_t len)
{
	size_t used = 0;

	while (used < len && p->state != UAPI_ST_DONE) {
		const char *nl = memchr(data + used, '\n', len - used);
		size_t n = nl ? (size_t)(nl - (data + used)) : len - used;

		if (p->line_len + n > UAPI_MAX_LINE || p->total + n + 1 > UAPI_MAX_REQUEST) {
			bool over_line = p->line_len + n > UAPI_MAX_LINE;

			/* Before get=1/set=1 it is not a request: just close. */
			if (p->state == UAPI_ST_OP)
				finish(p, UAPI_CLOSE, 0, "an overlong first line");
			else
				finish(p, UAPI_FAILED, -EIO,
				       over_line ? "a line over 4096 bytes"
						 : "a request over 64 MiB");
			return used;
		}
		if (memchr(data + used, '\0', n)) {
			if (p->state == UAPI_ST_OP)
				finish(p, UAPI_CLOSE, 0, "a NUL byte");
			else
				finish(p, UAPI_FAILED, -EINVAL, "a NUL byte");
			return used;
		}
		memcpy(p->line + p->line_len, data + used, n);
		p->line_len += n;
		p->total += n + (nl != NULL);
		used += n + (nl != NULL);
		if (!nl)
			break;
		p->line[p->line_len] = '\0';
		on_line(p);
		p->line_len = 0;
	}
	return used;
}

/* ---- Replies ---- */

void uapi_buf_printf(struct uapi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (int tries = 0; tries < 2; tries++) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (wipebuf_reserve(&b->data, &b->cap, b->len, b->len + (size_t)n + 1, 4096) != 0) {
			b->oom = true;
			return;
		}
	}
}

void uapi_buf_free(struct uapi_buf *b)
{
	if (b->data) {
		crypto_wipe(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

void uapi_put_interface(struct uapi_buf *b, const uint8_t *private_key, uint16_t listen_port,
			uint32_t fwmark)
{
	char hex[2 * KEY_LEN + 1];

	if (private_key) {
		uapi_key_hex(hex, private_key);
		uapi_buf_printf(b, "private_key=%s\n", hex);
		crypto_wipe(hex, sizeof(hex));
	}
	if (listen_port)
		uapi_buf_printf(b, "listen_port=%u\n", listen_port);
	if (fwmark)
		uapi_buf_printf(b, "fwmark=%u\n", fwmark);
}

void uapi_put_peer(struct uapi_buf *b, const struct uapi_peer_info *peer)
{
	static const uint8_t zero[KEY_LEN];
	char hex[2 * KEY_LEN + 1], ep[ADDR_STR_LEN];

	uapi_key_hex(hex, peer->public_key);
	uapi_buf_printf(b, "public_key=%s\n", hex);
	uapi_key_hex(hex, peer->preshared_key ? peer->preshared_key : zero);
	uapi_buf_printf(b, "preshared_key=%s\n", hex);
	crypto_wipe(hex, sizeof(hex));
	uapi_buf_printf(b, "protocol_version=1\n");
	if (peer->endpoint)
		uapi_buf_printf(b, "endpoint=%s\n",
				sockaddr_format(ep, sizeof(ep), peer->endpoint));
	uapi_buf_printf(b, "last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%ld\n",
			(long long)peer->last_handshake.tv_sec, (long)peer->last_handshake.tv_nsec);
	uapi_buf_printf(b, "tx_bytes=%llu\nrx_bytes=%llu\n", (unsigned long long)peer->tx_bytes,
			(unsigned long long)peer->rx_bytes);
	uapi_buf_printf(b, "persistent_keepalive_interval=%u\n", peer->keepalive_s);
}

void uapi_put_allowed_ip(struct uapi_buf *b, const struct ip_prefix *p)
{
	char text[ADDR_STR_LEN];

	uapi_buf_printf(b, "allowed_ip=%s\n", prefix_format(text, sizeof(text), p));
}

void uapi_put_errno(struct uapi_buf *b, int err)
{
	uapi_buf_printf(b, "errno=%d\n\n", err);
}

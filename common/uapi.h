/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's cross-platform userspace API (`wg`'s UAPI, as wireguard-go
 * and boringtun speak it on /var/run/wireguard/IFACE.sock): the text
 * protocol alone, without any daemon state, so that the server, the unit
 * tests and the fuzz target share it.
 *
 * A connection carries requests one after another. "get=1\n\n" asks for the
 * interface; "set=1\n", key=value lines and a blank line change it. The
 * parser reads bytes as they come, with hard limits (a line, a whole
 * request), and turns a set into a staged description (struct uapi_set),
 * every value checked before anything is applied. Errors are the negative
 * errno values wireguard-go replies with ("errno=-22"): -EINVAL for a bad
 * key or value, -EPROTO for a line without '=', -EIO for a line or request
 * over the limits. The reply writers format what a get answers, in
 * wireguard-go's order.
 */
#ifndef TUND_UAPI_H
#define TUND_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "key.h"

/* A line, without its '\n' (wireguard-go's scanner takes 64 KiB; wg writes < 200). */
#define UAPI_MAX_LINE 4096
/* A whole set request: about 300,000 peers as `wg setconf` writes them. */
#define UAPI_MAX_REQUEST (64u * 1024 * 1024)

/* One allowed_ip line, or replace_allowed_ips, in the order given. */
enum uapi_aip_kind {
	UAPI_AIP_ADD,
	UAPI_AIP_REMOVE, /* "allowed_ip=-10.0.0.0/8" */
	UAPI_AIP_CLEAR, /* replace_allowed_ips=true */
};

struct uapi_aip_op {
	enum uapi_aip_kind kind;
	struct ip_prefix prefix; /* masked to the network; unused for CLEAR */
};

/* One public_key= section of a set, with the keys that followed it. */
struct uapi_peer {
	uint8_t public_key[KEY_LEN];
	bool remove;
	bool update_only;
	bool has_preshared_key;
	uint8_t preshared_key[KEY_LEN]; /* secret; all zero: none */
	bool has_endpoint;
	union sockaddr_inet endpoint;
	bool has_keepalive;
	uint16_t keepalive_s;
	struct uapi_aip_op *aips;
	size_t n_aips, cap_aips;
};

/* A set request, staged: nothing of it applied yet. */
struct uapi_set {
	bool has_private_key;
	uint8_t private_key[KEY_LEN]; /* secret; all zero: remove the key */
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;
	bool replace_peers;
	struct uapi_peer *peers; /* in the order given; a key may come twice */
	size_t n_peers, cap_peers;
};

enum uapi_status {
	UAPI_NEED_MORE, /* feed more bytes */
	UAPI_GET, /* a complete get request */
	UAPI_SET, /* a complete set request: parser.set holds it */
	UAPI_FAILED, /* a request that is not valid: reply errno=parser.error, then close */
	UAPI_CLOSE, /* not a request at all: close without a reply */
};

enum uapi_state {
	UAPI_ST_OP, /* reading "get=1" or "set=1" */
	UAPI_ST_GET_END, /* after "get=1\n": the blank line */
	UAPI_ST_SET, /* reading a set's lines */
	UAPI_ST_DONE, /* status() says what; reset() before the next */
};

struct uapi_parser {
	enum uapi_state state;
	enum uapi_status status;
	int error; /* with UAPI_FAILED: the negative errno to reply */
	const char *why; /* with UAPI_FAILED or UAPI_CLOSE: a static reason, for the log */
	char line[UAPI_MAX_LINE + 1];
	size_t line_len;
	size_t total; /* bytes of the current request so far */
	bool in_peer; /* a public_key= line was seen */
	struct uapi_set set;
};

void uapi_parser_init(struct uapi_parser *p);
/*
 * Read up to len bytes of data; returns how many it took. It stops at the
 * end of a request (or at an error), so the caller keeps the rest for the
 * next one. Then p->status says what was read (UAPI_NEED_MORE: all taken).
 */
size_t uapi_parser_feed(struct uapi_parser *p, const char *data, size_t len);
/* Ready for the next request: the staged set freed and wiped. */
void uapi_parser_reset(struct uapi_parser *p);
/* Free what p holds (wipes keys); p may then be init'ed again. */
void uapi_parser_free(struct uapi_parser *p);
/* Free what set holds and wipe it. */
void uapi_set_clear(struct uapi_set *set);

/* ---- Replies ---- */

/* A growing text buffer; its text may hold keys: uapi_buf_free() wipes it. */
struct uapi_buf {
	char *data;
	size_t len, cap;
	bool oom; /* an append failed: the text is incomplete */
};

void uapi_buf_printf(struct uapi_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void uapi_buf_free(struct uapi_buf *b);

/* 64 lowercase hex digits and a NUL. */
void uapi_key_hex(char out[static 2 * KEY_LEN + 1], const uint8_t key[static KEY_LEN]);
/* 64 hex digits (either case) into key: 0, or -EINVAL. */
int uapi_key_from_hex(uint8_t key[static KEY_LEN], const char *s);

/* What a get says of a peer besides its allowed IPs. */
struct uapi_peer_info {
	const uint8_t *public_key;
	const uint8_t *preshared_key; /* NULL: none (written as zeros) */
	const union sockaddr_inet *endpoint; /* NULL: none */
	struct timespec last_handshake; /* CLOCK_REALTIME; 0: never */
	uint64_t tx_bytes, rx_bytes;
	uint16_t keepalive_s;
};

/* private_key (when not NULL), listen_port (when not 0), fwmark (when not 0). */
void uapi_put_interface(struct uapi_buf *b, const uint8_t *private_key, uint16_t listen_port,
			uint32_t fwmark);
void uapi_put_peer(struct uapi_buf *b, const struct uapi_peer_info *peer);
void uapi_put_allowed_ip(struct uapi_buf *b, const struct ip_prefix *p);
/* "errno=N\n\n": the end of every reply. */
void uapi_put_errno(struct uapi_buf *b, int err);

#endif

// SPDX-License-Identifier: MIT
/*
 * The metrics as Prometheus text, in pieces (metrics.h), and the control
 * command that starts a scrape. The families are a table; a family is
 * written for the daemon, for each interface, or for each peer of each
 * interface, in that table's order, and only the per-peer walk can be long.
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "config.h"
#include "control_cmd.h"
#include "daemon.h"
#include "expose.h"
#include "iface.h"
#include "list.h"
#include "peer.h"
#include "util.h"

#define PUT_LITERAL(b, s) textbuf_put((b), (s), sizeof(s) - 1)

static void put_str(struct textbuf *b, const char *s)
{
	textbuf_put(b, s, strlen(s));
}

static void put_u64(struct textbuf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	textbuf_put(b, tmp, (size_t)n);
}

/* A label value: backslash, double quote and line feed escaped (the format's only escapes). */
static void put_label_value(struct textbuf *b, const char *s)
{
	for (const char *run = s;; s++) {
		const char *esc = *s == '\\'   ? "\\\\"
				  : *s == '"'  ? "\\\""
				  : *s == '\n' ? "\\n"
					       : NULL;

		if (!esc && *s)
			continue;
		textbuf_put(b, run, (size_t)(s - run));
		if (!*s)
			return;
		textbuf_put(b, esc, 2);
		run = s + 1;
	}
}

/* name{interface="IFACE"[,extra]} value\n; extra is label text already escaped, or NULL. */
static void put_iface_sample(struct textbuf *b, const char *name, const struct iface *iface,
			     const char *extra, uint64_t value)
{
	put_str(b, name);
	PUT_LITERAL(b, "{interface=\"");
	put_label_value(b, iface->name);
	textbuf_put(b, "\"", 1);
	if (extra) {
		textbuf_put(b, ",", 1);
		put_str(b, extra);
	}
	PUT_LITERAL(b, "} ");
	put_u64(b, value);
	textbuf_put(b, "\n", 1);
}

/* ---- The families ---- */

enum family_kind {
	FAMILY_DAEMON,
	FAMILY_IFACE,
	FAMILY_PEER,
};

struct family {
	const char *name, *type, *help;
	enum family_kind kind;
	/* FAMILY_DAEMON: every sample; FAMILY_IFACE: the interface's samples */
	void (*write)(struct textbuf *b, const char *name, struct daemon *d, struct iface *iface);
	uint64_t (*peer_value)(const struct peer *peer); /* FAMILY_PEER */
};

static void write_build_info(struct textbuf *b, const char *name, struct daemon *d,
			     struct iface *iface)
{
	(void)d;
	(void)iface;
	put_str(b, name);
	PUT_LITERAL(b, "{version=\"");
	put_label_value(b, TUND_VERSION);
	PUT_LITERAL(b, "\"} 1\n");
}

static void write_peers(struct textbuf *b, const char *name, struct daemon *d, struct iface *iface)
{
	(void)d;
	put_iface_sample(b, name, iface, NULL, iface->n_peers);
}

/* Peers with a session: a current keypair. A walk over the interface's peers. */
static void write_sessions(struct textbuf *b, const char *name, struct daemon *d,
			   struct iface *iface)
{
	const struct peer *peer;
	uint64_t n = 0;

	(void)d;
	list_for_each(peer, &iface->peers, node)
		n += peer->keypairs.current != NULL;
	put_iface_sample(b, name, iface, NULL, n);
}

/*
 * Read, not iface_under_load(), which counts a handshake message: every
 * message over the threshold sets last_under_load_s, and the state lasts a
 * second after it.
 */
static void write_under_load(struct textbuf *b, const char *name, struct daemon *d,
			     struct iface *iface)
{
	double last = iface->load.last_under_load_s;

	(void)d;
	put_iface_sample(b, name, iface, NULL, last > 0 && clock_now_s() - last < 1.0);
}

/* tund_dropped_packets_total's reasons: the drop counters of struct iface_stats. */
static const struct {
	const char *reason;
	size_t offset;
} drops[] = {
#define DROP(field, reason)                                                  \
	{                                                                    \
		"reason=\"" reason "\"", offsetof(struct iface_stats, field) \
	}
	DROP(rx_malformed, "malformed"),
	DROP(rx_invalid_mac, "invalid_mac"),
	DROP(rx_ratelimited, "ratelimited"),
	DROP(rx_unknown_index, "unknown_index"),
	DROP(rx_auth_failed, "auth_failed"),
	DROP(rx_replayed, "replayed"),
	DROP(rx_bad_source, "bad_source"),
	DROP(rx_bad_inner, "bad_inner"),
	DROP(tx_no_peer, "no_peer"),
	DROP(tx_no_endpoint, "no_endpoint"),
	DROP(tx_staged_dropped, "staged_dropped"),
	DROP(tx_errors, "send_error"),
	DROP(tx_bad_offload, "bad_offload"),
	DROP(tun_errors, "tun_error"),
#undef DROP
};

static void write_drops(struct textbuf *b, const char *name, struct daemon *d, struct iface *iface)
{
	(void)d;
	for (size_t i = 0; i < ARRAY_SIZE(drops); i++)
		put_iface_sample(
			b, name, iface, drops[i].reason,
			*(const uint64_t *)((const char *)&iface->stats + drops[i].offset));
}

static void write_hs_sent(struct textbuf *b, const char *name, struct daemon *d,
			  struct iface *iface)
{
	(void)d;
	put_iface_sample(b, name, iface, "type=\"initiation\"", iface->stats.hs_initiation_sent);
	put_iface_sample(b, name, iface, "type=\"response\"", iface->stats.hs_response_sent);
}

static void write_hs_received(struct textbuf *b, const char *name, struct daemon *d,
			      struct iface *iface)
{
	(void)d;
	put_iface_sample(b, name, iface, "type=\"initiation\"",
			 iface->stats.hs_initiation_received);
	put_iface_sample(b, name, iface, "type=\"response\"", iface->stats.hs_response_received);
}

static void write_hs_failed(struct textbuf *b, const char *name, struct daemon *d,
			    struct iface *iface)
{
	(void)d;
	put_iface_sample(b, name, iface, NULL, iface->stats.rx_handshake_bad);
}

static void write_cookies(struct textbuf *b, const char *name, struct daemon *d,
			  struct iface *iface)
{
	(void)d;
	put_iface_sample(b, name, iface, NULL, iface->stats.rx_cookie_sent);
}

static const char *const expose_roles[2] = {"role=\"client\"", "role=\"server\""};

static void write_expose_total(struct textbuf *b, const char *name, struct daemon *d,
			       struct iface *iface)
{
	struct expose_counts c;

	(void)d;
	expose_counts(iface->expose, &c);
	for (int i = 0; i < 2; i++)
		put_iface_sample(b, name, iface, expose_roles[i], c.total[i]);
}

static void write_expose_refused(struct textbuf *b, const char *name, struct daemon *d,
				 struct iface *iface)
{
	struct expose_counts c;

	(void)d;
	expose_counts(iface->expose, &c);
	for (int i = 0; i < 2; i++)
		put_iface_sample(b, name, iface, expose_roles[i], c.refused[i]);
}

static void write_expose_active(struct textbuf *b, const char *name, struct daemon *d,
				struct iface *iface)
{
	struct expose_counts c;

	(void)d;
	expose_counts(iface->expose, &c);
	for (int i = 0; i < 2; i++)
		put_iface_sample(b, name, iface, expose_roles[i], c.active[i]);
}

static uint64_t peer_sent(const struct peer *peer)
{
	return peer->tx_bytes;
}

static uint64_t peer_received(const struct peer *peer)
{
	return peer->rx_bytes;
}

static uint64_t peer_latest_handshake(const struct peer *peer)
{
	return peer->last_handshake_wall.tv_sec > 0 ? (uint64_t)peer->last_handshake_wall.tv_sec
						    : 0;
}

static const struct family families[] = {
	{"tund_build_info", "gauge", "tund's version, in the version label; always 1",
	 FAMILY_DAEMON, write_build_info, NULL},
	{"tund_peers", "gauge", "Peers of the interface", FAMILY_IFACE, write_peers, NULL},
	{"tund_sessions", "gauge", "Peers with a current session (keypair)", FAMILY_IFACE,
	 write_sessions, NULL},
	{"tund_under_load", "gauge", "1 while the interface requires cookies for handshakes",
	 FAMILY_IFACE, write_under_load, NULL},
	{"tund_dropped_packets_total", "counter", "Packets dropped, by reason", FAMILY_IFACE,
	 write_drops, NULL},
	{"tund_handshakes_sent_total", "counter", "Handshake messages sent, by type", FAMILY_IFACE,
	 write_hs_sent, NULL},
	{"tund_handshakes_received_total", "counter",
	 "Authenticated handshake messages received, by type", FAMILY_IFACE, write_hs_received,
	 NULL},
	{"tund_handshakes_failed_total", "counter",
	 "Handshake messages that failed to authenticate (or came from an unknown peer)",
	 FAMILY_IFACE, write_hs_failed, NULL},
	{"tund_cookie_replies_sent_total", "counter",
	 "Cookie replies sent to handshakes under load", FAMILY_IFACE, write_cookies, NULL},
	{"tund_expose_connections_total", "counter",
	 "Localhost-tunnel connections relayed, by role (services and ports configured now)",
	 FAMILY_IFACE, write_expose_total, NULL},
	{"tund_expose_refused_connections_total", "counter",
	 "Localhost-tunnel connections refused, by role (services and ports configured now)",
	 FAMILY_IFACE, write_expose_refused, NULL},
	{"tund_expose_connections", "gauge", "Localhost-tunnel connections open now, by role",
	 FAMILY_IFACE, write_expose_active, NULL},
	/* prometheus_wireguard_exporter's, with its names, labels and help */
	{"wireguard_sent_bytes_total", "counter", "Bytes sent to the peer", FAMILY_PEER, NULL,
	 peer_sent},
	{"wireguard_received_bytes_total", "counter", "Bytes received from the peer", FAMILY_PEER,
	 NULL, peer_received},
	{"wireguard_latest_handshake_seconds", "gauge", "Seconds from the last handshake",
	 FAMILY_PEER, NULL, peer_latest_handshake},
};

/* ---- The walk ---- */

void metrics_scrape_init(struct metrics_scrape *s, const char *only)
{
	memset(s, 0, sizeof(*s));
	if (only)
		snprintf(s->only, sizeof(s->only), "%s", only);
}

/* The next interface after the one written last (name order), or NULL. */
static struct iface *next_iface(struct metrics_scrape *s, struct daemon *d)
{
	struct iface *iface;

	list_for_each(iface, &d->ifaces, node) {
		if (s->has_iface && strcmp(iface->name, s->iface) <= 0)
			continue;
		if (s->only[0] && strcmp(iface->name, s->only) != 0)
			continue;
		return iface;
	}
	return NULL;
}

static void set_iface(struct metrics_scrape *s, const struct iface *iface)
{
	snprintf(s->iface, sizeof(s->iface), "%s", iface->name);
	s->has_iface = true;
}

/* A peer's labels, the exporter's: interface, public_key, allowed_ips, friendly_name if named. */
static void put_peer_labels(struct textbuf *b, const struct iface *iface, const struct peer *peer)
{
	const struct peer_config *pc = iface_config_find_peer_key(iface->cfg, peer->public_key);
	char key[KEY_BASE64_LEN + 1], buf[64];

	key_to_base64(key, peer->public_key);
	PUT_LITERAL(b, "{interface=\"");
	put_label_value(b, iface->name);
	PUT_LITERAL(b, "\",public_key=\"");
	put_str(b, key);
	PUT_LITERAL(b, "\",allowed_ips=\"");
	for (size_t i = 0; pc && i < pc->n_allowed_ips; i++) {
		if (i)
			textbuf_put(b, ",", 1);
		put_str(b, prefix_format(buf, sizeof(buf), &pc->allowed_ips[i]));
	}
	textbuf_put(b, "\"", 1);
	if (peer->name) {
		PUT_LITERAL(b, ",friendly_name=\"");
		put_label_value(b, peer->name);
		textbuf_put(b, "\"", 1);
	}
	PUT_LITERAL(b, "} ");
}

/* Where the interface's peers resume: next_peer by its key, or the first after it. */
static struct peer *resume_peer(struct metrics_scrape *s, struct iface *iface)
{
	struct peer *peer = s->has_next_key ? iface_find_peer(iface, s->next_key) : NULL;

	if (peer && peer->id == s->next_peer)
		return peer;
	list_for_each(peer, &iface->peers, node)
		if (peer->id >= s->next_peer)
			break;
	return peer;
}

/*
 * A per-peer family's samples, interface after interface, until b is full.
 * True when the family is complete.
 */
static bool write_peer_family(struct metrics_scrape *s, const struct family *f, struct daemon *d,
			      struct textbuf *b, size_t chunk)
{
	while (b->len < chunk && !b->failed) {
		struct iface *iface;
		struct peer *peer;

		if (!s->in_iface) {
			iface = next_iface(s, d);
			if (!iface)
				return true;
			set_iface(s, iface);
			s->in_iface = true;
			s->next_peer = 0;
			s->has_next_key = false;
		}
		iface = daemon_find_iface(d, s->iface);
		if (!iface) { /* it went away between two pieces */
			s->in_iface = false;
			continue;
		}
		for (peer = resume_peer(s, iface); &peer->node != &iface->peers;
		     peer = list_entry(peer->node.next, struct peer, node)) {
			if (b->len >= chunk) {
				s->next_peer = peer->id;
				memcpy(s->next_key, peer->public_key, KEY_LEN);
				s->has_next_key = true;
				return false;
			}
			put_str(b, f->name);
			put_peer_labels(b, iface, peer);
			put_u64(b, f->peer_value(peer));
			textbuf_put(b, "\n", 1);
		}
		s->in_iface = false;
	}
	return false;
}

int metrics_scrape_next(struct metrics_scrape *s, struct daemon *d, struct textbuf *b, size_t chunk)
{
	while (s->family < ARRAY_SIZE(families) && b->len < chunk && !b->failed) {
		const struct family *f = &families[s->family];
		bool done = true;

		if (!s->has_head) {
			PUT_LITERAL(b, "# HELP ");
			put_str(b, f->name);
			textbuf_put(b, " ", 1);
			put_str(b, f->help);
			PUT_LITERAL(b, "\n# TYPE ");
			put_str(b, f->name);
			textbuf_put(b, " ", 1);
			put_str(b, f->type);
			textbuf_put(b, "\n", 1);
			s->has_head = true;
			s->has_iface = false;
			s->in_iface = false;
		}
		if (f->kind == FAMILY_DAEMON) {
			f->write(b, f->name, d, NULL);
		} else if (f->kind == FAMILY_IFACE) {
			/* a few interfaces: all at once */
			for (struct iface *iface; (iface = next_iface(s, d));) {
				set_iface(s, iface);
				f->write(b, f->name, d, iface);
			}
		} else {
			done = write_peer_family(s, f, d, b, chunk);
		}
		if (done) {
			s->family++;
			s->has_head = false;
		}
	}
	if (b->failed)
		return -ENOMEM;
	return s->family < ARRAY_SIZE(families) ? 1 : 0;
}

/* ---- The control command ---- */

/* metrics [IFACE]: checks the interface; control.c streams the text (the result is its plan). */
int cmd_metrics(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err)
{
	struct iface *iface = NULL;

	if (arg_string(args, "interface") && !(iface = need_iface(env, args, err)))
		return -1;
	*result = iface ? json_pack("{s:s}", "interface", iface->name) : json_object();
	return 0;
}

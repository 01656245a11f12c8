/* SPDX-License-Identifier: MIT */
/*
 * struct iface: one interface's state as the data path sees it (device,
 * sockets, identity, tables, counters, the load meter), and the two things
 * the data path asks of it: whether it is under load, and a rate-limited
 * log. Creating, changing and destroying an interface is iface.h's; the
 * protocol modules include this header, not that one, so that they stay
 * below it (no include cycle: test/cli/structure.sh).
 */
#ifndef TUND_IFACE_STATE_H
#define TUND_IFACE_STATE_H

#include <ev.h>
#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "cookie.h"
#include "list.h"
#include "log.h"
#include "noise.h"
#include "tun.h"
#include "udp.h"

struct allowedips;
struct expose;
struct iface;
struct index_table;
struct nat;
struct netconf;
struct netlink;
struct peer;
struct ratelimiter;
struct scratch;
struct uapi_server;

/* Counters of what was dropped and why; for `tunctl show` and the logs. */
struct iface_stats {
	uint64_t rx_malformed;     /* too short, bad type, bad length for the type */
	uint64_t rx_invalid_mac;   /* mac1 (or mac2 under load) wrong */
	uint64_t rx_handshake_bad; /* failed to authenticate, unknown peer, replay, flood */
	uint64_t rx_cookie_sent;   /* under load: answered with a cookie reply */
	uint64_t rx_ratelimited;   /* under load: over the per-source rate or the turn's budget */
	uint64_t rx_unknown_index; /* data or response for an index we don't have */
	uint64_t rx_auth_failed;   /* data that failed to decrypt */
	uint64_t rx_replayed;      /* counter seen before or too old */
	uint64_t rx_bad_source;    /* inner source not in the sender's allowed IPs */
	uint64_t rx_bad_inner;     /* decrypted, but not a well-formed IPv4/IPv6 packet */
	uint64_t tx_no_peer;       /* no peer has an allowed IP for the destination */
	uint64_t tx_no_endpoint;   /* the peer has no known endpoint */
	uint64_t tx_staged_dropped; /* staged queue overflow, or gave up the handshake */
	uint64_t tx_errors;        /* the socket refused the datagram */
	uint64_t tx_bad_offload;   /* a TUN super-packet offload.c could not cut */
	uint64_t tun_errors;       /* the TUN device refused a packet */
	/* Handshake messages (not drops), for the metrics (metrics.c). */
	uint64_t hs_initiation_sent, hs_response_sent;
	uint64_t hs_initiation_received, hs_response_received; /* authenticated */
};

/* Section 5.4.7: when a peer must prove its address before we do DH work. */
struct load_meter {
	double window_start_s; /* start of the current one-second window */
	unsigned int count;    /* handshake messages in the current window */
	unsigned int prev;     /* in the previous window */
	double last_under_load_s;
};

/*
 * What runs beside the WireGuard core on an interface: the localhost tunnels
 * (daemon/expose/, which the core never includes: test/cli/structure.sh).
 * The daemon hands them to iface_create(); a test may set iface->hooks
 * after iface_new(). Every hook is called in the order the comments give,
 * and none may be NULL.
 */
struct iface_hooks {
	/* netconf: addresses and routes are in (RedirectToLocalhost). 0 or -errno (logged). */
	int (*routes_up)(struct iface *iface);
	/* netconf: before the routes go. */
	void (*routes_down)(struct iface *iface);
	/* The device, its sockets and watchers are up, before PostUp. 0 or -errno. */
	int (*up)(struct iface *iface);
	/* Close every connection and listener; true when one was open. Idempotent. */
	bool (*close)(struct iface *iface);
	/* A peer was added, changed or removed. */
	void (*peers_changed)(struct iface *iface);
	/*
	 * Reload, before cfg is in force: make the routes' part follow cfg. 0, or
	 * -errno with that part unchanged (iface.c then keeps the old one in cfg).
	 */
	int (*reconfigure_routes)(struct iface *iface, const struct iface_config *cfg,
				  json_t *changes);
	/* Reload: iface->cfg was replaced; apply the rest in place. */
	void (*reconfigured)(struct iface *iface, json_t *changes);
};

/* Owned by the daemon (daemon.c). */
struct iface {
	struct list_head node; /* in the daemon's list */
	struct ev_loop *loop;  /* borrowed */
	struct scratch *scratch; /* borrowed: the daemon's batch buffers */
	struct netlink *nl;    /* borrowed */
	char name[IFNAMSIZ];
	int ifindex;
	struct iface_config *cfg; /* owned: the configuration in force (for reload and show) */

	struct noise_local local; /* identity; lookup goes to the peer table */
	struct cookie_checker cookie_checker;
	struct index_table *index;
	struct allowedips *allowedips;
	struct ratelimiter *ratelimiter;

	struct list_head peers;    /* struct peer, in creation order */
	struct peer **peer_hash;   /* chains by public key */
	size_t peer_hash_size;     /* a power of two */
	size_t n_peers;
	uint64_t *next_peer_id;    /* borrowed: the daemon's counter */

	int tun_fd;
	struct tun_features tun_feat; /* offloads the device was opened with */
	ev_io tun_watcher;
	struct udp udp;
	ev_io udp_watcher[2]; /* IPv4, IPv6 */
	ev_timer housekeeping; /* rate limiter garbage collection */
	uint32_t mtu;

	struct netconf *netconf; /* addresses, routes, rules, DNS we installed; owned */
	/* The localhost tunnels' state, made and freed through hooks (NULL: none). */
	const struct iface_hooks *hooks; /* borrowed, or NULL */
	/* iface_sync_defer(): peer changes wait for one peers_changed at its end */
	unsigned int sync_deferred;
	bool sync_pending;
	struct expose *expose;   /* L4 tunnels (expose/expose.h); NULL until up */
	struct nat *nat;         /* RedirectToLocalhost (expose/nat.h); made by routes_up */
	struct uapi_server *uapi; /* `wg`'s UAPI socket (uapi_server.h); the daemon's, or NULL */
	struct load_meter load;
	unsigned int under_load_threshold; /* handshake messages per second */
	struct log_ratelimit log_rl;       /* for messages a remote party can trigger */
	struct iface_stats stats;
	double created_s;
};

/*
 * Handshake messages per second above which an interface is under load
 * (TUND_TEST_UNDER_LOAD_THRESHOLD for tests, else 1000); read at creation.
 */
unsigned int iface_under_load_threshold(void);
/* True when handshakes must carry a valid mac2 (a cookie) to be processed. */
bool iface_under_load(struct iface *iface, double now_s);
/* Log a message a remote party caused, rate-limited per interface. */
void iface_log_remote(struct iface *iface, double now_s, enum log_level level, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

#endif

/* SPDX-License-Identifier: MIT */
/*
 * What the files of localhost tunnels share: expose.c (helpers, applying
 * the configuration, show), expose_port.c (the control port: who may
 * connect, the first line), expose_client.c (published services and the
 * control connection to the server), expose_server.c (sessions with
 * clients and public listeners) and expose_limits.c (the descriptor
 * budget, connections per source).
 * Not for other modules: they use expose.h.
 */
#ifndef TUND_EXPOSE_INT_H
#define TUND_EXPOSE_INT_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "expose.h"
#include "jsonline.h"
#include "list.h"
#include "log.h"
#include "relay.h"

#define EXPOSE_PROTOCOL_VERSION	     1
#define EXPOSE_PING_INTERVAL_S	     10.0 /* the client pings its server this often */
#define EXPOSE_DEAD_AFTER_S	     30.0 /* nothing heard for this long: the session is dead */
#define EXPOSE_CONNECT_TIMEOUT_S     10.0 /* a TCP connect through the tunnel */
#define EXPOSE_FIRST_LINE_TIMEOUT_S  10.0 /* an accepted connection must say what it is */
/*
 * Accepted connections not yet past their first line: this many from the
 * servers we publish through (data connections), as many again from the
 * clients that publish through us (control sessions), so that neither
 * kind keeps the other out; one peer may hold a quarter of either, so that
 * it takes four to fill one.
 */
#define EXPOSE_MAX_INCOMING	     1024
#define EXPOSE_MAX_INCOMING_PER_PEER 256
#define EXPOSE_MAX_SESSIONS_PER_PEER 16 /* control sessions: its addresses times ours */
#define EXPOSE_MAX_SERVICES_PER_PEER 64
#define EXPOSE_BACKOFF_MIN_S	     1.0
#define EXPOSE_BACKOFF_MAX_S	     15.0
#define EXPOSE_REFUSED_RETRY_S	     30.0 /* ask again for a refused service (AllowExpose may change) */
#define EXPOSE_LINGER_S		     2.0 /* a control connection with no service left, before closing */
#define EXPOSE_PAUSE_S		     1.0 /* accept() ran out of file descriptors: wait */
#define EXPOSE_MAX_CTL_SOCKETS	     8 /* control port sockets: one per tunnel address */

struct iface;
struct expose_source;
struct expose_sources;

/* What a source address may open on the control port; see expose_may_open(). */
enum expose_from {
	EXPOSE_FROM_SERVER = 1, /* data connections: a server we publish through */
	EXPOSE_FROM_CLIENT = 2, /* control sessions: a peer's own address, with AllowExpose */
};

enum expose_state {
	EXPOSE_PENDING, /* not answered yet: no control connection, or waiting */
	EXPOSE_ACTIVE, /* the server listens */
	EXPOSE_REFUSED, /* the server said no (message says why) */
};

/* Client side: one published service, from an [Expose] or tunctl expose. Owned by ex->services. */
struct expose_service {
	struct list_head node;
	struct expose *ex;
	struct expose_config cfg; /* a copy of the configuration in force */
	union sockaddr_inet
		server; /* the server's tunnel address and control port; AF_UNSPEC: none */
	struct expose_link *link; /* the control connection it goes through, or NULL */
	enum expose_state state;
	bool is_sent; /* asked on the current connection, not answered yet */
	double refused_s; /* when it was refused (monotonic) */
	char message[256]; /* why pending or refused; "" when active */
	char listen[ADDR_STR_LEN]; /* the server's listening address, once active */
	size_t n_active; /* relayed connections now */
	uint64_t n_total, n_refused;
};

/* Client side: the control connection to one server (peer and tunnel address). Owned by ex->links.
 */
struct expose_link {
	struct list_head node;
	struct expose *ex;
	uint8_t peer_key[KEY_LEN];
	union sockaddr_inet server;
	struct jsonline *conn; /* NULL while waiting to connect again */
	bool is_up; /* connected, and the server answered at least once */
	ev_timer timer; /* connect timeout, ping, reconnect or linger */
	double last_rx_s; /* monotonic: the last line from the server */
	double backoff_s; /* the next wait before connecting again */
	char why[160]; /* the last failure, for show */
};

/*
 * Server side: a client's control connection. Owned by ex->sessions; at most
 * one per peer, client address and local address.
 */
struct expose_session {
	struct list_head node;
	struct expose *ex;
	uint8_t peer_key[KEY_LEN];
	union sockaddr_inet
		client; /* the peer's tunnel address and control port: data goes there */
	union sockaddr_inet local; /* our tunnel address it reached: data comes from there */
	struct jsonline *conn;
	ev_timer idle; /* nothing heard for EXPOSE_DEAD_AFTER_S: dead */
};

/* Server side: a public port published by a peer. Owned by ex->listeners. */
struct expose_listener {
	struct list_head node;
	struct expose *ex;
	uint8_t peer_key[KEY_LEN];
	char name[EXPOSE_NAME_MAX + 1];
	uint16_t port;
	bool proxy_protocol;
	struct expose_session *session; /* NULL in the grace period after the session ended */
	int fd;
	ev_io accept_watcher;
	ev_timer timer; /* the grace period, or a pause after running out of fds */
	double grace_ends_s;
	union sockaddr_inet bound;
	size_t n_active;
	uint64_t n_total, n_refused;
};

/* One interface's localhost tunnels. Owned by the iface. */
struct expose {
	struct iface *iface; /* owner */
	struct ev_loop *loop;
	uint16_t control_port; /* in force */
	int ctl_fd[EXPOSE_MAX_CTL_SOCKETS];
	ev_io ctl_watcher[EXPOSE_MAX_CTL_SOCKETS];
	size_t n_ctl;
	struct list_head incoming; /* struct expose_incoming */
	size_t n_incoming[2]; /* from servers, from clients */
	struct list_head services; /* client side */
	struct list_head links;
	struct list_head sessions; /* server side */
	struct list_head listeners;
	struct list_head
		relays; /* struct relay, every relayed connection; owner = service/listener */
	uint8_t *scratch; /* RELAY_BUF_LEN bytes the relays read into */
	struct expose_sources *sources; /* relayed connections per source on public ports */
	ev_timer sync_timer; /* expose_peers_changed(): apply on the next iteration */
	ev_timer ctl_pause; /* accept() on the control port ran out of fds: wait */
	struct log_ratelimit log_rl;
};

/* The string msg[key], or "" when it is missing or not a string. */
static inline const char *expose_str(json_t *msg, const char *key)
{
	const char *s = json_string_value(json_object_get(msg, key));

	return s ? s : "";
}

/* ---- expose.c ---- */

/* The peer's Name on this interface, else its public key, into buf. */
const char *expose_peer_label(const struct expose *ex, const uint8_t key[KEY_LEN], char *buf,
			      size_t len);
/*
 * A localhost-tunnel event (events.h) of the peer key: "expose-published",
 * "expose-refused" or "expose-withdrawn", as the server (we listen for the
 * peer) or the client (the peer listens for us); the service's name, and
 * the public port (0: none), listening address and message when known.
 */
void expose_event(const struct expose *ex, const char *event, const uint8_t key[KEY_LEN],
		  bool server, const char *service, unsigned int port, const char *listen,
		  const char *message);
/* The running configuration of the peer, or NULL when it is gone. */
const struct peer_config *expose_peer_config(const struct expose *ex, const uint8_t key[KEY_LEN]);
/*
 * The peer whose AllowedIPs hold remote's address, or NULL: cryptokey
 * routing is the authentication of the control port.
 */
struct peer *expose_peer_of(const struct expose *ex, const union sockaddr_inet *remote);
/* ExposeMaxConnections, ExposeGracePeriod, ExposeMaxConnectionsPerSource, ExposeIdleTimeout. */
size_t expose_max_connections(const struct expose *ex);
double expose_grace_s(const struct expose *ex);
size_t expose_max_per_source(const struct expose *ex);
double expose_idle_timeout_s(const struct expose *ex);
/* Whether a and b hold the same IP address; the ports do not matter. */
bool expose_same_address(const union sockaddr_inet *a, const union sockaddr_inet *b);
/* ExposeControlPort in force. */
uint16_t expose_control_port(const struct expose *ex);
/*
 * A non-blocking TCP socket listening on a (a public port); an IPv6 wildcard
 * takes IPv4 too, and a port in TIME_WAIT can be bound again. fd or -errno.
 */
int expose_listen_tcp(const union sockaddr_inet *a);
/* Only what comes through (or goes out of) the interface's TUN device. 0 or -1 (errno). */
int expose_bind_to_device(const struct expose *ex, int fd);
/* Bind to an address not (yet) on the host: the tunnel's IPv6 may still be tentative. */
int expose_set_freebind(int fd, sa_family_t family);
/* A remote party caused it: rate-limited. */
void expose_log_remote(struct expose *ex, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A non-blocking TCP socket bound to the TUN device (and to src when given), connecting to dst. */
int expose_connect(struct expose *ex, const union sockaddr_inet *src,
		   const union sockaddr_inet *dst, bool *in_progress);
/*
 * Start a relay owned by owner (a service or listener), holding two units
 * of the descriptor budget the caller took (expose_fds_take_relay()); done must
 * put them back. On failure both fds are closed and the units put back.
 * 0 or -ENOMEM.
 */
int expose_relay(struct expose *ex, int fd_a, int fd_b, bool b_connecting, const void *pre,
		 size_t len, void *owner, relay_done_fn done, struct relay **out);
/* Detach the relays of owner (it goes away; they run on). */
void expose_relays_detach(struct expose *ex, const void *owner);
/* Normalise an IPv4-mapped IPv6 address to IPv4. */
void expose_unmap(union sockaddr_inet *sa);
/* "host:port" of sa, "*:port" for an unspecified address. */
char *expose_format_listen(char *buf, size_t len, const union sockaddr_inet *sa);

/* ---- expose_port.c ---- */

void expose_port_init(struct expose *ex);
/* Listen on the control port (the tunnel addresses, or [::]); a failure is logged. */
void expose_port_open(struct expose *ex, json_t *changes);
/* Close it, and the connections accepted on it that have not said what they are. */
void expose_port_close(struct expose *ex);
/*
 * A connection accepted on the control port, from remote to local (IPv4
 * addresses unmapped): checked, then it waits for its first line. Takes fd.
 * The accept loop's, and the fuzzers' way in.
 */
void expose_accepted(struct expose *ex, int fd, const union sockaddr_inet *remote,
		     const union sockaddr_inet *local);

/* ---- expose_client.c ---- */

/* Make the services and links match iface->cfg (exposes, peers). */
void expose_client_sync(struct expose *ex, json_t *changes);
/*
 * A "connect" line came from peer, from remote, on conn (accepted on the
 * control port): relay it when remote is the address our control
 * connection for that service reached and the server accepted it; else reset.
 */
void expose_client_connect(struct expose *ex, const uint8_t peer_key[KEY_LEN],
			   const union sockaddr_inet *remote, struct jsonline *conn, json_t *msg);
/*
 * Take fd (connected, non-blocking) as the control connection to server,
 * whose link exists (a service goes through it): the fuzzers' way to play
 * the server. 0, or -ENOENT (fd closed).
 */
int expose_client_adopt_link(struct expose *ex, const union sockaddr_inet *server, int fd);
/* Whether remote is the tunnel address of a server of peer we have a control connection for. */
bool expose_client_is_server(const struct expose *ex, const uint8_t peer_key[KEY_LEN],
			     const union sockaddr_inet *remote);
json_t *expose_client_json(const struct expose_service *s);
void expose_client_destroy_all(struct expose *ex);

/* ---- expose_server.c ---- */

/*
 * A control line opened a connection from peer: a new session takes conn and
 * handles msg. True when conn lives on (its further lines go to the session).
 */
bool expose_server_session(struct expose *ex, const uint8_t peer_key[KEY_LEN],
			   const union sockaddr_inet *client, const union sockaddr_inet *local,
			   struct jsonline *conn, json_t *msg);
/* Drop sessions of peers gone, listeners no longer allowed; rebind when ExposeBindAddress changed.
 */
void expose_server_sync(struct expose *ex, json_t *changes);
json_t *expose_server_json(const struct expose_listener *l);
void expose_server_destroy_all(struct expose *ex);
/* True when some peer of the interface has AllowExpose. */
bool expose_server_wanted(const struct expose *ex);
/* Whether remote may open control sessions as peer pc: AllowExpose, and its own address. */
bool expose_server_is_client(const struct peer_config *pc, const union sockaddr_inet *remote);

/* ---- expose_limits.c ---- */

/*
 * The descriptor budget of every interface's relayed and pending
 * connections: the open files limit less a reserve for the daemon's own
 * sockets. Units are descriptors: a relay holds two, a connection waiting
 * for its first line one.
 */
size_t expose_fd_budget(void);
/* The relays the budget allows at most: three quarters of it, two units each. */
size_t expose_relay_cap(void);
/*
 * Take two units for a relay, or one for a connection waiting for its first
 * line; false (nothing taken) when over the budget, for a relay over its
 * three quarters.
 */
bool expose_fds_take_relay(void);
bool expose_fds_take_pending(void);
void expose_fds_put(size_t n);
size_t expose_fds_held(void);

/* Relayed connections per source (IPv4 address, IPv6 /64). 0, -ENOMEM or -EIO. */
int expose_sources_create(struct expose_sources **out);
/* Frees every entry too. NULL is a no-op. */
void expose_sources_destroy(struct expose_sources *t);
/*
 * Count one more connection from sa; NULL (nothing counted) when its source
 * has max already, or out of memory. *n: what it had before.
 */
struct expose_source *expose_source_take(struct expose_sources *t, const union sockaddr_inet *sa,
					 size_t max, size_t *n);
/* The source of sa as counted: "198.51.100.7", "2001:db8:1::/64". */
char *expose_source_format(char *buf, size_t len, const union sockaddr_inet *sa);
/* One connection less; the entry goes with its last. NULL is a no-op. */
void expose_source_put(struct expose_source *s);

#endif

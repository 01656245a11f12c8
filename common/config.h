/* SPDX-License-Identifier: MIT */
/*
 * The configuration model: one struct iface_config per /etc/tund/NAME.conf,
 * with its [Peer] sections, and the diagnostics list that loading, reload and
 * `tunctl check-config` all print the same way. Loading from INI is in
 * config_ini.c; this file owns the model, validation and diagnostics.
 */
#ifndef TUND_CONFIG_H
#define TUND_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "config_expose.h"
#include "config_redirect.h"
#include "key.h"

/* ---- Diagnostics ---- */

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

/* One message about one place in a file: "wg0.conf:12: AllowedIPs: ...". */
struct diag {
	enum diag_severity severity;
	char *file;        /* owned; the path as given to the loader */
	unsigned int line; /* 1-based; 0 when the message is about the whole file */
	char *msg;         /* owned */
};

/* An append-only list of diagnostics; owned by whoever loads. */
struct diag_list {
	struct diag *items;
	size_t n, cap;
	size_t n_errors, n_warnings;
};

void diag_add(struct diag_list *d, enum diag_severity sev, const char *file, unsigned int line,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "FILE:LINE: error: MSG" or "FILE: warning: MSG" one per line. */
void diag_print(const struct diag_list *d, FILE *out);
/* Format one diagnostic the way diag_print() does, without the newline. */
char *diag_format(char *buf, size_t len, const struct diag *item);
void diag_list_clear(struct diag_list *d);

/* ---- Model ---- */

enum table_mode {
	TABLE_AUTO = 0, /* routes in main, or wg-quick's policy routing for a /0 */
	TABLE_OFF,      /* no routes */
	TABLE_ID,       /* routes in table `table_id` */
};

/* One [Peer] section. Owned by its iface_config. */
struct peer_config {
	unsigned int line; /* line of the [Peer] header */
	char *name;        /* Name=, or NULL */
	uint8_t public_key[KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[KEY_LEN]; /* secret: wiped on free */
	struct ip_prefix *allowed_ips;  /* masked to the network */
	size_t n_allowed_ips;
	char *endpoint_host; /* NULL when no Endpoint=; not resolved here */
	uint16_t endpoint_port;
	uint16_t persistent_keepalive_s; /* 0 = off */
	struct port_range *allow_expose; /* AllowExpose: public ports it may publish here */
	size_t n_allow_expose;
	struct ip_prefix *expose_from; /* AllowExposeFrom: its own tunnel addresses (hosts) */
	size_t n_expose_from;
	unsigned int allow_expose_line, expose_from_line; /* first lines of those keys; 0 = none */
};

#define CONFIG_DIGEST_LEN 32

/* One interface file. */
struct iface_config {
	char name[IFNAMSIZ]; /* the file's stem */
	char *path;          /* as given to the loader; NULL: no file (tund-wg) */
	bool has_private_key;
	uint8_t private_key[KEY_LEN]; /* secret: wiped on free */
	bool has_listen_port;
	uint16_t listen_port;
	uint32_t fwmark; /* 0 = off */
	struct ip_prefix *addresses; /* host bits kept: 10.0.0.1/24 */
	size_t n_addresses;
	uint32_t mtu; /* 0 = automatic, as wg-quick */
	char **dns;   /* DNS= entries: addresses or search domains, in order */
	size_t n_dns;
	enum table_mode table;
	uint32_t table_id;
	char **pre_up, **post_up, **pre_down, **post_down; /* in order, %i not expanded */
	size_t n_pre_up, n_post_up, n_pre_down, n_post_down;
	struct peer_config *peers;
	size_t n_peers;
	size_t cap_peers; /* entries allocated in peers; 0: exactly n_peers */
	/*
	 * Peers with AllowExpose: counted by the loader, kept by put_peer,
	 * drop_peer and swap_peer (whatever changes peers otherwise keeps it too).
	 */
	size_t n_expose_peers;
	/*
	 * A cache, config.c's alone: where each public key is in peers, for
	 * iface_config_find_peer_key(). Open addressing, a peer's index + 1 per
	 * slot (0: empty); built on the first lookup, for key_slots_peers
	 * entries of peers (a different n_peers, or SIZE_MAX, means stale).
	 */
	uint32_t *key_slots;
	size_t key_slots_len; /* a power of two, or 0 */
	size_t key_slots_peers;
	/* Localhost tunnels (config_expose.h); none of these restart the interface. */
	uint16_t expose_control_port;      /* ExposeControlPort; 0 = the default */
	bool has_expose_bind_address;
	union sockaddr_inet expose_bind;   /* ExposeBindAddress (port unused); else all */
	bool has_expose_grace;
	uint32_t expose_grace_s;           /* ExposeGracePeriod */
	uint32_t expose_max_connections;   /* ExposeMaxConnections; 0 = the default */
	uint32_t expose_max_per_source;    /* ExposeMaxConnectionsPerSource; 0 = the default */
	bool has_expose_idle_timeout;
	uint32_t expose_idle_timeout_s;    /* ExposeIdleTimeout; 0 = never */
	struct expose_config *exposes;     /* [Expose NAME] sections */
	size_t n_exposes;
	/* RedirectToLocalhost, as written (not merged); applied in place on reload. */
	struct redirect_ports *redirects;
	size_t n_redirects;
	/* BLAKE2s-256 of the bytes loaded: tells whether the file changed since (--save). */
	uint8_t text_digest[CONFIG_DIGEST_LEN];
};

/*
 * Load one file. Errors and warnings go to diags with file and line. Returns 0
 * with *out set when the file has no error, -EINVAL when it has (diags say
 * why, *out NULL), or -errno when it cannot be read (also in diags).
 */
int config_load_file(const char *path, struct iface_config **out, struct diag_list *diags);
/*
 * The same from text in memory (for the fuzzer and tests): path names the
 * file in diagnostics, gives the interface name (its stem) and the directory
 * that relative key-file paths are resolved against. No permission check on
 * the text itself.
 */
int config_load_string(const char *path, const char *text, size_t len, struct iface_config **out,
		       struct diag_list *diags);
/*
 * The same for a list of peers (tunctl add-peer --from): only [Peer]
 * sections, read by the loader's [Peer] reader with the whole-file checks
 * among them (no two with one key or Name); no [Interface]. The result's
 * peers are the list's, in order.
 */
int config_load_peers_string(const char *path, const char *text, size_t len,
			     struct iface_config **out, struct diag_list *diags);
/*
 * Read the rest of fd (at most 64 MiB: -EFBIG) into *text, NUL-terminated,
 * *len bytes without the NUL. It may hold keys: wipe it before free().
 * 0 or -errno.
 */
int config_read_fd(int fd, char **text, size_t *len);

/*
 * Whether a file that holds a secret, of mode and group st, is readable
 * beyond the daemon: by others, or by a group other than the reader's own
 * (its group or a supplementary one) and tund's (CONTROL_DEFAULT_GROUP, the
 * group the shipped unit runs tund with). root:tund 0640 is fine.
 */
bool config_mode_exposed(const struct stat *st);
void iface_config_free(struct iface_config *cfg);
/*
 * The configuration of an interface that no file backs (tund-wg, the
 * control command create): no key, no port, no peer, Table = off, path
 * NULL. NULL when out of memory. name must be valid.
 */
struct iface_config *iface_config_new_fileless(const char *name);

/* The interfaces of a config directory, sorted by name. */
struct config_set {
	struct iface_config **ifaces;
	size_t n;
	/* Stems of the files that did not load: reload leaves those interfaces alone. */
	char **failed;
	size_t n_failed;
};

/*
 * Load every *.conf of dir. A file with errors is left out of *out and its
 * errors are in diags; the others load. Returns 0 when every file loaded, or
 * -EINVAL when any did not, -errno when dir cannot be read.
 */
int config_load_dir(const char *dir, struct config_set *out, struct diag_list *diags);
void config_set_clear(struct config_set *set);

/*
 * True when a and b ask for the same interface apart from ListenPort, the
 * peers and the localhost-tunnel settings (Expose* keys, [Expose] sections,
 * RedirectToLocalhost): identity, FwMark, addresses, MTU, DNS, Table and hooks. Reload applies
 * those in place and restarts the interface for the rest.
 */
bool iface_config_same_interface(const struct iface_config *a, const struct iface_config *b);

/* True when a and b describe the same peer in every setting (key, name, PSK, endpoint, ...). */
bool peer_config_same(const struct peer_config *a, const struct peer_config *b);
/*
 * The peer of cfg with this public key, or NULL. Constant time on average:
 * the first lookup after cfg->peers changed other than through
 * iface_config_put_peer() or iface_config_drop_peer() indexes every peer once.
 */
const struct peer_config *iface_config_find_peer_key(const struct iface_config *cfg,
						     const uint8_t key[static KEY_LEN]);

/* Free what pc owns and wipe it (not pc itself). */
void peer_config_clear(struct peer_config *pc);
/* Deep copy; dst is overwritten. Returns 0 or -ENOMEM (dst cleared). */
int peer_config_copy(struct peer_config *dst, const struct peer_config *src);
/*
 * Room in cfg->peers for one more peer (amortised: the array doubles). The
 * entries hold preshared keys: an array that moves is wiped, not just
 * freed. 0 or -ENOMEM (cfg unchanged).
 */
int iface_config_reserve_peer(struct iface_config *cfg);
/* Put a copy of pc in cfg, replacing the peer with the same key. 0 or -ENOMEM. */
int iface_config_put_peer(struct iface_config *cfg, const struct peer_config *pc);
/*
 * Drop the peer with this key from cfg; -ENOENT when none. The last peer
 * takes its place (the order of cfg->peers is not kept), so that it costs
 * the same at any number of peers.
 */
int iface_config_drop_peer(struct iface_config *cfg, const uint8_t key[static KEY_LEN]);
/* Swap a->peers[i] and b->peers[j] (the same public key), keeping both counts. */
void iface_config_swap_peer(struct iface_config *a, size_t i, struct iface_config *b, size_t j);

/* True when NAME is a valid interface name (1..15 of [A-Za-z0-9_=+.-]). */
bool config_iface_name_valid(const char *name);
/*
 * Find a peer by Name or by base64 public key; NULL when none. By key in
 * constant time (as iface_config_find_peer_key()); by Name a walk.
 */
const struct peer_config *iface_config_find_peer(const struct iface_config *cfg, const char *id);

#endif

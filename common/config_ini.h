/* SPDX-License-Identifier: MIT */
/*
 * Private to the INI loader: the state of one file's load and the helpers
 * its parts share. config_ini.c reads the lines (ini_lex.h) and dispatches
 * each key to the table of its section: config_ini_interface.c for
 * [Interface], config_ini_peer.c for [Peer], config_ini_expose.c for the
 * localhost tunnels' keys and [Expose NAME]. Not for use outside them.
 */
#ifndef TUND_CONFIG_INI_H
#define TUND_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "peer_settings.h"

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER,
	SEC_EXPOSE,
	SEC_UNKNOWN,
};

struct loader;
typedef int (*key_parse_fn)(struct loader *l, const char *key, const char *value);

/* One key of a section; key is its canonical spelling when parse is called. */
struct key_handler {
	enum section section;
	const char *name;
	bool is_list; /* repeatable and additive; otherwise repeating it warns */
	key_parse_fn parse;
};

/* A table of keys, each part's own. */
struct key_table {
	const struct key_handler *keys;
	size_t n;
};

/* The [Peer] keys are the peer settings' (peer_settings.h). */
extern const struct key_table config_ini_interface_keys;
extern const struct key_table config_ini_expose_keys;

/* Where the keys of one [Expose] were set, for the whole-file checks; 0 = not set. */
struct expose_lines {
	unsigned int local_port, peer, public_port, server_address;
};

#define LOADER_MAX_KEYS 64 /* more than the keys of all sections */

/* The state of one file's load; lives on the stack of config_load_*(). */
struct loader {
	const char *path; /* for messages */
	char *dir; /* relative key files are found here */
	struct diag_list *diags;
	struct iface_config *cfg;
	char *buf; /* the current line's key and value, NUL-terminated; wiped */
	size_t buf_cap;
	unsigned int line; /* of the line being read */
	enum section section; /* of that line */
	unsigned int interface_line;
	unsigned int *peer_key_line; /* per peer: line of its PublicKey, 0 = none */
	size_t cap_key_lines;        /* entries allocated in peer_key_line */
	unsigned int
		seen[LOADER_MAX_KEYS]; /* per key of the current section: first line, 0 = unseen */
	struct expose_lines *expose_lines; /* per [Expose]: where its keys were set */
	unsigned int private_key_line;
	bool private_key_from_file; /* where the key at private_key_line came from */
	unsigned int psk_line; /* the same for the current [Peer]'s preshared key */
	bool psk_from_file;
	bool has_inline_secret;
	bool oom;
	bool peers_only; /* a batch of [Peer] sections (config_load_peers_string) */
};

/* An error or a warning at the current line. */
void config_ini_err(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void config_ini_warn(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A decimal number 0..max, digits only. */
bool config_ini_parse_uint(const char *s, unsigned long max, unsigned long *out);
/* A numeric address without a port or prefix: "127.0.0.1", "::1". */
bool config_ini_parse_ip(const char *s, union sockaddr_inet *out);
/* Call fn for each comma-separated, trimmed, non-empty element of value; -1 if any failed. */
int config_ini_for_each_item(struct loader *l, const char *key, const char *value,
			     int (*fn)(struct loader *, const char *, char *));
/* arr with room for n + 1 elements of size bytes; NULL (and l->oom) when out of memory. */
void *config_ini_grow(struct loader *l, void *arr, size_t n, size_t size);
int config_ini_push_string(struct loader *l, char ***arr, size_t *n, const char *s);
/* Read one base64 key from a file of our own, refusing files others can read. */
int config_ini_read_key_file(struct loader *l, const char *key, const char *value,
			     uint8_t out[KEY_LEN]);
/* A peer setting's message (peer_settings.h) as a diagnostic of the current line; arg is l. */
void config_ini_report(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *msg);
/* One [Peer] key line of the current peer. */
void config_ini_peer_key(struct loader *l, const struct peer_setting *s, const char *value);

/* [Expose NAME]: a new published service, or SEC_UNKNOWN after an error. */
void config_ini_start_expose(struct loader *l, const char *name);
/* The whole-file checks of each part, once every line is read. */
void config_ini_check_duplicates(struct loader *l);
/* [Expose] sections, and each peer's AllowExposeFrom. */
void config_ini_check_exposes(struct loader *l);

static inline struct peer_config *cur_peer(struct loader *l)
{
	return &l->cfg->peers[l->cfg->n_peers - 1];
}

static inline struct expose_config *cur_expose(struct loader *l)
{
	return &l->cfg->exposes[l->cfg->n_exposes - 1];
}

static inline struct expose_lines *cur_expose_lines(struct loader *l)
{
	return &l->expose_lines[l->cfg->n_exposes - 1];
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The settings of a peer, defined once: for each, its key in a [Peer]
 * section, its field in the control protocol (the file's key in snake case),
 * its tunctl option and its key in WireGuard's cross-platform userspace API
 * (`wg`'s UAPI), and the functions that parse its text (as written in a file
 * or on tunctl's command line), tell whether a peer sets it, compare it and
 * format it back as a file would say it. The loader (config_ini_peer.c),
 * the control socket (peer_settings_apply_json(), for add-peer and
 * set-peer), tunctl's options and the --save writer (config_edit.c) all go
 * through this table, so that a value means the same everywhere and its
 * messages read the same: "AllowedIPs: "10.0.0.1/24" has host bits set;
 * using 10.0.0.0/24" in a file's diagnostics, a control reply's warnings and
 * on tunctl's stderr alike.
 */
#ifndef TUND_PEER_SETTINGS_H
#define TUND_PEER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"

enum peer_setting_id {
	PEER_SETTING_NAME,
	PEER_SETTING_PUBLIC_KEY,
	PEER_SETTING_PRESHARED_KEY,
	PEER_SETTING_PRESHARED_KEY_FILE,
	PEER_SETTING_ALLOWED_IPS,
	PEER_SETTING_ENDPOINT,
	PEER_SETTING_PERSISTENT_KEEPALIVE,
	PEER_SETTING_ALLOW_EXPOSE,
	PEER_SETTING_ALLOW_EXPOSE_FROM,
};

/* What a parser needs besides the value, and where its messages go. */
struct peer_setting_ctx {
	const char *label; /* names the setting in messages: the file's key, or "--option" */
	const char *dir; /* a relative key file is read from here */
	/* One message, without a place: "AllowedIPs: "x": is not an IP address". */
	void (*report)(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *msg);
	void *arg; /* the caller's, for report */
	bool oom; /* set when out of memory (the parser also fails) */
};

/*
 * How the control protocol carries a setting: not at all (it is the peer's
 * identity or only a --save option), a string, a string that "" or null
 * removes, a list of strings (replacing the peer's whole list), a number.
 */
enum peer_setting_json {
	PEER_JSON_NONE,
	PEER_JSON_STRING,
	PEER_JSON_REMOVABLE,
	PEER_JSON_LIST,
	PEER_JSON_NUMBER,
};

struct peer_setting {
	enum peer_setting_id id;
	const char *file_key; /* in a [Peer] section */
	bool is_list; /* repeatable in a file, and additive */
	const char *json_key; /* in add-peer and set-peer */
	enum peer_setting_json json_type;
	const char *tunctl_option; /* without "--"; NULL: none */
	const char *uapi_key; /* in `wg`'s UAPI; NULL: none */
	unsigned int edit_field; /* the CONFIG_EDIT_* --save rewrites it under; 0: never written */
	/*
	 * Parse one value into pc: a list setting adds to pc's list, any other
	 * replaces. 0, or -1 after reporting why (and ctx->oom when out of memory).
	 */
	int (*parse)(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx);
	/* A list setting's one item, as parse takes each comma-separated item; else NULL. */
	int (*parse_item)(struct peer_config *pc, const char *item, struct peer_setting_ctx *ctx);
	/* Whether pc sets it. */
	bool (*is_set)(const struct peer_config *pc);
	/* Whether a and b set it alike. */
	bool (*same)(const struct peer_config *a, const struct peer_config *b);
	/*
	 * pc's value as a file says it (NUL-terminated, malloc'd), when set; NULL
	 * when unset or out of memory. NULL for secrets, which are never written.
	 */
	char *(*format)(const struct peer_config *pc);
};

/* At most this many rows, for callers that size an array by the table. */
#define PEER_SETTINGS_MAX 16

extern const struct peer_setting peer_settings[];
extern const size_t peer_settings_count;

/* The setting with this file key (any case), tunctl option, or id; NULL when none. */
const struct peer_setting *peer_setting_by_file_key(const char *key);
const struct peer_setting *peer_setting_by_option(const char *option);
const struct peer_setting *peer_setting_by_id(enum peer_setting_id id);

/*
 * Read one base64 key from the file value names (relative to ctx->dir), as
 * PresharedKeyFile and PrivateKeyFile do: a regular file, not readable by
 * group or others. 0, or -1 after reporting why.
 */
int peer_settings_read_key_file(const char *value, uint8_t out[static KEY_LEN],
				struct peer_setting_ctx *ctx);

/* The outcome of peer_settings_apply_json(). */
struct peer_apply_result {
	const char *code; /* on failure: "invalid_argument", "exists" or "failed" */
	char message[512]; /* on failure: why */
	json_t *warnings; /* owned: the messages of the values taken with a change, or NULL */
};

/*
 * Apply the peer fields of a control request (args of add-peer or set-peer)
 * to pc, a peer of cfg (or one to be added to it): each field given, with
 * the file's syntax and checks, lists replacing pc's, "" or null removing a
 * removable one. A Name another peer of cfg has is refused ("exists"). 0, or
 * -1 with r->code and r->message set; pc may then be half changed. Either
 * way r->warnings is the caller's to release.
 */
int peer_settings_apply_json(const struct iface_config *cfg, json_t *args, struct peer_config *pc,
			     struct peer_apply_result *r);

/*
 * A tunctl option's text as the control protocol carries it: a list of
 * strings split at commas and blanks, a number parsed (and checked) as the
 * file's, or the text. NULL with msg set when it does not parse.
 */
json_t *peer_setting_option_json(const struct peer_setting *s, const char *text, char *msg,
				 size_t msg_len);

#endif

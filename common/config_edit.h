/* SPDX-License-Identifier: MIT */
/*
 * Writing a peer change back into its interface file (tunctl add-peer,
 * set-peer, remove-peer --save), or a published service (tunctl expose,
 * unexpose --save): text edits that touch only the lines of one [Peer] or
 * [Expose NAME] section, a check that the result loads back as intended, and an
 * atomic replacement of the file. Parsing is config_ini.c's; the edits read
 * lines with its reader, ini_lex.c: '#' starts a comment anywhere, ';' only at the start
 * of a line, keys and section names in any case, blanks around them (and CRs
 * after them) ignored.
 *
 * What an edit leaves alone stays byte for byte: comments, blank lines, CRLF
 * or LF, trailing blanks, inline comments, the spelling of keys, a missing
 * final newline (one is added only to the line something is appended after).
 *
 * Which lines a [Peer] section owns, i.e. what remove takes away:
 *  - its header and the lines after it, up to the next section header or the
 *    end of the file;
 *  - but a run of comment lines directly above the next header, with a blank
 *    line above the run, is the next section's (it stays); so is such a run
 *    at the end of the file (with any blank lines after it): it is the file's;
 *  - and, by the same rule, the run of comment lines directly above its own
 *    header, when a blank line precedes the run, is its own (it goes);
 *  - when what goes reaches the end of the file, the blank lines before it go
 *    too, so that the file does not end in the blank line that separated it.
 * add appends a new section at the end of the file, after a blank line.
 */
#ifndef TUND_CONFIG_EDIT_H
#define TUND_CONFIG_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "key.h"

/* The settings of a [Peer] section that config_edit_set_peer() may rewrite. */
enum config_edit_field {
	CONFIG_EDIT_NAME = 1 << 0, /* Name */
	CONFIG_EDIT_PRESHARED_KEY = 1 << 1, /* PresharedKey, PresharedKeyFile */
	CONFIG_EDIT_ALLOWED_IPS = 1 << 2, /* AllowedIPs (all its lines) */
	CONFIG_EDIT_ENDPOINT = 1 << 3, /* Endpoint */
	CONFIG_EDIT_KEEPALIVE = 1 << 4, /* PersistentKeepalive */
};

/* The CONFIG_EDIT_* fields in which a and b differ (their public keys aside). */
unsigned int config_edit_peer_diff(const struct peer_config *a, const struct peer_config *b);

/* True when s can be written as a value that reads back as s: no '#', no control byte, no blank at
 * either end. */
bool config_edit_value_ok(const char *s);
/* True when path can be written as PresharedKeyFile: absolute, and config_edit_value_ok(). */
bool config_edit_psk_file_ok(const char *path);

/*
 * The edits. Each reads a file's text (len bytes) and sets *out to the new
 * text (NUL-terminated, *out_len bytes; release it with config_edit_free(),
 * as it may hold keys). A preshared key is only ever written as
 * "PresharedKeyFile = psk_file" (an absolute path), never inline.
 *
 * add appends a [Peer] for pc: Name, PublicKey, PresharedKeyFile, AllowedIPs,
 * Endpoint, PersistentKeepalive, those that are set, in that order.
 * set rewrites, in the [Peer] of pc's key, the settings in fields (an OR of
 * CONFIG_EDIT_*) to pc's values: the first line of a setting gets the new
 * value in place (its key's spelling, blanks and inline comment kept; an
 * inline PresharedKey line becomes PresharedKeyFile), its other lines go, a
 * setting that is now unset loses all its lines, and one that was absent is
 * inserted after the section's last key line.
 * remove takes away the [Peer] of key and the lines it owns (see above).
 *
 * Returns 0; -ENOENT when the text has no [Peer] with that key (set, remove);
 * -EINVAL when a value cannot be written (a preshared key without psk_file,
 * a relative psk_file, a value config_edit_value_ok() refuses); -ENOMEM.
 */
int config_edit_add_peer(const char *text, size_t len, const struct peer_config *pc,
			 const char *psk_file, char **out, size_t *out_len);
int config_edit_set_peer(const char *text, size_t len, const struct peer_config *pc,
			 unsigned int fields, const char *psk_file, char **out, size_t *out_len);
int config_edit_remove_peer(const char *text, size_t len, const uint8_t key[static KEY_LEN],
			    char **out, size_t *out_len);
/*
 * [Expose NAME] sections (tunctl expose/unexpose --save). put writes e's
 * settings into the [Expose] of e's name: appended at the end of the file,
 * after a blank line, when there is none; else its key lines are replaced, the
 * new ones where its first key line was, comments and blank lines kept.
 * Settings at their defaults are left out. e->peer is written as it is.
 * remove takes away the [Expose] of that name and the lines it owns, as for a
 * [Peer]. Returns 0; -ENOENT (remove: no such section); -EINVAL when e->peer
 * cannot be written (config_edit_value_ok()); -ENOMEM.
 */
int config_edit_put_expose(const char *text, size_t len, const struct expose_config *e, char **out,
			   size_t *out_len);
int config_edit_remove_expose(const char *text, size_t len, const char *name, char **out,
			      size_t *out_len);

/* Wipe and free a text from the functions above; NULL is a no-op. */
void config_edit_free(char *text, size_t len);

/*
 * Load after (the edited text of the file at path; path names it in messages
 * and key files are found next to it) and check that it is before with only
 * the peer of key changed: now equal to *pc, or gone when pc is NULL. The
 * [Interface] and every other peer must load exactly as in before. Returns 0,
 * or -EINVAL with why set to the first difference or load error; -ENOMEM.
 */
int config_edit_verify(const char *path, const struct iface_config *before, const char *after,
		       size_t after_len, const uint8_t key[static KEY_LEN],
		       const struct peer_config *pc, char *why, size_t why_len);

/*
 * The same for an edit of the [Expose] named name: now equal to *e (its
 * peer_key set), or gone when e is NULL; the interface, every peer and every
 * other [Expose] as in before.
 */
int config_edit_verify_expose(const char *path, const struct iface_config *before,
			      const char *after, size_t after_len, const char *name,
			      const struct expose_config *e, char *why, size_t why_len);

/*
 * Replace the file at path by text, atomically: a temporary file in the same
 * directory (created exclusively, given the owner, group and mode of the
 * file), written whole, fsync'd, renamed over path, then the directory
 * fsync'd. On failure the file is as it was, the temporary file is removed,
 * and why says which step failed and why; returns -errno.
 */
int config_edit_write(const char *path, const char *text, size_t len, char *why, size_t why_len);

/*
 * One save as tund does it: prepare before the change is applied (nothing is
 * written), commit after. The new text is checked with config_edit_verify()
 * against the file as it is on disk, which must still be the text cfg was
 * loaded from (cfg->text_digest): an operator's edit is never overwritten.
 */
struct config_save {
	char *path; /* the file to replace: cfg->path with symlinks resolved */
	char *text; /* the new text; NULL when the file already says it */
	size_t len;
	uint8_t digest[CONFIG_DIGEST_LEN]; /* of text: cfg->text_digest after the commit */
};

/*
 * Prepare the file's text for the peer of key being pc (NULL: removed) in
 * cfg's file; psk_file as for the edits. Returns 0, or -errno with why set
 * (the file changed on disk, cannot be read, or the edit would not load back
 * as intended); *out is then empty.
 */
int config_save_prepare(const struct iface_config *cfg, const uint8_t key[static KEY_LEN],
			const struct peer_config *pc, const char *psk_file, struct config_save *out,
			char *why, size_t why_len);
/*
 * The same for the [Expose] named name being e (NULL: removed). e->peer must
 * name a peer of the file as it is on disk (-ENOENT with why set otherwise).
 */
int config_save_prepare_expose(const struct iface_config *cfg, const char *name,
			       const struct expose_config *e, struct config_save *out, char *why,
			       size_t why_len);
/* Write what prepare made and record its digest in cfg. 0, or -errno with why set. */
int config_save_commit(const struct config_save *s, struct iface_config *cfg, char *why,
		       size_t why_len);
void config_save_clear(struct config_save *s);

#endif

// SPDX-License-Identifier: MIT
/*
 * Editing one [Peer] or [Expose NAME] section of an interface file in place
 * (see config_edit.h for which lines a section owns). The text is never
 * parsed into a model and printed back: lines are kept as byte ranges of the
 * original (as ini_lex.c measures them) and only the touched ones are
 * rebuilt, each peer setting written by the table of peer settings. Checking
 * the result and replacing the file are config_save.c's.
 */
#include "config_edit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "crypto.h"
#include "ini_lex.h"
#include "peer_settings.h"
#include "wipebuf.h"

/* The text split in lines (ini_lex.h); lines is owned. */
struct doc {
	const char *text;
	size_t len;
	struct ini_line *lines;
	size_t n;
	const char *eol; /* for new lines: the ending of the file's first line */
};

/* A growing output text; wiped whenever it moves, as it may hold keys. */
struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static int doc_parse(struct doc *d, const char *text, size_t len)
{
	size_t n = 0, pos = 0;

	memset(d, 0, sizeof(*d));
	d->text = text;
	d->len = len;
	d->eol = "\n";
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	n += len > 0 && text[len - 1] != '\n';
	d->lines = calloc(n ? n : 1, sizeof(*d->lines));
	if (!d->lines)
		return -ENOMEM;
	while (d->n < n && ini_lex_next(text, len, &pos, &d->lines[d->n]))
		d->n++;
	for (size_t i = 0; i < d->n; i++) {
		if (d->lines[i].eol) {
			d->eol = d->lines[i].eol == 2 ? "\r\n" : "\n";
			break;
		}
	}
	return 0;
}

static bool key_is(const struct doc *d, const struct ini_line *l, const char *name)
{
	return ini_lex_key_is(d->text, l, name);
}

/* The next section header after line i, or d->n. */
static size_t section_end(const struct doc *d, size_t i)
{
	for (i++; i < d->n; i++)
		if (d->lines[i].kind == INI_SECTION)
			break;
	return i;
}

/* The header line of the [Peer] whose (last) PublicKey is key; -ENOENT when none. */
static int find_peer(const struct doc *d, const uint8_t key[KEY_LEN], size_t *header)
{
	for (size_t h = 0; h < d->n; h++) {
		const struct ini_line *pub = NULL;
		uint8_t k[KEY_LEN];
		char text[KEY_BASE64_LEN + 1];
		size_t end, arg_len;

		if (!ini_lex_section_is(d->text, &d->lines[h], "Peer", NULL, &arg_len) || arg_len)
			continue;
		end = section_end(d, h);
		for (size_t i = h + 1; i < end; i++)
			if (key_is(d, &d->lines[i], "PublicKey"))
				pub = &d->lines[i];
		if (!pub || pub->value_len != KEY_BASE64_LEN)
			continue;
		memcpy(text, d->text + pub->off + pub->value_off, KEY_BASE64_LEN);
		text[KEY_BASE64_LEN] = '\0';
		if (key_from_base64(k, text, NULL) == 0 && memcmp(k, key, KEY_LEN) == 0) {
			*header = h;
			return 0;
		}
	}
	return -ENOENT;
}

/* The header line of the [Expose NAME] of that name; -ENOENT when none. */
static int find_expose(const struct doc *d, const char *name, size_t *header)
{
	size_t len = strlen(name), arg_len;
	const char *arg;

	for (size_t h = 0; h < d->n; h++) {
		if (ini_lex_section_is(d->text, &d->lines[h], "Expose", &arg, &arg_len) &&
		    arg_len == len && memcmp(arg, name, len) == 0) {
			*header = h;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The first line of the run of comment lines directly above line i when a
 * blank line precedes the run; i when there is no such run.
 */
static size_t comment_run_above(const struct doc *d, size_t i)
{
	size_t a = i;

	while (a > 0 && d->lines[a - 1].kind == INI_COMMENT)
		a--;
	return a < i && a > 0 && d->lines[a - 1].kind == INI_BLANK ? a : i;
}

/* ---- Output ---- */

static void put(struct buf *b, const void *s, size_t n)
{
	if (b->failed)
		return;
	if (wipebuf_reserve(&b->p, &b->cap, b->len, b->len + n + 1, 256) != 0) {
		b->failed = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Line i as it is, with its ending. */
static void put_line(struct buf *b, const struct doc *d, size_t i)
{
	put(b, d->text + d->lines[i].off, d->lines[i].len + d->lines[i].eol);
}

static int finish(struct buf *b, char **out, size_t *out_len)
{
	put(b, "", 0); /* an empty text still gets its NUL */
	if (b->failed) {
		config_edit_free(b->p, b->cap);
		return -ENOMEM;
	}
	*out = b->p;
	*out_len = b->len;
	return 0;
}

void config_edit_free(char *text, size_t len)
{
	if (!text)
		return;
	crypto_wipe(text, len);
	free(text);
}

/* ---- Values ---- */

bool config_edit_value_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '#')
			return false;
	return true;
}

/* The settings --save writes (peer_settings.h): a preshared key only as its file, never inline. */
static bool is_written(const struct peer_setting *s)
{
	return s->edit_field && s->id != PEER_SETTING_PRESHARED_KEY;
}

/* Whether line l sets field: a key of any setting --save rewrites under it. */
static bool sets_field(const struct doc *d, const struct ini_line *l, unsigned int field)
{
	for (size_t i = 0; i < peer_settings_count; i++)
		if (peer_settings[i].edit_field == field && key_is(d, l, peer_settings[i].file_key))
			return true;
	return false;
}

bool config_edit_psk_file_ok(const char *path)
{
	return path && path[0] == '/' && config_edit_value_ok(path);
}

/* Whether pc sets s; -EINVAL when it does with a value that cannot be written. */
static int field_value_check(const struct peer_config *pc, const struct peer_setting *s,
			     const char *psk_file, bool *is_set)
{
	*is_set = s->is_set(pc);
	if (!*is_set)
		return 0;
	switch (s->edit_field) {
	case CONFIG_EDIT_NAME:
		return config_edit_value_ok(pc->name) ? 0 : -EINVAL;
	case CONFIG_EDIT_PRESHARED_KEY:
		return config_edit_psk_file_ok(psk_file) ? 0 : -EINVAL;
	case CONFIG_EDIT_ENDPOINT:
		return config_edit_value_ok(pc->endpoint_host) ? 0 : -EINVAL;
	default:
		return 0;
	}
}

/* The value of a set setting, as the loader reads it back; a preshared key is its file. */
static void put_value(struct buf *b, const struct peer_config *pc, const struct peer_setting *s,
		      const char *psk_file)
{
	char *text;

	if (s->edit_field == CONFIG_EDIT_PRESHARED_KEY) {
		puts_(b, psk_file);
		return;
	}
	text = s->format(pc);
	if (!text) {
		b->failed = true;
		return;
	}
	puts_(b, text);
	free(text);
}

/* "indent Key = value" and a line ending. */
static void put_key_line(struct buf *b, const char *indent, size_t indent_len,
			 const struct peer_config *pc, const struct peer_setting *s,
			 const char *psk_file, const char *eol)
{
	put(b, indent, indent_len);
	puts_(b, s->file_key);
	puts_(b, " = ");
	put_value(b, pc, s, psk_file);
	puts_(b, eol);
}

/* ---- Add ---- */

int config_edit_add_peer(const char *text, size_t len, const struct peer_config *pc,
			 const char *psk_file, char **out, size_t *out_len)
{
	struct buf b = {0};
	struct doc d;
	bool is_set;
	int rc;

	for (size_t i = 0; i < peer_settings_count; i++)
		if (is_written(&peer_settings[i]) &&
		    field_value_check(pc, &peer_settings[i], psk_file, &is_set) != 0)
			return -EINVAL;
	rc = doc_parse(&d, text, len);
	if (rc != 0)
		return rc;
	put(&b, text, len);
	if (d.n > 0) {
		if (!d.lines[d.n - 1].eol)
			puts_(&b, d.eol);
		if (d.lines[d.n - 1].kind != INI_BLANK)
			puts_(&b, d.eol);
	}
	puts_(&b, "[Peer]");
	puts_(&b, d.eol);
	/* In the table's order: Name, PublicKey, then the others. */
	for (size_t i = 0; i < peer_settings_count; i++) {
		const struct peer_setting *s = &peer_settings[i];

		if (s->id == PEER_SETTING_PUBLIC_KEY || (is_written(s) && s->is_set(pc)))
			put_key_line(&b, "", 0, pc, s, psk_file, d.eol);
	}
	free(d.lines);
	return finish(&b, out, out_len);
}

/* ---- Set ---- */

/* What happens to one line of the section being changed. */
struct line_edit {
	bool drop;
	const struct peer_setting *setting; /* rewrite its value to this one's (NULL: keep) */
};

/* Line i with its value replaced by s's (and an inline PresharedKey renamed). */
static void put_rewritten(struct buf *b, const struct doc *d, size_t i,
			  const struct peer_config *pc, const struct peer_setting *s,
			  const char *psk_file)
{
	const struct ini_line *l = &d->lines[i];
	const char *text = d->text + l->off;
	size_t key_end = l->indent + l->key_len;

	put(b, text, l->indent);
	if (s->edit_field == CONFIG_EDIT_PRESHARED_KEY && !key_is(d, l, s->file_key))
		puts_(b, s->file_key);
	else
		put(b, text + l->indent, l->key_len);
	if (l->value_len == 0) {
		/* "Key =" had no value: give the new one a blank after '='. */
		put(b, text + key_end, l->eq + 1 - key_end);
		puts_(b, " ");
	} else {
		put(b, text + key_end, l->value_off - key_end);
	}
	put_value(b, pc, s, psk_file);
	put(b, text + l->value_off + l->value_len, l->len + l->eol - l->value_off - l->value_len);
}

/*
 * The settings in missing, as new lines after line k (emitted already unless
 * dropped), indented as it is.
 */
static void insert_fields(struct buf *b, const struct doc *d, size_t k, bool dropped,
			  const struct peer_config *pc, unsigned int missing, const char *psk_file)
{
	const struct ini_line *l = &d->lines[k];
	const char *indent = l->kind == INI_KEY ? d->text + l->off : "";
	size_t indent_len = l->kind == INI_KEY ? l->indent : 0;
	const char *eol = l->eol == 2 ? "\r\n" : l->eol == 1 ? "\n" : d->eol;

	if (!l->eol && !dropped)
		puts_(b, d->eol); /* it was the last line, without an ending */
	for (size_t i = 0; i < peer_settings_count; i++)
		if (is_written(&peer_settings[i]) && (missing & peer_settings[i].edit_field))
			put_key_line(b, indent, indent_len, pc, &peer_settings[i], psk_file, eol);
}

/*
 * What happens to each line of the section [h, end) for the settings in
 * which: the first line of a set one rewritten, its others dropped (all of
 * them when it is now unset). Returns those that had no line.
 */
static unsigned int plan_edits(const struct doc *d, size_t h, size_t end,
			       const struct peer_config *pc, unsigned int which,
			       struct line_edit *edits)
{
	unsigned int missing = 0;
	bool is_set;

	for (size_t f = 0; f < peer_settings_count; f++) {
		const struct peer_setting *s = &peer_settings[f];
		bool seen = false;

		if (!is_written(s) || !(which & s->edit_field))
			continue;
		field_value_check(pc, s, NULL, &is_set);
		for (size_t i = h + 1; i < end; i++) {
			if (!sets_field(d, &d->lines[i], s->edit_field))
				continue;
			if (is_set && !seen)
				edits[i - h].setting = s;
			else
				edits[i - h].drop = true;
			seen = true;
		}
		if (is_set && !seen)
			missing |= s->edit_field;
	}
	return missing;
}

int config_edit_set_peer(const char *text, size_t len, const struct peer_config *pc,
			 unsigned int which, const char *psk_file, char **out, size_t *out_len)
{
	struct line_edit *edits = NULL;
	unsigned int missing;
	struct buf b = {0};
	size_t h, end, last_key;
	struct doc d;
	bool is_set;
	int rc;

	for (size_t f = 0; f < peer_settings_count; f++)
		if (is_written(&peer_settings[f]) && (which & peer_settings[f].edit_field) &&
		    field_value_check(pc, &peer_settings[f], psk_file, &is_set) != 0)
			return -EINVAL;
	rc = doc_parse(&d, text, len);
	if (rc != 0)
		return rc;
	rc = find_peer(&d, pc->public_key, &h);
	if (rc != 0)
		goto out;
	end = section_end(&d, h);
	edits = calloc(end - h, sizeof(*edits));
	if (!edits) {
		rc = -ENOMEM;
		goto out;
	}
	last_key = h;
	for (size_t i = h + 1; i < end; i++)
		if (d.lines[i].kind == INI_KEY)
			last_key = i;
	missing = plan_edits(&d, h, end, pc, which, edits);
	for (size_t i = 0; i < d.n; i++) {
		const struct line_edit *e = i > h && i < end ? &edits[i - h] : NULL;

		if (e && e->setting)
			put_rewritten(&b, &d, i, pc, e->setting, psk_file);
		else if (!e || !e->drop)
			put_line(&b, &d, i);
		if (i == last_key && missing)
			insert_fields(&b, &d, i, e && e->drop, pc, missing, psk_file);
	}
	rc = finish(&b, out, out_len);
out:
	free(edits);
	free(d.lines);
	return rc;
}

/* ---- Remove ---- */

/* The text without the section whose header is line h and the lines it owns. */
static int remove_section(const struct doc *d, size_t h, char **out, size_t *out_len)
{
	size_t next = section_end(d, h), start = comment_run_above(d, h), stop;
	struct buf b = {0};

	if (next < d->n) {
		stop = comment_run_above(d, next);
	} else {
		/* A final comment run (blank lines after it allowed) is the file's. */
		size_t t = d->n;

		while (t > h + 1 && d->lines[t - 1].kind == INI_BLANK)
			t--;
		stop = comment_run_above(d, t);
		if (stop == t)
			stop = d->n;
	}
	if (stop == d->n)
		while (start > 0 && d->lines[start - 1].kind == INI_BLANK)
			start--;
	for (size_t i = 0; i < d->n; i++)
		if (i < start || i >= stop)
			put_line(&b, d, i);
	return finish(&b, out, out_len);
}

/* The text without the [Peer] of key, or else without the [Expose] of name. */
static int remove_one(const char *text, size_t len, const uint8_t *key, const char *name,
		      char **out, size_t *out_len)
{
	struct doc d;
	size_t h;
	int rc;

	rc = doc_parse(&d, text, len);
	if (rc != 0)
		return rc;
	rc = key ? find_peer(&d, key, &h) : name ? find_expose(&d, name, &h) : -EINVAL;
	if (rc == 0)
		rc = remove_section(&d, h, out, out_len);
	free(d.lines);
	return rc;
}

int config_edit_remove_peer(const char *text, size_t len, const uint8_t key[static KEY_LEN],
			    char **out, size_t *out_len)
{
	return remove_one(text, len, key, NULL, out, out_len);
}

/* ---- [Expose NAME] sections ---- */

static bool expose_values_ok(const struct expose_config *e)
{
	return expose_name_valid(e->name) && e->peer && config_edit_value_ok(e->peer);
}

/* One "indent Key = value" line. */
static void put_setting(struct buf *b, const char *indent, size_t indent_len, const char *key,
			const char *value, const char *eol)
{
	put(b, indent, indent_len);
	puts_(b, key);
	puts_(b, " = ");
	puts_(b, value);
	puts_(b, eol);
}

/*
 * The key lines of e, defaults left out: Peer, LocalPort, LocalAddress (when
 * not 127.0.0.1), PublicPort (when not LocalPort), ProxyProtocol (when yes),
 * ServerAddress (when set).
 */
static void put_expose_keys(struct buf *b, const char *indent, size_t indent_len,
			    const struct expose_config *e, const char *eol)
{
	bool v6 = e->local.sa.sa_family == AF_INET6;
	uint16_t local_port = ntohs(v6 ? e->local.in6.sin6_port : e->local.in.sin_port);
	char tmp[ADDR_STR_LEN];

	put_setting(b, indent, indent_len, "Peer", e->peer, eol);
	snprintf(tmp, sizeof(tmp), "%u", (unsigned int)local_port);
	put_setting(b, indent, indent_len, "LocalPort", tmp, eol);
	if (v6 || e->local.in.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
		inet_ntop(e->local.sa.sa_family,
			  v6 ? (const void *)&e->local.in6.sin6_addr
			     : (const void *)&e->local.in.sin_addr,
			  tmp, sizeof(tmp));
		put_setting(b, indent, indent_len, "LocalAddress", tmp, eol);
	}
	if (e->public_port != local_port) {
		snprintf(tmp, sizeof(tmp), "%u", (unsigned int)e->public_port);
		put_setting(b, indent, indent_len, "PublicPort", tmp, eol);
	}
	if (e->proxy_protocol)
		put_setting(b, indent, indent_len, "ProxyProtocol", "yes", eol);
	if (e->has_server_address)
		put_setting(b, indent, indent_len, "ServerAddress",
			    prefix_format_addr(tmp, sizeof(tmp), &e->server_address), eol);
}

/* A new [Expose NAME] at the end of the text, after a blank line. */
static int append_expose(const struct doc *d, const struct expose_config *e, char **out,
			 size_t *out_len)
{
	struct buf b = {0};

	put(&b, d->text, d->len);
	if (d->n > 0) {
		if (!d->lines[d->n - 1].eol)
			puts_(&b, d->eol);
		if (d->lines[d->n - 1].kind != INI_BLANK)
			puts_(&b, d->eol);
	}
	puts_(&b, "[Expose ");
	puts_(&b, e->name);
	puts_(&b, "]");
	puts_(&b, d->eol);
	put_expose_keys(&b, "", 0, e, d->eol);
	return finish(&b, out, out_len);
}

/*
 * The section of header h with its key lines replaced: e's keys where its
 * first key line was (with that line's indent and ending), the other key
 * lines gone, comments and blank lines kept.
 */
static int rewrite_expose(const struct doc *d, size_t h, const struct expose_config *e, char **out,
			  size_t *out_len)
{
	size_t end = section_end(d, h), first = h;
	struct buf b = {0};

	for (size_t i = h + 1; i < end && first == h; i++)
		if (d->lines[i].kind == INI_KEY)
			first = i;
	for (size_t i = 0; i < d->n; i++) {
		const struct ini_line *l = &d->lines[i];

		if (i == first) {
			put_expose_keys(&b, d->text + l->off, l->indent, e,
					l->eol == 2   ? "\r\n"
					: l->eol == 1 ? "\n"
						      : d->eol);
		} else if (i <= h || i >= end || l->kind != INI_KEY) {
			put_line(&b, d, i);
			if (i == h && first == h) {
				if (!l->eol)
					puts_(&b, d->eol);
				put_expose_keys(&b, "", 0, e, d->eol);
			}
		}
	}
	return finish(&b, out, out_len);
}

int config_edit_put_expose(const char *text, size_t len, const struct expose_config *e, char **out,
			   size_t *out_len)
{
	struct doc d;
	size_t h;
	int rc;

	if (!expose_values_ok(e))
		return -EINVAL;
	rc = doc_parse(&d, text, len);
	if (rc != 0)
		return rc;
	if (find_expose(&d, e->name, &h) == 0)
		rc = rewrite_expose(&d, h, e, out, out_len);
	else
		rc = append_expose(&d, e, out, out_len);
	free(d.lines);
	return rc;
}

int config_edit_remove_expose(const char *text, size_t len, const char *name, char **out,
			      size_t *out_len)
{
	return remove_one(text, len, NULL, name, out, out_len);
}

/* ---- Comparing peers ---- */

unsigned int config_edit_peer_diff(const struct peer_config *a, const struct peer_config *b)
{
	unsigned int diff = 0;

	for (size_t i = 0; i < peer_settings_count; i++)
		if (is_written(&peer_settings[i]) && !peer_settings[i].same(a, b))
			diff |= peer_settings[i].edit_field;
	return diff;
}

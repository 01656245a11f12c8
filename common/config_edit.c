// SPDX-License-Identifier: MIT
/*
 * Editing one [Peer] or [Expose NAME] section of an interface file in
 * place, checking the result by loading it, and replacing the file
 * atomically; see config_edit.h for which lines a section owns. The text is never parsed
 * into a model and printed back: lines are kept as byte ranges of the
 * original and only the touched ones are rebuilt.
 */
#include "config_edit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "crypto.h"
#include "ini_lex.h"
#include "log.h"

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
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = malloc(cap);
		if (!p) {
			b->failed = true;
			return;
		}
		if (b->p) {
			memcpy(p, b->p, b->len);
			crypto_wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
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

static const struct {
	unsigned int field;
	const char *key; /* as written */
	const char *alias; /* another key of the same setting, or NULL */
} fields[] = {
	{CONFIG_EDIT_NAME, "Name", NULL},
	{CONFIG_EDIT_PRESHARED_KEY, "PresharedKeyFile", "PresharedKey"},
	{CONFIG_EDIT_ALLOWED_IPS, "AllowedIPs", NULL},
	{CONFIG_EDIT_ENDPOINT, "Endpoint", NULL},
	{CONFIG_EDIT_KEEPALIVE, "PersistentKeepalive", NULL},
};

static bool psk_file_ok(const char *path)
{
	return path && path[0] == '/' && config_edit_value_ok(path);
}

/* Whether pc sets field; -EINVAL when it does with a value that cannot be written. */
static int field_value_check(const struct peer_config *pc, unsigned int field, const char *psk_file,
			     bool *is_set)
{
	switch (field) {
	case CONFIG_EDIT_NAME:
		*is_set = pc->name != NULL;
		return !pc->name || config_edit_value_ok(pc->name) ? 0 : -EINVAL;
	case CONFIG_EDIT_PRESHARED_KEY:
		*is_set = pc->has_preshared_key;
		return !pc->has_preshared_key || psk_file_ok(psk_file) ? 0 : -EINVAL;
	case CONFIG_EDIT_ALLOWED_IPS:
		*is_set = pc->n_allowed_ips > 0;
		return 0;
	case CONFIG_EDIT_ENDPOINT:
		*is_set = pc->endpoint_host != NULL;
		return !pc->endpoint_host || config_edit_value_ok(pc->endpoint_host) ? 0 : -EINVAL;
	default:
		*is_set = pc->persistent_keepalive_s != 0;
		return 0;
	}
}

/* The value of a set field, as the loader reads it back. */
static void put_value(struct buf *b, const struct peer_config *pc, unsigned int field,
		      const char *psk_file)
{
	char tmp[ADDR_STR_LEN + 8];

	switch (field) {
	case CONFIG_EDIT_NAME:
		puts_(b, pc->name);
		break;
	case CONFIG_EDIT_PRESHARED_KEY:
		puts_(b, psk_file);
		break;
	case CONFIG_EDIT_ALLOWED_IPS:
		for (size_t i = 0; i < pc->n_allowed_ips; i++) {
			if (i)
				puts_(b, ", ");
			puts_(b, prefix_format(tmp, sizeof(tmp), &pc->allowed_ips[i]));
		}
		break;
	case CONFIG_EDIT_ENDPOINT:
		/* A host with a ':', or one that begins with '[', reads back only in brackets. */
		if (strchr(pc->endpoint_host, ':') || pc->endpoint_host[0] == '[') {
			puts_(b, "[");
			puts_(b, pc->endpoint_host);
			puts_(b, "]");
		} else {
			puts_(b, pc->endpoint_host);
		}
		snprintf(tmp, sizeof(tmp), ":%u", (unsigned int)pc->endpoint_port);
		puts_(b, tmp);
		break;
	default:
		snprintf(tmp, sizeof(tmp), "%u", (unsigned int)pc->persistent_keepalive_s);
		puts_(b, tmp);
		break;
	}
}

/* "indent Key = value" and a line ending. */
static void put_key_line(struct buf *b, const char *indent, size_t indent_len, const char *key,
			 const struct peer_config *pc, unsigned int field, const char *psk_file,
			 const char *eol)
{
	put(b, indent, indent_len);
	puts_(b, key);
	puts_(b, " = ");
	put_value(b, pc, field, psk_file);
	puts_(b, eol);
}

/* ---- Add ---- */

int config_edit_add_peer(const char *text, size_t len, const struct peer_config *pc,
			 const char *psk_file, char **out, size_t *out_len)
{
	char pub[KEY_BASE64_LEN + 1];
	struct buf b = {0};
	struct doc d;
	bool is_set;
	int rc;

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if (field_value_check(pc, fields[f].field, psk_file, &is_set) != 0)
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
	key_to_base64(pub, pc->public_key);
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		field_value_check(pc, fields[f].field, psk_file, &is_set);
		if (is_set)
			put_key_line(&b, "", 0, fields[f].key, pc, fields[f].field, psk_file,
				     d.eol);
		if (fields[f].field == CONFIG_EDIT_NAME) {
			puts_(&b, "PublicKey = ");
			puts_(&b, pub);
			puts_(&b, d.eol);
		}
	}
	free(d.lines);
	return finish(&b, out, out_len);
}

/* ---- Set ---- */

/* What happens to one line of the section being changed. */
struct line_edit {
	bool drop;
	unsigned int field; /* rewrite its value to this field's (0: keep the line) */
};

/* Line i with its value replaced by field's (and an inline PresharedKey renamed). */
static void put_rewritten(struct buf *b, const struct doc *d, size_t i,
			  const struct peer_config *pc, unsigned int field, const char *psk_file)
{
	const struct ini_line *l = &d->lines[i];
	const char *s = d->text + l->off;
	size_t key_end = l->indent + l->key_len;

	put(b, s, l->indent);
	if (field == CONFIG_EDIT_PRESHARED_KEY && l->key_len == strlen("PresharedKey"))
		puts_(b, "PresharedKeyFile");
	else
		put(b, s + l->indent, l->key_len);
	if (l->value_len == 0) {
		/* "Key =" had no value: give the new one a blank after '='. */
		put(b, s + key_end, l->eq + 1 - key_end);
		puts_(b, " ");
	} else {
		put(b, s + key_end, l->value_off - key_end);
	}
	put_value(b, pc, field, psk_file);
	put(b, s + l->value_off + l->value_len, l->len + l->eol - l->value_off - l->value_len);
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
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if (missing & fields[f].field)
			put_key_line(b, indent, indent_len, fields[f].key, pc, fields[f].field,
				     psk_file, eol);
}

int config_edit_set_peer(const char *text, size_t len, const struct peer_config *pc,
			 unsigned int which, const char *psk_file, char **out, size_t *out_len)
{
	struct line_edit *edits = NULL;
	unsigned int missing = 0;
	struct buf b = {0};
	size_t h, end, last_key;
	struct doc d;
	bool is_set;
	int rc;

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if ((which & fields[f].field) &&
		    field_value_check(pc, fields[f].field, psk_file, &is_set) != 0)
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
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		bool seen = false;

		if (!(which & fields[f].field))
			continue;
		field_value_check(pc, fields[f].field, psk_file, &is_set);
		for (size_t i = h + 1; i < end; i++) {
			const struct ini_line *l = &d.lines[i];

			if (!key_is(&d, l, fields[f].key) &&
			    !(fields[f].alias && key_is(&d, l, fields[f].alias)))
				continue;
			if (is_set && !seen)
				edits[i - h].field = fields[f].field;
			else
				edits[i - h].drop = true;
			seen = true;
		}
		if (is_set && !seen)
			missing |= fields[f].field;
	}
	for (size_t i = 0; i < d.n; i++) {
		const struct line_edit *e = i > h && i < end ? &edits[i - h] : NULL;

		if (e && e->field)
			put_rewritten(&b, &d, i, pc, e->field, psk_file);
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
	rc = key ? find_peer(&d, key, &h) : find_expose(&d, name, &h);
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

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_ips(const struct peer_config *a, const struct peer_config *b)
{
	if (a->n_allowed_ips != b->n_allowed_ips)
		return false;
	for (size_t i = 0; i < a->n_allowed_ips; i++) {
		const struct ip_prefix *x = &a->allowed_ips[i], *y = &b->allowed_ips[i];

		if (x->family != y->family || x->cidr != y->cidr ||
		    memcmp(x->addr.bytes, y->addr.bytes, x->family == AF_INET ? 4 : 16) != 0)
			return false;
	}
	return true;
}

unsigned int config_edit_peer_diff(const struct peer_config *a, const struct peer_config *b)
{
	unsigned int diff = 0;

	if (!same_str(a->name, b->name))
		diff |= CONFIG_EDIT_NAME;
	if (a->has_preshared_key != b->has_preshared_key ||
	    (a->has_preshared_key && !crypto_memeq(a->preshared_key, b->preshared_key, KEY_LEN)))
		diff |= CONFIG_EDIT_PRESHARED_KEY;
	if (!same_ips(a, b))
		diff |= CONFIG_EDIT_ALLOWED_IPS;
	if (!same_str(a->endpoint_host, b->endpoint_host) || a->endpoint_port != b->endpoint_port)
		diff |= CONFIG_EDIT_ENDPOINT;
	if (a->persistent_keepalive_s != b->persistent_keepalive_s)
		diff |= CONFIG_EDIT_KEEPALIVE;
	return diff;
}

/* ---- Verify ---- */

static int because(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int because(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int cmp_peer_key(const void *a, const void *b)
{
	const struct peer_config *x = *(const struct peer_config *const *)a;
	const struct peer_config *y = *(const struct peer_config *const *)b;

	return memcmp(x->public_key, y->public_key, KEY_LEN);
}

/* cfg's peers but key's (all when key is NULL), sorted by public key (memcmp will do). */
static const struct peer_config **sorted_others(const struct iface_config *cfg,
						const uint8_t key[KEY_LEN], size_t *n)
{
	const struct peer_config **v = calloc(cfg->n_peers + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!key || memcmp(cfg->peers[i].public_key, key, KEY_LEN) != 0)
			v[(*n)++] = &cfg->peers[i];
	qsort(v, *n, sizeof(*v), cmp_peer_key);
	return v;
}

/*
 * Whether a and b have the same peers apart from key's (NULL: all); *line is the line in
 * a (or b) of the first that differs. Sorted, so that a file of thousands of
 * peers is checked in n log n. -ENOMEM when out of memory.
 */
static int others_same(const struct iface_config *a, const struct iface_config *b,
		       const uint8_t key[KEY_LEN], unsigned int *line)
{
	size_t na, nb, i;
	const struct peer_config **va = sorted_others(a, key, &na);
	const struct peer_config **vb = sorted_others(b, key, &nb);
	int rc = 0;

	if (!va || !vb) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < na && i < nb; i++) {
		if (!peer_config_same(va[i], vb[i])) {
			/* The one with the lower key is missing from the other, or both differ. */
			*line = cmp_peer_key(&va[i], &vb[i]) <= 0 ? va[i]->line : vb[i]->line;
			rc = -EINVAL;
			goto out;
		}
	}
	if (na != nb) {
		*line = i < na ? va[i]->line : vb[i]->line;
		rc = -EINVAL;
	}
out:
	free(va);
	free(vb);
	return rc;
}

/* The first error of diags, or "" . */
static void first_error(const struct diag_list *diags, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < diags->n; i++) {
		if (diags->items[i].severity == DIAG_ERROR) {
			diag_format(buf, len, &diags->items[i]);
			return;
		}
	}
}

/* Load the edited text; -EINVAL with why set to its first error when it does not load. */
static int load_after(const char *path, const char *after, size_t after_len,
		      struct iface_config **cfg, char *why, size_t why_len)
{
	struct diag_list diags = {0};
	char msg[512];
	int rc;

	rc = config_load_string(path, after, after_len, cfg, &diags);
	if (rc != 0) {
		first_error(&diags, msg, sizeof(msg));
		diag_list_clear(&diags);
		if (rc == -ENOMEM)
			return -ENOMEM;
		return because(why, why_len, "the edited file would not load: %s",
			       msg[0] ? msg : strerror(-rc));
	}
	diag_list_clear(&diags);
	return 0;
}

/*
 * Every [Interface] setting alike, those that a reload applies in place too
 * (which iface_config_same_interface() leaves out).
 */
static bool interface_same(const struct iface_config *a, const struct iface_config *b)
{
	return iface_config_same_interface(a, b) && a->has_listen_port == b->has_listen_port &&
	       a->listen_port == b->listen_port &&
	       a->expose_control_port == b->expose_control_port &&
	       a->has_expose_bind_address == b->has_expose_bind_address &&
	       (!a->has_expose_bind_address || sockaddr_equal(&a->expose_bind, &b->expose_bind)) &&
	       a->has_expose_grace == b->has_expose_grace &&
	       a->expose_grace_s == b->expose_grace_s &&
	       a->expose_max_connections == b->expose_max_connections &&
	       a->expose_max_per_source == b->expose_max_per_source &&
	       a->has_expose_idle_timeout == b->has_expose_idle_timeout &&
	       a->expose_idle_timeout_s == b->expose_idle_timeout_s &&
	       redirect_ports_same(a->redirects, a->n_redirects, b->redirects, b->n_redirects);
}

/* The checks of config_edit_verify() on the loaded result. */
static int check_edit(const struct iface_config *before, const struct iface_config *after,
		      const uint8_t key[KEY_LEN], const struct peer_config *pc, char *why,
		      size_t why_len)
{
	const struct peer_config *q = iface_config_find_peer_key(after, key);
	unsigned int line = 0;
	int rc;

	if (!interface_same(before, after))
		return because(why, why_len, "the edit would change [Interface]");
	rc = others_same(before, after, key, &line);
	if (rc == -EINVAL)
		return because(why, why_len, "the edit would change the [Peer] at line %u", line);
	if (rc != 0)
		return rc;
	if (pc && !q)
		return because(why, why_len, "the edited file would not have the peer");
	if (pc && !peer_config_same(q, pc))
		return because(why, why_len, "the peer would not read back as it runs (line %u)",
			       q->line);
	if (!pc && q)
		return because(why, why_len, "the edited file would still have the peer (line %u)",
			       q->line);
	return 0;
}

int config_edit_verify(const char *path, const struct iface_config *before, const char *after,
		       size_t after_len, const uint8_t key[static KEY_LEN],
		       const struct peer_config *pc, char *why, size_t why_len)
{
	struct iface_config *cfg;
	int rc = load_after(path, after, after_len, &cfg, why, why_len);

	if (rc != 0)
		return rc;
	rc = check_edit(before, cfg, key, pc, why, why_len);
	iface_config_free(cfg);
	return rc;
}

/* The checks of config_edit_verify_expose() on the loaded result. */
static int check_expose_edit(const struct iface_config *before, const struct iface_config *after,
			     const char *name, const struct expose_config *e, char *why,
			     size_t why_len)
{
	const struct expose_config *q = iface_config_find_expose(after, name);
	unsigned int line = 0;
	size_t kept = 0;
	int rc;

	if (!interface_same(before, after))
		return because(why, why_len, "the edit would change [Interface]");
	rc = others_same(before, after, NULL, &line);
	if (rc == -EINVAL)
		return because(why, why_len, "the edit would change the [Peer] at line %u", line);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < before->n_exposes; i++) {
		const struct expose_config *o = &before->exposes[i], *p;

		if (strcmp(o->name, name) == 0)
			continue;
		p = iface_config_find_expose(after, o->name);
		if (!p || !expose_config_same(o, p))
			return because(why, why_len,
				       "the edit would change the [Expose %s] at line %u", o->name,
				       o->line);
		kept++;
	}
	if (after->n_exposes != kept + (q ? 1 : 0))
		return because(why, why_len, "the edit would add another [Expose] section");
	if (e && !q)
		return because(why, why_len, "the edited file would not have [Expose %s]", name);
	if (e && !expose_config_same(q, e))
		return because(why, why_len, "[Expose %s] would not read back as it runs (line %u)",
			       name, q->line);
	if (!e && q)
		return because(why, why_len,
			       "the edited file would still have [Expose %s] (line %u)", name,
			       q->line);
	return 0;
}

int config_edit_verify_expose(const char *path, const struct iface_config *before,
			      const char *after, size_t after_len, const char *name,
			      const struct expose_config *e, char *why, size_t why_len)
{
	struct iface_config *cfg;
	int rc = load_after(path, after, after_len, &cfg, why, why_len);

	if (rc != 0)
		return rc;
	rc = check_expose_edit(before, cfg, name, e, why, why_len);
	iface_config_free(cfg);
	return rc;
}

/* ---- Replacing the file ---- */

static int failed_to(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "cannot <what>: <strerror>"; returns -err. */
static int failed_to(char *why, size_t len, int err, const char *fmt, ...)
{
	char what[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, len, "cannot %s: %s", what, strerror(err));
	return -err;
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int config_edit_write(const char *path, const char *text, size_t len, char *why, size_t why_len)
{
	char *copy = strdup(path), *dir, *tmp = NULL;
	struct stat st;
	int fd = -1, dfd, rc;

	if (!copy)
		return failed_to(why, why_len, ENOMEM, "save %s", path);
	dir = dirname(copy);
	if (stat(path, &st) != 0) {
		rc = failed_to(why, why_len, errno, "stat %s", path);
		goto out;
	}
	/* A dot name: never taken for an interface file, should it be left behind. */
	if (asprintf(&tmp, "%s/.%s.save-XXXXXX", dir,
		     strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		tmp = NULL;
		rc = failed_to(why, why_len, ENOMEM, "save %s", path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0) {
		rc = failed_to(why, why_len, errno, "create a temporary file in %s", dir);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* Owner first: fchown may clear mode bits that fchmod then sets. */
	if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) != 0) {
		rc = failed_to(why, why_len, errno, "give %s the owner and group of %s", tmp, path);
		goto out;
	}
	if (fchmod(fd, st.st_mode & 07777) != 0) {
		rc = failed_to(why, why_len, errno, "give %s the mode of %s", tmp, path);
		goto out;
	}
	rc = write_all(fd, text, len);
	if (rc != 0) {
		rc = failed_to(why, why_len, -rc, "write %s", tmp);
		goto out;
	}
	if (fsync(fd) != 0) {
		rc = failed_to(why, why_len, errno, "sync %s", tmp);
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		rc = failed_to(why, why_len, errno, "write %s", tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		rc = failed_to(why, why_len, errno, "rename %s to %s", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* The rename is done and visible; a failed directory sync only weakens it. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		log_warn("%s: saved, but syncing %s failed: %s", path, dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(copy);
	return rc;
}

/* ---- A save ---- */

static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0)
		return -errno;
	rc = config_read_fd(fd, text, len);
	close(fd);
	return rc;
}

/*
 * The start of every save: out->path, the file's text as it is on disk (it
 * must be what cfg was loaded from) and *before, that text loaded. 0, or
 * -errno with why set.
 */
static int save_begin(const struct iface_config *cfg, struct config_save *out, char **text,
		      size_t *len, struct iface_config **before, char *why, size_t why_len)
{
	struct diag_list diags = {0};
	uint8_t digest[CONFIG_DIGEST_LEN];
	char msg[512];
	int rc;

	memset(out, 0, sizeof(*out));
	out->path = realpath(cfg->path, NULL);
	if (!out->path)
		return failed_to(why, why_len, errno, "read %s", cfg->path);
	rc = read_file(out->path, text, len);
	if (rc != 0)
		return failed_to(why, why_len, -rc, "read %s", out->path);
	blake2s_hash(digest, *text, *len, NULL, 0);
	if (!crypto_memeq(digest, cfg->text_digest, sizeof(digest))) {
		snprintf(why, why_len,
			 "%s changed on disk since it was loaded; run tunctl reload first",
			 cfg->path);
		return -ESTALE;
	}
	rc = config_load_string(cfg->path, *text, *len, before, &diags);
	if (rc != 0) {
		first_error(&diags, msg, sizeof(msg));
		snprintf(why, why_len, "%s does not load as it is now: %s", cfg->path,
			 msg[0] ? msg : strerror(-rc));
	}
	diag_list_clear(&diags);
	return rc;
}

/* The end of every save: *rc from the edit; on success the digest of the new text. */
static int save_end(int rc, struct config_save *out, struct iface_config *before, char *text,
		    size_t len)
{
	if (rc == 0 && out->text)
		blake2s_hash(out->digest, out->text, out->len, NULL, 0);
	if (rc != 0)
		config_save_clear(out);
	iface_config_free(before);
	config_edit_free(text, len);
	return rc;
}

int config_save_prepare(const struct iface_config *cfg, const uint8_t key[static KEY_LEN],
			const struct peer_config *pc, const char *psk_file, struct config_save *out,
			char *why, size_t why_len)
{
	struct iface_config *before = NULL;
	const struct peer_config *fp;
	char *text = NULL;
	size_t len = 0;
	unsigned int which;
	int rc;

	rc = save_begin(cfg, out, &text, &len, &before, why, why_len);
	if (rc != 0)
		goto out;
	if (pc && pc->has_preshared_key && psk_file && !psk_file_ok(psk_file)) {
		snprintf(
			why, why_len,
			"PresharedKeyFile \"%s\" cannot be written into the file: it must be an absolute path without '#' or control characters",
			psk_file);
		rc = -EINVAL;
		goto out;
	}
	fp = iface_config_find_peer_key(before, key);
	which = pc && fp ? config_edit_peer_diff(fp, pc) : 0;
	if (pc && pc->has_preshared_key && psk_file)
		which |= CONFIG_EDIT_PRESHARED_KEY;
	if (pc && pc->has_preshared_key && !psk_file &&
	    (!fp || (which & CONFIG_EDIT_PRESHARED_KEY))) {
		snprintf(
			why, why_len,
			"a preshared key is saved only as PresharedKeyFile: give its file (tunctl --preshared-key-file)");
		rc = -EINVAL;
		goto out;
	}
	if (pc && fp)
		rc = which ? config_edit_set_peer(text, len, pc, which, psk_file, &out->text,
						  &out->len)
			   : 0;
	else if (pc)
		rc = config_edit_add_peer(text, len, pc, psk_file, &out->text, &out->len);
	else
		rc = fp ? config_edit_remove_peer(text, len, key, &out->text, &out->len) : 0;
	if (rc == -EINVAL) {
		snprintf(why, why_len, "a value of the peer cannot be written into the file");
		goto out;
	}
	if (rc != 0) {
		failed_to(why, why_len, -rc, "edit %s", cfg->path);
		goto out;
	}
	if (out->text) /* else the file says it already */
		rc = config_edit_verify(cfg->path, before, out->text, out->len, key, pc, why,
					why_len);
out:
	return save_end(rc, out, before, text, len);
}

int config_save_prepare_expose(const struct iface_config *cfg, const char *name,
			       const struct expose_config *e, struct config_save *out, char *why,
			       size_t why_len)
{
	struct iface_config *before = NULL;
	const struct expose_config *fe;
	const struct peer_config *pc;
	struct expose_config want = {0};
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = save_begin(cfg, out, &text, &len, &before, why, why_len);
	if (rc != 0)
		goto out;
	fe = iface_config_find_expose(before, name);
	if (e) {
		/* Its peer as the file names it: one added without --save is not there. */
		pc = e->peer ? iface_config_find_peer(before, e->peer) : NULL;
		if (!pc) {
			snprintf(why, why_len, "%s has no peer \"%s\" (one added without --save?)",
				 cfg->path, e->peer ? e->peer : "");
			rc = -ENOENT;
			goto out;
		}
		rc = expose_config_copy(&want, e);
		if (rc != 0)
			goto out;
		memcpy(want.peer_key, pc->public_key, KEY_LEN);
		if (!fe || !expose_config_same(fe, &want))
			rc = config_edit_put_expose(text, len, &want, &out->text, &out->len);
	} else if (fe) {
		rc = config_edit_remove_expose(text, len, name, &out->text, &out->len);
	}
	if (rc == -EINVAL) {
		snprintf(why, why_len, "a value of the service cannot be written into the file");
		goto out;
	}
	if (rc != 0) {
		failed_to(why, why_len, -rc, "edit %s", cfg->path);
		goto out;
	}
	if (out->text) /* else the file says it already */
		rc = config_edit_verify_expose(cfg->path, before, out->text, out->len, name,
					       e ? &want : NULL, why, why_len);
out:
	expose_config_clear(&want);
	return save_end(rc, out, before, text, len);
}

int config_save_commit(const struct config_save *s, struct iface_config *cfg, char *why,
		       size_t why_len)
{
	int rc;

	if (!s->text)
		return 0;
	rc = config_edit_write(s->path, s->text, s->len, why, why_len);
	if (rc == 0)
		memcpy(cfg->text_digest, s->digest, sizeof(s->digest));
	return rc;
}

void config_save_clear(struct config_save *s)
{
	free(s->path);
	config_edit_free(s->text, s->len);
	memset(s, 0, sizeof(*s));
}

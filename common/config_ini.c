// SPDX-License-Identifier: MIT
/*
 * Loading a wg-quick INI file: the lines as ini_lex.c reads them (the same
 * reader as the --save editor's), each key handed to its section's table
 * (config_ini_interface.c, config_ini_peer.c, config_ini_expose.c), then
 * the whole-file checks. Every message has a file and a line. As in
 * wg-quick: '#' comments anywhere, no continuation lines, repeated list keys
 * (AllowedIPs, Address, DNS) adding up; lines up to 64 KiB.
 */
#include "config_ini.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "ini_lex.h"

#define MAX_FILE_BYTES (64 << 20)

static const char *const section_names[] = {
	[SEC_NONE] = "",	 [SEC_INTERFACE] = "Interface", [SEC_PEER] = "Peer",
	[SEC_EXPOSE] = "Expose", [SEC_UNKNOWN] = "?",
};

/* The keys of [Interface] and [Expose]; the order gives each its slot in loader.seen. */
static const struct key_table *const tables[] = {
	&config_ini_interface_keys,
	&config_ini_expose_keys,
};

/* ---- Helpers for every part ---- */

void config_ini_err(struct loader *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(l->diags, DIAG_ERROR, l->path, l->line, "%s", msg);
}

void config_ini_warn(struct loader *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(l->diags, DIAG_WARNING, l->path, l->line, "%s", msg);
}

bool config_ini_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out <= max;
}

int config_ini_for_each_item(struct loader *l, const char *key, const char *value,
			     int (*fn)(struct loader *, const char *, char *))
{
	char *copy = strdup(value), *save = NULL, *tok;
	int rc = 0;

	if (!copy) {
		l->oom = true;
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = ini_trim(tok);
		if (*tok && fn(l, key, tok) != 0)
			rc = -1;
	}
	free(copy);
	return rc;
}

void *config_ini_grow(struct loader *l, void *arr, size_t n, size_t size)
{
	void *p = realloc(arr, (n + 1) * size);

	if (!p)
		l->oom = true;
	return p;
}

int config_ini_push_string(struct loader *l, char ***arr, size_t *n, const char *s)
{
	char **v = config_ini_grow(l, *arr, *n, sizeof(**arr));
	char *copy;

	if (!v)
		return -1;
	*arr = v;
	copy = strdup(s);
	if (!copy) {
		l->oom = true;
		return -1;
	}
	v[(*n)++] = copy;
	return 0;
}

bool config_ini_parse_ip(const char *s, union sockaddr_inet *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->in.sin_addr) == 1) {
		out->in.sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		return true;
	}
	return false;
}

void config_ini_report(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *msg)
{
	struct loader *l = ctx->arg;

	diag_add(l->diags, sev, l->path, l->line, "%s", msg);
}

int config_ini_read_key_file(struct loader *l, const char *key, const char *value,
			     uint8_t out[KEY_LEN])
{
	struct peer_setting_ctx ctx = {
		.label = key, .dir = l->dir, .report = config_ini_report, .arg = l};

	return peer_settings_read_key_file(value, out, &ctx);
}

/* ---- Sections ---- */

static void start_section(struct loader *l, const char *text, const struct ini_line *ln,
			  const char *name)
{
	const char *arg;
	size_t arg_len;

	memset(l->seen, 0, sizeof(l->seen));
	if (l->peers_only && !(ini_lex_section_is(text, ln, "Peer", NULL, &arg_len) && !arg_len)) {
		config_ini_err(l, "[%s] in a list of peers; it has only [Peer] sections", name);
		l->section = SEC_UNKNOWN;
		return;
	}
	if (ini_lex_section_is(text, ln, "Interface", NULL, &arg_len) && !arg_len) {
		/* wg-quick would merge them; two are a mistake (two files pasted together?). */
		if (l->interface_line) {
			config_ini_err(
				l,
				"a second [Interface]; the first is at line %u, and a file has one",
				l->interface_line);
			l->section = SEC_UNKNOWN;
			return;
		}
		l->section = SEC_INTERFACE;
		l->interface_line = l->line;
		return;
	}
	if (ini_lex_section_is(text, ln, "Peer", NULL, &arg_len) && !arg_len) {
		struct peer_config *peers;
		unsigned int *lines;

		if (iface_config_reserve_peer(l->cfg) == 0) {
			peers = l->cfg->peers;
		} else {
			peers = NULL;
			l->oom = true;
		}
		/* As large as cfg->peers (which grows by doubling), not one entry more a peer. */
		lines = l->peer_key_line;
		if (peers && l->cap_key_lines < l->cfg->cap_peers) {
			lines = realloc(l->peer_key_line, l->cfg->cap_peers * sizeof(*lines));
			if (lines) {
				l->peer_key_line = lines;
				l->cap_key_lines = l->cfg->cap_peers;
			} else {
				l->oom = true;
			}
		}
		if (!peers || !lines) {
			l->section = SEC_UNKNOWN;
			return;
		}
		memset(&peers[l->cfg->n_peers], 0, sizeof(*peers));
		peers[l->cfg->n_peers].line = l->line;
		lines[l->cfg->n_peers] = 0;
		l->cfg->n_peers++;
		l->section = SEC_PEER;
		l->psk_line = 0;
		return;
	}
	if (ini_lex_section_is(text, ln, "Expose", &arg, &arg_len)) {
		/* name is the line's name copied: the argument at the same offset */
		config_ini_start_expose(l, name + (arg - (text + ln->off + ln->name_off)));
		return;
	}
	config_ini_err(l, "unknown section [%s]; expected [Interface], [Peer] or [Expose NAME]",
		       name);
	l->section = SEC_UNKNOWN;
}

/* ---- Lines ---- */

/* A key of a section: a parser of a table, or a peer setting. */
struct key_ref {
	const char *name; /* its canonical spelling */
	bool is_list;
	size_t slot; /* in loader.seen */
	const struct key_handler *h;
	const struct peer_setting *setting;
};

static bool find_key(enum section section, const char *name, struct key_ref *k)
{
	size_t slot = 0;

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < tables[t]->n; i++, slot++) {
			const struct key_handler *h = &tables[t]->keys[i];

			if (h->section == section && strcasecmp(h->name, name) == 0) {
				*k = (struct key_ref){h->name, h->is_list, slot, h, NULL};
				return true;
			}
		}
	}
	for (size_t i = 0; section == SEC_PEER && i < peer_settings_count; i++) {
		const struct peer_setting *s = &peer_settings[i];

		if (strcasecmp(s->file_key, name) == 0) {
			*k = (struct key_ref){s->file_key, s->is_list, slot + i, NULL, s};
			return true;
		}
	}
	return false;
}

/* A key line of the current section, to the parser its table names. */
static void handle_key(struct loader *l, const char *name, const char *value)
{
	struct key_ref k;

	if (l->section == SEC_UNKNOWN)
		return; /* already reported */
	if (l->section == SEC_NONE) {
		config_ini_err(
			l, "\"%s\" is outside any section; expected [Interface] or [Peer] first",
			name);
		return;
	}
	if (!find_key(l->section, name, &k)) {
		config_ini_err(l, "unknown key \"%s\" in [%s]", name, section_names[l->section]);
		return;
	}
	assert(k.slot < LOADER_MAX_KEYS);
	if (!k.is_list) {
		if (l->seen[k.slot])
			config_ini_warn(
				l, "%s is set again (first at line %u); the last value is used",
				k.name, l->seen[k.slot]);
		else
			l->seen[k.slot] = l->line;
	}
	if (!*value && !k.is_list) {
		config_ini_err(l, "%s: expected a value", k.name);
		return;
	}
	if (k.setting)
		config_ini_peer_key(l, k.setting, value);
	else
		k.h->parse(l, k.name, value);
}

/* The bytes [off, off + len) of line s into l->buf at at, NUL-terminated. */
static char *copy_out(struct loader *l, const char *s, size_t off, size_t len, size_t at)
{
	memcpy(l->buf + at, s + off, len);
	l->buf[at + len] = '\0';
	return l->buf + at;
}

/* Room in l->buf for the parts of a line of len bytes (a key and a value, each with a NUL). */
static bool reserve_buf(struct loader *l, size_t len)
{
	char *p;

	if (len + 2 <= l->buf_cap)
		return true;
	p = malloc(len + 2);
	if (!p) {
		l->oom = true;
		return false;
	}
	if (l->buf) {
		crypto_wipe(l->buf, l->buf_cap);
		free(l->buf);
	}
	l->buf = p;
	l->buf_cap = len + 2;
	return true;
}

static void report_problem(struct loader *l, const char *s, const struct ini_line *ln)
{
	switch (ln->problem) {
	case INI_NUL:
		config_ini_err(l, "line contains a NUL byte");
		break;
	case INI_TOO_LONG:
		config_ini_err(l, "line is longer than %d bytes", INI_MAX_LINE);
		break;
	case INI_CONTROL:
		config_ini_err(l, "line contains a control character (byte 0x%02x)", ln->bad_byte);
		break;
	case INI_BAD_SECTION:
		config_ini_err(l, "expected a section header like [Peer]");
		l->section = SEC_UNKNOWN;
		break;
	case INI_NO_EQUALS:
		config_ini_err(l, "expected \"Key = Value\", a [Section] or a comment");
		break;
	default:
		config_ini_err(l, "\"%.64s\" is not a key name",
			       copy_out(l, s, ln->indent, ln->key_len, 0));
		break;
	}
}

static void load_line(struct loader *l, const char *text, const struct ini_line *ln)
{
	const char *s = text + ln->off;
	char *key;

	if (!reserve_buf(l, ln->len))
		return;
	if (ln->problem != INI_OK) {
		report_problem(l, s, ln);
	} else if (ln->kind == INI_SECTION) {
		start_section(l, text, ln, copy_out(l, s, ln->name_off, ln->name_len, 0));
	} else if (ln->kind == INI_KEY) {
		key = copy_out(l, s, ln->indent, ln->key_len, 0);
		handle_key(l, key, copy_out(l, s, ln->value_off, ln->value_len, ln->key_len + 1));
	}
}

static void load_lines(struct loader *l, const char *text, size_t len)
{
	struct ini_line ln;
	size_t pos = 0;

	while (!l->oom && ini_lex_next(text, len, &pos, &ln)) {
		l->line++;
		load_line(l, text, &ln);
	}
}

/* ---- Whole-file checks ---- */

static void check_file(struct loader *l)
{
	struct iface_config *c = l->cfg;
	uint8_t own_public[KEY_LEN];
	bool has_public = false;

	if (l->peers_only) {
		/* no [Interface]: the daemon refuses the interface's own key */
	} else if (!l->interface_line) {
		diag_add(l->diags, DIAG_ERROR, l->path, 0, "no [Interface] section");
	} else if (!c->has_private_key) {
		diag_add(l->diags, DIAG_ERROR, l->path, l->interface_line,
			 "[Interface] has no PrivateKey or PrivateKeyFile");
	} else {
		uint8_t priv[KEY_LEN];

		memcpy(priv, c->private_key, KEY_LEN);
		curve25519_clamp(priv);
		has_public = curve25519_public_from_private(own_public, priv) == 0;
		crypto_wipe(priv, sizeof(priv));
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		c->n_expose_peers += c->peers[i].n_allow_expose > 0;
		if (!l->peer_key_line[i])
			diag_add(l->diags, DIAG_ERROR, l->path, c->peers[i].line,
				 "[Peer] has no PublicKey");
		else if (has_public && memcmp(c->peers[i].public_key, own_public, KEY_LEN) == 0)
			diag_add(l->diags, DIAG_ERROR, l->path, l->peer_key_line[i],
				 "PublicKey: this is the interface's own public key");
	}
	config_ini_check_duplicates(l);
	config_ini_check_exposes(l);
}

/* ---- Entry points ---- */

static int load(struct loader *l, const char *text, size_t len, struct iface_config **out)
{
	size_t errors_before = l->diags->n_errors;
	char *copy, *base, *dot;

	l->cfg = calloc(1, sizeof(*l->cfg));
	copy = strdup(l->path);
	if (!l->cfg || !copy || !(l->cfg->path = strdup(l->path))) {
		free(copy);
		iface_config_free(l->cfg);
		return -ENOMEM;
	}
	base = basename(copy);
	dot = strrchr(base, '.');
	if (dot && strcmp(dot, ".conf") == 0)
		*dot = '\0';
	if (!l->peers_only && !config_iface_name_valid(base))
		diag_add(
			l->diags, DIAG_ERROR, l->path, 0,
			"\"%s\" is not a valid interface name (1-15 of A-Z a-z 0-9 _ = + . -); rename the file",
			base);
	snprintf(l->cfg->name, sizeof(l->cfg->name), "%s", base);
	free(copy);

	load_lines(l, text, len);
	if (!l->oom)
		check_file(l);
	if (l->oom)
		diag_add(l->diags, DIAG_ERROR, l->path, 0, "out of memory");

	if (l->buf) {
		crypto_wipe(l->buf, l->buf_cap);
		free(l->buf);
	}
	free(l->peer_key_line);
	free(l->expose_lines);
	if (l->diags->n_errors > errors_before) {
		iface_config_free(l->cfg);
		return -EINVAL;
	}
	*out = l->cfg;
	return 0;
}

static char *dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

_Static_assert(CONFIG_DIGEST_LEN == BLAKE2S_HASH_LEN, "the text digest is a BLAKE2s-256 hash");

/* Load text, and remember its digest: --save checks it before editing the file. */
static int load_text(struct loader *l, const char *text, size_t len, struct iface_config **out)
{
	int rc;

	l->dir = dir_of(l->path);
	if (!l->dir)
		return -ENOMEM;
	rc = load(l, text, len, out);
	if (rc == 0)
		blake2s_hash((*out)->text_digest, text, len, NULL, 0);
	free(l->dir);
	return rc;
}

int config_read_fd(int fd, char **text, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t got;

	while (buf) {
		if (n + 1 == cap) {
			if (cap >= MAX_FILE_BYTES) {
				crypto_wipe(buf, n);
				free(buf);
				return -EFBIG;
			}
			bigger = malloc(cap * 2);
			if (bigger)
				memcpy(bigger, buf, n);
			crypto_wipe(buf, n);
			free(buf);
			buf = bigger;
			cap *= 2;
			continue;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int rc = -errno;

			crypto_wipe(buf, n);
			free(buf);
			return rc;
		}
		if (got == 0) {
			buf[n] = '\0';
			*text = buf;
			*len = n;
			return 0;
		}
		n += (size_t)got;
	}
	return -ENOMEM;
}

int config_load_file(const char *path, struct iface_config **out, struct diag_list *diags)
{
	struct loader l = {.path = path, .diags = diags};
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		diag_add(diags, DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	/* Read once, parse those bytes: the digest is of exactly what was loaded. */
	rc = fstat(fd, &st) == 0 ? config_read_fd(fd, &text, &len) : -errno;
	close(fd);
	if (rc != 0) {
		if (rc == -EFBIG)
			diag_add(diags, DIAG_ERROR, path, 0, "the file is larger than %d MiB",
				 MAX_FILE_BYTES >> 20);
		else
			diag_add(diags, DIAG_ERROR, path, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	rc = load_text(&l, text, len, out);
	if (rc == 0 && l.has_inline_secret && config_mode_exposed(&st))
		diag_add(
			diags, DIAG_WARNING, path, 0,
			"contains a private or preshared key and is readable by group or others (mode %04o); run chmod 600 on it",
			(unsigned int)(st.st_mode & 07777));
	crypto_wipe(text, len);
	free(text);
	return rc;
}

int config_load_string(const char *path, const char *text, size_t len, struct iface_config **out,
		       struct diag_list *diags)
{
	struct loader l = {.path = path, .diags = diags};

	*out = NULL;
	return load_text(&l, text, len, out);
}

int config_load_peers_string(const char *path, const char *text, size_t len,
			     struct iface_config **out, struct diag_list *diags)
{
	struct loader l = {.path = path, .diags = diags, .peers_only = true};

	*out = NULL;
	return load_text(&l, text, len, out);
}

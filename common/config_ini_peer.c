// SPDX-License-Identifier: MIT
/*
 * The [Peer] keys of an interface file, read with the table of peer
 * settings (peer_settings.c), and what only a file has: a preshared key
 * given once (inline or from a file, not both), where each peer's
 * PublicKey, AllowExpose and AllowExposeFrom were; and the whole-file check
 * that no two peers share a key, a Name or an allowed IP.
 */
#include "config_ini.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "peer_settings.h"

static bool is_psk(const struct peer_setting *s)
{
	return s->id == PEER_SETTING_PRESHARED_KEY || s->id == PEER_SETTING_PRESHARED_KEY_FILE;
}

/* Before the value is parsed; false when the line is refused. */
static bool before_value(struct loader *l, const struct peer_setting *s)
{
	struct peer_config *pc = cur_peer(l);
	bool from_file = s->id == PEER_SETTING_PRESHARED_KEY_FILE;

	/* As for the private key: repeating one key warns, the last wins; mixing is an error. */
	if (is_psk(s) && l->psk_line && l->psk_from_file != from_file) {
		config_ini_err(
			l,
			"%s: the preshared key is already set at line %u; use PresharedKey or PresharedKeyFile, not both",
			s->file_key, l->psk_line);
		return false;
	}
	if (s->id == PEER_SETTING_ALLOW_EXPOSE && !pc->allow_expose_line)
		pc->allow_expose_line = l->line;
	if (s->id == PEER_SETTING_ALLOW_EXPOSE_FROM && !pc->expose_from_line)
		pc->expose_from_line = l->line;
	return true;
}

/* After a value was taken: where it was, and whether the file holds a secret. */
static void after_value(struct loader *l, const struct peer_setting *s)
{
	if (s->id == PEER_SETTING_PUBLIC_KEY)
		l->peer_key_line[l->cfg->n_peers - 1] = l->line;
	if (is_psk(s)) {
		l->psk_line = l->line;
		l->psk_from_file = s->id == PEER_SETTING_PRESHARED_KEY_FILE;
		if (!l->psk_from_file)
			l->has_inline_secret = true;
	}
}

void config_ini_peer_key(struct loader *l, const struct peer_setting *s, const char *value)
{
	struct peer_setting_ctx ctx = {
		.label = s->file_key, .dir = l->dir, .report = config_ini_report, .arg = l};

	if (!before_value(l, s))
		return;
	if (s->parse(cur_peer(l), value, &ctx) == 0)
		after_value(l, s);
	if (ctx.oom)
		l->oom = true;
}

/* ---- Whole-file checks ---- */

struct sort_item {
	const uint8_t *key; /* or prefix bytes */
	const char *name;
	const struct ip_prefix *prefix;
	size_t peer;
};

static int cmp_key(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c = memcmp(x->key, y->key, KEY_LEN);

	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

static int cmp_name(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c = (int)x->prefix->family - (int)y->prefix->family;

	if (!c)
		c = (int)x->prefix->cidr - (int)y->prefix->cidr;
	if (!c)
		c = memcmp(x->prefix->addr.bytes, y->prefix->addr.bytes, 16);
	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

/* Duplicate keys and names are errors; a prefix on two peers goes to the later, as in wg. */
void config_ini_check_duplicates(struct loader *l)
{
	struct iface_config *c = l->cfg;
	struct sort_item *items;
	size_t n = 0, total = 0;

	for (size_t i = 0; i < c->n_peers; i++)
		total += c->peers[i].n_allowed_ips;
	items = calloc((total > c->n_peers ? total : c->n_peers) + 1, sizeof(*items));
	if (!items) {
		l->oom = true;
		return;
	}
	for (size_t i = 0; i < c->n_peers; i++)
		if (l->peer_key_line[i])
			items[n++] = (struct sort_item){.key = c->peers[i].public_key, .peer = i};
	qsort(items, n, sizeof(*items), cmp_key);
	for (size_t i = 1; i < n; i++)
		if (memcmp(items[i].key, items[i - 1].key, KEY_LEN) == 0)
			diag_add(
				l->diags, DIAG_ERROR, l->path, l->peer_key_line[items[i].peer],
				"duplicate peer: this PublicKey is already used by the [Peer] at line %u",
				c->peers[items[i - 1].peer].line);

	n = 0;
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].name)
			items[n++] = (struct sort_item){.name = c->peers[i].name, .peer = i};
	qsort(items, n, sizeof(*items), cmp_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(items[i].name, items[i - 1].name) == 0)
			diag_add(l->diags, DIAG_ERROR, l->path, c->peers[items[i].peer].line,
				 "duplicate Name \"%s\": already used by the [Peer] at line %u",
				 items[i].name, c->peers[items[i - 1].peer].line);

	n = 0;
	for (size_t i = 0; i < c->n_peers; i++)
		for (size_t j = 0; j < c->peers[i].n_allowed_ips; j++)
			items[n++] = (struct sort_item){.prefix = &c->peers[i].allowed_ips[j],
							.peer = i};
	qsort(items, n, sizeof(*items), cmp_prefix);
	for (size_t i = 1; i < n; i++) {
		char buf[ADDR_STR_LEN];

		if (items[i].peer == items[i - 1].peer ||
		    cmp_prefix(&(struct sort_item){.prefix = items[i].prefix},
			       &(struct sort_item){.prefix = items[i - 1].prefix}) != 0)
			continue;
		diag_add(l->diags, DIAG_WARNING, l->path, c->peers[items[i].peer].line,
			 "AllowedIPs: %s is also in the [Peer] at line %u; this later peer gets it",
			 prefix_format(buf, sizeof(buf), items[i].prefix),
			 c->peers[items[i - 1].peer].line);
	}
	free(items);
}

// SPDX-License-Identifier: MIT
/*
 * The [Peer] keys of an interface file, and the whole-file check that no two
 * peers share a key, a Name or an allowed IP.
 */
#include "config_ini.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_public_key(struct loader *l, const char *key, const char *value)
{
	const char *why;

	if (key_from_base64(cur_peer(l)->public_key, value, &why) != 0) {
		config_ini_err(l, "%s: \"%s\" %s", key, value, why);
		return -1;
	}
	l->peer_key_line[l->cfg->n_peers - 1] = l->line;
	return 0;
}

static int set_psk(struct loader *l, const char *key, const char *value, bool from_file)
{
	struct peer_config *pc = cur_peer(l);
	const char *why;

	/* As for the private key: repeating one key warns, the last wins; mixing is an error. */
	if (l->psk_line && l->psk_from_file != from_file) {
		config_ini_err(
			l,
			"%s: the preshared key is already set at line %u; use PresharedKey or PresharedKeyFile, not both",
			key, l->psk_line);
		return -1;
	}
	if (from_file) {
		if (config_ini_read_key_file(l, key, value, pc->preshared_key) != 0)
			return -1;
	} else if (key_from_base64(pc->preshared_key, value, &why) != 0) {
		config_ini_err(l, "%s: the key %s", key, why);
		return -1;
	} else {
		l->has_inline_secret = true;
	}
	pc->has_preshared_key = true;
	l->psk_line = l->line;
	l->psk_from_file = from_file;
	return 0;
}

static int parse_psk(struct loader *l, const char *key, const char *value)
{
	return set_psk(l, key, value, false);
}

static int parse_psk_file(struct loader *l, const char *key, const char *value)
{
	return set_psk(l, key, value, true);
}

static int add_allowed_ip(struct loader *l, const char *key, char *item)
{
	struct peer_config *pc = cur_peer(l);
	struct ip_prefix p, *arr;
	const char *why;
	bool host_bits;

	if (prefix_parse(item, &p, &host_bits, &why) != 0) {
		config_ini_err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	if (host_bits) {
		char buf[ADDR_STR_LEN];

		prefix_mask(&p);
		config_ini_warn(l, "%s: \"%s\" has host bits set; using %s", key, item,
				prefix_format(buf, sizeof(buf), &p));
	}
	arr = config_ini_grow(l, pc->allowed_ips, pc->n_allowed_ips, sizeof(*arr));
	if (!arr)
		return -1;
	pc->allowed_ips = arr;
	arr[pc->n_allowed_ips++] = p;
	return 0;
}

static int parse_allowed_ips(struct loader *l, const char *key, const char *value)
{
	return config_ini_for_each_item(l, key, value, add_allowed_ip);
}

static int parse_endpoint(struct loader *l, const char *key, const char *value)
{
	struct peer_config *pc = cur_peer(l);
	char host[256];
	const char *why;
	uint16_t port;

	if (endpoint_split(value, host, sizeof(host), &port, &why) != 0) {
		config_ini_err(l, "%s: \"%s\": %s", key, value, why);
		return -1;
	}
	free(pc->endpoint_host);
	pc->endpoint_host = strdup(host);
	if (!pc->endpoint_host) {
		l->oom = true;
		return -1;
	}
	pc->endpoint_port = port;
	return 0;
}

static int parse_keepalive(struct loader *l, const char *key, const char *value)
{
	unsigned long v = 0;

	if (strcasecmp(value, "off") != 0 && !config_ini_parse_uint(value, 65535, &v)) {
		config_ini_err(l, "%s: \"%s\": expected off or a number of seconds 1-65535", key,
			       value);
		return -1;
	}
	cur_peer(l)->persistent_keepalive_s = (uint16_t)v;
	return 0;
}

static int parse_name(struct loader *l, const char *key, const char *value)
{
	struct peer_config *pc = cur_peer(l);
	size_t len = strlen(value);

	if (len == 0 || len > 32 ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    len) {
		config_ini_err(l, "%s: \"%s\": expected 1-32 characters of A-Z a-z 0-9 . _ -", key,
			       value);
		return -1;
	}
	free(pc->name);
	pc->name = strdup(value);
	if (!pc->name) {
		l->oom = true;
		return -1;
	}
	return 0;
}

static int add_allow_expose(struct loader *l, const char *key, char *item)
{
	struct peer_config *pc = cur_peer(l);
	struct port_range r, *arr;
	const char *why;

	if (port_range_parse(item, &r, &why) != 0) {
		config_ini_err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	arr = config_ini_grow(l, pc->allow_expose, pc->n_allow_expose, sizeof(*arr));
	if (!arr)
		return -1;
	pc->allow_expose = arr;
	arr[pc->n_allow_expose++] = r;
	return 0;
}

static int parse_allow_expose(struct loader *l, const char *key, const char *value)
{
	if (!cur_peer(l)->allow_expose_line)
		cur_peer(l)->allow_expose_line = l->line;
	return config_ini_for_each_item(l, key, value, add_allow_expose);
}

/* One address of AllowExposeFrom: a host, written without a prefix or as /32, /128. */
static int add_expose_from(struct loader *l, const char *key, char *item)
{
	struct peer_config *pc = cur_peer(l);
	struct ip_prefix p, *arr;
	bool host_bits = false;

	if (prefix_parse(item, &p, &host_bits, NULL) != 0 ||
	    p.cidr != (p.family == AF_INET ? 32 : 128)) {
		config_ini_err(
			l,
			"%s: \"%s\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
			key, item);
		return -1;
	}
	arr = config_ini_grow(l, pc->expose_from, pc->n_expose_from, sizeof(*arr));
	if (!arr)
		return -1;
	pc->expose_from = arr;
	arr[pc->n_expose_from++] = p;
	return 0;
}

static int parse_expose_from(struct loader *l, const char *key, const char *value)
{
	if (!cur_peer(l)->expose_from_line)
		cur_peer(l)->expose_from_line = l->line;
	return config_ini_for_each_item(l, key, value, add_expose_from);
}

static const struct key_handler keys[] = {
	{SEC_PEER, "PublicKey", false, parse_public_key},
	{SEC_PEER, "PresharedKey", false, parse_psk},
	{SEC_PEER, "PresharedKeyFile", false, parse_psk_file},
	{SEC_PEER, "AllowedIPs", true, parse_allowed_ips},
	{SEC_PEER, "Endpoint", false, parse_endpoint},
	{SEC_PEER, "PersistentKeepalive", false, parse_keepalive},
	{SEC_PEER, "Name", false, parse_name},
	{SEC_PEER, "AllowExpose", true, parse_allow_expose},
	{SEC_PEER, "AllowExposeFrom", true, parse_expose_from},
};

const struct key_table config_ini_peer_keys = {keys, sizeof(keys) / sizeof(keys[0])};

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

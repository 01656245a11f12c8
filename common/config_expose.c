// SPDX-License-Identifier: MIT
/*
 * Localhost-tunnel configuration: port ranges (AllowExpose), service names,
 * and copying and comparing [Expose] entries. No I/O.
 */
#include "config_expose.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A decimal port 1-65535 at *s; advances *s past it. */
static int parse_port(const char **s, uint16_t *out, const char **why)
{
	unsigned long v = 0;
	const char *p = *s;

	if (!isdigit((unsigned char)*p)) {
		*why = "expected a port or a range of ports such as 8000-8099";
		return -EINVAL;
	}
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			break;
		p++;
	}
	if (v == 0 || v > 65535) {
		*why = "a port is 1-65535";
		return -EINVAL;
	}
	*out = (uint16_t)v;
	*s = p;
	return 0;
}

int port_range_parse(const char *s, struct port_range *out, const char **why)
{
	const char *dummy, *p = skip_blanks(s);
	struct port_range r;

	if (!why)
		why = &dummy;
	if (parse_port(&p, &r.first, why) != 0)
		return -EINVAL;
	p = skip_blanks(p);
	r.last = r.first;
	if (*p == '-') {
		p = skip_blanks(p + 1);
		if (parse_port(&p, &r.last, why) != 0)
			return -EINVAL;
		p = skip_blanks(p);
	}
	if (*p) {
		*why = "expected a port or a range of ports such as 8000-8099";
		return -EINVAL;
	}
	if (r.last < r.first) {
		*why = "the range ends before it begins";
		return -EINVAL;
	}
	*out = r;
	return 0;
}

bool port_ranges_contain(const struct port_range *r, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (port >= r[i].first && port <= r[i].last)
			return true;
	return false;
}

char *port_ranges_format(char *buf, size_t len, const struct port_range *r, size_t n)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int w;

		if (r[i].first == r[i].last)
			w = snprintf(buf + used, len - used, "%s%u", i ? ", " : "", r[i].first);
		else
			w = snprintf(buf + used, len - used, "%s%u-%u", i ? ", " : "", r[i].first,
				     r[i].last);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

bool expose_name_valid(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= EXPOSE_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		       len;
}

void expose_config_clear(struct expose_config *e)
{
	free(e->peer);
	memset(e, 0, sizeof(*e));
}

int expose_config_copy(struct expose_config *dst, const struct expose_config *src)
{
	*dst = *src;
	dst->peer = NULL;
	if (src->peer && !(dst->peer = strdup(src->peer))) {
		expose_config_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

bool expose_config_same(const struct expose_config *a, const struct expose_config *b)
{
	bool same_server = a->has_server_address == b->has_server_address;

	if (same_server && a->has_server_address)
		same_server = a->server_address.family == b->server_address.family &&
			      memcmp(a->server_address.addr.bytes, b->server_address.addr.bytes,
				     a->server_address.family == AF_INET ? 4 : 16) == 0;
	return strcmp(a->name, b->name) == 0 && crypto_memeq(a->peer_key, b->peer_key, KEY_LEN) &&
	       sockaddr_equal(&a->local, &b->local) && a->public_port == b->public_port &&
	       a->proxy_protocol == b->proxy_protocol && same_server;
}

const struct expose_config *iface_config_find_expose(const struct iface_config *cfg,
						     const char *name)
{
	for (size_t i = 0; i < cfg->n_exposes; i++)
		if (strcmp(cfg->exposes[i].name, name) == 0)
			return &cfg->exposes[i];
	return NULL;
}

int iface_config_put_expose(struct iface_config *cfg, const struct expose_config *e)
{
	struct expose_config copy, *ne;

	if (expose_config_copy(&copy, e) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_exposes; i++) {
		if (strcmp(cfg->exposes[i].name, e->name) == 0) {
			expose_config_clear(&cfg->exposes[i]);
			cfg->exposes[i] = copy;
			return 0;
		}
	}
	ne = realloc(cfg->exposes, (cfg->n_exposes + 1) * sizeof(*ne));
	if (!ne) {
		expose_config_clear(&copy);
		return -ENOMEM;
	}
	cfg->exposes = ne;
	cfg->exposes[cfg->n_exposes++] = copy;
	return 0;
}

int iface_config_drop_expose(struct iface_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_exposes; i++) {
		if (strcmp(cfg->exposes[i].name, name) != 0)
			continue;
		expose_config_clear(&cfg->exposes[i]);
		memmove(&cfg->exposes[i], &cfg->exposes[i + 1],
			(cfg->n_exposes - i - 1) * sizeof(*cfg->exposes));
		cfg->n_exposes--;
		return 0;
	}
	return -ENOENT;
}

const struct ip_prefix *expose_config_default_server(const struct iface_config *cfg,
						     const struct peer_config *pc)
{
	/* A single-host entry of a family the interface has an address of. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < pc->n_allowed_ips; i++) {
			const struct ip_prefix *p = &pc->allowed_ips[i];
			bool own_family = pass == 1;

			if (p->cidr != (p->family == AF_INET ? 32 : 128))
				continue;
			for (size_t j = 0; j < cfg->n_addresses && !own_family; j++)
				own_family = cfg->addresses[j].family == p->family;
			if (own_family)
				return p;
		}
	}
	return NULL;
}

const struct peer_config *iface_config_route_owner(const struct iface_config *cfg,
						   const struct ip_prefix *addr)
{
	const struct peer_config *owner = NULL;
	int best = -1;

	/* ">=": of two equal entries the later peer's wins, as in the allowed-IPs table. */
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *pc = &cfg->peers[i];

		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			const struct ip_prefix *p = &pc->allowed_ips[j];

			if ((int)p->cidr >= best &&
			    prefix_contains(p, addr->family, addr->addr.bytes)) {
				best = p->cidr;
				owner = pc;
			}
		}
	}
	return owner;
}

static bool is_host(const struct ip_prefix *p)
{
	return p->cidr == (p->family == AF_INET ? 32 : 128);
}

const struct ip_prefix *expose_config_client_address(const struct peer_config *pc,
						     sa_family_t family, size_t i)
{
	size_t n = 0;

	if (pc->n_expose_from) {
		for (size_t j = 0; j < pc->n_expose_from; j++)
			if (pc->expose_from[j].family == family && n++ == i)
				return &pc->expose_from[j];
		return NULL;
	}
	/* Without AllowExposeFrom: the first host entry of the family, and only that one. */
	for (size_t j = 0; i == 0 && j < pc->n_allowed_ips; j++)
		if (pc->allowed_ips[j].family == family && is_host(&pc->allowed_ips[j]))
			return &pc->allowed_ips[j];
	return NULL;
}

bool expose_config_client_allowed(const struct peer_config *pc, sa_family_t family,
				  const void *addr)
{
	const struct ip_prefix *p;

	for (size_t i = 0; (p = expose_config_client_address(pc, family, i)); i++)
		if (memcmp(p->addr.bytes, addr, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

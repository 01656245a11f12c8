// SPDX-License-Identifier: MIT
/*
 * The localhost tunnels' keys of an interface file (docs/localhost-tunnels.md):
 * the Expose* and RedirectToLocalhost keys of [Interface], the [Expose NAME]
 * sections, and the whole-file checks that tie a service to its server peer
 * and a peer's AllowExposeFrom to its AllowedIPs. The [Peer] keys
 * AllowExpose and AllowExposeFrom are read with the other [Peer] keys.
 */
#include "config_ini.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_port_key(struct loader *l, const char *key, const char *value, uint16_t *out)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, 65535, &v) || v == 0) {
		config_ini_err(l, "%s: \"%s\": expected a port number 1-65535", key, value);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int parse_expose_control_port(struct loader *l, const char *key, const char *value)
{
	return parse_port_key(l, key, value, &l->cfg->expose_control_port);
}

static int parse_expose_bind_address(struct loader *l, const char *key, const char *value)
{
	if (!config_ini_parse_ip(value, &l->cfg->expose_bind)) {
		config_ini_err(
			l, "%s: \"%s\": expected an IP address such as 0.0.0.0, :: or 203.0.113.1",
			key, value);
		return -1;
	}
	l->cfg->has_expose_bind_address = true;
	return 0;
}

static int parse_expose_grace(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, 86400, &v)) {
		config_ini_err(l, "%s: \"%s\": expected a number of seconds 0-86400", key, value);
		return -1;
	}
	l->cfg->expose_grace_s = (uint32_t)v;
	l->cfg->has_expose_grace = true;
	return 0;
}

static int parse_expose_max_connections(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, 1000000, &v) || v == 0) {
		config_ini_err(l, "%s: \"%s\": expected a number 1-1000000", key, value);
		return -1;
	}
	l->cfg->expose_max_connections = (uint32_t)v;
	return 0;
}

static int parse_expose_max_per_source(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, 1000000, &v) || v == 0) {
		config_ini_err(l, "%s: \"%s\": expected a number 1-1000000", key, value);
		return -1;
	}
	l->cfg->expose_max_per_source = (uint32_t)v;
	return 0;
}

static int parse_expose_idle_timeout(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, EXPOSE_IDLE_TIMEOUT_MAX_S, &v)) {
		config_ini_err(l, "%s: \"%s\": expected a number of seconds 0-%d (0: never)", key,
			       value, EXPOSE_IDLE_TIMEOUT_MAX_S);
		return -1;
	}
	l->cfg->expose_idle_timeout_s = (uint32_t)v;
	l->cfg->has_expose_idle_timeout = true;
	return 0;
}

static int add_redirect(struct loader *l, const char *key, char *item)
{
	struct redirect_ports r, *arr;
	const char *why;

	if (redirect_ports_parse(item, &r, &why) != 0) {
		config_ini_err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	arr = config_ini_grow(l, l->cfg->redirects, l->cfg->n_redirects, sizeof(*arr));
	if (!arr)
		return -1;
	l->cfg->redirects = arr;
	arr[l->cfg->n_redirects++] = r;
	return 0;
}

static int parse_redirect(struct loader *l, const char *key, const char *value)
{
	return config_ini_for_each_item(l, key, value, add_redirect);
}

static int parse_local_port(struct loader *l, const char *key, const char *value)
{
	uint16_t port;

	if (parse_port_key(l, key, value, &port) != 0)
		return -1;
	if (cur_expose(l)->local.sa.sa_family == AF_INET6)
		cur_expose(l)->local.in6.sin6_port = htons(port);
	else
		cur_expose(l)->local.in.sin_port = htons(port);
	cur_expose_lines(l)->local_port = l->line;
	return 0;
}

static int parse_local_address(struct loader *l, const char *key, const char *value)
{
	struct expose_config *e = cur_expose(l);
	uint16_t port =
		e->local.sa.sa_family == AF_INET6 ? e->local.in6.sin6_port : e->local.in.sin_port;

	if (!config_ini_parse_ip(value, &e->local)) {
		config_ini_err(l, "%s: \"%s\": expected an IP address such as 127.0.0.1 or ::1",
			       key, value);
		return -1;
	}
	if (e->local.sa.sa_family == AF_INET6)
		e->local.in6.sin6_port = port;
	else
		e->local.in.sin_port = port;
	return 0;
}

static int parse_expose_peer(struct loader *l, const char *key, const char *value)
{
	struct expose_config *e = cur_expose(l);

	free(e->peer);
	e->peer = strdup(value);
	if (!e->peer) {
		l->oom = true;
		return -1;
	}
	cur_expose_lines(l)->peer = l->line;
	(void)key;
	return 0;
}

static int parse_public_port(struct loader *l, const char *key, const char *value)
{
	if (parse_port_key(l, key, value, &cur_expose(l)->public_port) != 0)
		return -1;
	cur_expose_lines(l)->public_port = l->line;
	return 0;
}

static int parse_proxy_protocol(struct loader *l, const char *key, const char *value)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
										    "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
			cur_expose(l)->proxy_protocol = strcasecmp(value, yes[i]) == 0;
			return 0;
		}
	}
	config_ini_err(l, "%s: \"%s\": expected yes or no", key, value);
	return -1;
}

static int parse_server_address(struct loader *l, const char *key, const char *value)
{
	struct expose_config *e = cur_expose(l);
	const char *why = NULL;

	if (strchr(value, '/') || prefix_parse(value, &e->server_address, NULL, &why) != 0) {
		config_ini_err(l,
			       "%s: \"%s\": expected the server's tunnel address, such as 10.0.0.1",
			       key, value);
		return -1;
	}
	e->has_server_address = true;
	cur_expose_lines(l)->server_address = l->line;
	return 0;
}

static const struct key_handler keys[] = {
	{SEC_INTERFACE, "ExposeControlPort", false, parse_expose_control_port},
	{SEC_INTERFACE, "ExposeBindAddress", false, parse_expose_bind_address},
	{SEC_INTERFACE, "ExposeGracePeriod", false, parse_expose_grace},
	{SEC_INTERFACE, "ExposeMaxConnections", false, parse_expose_max_connections},
	{SEC_INTERFACE, "ExposeMaxConnectionsPerSource", false, parse_expose_max_per_source},
	{SEC_INTERFACE, "ExposeIdleTimeout", false, parse_expose_idle_timeout},
	{SEC_INTERFACE, "RedirectToLocalhost", true, parse_redirect},
	{SEC_EXPOSE, "LocalPort", false, parse_local_port},
	{SEC_EXPOSE, "LocalAddress", false, parse_local_address},
	{SEC_EXPOSE, "Peer", false, parse_expose_peer},
	{SEC_EXPOSE, "PublicPort", false, parse_public_port},
	{SEC_EXPOSE, "ProxyProtocol", false, parse_proxy_protocol},
	{SEC_EXPOSE, "ServerAddress", false, parse_server_address},
};

const struct key_table config_ini_expose_keys = {keys, sizeof(keys) / sizeof(keys[0])};

/* [Expose NAME]: one published service. */
void config_ini_start_expose(struct loader *l, const char *name)
{
	struct expose_config *arr;
	struct expose_lines *lines;

	if (!expose_name_valid(name)) {
		config_ini_err(
			l,
			"\"%.64s\" is not a service name: expected [Expose NAME], NAME 1-%d of A-Z a-z 0-9 . _ -",
			name, EXPOSE_NAME_MAX);
		l->section = SEC_UNKNOWN;
		return;
	}
	arr = config_ini_grow(l, l->cfg->exposes, l->cfg->n_exposes, sizeof(*arr));
	if (arr)
		l->cfg->exposes = arr;
	lines = config_ini_grow(l, l->expose_lines, l->cfg->n_exposes, sizeof(*lines));
	if (lines)
		l->expose_lines = lines;
	if (!arr || !lines) {
		l->section = SEC_UNKNOWN;
		return;
	}
	memset(&arr[l->cfg->n_exposes], 0, sizeof(*arr));
	memset(&lines[l->cfg->n_exposes], 0, sizeof(*lines));
	arr[l->cfg->n_exposes].line = l->line;
	snprintf(arr[l->cfg->n_exposes].name, sizeof(arr->name), "%s", name);
	arr[l->cfg->n_exposes].local.in.sin_family = AF_INET;
	arr[l->cfg->n_exposes].local.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->cfg->n_exposes++;
	l->section = SEC_EXPOSE;
}

/* ---- Whole-file checks ---- */

static uint16_t local_port(const struct expose_config *e)
{
	return ntohs(e->local.sa.sa_family == AF_INET6 ? e->local.in6.sin6_port
						       : e->local.in.sin_port);
}

/* Same peer and public port as an earlier [Expose]: its header line, else 0. */
static unsigned int public_port_taken(const struct iface_config *c, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (c->exposes[j].public_port == c->exposes[i].public_port &&
		    memcmp(c->exposes[j].peer_key, c->exposes[i].peer_key, KEY_LEN) == 0)
			return c->exposes[j].line;
	return 0;
}

/* One [Expose]: the keys it needs, its peer, the server's tunnel address. */
static bool check_expose(struct loader *l, size_t i)
{
	struct iface_config *c = l->cfg;
	struct expose_config *e = &c->exposes[i];
	const struct expose_lines *ln = &l->expose_lines[i];
	const struct peer_config *pc;
	char buf[ADDR_STR_LEN];

	for (size_t j = 0; j < i; j++) {
		if (strcmp(c->exposes[j].name, e->name) == 0) {
			diag_add(l->diags, DIAG_ERROR, l->path, e->line,
				 "duplicate [Expose %s]: already at line %u", e->name,
				 c->exposes[j].line);
			return false;
		}
	}
	if (!ln->local_port)
		diag_add(l->diags, DIAG_ERROR, l->path, e->line,
			 "[Expose %s] has no LocalPort (the port of the local service)", e->name);
	else if (!ln->public_port)
		e->public_port = local_port(e);
	if (!ln->peer) {
		diag_add(l->diags, DIAG_ERROR, l->path, e->line,
			 "[Expose %s] has no Peer (the Name or PublicKey of the server's [Peer])",
			 e->name);
		return false;
	}
	pc = iface_config_find_peer(c, e->peer);
	if (!pc) {
		diag_add(l->diags, DIAG_ERROR, l->path, ln->peer,
			 "Peer: \"%s\": no [Peer] has this Name or PublicKey", e->peer);
		return false;
	}
	memcpy(e->peer_key, pc->public_key, KEY_LEN);
	if (e->has_server_address) {
		const struct peer_config *owner = iface_config_route_owner(c, &e->server_address);

		if (owner != pc) {
			prefix_format_addr(buf, sizeof(buf), &e->server_address);
			if (owner)
				diag_add(
					l->diags, DIAG_ERROR, l->path, ln->server_address,
					"ServerAddress: %s goes to the [Peer] at line %u (a longer AllowedIPs entry), not to peer %s",
					buf, owner->line, e->peer);
			else
				diag_add(l->diags, DIAG_ERROR, l->path, ln->server_address,
					 "ServerAddress: %s is not in the AllowedIPs of peer %s",
					 buf, e->peer);
			return false;
		}
	}
	if (!e->has_server_address && !expose_config_default_server(c, pc)) {
		diag_add(
			l->diags, DIAG_ERROR, l->path, e->line,
			"[Expose %s]: peer %s has no single-address AllowedIPs entry (/32 or /128); set ServerAddress to the server's tunnel address",
			e->name, e->peer);
		return false;
	}
	return true;
}

static void check_services(struct loader *l)
{
	struct iface_config *c = l->cfg;

	for (size_t i = 0; i < c->n_exposes; i++) {
		struct expose_config *e = &c->exposes[i];
		unsigned int other;

		if (!check_expose(l, i) || !e->public_port)
			continue;
		other = public_port_taken(c, i);
		if (other)
			diag_add(
				l->diags, DIAG_ERROR, l->path,
				l->expose_lines[i].public_port ? l->expose_lines[i].public_port
							       : e->line,
				"PublicPort %u through peer %s is already asked for by the [Expose] at line %u",
				e->public_port, e->peer, other);
	}
}

/*
 * A peer's AllowExposeFrom, or the address it stands for: the peer's own
 * tunnel address, from which alone it may open localhost-tunnel control
 * sessions here (not from the hosts behind it that its AllowedIPs route).
 */
static void check_expose_from(struct loader *l, const struct peer_config *pc)
{
	char buf[ADDR_STR_LEN];

	if (pc->n_expose_from && !pc->n_allow_expose)
		diag_add(l->diags, DIAG_WARNING, l->path, pc->expose_from_line,
			 "AllowExposeFrom has no effect without AllowExpose");
	for (size_t i = 0; i < pc->n_expose_from; i++) {
		const struct peer_config *owner =
			iface_config_route_owner(l->cfg, &pc->expose_from[i]);

		if (owner == pc)
			continue;
		prefix_format_addr(buf, sizeof(buf), &pc->expose_from[i]);
		if (owner)
			diag_add(
				l->diags, DIAG_ERROR, l->path, pc->expose_from_line,
				"AllowExposeFrom: %s goes to the [Peer] at line %u (a longer AllowedIPs entry), not to this peer",
				buf, owner->line);
		else
			diag_add(l->diags, DIAG_ERROR, l->path, pc->expose_from_line,
				 "AllowExposeFrom: %s is not in this peer's AllowedIPs", buf);
	}
	if (pc->n_allow_expose && !pc->n_expose_from &&
	    !expose_config_client_address(pc, AF_INET, 0) &&
	    !expose_config_client_address(pc, AF_INET6, 0))
		diag_add(
			l->diags, DIAG_ERROR, l->path, pc->allow_expose_line,
			"AllowExpose: the peer has no single-address AllowedIPs entry (/32 or /128) to publish from; set AllowExposeFrom to its own tunnel address");
}

void config_ini_check_exposes(struct loader *l)
{
	check_services(l);
	for (size_t i = 0; i < l->cfg->n_peers; i++)
		check_expose_from(l, &l->cfg->peers[i]);
}

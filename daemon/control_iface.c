// SPDX-License-Identifier: MIT
/*
 * The interface commands of the control socket: status, show (its
 * arguments; control.c streams the reply), reload, up, down, create,
 * delete, log-level, and
 * the JSON of an interface and a peer that status and show print.
 */
#include "control_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "diag_json.h"
#include "expose.h"
#include "iface.h"
#include "key.h"
#include "list.h"
#include "log.h"
#include "nat.h"
#include "peer.h"
#include "reload.h"
#include "service.h"
#include "uapi_server.h"

/* ---- Text ---- */

static bool textbuf_reserve(struct textbuf *b, size_t len)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (b->cap - b->len >= len)
		return true;
	for (cap = b->cap ? b->cap : 4096; cap - b->len < len; cap *= 2)
		;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void textbuf_put(struct textbuf *b, const char *text, size_t len)
{
	if (!textbuf_reserve(b, len))
		return;
	memcpy(b->data + b->len, text, len);
	b->len += len;
}

void textbuf_free(struct textbuf *b)
{
	free(b->data);
	*b = (struct textbuf){0};
}

#define PUT_LITERAL(b, s) textbuf_put((b), (s), sizeof(s) - 1)

/* A signed integer as jansson writes a json_int_t. */
static void put_int(struct textbuf *b, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	textbuf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * A JSON string as jansson writes one: '"' and '\\' escaped, control
 * characters as \b \f \n \r \t or \u00XX, every other byte as it is.
 */
static void put_string(struct textbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s;

	PUT_LITERAL(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = {'\\', 0, '0', '0', 0, 0};
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		textbuf_put(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		textbuf_put(b, esc, n);
	}
	textbuf_put(b, run, (size_t)(s - run));
	PUT_LITERAL(b, "\"");
}

static void put_string_or_null(struct textbuf *b, const char *s)
{
	if (s)
		put_string(b, s);
	else
		PUT_LITERAL(b, "null");
}

/* ---- Results ---- */

void peer_json_write(struct textbuf *b, const struct peer *peer, const struct peer_config *pc)
{
	char key[KEY_BASE64_LEN + 1], ep[ADDR_STR_LEN], buf[INET6_ADDRSTRLEN + 8];

	key_to_base64(key, peer->public_key);
	PUT_LITERAL(b, "{\"public_key\":");
	put_string(b, key);
	PUT_LITERAL(b, ",\"name\":");
	put_string_or_null(b, peer->name);
	PUT_LITERAL(b, ",\"endpoint\":");
	put_string_or_null(b, peer->has_endpoint
				      ? sockaddr_format(ep, sizeof(ep), &peer->endpoint.addr)
				      : NULL);
	PUT_LITERAL(b, ",\"allowed_ips\":[");
	for (size_t i = 0; pc && i < pc->n_allowed_ips; i++) {
		if (i)
			PUT_LITERAL(b, ",");
		put_string(b, prefix_format(buf, sizeof(buf), &pc->allowed_ips[i]));
	}
	PUT_LITERAL(b, "],\"latest_handshake\":");
	put_int(b, (long long)peer->last_handshake_wall.tv_sec);
	PUT_LITERAL(b, ",\"rx_bytes\":");
	put_int(b, (long long)peer->rx_bytes);
	PUT_LITERAL(b, ",\"tx_bytes\":");
	put_int(b, (long long)peer->tx_bytes);
	PUT_LITERAL(b, ",\"persistent_keepalive\":");
	put_int(b, (long long)peer->persistent_keepalive_s);
	if (peer->has_preshared_key)
		PUT_LITERAL(b, ",\"preshared_key\":true");
	else
		PUT_LITERAL(b, ",\"preshared_key\":false");
	/* Endpoint = NAME:PORT, which "endpoint" follows (peer_dns.h). */
	if (peer->dns.is_name && peer->endpoint_host) {
		char hostport[300];

		snprintf(hostport, sizeof(hostport), "%s:%u", peer->endpoint_host,
			 peer->endpoint_port);
		PUT_LITERAL(b, ",\"endpoint_name\":");
		put_string(b, hostport);
	}
	PUT_LITERAL(b, "}");
}

/*
 * An interface's fields; with detail, also what show adds beyond status.
 * Peers are not here: show streams them (show_continue).
 */
json_t *iface_json(const struct iface *iface, bool detail)
{
	char key[KEY_BASE64_LEN + 1] = "";
	json_t *obj;

	if (iface->local.has_identity)
		key_to_base64(key, iface->local.static_public);
	obj = json_pack("{s:s,s:s?,s:i,s:I,s:I,s:s?}", "name", iface->name, "public_key",
			iface->local.has_identity ? key : NULL, "listen_port", (int)iface->udp.port,
			"fwmark", (json_int_t)iface->cfg->fwmark, "peer_count",
			(json_int_t)iface->n_peers, "file", iface->cfg->path);
	/* show's fields beyond status's go here */
	if (detail) {
		json_object_set_new(obj, "resolve_interval",
				    json_integer(iface_config_resolve_interval(iface->cfg)));
		expose_show(iface->expose, obj);
		nat_show(iface->nat, obj);
	}
	return obj;
}

int cmd_status(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err)
{
	json_t *ifaces = json_array();
	struct iface *iface;

	(void)args;
	(void)err;
	list_for_each(iface, &env->daemon->ifaces, node)
		json_array_append_new(ifaces, iface_json(iface, false));
	*result = json_pack("{s:s,s:I,s:o}", "version", TUND_VERSION, "uptime",
			    (json_int_t)(clock_now_s() - env->daemon->started_s), "interfaces",
			    ifaces);
	return 0;
}

/*
 * show is streamed (show_start): this only checks the arguments and returns
 * what to stream, {"interface": NAME} or {} for every interface.
 */
int cmd_show(const struct control_env *env, json_t *args, json_t **result,
	     struct cmd_error *err)
{
	struct iface *iface = NULL;

	if (arg_string(args, "interface") && !(iface = need_iface(env, args, err)))
		return -1;
	*result = iface ? json_pack("{s:s}", "interface", iface->name) : json_object();
	return 0;
}

int cmd_reload(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err)
{
	struct diag_list diags = {0};
	json_t *changes = json_array(), *list;
	int rc;

	(void)args;
	rc = reload_run(env->daemon, env->service, &diags, changes);
	list = diag_list_to_json(&diags);
	diag_list_clear(&diags);
	if (rc < 0) {
		json_decref(changes);
		json_decref(list);
		return fail(err, "failed", "cannot read the configuration directory: %s",
			    strerror(-rc));
	}
	*result = json_pack("{s:o,s:o,s:i}", "changes", changes, "diagnostics", list, "failures",
			    rc);
	return 0;
}

/* args.interface, a valid interface name whether or not it is up. */
static int need_iface_name(json_t *args, const char **name, struct cmd_error *err)
{
	if (need_string(args, "interface", name, err) != 0)
		return -1;
	if (!config_iface_name_valid(*name))
		return fail(err, "invalid_argument", "\"%.32s\" is not an interface name", *name);
	return 0;
}

int cmd_up(const struct control_env *env, json_t *args, json_t **result,
	   struct cmd_error *err)
{
	struct diag_list diags = {0};
	json_t *changes;
	const char *name = NULL;
	char first[512] = "";
	int rc;

	if (need_iface_name(args, &name, err) != 0)
		return -1;
	changes = json_array();
	rc = daemon_up(env->daemon, name, &diags, changes);
	daemon_log_diags(&diags);
	for (size_t i = 0; i < diags.n && !first[0]; i++)
		if (diags.items[i].severity == DIAG_ERROR)
			diag_format(first, sizeof(first), &diags.items[i]);
	diag_list_clear(&diags);
	if (rc == 0) {
		service_ready(env->service, env->daemon);
		*result = json_pack("{s:s,s:o}", "interface", name, "changes", changes);
		return 0;
	}
	json_decref(changes);
	if (rc == -EEXIST && !daemon_find_iface(env->daemon, name)->cfg->path)
		return fail(err, "exists",
			    "%s exists without a file (created by tund-wg); delete it first "
			    "(tunctl delete %s, or ip link del %s)",
			    name, name, name);
	if (rc == -EEXIST)
		return fail(err, "exists", "%s is up already", name);
	if (rc == -ENOENT)
		return fail(err, "not_found", "no file %s/%s.conf", env->daemon->config_dir, name);
	if (rc == -EINVAL && first[0])
		return fail(err, "invalid_config", "%s", first);
	return fail(err, "failed", "%s did not come up: %s (the daemon's log says why)", name,
		    strerror(-rc));
}

int cmd_down(const struct control_env *env, json_t *args, json_t **result,
	     struct cmd_error *err)
{
	const char *name = NULL;
	json_t *changes;
	int rc;

	if (need_iface_name(args, &name, err) != 0)
		return -1;
	changes = json_array();
	rc = daemon_down(env->daemon, name, changes);
	if (rc != 0) {
		json_decref(changes);
		if (rc == -ENOENT)
			return fail(err, "not_found", "no interface %s is up", name);
		return fail(err, "failed", "cannot take %s down: %s", name, strerror(-rc));
	}
	service_ready(env->service, env->daemon);
	*result = json_pack("{s:s,s:o}", "interface", name, "changes", changes);
	return 0;
}

int cmd_create(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err)
{
	const char *name = NULL;
	struct iface *iface;
	char path[256];
	json_t *changes;
	int rc;

	if (need_iface_name(args, &name, err) != 0)
		return -1;
	iface = daemon_find_iface(env->daemon, name);
	if (iface && !iface->cfg->path)
		return fail(err, "exists", "%s exists already (created by tund-wg)", name);
	if (iface)
		return fail(err, "exists", "%s exists already, from %s", name, iface->cfg->path);
	if (if_nametoindex(name) != 0)
		return fail(err, "exists", "a network device %s exists already", name);
	snprintf(path, sizeof(path), "%s/%s.conf", env->daemon->config_dir, name);
	if (access(path, F_OK) == 0)
		return fail(err, "exists", "%s has a file, %s: tunctl up %s brings it up", name, path,
			    name);
	changes = json_array();
	rc = daemon_create_fileless(env->daemon, name, changes);
	if (rc != 0) {
		json_decref(changes);
		return fail(err, "failed", "cannot create %s: %s (the daemon's log says why)", name,
			    strerror(-rc));
	}
	service_status(env->service, env->daemon);
	iface = daemon_find_iface(env->daemon, name);
	if (!iface || !uapi_server_path(iface)) {
		/* Made for wg to configure: without its socket it is of no use. */
		json_decref(changes);
		if (iface)
			daemon_down(env->daemon, name, NULL);
		service_status(env->service, env->daemon);
		return fail(err, "failed", "cannot serve %s's UAPI socket for wg (the daemon's log "
			    "says why); not created", name);
	}
	*result = json_pack("{s:s,s:o,s:s}", "interface", name, "changes", changes, "uapi_socket",
			    uapi_server_path(iface));
	return 0;
}

int cmd_delete(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err)
{
	const char *name = NULL;
	struct iface *iface;
	json_t *changes;

	if (need_iface_name(args, &name, err) != 0)
		return -1;
	iface = daemon_find_iface(env->daemon, name);
	if (!iface)
		return fail(err, "not_found", "no interface %s is up", name);
	if (iface->cfg->path)
		return fail(err, "invalid_argument",
			    "%s has a file, %s: tunctl down %s takes it down", name,
			    iface->cfg->path, name);
	changes = json_array();
	(void)daemon_down(env->daemon, name, changes);
	service_status(env->service, env->daemon);
	*result = json_pack("{s:s,s:o}", "interface", name, "changes", changes);
	return 0;
}

int cmd_log_level(const struct control_env *env, json_t *args, json_t **result,
		  struct cmd_error *err)
{
	enum log_level level;
	const char *s = NULL;

	(void)env;
	if (need_string(args, "level", &s, err) != 0)
		return -1;
	if (log_level_parse(s, &level) != 0)
		return fail(err, "invalid_argument", "\"%s\": expected error, warn, info or debug", s);
	log_set_level(level);
	log_info("log level set to %s", log_level_name(level));
	*result = json_pack("{s:s}", "level", log_level_name(level));
	return 0;
}

// SPDX-License-Identifier: MIT
/* The control server; see control.h and docs/control-protocol.md. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <grp.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "allowedips.h"
#include "clock.h"
#include "config.h"
#include "config_edit.h"
#include "control_proto.h"
#include "crypto.h"
#include "daemon.h"
#include "diag_json.h"
#include "expose.h"
#include "iface.h"
#include "jsonmem.h"
#include "key.h"
#include "list.h"
#include "log.h"
#include "nat.h"
#include "peer.h"
#include "peer_settings.h"
#include "service.h"
#include "util.h"

#define MAX_CLIENTS      128
#define CLIENT_TIMEOUT_S 30.0 /* no progress for this long: the client is dropped */
/* Past this much unsent output, stop reading the client's requests. */
#define OUTPUT_HIGH_WATER (1024 * 1024)
/* show writes its reply in pieces of about this size, each when the last is sent. */
#define SHOW_CHUNK (64 * 1024)

struct control {
	struct ev_loop *loop;
	struct daemon *daemon;
	struct service *service;
	int fd;
	ev_io accept_watcher;
	char *path; /* set when we created the socket file, to remove it */
	bool has_group;
	gid_t group;
	struct list_head clients;
	size_t n_clients;
};

struct client {
	struct list_head node;
	struct control *ctl;
	int fd;
	ev_io read_watcher, write_watcher;
	ev_timer timeout;
	bool may_write; /* root or the control group */
	bool closing; /* EOF or a line too long: close once the lines before are answered */
	char in[CONTROL_MAX_REQUEST];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	/*
	 * A show reply being streamed: interfaces in name order, each one's peers
	 * in creation (id) order, resumed by name and id after each piece, so
	 * interfaces and peers may come and go in between.
	 */
	struct {
		bool active;
		bool one;             /* only the interface named in iface */
		bool in_iface;        /* iface's "peers" array is open */
		char iface[IFNAMSIZ]; /* the interface being, or last, written */
		uint64_t next_peer;   /* the id of its first peer not written yet */
		size_t n_ifaces, n_peers; /* written so far, for the commas */
	} show;
};

struct cmd_error {
	const char *code;
	char message[512];
};

static int fail(struct cmd_error *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cmd_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- Arguments ---- */

static const char *arg_string(json_t *args, const char *name)
{
	json_t *v = json_object_get(args, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int need_string(json_t *args, const char *name, const char **out, struct cmd_error *err)
{
	json_t *v = json_object_get(args, name);

	if (!json_is_string(v))
		return fail(err, "invalid_argument", "\"%s\" must be a string", name);
	*out = json_string_value(v);
	return 0;
}

static struct iface *need_iface(struct control *ctl, json_t *args, struct cmd_error *err)
{
	const char *name = NULL;
	struct iface *iface;

	if (need_string(args, "interface", &name, err) != 0)
		return NULL;
	iface = daemon_find_iface(ctl->daemon, name);
	if (!iface)
		fail(err, "not_found", "no interface \"%s\" is up", name);
	return iface;
}

/* PEER is a Name= or a public key. */
static const struct peer_config *need_peer(struct iface *iface, json_t *args,
					   struct cmd_error *err)
{
	const struct peer_config *pc;
	const char *id = NULL;

	if (need_string(args, "peer", &id, err) != 0)
		return NULL;
	pc = iface_config_find_peer(iface->cfg, id);
	if (!pc)
		fail(err, "not_found", "%s has no peer \"%s\"", iface->name, id);
	return pc;
}

/*
 * Apply the optional peer fields of args onto pc (peer_settings_apply_json():
 * name, allowed_ips, endpoint, persistent_keepalive, preshared_key; "" or
 * null removes the last three), with the file's checks. *warnings gets the
 * messages of values taken with a change (host bits masked), or NULL.
 */
static int apply_peer_args(struct iface *iface, json_t *args, struct peer_config *pc,
			   json_t **warnings, struct cmd_error *err)
{
	struct peer_apply_result r;

	*warnings = NULL;
	if (peer_settings_apply_json(iface->cfg, args, pc, &r) != 0) {
		json_decref(r.warnings);
		return fail(err, r.code, "%s", r.message);
	}
	*warnings = r.warnings;
	return 0;
}

/* ---- Results ---- */

static json_t *peer_json(const struct peer *peer, const struct peer_config *pc)
{
	char key[KEY_BASE64_LEN + 1], ep[ADDR_STR_LEN], buf[INET6_ADDRSTRLEN + 8];
	json_t *ips = json_array();

	key_to_base64(key, peer->public_key);
	for (size_t i = 0; pc && i < pc->n_allowed_ips; i++)
		json_array_append_new(ips, json_string(prefix_format(buf, sizeof(buf),
								     &pc->allowed_ips[i])));
	return json_pack("{s:s,s:s?,s:s?,s:o,s:I,s:I,s:I,s:i,s:b}", "public_key", key, "name",
			 peer->name, "endpoint",
			 peer->has_endpoint ? sockaddr_format(ep, sizeof(ep), &peer->endpoint.addr)
					    : NULL,
			 "allowed_ips", ips, "latest_handshake",
			 (json_int_t)peer->last_handshake_wall.tv_sec, "rx_bytes",
			 (json_int_t)peer->rx_bytes, "tx_bytes", (json_int_t)peer->tx_bytes,
			 "persistent_keepalive", (int)peer->persistent_keepalive_s,
			 "preshared_key", peer->has_preshared_key);
}

/*
 * An interface's fields; with detail, also what show adds beyond status.
 * Peers are not here: show streams them (show_continue).
 */
static json_t *iface_json(const struct iface *iface, bool detail)
{
	char key[KEY_BASE64_LEN + 1] = "";
	json_t *obj;

	if (iface->local.has_identity)
		key_to_base64(key, iface->local.static_public);
	obj = json_pack("{s:s,s:s?,s:i,s:I,s:I}", "name", iface->name, "public_key",
			iface->local.has_identity ? key : NULL, "listen_port", (int)iface->udp.port,
			"fwmark", (json_int_t)iface->cfg->fwmark, "peer_count",
			(json_int_t)iface->n_peers);
	/* show's fields beyond status's go here */
	if (detail) {
		expose_show(iface->expose, obj);
		nat_show(iface->nat, obj);
	}
	return obj;
}

/* ---- Commands ---- */

static int cmd_status(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *ifaces = json_array();
	struct iface *iface;

	(void)args;
	(void)err;
	list_for_each(iface, &ctl->daemon->ifaces, node)
		json_array_append_new(ifaces, iface_json(iface, false));
	*result = json_pack("{s:s,s:I,s:o}", "version", TUND_VERSION, "uptime",
			    (json_int_t)(clock_now_s() - ctl->daemon->started_s), "interfaces",
			    ifaces);
	return 0;
}

/*
 * show is streamed (show_start): this only checks the arguments and returns
 * what to stream, {"interface": NAME} or {} for every interface.
 */
static int cmd_show(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	struct iface *iface = NULL;

	if (arg_string(args, "interface") && !(iface = need_iface(ctl, args, err)))
		return -1;
	*result = iface ? json_pack("{s:s}", "interface", iface->name) : json_object();
	return 0;
}

/* Apply pc to the running interface and record it in iface->cfg. */
static int commit_peer(struct iface *iface, const struct peer_config *pc, struct cmd_error *err)
{
	int rc = iface_apply_peer(iface, pc, clock_now_s(), NULL);

	if (rc == -EINVAL)
		return fail(err, "invalid_argument", "that is %s's own public key", iface->name);
	if (rc != 0)
		return fail(err, "failed", "cannot apply the peer: %s", strerror(-rc));
	if (iface_config_put_peer(iface->cfg, pc) != 0)
		return fail(err, "failed", "out of memory");
	return 0;
}

/* Whether args ask for --save: 1, 0, or -1 when "save" is not a boolean. */
static int save_wanted(json_t *args, struct cmd_error *err)
{
	json_t *save = json_object_get(args, "save");

	if (!save || json_is_false(save))
		return 0;
	if (!json_is_true(save))
		return fail(err, "invalid_argument", "\"save\" must be true or false");
	return 1;
}

/*
 * --save, before anything changes: with "save": true in args, prepare the
 * interface file's text for the peer of key becoming pc (NULL: removed), or
 * refuse. Without it s is left empty.
 */
static int save_prepare(struct iface *iface, json_t *args, const uint8_t key[static KEY_LEN],
			const struct peer_config *pc, struct config_save *s, struct cmd_error *err)
{
	const char *psk_file = NULL;
	char why[480];
	json_t *v;
	int want;

	memset(s, 0, sizeof(*s));
	if ((want = save_wanted(args, err)) <= 0)
		return want;
	v = json_object_get(args, "preshared_key_file");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return fail(err, "invalid_argument",
				    "\"preshared_key_file\" must be an absolute path");
		psk_file = json_string_value(v);
	}
	if (config_save_prepare(iface->cfg, key, pc, psk_file, s, why, sizeof(why)) != 0)
		return fail(err, "save_refused", "%s; nothing was changed", why);
	return 0;
}

/*
 * --save, after the change is live: write the file save_prepare() made and
 * note it in the result. On failure the result is dropped: the reply is the error.
 */
static int save_commit(struct iface *iface, const struct config_save *s, json_t **result,
		       struct cmd_error *err)
{
	char why[440];

	if (!s->path)
		return 0;
	if (config_save_commit(s, iface->cfg, why, sizeof(why)) != 0) {
		log_error("%s: the change is live but not saved: %s", iface->name, why);
		json_decref(*result);
		*result = NULL;
		return fail(err, "save_failed", "the change is live but not saved: %s", why);
	}
	log_info("%s: saved to %s", iface->name, s->path);
	json_object_set_new(*result, "saved", json_string(s->path));
	return 0;
}

static int cmd_add_peer(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	struct peer_config pc = {0};
	struct config_save save = {0};
	struct iface *iface;
	const char *key = NULL, *why = NULL;
	json_t *warnings = NULL;
	int rc = -1;

	iface = need_iface(ctl, args, err);
	if (!iface || need_string(args, "public_key", &key, err) != 0)
		return -1;
	if (key_from_base64(pc.public_key, key, &why) != 0)
		return fail(err, "invalid_argument", "public key %s", why);
	if (iface_config_find_peer_key(iface->cfg, pc.public_key))
		return fail(err, "exists", "%s already has this peer; use set-peer to change it",
			    iface->name);
	if (apply_peer_args(iface, args, &pc, &warnings, err) == 0 &&
	    save_prepare(iface, args, pc.public_key, &pc, &save, err) == 0 &&
	    commit_peer(iface, &pc, err) == 0) {
		*result = json_pack("{s:s,s:s,s:O*}", "interface", iface->name, "public_key", key,
				    "warnings", warnings);
		rc = save_commit(iface, &save, result, err);
	}
	json_decref(warnings);
	config_save_clear(&save);
	peer_config_clear(&pc);
	return rc;
}

static int cmd_set_peer(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	const struct peer_config *cur;
	struct peer_config pc;
	struct config_save save = {0};
	struct iface *iface;
	char key[KEY_BASE64_LEN + 1];
	json_t *warnings = NULL;
	int rc = -1;

	iface = need_iface(ctl, args, err);
	if (!iface || !(cur = need_peer(iface, args, err)))
		return -1;
	if (peer_config_copy(&pc, cur) != 0)
		return fail(err, "failed", "out of memory");
	if (apply_peer_args(iface, args, &pc, &warnings, err) == 0 &&
	    save_prepare(iface, args, pc.public_key, &pc, &save, err) == 0 &&
	    commit_peer(iface, &pc, err) == 0) {
		key_to_base64(key, pc.public_key);
		*result = json_pack("{s:s,s:s,s:O*}", "interface", iface->name, "public_key", key,
				    "warnings", warnings);
		rc = save_commit(iface, &save, result, err);
	}
	json_decref(warnings);
	config_save_clear(&save);
	peer_config_clear(&pc);
	return rc;
}

static int cmd_remove_peer(struct control *ctl, json_t *args, json_t **result,
			   struct cmd_error *err)
{
	const struct peer_config *cur;
	struct config_save save;
	struct iface *iface;
	uint8_t pub[KEY_LEN];
	char key[KEY_BASE64_LEN + 1];
	int rc;

	iface = need_iface(ctl, args, err);
	if (!iface || !(cur = need_peer(iface, args, err)))
		return -1;
	memcpy(pub, cur->public_key, KEY_LEN);
	if (save_prepare(iface, args, pub, NULL, &save, err) != 0)
		return -1;
	(void)iface_remove_peer(iface, pub);
	(void)iface_config_drop_peer(iface->cfg, pub);
	key_to_base64(key, pub);
	*result = json_pack("{s:s,s:s}", "interface", iface->name, "public_key", key);
	rc = save_commit(iface, &save, result, err);
	config_save_clear(&save);
	return rc;
}

static int cmd_reload(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	struct diag_list diags = {0};
	json_t *changes = json_array(), *list;
	int rc;

	(void)args;
	service_reloading(ctl->service);
	rc = daemon_reload(ctl->daemon, &diags, changes);
	daemon_log_diags(&diags);
	service_ready(ctl->service, ctl->daemon);
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

static int cmd_up(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	struct diag_list diags = {0};
	json_t *changes;
	const char *name = NULL;
	char first[512] = "";
	int rc;

	if (need_iface_name(args, &name, err) != 0)
		return -1;
	changes = json_array();
	rc = daemon_up(ctl->daemon, name, &diags, changes);
	daemon_log_diags(&diags);
	for (size_t i = 0; i < diags.n && !first[0]; i++)
		if (diags.items[i].severity == DIAG_ERROR)
			diag_format(first, sizeof(first), &diags.items[i]);
	diag_list_clear(&diags);
	if (rc == 0) {
		service_ready(ctl->service, ctl->daemon);
		*result = json_pack("{s:s,s:o}", "interface", name, "changes", changes);
		return 0;
	}
	json_decref(changes);
	if (rc == -EEXIST)
		return fail(err, "exists", "%s is up already", name);
	if (rc == -ENOENT)
		return fail(err, "not_found", "no file %s/%s.conf", ctl->daemon->config_dir, name);
	if (rc == -EINVAL && first[0])
		return fail(err, "invalid_config", "%s", first);
	return fail(err, "failed", "%s did not come up: %s (the daemon's log says why)", name,
		    strerror(-rc));
}

static int cmd_down(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	const char *name = NULL;
	json_t *changes;
	int rc;

	if (need_iface_name(args, &name, err) != 0)
		return -1;
	changes = json_array();
	rc = daemon_down(ctl->daemon, name, changes);
	if (rc != 0) {
		json_decref(changes);
		if (rc == -ENOENT)
			return fail(err, "not_found", "no interface %s is up", name);
		return fail(err, "failed", "cannot take %s down: %s", name, strerror(-rc));
	}
	service_ready(ctl->service, ctl->daemon);
	*result = json_pack("{s:s,s:o}", "interface", name, "changes", changes);
	return 0;
}

static int cmd_log_level(struct control *ctl, json_t *args, json_t **result,
			 struct cmd_error *err)
{
	enum log_level level;
	const char *s = NULL;

	(void)ctl;
	if (need_string(args, "level", &s, err) != 0)
		return -1;
	if (log_level_parse(s, &level) != 0)
		return fail(err, "invalid_argument", "\"%s\": expected error, warn, info or debug", s);
	log_set_level(level);
	log_info("log level set to %s", log_level_name(level));
	*result = json_pack("{s:s}", "level", log_level_name(level));
	return 0;
}

/* ---- Localhost tunnels (expose.h, docs/localhost-tunnels.md) ---- */

static int port_arg(json_t *args, const char *name, uint16_t *out, struct cmd_error *err)
{
	json_t *v = json_object_get(args, name);
	json_int_t port = json_integer_value(v);

	if (!json_is_integer(v) || port < 1 || port > 65535)
		return fail(err, "invalid_argument", "\"%s\" must be a port 1-65535", name);
	*out = (uint16_t)port;
	return 0;
}

/* An address without a prefix length, from args[name]. */
static int host_arg(json_t *args, const char *name, struct ip_prefix *out, struct cmd_error *err)
{
	const char *s = arg_string(args, name);

	if (!s || strchr(s, '/') || prefix_parse(s, out, NULL, NULL) != 0)
		return fail(err, "invalid_argument", "\"%s\" must be an IP address", name);
	return 0;
}

/* The arguments of expose into e (peer not resolved yet). */
static int expose_args(json_t *args, struct expose_config *e, struct cmd_error *err)
{
	const char *peer = NULL, *name = arg_string(args, "name");
	struct ip_prefix addr;
	uint16_t local_port;
	json_t *v;

	if (port_arg(args, "local_port", &local_port, err) != 0 ||
	    need_string(args, "peer", &peer, err) != 0)
		return -1;
	if (!(e->peer = strdup(peer)))
		return fail(err, "failed", "out of memory");
	e->local.in.sin_family = AF_INET;
	e->local.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (json_object_get(args, "local_address")) {
		if (host_arg(args, "local_address", &addr, err) != 0)
			return -1;
		memset(&e->local, 0, sizeof(e->local));
		e->local.sa.sa_family = addr.family;
		if (addr.family == AF_INET)
			e->local.in.sin_addr = addr.addr.ip4;
		else
			e->local.in6.sin6_addr = addr.addr.ip6;
	}
	if (e->local.sa.sa_family == AF_INET)
		e->local.in.sin_port = htons(local_port);
	else
		e->local.in6.sin6_port = htons(local_port);
	e->public_port = local_port;
	if (json_object_get(args, "public_port") &&
	    port_arg(args, "public_port", &e->public_port, err) != 0)
		return -1;
	if (json_object_get(args, "name") && (!name || !expose_name_valid(name)))
		return fail(err, "invalid_argument",
			    "\"name\" must be 1 to 32 of A-Z a-z 0-9 . _ - (as [Expose NAME])");
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	if (!name)
		snprintf(e->name, sizeof(e->name), "%u", local_port);
	if ((v = json_object_get(args, "proxy_protocol")) && !json_is_boolean(v))
		return fail(err, "invalid_argument", "\"proxy_protocol\" must be true or false");
	e->proxy_protocol = json_is_true(v);
	if (json_object_get(args, "server_address")) {
		if (host_arg(args, "server_address", &e->server_address, err) != 0)
			return -1;
		e->has_server_address = true;
	}
	return 0;
}

/* expose_check()'s and expose_add()'s errors as control errors. */
static int expose_fail(int rc, const char *why, struct cmd_error *err)
{
	static const struct {
		int rc;
		const char *code;
	} codes[] = {{-ENOENT, "not_found"}, {-EEXIST, "exists"}, {-EINVAL, "invalid_argument"}};
	const char *code = "failed";

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].rc == rc)
			code = codes[i].code;
	return fail(err, code, "%s", why);
}

/* As save_prepare(), for the [Expose] named name becoming e (NULL: removed). */
static int save_prepare_expose(struct iface *iface, json_t *args, const char *name,
			       const struct expose_config *e, struct config_save *s,
			       struct cmd_error *err)
{
	char why[480];
	int want;

	memset(s, 0, sizeof(*s));
	if ((want = save_wanted(args, err)) <= 0)
		return want;
	if (config_save_prepare_expose(iface->cfg, name, e, s, why, sizeof(why)) != 0)
		return fail(err, "save_refused", "%s; nothing was changed", why);
	return 0;
}

static int cmd_expose(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err)
{
	struct expose_config e = {0};
	struct config_save save = {0};
	struct iface *iface;
	char why[400];
	bool is_new;
	int rc = -1;

	iface = need_iface(ctl, args, err);
	if (!iface || expose_args(args, &e, err) != 0)
		goto out;
	is_new = !iface_config_find_expose(iface->cfg, e.name);
	if (!iface->expose) {
		fail(err, "failed", "%s is not running", iface->name);
		goto out;
	}
	rc = expose_check(iface->expose, &e, why, sizeof(why));
	if (rc != 0) {
		rc = expose_fail(rc, why, err);
		goto out;
	}
	if ((rc = save_prepare_expose(iface, args, e.name, &e, &save, err)) != 0)
		goto out;
	rc = expose_add(iface->expose, &e, why, sizeof(why));
	if (rc != 0) {
		rc = expose_fail(rc, why, err);
		goto out;
	}
	log_info("%s: expose %s: added by tunctl", iface->name, e.name);
	*result = expose_service_json(iface->expose, e.name);
	if (!*result)
		*result = json_object();
	json_object_set_new(*result, "interface", json_string(iface->name));
	json_object_set_new(*result, "new", json_boolean(is_new));
	rc = save_commit(iface, &save, result, err);
out:
	config_save_clear(&save);
	expose_config_clear(&e);
	return rc;
}

static int cmd_unexpose(struct control *ctl, json_t *args, json_t **result,
			struct cmd_error *err)
{
	struct config_save save;
	const char *what = NULL, *found;
	struct iface *iface;
	char name[EXPOSE_NAME_MAX + 1];
	int rc;

	iface = need_iface(ctl, args, err);
	if (!iface || need_string(args, "name", &what, err) != 0)
		return -1;
	found = iface->expose ? expose_find(iface->expose, what) : NULL;
	if (!found)
		return fail(err, "not_found", "%s publishes no service \"%.32s\"", iface->name,
			    what);
	snprintf(name, sizeof(name), "%s", found);
	if (save_prepare_expose(iface, args, name, NULL, &save, err) != 0)
		return -1;
	(void)expose_remove(iface->expose, name);
	log_info("%s: expose %s: removed by tunctl", iface->name, name);
	*result = json_pack("{s:s,s:s}", "interface", iface->name, "name", name);
	rc = save_commit(iface, &save, result, err);
	config_save_clear(&save);
	return rc;
}

static const struct {
	const char *name;
	bool changes_state;
	int (*run)(struct control *ctl, json_t *args, json_t **result, struct cmd_error *err);
} commands[] = {
	{"status", false, cmd_status},
	{"show", false, cmd_show}, /* gives what show_start streams */
	{"add-peer", true, cmd_add_peer},
	{"set-peer", true, cmd_set_peer},
	{"remove-peer", true, cmd_remove_peer},
	{"reload", true, cmd_reload},
	{"up", true, cmd_up},
	{"down", true, cmd_down},
	{"log-level", true, cmd_log_level},
	{"expose", true, cmd_expose},
	{"unexpose", true, cmd_unexpose},
};

/* ---- Clients ---- */

static void client_close(struct client *c)
{
	struct control *ctl = c->ctl;

	ev_io_stop(ctl->loop, &c->read_watcher);
	ev_io_stop(ctl->loop, &c->write_watcher);
	ev_timer_stop(ctl->loop, &c->timeout);
	close(c->fd);
	list_del(&c->node);
	ctl->n_clients--;
	free(c->out);
	/* A request not yet handled may hold a preshared key. */
	crypto_wipe(c->in, sizeof(c->in));
	free(c);
}

/* Queue text and try to write it now; returns false when the client was closed. */
static bool client_send(struct client *c, const char *text, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *n;

		while (cap < c->out_len + len)
			cap *= 2;
		n = realloc(c->out, cap);
		if (!n) {
			client_close(c);
			return false;
		}
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out_len += len;
	ev_io_start(c->ctl->loop, &c->write_watcher);
	return true;
}

static bool client_reply(struct client *c, json_t *reply)
{
	char *text;
	bool ok;

	text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	if (!text) {
		client_close(c);
		return false;
	}
	ok = client_send(c, text, strlen(text)) && client_send(c, "\n", 1);
	free(text);
	return ok;
}

/* Queue value as JSON text (and drop it), after a comma unless first. */
static bool client_send_json(struct client *c, json_t *value, bool first)
{
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
	bool ok;

	json_decref(value);
	if (!text) {
		client_close(c);
		return false;
	}
	ok = (first || client_send(c, ",", 1)) && client_send(c, text, strlen(text));
	free(text);
	return ok;
}

/* The next interface to write, after the one written last. */
static struct iface *show_next_iface(struct client *c)
{
	struct iface *iface;

	if (c->show.one)
		return c->show.n_ifaces ? NULL : daemon_find_iface(c->ctl->daemon, c->show.iface);
	list_for_each(iface, &c->ctl->daemon->ifaces, node)
		if (!c->show.n_ifaces || strcmp(iface->name, c->show.iface) > 0)
			return iface;
	return NULL;
}

/* Write the next piece of a show reply; false when the client was closed. */
static bool show_continue(struct client *c)
{
	size_t start = c->out_len;

	while (c->out_len - start < SHOW_CHUNK) {
		struct iface *iface;
		struct peer *peer;
		json_t *head;

		if (!c->show.in_iface) {
			iface = show_next_iface(c);
			if (!iface) {
				c->show.active = false;
				return client_send(c, "]}}\n", 4);
			}
			/* The interface's fields, then an open "peers" array. */
			head = iface_json(iface, true);
			json_object_set_new(head, "peers", json_array());
			if (!client_send_json(c, head, c->show.n_ifaces == 0))
				return false;
			/* Reopen it: drop the "]}" of the empty array and the object. */
			if (memcmp(c->out + c->out_len - 2, "]}", 2) != 0) {
				client_close(c);
				return false;
			}
			c->out_len -= 2;
			snprintf(c->show.iface, sizeof(c->show.iface), "%s", iface->name);
			c->show.in_iface = true;
			c->show.next_peer = 0;
			c->show.n_peers = 0;
			continue;
		}
		iface = daemon_find_iface(c->ctl->daemon, c->show.iface);
		peer = NULL;
		if (iface) {
			list_for_each(peer, &iface->peers, node)
				if (peer->id >= c->show.next_peer)
					break;
		}
		for (; iface && &peer->node != &iface->peers && c->out_len - start < SHOW_CHUNK;
		     peer = list_entry(peer->node.next, struct peer, node)) {
			json_t *pj = peer_json(peer, iface_config_find_peer_key(iface->cfg,
										peer->public_key));

			if (!client_send_json(c, pj, c->show.n_peers++ == 0))
				return false;
			c->show.next_peer = peer->id + 1;
		}
		if (iface && &peer->node != &iface->peers)
			break; /* a piece is full */
		/* The interface's peers are written, or the interface went down. */
		if (!client_send(c, "]}", 2))
			return false;
		c->show.in_iface = false;
		c->show.n_ifaces++;
	}
	return true;
}

static bool show_start(struct client *c, json_t *plan)
{
	const char *name = json_string_value(json_object_get(plan, "interface"));
	static const char head[] = "{\"version\":1,\"ok\":true,\"result\":{\"interfaces\":[";

	_Static_assert(CONTROL_PROTOCOL_VERSION == 1, "the show header spells the version");
	memset(&c->show, 0, sizeof(c->show));
	c->show.active = true;
	if (name) {
		c->show.one = true;
		snprintf(c->show.iface, sizeof(c->show.iface), "%s", name);
	}
	json_decref(plan);
	return client_send(c, head, sizeof(head) - 1) && show_continue(c);
}

static bool client_error(struct client *c, const char *code, const char *message)
{
	return client_reply(c, json_pack("{s:i,s:b,s:{s:s,s:s}}", "version",
					 CONTROL_PROTOCOL_VERSION, "ok", false, "error", "code",
					 code, "message", message));
}

static bool client_handle_line(struct client *c, const char *line, size_t len)
{
	struct cmd_error err = {0};
	json_t *req, *args, *result = NULL, *v;
	json_error_t jerr;
	const char *name = NULL;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(req)) {
		json_decref(req);
		return client_error(c, "bad_request", "the request is not a JSON object");
	}
	v = json_object_get(req, "version");
	if (v && (!json_is_integer(v) || json_integer_value(v) != CONTROL_PROTOCOL_VERSION)) {
		json_decref(req);
		return client_error(c, "unsupported_version", "this tund speaks protocol version 1");
	}
	name = json_string_value(json_object_get(req, "command"));
	args = json_object_get(req, "args");
	if (!name || (args && !json_is_object(args))) {
		json_decref(req);
		return client_error(c, "bad_request", "expected \"command\" and an \"args\" object");
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		if (commands[i].changes_state && !c->may_write) {
			json_decref(req);
			return client_error(c, "permission_denied",
					    "only root or the control group may change tund's state");
		}
		json_t *empty = args ? NULL : json_object();
		int rc = commands[i].run(c->ctl, args ? args : empty, &result, &err);

		json_decref(empty);
		json_decref(req);
		if (rc != 0)
			return client_error(c, err.code ? err.code : "failed", err.message);
		if (commands[i].run == cmd_show)
			return show_start(c, result);
		return client_reply(c, json_pack("{s:i,s:b,s:o}", "version",
						 CONTROL_PROTOCOL_VERSION, "ok", true, "result",
						 result ? result : json_object()));
	}
	snprintf(err.message, sizeof(err.message), "unknown command \"%.64s\"", name);
	json_decref(req);
	return client_error(c, "unknown_command", err.message);
}

/* Handle every complete line in the input buffer. */
static bool client_process(struct client *c)
{
	char *nl;

	while (!c->show.active && c->out_len - c->out_off < OUTPUT_HIGH_WATER &&
	       (nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = (size_t)(nl - c->in);

		if (len > 0 && !client_handle_line(c, c->in, len))
			return false;
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
		/* The handled line may hold a preshared key: wipe what the move left behind. */
		crypto_wipe(c->in + c->in_len, len + 1);
	}
	if (c->in_len == sizeof(c->in) && !memchr(c->in, '\n', c->in_len)) {
		c->closing = true;
		c->in_len = 0;
		crypto_wipe(c->in, sizeof(c->in));
		return client_error(c, "request_too_large", "a request line is limited to 64 KiB");
	}
	return true;
}

static void client_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	(void)revents;
	if (c->closing || c->out_len - c->out_off >= OUTPUT_HIGH_WATER ||
	    c->in_len == sizeof(c->in)) {
		/*
		 * Backpressure: no new requests until the replies are read. A full
		 * buffer holds whole lines waiting behind a show reply (a read into
		 * no room would return 0 and look like EOF); the write side restarts us.
		 */
		ev_io_stop(loop, w);
		return;
	}
	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF: answer what is complete, then close when written. */
		c->closing = true;
		ev_io_stop(loop, w);
		if (c->out_len == c->out_off)
			client_close(c);
		return;
	}
	c->in_len += (size_t)n;
	ev_timer_again(loop, &c->timeout);
	if (!client_process(c))
		return;
	if (c->closing && c->out_len == c->out_off)
		client_close(c);
}

static void client_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	(void)revents;
	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
		ev_timer_again(loop, &c->timeout);
	}
	c->out_off = c->out_len = 0;
	ev_io_stop(loop, w);
	if (c->show.active) {
		/* The next piece of a show reply, even if the client sent EOF. */
		show_continue(c);
		return;
	}
	/* Requests that waited for the output to drain, those before an EOF too. */
	if (!client_process(c))
		return;
	if (!c->closing)
		ev_io_start(loop, &c->read_watcher);
	else if (c->out_len == c->out_off)
		client_close(c);
}

static void client_on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	log_debug("control: dropping a client that made no progress for %.0f s", CLIENT_TIMEOUT_S);
	client_close(c);
}

/*
 * Whether the peer of fd may change state: root, or the control group as its
 * primary group (SO_PEERCRED) or one of its supplementary groups
 * (SO_PEERGROUPS, Linux 4.13).
 */
static bool client_may_write(const struct control *ctl, int fd, const struct ucred *cred)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (cred->uid == 0)
		return true;
	if (!ctl->has_group)
		return false;
	if (cred->gid == ctl->group)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno != ERANGE || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		found = found || groups[i] == ctl->group;
	if (groups != small)
		free(groups);
	return found;
}

static void control_on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = w->data;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	(void)revents;
	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (ctl->n_clients >= MAX_CLIENTS ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_debug("control: refusing a client (%zu connected)", ctl->n_clients);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->may_write = client_may_write(ctl, fd, &cred);
	ev_io_init(&c->read_watcher, client_on_readable, fd, EV_READ);
	ev_io_init(&c->write_watcher, client_on_writable, fd, EV_WRITE);
	ev_init(&c->timeout, client_on_timeout);
	c->timeout.repeat = CLIENT_TIMEOUT_S;
	c->read_watcher.data = c->write_watcher.data = c->timeout.data = c;
	list_add_tail(&c->node, &ctl->clients);
	ctl->n_clients++;
	ev_io_start(loop, &c->read_watcher);
	ev_timer_again(loop, &c->timeout);
}

/* ---- The socket ---- */

static void resolve_group(struct control *ctl, const char *group)
{
	struct group *gr;
	char *end;
	unsigned long gid;

	if (!group || !*group)
		return;
	gid = strtoul(group, &end, 10);
	if (*end == '\0') {
		ctl->group = (gid_t)gid;
		ctl->has_group = true;
		return;
	}
	gr = getgrnam(group);
	if (gr) {
		ctl->group = gr->gr_gid;
		ctl->has_group = true;
	}
}

/* A socket file at path: in use by a live tund (-EADDRINUSE), or stale (removed). */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	unlink(path);
	return 0;
}

static int create_socket(struct control *ctl, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old_umask;
	char *dir, *slash;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755); /* /run/tund outside systemd; EEXIST is fine */
	}
	free(dir);
	rc = clear_stale(path, &sun);
	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Never world-accessible, not even between bind() and chmod(). */
	old_umask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc != 0 || listen(fd, 64) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (ctl->has_group && (chown(path, 0, ctl->group) != 0 || chmod(path, 0660) != 0))
		log_warn("control: cannot give group %u access to %s: %s", (unsigned int)ctl->group,
			 path, strerror(errno));
	ctl->path = strdup(path);
	ctl->fd = fd;
	return 0;
}

/* Why fd is not what tund.socket's ListenStream= gives, or NULL when it is. */
static const char *passed_socket_problem(int fd)
{
	int rc = sd_is_socket(fd, AF_UNSPEC, 0, -1);

	if (rc < 0)
		return strerror(-rc);
	if (rc == 0)
		return "it is not a socket";
	if (sd_is_socket_unix(fd, 0, -1, NULL, 0) <= 0)
		return "it is not a Unix socket";
	if (sd_is_socket_unix(fd, SOCK_STREAM, -1, NULL, 0) <= 0)
		return "it is not a stream socket";
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
		return "it is not listening";
	return NULL;
}

/*
 * Socket activation (tund.socket): systemd passed n sockets (n < 0: its
 * LISTEN_* variables are broken). Exactly one listening AF_UNIX stream
 * socket is taken; anything else is refused rather than replaced by a socket
 * of our own, which the socket unit's clients would never reach. systemd
 * owns the socket file and its mode and group: ctl->path stays NULL, so the
 * file is neither changed nor removed, and only control_destroy() closes
 * the fd (a reload never touches it).
 */
static int take_passed_socket(struct control *ctl, int n)
{
	const int fd = SD_LISTEN_FDS_START;
	struct sockaddr_un sun = {0};
	socklen_t len = sizeof(sun);
	const char *why;
	int flags;

	if (n < 0) {
		log_error("control: systemd's LISTEN_FDS/LISTEN_PID are unusable: %s",
			  strerror(-n));
		return n;
	}
	if (n != 1) {
		log_error("control: LISTEN_FDS=%d: tund takes one socket, the control socket", n);
		return -EINVAL;
	}
	why = passed_socket_problem(fd);
	if (why) {
		log_error(
			"control: fd %d from LISTEN_FDS=1: %s; expected a listening Unix stream socket (ListenStream=)",
			fd, why);
		return -ENOTSOCK;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		int rc = -errno;

		log_error("control: cannot make the passed socket non-blocking: %s", strerror(-rc));
		return rc;
	}
	ctl->fd = fd;
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path) && sun.sun_path[0] != '\0')
		log_info("control: listening on %.*s (passed by systemd)",
			 (int)sizeof(sun.sun_path), sun.sun_path);
	else
		log_info("control: listening on the socket systemd passed");
	return 0;
}

int control_create(struct ev_loop *loop, struct daemon *d, struct service *svc,
		   const struct control_options *opts, struct control **out)
{
	struct control *ctl;
	int n, rc;

	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->daemon = d;
	ctl->service = svc;
	ctl->fd = -1;
	list_init(&ctl->clients);
	resolve_group(ctl, opts->group);
	/* Requests carry preshared keys: what jansson copies them into is wiped when freed. */
	jsonmem_init();

	/* Unsets LISTEN_*, so that PreUp/PostUp commands do not inherit them. */
	n = sd_listen_fds(1);
	if (n != 0) {
		rc = take_passed_socket(ctl, n);
		if (rc != 0) {
			free(ctl);
			return rc;
		}
	} else {
		rc = create_socket(ctl, opts->path);
		if (rc != 0) {
			log_error("control: cannot listen on %s: %s", opts->path,
				  rc == -EADDRINUSE ? "another tund is running there"
				  : rc == -EEXIST   ? "a file that is not a socket is in the way"
						    : strerror(-rc));
			free(ctl);
			return rc;
		}
		log_info("control: listening on %s (%s)", opts->path,
			 ctl->has_group ? "root and the control group may change state"
					: "only root may connect");
	}
	ev_io_init(&ctl->accept_watcher, control_on_accept, ctl->fd, EV_READ);
	ctl->accept_watcher.data = ctl;
	ev_io_start(loop, &ctl->accept_watcher);
	*out = ctl;
	return 0;
}

void control_destroy(struct control *ctl)
{
	if (!ctl)
		return;
	while (!list_empty(&ctl->clients))
		client_close(list_entry(ctl->clients.next, struct client, node));
	ev_io_stop(ctl->loop, &ctl->accept_watcher);
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->path) {
		unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl);
}

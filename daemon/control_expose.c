// SPDX-License-Identifier: MIT
/*
 * The localhost-tunnel commands of the control socket: expose and unexpose
 * (expose.h, docs/localhost-tunnels.md), with "save": true also into the
 * interface's file.
 */
#include "control_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "config_edit.h"
#include "expose.h"
#include "iface.h"
#include "log.h"
#include "util.h"

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

int cmd_expose(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err)
{
	struct expose_config e = {0};
	struct config_save save = {0};
	struct iface *iface;
	char why[400];
	bool is_new;
	int rc = -1;

	iface = need_iface(env, args, err);
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

int cmd_unexpose(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err)
{
	struct config_save save;
	const char *what = NULL, *found;
	struct iface *iface;
	char name[EXPOSE_NAME_MAX + 1];
	int rc;

	iface = need_iface(env, args, err);
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

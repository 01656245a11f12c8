// SPDX-License-Identifier: MIT
/*
 * The control commands' table and dispatch, and the helpers they share for
 * arguments and --save; the commands themselves are in control_peer.c,
 * control_iface.c and control_expose.c. See control_cmd.h.
 */
#include "control_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_edit.h"
#include "control_proto.h"
#include "daemon.h"
#include "iface.h"
#include "log.h"
#include "util.h"

/* ---- Arguments ---- */

const char *arg_string(json_t *args, const char *name)
{
	json_t *v = json_object_get(args, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int need_string(json_t *args, const char *name, const char **out, struct cmd_error *err)
{
	json_t *v = json_object_get(args, name);

	if (!json_is_string(v))
		return fail(err, "invalid_argument", "\"%s\" must be a string", name);
	*out = json_string_value(v);
	return 0;
}

struct iface *need_iface(const struct control_env *env, json_t *args, struct cmd_error *err)
{
	const char *name = NULL;
	struct iface *iface;

	if (need_string(args, "interface", &name, err) != 0)
		return NULL;
	iface = daemon_find_iface(env->daemon, name);
	if (!iface)
		fail(err, "not_found", "no interface \"%s\" is up", name);
	return iface;
}

/* PEER is a Name= or a public key. */
const struct peer_config *need_peer(struct iface *iface, json_t *args, struct cmd_error *err)
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

/* Whether args ask for --save: 1, 0, or -1 when "save" is not a boolean. */
int save_wanted(json_t *args, struct cmd_error *err)
{
	json_t *save = json_object_get(args, "save");

	if (!save || json_is_false(save))
		return 0;
	if (!json_is_true(save))
		return fail(err, "invalid_argument", "\"save\" must be true or false");
	return 1;
}

/*
 * --save, after the change is live: write the file save_prepare() made and
 * note it in the result. On failure the result is dropped: the reply is the error.
 */
int save_commit(struct iface *iface, const struct config_save *s, json_t **result,
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

/* ---- The table ---- */

static const struct control_cmd commands[] = {
	{"status", false, false, cmd_status},
	{"show", false, true, cmd_show},
	{"metrics", false, true, cmd_metrics},
	{"add-peer", true, false, cmd_add_peer},
	{"add-peers", true, false, cmd_add_peers},
	{"set-peer", true, false, cmd_set_peer},
	{"remove-peer", true, false, cmd_remove_peer},
	{"reload", true, false, cmd_reload},
	{"up", true, false, cmd_up},
	{"down", true, false, cmd_down},
	{"create", true, false, cmd_create},
	{"delete", true, false, cmd_delete},
	{"log-level", true, false, cmd_log_level},
	{"expose", true, false, cmd_expose},
	{"unexpose", true, false, cmd_unexpose},
	{"watch", false, false, cmd_watch},
};

const struct control_cmd *control_cmd_table(size_t *n)
{
	*n = ARRAY_SIZE(commands);
	return commands;
}

const struct control_cmd *control_cmd_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int control_dispatch(const struct control_env *env, json_t *req, bool may_write,
		     const struct control_cmd **cmd, json_t **result, struct cmd_error *err)
{
	json_t *args, *v, *empty;
	const char *name;
	int rc;

	*cmd = NULL;
	*result = NULL;
	if (!json_is_object(req))
		return fail(err, "bad_request", "the request is not a JSON object");
	v = json_object_get(req, "version");
	if (v && (!json_is_integer(v) || json_integer_value(v) != CONTROL_PROTOCOL_VERSION))
		return fail(err, "unsupported_version", "this tund speaks protocol version 1");
	name = json_string_value(json_object_get(req, "command"));
	args = json_object_get(req, "args");
	if (!name || (args && !json_is_object(args)))
		return fail(err, "bad_request", "expected \"command\" and an \"args\" object");
	*cmd = control_cmd_find(name);
	if (!*cmd)
		return fail(err, "unknown_command", "unknown command \"%.64s\"", name);
	if ((*cmd)->changes_state && !may_write)
		return fail(err, "permission_denied",
			    "only root or the control group may change tund's state");
	empty = args ? NULL : json_object();
	rc = (*cmd)->run(env, args ? args : empty, result, err);
	json_decref(empty);
	if (rc != 0) {
		json_decref(*result);
		*result = NULL;
		if (!err->code)
			err->code = "failed";
		return -1;
	}
	return 0;
}

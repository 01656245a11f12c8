// SPDX-License-Identifier: MIT
/* The set of interfaces, and start-up from the config directory. */
#include "daemon.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "changes.h"
#include "clock.h"
#include "events.h"
#include "expose.h"
#include "iface.h"
#include "linkwatch.h"
#include "log.h"
#include "netlink.h"
#include "resolve.h"
#include "udp.h"
#include "uapi_server.h"

/* An interface is in d->ifaces: `wg` may reach it (best effort: logged when not). */
static void iface_added(struct iface *iface)
{
	(void)uapi_server_open(iface);
}

/* Take iface out of the daemon's list and down. */
static void iface_gone(struct iface *iface)
{
	list_del(&iface->node);
	uapi_server_close(iface);
	iface_destroy(iface);
}

static void on_link_event(void *ctx, const struct linkwatch_event *ev);

int daemon_create(struct ev_loop *loop, const char *config_dir, struct daemon **out)
{
	struct daemon *d;
	int rc;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->loop = loop;
	d->started_s = clock_now_s();
	list_init(&d->ifaces);
	d->config_dir = strdup(config_dir);
	if (!d->config_dir) {
		free(d);
		return -ENOMEM;
	}
	resolve_init(loop);
	rc = scratch_create(&d->scratch);
	if (rc == 0)
		rc = netlink_open(&d->nl);
	if (rc == 0)
		rc = linkwatch_open(loop, on_link_event, d, &d->lw);
	if (rc != 0) {
		daemon_destroy(d);
		return rc;
	}
	*out = d;
	return 0;
}

bool daemon_close_localhost_tunnels(struct daemon *d)
{
	struct iface *iface;
	bool busy = false;

	list_for_each(iface, &d->ifaces, node)
		busy = iface_close_localhost_tunnels(iface) || busy;
	return busy;
}

void daemon_destroy(struct daemon *d)
{
	struct iface *iface, *tmp;

	if (!d)
		return;
	/* Reverse order: the last interface up is the first down. */
	while (!list_empty(&d->ifaces)) {
		iface = list_entry(d->ifaces.prev, struct iface, node);
		iface_gone(iface);
	}
	(void)tmp;
	linkwatch_close(d->lw);
	resolve_shutdown();
	netlink_close(d->nl);
	scratch_destroy(d->scratch);
	for (size_t i = 0; i < d->n_held_down; i++)
		free(d->held_down[i]);
	free(d->held_down);
	free(d->config_dir);
	free(d);
}

void daemon_log_diags(const struct diag_list *diags)
{
	/* The log line's level says error or warning; diag_format would say it twice. */
	for (size_t i = 0; i < diags->n; i++) {
		const struct diag *it = &diags->items[i];
		char where[32] = "";

		if (it->line)
			snprintf(where, sizeof(where), ":%u", it->line);
		if (it->severity == DIAG_ERROR)
			log_error("%s%s: %s", it->file, where, it->msg);
		else
			log_warn("%s%s: %s", it->file, where, it->msg);
	}
}

static bool name_in(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static bool set_has(const struct config_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->ifaces[i] && strcmp(set->ifaces[i]->name, name) == 0)
			return true;
	return false;
}

/* Keep d->ifaces sorted by name. */
static void insert_sorted(struct daemon *d, struct iface *iface)
{
	struct iface *pos;

	list_for_each(pos, &d->ifaces, node) {
		if (strcmp(iface->name, pos->name) < 0) {
			list_add_tail(&iface->node, &pos->node);
			return;
		}
	}
	list_add_tail(&iface->node, &d->ifaces);
}

static int bring_up(struct daemon *d, struct iface_config *cfg, json_t *changes, const char *what)
{
	struct iface *iface;
	char name[IFNAMSIZ];
	int rc;

	snprintf(name, sizeof(name), "%s", cfg->name);
	rc = iface_create(d->loop, d->scratch, d->nl, &d->next_peer_id, cfg, &expose_iface_hooks,
			  &iface);
	if (rc != 0) {
		note_change(changes, true, "%s: failed to come up: %s", name, strerror(-rc));
		return rc;
	}
	insert_sorted(d, iface);
	iface_added(iface);
	note_change(changes, true, "%s: %s", name, what);
	return 0;
}

/* A file for an interface that runs without one (tund-wg): not applied, an error. */
static void refuse_file(struct iface_config *cfg, struct diag_list *diags)
{
	diag_add(diags, DIAG_ERROR, cfg->path, 0,
		 "interface %s exists without a file (created by tund-wg); this file is not "
		 "applied until that interface is deleted (ip link del %s, or tunctl delete %s)",
		 cfg->name, cfg->name, cfg->name);
	log_error("%s: %s is not applied: the interface exists without a file (created by "
		  "tund-wg)", cfg->name, cfg->path);
	iface_config_free(cfg);
}

int daemon_reload(struct daemon *d, struct diag_list *diags, json_t *changes)
{
	struct config_set set = {0};
	struct iface *iface, *tmp;
	int failed = 0, rc;

	log_info("reloading %s", d->config_dir);
	rc = config_load_dir(d->config_dir, &set, diags);
	if (rc != 0 && rc != -EINVAL) {
		config_set_clear(&set);
		return rc;
	}
	failed += (int)set.n_failed;

	/* Files that are gone: their interfaces go down. A broken file keeps its interface. */
	list_for_each_safe(iface, tmp, &d->ifaces, node) {
		if (!iface->cfg->path || set_has(&set, iface->name) ||
		    name_in(set.failed, set.n_failed, iface->name))
			continue;
		note_change(changes, true, "%s: down (its file is gone)", iface->name);
		iface_gone(iface);
	}
	for (size_t i = 0; i < set.n; i++) {
		struct iface_config *cfg = set.ifaces[i];

		set.ifaces[i] = NULL;
		iface = daemon_find_iface(d, cfg->name);
		if (!iface && name_in(d->held_down, d->n_held_down, cfg->name)) {
			log_debug("%s: left down (tunctl down)", cfg->name);
			iface_config_free(cfg);
			continue;
		}
		if (!iface) {
			failed += bring_up(d, cfg, changes, "up (new file)") != 0;
			continue;
		}
		if (!iface->cfg->path) {
			refuse_file(cfg, diags);
			failed++;
			continue;
		}
		rc = iface_reconfigure(iface, cfg, changes);
		if (rc == 0)
			continue;
		if (rc != -EAGAIN) {
			failed++; /* cfg is taken: the interface runs what could be applied */
			continue;
		}
		/* Key, addresses, MTU, DNS, Table, FwMark or hooks changed: restart it. */
		log_info("%s: interface settings changed, restarting it", iface->name);
		iface_gone(iface);
		failed += bring_up(d, cfg, changes, "restarted (interface settings changed)") != 0;
	}
	config_set_clear(&set);
	log_info("reload done: %zu change%s, %d failure%s", changes ? json_array_size(changes) : 0,
		 changes && json_array_size(changes) == 1 ? "" : "s", failed, failed == 1 ? "" : "s");
	return failed;
}

/* Forget that name was held down; returns whether it was. */
static bool release_hold(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_held_down; i++) {
		if (strcmp(d->held_down[i], name) != 0)
			continue;
		free(d->held_down[i]);
		d->held_down[i] = d->held_down[--d->n_held_down];
		return true;
	}
	return false;
}

int daemon_up(struct daemon *d, const char *name, struct diag_list *diags, json_t *changes)
{
	struct iface_config *cfg;
	char *path;
	int rc;

	if (!config_iface_name_valid(name))
		return -ENOENT;
	if (daemon_find_iface(d, name))
		return -EEXIST;
	if (asprintf(&path, "%s/%s.conf", d->config_dir, name) < 0)
		return -ENOMEM;
	if (access(path, F_OK) != 0) {
		rc = -errno;
		free(path);
		return rc;
	}
	rc = config_load_file(path, &cfg, diags);
	free(path);
	if (rc != 0)
		return rc;
	rc = bring_up(d, cfg, changes, "up (tunctl up)");
	if (rc == 0)
		release_hold(d, name);
	return rc;
}

int daemon_down(struct daemon *d, const char *name, json_t *changes)
{
	struct iface *iface = daemon_find_iface(d, name);
	char **held;
	char *copy;

	if (!iface)
		return -ENOENT;
	if (!iface->cfg->path) {
		/* Nothing to bring back: it goes as `ip link del` makes it go. */
		note_change(changes, true, "%s: deleted (it had no file)", name);
		log_info("%s: deleted by tunctl", name);
		iface_gone(iface);
		events_emit("interface-deleted", name, NULL, NULL, NULL);
		return 0;
	}
	copy = strdup(name);
	held = realloc(d->held_down, (d->n_held_down + 1) * sizeof(*held));
	if (!copy || !held) {
		free(copy);
		if (held)
			d->held_down = held;
		return -ENOMEM;
	}
	d->held_down = held;
	d->held_down[d->n_held_down++] = copy;
	note_change(changes, true, "%s: down (tunctl down)", name);
	log_info("%s: taken down by tunctl down; tunctl up %s brings it back", name, name);
	iface_gone(iface);
	return 0;
}

struct iface *daemon_find_iface(struct daemon *d, const char *name)
{
	struct iface *iface;

	list_for_each(iface, &d->ifaces, node)
		if (strcmp(iface->name, name) == 0)
			return iface;
	return NULL;
}

int daemon_start(struct daemon *d)
{
	struct config_set set = {0};
	struct diag_list diags = {0};
	int failed = 0, rc;

	rc = config_load_dir(d->config_dir, &set, &diags);
	daemon_log_diags(&diags);
	if (rc == -EINVAL)
		failed += (int)diags.n_errors ? 1 : 0;
	else if (rc != 0)
		failed++;
	diag_list_clear(&diags);

	for (size_t i = 0; i < set.n; i++) {
		struct iface *iface;

		rc = iface_create(d->loop, d->scratch, d->nl, &d->next_peer_id, set.ifaces[i],
				  &expose_iface_hooks, &iface);
		set.ifaces[i] = NULL; /* iface_create took it */
		if (rc != 0) {
			failed++;
			continue;
		}
		list_add_tail(&iface->node, &d->ifaces);
		iface_added(iface);
	}
	config_set_clear(&set);
	if (list_empty(&d->ifaces))
		log_warn("no interface is up (config directory %s)", d->config_dir);
	return failed;
}

int daemon_create_fileless(struct daemon *d, const char *name, json_t *changes)
{
	struct iface_config *cfg;
	int rc;

	if (!config_iface_name_valid(name))
		return -EINVAL;
	if (daemon_find_iface(d, name))
		return -EEXIST;
	cfg = iface_config_new_fileless(name);
	if (!cfg)
		return -ENOMEM;
	log_info("%s: creating it without a file (tund-wg)", name);
	rc = bring_up(d, cfg, changes, "created without a file (tund-wg)");
	if (rc == 0)
		events_emit("interface-created", name, NULL, NULL, NULL);
	return rc;
}

static struct iface *find_ifindex(struct daemon *d, int ifindex)
{
	struct iface *iface;

	list_for_each(iface, &d->ifaces, node)
		if (iface->ifindex == ifindex)
			return iface;
	return NULL;
}

/*
 * The link of iface is gone (`ip link del`, wg-quick down): forget the
 * interface. One with a file is held down as by `tunctl down`.
 */
static void link_gone(struct daemon *d, struct iface *iface)
{
	char name[IFNAMSIZ];
	char **held;

	memcpy(name, iface->name, sizeof(name));
	list_del(&iface->node);
	uapi_server_close(iface);
	if (iface->cfg->path) {
		log_warn("%s: its link was deleted; taking it down, as tunctl down does (tunctl up "
			 "%s brings it back)", name, name);
		held = realloc(d->held_down, (d->n_held_down + 1) * sizeof(*held));
		if (held) {
			d->held_down = held;
			d->held_down[d->n_held_down] = strdup(name);
			if (d->held_down[d->n_held_down])
				d->n_held_down++;
		}
	} else {
		log_info("%s: its link was deleted; forgetting it", name);
	}
	iface_forget(iface);
}

static void on_link_event(void *ctx, const struct linkwatch_event *ev)
{
	struct daemon *d = ctx;
	struct iface *iface, *tmp;
	char name[IF_NAMESIZE];

	/*
	 * By index, never by name: the name may already be a new device's (an
	 * interface tund restarted), and our own deletions come back as events
	 * for indexes no interface has any more.
	 */
	switch (ev->type) {
	case LINKWATCH_DELETED:
		iface = find_ifindex(d, ev->ifindex);
		if (iface)
			link_gone(d, iface);
		break;
	case LINKWATCH_CHANGED:
		iface = find_ifindex(d, ev->ifindex);
		if (iface)
			iface_link_changed(iface, ev->flags, ev->mtu);
		break;
	case LINKWATCH_LOST:
		list_for_each_safe(iface, tmp, &d->ifaces, node)
			if (!if_indextoname((unsigned int)iface->ifindex, name))
				link_gone(d, iface);
		break;
	}
}

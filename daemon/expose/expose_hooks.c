// SPDX-License-Identifier: MIT
/*
 * How an interface reaches its localhost tunnels without including them:
 * the struct iface_hooks the daemon gives iface_create(). RedirectToLocalhost
 * (nat.c) follows the routes, the L4 tunnels (expose.c) the device.
 */
#include "expose.h"

#include "iface.h"
#include "nat.h"

static int routes_up(struct iface *iface)
{
	return nat_create(iface, &iface->nat);
}

static void routes_down(struct iface *iface)
{
	nat_destroy(iface->nat);
	iface->nat = NULL;
}

static int up(struct iface *iface)
{
	return expose_create(iface, &iface->expose);
}

static bool close_all(struct iface *iface)
{
	bool busy = expose_busy(iface->expose);

	expose_destroy(iface->expose);
	iface->expose = NULL;
	return busy;
}

static void peers_changed(struct iface *iface)
{
	expose_peers_changed(iface->expose);
}

static int reconfigure_routes(struct iface *iface, const struct iface_config *cfg, json_t *changes)
{
	return nat_update(iface->nat, cfg, changes);
}

static void reconfigured(struct iface *iface, json_t *changes)
{
	expose_apply(iface->expose, changes);
}

const struct iface_hooks expose_iface_hooks = {
	.routes_up = routes_up,
	.routes_down = routes_down,
	.up = up,
	.close = close_all,
	.peers_changed = peers_changed,
	.reconfigure_routes = reconfigure_routes,
	.reconfigured = reconfigured,
};

// SPDX-License-Identifier: MIT
/* The set of interfaces, and start-up from the config directory. */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "iface.h"
#include "log.h"
#include "netlink.h"
#include "udp.h"

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
	rc = scratch_create(&d->scratch);
	if (rc == 0)
		rc = netlink_open(&d->nl);
	if (rc != 0) {
		daemon_destroy(d);
		return rc;
	}
	*out = d;
	return 0;
}

void daemon_destroy(struct daemon *d)
{
	struct iface *iface, *tmp;

	if (!d)
		return;
	/* Reverse order: the last interface up is the first down. */
	while (!list_empty(&d->ifaces)) {
		iface = list_entry(d->ifaces.prev, struct iface, node);
		list_del(&iface->node);
		iface_destroy(iface);
	}
	(void)tmp;
	netlink_close(d->nl);
	scratch_destroy(d->scratch);
	free(d->config_dir);
	free(d);
}

void daemon_log_diags(const struct diag_list *diags)
{
	char buf[1024];

	for (size_t i = 0; i < diags->n; i++) {
		diag_format(buf, sizeof(buf), &diags->items[i]);
		if (diags->items[i].severity == DIAG_ERROR)
			log_error("%s", buf);
		else
			log_warn("%s", buf);
	}
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
				  &iface);
		set.ifaces[i] = NULL; /* iface_create took it */
		if (rc != 0) {
			failed++;
			continue;
		}
		list_add_tail(&iface->node, &d->ifaces);
	}
	config_set_clear(&set);
	if (list_empty(&d->ifaces))
		log_warn("no interface is up (config directory %s)", d->config_dir);
	return failed;
}

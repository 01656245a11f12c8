// SPDX-License-Identifier: MIT
/* The reload that SIGHUP and `tunctl reload` share: see reload.h. */
#include "reload.h"

#include "daemon.h"
#include "service.h"

int reload_run(struct daemon *d, struct service *svc, struct diag_list *diags, json_t *changes)
{
	int rc;

	service_reloading(svc);
	rc = daemon_reload(d, diags, changes);
	daemon_log_diags(diags);
	service_ready(svc, d);
	return rc;
}

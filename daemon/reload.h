/* SPDX-License-Identifier: MIT */
/*
 * One reload, the same for SIGHUP and the control socket's reload command:
 * the service manager is told (RELOADING, then READY with the new status),
 * the config directory is re-read and the difference applied
 * (daemon_reload), and every diagnostic is logged.
 */
#ifndef TUND_RELOAD_H
#define TUND_RELOAD_H

#include <jansson.h>

struct daemon;
struct diag_list;
struct service;

/*
 * diags gets every error and warning (the caller clears it), changes (may
 * be NULL) one string per change. Returns the number of files or interfaces
 * that failed, or -errno when the directory cannot be read (nothing changed).
 */
int reload_run(struct daemon *d, struct service *svc, struct diag_list *diags, json_t *changes);

#endif

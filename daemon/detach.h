/* SPDX-License-Identifier: MIT */
/*
 * Going to the background as a SysV daemon does (daemon(7)), for tund
 * started without --foreground and not by a service manager: fork twice,
 * and let the first process wait, through a pipe, until the daemon is ready
 * (control socket listening, interfaces up), then exit with 0; or with 1
 * when the daemon ends before that. So `tund && tunctl status` works and a
 * failed start is a failed command, with its errors on the terminal.
 */
#ifndef TUND_DETACH_H
#define TUND_DETACH_H

#include <stdbool.h>

/* Whether a service manager started us (systemd: then tund never forks). */
bool detach_under_service_manager(void);
/*
 * Fork into the background. Returns in the daemon only: 0, or -errno when
 * a step failed (the caller logs it and exits; the waiting process then
 * exits with 1). Before anything that starts threads or opens the loop.
 */
int detach_begin(void);
/*
 * The daemon is ready: release the waiting process, leave the terminal
 * (standard input and output to /dev/null; standard error too, and the log
 * to syslog, when it is a terminal; a redirected one is kept) and the
 * working directory. No-op without detach_begin().
 */
void detach_ready(void);

#endif

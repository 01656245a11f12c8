/* SPDX-License-Identifier: MIT */
/*
 * The daemon: the event loop's owner of every interface, the shared batch
 * buffers and the netlink socket. Start-up loads the config directory and
 * brings each interface up; a file that fails is reported and skipped, so one
 * bad file never takes the others down.
 */
#ifndef TUND_DAEMON_H
#define TUND_DAEMON_H

#include <ev.h>
#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "list.h"

struct linkwatch;
struct netlink;
struct scratch;
struct iface;

struct daemon {
	struct ev_loop *loop; /* borrowed */
	struct scratch *scratch;
	struct netlink *nl;
	struct linkwatch *lw; /* links deleted under us (ip link del, wg-quick down) */
	struct list_head ifaces; /* struct iface, sorted by name */
	char *config_dir;
	/* Interfaces taken down by `tunctl down`: reload leaves them down. */
	char **held_down;
	size_t n_held_down;
	uint64_t next_peer_id;
	double started_s;
};

int daemon_create(struct ev_loop *loop, const char *config_dir, struct daemon **out);
/* Take every interface down and free. NULL is a no-op. */
void daemon_destroy(struct daemon *d);
/*
 * The first step of stopping: close every interface's localhost-tunnel
 * connections (iface_close_localhost_tunnels()). True when one was open:
 * the loop should then run a moment longer to send what that closing wrote.
 */
bool daemon_close_localhost_tunnels(struct daemon *d);

/*
 * Load the config directory and bring up every interface that loads. Errors
 * are logged with file and line. Returns 0, or the number of files or
 * interfaces that failed.
 */
int daemon_start(struct daemon *d);

/*
 * Re-read the config directory and apply the difference: new files bring
 * interfaces up, removed files take them down, changed files are applied in
 * place (iface_reconfigure) or, when interface-level settings changed, by
 * restarting that interface. A file with errors leaves its interface as it
 * is. diags gets every error and warning; changes (may be NULL) gets one
 * string per change. Returns the number of files or interfaces that failed,
 * or -errno when the directory cannot be read (then nothing changed).
 */
int daemon_reload(struct daemon *d, struct diag_list *diags, json_t *changes);

/*
 * Bring up the interface of config_dir/NAME.conf (`tunctl up`), which was
 * down: never started, its file was broken, or `tunctl down`. Returns 0,
 * -EEXIST when it is up already, -ENOENT when there is no such file, -EINVAL
 * when the file has errors (in diags), or the error of bringing it up.
 */
int daemon_up(struct daemon *d, const char *name, struct diag_list *diags, json_t *changes);

/*
 * Take one interface down (`tunctl down`) and keep it down across reloads
 * until daemon_up or a restart of tund. -ENOENT when it is not up. One
 * without a file (daemon_create_fileless) is deleted and forgotten.
 */
int daemon_down(struct daemon *d, const char *name, json_t *changes);

/*
 * Create interface NAME without a file (tund-wg, the control command
 * create): a TUN device, down, no key, no port, no peer, brought up
 * through iface_create() like any other, configured afterwards (wg's UAPI,
 * the control socket). Reload neither removes it nor applies a file of
 * its name to it (that file is an error while it exists); its link being
 * deleted (`ip link del`, wg-quick down) forgets it. Returns 0, -EINVAL
 * (not an interface name), -EEXIST (tund has one of that name), or the
 * error of bringing it up. The caller checks for other devices and files
 * of the name.
 *
 * Any interface whose link is deleted under tund is forgotten the same
 * way, without PreDown (iface_forget()); one with a file is then held down
 * as by daemon_down().
 */
int daemon_create_fileless(struct daemon *d, const char *name, json_t *changes);

/* Log each diagnostic at its severity. */
void daemon_log_diags(const struct diag_list *diags);

struct iface *daemon_find_iface(struct daemon *d, const char *name);

#endif

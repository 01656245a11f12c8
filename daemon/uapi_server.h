/* SPDX-License-Identifier: MIT */
/*
 * `wg`'s UAPI socket of an interface: /var/run/wireguard/NAME.sock (the
 * directory `wg` and wireguard-go use; TUND_UAPI_DIR overrides it for
 * tests), mode 0600, root only (SO_PEERCRED checked too), since a get hands
 * out the private key. Each connection reads requests one after another
 * (common/uapi.c), with a line and request limit, an idle timeout and a
 * deadline for a request that never ends; answers a get from the running
 * interface and applies a set with uapi_apply().
 */
#ifndef TUND_UAPI_SERVER_H
#define TUND_UAPI_SERVER_H

struct iface;
struct uapi_server;

/*
 * Serve iface's UAPI socket: iface->uapi is set. A socket of that name that
 * another live process serves is left alone (logged: the interface runs
 * without UAPI); a stale one is replaced. 0 or -errno (logged).
 */
/* Where the sockets are: $TUND_UAPI_DIR, or /var/run/wireguard. */
const char *uapi_server_dir(void);

int uapi_server_open(struct iface *iface);
/* The path iface's UAPI socket is served at, or NULL when it has none. */
const char *uapi_server_path(const struct iface *iface);
/* Close iface's UAPI socket and its connections, remove the file (if still ours). */
void uapi_server_close(struct iface *iface);

#endif

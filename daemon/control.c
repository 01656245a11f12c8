// SPDX-License-Identifier: MIT
/*
 * The control server: the socket (or systemd's), accepting clients, their
 * credentials, and each client's session: requests in, replies out, show's
 * reply streamed. The commands are control_cmd.c's table; see control.h and
 * docs/control-protocol.md.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "control_cmd.h"
#include "control_proto.h"
#include "crypto.h"
#include "daemon.h"
#include "iface.h"
#include "jsonmem.h"
#include "list.h"
#include "log.h"
#include "peer.h"
#include "util.h"

#define MAX_CLIENTS      128
#define CLIENT_TIMEOUT_S 30.0 /* no progress for this long: the client is dropped */
/* Past this much unsent output, stop reading the client's requests. */
#define OUTPUT_HIGH_WATER (1024 * 1024)
/* show writes its reply in pieces of about this size, each when the last is sent. */
#define SHOW_CHUNK (64 * 1024)

struct control {
	struct ev_loop *loop;
	struct control_env env; /* what the commands act on */
	int fd;
	ev_io accept_watcher;
	char *path; /* set when we created the socket file, to remove it */
	bool has_group;
	gid_t group;
	struct list_head clients;
	size_t n_clients;
};

struct client {
	struct list_head node;
	struct control *ctl;
	int fd;
	ev_io read_watcher, write_watcher;
	ev_timer timeout;
	bool may_write; /* root or the control group */
	bool closing; /* EOF or a line too long: close once the lines before are answered */
	char in[CONTROL_MAX_REQUEST];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	/*
	 * A show reply being streamed: interfaces in name order, each one's peers
	 * in creation (id) order, resumed by name and id after each piece, so
	 * interfaces and peers may come and go in between.
	 */
	struct {
		bool active;
		bool one;             /* only the interface named in iface */
		bool in_iface;        /* iface's "peers" array is open */
		char iface[IFNAMSIZ]; /* the interface being, or last, written */
		uint64_t next_peer;   /* the id of its first peer not written yet */
		size_t n_ifaces, n_peers; /* written so far, for the commas */
	} show;
};

/* ---- Clients ---- */

static void client_close(struct client *c)
{
	struct control *ctl = c->ctl;

	ev_io_stop(ctl->loop, &c->read_watcher);
	ev_io_stop(ctl->loop, &c->write_watcher);
	ev_timer_stop(ctl->loop, &c->timeout);
	close(c->fd);
	list_del(&c->node);
	ctl->n_clients--;
	free(c->out);
	/* A request not yet handled may hold a preshared key. */
	crypto_wipe(c->in, sizeof(c->in));
	free(c);
}

/* Queue text and try to write it now; returns false when the client was closed. */
static bool client_send(struct client *c, const char *text, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *n;

		while (cap < c->out_len + len)
			cap *= 2;
		n = realloc(c->out, cap);
		if (!n) {
			client_close(c);
			return false;
		}
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out_len += len;
	ev_io_start(c->ctl->loop, &c->write_watcher);
	return true;
}

static bool client_reply(struct client *c, json_t *reply)
{
	char *text;
	bool ok;

	text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	if (!text) {
		client_close(c);
		return false;
	}
	ok = client_send(c, text, strlen(text)) && client_send(c, "\n", 1);
	free(text);
	return ok;
}

/* Queue value as JSON text (and drop it), after a comma unless first. */
static bool client_send_json(struct client *c, json_t *value, bool first)
{
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
	bool ok;

	json_decref(value);
	if (!text) {
		client_close(c);
		return false;
	}
	ok = (first || client_send(c, ",", 1)) && client_send(c, text, strlen(text));
	free(text);
	return ok;
}

/* The next interface to write, after the one written last. */
static struct iface *show_next_iface(struct client *c)
{
	struct iface *iface;

	if (c->show.one)
		return c->show.n_ifaces ? NULL : daemon_find_iface(c->ctl->env.daemon, c->show.iface);
	list_for_each(iface, &c->ctl->env.daemon->ifaces, node)
		if (!c->show.n_ifaces || strcmp(iface->name, c->show.iface) > 0)
			return iface;
	return NULL;
}

/* Write the next piece of a show reply; false when the client was closed. */
static bool show_continue(struct client *c)
{
	size_t start = c->out_len;

	while (c->out_len - start < SHOW_CHUNK) {
		struct iface *iface;
		struct peer *peer;
		json_t *head;

		if (!c->show.in_iface) {
			iface = show_next_iface(c);
			if (!iface) {
				c->show.active = false;
				return client_send(c, "]}}\n", 4);
			}
			/* The interface's fields, then an open "peers" array. */
			head = iface_json(iface, true);
			json_object_set_new(head, "peers", json_array());
			if (!client_send_json(c, head, c->show.n_ifaces == 0))
				return false;
			/* Reopen it: drop the "]}" of the empty array and the object. */
			if (memcmp(c->out + c->out_len - 2, "]}", 2) != 0) {
				client_close(c);
				return false;
			}
			c->out_len -= 2;
			snprintf(c->show.iface, sizeof(c->show.iface), "%s", iface->name);
			c->show.in_iface = true;
			c->show.next_peer = 0;
			c->show.n_peers = 0;
			continue;
		}
		iface = daemon_find_iface(c->ctl->env.daemon, c->show.iface);
		peer = NULL;
		if (iface) {
			list_for_each(peer, &iface->peers, node)
				if (peer->id >= c->show.next_peer)
					break;
		}
		for (; iface && &peer->node != &iface->peers && c->out_len - start < SHOW_CHUNK;
		     peer = list_entry(peer->node.next, struct peer, node)) {
			json_t *pj = peer_json(peer, iface_config_find_peer_key(iface->cfg,
										peer->public_key));

			if (!client_send_json(c, pj, c->show.n_peers++ == 0))
				return false;
			c->show.next_peer = peer->id + 1;
		}
		if (iface && &peer->node != &iface->peers)
			break; /* a piece is full */
		/* The interface's peers are written, or the interface went down. */
		if (!client_send(c, "]}", 2))
			return false;
		c->show.in_iface = false;
		c->show.n_ifaces++;
	}
	return true;
}

static bool show_start(struct client *c, json_t *plan)
{
	const char *name = json_string_value(json_object_get(plan, "interface"));
	static const char head[] = "{\"version\":1,\"ok\":true,\"result\":{\"interfaces\":[";

	_Static_assert(CONTROL_PROTOCOL_VERSION == 1, "the show header spells the version");
	memset(&c->show, 0, sizeof(c->show));
	c->show.active = true;
	if (name) {
		c->show.one = true;
		snprintf(c->show.iface, sizeof(c->show.iface), "%s", name);
	}
	json_decref(plan);
	return client_send(c, head, sizeof(head) - 1) && show_continue(c);
}

static bool client_error(struct client *c, const char *code, const char *message)
{
	return client_reply(c, json_pack("{s:i,s:b,s:{s:s,s:s}}", "version",
					 CONTROL_PROTOCOL_VERSION, "ok", false, "error", "code",
					 code, "message", message));
}

static bool client_handle_line(struct client *c, const char *line, size_t len)
{
	struct cmd_error err = {0};
	const struct control_cmd *cmd;
	json_t *req, *result;
	int rc;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	rc = control_dispatch(&c->ctl->env, req, c->may_write, &cmd, &result, &err);
	json_decref(req);
	if (rc != 0)
		return client_error(c, err.code, err.message);
	if (cmd->streams)
		return show_start(c, result);
	return client_reply(c, json_pack("{s:i,s:b,s:o}", "version", CONTROL_PROTOCOL_VERSION, "ok",
					 true, "result", result ? result : json_object()));
}

/* Handle every complete line in the input buffer. */
static bool client_process(struct client *c)
{
	char *nl;

	while (!c->show.active && c->out_len - c->out_off < OUTPUT_HIGH_WATER &&
	       (nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = (size_t)(nl - c->in);

		if (len > 0 && !client_handle_line(c, c->in, len))
			return false;
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
		/* The handled line may hold a preshared key: wipe what the move left behind. */
		crypto_wipe(c->in + c->in_len, len + 1);
	}
	if (c->in_len == sizeof(c->in) && !memchr(c->in, '\n', c->in_len)) {
		c->closing = true;
		c->in_len = 0;
		crypto_wipe(c->in, sizeof(c->in));
		return client_error(c, "request_too_large", "a request line is limited to 64 KiB");
	}
	return true;
}

static void client_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	(void)revents;
	if (c->closing || c->out_len - c->out_off >= OUTPUT_HIGH_WATER ||
	    c->in_len == sizeof(c->in)) {
		/*
		 * Backpressure: no new requests until the replies are read. A full
		 * buffer holds whole lines waiting behind a show reply (a read into
		 * no room would return 0 and look like EOF); the write side restarts us.
		 */
		ev_io_stop(loop, w);
		return;
	}
	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF: answer what is complete, then close when written. */
		c->closing = true;
		ev_io_stop(loop, w);
		if (c->out_len == c->out_off)
			client_close(c);
		return;
	}
	c->in_len += (size_t)n;
	ev_timer_again(loop, &c->timeout);
	if (!client_process(c))
		return;
	if (c->closing && c->out_len == c->out_off)
		client_close(c);
}

static void client_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	(void)revents;
	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
		ev_timer_again(loop, &c->timeout);
	}
	c->out_off = c->out_len = 0;
	ev_io_stop(loop, w);
	if (c->show.active) {
		/* The next piece of a show reply, even if the client sent EOF. */
		show_continue(c);
		return;
	}
	/* Requests that waited for the output to drain, those before an EOF too. */
	if (!client_process(c))
		return;
	if (!c->closing)
		ev_io_start(loop, &c->read_watcher);
	else if (c->out_len == c->out_off)
		client_close(c);
}

static void client_on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	log_debug("control: dropping a client that made no progress for %.0f s", CLIENT_TIMEOUT_S);
	client_close(c);
}

/*
 * Whether the peer of fd may change state: root, or the control group as its
 * primary group (SO_PEERCRED) or one of its supplementary groups
 * (SO_PEERGROUPS, Linux 4.13).
 */
static bool client_may_write(const struct control *ctl, int fd, const struct ucred *cred)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (cred->uid == 0)
		return true;
	if (!ctl->has_group)
		return false;
	if (cred->gid == ctl->group)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno != ERANGE || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		found = found || groups[i] == ctl->group;
	if (groups != small)
		free(groups);
	return found;
}

static void control_on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = w->data;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	(void)revents;
	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (ctl->n_clients >= MAX_CLIENTS ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_debug("control: refusing a client (%zu connected)", ctl->n_clients);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->may_write = client_may_write(ctl, fd, &cred);
	ev_io_init(&c->read_watcher, client_on_readable, fd, EV_READ);
	ev_io_init(&c->write_watcher, client_on_writable, fd, EV_WRITE);
	ev_init(&c->timeout, client_on_timeout);
	c->timeout.repeat = CLIENT_TIMEOUT_S;
	c->read_watcher.data = c->write_watcher.data = c->timeout.data = c;
	list_add_tail(&c->node, &ctl->clients);
	ctl->n_clients++;
	ev_io_start(loop, &c->read_watcher);
	ev_timer_again(loop, &c->timeout);
}

/* ---- The socket ---- */

static void resolve_group(struct control *ctl, const char *group)
{
	struct group *gr;
	char *end;
	unsigned long gid;

	if (!group || !*group)
		return;
	gid = strtoul(group, &end, 10);
	if (*end == '\0') {
		ctl->group = (gid_t)gid;
		ctl->has_group = true;
		return;
	}
	gr = getgrnam(group);
	if (gr) {
		ctl->group = gr->gr_gid;
		ctl->has_group = true;
	}
}

/* A socket file at path: in use by a live tund (-EADDRINUSE), or stale (removed). */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	unlink(path);
	return 0;
}

static int create_socket(struct control *ctl, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old_umask;
	char *dir, *slash;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755); /* /run/tund outside systemd; EEXIST is fine */
	}
	free(dir);
	rc = clear_stale(path, &sun);
	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Never world-accessible, not even between bind() and chmod(). */
	old_umask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc != 0 || listen(fd, 64) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (ctl->has_group && (chown(path, 0, ctl->group) != 0 || chmod(path, 0660) != 0))
		log_warn("control: cannot give group %u access to %s: %s", (unsigned int)ctl->group,
			 path, strerror(errno));
	ctl->path = strdup(path);
	ctl->fd = fd;
	return 0;
}

/* Why fd is not what tund.socket's ListenStream= gives, or NULL when it is. */
static const char *passed_socket_problem(int fd)
{
	int rc = sd_is_socket(fd, AF_UNSPEC, 0, -1);

	if (rc < 0)
		return strerror(-rc);
	if (rc == 0)
		return "it is not a socket";
	if (sd_is_socket_unix(fd, 0, -1, NULL, 0) <= 0)
		return "it is not a Unix socket";
	if (sd_is_socket_unix(fd, SOCK_STREAM, -1, NULL, 0) <= 0)
		return "it is not a stream socket";
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
		return "it is not listening";
	return NULL;
}

/*
 * Socket activation (tund.socket): systemd passed n sockets (n < 0: its
 * LISTEN_* variables are broken). Exactly one listening AF_UNIX stream
 * socket is taken; anything else is refused rather than replaced by a socket
 * of our own, which the socket unit's clients would never reach. systemd
 * owns the socket file and its mode and group: ctl->path stays NULL, so the
 * file is neither changed nor removed, and only control_destroy() closes
 * the fd (a reload never touches it).
 */
static int take_passed_socket(struct control *ctl, int n)
{
	const int fd = SD_LISTEN_FDS_START;
	struct sockaddr_un sun = {0};
	socklen_t len = sizeof(sun);
	const char *why;
	int flags;

	if (n < 0) {
		log_error("control: systemd's LISTEN_FDS/LISTEN_PID are unusable: %s",
			  strerror(-n));
		return n;
	}
	if (n != 1) {
		log_error("control: LISTEN_FDS=%d: tund takes one socket, the control socket", n);
		return -EINVAL;
	}
	why = passed_socket_problem(fd);
	if (why) {
		log_error(
			"control: fd %d from LISTEN_FDS=1: %s; expected a listening Unix stream socket (ListenStream=)",
			fd, why);
		return -ENOTSOCK;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		int rc = -errno;

		log_error("control: cannot make the passed socket non-blocking: %s", strerror(-rc));
		return rc;
	}
	ctl->fd = fd;
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path) && sun.sun_path[0] != '\0')
		log_info("control: listening on %.*s (passed by systemd)",
			 (int)sizeof(sun.sun_path), sun.sun_path);
	else
		log_info("control: listening on the socket systemd passed");
	return 0;
}

int control_create(struct ev_loop *loop, struct daemon *d, struct service *svc,
		   const struct control_options *opts, struct control **out)
{
	struct control *ctl;
	int n, rc;

	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->env.daemon = d;
	ctl->env.service = svc;
	ctl->fd = -1;
	list_init(&ctl->clients);
	resolve_group(ctl, opts->group);
	/* Requests carry preshared keys: what jansson copies them into is wiped when freed. */
	jsonmem_init();

	/* Unsets LISTEN_*, so that PreUp/PostUp commands do not inherit them. */
	n = sd_listen_fds(1);
	if (n != 0) {
		rc = take_passed_socket(ctl, n);
		if (rc != 0) {
			free(ctl);
			return rc;
		}
	} else {
		rc = create_socket(ctl, opts->path);
		if (rc != 0) {
			log_error("control: cannot listen on %s: %s", opts->path,
				  rc == -EADDRINUSE ? "another tund is running there"
				  : rc == -EEXIST   ? "a file that is not a socket is in the way"
						    : strerror(-rc));
			free(ctl);
			return rc;
		}
		log_info("control: listening on %s (%s)", opts->path,
			 ctl->has_group ? "root and the control group may change state"
					: "only root may connect");
	}
	ev_io_init(&ctl->accept_watcher, control_on_accept, ctl->fd, EV_READ);
	ctl->accept_watcher.data = ctl;
	ev_io_start(loop, &ctl->accept_watcher);
	*out = ctl;
	return 0;
}

void control_destroy(struct control *ctl)
{
	if (!ctl)
		return;
	while (!list_empty(&ctl->clients))
		client_close(list_entry(ctl->clients.next, struct client, node));
	ev_io_stop(ctl->loop, &ctl->accept_watcher);
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->path) {
		unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl);
}

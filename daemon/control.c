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
#include "control_watch.h"
#include "daemon.h"
#include "iface.h"
#include "jsonline.h"
#include "jsonmem.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"

#define MAX_CLIENTS      128
#define CLIENT_TIMEOUT_S 30.0 /* no progress for this long: the client is dropped */
/* Past this much unsent output, stop reading the client's requests. */
#define OUTPUT_HIGH_WATER (1024 * 1024)
/* show writes its reply in pieces of about this size, each when the last is sent. */
#define SHOW_CHUNK (64 * 1024)

/* What a client's session is held to (jsonline.h). */
static bool client_on_overlong(struct jsonline *conn);
static const struct jsonline_session client_session = {
	.max_line = CONTROL_MAX_REQUEST,
	.high_water = OUTPUT_HIGH_WATER,
	.idle_timeout_s = CLIENT_TIMEOUT_S,
	.on_overlong = client_on_overlong,
};

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

/* Owned by its control's list; owns its connection. */
struct client {
	struct list_head node;
	struct control *ctl;
	struct jsonline *conn; /* the framing, buffers and backpressure */
	bool may_write;	       /* root or the control group */
	struct control_watch *watch; /* after a watch request: its subscription */
	/*
	 * A show reply being streamed: interfaces in name order, each one's peers
	 * in creation (id) order, resumed by name and id after each piece, so
	 * interfaces and peers may come and go in between. Each piece is built
	 * in text, then queued whole.
	 */
	struct {
		bool one;		  /* only the interface named in iface */
		bool in_iface;		  /* iface's "peers" array is open */
		char iface[IFNAMSIZ];	  /* the interface being, or last, written */
		uint64_t next_peer;	  /* the id of its first peer not written yet */
		/* next_peer's key, to find it again at once (ids grow along the list) */
		bool has_next_key;
		uint8_t next_key[KEY_LEN];
		size_t n_ifaces, n_peers; /* written so far, for the commas */
		struct textbuf text;	  /* the current piece */
	} show;
	/* A metrics reply being streamed: its text (metrics.c), JSON-escaped into show.text. */
	struct metrics_scrape *metrics;
	struct textbuf metrics_raw;
};

/* ---- Clients ---- */

static void client_close(struct client *c)
{
	control_watch_destroy(c->watch);
	jsonline_destroy(c->conn); /* wipes what was read: a request may hold a preshared key */
	textbuf_free(&c->show.text);
	textbuf_free(&c->metrics_raw);
	free(c->metrics);
	list_del(&c->node);
	c->ctl->n_clients--;
	free(c);
}

/* Queue reply (taken) as a line; false when the client was closed. */
static bool client_reply(struct client *c, json_t *reply)
{
	if (jsonline_send(c->conn, reply) == 0)
		return true;
	client_close(c);
	return false;
}

static bool client_error(struct client *c, const char *code, const char *message)
{
	return client_reply(c, json_pack("{s:i,s:b,s:{s:s,s:s}}", "version",
					 CONTROL_PROTOCOL_VERSION, "ok", false, "error", "code",
					 code, "message", message));
}

/*
 * Add value's JSON text (and drop it) to the piece, after a comma unless
 * first; without its last `strip` bytes. 0 or -errno.
 */
static int show_put_json(struct client *c, json_t *value, bool first, size_t strip)
{
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0;

	json_decref(value);
	if (!text || len < strip) {
		free(text);
		return -ENOMEM;
	}
	if (!first)
		textbuf_put(&c->show.text, ",", 1);
	textbuf_put(&c->show.text, text, len - strip);
	free(text);
	return c->show.text.failed ? -ENOMEM : 0;
}

/* The next interface to write, after the one written last. */
static struct iface *show_next_iface(struct client *c)
{
	struct iface *iface;

	if (c->show.one)
		return c->show.n_ifaces ? NULL
					: daemon_find_iface(c->ctl->env.daemon, c->show.iface);
	list_for_each(iface, &c->ctl->env.daemon->ifaces, node)
		if (!c->show.n_ifaces || strcmp(iface->name, c->show.iface) > 0)
			return iface;
	return NULL;
}

/*
 * The fields of the next interface, and its "peers" array left open. 0, 1
 * when none is left, or -errno.
 */
static int show_open_iface(struct client *c)
{
	struct iface *iface = show_next_iface(c);
	json_t *head;
	int rc;

	if (!iface)
		return 1;
	head = iface_json(iface, true);
	json_object_set_new(head, "peers", json_array());
	/* Reopen it: without the "]}" of the empty array and the object. */
	rc = show_put_json(c, head, c->show.n_ifaces == 0, 2);
	if (rc != 0)
		return rc;
	snprintf(c->show.iface, sizeof(c->show.iface), "%s", iface->name);
	c->show.in_iface = true;
	c->show.next_peer = 0;
	c->show.has_next_key = false;
	c->show.n_peers = 0;
	return 0;
}

/*
 * Where the open interface's peers resume: the peer next_peer, found by its
 * key; if it went away, the first one after it (a walk, as rare as that).
 */
static struct peer *show_resume(struct client *c, struct iface *iface)
{
	struct peer *peer = c->show.has_next_key ? iface_find_peer(iface, c->show.next_key) : NULL;

	if (peer && peer->id == c->show.next_peer)
		return peer;
	list_for_each(peer, &iface->peers, node)
		if (peer->id >= c->show.next_peer)
			break;
	return peer;
}

/*
 * The open interface's peers from next_peer on, until the piece is full;
 * then, if they are all written (or the interface went down), the end of
 * the interface. 0, or -errno.
 */
static int show_peers(struct client *c)
{
	struct iface *iface = daemon_find_iface(c->ctl->env.daemon, c->show.iface);
	struct textbuf *text = &c->show.text;
	struct peer *peer;

	if (iface) {
		for (peer = show_resume(c, iface); &peer->node != &iface->peers;
		     peer = list_entry(peer->node.next, struct peer, node)) {
			if (text->len >= SHOW_CHUNK) {
				/* the piece is full: peer comes first in the next */
				c->show.next_peer = peer->id;
				memcpy(c->show.next_key, peer->public_key, KEY_LEN);
				c->show.has_next_key = true;
				return 0;
			}
			if (c->show.n_peers++)
				textbuf_put(text, ",", 1);
			peer_json_write(text, peer,
					 iface_config_find_peer_key(iface->cfg, peer->public_key));
		}
	}
	textbuf_put(text, "]}", 2);
	c->show.in_iface = false;
	c->show.n_ifaces++;
	return text->failed ? -ENOMEM : 0;
}

/*
 * Write a streamed reply's piece (rc: 1 more to come, 0 the last, -errno
 * already failed); returns rc, or -ENOMEM / the write's error.
 */
static int put_piece(struct jsonline *conn, const struct textbuf *text, int rc)
{
	if (rc >= 0 && text->failed)
		return -ENOMEM;
	if (rc >= 0) {
		int put = jsonline_put(conn, text->data, text->len);

		if (put != 0)
			return put;
	}
	return rc;
}

/* The next piece of a show reply (jsonline_stream_fn): 1 while more is to come, 0 at the end. */
static int show_continue(struct jsonline *conn)
{
	struct client *c = conn->owner;
	struct textbuf *text = &c->show.text;
	int rc = 0;

	text->len = 0;
	while (rc == 0 && text->len < SHOW_CHUNK)
		rc = c->show.in_iface ? show_peers(c) : show_open_iface(c);
	if (rc == 1)
		textbuf_put(text, "]}}\n", 4); /* no interface is left: the end */
	rc = rc < 0 ? rc : rc == 1 ? 0 : 1;
	rc = put_piece(conn, text, rc);
	if (rc <= 0)
		textbuf_free(text); /* the reply is complete, or the connection ends */
	return rc;
}

static bool show_start(struct client *c, json_t *plan)
{
	const char *name = json_string_value(json_object_get(plan, "interface"));
	static const char head[] = "{\"version\":1,\"ok\":true,\"result\":{\"interfaces\":[";

	_Static_assert(CONTROL_PROTOCOL_VERSION == 1, "the show header spells the version");
	memset(&c->show, 0, sizeof(c->show));
	if (name) {
		c->show.one = true;
		snprintf(c->show.iface, sizeof(c->show.iface), "%s", name);
	}
	json_decref(plan);
	if (jsonline_put(c->conn, head, sizeof(head) - 1) == 0 &&
	    jsonline_stream(c->conn, show_continue) >= 0)
		return true;
	client_close(c);
	return false;
}

/* len bytes of text as the inside of a JSON string. */
static void put_json_escaped(struct textbuf *b, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
		size_t n = 6;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		textbuf_put(b, text + run, i - run);
		run = i + 1;
		if (ch == '"' || ch == '\\' || ch == '\n') {
			esc[1] = ch == '\n' ? 'n' : (char)ch;
			n = 2;
		}
		textbuf_put(b, esc, n);
	}
	textbuf_put(b, text + run, len - run);
}

/* The next piece of a metrics reply (jsonline_stream_fn): 1 while more is to come, 0 at the end. */
static int metrics_continue(struct jsonline *conn)
{
	struct client *c = conn->owner;
	struct textbuf *raw = &c->metrics_raw, *text = &c->show.text;
	int rc;

	raw->len = 0;
	text->len = 0;
	rc = metrics_scrape_next(c->metrics, c->ctl->env.daemon, raw, SHOW_CHUNK);
	if (rc >= 0)
		put_json_escaped(text, raw->data, raw->len);
	if (rc == 0)
		textbuf_put(text, "\"}}\n", 4);
	rc = put_piece(conn, text, rc);
	if (rc <= 0) { /* the reply is complete, or the connection ends */
		textbuf_free(text);
		textbuf_free(raw);
		free(c->metrics);
		c->metrics = NULL;
	}
	return rc;
}

static bool metrics_start(struct client *c, json_t *plan)
{
	static const char head[] = "{\"version\":1,\"ok\":true,\"result\":{\"text\":\"";

	c->metrics = malloc(sizeof(*c->metrics));
	if (c->metrics)
		metrics_scrape_init(c->metrics,
				    json_string_value(json_object_get(plan, "interface")));
	json_decref(plan);
	if (c->metrics && jsonline_put(c->conn, head, sizeof(head) - 1) == 0 &&
	    jsonline_stream(c->conn, metrics_continue) >= 0)
		return true;
	client_close(c);
	return false;
}

/* One request line (jsonline_msg_fn): msg is NULL when it is not a JSON object. */
static bool client_on_msg(struct jsonline *conn, json_t *msg)
{
	struct client *c = conn->owner;
	struct cmd_error err = {0};
	const struct control_cmd *cmd;
	json_t *result;
	int rc;

	if (c->watch)
		return true; /* a subscription takes no more requests: they are ignored */
	if (control_dispatch(&c->ctl->env, msg, c->may_write, &cmd, &result, &err) != 0)
		return client_error(c, err.code, err.message);
	if (cmd->streams)
		return strcmp(cmd->name, "metrics") == 0 ? metrics_start(c, result)
							   : show_start(c, result);
	if (cmd->run == cmd_watch) {
		rc = control_watch_start(c->conn, result, &c->watch);
		json_decref(result);
		if (rc == -EBUSY)
			return client_error(c, "too_many_watchers",
					    "64 clients watch already (the limit)");
		if (rc != 0)
			client_close(c);
		return rc == 0;
	}
	return client_reply(c, json_pack("{s:i,s:b,s:o}", "version", CONTROL_PROTOCOL_VERSION, "ok",
					 true, "result", result ? result : json_object()));
}

/* A line over the limit: the last reply; the session closes once it is written. */
static bool client_on_overlong(struct jsonline *conn)
{
	return client_error(conn->owner, "request_too_large",
			    "a request line is limited to 64 KiB");
}

static void client_on_close(struct jsonline *conn, int err)
{
	struct client *c = conn->owner;

	/* A watcher with nothing to send waits for events: it is not idle. */
	if (err == -ETIMEDOUT && control_watch_idle_ok(c->watch))
		return;
	if (err == -ETIMEDOUT)
		log_debug("control: dropping a client that made no progress for %.0f s",
			  CLIENT_TIMEOUT_S);
	client_close(conn->owner);
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

	/* The daemon's own user (--user, User=) holds its powers anyway. */
	if (cred->uid == 0 || cred->uid == geteuid())
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
	c->may_write = client_may_write(ctl, fd, &cred);
	if (jsonline_create_session(loop, fd, &client_session, client_on_msg, client_on_close, c,
				    &c->conn) != 0) {
		free(c);
		return;
	}
	list_add_tail(&c->node, &ctl->clients);
	ctl->n_clients++;
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
	if (ctl->has_group && (chown(path, (uid_t)-1, ctl->group) != 0 || chmod(path, 0660) != 0))
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

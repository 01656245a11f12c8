// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the control socket: the input is what a local client
 * writes to tund's control socket, JSON request lines or anything else, and
 * it reaches the real server (control.c, its sessions on jsonline.c) through
 * a real Unix socket, with no seam: framing, dispatch, every command, show's
 * streaming. Behind it are two real interfaces built as start-up builds
 * them (config load, iface_new(), expose_create()) from files in a private
 * directory, a client with [Expose web] and its server with AllowExpose;
 * only the device, its sockets and netconf are missing. Everything is rebuilt for each input.
 *
 * What the fuzzer must never reach, and why it cannot:
 *  - iface_create() (a real TUN device): the config directory that reload
 *    and up read is an empty directory; saves go to the files beside it.
 *    tun_open() is wrapped to abort, in case that ever changes.
 *  - DNS: resolve_init() is not called, so an endpoint name is "unresolved"
 *    at once and no query leaves the process.
 *  - localhost-tunnel connections: their sockets are bound to the device
 *    (SO_BINDTODEVICE), which does not exist, so they fail before connect.
 *
 * Besides crashes, leaks and UB it checks what a client relies on: each
 * reply is one JSON object line of protocol version 1 with "result" or an
 * "error" {code, message}; every complete request line is answered, in
 * order, unless the connection was closed for a line over 64 KiB; and the
 * running peers are exactly the peers of the interface's configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "control_proto.h"
#include "crypto.h"
#include "daemon.h"
#include "expose.h"
#include "iface.h"
#include "log.h"
#include "noise.h"
#include "peer.h"
#include "ratelimiter.h"
#include "service.h"
#include "support.h"
#include "udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_tun_open(const char *name, bool want_offloads, struct tun_features *feat);
int __real_ratelimiter_create(struct ratelimiter **out);
void __real_ratelimiter_destroy(struct ratelimiter *rl);
int __wrap_ratelimiter_create(struct ratelimiter **out);
void __wrap_ratelimiter_destroy(struct ratelimiter *rl);
int __real_curve25519_public_from_private(uint8_t pub[static CURVE25519_KEY_LEN],
					  const uint8_t priv[static CURVE25519_KEY_LEN]);
int __wrap_curve25519_public_from_private(uint8_t pub[static CURVE25519_KEY_LEN],
					  const uint8_t priv[static CURVE25519_KEY_LEN]);
bool __real_curve25519_shared(uint8_t out[static CURVE25519_KEY_LEN],
			      const uint8_t priv[static CURVE25519_KEY_LEN],
			      const uint8_t pub[static CURVE25519_KEY_LEN]);
bool __wrap_curve25519_shared(uint8_t out[static CURVE25519_KEY_LEN],
			      const uint8_t priv[static CURVE25519_KEY_LEN],
			      const uint8_t pub[static CURVE25519_KEY_LEN]);

#define MAX_INPUT   (4 * CONTROL_MAX_REQUEST)
#define WRITE_CHUNK 1000 /* the client writes this much per loop turn: lines span reads */
#define MAX_TURNS   1000000

/* The interfaces' files: tfz0 publishes web through tfz1, its server. */
static const struct {
	const char *name;
	const char *text;
} fixtures[] = {
	{"tfz0", "[Interface]\n"
		 "PrivateKey = yFEry3LHQ7TuzuA77jHfWbNDaSDlVv6NGrjnAZJucH8=\n"
		 "Address = 10.66.0.2/24, fd66::2/64\n"
		 "\n"
		 "[Peer]\n"
		 "Name = server\n"
		 "PublicKey = kYGOZ8X68Igs3zZgvoldJXmhxsnOUqi69DVf8oDq534=\n"
		 "AllowedIPs = 10.66.0.1/32, fd66::1/128\n"
		 "Endpoint = 192.0.2.1:51820\n"
		 "PersistentKeepalive = 25\n"
		 "\n"
		 "# the laptop\n"
		 "[Peer]\n"
		 "Name = laptop\n"
		 "PublicKey = tXWqmUBabK2ZRbpjwaXpkC95srTtSsPjOJke3PUnlFo=\n"
		 "PresharedKey = Jx7mWPE1XNf9gJB3xCr42Ponbp0qgeHKFuHKXQQTHKM=\n"
		 "AllowedIPs = 10.66.0.3/32, 10.99.0.0/16\n"
		 "\n"
		 "[Expose web]\n"
		 "Peer = server\n"
		 "LocalPort = 8000\n"
		 "PublicPort = 8080\n"
		 "ProxyProtocol = yes\n"},
	{"tfz1", "[Interface]\n"
		 "PrivateKey = GKOgVEY+erylD9CA3up/sTkz74CxcNRKs3Cszu3wg1c=\n"
		 "Address = 10.66.0.1/24\n"
		 "ListenPort = 51820\n"
		 "\n"
		 "[Peer]\n"
		 "Name = client\n"
		 "PublicKey = ShyyOrZ0zKKbV8oR18lIcLQk9k1ooedHhpOoJ7WPRVY=\n"
		 "AllowedIPs = 10.66.0.2/32\n"
		 "AllowExpose = 8000-8099\n"
		 "\n"
		 "[Peer]\n"
		 "PublicKey = tXWqmUBabK2ZRbpjwaXpkC95srTtSsPjOJke3PUnlFo=\n"
		 "AllowedIPs = 10.66.0.3/32, 192.168.50.0/24\n"},
};

static char dir[TS_DIR_LEN];
static char conf_dir[sizeof(dir) + 8], sock_path[sizeof(dir) + 16];
static struct scratch *scratch;
static struct daemon daemon_;
static struct service service_;
static struct control *control;

/* Reaching a TUN device would change the machine the fuzzer runs on. */
int __wrap_tun_open(const char *name, bool want_offloads, struct tun_features *feat)
{
	(void)want_offloads;
	(void)feat;
	fprintf(stderr, "fuzz_control: tun_open(\"%s\") reached\n", name);
	abort();
}

/*
 * Each interface's handshake rate limiter is a 360 KiB table, set up at
 * creation: 85 % of an input's time. No request reaches it (it counts
 * handshake packets), so a few made once are lent out again and again.
 */
static struct ratelimiter *spare_limiters[8];
static size_t n_spare_limiters;

int __wrap_ratelimiter_create(struct ratelimiter **out)
{
	if (n_spare_limiters == 0)
		return __real_ratelimiter_create(out);
	*out = spare_limiters[--n_spare_limiters];
	return 0;
}

void __wrap_ratelimiter_destroy(struct ratelimiter *rl)
{
	if (rl && n_spare_limiters < sizeof(spare_limiters) / sizeof(spare_limiters[0]))
		spare_limiters[n_spare_limiters++] = rl;
	else
		__real_ratelimiter_destroy(rl);
}

/*
 * X25519 is a pure function, and the fixtures' keys are the same for every
 * input: their public keys and static-static DH (config load, iface_new)
 * were 60 % of the rest. The last few answers are remembered.
 */
struct x25519_memo {
	bool is_set, ok;
	uint8_t priv[CURVE25519_KEY_LEN], pub[CURVE25519_KEY_LEN], out[CURVE25519_KEY_LEN];
};

static struct x25519_memo memo[32];
static size_t memo_next;

static struct x25519_memo *memo_find(const uint8_t *priv, const uint8_t *pub)
{
	for (size_t i = 0; i < sizeof(memo) / sizeof(memo[0]); i++)
		if (memo[i].is_set && memcmp(memo[i].priv, priv, CURVE25519_KEY_LEN) == 0 &&
		    memcmp(memo[i].pub, pub, CURVE25519_KEY_LEN) == 0)
			return &memo[i];
	return NULL;
}

static void memo_put(const uint8_t *priv, const uint8_t *pub, const uint8_t *out, bool ok)
{
	struct x25519_memo *m = &memo[memo_next++ % (sizeof(memo) / sizeof(memo[0]))];

	m->is_set = true;
	m->ok = ok;
	memcpy(m->priv, priv, CURVE25519_KEY_LEN);
	memcpy(m->pub, pub, CURVE25519_KEY_LEN);
	memcpy(m->out, out, CURVE25519_KEY_LEN);
}

bool __wrap_curve25519_shared(uint8_t out[static CURVE25519_KEY_LEN],
			      const uint8_t priv[static CURVE25519_KEY_LEN],
			      const uint8_t pub[static CURVE25519_KEY_LEN])
{
	struct x25519_memo *m = memo_find(priv, pub);
	bool ok;

	if (m) {
		memcpy(out, m->out, CURVE25519_KEY_LEN);
		return m->ok;
	}
	ok = __real_curve25519_shared(out, priv, pub);
	memo_put(priv, pub, out, ok);
	return ok;
}

/* X25519(priv, 9): the base point as the public key. */
int __wrap_curve25519_public_from_private(uint8_t pub[static CURVE25519_KEY_LEN],
					  const uint8_t priv[static CURVE25519_KEY_LEN])
{
	static const uint8_t base[CURVE25519_KEY_LEN] = {9};
	struct x25519_memo *m = memo_find(priv, base);
	int rc;

	if (m) {
		memcpy(pub, m->out, CURVE25519_KEY_LEN);
		return 0;
	}
	rc = __real_curve25519_public_from_private(pub, priv);
	if (rc == 0)
		memo_put(priv, base, pub, true);
	return rc;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.conf", dir, name);
}

static void remove_files(void)
{
	char p[sizeof(dir) + 32];

	control_destroy(control);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		path_of(p, sizeof(p), fixtures[i].name);
		unlink(p);
	}
	rmdir(conf_dir);
	rmdir(dir);
}

static void init_once(void)
{
	struct control_options opts = {.path = sock_path};
	char gid[16];

	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0 || scratch_create(&scratch) != 0)
		abort();
	noise_init();
	/* Never talk to a service manager the fuzzer happens to run under. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("LISTEN_FDS");
	/* Saves fsync: TMPDIR=/dev/shm makes long runs faster. */
	ts_tmpdir(dir, "fuzz-control");
	snprintf(conf_dir, sizeof(conf_dir), "%s/conf", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	if (mkdir(conf_dir, 0700) != 0)
		abort();

	daemon_.loop = ev_default_loop(0);
	daemon_.scratch = scratch;
	daemon_.config_dir = conf_dir;
	daemon_.started_s = clock_now_s();
	list_init(&daemon_.ifaces);
	service_init(&service_, daemon_.loop);
	/* Our own group may change state, root or not. */
	snprintf(gid, sizeof(gid), "%u", (unsigned int)getgid());
	opts.group = gid;
	if (control_create(daemon_.loop, &daemon_, &service_, &opts, &control) != 0)
		abort();
	atexit(remove_files);
}

/*
 * The fixture's file as it was written, unless a save replaced it since
 * (a save renames a new file over it: another inode), so that the file is
 * written only after a save.
 */
static void restore_file(const char *path, const char *text, ino_t *ino)
{
	size_t len = strlen(text);
	struct stat st;
	int fd;

	if (*ino && stat(path, &st) == 0 && st.st_ino == *ino && (size_t)st.st_size == len)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fstat(fd, &st) != 0)
		abort();
	close(fd);
	*ino = st.st_ino;
}

/*
 * The interfaces as start-up brings them up, minus device, sockets and
 * routes. The file is loaded from the text, which is the file's.
 */
static void bring_up(void)
{
	static ino_t inodes[sizeof(fixtures) / sizeof(fixtures[0])];
	char path[sizeof(dir) + 32];

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const char *text = fixtures[i].text;
		struct diag_list diags = {0};
		struct iface_config *cfg;
		struct iface *iface;

		path_of(path, sizeof(path), fixtures[i].name);
		restore_file(path, text, &inodes[i]);
		if (config_load_string(path, text, strlen(text), &cfg, &diags) != 0 ||
		    iface_new(daemon_.loop, scratch, NULL, &daemon_.next_peer_id, cfg, &iface) !=
			    0 ||
		    expose_create(iface, &iface->expose) != 0)
			abort();
		iface->hooks = &expose_iface_hooks; /* as iface_create() would set them */
		diag_list_clear(&diags);
		list_add_tail(&iface->node, &daemon_.ifaces); /* the fixtures are in name order */
	}
}

static void take_down(void)
{
	while (!list_empty(&daemon_.ifaces)) {
		struct iface *iface = list_entry(daemon_.ifaces.next, struct iface, node);

		list_del(&iface->node);
		iface_destroy(iface);
	}
	for (size_t i = 0; i < daemon_.n_held_down; i++)
		free(daemon_.held_down[i]);
	free(daemon_.held_down);
	daemon_.held_down = NULL;
	daemon_.n_held_down = 0;
}

struct output {
	char *text;
	size_t len, cap;
};

static void output_read(int fd, struct output *o, bool *eof)
{
	for (;;) {
		ssize_t n;

		if (o->cap - o->len < 4096) {
			o->cap = o->cap ? o->cap * 2 : 8192;
			if (!(o->text = realloc(o->text, o->cap)))
				abort();
		}
		n = recv(fd, o->text + o->len, o->cap - o->len, 0);
		if (n > 0) {
			o->len += (size_t)n;
			continue;
		}
		/* ECONNRESET: tund closed with our request unread (a line over the limit). */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			*eof = true;
		else if (errno != EAGAIN && errno != EINTR)
			abort();
		return;
	}
}

/*
 * Write data as a client that pipelines, then EOF; turn the loop until tund
 * closes the connection. Replies are read only when a write makes no
 * progress, so that tund's output piles up and its backpressure is reached.
 */
static void converse(const uint8_t *data, size_t size, struct output *o)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t off = 0;
	bool eof = false, shut = false;
	int fd, turns = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		abort();
	while (!eof) {
		bool wrote = false;

		if (off < size) {
			size_t want = size - off < WRITE_CHUNK ? size - off : WRITE_CHUNK;
			ssize_t n = send(fd, data + off, want, MSG_NOSIGNAL);

			if (n > 0)
				off += (size_t)n;
			else if (errno == EPIPE || errno == ECONNRESET)
				off = size; /* closed on us: the rest is not read */
			else if (errno != EAGAIN)
				abort();
			wrote = n > 0;
		} else if (!shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		ev_run(daemon_.loop, EVRUN_NOWAIT);
		if (!wrote)
			output_read(fd, o, &eof);
		if (++turns > MAX_TURNS) {
			fprintf(stderr, "fuzz_control: tund stopped answering\n");
			abort();
		}
	}
	close(fd);
}

/* Complete, non-empty lines: the requests tund must answer. Sets *overlong. */
static size_t count_requests(const uint8_t *data, size_t size, bool *overlong)
{
	size_t n = 0, start = 0;

	*overlong = false;
	for (size_t i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		if (i - start >= CONTROL_MAX_REQUEST)
			*overlong = true;
		n += i > start && !*overlong;
		start = i + 1;
	}
	*overlong = *overlong || size - start >= CONTROL_MAX_REQUEST;
	return n;
}

static void check_reply(const char *line, size_t len)
{
	json_t *r = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *ok, *e;

	ok = json_object_get(r, "ok");
	if (!json_is_object(r) || json_integer_value(json_object_get(r, "version")) != 1 ||
	    !json_is_boolean(ok))
		abort();
	e = json_object_get(r, "error");
	if (json_is_true(ok) ? !json_is_object(json_object_get(r, "result")) || e
			     : !json_is_string(json_object_get(e, "code")) ||
				       !json_is_string(json_object_get(e, "message")))
		abort();
	json_decref(r);
}

/*
 * One reply per request, each a whole line. A line over the limit is
 * answered with request_too_large and the connection closed: the lines
 * after it get nothing.
 */
static void check_replies(const struct output *o, size_t n_requests, bool overlong)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i < o->len; i++) {
		if (o->text[i] != '\n')
			continue;
		check_reply(o->text + start, i - start);
		n++;
		start = i + 1;
	}
	if (start != o->len || n != n_requests + overlong) {
		fprintf(stderr, "fuzz_control: %zu replies to %zu requests%s\n", n, n_requests,
			overlong ? " and a line over the limit" : "");
		abort();
	}
}

/* The running peers are the configuration's, by key and by name. */
static void check_ifaces(void)
{
	struct iface *iface;

	list_for_each(iface, &daemon_.ifaces, node) {
		const struct iface_config *cfg = iface->cfg;

		if (iface->n_peers != cfg->n_peers)
			abort();
		for (size_t i = 0; i < cfg->n_peers; i++) {
			const struct peer_config *pc = &cfg->peers[i];
			struct peer *peer = iface_find_peer(iface, pc->public_key);

			if (!peer || (pc->name && iface_config_find_peer(cfg, pc->name) != pc))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct output out = {0};
	size_t n_requests;
	bool overlong;

	if (!control)
		init_once();
	if (size > MAX_INPUT)
		return 0;
	log_set_level(LOG_LEVEL_ERROR); /* log-level may have changed it */
	bring_up();
	n_requests = count_requests(data, size, &overlong);
	converse(data, size, &out);
	if (getenv("FUZZ_CONTROL_PRINT")) /* to see what a corpus file does */
		fwrite(out.text, 1, out.len, stdout);
	check_replies(&out, n_requests, overlong);
	check_ifaces();
	take_down();
	free(out.text);
	return 0;
}

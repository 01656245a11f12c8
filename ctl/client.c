// SPDX-License-Identifier: MIT
/* Talking to tund over its control socket: one request line, one reply line. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_proto.h"
#include "jsonmem.h"
#include "tunctl.h"

#define REPLY_TIMEOUT_MS 30000

const char *tunctl_default_socket(void)
{
	const char *env = getenv("TUND_CONTROL_SOCKET");

	return env && env[0] ? env : CONTROL_DEFAULT_SOCKET;
}

static int connect_socket(const char *prog, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: the socket path %s is too long\n", prog, path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "%s: tund is not running (no one listens on %s)\n", prog,
				path);
		else if (e == EACCES || e == EPERM)
			fprintf(stderr,
				"%s: permission denied on %s: run as root or as a member of "
				"the tund group\n",
				prog, path);
		else
			fprintf(stderr, "%s: cannot connect to %s: %s\n", prog, path, strerror(e));
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to the first newline; the reply may be large (show with many peers). */
static char *read_line(int fd)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	while (buf) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		char *nl;

		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
			break;
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

int tunctl_connect(struct tunctl *t)
{
	return connect_socket(t->prog ? t->prog : "tunctl", t->socket_path);
}

int tunctl_send_line(int fd, const char *text)
{
	return write_all(fd, text, strlen(text)) == 0 && write_all(fd, "\n", 1) == 0 ? 0 : -1;
}

int tunctl_call(struct tunctl *t, const char *command, json_t *args, json_t **result)
{
	json_t *req, *reply, *err;
	json_error_t jerr;
	char *text, *line;
	int fd, rc;

	*result = NULL;
	req = json_pack("{s:i,s:s,s:o}", "version", CONTROL_PROTOCOL_VERSION, "command", command,
			"args", args ? args : json_object());
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text)
		return TUNCTL_EXIT_FAILURE;
	fd = connect_socket(t->prog ? t->prog : "tunctl", t->socket_path);
	if (fd < 0) {
		jsonmem_free(text);
		return TUNCTL_EXIT_UNREACHABLE;
	}
	rc = write_all(fd, text, strlen(text));
	/* It may hold a preshared key. */
	jsonmem_free(text);
	if (rc == 0)
		rc = write_all(fd, "\n", 1);
	line = rc == 0 ? read_line(fd) : NULL;
	close(fd);
	if (!line) {
		fprintf(stderr, "%s: no reply from tund on %s\n", t->prog ? t->prog : "tunctl",
			t->socket_path);
		return TUNCTL_EXIT_UNREACHABLE;
	}
	reply = json_loads(line, 0, &jerr);
	free(line);
	if (!json_is_object(reply)) {
		json_decref(reply);
		fprintf(stderr, "%s: tund sent a reply that is not JSON\n",
			t->prog ? t->prog : "tunctl");
		return TUNCTL_EXIT_FAILURE;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		*result = json_incref(json_object_get(reply, "result"));
		json_decref(reply);
		return TUNCTL_EXIT_OK;
	}
	err = json_object_get(reply, "error");
	if (t->json) {
		json_dumpf(reply, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		fputc('\n', stdout);
	}
	fprintf(stderr, "%s: %s: %s\n", t->prog ? t->prog : "tunctl", command,
		json_string_value(json_object_get(err, "message")) ?: "failed");
	rc = json_is_string(json_object_get(err, "code")) &&
			     strcmp(json_string_value(json_object_get(err, "code")),
				    "permission_denied") == 0
		     ? TUNCTL_EXIT_DENIED
		     : TUNCTL_EXIT_FAILURE;
	json_decref(reply);
	return rc;
}

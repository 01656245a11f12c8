// SPDX-License-Identifier: MIT
/* The daemon leaves its terminal; see detach.h. */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static int ready_fd = -1; /* the write end of the pipe the first process waits on */

bool detach_under_service_manager(void)
{
	/* systemd sets INVOCATION_ID for every unit; NOTIFY_SOCKET and LISTEN_FDS as configured. */
	return getenv("INVOCATION_ID") || getenv("NOTIFY_SOCKET") || getenv("LISTEN_FDS");
}

/* The first process: wait for the daemon's word; its status is ours. */
static void wait_for_daemon(pid_t middle, int fd)
{
	unsigned char status = 1;
	ssize_t n;

	(void)waitpid(middle, NULL, 0);
	do
		n = read(fd, &status, 1);
	while (n < 0 && errno == EINTR);
	_exit(n == 1 ? status : 1);
}

int detach_begin(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid > 0) {
		close(p[1]);
		wait_for_daemon(pid, p[0]);
	}
	close(p[0]);
	ready_fd = p[1];
	/* A session of its own, then a second fork: never a session leader, no terminal again. */
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	return 0;
}

void detach_ready(void)
{
	unsigned char ok = 0;
	int null;

	if (ready_fd < 0)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		if (isatty(STDERR_FILENO)) {
			log_to_syslog("tund");
			(void)dup2(null, STDERR_FILENO);
		}
		if (null > STDERR_FILENO)
			close(null);
	}
	/* As under systemd: the paths tund keeps are absolute (main.c made them so). */
	if (chdir("/") != 0)
		log_warn("cannot change to /: %m");
	log_info("running in the background as process %ld", (long)getpid());
	if (write(ready_fd, &ok, 1) != 1)
		log_warn("cannot tell the starting process that tund is ready: %m");
	close(ready_fd);
	ready_fd = -1;
}

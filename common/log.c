// SPDX-License-Identifier: MIT
/* The log sink: level filter and line format for stderr or journald. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level current_level = LOG_LEVEL_INFO;
static bool to_journal;
static bool to_tty;
static bool to_syslog;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static const int syslog_priority[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

/* sd-daemon.h's SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG, without the header. */
static const char *const journal_prefix[] = {
	[LOG_LEVEL_ERROR] = "<3>",
	[LOG_LEVEL_WARN] = "<4>",
	[LOG_LEVEL_INFO] = "<6>",
	[LOG_LEVEL_DEBUG] = "<7>",
};

/*
 * journald sets JOURNAL_STREAM=DEV:INODE of the stream it gives a service as
 * stderr; when stderr is that stream (not redirected by a wrapper, not
 * inherited by a child run elsewhere) lines carry a <N> priority prefix.
 */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &end) != 2 || e[end] != '\0')
		return false;
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(enum log_level level)
{
	to_journal = stderr_is_journal();
	to_tty = !to_journal && isatty(STDERR_FILENO);
	current_level = level;
}

void log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
	to_journal = to_tty = false;
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

bool log_enabled(enum log_level level)
{
	return level <= current_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int saved_errno = errno;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (to_syslog) {
		syslog(syslog_priority[level], "%s", line);
	} else if (to_journal) {
		fprintf(stderr, "%s%s\n", journal_prefix[level], line);
	} else if (to_tty) {
		char stamp[32];
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %-5s %s\n", stamp, ts.tv_nsec / 1000000,
			level_names[level], line);
	} else {
		fprintf(stderr, "%s: %s\n", level_names[level], line);
	}
	errno = saved_errno;
}

bool log_ratelimit_ok(struct log_ratelimit *rl, double now_s, double rate_per_s, double burst)
{
	if (rl->last_s == 0)
		rl->tokens = burst;
	else
		rl->tokens += (now_s - rl->last_s) * rate_per_s;
	if (rl->tokens > burst)
		rl->tokens = burst;
	rl->last_s = now_s;
	if (rl->tokens < 1) {
		rl->suppressed++;
		return false;
	}
	rl->tokens -= 1;
	if (rl->suppressed) {
		log_msg(LOG_LEVEL_INFO, "(%lu similar messages suppressed)", rl->suppressed);
		rl->suppressed = 0;
	}
	return true;
}

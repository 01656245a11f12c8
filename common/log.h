/* SPDX-License-Identifier: MIT */
/*
 * Logging for both programs: levels, and a sink that writes stderr lines
 * journald understands (SD_* priority prefixes when JOURNAL_STREAM is set),
 * or timestamped lines with a level word on a terminal, or syslog once a
 * daemon has left its terminal. The one global of common/ lives here.
 */
#ifndef TUND_LOG_H
#define TUND_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Reads JOURNAL_STREAM and isatty(2) to pick the line format. */
void log_init(enum log_level level);
/* From now on, lines go to syslog(3) as ident (a daemon that left its terminal). */
void log_to_syslog(const char *ident);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug" (also "warning"); returns -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LEVEL_DEBUG))                                                  \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

/*
 * A token bucket for messages a remote party can trigger: at most burst
 * messages, refilled at rate_per_s. log_ratelimit_ok() is true when the
 * message may be written; the suppressed count is reported on the next one.
 */
struct log_ratelimit {
	double tokens;
	double last_s;
	unsigned long suppressed;
};

bool log_ratelimit_ok(struct log_ratelimit *rl, double now_s, double rate_per_s, double burst);

#endif

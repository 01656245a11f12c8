// SPDX-License-Identifier: MIT
/*
 * The change notes of reloads and control commands: formatted once, then
 * logged and/or appended to the caller's JSON array.
 */
#include "changes.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void note_change(json_t *changes, bool logged, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!logged)
		log_info("%s", msg);
	if (changes)
		json_array_append_new(changes, json_string(msg));
}

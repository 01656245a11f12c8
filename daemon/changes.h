/* SPDX-License-Identifier: MIT */
/*
 * What a reload or a control command changed: one line per change, logged
 * and collected for the reply. A leaf every module that makes such changes
 * may include (the interface, its peers, the localhost tunnels, the daemon).
 */
#ifndef TUND_CHANGES_H
#define TUND_CHANGES_H

#include <jansson.h>
#include <stdbool.h>

/*
 * One change made by a reload or a control command: appended to changes (a
 * JSON array, may be NULL) and logged at info unless the caller logged it.
 */
void note_change(json_t *changes, bool logged, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

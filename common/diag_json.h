/* SPDX-License-Identifier: MIT */
/*
 * Config diagnostics as JSON, the same for `tunctl check-config --json` and
 * the control protocol's reload reply: a list of {severity, file, line,
 * message}, line 0 when the message is about the whole file.
 */
#ifndef TUND_DIAG_JSON_H
#define TUND_DIAG_JSON_H

#include <jansson.h>

#include "config.h"

/* A new JSON array (a new reference), or NULL when out of memory. */
json_t *diag_list_to_json(const struct diag_list *d);

#endif

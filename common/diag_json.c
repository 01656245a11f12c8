// SPDX-License-Identifier: MIT
#include "diag_json.h"

json_t *diag_list_to_json(const struct diag_list *d)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < d->n; i++) {
		const struct diag *it = &d->items[i];

		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s}", "severity",
						     it->severity == DIAG_ERROR ? "error" : "warning",
						     "file", it->file, "line", (json_int_t)it->line,
						     "message", it->msg));
	}
	return arr;
}

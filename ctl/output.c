// SPDX-License-Identifier: MIT
/* Output helpers shared by tunctl's commands. */
#include "tunctl.h"

#include <stdarg.h>
#include <stdio.h>

int tunctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tunctl: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'tunctl help %s'.\n", cmd);
	return TUNCTL_EXIT_USAGE;
}

int output_json(json_t *value)
{
	int rc;

	if (!value) {
		fprintf(stderr, "tunctl: out of memory\n");
		return TUNCTL_EXIT_FAILURE;
	}
	rc = json_dumpf(value, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(value);
	if (rc != 0 || fputc('\n', stdout) == EOF) {
		fprintf(stderr, "tunctl: cannot write the output\n");
		return TUNCTL_EXIT_FAILURE;
	}
	return TUNCTL_EXIT_OK;
}

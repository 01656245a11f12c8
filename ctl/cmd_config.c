// SPDX-License-Identifier: MIT
/*
 * check-config: load interface files offline, the way tund would, and print
 * every error and warning as FILE:LINE: severity: message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "diag_json.h"
#include "tunctl.h"

#define DEFAULT_CONFIG_DIR "/etc/tund"


struct check_result {
	struct diag_list diags;
	json_t *ifaces; /* [{name, path, peers}] */
	size_t n_files;
};

static void note_iface(struct tunctl *t, struct check_result *r, const struct iface_config *cfg)
{
	r->n_files++;
	if (t->json) {
		json_array_append_new(r->ifaces, json_pack("{s:s,s:s,s:I}", "name", cfg->name, "path",
							   cfg->path, "peers", (json_int_t)cfg->n_peers));
		return;
	}
	printf("%s: interface %s, %zu peer%s: ok\n", cfg->path, cfg->name, cfg->n_peers,
	       cfg->n_peers == 1 ? "" : "s");
}

static void check_path(struct tunctl *t, struct check_result *r, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		diag_add(&r->diags, DIAG_ERROR, path, 0, "%s", strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		struct config_set set;
		size_t before = r->diags.n_errors;

		config_load_dir(path, &set, &r->diags);
		for (size_t i = 0; i < set.n; i++)
			note_iface(t, r, set.ifaces[i]);
		if (set.n == 0 && r->diags.n_errors == before)
			diag_add(&r->diags, DIAG_WARNING, path, 0, "no *.conf files");
		config_set_clear(&set);
	} else {
		struct iface_config *cfg = NULL;

		if (config_load_file(path, &cfg, &r->diags) == 0) {
			note_iface(t, r, cfg);
			iface_config_free(cfg);
		}
	}
}

int cmd_check_config(struct tunctl *t, int argc, char **argv)
{
	const struct tunctl_command *cmd = tunctl_find_command(argv[0]);
	static char default_dir[] = DEFAULT_CONFIG_DIR;
	char *default_path[] = {default_dir};
	struct check_result r = {0};
	char **paths;
	int first = 0, n, rc;

	rc = tunctl_parse_common(t, cmd, argc, argv, &first);
	if (rc >= 0)
		return rc;
	paths = first < argc ? &argv[first] : default_path;
	n = first < argc ? argc - first : 1;

	r.ifaces = json_array();
	for (int i = 0; i < n; i++)
		check_path(t, &r, paths[i]);

	if (t->json) {
		rc = output_json(json_pack("{s:b,s:I,s:I,s:o,s:o}", "ok", r.diags.n_errors == 0,
					   "errors", (json_int_t)r.diags.n_errors, "warnings",
					   (json_int_t)r.diags.n_warnings, "interfaces", r.ifaces,
					   "diagnostics", diag_list_to_json(&r.diags)));
	} else {
		json_decref(r.ifaces);
		diag_print(&r.diags, stderr);
		if (r.diags.n_errors || r.diags.n_warnings)
			fprintf(stderr, "%zu error%s, %zu warning%s\n", r.diags.n_errors,
				r.diags.n_errors == 1 ? "" : "s", r.diags.n_warnings,
				r.diags.n_warnings == 1 ? "" : "s");
		rc = TUNCTL_EXIT_OK;
	}
	if (rc == TUNCTL_EXIT_OK && r.diags.n_errors)
		rc = TUNCTL_EXIT_FAILURE;
	diag_list_clear(&r.diags);
	return rc;
}

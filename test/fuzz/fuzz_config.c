// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the configuration loader: any bytes as the text of
 * wg0.conf through config_load_string(), then every diagnostic formatted and
 * everything freed. Besides crashes, leaks and UB it checks the loader's
 * contract: a config exactly when there is no error, counts that add up,
 * line numbers inside the text, AllowedIPs masked.
 *
 * Key files are real file reads. The "file" sits in a private directory
 * holding a few key files (good, readable by others, garbage), so relative
 * names reach them; inputs with a '/' on a line that mentions "KeyFile" are
 * skipped so that the fuzzer never opens paths outside that directory.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (256 * 1024)

static char dir[TS_DIR_LEN];
static char conf_path[sizeof(dir) + 16];

static const struct {
	const char *name;
	mode_t mode;
	const char *text;
} fixtures[] = {
	{"key", 0600, TS_PRIV_1 "\n"},
	{"psk", 0600, TS_PSK_1},
	{"open", 0644, TS_PRIV_2 "\n"},
	{"junk", 0600, "not a key\n"},
	{"empty", 0600, ""},
};

static void remove_fixtures(void)
{
	ts_tmpdir_remove(dir);
}

static void init_once(void)
{
	check(crypto_init() == 0);
	ts_tmpdir(dir, "fuzz-config");
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		ts_write_text(dir, fixtures[i].name, fixtures[i].text, fixtures[i].mode);
	atexit(remove_fixtures);
	snprintf(conf_path, sizeof(conf_path), "%s/wg0.conf", dir);
}

/* A '/' on a line that names a key file could reach any file on the machine. */
static bool names_outside_file(const char *text, size_t len)
{
	const char *line = text, *end = text + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		bool has_slash = memchr(line, '/', n) != NULL;

		for (size_t i = 0; has_slash && i + 7 <= n; i++)
			if (strncasecmp(line + i, "keyfile", 7) == 0)
				return true;
		line += n + 1;
	}
	return false;
}

static unsigned int count_lines(const char *text, size_t len)
{
	unsigned int n = 1;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

static void check_config(const struct iface_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_config *pc = &cfg->peers[i];

		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			struct ip_prefix p = pc->allowed_ips[j];

			prefix_mask(&p);
			if (memcmp(&p, &pc->allowed_ips[j], sizeof(p)) != 0)
				abort(); /* AllowedIPs are stored masked */
		}
		if (pc->name && iface_config_find_peer(cfg, pc->name) != pc)
			abort(); /* Names are unique */
		if (pc->endpoint_host && pc->endpoint_port == 0)
			abort();
	}
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		char buf[ADDR_STR_LEN];

		prefix_format(buf, sizeof(buf), &cfg->addresses[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct diag_list diags = {0};
	struct iface_config *cfg = NULL;
	unsigned int lines;
	char buf[1024];
	int rc;

	if (!conf_path[0])
		init_once();
	if (size > MAX_INPUT || names_outside_file(text, size))
		return 0;
	rc = config_load_string(conf_path, text, size, &cfg, &diags);
	if (rc == -ENOMEM)
		goto out;

	/* The contract of config.h. */
	if ((rc == 0) != (cfg != NULL) || (rc == 0) != (diags.n_errors == 0) ||
	    (rc != 0 && rc != -EINVAL))
		abort();
	if (diags.n_errors + diags.n_warnings != diags.n)
		abort();
	lines = count_lines(text, size);
	for (size_t i = 0; i < diags.n; i++) {
		const struct diag *d = &diags.items[i];

		if (d->line > lines || strcmp(d->file, conf_path) != 0 || !d->msg[0])
			abort();
		diag_format(buf, sizeof(buf), d);
	}
	if (cfg) {
		if (strcmp(cfg->name, "wg0") != 0 || !cfg->has_private_key)
			abort();
		check_config(cfg);
	}
out:
	iface_config_free(cfg);
	diag_list_clear(&diags);
	return 0;
}

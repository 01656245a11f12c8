// SPDX-License-Identifier: MIT
/*
 * genkey, genpsk, pubkey: the same bytes `wg genkey`, `wg genpsk` and
 * `wg pubkey` print, so keys move freely between tund and WireGuard tools.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "key.h"
#include "tunctl.h"

/*
 * Like wg, warn when a secret is about to land in a file others can read
 * (tunctl genkey > key with a permissive umask).
 */
static void warn_if_stdout_shared(const char *cmd)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && config_mode_exposed(&st))
		fprintf(stderr,
			"tunctl: %s: warning: writing a secret to a file that group or others can read "
			"(mode %04o); set umask 077 (or 027 with group tund) and try again\n",
			cmd, (unsigned int)(st.st_mode & 07777));
}

static int print_key(struct tunctl *t, const char *field, const uint8_t key[static KEY_LEN])
{
	char b64[KEY_BASE64_LEN + 1];
	int rc = TUNCTL_EXIT_OK;

	key_to_base64(b64, key);
	if (t->json)
		rc = output_json(json_pack("{s:s}", field, b64));
	else if (printf("%s\n", b64) < 0 || fflush(stdout) != 0)
		rc = TUNCTL_EXIT_FAILURE;
	crypto_wipe(b64, sizeof(b64));
	return rc;
}

static int gen_secret(struct tunctl *t, int argc, char **argv, bool curve)
{
	const struct tunctl_command *cmd = tunctl_find_command(argv[0]);
	uint8_t key[KEY_LEN];
	int first = 0, rc;

	rc = tunctl_parse_common(t, cmd, argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (first < argc)
		return tunctl_usage_error(argv[0], "takes no arguments");
	warn_if_stdout_shared(argv[0]);
	rc = curve ? curve25519_generate_private(key) : crypto_random(key, sizeof(key));
	if (rc != 0) {
		fprintf(stderr, "tunctl: %s: cannot get random bytes\n", argv[0]);
		return TUNCTL_EXIT_FAILURE;
	}
	rc = print_key(t, curve ? "private_key" : "preshared_key", key);
	crypto_wipe(key, sizeof(key));
	return rc;
}

int cmd_genkey(struct tunctl *t, int argc, char **argv)
{
	return gen_secret(t, argc, argv, true);
}

int cmd_genpsk(struct tunctl *t, int argc, char **argv)
{
	return gen_secret(t, argc, argv, false);
}

int cmd_pubkey(struct tunctl *t, int argc, char **argv)
{
	const struct tunctl_command *cmd = tunctl_find_command(argv[0]);
	/* One key, a newline, and room to notice that more followed. */
	char buf[KEY_BASE64_LEN + 64];
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	const char *why = NULL;
	size_t len;
	int first = 0, rc;

	rc = tunctl_parse_common(t, cmd, argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (first < argc)
		return tunctl_usage_error(argv[0], "takes no arguments; the private key is read from stdin");

	len = fread(buf, 1, sizeof(buf) - 1, stdin);
	if (ferror(stdin)) {
		fprintf(stderr, "tunctl: pubkey: cannot read stdin\n");
		return TUNCTL_EXIT_FAILURE;
	}
	buf[len] = '\0';
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	rc = key_from_base64(priv, buf, &why);
	crypto_wipe(buf, sizeof(buf));
	if (rc != 0) {
		fprintf(stderr, "tunctl: pubkey: the private key on stdin %s\n", why);
		return TUNCTL_EXIT_FAILURE;
	}
	rc = curve25519_public_from_private(pub, priv);
	crypto_wipe(priv, sizeof(priv));
	if (rc != 0) {
		fprintf(stderr, "tunctl: pubkey: cannot compute the public key\n");
		return TUNCTL_EXIT_FAILURE;
	}
	return print_key(t, "public_key", pub);
}

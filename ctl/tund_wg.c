// SPDX-License-Identifier: MIT
/*
 * tund-wg IFACE: what wg-quick runs as its userspace implementation
 * (WG_QUICK_USERSPACE_IMPLEMENTATION=tund-wg) when `ip link add IFACE type
 * wireguard` fails. Where wireguard-go would start a process of its own,
 * tund-wg asks the running tund to create IFACE without a file, and
 * returns once the interface, and its UAPI socket for wg, exist.
 */
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "jsonmem.h"
#include "tunctl.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: tund-wg [-s PATH] IFACE\n"
		     "\n"
		     "Asks the running tund to create IFACE, an empty WireGuard interface (no\n"
		     "key, no peer, link down) without a file, for wg(8) and ip(8) to configure:\n"
		     "\n"
		     "  WG_QUICK_USERSPACE_IMPLEMENTATION=tund-wg wg-quick up IFACE\n"
		     "\n"
		     "Returns once IFACE and its UAPI socket (/var/run/wireguard/IFACE.sock)\n"
		     "exist. `ip link del IFACE` (wg-quick down) deletes it.\n"
		     "\n"
		     "Options:\n"
		     "  -s, --socket PATH  tund's control socket (default: $TUND_CONTROL_SOCKET,\n"
		     "                     else /run/tund/control.sock)\n"
		     "  -V, --version      print the version and exit\n"
		     "  -h, --help         print this help and exit\n"
		     "\n"
		     "Exit status: 0 created, 1 tund refused or failed (the name is taken, ...),\n"
		     "2 wrong usage, 3 tund not reachable, 4 permission denied.\n");
}

/* The UAPI socket tund named, or none: whether wg can configure the interface. */
static int check_uapi(const char *iface, json_t *result)
{
	const char *path = json_string_value(json_object_get(result, "uapi_socket"));
	struct stat st;

	if (!path) {
		fprintf(stderr,
			"tund-wg: warning: this tund serves no UAPI socket for %s: wg cannot "
			"configure it\n",
			iface);
		return TUNCTL_EXIT_OK;
	}
	if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "tund-wg: %s was created, but its UAPI socket %s is missing\n",
			iface, path);
		return TUNCTL_EXIT_FAILURE;
	}
	return TUNCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct tunctl t = {.socket_path = tunctl_default_socket(), .prog = "tund-wg"};
	const char *iface;
	json_t *result = NULL;
	int c, rc;

	jsonmem_init();
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			t.socket_path = optarg;
			break;
		case 'V':
			printf("tund-wg %s\n", TUND_VERSION);
			return TUNCTL_EXIT_OK;
		case 'h':
			usage(stdout);
			return TUNCTL_EXIT_OK;
		default:
			fprintf(stderr, "tund-wg: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return TUNCTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return TUNCTL_EXIT_USAGE;
	}
	iface = argv[optind];
	if (!config_iface_name_valid(iface)) {
		fprintf(stderr,
			"tund-wg: \"%.64s\" is not an interface name (1 to %d of A-Z a-z 0-9 _ = + . -)\n",
			iface, IFNAMSIZ - 1);
		return TUNCTL_EXIT_USAGE;
	}
	rc = tunctl_call(&t, "create", json_pack("{s:s}", "interface", iface), &result);
	if (rc != TUNCTL_EXIT_OK)
		return rc;
	/* tund made it in its own network namespace: wg-quick must see it in ours. */
	if (if_nametoindex(iface) == 0) {
		fprintf(stderr,
			"tund-wg: tund created %s in another network namespace than this one; "
			"deleting it again\n",
			iface);
		json_decref(result);
		(void)tunctl_call(&t, "delete", json_pack("{s:s}", "interface", iface), &result);
		json_decref(result);
		return TUNCTL_EXIT_FAILURE;
	}
	rc = check_uapi(iface, result);
	json_decref(result);
	return rc;
}

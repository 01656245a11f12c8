// SPDX-License-Identifier: MIT
/*
 * tunctl: the command line for tund. Global options, then a command and its
 * own options: tunctl [--json] COMMAND [ARGS]. The command table below is
 * the one list of commands; help and dispatch both read it.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "crypto.h"
#include "jsonmem.h"
#include "tunctl.h"
#include "util.h"

static int cmd_help(struct tunctl *t, int argc, char **argv);
static int cmd_version(struct tunctl *t, int argc, char **argv);

static const struct tunctl_command commands[] = {
	{"genkey", "", "print a new private key",
	 "Prints a new Curve25519 private key in base64, as `wg genkey` does.\n"
	 "Keep it secret: redirect it to a file created under umask 077.\n",
	 cmd_genkey},
	{"pubkey", "< PRIVATE-KEY", "print the public key of the private key on stdin",
	 "Reads a base64 private key on stdin and prints its public key, as\n"
	 "`wg pubkey` does. Exits 1 when the input is not one key.\n",
	 cmd_pubkey},
	{"genpsk", "", "print a new preshared key",
	 "Prints 32 random bytes in base64 for PresharedKey=, as `wg genpsk` does.\n", cmd_genpsk},
	{"check-config", "[FILE|DIR]...", "validate interface files without the daemon",
	 "Loads each FILE, or every *.conf of each DIR (default /etc/tund), the way\n"
	 "tund would, and prints each problem as FILE:LINE: error|warning: MESSAGE\n"
	 "on stderr. Exits 0 when there is no error (warnings allowed), 1 otherwise.\n",
	 cmd_check_config},
	{"status", "", "show the daemon's version, uptime and interfaces",
	 "Asks the running tund (see --socket) for a summary.\n", cmd_status},
	{"show", "[IFACE]", "show interfaces and peers, like wg show",
	 "Public key, listening port and, per peer, its name, endpoint, allowed IPs,\n"
	 "latest handshake, transfer and keepalive. Private and preshared keys are\n"
	 "never shown.\n",
	 cmd_show},
	{"metrics", "[IFACE]", "print the metrics as Prometheus text",
	 "The text tund serves at /metrics with --metrics-listen (Prometheus text\n"
	 "format 0.0.4): per peer wireguard_sent_bytes_total,\n"
	 "wireguard_received_bytes_total and wireguard_latest_handshake_seconds,\n"
	 "and tund's own tund_* families. With IFACE, only that interface's\n"
	 "series. With --json, the reply's result: {\"text\": TEXT}.\n",
	 cmd_metrics},
	{"add-peer", "IFACE --public-key KEY [PEER OPTIONS] | IFACE --from FILE",
	 "add a peer, or many, to a running interface",
	 "Peer options:\n"
	 "  --name NAME                  a name to refer to the peer by\n"
	 "  --allowed-ips PREFIX[,...]   addresses the peer may use inside the tunnel\n"
	 "  --endpoint HOST:PORT         where to send its packets ([v6]:port for IPv6)\n"
	 "  --keepalive SECONDS          persistent keepalive (0: off)\n"
	 "  --preshared-key-file FILE    a preshared key (from tunctl genpsk)\n"
	 "  --save                       also write the peer into the interface's file\n"
	 "Without --save the change lasts until tund stops or reloads. --save keeps\n"
	 "the rest of the file as it is and writes a preshared key as\n"
	 "PresharedKeyFile = FILE, never the key itself.\n"
	 "--from FILE (- for stdin) adds the [Peer] sections of FILE, written as in\n"
	 "an interface file, in order; a peer the interface has is updated like\n"
	 "set-peer. FILE is checked whole before anything is sent, then sent in\n"
	 "requests of up to 1000 peers, each applied all or nothing. No --save.\n",
	 cmd_add_peer},
	{"set-peer", "IFACE PEER [PEER OPTIONS]", "change a peer in place, keeping its session",
	 "PEER is its name or public key. Options as for add-peer (--save too), plus\n"
	 "--no-preshared-key. Only the options given change.\n",
	 cmd_set_peer},
	{"remove-peer", "IFACE PEER [--save]", "remove a peer (by name or public key)",
	 "PEER is its name or public key. --save also takes its [Peer] section, and\n"
	 "the comment lines right above it, out of the interface's file.\n",
	 cmd_remove_peer},
	{"reload", "", "re-read the configuration directory and apply what changed",
	 "Prints each change, and each error as FILE:LINE. A file with an error\n"
	 "leaves its interface as it was. Exits 1 when a file had an error.\n",
	 cmd_reload},
	{"up", "IFACE", "bring up the interface of IFACE.conf",
	 "Loads IFACE.conf from the configuration directory and brings that\n"
	 "interface up: one that was taken down with tunctl down, or whose file\n"
	 "was broken or new. A broken file is reported as FILE:LINE.\n",
	 cmd_up_down},
	{"down", "IFACE", "take one interface down until tunctl up",
	 "Takes the interface down, with its sessions. Reloads leave it down until\n"
	 "tunctl up IFACE or a restart of tund.\n",
	 cmd_up_down},
	{"create", "IFACE", "create an empty interface without a file (as tund-wg does)",
	 "Asks tund for a TUN device IFACE with no key, no port and no peer, not\n"
	 "backed by a file, for wg(8) and ip(8) to configure (wg-quick does so\n"
	 "with WG_QUICK_USERSPACE_IMPLEMENTATION=tund-wg). Reloads leave it; it\n"
	 "goes with tunctl delete IFACE, tunctl down IFACE or ip link del IFACE.\n",
	 cmd_up_down},
	{"delete", "IFACE", "delete an interface that has no file",
	 "Deletes an interface made by tunctl create or tund-wg, as ip link del\n"
	 "does. An interface with a file is refused: tunctl down takes it down.\n",
	 cmd_up_down},
	{"log-level", "LEVEL", "set the daemon's log level (error, warn, info, debug)", NULL,
	 cmd_log_level},
	{"expose", "IFACE LOCALPORT --peer SERVER [EXPOSE OPTIONS]",
	 "publish a local TCP port on a server's public port (a localhost tunnel)",
	 "Asks SERVER (a peer's name or public key) to listen on a public port and\n"
	 "relay each connection through the tunnel to LOCALPORT on this machine,\n"
	 "and waits for its answer. The server decides (AllowExpose in its [Peer]\n"
	 "section for us). Expose options:\n"
	 "  --public-port N            the port users connect to (default LOCALPORT)\n"
	 "  --name NAME                the service's name (default LOCALPORT)\n"
	 "  --proxy-protocol           send a PROXY protocol v2 header to the service\n"
	 "  --local-address ADDR       the local service's address (default 127.0.0.1)\n"
	 "  --server-address ADDR      the server's tunnel address, when its AllowedIPs\n"
	 "                             have no single address (/32 or /128)\n"
	 "  --wait SECONDS             how long to wait for the answer (default 5;\n"
	 "                             0: do not wait)\n"
	 "  --save                     also write it into the interface's file, as\n"
	 "                             an [Expose NAME] section\n"
	 "Exits 1 when the server refuses (nothing stays published, or saved) or\n"
	 "does not answer in time (tund keeps trying). Without --save it lasts\n"
	 "until tund stops or reloads.\n",
	 cmd_expose},
	{"unexpose", "IFACE NAME|LOCALPORT [--save]", "stop publishing a local port",
	 "Stops the service named NAME, or else the one of local port LOCALPORT:\n"
	 "the server closes its public port. Connections under way go on. --save\n"
	 "also takes its [Expose NAME] section out of the interface's file.\n",
	 cmd_unexpose},
	{"watch", "[IFACE]", "print events as they happen (peers, handshakes, roaming, ...)",
	 "Subscribes to tund's events, of IFACE or of every interface, and prints\n"
	 "one line per event until tund closes the connection: the time, the\n"
	 "interface, the event, the peer (its name, or the start of its key) and\n"
	 "the details. With --json each event is the daemon's JSON line as it came\n"
	 "(docs/control-protocol.md lists the events and their fields). Exits 1\n"
	 "if tund drops a watcher that reads too slowly (an overflow event).\n",
	 cmd_watch},
	{"help", "[COMMAND]", "show the commands, or one command's help", NULL, cmd_help},
	{"version", "", "print tunctl's version", NULL, cmd_version},
};

const struct tunctl_command *tunctl_find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: tunctl [--json] COMMAND [ARGS]\n"
		     "\n"
		     "Control and configure tund, the WireGuard-protocol VPN daemon.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n"
		     "Options:\n"
		     "  -s, --socket PATH  tund's control socket; without it $TUND_CONTROL_SOCKET\n"
		     "                 (default %s)\n"
		     "  -j, --json     machine-readable output (one JSON object on stdout)\n"
		     "  -V, --version  print the version and exit\n"
		     "  -h, --help     print this help and exit\n"
		     "\n"
		     "'tunctl help COMMAND' or 'tunctl COMMAND --help' shows a command's help.\n"
		     "Exit status: 0 done, 1 the command failed, 2 wrong usage, 3 tund not\n"
		     "reachable, 4 permission denied.\n",
		CONTROL_DEFAULT_SOCKET);
}

void tunctl_command_help(const struct tunctl_command *cmd, FILE *out)
{
	fprintf(out, "Usage: tunctl %s%s%s\n\n%c%s.\n", cmd->name, cmd->args[0] ? " " : "",
		cmd->args, toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->help)
		fprintf(out, "\n%s", cmd->help);
	fprintf(out, "\nOptions:\n"
		     "  -j, --json  machine-readable output\n"
		     "  -h, --help  print this help\n");
}

int tunctl_parse_common(struct tunctl *t, const struct tunctl_command *cmd, int argc, char **argv,
			int *first)
{
	return tunctl_parse_save(t, cmd, argc, argv, NULL, first);
}

int tunctl_parse_save(struct tunctl *t, const struct tunctl_command *cmd, int argc, char **argv,
		      bool *save, int *first)
{
	static const struct option longopts[] = {
		{"save", no_argument, NULL, 'S'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	optind = 0; /* glibc: start a fresh scan of this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'S' && save)
			*save = true;
		else if ((rc = tunctl_common_option(t, cmd, c == 'S' ? '?' : c, argv)) >= 0)
			return rc;
	}
	*first = optind;
	return -1;
}

int tunctl_common_option(struct tunctl *t, const struct tunctl_command *cmd, int c, char **argv)
{
	switch (c) {
	case 'j':
		t->json = true;
		return -1;
	case 'h':
		tunctl_command_help(cmd, stdout);
		return TUNCTL_EXIT_OK;
	default:
		return tunctl_usage_error(cmd->name, "unknown option '%s'", argv[optind - 1]);
	}
}

static int cmd_help(struct tunctl *t, int argc, char **argv)
{
	const struct tunctl_command *cmd;
	int first = 0, rc;

	rc = tunctl_parse_common(t, tunctl_find_command("help"), argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (first == argc) {
		usage(stdout);
		return TUNCTL_EXIT_OK;
	}
	if (argc - first > 1)
		return tunctl_usage_error("help", "takes at most one command");
	cmd = tunctl_find_command(argv[first]);
	if (!cmd)
		return tunctl_usage_error("help", "unknown command '%s'", argv[first]);
	tunctl_command_help(cmd, stdout);
	return TUNCTL_EXIT_OK;
}

static int cmd_version(struct tunctl *t, int argc, char **argv)
{
	int first = 0, rc;

	rc = tunctl_parse_common(t, tunctl_find_command("version"), argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (first < argc)
		return tunctl_usage_error("version", "takes no arguments");
	if (t->json)
		return output_json(json_pack("{s:s}", "version", TUND_VERSION));
	printf("tunctl %s\n", TUND_VERSION);
	return TUNCTL_EXIT_OK;
}

/* Whether the command only talks to tund (it needs no OpenSSL algorithm fetched). */
static bool talks_only(const char *name)
{
	static const char *const names[] = {"status",	"show", "metrics", "add-peer",  "set-peer",
					    "remove-peer", "up",   "down",	"log-level",
					    "expose",	   "unexpose", "create", "delete",
					    "watch"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct tunctl t = {.socket_path = tunctl_default_socket(), .prog = "tunctl"};
	const struct tunctl_command *cmd;
	int c, rc;

	/* Requests may carry a preshared key: jansson wipes what it frees. */
	jsonmem_init();
	opterr = 0;
	/* '+': stop at the command; what follows is the command's. */
	while ((c = getopt_long(argc, argv, "+js:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			t.json = true;
			break;
		case 's':
			t.socket_path = optarg;
			break;
		case 'V':
			printf("tunctl %s\n", TUND_VERSION);
			return TUNCTL_EXIT_OK;
		case 'h':
			usage(stdout);
			return TUNCTL_EXIT_OK;
		default:
			fprintf(stderr, "tunctl: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return TUNCTL_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return TUNCTL_EXIT_USAGE;
	}
	cmd = tunctl_find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "tunctl: unknown command '%s'; 'tunctl help' lists them\n",
			argv[optind]);
		return TUNCTL_EXIT_USAGE;
	}
	/*
	 * The algorithms are fetched (OpenSSL's providers loaded, about half of a
	 * short command's CPU time) only by the commands that hash: the loader's
	 * digest (check-config, add-peer --from, which calls crypto_init itself).
	 * The commands that only talk to tund skip it: a script that adds many
	 * peers one process each.
	 */
	if (!talks_only(cmd->name) && crypto_init() != 0) {
		fprintf(stderr, "tunctl: cannot initialise OpenSSL\n");
		return TUNCTL_EXIT_FAILURE;
	}
	rc = cmd->run(&t, argc - optind, argv + optind);
	crypto_cleanup();
	return rc;
}

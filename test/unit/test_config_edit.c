// SPDX-License-Identifier: MIT
/*
 * config_edit.c: a numbered table of edits (add, set, remove a [Peer]) on
 * files with comments everywhere, CRLF, no final newline, repeated
 * AllowedIPs and Endpoint lines, first, middle and last peers, inline
 * comments, a trailing comment, and key spellings the loader accepts. Each
 * row gives the exact text expected, how many lines at the head and the tail
 * of the file must come through untouched, and the result must load back
 * (config_edit_verify) as the peer asked for with everything else alike.
 * Then add-then-remove round trips, verify's refusals, the atomic write, and
 * a whole save with a file changed on disk. The same for [Expose NAME]
 * sections (tunctl expose/unexpose --save): a table of put and remove edits,
 * round trips, verify's refusals and a save.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_edit.h"
#include "crypto.h"
#include "key.h"
#include "support.h"

/* Keys made with tunctl genkey / pubkey; most are the shared ones of support.h. */
#define PRIV TS_PRIV_3
#define KA   TS_PUB_5
#define KB   TS_PUB_6
#define KC   TS_PUB_7
#define KN   TS_PUB_8 /* never in a file before */
#define PSK1 "GPhlOy9QEThdS9HJHK0/ZzALho5jTLOOC0sWAPTMYUg="
#define PSK2 TS_PSK_2 /* the one in @PSK@ */

/* ---- The files ---- */

/* F1: comments of every kind, LF, three peers. Lines 1-6, 7-14, 15-21, 22-25. */
#define F1_HEAD                            \
	"# wg0: the office\n"              \
	"[Interface]\n"                    \
	"PrivateKey = " PRIV "\n"          \
	"ListenPort = 51820 # the usual\n" \
	"Address = 10.0.0.1/24\n"          \
	"\n"
#define F1_A                                  \
	"# alice's laptop\n"                  \
	"[Peer]\n"                            \
	"Name = alice\n"                      \
	"PublicKey = " KA "\n"                \
	"; the laptop's address\n"            \
	"AllowedIPs = 10.0.0.2/32 # laptop\n" \
	"Endpoint = 192.0.2.2:51820\n"        \
	"\n"
#define F1_B_BODY                                 \
	"# bob\n"                                 \
	"[Peer]\n"                                \
	"PublicKey = " KB "\n"                    \
	"AllowedIPs = 10.0.0.3/32\n"              \
	"AllowedIPs = 10.1.0.0/16, fd00::3/128\n" \
	"PersistentKeepalive = 25\n"
#define F1_B F1_B_BODY "\n"
#define F1_C                         \
	"# carol, last\n"            \
	"[Peer] # carol's section\n" \
	"PublicKey = " KC "\n"       \
	"AllowedIPs = 10.0.0.4/32\n"
#define F1 F1_HEAD F1_A F1_B F1_C

/* F2: CRLF, no final newline, indented keys, other spellings. 10 lines. */
#define F2_HEAD                   \
	"[interface]\r\n"         \
	"privatekey=" PRIV "\r\n" \
	"\r\n"
#define F2_A                           \
	"[ peer ]\r\n"                 \
	"  publickey=" KA "\r\n"       \
	"  allowedips=10.0.0.2/32\r\n" \
	"  PRESHAREDKEY = " PSK1 "   \r\n"
#define F2_B                         \
	"[PEER]\r\n"                 \
	"\tPublicKey\t=\t" KB "\r\n" \
	"\tAllowedIPs = 10.0.0.3/32"
#define F2 F2_HEAD F2_A F2_B

/* F3: ends in a comment that is the file's, not the last peer's. 9 lines. */
#define F3_HEAD         \
	"[Interface]\n" \
	"PrivateKey = " PRIV "\n"
#define F3_A                   \
	"\n"                   \
	"[Peer]\n"             \
	"PublicKey = " KA "\n" \
	"AllowedIPs = 10.0.0.2/32\n"
#define F3_TAIL                \
	"\n"                   \
	"# end of the peers\n" \
	"# (keep this)\n"
#define F3 F3_HEAD F3_A F3_TAIL

/* F4: no blank lines; a comment right above a header is the section's above. */
#define F4_HEAD         \
	"[Interface]\n" \
	"PrivateKey = " PRIV "\n"
#define F4_A                   \
	"[Peer]\n"             \
	"PublicKey = " KA "\n" \
	"# PersistentKeepalive = 25\n"
#define F4_B       \
	"[Peer]\n" \
	"PublicKey = " KB "\n"
#define F4 F4_HEAD F4_A F4_B

/* F5: Endpoint twice (the last wins). 8 lines. */
#define F5_HEAD                   \
	"[Interface]\n"           \
	"PrivateKey = " PRIV "\n" \
	"\n"                      \
	"[Peer]\n"                \
	"PublicKey = " KA "\n"
#define F5                                   \
	F5_HEAD "Endpoint = 192.0.2.1:1\n"   \
		"AllowedIPs = 10.0.0.2/32\n" \
		"Endpoint = 192.0.2.9:9 # the newer one\n"

/* F6: an empty AllowedIPs, a key without blanks around '='. */
#define F6_HEAD                   \
	"[Interface]\n"           \
	"PrivateKey = " PRIV "\n" \
	"[Peer]\n"                \
	"PublicKey = " KA "\n"
#define F6 F6_HEAD "AllowedIPs =\nEndpoint=192.0.2.1:5\n"

/* F7: an inline PresharedKey with a comment. */
#define F7_HEAD                   \
	"[Interface]\n"           \
	"PrivateKey = " PRIV "\n" \
	"\n"                      \
	"[Peer]\n"                \
	"PublicKey = " KA "\n"
#define F7_TAIL "AllowedIPs = 10.0.0.2/32\n"
#define F7	F7_HEAD "PresharedKey = " PSK1 " # inline, to be moved to a file\n" F7_TAIL

/* F8: an existing PresharedKeyFile line. */
#define F8_HEAD F7_HEAD
#define F8                                                                \
	F8_HEAD "PresharedKeyFile = /nonexistent/old.psk # the old one\n" \
		"AllowedIPs = 10.0.0.2/32\n"

/* F9: CRs the loader takes off the end of a section name and of keys. 7 lines. */
#define F9_HEAD                   \
	"[Interface]\n"           \
	"PrivateKey = " PRIV "\n" \
	"\n"                      \
	"[Peer\r]\n"              \
	"PublicKey\r = " KA "\n"
#define F9_TAIL "AllowedIPs = 10.0.0.2/32\n"
#define F9	F9_HEAD "Name\r = old\n" F9_TAIL

/* F10: a UTF-8 byte-order mark before line 1, as some editors write. 6 lines. */
#define F10_HEAD                                 \
	"\xEF\xBB\xBF[Interface]\n"             \
	"PrivateKey = " PRIV "\n"               \
	"ListenPort = 51820\n"                  \
	"\n"
#define F10_A                   \
	"[Peer]\n"              \
	"PublicKey = " KA "\n" \
	"AllowedIPs = 10.0.0.2/32\n"
#define F10 F10_HEAD F10_A

/* ---- The table ---- */

enum op {
	OP_ADD,
	OP_SET,
	OP_REMOVE,
};

struct edit_case {
	const char *name;
	enum op op;
	const char *before;
	/*
	 * The peer as it must read back, as [Peer] lines (an inline PresharedKey
	 * stands for "has this key"); for remove, "PublicKey = K" of the one to go.
	 */
	const char *peer;
	bool psk_file; /* pass @PSK@ as the preshared key's file */
	unsigned int which; /* set: the fields config_edit_peer_diff() must find */
	int rc; /* 0, or what the edit returns */
	const char *after; /* exactly; "@PSK@" is the key file's path */
	size_t keep_head, keep_tail; /* lines of before that must come through as they were */
	bool no_verify; /* after is not a whole file */
};

#define ALL_LINES ((size_t)-1)

static const struct edit_case cases[] = {
	/* ---- F10 ---- */
	{.name = "a byte-order mark stays; a peer is added after the last",
	 .op = OP_ADD,
	 .before = F10,
	 .peer = "PublicKey = " KN "\nAllowedIPs = 10.0.0.5/32\n",
	 .after = F10 "\n"
		      "[Peer]\n"
		      "PublicKey = " KN "\n"
		      "AllowedIPs = 10.0.0.5/32\n",
	 .keep_head = ALL_LINES},
	{.name = "a byte-order mark: set a peer's endpoint",
	 .op = OP_SET,
	 .before = F10,
	 .peer = "PublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.9:1\n",
	 .which = CONFIG_EDIT_ENDPOINT,
	 .after = F10 "Endpoint = 192.0.2.9:1\n",
	 .keep_head = ALL_LINES},
	{.name = "a byte-order mark: remove the only peer",
	 .op = OP_REMOVE,
	 .before = F10,
	 .peer = "PublicKey = " KA "\n",
	 .after = "\xEF\xBB\xBF[Interface]\n"
		  "PrivateKey = " PRIV "\n"
		  "ListenPort = 51820\n",
	 .keep_head = 3},
	/* ---- F1 ---- */
	{.name = "add a peer with every setting after the last peer",
	 .op = OP_ADD,
	 .before = F1,
	 .peer = "Name = dave\nPublicKey = " KN "\nPresharedKey = " PSK2
		 "\nAllowedIPs = 10.0.0.5/32, fd00::5/128\nEndpoint = [2001:db8::5]:51820\n"
		 "PersistentKeepalive = 15\n",
	 .psk_file = true,
	 .after = F1 "\n"
		     "[Peer]\n"
		     "Name = dave\n"
		     "PublicKey = " KN "\n"
		     "PresharedKeyFile = @PSK@\n"
		     "AllowedIPs = 10.0.0.5/32, fd00::5/128\n"
		     "Endpoint = [2001:db8::5]:51820\n"
		     "PersistentKeepalive = 15\n",
	 .keep_head = ALL_LINES},
	{.name = "remove the first peer: its comment above goes, the next one's stays",
	 .op = OP_REMOVE,
	 .before = F1,
	 .peer = "PublicKey = " KA "\n",
	 .after = F1_HEAD F1_B F1_C,
	 .keep_head = 6,
	 .keep_tail = 11},
	{.name = "remove the middle peer",
	 .op = OP_REMOVE,
	 .before = F1,
	 .peer = "PublicKey = " KB "\n",
	 .after = F1_HEAD F1_A F1_C,
	 .keep_head = 14,
	 .keep_tail = 4},
	{.name = "remove the last peer: the blank line before it goes too",
	 .op = OP_REMOVE,
	 .before = F1,
	 .peer = "PublicKey = " KC "\n",
	 .after = F1_HEAD F1_A F1_B_BODY,
	 .keep_head = 20},
	{.name = "set: a name goes, an endpoint changes, a keepalive comes after the last key",
	 .op = OP_SET,
	 .before = F1,
	 .peer = "PublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 198.51.100.2:4000\n"
		 "PersistentKeepalive = 10\n",
	 .which = CONFIG_EDIT_NAME | CONFIG_EDIT_ENDPOINT | CONFIG_EDIT_KEEPALIVE,
	 .after = F1_HEAD "# alice's laptop\n"
			  "[Peer]\n"
			  "PublicKey = " KA "\n"
			  "; the laptop's address\n"
			  "AllowedIPs = 10.0.0.2/32 # laptop\n"
			  "Endpoint = 198.51.100.2:4000\n"
			  "PersistentKeepalive = 10\n"
			  "\n" F1_B F1_C,
	 .keep_head = 8,
	 .keep_tail = 12},
	{.name = "set: AllowedIPs on two lines become one, on the first",
	 .op = OP_SET,
	 .before = F1,
	 .peer = "PublicKey = " KB "\nAllowedIPs = 10.9.0.0/24, fd00::9/128\n"
		 "PersistentKeepalive = 25\n",
	 .which = CONFIG_EDIT_ALLOWED_IPS,
	 .after = F1_HEAD F1_A "# bob\n"
			       "[Peer]\n"
			       "PublicKey = " KB "\n"
			       "AllowedIPs = 10.9.0.0/24, fd00::9/128\n"
			       "PersistentKeepalive = 25\n"
			       "\n" F1_C,
	 .keep_head = 17,
	 .keep_tail = 6},
	{.name = "set: a value changes and its inline comment stays",
	 .op = OP_SET,
	 .before = F1,
	 .peer = "Name = alice\nPublicKey = " KA "\nAllowedIPs = 10.0.0.22/32\n"
		 "Endpoint = 192.0.2.2:51820\n",
	 .which = CONFIG_EDIT_ALLOWED_IPS,
	 .after = F1_HEAD "# alice's laptop\n"
			  "[Peer]\n"
			  "Name = alice\n"
			  "PublicKey = " KA "\n"
			  "; the laptop's address\n"
			  "AllowedIPs = 10.0.0.22/32 # laptop\n"
			  "Endpoint = 192.0.2.2:51820\n"
			  "\n" F1_B F1_C,
	 .keep_head = 11,
	 .keep_tail = 13},
	{.name = "set: a name and a preshared key file are added to the last peer",
	 .op = OP_SET,
	 .before = F1,
	 .peer = "Name = carol\nPublicKey = " KC "\nPresharedKey = " PSK2
		 "\nAllowedIPs = 10.0.0.4/32\n",
	 .psk_file = true,
	 .which = CONFIG_EDIT_NAME | CONFIG_EDIT_PRESHARED_KEY,
	 .after = F1 "Name = carol\n"
		     "PresharedKeyFile = @PSK@\n",
	 .keep_head = ALL_LINES},
	{.name = "set: a peer the file does not have",
	 .op = OP_SET,
	 .before = F1,
	 .peer = "PublicKey = " KN "\n",
	 .rc = -ENOENT},
	{.name = "remove: a peer the file does not have",
	 .op = OP_REMOVE,
	 .before = F1,
	 .peer = "PublicKey = " KN "\n",
	 .rc = -ENOENT},
	{.name = "add: a preshared key without its file is never written inline",
	 .op = OP_ADD,
	 .before = F1,
	 .peer = "PublicKey = " KN "\nPresharedKey = " PSK2 "\n",
	 .rc = -EINVAL},

	/* ---- F2: CRLF, no final newline ---- */
	{.name = "CRLF without a final newline: add ends the last line first",
	 .op = OP_ADD,
	 .before = F2,
	 .peer = "PublicKey = " KN "\nAllowedIPs = 10.0.0.9/32\n",
	 .after = F2 "\r\n"
		     "\r\n"
		     "[Peer]\r\n"
		     "PublicKey = " KN "\r\n"
		     "AllowedIPs = 10.0.0.9/32\r\n",
	 .keep_head = 9},
	{.name = "CRLF: an inline PRESHAREDKEY becomes PresharedKeyFile in place",
	 .op = OP_SET,
	 .before = F2,
	 .peer = "PublicKey = " KA "\nPresharedKey = " PSK2 "\nAllowedIPs = 10.0.0.2/32\n",
	 .psk_file = true,
	 .which = CONFIG_EDIT_PRESHARED_KEY,
	 .after = F2_HEAD "[ peer ]\r\n"
			  "  publickey=" KA "\r\n"
			  "  allowedips=10.0.0.2/32\r\n"
			  "  PresharedKeyFile = @PSK@   \r\n" F2_B,
	 .keep_head = 6,
	 .keep_tail = 3},
	{.name = "CRLF without a final newline: set inserts after the last line, indented",
	 .op = OP_SET,
	 .before = F2,
	 .peer = "PublicKey = " KB "\nAllowedIPs = 10.0.0.3/32\nPersistentKeepalive = 5\n",
	 .which = CONFIG_EDIT_KEEPALIVE,
	 .after = F2 "\r\n"
		     "\tPersistentKeepalive = 5\r\n",
	 .keep_head = 9},
	{.name = "CRLF: set rewrites a lower-case key in place, keeping its spelling",
	 .op = OP_SET,
	 .before = F2,
	 .peer = "PublicKey = " KA "\nPresharedKey = " PSK1 "\nAllowedIPs = 10.0.0.7/32\n",
	 .which = CONFIG_EDIT_ALLOWED_IPS,
	 .after = F2_HEAD "[ peer ]\r\n"
			  "  publickey=" KA "\r\n"
			  "  allowedips=10.0.0.7/32\r\n"
			  "  PRESHAREDKEY = " PSK1 "   \r\n" F2_B,
	 .keep_head = 5,
	 .keep_tail = 4},
	{.name = "CRLF: remove the last peer, which has no final newline",
	 .op = OP_REMOVE,
	 .before = F2,
	 .peer = "PublicKey = " KB "\n",
	 .after = F2_HEAD F2_A,
	 .keep_head = 7},
	{.name = "CRLF: remove the first peer ([ peer ] spelled with blanks)",
	 .op = OP_REMOVE,
	 .before = F2,
	 .peer = "PublicKey = " KA "\n",
	 .after = F2_HEAD F2_B,
	 .keep_head = 3,
	 .keep_tail = 3},

	/* ---- F3: a comment at the end of the file ---- */
	{.name = "remove the only peer: the final comment stays",
	 .op = OP_REMOVE,
	 .before = F3,
	 .peer = "PublicKey = " KA "\n",
	 .after = F3_HEAD F3_TAIL,
	 .keep_head = 2,
	 .keep_tail = 3},
	{.name = "add after a final comment",
	 .op = OP_ADD,
	 .before = F3,
	 .peer = "PublicKey = " KN "\n",
	 .after = F3 "\n"
		     "[Peer]\n"
		     "PublicKey = " KN "\n",
	 .keep_head = ALL_LINES},
	{.name = "set inserts before the blank line and the final comment",
	 .op = OP_SET,
	 .before = F3,
	 .peer = "Name = alice\nPublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\n",
	 .which = CONFIG_EDIT_NAME,
	 .after = F3_HEAD F3_A "Name = alice\n" F3_TAIL,
	 .keep_head = 6,
	 .keep_tail = 3},

	/* ---- F4: no blank lines ---- */
	{.name = "no blank lines: a comment above the next header goes with the peer above",
	 .op = OP_REMOVE,
	 .before = F4,
	 .peer = "PublicKey = " KA "\n",
	 .after = F4_HEAD F4_B,
	 .keep_head = 2,
	 .keep_tail = 2},
	{.name = "no blank lines: remove the last peer",
	 .op = OP_REMOVE,
	 .before = F4,
	 .peer = "PublicKey = " KB "\n",
	 .after = F4_HEAD F4_A,
	 .keep_head = 5},
	{.name = "set inserts after the last key line, before a comment",
	 .op = OP_SET,
	 .before = F4,
	 .peer = "PublicKey = " KA "\nPersistentKeepalive = 25\n",
	 .which = CONFIG_EDIT_KEEPALIVE,
	 .after = F4_HEAD "[Peer]\n"
			  "PublicKey = " KA "\n"
			  "PersistentKeepalive = 25\n"
			  "# PersistentKeepalive = 25\n" F4_B,
	 .keep_head = 4,
	 .keep_tail = 3},

	/* ---- F5: a key set twice ---- */
	{.name = "a key set twice: the first line gets the value, the other goes",
	 .op = OP_SET,
	 .before = F5,
	 .peer = "PublicKey = " KA "\nEndpoint = 198.51.100.7:51820\nAllowedIPs = 10.0.0.2/32\n",
	 .which = CONFIG_EDIT_ENDPOINT,
	 .after = F5_HEAD "Endpoint = 198.51.100.7:51820\n"
			  "AllowedIPs = 10.0.0.2/32\n",
	 .keep_head = 5},
	{.name = "settings that become unset lose all their lines",
	 .op = OP_SET,
	 .before = F5,
	 .peer = "PublicKey = " KA "\n",
	 .which = CONFIG_EDIT_ENDPOINT | CONFIG_EDIT_ALLOWED_IPS,
	 .after = F5_HEAD,
	 .keep_head = 5},

	/* ---- F6: an empty value ---- */
	{.name = "an empty AllowedIPs gets a value; Endpoint= keeps its spacing",
	 .op = OP_SET,
	 .before = F6,
	 .peer = "PublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.1:6\n",
	 .which = CONFIG_EDIT_ALLOWED_IPS | CONFIG_EDIT_ENDPOINT,
	 .after = F6_HEAD "AllowedIPs = 10.0.0.2/32\n"
			  "Endpoint=192.0.2.1:6\n",
	 .keep_head = 4},

	/* ---- F7, F8: preshared keys ---- */
	{.name = "an inline PresharedKey with a comment becomes PresharedKeyFile",
	 .op = OP_SET,
	 .before = F7,
	 .peer = "PublicKey = " KA "\nPresharedKey = " PSK2 "\nAllowedIPs = 10.0.0.2/32\n",
	 .psk_file = true,
	 .which = CONFIG_EDIT_PRESHARED_KEY,
	 .after = F7_HEAD "PresharedKeyFile = @PSK@ # inline, to be moved to a file\n" F7_TAIL,
	 .keep_head = 5,
	 .keep_tail = 1},
	{.name = "the preshared key is removed",
	 .op = OP_SET,
	 .before = F7,
	 .peer = "PublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\n",
	 .which = CONFIG_EDIT_PRESHARED_KEY,
	 .after = F7_HEAD F7_TAIL,
	 .keep_head = 5,
	 .keep_tail = 1},
	{.name = "a PresharedKeyFile line gets the new path, its comment stays",
	 .op = OP_SET,
	 .before = F8,
	 .peer = "PublicKey = " KA "\nPresharedKey = " PSK2 "\nAllowedIPs = 10.0.0.2/32\n",
	 .psk_file = true,
	 .which = CONFIG_EDIT_PRESHARED_KEY,
	 .after = F8_HEAD "PresharedKeyFile = @PSK@ # the old one\n"
			  "AllowedIPs = 10.0.0.2/32\n",
	 .keep_head = 5,
	 .keep_tail = 1,
	 .no_verify = true /* /nonexistent/old.psk does not load */},

	/* ---- F9: CRs before ']' and '=' (caught by fuzz_config_edit's checks) ---- */
	{.name = "a CR after a key: the Name line is found and goes",
	 .op = OP_SET,
	 .before = F9,
	 .peer = "PublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\n",
	 .which = CONFIG_EDIT_NAME,
	 .after = F9_HEAD F9_TAIL,
	 .keep_head = 5,
	 .keep_tail = 1},
	{.name = "a CR before ']': [Peer\\r] is a [Peer], and goes",
	 .op = OP_REMOVE,
	 .before = F9,
	 .peer = "PublicKey = " KA "\n",
	 .after = "[Interface]\n"
		  "PrivateKey = " PRIV "\n",
	 .keep_head = 2},

	/* ---- An endpoint host that endpoint_split() took out of brackets ---- */
	{.name = "a host that begins with '[' is written in brackets (caught by fuzz_config_edit)",
	 .op = OP_SET,
	 .before = F3,
	 .peer = "PublicKey = " KA "\nAllowedIPs = 10.0.0.2/32\nEndpoint = [[]:1\n",
	 .which = CONFIG_EDIT_ENDPOINT,
	 .after = F3_HEAD F3_A "Endpoint = [[]:1\n" F3_TAIL,
	 .keep_head = 6,
	 .keep_tail = 3},

	/* ---- An empty file ---- */
	{.name = "add to an empty text",
	 .op = OP_ADD,
	 .before = "",
	 .peer = "PublicKey = " KN "\n",
	 .after = "[Peer]\n"
		  "PublicKey = " KN "\n",
	 .keep_head = ALL_LINES,
	 .no_verify = true},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- [Expose NAME] sections ---- */

/* FX: a server peer and two services, comments inside and above them, LF. */
#define FX_HEAD                   \
	"[Interface]\n"           \
	"PrivateKey = " PRIV "\n" \
	"Address = 10.0.0.2/24\n" \
	"\n"
#define FX_PEER                        \
	"[Peer]\n"                     \
	"Name = server\n"              \
	"PublicKey = " KA "\n"         \
	"AllowedIPs = 10.0.0.1/32\n"   \
	"Endpoint = 192.0.2.1:51820\n" \
	"\n"
#define FX_WEB_BODY                    \
	"# the web app\n"              \
	"[Expose web]\n"               \
	"Peer = server # the office\n" \
	"LocalPort = 8000\n"           \
	"; public on 8080\n"           \
	"PublicPort = 8080\n"
#define FX_WEB FX_WEB_BODY "\n"
#define FX_GRAFANA           \
	"# grafana\n"        \
	"[Expose grafana]\n" \
	"Peer = " KA "\n"    \
	"LocalPort = 3000\n" \
	"ProxyProtocol = yes\n"
#define FX FX_HEAD FX_PEER FX_WEB FX_GRAFANA

/* FXC: CRLF, IPv6, indented keys in other spellings, no final newline. */
#define FXC_HEAD                       \
	"[Interface]\r\n"              \
	"PrivateKey = " PRIV "\r\n"    \
	"Address = fd00::2/64\r\n"     \
	"\r\n"                         \
	"[Peer]\r\n"                   \
	"PublicKey = " KA "\r\n"       \
	"AllowedIPs = fd00::1/128\r\n" \
	"\r\n"                         \
	"[ EXPOSE  api ]\r\n"
#define FXC FXC_HEAD "\tpeer = " KA "\r\n\tlocalport = 9000"

struct expose_case {
	const char *name;
	bool remove;
	const char *before;
	const char *service; /* put: the service's name */
	const char *spec; /* put: its key lines, as they must read back */
	int rc;
	const char *after; /* exactly */
};

static const struct expose_case expose_cases[] = {
	{.name = "a new service is appended after a blank line, defaults left out",
	 .before = FX,
	 .service = "db",
	 .spec = "Peer = server\nLocalPort = 5432\nLocalAddress = ::1\nPublicPort = 15432\n"
		 "ServerAddress = 10.0.0.1\nProxyProtocol = no\n",
	 .after = FX "\n[Expose db]\nPeer = server\nLocalPort = 5432\nLocalAddress = ::1\n"
		     "PublicPort = 15432\nServerAddress = 10.0.0.1\n"},
	{.name = "a service that is there gets new key lines where its first one was",
	 .before = FX,
	 .service = "web",
	 .spec = "Peer = server\nLocalPort = 8000\nPublicPort = 8081\nProxyProtocol = yes\n",
	 .after = FX_HEAD FX_PEER
	 "# the web app\n[Expose web]\nPeer = server\nLocalPort = 8000\n"
	 "PublicPort = 8081\nProxyProtocol = yes\n; public on 8080\n\n" FX_GRAFANA},
	{.name = "the last service, a key set to its default goes",
	 .before = FX,
	 .service = "grafana",
	 .spec = "Peer = " KA "\nLocalPort = 3000\n",
	 .after = FX_HEAD FX_PEER FX_WEB "# grafana\n[Expose grafana]\nPeer = " KA
					 "\nLocalPort = 3000\n"},
	{.name = "CRLF, indent and no final newline: kept in the rewritten lines",
	 .before = FXC,
	 .service = "api",
	 .spec = "Peer = " KA "\nLocalPort = 9001\nLocalAddress = 192.0.2.9\n",
	 .after = FXC_HEAD "\tPeer = " KA
			   "\r\n\tLocalPort = 9001\r\n\tLocalAddress = 192.0.2.9\r\n"},
	{.name = "CRLF and no final newline: a new section gets both",
	 .before = FXC,
	 .service = "ssh",
	 .spec = "Peer = " KA "\nLocalPort = 22\nPublicPort = 2222\n",
	 .after = FXC "\r\n\r\n[Expose ssh]\r\nPeer = " KA
		      "\r\nLocalPort = 22\r\nPublicPort = 2222\r\n"},
	{.name = "remove a service with the comment above it; the next one's comment stays",
	 .remove = true,
	 .before = FX,
	 .service = "web",
	 .after = FX_HEAD FX_PEER FX_GRAFANA},
	{.name = "remove the last service and the blank line before it",
	 .remove = true,
	 .before = FX,
	 .service = "grafana",
	 .after = FX_HEAD FX_PEER FX_WEB_BODY},
	{.name = "remove a service that is not there",
	 .remove = true,
	 .before = FX,
	 .service = "Web",
	 .rc = -ENOENT},
};

#define N_EXPOSE_CASES (sizeof(expose_cases) / sizeof(expose_cases[0]))

static char tmpdir[TS_DIR_LEN];
static char conf_path[TS_DIR_LEN + 16]; /* $tmpdir/wg0.conf: names files and resolves key files */
static char psk_path[TS_DIR_LEN + 16]; /* $tmpdir/peer.psk holds PSK2, mode 0600 */

/* The [Peer] of spec, loaded as the loader would. */
static void peer_from(const char *spec, struct peer_config *pc)
{
	struct diag_list d = {0};
	struct iface_config *cfg;
	char *text;

	assert_true(asprintf(&text, "[Interface]\nPrivateKey = %s\n[Peer]\n%s", PRIV, spec) > 0);
	if (config_load_string(conf_path, text, strlen(text), &cfg, &d) != 0) {
		diag_print(&d, stderr);
		fail_msg("the peer spec does not load");
	}
	assert_int_equal(cfg->n_peers, 1);
	assert_int_equal(peer_config_copy(pc, &cfg->peers[0]), 0);
	iface_config_free(cfg);
	diag_list_clear(&d);
	free(text);
}

/* The byte offset of the start of line `line` (0-based) of s, or strlen(s). */
static size_t line_offset(const char *s, size_t line)
{
	const char *p = s;

	for (size_t i = 0; i < line && *p; i++) {
		const char *nl = strchr(p, '\n');

		p = nl ? nl + 1 : p + strlen(p);
	}
	return (size_t)(p - s);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p; p++)
		n += *p == '\n';
	return n + (*s && s[strlen(s) - 1] != '\n');
}

/* The first keep_head and the last keep_tail lines of before are in after, byte for byte. */
static void assert_untouched(const struct edit_case *c, const char *after)
{
	size_t n = count_lines(c->before);
	size_t head = c->keep_head == ALL_LINES ? n : c->keep_head;
	size_t head_bytes = line_offset(c->before, head);
	size_t tail_bytes = strlen(c->before) - line_offset(c->before, n - c->keep_tail);

	assert_true(head + c->keep_tail <= n);
	assert_true(head_bytes + tail_bytes <= strlen(after));
	assert_memory_equal(c->before, after, head_bytes);
	assert_memory_equal(c->before + strlen(c->before) - tail_bytes,
			    after + strlen(after) - tail_bytes, tail_bytes);
}

static void run_case(void **state)
{
	const struct edit_case *c = *state;
	struct peer_config pc = {0}, *want = NULL;
	const char *psk = c->psk_file ? psk_path : NULL;
	char *out = NULL, *expected;
	size_t out_len = 0;
	int rc;

	peer_from(c->peer, &pc);
	switch (c->op) {
	case OP_ADD:
		rc = config_edit_add_peer(c->before, strlen(c->before), &pc, psk, &out, &out_len);
		want = &pc;
		break;
	case OP_SET:
		rc = config_edit_set_peer(c->before, strlen(c->before), &pc, c->which, psk, &out,
					  &out_len);
		want = &pc;
		break;
	default:
		rc = config_edit_remove_peer(c->before, strlen(c->before), pc.public_key, &out,
					     &out_len);
		break;
	}
	assert_int_equal(rc, c->rc);
	if (rc != 0) {
		assert_null(out);
		peer_config_clear(&pc);
		return;
	}
	expected = ts_expand(c->after, "@PSK@", psk_path);
	if (strcmp(out, expected) != 0)
		fail_msg("got:\n%s\n---- expected:\n%s\n----", out, expected);
	assert_int_equal(out_len, strlen(expected));
	assert_untouched(c, out);

	if (!c->no_verify) {
		struct diag_list d = {0};
		struct iface_config *before;
		char why[512] = "";

		assert_int_equal(
			config_load_string(conf_path, c->before, strlen(c->before), &before, &d),
			0);
		if (c->op == OP_SET) {
			const struct peer_config *fp =
				iface_config_find_peer_key(before, pc.public_key);

			assert_non_null(fp);
			assert_int_equal(config_edit_peer_diff(fp, &pc) |
						 (c->psk_file ? CONFIG_EDIT_PRESHARED_KEY : 0),
					 c->which);
		}
		rc = config_edit_verify(conf_path, before, out, out_len, pc.public_key, want, why,
					sizeof(why));
		if (rc != 0)
			fail_msg("the edit does not verify: %s", why);
		iface_config_free(before);
		diag_list_clear(&d);
	}
	free(expected);
	config_edit_free(out, out_len);
	peer_config_clear(&pc);
}

/* The [Expose name] of spec, loaded as the loader would (its peer is KA, "server"). */
static void expose_from(const char *name, const char *spec, struct expose_config *e)
{
	struct diag_list d = {0};
	struct iface_config *cfg;
	char *text;

	assert_true(asprintf(&text,
			     "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.2/24, fd00::2/64\n"
			     "[Peer]\nName = server\nPublicKey = %s\n"
			     "AllowedIPs = 10.0.0.1/32, fd00::1/128\n[Expose %s]\n%s",
			     PRIV, KA, name, spec) > 0);
	if (config_load_string(conf_path, text, strlen(text), &cfg, &d) != 0) {
		diag_print(&d, stderr);
		fail_msg("the service spec does not load");
	}
	assert_int_equal(cfg->n_exposes, 1);
	assert_int_equal(expose_config_copy(e, &cfg->exposes[0]), 0);
	iface_config_free(cfg);
	diag_list_clear(&d);
	free(text);
}

static void run_expose_case(void **state)
{
	const struct expose_case *c = *state;
	struct expose_config e = {0};
	struct diag_list d = {0};
	struct iface_config *before;
	char *out = NULL, why[512] = "";
	size_t out_len = 0;
	int rc;

	if (c->remove) {
		rc = config_edit_remove_expose(c->before, strlen(c->before), c->service, &out,
					       &out_len);
	} else {
		expose_from(c->service, c->spec, &e);
		rc = config_edit_put_expose(c->before, strlen(c->before), &e, &out, &out_len);
	}
	assert_int_equal(rc, c->rc);
	if (rc != 0) {
		assert_null(out);
		expose_config_clear(&e);
		return;
	}
	if (strcmp(out, c->after) != 0)
		fail_msg("got:\n%s\n---- expected:\n%s\n----", out, c->after);
	assert_int_equal(out_len, strlen(c->after));
	assert_int_equal(config_load_string(conf_path, c->before, strlen(c->before), &before, &d),
			 0);
	rc = config_edit_verify_expose(conf_path, before, out, out_len, c->service,
				       c->remove ? NULL : &e, why, sizeof(why));
	if (rc != 0)
		fail_msg("the edit does not verify: %s", why);
	iface_config_free(before);
	diag_list_clear(&d);
	config_edit_free(out, out_len);
	expose_config_clear(&e);
}

/* put then remove gives the file back (with a final newline); verify's refusals. */
static void test_expose_round_trip_and_refusals(void **state)
{
	static const struct {
		const char *text, *back;
	} files[] = {{FX, FX}, {F1, F1}, {FXC, FXC "\r\n"}};
	static const struct {
		const char *after, *why;
	} bad[] = {
		{FX_HEAD FX_PEER FX_WEB "# grafana\n[Expose grafana]\nPeer = " KA
					"\nLocalPort = 3001\n",
		 "the edit would change the [Expose grafana] at line 19"},
		{FX_HEAD FX_PEER FX_GRAFANA, "the edited file would not have [Expose web]"},
		{FX "\n[Expose db]\nPeer = server\nLocalPort = 5432\n",
		 "the edit would add another [Expose] section"},
		{FX_HEAD "[Peer]\nName = server\nPublicKey = " KA
			 "\nAllowedIPs = 10.0.0.1/32\n\n" FX_WEB FX_GRAFANA,
		 "the edit would change the [Peer] at line 5"},
		{FX_HEAD FX_PEER FX_WEB_BODY "ProxyProtocol = yes\n\n" FX_GRAFANA,
		 "[Expose web] would not read back as it runs (line 12)"},
	};
	struct expose_config e = {0};
	struct diag_list d = {0};
	struct iface_config *before;
	char *out = NULL, why[512];
	size_t len = 0;

	(void)state;
	expose_from("n", "Peer = server\nLocalPort = 1234\n", &e);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *added, *back;
		size_t added_len, back_len;

		assert_int_equal(config_edit_put_expose(files[i].text, strlen(files[i].text), &e,
							&added, &added_len),
				 0);
		assert_int_equal(config_edit_remove_expose(added, added_len, "n", &back, &back_len),
				 0);
		assert_string_equal(back, files[i].back);
		config_edit_free(added, added_len);
		config_edit_free(back, back_len);
	}
	expose_config_clear(&e);

	/* A Peer value that cannot be written is refused before anything. */
	expose_from("x", "Peer = server\nLocalPort = 1\n", &e);
	free(e.peer);
	e.peer = strdup("server # x");
	assert_int_equal(config_edit_put_expose(FX, strlen(FX), &e, &out, &len), -EINVAL);
	assert_null(out);
	expose_config_clear(&e);

	assert_int_equal(config_load_string(conf_path, FX, strlen(FX), &before, &d), 0);
	expose_from("web", "Peer = server\nLocalPort = 8000\nPublicPort = 8080\n", &e);
	assert_int_equal(config_edit_verify_expose(conf_path, before, FX, strlen(FX), "web", &e,
						   why, sizeof(why)),
			 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(config_edit_verify_expose(conf_path, before, bad[i].after,
							   strlen(bad[i].after), "web", &e, why,
							   sizeof(why)),
				 -EINVAL);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, why, bad[i].why);
	}
	assert_int_equal(config_edit_verify_expose(conf_path, before, FX, strlen(FX), "web", NULL,
						   why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "the edited file would still have [Expose web] (line 12)");
	iface_config_free(before);
	diag_list_clear(&d);
	expose_config_clear(&e);
}

/* add then remove gives the file back (with a final newline). */
static void test_add_remove_round_trip(void **state)
{
	static const struct {
		const char *text, *back;
	} files[] = {
		{F1, F1}, {F3, F3}, {F4, F4}, {F5, F5},
		{F6, F6}, {F7, F7}, {F9, F9}, {F2, F2 "\r\n"},
	};
	struct peer_config pc = {0};

	(void)state;
	peer_from("Name = n\nPublicKey = " KN "\nAllowedIPs = 10.0.0.99/32\n", &pc);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *added, *back;
		size_t added_len, back_len;

		assert_int_equal(config_edit_add_peer(files[i].text, strlen(files[i].text), &pc,
						      NULL, &added, &added_len),
				 0);
		assert_int_equal(
			config_edit_remove_peer(added, added_len, pc.public_key, &back, &back_len),
			0);
		assert_string_equal(back, files[i].back);
		config_edit_free(added, added_len);
		config_edit_free(back, back_len);
	}
	peer_config_clear(&pc);
}

static void test_values_that_cannot_be_written(void **state)
{
	static const char *const bad[] = {"a#b", " lead", "trail\t", "new\nline", "", "bell\a"};
	struct peer_config pc = {0};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(config_edit_value_ok(bad[i]));
	assert_true(config_edit_value_ok("/etc/tund/peer.psk"));
	peer_from("PublicKey = " KN "\nPresharedKey = " PSK2 "\n", &pc);
	assert_int_equal(config_edit_add_peer(F1, strlen(F1), &pc, "relative.psk", &out, &len),
			 -EINVAL);
	assert_int_equal(config_edit_add_peer(F1, strlen(F1), &pc, "/a#b.psk", &out, &len),
			 -EINVAL);
	assert_int_equal(config_edit_set_peer(F3, strlen(F3), &(struct peer_config){0},
					      CONFIG_EDIT_NAME, NULL, &out, &len),
			 -ENOENT);
	assert_null(out);
	peer_config_clear(&pc);
}

/* verify refuses texts that change more than the one peer, or do not load. */
static void test_verify_refuses(void **state)
{
	static const struct {
		const char *after, *why;
	} bad[] = {
		{F1_HEAD F1_A "# bob\n[Peer]\nPublicKey = " KB
			      "\nAllowedIPs = 10.0.0.3/32\n\n" F1_C,
		 "the edit would change the [Peer] at line 16"},
		{"# wg0: the office\n[Interface]\nPrivateKey = " PRIV
		 "\nListenPort = 51821\nAddress = 10.0.0.1/24\n\n" F1_A F1_B F1_C,
		 "the edit would change [Interface]"},
		{"# wg0: the office\n[Interface]\nPrivateKey = " PRIV
		 "\nListenPort = 51820\nAddress = 10.0.0.1/24\nExposeGracePeriod = 5\n\n" F1_A F1_B F1_C,
		 "the edit would change [Interface]"},
		{F1 "Colour = blue\n", "the edited file would not load: "},
		{F1_HEAD F1_B F1_C, "the edited file would not have the peer"},
	};
	struct diag_list d = {0};
	struct iface_config *before;
	struct peer_config pc = {0};
	char why[512];

	(void)state;
	assert_int_equal(config_load_string(conf_path, F1, strlen(F1), &before, &d), 0);
	peer_from("Name = alice\nPublicKey = " KA
		  "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.2:51820\n",
		  &pc);
	assert_int_equal(config_edit_verify(conf_path, before, F1, strlen(F1), pc.public_key, &pc,
					    why, sizeof(why)),
			 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(config_edit_verify(conf_path, before, bad[i].after,
						    strlen(bad[i].after), pc.public_key, &pc, why,
						    sizeof(why)),
				 -EINVAL);
		if (strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s...\"", i, why, bad[i].why);
	}
	/* Removing: the peer must be gone. */
	assert_int_equal(config_edit_verify(conf_path, before, F1, strlen(F1), pc.public_key, NULL,
					    why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "the edited file would still have the peer (line 8)");
	iface_config_free(before);
	diag_list_clear(&d);
	peer_config_clear(&pc);
}

/* Names in dir other than . and .. and the ones given (NULL-terminated). */
static size_t count_others(const char *dir, const char *const *known)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d))) {
		bool is_known = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;

		for (size_t i = 0; known[i]; i++)
			is_known = is_known || strcmp(de->d_name, known[i]) == 0;
		n += !is_known;
	}
	closedir(d);
	return n;
}

static void test_write_atomic(void **state)
{
	static const char *const known[] = {"w.conf", "peer.psk", "wg0.conf", "dir.conf", NULL};
	char path[TS_DIR_LEN + 32], dir_path[TS_DIR_LEN + 32], why[512];
	struct stat st;
	char *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/w.conf", tmpdir);
	ts_write_text(path, NULL, "old\n", 0640);
	if (geteuid() == 0)
		assert_int_equal(chown(path, 4321, 5432), 0);
	assert_int_equal(config_edit_write(path, "new\r\ntext", 9, why, sizeof(why)), 0);
	text = ts_read_file(path, NULL);
	assert_string_equal(text, "new\r\ntext");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 4321);
		assert_int_equal(st.st_gid, 5432);
	}
	assert_int_equal(count_others(tmpdir, known), 0);

	/* Failures leave the file, and no temporary file, behind. */
	snprintf(dir_path, sizeof(dir_path), "%s/dir.conf", tmpdir);
	assert_int_equal(mkdir(dir_path, 0700), 0);
	assert_int_equal(config_edit_write(dir_path, "x\n", 2, why, sizeof(why)), -EISDIR);
	assert_non_null(strstr(why, "cannot rename "));
	assert_non_null(strstr(why, ": Is a directory"));
	assert_int_equal(count_others(tmpdir, known), 0);
	assert_int_equal(rmdir(dir_path), 0);
	snprintf(dir_path, sizeof(dir_path), "%s/nodir/w.conf", tmpdir);
	assert_int_equal(config_edit_write(dir_path, "x\n", 2, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "cannot stat "));
	text = ts_read_file(path, NULL);
	assert_string_equal(text, "new\r\ntext");
	free(text);
	assert_int_equal(unlink(path), 0);
}

/* prepare + commit on a real file, and the refusals before anything changes. */
/* An interface without a file (tund-wg): every save is refused, saying why. */
static void test_save_fileless(void **state)
{
	struct iface_config *cfg = iface_config_new_fileless("wq0");
	struct peer_config pc = {.n_allowed_ips = 0};
	struct config_save s;
	char why[256];

	(void)state;
	assert_non_null(cfg);
	assert_null(cfg->path);
	assert_int_equal(cfg->table, TABLE_OFF);
	assert_false(cfg->has_private_key);
	assert_false(cfg->has_listen_port);
	assert_int_equal(cfg->n_peers, 0);
	memset(pc.public_key, 7, sizeof(pc.public_key));
	assert_int_equal(config_save_prepare(cfg, pc.public_key, &pc, NULL, &s, why, sizeof(why)),
			 -ENOENT);
	assert_string_equal(why, "wq0 has no file (it was created by tund-wg)");
	assert_null(s.path);
	assert_int_equal(config_save_prepare_expose(cfg, "web", NULL, &s, why, sizeof(why)),
			 -ENOENT);
	assert_string_equal(why, "wq0 has no file (it was created by tund-wg)");
	iface_config_free(cfg);
}

static void test_save(void **state)
{
	struct diag_list d = {0};
	struct iface_config *cfg, *again;
	struct config_save s;
	struct peer_config pc = {0}, with_psk = {0};
	const struct peer_config *got;
	char why[512], *text;
	struct stat st;

	(void)state;
	ts_write_text(conf_path, NULL, F1, 0600);
	assert_int_equal(config_load_file(conf_path, &cfg, &d), 0);
	peer_from("Name = dave\nPublicKey = " KN "\nAllowedIPs = 10.0.0.5/32\n", &pc);

	/* add, then the file loads with the peer and the digest follows. */
	assert_int_equal(config_save_prepare(cfg, pc.public_key, &pc, NULL, &s, why, sizeof(why)),
			 0);
	text = ts_read_file(conf_path, NULL);
	assert_string_equal(text, F1); /* nothing written yet */
	free(text);
	assert_int_equal(config_save_commit(&s, cfg, why, sizeof(why)), 0);
	config_save_clear(&s);
	assert_int_equal(config_load_file(conf_path, &again, &d), 0);
	got = iface_config_find_peer_key(again, pc.public_key);
	assert_non_null(got);
	assert_true(peer_config_same(got, &pc));
	assert_memory_equal(again->text_digest, cfg->text_digest, CONFIG_DIGEST_LEN);
	iface_config_free(again);
	assert_int_equal(stat(conf_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* The same peer again: the file says it already, nothing to write. */
	assert_int_equal(config_save_prepare(cfg, pc.public_key, &pc, NULL, &s, why, sizeof(why)),
			 0);
	assert_null(s.text);
	config_save_clear(&s);

	/* A preshared key needs its file. */
	peer_from("PublicKey = " KN "\nPresharedKey = " PSK2 "\n", &with_psk);
	assert_int_equal(config_save_prepare(cfg, with_psk.public_key, &with_psk, NULL, &s, why,
					     sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "only as PresharedKeyFile"));
	assert_int_equal(config_save_prepare(cfg, with_psk.public_key, &with_psk, psk_path, &s, why,
					     sizeof(why)),
			 0);
	assert_non_null(strstr(s.text, "PresharedKeyFile = "));
	assert_null(strstr(s.text, PSK2));
	config_save_clear(&s);

	/* An edit on disk since the load is never overwritten. */
	ts_write_text(conf_path, NULL, F1 "# the operator's note\n", 0600);
	assert_int_equal(config_save_prepare(cfg, pc.public_key, NULL, NULL, &s, why, sizeof(why)),
			 -ESTALE);
	assert_non_null(strstr(why, "wg0.conf changed on disk since it was loaded; run tunctl "
				    "reload first"));
	assert_null(s.path);
	text = ts_read_file(conf_path, NULL);
	assert_string_equal(text, F1 "# the operator's note\n");
	free(text);

	iface_config_free(cfg);
	diag_list_clear(&d);
	peer_config_clear(&pc);
	peer_config_clear(&with_psk);
	assert_int_equal(unlink(conf_path), 0);
}

/* tunctl expose/unexpose --save: prepare + commit on a real file. */
static void test_save_expose(void **state)
{
	struct diag_list d = {0};
	struct iface_config *cfg, *again;
	struct expose_config e = {0};
	struct config_save s;
	char why[512], *text;

	(void)state;
	ts_write_text(conf_path, NULL, FX, 0600);
	assert_int_equal(config_load_file(conf_path, &cfg, &d), 0);
	expose_from("db", "Peer = server\nLocalPort = 5432\n", &e);
	assert_int_equal(config_save_prepare_expose(cfg, "db", &e, &s, why, sizeof(why)), 0);
	text = ts_read_file(conf_path, NULL);
	assert_string_equal(text, FX); /* nothing written yet */
	free(text);
	assert_int_equal(config_save_commit(&s, cfg, why, sizeof(why)), 0);
	config_save_clear(&s);
	text = ts_read_file(conf_path, NULL);
	assert_string_equal(text, FX "\n[Expose db]\nPeer = server\nLocalPort = 5432\n");
	free(text);
	assert_int_equal(config_load_file(conf_path, &again, &d), 0);
	assert_true(expose_config_same(iface_config_find_expose(again, "db"), &e));
	assert_memory_equal(again->text_digest, cfg->text_digest, CONFIG_DIGEST_LEN);
	iface_config_free(again);

	/* The same again: the file says it already. */
	assert_int_equal(config_save_prepare_expose(cfg, "db", &e, &s, why, sizeof(why)), 0);
	assert_null(s.text);
	config_save_clear(&s);

	/* A peer the file does not have (one added without --save). */
	free(e.peer);
	e.peer = strdup("laptop");
	assert_int_equal(config_save_prepare_expose(cfg, "db", &e, &s, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "wg0.conf has no peer \"laptop\" (one added without --save?)"));
	assert_null(s.path);

	/* Removed: the file is as it was. */
	assert_int_equal(config_save_prepare_expose(cfg, "db", NULL, &s, why, sizeof(why)), 0);
	assert_int_equal(config_save_commit(&s, cfg, why, sizeof(why)), 0);
	config_save_clear(&s);
	text = ts_read_file(conf_path, NULL);
	assert_string_equal(text, FX);
	free(text);
	assert_int_equal(config_save_prepare_expose(cfg, "db", NULL, &s, why, sizeof(why)), 0);
	assert_null(s.text);
	config_save_clear(&s);

	iface_config_free(cfg);
	diag_list_clear(&d);
	expose_config_clear(&e);
	assert_int_equal(unlink(conf_path), 0);
}

static int setup(void **state)
{
	(void)state;
	ts_tmpdir(tmpdir, "edit");
	snprintf(conf_path, sizeof(conf_path), "%s/wg0.conf", tmpdir);
	snprintf(psk_path, sizeof(psk_path), "%s/peer.psk", tmpdir);
	ts_write_text(psk_path, NULL, PSK2 "\n", 0600);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(psk_path);
	return rmdir(tmpdir);
}

int main(void)
{
	enum {
		N_OTHERS = 8,
		N_ALL = N_CASES + N_EXPOSE_CASES + N_OTHERS
	};
	struct CMUnitTest tests[N_ALL];
	char *names[N_CASES + N_EXPOSE_CASES];
	size_t n = 0;
	int failed;

	if (crypto_init() != 0)
		return 1;
	for (size_t i = 0; i < N_CASES; i++, n++) {
		if (asprintf(&names[n], "edit %zu: %s", i + 1, cases[i].name) < 0)
			return 1;
		tests[n] = (struct CMUnitTest){.name = names[n],
					       .test_func = run_case,
					       .initial_state = (void *)&cases[i]};
	}
	for (size_t i = 0; i < N_EXPOSE_CASES; i++, n++) {
		if (asprintf(&names[n], "expose %zu: %s", i + 1, expose_cases[i].name) < 0)
			return 1;
		tests[n] = (struct CMUnitTest){.name = names[n],
					       .test_func = run_expose_case,
					       .initial_state = (void *)&expose_cases[i]};
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_add_remove_round_trip);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_values_that_cannot_be_written);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_verify_refuses);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_expose_round_trip_and_refusals);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_write_atomic);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_save);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_save_expose);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_save_fileless);
	failed = _cmocka_run_group_tests("config_edit", tests, n, setup, teardown);
	for (size_t i = 0; i < N_CASES + N_EXPOSE_CASES; i++)
		free(names[i]);
	crypto_cleanup();
	return failed ? 1 : 0;
}

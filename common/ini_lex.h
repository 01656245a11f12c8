/* SPDX-License-Identifier: MIT */
/*
 * The one reader of INI lines, shared by the loader (config_ini.c) and the
 * --save editor (config_edit.c) so that both always see the same line:
 * wg-quick's rules ('#' starts a comment anywhere, ';' only first on a line;
 * blanks, and a CR, around keys, values and section names do not count; a
 * UTF-8 byte-order mark before the first line is skipped). It measures and
 * never copies: every position is a byte offset into the caller's text.
 */
#ifndef TUND_INI_LEX_H
#define TUND_INI_LEX_H

#include <stdbool.h>
#include <stddef.h>

/* Longest line the loader takes, its line ending included. */
#define INI_MAX_LINE 65536
/* Longest key name. */
#define INI_MAX_KEY 64

enum ini_kind {
	INI_BLANK, /* nothing but blanks */
	INI_COMMENT, /* ';' first, or blanks and a '#' comment */
	INI_SECTION, /* [Name] */
	INI_KEY, /* Key = Value */
	INI_OTHER, /* none of these (problem says why) */
};

/* What the loader refuses a line for, the first that applies in this order. */
enum ini_problem {
	INI_OK,
	INI_NUL, /* a NUL byte */
	INI_TOO_LONG, /* over INI_MAX_LINE bytes with its ending */
	INI_CONTROL, /* a control character but tab and CR; bad_byte is the first */
	INI_BAD_SECTION, /* '[' without ']' at the end */
	INI_NO_EQUALS, /* not a section, a comment, or a key */
	INI_BAD_KEY, /* a key that is not 1-INI_MAX_KEY of A-Z a-z 0-9 _ - */
};

/*
 * One line. off, len and eol are offsets into the text; the others are
 * relative to off. The kind is the line's shape alone: the editor goes by
 * it whatever the problem, the loader refuses a line with a problem.
 */
struct ini_line {
	size_t off; /* first byte */
	size_t len; /* bytes before the line ending */
	size_t eol; /* 2 "\r\n", 1 "\n", 0 on a last line without one */
	size_t start; /* 3 after a byte-order mark on the first line, else 0 */
	enum ini_kind kind;
	enum ini_problem problem;
	unsigned char bad_byte; /* INI_CONTROL */
	size_t indent; /* the first byte that is not a blank (or the mark) */
	size_t name_off, name_len; /* INI_SECTION: the name, trimmed */
	/* INI_KEY: the key is [indent, indent + key_len), trimmed */
	size_t key_len;
	size_t eq; /* the '=' */
	size_t value_off, value_len; /* the value, trimmed, without an inline comment */
};

/*
 * The line of text (len bytes) that starts at *pos, which the caller sets to
 * 0 for the first line; *pos then moves to the next. False at the end: an
 * empty text has no line, a final "\n" ends the last line.
 */
bool ini_lex_next(const char *text, size_t len, size_t *pos, struct ini_line *out);

/*
 * Whether an INI_SECTION line's name is word (in any case) alone or
 * followed by blanks and more: [Expose web] is "Expose" with arg "web".
 * *arg and *arg_len (either may be NULL) get what follows, "" when nothing.
 */
bool ini_lex_section_is(const char *text, const struct ini_line *l, const char *word,
			const char **arg, size_t *arg_len);

/* s without its leading blanks and trailing blanks and line ends (cut in place). */
char *ini_trim(char *s);

/* Whether an INI_KEY line's key is name, in any case. */
bool ini_lex_key_is(const char *text, const struct ini_line *l, const char *name);

#endif

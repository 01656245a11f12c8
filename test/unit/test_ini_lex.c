// SPDX-License-Identifier: MIT
/*
 * The INI line reader (ini_lex.c) that the loader and the --save editor
 * share: a numbered table of lines with the shape, the loader's problem and
 * the positions each must get; then how a text splits into lines (endings,
 * a missing final newline, a byte-order mark on the first line only) and
 * the section-name and key-name helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ini_lex.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct line_case {
	const char *in; /* one line, its ending included */
	enum ini_kind kind;
	enum ini_problem problem;
	const char *name; /* INI_SECTION: the name */
	const char *key, *value; /* INI_KEY */
	size_t indent;
};

static const struct line_case lines[] = {
	/* 0 */ {.in = "\n", .kind = INI_BLANK},
	/* 1 */ {.in = " \t\r\n", .kind = INI_BLANK, .indent = 2},
	/* 2 */ {.in = "# a comment\n", .kind = INI_COMMENT},
	/* 3 */ {.in = "   # indented\n", .kind = INI_COMMENT, .indent = 3},
	/* 4 */ {.in = "; first on the line\n", .kind = INI_COMMENT},
	/* 5 */ {.in = "[Peer]\n", .kind = INI_SECTION, .name = "Peer"},
	/* 6 */
	{.in = " [ Expose  web ] # x\r\n", .kind = INI_SECTION, .name = "Expose  web", .indent = 1},
	/* 7 */ {.in = "[]\n", .kind = INI_SECTION, .name = ""},
	/* 8 */ {.in = "[Peer\n", .kind = INI_OTHER, .problem = INI_BAD_SECTION},
	/* 9 */ {.in = "[Peer] extra\n", .kind = INI_OTHER, .problem = INI_BAD_SECTION},
	/* 10 */ {.in = "[\n", .kind = INI_OTHER, .problem = INI_BAD_SECTION},
	/* 11 */ {.in = "Key = Value\n", .kind = INI_KEY, .key = "Key", .value = "Value"},
	/* 12 */
	{.in = "\tKey\t=\tA, B ; not a comment # but this is\r\n",
	 .kind = INI_KEY,
	 .key = "Key",
	 .value = "A, B ; not a comment",
	 .indent = 1},
	/* 13 */ {.in = "Key =\n", .kind = INI_KEY, .key = "Key", .value = ""},
	/* 14 */ {.in = "Key = a=b\n", .kind = INI_KEY, .key = "Key", .value = "a=b"},
	/* 15 */ {.in = "Key = a\rb\n", .kind = INI_KEY, .key = "Key", .value = "a\rb"},
	/* 16 */
	{.in = "= value\n", .kind = INI_KEY, .problem = INI_BAD_KEY, .key = "", .value = "value"},
	/* 17 */
	{.in = "Listen Port = 1\n",
	 .kind = INI_KEY,
	 .problem = INI_BAD_KEY,
	 .key = "Listen Port",
	 .value = "1"},
	/* 18 */ {.in = "ListenPort 51820\n", .kind = INI_OTHER, .problem = INI_NO_EQUALS},
	/* 19 */ {.in = "Key # = Value\n", .kind = INI_OTHER, .problem = INI_NO_EQUALS},
	/* 20: a control character anywhere, even in a comment, but the shape is kept */
	{.in = "Key = 1\x02\n",
	 .kind = INI_KEY,
	 .problem = INI_CONTROL,
	 .key = "Key",
	 .value = "1\x02"},
	/* 21 */ {.in = "# \x7f\n", .kind = INI_COMMENT, .problem = INI_CONTROL},
	/* 22 */ {.in = "\r[Peer]\n", .kind = INI_OTHER, .problem = INI_NO_EQUALS},
	/* 23: a key of 64 characters is one, of 65 not */
	{.in = "K234567890123456789012345678901234567890123456789012345678901234=1\n",
	 .kind = INI_KEY,
	 .key = "K234567890123456789012345678901234567890123456789012345678901234",
	 .value = "1"},
	/* 24 */
	{.in = "K2345678901234567890123456789012345678901234567890123456789012345=1\n",
	 .kind = INI_KEY,
	 INI_BAD_KEY,
	 .key = "K2345678901234567890123456789012345678901234567890123456789012345",
	 .value = "1"},
};

static void check_span(const char *line, size_t off, size_t len, const char *want)
{
	assert_non_null(want);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line + off, want, len);
}

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(lines); i++) {
		const struct line_case *c = &lines[i];
		struct ini_line l;
		size_t pos = 0;

		print_message("line %zu\n", i);
		assert_true(ini_lex_next(c->in, strlen(c->in), &pos, &l));
		assert_int_equal(pos, strlen(c->in));
		assert_int_equal(l.kind, c->kind);
		assert_int_equal(l.problem, c->problem);
		assert_int_equal(l.indent, c->indent);
		if (c->kind == INI_SECTION)
			check_span(c->in, l.name_off, l.name_len, c->name);
		if (c->kind == INI_KEY) {
			check_span(c->in, l.indent, l.key_len, c->key);
			check_span(c->in, l.value_off, l.value_len, c->value);
			assert_int_equal(c->in[l.eq], '=');
		}
		assert_false(ini_lex_next(c->in, strlen(c->in), &pos, &l));
	}
}

/* The problems come in the loader's order: a NUL, the length, a control character. */
static void test_problem_order(void **state)
{
	static char buf[INI_MAX_LINE + 8];
	struct ini_line l;
	size_t pos = 0;

	(void)state;
	assert_true(ini_lex_next("K\x01=\0\n", 5, &pos, &l));
	assert_int_equal(l.problem, INI_NUL);
	pos = 0;
	assert_true(ini_lex_next("K = \x01\x02\n", 7, &pos, &l));
	assert_int_equal(l.problem, INI_CONTROL);
	assert_int_equal(l.bad_byte, 0x01);

	/* 65536 bytes with "\n" is the longest line; "\r\n" counts two. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "K = ", 4);
	buf[INI_MAX_LINE - 1] = '\n';
	pos = 0;
	assert_true(ini_lex_next(buf, INI_MAX_LINE, &pos, &l));
	assert_int_equal(l.problem, INI_OK);
	buf[INI_MAX_LINE - 1] = '\r';
	buf[INI_MAX_LINE] = '\n';
	buf[INI_MAX_LINE - 2] = '\x01';
	pos = 0;
	assert_true(ini_lex_next(buf, INI_MAX_LINE + 1, &pos, &l));
	assert_int_equal(l.problem, INI_TOO_LONG);
	assert_int_equal(l.kind, INI_KEY);
}

static void test_split(void **state)
{
	static const char text[] = "\xEF\xBB\xBF[Peer]\r\n\n\xEF\xBB\xBF[Peer]\nKey = 1";
	struct ini_line l;
	size_t pos = 0;

	(void)state;
	assert_false(ini_lex_next("", 0, &pos, &l));
	/* A byte-order mark on the first line is skipped... */
	assert_true(ini_lex_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.off, 0);
	assert_int_equal(l.start, 3);
	assert_int_equal(l.len, 9);
	assert_int_equal(l.eol, 2);
	assert_int_equal(l.kind, INI_SECTION);
	assert_true(ini_lex_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.off, 11);
	assert_int_equal(l.len, 0);
	assert_int_equal(l.eol, 1);
	assert_int_equal(l.kind, INI_BLANK);
	/* ... on any other it is text. */
	assert_true(ini_lex_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.start, 0);
	assert_int_equal(l.kind, INI_OTHER);
	/* A last line without an ending. */
	assert_true(ini_lex_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.eol, 0);
	assert_int_equal(l.kind, INI_KEY);
	assert_int_equal(pos, sizeof(text) - 1);
	assert_false(ini_lex_next(text, sizeof(text) - 1, &pos, &l));
}

static void test_names(void **state)
{
	static const char text[] = "[expose  web 1]\n[Exposed]\n[PEER]\n[Peer x]\n pUbLiCkEy = k\n";
	struct ini_line l[5];
	const char *arg;
	size_t pos = 0, arg_len;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(l); i++)
		assert_true(ini_lex_next(text, sizeof(text) - 1, &pos, &l[i]));
	assert_true(ini_lex_section_is(text, &l[0], "Expose", &arg, &arg_len));
	assert_int_equal(arg_len, 5);
	assert_memory_equal(arg, "web 1", 5);
	assert_false(ini_lex_section_is(text, &l[1], "Expose", NULL, NULL));
	assert_true(ini_lex_section_is(text, &l[2], "Peer", NULL, &arg_len));
	assert_int_equal(arg_len, 0);
	assert_true(ini_lex_section_is(text, &l[3], "Peer", NULL, &arg_len));
	assert_int_equal(arg_len, 1);
	assert_false(ini_lex_section_is(text, &l[4], "Peer", NULL, NULL));
	assert_true(ini_lex_key_is(text, &l[4], "PublicKey"));
	assert_false(ini_lex_key_is(text, &l[4], "PublicKe"));
	assert_false(ini_lex_key_is(text, &l[2], "PEER"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_problem_order),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

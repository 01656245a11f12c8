// SPDX-License-Identifier: MIT
/*
 * Splitting an interface file into lines and measuring each, for the loader
 * and the editor alike (ini_lex.h). The rules are wg-quick's; the problems
 * are the loader's, found here so that the editor's view of a line can never
 * drift from what the loader makes of it.
 */
#include "ini_lex.h"

#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* What does not count at the end of a line, a key or a section name. */
static bool is_trailing(char c)
{
	return is_blank(c) || c == '\r';
}

static bool key_name_ok(const char *k, size_t len)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

	if (len == 0 || len > INI_MAX_KEY)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!memchr(chars, k[i], sizeof(chars) - 1))
			return false;
	return true;
}

/* The loader's byte checks, in its order: a NUL, the length, a control character. */
static void check_bytes(const char *s, struct ini_line *l)
{
	if (memchr(s + l->start, '\0', l->len - l->start)) {
		l->problem = INI_NUL;
		return;
	}
	if (l->len + l->eol - l->start > INI_MAX_LINE) {
		l->problem = INI_TOO_LONG;
		return;
	}
	for (size_t i = l->start; i < l->len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
			l->problem = INI_CONTROL;
			l->bad_byte = c;
			return;
		}
	}
}

static void lex_section(const char *s, size_t start, size_t end, struct ini_line *l)
{
	size_t a = start + 1, b = end - 1;

	if (s[end - 1] != ']' || end - start < 2) {
		l->kind = INI_OTHER;
		if (!l->problem)
			l->problem = INI_BAD_SECTION;
		return;
	}
	while (a < b && is_blank(s[a]))
		a++;
	while (b > a && is_trailing(s[b - 1]))
		b--;
	l->kind = INI_SECTION;
	l->name_off = a;
	l->name_len = b - a;
}

static void lex_key(const char *s, size_t start, size_t end, struct ini_line *l)
{
	const char *eq = memchr(s + start, '=', end - start);

	if (!eq) {
		l->kind = INI_OTHER;
		if (!l->problem)
			l->problem = INI_NO_EQUALS;
		return;
	}
	l->kind = INI_KEY;
	l->eq = (size_t)(eq - s);
	l->key_len = l->eq - start;
	while (l->key_len > 0 && is_trailing(s[start + l->key_len - 1]))
		l->key_len--;
	l->value_off = l->eq + 1;
	while (l->value_off < end && is_blank(s[l->value_off]))
		l->value_off++;
	l->value_len = end - l->value_off;
	if (!l->problem && !key_name_ok(s + start, l->key_len))
		l->problem = INI_BAD_KEY;
}

/* The shape of line s (l->len bytes, from l->start): comment cut, then trimmed. */
static void lex_line(const char *s, struct ini_line *l)
{
	const char *hash = memchr(s + l->start, '#', l->len - l->start);
	size_t cut = hash ? (size_t)(hash - s) : l->len, start = l->start, end;

	check_bytes(s, l);
	while (start < cut && is_blank(s[start]))
		start++;
	end = cut;
	while (end > start && is_trailing(s[end - 1]))
		end--;
	l->indent = start;
	if (start == end)
		l->kind = hash ? INI_COMMENT : INI_BLANK;
	else if (s[start] == ';')
		l->kind = INI_COMMENT;
	else if (s[start] == '[')
		lex_section(s, start, end, l);
	else
		lex_key(s, start, end, l);
}

bool ini_lex_next(const char *text, size_t len, size_t *pos, struct ini_line *out)
{
	size_t off = *pos, end;
	const char *nl;

	if (off >= len)
		return false;
	memset(out, 0, sizeof(*out));
	nl = memchr(text + off, '\n', len - off);
	end = nl ? (size_t)(nl - text) : len;
	out->off = off;
	out->len = end - off;
	if (nl) {
		out->eol = 1;
		if (out->len > 0 && text[end - 1] == '\r') {
			out->len--;
			out->eol = 2;
		}
	}
	/* Editors on some systems start a UTF-8 file with a byte-order mark. */
	if (off == 0 && out->len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		out->start = 3;
	lex_line(text + off, out);
	*pos = end + (nl ? 1 : 0);
	return true;
}

bool ini_lex_section_is(const char *text, const struct ini_line *l, const char *word,
			const char **arg, size_t *arg_len)
{
	const char *s = text + l->off + l->name_off;
	size_t n = strlen(word), i = n;

	if (l->kind != INI_SECTION || l->name_len < n || strncasecmp(s, word, n) != 0 ||
	    (l->name_len > n && !is_blank(s[n])))
		return false;
	while (i < l->name_len && is_blank(s[i]))
		i++;
	if (arg)
		*arg = s + i;
	if (arg_len)
		*arg_len = l->name_len - i;
	return true;
}

bool ini_lex_key_is(const char *text, const struct ini_line *l, const char *name)
{
	return l->kind == INI_KEY && l->key_len == strlen(name) &&
	       strncasecmp(text + l->off + l->indent, name, l->key_len) == 0;
}

char *ini_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

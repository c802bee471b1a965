/*
 * The error carrier and the single table from status to exit code.
 *
 * The exit codes are DESIGN.md's "Exit status" table; man/mlops.1 mirrors
 * it.  Nothing here prints except err_bug(), which is for broken
 * invariants only.
 *
 * Every message is one line of valid UTF-8, whatever it quotes: control
 * characters are escaped as C does (\n, \t, \x01), bytes that are not
 * UTF-8 as \xHH, and the characters a terminal or a log reader may take
 * for a line end or use to reorder text (C1 controls, U+2028, U+2029,
 * the bidirectional controls) as \uHHHH, here where every message is
 * made, so no caller needs to think of a field holding a newline.
 * Warnings go through the same escaping (err_warn(), the one function
 * here besides err_bug() that prints).
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, k;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k <= need; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return need + 1;
}

/*
 * Whether the k-byte UTF-8 character at s is one to escape: a C1
 * control, a line or paragraph separator, a bidirectional control.
 */
static unsigned hidden(const unsigned char *s, size_t k)
{
	unsigned cp;

	if (k == 2)
		cp = (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu);
	else if (k == 3)
		cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 |
		     (s[2] & 0x3fu);
	else
		return 0;
	if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return cp;
	return 0;
}

/* Rewrite msg as one line of valid UTF-8 (see the top of the file). */
static void escape(char *msg)
{
	char out[MLOPS_ERR_MAX];
	const unsigned char *s = (const unsigned char *)msg;
	size_t n = strlen(msg), i = 0, o = 0, k;
	const char *esc;
	char hex[16];
	unsigned cp;

	while (i < n) {
		esc = NULL;
		k = 1;
		if (s[i] == '\n')
			esc = "\\n";
		else if (s[i] == '\r')
			esc = "\\r";
		else if (s[i] == '\t')
			esc = "\\t";
		else if (s[i] < 0x20 || s[i] == 0x7f ||
			 (s[i] >= 0x80 && !(k = utf8_len(s + i, n - i)))) {
			snprintf(hex, sizeof(hex), "\\x%02x", s[i]);
			esc = hex;
			k = 1;
		} else if (k > 1 && (cp = hidden(s + i, k))) {
			snprintf(hex, sizeof(hex), "\\u%04x", cp);
			esc = hex;
		}
		if (esc) {
			if (o + strlen(esc) >= sizeof(out))
				break;
			memcpy(out + o, esc, strlen(esc));
			o += strlen(esc);
		} else {
			if (o + k >= sizeof(out))
				break;
			memcpy(out + o, s + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
	memcpy(msg, out, o + 1);
}

int err_set(struct mlops_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	escape(err->msg);
	return code;
}

void err_warn(const char *fmt, ...)
{
	char msg[MLOPS_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	escape(msg);
	fprintf(stderr, "%s\n", msg);
}

int err_prefix(struct mlops_err *err, const char *fmt, ...)
{
	char prefix[MLOPS_ERR_MAX], old[MLOPS_ERR_MAX];
	va_list ap;

	if (!err)
		return MLOPS_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is fine: messages are for people. */
	if (snprintf(err->msg, sizeof(err->msg), "%.500s: %.500s", prefix,
		     old) < 0)
		err->msg[0] = '\0';
	escape(err->msg);
	return err->code;
}

int err_exit_code(int status)
{
	static const struct {
		int status;
		int exit_code;
	} table[] = {
		{ MLOPS_OK, 0 },
		{ MLOPS_EHELP, 0 },
		{ MLOPS_EIO, 1 },
		{ MLOPS_ENOTFOUND, 1 },
		{ MLOPS_ECORRUPT, 1 },
		{ MLOPS_ENUMERIC, 1 },
		{ MLOPS_EINTERNAL, 1 },
		{ MLOPS_EUSAGE, 2 },
		{ MLOPS_ECHECK, 3 },
		{ MLOPS_EBUSY, 4 },
		{ MLOPS_EINPUT, 5 },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].status == status)
			return table[i].exit_code;
	return 1;
}

void err_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "mlops: BUG: %s:%d: %s\n", file, line, msg);
	abort();
}

/*
 * Field contents beyond plain numbers: user missing tokens, non-finite
 * numbers, ISO 8601 timestamps and their parts (see cell.h).
 *
 * Timestamps are read by hand rather than with strptime(): it is
 * locale-dependent, accepts more than ISO 8601 and knows no offsets.
 * Dates become days with Howard Hinnant's days_from_civil(), so any
 * year 0000..9999 works without timegm() or the TZ variable.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "csv.h"
#include "xalloc.h"

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

void cell_na_init(struct cell_na *na, const char *const *tokens, size_t n)
{
	memset(na, 0, sizeof(*na));
	cell_na_add(na, tokens, n);
}

void cell_na_add(struct cell_na *na, const char *const *tokens, size_t n)
{
	size_t i;
	double x;

	if (!n)
		return;
	na->tokens = xreallocarray(na->tokens, na->n + n, sizeof(char *));
	for (i = 0; i < n; i++) {
		const char *s = tokens[i];
		size_t len = strlen(s);

		trim(&s, &len);
		na->tokens[na->n++] = xstrndup(s, len);
		if (!csv_parse_double(s, len, &x))
			na->numeric = 1;
	}
}

void cell_na_release(struct cell_na *na)
{
	size_t i;

	if (!na)
		return;
	for (i = 0; i < na->n; i++)
		free(na->tokens[i]);
	free(na->tokens);
	memset(na, 0, sizeof(*na));
}

int cell_is_missing(const struct cell_na *na, const char *s, size_t len)
{
	size_t i;

	if (csv_is_missing(s, len))
		return 1;
	if (!na || !na->n)
		return 0;
	trim(&s, &len);
	for (i = 0; i < na->n; i++)
		if (strlen(na->tokens[i]) == len &&
		    !memcmp(na->tokens[i], s, len))
			return 1;
	return 0;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

static int word_is(const char *s, size_t len, const char *word)
{
	size_t i;

	if (strlen(word) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (lower((unsigned char)s[i]) != word[i])
			return 0;
	return 1;
}

/* Whether s is [digits][.digits][e[+-]digits] with at least one digit. */
static int decimal_syntax(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len)
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

int cell_is_nonfinite(const char *s, size_t len)
{
	double x;

	if (csv_is_missing(s, len))
		return 0;
	trim(&s, &len);
	if (len && (*s == '+' || *s == '-')) {
		s++;
		len--;
	}
	if (word_is(s, len, "inf") || word_is(s, len, "infinity") ||
	    word_is(s, len, "nan"))
		return 1;
	if (len > 4 && word_is(s, 4, "nan(") && s[len - 1] == ')')
		return 1;
	/* A decimal csv_parse_double() refuses can only have overflowed. */
	return decimal_syntax(s, len) && csv_parse_double(s, len, &x);
}

/* ---- timestamps ---- */

/* Read exactly n digits at s into *v. */
static int digits(const char *s, const char *e, int n, int *v)
{
	int i;

	if (e - s < n)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				    30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

int cell_parse_timestamp(const char *s, size_t len, double *seconds)
{
	const char *p, *e;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign;
	double frac = 0, scale = 0.1;
	long days;

	trim(&s, &len);
	p = s;
	e = s + len;
	if (digits(p, e, 4, &y) || e - p < 10 || p[4] != '-' ||
	    digits(p + 5, e, 2, &mo) || p[7] != '-' ||
	    digits(p + 8, e, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	p += 10;
	if (p < e) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (digits(p, e, 2, &h) || e - p < 5 || p[2] != ':' ||
		    digits(p + 3, e, 2, &mi))
			return -1;
		p += 5;
		if (p < e && *p == ':') {
			if (digits(p + 1, e, 2, &sec))
				return -1;
			p += 3;
			if (p < e && (*p == '.' || *p == ',')) {
				if (++p == e || *p < '0' || *p > '9')
					return -1;
				for (; p < e && *p >= '0' && *p <= '9'; p++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (p < e && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < e && (*p == '+' || *p == '-')) {
			sign = *p++ == '-' ? -1 : 1;
			if (digits(p, e, 2, &oh))
				return -1;
			p += 2;
			if (p < e && *p == ':')
				p++;
			if (p < e) {
				if (digits(p, e, 2, &om))
					return -1;
				p += 2;
			}
			if (oh > 23 || om > 59)
				return -1;
			oh *= sign;
			om *= sign;
		}
		if (p != e)
			return -1;
	}
	days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*seconds = (double)days * 86400 +
		   (double)((h - oh) * 3600 + (mi - om) * 60 + sec) + frac;
	return 0;
}

double cell_timestamp_part(double seconds, enum cell_part p)
{
	double days = floor(seconds / 86400), sod = seconds - days * 86400;
	long z, era, doe, yoe, doy, mp;

	switch (p) {
	case CELL_EPOCH_DAYS:
		return seconds / 86400;
	case CELL_HOUR:
		return sod / 3600;
	case CELL_DOW:
		/* 1970-01-01 was a Thursday (4). */
		z = (long)days;
		return (double)(((z % 7) + 7 + 3) % 7 + 1);
	case CELL_MONTH:
		/* civil_from_days (Hinnant), the month only. */
		z = (long)days + 719468;
		era = (z >= 0 ? z : z - 146096) / 146097;
		doe = z - era * 146097;
		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		mp = (5 * doy + 2) / 153;
		return (double)(mp < 10 ? mp + 3 : mp - 9);
	default:
		return NAN;
	}
}

static const char *const part_names[CELL_N_PARTS] = {
	"epoch_days", "month", "dow", "hour"
};

const char *cell_part_name(enum cell_part p)
{
	return (unsigned)p < CELL_N_PARTS ? part_names[p] : "?";
}

int cell_part_from_name(const char *name)
{
	int i;

	for (i = 0; i < CELL_N_PARTS; i++)
		if (!strcmp(part_names[i], name))
			return i;
	return -1;
}

#ifndef MLOPS_TAP_H
#define MLOPS_TAP_H

/*
 * Minimal TAP producer for the unit tests: each test program includes
 * this once, calls ok()/is_double()/is_str()/is_int(), then
 * return done_testing();
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAP_UNUSED __attribute__((unused))

static int tap_n, tap_failed;

static void tap_vreport(int pass, const char *fmt, va_list ap)
{
	tap_n++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

TAP_UNUSED static int ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	return pass;
}

/* Pass when |got - want| <= tol * max(1, |want|). */
TAP_UNUSED static int is_double(double got, double want, double tol, const char *fmt, ...)
{
	va_list ap;
	int pass = fabs(got - want) <= tol * (fabs(want) > 1 ? fabs(want) : 1) ||
		   (isnan(got) && isnan(want));

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("# got %.17g, want %.17g (tol %g)\n", got, want, tol);
	return pass;
}

TAP_UNUSED static int is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("# got %lld, want %lld\n", got, want);
	return pass;
}

TAP_UNUSED static int is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int pass = got && want ? !strcmp(got, want) : got == want;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("# got '%s', want '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return pass;
}

TAP_UNUSED static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/*
 * The whole of the file at `path`, NUL-terminated (the caller frees it),
 * its length in *len when len is non-NULL; NULL when it cannot be opened.
 */
static inline char *tap_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, k;

	if (!fp)
		return NULL;
	do {
		if (cap - n < 65536 + 1) {
			cap = 2 * cap + 65536 + 1;
			if (!(buf = realloc(buf, cap)))
				abort();
		}
		k = fread(buf + n, 1, cap - n - 1, fp);
		n += k;
	} while (k > 0);
	fclose(fp);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

#endif

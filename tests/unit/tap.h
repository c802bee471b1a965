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

#endif

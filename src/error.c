/*
 * The error carrier and the single table from status to exit code.
 *
 * The exit codes are DESIGN.md's "Exit status" table; man/mlops.1 mirrors
 * it.  Nothing here prints except err_bug(), which is for broken
 * invariants only.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int err_set(struct mlops_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
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

#ifndef MLOPS_ERROR_H
#define MLOPS_ERROR_H

/*
 * Status codes and the one-message error carrier.
 *
 * A function that can fail returns int: 0 (MLOPS_OK) or one of the
 * statuses below, and fills the caller's struct mlops_err with one
 * message.  err_set() returns the code it was given, so a failure is a
 * single statement:
 *
 *	return err_set(err, MLOPS_EUSAGE, "version must be positive");
 *
 * err_exit_code() maps a status to the process exit code of DESIGN.md;
 * only main.c calls it.
 */

#include <stddef.h>

enum mlops_status {
	MLOPS_OK = 0,
	MLOPS_EIO,		/* I/O failed: open, read, write, fsync */
	MLOPS_ENOTFOUND,	/* model, version, stage, run, file not found */
	MLOPS_ECORRUPT,		/* corrupt or tampered artefact or registry */
	MLOPS_ENUMERIC,		/* numerical failure in a solver */
	MLOPS_EINTERNAL,	/* anything else that is our fault or the OS's */
	MLOPS_EUSAGE,		/* bad option, bad value, missing operand */
	MLOPS_ECHECK,		/* the check ran and said no: gate, drift */
	MLOPS_EBUSY,		/* registry locked past its timeout */
	MLOPS_EINPUT,		/* bad input data: CSV, schema, bad rows */
	MLOPS_EHELP		/* not an error: --help was printed, exit 0 */
};

#define MLOPS_ERR_MAX 1024

struct mlops_err {
	int code;
	char msg[MLOPS_ERR_MAX];
};

#define MLOPS_ERR_INIT { 0, "" }

#if defined(__GNUC__)
#define MLOPS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MLOPS_NORETURN __attribute__((noreturn))
#else
#define MLOPS_PRINTF(f, a)
#define MLOPS_NORETURN
#endif

/*
 * Record status `code` with a printf-style message in `err` (which may be
 * NULL) and return `code`.  A later err_set() overwrites an earlier one.
 */
int err_set(struct mlops_err *err, int code, const char *fmt, ...)
	MLOPS_PRINTF(3, 4);

/*
 * Prefix the message already in `err` with "<fmt>: ", keeping its code,
 * and return the code.  Used to add context ("cannot load 'm.json'") to
 * an error reported by a lower layer.
 */
int err_prefix(struct mlops_err *err, const char *fmt, ...)
	MLOPS_PRINTF(2, 3);

/*
 * Print a warning, "mlops CMD: warning: ..." as `fmt` says, to stderr as
 * one line, escaped as err_set() escapes a message (a quoted column name
 * holding a newline cannot split it).  For cmd-*.c files; the layers
 * below them do not print.
 */
void err_warn(const char *fmt, ...) MLOPS_PRINTF(1, 2);

/* Map a status to the process exit code (0..5) of DESIGN.md. */
int err_exit_code(int status);

/* Report a broken invariant and abort; never for user errors. */
#define BUG(msg) err_bug(__FILE__, __LINE__, (msg))
void err_bug(const char *file, int line, const char *msg) MLOPS_NORETURN;

#endif

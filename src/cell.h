#ifndef MLOPS_CELL_H
#define MLOPS_CELL_H

/*
 * What one CSV field holds, beyond csv.h's plain numbers: the missing
 * tokens a user adds with --na-values, non-finite numbers (which are bad
 * data everywhere) and ISO 8601 timestamps with the numeric parts a
 * model sees of them.  Shared by the loader (dataset.c), the scorer
 * (score.c) and train.c, so that a field reads the same wherever it is
 * read.  No state beyond a struct cell_na; thread-safe.
 */

#include <stddef.h>

/* The missing tokens: csv_is_missing()'s set plus the user's. */
struct cell_na {
	char **tokens;		/* owned copies, spaces trimmed */
	size_t n;
	int numeric;		/* one of them reads as a number (e.g. -999):
				 * numbers must then be checked too */
};

/* Copy `tokens` into na (spaces trimmed, duplicates kept). */
void cell_na_init(struct cell_na *na, const char *const *tokens, size_t n);
/* Add more tokens to an initialised set. */
void cell_na_add(struct cell_na *na, const char *const *tokens, size_t n);
void cell_na_release(struct cell_na *na);

/*
 * Whether the field is missing: csv_is_missing() (empty, blank, "NA",
 * "N/A", "NaN", "nan", "null") or, after trimming ASCII spaces, equal to
 * one of na's tokens.  `na` may be NULL.
 */
int cell_is_missing(const struct cell_na *na, const char *s, size_t len);

/*
 * Whether the field spells a number that is not finite: an infinity
 * ("inf", "-Infinity", any case), a NaN other than the default missing
 * tokens ("-nan", "NAN", "nan(0x1)"), or a decimal too large for a
 * double ("1e400").  Such a field is bad data, never a number.
 */
int cell_is_nonfinite(const char *s, size_t len);

/*
 * Parse an ISO 8601 date or date-time: YYYY-MM-DD, optionally followed by
 * 'T' or one space and HH:MM[:SS[.fraction]], optionally followed by 'Z'
 * or an offset +HH:MM, +HHMM or +HH (or '-').  Spaces around are allowed.
 * Returns 0 and sets *seconds (since 1970-01-01T00:00:00Z, the offset
 * applied; no offset means UTC), or -1 when `s` is not such a timestamp
 * or names an impossible date or time.
 */
int cell_parse_timestamp(const char *s, size_t len, double *seconds);

/* The numeric parts of a timestamp a model sees. */
enum cell_part {
	CELL_EPOCH_DAYS,	/* days since 1970-01-01 UTC, fractional */
	CELL_MONTH,		/* 1..12 */
	CELL_DOW,		/* day of the week, 1 Monday .. 7 Sunday */
	CELL_HOUR,		/* hour of the day, fractional, [0, 24) */
	CELL_N_PARTS
};

/* Part `p` of a timestamp given as cell_parse_timestamp()'s seconds. */
double cell_timestamp_part(double seconds, enum cell_part p);

/* "epoch_days", "month", "dow", "hour". */
const char *cell_part_name(enum cell_part p);

/* The part named `name`, or -1. */
int cell_part_from_name(const char *name);

#endif

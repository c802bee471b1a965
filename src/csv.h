#ifndef MLOPS_CSV_H
#define MLOPS_CSV_H

/*
 * Streaming CSV reader (RFC 4180) and field writer.
 *
 * The reader takes a path or "-" for stdin, detects gzip, zstd, xz and
 * bzip2 compression from the bytes (libarchive's raw format and its
 * filters; plain files pass through), strips a UTF-8 BOM, accepts LF and
 * CRLF, quoted fields with embedded commas, doubled quotes and newlines.
 * Memory is bounded by the longest record, whatever the file size.
 * Fully empty lines are skipped.  The first record returned is the header.
 */

#include <stdint.h>
#include <stdio.h>
#include "error.h"

struct csv_reader;

struct csv_record {
	size_t n_fields;
	char **fields;		/* unescaped, NUL-terminated; lent until next call */
	size_t *lens;		/* byte length of each field */
	unsigned long line;	/* 1-based physical line where the record starts */
};

/*
 * Open `path` ("-" = stdin) for reading.  On success *out owns the
 * reader; free with csv_close().  Returns MLOPS_EIO (cannot open/read,
 * message names the file and strerror) or MLOPS_EINPUT ("'F': empty
 * file, no header" for zero bytes or an empty compressed stream).
 */
int csv_open(const char *path, struct csv_reader **out, struct mlops_err *err);

/*
 * Read the next record into *rec (storage lent until the next call).
 * Sets *eof = 1 and returns MLOPS_OK at end of input.  Returns
 * MLOPS_EINPUT on malformed input (unterminated quote; characters after a
 * closing quote), the message being "'FILE' line L, column C: why", C
 * being the 1-based field number; MLOPS_EIO on read or decompression
 * errors.  A quote inside an unquoted field is taken literally (5'10").
 */
int csv_next(struct csv_reader *r, struct csv_record *rec, int *eof,
	     struct mlops_err *err);

/* Name to show in messages: the path, or "<stdin>". Lent. */
const char *csv_name(const struct csv_reader *r);

/* Bytes of the underlying (possibly compressed) file read so far. */
uint64_t csv_raw_bytes(const struct csv_reader *r);

/*
 * Lowercase hex SHA-256 of the raw file bytes read so far (the file as
 * stored, before decompression); meaningful once csv_next reported eof.
 */
void csv_sha256_hex(const struct csv_reader *r, char hex[65]);

void csv_close(struct csv_reader *r);

/*
 * Whether a field is a missing value: empty, "NA", "NaN", "nan", "N/A",
 * "null" (after trimming ASCII spaces).
 */
int csv_is_missing(const char *s, size_t len);

/*
 * Parse a decimal number (optional sign, digits, '.', exponent, leading
 * and trailing ASCII spaces allowed; also "inf"/"infinity" are rejected).
 * Correctly rounded, like strtod, with a fast exact path for up to 19
 * significant digits and small exponents.  Returns 0 and sets *out, or -1
 * when `s` is not a finite number.
 */
int csv_parse_double(const char *s, size_t len, double *out);

/*
 * Write one field to `fp`, quoting it (RFC 4180) when it holds a comma,
 * quote, CR or LF, or leading/trailing space.
 */
void csv_write_field(FILE *fp, const char *s, size_t len);

/*
 * Format `v` as the shortest decimal that reads back to the same double
 * ("%.17g" at worst), into buf (at least 32 bytes); returns its length.
 * NaN formats as "" (missing).
 */
int csv_format_double(char *buf, double v);

#endif

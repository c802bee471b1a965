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

/*
 * Limits on any record, the header included, checked before memory
 * grows: more fields, or more bytes, is MLOPS_EINPUT naming the line.
 */
#define CSV_MAX_FIELDS 10000
#define CSV_MAX_RECORD ((size_t)1 << 20)

/*
 * Bounds on input that is hostile rather than large.  Empty lines count
 * toward the record after them: a run of them longer than CSV_MAX_RECORD
 * bytes is MLOPS_EINPUT ("'F' line L: more than 1 MiB of empty lines").
 * Past CSV_RATIO_FROM decompressed bytes, an input that has decompressed
 * to more than CSV_MAX_RATIO times the bytes read is MLOPS_EINPUT ("'F':
 * decompresses to more than 1000 times its size"): gzip cannot exceed
 * 1032, and real tables, even sparse ones, stay under a few hundred.
 */
#define CSV_MAX_RATIO 1000
#define CSV_RATIO_FROM ((uint64_t)16 << 20)

/*
 * How to read one file: the options a user gives per input file
 * (--delimiter, --encoding).  They are read options, not properties of a
 * model: a model trained on a ';'-separated file scores a comma file.
 * Zero-initialised means the defaults (comma, UTF-8).
 */
enum csv_encoding {
	CSV_UTF8 = 0,		/* bytes must be valid UTF-8 */
	CSV_LATIN1		/* Latin-1 / Windows-1252, converted to UTF-8 */
};

struct csv_opts {
	char delimiter;		/* field separator: ',' ';' '\t' '|'; 0 = ',' */
	enum csv_encoding encoding;
	/* The option that sets this file's delimiter, for the hint of
	 * csv_find_column(); NULL: "--delimiter" */
	const char *delimiter_flag;
};

/*
 * Parse a --delimiter value: ",", ";", "|", "tab", "\t" (backslash t) or
 * a literal tab.  MLOPS_EUSAGE for anything else.
 */
int csv_parse_delimiter(const char *s, char *out, struct mlops_err *err);

/* Parse an --encoding value: "utf-8"/"utf8" or "latin1"/"latin-1"/
 * "cp1252"/"windows-1252" (case-insensitive).  MLOPS_EUSAGE otherwise. */
int csv_parse_encoding(const char *s, enum csv_encoding *out,
		       struct mlops_err *err);

/* The delimiter as a user would type it in a message: "','", "tab". */
const char *csv_delimiter_name(char delimiter);

struct csv_record {
	size_t n_fields;
	char **fields;		/* unescaped, NUL-terminated; lent until next call */
	size_t *lens;		/* byte length of each field */
	unsigned long line;	/* 1-based physical line where the record
				 * starts; 0 in shard mode (unknown) */
	uint64_t offset;	/* byte offset of the record's first byte in
				 * the input (after decompression; a BOM
				 * counts), in every mode */
	const double *num;	/* NULL, or per field the number it holds if
				 * it is a plain decimal ([-+]digits[.digits],
				 * at most 19 digits, unquoted) read exactly as
				 * csv_parse_double() would, else NAN: the
				 * chunk parser reads such numbers while it
				 * splits the record; other fields still need
				 * csv_parse_double() */
};

/*
 * Open `path` ("-" = stdin) for reading with `opts` (NULL: defaults).
 * On success *out owns the reader; free with csv_close().  Returns
 * MLOPS_EIO (cannot open/read, message names the file and strerror) or
 * MLOPS_EINPUT ("'F': empty file, no header" for zero bytes or an empty
 * compressed stream; a compressed stream corrupt from its start).
 */
int csv_open(const char *path, const struct csv_opts *opts,
	     struct csv_reader **out, struct mlops_err *err);

/*
 * Read the next record into *rec (storage lent until the next call).
 * Sets *eof = 1 and returns MLOPS_OK at end of input.  Returns
 * MLOPS_EINPUT on malformed input (unterminated quote; characters after a
 * closing quote; a NUL byte; bytes that are not UTF-8), the message being
 * "'FILE' line L, column C: why", C being the 1-based field number; on a
 * record over CSV_MAX_FIELDS or CSV_MAX_RECORD ("'FILE' line L: ...");
 * on a corrupt or truncated compressed stream ("'FILE': corrupt gzip
 * input: ...", "'FILE': truncated gzip input ...", "'FILE': corrupt or
 * truncated compressed input: ...").  MLOPS_EIO when read(2) fails.
 * A quote inside an unquoted field is taken literally (5'10").
 */
int csv_next(struct csv_reader *r, struct csv_record *rec, int *eof,
	     struct mlops_err *err);

/*
 * Parallel parsing.  One thread cuts the input into chunks of whole
 * records with csv_read_chunk(); any thread splits a chunk into records
 * with a csv_chunk_parser.  The records, concatenated over the chunks,
 * are exactly those csv_next() would return after the header, with the
 * same lines, offsets and error messages.
 */

/* A block of whole records as raw (still quoted) bytes. */
struct csv_chunk {
	char *data;		/* owned; records end to end, NUL after len */
	size_t len, alloc;
	unsigned long first_line;	/* physical line of data[0], which is
					 * its first record's unless empty
					 * lines come first; 0 in shard mode */
	uint64_t first_record;	/* 0-based index of its first data record
				 * in the input (header excluded); in shard
				 * mode counted from the shard's first */
	uint64_t first_offset;	/* byte offset of data[0] in the input */
	char delimiter;		/* the reader's field separator */
};

/* Zero-initialise a chunk before its first use (or use this). */
#define CSV_CHUNK_INIT { NULL, 0, 0, 0, 0, 0, 0 }

/*
 * After the header has been read with csv_next(), hand out the next block
 * of whole records in *c: the bytes up to the first record boundary at or
 * after `target` bytes (so more than target if a record crosses it;
 * target 0 gives one record per chunk).  A boundary is a newline outside
 * quotes, by csv_next()'s rules: a quote opens a quoted field only at the
 * start of a field, "" inside one is data.  Chunks may begin with, or
 * hold, empty lines; csv_chunk_next() skips them.  c's buffer is reused
 * (grown as needed: memory is target plus the longest record); the
 * chunk belongs to the caller, who may hand it to another thread while
 * reading the next one into a different csv_chunk.
 *
 * Returns MLOPS_OK with *eof = 0 and c->len > 0, or at the end *eof = 1
 * and c->len == 0.  An unterminated quote at the end of input (or a
 * record over 256 MiB) fails with csv_next()'s MLOPS_EINPUT message;
 * when whole records precede the bad one, they come first as a chunk
 * and the next call fails.  MLOPS_EIO on read or decompression errors.
 * In shard mode, the first chunk fails with the "starts inside a quoted
 * field" error of csv_open_shard() if its first record's width differs
 * from the header's.  Hashing and raw byte counts cover every byte, as
 * with csv_next(); the two may be mixed (each leaves the reader at a
 * record boundary).  Other malformations (text after a closing quote)
 * are the parser's to report.
 */
int csv_read_chunk(struct csv_reader *r, struct csv_chunk *c, size_t target,
		   int *eof, struct mlops_err *err);

/* Free c's buffer and zero it.  Accepts NULL. */
void csv_chunk_release(struct csv_chunk *c);

/*
 * Splits one chunk into records; usable from any thread, one parser per
 * chunk at a time.  Not opaque so that callers can embed it; the members
 * are private.
 */
struct csv_chunk_parser {
	const char *name;	/* for messages; lent */
	char *base, *pos, *end;	/* chunk data, next byte, end of data */
	unsigned long line;	/* physical line of *pos; 0: unknown */
	uint64_t offset;	/* input offset of base[0] */
	char **fields;		/* record storage, reused */
	size_t *lens;
	double *num;
	size_t fields_cap;
	char delim;		/* field separator */
	unsigned char field_end[256];	/* bytes ending an unquoted field */
	char *bad;		/* first NUL or non-UTF-8 byte at or after
				 * the record being parsed, or NULL */
	unsigned char bad_byte;	/* its value, before parsing moved bytes */
	unsigned long bad_line;	/* its physical line; 0: unknown */
};

/*
 * Start parsing chunk c; `name` (lent, e.g. csv_name()) is used in
 * messages.  The parser borrows c->data and writes into it: fields are
 * NUL-terminated and unescaped in place, so c's bytes are no longer the
 * raw text afterwards and c must outlive the records.  Release with
 * csv_chunk_parser_release().
 */
void csv_chunk_parser_init(struct csv_chunk_parser *p,
			   const struct csv_chunk *c, const char *name);

/* Like init, for a parser already initialised: keeps its storage. */
void csv_chunk_parser_reset(struct csv_chunk_parser *p,
			    const struct csv_chunk *c, const char *name);

/*
 * Next record of the chunk into *rec (storage lent until the next call or
 * release; the field bytes live in the chunk).  Same record contract as
 * csv_next(): empty lines skipped, CRLF stripped, line and offset of the
 * record's start (line 0 in shard mode).  *eof = 1 at the chunk's end.
 * MLOPS_EINPUT with csv_next()'s messages, "'NAME' line L, column C: why"
 * ("byte OFFSET" of the record instead of "line L" in shard mode); after
 * one, the next call goes on with the following record.
 */
int csv_chunk_next(struct csv_chunk_parser *p, struct csv_record *rec,
		   int *eof, struct mlops_err *err);

/* Free the parser's storage (not the chunk).  Accepts NULL. */
void csv_chunk_parser_release(struct csv_chunk_parser *p);

/*
 * Open shard i of n (0 <= i < n) of a plain, seekable file.  csv_next()
 * returns the header first, read from the file's start as usual (with its
 * true line).  Then only the records that start inside the byte range
 * [size*i/n, size*(i+1)/n) are returned, by csv_next() and
 * csv_read_chunk() alike, so that the shards' records concatenate to the
 * whole file's, each exactly once.  A shard starts just after the first
 * LF at or after its range's start (shard 0: after the header), and ends
 * where the next begins.  Lines are unknown in a shard: records have
 * line 0 and messages say "byte OFFSET" (the record's) instead of
 * "line L"; offsets are the file's.
 *
 * The SHA-256 (csv_sha256_hex) and csv_raw_bytes() of a shard cover the
 * bytes of its range [size*i/n, size*(i+1)/n) only, complete once the
 * shard reads eof; the header is outside them unless in the range.
 *
 * Errors: MLOPS_EUSAGE "--shard needs a plain file, not compressed input
 * or stdin" (path "-", not a regular file, or compressed), and
 * "invalid shard I/N"; csv_open()'s errors; MLOPS_EINPUT "'F': shard i/n
 * starts inside a quoted field (records with embedded newlines cannot be
 * sharded by bytes)" from the first record after the header when its
 * field count differs from the header's.  The check is a heuristic: a
 * file with quoted newlines may still split silently, so shard only
 * files without them.  On success *out owns the reader (csv_close()).
 */
int csv_open_shard(const char *path, const struct csv_opts *opts,
		   unsigned i, unsigned n, struct csv_reader **out,
		   struct mlops_err *err);

/* The reader's field separator. */
char csv_delimiter(const struct csv_reader *r);

/*
 * Find column `name` in a header of n names read by r (which gives the
 * file's name, delimiter and delimiter option for messages): MLOPS_OK
 * and *index when it is there once.  MLOPS_EINPUT otherwise,
 * `why` saying who wants the column ("--target", "a feature of the
 * model"), in one shape for every option:
 *
 *   'F': no column 'X' (--target); did you mean 'Y'?
 *   'F': no column 'X' (--target); the header looks ';'-separated:
 *        try --delimiter ';'    (csv_opts.delimiter_flag, if set)
 *   'F': column 'X' (--target) occurs twice in the header (columns 2
 *        and 5)
 *
 * The suggestion is the header name equal but for case, else the one
 * nearest by edit distance (at most (length + 1) / 3 edits); the
 * delimiter hint is given when splitting the header by ';', tab, '|' or
 * ',' would bring out `name`.
 */
int csv_find_column(const struct csv_reader *r, char *const *header,
		    size_t n, const char *name, const char *why,
		    size_t *index, struct mlops_err *err);

/* Name to show in messages: the path, or "<stdin>". Lent. */
const char *csv_name(const struct csv_reader *r);

/* Bytes of the underlying (possibly compressed) file read so far. */
uint64_t csv_raw_bytes(const struct csv_reader *r);

/*
 * Lowercase hex SHA-256 of the raw file bytes read so far (the file as
 * stored, before decompression); meaningful once csv_next reported eof.
 */
void csv_sha256_hex(const struct csv_reader *r, char hex[65]);

/*
 * Do not hash the input (a caller that never asks for its SHA-256: the
 * hash costs about as much CPU as reading the numbers).  csv_sha256_hex()
 * is then meaningless.  Call before reading past the header.
 */
void csv_skip_hash(struct csv_reader *r);

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
 * csv_write_field() into memory: write the field to dst, which must hold
 * 2 * len + 2 bytes, and return the bytes written (no NUL).
 */
size_t csv_put_field(char *dst, const char *s, size_t len);

/*
 * Format `v` as the shortest decimal that reads back to the same double
 * (17 significant digits at worst; the nearest to v among the shortest),
 * into buf (at least 32 bytes); returns its length.  Laid out as
 * printf("%.Pg") would, P being 15 or the digit count if more: "0.1",
 * "1e-07", "1e+21", "100000000000000", "0.30000000000000004".  NaN
 * formats as "" (missing), -0 as "-0", infinities as "inf" and "-inf".
 * Exact (Schubfach, no libc), locale-independent, thread-safe.
 */
int csv_format_double(char *buf, double v);

#endif

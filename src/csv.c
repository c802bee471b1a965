/*
 * Streaming CSV reader (RFC 4180) over libarchive, plus number parsing
 * and field writing.
 *
 * Bytes flow: read(2) on a descriptor, in our own read callback that also
 * hashes and counts the stored (possibly compressed) bytes; libarchive's
 * decompression filters and its "raw" format (gzip goes to zlib instead,
 * which checks every member's CRC-32 and length); archive_read_data()
 * into a 1 MiB block, converted from Latin-1 to UTF-8 there if asked
 * (no byte CSV cares about changes); a scanner that copies each field,
 * unescaped and NUL-terminated, into one record buffer.  Memory is the
 * block plus the longest record.  The scanner is the hot path of scoring: unquoted
 * fields are found by a tight byte loop and copied with memcpy(), quoted
 * fields by memchr() for the next quote.
 *
 * Leniency, deliberately: a quote inside an unquoted field is data
 * (5'10" happens), a lone CR is data, CRLF ends a line, fully empty lines
 * are skipped.  Strictness: an unterminated quoted field, text after a
 * closing quote, a NUL byte and bytes that are not UTF-8 are errors naming
 * line and column (the 1-based field number); so are a record of more
 * than CSV_MAX_FIELDS fields or CSV_MAX_RECORD bytes, and a compressed
 * stream that is corrupt or cut short.  The delimiter is the caller's
 * (struct csv_opts), a comma by default.  Numbers are parsed by a
 * locale-independent scanner with an exact fast path; everything else
 * goes to strtod(), so the program must run in the "C" LC_NUMERIC locale
 * (the default).
 *
 * For parallel scoring the reader also hands out chunks: blocks of whole
 * records as raw bytes, cut at newlines outside quotes by a memchr()
 * scan, which a chunk parser on another thread splits into records in
 * place.  Shards (csv_open_shard) read a byte range of a plain file with
 * pread(2), bypassing libarchive, as do plain files in general.
 * csv_format_double() is Schubfach with a generated table of powers of
 * ten (pow10-table.h, from scripts/gen-pow10.py).
 *
 * Not done here: type inference (dataset.c), schema matching (score.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <zlib.h>

#include "csv.h"
#include "sha256.h"
#include "xalloc.h"

/* What libarchive sets for "Unrecognized archive format" (private). */
#ifdef EFTYPE
#define ERRNO_FILE_FORMAT EFTYPE
#else
#define ERRNO_FILE_FORMAT EILSEQ
#endif

#define RAW_BLOCK (1 << 20)
#define DATA_BLOCK (1 << 20)
/* A record longer than this is almost surely a stray quote or a binary
 * file; failing beats reading the rest of a huge file into memory. */
#define MAX_RECORD CSV_MAX_RECORD

/*
 * Index of the first byte of s[0..n) that is NUL or does not belong to
 * a valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF, no sequence cut short by the end), or n.
 * ASCII without NULs goes eight bytes at a time.
 */
static size_t utf8_check(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;
	size_t i = 0, k, need;
	unsigned lo, hi;
	uint64_t x;

	while (i < n) {
		if (n - i >= 8) {
			memcpy(&x, s + i, 8);
			if (!((x | ((x - ones) & ~x)) & highs)) {
				i += 8;
				continue;
			}
		}
		if (s[i] && s[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			need = 1;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			else if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			else if (s[i] == 0xf4)
				hi = 0x8f;
		} else {
			/* NUL, a stray continuation, C0, C1, F5 and up */
			return i;
		}
		if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return i;
		i += need + 1;
	}
	return n;
}

/*
 * The error for the bad byte `c` (NUL or not UTF-8) at a place ("line 4"
 * or "byte 812") and column of file `name`.
 */
static int bad_byte(const char *name, const char *place, size_t col,
		    unsigned char c, struct mlops_err *err)
{
	if (!c)
		return err_set(err, MLOPS_EINPUT, "'%s' %s, column %zu: NUL "
			       "byte in a field (binary data?)", name, place,
			       col);
	return err_set(err, MLOPS_EINPUT, "'%s' %s, column %zu: invalid "
		       "UTF-8 (byte 0x%02x); if the file is Latin-1 or "
		       "Windows-1252, read it with --encoding latin1", name,
		       place, col, c);
}

struct csv_reader {
	char *name;
	int fd;
	int own_fd;
	int read_errno;		/* errno of a failed read(2), or 0 */
	int raw_eof;		/* read(2) has returned 0 */
	struct archive *a;
	struct sha256_ctx sha;
	int no_hash;		/* csv_skip_hash(): no SHA-256 wanted */
	uint64_t raw_bytes;
	unsigned char *raw;	/* read callback's block */

	char *buf;		/* decompressed block, then a '\n' sentinel */
	size_t pos, len;
	uint64_t buf_off;	/* input offset of buf[0] */
	int at_eof;		/* no more decompressed bytes */
	int started;		/* the first block (and its BOM) was read */
	unsigned long line;	/* physical line of buf[pos] */
	uint64_t n_records;	/* records handed out, header included */
	size_t quote_at;	/* chunk scan: next '"' in buf at or after */
	int quote_valid;	/* ... a position, valid until fill() */

	/*
	 * Direct mode (shards): pread(2) of [read_off, read_end) straight
	 * into buf, no libarchive; only [hash_lo, hash_hi) is hashed.
	 */
	int direct;
	uint64_t read_off, read_end, hash_lo, hash_hi;
	int shard;		/* lines unknown: positions are byte offsets */
	unsigned shard_i, shard_n;
	int header_pending;	/* csv_next returns the saved header first */
	int check_first;	/* compare the next record's width to hdr's */
	size_t header_fields;
	unsigned long header_line;
	uint64_t header_offset;

	/* Where the empty lines since the last record began (the input's
	 * start, the end of a record), and the line there */
	uint64_t blank_from;
	unsigned long blank_line;

	struct mlops_err pending;	/* chunk reader: error for next call */
	char delim;		/* field separator */
	const char *delim_flag;	/* the option that sets it, for hints */
	enum csv_encoding encoding;

	/*
	 * The first raw block, read before libarchive is set up (to tell
	 * gzip from the rest): read_cb() hands it out first.
	 */
	size_t primed;
	int primed_pending;
	/* gzip through zlib, which checks each member's CRC-32 and length */
	int gz;
	int gz_in_member;	/* inside a member: its end is still due */
	int gz_done;		/* after the last member */
	z_stream z;

	char *out;		/* the record's fields, each NUL-terminated */
	size_t out_len, out_cap;
	size_t *offs, *lens;
	char **fields;
	size_t n_fields, fields_cap;
	int last_quoted;	/* whether the last field was quoted */
};

/* The input's SHA-256, unless the caller said it does not want it. */
static inline void hash_update(struct csv_reader *r, const void *p, size_t n)
{
	if (!r->no_hash)
		sha256_update(&r->sha, p, n);
}

/*
 * read(2) up to RAW_BLOCK - at bytes into r->raw + at, hashing and
 * counting them.  Returns the count (0 at the end, setting raw_eof) or
 * -1 with read_errno set.
 */
static ssize_t raw_read(struct csv_reader *r, size_t at)
{
	ssize_t n;

	do
		n = read(r->fd, r->raw + at, RAW_BLOCK - at);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->read_errno = errno;
		return -1;
	}
	if (n == 0)
		r->raw_eof = 1;
	hash_update(r, r->raw + at, (size_t)n);
	r->raw_bytes += (uint64_t)n;
	return n;
}

static la_ssize_t read_cb(struct archive *a, void *data, const void **block)
{
	struct csv_reader *r = data;
	ssize_t n;

	*block = r->raw;
	if (r->primed_pending) {
		r->primed_pending = 0;
		return (la_ssize_t)r->primed;
	}
	if (r->raw_eof)
		return 0;
	if ((n = raw_read(r, 0)) < 0) {
		archive_set_error(a, r->read_errno, "%s",
				  strerror(r->read_errno));
		return -1;
	}
	return n;
}

/*
 * Fill r->raw from the start with at least `want` bytes unless the
 * input ends first; r->primed gets the count.
 */
static int prime(struct csv_reader *r, size_t want, struct mlops_err *err)
{
	ssize_t n;

	r->primed = 0;
	while (r->primed < want && !r->raw_eof) {
		if ((n = raw_read(r, r->primed)) < 0)
			return err_set(err, MLOPS_EIO, "cannot read '%s': %s",
				       r->name, strerror(r->read_errno));
		r->primed += (size_t)n;
	}
	return MLOPS_OK;
}

/*
 * gzip.  libarchive's gzip reader does not check a member's trailer, so
 * a flipped bit or a wrong length went through: zlib inflates instead,
 * and checks the CRC-32 and the length of every member.  Members follow
 * one another (gzip -c a b); bytes after the last member that do not
 * start another one are ignored, as gzip(1) ignores them.
 */
static int gz_bad(struct csv_reader *r, struct mlops_err *err)
{
	return err_set(err, MLOPS_EINPUT, "'%s': corrupt gzip input: %s",
		       r->name, r->z.msg ? r->z.msg : "bad data");
}

/* After a member: is another one next?  Needs two bytes of input. */
static int gz_next_member(struct csv_reader *r, struct mlops_err *err)
{
	ssize_t n;

	while (r->z.avail_in < 2 && !r->raw_eof) {
		if (r->z.avail_in)
			memmove(r->raw, r->z.next_in, r->z.avail_in);
		if ((n = raw_read(r, r->z.avail_in)) < 0)
			return err_set(err, MLOPS_EIO, "cannot read '%s': %s",
				       r->name, strerror(r->read_errno));
		r->z.next_in = r->raw;
		r->z.avail_in += (uInt)n;
	}
	if (r->z.avail_in >= 2 && r->z.next_in[0] == 0x1f &&
	    r->z.next_in[1] == 0x8b) {
		inflateReset(&r->z);
		r->gz_in_member = 1;
	} else {
		r->gz_done = 1;
	}
	return MLOPS_OK;
}

/* Inflate up to `want` bytes into dst: fewer only at the end. */
static int gz_read(struct csv_reader *r, char *dst, size_t want,
		   size_t *got, struct mlops_err *err)
{
	ssize_t n;
	int zr, ret;

	r->z.next_out = (Bytef *)dst;
	r->z.avail_out = (uInt)want;
	while (r->z.avail_out && !r->gz_done) {
		if (!r->gz_in_member) {
			if ((ret = gz_next_member(r, err)))
				return ret;
			continue;
		}
		if (!r->z.avail_in) {
			if (r->raw_eof)
				return err_set(err, MLOPS_EINPUT, "'%s': "
					       "truncated gzip input (the "
					       "stream ends inside a member)",
					       r->name);
			if ((n = raw_read(r, 0)) < 0)
				return err_set(err, MLOPS_EIO,
					       "cannot read '%s': %s", r->name,
					       strerror(r->read_errno));
			r->z.next_in = (Bytef *)r->raw;
			r->z.avail_in = (uInt)n;
			continue;
		}
		zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			r->gz_in_member = 0;
		else if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT)
			return gz_bad(r, err);
		else if (zr == Z_MEM_ERROR)
			return err_set(err, MLOPS_EINTERNAL, "'%s': out of "
				       "memory inflating gzip input", r->name);
	}
	*got = want - r->z.avail_out;
	return MLOPS_OK;
}

/* Start reading gzip from the primed block. */
static int gz_start(struct csv_reader *r, struct mlops_err *err)
{
	memset(&r->z, 0, sizeof(r->z));
	if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
		return err_set(err, MLOPS_EINTERNAL, "'%s': cannot start "
			       "inflating gzip input", r->name);
	r->gz = 1;
	r->gz_in_member = 1;
	r->z.next_in = (Bytef *)r->raw;
	r->z.avail_in = (uInt)r->primed;
	return MLOPS_OK;
}

/*
 * libarchive may stop before the end of the stored file (trailing bytes
 * after a gzip stream); hash those too so the digest is the whole file's.
 */
static void drain(struct csv_reader *r)
{
	ssize_t n;

	while (!r->raw_eof && !r->read_errno) {
		n = read(r->fd, r->raw, RAW_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->raw_eof = 1;
			break;
		}
		hash_update(r, r->raw, (size_t)n);
		r->raw_bytes += (uint64_t)n;
	}
}

/*
 * A read error is I/O; anything else libarchive reports is the data's
 * fault: a truncated stream, a checksum that does not match.
 */
static int archive_fail(struct csv_reader *r, struct mlops_err *err)
{
	const char *why;

	if (r->read_errno)
		return err_set(err, MLOPS_EIO, "cannot read '%s': %s", r->name,
			       strerror(r->read_errno));
	why = archive_error_string(r->a);
	return err_set(err, MLOPS_EINPUT, "'%s': corrupt or truncated "
		       "compressed input: %s", r->name,
		       why ? why : "decompression failed");
}

/*
 * The raw format refuses to bid on zero bytes, so an empty file, or a
 * compressed stream holding nothing, fails to open with "Unrecognized
 * archive format": say what that means.
 */
static int open_fail(struct csv_reader *r, struct mlops_err *err)
{
	if (!r->read_errno && (r->raw_bytes == 0 ||
			       archive_errno(r->a) == ERRNO_FILE_FORMAT))
		return err_set(err, MLOPS_EINPUT, "'%s': empty file, no header",
			       r->name);
	return archive_fail(r, err);
}

/* A regular file that libarchive found uncompressed. */
static int is_plain_file(struct csv_reader *r)
{
	struct stat st;

	return !fstat(r->fd, &st) && S_ISREG(st.st_mode) &&
	       archive_filter_count(r->a) == 1 &&
	       archive_filter_code(r->a, 0) == ARCHIVE_FILTER_NONE;
}

/*
 * Drop libarchive, which has read (and we have hashed) the first block,
 * and start over from offset 0 in direct mode, reading up to `end`.
 */
static void go_direct(struct csv_reader *r, uint64_t end)
{
	archive_read_free(r->a);
	r->a = NULL;
	sha256_init(&r->sha);
	r->raw_bytes = 0;
	r->pos = r->len = 0;
	r->buf_off = 0;
	r->line = 1;
	r->blank_line = 1;
	r->started = 0;
	r->at_eof = 0;
	r->direct = 1;
	r->read_off = 0;
	r->read_end = end;
	r->hash_lo = 0;
	r->hash_hi = UINT64_MAX;
}

static int fill(struct csv_reader *r, struct mlops_err *err);

int csv_open(const char *path, const struct csv_opts *opts,
	     struct csv_reader **out, struct mlops_err *err)
{
	struct csv_reader *r;
	struct archive_entry *entry;
	int ret = MLOPS_OK;

	*out = NULL;
	r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->delim = opts && opts->delimiter ? opts->delimiter : ',';
	r->delim_flag = opts && opts->delimiter_flag ? opts->delimiter_flag :
			"--delimiter";
	r->encoding = opts ? opts->encoding : CSV_UTF8;
	if (!strcmp(path, "-")) {
		r->name = xstrdup("<stdin>");
		r->fd = STDIN_FILENO;
	} else {
		r->name = xstrdup(path);
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			ret = err_set(err, MLOPS_EIO, "cannot open '%s': %s",
				      path, strerror(errno));
			goto out;
		}
		r->own_fd = 1;
	}
	sha256_init(&r->sha);
	r->raw = xmalloc(RAW_BLOCK);
	r->buf = xmalloc(DATA_BLOCK + 1);
	r->line = 1;
	r->blank_line = 1;

	if ((ret = prime(r, 2, err)))
		goto out;
	if (r->primed >= 2 && (unsigned char)r->raw[0] == 0x1f &&
	    (unsigned char)r->raw[1] == 0x8b) {
		/* An empty stream is an empty file, as with libarchive. */
		if (!(ret = gz_start(r, err)) && !(ret = fill(r, err)) &&
		    !r->len)
			ret = err_set(err, MLOPS_EINPUT,
				      "'%s': empty file, no header", r->name);
		goto out;
	}
	r->primed_pending = 1;

	/*
	 * Only real compressors: filter_all would also enable "uu", which
	 * would decode a CSV whose first line happens to start "begin 644".
	 * Return values are ignored: ARCHIVE_WARN only means libarchive
	 * falls back to an external program.
	 */
	r->a = archive_read_new();
	archive_read_support_filter_bzip2(r->a);
	archive_read_support_filter_xz(r->a);
	archive_read_support_filter_lzma(r->a);
	archive_read_support_filter_zstd(r->a);
	archive_read_support_filter_lz4(r->a);
	archive_read_support_filter_compress(r->a);
	archive_read_support_format_raw(r->a);
	if (archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		ret = open_fail(r, err);
		goto out;
	}
	if (archive_read_next_header(r->a, &entry) != ARCHIVE_OK) {
		ret = open_fail(r, err);
		goto out;
	}
	/* A plain file of our own: pread(2) it, one copy fewer. */
	if (r->own_fd && is_plain_file(r))
		go_direct(r, UINT64_MAX);
out:
	if (ret) {
		csv_close(r);
		return ret;
	}
	*out = r;
	return MLOPS_OK;
}

void csv_close(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	if (r->gz)
		inflateEnd(&r->z);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->name);
	free(r->raw);
	free(r->buf);
	free(r->out);
	free(r->offs);
	free(r->lens);
	free(r->fields);
	free(r);
}

char csv_delimiter(const struct csv_reader *r)
{
	return r->delim;
}

/* Edit distance of a and b, or more than `max` if it exceeds max. */
static size_t edit_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t row[65], prev, tmp;

	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = a[i - 1] == b[j - 1] ? prev :
				 1 + (prev < row[j] ? (prev < row[j - 1] ?
				       prev : row[j - 1]) :
				      (row[j] < row[j - 1] ? row[j] :
				       row[j - 1]));
			prev = tmp;
			if (row[j] < best)
				best = row[j];
		}
		if (best > max)
			return max + 1;
	}
	return row[lb];
}

/* The header name to offer in place of `name`, or NULL. */
static const char *closest_name(char *const *header, size_t n,
				const char *name)
{
	size_t i, d, max = (strlen(name) + 1) / 3, best = SIZE_MAX;
	const char *pick = NULL;

	for (i = 0; i < n; i++)
		if (!strcasecmp(header[i], name))
			return header[i];
	for (i = 0; i < n; i++) {
		if (!header[i][0])
			continue;
		d = edit_distance(header[i], name, max);
		if (d <= max && d < best) {
			best = d;
			pick = header[i];
		}
	}
	return pick;
}

/* Whether the header cut at d (not the delimiter used) holds `name`. */
static int split_holds(char *const *header, size_t n, char d,
		       const char *name)
{
	size_t i, len = strlen(name);
	const char *p, *e, *q;

	for (i = 0; i < n; i++) {
		if (!strchr(header[i], d))
			continue;
		for (p = header[i];; p = e + 1) {
			e = strchr(p, d);
			q = e ? e : p + strlen(p);
			while (p < q && (*p == ' ' || *p == '"'))
				p++;
			while (q > p && (q[-1] == ' ' || q[-1] == '"' ||
					 q[-1] == '\r'))
				q--;
			if ((size_t)(q - p) == len &&
			    !strncasecmp(p, name, len))
				return 1;
			if (!e)
				break;
		}
	}
	return 0;
}

int csv_find_column(const struct csv_reader *r, char *const *header,
		    size_t n, const char *name, const char *why,
		    size_t *index, struct mlops_err *err)
{
	static const char others[] = { ';', '\t', '|', ',' };
	const char *near, *file = r->name;
	char delimiter = r->delim;
	size_t i, k, found = SIZE_MAX;

	for (i = 0; i < n; i++) {
		if (strcmp(header[i], name))
			continue;
		if (found != SIZE_MAX)
			return err_set(err, MLOPS_EINPUT, "'%s': column '%s' "
				       "(%s) occurs twice in the header "
				       "(columns %zu and %zu)", file, name,
				       why, found + 1, i + 1);
		found = i;
	}
	if (found != SIZE_MAX) {
		*index = found;
		return MLOPS_OK;
	}
	for (k = 0; k < sizeof(others); k++)
		if (others[k] != (delimiter ? delimiter : ',') &&
		    split_holds(header, n, others[k], name))
			return err_set(err, MLOPS_EINPUT, "'%s': no column "
				       "'%s' (%s); the header looks "
				       "%s-separated: try %s %s",
				       file, name, why,
				       csv_delimiter_name(others[k]),
				       r->delim_flag,
				       others[k] == '\t' ? "tab" :
				       csv_delimiter_name(others[k]));
	if ((near = closest_name(header, n, name)))
		return err_set(err, MLOPS_EINPUT, "'%s': no column '%s' (%s); "
			       "did you mean '%s'?", file, name, why, near);
	return err_set(err, MLOPS_EINPUT, "'%s': no column '%s' (%s)", file,
		       name, why);
}

const char *csv_name(const struct csv_reader *r)
{
	return r->name;
}

uint64_t csv_raw_bytes(const struct csv_reader *r)
{
	return r->raw_bytes;
}

void csv_skip_hash(struct csv_reader *r)
{
	r->no_hash = 1;
}

void csv_sha256_hex(const struct csv_reader *r, char hex[65])
{
	struct sha256_ctx c = r->sha;
	unsigned char digest[32];

	sha256_final(&c, digest);
	sha256_to_hex(digest, hex);
}

/* Hash and count the part of [off, off + n) inside [hash_lo, hash_hi). */
static void hash_window(struct csv_reader *r, const char *p, uint64_t off,
			size_t n)
{
	uint64_t lo = off > r->hash_lo ? off : r->hash_lo;
	uint64_t hi = off + n < r->hash_hi ? off + n : r->hash_hi;

	if (lo >= hi)
		return;
	hash_update(r, p + (lo - off), (size_t)(hi - lo));
	r->raw_bytes += hi - lo;
}

static int pread_full(struct csv_reader *r, char *p, size_t n, uint64_t off,
		      size_t *got, struct mlops_err *err)
{
	ssize_t k;

	*got = 0;
	while (*got < n) {
		k = pread(r->fd, p + *got, n - *got, (off_t)(off + *got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(err, MLOPS_EIO, "cannot read '%s': %s",
				       r->name, strerror(errno));
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return MLOPS_OK;
}

/* Direct mode's archive_read_data(). */
static int read_direct(struct csv_reader *r, size_t want, size_t *got,
		       struct mlops_err *err)
{
	int ret;

	if (r->read_end - r->read_off < want)
		want = (size_t)(r->read_end - r->read_off);
	if ((ret = pread_full(r, r->buf, want, r->read_off, got, err)))
		return ret;
	hash_window(r, r->buf, r->read_off, *got);
	r->read_off += *got;
	return MLOPS_OK;
}

/*
 * Up to `want` decompressed bytes into r->buf, fewer only at the end of
 * the input.
 */
static int read_block(struct csv_reader *r, size_t want, size_t *got,
		      struct mlops_err *err)
{
	la_ssize_t n;

	*got = 0;
	if (r->direct)
		return read_direct(r, want, got, err);
	if (r->gz)
		return gz_read(r, r->buf, want, got, err);
	while (*got < want) {
		n = archive_read_data(r->a, r->buf + *got, want - *got);
		if (n < 0)
			return archive_fail(r, err);
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return MLOPS_OK;
}

/* Windows-1252's 0x80-0x9f; its five holes stay C1 controls (as WHATWG). */
static const unsigned short cp1252[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178
};

/*
 * Convert the n Latin-1 bytes at the start of r->buf to UTF-8 in place,
 * from the end backwards; the buffer must hold 3 n bytes.  Returns the
 * new length.  No byte that matters to CSV (delimiters, quotes, line
 * ends) changes, so converting blocks before parsing is exact.
 */
static size_t latin1_to_utf8(char *buf, size_t n)
{
	unsigned char *b = (unsigned char *)buf;
	size_t i, len = 0, w;
	unsigned u;

	for (i = 0; i < n; i++)
		len += b[i] < 0x80 ? 1 : b[i] >= 0xa0 ? 2 :
		       cp1252[b[i] - 0x80] < 0x800 ? 2 : 3;
	w = len;
	for (i = n; i-- > 0;) {
		u = b[i];
		if (u < 0x80) {
			b[--w] = (unsigned char)u;
			continue;
		}
		if (u < 0xa0)
			u = cp1252[u - 0x80];
		if (u < 0x800) {
			b[--w] = (unsigned char)(0x80 | (u & 0x3f));
			b[--w] = (unsigned char)(0xc0 | (u >> 6));
		} else {
			b[--w] = (unsigned char)(0x80 | (u & 0x3f));
			b[--w] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			b[--w] = (unsigned char)(0xe0 | (u >> 12));
		}
	}
	return len;
}

/*
 * Bytes of input the decompressor has used: those read ahead (a block
 * at a time) do not count, or a megabyte bomb would pass for one of
 * a thousandth of its output only past a gigabyte.
 */
static uint64_t consumed(struct csv_reader *r)
{
	la_int64_t n;

	if (r->gz)
		return r->raw_bytes - r->z.avail_in;
	n = archive_filter_bytes(r->a, -1);
	return n > 0 ? (uint64_t)n : 0;
}

/* Refill the block; r->len == 0 afterwards means end of input. */
static int fill(struct csv_reader *r, struct mlops_err *err)
{
	la_ssize_t n;
	size_t got;
	int ret;

	r->buf_off += r->len;
	r->pos = 0;
	r->len = 0;
	r->quote_valid = 0;
	r->buf[0] = '\n';	/* sentinel for scan_unquoted() */
	if (r->at_eof)
		return MLOPS_OK;
	/* Latin-1 grows to at most three bytes a character in UTF-8. */
	if ((ret = read_block(r, r->encoding == CSV_LATIN1 ? DATA_BLOCK / 3 :
			      DATA_BLOCK, &got, err)))
		return ret;
	n = (la_ssize_t)got;
	if (!r->direct && r->buf_off + got > CSV_RATIO_FROM &&
	    (r->buf_off + got) / CSV_MAX_RATIO > consumed(r))
		return err_set(err, MLOPS_EINPUT, "'%s': decompresses to more "
			       "than %d times its size (the limit; a "
			       "decompression bomb?)", r->name,
			       CSV_MAX_RATIO);
	if (r->encoding == CSV_LATIN1)
		n = (la_ssize_t)latin1_to_utf8(r->buf, got);
	if (n == 0 && r->direct) {
		r->at_eof = 1;
		return MLOPS_OK;
	}
	if (n == 0) {
		r->at_eof = 1;
		drain(r);
		return MLOPS_OK;
	}
	r->len = (size_t)n;
	r->buf[r->len] = '\n';
	/* archive_read_data() fills the block unless the input ends, so a
	 * BOM is always whole in the first block. */
	if (!r->started && r->len >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3))
		r->pos = 3;
	r->started = 1;
	return MLOPS_OK;
}

/* Next byte without consuming it, or -1 at end of input. */
static int peek(struct csv_reader *r, int *c, struct mlops_err *err)
{
	int ret;

	if (r->pos == r->len) {
		if ((ret = fill(r, err)))
			return ret;
		if (r->len == r->pos) {
			*c = -1;
			return MLOPS_OK;
		}
	}
	*c = (unsigned char)r->buf[r->pos];
	return MLOPS_OK;
}

static inline void append(struct csv_reader *r, const char *s, size_t n)
{
	if (r->out_len + n + 1 > r->out_cap)
		XGROW(r->out, r->out_cap, r->out_len + n + 1);
	memcpy(r->out + r->out_len, s, n);
	r->out_len += n;
}

static void grow_fields(struct csv_reader *r)
{
	size_t cap = r->fields_cap;

	XGROW(r->offs, cap, r->n_fields + 1);
	cap = r->fields_cap;
	XGROW(r->lens, cap, r->n_fields + 1);
	cap = r->fields_cap;
	XGROW(r->fields, cap, r->n_fields + 1);
	r->fields_cap = cap;
}

static inline void end_field(struct csv_reader *r, size_t start, int quoted)
{
	if (r->n_fields == r->fields_cap)
		grow_fields(r);
	r->offs[r->n_fields] = start;
	r->lens[r->n_fields] = r->out_len - start;
	r->n_fields++;
	r->out[r->out_len++] = '\0';	/* append() left room */
	r->last_quoted = quoted;
}

/*
 * Where a record is, for messages: "line L", or "byte O" (its offset)
 * where lines are unknown, in shard mode.
 */
static const char *where(char buf[32], int by_offset, unsigned long line,
			 uint64_t off)
{
	if (by_offset)
		snprintf(buf, 32, "byte %llu", (unsigned long long)off);
	else
		snprintf(buf, 32, "line %lu", line);
	return buf;
}

/*
 * Scan an unquoted field up to the delimiter, a newline or the end of
 * input.  *delim gets the delimiter or '\n' (consumed) or -1 at end of
 * input.
 */
static int scan_unquoted(struct csv_reader *r, unsigned long line0,
			 uint64_t off0, int *delim, struct mlops_err *err)
{
	size_t start = r->out_len;
	const char *s, *e, *p;
	const char d = r->delim;
	char pos[32];
	int ret;

	for (;;) {
		s = r->buf + r->pos;
		e = r->buf + r->len;
		p = s;
		while (*p != d && *p != '\n')
			p++;
		append(r, s, (size_t)(p - s));
		if (p < e) {
			*delim = *p;
			r->pos = (size_t)(p - r->buf) + 1;
			break;
		}
		r->pos = r->len;
		if (r->out_len > MAX_RECORD)
			return err_set(err, MLOPS_EINPUT,
				       "'%s' %s: record longer than %zu MiB "
				       "(the limit)",
				       r->name, where(pos, r->shard, line0,
						      off0),
				       MAX_RECORD >> 20);
		if ((ret = fill(r, err)))
			return ret;
		if (!r->len) {
			*delim = -1;
			break;
		}
	}
	/* CRLF: the CR belongs to the line ending, not the field. */
	if (*delim != d && r->out_len > start &&
	    r->out[r->out_len - 1] == '\r')
		r->out_len--;
	if (*delim == '\n')
		r->line++;
	end_field(r, start, 0);
	return MLOPS_OK;
}

static unsigned long count_newlines(const char *s, size_t n)
{
	unsigned long k = 0;
	const char *e = s + n;

	while ((s = memchr(s, '\n', (size_t)(e - s)))) {
		k++;
		s++;
	}
	return k;
}

/*
 * Scan a quoted field; r->pos is on the opening quote.  Sets *delim as
 * scan_unquoted() does.  off0 is the record's offset, for shard mode's
 * messages.
 */
static int scan_quoted(struct csv_reader *r, size_t col, uint64_t off0,
		       int *delim, struct mlops_err *err)
{
	size_t start = r->out_len;
	unsigned long line0 = r->line;
	const char *s, *e, *q;
	char pos[32];
	int c, ret;

	r->pos++;
	for (;;) {
		if ((ret = peek(r, &c, err)))
			return ret;
		if (c < 0 || r->out_len - start > MAX_RECORD)
			return err_set(err, MLOPS_EINPUT,
				       "'%s' %s, column %zu: "
				       "unterminated quoted field", r->name,
				       where(pos, r->shard, line0, off0), col);
		s = r->buf + r->pos;
		e = r->buf + r->len;
		q = memchr(s, '"', (size_t)(e - s));
		if (!q)
			q = e;
		r->line += count_newlines(s, (size_t)(q - s));
		append(r, s, (size_t)(q - s));
		r->pos = (size_t)(q - r->buf);
		if (q == e)
			continue;
		r->pos++;
		if ((ret = peek(r, &c, err)))
			return ret;
		if (c != '"')
			break;
		append(r, "\"", 1);
		r->pos++;
	}
	if (c == '\r') {
		r->pos++;
		if ((ret = peek(r, &c, err)))
			return ret;
		if (c != '\n' && c >= 0)
			c = '\r';
	}
	if (c == r->delim || c == '\n') {
		r->pos++;
		if (c == '\n')
			r->line++;
	} else if (c >= 0) {
		return err_set(err, MLOPS_EINPUT,
			       "'%s' %s, column %zu: "
			       "character after closing quote", r->name,
			       where(pos, r->shard, r->line, off0), col);
	}
	*delim = c;
	end_field(r, start, 1);
	return MLOPS_OK;
}

static int too_many_fields(const char *name, int by_offset,
			   unsigned long line, uint64_t off,
			   struct mlops_err *err)
{
	char pos[32];

	return err_set(err, MLOPS_EINPUT, "'%s' %s: more than %d fields in "
		       "a record (the limit)", name,
		       where(pos, by_offset, line, off), CSV_MAX_FIELDS);
}

/*
 * An empty line ends at offset `end`: the empty lines since the last
 * record count toward the next one's length (CSV_MAX_RECORD), so a
 * stream of them ends early (a gigabyte of newlines compresses to a
 * megabyte).
 */
static int blank_run(const struct csv_reader *r, uint64_t end,
		     struct mlops_err *err)
{
	char pos[32];

	if (end - r->blank_from <= MAX_RECORD)
		return MLOPS_OK;
	return err_set(err, MLOPS_EINPUT, "'%s' %s: more than %zu MiB of "
		       "empty lines (the record limit)", r->name,
		       where(pos, r->shard, r->blank_line, r->blank_from),
		       MAX_RECORD >> 20);
}

static void lend_record(struct csv_reader *r, struct csv_record *rec,
			unsigned long line, uint64_t offset)
{
	size_t i;

	for (i = 0; i < r->n_fields; i++)
		r->fields[i] = r->out + r->offs[i];
	rec->n_fields = r->n_fields;
	rec->fields = r->fields;
	rec->lens = r->lens;
	rec->line = line;
	rec->offset = offset;
	rec->num = NULL;
}

static int shard_misaligned(const struct csv_reader *r, struct mlops_err *err)
{
	return err_set(err, MLOPS_EINPUT, "'%s': shard %u/%u starts inside a "
		       "quoted field (records with embedded newlines cannot "
		       "be sharded by bytes)", r->name, r->shard_i,
		       r->shard_n);
}

/* NUL bytes and invalid UTF-8 in the record csv_next() just read. */
static int check_record(struct csv_reader *r, unsigned long line0,
			uint64_t off0, struct mlops_err *err)
{
	const unsigned char *f;
	unsigned long line;
	size_t i, k;
	char pos[32];

	for (i = 0; i < r->n_fields; i++) {
		f = (const unsigned char *)r->out + r->offs[i];
		if ((k = utf8_check(f, r->lens[i])) == r->lens[i])
			continue;
		/* Lines inside quoted fields before the byte count. */
		line = line0 + count_newlines(r->out, r->offs[i] + k);
		return bad_byte(r->name, where(pos, r->shard, line, off0),
				i + 1, f[k], err);
	}
	return MLOPS_OK;
}

int csv_next(struct csv_reader *r, struct csv_record *rec, int *eof,
	     struct mlops_err *err)
{
	unsigned long line0;
	uint64_t off0;
	int c, delim = -1, ret;

	*eof = 0;
	if (r->header_pending) {
		r->header_pending = 0;
		lend_record(r, rec, r->header_line, r->header_offset);
		return MLOPS_OK;
	}
	for (;;) {
		r->n_fields = 0;
		r->out_len = 0;
		if ((ret = peek(r, &c, err)))
			return ret;
		if (c < 0) {
			*eof = 1;
			return MLOPS_OK;
		}
		line0 = r->line;
		off0 = r->buf_off + r->pos;
		do {
			if (c == '"')
				ret = scan_quoted(r, r->n_fields + 1, off0,
						  &delim, err);
			else
				ret = scan_unquoted(r, line0, off0, &delim,
						    err);
			if (ret)
				return ret;
			if (r->n_fields > CSV_MAX_FIELDS)
				return too_many_fields(r->name, r->shard,
						       line0, off0, err);
			if (delim == r->delim && (ret = peek(r, &c, err)))
				return ret;
		} while (delim == r->delim);
		if (r->n_fields > 1 || r->lens[0] || r->last_quoted)
			break;
		if ((ret = blank_run(r, r->buf_off + r->pos, err)))
			return ret;
	}
	if (r->check_first) {
		r->check_first = 0;
		if (r->n_fields != r->header_fields)
			return shard_misaligned(r, err);
	}
	r->n_records++;
	r->blank_from = r->buf_off + r->pos;
	r->blank_line = r->line;
	if ((ret = check_record(r, line0, off0, err)))
		return ret;
	lend_record(r, rec, r->shard ? 0 : line0, off0);
	return MLOPS_OK;
}

/*
 * Chunks.  csv_read_chunk() finds record boundaries without splitting
 * fields: outside quotes only '"' and '\n' matter, and both are found
 * with memchr(), so a file without quotes costs two memchr() passes and
 * one memcpy().  The rules are csv_next()'s: a quote opens a quoted field
 * only at the start of a field (after ',' or '\n'), a doubled quote
 * inside one is data, a line holding nothing but an optional CR is no
 * record.
 */
struct scan_state {
	int in_quote;		/* inside a quoted field */
	int quote_pending;	/* ... and the last byte was a quote */
	int prev;		/* last byte consumed outside quotes */
	int line_kind;		/* 0: empty line so far, 1: "\r", 2: data */
	unsigned long lines;	/* newlines consumed */
	uint64_t records;	/* records ended by a newline */
	size_t last_end;	/* chunk length at the last record boundary */
	unsigned long last_lines;	/* lines at last_end */
	int blank_over;		/* stopped: too long a run of empty lines */
};

static int line_kind(int kind, const char *s, const char *e)
{
	if (s == e)
		return kind;
	if (kind == 0 && e - s == 1 && *s == '\r')
		return 1;
	return 2;
}

/*
 * Scan [s, e) of r->buf, which continues a chunk now `base` bytes long.
 * Returns the end of what is consumed: just after the first record
 * boundary that makes the chunk at least `target` long and holding a
 * record (*stop = 1), or e.
 */
static const char *scan_block(struct csv_reader *r, struct scan_state *st,
			      const struct csv_chunk *c, const char *s,
			      const char *e, size_t base, size_t target,
			      int *stop)
{
	const char *p = s, *q, *lim, *nl;

	*stop = 0;
	while (p < e) {
		if (st->in_quote) {
			if (st->quote_pending) {
				st->quote_pending = 0;
				if (*p == '"') {
					p++;
					continue;
				}
				st->in_quote = 0;
				st->prev = '"';
				continue;
			}
			q = memchr(p, '"', (size_t)(e - p));
			lim = q ? q : e;
			st->lines += count_newlines(p, (size_t)(lim - p));
			if (!q)
				return e;
			st->quote_pending = 1;
			p = q + 1;
			continue;
		}
		/* The next quote in the block, remembered across calls. */
		if (!r->quote_valid || r->buf + r->quote_at < p) {
			q = memchr(p, '"', (size_t)(e - p));
			r->quote_at = (size_t)((q ? q : e) - r->buf);
			r->quote_valid = 1;
		}
		lim = r->buf + r->quote_at;
		while (p < lim && (nl = memchr(p, '\n', (size_t)(lim - p)))) {
			int data = line_kind(st->line_kind, p, nl) == 2;

			st->lines++;
			st->records += data;
			st->line_kind = 0;
			st->prev = '\n';
			p = nl + 1;
			st->last_end = base + (size_t)(p - s);
			st->last_lines = st->lines;
			if (data) {
				r->blank_from = c->first_offset + st->last_end;
				r->blank_line = c->first_line + st->lines;
			} else if (c->first_offset + st->last_end -
				   r->blank_from > MAX_RECORD) {
				st->blank_over = 1;
				*stop = 1;
				return p;
			}
			if (st->last_end >= target && st->records) {
				*stop = 1;
				return p;
			}
		}
		if (p < lim) {
			st->line_kind = line_kind(st->line_kind, p, lim);
			st->prev = (unsigned char)lim[-1];
			p = lim;
		}
		if (p == e)
			break;
		/* A quote: it opens a field only at a field's start. */
		if (st->prev == r->delim || st->prev == '\n')
			st->in_quote = 1;
		st->line_kind = 2;
		st->prev = '"';
		p++;
	}
	return e;
}

static void chunk_append(struct csv_chunk *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->alloc)
		XGROW(c->data, c->alloc, c->len + n + 1);
	memcpy(c->data + c->len, s, n);
	c->len += n;
	c->data[c->len] = '\0';
}

/*
 * The chunk's last record is bad (unterminated quote, or too long): let
 * the chunk parser phrase the error exactly as csv_next() would.
 */
static int tail_error(struct csv_reader *r, const struct csv_chunk *c,
		      const struct scan_state *st, struct mlops_err *err)
{
	struct csv_chunk tail = *c;
	struct csv_chunk_parser p;
	struct csv_record rec;
	char pos[32];
	int eof, ret;

	if (!st->in_quote)
		return err_set(err, MLOPS_EINPUT,
			       "'%s' %s: record longer than %zu MiB (the "
			       "limit)", r->name,
			       where(pos, r->shard, c->first_line +
				     st->last_lines, c->first_offset +
				     st->last_end), MAX_RECORD >> 20);
	tail.data = c->data + st->last_end;
	tail.len = c->len - st->last_end;
	tail.first_line = c->first_line ? c->first_line + st->last_lines : 0;
	tail.first_offset = c->first_offset + st->last_end;
	csv_chunk_parser_init(&p, &tail, r->name);
	do
		ret = csv_chunk_next(&p, &rec, &eof, err);
	while (!ret && !eof);
	csv_chunk_parser_release(&p);
	if (!ret)	/* cannot happen: the scan saw an open quote */
		ret = err_set(err, MLOPS_EINPUT, "'%s': unterminated quoted "
			      "field", r->name);
	return ret;
}

/* Fields of the first record in data, by csv_next()'s rules. */
static size_t first_record_width(const char *s, size_t len, char d)
{
	const char *e = s + len;
	size_t n = 1;
	int prev = '\n', quoted = 0, kind = 0;

	for (; s < e; s++) {
		if (quoted) {
			if (*s == '"') {
				if (s + 1 < e && s[1] == '"')
					s++;
				else
					quoted = 0;
				prev = '"';
			}
			continue;
		}
		if (*s == '\n') {
			if (kind == 2 || n > 1)
				break;
			kind = 0;
		} else if (*s == '"' && (prev == d || prev == '\n')) {
			quoted = 1;
			kind = 2;
		} else if (*s == d) {
			n++;
		} else {
			kind = kind == 0 && *s == '\r' ? 1 : 2;
		}
		prev = (unsigned char)*s;
	}
	return n;
}

int csv_read_chunk(struct csv_reader *r, struct csv_chunk *c, size_t target,
		   int *eof, struct mlops_err *err)
{
	struct scan_state st;
	const char *s, *e, *q;
	int stop = 0, ret;

	*eof = 0;
	c->len = 0;
	if (c->data)
		c->data[0] = '\0';
	c->first_line = r->shard ? 0 : r->line;
	c->first_offset = r->buf_off + r->pos;
	c->first_record = r->n_records ? r->n_records - 1 : 0;
	c->delimiter = r->delim;
	if (r->pending.code) {
		ret = err_set(err, r->pending.code, "%s", r->pending.msg);
		r->pending.code = 0;
		return ret;
	}
	memset(&st, 0, sizeof(st));
	st.prev = '\n';
	/* A header read by csv_next() from the saved copy: nothing to do. */
	r->header_pending = 0;
	while (!stop) {
		if (r->pos == r->len) {
			if ((ret = fill(r, err)))
				return ret;
			if (!r->len)
				break;
			if (!c->len)
				c->first_offset = r->buf_off + r->pos;
		}
		s = r->buf + r->pos;
		e = r->buf + r->len;
		q = scan_block(r, &st, c, s, e, c->len, target, &stop);
		chunk_append(c, s, (size_t)(q - s));
		r->pos = (size_t)(q - r->buf);
		if (st.blank_over)
			return blank_run(r, c->first_offset + st.last_end,
					 err);
		if (c->len - st.last_end > MAX_RECORD)
			return tail_error(r, c, &st, err);
	}
	if (!stop) {
		/* End of input: an open quote is an error, a last line
		 * without a newline a record. */
		if (st.in_quote && !st.quote_pending) {
			ret = tail_error(r, c, &st, &r->pending);
			if (!st.last_end) {
				r->pending.code = 0;
				return err_set(err, ret, "%s", r->pending.msg);
			}
			c->len = st.last_end;
			c->data[c->len] = '\0';
		} else if (st.line_kind == 2 || st.in_quote) {
			st.records++;
		}
		if (!st.records)	/* only empty lines were left */
			c->len = 0;
	}
	if (!c->len) {
		*eof = 1;
		return MLOPS_OK;
	}
	r->line += st.lines;
	r->n_records += st.records;
	if (r->check_first) {
		r->check_first = 0;
		if (first_record_width(c->data, c->len, r->delim) !=
		    r->header_fields)
			return shard_misaligned(r, err);
	}
	return MLOPS_OK;
}

void csv_chunk_release(struct csv_chunk *c)
{
	if (!c)
		return;
	free(c->data);
	memset(c, 0, sizeof(*c));
}

/*
 * The chunk parser.  Fields are cut in place: the byte after an unquoted
 * field (its comma, newline or CR) becomes its NUL; a quoted field's
 * content is shifted left over each doubled quote, which only shortens
 * it.  So nothing is copied unless a field holds "".
 */

#define BYTES(c) (0x0101010101010101ULL * (unsigned char)(c))

/*
 * A mask whose lowest set bit is in the first byte of x equal to the
 * byte in c (broadcast by BYTES()); higher bits may be false alarms.
 */
static inline uint64_t first_byte(uint64_t x, uint64_t c)
{
	uint64_t v = x ^ c;

	return (v - BYTES(1)) & ~v & BYTES(0x80);
}

/*
 * The end of the unquoted field at q: its delimiter d, '\n', or `end`.
 * field_end[] marks the bytes that end a field: d, '\n' and the NUL
 * after the chunk's end.
 */
static inline char *field_scan(char *q, const char *end, char d,
			       const unsigned char *field_end)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Eight bytes at a time while they are inside the chunk. */
	uint64_t x, m;

	while (end - q >= 8) {
		memcpy(&x, q, 8);
		m = first_byte(x, BYTES(d)) | first_byte(x, BYTES('\n')) |
		    first_byte(x, 0);
		if (m) {
			q += __builtin_ctzll(m) >> 3;
			if (*q)
				return q;
			q++;	/* a NUL byte in the data */
			continue;
		}
		q += 8;
	}
#endif
	for (;;) {
		while (!field_end[(unsigned char)*q])
			q++;
		if (*q || q == end)
			return q;
		q++;
	}
}

/*
 * Look for the first NUL or non-UTF-8 byte from `from` (a record start,
 * p->line being its line) to the chunk's end, while the bytes are still
 * raw.
 */
static void find_bad(struct csv_chunk_parser *p, char *from)
{
	size_t n, k;

	p->bad = NULL;
	if (!from || from >= p->end)
		return;
	n = (size_t)(p->end - from);
	if ((k = utf8_check((const unsigned char *)from, n)) == n)
		return;
	p->bad = from + k;
	p->bad_byte = (unsigned char)from[k];
	p->bad_line = p->line ? p->line + count_newlines(from, k) : 0;
}

void csv_chunk_parser_init(struct csv_chunk_parser *p,
			   const struct csv_chunk *c, const char *name)
{
	memset(p, 0, sizeof(*p));
	csv_chunk_parser_reset(p, c, name);
}

void csv_chunk_parser_reset(struct csv_chunk_parser *p,
			    const struct csv_chunk *c, const char *name)
{
	p->name = name;
	p->base = c->data;
	p->pos = c->data;
	p->end = c->data ? c->data + c->len : NULL;
	p->line = c->first_line;
	p->offset = c->first_offset;
	find_bad(p, p->pos);
	if (p->delim != (c->delimiter ? c->delimiter : ',')) {
		p->delim = c->delimiter ? c->delimiter : ',';
		memset(p->field_end, 0, sizeof(p->field_end));
		p->field_end[0] = 1;
		p->field_end['\n'] = 1;
		p->field_end[(unsigned char)p->delim] = 1;
	}
}

void csv_chunk_parser_release(struct csv_chunk_parser *p)
{
	if (!p)
		return;
	free(p->fields);
	free(p->lens);
	free(p->num);
	p->fields = NULL;
	p->lens = NULL;
	p->num = NULL;
	p->fields_cap = 0;
}

static void parser_grow(struct csv_chunk_parser *p)
{
	p->fields_cap = p->fields_cap ? 2 * p->fields_cap : 64;
	p->fields = xreallocarray(p->fields, p->fields_cap, sizeof(*p->fields));
	p->lens = xreallocarray(p->lens, p->fields_cap, sizeof(*p->lens));
	p->num = xreallocarray(p->num, p->fields_cap, sizeof(*p->num));
}

static inline void parser_add(struct csv_chunk_parser *p, size_t n, char *s,
			      size_t len, double v)
{
	if (n == p->fields_cap)
		parser_grow(p);
	p->fields[n] = s;
	p->lens[n] = len;
	p->num[n] = v;
}

/* Powers of ten exactly representable as doubles. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/*
 * Read [-+]digits[.digits] at s, stopping at the first other byte, and
 * return where it stopped.  *out is the number when the bytes read form
 * one that parse_plain() below takes (at least one digit, at most 19,
 * mantissa at most 2^53, at most 22 after the point), else NAN; whether
 * the field ends where the scan stopped is the caller's to check.  The
 * chunk's NUL after its end stops the scan.
 */
static inline char *number_scan(char *s, double *out)
{
	char *p = s, *d0;
	uint64_t w = 0, neg = *p == '-', bits;
	size_t digits, frac = 0;
	double v;

	/* Signs are data, as unpredictable as the digits: no branch. */
	p += neg | (*p == '+');
	d0 = p;
	while ((unsigned)(*p - '0') < 10)
		w = w * 10 + (unsigned)(*p++ - '0');
	digits = (size_t)(p - d0);
	if (*p == '.') {
		d0 = ++p;
		while ((unsigned)(*p - '0') < 10)
			w = w * 10 + (unsigned)(*p++ - '0');
		frac = (size_t)(p - d0);
		digits += frac;
	}
#if FLT_EVAL_METHOD == 0
	if (!digits || digits > 19 || w > (uint64_t)1 << 53 || frac > 22) {
		*out = NAN;
		return p;
	}
	v = (double)w / pow10_exact[frac];
	memcpy(&bits, &v, sizeof(bits));
	bits |= neg << 63;
	memcpy(out, &bits, sizeof(bits));
#else
	/* Extended precision would round twice: leave it to strtod. */
	(void)v;
	(void)bits;
	(void)neg;
	*out = NAN;
#endif
	return p;
}

/*
 * After an error, move to the start of the next record by the boundary
 * scan's rules, so that the caller may go on past a bad record.
 */
static void parser_skip(struct csv_chunk_parser *p, int quoted)
{
	char *s = p->pos;
	int prev = '"';

	for (; s < p->end; s++) {
		if (quoted) {
			if (*s == '\n' && p->line)
				p->line++;
			if (*s == '"') {
				if (s + 1 < p->end && s[1] == '"')
					s++;
				else
					quoted = 0;
			}
			continue;
		}
		if (*s == '\n') {
			s++;
			if (p->line)
				p->line++;
			break;
		}
		if (*s == '"' && (prev == p->delim || prev == '\n'))
			quoted = 1;
		prev = (unsigned char)*s;
	}
	p->pos = s;
}

/*
 * A quoted field at s (on its opening quote).  Returns the position after
 * it and its delimiter: ',', '\n', -1 at the end, or 0 for garbage after
 * the closing quote (-2 for an unterminated field).
 */
static char *parse_quoted(struct csv_chunk_parser *p, char *s, int *delim,
			  char **field, size_t *len)
{
	char *e = p->end, *q, *w;

	s++;
	*field = s;
	q = memchr(s, '"', (size_t)(e - s));
	if (!q) {
		*delim = -2;
		return e;
	}
	if (p->line)
		p->line += count_newlines(s, (size_t)(q - s));
	w = q;
	/* Doubled quotes: keep one, shift what follows left. */
	while (q + 1 < e && q[1] == '"') {
		char *r = q + 2;

		*w++ = '"';
		q = memchr(r, '"', (size_t)(e - r));
		if (!q) {
			*delim = -2;
			return e;
		}
		if (p->line)
			p->line += count_newlines(r, (size_t)(q - r));
		memmove(w, r, (size_t)(q - r));
		w += q - r;
	}
	*len = (size_t)(w - *field);
	*w = '\0';
	q++;
	if (q < e && *q == '\r' && (q + 1 == e || q[1] == '\n'))
		q++;
	if (q == e) {
		*delim = -1;
		return e;
	}
	if (*q == p->delim || *q == '\n') {
		*delim = *q;
		return q + 1;
	}
	*delim = 0;
	return q;
}

/*
 * The record just parsed, of n fields, holds the bad byte: its column is
 * the last field starting at or before it (parsing moved bytes only
 * within a field).  The next call goes on after the record.
 */
static int chunk_bad_byte(struct csv_chunk_parser *p, size_t n,
			  uint64_t off0, struct mlops_err *err)
{
	size_t k = 0;
	char pos[32];

	while (k + 1 < n && p->fields[k + 1] <= p->bad)
		k++;
	return bad_byte(p->name, where(pos, !p->line, p->bad_line, off0),
			k + 1, p->bad_byte, err);
}

int csv_chunk_next(struct csv_chunk_parser *p, struct csv_record *rec,
		   int *eof, struct mlops_err *err)
{
	char *s, *q, *field, pos[32];
	double v;
	unsigned long line0, qline = 0;
	uint64_t off0;
	size_t n, len = 0;
	int delim, quoted;
	const char d = p->delim;

	*eof = 0;
	for (;;) {
		if (!p->pos || p->pos >= p->end) {
			*eof = 1;
			return MLOPS_OK;
		}
		s = p->pos;
		line0 = p->line;
		off0 = p->offset + (uint64_t)(s - p->base);
		/* The last bad byte was in a record skipped after an error. */
		if (p->bad && p->bad < s)
			find_bad(p, s);
		n = 0;
		do {
			quoted = *s == '"';
			if (quoted) {
				qline = p->line;
				q = parse_quoted(p, s, &delim, &field, &len);
				v = NAN;
			} else {
				/*
				 * Most fields are plain numbers: read one
				 * while looking for the field's end, and scan
				 * on only if something else follows.
				 */
				q = number_scan(s, &v);
				if (*q != d && *q != '\n' && q != p->end) {
					q = field_scan(q, p->end, d,
						       p->field_end);
					v = NAN;
				}
				field = s;
				len = (size_t)(q - s);
				if (q == p->end) {
					delim = -1;
				} else {
					delim = *q;
					q++;
				}
				/* CRLF: the CR belongs to the line ending. */
				if (delim != d && len && s[len - 1] == '\r')
					len--;
				s[len] = '\0';
			}
			if (delim == 0 || delim == -2) {
				p->pos = q;
				if (delim == -2) {
					err_set(err, MLOPS_EINPUT, "'%s' %s, "
						"column %zu: unterminated "
						"quoted field", p->name,
						where(pos, !p->line, qline,
						      off0), n + 1);
					p->pos = p->end;
					return MLOPS_EINPUT;
				}
				err_set(err, MLOPS_EINPUT, "'%s' %s, column "
					"%zu: character after closing quote",
					p->name, where(pos, !p->line, p->line,
						       off0), n + 1);
				parser_skip(p, 0);
				return MLOPS_EINPUT;
			}
			if (n == CSV_MAX_FIELDS) {
				p->pos = q;
				if (delim == d)
					parser_skip(p, 0);
				else if (delim == '\n' && p->line)
					p->line++;
				return too_many_fields(p->name, !p->line,
						       line0, off0, err);
			}
			parser_add(p, n++, field, len, v);
			s = q;
		} while (delim == d);
		p->pos = s;
		if (delim == '\n' && p->line)
			p->line++;
		if (n > 1 || len || quoted)
			break;
	}
	if (p->bad && p->bad < p->pos)
		return chunk_bad_byte(p, n, off0, err);
	rec->n_fields = n;
	rec->fields = p->fields;
	rec->lens = p->lens;
	rec->num = p->num;
	rec->line = line0;
	rec->offset = off0;
	return MLOPS_OK;
}

/*
 * Shards.  The reader switches to direct mode: pread(2) of a byte range,
 * no libarchive, so it can start anywhere.  Shard k's records are those
 * in [begin(k), begin(k + 1)), begin(k) being just after the first LF at
 * or after size * k / n (never before the header's end), so the shards
 * partition the records whatever n is.
 */

static uint64_t range_at(uint64_t size, unsigned k, unsigned n)
{
	/* size * k / n without overflow: size = q * n + rem. */
	return size / n * k + size % n * k / n;
}

/* Offset just after the first LF at or after `from`, or `size`. */
static int after_lf(struct csv_reader *r, uint64_t from, uint64_t size,
		    uint64_t *out, struct mlops_err *err)
{
	const char *nl;
	size_t got;
	int ret;

	while (from < size) {
		if ((ret = pread_full(r, r->buf, DATA_BLOCK, from, &got, err)))
			return ret;
		if (!got)
			break;
		if ((nl = memchr(r->buf, '\n', got))) {
			*out = from + (uint64_t)(nl - r->buf) + 1;
			return MLOPS_OK;
		}
		from += got;
	}
	*out = size;
	return MLOPS_OK;
}

/* Hash [from, to) of the file, in order, as if read. */
static int hash_span(struct csv_reader *r, uint64_t from, uint64_t to,
		     struct mlops_err *err)
{
	size_t got, want;
	int ret;

	while (from < to) {
		want = DATA_BLOCK;
		if (to - from < want)
			want = (size_t)(to - from);
		if ((ret = pread_full(r, r->buf, want, from, &got, err)))
			return ret;
		if (!got)
			break;
		hash_update(r, r->buf, got);
		r->raw_bytes += got;
		from += got;
	}
	return MLOPS_OK;
}

static int shard_setup(struct csv_reader *r, unsigned i, unsigned n,
		       uint64_t size, struct mlops_err *err)
{
	struct csv_record hdr;
	uint64_t lo = range_at(size, i, n), hi = range_at(size, i + 1, n);
	uint64_t header_end, begin, limit;
	int eof, ret;

	/* The header, from the start, neither hashed nor counted. */
	r->read_end = size;
	r->hash_lo = r->hash_hi = 0;
	if ((ret = csv_next(r, &hdr, &eof, err)))
		return ret;
	header_end = r->buf_off + r->pos;
	begin = header_end;
	if (i > 0) {
		if ((ret = after_lf(r, lo, size, &begin, err)))
			return ret;
		if (begin < header_end)
			begin = header_end;
	}
	limit = size;
	if (i + 1 < n) {
		if ((ret = after_lf(r, hi, size, &limit, err)))
			return ret;
		if (limit < header_end)
			limit = header_end;
	}
	/* Hash [lo, hi): what precedes `begin` now, the rest as read. */
	if ((ret = hash_span(r, lo, begin < hi ? begin : hi, err)))
		return ret;
	r->hash_lo = begin > lo ? begin : lo;
	r->hash_hi = hi;

	r->pos = r->len = 0;
	r->buf[0] = '\n';
	r->buf_off = begin;
	r->blank_from = begin;
	r->read_off = begin;
	r->read_end = limit;
	r->at_eof = eof;
	r->quote_valid = 0;
	r->shard = 1;
	r->shard_i = i;
	r->shard_n = n;
	if (!eof) {
		r->header_pending = 1;
		r->check_first = 1;
		r->header_fields = hdr.n_fields;
		r->header_line = hdr.line;
		r->header_offset = hdr.offset;
	}
	return MLOPS_OK;
}

int csv_open_shard(const char *path, const struct csv_opts *opts,
		   unsigned i, unsigned n, struct csv_reader **out,
		   struct mlops_err *err)
{
	struct csv_reader *r = NULL;
	struct stat st;
	int ret;

	*out = NULL;
	if (n == 0 || i >= n)
		return err_set(err, MLOPS_EUSAGE, "invalid shard %u/%u", i, n);
	if (!strcmp(path, "-"))
		goto not_plain;
	if ((ret = csv_open(path, opts, &r, err)))
		return ret;
	if (!r->direct || fstat(r->fd, &st))
		goto not_plain;
	if ((ret = shard_setup(r, i, n, (uint64_t)st.st_size, err))) {
		csv_close(r);
		return ret;
	}
	*out = r;
	return MLOPS_OK;
not_plain:
	csv_close(r);
	return err_set(err, MLOPS_EUSAGE, "--shard needs a plain file, not "
		       "compressed input or stdin");
}

int csv_parse_delimiter(const char *s, char *out, struct mlops_err *err)
{
	if (!strcmp(s, ",") || !strcmp(s, ";") || !strcmp(s, "|") ||
	    !strcmp(s, "\t"))
		*out = s[0];
	else if (!strcmp(s, "tab") || !strcmp(s, "\\t"))
		*out = '\t';
	else
		return err_set(err, MLOPS_EUSAGE, "--delimiter expects ',', "
			       "';', tab or '|', got '%s'", s);
	return MLOPS_OK;
}

int csv_parse_encoding(const char *s, enum csv_encoding *out,
		       struct mlops_err *err)
{
	static const char *const latin1[] = {
		"latin1", "latin-1", "iso-8859-1", "cp1252", "windows-1252",
		NULL
	};
	const char *const *k;

	if (!strcasecmp(s, "utf-8") || !strcasecmp(s, "utf8")) {
		*out = CSV_UTF8;
		return MLOPS_OK;
	}
	for (k = latin1; *k; k++)
		if (!strcasecmp(s, *k)) {
			*out = CSV_LATIN1;
			return MLOPS_OK;
		}
	return err_set(err, MLOPS_EUSAGE, "--encoding expects utf-8 or "
		       "latin1, got '%s'", s);
}

const char *csv_delimiter_name(char delimiter)
{
	switch (delimiter) {
	case '\t':
		return "tab";
	case ';':
		return "';'";
	case '|':
		return "'|'";
	default:
		return "','";
	}
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int csv_is_missing(const char *s, size_t len)
{
	static const struct {
		const char *s;
		size_t len;
	} na[] = {
		{ "NA", 2 }, { "NaN", 3 }, { "nan", 3 }, { "N/A", 3 },
		{ "null", 4 }
	};
	size_t i;

	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (!len)
		return 1;
	for (i = 0; i < sizeof(na) / sizeof(na[0]); i++)
		if (len == na[i].len && !memcmp(s, na[i].s, len))
			return 1;
	return 0;
}

static int parse_slow(const char *s, size_t len, double *out)
{
	char small[64], *copy = small, *end;
	double v;
	int ret = -1;

	if (len >= sizeof(small))
		copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	v = strtod(copy, &end);
	if (end == copy + len && isfinite(v)) {
		*out = v;
		ret = 0;
	}
	if (copy != small)
		free(copy);
	return ret;
}

/*
 * The common CSV number, [-+]digits[.digits] with at most 19 digits and
 * no spaces or exponent, in one tight loop: 19 digits cannot overflow
 * 64 bits, so no significance bookkeeping is needed.  Returns 1 and sets
 * *out when it applies and Clinger's exact path holds, else 0.
 */
static int parse_plain(const char *s, size_t len, double *out)
{
	const char *p = s, *e = s + len;
	uint64_t w = 0;
	int neg = 0, frac = 0, seen = 0, digits = 0;
	double v;

	if (len > 20 || !len)
		return 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; p < e; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (d < 10) {
			w = w * 10 + d;
			frac += seen;
			digits++;
			continue;
		}
		if (*p != '.' || seen)
			return 0;
		seen = 1;
	}
	/* "", "-", "." and "-." are not numbers; "5." and ".5" are. */
	if (!digits || digits > 19 || w > (uint64_t)1 << 53 || frac > 22)
		return 0;
	v = (double)w;
	if (frac)
		v /= pow10_exact[frac];
	*out = neg ? -v : v;
	return 1;
}

int csv_parse_double(const char *s, size_t len, double *out)
{
	const char *p, *e = s + len, *num;
	uint64_t w = 0;
	long exp10 = 0, ev = 0;
	int neg = 0, n_sig = 0, n_digits = 0, dropped = 0, eneg = 0, d;
	double v;

#if FLT_EVAL_METHOD == 0
	if (parse_plain(s, len, out))
		return 0;
#endif

	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	p = num = s;
	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (; p < e && (unsigned)(*p - '0') < 10; p++) {
		d = *p - '0';
		n_digits++;
		if (n_sig < 19) {
			w = w * 10 + (uint64_t)d;
			n_sig += w != 0;
		} else {
			exp10++;
			dropped |= d;
		}
	}
	if (p < e && *p == '.') {
		for (p++; p < e && (unsigned)(*p - '0') < 10; p++) {
			d = *p - '0';
			n_digits++;
			if (n_sig < 19) {
				w = w * 10 + (uint64_t)d;
				n_sig += w != 0;
				exp10--;
			} else {
				dropped |= d;
			}
		}
	}
	if (!n_digits)
		return -1;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == e || (unsigned)(*p - '0') >= 10)
			return -1;
		for (; p < e && (unsigned)(*p - '0') < 10; p++)
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
		exp10 += eneg ? -ev : ev;
	}
	if (p != e)
		return -1;
	if (w == 0 && !dropped) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
#if FLT_EVAL_METHOD == 0
	/*
	 * Clinger's fast path: w and 10^|exp10| are exact doubles, so one
	 * IEEE multiplication or division rounds correctly.
	 */
	if (!dropped && w <= (uint64_t)1 << 53 && exp10 >= -22 && exp10 <= 22) {
		v = (double)w;
		if (exp10 < 0)
			v /= pow10_exact[-exp10];
		else
			v *= pow10_exact[exp10];
		*out = neg ? -v : v;
		return 0;
	}
#endif
	(void)v;
	return parse_slow(num, (size_t)(e - num), out);
}

/* Whether a field must be quoted to read back as itself. */
static int needs_quotes(const char *s, size_t len)
{
	size_t i;

	if (len && (is_space(s[0]) || is_space(s[len - 1])))
		return 1;
	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			return 1;
	return 0;
}

void csv_write_field(FILE *fp, const char *s, size_t len)
{
	const char *p, *q, *e = s + len;

	if (!needs_quotes(s, len)) {
		fwrite(s, 1, len, fp);
		return;
	}
	putc('"', fp);
	for (p = s; p < e; p = q + 1) {
		q = memchr(p, '"', (size_t)(e - p));
		if (!q) {
			fwrite(p, 1, (size_t)(e - p), fp);
			break;
		}
		fwrite(p, 1, (size_t)(q - p) + 1, fp);
		putc('"', fp);
	}
	putc('"', fp);
}

size_t csv_put_field(char *dst, const char *s, size_t len)
{
	char *d = dst;
	size_t i;

	if (!needs_quotes(s, len)) {
		memcpy(dst, s, len);
		return len;
	}
	*d++ = '"';
	for (i = 0; i < len; i++) {
		*d++ = s[i];
		if (s[i] == '"')
			*d++ = '"';
	}
	*d++ = '"';
	return (size_t)(d - dst);
}

/*
 * Shortest round-trip formatting: Schubfach (R. Giulietti, "The Schubfach
 * way to render doubles", 2020), in the form of A. Bolz's C++ version.
 * A double v = c * 2^q lies in a rounding interval [v_l, v_r] of values
 * that read back as v; v, v_l and v_r are scaled by 10^-k (k about the
 * decimal exponent of 2^q) with a 128-bit power of ten from
 * pow10-table.h, rounded to odd, which keeps every comparison below
 * exact.  Then the shortest decimal in the interval has either one digit
 * fewer than floor(v * 10^-k), or is that number or its successor,
 * whichever is nearer v.  The fixed-point logarithms are checked by
 * scripts/gen-pow10.py over the exponents used.
 */
#ifdef __SIZEOF_INT128__
#include "pow10-table.h"

/* floor(x / 2^n) for negative x too (>> of a negative is not portable). */
static inline int floor_shift(int x, int n)
{
	return x >= 0 ? x >> n : -((-x + (1 << n) - 1) >> n);
}

/* floor(log2(10^e)), floor(log10(2^e)), floor(log10(3/4 * 2^e)). */
static inline int floor_log2_pow10(int e)
{
	return floor_shift(e * 1741647, 19);
}

static inline int floor_log10_pow2(int e)
{
	return floor_shift(e * 315653, 20);
}

static inline int floor_log10_three_quarters_pow2(int e)
{
	return floor_shift(e * 315653 - 131237, 20);
}

/* (g * cp) / 2^128, rounded to odd: floor, with the low bit set when
 * the quotient is not an integer. */
static inline uint64_t round_to_odd(const uint64_t g[2], uint64_t cp)
{
	unsigned __int128 x = (unsigned __int128)cp * g[1];
	unsigned __int128 y = (unsigned __int128)cp * g[0] +
			      (uint64_t)(x >> 64);

	return (uint64_t)(y >> 64) | ((uint64_t)y > 1);
}

/*
 * The shortest decimal d * 10^*exp10 that reads back as c * 2^q (c > 0),
 * the nearest to it among those; `closer` when the lower neighbour is
 * half as far as the upper one (c a power of two, above the subnormals).
 */
static uint64_t shortest(uint64_t c, int q, int closer, int *exp10)
{
	uint64_t cbl = 4 * c - 2 + (uint64_t)closer, cb = 4 * c,
		 cbr = 4 * c + 2;
	int k = closer ? floor_log10_three_quarters_pow2(q) :
			 floor_log10_pow2(q);
	int h = q + floor_log2_pow10(-k) + 1;
	const uint64_t *g = pow10_table[-k - POW10_MIN];
	uint64_t vbl = round_to_odd(g, cbl << h);
	uint64_t vb = round_to_odd(g, cb << h);
	uint64_t vbr = round_to_odd(g, cbr << h);
	/* The interval is closed when c is even (ties round to even). */
	uint64_t lower = vbl + (c & 1), upper = vbr - (c & 1);
	uint64_t s = vb / 4, sp, mid;
	int inside_u, inside_w;

	if (s >= 10) {
		/* One digit fewer: sp * 10 or (sp + 1) * 10, in quarters. */
		sp = s / 10;
		inside_u = lower <= 40 * sp;
		inside_w = 40 * sp + 40 <= upper;
		if (inside_u != inside_w) {
			*exp10 = k + 1;
			return sp + (uint64_t)inside_w;
		}
	}
	inside_u = lower <= 4 * s;
	inside_w = 4 * s + 4 <= upper;
	*exp10 = k;
	if (inside_u != inside_w)
		return s + (uint64_t)inside_w;
	mid = 4 * s + 2;
	return s + (uint64_t)(vb > mid || (vb == mid && (s & 1)));
}

/* Write x < 10^8 as exactly 8 digits; 32-bit halves, for speed. */
static inline void put8(char *p, uint32_t x)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627"
		"28293031323334353637383940414243444546474849505152535455"
		"56575859606162636465666768697071727374757677787980818283"
		"84858687888990919293949596979899";
	uint32_t a = x / 10000, b = x % 10000;

	memcpy(p, pairs + 2 * (a / 100), 2);
	memcpy(p + 2, pairs + 2 * (a % 100), 2);
	memcpy(p + 4, pairs + 2 * (b / 100), 2);
	memcpy(p + 6, pairs + 2 * (b % 100), 2);
}

/*
 * Lay out digits d * 10^exp10 as printf's "%.Pg" would, P being 15 or the
 * digit count if more: what csv_format_double() has always written.
 */
static int format_decimal(char *buf, int neg, uint64_t d, int exp10)
{
	char digits[17], *first = digits, *last = digits + 17, *p = buf;
	uint64_t hi = d / 100000000;
	int n, e, prec, i;

	/* d < 10^17: all 17 digits, then trim zeros at both ends. */
	digits[0] = (char)('0' + hi / 100000000);
	put8(digits + 1, (uint32_t)(hi % 100000000));
	put8(digits + 9, (uint32_t)(d % 100000000));
	while (*first == '0')
		first++;
	while (last[-1] == '0')
		last--;
	n = (int)(last - first);
	e = exp10 + (int)(digits + 17 - first) - 1;	/* scientific */
	prec = n > 15 ? n : 15;
	if (neg)
		*p++ = '-';
	if (e < -4 || e >= prec) {
		*p++ = *first;
		if (n > 1) {
			*p++ = '.';
			memcpy(p, first + 1, (size_t)n - 1);
			p += n - 1;
		}
		*p++ = 'e';
		*p++ = e < 0 ? '-' : '+';
		if (e < 0)
			e = -e;
		if (e >= 100)
			*p++ = (char)('0' + e / 100);
		*p++ = (char)('0' + e / 10 % 10);
		*p++ = (char)('0' + e % 10);
	} else if (e < 0) {
		*p++ = '0';
		*p++ = '.';
		for (i = -1; i > e; i--)
			*p++ = '0';
		memcpy(p, first, (size_t)n);
		p += n;
	} else if (n <= e + 1) {
		memcpy(p, first, (size_t)n);
		p += n;
		for (i = n; i <= e; i++)
			*p++ = '0';
	} else {
		memcpy(p, first, (size_t)e + 1);
		p += e + 1;
		*p++ = '.';
		memcpy(p, first + e + 1, (size_t)(n - e - 1));
		p += n - e - 1;
	}
	*p = '\0';
	return (int)(p - buf);
}

int csv_format_double(char *buf, double v)
{
	uint64_t bits, c, d;
	int neg, biased, exp10;

	memcpy(&bits, &v, sizeof(bits));
	neg = (int)(bits >> 63);
	biased = (int)(bits >> 52 & 0x7ff);
	c = bits & (((uint64_t)1 << 52) - 1);
	if (biased == 0x7ff) {
		if (c) {		/* NaN: missing */
			buf[0] = '\0';
			return 0;
		}
		strcpy(buf, neg ? "-inf" : "inf");
		return neg ? 4 : 3;
	}
	if (biased == 0 && c == 0) {
		strcpy(buf, neg ? "-0" : "0");
		return neg ? 2 : 1;
	}
	if (biased == 0)		/* subnormal */
		d = shortest(c, 1 - 1075, 0, &exp10);
	else
		d = shortest(c | (uint64_t)1 << 52, biased - 1075,
			     c == 0 && biased > 1, &exp10);
	return format_decimal(buf, neg, d, exp10);
}
#else
/* No 128-bit integers: try 15, 16, 17 digits. */
int csv_format_double(char *buf, double v)
{
	int prec, n = 0;

	if (isnan(v)) {
		buf[0] = '\0';
		return 0;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return n;
}
#endif

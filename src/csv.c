/*
 * Streaming CSV reader (RFC 4180) over libarchive, plus number parsing
 * and field writing.
 *
 * Bytes flow: read(2) on a descriptor, in our own read callback that also
 * hashes and counts the stored (possibly compressed) bytes; libarchive's
 * decompression filters and its "raw" format; archive_read_data() into a
 * 1 MiB block; a scanner that copies each field, unescaped and
 * NUL-terminated, into one record buffer.  Memory is the block plus the
 * longest record.  The scanner is the hot path of scoring: unquoted
 * fields are found by a tight byte loop and copied with memcpy(), quoted
 * fields by memchr() for the next quote.
 *
 * Leniency, deliberately: a quote inside an unquoted field is data
 * (5'10" happens), a lone CR is data, CRLF ends a line, fully empty lines
 * are skipped.  Strictness: an unterminated quoted field and text after a
 * closing quote are errors naming line and column (the 1-based field
 * number).  Numbers are parsed by a locale-independent scanner with an
 * exact fast path; everything else goes to strtod(), so the program must
 * run in the "C" LC_NUMERIC locale (the default).
 *
 * Not done here: type inference (dataset.c), schema matching (score.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>

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
#define MAX_RECORD ((size_t)256 << 20)

struct csv_reader {
	char *name;
	int fd;
	int own_fd;
	int read_errno;		/* errno of a failed read(2), or 0 */
	int raw_eof;		/* read(2) has returned 0 */
	struct archive *a;
	struct sha256_ctx sha;
	uint64_t raw_bytes;
	unsigned char *raw;	/* read callback's block */

	char *buf;		/* decompressed block, then a '\n' sentinel */
	size_t pos, len;
	int at_eof;		/* no more decompressed bytes */
	int started;		/* the first block (and its BOM) was read */
	unsigned long line;	/* physical line of buf[pos] */

	char *out;		/* the record's fields, each NUL-terminated */
	size_t out_len, out_cap;
	size_t *offs, *lens;
	char **fields;
	size_t n_fields, fields_cap;
	int last_quoted;	/* whether the last field was quoted */
};

static la_ssize_t read_cb(struct archive *a, void *data, const void **block)
{
	struct csv_reader *r = data;
	ssize_t n;

	do
		n = read(r->fd, r->raw, RAW_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->read_errno = errno;
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	if (n == 0)
		r->raw_eof = 1;
	sha256_update(&r->sha, r->raw, (size_t)n);
	r->raw_bytes += (uint64_t)n;
	*block = r->raw;
	return n;
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
		sha256_update(&r->sha, r->raw, (size_t)n);
		r->raw_bytes += (uint64_t)n;
	}
}

static int archive_fail(struct csv_reader *r, struct mlops_err *err)
{
	const char *why;

	if (r->read_errno)
		return err_set(err, MLOPS_EIO, "cannot read '%s': %s", r->name,
			       strerror(r->read_errno));
	why = archive_error_string(r->a);
	return err_set(err, MLOPS_EIO, "cannot read '%s': %s", r->name,
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

int csv_open(const char *path, struct csv_reader **out, struct mlops_err *err)
{
	struct csv_reader *r;
	struct archive_entry *entry;
	int ret = MLOPS_OK;

	*out = NULL;
	r = xcalloc(1, sizeof(*r));
	r->fd = -1;
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

	/*
	 * Only real compressors: filter_all would also enable "uu", which
	 * would decode a CSV whose first line happens to start "begin 644".
	 * Return values are ignored: ARCHIVE_WARN only means libarchive
	 * falls back to an external program.
	 */
	r->a = archive_read_new();
	archive_read_support_filter_gzip(r->a);
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

const char *csv_name(const struct csv_reader *r)
{
	return r->name;
}

uint64_t csv_raw_bytes(const struct csv_reader *r)
{
	return r->raw_bytes;
}

void csv_sha256_hex(const struct csv_reader *r, char hex[65])
{
	struct sha256_ctx c = r->sha;
	unsigned char digest[32];

	sha256_final(&c, digest);
	sha256_to_hex(digest, hex);
}

/* Refill the block; r->len == 0 afterwards means end of input. */
static int fill(struct csv_reader *r, struct mlops_err *err)
{
	la_ssize_t n;

	r->pos = 0;
	r->len = 0;
	r->buf[0] = '\n';	/* sentinel for scan_unquoted() */
	if (r->at_eof)
		return MLOPS_OK;
	n = archive_read_data(r->a, r->buf, DATA_BLOCK);
	if (n < 0)
		return archive_fail(r, err);
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
 * Scan an unquoted field up to a comma, a newline or the end of input.
 * *delim gets ',' or '\n' (consumed) or -1 at end of input.
 */
static int scan_unquoted(struct csv_reader *r, unsigned long line0,
			 int *delim, struct mlops_err *err)
{
	size_t start = r->out_len;
	const char *s, *e, *p;
	int ret;

	for (;;) {
		s = r->buf + r->pos;
		e = r->buf + r->len;
		p = s;
		while (*p != ',' && *p != '\n')
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
				       "'%s' line %lu: record longer than "
				       "%zu MiB", r->name, line0,
				       MAX_RECORD >> 20);
		if ((ret = fill(r, err)))
			return ret;
		if (!r->len) {
			*delim = -1;
			break;
		}
	}
	/* CRLF: the CR belongs to the line ending, not the field. */
	if (*delim != ',' && r->out_len > start &&
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

/* Scan a quoted field; r->pos is on the opening quote.  Sets *delim as
 * scan_unquoted() does. */
static int scan_quoted(struct csv_reader *r, size_t col, int *delim,
		       struct mlops_err *err)
{
	size_t start = r->out_len;
	unsigned long line0 = r->line;
	const char *s, *e, *q;
	int c, ret;

	r->pos++;
	for (;;) {
		if ((ret = peek(r, &c, err)))
			return ret;
		if (c < 0 || r->out_len - start > MAX_RECORD)
			return err_set(err, MLOPS_EINPUT,
				       "'%s' line %lu, column %zu: "
				       "unterminated quoted field",
				       r->name, line0, col);
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
	if (c == ',' || c == '\n') {
		r->pos++;
		if (c == '\n')
			r->line++;
	} else if (c >= 0) {
		return err_set(err, MLOPS_EINPUT,
			       "'%s' line %lu, column %zu: "
			       "character after closing quote",
			       r->name, r->line, col);
	}
	*delim = c;
	end_field(r, start, 1);
	return MLOPS_OK;
}

int csv_next(struct csv_reader *r, struct csv_record *rec, int *eof,
	     struct mlops_err *err)
{
	unsigned long line0;
	size_t i;
	int c, delim = -1, ret;

	*eof = 0;
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
		do {
			if (c == '"')
				ret = scan_quoted(r, r->n_fields + 1, &delim,
						  err);
			else
				ret = scan_unquoted(r, line0, &delim, err);
			if (ret)
				return ret;
			if (delim == ',' && (ret = peek(r, &c, err)))
				return ret;
		} while (delim == ',');
		if (r->n_fields > 1 || r->lens[0] || r->last_quoted)
			break;
	}
	for (i = 0; i < r->n_fields; i++)
		r->fields[i] = r->out + r->offs[i];
	rec->n_fields = r->n_fields;
	rec->fields = r->fields;
	rec->lens = r->lens;
	rec->line = line0;
	return MLOPS_OK;
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

/* Powers of ten exactly representable as doubles. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

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

int csv_parse_double(const char *s, size_t len, double *out)
{
	const char *p, *e = s + len, *num;
	uint64_t w = 0;
	long exp10 = 0, ev = 0;
	int neg = 0, n_sig = 0, n_digits = 0, dropped = 0, eneg = 0, d;
	double v;

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

void csv_write_field(FILE *fp, const char *s, size_t len)
{
	const char *p, *q, *e = s + len;
	int quote = 0;
	size_t i;

	if (len && (is_space(s[0]) || is_space(s[len - 1])))
		quote = 1;
	for (i = 0; i < len && !quote; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = 1;
	if (!quote) {
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

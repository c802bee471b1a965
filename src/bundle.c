/*
 * Bundles through libarchive: tar (ustar) inside gzip.
 *
 * Writing is deterministic so that the same version exports to the same
 * bytes wherever and whenever it is exported: entries in name order,
 * every header field that could vary fixed (mtime 0, uid/gid 0, owner
 * "root", mode 0644, ustar so no pax times), and gzip without a
 * timestamp.  The archive is built in memory (bundles hold one artefact
 * and a manifest) and then written atomically.
 *
 * Reading never extracts: entries are read into memory and checked
 * against an allow-list of names, so an absolute path, "..", a link or
 * a device cannot make us write anywhere.  Everything is refused as a
 * whole: the caller gets all the files or none.  Deliberately absent:
 * any notion of what the files mean (manifests are the commands' job).
 */

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "atomic.h"
#include "bundle.h"
#include "xalloc.h"

struct membuf {
	char *data;
	size_t len, alloc;
};

static la_ssize_t mem_write(struct archive *a, void *client,
			    const void *buf, size_t len)
{
	struct membuf *mb = client;

	(void)a;
	XGROW(mb->data, mb->alloc, mb->len + len);
	memcpy(mb->data + mb->len, buf, len);
	mb->len += len;
	return (la_ssize_t)len;
}

static int cmp_files(const void *a, const void *b)
{
	const struct bundle_file *x = *(const struct bundle_file *const *)a;
	const struct bundle_file *y = *(const struct bundle_file *const *)b;

	return strcmp(x->name, y->name);
}

static int archive_fail(struct archive *a, const char *what,
			const char *path, struct mlops_err *err)
{
	const char *msg = archive_error_string(a);

	return err_set(err, MLOPS_EIO, "cannot %s '%s': %s", what, path,
		       msg ? msg : "libarchive failed");
}

/* Build the tar.gz in memory. */
static int build(const char *path, const struct bundle_file *files,
		 size_t n, struct membuf *mb, struct mlops_err *err)
{
	const struct bundle_file **sorted = xcalloc(n ? n : 1,
						    sizeof(*sorted));
	struct archive *a = archive_write_new();
	struct archive_entry *e = NULL;
	size_t i;
	int ret = 0;

	for (i = 0; i < n; i++)
		sorted[i] = &files[i];
	qsort(sorted, n, sizeof(*sorted), cmp_files);
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    /* A NULL value turns the option off: no time in the header. */
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) !=
	    ARCHIVE_OK ||
	    /* No zero padding after the gzip trailer: it ends the file. */
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, mb, NULL, mem_write, NULL) != ARCHIVE_OK) {
		ret = archive_fail(a, "write", path, err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, sorted[i]->name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)sorted[i]->len);
		archive_entry_set_mtime(e, 0, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (sorted[i]->len &&
		     archive_write_data(a, sorted[i]->bytes, sorted[i]->len) !=
		     (la_ssize_t)sorted[i]->len)) {
			ret = archive_fail(a, "write", path, err);
			goto out;
		}
		archive_entry_free(e);
		e = NULL;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		ret = archive_fail(a, "write", path, err);
out:
	archive_entry_free(e);
	archive_write_free(a);
	free(sorted);
	return ret;
}

int bundle_write(const char *path, const struct bundle_file *files,
		 size_t n, struct mlops_err *err)
{
	struct membuf mb = { NULL, 0, 0 };
	struct atomic_file af;
	int ret;

	memset(&af, 0, sizeof(af));
	if ((ret = build(path, files, n, &mb, err)))
		goto out;
	if ((ret = atomic_open(&af, path, err)))
		goto out;
	if (mb.len && fwrite(mb.data, 1, mb.len, af.fp) != mb.len) {
		ret = err_set(err, MLOPS_EIO, "cannot write '%s': %s", path,
			      strerror(errno));
		atomic_abort(&af);
		goto out;
	}
	ret = atomic_commit(&af, err);
out:
	free(mb.data);
	return ret;
}

void bundle_files_free(struct bundle_file *files, size_t n)
{
	size_t i;

	if (!files)
		return;
	for (i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].bytes);
	}
	free(files);
}

const struct bundle_file *bundle_find(const struct bundle_file *files,
				      size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(files[i].name, name))
			return &files[i];
	return NULL;
}

/* Whether a relative path has a ".." component. */
static int has_dotdot(const char *p)
{
	const char *s = p;

	while (*s) {
		size_t len = strcspn(s, "/");

		if (len == 2 && s[0] == '.' && s[1] == '.')
			return 1;
		s += len;
		while (*s == '/')
			s++;
	}
	return 0;
}

/* Check one header; 0 when the entry may be read. */
static int check_entry(struct archive_entry *e, const char *path,
		       const char *const *allowed, size_t n_allowed,
		       size_t max_size, const struct bundle_file *got,
		       size_t n_got, struct mlops_err *err)
{
	const char *name = archive_entry_pathname(e);
	la_int64_t size = archive_entry_size(e);
	size_t i;

	if (!name || !*name)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': an entry has no name; refused",
			       path);
	if (name[0] == '/')
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' has an absolute path; "
			       "refused", path, name);
	if (has_dotdot(name))
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' has a '..' component; "
			       "refused", path, name);
	if (archive_entry_hardlink(e))
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' is a hard link; "
			       "refused", path, name);
	if (archive_entry_filetype(e) == AE_IFLNK ||
	    archive_entry_symlink(e))
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' is a symbolic link; "
			       "refused", path, name);
	if (archive_entry_filetype(e) != AE_IFREG)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' is not a regular file; "
			       "refused", path, name);
	for (i = 0; i < n_allowed; i++)
		if (!strcmp(allowed[i], name))
			break;
	if (i == n_allowed)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': unexpected entry '%s'; refused",
			       path, name);
	if (bundle_find(got, n_got, name))
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' appears twice; refused",
			       path, name);
	if (size < 0 || (unsigned long long)size > max_size)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': entry '%s' is too large (%lld "
			       "bytes); refused", path, name, (long long)size);
	return 0;
}

static int read_corrupt(struct archive *a, const char *path,
			struct mlops_err *err)
{
	const char *msg = archive_error_string(a);

	return err_set(err, MLOPS_ECORRUPT,
		       "bundle '%s' is truncated or corrupt: %s", path,
		       msg ? msg : "the stream ends too early");
}

/* Read the data of the current entry, exactly `size` bytes. */
static int read_data(struct archive *a, const char *path, const char *name,
		     size_t size, char **bytes, struct mlops_err *err)
{
	char *buf = xmalloc(size + 1);
	size_t got = 0;
	la_ssize_t r;

	for (;;) {
		r = archive_read_data(a, buf + got, size + 1 - got);
		if (r < 0) {
			free(buf);
			return read_corrupt(a, path, err);
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > size) {
			free(buf);
			return err_set(err, MLOPS_ECORRUPT,
				       "bundle '%s': entry '%s' is longer than "
				       "its header says; refused", path, name);
		}
	}
	if (got != size) {
		free(buf);
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s' is truncated: entry '%s' has %zu "
			       "of %zu bytes", path, name, got, size);
	}
	buf[size] = '\0';
	*bytes = buf;
	return 0;
}

/*
 * Read all of `path` ("-": stdin) into memory, at most `max` bytes: a
 * regular file is measured first, a stream read in steps that never
 * allocate past max + 64 KiB (import /dev/zero stops there).
 */
static int slurp(const char *path, size_t max, struct membuf *mb,
		 struct mlops_err *err)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct stat st;
	size_t got, want;

	if (!fp)
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND :
			       MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	if (!fstat(fileno(fp), &st) && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size > max) {
		if (fp != stdin)
			fclose(fp);
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s' is larger than %zu bytes; refused",
			       path, max);
	}
	do {
		if (mb->len + 65536 > mb->alloc) {
			want = mb->alloc < 65536 ? 65536 : 2 * mb->alloc;
			if (want > max + 65536)
				want = max + 65536;
			mb->data = xrealloc(mb->data, want);
			mb->alloc = want;
		}
		got = fread(mb->data + mb->len, 1, mb->alloc - mb->len, fp);
		mb->len += got;
	} while (got > 0 && mb->len <= max);
	if (ferror(fp)) {
		int e = errno;

		if (fp != stdin)
			fclose(fp);
		return err_set(err, MLOPS_EIO, "cannot read '%s': %s", path,
			       strerror(e));
	}
	if (fp != stdin)
		fclose(fp);
	if (mb->len > max)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s' is larger than %zu bytes; refused",
			       path, max);
	return 0;
}

/* CRC-32 as gzip uses it (reflected, polynomial 0xedb88320). */
static unsigned long crc32_update(unsigned long crc, const void *buf,
				  size_t len)
{
	static unsigned long table[256];
	const unsigned char *p = buf;
	size_t i;
	int k;

	if (!table[1])
		for (i = 0; i < 256; i++) {
			unsigned long c = (unsigned long)i;

			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc & 0xffffffffUL;
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc & 0xffffffffUL;
}

static unsigned long le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 |
	       (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/*
 * The tar reader stops at the end-of-archive blocks and never looks at
 * what follows, and libarchive's gzip reader accepts a stream that just
 * stops, so a bundle cut short near its end would pass.  Inflate the
 * whole stream and check it against the gzip trailer (CRC-32 and length
 * of the inflated bytes, the last eight bytes of the file): a bundle is
 * one gzip member, as bundle_write() makes it.
 */
static int check_gzip(const char *path, const struct membuf *mb,
		      unsigned long long max_total, struct mlops_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char scratch[65536];
	const unsigned char *tail;
	unsigned long long total = 0;
	unsigned long crc = 0;
	la_ssize_t r = 0;
	int ret = 0;

	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, mb->data, mb->len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		ret = read_corrupt(a, path, err);
		goto out;
	}
	if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "'%s' is not a bundle (not gzip-compressed)",
			      path);
		goto out;
	}
	while ((r = archive_read_data(a, scratch, sizeof(scratch))) > 0) {
		crc = crc32_update(crc, scratch, (size_t)r);
		total += (unsigned long long)r;
		/* A gzip bomb would take minutes to inflate: stop early. */
		if (total > max_total) {
			ret = err_set(err, MLOPS_ECORRUPT, "bundle '%s' "
				      "inflates to more than %llu bytes; "
				      "refused", path, max_total);
			goto out;
		}
	}
	if (r < 0) {
		ret = read_corrupt(a, path, err);
		goto out;
	}
	tail = (const unsigned char *)mb->data + mb->len - 8;
	if (mb->len < 18 || le32(tail) != crc ||
	    le32(tail + 4) != (unsigned long)(total & 0xffffffffULL))
		ret = err_set(err, MLOPS_ECORRUPT,
			      "bundle '%s' is truncated or corrupt: the gzip "
			      "trailer does not match its contents", path);
out:
	archive_read_free(a);
	return ret;
}

int bundle_read(const char *path, const char *const *allowed,
		size_t n_allowed, size_t max_size,
		struct bundle_file **files, size_t *n,
		struct mlops_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	struct bundle_file *got = NULL;
	struct membuf mb = { NULL, 0, 0 };
	size_t n_got = 0, alloc = 0;
	int ret, rc;

	*files = NULL;
	*n = 0;
	/*
	 * An artefact and a small manifest, compressed: the file and its
	 * inflated tar (two entries, headers, padding) stay within these.
	 */
	if ((ret = slurp(path, max_size + ((size_t)1 << 20), &mb, err)) ||
	    (ret = check_gzip(path, &mb, 2ULL * max_size + (1ULL << 20),
			      err)))
		goto out;
	a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, mb.data, mb.len) != ARCHIVE_OK) {
		ret = read_corrupt(a, path, err);
		goto out;
	}
	for (;;) {
		struct bundle_file *f;
		char *bytes = NULL;

		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK) {
			ret = read_corrupt(a, path, err);
			goto out;
		}
		if ((ret = check_entry(e, path, allowed, n_allowed, max_size,
				       got, n_got, err)) ||
		    (ret = read_data(a, path, archive_entry_pathname(e),
				     (size_t)archive_entry_size(e), &bytes,
				     err)))
			goto out;
		XGROW(got, alloc, n_got + 1);
		f = &got[n_got++];
		f->name = xstrdup(archive_entry_pathname(e));
		f->bytes = bytes;
		f->len = (size_t)archive_entry_size(e);
	}
	if (archive_read_close(a) != ARCHIVE_OK)
		ret = read_corrupt(a, path, err);
out:
	archive_read_free(a);
	free(mb.data);
	if (ret) {
		bundle_files_free(got, n_got);
		return ret;
	}
	*files = got;
	*n = n_got;
	return 0;
}

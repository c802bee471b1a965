#ifndef MLOPS_BUNDLE_H
#define MLOPS_BUNDLE_H

/*
 * Bundles: a handful of named files in a gzip-compressed tar archive
 * (libarchive), written so that the same files always give the same
 * bytes, and read so that a hostile archive can do no harm.
 */

#include <stddef.h>
#include "error.h"

/* One file of a bundle; both strings owned when handed out by us. */
struct bundle_file {
	char *name;		/* relative path inside the archive */
	char *bytes;		/* NUL-terminated for convenience */
	size_t len;
};

/*
 * Write `files` to `path` ("-": stdout) as tar.gz, deterministically:
 * entries sorted by name, ustar headers with a fixed mtime (0), owner
 * 0:0 "root", mode 0644, and a gzip header without a timestamp; the file
 * appears atomically (temporary name, fsync, rename).  The array is
 * borrowed and left in place.  MLOPS_EIO on failure.
 */
int bundle_write(const char *path, const struct bundle_file *files,
		 size_t n, struct mlops_err *err);

/*
 * Read the bundle at `path` ("-": stdin) into memory, writing nothing
 * to disk.  Only regular files whose names are in `allowed` (n_allowed
 * names), each at most once and at most `max_size` bytes, are accepted;
 * an absolute path, a ".." component, a symbolic or hard link, another
 * entry type, an unexpected or repeated name, an oversized entry, or a
 * truncated or corrupt stream is MLOPS_ECORRUPT naming the entry, and
 * nothing is handed out.  On success *files (caller frees with
 * bundle_files_free()) holds the entries in archive order.  MLOPS_ENOTFOUND
 * / MLOPS_EIO when the file cannot be opened.
 */
int bundle_read(const char *path, const char *const *allowed,
		size_t n_allowed, size_t max_size,
		struct bundle_file **files, size_t *n,
		struct mlops_err *err);

/* Free what bundle_read() handed out; accepts NULL. */
void bundle_files_free(struct bundle_file *files, size_t n);

/* The file named `name` in files[0..n), or NULL. */
const struct bundle_file *bundle_find(const struct bundle_file *files,
				      size_t n, const char *name);

#endif

#ifndef MLOPS_ATOMIC_H
#define MLOPS_ATOMIC_H

/*
 * Atomic file replacement: write to a temporary file in the target's
 * folder, fsync it, rename it over the target, fsync the folder.  A
 * reader (or a crash at any instant) sees the old file or the new one,
 * never a partial one.  Where Linux's O_TMPFILE works, the temporary
 * file has no name until commit, so a process killed while writing
 * leaves nothing behind.  The path "-" writes to stdout instead (no
 * atomicity, commit just flushes); so does an existing target that is
 * not a regular file (a device such as /dev/stdout, a FIFO), which is
 * opened and written in place.  A symlink is followed: the file it
 * points at is replaced, the link kept.
 */

#include <stdio.h>
#include "error.h"

struct atomic_file {
	char *path;		/* target */
	char *tmp_path;		/* NULL: stdout or not a regular file */
	int anonymous;		/* tmp_path not made yet: fp is O_TMPFILE */
	FILE *fp;		/* write here */
	int is_stdout;
	char *buf;		/* stdio buffer of fp, owned */
	long long flushed;	/* handed to the disk by atomic_writeback() */
};

/*
 * Create the temporary file (mode 0644 honouring umask).  MLOPS_EIO
 * naming the folder on failure.  On success af->fp is open for writing
 * with a large buffer.
 */
int atomic_open(struct atomic_file *af, const char *path,
		struct mlops_err *err);

/*
 * Have the disk start writing what reached the file so far, without
 * waiting, so that the fsync at commit finds little left to do.  Meant
 * to be called as output grows; acts once per few MB, and only where
 * the system can (Linux's sync_file_range).  Errors are commit's to
 * find.
 */
void atomic_writeback(struct atomic_file *af);

/*
 * Flush, fsync, close, rename over the target, fsync the folder.  Any
 * failure (e.g. disk full) removes the temporary file and returns
 * MLOPS_EIO naming the target.  Releases af either way.
 */
int atomic_commit(struct atomic_file *af, struct mlops_err *err);

/* Close and remove the temporary file; releases af.  Accepts a released
 * or zeroed af. */
void atomic_abort(struct atomic_file *af);

#endif

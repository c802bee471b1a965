/*
 * Atomic file replacement: temporary file, fsync, rename, fsync folder.
 *
 * The temporary file lives in the target's folder (rename(2) is atomic
 * only within one file system) under a hidden name, `.NAME.tmpXXXXXX`,
 * so a crash leaves at worst a stray dot-file, never a truncated target.
 * Every step that can report a write error is checked: a full disk often
 * shows up only at fflush(), fsync() or fclose(), and a batch job must
 * not report success over a half-written file.  Output to "-" is stdout,
 * with no atomicity: a pipe cannot be renamed; so is an existing target
 * that is not a regular file (/dev/stdout, a FIFO).  A symlink target is
 * resolved, so the file it points at is replaced and the link kept.
 *
 * Not done: locking (the registry serialises writers), preserving the
 * old file's mode or owner (outputs are new files, mode 0644 & ~umask).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* sync_file_range() */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "xalloc.h"

#define STDIO_BUF (1 << 20)
#define WRITEBACK_BYTES (8 << 20)

static void release(struct atomic_file *af)
{
	free(af->path);
	free(af->tmp_path);
	free(af->buf);
	memset(af, 0, sizeof(*af));
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/*
 * A device, FIFO or the like (-o /dev/stdout, -o /dev/null): renaming
 * over it would replace the node with a plain file, so write to it
 * directly, without atomicity.  Marked by fp set and tmp_path NULL.
 */
static int open_direct(struct atomic_file *af, struct mlops_err *err)
{
	int saved;

	if (!(af->fp = fopen(af->path, "w"))) {
		saved = errno;
		err_set(err, MLOPS_EIO, "cannot open '%s': %s", af->path,
			strerror(saved));
		release(af);
		return MLOPS_EIO;
	}
	af->buf = xmalloc(STDIO_BUF);
	setvbuf(af->fp, af->buf, _IOFBF, STDIO_BUF);
	return MLOPS_OK;
}

int atomic_open(struct atomic_file *af, const char *path,
		struct mlops_err *err)
{
	struct stat st;
	const char *base;
	char *dir, *real;
	mode_t mask;
	int fd, saved;

	memset(af, 0, sizeof(*af));
	af->path = xstrdup(path);
	if (!strcmp(path, "-")) {
		af->fp = stdout;
		af->is_stdout = 1;
		return MLOPS_OK;
	}
	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return open_direct(af, err);
	/* Replace what a symlink points at, not the link itself. */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode) &&
	    (real = realpath(path, NULL))) {
		free(af->path);
		af->path = xstrdup(real);
		free(real);
		path = af->path;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!*base) {
		release(af);
		return err_set(err, MLOPS_EIO, "cannot write '%s': %s", path,
			       strerror(EISDIR));
	}
	dir = dir_of(path);
	af->tmp_path = xasprintf("%s/.%s.tmpXXXXXX", dir, base);
	fd = mkstemp(af->tmp_path);
	if (fd < 0) {
		saved = errno;
		err_set(err, MLOPS_EIO, "cannot create a file in '%s': %s",
			dir, strerror(saved));
		free(dir);
		release(af);
		return MLOPS_EIO;
	}
	free(dir);
	/* mkstemp() makes 0600; outputs are ordinary files. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0644 & ~mask) < 0 || !(af->fp = fdopen(fd, "w"))) {
		saved = errno;
		close(fd);
		unlink(af->tmp_path);
		err_set(err, MLOPS_EIO, "cannot write '%s': %s", path,
			strerror(saved));
		release(af);
		return MLOPS_EIO;
	}
	af->buf = xmalloc(STDIO_BUF);
	setvbuf(af->fp, af->buf, _IOFBF, STDIO_BUF);
	return MLOPS_OK;
}

static int commit_stdout(struct atomic_file *af, struct mlops_err *err)
{
	int ret = MLOPS_OK;

	if (fflush(stdout) == EOF || ferror(stdout))
		ret = err_set(err, MLOPS_EIO,
			      "cannot write to standard output: %s",
			      strerror(errno ? errno : EIO));
	release(af);
	return ret;
}

/* fsync the folder so the rename itself survives a crash; 0 or errno. */
static int sync_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		ret = errno;
	free(dir);
	if (fd < 0)
		return ret;
	/* Some file systems cannot fsync a folder; that is not a failure
	 * of this write. */
	if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP)
		ret = errno;
	close(fd);
	return ret;
}

int atomic_commit(struct atomic_file *af, struct mlops_err *err)
{
	int saved = 0;

	if (af->is_stdout)
		return commit_stdout(af, err);
	errno = 0;
	if (fflush(af->fp) == EOF)
		saved = errno ? errno : EIO;
	else if (ferror(af->fp))
		saved = EIO;	/* an earlier write failed; errno is gone */
	else if (af->tmp_path && fsync(fileno(af->fp)) < 0)
		saved = errno;
	if (fclose(af->fp) == EOF && !saved)
		saved = errno ? errno : EIO;
	af->fp = NULL;
	if (saved) {
		if (af->tmp_path)
			unlink(af->tmp_path);
		err_set(err, MLOPS_EIO, "cannot write '%s': %s", af->path,
			strerror(saved));
		release(af);
		return MLOPS_EIO;
	}
	if (!af->tmp_path) {
		release(af);
		return MLOPS_OK;
	}
	if (rename(af->tmp_path, af->path) < 0) {
		saved = errno;
		unlink(af->tmp_path);
		err_set(err, MLOPS_EIO, "cannot write '%s': %s", af->path,
			strerror(saved));
		release(af);
		return MLOPS_EIO;
	}
	if ((saved = sync_dir(af->path))) {
		err_set(err, MLOPS_EIO, "cannot write '%s': %s", af->path,
			strerror(saved));
		release(af);
		return MLOPS_EIO;
	}
	release(af);
	return MLOPS_OK;
}

void atomic_writeback(struct atomic_file *af)
{
#ifdef SYNC_FILE_RANGE_WRITE
	off_t end;

	if (!af->tmp_path || !af->fp)
		return;
	/* What stdio has written, not what it still buffers. */
	end = lseek(fileno(af->fp), 0, SEEK_CUR);
	if (end < 0 || end - af->flushed < WRITEBACK_BYTES)
		return;
	/* Only a hint: the fsync at commit is what makes the data safe. */
	(void)sync_file_range(fileno(af->fp), af->flushed,
			      end - af->flushed, SYNC_FILE_RANGE_WRITE);
	af->flushed = end;
#else
	(void)af;
#endif
}

void atomic_abort(struct atomic_file *af)
{
	if (!af)
		return;
	if (af->fp && !af->is_stdout) {
		fclose(af->fp);
		if (af->tmp_path)
			unlink(af->tmp_path);
	}
	release(af);
}

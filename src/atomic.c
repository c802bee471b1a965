/*
 * Atomic file replacement: temporary file, fsync, rename, fsync folder.
 *
 * The temporary file lives in the target's folder (rename(2) is atomic
 * only within one file system).  Where Linux's O_TMPFILE works it is
 * unnamed while being written and gets its hidden name, `.NAME.tmpXXXXXX`,
 * just before the rename, so a process killed mid-write (a batch job's
 * timeout, the OOM killer) leaves nothing behind.  Elsewhere it has that
 * name from the start, so a crash leaves at worst a stray dot-file;
 * never a truncated target.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/*
 * An unnamed file in DIR, mode 0644 less the umask, or -1 where the
 * system or the file system has none.  Naming it at commit goes through
 * /proc/self/fd, so that must be there too.
 */
static int open_anonymous(const char *dir)
{
#if defined(O_TMPFILE) && defined(AT_SYMLINK_FOLLOW)
	if (access("/proc/self/fd", X_OK) < 0)
		return -1;
	return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
#else
	(void)dir;
	return -1;
#endif
}

/*
 * Give the unnamed file its hidden name: af->tmp_path with its last six
 * characters made unique, as mkstemp() would.  0 or errno.
 */
static int link_anonymous(struct atomic_file *af)
{
#if defined(O_TMPFILE) && defined(AT_SYMLINK_FOLLOW)
	static const char digits[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static uint64_t counter;
	char proc[64], *x = af->tmp_path + strlen(af->tmp_path) - 6;
	struct timespec ts;
	uint64_t r;
	int tries, i;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fileno(af->fp));
	clock_gettime(CLOCK_REALTIME, &ts);
	r = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	for (tries = 0; tries < 100; tries++) {
		/* Knuth's MMIX generator: only the names need to differ. */
		r = r * 6364136223846793005ULL + 1442695040888963407ULL +
		    counter++;
		for (i = 0; i < 6; i++)
			x[i] = digits[(r >> (8 * i + 16)) % 62];
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, af->tmp_path,
			    AT_SYMLINK_FOLLOW)) {
			af->anonymous = 0;
			return 0;
		}
		if (errno != EEXIST)
			return errno;
	}
	return EEXIST;
#else
	(void)af;
	return ENOTSUP;
#endif
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
	if ((fd = open_anonymous(dir)) >= 0)
		af->anonymous = 1;
	else
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
		if (!af->anonymous)
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
	else if (af->anonymous)
		saved = link_anonymous(af);
	if (fclose(af->fp) == EOF && !saved)
		saved = errno ? errno : EIO;
	af->fp = NULL;
	if (saved) {
		if (af->tmp_path && !af->anonymous)
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
		if (af->tmp_path && !af->anonymous)
			unlink(af->tmp_path);
	}
	release(af);
}

/*
 * The repository: finding `.mlops/`, creating it, reading its config,
 * and the content-addressed artefact store beside the registry.
 *
 * Discovery walks up from the working directory like git does, and stops
 * at a mount point (st_dev changes) or before entering a folder listed in
 * MLOPS_CEILING_DIRECTORIES; MLOPS_DIR names the folder directly.
 *
 * The store is `artifacts/sha256/ab/cdef...`: a file is written under a
 * temporary name in its final folder, fsynced, made read-only, renamed
 * into place and the folder fsynced, so that by the time a registry row
 * naming the hash commits, the bytes are durable.  A crash can leave an
 * unreferenced artefact or a `.tmp-*` file behind, never a row without
 * its file; both leftovers are harmless and `verify` skips temporaries.
 * Reading an artefact always re-hashes it.
 *
 * The config file uses git-config syntax (the subset described at
 * gitconfig_get()).
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitconfig.h"
#include "ident.h"
#include "registry.h"
#include "repo.h"
#include "sha256.h"
#include "xalloc.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000

static const char config_template[] =
	"# mlops repository configuration, in git-config syntax.\n"
	"# The commented lines show the defaults; uncomment one to change it.\n"
	"\n"
	"[registry]\n"
	"\t# How long (milliseconds) to wait for another process's lock\n"
	"\t# before giving up with exit status 4.\n"
	"\t# busy-timeout = 5000\n"
	"\n"
	"[git]\n"
	"\t# Write GTO-style annotated tags on register and promote, as if\n"
	"\t# --git-tag were given.\n"
	"\t# tags = false\n"
	"\n"
	"# Per-stage promotion policy: whether a move to the stage needs the\n"
	"# latest validation of that version on record to have passed\n"
	"# (--force --reason overrides it and the ledger says so).  By default\n"
	"# only production does, and the validation must have applied at\n"
	"# least one gate (--min, --max, ...); require-against also wants it\n"
	"# compared with the stage's current holder (validate --against).\n"
	"[stage \"production\"]\n"
	"\t# require-validation = true\n"
	"\t# require-gate = true\n"
	"\t# require-against = false\n";

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Whether `dir` is one of the colon-separated ceiling folders. */
static int is_ceiling(const char *dir, const char *ceilings)
{
	const char *p = ceilings, *colon;
	char buf[PATH_MAX], real[PATH_MAX];
	size_t len;

	while (p && *p) {
		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && len < sizeof(buf)) {
			memcpy(buf, p, len);
			buf[len] = '\0';
			while (len > 1 && buf[len - 1] == '/')
				buf[--len] = '\0';
			if (!strcmp(buf, dir) ||
			    (realpath(buf, real) && !strcmp(real, dir)))
				return 1;
		}
		p = colon ? colon + 1 : NULL;
	}
	return 0;
}

/* Cut the last component off an absolute path ("/a/b" -> "/a"). */
static void parent_dir(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash)
		return;
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
}

/* Find the .mlops folder; *dir receives its absolute path (caller frees). */
static int find_repo_dir(char **dir, struct mlops_err *err)
{
	const char *env = getenv("MLOPS_DIR");
	const char *ceilings = getenv("MLOPS_CEILING_DIRECTORIES");
	char cwd[PATH_MAX], real[PATH_MAX], parent[PATH_MAX], *cand;
	struct stat st, pst;

	if (env && *env) {
		if (!realpath(env, real) || !is_dir(real))
			return err_set(err, MLOPS_ENOTFOUND,
				       "MLOPS_DIR '%s' is not an mlops "
				       "repository folder", env);
		*dir = xstrdup(real);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return err_set(err, MLOPS_EIO,
			       "cannot read the working directory: %s",
			       strerror(errno));
	for (;;) {
		cand = xasprintf("%s%s.mlops", cwd,
				 strcmp(cwd, "/") ? "/" : "");
		if (is_dir(cand)) {
			*dir = cand;
			return 0;
		}
		free(cand);
		if (!strcmp(cwd, "/") || stat(cwd, &st))
			break;
		snprintf(parent, sizeof(parent), "%s", cwd);
		parent_dir(parent);
		if (stat(parent, &pst) || pst.st_dev != st.st_dev ||
		    (ceilings && is_ceiling(parent, ceilings)))
			break;
		snprintf(cwd, sizeof(cwd), "%s", parent);
	}
	return err_set(err, MLOPS_ENOTFOUND,
		       "not an mlops repository (or any parent up to %s); "
		       "run 'mlops init'", cwd);
}

/* git's booleans: true/yes/on/1 and false/no/off/0/"". */
static int config_bool(const char *path, const char *name, const char *v,
		       int *out, struct mlops_err *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0", "" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcasecmp(v, yes[i]))
			return *out = 1, 0;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcasecmp(v, no[i]))
			return *out = 0, 0;
	return err_set(err, MLOPS_ECORRUPT,
		       "bad config '%s': %s must be true or false, got '%s'",
		       path, name, v);
}

/* Read registry.busy-timeout and git.tags; a missing file means defaults. */
static int read_config(struct repo *r, struct mlops_err *err)
{
	char *path = xasprintf("%s/config", r->dir), *v = NULL, *end;
	long timeout;
	int ret;

	r->busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
	r->git_tags = 0;
	if ((ret = gitconfig_get(path, "registry", NULL, "busy-timeout",
				   &v, err)))
		goto out;
	if (v) {
		errno = 0;
		timeout = strtol(v, &end, 10);
		if (*end == 'k' || *end == 'K')
			timeout *= 1000, end++;
		if (!*v || *end || errno || timeout < 0 || timeout > INT_MAX) {
			ret = err_set(err, MLOPS_ECORRUPT,
				      "bad config '%s': registry.busy-timeout "
				      "must be milliseconds, got '%s'", path,
				      v);
			goto out;
		}
		r->busy_timeout_ms = (int)timeout;
		free(v);
		v = NULL;
	}
	if ((ret = gitconfig_get(path, "git", NULL, "tags", &v, err)))
		goto out;
	if (v)
		ret = config_bool(path, "git.tags", v, &r->git_tags, err);
out:
	free(v);
	free(path);
	return ret;
}

/* One boolean of [stage "STAGE"]; *out keeps its default when unset. */
static int stage_bool(const char *path, const char *stage, const char *key,
		      int *out, struct mlops_err *err)
{
	char *v = NULL, *name;
	int ret;

	ret = gitconfig_get(path, "stage", stage, key, &v, err);
	if (!ret && v) {
		name = xasprintf("stage.%s.%s", stage, key);
		ret = config_bool(path, name, v, out, err);
		free(name);
	}
	free(v);
	return ret;
}

int repo_stage_policy(const struct repo *r, const char *stage,
		      struct repo_stage_policy *p, struct mlops_err *err)
{
	char *path = xasprintf("%s/config", r->dir);
	int ret;

	p->require_validation = !strcmp(stage, "production");
	p->require_gate = 1;
	p->require_against = 0;
	if (!(ret = stage_bool(path, stage, "require-validation",
			       &p->require_validation, err)) &&
	    !(ret = stage_bool(path, stage, "require-gate", &p->require_gate,
			       err)))
		ret = stage_bool(path, stage, "require-against",
				 &p->require_against, err);
	free(path);
	return ret;
}

int repo_discover(int writable, struct repo **out, struct mlops_err *err)
{
	struct ident who;
	struct repo *r;
	char *db_path = NULL;
	int ret;

	*out = NULL;
	r = xcalloc(1, sizeof(*r));
	r->writable = writable;
	if ((ret = find_repo_dir(&r->dir, err)))
		goto fail;
	r->worktree = xstrdup(r->dir);
	parent_dir(r->worktree);
	if ((ret = read_config(r, err)))
		goto fail;
	db_path = xasprintf("%s/registry.db", r->dir);
	if (access(db_path, F_OK)) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "'%s' has no registry.db; run 'mlops init' to "
			      "repair it", r->dir);
		goto fail;
	}
	if ((ret = registry_open(db_path, writable, r->busy_timeout_ms,
				 &r->reg, err)))
		goto fail;
	if (writable) {
		ident_actor(&who);
		registry_set_actor(r->reg, who.user, who.host);
	}
	free(db_path);
	*out = r;
	return 0;
fail:
	free(db_path);
	repo_free(r);
	return ret;
}

void repo_free(struct repo *r)
{
	if (!r)
		return;
	registry_close(r->reg);
	free(r->dir);
	free(r->worktree);
	free(r);
}

static int make_dir(const char *path, struct mlops_err *err)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		return err_set(err, MLOPS_EIO, "cannot create '%s': %s", path,
			       strerror(errno));
	return 0;
}

/* fsync a folder so that a rename or create inside it is durable. */
static int sync_dir(const char *path, struct mlops_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0 || fsync(fd)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return err_set(err, MLOPS_EIO, "cannot sync '%s': %s", path,
			       strerror(e));
	}
	close(fd);
	return 0;
}

static int write_all(int fd, const void *bytes, size_t len)
{
	const char *p = bytes;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write `bytes` to `path` atomically with the given mode: a temporary
 * file in the same folder, fsync, rename, fsync the folder.
 */
static int write_atomic(const char *path, const void *bytes, size_t len,
			mode_t mode, struct mlops_err *err)
{
	char *dir = xstrdup(path), *tmp;
	int fd, ret = 0, e;

	parent_dir(dir);
	tmp = xasprintf("%s/.tmp-XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0) {
		ret = err_set(err, MLOPS_EIO,
			      "cannot create a file in '%s': %s", dir,
			      strerror(errno));
		goto out;
	}
	if (write_all(fd, bytes, len) || fchmod(fd, mode) || fsync(fd)) {
		e = errno;
		close(fd);
		unlink(tmp);
		ret = err_set(err, MLOPS_EIO, "cannot write '%s': %s", path,
			      strerror(e));
		goto out;
	}
	if (close(fd) || rename(tmp, path)) {
		e = errno;
		unlink(tmp);
		ret = err_set(err, MLOPS_EIO, "cannot write '%s': %s", path,
			      strerror(e));
		goto out;
	}
	ret = sync_dir(dir, err);
out:
	free(tmp);
	free(dir);
	return ret;
}

int repo_init(const char *dir, int *existed, struct mlops_err *err)
{
	char *top = xasprintf("%s/.mlops", dir);
	char *art = xasprintf("%s/artifacts", top);
	char *art_sha = xasprintf("%s/artifacts/sha256", top);
	char *config = xasprintf("%s/config", top);
	char *db = xasprintf("%s/registry.db", top);
	char *db_tmp = xasprintf("%s/registry.db.tmp", top);
	int ret;

	*existed = !access(db, F_OK);
	if ((ret = make_dir(top, err)) || (ret = make_dir(art, err)) ||
	    (ret = make_dir(art_sha, err)))
		goto out;
	if (access(config, F_OK) &&
	    (ret = write_atomic(config, config_template,
				sizeof(config_template) - 1, 0644,
				err)))
		goto out;
	if (!*existed) {
		/*
		 * Built under a temporary name and renamed, so that a
		 * registry.db, once there, is a complete one.
		 */
		unlink(db_tmp);
		if ((ret = registry_create(db_tmp, err))) {
			unlink(db_tmp);
			goto out;
		}
		if (rename(db_tmp, db)) {
			ret = err_set(err, MLOPS_EIO, "cannot create '%s': %s",
				      db, strerror(errno));
			unlink(db_tmp);
			goto out;
		}
	}
	ret = sync_dir(top, err);
out:
	free(top);
	free(art);
	free(art_sha);
	free(config);
	free(db);
	free(db_tmp);
	return ret;
}

char *repo_artifact_path(const struct repo *r, const char *sha256_hex)
{
	return xasprintf("%s/artifacts/sha256/%.2s/%s", r->dir, sha256_hex,
			 sha256_hex + 2);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in `dir`, skipping "." entries (and so `.tmp-*`). */
static int list_dir(const char *dir, char ***names, size_t *n,
		    struct mlops_err *err)
{
	size_t alloc = 0;
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (!(d = opendir(dir)))
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND :
			       MLOPS_EIO, "cannot read '%s': %s", dir,
			       strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		XGROW(*names, alloc, *n + 1);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

static int is_hex(const char *s, size_t len)
{
	size_t i;

	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

static void store_add(struct repo_store_entry **v, size_t *n,
		      size_t *alloc, enum repo_store_kind kind, char *path,
		      const char *hex)
{
	XGROW(*v, *alloc, *n + 1);
	(*v)[*n].kind = kind;
	(*v)[*n].path = path;
	snprintf((*v)[*n].sha256, sizeof((*v)[*n].sha256), "%s",
		 hex ? hex : "");
	(*n)++;
}

int repo_list_store(const struct repo *r, struct repo_store_entry **out,
		    size_t *n, struct mlops_err *err)
{
	char *top = xasprintf("%s/artifacts/sha256", r->dir), *sub;
	char **fans = NULL, **files = NULL, hex[65];
	size_t n_fans = 0, n_fil = 0, alloc = 0, i, j;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = list_dir(top, &fans, &n_fans, err)))
		goto out;
	for (i = 0; i < n_fans; i++) {
		sub = xasprintf("%s/%s", top, fans[i]);
		if (!is_hex(fans[i], 2)) {
			store_add(out, n, &alloc, REPO_STORE_STRAY_ENTRY, sub,
				  NULL);
			continue;
		}
		ret = list_dir(sub, &files, &n_fil, err);
		if (ret) {
			free(sub);
			goto out;
		}
		for (j = 0; j < n_fil; j++) {
			if (!is_hex(files[j], 62)) {
				store_add(out, n, &alloc, REPO_STORE_STRAY_FILE,
					  xasprintf("%s/%s", sub, files[j]),
					  NULL);
				continue;
			}
			snprintf(hex, sizeof(hex), "%s%s", fans[i], files[j]);
			store_add(out, n, &alloc, REPO_STORE_ARTIFACT,
				  xasprintf("%s/%s", sub, files[j]), hex);
		}
		free(sub);
		registry_free_strings(files, n_fil);
		files = NULL;
		n_fil = 0;
	}
out:
	registry_free_strings(files, n_fil);
	registry_free_strings(fans, n_fans);
	free(top);
	if (ret) {
		repo_store_release(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

void repo_store_release(struct repo_store_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Read a whole file; MLOPS_ENOTFOUND when it is missing. */
static int read_file(const char *path, char **bytes, size_t *len,
		     struct mlops_err *err)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd;

	*bytes = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY)) < 0)
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND :
			       MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return err_set(err, MLOPS_EIO, "cannot read '%s': %s", path,
			       strerror(errno));
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			free(buf);
			return err_set(err, MLOPS_EIO, "cannot read '%s': %s",
				       path, strerror(e));
		}
		if (n == 0)
			break;	/* shrank meanwhile: hash what is there */
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*bytes = buf;
	*len = got;
	return 0;
}

int repo_store_artifact(struct repo *r, const void *bytes, size_t len,
			char hex[65], struct mlops_err *err)
{
	char *path, *dir, *old = NULL, old_hex[65];
	size_t old_len;
	int ret;

	sha256_hex(bytes, len, hex);
	path = repo_artifact_path(r, hex);
	dir = xstrdup(path);
	parent_dir(dir);
	/* Already stored and intact: nothing to do. */
	if (!read_file(path, &old, &old_len, NULL)) {
		sha256_hex(old, old_len, old_hex);
		free(old);
		if (!strcmp(old_hex, hex)) {
			ret = 0;
			goto out;
		}
	}
	if (!is_dir(dir)) {
		char *top = xstrdup(dir);

		parent_dir(top);
		ret = make_dir(dir, err);
		if (!ret)
			ret = sync_dir(top, err);
		free(top);
		if (ret)
			goto out;
	}
	ret = write_atomic(path, bytes, len, 0444, err);
out:
	free(dir);
	free(path);
	return ret;
}

int repo_read_artifact(const struct repo *r, const char *sha256_hex_want,
		       char **bytes, size_t *len, struct mlops_err *err)
{
	char *path = repo_artifact_path(r, sha256_hex_want), got[65];
	int ret;

	ret = read_file(path, bytes, len, err);
	if (ret == MLOPS_ENOTFOUND) {
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "artefact sha256:%s is missing (no file '%s')",
			      sha256_hex_want, path);
	} else if (!ret) {
		sha256_hex(*bytes, *len, got);
		if (strcmp(got, sha256_hex_want)) {
			ret = err_set(err, MLOPS_ECORRUPT,
				      "artefact sha256:%s is corrupt: its "
				      "bytes hash to sha256:%s",
				      sha256_hex_want, got);
			free(*bytes);
			*bytes = NULL;
			*len = 0;
		}
	}
	free(path);
	return ret;
}

/*
 * mlops verify: re-hash every file of the artefact store, check that
 * every version's artefact is there, and run the database's own checks
 * (PRAGMA integrity_check, foreign_key_check).
 *
 * The report goes to stdout, one line per problem (with --json, one
 * object holding them all); the command then fails once with
 * MLOPS_ECORRUPT "N problems found", so stderr carries a single line
 * and the exit status is 1.  Temporary files (".tmp-*", left by a crash
 * before a rename) are skipped: they are never referenced.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

static const char *const verify_synopsis[] = {
	"mlops verify",
	NULL
};

static const struct opt_usage verify_usage = {
	verify_synopsis,
	"  mlops verify\n"
	"  mlops -C /srv/churn verify || alert \"registry damaged\"\n",
	"Re-hash every artefact and check the registry database."
};

struct report {
	char **lines;
	size_t n, alloc;
};

static void report_add(struct report *r, char *line)
{
	XGROW(r->lines, r->alloc, r->n + 1);
	r->lines[r->n++] = line;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in `dir`, skipping "." entries; caller frees. */
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

/* Re-hash every file under artifacts/sha256/. */
static int check_store(struct repo *repo, struct report *rep,
		       size_t *n_files, struct mlops_err *err)
{
	char *top = xasprintf("%s/artifacts/sha256", repo->dir), *sub;
	char **fans = NULL, **files = NULL, hex[65], *bytes;
	size_t n_fans = 0, n_fil = 0, i, j, len;
	struct mlops_err e = MLOPS_ERR_INIT;
	int ret;

	if ((ret = list_dir(top, &fans, &n_fans, err)))
		goto out;
	for (i = 0; i < n_fans; i++) {
		sub = xasprintf("%s/%s", top, fans[i]);
		if (!is_hex(fans[i], 2)) {
			report_add(rep, xasprintf("stray entry '%s' in the "
						  "artefact store", sub));
			free(sub);
			continue;
		}
		ret = list_dir(sub, &files, &n_fil, err);
		free(sub);
		if (ret)
			goto out;
		for (j = 0; j < n_fil; j++) {
			if (!is_hex(files[j], 62)) {
				report_add(rep, xasprintf(
					"stray file '%s/%s/%s' in the artefact "
					"store", top, fans[i], files[j]));
				continue;
			}
			snprintf(hex, sizeof(hex), "%s%s", fans[i], files[j]);
			(*n_files)++;
			if (!repo_read_artifact(repo, hex, &bytes, &len, &e))
				free(bytes);
			else
				report_add(rep, xstrdup(e.msg));
		}
		registry_free_strings(files, n_fil);
		files = NULL;
		n_fil = 0;
	}
out:
	registry_free_strings(files, n_fil);
	registry_free_strings(fans, n_fans);
	free(top);
	return ret;
}

/*
 * Every version's artefact file must exist; its bytes are re-hashed by
 * check_store(), so a damaged file is reported once, not per version.
 */
static int check_versions(struct repo *repo, struct report *rep,
			  size_t *n_versions, struct mlops_err *err)
{
	struct reg_version *v = NULL;
	struct stat st;
	size_t n = 0, i;
	char *path;
	int ret;

	if ((ret = registry_list_versions(repo->reg, NULL, &v, &n, err)))
		return ret;
	*n_versions = n;
	for (i = 0; i < n; i++) {
		path = repo_artifact_path(repo, v[i].sha256);
		if (stat(path, &st))
			report_add(rep, xasprintf(
				"%s:%d: artefact sha256:%s is missing (%s)",
				v[i].model, v[i].version, v[i].sha256,
				strerror(errno)));
		free(path);
		reg_version_release(&v[i]);
	}
	free(v);
	return 0;
}

int cmd_verify(int argc, char **argv, struct cmd_ctx *ctx,
	       struct mlops_err *err)
{
	const struct opt opts[] = {
		OPT_END()
	};
	struct report rep = { NULL, 0, 0 };
	char **db_problems = NULL;
	size_t n_db = 0, n_files = 0, n_versions = 0, i;
	int ret, n;
	cJSON *obj, *arr;
	char *s;

	if ((ret = opt_parse(argc, argv, opts, &verify_usage, &n, err)))
		return ret;
	if (n > 0)
		return err_set(err, MLOPS_EUSAGE,
			       "too many operands; usage: %s",
			       verify_synopsis[0]);
	if ((ret = registry_integrity_check(ctx->repo->reg, &db_problems, &n_db,
					    err)))
		goto out;
	for (i = 0; i < n_db; i++) {
		report_add(&rep, db_problems[i]);
		db_problems[i] = NULL;
	}
	if ((ret = check_versions(ctx->repo, &rep, &n_versions, err)) ||
	    (ret = check_store(ctx->repo, &rep, &n_files, err)))
		goto out;

	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddBoolToObject(obj, "ok", rep.n == 0);
		cJSON_AddNumberToObject(obj, "artifacts", (double)n_files);
		cJSON_AddNumberToObject(obj, "versions", (double)n_versions);
		arr = cJSON_AddArrayToObject(obj, "problems");
		for (i = 0; i < rep.n; i++)
			cJSON_AddItemToArray(arr,
				cJSON_CreateString(rep.lines[i]));
		if ((s = cJSON_PrintUnformatted(obj)))
			puts(s);
		cJSON_free(s);
		cJSON_Delete(obj);
	} else {
		for (i = 0; i < rep.n; i++)
			printf("%s\n", rep.lines[i]);
		if (!ctx->quiet && rep.n == 0)
			printf("ok: %zu artefacts and %zu versions verified, "
			       "registry intact\n", n_files, n_versions);
	}
	if (rep.n)
		ret = err_set(err, MLOPS_ECORRUPT, "%zu problem%s found", rep.n,
			      rep.n == 1 ? "" : "s");
out:
	registry_free_strings(db_problems, n_db);
	registry_free_strings(rep.lines, rep.n);
	return ret;
}

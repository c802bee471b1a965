/*
 * The run record (see runrec.h): the one place that knows what a runs
 * row holds beyond the registry's columns -- the clock and git state,
 * the inputs' JSON, and the run profile's format, written by score-batch
 * and read back by `drift --runs`.
 *
 * The git state is best effort: a folder outside git, or a broken
 * repository, simply records no commit rather than failing the command.
 * The profile holds each accumulator's counts on its reference's grid
 * (or per level), its moments and its range: everything drift_test()
 * reads, so a run's drift is judged later without its data.  It is
 * written as cJSON prints numbers (the shortest text that reads back to
 * the same double), so counts and sums come back exact; only the mean
 * stands for the sum.  This file does not decide what a command records
 * (parameters, metrics): the commands and their jobs do; nor does it
 * print.
 */

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "drift.h"
#include "model.h"
#include "repo.h"
#include "runrec.h"
#include "sha256.h"
#include "xalloc.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void runrec_now(char buf[64])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

void runrec_start(struct runrec *rl)
{
	struct mlops_err ignored = MLOPS_ERR_INIT;

	memset(rl, 0, sizeof(*rl));
	rl->start = mono();
	runrec_now(rl->started_at);
	if (gitrepo_state(".", &rl->git, &ignored))
		memset(&rl->git, 0, sizeof(rl->git));
}

double runrec_elapsed(const struct runrec *rl)
{
	return mono() - rl->start;
}

void runrec_stamp(const struct runrec *rl, struct reg_run *run)
{
	run->started_at = rl->started_at;
	run->duration_s = runrec_elapsed(rl);
	run->git_commit = rl->git.found && rl->git.commit[0] ?
			  rl->git.commit : NULL;
	run->git_dirty = rl->git.found ? rl->git.dirty : 0;
}

int runrec_add(struct registry *reg, struct reg_run *run, long long *id,
	       struct mlops_err *err)
{
	return registry_add_run(reg, run, id, err);
}

int runrec_record(struct repo *repo, const struct runrec *rl,
		  struct reg_run *run, long long *id, struct mlops_err *err)
{
	char *model = NULL;
	int ret, version = 0;

	*id = 0;
	if (!repo)
		return 0;
	if (!run->model && run->artifact_sha256 && *run->artifact_sha256) {
		if ((ret = registry_artifact_version(repo->reg,
						     run->artifact_sha256,
						     &model, &version, err)))
			return ret;
		if (model) {
			run->model = model;
			run->version = version;
		}
	}
	runrec_stamp(rl, run);
	if ((ret = registry_begin(repo->reg, err)))
		goto out;
	if ((ret = runrec_add(repo->reg, run, id, err))) {
		registry_rollback(repo->reg);
		goto out;
	}
	ret = registry_commit(repo->reg, err);
out:
	if (model) {
		run->model = NULL;
		run->version = 0;
		free(model);
	}
	return ret;
}

/* cJSON's text, copied so that the caller frees it with free(). */
static char *print_json(cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o), *copy = xstrdup(text);

	cJSON_free(text);
	cJSON_Delete(o);
	return copy;
}

char *runrec_inputs_json(const struct runrec_input *in, size_t n)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", in[i].role);
		cJSON_AddStringToObject(o, "path", in[i].path);
		if (in[i].sha256)
			cJSON_AddStringToObject(o, "sha256", in[i].sha256);
		if (in[i].rows >= 0)
			cJSON_AddNumberToObject(o, "rows", (double)in[i].rows);
		if (in[i].rejected >= 0)
			cJSON_AddNumberToObject(o, "rejected",
						(double)in[i].rejected);
		if (in[i].output)
			cJSON_AddStringToObject(o, "output", in[i].output);
		cJSON_AddItemToArray(arr, o);
	}
	return print_json(arr);
}

/* ---- the run profile ---- */

static void add_counts(cJSON *o, const char *key, const uint64_t *c,
		       size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t k;

	for (k = 0; k < n; k++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)c[k]));
	cJSON_AddItemToObject(o, key, arr);
}

/* One accumulator: enough to rebuild it for drift --runs. */
static cJSON *acc_json(const struct drift_acc *a)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t k;

	drift_acc_flush(a);
	cJSON_AddNumberToObject(o, "count", (double)a->count);
	cJSON_AddNumberToObject(o, "missing", (double)a->missing);
	if (a->count) {
		cJSON_AddNumberToObject(o, "mean", a->sum / (double)a->count);
		cJSON_AddNumberToObject(o, "min", a->min);
		cJSON_AddNumberToObject(o, "max", a->max);
	}
	if (a->le) {
		/* One count per grid position: n_grid + 1 (see drift.c). */
		add_counts(o, "le", a->le, a->n_grid + 1);
		add_counts(o, "lt", a->lt, a->n_grid + 1);
		if (a->insum) {
			arr = cJSON_CreateArray();
			for (k = 0; k <= a->n_grid; k++)
				cJSON_AddItemToArray(arr, cJSON_CreateNumber(a->insum[k]));
			cJSON_AddItemToObject(o, "insum", arr);
		}
		cJSON_AddNumberToObject(o, "below", a->below);
		cJSON_AddNumberToObject(o, "above", a->above);
		cJSON_AddNumberToObject(o, "sumsq", a->sumsq);
	}
	if (a->levels)
		add_counts(o, "levels", a->levels, a->ref->n_levels + 1);
	return o;
}

char *runrec_profile_json(const struct drift_set *set)
{
	cJSON *o = cJSON_CreateObject(), *f = cJSON_CreateObject();
	size_t j;

	for (j = 0; j < set->m->n_features; j++)
		cJSON_AddItemToObject(f, set->m->features[j].name,
				      acc_json(&set->features[j]));
	cJSON_AddItemToObject(o, "features", f);
	cJSON_AddItemToObject(o, "prediction", acc_json(&set->pred));
	return print_json(o);
}

/*
 * A count: absent or not a number reads as 0 (as profiles always have
 * been read); a number that no uint64_t holds is -1, malformed.
 */
static int get_count(const cJSON *v, uint64_t *out)
{
	*out = 0;
	if (!cJSON_IsNumber(v))
		return 0;
	if (!(v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0))
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* The n counts of array `key` of o into dst; -1 if not n counts. */
static int get_counts(const cJSON *o, const char *key, uint64_t *dst,
		      size_t n)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	size_t k = 0;

	if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) != n)
		return -1;
	for (v = v->child; v; v = v->next)
		if (get_count(v, &dst[k++]))
			return -1;
	return 0;
}

static double get_double(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Rebuild an accumulator from its acc_json() object; -1 if malformed. */
static int acc_from_json(struct drift_acc *a, const cJSON *o)
{
	const cJSON *v;
	size_t k;

	if (!cJSON_IsObject(o))
		return -1;
	if (get_count(cJSON_GetObjectItem(o, "count"), &a->count) ||
	    get_count(cJSON_GetObjectItem(o, "missing"), &a->missing))
		return -1;
	a->sum = get_double(o, "mean", 0) * (double)a->count;
	a->min = get_double(o, "min", INFINITY);
	a->max = get_double(o, "max", -INFINITY);
	if (a->le) {
		if (get_counts(o, "le", a->le, a->n_grid + 1) ||
		    get_counts(o, "lt", a->lt, a->n_grid + 1))
			return -1;
		/* Runs recorded before exact grids have no insum: zeros. */
		v = cJSON_GetObjectItem(o, "insum");
		if (a->insum && cJSON_IsArray(v) &&
		    (size_t)cJSON_GetArraySize(v) == a->n_grid + 1) {
			k = 0;
			for (v = v->child; v; v = v->next)
				a->insum[k++] = v->valuedouble;
		}
		a->below = get_double(o, "below", 0);
		a->above = get_double(o, "above", 0);
		a->sumsq = get_double(o, "sumsq", 0);
	}
	if (a->levels &&
	    get_counts(o, "levels", a->levels, a->ref->n_levels + 1))
		return -1;
	return 0;
}

int runrec_profile_read(const struct model *m, const char *json,
			const char *name, struct drift_set *set,
			struct mlops_err *err)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL, *f;
	size_t j;
	int bad = !doc;

	drift_set_init(set, m, NULL, NULL);
	f = doc ? cJSON_GetObjectItem(doc, "features") : NULL;
	for (j = 0; j < m->n_features && !bad; j++)
		bad = acc_from_json(&set->features[j],
				    cJSON_GetObjectItem(f, m->features[j].name));
	if (!bad)
		bad = acc_from_json(&set->pred,
				    cJSON_GetObjectItem(doc, "prediction"));
	cJSON_Delete(doc);
	if (bad)
		return err_set(err, MLOPS_ECORRUPT,
			       "%s: its recorded profile is unreadable", name);
	return 0;
}

int runrec_hash_file(const char *path, char hex[65], struct mlops_err *err)
{
	struct sha256_ctx c;
	unsigned char buf[65536], digest[32];
	struct stat st;
	size_t n;
	FILE *fp;
	int ret = 0;

	hex[0] = '\0';
	if (strcmp(path, "-") && stat(path, &st))
		return err_set(err, MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	if (!strcmp(path, "-") || !S_ISREG(st.st_mode))
		return err_set(err, MLOPS_EUSAGE, "'%s' is not a regular file",
			       path);
	if (!(fp = fopen(path, "rb")))
		return err_set(err, MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	sha256_init(&c);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sha256_update(&c, buf, n);
	if (ferror(fp))
		ret = err_set(err, MLOPS_EIO, "cannot read '%s': %s", path,
			      strerror(errno));
	fclose(fp);
	if (ret)
		return ret;
	sha256_final(&c, digest);
	sha256_to_hex(digest, hex);
	return 0;
}

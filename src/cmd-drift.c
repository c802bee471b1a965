/*
 * mlops drift: compare the data reaching a model with what it was trained
 * on, column by column and for the predictions, and give a verdict.
 *
 * The reference is the artefact's baseline profile, or with --reference
 * a file profiled here in one streaming pass (exact counts and moments,
 * quantiles from a bounded systematic sample).  The current file is streamed: memory is bounded by a
 * block of rows whatever its size.  Categories are compared over the
 * model's levels plus one bucket for anything the model never saw.
 *
 * Verdict: drift when the share of drifted features reaches --drift-share
 * (0.5 by default, as Evidently's dataset rule) or the predictions
 * drifted.  Exit 3 on drift unless --exit-zero.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "drift.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "progress.h"
#include "registry.h"
#include "repo.h"
#include "runlog.h"
#include "score.h"
#include "xalloc.h"

static const char *const synopsis[] = {
	"mlops drift MODEL -i FILE [--reference FILE] [--method METHOD] [--threshold X]",
	"[--drift-share S] [--exit-zero] [--delimiter CHAR] [--encoding ENC]",
	"mlops drift MODEL --runs N [--method METHOD] [--threshold X] [--drift-share S] [--exit-zero]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops drift churn@production -i this-week.csv\n"
	"  mlops drift churn@production -i this-week.csv.gz --method psi --exit-zero\n"
	"  mlops --json drift model.json -i new.csv --reference train.csv\n"
	"  mlops drift churn@production --runs 7\n",
	"Compare new data with the model's training baseline; exit 3 on drift."
};

struct reference {
	struct profile *features;	/* n_features, owned */
	struct profile pred;
	uint64_t rows;
};

static void reference_release(struct reference *r, size_t n)
{
	size_t j;

	if (r->features)
		for (j = 0; j < n; j++)
			profile_release(&r->features[j]);
	free(r->features);
	profile_release(&r->pred);
}

/* Categorical profile over the model's levels plus an "unseen" level. */
static void level_profile(struct profile *p, char *const *levels, size_t n,
			  const uint64_t *counts, uint64_t missing)
{
	size_t k;

	memset(p, 0, sizeof(*p));
	p->kind = PROFILE_CATEGORICAL;
	p->n_levels = n + 1;
	p->levels = xcalloc(n + 1, sizeof(char *));
	p->level_counts = xcalloc(n + 1, sizeof(uint64_t));
	for (k = 0; k <= n; k++) {
		p->levels[k] = xstrdup(k < n ? levels[k] : "(unseen)");
		p->level_counts[k] = counts[k];
		p->count += counts[k];
	}
	p->missing = missing;
}

/*
 * Profiling a reference file in one streaming pass, in bounded memory:
 * counts, missing values, mean, deviation, extremes and category counts
 * are exact; the quantiles come from a systematic sample of at most
 * REF_SAMPLE rows (every stride-th line, the stride doubling as the file
 * grows), which pins the reference CDF to within about 0.01.
 * Column nf of each array is the prediction.
 */
#define REF_SAMPLE 32768

/*
 * The exact part is a drift accumulator against a bare profile (no
 * quantile grid: moments only; or the category list), so the moments
 * are kept by the same code as everywhere else.
 */
struct ref_slot {
	struct drift_acc *st;	/* nf + 1 */
	double *vals;		/* sampled rows x (nf + 1) */
	unsigned long *line;
	size_t n, alloc;
};

struct ref_run {
	const struct model *m;
	size_t nf;
	struct profile *bare;	/* nf + 1 bare reference profiles */
	struct ref_slot *slots;
	size_t n_slots;
	struct drift_acc *total;
	double *vals;
	unsigned long *line;
	size_t n;
	unsigned long stride;
};

static int ref_block(void *arg, size_t slot, const struct score_block *b,
		     struct mlops_err *err)
{
	struct ref_run *rr = arg;
	struct ref_slot *sl = &rr->slots[slot];
	const struct model *m = rr->m;
	size_t nf = rr->nf, w = score_width(m), i, j;

	(void)err;
	for (i = 0; i < b->n; i++) {
		double *row;

		/*
		 * The stride only doubles (in ref_done, which may run
		 * meanwhile), so an older one keeps a superset: ref_done
		 * filters again.
		 */
		if (b->line[i] % __atomic_load_n(&rr->stride, __ATOMIC_RELAXED))
			continue;
		if (sl->n == sl->alloc) {
			sl->alloc = sl->alloc ? 2 * sl->alloc : 1024;
			sl->vals = xreallocarray(sl->vals, sl->alloc,
						 (nf + 1) * sizeof(double));
			sl->line = xreallocarray(sl->line, sl->alloc,
						 sizeof(unsigned long));
		}
		sl->line[sl->n] = b->line[i];
		row = sl->vals + sl->n++ * (nf + 1);
		for (j = 0; j < nf; j++)
			row[j] = b->raw[j * b->ld + i];
		row[nf] = m->task == TASK_MULTICLASS ? NAN : b->pred[i * w];
	}
	for (j = 0; j < nf; j++) {
		if (m->features[j].kind == FEATURE_NUMERIC) {
			drift_acc_numeric_many(&sl->st[j], b->raw + j * b->ld,
					       b->n, 1);
			continue;
		}
		for (i = 0; i < b->n; i++)
			drift_acc_level(&sl->st[j], b->level[j * b->ld + i]);
	}
	for (i = 0; i < b->n; i++) {
		if (m->task == TASK_MULTICLASS)
			drift_acc_level(&sl->st[nf],
					(long)score_argmax(m, b->pred + i * w));
		else
			drift_acc_numeric(&sl->st[nf], b->pred[i]);
	}
	return 0;
}

/* Keep only the sampled rows on the current stride. */
static void ref_thin(struct ref_run *rr)
{
	size_t i, k = 0, c = rr->nf + 1;

	for (i = 0; i < rr->n; i++) {
		if (rr->line[i] % rr->stride)
			continue;
		memmove(rr->vals + k * c, rr->vals + i * c, c * sizeof(double));
		rr->line[k++] = rr->line[i];
	}
	rr->n = k;
}

static int ref_done(void *arg, size_t slot, struct mlops_err *err)
{
	struct ref_run *rr = arg;
	struct ref_slot *sl = &rr->slots[slot];
	size_t i, j, c = rr->nf + 1;

	(void)err;
	for (j = 0; j < c; j++) {
		drift_acc_merge(&rr->total[j], &sl->st[j]);
		drift_acc_clear(&sl->st[j]);
	}
	for (i = 0; i < sl->n; i++) {
		if (sl->line[i] % rr->stride)
			continue;
		if (rr->n == REF_SAMPLE) {
			__atomic_store_n(&rr->stride, rr->stride * 2,
					 __ATOMIC_RELAXED);
			ref_thin(rr);
			if (sl->line[i] % rr->stride)
				continue;
		}
		memcpy(rr->vals + rr->n * c, sl->vals + i * c, c * sizeof(double));
		rr->line[rr->n++] = sl->line[i];
	}
	sl->n = 0;
	return 0;
}

/* Numeric profile: exact moments and extremes, quantiles of the sample. */
static void sampled_profile(struct profile *p, const struct drift_acc *st,
			    const struct ref_run *rr, size_t j)
{
	double *v = xmallocarray(rr->n + 1, sizeof(double)), mean;
	size_t i, k, c = rr->nf + 1;

	for (i = 0; i < rr->n; i++)
		v[i] = rr->vals[i * c + j];
	profile_numeric(p, v, rr->n);
	free(v);
	p->count = st->count;
	p->missing = st->missing;
	if (!st->count)
		return;
	mean = st->sum / (double)st->count;
	p->mean = mean;
	p->std = sqrt(fmax(st->sumsq / (double)st->count - mean * mean, 0));
	p->min = st->min;
	p->max = st->max;
	if (!p->quantiles) {
		/* No sampled value: a straight grid between the extremes. */
		p->quantiles = xmallocarray(PROFILE_QUANTILES + 1, sizeof(double));
		for (k = 0; k <= PROFILE_QUANTILES; k++)
			p->quantiles[k] = st->min + (st->max - st->min) *
					  (double)k / PROFILE_QUANTILES;
		return;
	}
	p->quantiles[0] = st->min;
	p->quantiles[PROFILE_QUANTILES] = st->max;
	for (k = 1; k < PROFILE_QUANTILES; k++)
		p->quantiles[k] = fmin(fmax(p->quantiles[k], st->min), st->max);
}

/* Profile a reference file through the model's encoding. */
static int build_reference(const struct model *m, const char *path,
			   const struct csv_opts *read, struct reference *ref,
			   struct mlops_err *err)
{
	struct ref_run rr = { 0 };
	struct score_stream_opts so = { 0 };
	struct score_stream *ss = NULL;
	size_t nf = m->n_features, c = nf + 1, i, j;
	int ret;

	rr.m = m;
	rr.nf = nf;
	rr.stride = 1;
	/* The reference's hash is recorded nowhere: skip it. */
	so.no_hash = 1;
	so.csv = *read;
	if ((ret = score_stream_open(m, path, &so, &ss, err)))
		return ret;
	/* Bare references: moments only for numbers, the levels for categories. */
	rr.bare = xcalloc(c, sizeof(struct profile));
	for (j = 0; j < c; j++) {
		size_t levels = j == nf ? (m->task == TASK_MULTICLASS ?
					   m->n_classes : 0) :
				m->features[j].kind == FEATURE_CATEGORICAL ?
				m->features[j].n_levels : 0;

		rr.bare[j].kind = levels ? PROFILE_CATEGORICAL : PROFILE_NUMERIC;
		rr.bare[j].n_levels = levels;
	}
	rr.n_slots = score_stream_slots(ss);
	rr.slots = xcalloc(rr.n_slots, sizeof(*rr.slots));
	for (i = 0; i < rr.n_slots; i++) {
		rr.slots[i].st = xcalloc(c, sizeof(struct drift_acc));
		for (j = 0; j < c; j++)
			drift_acc_init(&rr.slots[i].st[j], &rr.bare[j]);
	}
	rr.total = xcalloc(c, sizeof(struct drift_acc));
	for (j = 0; j < c; j++)
		drift_acc_init(&rr.total[j], &rr.bare[j]);
	rr.vals = xmallocarray(REF_SAMPLE, c * sizeof(double));
	rr.line = xmallocarray(REF_SAMPLE, sizeof(unsigned long));
	if ((ret = score_stream_run(ss, ref_block, ref_done, &rr, err)))
		goto out;
	ref->rows = score_stream_rows(ss);
	ref->features = xcalloc(nf + 1, sizeof(struct profile));
	for (j = 0; j < nf; j++) {
		const struct feature *f = &m->features[j];

		if (f->kind == FEATURE_NUMERIC)
			sampled_profile(&ref->features[j], &rr.total[j], &rr, j);
		else
			level_profile(&ref->features[j], f->levels, f->n_levels,
				      rr.total[j].levels, rr.total[j].missing);
	}
	if (m->task == TASK_MULTICLASS) {
		profile_categorical(&ref->pred, NULL, 0, m->classes,
				    m->n_classes);
		for (j = 0; j < m->n_classes; j++) {
			ref->pred.level_counts[j] = rr.total[nf].levels[j];
			ref->pred.count += rr.total[nf].levels[j];
		}
	} else {
		sampled_profile(&ref->pred, &rr.total[nf], &rr, nf);
	}
out:
	score_stream_close(ss);
	for (i = 0; i < rr.n_slots; i++) {
		for (j = 0; rr.slots[i].st && j < c; j++)
			drift_acc_release(&rr.slots[i].st[j]);
		free(rr.slots[i].st);
		free(rr.slots[i].vals);
		free(rr.slots[i].line);
	}
	free(rr.slots);
	for (j = 0; rr.total && j < c; j++)
		drift_acc_release(&rr.total[j]);
	free(rr.total);
	free(rr.bare);
	free(rr.vals);
	free(rr.line);
	return ret;
}

/* Per-chunk accumulators, merged in input order into the total. */
struct drift_run {
	struct drift_set *slots;
	size_t n_slots;
	struct drift_set *total;
	struct score_stream *ss;
	struct progress progress;
};

static int drift_block(void *arg, size_t slot, const struct score_block *b,
		       struct mlops_err *err)
{
	struct drift_run *dr = arg;

	(void)err;
	drift_set_add(&dr->slots[slot], b);
	return 0;
}

static int drift_done(void *arg, size_t slot, struct mlops_err *err)
{
	struct drift_run *dr = arg;

	(void)err;
	drift_set_merge(dr->total, &dr->slots[slot]);
	drift_set_clear(&dr->slots[slot]);
	progress_update(&dr->progress, score_stream_rows(dr->ss),
			score_stream_raw_bytes(dr->ss));
	return 0;
}

static cJSON *result_json(const char *column, const char *type,
			  const struct drift_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "column", column);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "method", drift_method_name(r->method));
	if (isfinite(r->statistic))
		cJSON_AddNumberToObject(o, "statistic", r->statistic);
	else
		cJSON_AddNullToObject(o, "statistic");
	if (isfinite(r->p_value))
		cJSON_AddNumberToObject(o, "p_value", r->p_value);
	else
		cJSON_AddNullToObject(o, "p_value");
	if (isfinite(r->threshold))
		cJSON_AddNumberToObject(o, "threshold", r->threshold);
	if (isfinite(r->psi))
		cJSON_AddNumberToObject(o, "psi", r->psi);
	else
		cJSON_AddNullToObject(o, "psi");
	cJSON_AddNumberToObject(o, "count", (double)r->count);
	cJSON_AddNumberToObject(o, "missing", (double)r->missing);
	cJSON_AddBoolToObject(o, "drift", r->drifted);
	return o;
}

static void print_row(const char *column, const char *type,
		      const struct drift_result *r, int color)
{
	char stat[32] = "-", p[32] = "-", psi[32] = "-";
	const char *verdict = r->drifted ? "DRIFT" : "ok";

	if (isfinite(r->statistic))
		snprintf(stat, sizeof(stat), "%.4f", r->statistic);
	if (isfinite(r->p_value))
		snprintf(p, sizeof(p), "%.3g", r->p_value);
	if (isfinite(r->psi))
		snprintf(psi, sizeof(psi), "%.4f", r->psi);
	printf("  %-20.20s %-11s %-11s %10s %10s %9g %8s  %s%s%s\n", column,
	       type, drift_method_name(r->method), stat, p, r->threshold, psi,
	       color && r->drifted ? "\033[31m" : "", verdict,
	       color && r->drifted ? "\033[0m" : "");
}

/* Rebuild an accumulator from a score-batch run's recorded profile. */
static int acc_from_json(struct drift_acc *a, const cJSON *o)
{
	const cJSON *v;
	size_t k = 0, n;
	uint64_t *dst[2] = { a->le, a->lt };
	const char *keys[2] = { "le", "lt" };
	int t;

	if (!cJSON_IsObject(o))
		return -1;
	v = cJSON_GetObjectItem(o, "count");
	a->count = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
	v = cJSON_GetObjectItem(o, "missing");
	a->missing = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
	v = cJSON_GetObjectItem(o, "mean");
	a->sum = cJSON_IsNumber(v) ? v->valuedouble * (double)a->count : 0;
	v = cJSON_GetObjectItem(o, "min");
	a->min = cJSON_IsNumber(v) ? v->valuedouble : INFINITY;
	v = cJSON_GetObjectItem(o, "max");
	a->max = cJSON_IsNumber(v) ? v->valuedouble : -INFINITY;
	if (a->le) {
		for (t = 0; t < 2; t++) {
			v = cJSON_GetObjectItem(o, keys[t]);
			if (!cJSON_IsArray(v) ||
			    cJSON_GetArraySize(v) != PROFILE_QUANTILES + 2)
				return -1;
			k = 0;
			for (v = v->child; v; v = v->next)
				dst[t][k++] = (uint64_t)v->valuedouble;
		}
		v = cJSON_GetObjectItem(o, "below");
		a->below = cJSON_IsNumber(v) ? v->valuedouble : 0;
		v = cJSON_GetObjectItem(o, "above");
		a->above = cJSON_IsNumber(v) ? v->valuedouble : 0;
		v = cJSON_GetObjectItem(o, "sumsq");
		a->sumsq = cJSON_IsNumber(v) ? v->valuedouble : 0;
	}
	if (a->levels) {
		v = cJSON_GetObjectItem(o, "levels");
		n = a->ref->n_levels + 1;
		if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) != n)
			return -1;
		for (v = v->child; v; v = v->next)
			a->levels[k++] = (uint64_t)v->valuedouble;
	}
	return 0;
}

/*
 * drift --runs N: the last N recorded scoring runs of this version, each
 * tested against the baseline, without re-reading the scored files.  The
 * verdict (and exit code) is the newest run's.
 */
static int drift_runs(struct cmd_ctx *ctx, const struct model *m,
		      const struct modelref_info *info, long n_runs,
		      int method, double threshold, double share,
		      int exit_zero, struct mlops_err *err)
{
	struct reg_run_row *runs = NULL;
	size_t n = 0, i, j, k, nf = m->n_features, used = 0;
	struct drift_result *res = NULL;
	int *verdicts = NULL, *drifted_pred = NULL, ret;
	size_t *n_drift = NULL, *idx = NULL;
	struct drift_set set;

	if (!info->name)
		return err_set(err, MLOPS_EUSAGE,
			       "--runs needs a registry model (NAME, NAME:N or NAME@STAGE), not a file");
	if ((ret = registry_list_runs(ctx->repo->reg, info->name, "score-batch",
				      0, &runs, &n, err)))
		return ret;
	idx = xcalloc(n + 1, sizeof(size_t));
	for (i = 0; i < n && used < (size_t)n_runs; i++)
		if (runs[i].version == info->version && runs[i].profile_json)
			idx[used++] = i;
	if (!used) {
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "%s:%d has no recorded scoring runs to compare",
			      info->name, info->version);
		goto out;
	}
	/* Oldest first, as a time series reads. */
	for (i = 0; i < used / 2; i++) {
		size_t t = idx[i];

		idx[i] = idx[used - 1 - i];
		idx[used - 1 - i] = t;
	}
	res = xcalloc(used * (nf + 1), sizeof(*res));
	verdicts = xcalloc(used, sizeof(int));
	drifted_pred = xcalloc(used, sizeof(int));
	n_drift = xcalloc(used, sizeof(size_t));
	drift_set_init(&set, m, NULL, NULL);
	for (k = 0; k < used; k++) {
		cJSON *o = cJSON_Parse(runs[idx[k]].profile_json), *f;
		int bad = !o;

		drift_set_clear(&set);
		f = o ? cJSON_GetObjectItem(o, "features") : NULL;
		for (j = 0; j < nf && !bad; j++)
			bad = acc_from_json(&set.features[j],
					    cJSON_GetObjectItem(f, m->features[j].name));
		if (!bad)
			bad = acc_from_json(&set.pred, cJSON_GetObjectItem(o, "prediction"));
		cJSON_Delete(o);
		if (bad) {
			drift_set_release(&set);
			ret = err_set(err, MLOPS_ECORRUPT,
				      "run %lld: its recorded profile is unreadable",
				      runs[idx[k]].id);
			goto out;
		}
		for (j = 0; j < nf; j++) {
			drift_test(&set.features[j], (enum drift_method)method,
				   threshold, &res[k * (nf + 1) + j]);
			n_drift[k] += res[k * (nf + 1) + j].drifted;
		}
		drift_test(&set.pred, (enum drift_method)method, threshold,
			   &res[k * (nf + 1) + nf]);
		drifted_pred[k] = res[k * (nf + 1) + nf].drifted;
		verdicts[k] = (nf && n_drift[k] && (double)n_drift[k] >= share * (double)nf) ||
			      drifted_pred[k];
	}
	drift_set_release(&set);

	if (ctx->json) {
		for (k = 0; k < used; k++) {
			cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();

			cJSON_AddNumberToObject(o, "schema", 1);
			cJSON_AddStringToObject(o, "model", info->name);
			cJSON_AddNumberToObject(o, "version", info->version);
			cJSON_AddNumberToObject(o, "run", (double)runs[idx[k]].id);
			cJSON_AddStringToObject(o, "started_at", runs[idx[k]].started_at);
			for (j = 0; j < nf; j++)
				cJSON_AddItemToArray(arr, result_json(m->features[j].name,
					m->features[j].kind == FEATURE_NUMERIC ?
					"numeric" : "categorical", &res[k * (nf + 1) + j]));
			cJSON_AddItemToObject(o, "features", arr);
			cJSON_AddItemToObject(o, "prediction", result_json("prediction",
				m->task == TASK_MULTICLASS ? "categorical" : "numeric",
				&res[k * (nf + 1) + nf]));
			cJSON_AddNumberToObject(o, "drifted_features", (double)n_drift[k]);
			cJSON_AddBoolToObject(o, "drift", verdicts[k]);
			cmd_print_json(o);
		}
	} else if (!ctx->quiet) {
		printf("drift of %s:%d across its last %zu scoring run%s, against the training baseline\n\n",
		       info->name, info->version, used, used == 1 ? "" : "s");
		printf("  %-20s", "column");
		for (k = 0; k < used; k++)
			printf(" %11s", "");
		printf("\n  %-20s", "run");
		for (k = 0; k < used; k++)
			printf(" %11lld", runs[idx[k]].id);
		printf("\n  %-20s", "rows");
		for (k = 0; k < used; k++)
			printf(" %11llu", (unsigned long long)res[k * (nf + 1) + nf].count);
		printf("\n");
		for (j = 0; j <= nf; j++) {
			printf("  %-20.20s", j < nf ? m->features[j].name : "(prediction)");
			for (k = 0; k < used; k++) {
				const struct drift_result *r = &res[k * (nf + 1) + j];
				char cell[32];

				snprintf(cell, sizeof(cell), "%.4f%s", r->statistic,
					 r->drifted ? "*" : " ");
				printf(" %11s", cell);
			}
			printf("\n");
		}
		printf("\n  %-20s", "verdict");
		for (k = 0; k < used; k++)
			printf(" %11s", verdicts[k] ? "DRIFT" : "ok");
		printf("\n\n(* drifted; statistic of %s per column; newest run last)\n",
		       method == DRIFT_AUTO ? "the auto-selected test" :
		       drift_method_name((enum drift_method)method));
	}
	ret = verdicts[used - 1] && !exit_zero ?
	      err_set(err, MLOPS_ECHECK, "drift detected in the newest scoring run (%lld)",
		      runs[idx[used - 1]].id) : 0;
out:
	for (i = 0; i < n; i++)
		reg_run_row_release(&runs[i]);
	free(runs);
	free(idx);
	free(res);
	free(verdicts);
	free(drifted_pred);
	free(n_drift);
	return ret;
}

int cmd_drift(int argc, char **argv, struct cmd_ctx *ctx,
	      struct mlops_err *err)
{
	const char *input = NULL, *reference = NULL, *method_name = "auto";
	double threshold = NAN, share = 0.5;
	int exit_zero = 0;
	long n_runs = 0;
	struct cmd_csv csv = { 0 };
	struct score_stream_opts so = { 0 };
	struct opt opts[] = {
		OPT_STRING('i', "input", &input, "FILE", "the current data (CSV, gzip/zstd/xz detected, - for stdin)"),
		OPT_STRING(0, "reference", &reference, "FILE", "compare with this file instead of the training baseline"),
		OPT_STRING(0, "method", &method_name, "METHOD", "auto, psi, ks, wasserstein, chi2 or js (default auto)"),
		OPT_DOUBLE(0, "threshold", &threshold, "X", "the method's drift threshold (p-value for ks and chi2)"),
		OPT_DOUBLE(0, "drift-share", &share, "S", "dataset drift when this share of features drifted (default 0.5)"),
		OPT_INT(0, "runs", &n_runs, "N", "test the last N recorded scoring runs instead of a file"),
		OPT_BOOL(0, "exit-zero", &exit_zero, "report drift but exit 0"),
		OPT_CSV_READ(&csv),
		OPT_END()
	};
	struct model *m = NULL;
	struct modelref_info info = { 0 };
	struct reference ref = { 0 };
	const struct profile *ref_pred;
	struct drift_set cur = { 0 };
	struct drift_run dr = { 0 };
	struct drift_result *res = NULL, pres;
	struct score_stream *ss = NULL;
	struct runlog rl;
	struct reg_run run = { 0 };
	cJSON *report = NULL, *arr;
	char sha[65] = "", *metrics_text = NULL, *inputs_text = NULL;
	size_t nf = 0, i, j, n_drift = 0;
	int n_args, ret, method, have_cur = 0, verdict;
	long long run_id;
	uint64_t ref_rows;

	runlog_start(&rl);
	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args != 1 || (!input && !n_runs) || (input && n_runs)) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "MODEL and one of -i or --runs are required (see 'mlops drift --help')");
		goto out;
	}
	if (n_runs < 0 || (n_runs && reference)) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--runs takes a positive count and compares with the baseline, not --reference");
		goto out;
	}
	if ((ret = cmd_csv_opts(&csv, &so.csv, err)))
		goto out;
	if ((method = drift_method_parse(method_name)) < 0) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--method expects auto, psi, ks, wasserstein, chi2 or js, got '%s'",
			      method_name);
		goto out;
	}
	if (!isnan(threshold) && !(threshold > 0)) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--threshold must be positive (a p-value for ks and chi2, a distance otherwise)");
		goto out;
	}
	if (!(share >= 0 && share <= 1)) {
		ret = err_set(err, MLOPS_EUSAGE, "--drift-share must be between 0 and 1");
		goto out;
	}
	if ((ret = modelref_load(ctx->repo, argv[0], &m, &info, err)))
		goto out;
	if (n_runs) {
		ret = drift_runs(ctx, m, &info, n_runs, method, threshold, share,
				 exit_zero, err);
		goto out;
	}
	nf = m->n_features;
	if (reference) {
		if ((ret = build_reference(m, reference, &so.csv, &ref, err)))
			goto out;
		ref_pred = &ref.pred;
		ref_rows = ref.rows;
	} else {
		ref_pred = &m->pred_profile;
		ref_rows = m->n_rows;
	}
	drift_set_init(&cur, m, reference ? ref.features : NULL, ref_pred);
	have_cur = 1;
	if ((ret = score_stream_open(m, input, &so, &ss, err)))
		goto out;
	dr.n_slots = score_stream_slots(ss);
	dr.slots = xcalloc(dr.n_slots, sizeof(*dr.slots));
	for (i = 0; i < dr.n_slots; i++)
		drift_set_init_like(&dr.slots[i], &cur);
	dr.total = &cur;
	dr.ss = ss;
	progress_start(&dr.progress, ctx->progress, "read", input);
	ret = score_stream_run(ss, drift_block, drift_done, &dr, err);
	progress_end(&dr.progress);
	if (ret)
		goto out;
	score_stream_sha256(ss, sha);

	res = xcalloc(nf + 1, sizeof(*res));
	for (j = 0; j < nf; j++) {
		drift_test(&cur.features[j], (enum drift_method)method,
			   threshold, &res[j]);
		n_drift += res[j].drifted;
	}
	drift_test(&cur.pred, (enum drift_method)method, threshold, &pres);
	verdict = (nf && (double)n_drift >= share * (double)nf && n_drift) ||
		  pres.drifted;

	report = cJSON_CreateObject();
	cJSON_AddNumberToObject(report, "schema", 1);
	if (info.name) {
		cJSON_AddStringToObject(report, "model", info.name);
		cJSON_AddNumberToObject(report, "version", info.version);
	} else {
		cJSON_AddStringToObject(report, "model_file", argv[0]);
	}
	cJSON_AddStringToObject(report, "input", input);
	cJSON_AddStringToObject(report, "input_sha256", sha);
	cJSON_AddNumberToObject(report, "rows", (double)score_stream_rows(ss));
	cJSON_AddStringToObject(report, "reference",
				reference ? reference : "baseline");
	cJSON_AddNumberToObject(report, "reference_rows", (double)ref_rows);
	arr = cJSON_CreateArray();
	for (j = 0; j < nf; j++)
		cJSON_AddItemToArray(arr, result_json(m->features[j].name,
			m->features[j].kind == FEATURE_NUMERIC ? "numeric" :
			"categorical", &res[j]));
	cJSON_AddItemToObject(report, "features", arr);
	cJSON_AddItemToObject(report, "prediction", result_json("prediction",
		m->task == TASK_MULTICLASS ? "categorical" : "numeric", &pres));
	cJSON_AddNumberToObject(report, "drifted_features", (double)n_drift);
	cJSON_AddNumberToObject(report, "drift_share", share);
	cJSON_AddBoolToObject(report, "drift", verdict);

	if (ctx->repo) {
		cJSON *in = cJSON_CreateArray(), *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "path", input);
		cJSON_AddStringToObject(o, "sha256", sha);
		cJSON_AddNumberToObject(o, "rows", (double)score_stream_rows(ss));
		cJSON_AddItemToArray(in, o);
		inputs_text = cJSON_PrintUnformatted(in);
		cJSON_Delete(in);
		metrics_text = cJSON_PrintUnformatted(report);
		run.kind = "drift";
		run.model = info.name;
		run.version = info.version;
		run.exit_status = verdict && !exit_zero ? 3 : 0;
		run.passed = !verdict;
		run.inputs_json = inputs_text;
		run.metrics_json = metrics_text;
		if ((ret = runlog_record(ctx->repo, &rl, &run, &run_id, err)))
			goto out;
	}

	if (ctx->json) {
		char *text = cJSON_PrintUnformatted(report);

		printf("%s\n", text);
		cJSON_free(text);
	} else if (!ctx->quiet) {
		printf("drift of %s on '%s' (%llu rows) against %s (%llu rows)\n\n",
		       argv[0], input,
		       (unsigned long long)score_stream_rows(ss),
		       reference ? reference : "the training baseline",
		       (unsigned long long)ref_rows);
		printf("  %-20s %-11s %-11s %10s %10s %9s %8s  %s\n", "column",
		       "type", "method", "statistic", "p-value", "threshold",
		       "psi", "verdict");
		for (j = 0; j < nf; j++)
			print_row(m->features[j].name,
				  m->features[j].kind == FEATURE_NUMERIC ?
				  "numeric" : "categorical", &res[j], ctx->color);
		print_row("(prediction)", m->task == TASK_MULTICLASS ?
			  "categorical" : "numeric", &pres, ctx->color);
		printf("\nverdict: %s: %zu of %zu features drifted (rule: share >= %g, or the predictions drifted)%s\n",
		       verdict ? "DRIFT" : "no drift", n_drift, nf, share,
		       pres.drifted ? "; the predictions drifted" : "");
	}
	if (verdict && !exit_zero)
		ret = err_set(err, MLOPS_ECHECK,
			      "drift detected in '%s': %zu of %zu features%s",
			      input, n_drift, nf,
			      pres.drifted ? " and the predictions" : "");
	else
		ret = 0;
out:
	cJSON_Delete(report);
	cJSON_free(metrics_text);
	cJSON_free(inputs_text);
	score_stream_close(ss);
	for (i = 0; dr.slots && i < dr.n_slots; i++)
		drift_set_release(&dr.slots[i]);
	free(dr.slots);
	if (have_cur)
		drift_set_release(&cur);
	free(res);
	reference_release(&ref, nf);
	model_free(m);
	modelref_info_release(&info);
	return ret;
}

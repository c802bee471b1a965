/*
 * mlops drift: compare the data reaching a model with what it was trained
 * on, column by column and for the predictions, and give a verdict.
 *
 * The reference is the artefact's baseline profile, or with --reference
 * a file profiled here (its numeric columns are held in memory to get
 * exact quantiles).  The current file is streamed: memory is bounded by a
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
#include "registry.h"
#include "repo.h"
#include "runlog.h"
#include "score.h"
#include "xalloc.h"

static const char *const synopsis[] = {
	"mlops drift MODEL -i FILE [--reference FILE] [--method METHOD] [--threshold X]",
	"[--drift-share S] [--exit-zero]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops drift churn@production -i this-week.csv\n"
	"  mlops drift churn@production -i this-week.csv.gz --method psi --exit-zero\n"
	"  mlops --json drift model.json -i new.csv --reference train.csv\n",
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

/* Profile a reference file through the model's encoding. */
static int build_reference(const struct model *m, const char *path,
			   struct reference *ref, struct mlops_err *err)
{
	size_t nf = m->n_features, w = score_width(m), i, j, n = 0, alloc = 0;
	double **vals = xcalloc(nf + 1, sizeof(double *)), *pred = NULL;
	uint64_t **counts = xcalloc(nf + 1, sizeof(uint64_t *));
	uint64_t *missing = xcalloc(nf + 1, sizeof(uint64_t));
	uint64_t *pcounts = xcalloc(m->n_classes + 2, sizeof(uint64_t));
	struct score_stream *ss = NULL;
	struct score_block b;
	int ret;

	for (j = 0; j < nf; j++)
		if (m->features[j].kind == FEATURE_CATEGORICAL)
			counts[j] = xcalloc(m->features[j].n_levels + 1,
					    sizeof(uint64_t));
	if ((ret = score_stream_open(m, path, &ss, err)))
		goto out;
	for (;;) {
		if ((ret = score_stream_next(ss, &b, err)))
			goto out;
		if (!b.n)
			break;
		if (n + b.n > alloc) {
			alloc = 2 * (n + b.n);
			for (j = 0; j < nf; j++)
				if (!counts[j])
					vals[j] = xreallocarray(vals[j], alloc,
								sizeof(double));
			pred = xreallocarray(pred, alloc, sizeof(double));
		}
		for (i = 0; i < b.n; i++, n++) {
			for (j = 0; j < nf; j++) {
				int32_t lv = b.level[i * nf + j];

				if (!counts[j])
					vals[j][n] = b.raw[i * nf + j];
				else if (lv == -1)
					missing[j]++;
				else if (lv < 0)
					counts[j][m->features[j].n_levels]++;
				else
					counts[j][lv]++;
			}
			if (m->task == TASK_MULTICLASS)
				pcounts[score_argmax(m, b.pred + i * w)]++;
			else
				pred[n] = b.pred[i];
		}
	}
	ref->rows = n;
	ref->features = xcalloc(nf + 1, sizeof(struct profile));
	for (j = 0; j < nf; j++) {
		const struct feature *f = &m->features[j];

		if (!counts[j])
			profile_numeric(&ref->features[j], vals[j], n);
		else
			level_profile(&ref->features[j], f->levels,
				      f->n_levels, counts[j], missing[j]);
	}
	if (m->task == TASK_MULTICLASS) {
		profile_categorical(&ref->pred, NULL, 0, m->classes,
				    m->n_classes);
		for (j = 0; j < m->n_classes; j++) {
			ref->pred.level_counts[j] = pcounts[j];
			ref->pred.count += pcounts[j];
		}
	} else {
		profile_numeric(&ref->pred, pred, n);
	}
out:
	score_stream_close(ss);
	for (j = 0; j < nf; j++) {
		free(vals[j]);
		free(counts[j]);
	}
	free(vals);
	free(counts);
	free(missing);
	free(pred);
	free(pcounts);
	return ret;
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

int cmd_drift(int argc, char **argv, struct cmd_ctx *ctx,
	      struct mlops_err *err)
{
	const char *input = NULL, *reference = NULL, *method_name = "auto";
	double threshold = NAN, share = 0.5;
	int exit_zero = 0;
	struct opt opts[] = {
		OPT_STRING('i', "input", &input, "FILE", "the current data (CSV, gzip/zstd/xz detected, - for stdin)"),
		OPT_STRING(0, "reference", &reference, "FILE", "compare with this file instead of the training baseline"),
		OPT_STRING(0, "method", &method_name, "METHOD", "auto, psi, ks, wasserstein, chi2 or js (default auto)"),
		OPT_DOUBLE(0, "threshold", &threshold, "X", "the method's drift threshold (p-value for ks and chi2)"),
		OPT_DOUBLE(0, "drift-share", &share, "S", "dataset drift when this share of features drifted (default 0.5)"),
		OPT_BOOL(0, "exit-zero", &exit_zero, "report drift but exit 0"),
		OPT_END()
	};
	struct model *m = NULL;
	struct modelref_info info = { 0 };
	struct reference ref = { 0 };
	const struct profile *ref_pred;
	struct drift_acc *acc = NULL, pacc;
	struct drift_result *res = NULL, pres;
	struct score_stream *ss = NULL;
	struct score_block b;
	struct runlog rl;
	struct reg_run run = { 0 };
	cJSON *report = NULL, *arr;
	char sha[65] = "", *metrics_text = NULL, *inputs_text = NULL;
	size_t nf = 0, i, j, n_drift = 0, w;
	int n_args, ret, method, have_pacc = 0, verdict;
	long long run_id;
	uint64_t ref_rows;

	runlog_start(&rl);
	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args != 1 || !input) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "MODEL and -i are required (see 'mlops drift --help')");
		goto out;
	}
	if ((method = drift_method_parse(method_name)) < 0) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--method expects auto, psi, ks, wasserstein, chi2 or js, got '%s'",
			      method_name);
		goto out;
	}
	if (!(share >= 0 && share <= 1)) {
		ret = err_set(err, MLOPS_EUSAGE, "--drift-share must be between 0 and 1");
		goto out;
	}
	if ((ret = modelref_load(ctx->repo, argv[0], &m, &info, err)))
		goto out;
	nf = m->n_features;
	w = score_width(m);
	if (reference) {
		if ((ret = build_reference(m, reference, &ref, err)))
			goto out;
		ref_pred = &ref.pred;
		ref_rows = ref.rows;
	} else {
		ref_pred = &m->pred_profile;
		ref_rows = m->n_rows;
	}
	acc = xcalloc(nf + 1, sizeof(*acc));
	for (j = 0; j < nf; j++)
		drift_acc_init(&acc[j], reference ? &ref.features[j] :
			       &m->features[j].profile);
	drift_acc_init(&pacc, ref_pred);
	have_pacc = 1;
	if ((ret = score_stream_open(m, input, &ss, err)))
		goto out;
	for (;;) {
		if ((ret = score_stream_next(ss, &b, err)))
			goto out;
		if (!b.n)
			break;
		for (i = 0; i < b.n; i++) {
			for (j = 0; j < nf; j++) {
				int32_t lv = b.level[i * nf + j];

				if (m->features[j].kind == FEATURE_NUMERIC)
					drift_acc_numeric(&acc[j], b.raw[i * nf + j]);
				else
					drift_acc_level(&acc[j], lv == -2 ?
						(long)m->features[j].n_levels : lv);
			}
			if (m->task == TASK_MULTICLASS)
				drift_acc_level(&pacc, (long)score_argmax(m, b.pred + i * w));
			else
				drift_acc_numeric(&pacc, b.pred[i]);
		}
	}
	score_stream_sha256(ss, sha);

	res = xcalloc(nf + 1, sizeof(*res));
	for (j = 0; j < nf; j++) {
		drift_test(&acc[j], (enum drift_method)method, threshold, &res[j]);
		n_drift += res[j].drifted;
	}
	drift_test(&pacc, (enum drift_method)method, threshold, &pres);
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
	if (acc)
		for (j = 0; j < nf; j++)
			drift_acc_release(&acc[j]);
	free(acc);
	if (have_pacc)
		drift_acc_release(&pacc);
	free(res);
	reference_release(&ref, nf);
	model_free(m);
	modelref_info_release(&info);
	return ret;
}

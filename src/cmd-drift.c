/*
 * mlops drift: compare the data reaching a model with what it was trained
 * on, column by column and for the predictions, and give a verdict.
 *
 * This file parses the options, makes one call into the monitoring job
 * (monitor.c: loading MODEL, the reference, the streaming, the tests, the
 * data-quality signals, the verdict and the run record) and prints the
 * table or the JSON report from the typed result it returns; with --runs,
 * the same call tests the recorded scoring runs and this file prints them
 * side by side.
 *
 * Exit 3 on drift unless --exit-zero; exit 5 on input that cannot be
 * judged (see mlops-drift(1)).
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "drift.h"
#include "model.h"
#include "monitor.h"
#include "opt.h"

static const char *const synopsis[] = {
	"mlops drift MODEL -i FILE [--reference FILE] [--method METHOD] [--threshold X]",
	"[--drift-share S] [--na-values TOKENS] [--exit-zero] [--delimiter CHAR] [--encoding ENC]",
	"[--reference-delimiter CHAR]",
	"mlops drift MODEL --runs N [--method METHOD] [--threshold X] [--drift-share S] [--exit-zero]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops drift churn@production -i this-week.csv\n"
	"  mlops drift churn@production -i this-week.csv.gz --method psi --exit-zero\n"
	"  mlops --json drift model.json -i new.csv --reference train.csv\n"
	"  mlops drift churn@production --runs 7\n",
	"Compare new data with the model's training baseline (or a reference file):\n"
	"per-feature drift statistics as SciPy computes them, data-quality signals\n"
	"(missing, unseen categories, out of range) and a verdict; exit 3 on drift,\n"
	"5 on data that cannot be judged (an empty column or file)."
};

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

/* "12.3% (4.5%)": a current share and the reference's. */
static void shares(char *buf, size_t size, double cur, double ref)
{
	snprintf(buf, size, "%.1f%% (%.1f%%)", 100 * cur, 100 * ref);
}

/* The data-quality row: the current shares, the reference's, a signal. */
static void print_quality_row(const char *column, const struct drift_result *r,
			      int color)
{
	char miss[48], nw[64], sig[64] = "";
	int numeric = isfinite(r->outside_share);

	shares(miss, sizeof(miss), r->missing_share, r->ref_missing_share);
	snprintf(nw, sizeof(nw), "%s ", numeric ? "out of range" : "unseen");
	shares(nw + strlen(nw), sizeof(nw) - strlen(nw),
	       numeric ? r->outside_share : r->unseen_share,
	       numeric ? r->ref_outside_share : r->ref_unseen_share);
	if (r->quality & DRIFT_Q_MISSING)
		strcat(sig, "MISSING ");
	if (r->quality & DRIFT_Q_UNSEEN)
		strcat(sig, "UNSEEN ");
	if (r->quality & DRIFT_Q_OUTSIDE)
		strcat(sig, "RANGE ");
	if (*sig)
		sig[strlen(sig) - 1] = 0;
	printf("  %-20.20s %-18s %-28s %s%s%s\n", column, miss, nw,
	       color && *sig ? "\033[31m" : "", *sig ? sig : "ok",
	       color && *sig ? "\033[0m" : "");
}

/* The JSON report of each run, one line each, oldest first. */
static void print_runs_json(const struct model *m, const char *name,
			    int version, const struct drift_run_report *runs,
			    size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "schema", 1);
		cJSON_AddStringToObject(o, "model", name);
		cJSON_AddNumberToObject(o, "version", version);
		cJSON_AddNumberToObject(o, "run", (double)runs[k].run);
		cJSON_AddStringToObject(o, "started_at", runs[k].started_at);
		monitor_results_json(o, m, &runs[k].report);
		cJSON_AddBoolToObject(o, "drift", runs[k].report.verdict);
		cmd_print_json(o);
	}
}

/* The runs side by side: a column per run, a row per feature. */
static void print_runs(const struct model *m, const char *name, int version,
		       const struct drift_run_report *runs, size_t n,
		       enum drift_method method)
{
	size_t j, k, nf = m->n_features;

	printf("drift of %s:%d across its last %zu scoring run%s, against the training baseline\n\n",
	       name, version, n, n == 1 ? "" : "s");
	printf("  %-20s", "column");
	for (k = 0; k < n; k++)
		printf(" %11s", "");
	printf("\n  %-20s", "run");
	for (k = 0; k < n; k++)
		printf(" %11lld", runs[k].run);
	printf("\n  %-20s", "rows");
	for (k = 0; k < n; k++)
		printf(" %11llu", (unsigned long long)runs[k].report.rows);
	printf("\n");
	for (j = 0; j <= nf; j++) {
		printf("  %-20.20s", j < nf ? m->features[j].name : "(prediction)");
		for (k = 0; k < n; k++) {
			const struct drift_result *r = j < nf ?
				&runs[k].report.features[j] : &runs[k].report.pred;
			char cell[32];

			if (isfinite(r->statistic))
				snprintf(cell, sizeof(cell), "%.4f%s",
					 r->statistic, r->drifted ? "*" :
					 r->quality ? "!" : " ");
			else
				snprintf(cell, sizeof(cell), "- ");
			printf(" %11s", cell);
		}
		printf("\n");
	}
	printf("\n  %-20s", "verdict");
	for (k = 0; k < n; k++)
		printf(" %11s", runs[k].report.verdict ? "DRIFT" : "ok");
	printf("\n\n(* drifted, ! a data-quality signal; statistic of %s per column; newest run last)\n",
	       method == DRIFT_AUTO ? "the auto-selected test" :
	       drift_method_name(method));
}

static void print_report(const struct model *m, const char *model,
			 const char *input, const char *against,
			 const struct drift_report *r, double share, int color)
{
	const struct drift_result *res = r->features, *pres = &r->pred;
	size_t j, nf = m->n_features, n_drift = r->n_drift;
	size_t n_quality = r->n_quality;
	uint64_t rows = r->rows, ref_rows = r->ref_rows;
	int verdict = r->verdict;
	double err = 0;

	printf("drift of %s on '%s' (%llu rows) against %s (%llu rows)\n\n",
	       model, input, (unsigned long long)rows, against,
	       (unsigned long long)ref_rows);
	printf("  %-20s %-11s %-11s %10s %10s %9s %8s  %s\n", "column",
	       "type", "method", "statistic", "p-value", "threshold",
	       "psi", "verdict");
	for (j = 0; j < nf; j++) {
		print_row(m->features[j].name,
			  m->features[j].kind == FEATURE_NUMERIC ?
			  "numeric" : "categorical", &res[j], color);
		if (res[j].method == DRIFT_KS && res[j].error > err)
			err = res[j].error;
	}
	print_row("(prediction)", m->task == TASK_MULTICLASS ?
		  "categorical" : "numeric", pres, color);
	if (pres->method == DRIFT_KS && pres->error > err)
		err = pres->error;
	printf("\ndata quality (share of the current values, the reference's in brackets):\n");
	printf("  %-20s %-18s %-28s %s\n", "column", "missing",
	       "unseen or out of range", "signal");
	for (j = 0; j < nf; j++)
		print_quality_row(m->features[j].name, &res[j], color);
	if (err > 0)
		printf("\nks on a sketch of the reference: D is within %.4f of the exact value; the verdict is taken at D - %.4f\n",
		       err, err);
	printf("\nverdict: %s: %zu of %zu features drifted, %zu data-quality signal%s (rule: drifted share >= %g, the predictions drifted, or any data-quality signal)%s\n",
	       verdict ? "DRIFT" : "no drift", n_drift, nf, n_quality,
	       n_quality == 1 ? "" : "s", share,
	       !pres->drifted ? "" : verdict ?
	       "; the predictions drifted" :
	       "; the predictions' drift stays within the bound over all the tests (see mlops-drift(1))");
	for (j = 0; j < nf; j++)
		if (res[j].time_axis)
			printf("%s: a timestamp's place in time, reported but not counted in the verdict\n",
			       m->features[j].name);
}

/* The option checks opt_parse() cannot make. */
static int check_opts(int n_args, const char *input, long n_runs,
		      const char *reference, const char *method_name,
		      int *method, double threshold, double share,
		      struct mlops_err *err)
{
	if (n_args != 1 || (!input && !n_runs) || (input && n_runs))
		return err_set(err, MLOPS_EUSAGE,
			       "MODEL and one of -i or --runs are required (see 'mlops drift --help')");
	if (n_runs < 0 || (n_runs && reference))
		return err_set(err, MLOPS_EUSAGE,
			       "--runs takes a positive count and compares with the baseline, not --reference");
	if ((*method = drift_method_parse(method_name)) < 0)
		return err_set(err, MLOPS_EUSAGE,
			       "--method expects auto, psi, ks, wasserstein, chi2 or js, got '%s'",
			       method_name);
	if (!isnan(threshold) && !(threshold > 0))
		return err_set(err, MLOPS_EUSAGE,
			       "--threshold must be positive (a p-value for ks and chi2, a distance otherwise)");
	if (!(share >= 0 && share <= 1))
		return err_set(err, MLOPS_EUSAGE, "--drift-share must be between 0 and 1");
	return 0;
}

int cmd_drift(int argc, char **argv, struct cmd_ctx *ctx,
	      struct mlops_err *err)
{
	const char *input = NULL, *reference = NULL, *method_name = "auto";
	double threshold = NAN, share = 0.5;
	int exit_zero = 0;
	long n_runs = 0;
	struct opt_list na = { 0 };
	struct cmd_csv csv = { 0 };
	const char *ref_delimiter = NULL;
	struct opt opts[] = {
		OPT_STRING('i', "input", &input, "FILE", "the current data (CSV, gzip/zstd/xz detected, - for stdin)"),
		OPT_STRING(0, "reference", &reference, "FILE", "compare with this file instead of the training baseline"),
		OPT_STRING(0, "method", &method_name, "METHOD", "auto, psi, ks, wasserstein, chi2 or js (default auto)"),
		OPT_DOUBLE(0, "threshold", &threshold, "X", "the method's drift threshold (p-value for ks and chi2)"),
		OPT_DOUBLE(0, "drift-share", &share, "S", "dataset drift when this share of features drifted (default 0.5)"),
		OPT_INT(0, "runs", &n_runs, "N", "test the last N recorded scoring runs instead of a file"),
		OPT_CSV(0, "na-values", &na, "TOKENS", "also read these values as missing (besides the model's)"),
		OPT_BOOL(0, "exit-zero", &exit_zero, "report drift but exit 0"),
		OPT_CSV_READ(&csv),
		OPT_STRING(0, "reference-delimiter", &ref_delimiter, "CHAR", "the reference file's field separator, if not --delimiter's"),
		OPT_END()
	};
	struct monitor_opts mo = { 0 };
	struct monitor_result res = { 0 };
	const struct model *m;
	const struct drift_run_report *newest;
	int n_args, ret, method = 0;

	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)) ||
	    (ret = check_opts(n_args, input, n_runs, reference, method_name,
			      &method, threshold, share, err)) ||
	    (ret = cmd_csv_opts(&csv, &mo.csv, err)))
		goto out;
	if (ref_delimiter && !reference) {
		ret = err_set(err, MLOPS_EUSAGE, "--reference-delimiter needs --reference");
		goto out;
	}
	mo.ref_csv = mo.csv;
	mo.ref_csv.delimiter_flag = "--reference-delimiter";
	if (ref_delimiter &&
	    (ret = csv_parse_delimiter(ref_delimiter, &mo.ref_csv.delimiter, err)))
		goto out;
	mo.model = argv[0];
	mo.runs = n_runs;
	mo.input = input;
	mo.reference = reference;
	mo.method = (enum drift_method)method;
	mo.threshold = threshold;
	mo.share = share;
	mo.progress = ctx->progress;
	mo.na_values = na.items;
	mo.n_na_values = na.n;
	mo.repo = ctx->repo;
	mo.exit_zero = exit_zero;
	if ((ret = monitor_drift(&mo, &res, err)))
		goto out;
	m = res.model;
	if (n_runs) {
		/* The verdict (and exit code) is the newest run's. */
		if (ctx->json)
			print_runs_json(m, res.info.name, res.info.version,
					res.runs, res.n_runs);
		else if (!ctx->quiet)
			print_runs(m, res.info.name, res.info.version,
				   res.runs, res.n_runs, mo.method);
		newest = &res.runs[res.n_runs - 1];
		if (newest->report.verdict && !exit_zero)
			ret = err_set(err, MLOPS_ECHECK, "drift detected in the newest scoring run (%lld)",
				      newest->run);
		goto out;
	}
	if (ctx->json)
		cmd_print_json(monitor_report_json(m, &res.opts, &res.report));
	else if (!ctx->quiet)
		print_report(m, argv[0], input,
			     reference ? reference : "the training baseline",
			     &res.report, share, ctx->color);
	if (res.report.verdict && !exit_zero)
		ret = err_set(err, MLOPS_ECHECK,
			      "drift detected in '%s': %zu of %zu features%s%s",
			      input, res.report.n_drift, m->n_features,
			      res.report.pred.drifted ? " and the predictions" : "",
			      res.report.n_quality ? ", with data-quality signals" : "");
out:
	monitor_result_release(&res);
	opt_list_release(&na);
	return ret;
}

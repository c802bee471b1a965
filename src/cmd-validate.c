/*
 * mlops validate: compute metrics of a model on labelled data, apply the
 * gates, optionally compare with another model on the same rows, and
 * record the result against the version.  Exit 0 when every gate passes,
 * 3 when one fails: a CI step can gate on the exit code alone.
 *
 * Labels are matched to the model's classes by exact text, or by value
 * when both are numbers ("1.0" is class "1").  Rows without a label are
 * skipped; a label the model never saw is bad input (exit 5).  The work
 * is validation.c's; this file parses options and prints its result.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

#include "cmd.h"
#include "gate.h"
#include "opt.h"
#include "validation.h"

static const char *const synopsis[] = {
	"mlops validate MODEL --data FILE [--min METRIC=V]... [--max METRIC=V]...",
	"[--against MODEL [--min-delta METRIC=D]...] [--max-latency-us N] [--max-size BYTES]",
	"[--na-values TOKENS] [--delimiter CHAR] [--encoding ENC]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops validate churn:7 --data holdout.csv --min auc=0.80\n"
	"  mlops validate churn:7 --data holdout.csv --against churn@production --min-delta auc=0.01\n"
	"  mlops --json validate model.json --data test.csv --max logloss=0.4 --max-latency-us 50\n",
	"Compute metrics on labelled data and gate on them; exit 3 when a gate fails."
};

static const char *verdict_word(int pass, int color)
{
	if (!color)
		return pass ? "pass" : "FAIL";
	return pass ? "\033[32mpass\033[0m" : "\033[31mFAIL\033[0m";
}

/* A number of the table, or "n/a" for an undefined one. */
static void print_value(const char *fmt, double v, int undefined)
{
	if (undefined)
		printf(" %12s", "n/a");
	else
		printf(fmt, v);
}

static void print_table(const struct validation *v, const char *model,
			const char *data, int against, int color)
{
	size_t i;

	printf("validated %s on %llu rows of '%s'\n", model,
	       (unsigned long long)v->model.rows, data);
	printf("\n  %-12s %12s", "metric", "value");
	if (against)
		printf(" %12s %12s", "champion", "improvement");
	printf("\n");
	for (i = 0; i < v->n_table; i++) {
		const struct validation_metric *t = &v->table[i];

		/* An undefined metric: n/a, and why after the columns. */
		printf("  %-12s", t->name);
		print_value(" %12.6f", t->value, isnan(t->value));
		if (against) {
			print_value(" %12.6f", t->champion, isnan(t->champion));
			print_value(" %+12.6f", t->improvement,
				    isnan(t->value) || isnan(t->champion));
		}
		if (t->note[0])
			printf(" (%s)", t->note);
		printf("\n");
	}
	printf("  %-12s %12.3f\n", "latency_us", v->model.latency_us);
	printf("  %-12s %12lld\n", "size", v->model.info.size);
	if (v->n_gates)
		printf("\ngates:\n");
	for (i = 0; i < v->n_gates; i++) {
		const struct gate_result *g = &v->gates[i];
		double shown = gate_result_shown(g);
		char val[96];

		if (isfinite(shown))
			snprintf(val, sizeof(val), "%.6g", shown);
		else
			snprintf(val, sizeof(val), "n/a (%s)",
				 gate_result_reason(g));
		printf("  %-4s %s %-10s %-12s %g (value %s)\n",
		       verdict_word(g->passed, color), "",
		       gate_rule_name(g->rule), g->metric, g->threshold, val);
	}
	printf("\nverdict: %s\n", v->passed ? "pass" : "FAIL");
}

int cmd_validate(int argc, char **argv, struct cmd_ctx *ctx,
		 struct mlops_err *err)
{
	struct validation_opts vo = { 0 };
	struct opt_list mins = { 0 }, maxs = { 0 }, deltas = { 0 }, na = { 0 };
	struct cmd_csv csv = { 0 };
	struct opt opts[] = {
		OPT_STRING('d', "data", &vo.data, "FILE", "labelled CSV holding the model's features and target"),
		OPT_LIST(0, "min", &mins, "METRIC=V", "fail unless METRIC >= V (repeatable)"),
		OPT_LIST(0, "max", &maxs, "METRIC=V", "fail unless METRIC <= V (repeatable)"),
		OPT_STRING(0, "against", &vo.against, "MODEL", "compare with this model (the champion) on the same rows"),
		OPT_LIST(0, "min-delta", &deltas, "METRIC=D", "fail unless the improvement over --against is >= D"),
		OPT_DOUBLE(0, "max-latency-us", &vo.max_latency_us, "N", "fail if scoring takes more than N microseconds per row"),
		OPT_DOUBLE(0, "max-size", &vo.max_size, "BYTES", "fail if the artefact is larger than BYTES"),
		OPT_CSV(0, "na-values", &na, "TOKENS", "also read these values as missing (besides the model's)"),
		OPT_CSV_READ(&csv),
		OPT_END()
	};
	struct validation v = { 0 };
	int n_args, ret;

	vo.max_latency_us = vo.max_size = -1;
	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args != 1 || !vo.data) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "MODEL and --data are required (see 'mlops validate --help')");
		goto out;
	}
	if ((ret = cmd_csv_opts(&csv, &vo.csv, err)))
		goto out;
	vo.model = argv[0];
	vo.min = mins.items;
	vo.n_min = mins.n;
	vo.max = maxs.items;
	vo.n_max = maxs.n;
	vo.min_delta = deltas.items;
	vo.n_min_delta = deltas.n;
	vo.na_values = na.items;
	vo.n_na_values = na.n;
	if ((ret = validation_run(ctx->repo, &vo, &v, err)))
		goto out;
	if (ctx->json) {
		char *text = cJSON_PrintUnformatted(v.report);

		printf("%s\n", text);
		cJSON_free(text);
	} else if (!ctx->quiet) {
		print_table(&v, vo.model, vo.data, vo.against != NULL,
			    ctx->color);
	}
	ret = v.passed ? 0 : err_set(err, MLOPS_ECHECK, "%s", v.failure);
out:
	validation_release(&v);
	opt_list_release(&mins);
	opt_list_release(&maxs);
	opt_list_release(&na);
	opt_list_release(&deltas);
	return ret;
}

/*
 * mlops score-batch: score a CSV with a model and write the predictions.
 *
 * Built for cron: silent on success, one stderr line and a non-zero exit
 * on failure, and never a half-written output file (the output, the
 * reject file and the metrics file are each replaced atomically, and only
 * when the run succeeds).  Memory is bounded by one block of rows.  With
 * a repository, the run is recorded with a profile of the inputs and the
 * predictions on the model's baseline grid, for `drift --runs`.
 *
 * This file parses the options and prints; the job, from loading MODEL
 * on, is batch.c's.
 */

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "cmd.h"
#include "model.h"
#include "opt.h"

static const char *const synopsis[] = {
	"mlops score-batch MODEL -i FILE|- -o FILE|- [--keep COLS | --keep-all]",
	"[--threads N] [--shard I/N|auto] [--max-errors N] [--reject-file FILE]",
	"[--metrics-file FILE] [--na-values TOKENS] [--delimiter CHAR] [--encoding ENC]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops score-batch churn@production -i customers.csv -o scores.csv --keep id\n"
	"  mlops score-batch churn:3 -i week.csv.gz -o - --keep-all | head\n"
	"  mlops score-batch model.json -i in.csv -o out.csv --max-errors 100 --reject-file bad.csv\n"
	"  mlops -C /srv/churn score-batch churn@production -i in.csv -o out.csv --metrics-file /var/lib/node_exporter/churn.prom\n"
	"  mlops score-batch churn@production -i big.csv -o part-$JOB_COMPLETION_INDEX.csv --shard auto\n",
	"Score a CSV file with a model and write one prediction per row."
};

/* The warnings of a run that scored, on stderr (unless -q). */
static void print_warnings(const struct model *m, const struct batch_result *r,
			   const char *reject_path)
{
	size_t j;

	for (j = 0; j < r->n_features; j++) {
		uint64_t u = r->unseen[j];

		if (u)
			err_warn("mlops score-batch: warning: %llu value%s of '%s' %s categories never seen in training (scored as all-zero)",
				(unsigned long long)u, u == 1 ? "" : "s",
				m->features[j].name, u == 1 ? "was a" : "were");
	}
	if (r->rejected)
		err_warn("mlops score-batch: warning: skipped %llu bad row%s%s%s",
			(unsigned long long)r->rejected,
			r->rejected == 1 ? "" : "s",
			reject_path ? "; see " : "", reject_path ? reject_path : "");
}

static void print_json(const struct batch_opts *o,
		       const struct batch_result *r)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddNumberToObject(obj, "schema", 1);
	if (r->info.name) {
		cJSON_AddStringToObject(obj, "model", r->info.name);
		cJSON_AddNumberToObject(obj, "version", r->info.version);
	}
	cJSON_AddStringToObject(obj, "input", o->input);
	cJSON_AddStringToObject(obj, "input_sha256", r->input_sha256);
	cJSON_AddStringToObject(obj, "output", o->output);
	cJSON_AddStringToObject(obj, "output_sha256", r->output_sha256);
	cJSON_AddNumberToObject(obj, "rows", (double)r->rows);
	cJSON_AddNumberToObject(obj, "rejected", (double)r->rejected);
	cJSON_AddNumberToObject(obj, "seconds", r->seconds);
	cmd_print_json(obj);
}

int cmd_score_batch(int argc, char **argv, struct cmd_ctx *ctx,
		    struct mlops_err *err)
{
	struct batch_opts bo = { 0 };
	struct opt_list keep = { 0 }, na = { 0 };
	long max_errors = 0, threads = 0;
	struct cmd_csv csv = { 0 };
	struct opt opts[] = {
		OPT_STRING('i', "input", &bo.input, "FILE", "CSV to score (gzip/zstd/xz detected), or - for stdin"),
		OPT_STRING('o', "output", &bo.output, "FILE", "where to write the predictions, or - for stdout"),
		OPT_CSV(0, "keep", &keep, "COLS", "copy these input columns into the output (e.g. an id)"),
		OPT_BOOL(0, "keep-all", &bo.keep_all, "copy every input column into the output"),
		OPT_INT(0, "threads", &threads, "N", "threads to score with (default: online CPUs)"),
		OPT_STRING(0, "shard", &bo.shard, "I/N|auto", "score only shard I (0-based) of N of a plain file"),
		OPT_INT(0, "max-errors", &max_errors, "N", "skip up to N bad rows instead of stopping (default 0)"),
		OPT_STRING(0, "reject-file", &bo.reject_path, "FILE", "write skipped rows with their reason here"),
		OPT_STRING(0, "metrics-file", &bo.metrics_path, "FILE", "write Prometheus metrics here on success"),
		OPT_CSV(0, "na-values", &na, "TOKENS", "also read these values as missing (besides the model's)"),
		OPT_CSV_READ(&csv),
		OPT_END()
	};
	struct batch_result r = { 0 };
	int n_args, ret;

	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args != 1 || !bo.input || !bo.output)
		ret = err_set(err, MLOPS_EUSAGE, n_args > 1 ?
			      "expected one MODEL, got %d arguments" :
			      "MODEL, -i and -o are required (see 'mlops score-batch --help')",
			      n_args);
	else if (bo.keep_all && keep.n)
		ret = err_set(err, MLOPS_EUSAGE, "--keep and --keep-all cannot be used together");
	else if (max_errors < 0)
		ret = err_set(err, MLOPS_EUSAGE, "--max-errors must not be negative");
	else if (!strcmp(bo.output, "-") && ctx->json)
		ret = err_set(err, MLOPS_EUSAGE, "--json needs stdout; write the predictions to a file with -o");
	if (ret)
		goto out;
	bo.model = argv[0];
	bo.keep = keep.items;
	bo.n_keep = keep.n;
	bo.max_errors = (uint64_t)max_errors;
	bo.progress = ctx->progress;
	/* Checked by the job, after the model loads: a negative count
	 * wraps past its upper bound. */
	bo.stream.threads = (size_t)threads;
	bo.stream.na_values = na.items;
	bo.stream.n_na_values = na.n;
	bo.delimiter = csv.delimiter;
	bo.encoding = csv.encoding;
	ret = batch_score(&bo, ctx->repo, &r, err);
	if (r.scored && !ctx->quiet)
		print_warnings(r.model, &r, bo.reject_path);
	if (!ret && ctx->json)
		print_json(&bo, &r);
out:
	batch_result_release(&r);
	opt_list_release(&keep);
	opt_list_release(&na);
	return ret;
}

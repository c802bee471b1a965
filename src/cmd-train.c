/*
 * mlops train: load a CSV, fit, report holdout metrics, write the
 * artefact, record the run and optionally register the result.
 *
 * The command parses the flags into a training spec and prints; the
 * training job (training.c) does the rest: the --config file, whose
 * values the flags override, the fit, the artefact and the run record.
 */

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "metrics.h"
#include "model.h"
#include "opt.h"
#include "training.h"

static const char *const synopsis[] = {
	"mlops train --data FILE --target COL [--model NAME] [--features COLS | --exclude COLS]",
	"[--categorical COLS] [--numeric COLS] [--na-values TOKENS] [--holdout FRAC] [--seed N]",
	"[--C C] [--alpha A] [--class-weight balanced] [--impute mean|median] [--add-indicator]",
	"[--strict] [--tol T] [--max-iter N] [--config FILE] [-o FILE]",
	"[--register NAME] [--description TEXT] [--delimiter CHAR] [--encoding ENC]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops train --data train.csv --target churned\n"
	"  mlops train --data train.csv.gz --target churned --exclude id --register churn\n"
	"  mlops train --data cars.csv --target mpg --model ridge --alpha 10 -o mpg.json\n"
	"  mlops train --data mpg.csv --target mpg --na-values '?'\n"
	"  mlops train --config spec.json --seed 7\n",
	"Fit a model on a CSV file, report holdout metrics and write its artefact."
};

struct train_args {
	struct training_opts o;
	struct cmd_csv csv;	/* --delimiter, --encoding */
	struct opt_list features, exclude, categorical, numeric, na_values;
};

static struct trainspec_list spec_list(const struct opt_list *l)
{
	struct trainspec_list sl = { l->items, l->n, 0 };

	return sl;
}

/* The flags into a->o.spec, unset where not given. */
static int parse_args(int argc, char **argv, struct train_args *a,
		      struct mlops_err *err)
{
	struct trainspec *s = &a->o.spec;
	struct opt opts[] = {
		OPT_STRING('d', "data", &s->data, "FILE", "training data: CSV, possibly gzip/zstd/xz, or - for stdin"),
		OPT_STRING('t', "target", &s->target, "COL", "the column to predict"),
		OPT_STRING('m', "model", &s->model, "NAME", "auto (default), logistic, softmax, linear or ridge"),
		OPT_CSV(0, "features", &a->features, "COLS", "use only these columns (comma-separated, repeatable)"),
		OPT_CSV(0, "exclude", &a->exclude, "COLS", "use every column but these and the target"),
		OPT_CSV(0, "categorical", &a->categorical, "COLS", "treat these columns as categories"),
		OPT_CSV(0, "numeric", &a->numeric, "COLS", "treat these columns as numbers"),
		OPT_CSV(0, "na-values", &a->na_values, "TOKENS", "also read these values as missing (comma-separated; kept in the model)"),
		OPT_DOUBLE(0, "holdout", &s->holdout, "FRAC", "fraction of rows held out for metrics (default 0.2)"),
		OPT_INT(0, "seed", &s->seed, "N", "seed of the holdout shuffle (default 1)"),
		OPT_DOUBLE(0, "C", &s->C, "C", "logistic/softmax: inverse L2 strength, as sklearn's C (default 1)"),
		OPT_DOUBLE(0, "alpha", &s->alpha, "A", "ridge: L2 strength, as sklearn's alpha (default 1)"),
		OPT_STRING(0, "class-weight", &s->class_weight, "balanced", "weigh classes by n / (K * n_class)"),
		OPT_STRING(0, "impute", &s->impute, "HOW", "fill missing numbers with the mean (default) or median"),
		OPT_BOOL(0, "add-indicator", &s->add_indicator, "add a 0/1 input marking missing values of each number"),
		OPT_BOOL(0, "strict", &s->strict, "make categories never seen in training bad input when scoring"),
		OPT_DOUBLE(0, "tol", &s->tol, "T", "stop when the largest gradient entry is below T per row (default 1e-8)"),
		OPT_INT(0, "max-iter", &s->max_iter, "N", "iteration limit of the solver (default: 100 for Newton's method, max(1000, unknowns) for L-BFGS)"),
		OPT_STRING(0, "config", &a->o.config, "FILE", "read settings from a JSON training spec; flags override"),
		OPT_STRING('o', "output", &s->output, "FILE", "write the artefact here (default model.json unless --register)"),
		OPT_STRING(0, "register", &s->reg_name, "NAME", "register the artefact as the next version of NAME"),
		OPT_STRING(0, "description", &s->description, "TEXT", "description of the registered version"),
		OPT_CSV_READ(&a->csv),
		OPT_END()
	};
	int n_args, ret;

	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		return ret;
	if (n_args)
		return err_set(err, MLOPS_EUSAGE,
			       "unexpected argument '%s' (see 'mlops train --help')",
			       argv[0]);
	s->delimiter = a->csv.delimiter;
	s->encoding = a->csv.encoding;
	s->features = spec_list(&a->features);
	s->exclude = spec_list(&a->exclude);
	s->categorical = spec_list(&a->categorical);
	s->numeric = spec_list(&a->numeric);
	s->na_values = spec_list(&a->na_values);
	return 0;
}

static void print_human(FILE *fp, const struct model *m,
			const struct train_report *rep)
{
	size_t i, j;

	fprintf(fp, "trained %s (%s) on %zu rows of '%s'", model_algo_name(m->algo),
	       model_task_name(m->task), rep->n_train, m->target);
	if (rep->n_holdout)
		fprintf(fp, ", %zu held out", rep->n_holdout);
	fprintf(fp, "; %s after %ld iteration%s\n",
	       m->converged ? "converged" : "NOT converged", m->n_iter,
	       m->n_iter == 1 ? "" : "s");
	fprintf(fp, "features: %zu (%zu model inputs)\n", m->n_features,
	       m->n_inputs);
	if (!m->n_metrics)
		return;
	fprintf(fp, "\nholdout metrics:\n");
	for (i = 0; i < m->n_metrics; i++) {
		char buf[96];

		fprintf(fp, "  %-10s %s\n", m->metrics[i].name,
			metrics_format(&m->metrics[i], buf, sizeof(buf)));
	}
	if (!rep->confusion)
		return;
	fprintf(fp, "\nconfusion matrix (rows: true class, columns: predicted):\n");
	fprintf(fp, "  %-12s", "");
	for (j = 0; j < m->n_classes; j++)
		fprintf(fp, " %10.10s", m->classes[j]);
	fprintf(fp, "\n");
	for (i = 0; i < m->n_classes; i++) {
		fprintf(fp, "  %-12.12s", m->classes[i]);
		for (j = 0; j < m->n_classes; j++)
			fprintf(fp, " %10zu", rep->confusion[i * m->n_classes + j]);
		fprintf(fp, "\n");
	}
}

static void print_json(const struct training_result *res)
{
	const struct model *m = res->model;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "schema", 1);
	cJSON_AddStringToObject(o, "task", model_task_name(m->task));
	cJSON_AddStringToObject(o, "algorithm", model_algo_name(m->algo));
	cJSON_AddStringToObject(o, "target", m->target);
	cJSON_AddNumberToObject(o, "rows_train", (double)res->report.n_train);
	cJSON_AddNumberToObject(o, "rows_holdout", (double)res->report.n_holdout);
	cJSON_AddNumberToObject(o, "rows_ignored", (double)res->report.n_dropped);
	cJSON_AddBoolToObject(o, "converged", m->converged);
	cJSON_AddNumberToObject(o, "iterations", (double)m->n_iter);
	metrics_json(o, "metrics", m->metrics, m->n_metrics);
	if (res->output)
		cJSON_AddStringToObject(o, "output", res->output);
	if (res->sha256[0])
		cJSON_AddStringToObject(o, "sha256", res->sha256);
	if (res->run_id)
		cJSON_AddNumberToObject(o, "run", (double)res->run_id);
	if (res->version) {
		cJSON_AddStringToObject(o, "model", res->reg_name);
		cJSON_AddNumberToObject(o, "version", res->version);
		cJSON_AddBoolToObject(o, "existed", res->existed);
	}
	cmd_print_json(o);
}

static void print_result(const struct training_result *res)
{
	/* With the artefact on stdout, the report goes to stderr. */
	const char *output = res->output;
	FILE *fp = output && !strcmp(output, "-") ? stderr : stdout;

	print_human(fp, res->model, &res->report);
	fprintf(fp, "\n");
	if (output && strcmp(output, "-"))
		fprintf(fp, "wrote %s\n", output);
	if (res->version)
		fprintf(fp, "%s %s:%d (sha256:%.12s)\n",
			res->existed ? "already registered as" : "registered",
			res->reg_name, res->version, res->sha256);
}

struct warned {
	int quiet;
	size_t n;		/* warnings printed so far */
};

/* Print the warnings not printed yet (-q: none). */
static void print_warnings(const struct training_result *res, void *arg)
{
	struct warned *w = arg;

	for (; w->n < res->n_warnings; w->n++)
		if (!w->quiet)
			err_warn("mlops train: warning: %s",
				 res->warnings[w->n]);
}

int cmd_train(int argc, char **argv, struct cmd_ctx *ctx,
	      struct mlops_err *err)
{
	struct train_args a = { 0 };
	struct training_result res = { 0 };
	struct warned warned = { ctx->quiet, 0 };
	int ret;

	trainspec_init(&a.o.spec);
	if ((ret = parse_args(argc, argv, &a, err)))
		goto out;
	a.o.stdout_taken = ctx->json;
	a.o.repo = ctx->repo;
	a.o.warnings_done = print_warnings;
	a.o.warnings_arg = &warned;
	ret = training_run(&a.o, &res, err);
	/* Those of a failed run too: one may say why. */
	print_warnings(&res, &warned);
	if (ret)
		goto out;
	if (ctx->json)
		print_json(&res);
	else if (!ctx->quiet)
		print_result(&res);
out:
	training_result_release(&res);
	opt_list_release(&a.features);
	opt_list_release(&a.exclude);
	opt_list_release(&a.categorical);
	opt_list_release(&a.numeric);
	opt_list_release(&a.na_values);
	return ret;
}

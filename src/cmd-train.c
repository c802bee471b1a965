/*
 * mlops train: load a CSV, fit, report holdout metrics, write the
 * artefact, record the run and optionally register the result.
 *
 * A training spec can live in a JSON file (--config) under version
 * control; flags given on the command line override its values.  With a
 * repository, the run, the stored artefact and the new version commit in
 * one transaction, the artefact file being durable before that.
 */

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "csv.h"
#include "dataset.h"
#include "metrics.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "sha256.h"
#include "train.h"
#include "xalloc.h"

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
	const char *data, *target, *model, *config, *output, *reg_name;
	struct cmd_csv csv;	/* --delimiter, --encoding */
	const char *description, *class_weight, *impute;
	int add_indicator, strict;
	struct opt_list features, exclude, categorical, numeric, na_values;
	double holdout, C, alpha, tol;
	long seed, max_iter;
};

/* Unset markers, so that flags can override a --config file. */
#define UNSET_D (-HUGE_VAL)
#define UNSET_L (-1L)

static int config_list(const cJSON *o, const char *key, struct opt_list *l,
		       const char *path, struct mlops_err *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *v;

	if (!a || l->n)
		return 0;
	if (!cJSON_IsArray(a))
		return err_set(err, MLOPS_EUSAGE,
			       "'%s': \"%s\" must be an array of column names",
			       path, key);
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsString(v))
			return err_set(err, MLOPS_EUSAGE,
				       "'%s': \"%s\" must be an array of column names",
				       path, key);
		XGROW(l->items, l->alloc, l->n + 1);
		l->items[l->n++] = v->valuestring;
	}
	return 0;
}

static int config_str(const cJSON *o, const char *key, const char **out,
		      const char *path, struct mlops_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || *out)
		return 0;
	if (!cJSON_IsString(v))
		return err_set(err, MLOPS_EUSAGE, "'%s': \"%s\" must be a string",
			       path, key);
	*out = v->valuestring;
	return 0;
}

static int config_bool(const cJSON *o, const char *key, int *out,
		       const char *path, struct mlops_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || *out)
		return 0;
	if (!cJSON_IsBool(v))
		return err_set(err, MLOPS_EUSAGE, "'%s': \"%s\" must be true or false",
			       path, key);
	*out = cJSON_IsTrue(v);
	return 0;
}

static int config_num(const cJSON *o, const char *key, double *out,
		      const char *path, struct mlops_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || *out != UNSET_D)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return err_set(err, MLOPS_EUSAGE, "'%s': \"%s\" must be a number",
			       path, key);
	*out = v->valuedouble;
	return 0;
}

/*
 * Read the spec file; values fill only what the flags left unset.  The
 * cJSON tree is returned so the strings stay valid while training.
 */
static int read_config(struct train_args *a, cJSON **tree,
		       struct mlops_err *err)
{
	static const char *const known[] = {
		"data", "target", "model", "features", "exclude",
		"categorical", "numeric", "holdout", "seed", "C", "alpha",
		"tol", "max_iter", "class_weight", "output", "register",
		"description", "impute", "add_indicator", "strict",
		"delimiter", "encoding", "na_values", NULL
	};
	double seed = UNSET_D, max_iter = UNSET_D;
	const cJSON *v;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, alloc = 0, n;
	int ret;

	if (!(fp = fopen(a->config, "rb")))
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND : MLOPS_EIO,
			       "cannot open '%s': %s", a->config, strerror(errno));
	do {
		XGROW(buf, alloc, len + 4096);
		n = fread(buf + len, 1, alloc - len, fp);
		len += n;
	} while (n);
	fclose(fp);
	*tree = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!*tree || !cJSON_IsObject(*tree))
		return err_set(err, MLOPS_EUSAGE,
			       "'%s' is not a JSON object", a->config);
	cJSON_ArrayForEach(v, *tree) {
		const char *const *k;

		for (k = known; *k && strcmp(*k, v->string); k++)
			;
		if (!*k)
			return err_set(err, MLOPS_EUSAGE,
				       "'%s': unknown setting \"%s\"",
				       a->config, v->string);
	}
	if (a->seed != UNSET_L)
		seed = (double)a->seed;
	if (a->max_iter != UNSET_L)
		max_iter = (double)a->max_iter;
	if ((ret = config_str(*tree, "data", &a->data, a->config, err)) ||
	    (ret = config_str(*tree, "target", &a->target, a->config, err)) ||
	    (ret = config_str(*tree, "model", &a->model, a->config, err)) ||
	    (ret = config_str(*tree, "output", &a->output, a->config, err)) ||
	    (ret = config_str(*tree, "register", &a->reg_name, a->config, err)) ||
	    (ret = config_str(*tree, "description", &a->description, a->config, err)) ||
	    (ret = config_str(*tree, "class_weight", &a->class_weight, a->config, err)) ||
	    (ret = config_str(*tree, "impute", &a->impute, a->config, err)) ||
	    (ret = config_str(*tree, "delimiter", &a->csv.delimiter, a->config, err)) ||
	    (ret = config_str(*tree, "encoding", &a->csv.encoding, a->config, err)) ||
	    (ret = config_bool(*tree, "add_indicator", &a->add_indicator, a->config, err)) ||
	    (ret = config_bool(*tree, "strict", &a->strict, a->config, err)) ||
	    (ret = config_list(*tree, "features", &a->features, a->config, err)) ||
	    (ret = config_list(*tree, "exclude", &a->exclude, a->config, err)) ||
	    (ret = config_list(*tree, "categorical", &a->categorical, a->config, err)) ||
	    (ret = config_list(*tree, "numeric", &a->numeric, a->config, err)) ||
	    (ret = config_list(*tree, "na_values", &a->na_values, a->config, err)) ||
	    (ret = config_num(*tree, "holdout", &a->holdout, a->config, err)) ||
	    (ret = config_num(*tree, "C", &a->C, a->config, err)) ||
	    (ret = config_num(*tree, "alpha", &a->alpha, a->config, err)) ||
	    (ret = config_num(*tree, "tol", &a->tol, a->config, err)) ||
	    (ret = config_num(*tree, "seed", &seed, a->config, err)) ||
	    (ret = config_num(*tree, "max_iter", &max_iter, a->config, err)))
		return ret;
	if (seed != UNSET_D) {
		if (seed < 0 || seed != floor(seed))
			return err_set(err, MLOPS_EUSAGE,
				       "'%s': \"seed\" must be a non-negative integer",
				       a->config);
		a->seed = (long)seed;
	}
	if (max_iter != UNSET_D)
		a->max_iter = (long)max_iter;
	return 0;
}

static int parse_algo(const char *s, int *algo, struct mlops_err *err)
{
	static const struct {
		const char *name;
		int algo;
	} names[] = {
		{ "auto", TRAIN_AUTO }, { "logistic", TRAIN_LOGISTIC },
		{ "softmax", TRAIN_SOFTMAX }, { "linear", TRAIN_LINEAR },
		{ "ridge", TRAIN_RIDGE },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*algo = names[i].algo;
			return 0;
		}
	return err_set(err, MLOPS_EUSAGE,
		       "--model expects auto, logistic, softmax, linear or ridge, got '%s'",
		       s);
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

int cmd_train(int argc, char **argv, struct cmd_ctx *ctx,
	      struct mlops_err *err)
{
	struct train_args a = { 0 };
	struct opt opts[] = {
		OPT_STRING('d', "data", &a.data, "FILE", "training data: CSV, possibly gzip/zstd/xz, or - for stdin"),
		OPT_STRING('t', "target", &a.target, "COL", "the column to predict"),
		OPT_STRING('m', "model", &a.model, "NAME", "auto (default), logistic, softmax, linear or ridge"),
		OPT_CSV(0, "features", &a.features, "COLS", "use only these columns (comma-separated, repeatable)"),
		OPT_CSV(0, "exclude", &a.exclude, "COLS", "use every column but these and the target"),
		OPT_CSV(0, "categorical", &a.categorical, "COLS", "treat these columns as categories"),
		OPT_CSV(0, "numeric", &a.numeric, "COLS", "treat these columns as numbers"),
		OPT_CSV(0, "na-values", &a.na_values, "TOKENS", "also read these values as missing (comma-separated; kept in the model)"),
		OPT_DOUBLE(0, "holdout", &a.holdout, "FRAC", "fraction of rows held out for metrics (default 0.2)"),
		OPT_INT(0, "seed", &a.seed, "N", "seed of the holdout shuffle (default 1)"),
		OPT_DOUBLE(0, "C", &a.C, "C", "logistic/softmax: inverse L2 strength, as sklearn's C (default 1)"),
		OPT_DOUBLE(0, "alpha", &a.alpha, "A", "ridge: L2 strength, as sklearn's alpha (default 1)"),
		OPT_STRING(0, "class-weight", &a.class_weight, "balanced", "weigh classes by n / (K * n_class)"),
		OPT_STRING(0, "impute", &a.impute, "HOW", "fill missing numbers with the mean (default) or median"),
		OPT_BOOL(0, "add-indicator", &a.add_indicator, "add a 0/1 input marking missing values of each number"),
		OPT_BOOL(0, "strict", &a.strict, "make categories never seen in training bad input when scoring"),
		OPT_DOUBLE(0, "tol", &a.tol, "T", "stop when the largest gradient entry is below T per row (default 1e-8)"),
		OPT_INT(0, "max-iter", &a.max_iter, "N", "iteration limit of the solver (default: 100 for Newton's method, max(1000, unknowns) for L-BFGS)"),
		OPT_STRING(0, "config", &a.config, "FILE", "read settings from a JSON training spec; flags override"),
		OPT_STRING('o', "output", &a.output, "FILE", "write the artefact here (default model.json unless --register)"),
		OPT_STRING(0, "register", &a.reg_name, "NAME", "register the artefact as the next version of NAME"),
		OPT_STRING(0, "description", &a.description, "TEXT", "description of the registered version"),
		OPT_CSV_READ(&a.csv),
		OPT_END()
	};
	struct dataset_opts dopts = { 0 };
	struct train_opts to;
	struct train_report rep = { 0 };
	struct dataset *ds = NULL;
	struct model *m = NULL;
	struct runrec rl;
	struct reg_run run = { 0 };
	cJSON *tree = NULL, *js = NULL, *params;
	char *bytes = NULL, *params_json = NULL, *inputs_json = NULL;
	char *metrics_text = NULL, sha[65] = "", config_sha[65];
	struct reg_run_output out_file;
	size_t len = 0, i;
	long long run_id = 0;
	int n_args, ret, version = 0, existed = 0;

	a.holdout = a.C = a.alpha = a.tol = UNSET_D;
	a.seed = a.max_iter = UNSET_L;
	runrec_start(&rl);
	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "unexpected argument '%s' (see 'mlops train --help')",
			      argv[0]);
		goto out;
	}
	if (a.config && (ret = read_config(&a, &tree, err)))
		goto out;
	if (!a.data || !a.target) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--data and --target are required (see 'mlops train --help')");
		goto out;
	}
	if (ctx->json && a.output && !strcmp(a.output, "-")) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--json needs stdout; write the artefact to a file with -o");
		goto out;
	}
	if ((ret = cmd_csv_opts(&a.csv, &dopts.csv, err)))
		goto out;
	if (a.features.n && a.exclude.n) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--features and --exclude cannot be used together");
		goto out;
	}
	if (a.reg_name && (ret = cmd_check_name(a.reg_name, err)))
		goto out;
	if (a.reg_name && !ctx->repo) {
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "--register needs an mlops repository here or above (run 'mlops init')");
		goto out;
	}
	train_opts_init(&to);
	to.target = a.target;
	if (a.model && (ret = parse_algo(a.model, &to.algo, err)))
		goto out;
	if (a.class_weight) {
		if (strcmp(a.class_weight, "balanced")) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "--class-weight expects 'balanced', got '%s'",
				      a.class_weight);
			goto out;
		}
		to.balanced = 1;
	}
	if (a.impute) {
		if (strcmp(a.impute, "mean") && strcmp(a.impute, "median")) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "--impute expects mean or median, got '%s'",
				      a.impute);
			goto out;
		}
		to.impute_median = !strcmp(a.impute, "median");
	}
	to.add_indicator = a.add_indicator;
	to.strict = a.strict;
	/* The dataset is freed right after: its columns can be reused. */
	to.reuse_columns = 1;
	if (a.holdout != UNSET_D)
		to.holdout = a.holdout;
	if (a.C != UNSET_D)
		to.C = a.C;
	if (a.alpha != UNSET_D)
		to.alpha = a.alpha;
	if (a.tol != UNSET_D)
		to.tol = a.tol;
	if (a.seed != UNSET_L) {
		if (a.seed < 0) {
			ret = err_set(err, MLOPS_EUSAGE, "--seed must not be negative");
			goto out;
		}
		to.seed = (unsigned long)a.seed;
	}
	if (a.max_iter != UNSET_L) {
		if (a.max_iter < 1) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "--max-iter must be at least 1, got %ld",
				      a.max_iter);
			goto out;
		}
		to.max_iter = a.max_iter;
	}
	to.features = a.features.n ? a.features.items : NULL;
	to.n_features = a.features.n;
	/* Excluded columns are not even loaded (see dataset_opts.exclude);
	 * excluding the target contradicts --target, a usage error. */
	for (i = 0; i < a.exclude.n; i++)
		if (!strcmp(a.exclude.items[i], a.target)) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "--exclude names the target '%s'", a.target);
			goto out;
		}
	dopts.na_values = a.na_values.items;
	dopts.n_na_values = a.na_values.n;

	/* Load only what is needed: the features named, or all but the
	 * excluded columns. */
	dopts.target = a.target;
	dopts.categorical = a.categorical.items;
	dopts.n_categorical = a.categorical.n;
	dopts.numeric = a.numeric.items;
	dopts.n_numeric = a.numeric.n;
	dopts.exclude = a.exclude.items;
	dopts.n_exclude = a.exclude.n;
	if (a.features.n) {
		dopts.only = a.features.items;
		dopts.n_only = a.features.n;
	}
	if ((ret = dataset_load(a.data, &dopts, &ds, err)))
		goto out;
	if (ds->ignored_column && !ctx->quiet)
		err_warn("mlops train: warning: ignored column %zu of '%s': no name in the header and empty on every row",
			ds->ignored_column, ds->name);
	if ((ret = train_fit(ds, &to, &m, &rep, err)))
		goto out;
	m->data_path = xstrdup(a.data);
	if (a.na_values.n) {
		m->na_values = xcalloc(a.na_values.n, sizeof(char *));
		for (i = 0; i < a.na_values.n; i++)
			m->na_values[i] = xstrdup(a.na_values.items[i]);
		m->n_na_values = a.na_values.n;
	}
	m->tool_version = xstrdup(MLOPS_VERSION);
	m->created_at = xstrdup(rl.started_at);
	if (rl.git.found) {
		memcpy(m->git_commit, rl.git.commit, sizeof(m->git_commit));
		m->git_dirty = rl.git.dirty;
	}
	if (rep.n_dropped && !ctx->quiet)
		err_warn("mlops train: warning: ignored %zu row%s of '%s' with no value in '%s'",
			rep.n_dropped, rep.n_dropped == 1 ? "" : "s", a.data,
			a.target);
	for (i = 0; i < rep.n_id_columns && !ctx->quiet; i++) {
		int c = dataset_find(ds, rep.id_columns[i]);

		/* Past the level limit it was left out while loading. */
		if (c >= 0 && !ds->cols[c].code)
			err_warn("mlops train: warning: left out '%s': a different value on nearly every row, as an identifier has (too many to keep as categories; --exclude it to say so)",
				 rep.id_columns[i]);
		else
			err_warn("mlops train: warning: left out '%s': a different value on nearly every row, as an identifier has (keep it with --categorical '%s', or --exclude it)",
				 rep.id_columns[i], rep.id_columns[i]);
	}
	for (i = 0; i < ds->n_cols && !ctx->quiet; i++)
		if (ds->cols[i].row_index)
			err_warn("mlops train: warning: feature '%s' numbers the rows in file order: a row index? (leave it out with --exclude '%s')",
				 ds->cols[i].name, ds->cols[i].name);
	for (i = 0; i < rep.n_leaks && !ctx->quiet; i++)
		err_warn("mlops train: warning: feature '%s' alone predicts '%s' exactly on the training rows: a target leak? (leave it out with --exclude '%s')",
			rep.leaks[i], a.target, rep.leaks[i]);
	if (rep.perfect && !rep.n_leaks && !ctx->quiet)
		err_warn("mlops train: warning: the holdout %s is perfect: check the features for a target leak",
			rep.perfect);
	if (!m->converged && !ctx->quiet)
		err_warn("mlops train: warning: the solver did not converge in %ld iterations; raise --max-iter (e.g. --max-iter %ld) or loosen --tol (now %g)",
			m->max_iter, 4 * m->max_iter, to.tol);

	if ((ret = model_to_bytes(m, &bytes, &len, err)))
		goto out;
	if (!a.output && !a.reg_name)
		a.output = "model.json";
	if (a.output && (ret = model_save_file(m, a.output, err)))
		goto out;

	/* Record the run; store and register in the same transaction. */
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "algorithm", model_algo_name(m->algo));
	cJSON_AddStringToObject(params, "target", a.target);
	cJSON_AddNumberToObject(params, "holdout", to.holdout);
	cJSON_AddNumberToObject(params, "seed", (double)to.seed);
	cJSON_AddNumberToObject(params, "l2", m->l2);
	cJSON_AddNumberToObject(params, "tol", to.tol);
	cJSON_AddNumberToObject(params, "max_iter", (double)m->max_iter);
	cJSON_AddBoolToObject(params, "converged", m->converged);
	cJSON_AddNumberToObject(params, "iterations", (double)m->n_iter);
	params_json = cJSON_PrintUnformatted(params);
	cJSON_Delete(params);
	js = cJSON_CreateArray();
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "role", "data");
	cJSON_AddStringToObject(params, "path", a.data);
	cJSON_AddStringToObject(params, "sha256", ds->sha256);
	cJSON_AddNumberToObject(params, "rows", (double)ds->n_rows);
	cJSON_AddItemToArray(js, params);
	/* The training spec is an input too; the data's rows are above. */
	if (a.config && !runrec_hash_file(a.config, config_sha, NULL)) {
		params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "role", "config");
		cJSON_AddStringToObject(params, "path", a.config);
		cJSON_AddStringToObject(params, "sha256", config_sha);
		cJSON_AddItemToArray(js, params);
	}
	inputs_json = cJSON_PrintUnformatted(js);
	cJSON_Delete(js);
	js = cJSON_CreateObject();
	cmd_json_metrics(js, "metrics", m->metrics, m->n_metrics);
	metrics_text = cJSON_PrintUnformatted(cJSON_GetObjectItem(js,
								  "metrics"));
	cJSON_Delete(js);
	js = NULL;
	/* The artefact's name, stored or not: what -o wrote. */
	sha256_hex(bytes, len, sha);
	if (ctx->repo) {
		struct repo *r = ctx->repo;

		run.kind = "train";
		run.artifact_sha256 = sha;
		if (a.output) {
			out_file.role = "artifact";
			out_file.path = a.output;
			out_file.sha256 = sha;
			out_file.rows = -1;
			run.outputs = &out_file;
			run.n_outputs = 1;
		}
		run.model = a.reg_name;
		run.exit_status = 0;
		run.passed = -1;
		run.params_json = params_json;
		run.inputs_json = inputs_json;
		run.metrics_json = metrics_text;
		run.started_at = rl.started_at;
		run.duration_s = runrec_elapsed(&rl);
		run.git_commit = rl.git.found && rl.git.commit[0] ?
				 rl.git.commit : NULL;
		run.git_dirty = rl.git.found ? rl.git.dirty : 0;
		if ((ret = repo_store_artifact(r, bytes, len, sha, err)))
			goto out;
		if ((ret = registry_begin(r->reg, err)))
			goto out;
		if ((ret = registry_add_run(r->reg, &run, &run_id, err)) ||
		    (a.reg_name &&
		     ((ret = registry_register(r->reg, a.reg_name, sha,
					       (long long)len, run_id,
					       a.description, &version,
					       &existed, err)) ||
		      (ret = registry_set_run_version(r->reg, run_id,
						      a.reg_name, version,
						      err))))) {
			registry_rollback(r->reg);
			goto out;
		}
		if ((ret = registry_commit(r->reg, err)))
			goto out;
	}

	if (ctx->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "schema", 1);
		cJSON_AddStringToObject(o, "task", model_task_name(m->task));
		cJSON_AddStringToObject(o, "algorithm", model_algo_name(m->algo));
		cJSON_AddStringToObject(o, "target", m->target);
		cJSON_AddNumberToObject(o, "rows_train", (double)rep.n_train);
		cJSON_AddNumberToObject(o, "rows_holdout", (double)rep.n_holdout);
		cJSON_AddNumberToObject(o, "rows_ignored", (double)rep.n_dropped);
		cJSON_AddBoolToObject(o, "converged", m->converged);
		cJSON_AddNumberToObject(o, "iterations", (double)m->n_iter);
		cmd_json_metrics(o, "metrics", m->metrics, m->n_metrics);
		if (a.output)
			cJSON_AddStringToObject(o, "output", a.output);
		if (sha[0])
			cJSON_AddStringToObject(o, "sha256", sha);
		if (run_id)
			cJSON_AddNumberToObject(o, "run", (double)run_id);
		if (version) {
			cJSON_AddStringToObject(o, "model", a.reg_name);
			cJSON_AddNumberToObject(o, "version", version);
			cJSON_AddBoolToObject(o, "existed", existed);
		}
		cmd_print_json(o);
	} else if (!ctx->quiet) {
		/* With the artefact on stdout, the report goes to stderr. */
		FILE *fp = a.output && !strcmp(a.output, "-") ? stderr : stdout;

		print_human(fp, m, &rep);
		fprintf(fp, "\n");
		if (a.output && strcmp(a.output, "-"))
			fprintf(fp, "wrote %s\n", a.output);
		if (version)
			fprintf(fp, "%s %s:%d (sha256:%.12s)\n",
				existed ? "already registered as" : "registered",
				a.reg_name, version, sha);
	}
	ret = 0;
out:
	cJSON_Delete(tree);
	cJSON_free(params_json);
	cJSON_free(inputs_json);
	cJSON_free(metrics_text);
	free(bytes);
	model_free(m);
	dataset_free(ds);
	train_report_release(&rep);
	opt_list_release(&a.features);
	opt_list_release(&a.exclude);
	opt_list_release(&a.categorical);
	opt_list_release(&a.numeric);
	opt_list_release(&a.na_values);
	return ret;
}

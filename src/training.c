/*
 * The training job: from a spec (flags, then a --config file) to a
 * fitted, saved and recorded artefact.
 *
 * The order of things is the contract users see: every setting is
 * checked before the data is read; the artefact file is durable before
 * the repository hears of it; the stored artefact, the run row and the
 * registered version commit in one transaction, so a failure records
 * nothing.  The dataset is the job's own and is handed to
 * train_fit_take(), which may reuse its columns.
 *
 * Deliberately not done here: printing.  The command prints the result
 * and the warnings, which come back as text, kept when the run fails
 * (an ignored column may be why); the warnings_done hook lets it print
 * them before "-o -" puts the artefact on stdout, as train always did.
 * Nor option syntax (the command's) or the spec file's format
 * (trainspec.c).
 */

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "metrics.h"
#include "model.h"
#include "modelref.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "sha256.h"
#include "training.h"
#include "xalloc.h"

void training_result_release(struct training_result *res)
{
	size_t i;

	if (!res)
		return;
	model_free(res->model);
	train_report_release(&res->report);
	for (i = 0; i < res->n_warnings; i++)
		free(res->warnings[i]);
	free(res->warnings);
	free(res->output);
	free(res->reg_name);
	memset(res, 0, sizeof(*res));
}

/* Append a warning; takes `msg`. */
static void warn(struct training_result *res, char *msg)
{
	res->warnings = xreallocarray(res->warnings, res->n_warnings + 1,
				      sizeof(*res->warnings));
	res->warnings[res->n_warnings++] = msg;
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

/* The settings a command line alone can get wrong, in train's order. */
static int check_spec(const struct trainspec *s,
		      const struct training_opts *o, struct csv_opts *csv,
		      struct mlops_err *err)
{
	int ret;

	if (!s->data || !s->target)
		return err_set(err, MLOPS_EUSAGE,
			       "--data and --target are required (see 'mlops train --help')");
	if (o->stdout_taken && s->output && !strcmp(s->output, "-"))
		return err_set(err, MLOPS_EUSAGE,
			       "--json needs stdout; write the artefact to a file with -o");
	csv->delimiter = ',';
	csv->encoding = CSV_UTF8;
	if (s->delimiter &&
	    (ret = csv_parse_delimiter(s->delimiter, &csv->delimiter, err)))
		return ret;
	if (s->encoding &&
	    (ret = csv_parse_encoding(s->encoding, &csv->encoding, err)))
		return ret;
	if (s->features.n && s->exclude.n)
		return err_set(err, MLOPS_EUSAGE,
			       "--features and --exclude cannot be used together");
	if (s->reg_name && (ret = modelref_check_name(s->reg_name, err)))
		return ret;
	if (s->reg_name && !o->repo)
		return err_set(err, MLOPS_ENOTFOUND,
			       "--register needs an mlops repository here or above (run 'mlops init')");
	return 0;
}

/* The spec as train_fit() and dataset_load() take it. */
static int fit_opts(const struct trainspec *s, struct train_opts *to,
		    struct dataset_opts *dopts, struct mlops_err *err)
{
	size_t i;
	int ret;

	train_opts_init(to);
	to->target = s->target;
	if (s->model && (ret = parse_algo(s->model, &to->algo, err)))
		return ret;
	if (s->class_weight) {
		if (strcmp(s->class_weight, "balanced"))
			return err_set(err, MLOPS_EUSAGE,
				       "--class-weight expects 'balanced', got '%s'",
				       s->class_weight);
		to->balanced = 1;
	}
	if (s->impute) {
		if (strcmp(s->impute, "mean") && strcmp(s->impute, "median"))
			return err_set(err, MLOPS_EUSAGE,
				       "--impute expects mean or median, got '%s'",
				       s->impute);
		to->impute_median = !strcmp(s->impute, "median");
	}
	to->add_indicator = s->add_indicator;
	to->strict = s->strict;
	if (s->holdout != TRAINSPEC_UNSET_D)
		to->holdout = s->holdout;
	if (s->C != TRAINSPEC_UNSET_D)
		to->C = s->C;
	if (s->alpha != TRAINSPEC_UNSET_D)
		to->alpha = s->alpha;
	if (s->tol != TRAINSPEC_UNSET_D)
		to->tol = s->tol;
	if (s->seed != TRAINSPEC_UNSET_L) {
		if (s->seed < 0)
			return err_set(err, MLOPS_EUSAGE,
				       "--seed must not be negative");
		to->seed = (unsigned long)s->seed;
	}
	if (s->max_iter != TRAINSPEC_UNSET_L) {
		if (s->max_iter < 1)
			return err_set(err, MLOPS_EUSAGE,
				       "--max-iter must be at least 1, got %ld",
				       s->max_iter);
		to->max_iter = s->max_iter;
	}
	to->features = s->features.n ? s->features.items : NULL;
	to->n_features = s->features.n;
	/* Excluded columns are not even loaded (see dataset_opts.exclude);
	 * excluding the target contradicts --target, a usage error. */
	for (i = 0; i < s->exclude.n; i++)
		if (!strcmp(s->exclude.items[i], s->target))
			return err_set(err, MLOPS_EUSAGE,
				       "--exclude names the target '%s'",
				       s->target);
	dopts->na_values = s->na_values.items;
	dopts->n_na_values = s->na_values.n;

	/* Load only what is needed: the features named, or all but the
	 * excluded columns. */
	dopts->target = s->target;
	dopts->categorical = s->categorical.items;
	dopts->n_categorical = s->categorical.n;
	dopts->numeric = s->numeric.items;
	dopts->n_numeric = s->numeric.n;
	dopts->exclude = s->exclude.items;
	dopts->n_exclude = s->exclude.n;
	if (s->features.n) {
		dopts->only = s->features.items;
		dopts->n_only = s->features.n;
	}
	return 0;
}

/* What the model records of where and when it was made. */
static void fill_lineage(struct model *m, const struct trainspec *s,
			 const struct runrec *rl)
{
	size_t i;

	m->data_path = xstrdup(s->data);
	if (s->na_values.n) {
		m->na_values = xcalloc(s->na_values.n, sizeof(char *));
		for (i = 0; i < s->na_values.n; i++)
			m->na_values[i] = xstrdup(s->na_values.items[i]);
		m->n_na_values = s->na_values.n;
	}
	m->tool_version = xstrdup(MLOPS_VERSION);
	m->created_at = xstrdup(rl->started_at);
	if (rl->git.found) {
		memcpy(m->git_commit, rl->git.commit, sizeof(m->git_commit));
		m->git_dirty = rl->git.dirty;
	}
}

/*
 * What the warnings need to know of the dataset's columns, taken before
 * the dataset is handed to training: the names of the text columns left
 * out while loading (past the level limit) and of the numbers that count
 * the rows in file order.
 */
struct column_notes {
	char **left_out;
	size_t n_left_out;
	char **row_index;
	size_t n_row_index;
};

static void note_columns(const struct dataset *ds, struct column_notes *cn)
{
	size_t i;

	memset(cn, 0, sizeof(*cn));
	for (i = 0; i < ds->n_cols; i++) {
		const struct ds_column *col = &ds->cols[i];

		if (col->type == DS_CATEGORICAL && !col->code) {
			cn->left_out = xreallocarray(cn->left_out,
						     cn->n_left_out + 1,
						     sizeof(char *));
			cn->left_out[cn->n_left_out++] = xstrdup(col->name);
		}
		if (col->row_index) {
			cn->row_index = xreallocarray(cn->row_index,
						      cn->n_row_index + 1,
						      sizeof(char *));
			cn->row_index[cn->n_row_index++] = xstrdup(col->name);
		}
	}
}

static void column_notes_release(struct column_notes *cn)
{
	size_t i;

	for (i = 0; i < cn->n_left_out; i++)
		free(cn->left_out[i]);
	for (i = 0; i < cn->n_row_index; i++)
		free(cn->row_index[i]);
	free(cn->left_out);
	free(cn->row_index);
}

static int noted(char *const *names, size_t n, const char *name)
{
	while (n--)
		if (!strcmp(names[n], name))
			return 1;
	return 0;
}

/* The warnings about the fit, in the order train has always given them. */
static void fit_warnings(struct training_result *res,
			 const struct trainspec *s, const struct train_opts *to,
			 const struct column_notes *cn)
{
	const struct train_report *rep = &res->report;
	const struct model *m = res->model;
	size_t i;

	if (rep->n_dropped)
		warn(res, xasprintf("ignored %zu row%s of '%s' with no value in '%s'",
				    rep->n_dropped, rep->n_dropped == 1 ? "" : "s",
				    s->data, s->target));
	for (i = 0; i < rep->n_id_columns; i++)
		/* Past the level limit it was left out while loading. */
		if (noted(cn->left_out, cn->n_left_out, rep->id_columns[i]))
			warn(res, xasprintf("left out '%s': a different value on nearly every row, as an identifier has (too many to keep as categories; --exclude it to say so)",
					    rep->id_columns[i]));
		else
			warn(res, xasprintf("left out '%s': a different value on nearly every row, as an identifier has (keep it with --categorical '%s', or --exclude it)",
					    rep->id_columns[i], rep->id_columns[i]));
	for (i = 0; i < cn->n_row_index; i++)
		warn(res, xasprintf("feature '%s' numbers the rows in file order: a row index? (leave it out with --exclude '%s')",
				    cn->row_index[i], cn->row_index[i]));
	for (i = 0; i < rep->n_leaks; i++)
		warn(res, xasprintf("feature '%s' alone predicts '%s' exactly on the training rows: a target leak? (leave it out with --exclude '%s')",
				    rep->leaks[i], s->target, rep->leaks[i]));
	if (rep->perfect && !rep->n_leaks)
		warn(res, xasprintf("the holdout %s is perfect: check the features for a target leak",
				    rep->perfect));
	if (!m->converged)
		warn(res, xasprintf("the solver did not converge in %ld iterations; raise --max-iter (e.g. --max-iter %ld) or loosen --tol (now %g)",
				    m->max_iter, 4 * m->max_iter, to->tol));
}

/* The run's parameters, as the runs table shows them. */
static char *params_json(const struct model *m, const struct trainspec *s,
			 const struct train_opts *to)
{
	cJSON *p = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(p, "algorithm", model_algo_name(m->algo));
	cJSON_AddStringToObject(p, "target", s->target);
	cJSON_AddNumberToObject(p, "holdout", to->holdout);
	cJSON_AddNumberToObject(p, "seed", (double)to->seed);
	cJSON_AddNumberToObject(p, "l2", m->l2);
	cJSON_AddNumberToObject(p, "tol", to->tol);
	cJSON_AddNumberToObject(p, "max_iter", (double)m->max_iter);
	cJSON_AddBoolToObject(p, "converged", m->converged);
	cJSON_AddNumberToObject(p, "iterations", (double)m->n_iter);
	text = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	return text;
}

/* The run's inputs: the data, and the spec file when it can be hashed. */
static char *inputs_json(const struct runrec_input *data, const char *config)
{
	struct runrec_input in[2] = { *data };
	char config_sha[65];
	size_t n = 1;

	if (config && !runrec_hash_file(config, config_sha, NULL))
		in[n++] = (struct runrec_input){ .role = "config",
			.path = config, .sha256 = config_sha, .rows = -1,
			.rejected = -1 };
	return runrec_inputs_json(in, n);
}

/* The holdout metrics as --json's "metrics" shows them (null: undefined). */
static char *metrics_text(const struct model *m)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	metrics_json(o, "metrics", m->metrics, m->n_metrics);
	text = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "metrics"));
	cJSON_Delete(o);
	return text;
}

/*
 * The new version and the run's link to it, inside the caller's
 * transaction.  Seam: release.c's register entry replaces this call,
 * once it can run inside a transaction it did not open (the run row
 * and its version commit together or not at all).
 */
static int register_version(struct registry *reg, const char *name,
			    const char *sha, size_t len, long long run_id,
			    const char *description, int *version,
			    int *existed, struct mlops_err *err)
{
	int ret;

	if ((ret = registry_register(reg, name, sha, (long long)len, run_id,
				     description, version, existed, err)))
		return ret;
	return registry_set_run_version(reg, run_id, name, *version, err);
}

/* Store the artefact, then record the run and the version in one go. */
static int record(struct repo *r, const struct runrec *rl,
		  struct reg_run *run, const char *bytes, size_t len,
		  const struct trainspec *s, struct training_result *res,
		  struct mlops_err *err)
{
	int ret;

	if ((ret = repo_store_artifact(r, bytes, len, res->sha256, err)))
		return ret;
	runrec_stamp(rl, run);
	if ((ret = registry_begin(r->reg, err)))
		return ret;
	if ((ret = runrec_add(r->reg, run, &res->run_id, err)) ||
	    (s->reg_name &&
	     (ret = register_version(r->reg, s->reg_name, res->sha256, len,
				     res->run_id, s->description,
				     &res->version, &res->existed, err)))) {
		registry_rollback(r->reg);
		return ret;
	}
	return registry_commit(r->reg, err);
}

/* Save the artefact and record the run, as the model is made. */
static int save(const struct training_opts *o, const struct trainspec *s,
		const struct train_opts *to, const struct runrec_input *data,
		const struct runrec *rl, struct training_result *res,
		struct mlops_err *err)
{
	const struct model *m = res->model;
	struct reg_run run = { 0 };
	struct reg_run_output out_file;
	char *bytes = NULL, *params = NULL, *inputs = NULL, *metrics = NULL;
	size_t len = 0;
	int ret;

	if ((ret = model_to_bytes(m, &bytes, &len, err)))
		goto out;
	if (s->output || !s->reg_name)
		res->output = xstrdup(s->output ? s->output : "model.json");
	if (res->output && (ret = model_save_file(m, res->output, err)))
		goto out;
	params = params_json(m, s, to);
	inputs = inputs_json(data, o->config);
	metrics = metrics_text(m);
	/* The artefact's name, stored or not: what -o wrote. */
	sha256_hex(bytes, len, res->sha256);
	if (!o->repo)
		goto out;
	run.kind = "train";
	run.artifact_sha256 = res->sha256;
	if (res->output) {
		out_file.role = "artifact";
		out_file.path = res->output;
		out_file.sha256 = res->sha256;
		out_file.rows = -1;
		run.outputs = &out_file;
		run.n_outputs = 1;
	}
	run.model = s->reg_name;
	run.exit_status = 0;
	run.passed = -1;
	run.params_json = params;
	run.inputs_json = inputs;
	run.metrics_json = metrics;
	if ((ret = record(o->repo, rl, &run, bytes, len, s, res, err)))
		goto out;
	if (res->version)
		res->reg_name = xstrdup(s->reg_name);
out:
	cJSON_free(params);
	cJSON_free(inputs);
	cJSON_free(metrics);
	free(bytes);
	return ret;
}

int training_run(const struct training_opts *o, struct training_result *res,
		 struct mlops_err *err)
{
	struct trainspec s = o->spec;
	struct dataset_opts dopts = { 0 };
	struct train_opts to;
	struct dataset *ds = NULL;
	struct runrec_input data = { .role = "data", .rejected = -1 };
	char data_sha[65];
	struct column_notes cn = { 0 };
	struct runrec rl;
	int ret;

	memset(res, 0, sizeof(*res));
	runrec_start(&rl);
	/* The flags' lists stay theirs; the file's are this copy's. */
	s.features.owned = s.exclude.owned = s.categorical.owned = 0;
	s.numeric.owned = s.na_values.owned = 0;
	s.file = NULL;
	if ((o->config && (ret = trainspec_read_file(&s, o->config, err))) ||
	    (ret = check_spec(&s, o, &dopts.csv, err)) ||
	    (ret = fit_opts(&s, &to, &dopts, err)) ||
	    (ret = dataset_load(s.data, &dopts, &ds, err)))
		goto out;
	if (ds->ignored_column)
		warn(res, xasprintf("ignored column %zu of '%s': no name in the header and empty on every row",
				    ds->ignored_column, ds->name));
	memcpy(data_sha, ds->sha256, sizeof(data_sha));
	data.path = s.data;
	data.sha256 = data_sha;
	data.rows = (long long)ds->n_rows;
	note_columns(ds, &cn);
	/* The job's own dataset: training may reuse its columns. */
	if ((ret = train_fit_take(&ds, &to, &res->model, &res->report, err)))
		goto out;
	fill_lineage(res->model, &s, &rl);
	fit_warnings(res, &s, &to, &cn);
	if (o->warnings_done)
		o->warnings_done(res, o->warnings_arg);
	ret = save(o, &s, &to, &data, &rl, res, err);
out:
	dataset_free(ds);
	column_notes_release(&cn);
	trainspec_release(&s);
	return ret;
}

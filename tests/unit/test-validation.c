/*
 * Unit tests for the validation job (validation.c), without the CLI:
 * models trained here and saved as files are validated on a CSV written
 * here.  The result's metrics table, champion columns, gates, verdict
 * and failure message; the report's members and their order; the
 * usage and data errors; label matching; and, with a repository in a
 * temporary folder, the run recorded with the report as its metrics.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "model.h"
#include "registry.h"
#include "repo.h"
#include "train.h"
#include "validation.h"
#include "xalloc.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-validation.XXXXXX";
static char *data_path, *bin_path, *small_path, *reg_path;

static uint64_t rng_state = 7;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_normal(void)
{
	double u = ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0,
	       v = ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static FILE *create(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (!fp) {
		perror(path);
		exit(99);
	}
	return fp;
}

/* 200 rows: two numbers, a city, a 0/1 target y and a number `value`. */
static char *write_csv(const char *name)
{
	static const char *const cities[] = { "Paris", "Lyon", "Nice" };
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = create(path);
	int i;

	fprintf(fp, "x1,x2,city,y,value\n");
	for (i = 0; i < 200; i++) {
		double x1 = rng_normal(), x2 = rng_normal();
		int c = (int)(rng_next() % 3);
		double z = 1.5 * x1 - 0.5 * x2 + (c == 1) + rng_normal();

		fprintf(fp, "%.6f,%.6f,%s,%d,%.6f\n", x1, x2, cities[c], z > 0,
			2 * x1 + 0.1 * rng_normal());
	}
	fclose(fp);
	return path;
}

/* Fit `target` on `n` features and save the model; returns its path. */
static char *train(struct dataset *ds, const char *target,
		   const char *const *feats, size_t n, const char *name)
{
	struct train_opts o;
	struct train_report rep;
	struct mlops_err err = MLOPS_ERR_INIT;
	struct model *m = NULL;
	char *path = xasprintf("%s/%s", tmpdir, name);

	train_opts_init(&o);
	o.target = target;
	o.features = feats;
	o.n_features = n;
	o.holdout = 0.25;
	if (train_fit(ds, &o, &m, &rep, &err)) {
		printf("# train_fit '%s': %s\n", target, err.msg);
		exit(99);
	}
	train_report_release(&rep);
	m->created_at = xstrdup("2024-05-01T12:00:00Z");
	m->tool_version = xstrdup("test");
	m->data_path = xstrdup("data.csv");
	if (model_save_file(m, path, &err)) {
		printf("# model_save_file: %s\n", err.msg);
		exit(99);
	}
	model_free(m);
	return path;
}

static void setup(void)
{
	static const char *const all[] = { "x1", "x2", "city" };
	static const char *const one[] = { "x2" };
	struct dataset *ds = NULL;
	struct mlops_err err = MLOPS_ERR_INIT;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(99);
	}
	data_path = write_csv("data.csv");
	if (dataset_load(data_path, NULL, &ds, &err)) {
		printf("# dataset_load: %s\n", err.msg);
		exit(99);
	}
	bin_path = train(ds, "y", all, 3, "binary.json");
	small_path = train(ds, "y", one, 1, "small.json");
	reg_path = train(ds, "value", all, 3, "reg.json");
	dataset_free(ds);
}

/* The options of `mlops validate MODEL --data DATA`, no gates. */
static struct validation_opts opts(const char *model, const char *data)
{
	struct validation_opts o = { 0 };

	o.model = model;
	o.data = data;
	o.max_latency_us = -1;
	o.max_size = -1;
	return o;
}

static double metric(const struct validation_model *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_metrics; i++)
		if (!strcmp(s->metrics[i].name, name))
			return s->metrics[i].value;
	return NAN;
}

static void test_pass(void)
{
	static const char *const min[] = { "auc=0.6" };
	struct validation_opts o = opts(bin_path, data_path);
	struct validation v;
	struct mlops_err err = MLOPS_ERR_INIT;
	char *text, *want;

	o.min = min;
	o.n_min = 1;
	o.max_size = 1e9;
	is_int(validation_run(NULL, &o, &v, &err), 0, "a model file validates");
	is_int((long long)v.model.rows, 200, "on every labelled row");
	is_int((long long)v.n_table, 7, "seven binary metrics in the table");
	is_str(v.table[4].name, "auc", "in metrics.c's order");
	ok(isnan(v.table[4].champion) && isnan(v.table[4].improvement),
	   "no champion column without --against");
	is_int((long long)v.n_gates, 2, "two gates");
	ok(v.passed && !v.failure[0], "that pass, with no failure message");
	is_double(v.gates[0].value, metric(&v.model, "auc"), 0,
		  "the gate reads the table's auc");
	is_str(v.gates[1].metric, "size", "--max-size is the last gate");
	is_double(v.gates[1].value, (double)v.model.info.size, 0,
		  "on the artefact's bytes");
	ok(v.model.latency_us > 0, "latency is measured");
	ok(v.model.confusion != NULL, "with a confusion matrix");
	is_int(v.run_id, 0, "nothing is recorded without a repository");
	text = cJSON_PrintUnformatted(v.report);
	want = xasprintf("{\"schema\":1,\"model_file\":\"%s\",\"sha256\":\"%s\","
			 "\"data\":\"%s\",\"data_sha256\":\"%s\",\"rows\":200,"
			 "\"metrics\":{\"accuracy\":", bin_path,
			 v.model.info.sha256, data_path, v.model.data_sha256);
	ok(!strncmp(text, want, strlen(want)),
	   "the report begins as it always has");
	ok(strstr(text, ",\"size\":") &&
	   strstr(text, "},\"gates\":[{\"metric\":\"auc\",\"rule\":\"min\","
		  "\"threshold\":0.6,\"value\":"),
	   "then size and the gates");
	ok(strlen(text) > 16 &&
	   !strcmp(text + strlen(text) - 16, "],\"passed\":true}"),
	   "and ends with the verdict");
	ok(!strstr(text, "against"), "no champion members without --against");
	cJSON_free(text);
	free(want);
	validation_release(&v);
}

static void test_champion(void)
{
	static const char *const deltas[] = { "auc=0.01", "logloss=0" };
	struct validation_opts o = opts(bin_path, data_path);
	struct validation v;
	struct mlops_err err = MLOPS_ERR_INIT;
	char *text;

	o.against = small_path;
	o.min_delta = deltas;
	o.n_min_delta = 2;
	is_int(validation_run(NULL, &o, &v, &err), 0,
	       "a challenger validates against a champion");
	ok(v.champion.m != NULL && v.champion.n_metrics == 7,
	   "the champion is scored on the same rows");
	is_double(v.table[4].champion, metric(&v.champion, "auc"), 0,
		  "the table holds the champion's auc");
	is_double(v.table[4].improvement,
		  metric(&v.model, "auc") - metric(&v.champion, "auc"), 0,
		  "auc improves upwards");
	is_double(v.table[5].improvement,
		  metric(&v.champion, "logloss") - metric(&v.model, "logloss"),
		  0, "logloss improves downwards");
	ok(v.passed, "all three features beat one");
	is_double(v.gates[0].delta, v.table[4].improvement, 0,
		  "the gate's delta is the table's improvement");
	text = cJSON_PrintUnformatted(v.report);
	ok(strstr(text, "\"against\":\"") &&
	   strstr(text, "\"against_sha256\":\"") &&
	   strstr(text, "\"against_metrics\":{"),
	   "the report names the champion and its metrics");
	ok(!strstr(text, "against_model"), "a file champion has no model name");
	cJSON_free(text);
	validation_release(&v);

	o = opts(small_path, data_path);
	o.against = bin_path;
	o.min_delta = deltas;
	o.n_min_delta = 1;
	is_int(validation_run(NULL, &o, &v, &err), 0,
	       "a failed gate is a result, not an error");
	ok(!v.passed, "the verdict is fail");
	ok(!strncmp(v.failure, "gate failed: auc improves by -", 30) &&
	   strstr(v.failure, bin_path) != NULL,
	   "the message names the champion: %s", v.failure);
	validation_release(&v);
}

static void expect(struct validation_opts *o, int code, const char *msg,
		   const char *what)
{
	struct validation v;
	struct mlops_err err = MLOPS_ERR_INIT;

	is_int(validation_run(NULL, o, &v, &err), code, "%s", what);
	ok(strstr(err.msg, msg) != NULL, "%s: says '%s'", what, err.msg);
	validation_release(&v);
}

static void test_errors(void)
{
	static const char *const delta[] = { "auc=0" };
	static const char *const bad[] = { "rmse=1" };
	struct validation_opts o = opts(bin_path, data_path);
	char *path = xasprintf("%s/bad.csv", tmpdir);
	FILE *fp;

	o.min_delta = delta;
	o.n_min_delta = 1;
	expect(&o, MLOPS_EUSAGE, "--min-delta needs --against",
	       "--min-delta needs --against");
	o = opts(bin_path, "-");
	o.against = small_path;
	expect(&o, MLOPS_EUSAGE, "give a file, not stdin",
	       "a champion needs a file");
	o = opts(bin_path, data_path);
	o.max = bad;
	o.n_max = 1;
	expect(&o, MLOPS_EUSAGE,
	       "--max: unknown metric 'rmse' for a binary model",
	       "a metric of another task");
	o = opts(reg_path, data_path);
	o.against = bin_path;
	expect(&o, MLOPS_EUSAGE, "cannot compare: ",
	       "a champion of another task");
	o = opts(bin_path, "nosuch.csv");
	expect(&o, MLOPS_EIO, "nosuch.csv", "missing data");

	fp = create(path);
	fprintf(fp, "x1,x2,city,y\n1,2,Paris,1\n1,2,Lyon,maybe\n");
	fclose(fp);
	o = opts(bin_path, path);
	expect(&o, MLOPS_EINPUT,
	       "line 3, column 4 ('y'): label 'maybe' is not a class the model knows",
	       "an unknown label names its line");
	fp = create(path);
	fprintf(fp, "x1,x2,city,y\n1,2,Paris,\n");
	fclose(fp);
	expect(&o, MLOPS_EINPUT, "no rows with a value in 'y'",
	       "no labelled row");
	free(path);
}

static void test_labels(void)
{
	static const char *const max[] = { "rmse=100" };
	struct validation_opts o = opts(bin_path, NULL);
	struct validation v;
	struct mlops_err err = MLOPS_ERR_INIT;
	char *path = xasprintf("%s/labels.csv", tmpdir);
	FILE *fp = create(path);

	/* Labels by value ("1.0"), and a row without one (skipped). */
	fprintf(fp, "x1,x2,city,y,value\n1,2,Paris,1.0,2\n-1,0,Lyon,0,-2\n"
		"0,0,Nice,,0.5\n");
	fclose(fp);
	o.data = path;
	is_int(validation_run(NULL, &o, &v, &err), 0, "numeric labels match");
	is_int((long long)v.model.rows, 2, "rows without a label are skipped");
	ok(validation_label_class(v.model.m, "1.0") ==
	   validation_label_class(v.model.m, "1"), "'1.0' is class '1'");
	ok(validation_label_class(v.model.m, "1") >= 0, "'1' is a class");
	is_int(validation_label_class(v.model.m, "yes"), -1,
	       "a word no class has is none");
	validation_release(&v);

	o = opts(reg_path, path);
	o.max = max;
	o.n_max = 1;
	is_int(validation_run(NULL, &o, &v, &err), 0, "a regression validates");
	is_int((long long)v.model.rows, 3, "on every row with a value");
	is_str(v.table[0].name, "rmse", "rmse first");
	ok(v.passed && v.model.confusion == NULL, "no confusion matrix");
	validation_release(&v);
	free(path);
}

static void test_record(void)
{
	static const char *const min[] = { "auc=0.999999" };
	struct validation_opts o = opts(bin_path, data_path);
	struct validation v;
	struct mlops_err err = MLOPS_ERR_INIT;
	struct repo *repo = NULL;
	struct reg_run_row row = { 0 };
	char *dir = xasprintf("%s/repo", tmpdir), *mdir, *stored;
	char *inputs;
	int existed;
	cJSON *copy;

	mdir = xasprintf("%s/.mlops", dir);
	if (mkdir(dir, 0777) || repo_init(dir, &existed, &err) ||
	    setenv("MLOPS_DIR", mdir, 1) || repo_discover(1, &repo, &err)) {
		printf("# repository: %s\n", err.msg);
		exit(99);
	}
	o.min = min;
	o.n_min = 1;
	is_int(validation_run(repo, &o, &v, &err), 0,
	       "a failed validation records");
	ok(v.run_id > 0, "a run");
	is_int(registry_get_run(repo->reg, v.run_id, &row, &err), 0,
	       "that reads back");
	is_str(row.kind, "validate", "of kind validate");
	is_int(row.exit_status, 3, "with exit status 3");
	is_int(row.passed, 0, "and failed");
	ok(row.artifact_sha256 &&
	   !strcmp(row.artifact_sha256, v.model.info.sha256),
	   "naming the artefact by hash");
	inputs = xasprintf("[{\"role\":\"data\",\"path\":\"%s\","
			   "\"sha256\":\"%s\",\"rows\":200}]",
			   data_path, v.model.data_sha256);
	is_str(row.inputs_json, inputs, "the data by path, hash and rows");
	copy = cJSON_Duplicate(v.report, 1);
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(copy, "run")) ==
	   (double)v.run_id, "the report gains the run id");
	cJSON_DeleteItemFromObject(copy, "run");
	stored = cJSON_PrintUnformatted(copy);
	is_str(row.metrics_json, stored,
	       "the stored metrics are the report but the run");
	cJSON_free(stored);
	cJSON_Delete(copy);
	free(inputs);
	reg_run_row_release(&row);
	validation_release(&v);
	repo_free(repo);
	unsetenv("MLOPS_DIR");
	free(dir);
	free(mdir);
}

int main(void)
{
	char *cmd;

	setup();
	test_pass();
	test_champion();
	test_errors();
	test_labels();
	test_record();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return done_testing();
}

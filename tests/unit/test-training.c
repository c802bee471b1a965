/*
 * The training job (training.c) and the training spec file
 * (trainspec.c), reached without the command line.
 *
 * Spec: a file fills only what is unset, a member the flags override
 * is never type-checked, and each bad file is MLOPS_EUSAGE (a missing
 * one MLOPS_ENOTFOUND) naming the file and member.  Job: a temporary
 * CSV trains into a temporary artefact whose hash the result gives;
 * the warnings come back as text, in order, also when the run then
 * fails; settings are checked in train's order; with a repository the
 * run is recorded (a spec file among its inputs, by hash) and the
 * version registered.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "registry.h"
#include "repo.h"
#include "sha256.h"
#include "training.h"
#include "trainspec.h"
#include "xalloc.h"
#include "tap.h"

static char tmpdir[] = "/tmp/mlops-test-training.XXXXXX";

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static char *write_tmp(const char *name, const char *text)
{
	char *path = tmp_path(name);
	FILE *fp = fopen(path, "wb");

	if (!fp || fputs(text, fp) == EOF || fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

/*
 * 100 rows: an identifier, a number, a category, a noisy binary target;
 * with `unnamed`, an empty unnamed last column; row 7's target empty;
 * with `one_class`, every target "a".
 */
static char *write_csv(const char *name, int unnamed, int one_class)
{
	char *path = tmp_path(name), *text;
	unsigned long s = 12345;
	FILE *fp = fopen(path, "wb");
	int i;

	if (!fp) {
		perror(path);
		exit(99);
	}
	fprintf(fp, "id,x1,x2,y%s\n", unnamed ? "," : "");
	for (i = 0; i < 100; i++) {
		double x1;
		int noise;

		s = s * 6364136223846793005UL + 1442695040888963407UL;
		x1 = (double)((s >> 33) % 1000) / 100.0;
		noise = (s >> 20) % 5 == 0;
		text = i == 7 ? "" : one_class ? "a" :
		       (x1 > 5) != noise ? "b" : "a";
		fprintf(fp, "r%03d,%.2f,%s,%s%s\n", i, x1,
			i % 3 ? "red" : "blue", text, unnamed ? "," : "");
	}
	if (fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

static void test_spec_fills_unset(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct trainspec s;
	const char *flag_features[] = { "x9" };
	char *path = write_tmp("spec.json",
		"{\"data\": \"d.csv\", \"target\": \"y\", \"model\": \"ridge\","
		" \"features\": [\"a\", \"b\"], \"exclude\": [\"id\"],"
		" \"holdout\": 0.3, \"seed\": 4, \"max_iter\": 50,"
		" \"strict\": true, \"add_indicator\": false,"
		" \"na_values\": [\"?\"], \"C\": \"not a number\"}");

	trainspec_init(&s);
	s.target = "flag";
	s.features.items = flag_features;
	s.features.n = 1;
	s.holdout = 0.5;
	s.C = 2;
	ok(!trainspec_read_file(&s, path, &err),
	   "a spec file is read (%s)", err.msg);
	is_str(s.data, "d.csv", "the file fills --data");
	is_str(s.target, "flag", "a flag wins over the file");
	is_str(s.model, "ridge", "the file fills --model");
	ok(s.features.n == 1 && s.features.items == flag_features &&
	   !s.features.owned, "--features given: the file's list is ignored");
	ok(s.exclude.n == 1 && !strcmp(s.exclude.items[0], "id") &&
	   s.exclude.owned, "the file fills --exclude");
	ok(s.na_values.n == 1 && !strcmp(s.na_values.items[0], "?"),
	   "the file fills --na-values");
	is_double(s.holdout, 0.5, 0, "--holdout given wins");
	is_int(s.seed, 4, "the file fills --seed");
	is_int(s.max_iter, 50, "the file fills --max-iter");
	ok(s.strict && !s.add_indicator, "booleans from the file");
	is_double(s.C, 2, 0, "a member overridden by a flag is not checked");
	ok(isinf(s.alpha) && s.alpha < 0, "what neither sets stays unset");
	trainspec_release(&s);
	ok(!s.file && !s.exclude.items, "release frees the file's part");
	free(path);
}

static void test_spec_errors(void)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;	/* after "'PATH'" */
	} cases[] = {
		{ "[1, 2]", MLOPS_EUSAGE, " is not a JSON object" },
		{ "{\"data\": ", MLOPS_EUSAGE, " is not a JSON object" },
		{ "{\"dta\": \"x.csv\"}", MLOPS_EUSAGE,
		  ": unknown setting \"dta\"" },
		{ "{\"data\": 3}", MLOPS_EUSAGE, ": \"data\" must be a string" },
		{ "{\"features\": \"a,b\"}", MLOPS_EUSAGE,
		  ": \"features\" must be an array of column names" },
		{ "{\"exclude\": [\"a\", 1]}", MLOPS_EUSAGE,
		  ": \"exclude\" must be an array of column names" },
		{ "{\"strict\": 1}", MLOPS_EUSAGE,
		  ": \"strict\" must be true or false" },
		{ "{\"holdout\": \"0.2\"}", MLOPS_EUSAGE,
		  ": \"holdout\" must be a number" },
		{ "{\"seed\": 1.5}", MLOPS_EUSAGE,
		  ": \"seed\" must be a non-negative integer" },
		{ "{\"seed\": -1}", MLOPS_EUSAGE,
		  ": \"seed\" must be a non-negative integer" },
	};
	struct mlops_err err = MLOPS_ERR_INIT;
	struct trainspec s;
	size_t i;
	char *path, *want;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path = write_tmp("bad.json", cases[i].text);
		want = xasprintf("'%s'%s", path, cases[i].msg);
		trainspec_init(&s);
		is_int(trainspec_read_file(&s, path, &err), cases[i].code,
		       "spec %s: status", cases[i].text);
		is_str(err.msg, want, "spec %s: message", cases[i].text);
		trainspec_release(&s);
		free(want);
		free(path);
	}
	path = tmp_path("absent.json");
	want = xasprintf("cannot open '%s': No such file or directory", path);
	trainspec_init(&s);
	is_int(trainspec_read_file(&s, path, &err), MLOPS_ENOTFOUND,
	       "a missing spec file is MLOPS_ENOTFOUND");
	is_str(err.msg, want, "... naming it");
	trainspec_release(&s);
	free(want);
	free(path);
}

static void opts_init(struct training_opts *o, const char *data,
		      const char *output)
{
	memset(o, 0, sizeof(*o));
	trainspec_init(&o->spec);
	o->spec.data = data;
	o->spec.target = "y";
	o->spec.output = output;
}

struct hook_seen {
	const char *output;
	int calls;
	size_t n_warnings;
	int artefact_existed;
};

static void hook(const struct training_result *res, void *arg)
{
	struct hook_seen *h = arg;

	h->calls++;
	h->n_warnings = res->n_warnings;
	h->artefact_existed = access(h->output, F_OK) == 0;
}

static void test_train_to_file(void)
{
	struct hook_seen seen = { 0 };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct training_opts o;
	struct training_result res;
	struct model *m = NULL;
	char *data = write_csv("bin.csv", 1, 0), *out = tmp_path("m.json");
	char *bytes, hex[65], *want;
	size_t len = 0;

	opts_init(&o, data, out);
	o.warnings_done = hook;
	o.warnings_arg = &seen;
	seen.output = out;
	ok(!training_run(&o, &res, &err), "train from a CSV (%s)", err.msg);
	ok(seen.calls == 1 && seen.n_warnings == 3 && !seen.artefact_existed,
	   "warnings_done: once, all warnings, before the artefact");
	is_str(res.output, out, "the artefact's path is in the result");
	bytes = tap_slurp(out, &len);
	ok(bytes != NULL, "the artefact file is written");
	if (bytes)
		sha256_hex(bytes, len, hex);
	is_str(res.sha256, bytes ? hex : "", "the result names its hash");
	ok(bytes && !model_from_bytes(bytes, len, "m.json", &m, &err),
	   "the artefact loads (%s)", err.msg);
	ok(m && res.model && m->n_outputs == res.model->n_outputs &&
	   m->n_inputs == res.model->n_inputs &&
	   !memcmp(m->coef, res.model->coef,
		   m->n_outputs * m->n_inputs * sizeof(*m->coef)),
	   "it holds the fitted coefficients");
	is_str(res.model ? res.model->data_path : NULL, data,
	       "the model records its data");
	is_int(res.report.n_train + res.report.n_holdout, 99,
	       "99 rows used, 20%% held out");
	is_int(res.report.n_holdout, 20, "... 20 held out");
	is_int(res.run_id, 0, "no repository, no run");
	ok(!res.reg_name && !res.version, "nothing registered");
	is_int(res.n_warnings, 3, "three warnings");
	want = xasprintf("ignored column 5 of '%s': no name in the header and empty on every row",
			 data);
	is_str(res.n_warnings > 0 ? res.warnings[0] : NULL, want,
	       "first, the unnamed column");
	free(want);
	want = xasprintf("ignored 1 row of '%s' with no value in 'y'", data);
	is_str(res.n_warnings > 1 ? res.warnings[1] : NULL, want,
	       "then the row without a target");
	free(want);
	is_str(res.n_warnings > 2 ? res.warnings[2] : NULL,
	       "left out 'id': a different value on nearly every row, as an identifier has (keep it with --categorical 'id', or --exclude it)",
	       "then the identifier");
	training_result_release(&res);
	model_free(m);
	free(bytes);

	opts_init(&o, data, out);
	o.spec.max_iter = 1;
	o.spec.tol = 1e-30;
	ok(!training_run(&o, &res, &err), "train with --max-iter 1");
	is_str(res.n_warnings ? res.warnings[res.n_warnings - 1] : NULL,
	       "the solver did not converge in 1 iterations; raise --max-iter (e.g. --max-iter 4) or loosen --tol (now 1e-30)",
	       "non-convergence is the last warning");
	training_result_release(&res);
	free(data);
	free(out);
}

static void test_checks(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct training_opts o;
	struct training_result res;
	struct hook_seen seen = { 0 };
	const char *one[] = { "x1" }, *target[] = { "y" };
	char *data = write_csv("one.csv", 1, 1), *out = tmp_path("x.json");
	char *spec = write_tmp("data.json", "{\"data\": \"nowhere.csv\"}");
	int ret;

	opts_init(&o, NULL, out);
	is_int(training_run(&o, &res, &err), MLOPS_EUSAGE, "no --data");
	is_str(err.msg, "--data and --target are required (see 'mlops train --help')",
	       "... says what is required");
	training_result_release(&res);

	opts_init(&o, NULL, out);
	o.config = spec;
	ret = training_run(&o, &res, &err);
	ok(ret == MLOPS_ENOTFOUND || ret == MLOPS_EIO,
	   "--data from the spec file is read (%s)", err.msg);
	ok(strstr(err.msg, "nowhere.csv") != NULL, "... and named");
	training_result_release(&res);

	opts_init(&o, data, "-");
	o.stdout_taken = 1;
	is_int(training_run(&o, &res, &err), MLOPS_EUSAGE, "--json with -o -");
	training_result_release(&res);

	opts_init(&o, data, out);
	o.spec.features.items = one;
	o.spec.features.n = 1;
	o.spec.exclude.items = one;
	o.spec.exclude.n = 1;
	o.spec.reg_name = "bad name";
	is_int(training_run(&o, &res, &err), MLOPS_EUSAGE,
	       "--features with --exclude");
	is_str(err.msg, "--features and --exclude cannot be used together",
	       "... is refused before the model name");
	training_result_release(&res);

	opts_init(&o, data, out);
	o.spec.reg_name = "bad name";
	is_int(training_run(&o, &res, &err), MLOPS_EUSAGE, "a bad model name");
	training_result_release(&res);

	opts_init(&o, data, out);
	o.spec.reg_name = "churn";
	is_int(training_run(&o, &res, &err), MLOPS_ENOTFOUND,
	       "--register without a repository");
	training_result_release(&res);

	opts_init(&o, data, out);
	o.spec.model = "forest";
	is_int(training_run(&o, &res, &err), MLOPS_EUSAGE, "an unknown --model");
	training_result_release(&res);

	opts_init(&o, data, out);
	o.spec.exclude.items = target;
	o.spec.exclude.n = 1;
	is_int(training_run(&o, &res, &err), MLOPS_EUSAGE,
	       "--exclude naming the target");
	is_str(err.msg, "--exclude names the target 'y'", "... says so");
	training_result_release(&res);

	opts_init(&o, data, out);
	o.warnings_done = hook;
	o.warnings_arg = &seen;
	seen.output = out;
	is_int(training_run(&o, &res, &err), MLOPS_EINPUT,
	       "a single class cannot be fitted");
	is_int(seen.calls, 0, "warnings_done is not called on a failed fit");
	is_int(res.n_warnings, 1, "the warning before the failure is kept");
	ok(res.n_warnings && !strncmp(res.warnings[0], "ignored column 5", 16),
	   "... the unnamed column");
	ok(access(out, F_OK) != 0, "no artefact is written");
	training_result_release(&res);
	free(spec);
	free(data);
	free(out);
}

static void test_register(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct training_opts o;
	struct training_result res;
	struct repo *repo = NULL;
	struct reg_run_row *runs = NULL, row = { 0 };
	char *data = write_csv("reg.csv", 0, 0), *dir = tmp_path(".mlops");
	char *path, *spec, *out = tmp_path("reg-model.json");
	size_t n = 0, i;
	int existed;

	if (repo_init(tmpdir, &existed, &err) ||
	    (setenv("MLOPS_DIR", dir, 1), repo_discover(1, &repo, &err))) {
		ok(0, "a repository (%s)", err.msg);
		free(out);
		free(data);
		free(dir);
		return;
	}
	opts_init(&o, data, NULL);
	o.spec.reg_name = "churn";
	o.spec.description = "first";
	o.repo = repo;
	ok(!training_run(&o, &res, &err), "train and register (%s)", err.msg);
	ok(!res.output, "registering writes no model.json");
	is_str(res.reg_name, "churn", "registered as churn");
	is_int(res.version, 1, "... version 1");
	ok(res.run_id > 0 && !res.existed, "a new run and version");
	path = repo_artifact_path(repo, res.sha256);
	ok(access(path, R_OK) == 0, "the artefact is stored by its hash");
	free(path);
	ok(!registry_list_runs(repo->reg, "churn", "train", 10, &runs, &n,
			       &err) && n == 1, "one train run of churn");
	if (n == 1) {
		is_int(runs[0].id, res.run_id, "... the run of the result");
		is_int(runs[0].version, 1, "... linked to version 1");
		is_str(runs[0].artifact_sha256, res.sha256, "... and its bytes");
		ok(runs[0].metrics_json &&
		   !strncmp(runs[0].metrics_json, "{\"accuracy\":", 12),
		   "... with its holdout metrics");
	}
	for (i = 0; i < n; i++)
		reg_run_row_release(&runs[i]);
	free(runs);
	training_result_release(&res);

	/* A spec file is an input of the run, by hash. */
	spec = write_tmp("reg.json", "{\"target\": \"y\", \"holdout\": 0.5}");
	opts_init(&o, data, out);
	o.spec.target = NULL;
	o.config = spec;
	o.repo = repo;
	ok(!training_run(&o, &res, &err), "train from a spec (%s)", err.msg);
	is_int(res.report.n_holdout, 50, "the spec's holdout is used");
	ok(res.run_id > 0 && !res.version, "a run, no version");
	ok(!registry_get_run(repo->reg, res.run_id, &row, &err) &&
	   row.inputs_json && strstr(row.inputs_json, "{\"role\":\"config\"") &&
	   strstr(row.inputs_json, spec), "the run lists the spec file");
	ok(!row.model, "... and names no model");
	reg_run_row_release(&row);
	training_result_release(&res);
	free(spec);
	free(out);
	repo_free(repo);
	unsetenv("MLOPS_DIR");
	free(data);
	free(dir);
}

int main(void)
{
	char *cmd;

	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		return 99;
	}
	test_spec_fills_unset();
	test_spec_errors();
	test_train_to_file();
	test_checks();
	test_register();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return done_testing();
}

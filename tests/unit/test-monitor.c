/*
 * The monitoring job without the CLI: the dataset verdict rule (the
 * predictions' Bonferroni bound, the share of drifted features, quality
 * signals, the time axis counted nowhere), a file checked against the
 * baseline and against a reference file (identical files give exactly
 * 0; a shifted column drifts; no rows is bad input), the run it records
 * in a repository, and runs over time on a registry in a temporary
 * folder: oldest first, only the version's score-batch runs with a
 * profile, the newest N, none found, an unreadable profile.
 */

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "drift.h"
#include "model.h"
#include "monitor.h"
#include "predict.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "train.h"
#include "xalloc.h"
#include "tap.h"

#define N_ROWS 400

static char tmpdir[] = "/tmp/test-monitor.XXXXXX";

static const char *const levels[] = { "a", "b", "c" };
static const char sha_a[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char sha_b[] =
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* x, c, y with x shifted by `shift` (0: the training file). */
static char *write_csv(const char *name, double shift, size_t rows)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");
	size_t i;

	if (!fp) {
		perror(path);
		exit(99);
	}
	fprintf(fp, "x,c,y\n");
	for (i = 0; i < rows; i++) {
		double x = (double)((i * 37) % 101) / 4;
		size_t c = (i * 7) % 3;

		fprintf(fp, "%g,%s,%g\n", x + shift, levels[c],
			2 * x + (double)c + (double)(i % 5) / 10);
	}
	if (fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

static struct model *train(const char *path)
{
	static const char *const feats[] = { "x", "c" };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct dataset *ds = NULL;
	struct train_opts o;
	struct train_report rep;
	struct model *m = NULL;

	if (dataset_load(path, NULL, &ds, &err)) {
		printf("# dataset_load: %s\n", err.msg);
		return NULL;
	}
	train_opts_init(&o);
	o.target = "y";
	o.algo = TRAIN_RIDGE;
	o.features = feats;
	o.n_features = 2;
	if (train_fit(ds, &o, &m, &rep, &err))
		printf("# train_fit: %s\n", err.msg);
	else
		train_report_release(&rep);
	dataset_free(ds);
	return m;
}

static void report_init(struct drift_report *r, struct drift_result *f,
			size_t n)
{
	size_t j;

	memset(r, 0, sizeof(*r));
	memset(f, 0, n * sizeof(*f));
	for (j = 0; j < n; j++)
		f[j].p_value = NAN;
	r->features = f;
	r->n_features = n;
}

/*
 * The verdict: the predictions alone count past a Bonferroni bound over
 * the n + 1 tests, and a timestamp's place in time never counts.
 */
static void test_verdict(void)
{
	struct drift_result f[6];
	struct drift_report r;

	report_init(&r, f, 6);
	r.pred.drifted = 1;
	r.pred.threshold = 0.05;
	r.pred.p_value = 0.01;
	monitor_verdict(&r, 0.5);
	ok(!r.verdict, "verdict: predictions at p 0.01 of 7 tests do not page");
	r.pred.p_value = 0.005;
	monitor_verdict(&r, 0.5);
	ok(r.verdict, "verdict: predictions at p 0.005 < 0.05 / 7 page");
	r.pred.p_value = NAN;
	monitor_verdict(&r, 0.5);
	ok(r.verdict, "verdict: a distance method's drifted predictions page");
	r.pred.drifted = 0;
	f[0].drifted = f[1].drifted = f[2].drifted = 1;
	monitor_verdict(&r, 0.5);
	ok(r.verdict && r.n_drift == 3 && !r.n_quality,
	   "verdict: 3 of 6 features reach 0.5");
	monitor_verdict(&r, 0.6);
	ok(!r.verdict, "verdict: 3 of 6 features stay below 0.6");
	f[0].time_axis = 1;
	monitor_verdict(&r, 0.5);
	ok(!r.verdict && r.n_drift == 2,
	   "verdict: a time axis feature counts nowhere (2 of 5)");
	f[0].drifted = 0;
	f[0].quality = DRIFT_Q_OUTSIDE;
	monitor_verdict(&r, 0.5);
	ok(!r.verdict && !r.n_quality,
	   "verdict: a time axis feature's range signal does not count");
	f[4].quality = DRIFT_Q_MISSING;
	monitor_verdict(&r, 1);
	ok(r.verdict && r.n_quality == 1,
	   "verdict: any other data-quality signal pages");
	report_init(&r, f, 6);
	monitor_verdict(&r, 0);
	ok(!r.verdict, "verdict: share 0 needs one drifted feature");
}

static void opts_init(struct monitor_opts *o, const char *input,
		      const char *reference)
{
	memset(o, 0, sizeof(*o));
	o->input = input;
	o->reference = reference;
	o->method = DRIFT_AUTO;
	o->threshold = NAN;
	o->share = 0.5;
}

static void test_file(const struct model *m, const char *train_csv)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct monitor_opts o;
	struct drift_report r;
	char *shifted = write_csv("shifted.csv", 20, N_ROWS);
	char *empty = write_csv("empty.csv", 0, 0), *msg;
	int ret;

	opts_init(&o, train_csv, NULL);
	ret = monitor_drift_file(m, &o, &r, &err);
	ok(!ret && !r.verdict && r.rows == N_ROWS && r.n_features == 2 &&
	   strlen(r.input_sha256) == 64,
	   "file: the training file against its baseline, no drift");
	if (ret)
		printf("# %s\n", err.msg);
	drift_report_release(&r);

	opts_init(&o, train_csv, train_csv);
	ret = monitor_drift_file(m, &o, &r, &err);
	ok(!ret && !r.verdict && r.ref_rows == N_ROWS &&
	   r.features[0].statistic == 0 && r.features[1].statistic == 0 &&
	   r.pred.statistic == 0,
	   "file: a file against itself as reference gives exactly 0");
	drift_report_release(&r);

	opts_init(&o, shifted, train_csv);
	ret = monitor_drift_file(m, &o, &r, &err);
	ok(!ret && r.verdict && r.features[0].drifted &&
	   !r.features[1].drifted && r.n_drift == 1,
	   "file: a shifted column drifts, the dataset with it");
	drift_report_release(&r);

	opts_init(&o, empty, NULL);
	is_int(monitor_drift_file(m, &o, &r, &err), MLOPS_EINPUT,
	       "file: no rows is bad input");
	msg = xasprintf("'%s' has no rows", empty);
	is_str(err.msg, msg, "file: the message names the file");
	free(msg);
	drift_report_release(&r);

	opts_init(&o, train_csv, empty);
	is_int(monitor_drift_file(m, &o, &r, &err), MLOPS_EINPUT,
	       "file: a reference of 0 rows is bad input");
	drift_report_release(&r);
	unlink(shifted);
	unlink(empty);
	free(shifted);
	free(empty);
}

/* A score-batch profile of N_ROWS rows like the training file's. */
static char *profile_text(const struct model *m, double shift)
{
	struct drift_set set;
	struct predict_cols in = { 0 };
	double *raw = xmallocarray(2 * N_ROWS, sizeof(double));
	int32_t *lev = xmallocarray(2 * N_ROWS, sizeof(int32_t));
	double *pred = xmallocarray(N_ROWS * predict_width(m), sizeof(double));
	double *scratch = xmallocarray(predict_scratch_len(m, N_ROWS) + 1,
				       sizeof(double));
	char *text;
	size_t i;

	for (i = 0; i < N_ROWS; i++) {
		raw[i] = (double)((i * 37) % 101) / 4 + shift;
		lev[N_ROWS + i] = (int32_t)((i * 7) % 3);
	}
	in.n = in.ld = N_ROWS;
	in.raw = raw;
	in.level = lev;
	predict_columns(m, &in, scratch, pred);
	drift_set_init(&set, m, NULL, NULL);
	for (i = 0; i < N_ROWS; i++) {
		drift_acc_numeric(&set.features[0], raw[i]);
		drift_acc_level(&set.features[1], lev[N_ROWS + i]);
		drift_acc_numeric(&set.pred, pred[i]);
	}
	/* The writer score-batch records with, not a copy of it. */
	text = runrec_profile_json(&set);
	drift_set_release(&set);
	free(raw);
	free(lev);
	free(pred);
	free(scratch);
	return text;
}

static long long add_run(struct registry *reg, const char *kind,
			 int version, const char *profile)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_run run = { 0 };
	long long id = 0;

	run.kind = kind;
	run.model = "m";
	run.version = version;
	run.started_at = "2026-12-03T18:00:00.000Z";
	run.passed = -1;
	run.profile_json = profile;
	if (registry_begin(reg, &err) || registry_add_run(reg, &run, &id, &err) ||
	    registry_commit(reg, &err))
		printf("# add_run: %s\n", err.msg);
	return id;
}

static void test_runs(struct registry *reg, const struct model *m)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct drift_run_report *runs = NULL;
	struct monitor_opts o;
	char *same = profile_text(m, 0), *moved = profile_text(m, 20);
	long long id1, id2, id3;
	size_t n = 0;
	int ret;

	opts_init(&o, NULL, NULL);
	is_int(monitor_drift_runs(reg, m, "m", 1, 5, &o, &runs, &n, &err),
	       MLOPS_ENOTFOUND, "runs: none recorded yet");
	is_str(err.msg, "m:1 has no recorded scoring runs to compare",
	       "runs: the message names the version");
	id1 = add_run(reg, "score-batch", 1, same);
	add_run(reg, "score-batch", 2, moved);
	id2 = add_run(reg, "score-batch", 1, moved);
	add_run(reg, "score-batch", 1, NULL);
	add_run(reg, "drift", 1, same);
	ret = monitor_drift_runs(reg, m, "m", 1, 5, &o, &runs, &n, &err);
	ok(!ret && n == 2 && runs[0].run == id1 && runs[1].run == id2,
	   "runs: this version's profiled scoring runs, oldest first");
	ok(!ret && n == 2 && !runs[0].report.verdict && runs[1].report.verdict &&
	   runs[1].report.features[0].drifted &&
	   runs[0].report.rows == N_ROWS && runs[0].report.ref_rows == m->n_rows,
	   "runs: each tested against the baseline");
	ok(!ret && n == 2 && !strcmp(runs[0].started_at,
				     "2026-12-03T18:00:00.000Z"),
	   "runs: each with its start time");
	monitor_runs_free(runs, n);
	ret = monitor_drift_runs(reg, m, "m", 1, 1, &o, &runs, &n, &err);
	ok(!ret && n == 1 && runs[0].run == id2, "runs: the newest N");
	monitor_runs_free(runs, n);
	id3 = add_run(reg, "score-batch", 1, "{\"features\":{}}");
	is_int(monitor_drift_runs(reg, m, "m", 1, 3, &o, &runs, &n, &err),
	       MLOPS_ECORRUPT, "runs: an unreadable profile is corrupt");
	ok(strstr(err.msg, "its recorded profile is unreadable") &&
	   atoll(err.msg + 4) == id3, "runs: the message names the run");
	ok(!runs && !n, "runs: nothing handed out on failure");
	free(same);
	free(moved);
}

/* The run a file check records: its report is the metrics. */
static void test_record(struct repo *repo, const struct model *m,
			const char *train_csv)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_run_row *rows = NULL;
	struct monitor_opts o;
	struct drift_report r;
	struct runrec rec;
	cJSON *report;
	char *text;
	size_t n = 0, i;
	int ret;

	runrec_start(&rec);
	opts_init(&o, train_csv, NULL);
	o.repo = repo;
	o.rec = &rec;
	o.model_name = "m";
	o.version = 1;
	o.artifact_sha256 = "";
	ret = monitor_drift_file(m, &o, &r, &err);
	ok(!ret, "record: the check runs");
	report = monitor_report_json(m, &o, &r);
	text = cJSON_PrintUnformatted(report);
	ret = registry_list_runs(repo->reg, "m", "drift", 1, &rows, &n, &err);
	ok(!ret && n == 1 && rows[0].version == 1 && rows[0].passed == 1 &&
	   rows[0].exit_status == 0 && rows[0].metrics_json &&
	   !strcmp(rows[0].metrics_json, text),
	   "record: a drift run whose metrics are the JSON report");
	ok(n == 1 && rows[0].inputs_json &&
	   strstr(rows[0].inputs_json, r.input_sha256),
	   "record: the input's hash among its inputs");
	for (i = 0; i < n; i++)
		reg_run_row_release(&rows[i]);
	free(rows);
	cJSON_free(text);
	cJSON_Delete(report);
	drift_report_release(&r);
}

/* The whole job: MODEL loaded from its reference, the clock its own. */
static void test_job(struct repo *repo, const struct model *m,
		     const char *train_csv)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct monitor_opts o;
	struct monitor_result res;
	struct reg_run_row *rows = NULL;
	char *file = xasprintf("%s/m.json", tmpdir);
	size_t n = 0, i;
	int ret;

	if (!ok(!model_save_file(m, file, &err), "job: a model file")) {
		free(file);
		return;
	}
	opts_init(&o, train_csv, NULL);
	o.model = "nosuch.json";
	is_int(monitor_drift(&o, &res, &err), MLOPS_ENOTFOUND,
	       "job: a missing MODEL fails the load");
	ok(!res.model, "job: ... with no model");
	monitor_result_release(&res);
	o.model = file;
	o.runs = 2;
	err = (struct mlops_err)MLOPS_ERR_INIT;
	is_int(monitor_drift(&o, &res, &err), MLOPS_EUSAGE,
	       "job: --runs of a model file");
	ok(strstr(err.msg, "--runs needs a registry model") != NULL,
	   "job: ... says so");
	monitor_result_release(&res);
	o.runs = 0;
	o.repo = repo;
	ret = monitor_drift(&o, &res, &err);
	ok(!ret && res.model && !res.info.name && res.report.rows > 0 &&
	   !res.report.verdict, "job: a file check of a model file");
	ok(!ret && res.opts.model_file == file && !res.opts.model_name,
	   "job: the options it ran with name the file");
	monitor_result_release(&res);
	ret = registry_list_runs(repo->reg, NULL, "drift", 10, &rows, &n, &err);
	ok(!ret && n > 0 && !rows[0].model && rows[0].passed == 1 &&
	   rows[0].duration_s >= 0,
	   "job: the check is recorded, timed by the job, naming no model");
	for (i = 0; i < n; i++)
		reg_run_row_release(&rows[i]);
	free(rows);
	free(file);
}

int main(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct repo *repo = NULL;
	struct model *m;
	char *train_csv, *dir;
	int existed, version;

	test_verdict();
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	train_csv = write_csv("train.csv", 0, N_ROWS);
	m = train(train_csv);
	if (!ok(m != NULL, "a model trained"))
		return done_testing();
	test_file(m, train_csv);
	dir = xasprintf("%s/.mlops", tmpdir);
	setenv("MLOPS_DIR", dir, 1);
	if (repo_init(tmpdir, &existed, &err) ||
	    repo_discover(1, &repo, &err) ||
	    registry_begin(repo->reg, &err) ||
	    registry_register(repo->reg, "m", sha_a, 1, 0, NULL, &version,
			      &existed, &err) ||
	    registry_register(repo->reg, "m", sha_b, 1, 0, NULL, &version,
			      &existed, &err) ||
	    registry_commit(repo->reg, &err)) {
		printf("Bail out! repository: %s\n", err.msg);
		return 99;
	}
	test_runs(repo->reg, m);
	test_record(repo, m, train_csv);
	test_job(repo, m, train_csv);
	repo_free(repo);
	model_free(m);
	free(train_csv);
	free(dir);
	dir = xasprintf("rm -rf '%s'", tmpdir);
	if (system(dir))
		printf("# cannot remove %s\n", tmpdir);
	free(dir);
	return done_testing();
}

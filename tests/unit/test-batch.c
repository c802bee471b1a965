/*
 * The batch scoring job without the CLI: a model trained here, a
 * temporary CSV, the output in a temporary file.  The predictions are
 * the stream's, whatever the threads; shards concatenate to the whole;
 * kept columns, bad rows, the reject and metrics files, the counts and
 * hashes of the result, nothing left behind on failure, and the run
 * recorded with a profile that reads back.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "dataset.h"
#include "drift.h"
#include "model.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "score.h"
#include "train.h"
#include "xalloc.h"
#include "tap.h"

#define N_ROWS 60000

static char tmpdir[] = "/tmp/test-batch.XXXXXX";

static char *tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static uint64_t rng_state = 11;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [-3, 3) with four decimals. */
static double rng_value(void)
{
	return (double)(rng_next() % 60000) / 10000 - 3;
}

/*
 * n rows of id, x1, x2, city, y; every `bad`-th row (0: none) has a
 * word for x1, and every `rome`-th (0: none) a city the training never
 * saw.  `extra` names an extra last column (NULL: none).
 */
static char *write_csv(const char *name, int n, int bad, int rome,
		       const char *extra)
{
	static const char *const cities[] = { "Paris", "Lyon", "Nice" };
	char *path = tmp(name);
	FILE *fp = fopen(path, "w");
	int i;

	if (!fp) {
		perror(path);
		exit(99);
	}
	fprintf(fp, "id,x1,x2,city,y%s%s\n", extra ? "," : "",
		extra ? extra : "");
	for (i = 0; i < n; i++) {
		double x1 = rng_value(), x2 = rng_value();
		int c = (int)(rng_next() % 3);

		fprintf(fp, "r%d,", i);
		if (bad && i % bad == bad - 1)
			fprintf(fp, "oops,");
		else
			fprintf(fp, "%.4f,", x1);
		fprintf(fp, "%.4f,%s,%d%s\n", x2,
			rome && i % rome == 3 ? "Rome" : cities[c],
			x1 - x2 + (c == 1) + rng_value() > 0,
			extra ? ",z" : "");
	}
	if (fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

static struct model *train(const char *path)
{
	static const char *const feats[] = { "x1", "x2", "city" };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct train_report rep;
	struct dataset_opts dopts = { 0 };
	struct train_opts o;
	struct dataset *ds = NULL;
	struct model *m = NULL;

	dopts.only = feats;
	dopts.n_only = 3;
	dopts.target = "y";
	train_opts_init(&o);
	o.target = "y";
	o.features = feats;
	o.n_features = 3;
	if (dataset_load(path, &dopts, &ds, &err) ||
	    train_fit(ds, &o, &m, &rep, &err)) {
		printf("# training: %s\n", err.msg);
		dataset_free(ds);
		return NULL;
	}
	train_report_release(&rep);
	dataset_free(ds);
	return m;
}

static void opts_init(struct batch_opts *o, const char *input,
		      const char *output)
{
	static const char *const keep_id[] = { "id" };

	memset(o, 0, sizeof(*o));
	o->input = input;
	o->output = output;
	o->keep = keep_id;
	o->n_keep = 1;
}

/* The trained model's artefact file: the jobs load MODEL themselves. */
static char *model_file;

/*
 * Run the job on model_file, the artefact of m (which the checks of
 * the callers read); print the message of a failure.
 */
static int score(const struct model *m, const struct batch_opts *o,
		 struct repo *repo, struct batch_result *r,
		 struct mlops_err *err)
{
	struct batch_opts with_model = *o;
	int ret;

	(void)m;
	with_model.model = model_file;
	*err = (struct mlops_err)MLOPS_ERR_INIT;
	ret = batch_score(&with_model, repo, r, err);
	if (ret)
		printf("# batch_score: %s\n", err->msg);
	return ret;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* The scores of the whole file: rows, hashes, predictions, threads. */
static void test_whole(const struct model *m, const char *input)
{
	struct mlops_err err;
	struct batch_opts o;
	struct batch_result r;
	struct score_stream *ss = NULL;
	struct score_block b;
	char *out = tmp("out.csv"), *out4 = tmp("out4.csv");
	char *text = NULL, *text4 = NULL, *line, sha[65] = "";
	size_t same = 0, n = 0, i;

	opts_init(&o, input, out);
	o.stream.threads = 1;
	if (!is_int(score(m, &o, NULL, &r, &err), 0, "whole: scored"))
		goto out;
	ok(r.scored, "whole: the result says the outputs are in place");
	is_int((long long)r.rows, N_ROWS, "whole: every row counted");
	is_int((long long)r.rejected, 0, "whole: none rejected");
	is_int(r.run_id, 0, "whole: no repository, no run");
	text = tap_slurp(out, NULL);
	is_int((long long)count_lines(text), N_ROWS + 1,
	       "whole: a header and one line per row");
	ok(text && !strncmp(text, "id,prediction,proba_0,proba_1\nr0,", 33),
	   "whole: the header, then the kept id");
	runrec_hash_file(out, sha, NULL);
	is_str(r.output_sha256, sha, "whole: the output's hash");
	runrec_hash_file(input, sha, NULL);
	is_str(r.input_sha256, sha, "whole: the input's hash");
	batch_result_release(&r);

	/* Each proba_1 reads back as the stream's prediction. */
	line = text ? strchr(text, '\n') : NULL;
	if (!score_stream_open(m, input, NULL, &ss, &err))
		while (line && !score_stream_next(ss, &b, &err) && b.n)
			for (i = 0; i < b.n && line; i++, n++) {
				char *last = strchr(line + 1, '\n');
				const char *p = last;

				while (p > line && p[-1] != ',')
					p--;
				same += strtod(p, NULL) == b.pred[i];
				line = last;
			}
	score_stream_close(ss);
	ok(n == N_ROWS && same == n,
	   "whole: every probability is the stream's to the bit (%zu of %zu)",
	   same, n);

	o.output = out4;
	o.stream.threads = 4;
	if (is_int(score(m, &o, NULL, &r, &err), 0, "threads: scored")) {
		text4 = tap_slurp(out4, NULL);
		ok(text && text4 && !strcmp(text, text4),
		   "threads: 4 threads write the bytes 1 thread writes");
	}
	batch_result_release(&r);
out:
	free(text);
	free(text4);
	free(out);
	free(out4);
}

static void test_shards(const struct model *m, const char *input)
{
	struct mlops_err err;
	struct batch_opts o;
	struct batch_result r;
	char *whole = tmp("whole.csv"), *path, *text, *all = xstrdup("");
	char *joined, *want, *shard;
	uint64_t rows = 0;
	unsigned i;

	opts_init(&o, input, whole);
	score(m, &o, NULL, &r, &err);
	batch_result_release(&r);
	for (i = 0; i < 3; i++) {
		path = xasprintf("%s/shard%u.csv", tmpdir, i);
		shard = xasprintf("%u/3", i);
		opts_init(&o, input, path);
		o.shard = shard;
		score(m, &o, NULL, &r, &err);
		free(shard);
		rows += r.rows;
		batch_result_release(&r);
		text = tap_slurp(path, NULL);
		joined = xasprintf("%s%s", all, text ? text : "");
		free(all);
		all = joined;
		free(text);
		free(path);
	}
	want = tap_slurp(whole, NULL);
	is_int((long long)rows, N_ROWS, "shards: their rows add up");
	ok(want && !strcmp(all, want),
	   "shards: 0/3, 1/3 and 2/3 concatenate to the whole output");
	free(want);
	free(all);
	free(whole);
}

static void test_keep(const struct model *m)
{
	static const char *const keep[] = { "id", "prediction" };
	struct mlops_err err;
	struct batch_opts o;
	struct batch_result r;
	char *input = write_csv("note.csv", 50, 0, 0, "note");
	char *out = tmp("keep.csv"), *text;

	opts_init(&o, input, out);
	o.keep_all = 1;
	o.keep = NULL;
	o.n_keep = 0;
	score(m, &o, NULL, &r, &err);
	batch_result_release(&r);
	text = tap_slurp(out, NULL);
	ok(text && !strncmp(text, "id,x1,x2,city,y,note,prediction,", 32) &&
	   !strncmp(strchr(text, '\n'), "\nr0,", 4),
	   "keep-all: every input column, then the scores");
	free(text);
	unlink(out);
	free(input);
	input = write_csv("clash.csv", 50, 0, 0, "prediction");

	opts_init(&o, input, out);
	o.keep = keep;
	o.n_keep = 2;
	is_int(score(m, &o, NULL, &r, &err), MLOPS_EINPUT,
	       "keep: a column named like an output column");
	ok(strstr(err.msg, "column 6 ('prediction') has the name of an output column") != NULL,
	   "keep: the message names it");
	ok(!r.scored && access(out, F_OK) != 0,
	   "keep: refused before any output is made");
	batch_result_release(&r);
	free(input);
	free(out);
}

/* What the job checks itself, in the order the command always did. */
static void test_checks(const struct model *m, const char *input)
{
	struct mlops_err err;
	struct batch_opts o;
	struct batch_result r;
	char *out = tmp("checks.csv");

	opts_init(&o, input, out);
	o.model = "nosuch.json";
	o.shard = "9/3";
	err = (struct mlops_err)MLOPS_ERR_INIT;
	ok(batch_score(&o, NULL, &r, &err) != 0 && !r.model &&
	   strstr(err.msg, "nosuch.json"),
	   "checks: MODEL loads first, before any option is checked");
	batch_result_release(&r);
	opts_init(&o, input, out);
	o.stream.threads = (size_t)-1;
	o.shard = "9/3";
	is_int(score(m, &o, NULL, &r, &err), MLOPS_EUSAGE,
	       "checks: --threads out of range");
	ok(r.model != NULL && strstr(err.msg, "--threads"),
	   "checks: ... checked after the model loaded, before the shard");
	batch_result_release(&r);
	opts_init(&o, input, out);
	o.delimiter = "ab";
	o.shard = "9/3";
	is_int(score(m, &o, NULL, &r, &err), MLOPS_EUSAGE,
	       "checks: a bad delimiter");
	ok(!strstr(err.msg, "--shard"), "checks: ... before the shard");
	batch_result_release(&r);
	opts_init(&o, input, out);
	o.shard = "9/3";
	is_int(score(m, &o, NULL, &r, &err), MLOPS_EUSAGE,
	       "checks: a shard out of range");
	ok(access(out, F_OK) != 0, "checks: no output is made");
	batch_result_release(&r);
	free(out);
}

static void test_bad_rows(const struct model *m)
{
	struct mlops_err err;
	struct batch_opts o;
	struct batch_result r;
	char *input = write_csv("bad.csv", 100, 40, 7, NULL);
	char *out = tmp("bad.out"), *rej = tmp("rejects.csv");
	char *prom = tmp("metrics.prom"), *text;

	opts_init(&o, input, out);
	o.max_errors = 5;
	o.reject_path = rej;
	o.metrics_path = prom;
	if (is_int(score(m, &o, NULL, &r, &err), 0, "bad rows: allowed")) {
		is_int((long long)r.rows, 98, "bad rows: the good ones scored");
		is_int((long long)r.rejected, 2, "bad rows: two rejected");
		is_int((long long)r.n_features, 3, "unseen: one count a feature");
		is_int((long long)r.unseen[2], 14,
		       "unseen: the city never seen, counted");
		text = tap_slurp(rej, NULL);
		ok(text && !strncmp(text, "line,reason,record\n", 19) &&
		   count_lines(text) == 3,
		   "bad rows: the reject file, a header and two rows");
		free(text);
		text = tap_slurp(prom, NULL);
		ok(text && strstr(text, "mlops_score_rows{model=\"file\"} 98\n") &&
		   strstr(text, "mlops_score_rejected_rows{model=\"file\"} 2\n"),
		   "metrics file: rows and rejected rows, labelled a model file");
		free(text);
	}
	batch_result_release(&r);
	unlink(out);
	unlink(rej);
	unlink(prom);

	o.max_errors = 1;
	is_int(score(m, &o, NULL, &r, &err), MLOPS_EINPUT,
	       "bad rows: one past the allowance fails");
	ok(strstr(err.msg, "line 81") != NULL, "bad rows: naming its line");
	ok(!r.scored && access(out, F_OK) != 0 && access(rej, F_OK) != 0 &&
	   access(prom, F_OK) != 0,
	   "bad rows: no output, reject or metrics file left behind");
	batch_result_release(&r);
	free(input);
	free(out);
	free(rej);
	free(prom);
}

static void test_recorded(const struct model *m, const char *input)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct runrec_input in = { "input", input, NULL, N_ROWS, 0, NULL };
	struct batch_opts o;
	struct batch_result r;
	struct reg_run_row row = { 0 };
	struct drift_set set;
	struct repo repo = { 0 };
	char *db = tmp("registry.db"), *out = tmp("rec.csv"), *want;

	if (!ok(!registry_create(db, &err) &&
		!registry_open(db, 1, 1000, &repo.reg, &err),
		"recorded: a registry")) {
		printf("# %s\n", err.msg);
		free(db);
		free(out);
		return;
	}
	opts_init(&o, input, out);
	if (is_int(score(m, &o, &repo, &r, &err), 0, "recorded: scored") &&
	    ok(r.run_id > 0, "recorded: a run id") &&
	    is_int(registry_get_run(repo.reg, r.run_id, &row, &err), 0,
		   "recorded: the run reads back")) {
		is_str(row.kind, "score-batch", "recorded: its kind");
		in.sha256 = r.input_sha256;
		in.output = out;
		want = runrec_inputs_json(&in, 1);
		is_str(row.inputs_json, want, "recorded: its input, typed");
		free(want);
		want = xasprintf("{\"rows\":%d,\"rejected\":0}", N_ROWS);
		is_str(row.metrics_json, want, "recorded: its counts");
		free(want);
		ok(row.n_outputs == 1 && !strcmp(row.outputs[0].sha256,
						 r.output_sha256),
		   "recorded: the output by hash");
		ok(!runrec_profile_read(m, row.profile_json, "run", &set,
					&err) && set.pred.count == N_ROWS,
		   "recorded: the profile reads back with every prediction");
		drift_set_release(&set);
	}
	reg_run_row_release(&row);
	batch_result_release(&r);
	registry_close(repo.reg);
	free(db);
	free(out);
}

static void test_parse_shard(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	unsigned i = 9, n = 9;

	ok(!batch_parse_shard("1/3", &i, &n, &err) && i == 1 && n == 3,
	   "shard: I/N");
	is_int(batch_parse_shard("3/3", &i, &n, &err), MLOPS_EUSAGE,
	       "shard: I must be below N");
	is_str(err.msg, "--shard: index 3 is not in 0..2",
	       "shard: the message");
	err = (struct mlops_err)MLOPS_ERR_INIT;
	is_int(batch_parse_shard("1-3", &i, &n, &err), MLOPS_EUSAGE,
	       "shard: malformed");
	unsetenv("MLOPS_SHARD_INDEX");
	unsetenv("JOB_COMPLETION_INDEX");
	setenv("SLURM_ARRAY_TASK_ID", "5", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "3", 1);
	ok(!batch_parse_shard("auto", &i, &n, &err) && i == 2 && n == 4,
	   "shard: auto from SLURM, counted from its minimum");
	setenv("MLOPS_SHARD_INDEX", "1", 1);
	setenv("MLOPS_SHARD_COUNT", "2", 1);
	ok(!batch_parse_shard("auto", &i, &n, &err) && i == 1 && n == 2,
	   "shard: MLOPS_SHARD_INDEX first");
	unsetenv("MLOPS_SHARD_INDEX");
	unsetenv("SLURM_ARRAY_TASK_ID");
	err = (struct mlops_err)MLOPS_ERR_INIT;
	is_int(batch_parse_shard("auto", &i, &n, &err), MLOPS_EUSAGE,
	       "shard: auto with no scheduler");
}

int main(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct model *m;
	char *train_csv, *input, *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	train_csv = write_csv("train.csv", 2000, 0, 0, NULL);
	input = write_csv("in.csv", N_ROWS, 0, 0, NULL);
	m = train(train_csv);
	model_file = tmp("model.json");
	if (ok(m != NULL && !model_save_file(m, model_file, &err),
	       "a model trained and saved")) {
		test_whole(m, input);
		test_shards(m, input);
		test_keep(m);
		test_checks(m, input);
		test_bad_rows(m);
		test_recorded(m, input);
	}
	test_parse_shard();
	model_free(m);
	free(model_file);
	free(train_csv);
	free(input);
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return done_testing();
}

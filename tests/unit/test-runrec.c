/*
 * The run record: the inputs' JSON as the commands have always written
 * it, the run profile's round trip (write, read, write: the same bytes;
 * the drift statistics of the accumulators read back equal the
 * original's) and its malformed cases, and a run row added inside the
 * caller's transaction.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static char tmpdir[] = "/tmp/test-runrec.XXXXXX";

/* ---- inputs ---- */

static void test_inputs_json(void)
{
	struct runrec_input sb = {
		"input", "in.csv", "abc", 777, 1, "out.csv"
	};
	struct runrec_input drift[2] = {
		{ "input", "week.csv", "def", 10, -1, NULL },
		{ "reference", "-", NULL, 3, -1, NULL },
	};
	struct runrec_input train[2] = {
		{ "data", "t.csv", "0123", 3000, -1, NULL },
		{ "config", "spec.toml", "4567", -1, -1, NULL },
	};
	char *s;

	s = runrec_inputs_json(&sb, 1);
	is_str(s, "[{\"role\":\"input\",\"path\":\"in.csv\",\"sha256\":\"abc\","
	       "\"rows\":777,\"rejected\":1,\"output\":\"out.csv\"}]",
	       "inputs: score-batch's input, every key in order");
	free(s);
	s = runrec_inputs_json(drift, 2);
	is_str(s, "[{\"role\":\"input\",\"path\":\"week.csv\",\"sha256\":\"def\","
	       "\"rows\":10},{\"role\":\"reference\",\"path\":\"-\",\"rows\":3}]",
	       "inputs: a reference read from a pipe has no sha256");
	free(s);
	s = runrec_inputs_json(train, 2);
	is_str(s, "[{\"role\":\"data\",\"path\":\"t.csv\",\"sha256\":\"0123\","
	       "\"rows\":3000},{\"role\":\"config\",\"path\":\"spec.toml\","
	       "\"sha256\":\"4567\"}]",
	       "inputs: an uncounted file has no rows");
	free(s);
	s = runrec_inputs_json(NULL, 0);
	is_str(s, "[]", "inputs: none is an empty array");
	free(s);
}

/* ---- data and models ---- */

static uint64_t rng_state = 7;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(void)
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
}

/*
 * n rows: x1 continuous (a quantile grid), x2 on 0..9 (an exact grid;
 * with `shift`, some rows between its points), x3 continuous with gaps
 * when `gaps`, a city (with `unseen`, some rows of a city the training
 * never saw), and three targets.  `shift` moves x1.
 */
static char *write_csv(const char *name, int n, int gaps, int unseen,
		       double shift)
{
	static const char *const cities[] = { "Paris", "Lyon", "Nice" };
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");
	int i;

	if (!fp) {
		perror(path);
		exit(99);
	}
	fprintf(fp, "x1,x2,x3,city,yb,y3,yr\n");
	for (i = 0; i < n; i++) {
		double x1 = rng_normal() + shift, x3 = 2 * rng_normal();
		int x2 = (int)(rng_next() % 10), c = (int)(rng_next() % 3);
		double z = x1 - 0.3 * x2 + 0.5 * x3 + (c == 1) + rng_normal();

		fprintf(fp, "%.6f,%d%s,", x1, x2,
			shift != 0 && i % 5 == 2 ? ".5" : "");
		if (gaps && i % 9 == 4)
			fprintf(fp, ",");
		else
			fprintf(fp, "%.6f,", x3);
		fprintf(fp, "%s,%d,%s,%.6f\n",
			unseen && i % 13 == 6 ? "Rome" : cities[c], z > 0,
			z < -1 ? "lo" : z < 1 ? "mid" : "hi",
			2 * x1 + x3 + 0.1 * rng_normal());
	}
	if (fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

static struct model *train(const char *path, const char *target)
{
	static const char *const feats[] = { "x1", "x2", "x3", "city" };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct train_report rep;
	struct train_opts o;
	struct dataset *ds = NULL;
	struct model *m = NULL;

	train_opts_init(&o);
	o.target = target;
	o.features = feats;
	o.n_features = 4;
	if (dataset_load(path, NULL, &ds, &err) ||
	    train_fit(ds, &o, &m, &rep, &err)) {
		printf("# training on '%s': %s\n", target, err.msg);
		dataset_free(ds);
		return NULL;
	}
	train_report_release(&rep);
	dataset_free(ds);
	return m;
}

/* A set against m's baseline fed with the whole of `path`. */
static int profile_of(const struct model *m, const char *path,
		      struct drift_set *set)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct score_stream *ss = NULL;
	struct score_block b;
	int ret;

	drift_set_init(set, m, NULL, NULL);
	if ((ret = score_stream_open(m, path, NULL, &ss, &err))) {
		printf("# %s\n", err.msg);
		return ret;
	}
	while (!(ret = score_stream_next(ss, &b, &err)) && b.n)
		drift_set_add(set, &b);
	if (ret)
		printf("# %s\n", err.msg);
	score_stream_close(ss);
	return ret;
}

/* ---- the profile ---- */

static int same_double(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static int same_result(const struct drift_result *a,
		       const struct drift_result *b)
{
	return a->method == b->method &&
	       same_double(a->statistic, b->statistic) &&
	       same_double(a->error, b->error) &&
	       same_double(a->p_value, b->p_value) &&
	       same_double(a->threshold, b->threshold) &&
	       a->drifted == b->drifted && same_double(a->psi, b->psi) &&
	       a->count == b->count && a->missing == b->missing &&
	       same_double(a->missing_share, b->missing_share) &&
	       same_double(a->ref_missing_share, b->ref_missing_share) &&
	       same_double(a->unseen_share, b->unseen_share) &&
	       same_double(a->ref_unseen_share, b->ref_unseen_share) &&
	       same_double(a->outside_share, b->outside_share) &&
	       same_double(a->ref_outside_share, b->ref_outside_share) &&
	       a->quality == b->quality;
}

/* Every method's result on every accumulator of a and b agrees. */
static int same_statistics(const struct model *m, const struct drift_set *a,
			   const struct drift_set *b)
{
	static const enum drift_method methods[] = {
		DRIFT_AUTO, DRIFT_PSI, DRIFT_KS, DRIFT_WASSERSTEIN,
		DRIFT_CHI2, DRIFT_JS
	};
	struct drift_result ra, rb;
	size_t j, k;

	for (k = 0; k < sizeof(methods) / sizeof(*methods); k++) {
		for (j = 0; j <= m->n_features; j++) {
			const struct drift_acc *x = j < m->n_features ?
				&a->features[j] : &a->pred;
			const struct drift_acc *y = j < m->n_features ?
				&b->features[j] : &b->pred;

			memset(&ra, 0, sizeof(ra));
			memset(&rb, 0, sizeof(rb));
			drift_test(x, methods[k], NAN, &ra);
			drift_test(y, methods[k], NAN, &rb);
			if (!same_result(&ra, &rb)) {
				printf("# %s, column %zu: %.17g vs %.17g\n",
				       drift_method_name(methods[k]), j,
				       ra.statistic, rb.statistic);
				return 0;
			}
		}
	}
	return 1;
}

/*
 * Replace each "mean":NUMBER of s by "mean":_ in place, the numbers into
 * means[] (at most cap); the count.
 */
static size_t strip_means(char *s, double *means, size_t cap)
{
	char *p = s, *end, *q;
	size_t n = 0;

	while ((p = strstr(p, "\"mean\":"))) {
		p += 7;
		q = p;
		if (n < cap)
			means[n] = strtod(p, &end);
		else
			strtod(p, &end);
		n++;
		*q++ = '_';
		memmove(q, end, strlen(end) + 1);
		p = q;
	}
	return n;
}

/*
 * write, read, write: `exact` asks for the same bytes; otherwise the
 * same bytes but for the means, each within one unit in the last place
 * (the profile stores the mean; the sum read back is mean x count).
 * Then the statistics of what was read equal the original's.
 */
static void round_trip(const char *what, const struct model *m,
		       const char *current, int exact)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct drift_set orig, back;
	char *one = NULL, *two = NULL;
	double m1[64], m2[64];
	size_t n1, n2, k;
	int ret, close = 1;

	if (!ok(m && !profile_of(m, current, &orig), "%s: profiled", what))
		return;
	one = runrec_profile_json(&orig);
	ret = runrec_profile_read(m, one, "run 1", &back, &err);
	if (!is_int(ret, 0, "%s: the profile reads back", what))
		printf("# %s\n", err.msg);
	two = runrec_profile_json(&back);
	if (exact) {
		is_str(two, one, "%s: write, read, write gives the same bytes",
		       what);
	} else {
		n1 = strip_means(one, m1, 64);
		n2 = strip_means(two, m2, 64);
		is_str(two, one, "%s: the same bytes but for the means", what);
		for (k = 0; k < n1 && k < 64 && n1 == n2; k++)
			close = close && (m1[k] == m2[k] ||
					  nextafter(m1[k], m2[k]) == m2[k]);
		ok(n1 == n2 && n1 == m->n_features + 1 && close,
		   "%s: each mean within one ulp", what);
	}
	ok(same_statistics(m, &orig, &back),
	   "%s: every method's statistics read back equal", what);
	drift_set_release(&orig);
	drift_set_release(&back);
	free(one);
	free(two);
}

static void test_profile_round_trip(const char *train_csv)
{
	static const char *const targets[] = { "yb", "y3", "yr" };
	/* 256 rows, no gaps: every count a power of two, so mean x count
	 * is the sum again and the bytes come back whole. */
	char *whole = write_csv("whole.csv", 256, 0, 1, 0.5);
	char *gappy = write_csv("gappy.csv", 1000, 1, 1, 0.8);
	char what[64];
	size_t t;

	for (t = 0; t < 3; t++) {
		struct model *m = train(train_csv, targets[t]);

		snprintf(what, sizeof(what), "%s, 256 rows", targets[t]);
		round_trip(what, m, whole, 1);
		snprintf(what, sizeof(what), "%s, 1000 rows with gaps",
			 targets[t]);
		round_trip(what, m, gappy, 0);
		model_free(m);
	}
	free(whole);
	free(gappy);
}

/* Replace the first `from` in s by `to`; the caller frees the result. */
static char *edit(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	if (!p)
		return xstrdup("(no match)");
	return xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

static void test_profile_malformed(const char *train_csv)
{
	struct model *m = train(train_csv, "yb");
	struct mlops_err err = MLOPS_ERR_INIT;
	struct drift_set set;
	char *good = NULL, *bad[12], *no_insum;
	const char *why[12];
	size_t n = 0, k;
	char *p, *q;
	int ret;

	if (!ok(m && !profile_of(m, train_csv, &set), "malformed: setup"))
		return;
	good = runrec_profile_json(&set);
	drift_set_release(&set);
	bad[n] = NULL, why[n++] = "no text";
	bad[n] = xstrdup("{\"features\":"), why[n++] = "not JSON";
	bad[n] = xstrdup("[]"), why[n++] = "an array";
	bad[n] = edit(good, "\"features\"", "\"feature\""),
		why[n++] = "no features";
	bad[n] = edit(good, "\"x3\"", "\"x4\""), why[n++] = "a feature missing";
	bad[n] = edit(good, "\"prediction\"", "\"predictions\""),
		why[n++] = "no prediction";
	bad[n] = edit(good, "\"le\":[0,", "\"le\":["),
		why[n++] = "a grid of another length";
	bad[n] = edit(good, "\"lt\":[0,", "\"lt\":[-1,"),
		why[n++] = "a negative count";
	bad[n] = edit(good, "\"count\":", "\"count\":1e300,\"c\":"),
		why[n++] = "a count no integer holds";
	bad[n] = edit(good, "\"levels\":[", "\"levels\":[1,"),
		why[n++] = "levels of another length";
	bad[n] = edit(good, "\"x1\":{", "\"x1\":[{"),
		why[n++] = "a feature not an object";
	for (k = 0; k < n; k++) {
		err = (struct mlops_err)MLOPS_ERR_INIT;
		ret = runrec_profile_read(m, bad[k], "run 7", &set, &err);
		drift_set_release(&set);
		is_int(ret, MLOPS_ECORRUPT, "malformed: %s", why[k]);
		is_str(err.msg, "run 7: its recorded profile is unreadable",
		       "malformed: %s, the message", why[k]);
		free(bad[k]);
	}
	/* Runs recorded before exact grids: no insum, read as zeros. */
	no_insum = xstrdup(good);
	while ((p = strstr(no_insum, ",\"insum\":["))) {
		q = strchr(p, ']');
		memmove(p, q + 1, strlen(q + 1) + 1);
	}
	ok(strcmp(no_insum, good) != 0, "old profile: there was an insum");
	err = (struct mlops_err)MLOPS_ERR_INIT;
	is_int(runrec_profile_read(m, no_insum, "run 8", &set, &err), 0,
	       "old profile: a profile without insum reads");
	drift_set_release(&set);
	free(no_insum);
	free(good);
	model_free(m);
}

/* ---- the run row ---- */

static void test_run_in_transaction(void)
{
	char *path = xasprintf("%s/registry.db", tmpdir);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct registry *reg = NULL;
	struct repo repo = { 0 };
	struct runrec rl;
	struct reg_run run = { 0 };
	struct reg_run_row row = { 0 };
	long long id = -1, id2 = -1;
	int ret;

	if (!ok(!registry_create(path, &err) &&
		!registry_open(path, 1, 1000, &reg, &err), "registry: open")) {
		printf("# %s\n", err.msg);
		free(path);
		return;
	}
	runrec_start(&rl);
	run.kind = "score-batch";
	run.passed = -1;
	run.inputs_json = "[]";
	run.duration_s = -1;
	runrec_stamp(&rl, &run);
	is_str(run.started_at, rl.started_at, "runrec_stamp: the clock's start");
	ok(run.duration_s >= 0, "runrec_stamp: a duration");
	ret = registry_begin(reg, &err) ||
	      runrec_add(reg, &run, &id, &err);
	registry_rollback(reg);
	ok(!ret && id > 0, "runrec_add: a run inside the caller's transaction");
	is_int(registry_get_run(reg, id, &row, &err), MLOPS_ENOTFOUND,
	       "runrec_add: the caller's rollback takes it back");
	reg_run_row_release(&row);
	ret = registry_begin(reg, &err) ||
	      runrec_add(reg, &run, &id, &err) ||
	      registry_commit(reg, &err);
	ok(!ret, "runrec_add: the caller commits");
	memset(&row, 0, sizeof(row));
	if (is_int(registry_get_run(reg, id, &row, &err), 0,
		   "runrec_add: committed, the run is there")) {
		is_str(row.started_at, rl.started_at,
		       "runrec_add: with the clock's start");
		ok(row.duration_s == run.duration_s,
		   "runrec_add: the duration stamped before the transaction");
		is_str(row.inputs_json, "[]", "runrec_add: and its inputs");
	}
	reg_run_row_release(&row);
	repo.reg = reg;
	ret = runrec_record(&repo, &rl, &run, &id2, &err);
	ok(!ret && id2 == id + 1, "runrec_record: in its own transaction");
	ret = runrec_record(NULL, &rl, &run, &id2, &err);
	ok(!ret && id2 == 0, "runrec_record: without a repository, nothing");
	registry_close(reg);
	unlink(path);
	free(path);
}

int main(void)
{
	char *train_csv, *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_inputs_json();
	train_csv = write_csv("train.csv", 2000, 1, 0, 0);
	test_profile_round_trip(train_csv);
	test_profile_malformed(train_csv);
	test_run_in_transaction();
	free(train_csv);
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return done_testing();
}

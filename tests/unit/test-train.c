/*
 * Training: parity with scikit-learn, then the contract of train_fit.
 *
 * Parity: tests/parity/make-reference.py wrote three CSVs and, in
 * reference.json, what scikit-learn's equivalent pipelines fitted on all
 * their rows (see tests/parity/README.md).  Each model is trained here
 * with holdout 0, and must agree: design column order, imputation and
 * scaling, coefficients and intercepts to 1e-4 relative (1e-6 absolute
 * for tiny ones), in-sample log loss or R^2 to 1e-6 -- computed through
 * the scoring path (score_stream, i.e. predict_columns) and metrics.c.
 *
 * Contract: same seed, same bytes; a different seed, another holdout;
 * max_iter 1 gives a model with converged 0; a single-class target is
 * MLOPS_EINPUT; an unknown --features column and other bad options are
 * MLOPS_EUSAGE.
 */

#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "dataset.h"
#include "metrics.h"
#include "model.h"
#include "predict.h"
#include "profile.h"
#include "score.h"
#include "train.h"
#include "xalloc.h"
#include "tap.h"

#define COEF_REL 1e-4
#define COEF_ABS 1e-6
#define FIT_TOL 1e-6

static char *parity_dir;
static char tmpdir[] = "/tmp/test-train.XXXXXX";

/* TEST_SRCDIR under `make check`; else next to this source file. */
static char *find_parity_dir(void)
{
	const char *top = getenv("TEST_SRCDIR");
	char *file, *dir;

	if (top && *top)
		return xasprintf("%s/parity", top);
	file = xstrdup(__FILE__);
	dir = xasprintf("%s/../parity", dirname(file));
	free(file);
	return dir;
}

static struct dataset *load(const char *path)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct dataset *ds = NULL;

	if (dataset_load(path, NULL, &ds, &err)) {
		printf("# dataset_load: %s\n", err.msg);
		return NULL;
	}
	return ds;
}

static int algo_of(const char *name)
{
	if (!strcmp(name, "logistic"))
		return TRAIN_LOGISTIC;
	if (!strcmp(name, "softmax"))
		return TRAIN_SOFTMAX;
	if (!strcmp(name, "ridge"))
		return TRAIN_RIDGE;
	return TRAIN_LINEAR;
}

/* ---- parity ---- */

/* Name of design column j: "x1", or "region=east" for a level. */
static char *design_name(const struct model *m, size_t j)
{
	size_t i;

	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];

		if (f->kind == FEATURE_NUMERIC && f->offset == j)
			return xstrdup(f->name);
		if (f->kind == FEATURE_CATEGORICAL && j >= f->offset &&
		    j < f->offset + f->n_levels)
			return xasprintf("%s=%s", f->name,
					 f->levels[j - f->offset]);
	}
	return xstrdup("?");
}

static void check_design(const struct model *m, const cJSON *ref,
			 const char *what)
{
	const cJSON *names = cJSON_GetObjectItem(ref, "design"), *v;
	size_t j = 0;
	int same;

	same = (size_t)cJSON_GetArraySize(names) == m->n_inputs;
	cJSON_ArrayForEach(v, names) {
		char *mine;

		if (j >= m->n_inputs)
			break;
		mine = design_name(m, j++);
		if (strcmp(mine, v->valuestring)) {
			printf("# design column %zu: '%s', sklearn '%s'\n",
			       j - 1, mine, v->valuestring);
			same = 0;
		}
		free(mine);
	}
	ok(same, "%s: design columns in sklearn's order (%zu)", what,
	   m->n_inputs);
}

static void check_preprocessing(const struct model *m, const cJSON *ref,
				const char *what)
{
	const cJSON *pre = cJSON_GetObjectItem(ref, "preprocessing"), *p;
	size_t i = 0;
	int same = (size_t)cJSON_GetArraySize(pre) == m->n_features;

	cJSON_ArrayForEach(p, pre) {
		const struct feature *f;

		if (i >= m->n_features)
			break;
		f = &m->features[i++];
		if (strcmp(f->name,
			   cJSON_GetObjectItem(p, "name")->valuestring)) {
			same = 0;
			continue;
		}
		if (f->kind == FEATURE_NUMERIC) {
			double c, s, im;

			c = cJSON_GetObjectItem(p, "center")->valuedouble;
			s = cJSON_GetObjectItem(p, "scale")->valuedouble;
			im = cJSON_GetObjectItem(p, "impute")->valuedouble;

			if (fabs(f->center - c) > 1e-12 * fabs(c) + 1e-14 ||
			    fabs(f->scale - s) > 1e-12 * s ||
			    fabs(f->impute - im) > 1e-12 * fabs(im) + 1e-14) {
				printf("# %s: center %.17g/%.17g "
				       "scale %.17g/%.17g\n", f->name,
				       f->center, c, f->scale, s);
				same = 0;
			}
		} else {
			const char *imp =
				cJSON_GetObjectItem(p, "impute")->valuestring;

			if (f->impute_level < 0 ||
			    strcmp(f->levels[f->impute_level], imp)) {
				printf("# %s: imputes '%s', sklearn '%s'\n",
				       f->name, f->impute_level < 0 ? "" :
				       f->levels[f->impute_level], imp);
				same = 0;
			}
		}
	}
	ok(same, "%s: imputation, centre and scale as sklearn's", what);
}

/* Compare one coefficient; track the largest relative difference. */
static int coef_close(double got, double want, double *max_rel)
{
	double diff = fabs(got - want);

	if (fabs(want) > COEF_ABS && diff / fabs(want) > *max_rel)
		*max_rel = diff / fabs(want);
	return diff <= COEF_REL * fabs(want) || diff <= COEF_ABS;
}

static void check_coefficients(const struct model *m, const cJSON *ref,
			       const char *what)
{
	const cJSON *rows = cJSON_GetObjectItem(ref, "coefficients"), *row, *v;
	const cJSON *icpt = cJSON_GetObjectItem(ref, "intercepts");
	double max_rel = 0, max_abs = 0;
	size_t k = 0, j, bad = 0;

	if (!ok((size_t)cJSON_GetArraySize(rows) == m->n_outputs &&
		(size_t)cJSON_GetArraySize(icpt) == m->n_outputs,
		"%s: %zu rows of coefficients", what, m->n_outputs))
		return;
	cJSON_ArrayForEach(row, rows) {
		j = 0;
		if ((size_t)cJSON_GetArraySize(row) != m->n_inputs) {
			bad++;
			break;
		}
		cJSON_ArrayForEach(v, row) {
			double got = m->coef[k * m->n_inputs + j];

			if (fabs(got - v->valuedouble) > max_abs)
				max_abs = fabs(got - v->valuedouble);
			if (!coef_close(got, v->valuedouble, &max_rel)) {
				printf("# coef[%zu][%zu] %.12g, "
				       "sklearn %.12g\n", k, j, got,
				       v->valuedouble);
				bad++;
			}
			j++;
		}
		k++;
	}
	k = 0;
	cJSON_ArrayForEach(v, icpt) {
		if (fabs(m->intercept[k] - v->valuedouble) > max_abs)
			max_abs = fabs(m->intercept[k] - v->valuedouble);
		if (!coef_close(m->intercept[k], v->valuedouble, &max_rel)) {
			printf("# intercept[%zu] %.12g, sklearn %.12g\n", k,
			       m->intercept[k], v->valuedouble);
			bad++;
		}
		k++;
	}
	printf("# %s: max relative coefficient difference %.3g "
	       "(max absolute %.3g)\n", what, max_rel, max_abs);
	ok(!bad, "%s: coefficients and intercepts agree to %g relative",
	   what, COEF_REL);
}

/*
 * In-sample fit through the scoring path: stream the CSV, keep the
 * target column, compute the metrics over every row.
 */
static void check_fit(const struct model *m, const char *path,
		      const cJSON *ref, const char *what)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct score_stream *ss = NULL;
	struct score_block b;
	struct metric met[MODEL_MAX_METRICS];
	size_t n = 0, alloc = 0, w = score_width(m), i, k, n_met;
	double *pred = NULL, *yv = NULL, got, want;
	uint32_t *cls = NULL;
	long col;
	const char *name;

	if (score_stream_open(m, path, NULL, &ss, &err)) {
		ok(0, "%s: score_stream_open: %s", what, err.msg);
		return;
	}
	col = score_stream_find(ss, m->target);
	if (col >= 0) {
		size_t c = (size_t)col;

		score_stream_set_extra(ss, &c, 1);
	}
	while (!score_stream_next(ss, &b, &err) && b.n) {
		XGROW(pred, alloc, (n + b.n) * w);
		yv = xreallocarray(yv, n + b.n, sizeof(double));
		cls = xreallocarray(cls, n + b.n, sizeof(uint32_t));
		memcpy(pred + n * w, b.pred, b.n * w * sizeof(double));
		for (i = 0; i < b.n; i++) {
			const char *label = b.extra[i];

			yv[n + i] = strtod(label, NULL);
			cls[n + i] = UINT32_MAX;
			for (k = 0; k < m->n_classes; k++)
				if (!strcmp(label, m->classes[k]))
					cls[n + i] = (uint32_t)k;
		}
		n += b.n;
	}
	is_int((long long)n, cJSON_GetObjectItem(ref, "n_rows")->valueint,
	       "%s: scored every row", what);
	if (m->task == TASK_REGRESSION) {
		name = "r2";
		n_met = metrics_regression(yv, pred, n, met);
	} else {
		for (i = 0; i < n && cls[i] != UINT32_MAX; i++)
			;
		ok(i == n, "%s: every label is a class of the model", what);
		name = "logloss";
		n_met = metrics_classification(m->task, m->n_classes,
					       (const char *const *)m->classes,
					       cls, pred, n, met, NULL);
	}
	got = NAN;
	for (i = 0; i < n_met; i++)
		if (!strcmp(met[i].name, name))
			got = met[i].value;
	want = cJSON_GetObjectItem(ref, name)->valuedouble;
	printf("# %s: in-sample %s %.12f, sklearn %.12f, difference %.3g\n",
	       what, name, got, want, got - want);
	is_double(got, want, FIT_TOL, "%s: in-sample %s agrees to %g", what,
		  name, FIT_TOL);
	score_stream_close(ss);
	free(pred);
	free(yv);
	free(cls);
}

static void check_classes(const struct model *m, const cJSON *ref,
			  const char *what)
{
	const cJSON *c = cJSON_GetObjectItem(ref, "classes"), *v;
	size_t k = 0;
	int same;

	if (!c)
		return;
	same = (size_t)cJSON_GetArraySize(c) == m->n_classes;
	cJSON_ArrayForEach(v, c)
		if (same && strcmp(m->classes[k++], v->valuestring))
			same = 0;
	ok(same, "%s: classes in sklearn's order", what);
}

static void test_parity(void)
{
	char *path = xasprintf("%s/reference.json", parity_dir);
	char *text = tap_slurp(path, NULL);
	cJSON *doc = text ? cJSON_Parse(text) : NULL, *ref;

	if (!ok(doc != NULL, "read %s", path)) {
		free(path);
		free(text);
		return;
	}
	cJSON_ArrayForEach(ref, cJSON_GetObjectItem(doc, "models")) {
		const char *data =
			cJSON_GetObjectItem(ref, "data")->valuestring;
		const char *algo =
			cJSON_GetObjectItem(ref, "algorithm")->valuestring;
		char *csv = xasprintf("%s/%s", parity_dir, data);
		const cJSON *feats = cJSON_GetObjectItem(ref, "features"), *v;
		const char *names[64];
		size_t n_names = 0;
		char *what = xasprintf("%s %s%s", algo, data,
				       feats ? " (numeric columns)" : "");
		struct mlops_err err = MLOPS_ERR_INIT;
		struct train_report rep;
		struct train_opts o;
		struct dataset *ds = load(csv);
		struct model *m = NULL;
		int ret;

		if (!ok(ds != NULL, "%s: loaded", what))
			goto next;
		train_opts_init(&o);
		o.target = cJSON_GetObjectItem(ref, "target")->valuestring;
		o.algo = algo_of(algo);
		o.holdout = 0;
		o.tol = 1e-10;
		o.max_iter = 1000;
		cJSON_ArrayForEach(v, feats)
			if (n_names < 64)
				names[n_names++] = v->valuestring;
		if (feats) {
			o.features = names;
			o.n_features = n_names;
		}
		ret = train_fit(ds, &o, &m, &rep, &err);
		if (!is_int(ret, 0, "%s: train_fit", what)) {
			printf("# %s\n", err.msg);
			goto next;
		}
		ok(m->converged, "%s: converged in %ld iterations", what,
		   m->n_iter);
		is_int((long long)rep.n_holdout, 0, "%s: no holdout", what);
		is_int((long long)m->n_rows,
		       cJSON_GetObjectItem(ref, "n_rows")->valueint,
		       "%s: trained on every row", what);
		check_classes(m, ref, what);
		check_design(m, ref, what);
		check_preprocessing(m, ref, what);
		check_coefficients(m, ref, what);
		check_fit(m, csv, ref, what);
		train_report_release(&rep);
next:
		model_free(m);
		dataset_free(ds);
		free(csv);
		free(what);
	}
	cJSON_Delete(doc);
	free(text);
	free(path);
}

/* ---- the contract ---- */

static struct model *fit(struct dataset *ds, struct train_opts *o,
			 int *ret, struct mlops_err *err)
{
	struct train_report rep;
	struct model *m = NULL;

	memset(err, 0, sizeof(*err));
	*ret = train_fit(ds, o, &m, &rep, err);
	if (!*ret)
		train_report_release(&rep);
	return m;
}

static char *bytes_of(const struct model *m)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	char *bytes = NULL;
	size_t len;

	if (model_to_bytes(m, &bytes, &len, &err))
		return NULL;
	return bytes;
}

static void test_determinism(struct dataset *ds)
{
	struct mlops_err err;
	struct train_opts o;
	struct model *a, *b, *c;
	char *ba, *bb, *bc;
	int ret;

	train_opts_init(&o);
	o.target = "y";
	o.seed = 7;
	a = fit(ds, &o, &ret, &err);
	b = fit(ds, &o, &ret, &err);
	o.seed = 8;
	c = fit(ds, &o, &ret, &err);
	if (!ok(a && b && c, "determinism: three fits")) {
		printf("# %s\n", err.msg);
		goto out;
	}
	ok(a->created_at == NULL, "train_fit leaves created_at to the caller");
	is_int(a->algo, ALGO_LOGISTIC, "auto: a 0/1 target is logistic");
	ok(a->n_metrics > 0 && !isnan(model_metric(a, "auc")),
	   "holdout metrics recorded (auc %g)", model_metric(a, "auc"));
	ba = bytes_of(a);
	bb = bytes_of(b);
	bc = bytes_of(c);
	ok(ba && bb && !strcmp(ba, bb), "same seed: identical artefact bytes");
	ok(ba && bc && strcmp(ba, bc),
	   "another seed: another holdout, other bytes");
	is_int((long long)c->seed, 8, "the seed is recorded");
	free(ba);
	free(bb);
	free(bc);
out:
	model_free(a);
	model_free(b);
	model_free(c);
}

static void test_no_convergence(struct dataset *bin,
				struct dataset *multi)
{
	struct mlops_err err;
	struct train_opts o;
	struct model *m;
	int ret;

	train_opts_init(&o);
	o.target = "y";
	o.holdout = 0;
	o.tol = 1e-14;
	o.max_iter = 1;
	m = fit(bin, &o, &ret, &err);
	is_int(ret, 0, "logistic, max_iter 1: still a model");
	if (m) {
		is_int(m->converged, 0, "logistic, max_iter 1: converged 0");
		is_int(m->n_iter, 1, "logistic, max_iter 1: one iteration");
		is_int(m->max_iter, 1, "logistic, max_iter 1: recorded");
	}
	model_free(m);

	o.target = "species";
	m = fit(multi, &o, &ret, &err);
	is_int(ret, 0, "softmax, max_iter 1: still a model");
	if (m) {
		is_int(m->converged, 0, "softmax, max_iter 1: converged 0");
		is_int(m->task, TASK_MULTICLASS,
		       "auto: text with 3 values is multiclass");
	}
	model_free(m);
}

/* A new file in the test folder, open to write; failing is a hard error. */
static FILE *create_tmp(const char *name, char **path)
{
	FILE *fp;

	*path = xasprintf("%s/%s", tmpdir, name);
	if (!(fp = fopen(*path, "w"))) {
		perror(*path);
		exit(99);
	}
	return fp;
}

static char *write_tmp(const char *name, const char *data)
{
	char *path;
	FILE *fp = create_tmp(name, &path);

	if (fputs(data, fp) == EOF || fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

/* The next value of a 64-bit LCG, as a double in [0, 1). */
static double uniform(uint64_t *state)
{
	*state = *state * 6364136223846793005u + 1442695040888963407u;
	return (double)(*state >> 11) / 9007199254740992.0;
}

static void expect_fail(struct dataset *ds, struct train_opts *o,
			int code, const char *needle, const char *what)
{
	struct mlops_err err;
	struct model *m;
	int ret;

	m = fit(ds, o, &ret, &err);
	is_int(ret, code, "%s: status %d", what, code);
	ok(m == NULL, "%s: no model", what);
	if (!ok(strstr(err.msg, needle) != NULL, "%s: message mentions '%s'",
		what, needle))
		printf("# message: %s\n", err.msg);
	model_free(m);
}

static void test_errors(struct dataset *bin)
{
	static const char *const unknown[] = { "x1", "nope" };
	static const char *const with_target[] = { "x1", "y" };
	static const char *const twice[] = { "x1", "x2", "x1" };
	char *one = write_tmp("one.csv",
			      "a,b,y\n1,2,yes\n3,4,yes\n5,6,yes\n7,8,\n");
	char *three = write_tmp("three.csv",
				"a,y\n1,p\n2,q\n3,r\n4,p\n5,q\n6,r\n");
	struct dataset *ds1 = load(one), *ds3 = load(three);
	struct train_opts o;

	train_opts_init(&o);
	o.target = "y";
	o.holdout = 0;
	if (ds1)
		expect_fail(ds1, &o, MLOPS_EINPUT, "single class",
			    "one class only");
	o.algo = TRAIN_LOGISTIC;
	if (ds1)
		expect_fail(ds1, &o, MLOPS_EINPUT, "single class",
			    "one class only, logistic");
	if (ds3)
		expect_fail(ds3, &o, MLOPS_EUSAGE, "two classes",
			    "logistic on three classes");
	o.algo = TRAIN_LINEAR;
	if (ds3)
		expect_fail(ds3, &o, MLOPS_EUSAGE, "numeric target",
			    "linear on a text target");
	o.algo = TRAIN_AUTO;

	o.features = unknown;
	o.n_features = 2;
	expect_fail(bin, &o, MLOPS_EUSAGE, "'nope'",
		    "unknown --features column");
	o.features = with_target;
	expect_fail(bin, &o, MLOPS_EUSAGE, "target",
		    "target among the features");
	o.features = twice;
	o.n_features = 3;
	expect_fail(bin, &o, MLOPS_EUSAGE, "'x1' is named twice",
		    "a --features column named twice");
	o.features = NULL;
	o.n_features = 0;
	o.exclude = NULL;
	o.n_exclude = 0;
	o.target = "nope";
	expect_fail(bin, &o, MLOPS_EUSAGE, "'nope'", "unknown target");
	o.target = "y";
	o.holdout = 0.95;
	expect_fail(bin, &o, MLOPS_EUSAGE, "holdout", "holdout above 0.9");
	o.holdout = 0;
	o.max_iter = 0;
	expect_fail(bin, &o, MLOPS_EUSAGE, "max-iter", "max_iter 0");
	o.max_iter = 100;
	o.C = 0;
	expect_fail(bin, &o, MLOPS_EUSAGE, "--C", "C 0");

	dataset_free(ds1);
	dataset_free(ds3);
	unlink(one);
	unlink(three);
	free(one);
	free(three);
}

/* Rows without a target are dropped and counted. */
static void test_dropped(void)
{
	char *path = write_tmp("drop.csv",
			       "x,y\n1,0\n2,1\n3,\n4,0\n5,1\n6,NA\n7,1\n8,0\n");
	struct dataset *ds = load(path);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct train_report rep;
	struct train_opts o;
	struct model *m = NULL;

	train_opts_init(&o);
	o.target = "y";
	o.holdout = 0;
	if (ds && !train_fit(ds, &o, &m, &rep, &err)) {
		is_int((long long)rep.n_dropped, 2,
		       "rows without a target dropped");
		is_int((long long)rep.n_train, 6, "the rest trained on");
		is_int((long long)m->n_rows, 6,
		       "n_rows counts the training rows");
		train_report_release(&rep);
	} else {
		ok(0, "train on drop.csv: %s", err.msg);
	}
	model_free(m);
	dataset_free(ds);
	unlink(path);
	free(path);
}

/*
 * A long table starts from a sample's solution: the model must be the one
 * a cold start reaches.  Rows in runs that differ from each other, so
 * that a sample of runs is not the whole story.
 */
static void test_warm_start(void)
{
	static const struct {
		const char *name, *target;
	} tasks[] = { { "logistic", "y" }, { "softmax", "k" } };
	char *path;
	FILE *fp = create_tmp("long.csv", &path);
	uint64_t state = 42;
	struct dataset *ds = NULL;
	size_t i, t, j, v;

	fputs("a,b,c,g,y,k\n", fp);
	for (i = 0; i < 3000; i++) {
		double x[3], z;

		for (j = 0; j < 3; j++)
			x[j] = uniform(&state) * 4 - 2;
		z = 1.5 * x[0] - x[1] + 0.5 * x[2] + (i / 64 % 3 == 0 ? 0.8 : -0.3);
		fprintf(fp, "%.4f,%.4f,%.4f,%s,%d,%s\n", x[0], x[1], x[2],
			i % 3 == 0 ? "u" : i % 3 == 1 ? "v" : "w",
			uniform(&state) <
			1 / (1 + exp(-z)),
			z > 1 ? "hi" : z > -1 ? "mid" : "lo");
	}
	fclose(fp);
	ds = load(path);
	/*
	 * From 1000 rows the fit starts from a sample's solution (300
	 * rows here); from 256, that sample also starts from its own (37).
	 */
	for (v = 0; ds && v < 2 * sizeof(tasks) / sizeof(tasks[0]); v++) {
		size_t min_rows = v & 1 ? 256 : 1000;
		struct train_opts o;
		struct mlops_err err;
		struct model *warm, *cold;
		double rel = 0;
		int ret;

		t = v / 2;
		train_opts_init(&o);
		o.target = tasks[t].target;
		o.algo = algo_of(tasks[t].name);
		o.exclude = (const char *const[]){ t ? "y" : "k" };
		o.n_exclude = 1;
		o.warm_min_rows = min_rows;
		warm = fit(ds, &o, &ret, &err);
		o.warm_min_rows = SIZE_MAX;
		cold = fit(ds, &o, &ret, &err);
		if (ok(warm && cold, "warm start from %zu rows, %s: both fit",
		       min_rows, tasks[t].name)) {
			ok(warm->converged && cold->converged,
			   "warm start from %zu rows, %s: both converged (%ld, %ld iterations)",
			   min_rows, tasks[t].name, warm->n_iter,
			   cold->n_iter);
			for (i = 0; i < warm->n_outputs * warm->n_inputs; i++)
				coef_close(warm->coef[i], cold->coef[i], &rel);
			for (i = 0; i < warm->n_outputs; i++)
				coef_close(warm->intercept[i], cold->intercept[i],
					   &rel);
			/* Both stop within --tol of the optimum; the sample's
			 * own optimum, unpolished, is off by a relative
			 * difference of order 1 on this table. */
			ok(rel < 1e-5,
			   "warm start from %zu rows, %s: the cold start's coefficients (max relative difference %.2g)",
			   min_rows, tasks[t].name, rel);
		}
		model_free(warm);
		model_free(cold);
	}
	dataset_free(ds);
	unlink(path);
	free(path);
}

/*
 * The predictions' baseline profile is that of what scoring the training
 * rows gives, whichever pass produced the values: the solver's last
 * gradient pass (a warm start ends on one) or a scoring pass (a cold
 * start here ends on one with the Hessian).
 */
static void test_prediction_profile(void)
{
	char *path;
	FILE *fp = create_tmp("pred.csv", &path);
	uint64_t state = 7;
	struct dataset *ds = NULL;
	size_t i, j, v;

	fputs("a,b,c,y\n", fp);
	for (i = 0; i < 3000; i++) {
		double x[3], z;

		for (j = 0; j < 3; j++)
			x[j] = uniform(&state) * 4 - 2;
		z = 1.2 * x[0] - x[1] + 0.4 * x[2] - 0.2;
		fprintf(fp, "%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2],
			uniform(&state) < 1 / (1 + exp(-z)));
	}
	fclose(fp);
	ds = load(path);
	for (v = 0; ds && v < 2; v++) {
		struct mlops_err err = MLOPS_ERR_INIT;
		struct score_stream *ss = NULL;
		struct score_block b;
		struct train_opts o;
		struct model *m;
		struct profile want;
		double *pred = xmallocarray(3000, sizeof(double)), rel = 0;
		size_t n = 0, k, bad = 0;
		int ret;

		train_opts_init(&o);
		o.target = "y";
		o.algo = algo_of("logistic");
		o.holdout = 0;
		o.warm_min_rows = v ? 256 : SIZE_MAX;
		m = fit(ds, &o, &ret, &err);
		if (!ok(m && !score_stream_open(m, path, NULL, &ss, &err),
			"prediction profile (%s start): fit and score",
			v ? "warm" : "cold")) {
			model_free(m);
			free(pred);
			continue;
		}
		while (!score_stream_next(ss, &b, &err) && b.n && n + b.n <= 3000) {
			memcpy(pred + n, b.pred, b.n * sizeof(double));
			n += b.n;
		}
		score_stream_close(ss);
		profile_numeric(&want, pred, n);
		is_int((long long)m->pred_profile.count, (long long)n,
		       "prediction profile (%s start): every training row",
		       v ? "warm" : "cold");
		for (k = 0; k <= PROFILE_QUANTILES; k++) {
			double d = fabs(m->pred_profile.quantiles[k] -
					want.quantiles[k]) / want.quantiles[k];

			rel = d > rel ? d : rel;
			bad += !(d < 1e-12);
		}
		rel = fmax(rel, fabs(m->pred_profile.mean - want.mean) /
				want.mean);
		rel = fmax(rel, fabs(m->pred_profile.std - want.std) /
				want.std);
		ok(!bad && rel < 1e-12,
		   "prediction profile (%s start): scoring's quantiles, mean and deviation (max relative difference %.2g)",
		   v ? "warm" : "cold", rel);
		profile_release(&want);
		model_free(m);
		free(pred);
	}
	dataset_free(ds);
	unlink(path);
	free(path);
}

/*
 * predict.h's arithmetic written out plainly on one design row, as the
 * oracle: per output, term j into partial sum j % 4 (the last p % 4 into
 * sum 0), (s0 + s1) + (s2 + s3), the intercept, the link.
 */
static void oracle_predict(const struct model *m, const double *row,
			   double *out)
{
	size_t p = m->n_inputs, K = m->n_outputs, o, j;
	double z[64], zmax = -INFINITY, sum = 0;

	for (o = 0; o < K && o < 64; o++) {
		const double *w = m->coef + o * p;
		double s[4] = { 0, 0, 0, 0 };

		for (j = 0; j < p; j++)
			s[j < p - p % 4 ? j % 4 : 0] += row[j] * w[j];
		z[o] = (s[0] + s[1]) + (s[2] + s[3]) + m->intercept[o];
	}
	if (m->task == TASK_REGRESSION) {
		out[0] = z[0];
		return;
	}
	if (m->task == TASK_BINARY) {
		out[0] = 1 / (1 + exp(-z[0]));
		return;
	}
	for (o = 0; o < K; o++)
		zmax = z[o] > zmax ? z[o] : zmax;
	for (o = 0; o < K; o++)
		sum += out[o] = exp(z[o] - zmax);
	for (o = 0; o < K; o++)
		out[o] /= sum;
}

/*
 * Streams predict from raw values and levels (predict_columns), without
 * design rows: the bits must be the oracle's on scorer_encode()'s rows,
 * with gaps, indicators, unseen and missing levels, a level-less
 * imputation and a width that is not a multiple of four, for each task.
 */
static void test_stream_bits(void)
{
	static const char *const algos[] = { "logistic", "softmax", "linear" };
	static const char *const targets[] = { "yb", "y3", "yr" };
	static const char *const levels[] = { "u", "v", "w", "x", "y" };
	const char *exclude[2];
	char *path, *spath;
	FILE *fp = create_tmp("bits.csv", &path);
	FILE *sp = create_tmp("bits-score.csv", &spath);
	uint64_t state = 11;
	struct dataset *ds;
	size_t i, a, v;

	fputs("a,b,c,d,yb,y3,yr\n", fp);
	fputs("a,b,c,d,yb,y3,yr\n", sp);
	for (i = 0; i < 2000; i++) {
		double x = uniform(&state) * 4 - 2, y = uniform(&state) * 2;
		double d = uniform(&state) - 0.5, z = x - y + 2 * d;
		size_t c = (size_t)(uniform(&state) * 5);
		char line[160];
		int len = 0;

		if (i % 7 == 3)
			len += sprintf(line + len, ",");
		else
			len += sprintf(line + len, "%.5f,", x);
		if (i % 11 == 5)
			sprintf(line + len, ",");
		else
			sprintf(line + len, "%.5f,", y);
		/* scored: every 17th row a level training never saw */
		fprintf(sp, "%s%s,", line, i % 17 == 8 ? "zz" : i % 13 == 6 ?
			"" : levels[c]);
		fprintf(fp, "%s%s,", line, i % 13 == 6 ? "" : levels[c]);
		sprintf(line, "%.5f,%d,%d,%.5f\n", d, z > 0.3,
			z < -1 ? 0 : z < 1 ? 1 : 2, z + 0.1 * (double)c);
		fputs(line, fp);
		fputs(line, sp);
	}
	fclose(fp);
	fclose(sp);
	ds = load(path);
	for (a = 0; ds && a < 3; a++)
		for (v = 0; v < 2; v++) {
			struct mlops_err err = MLOPS_ERR_INIT;
			struct score_stream *ss = NULL;
			struct csv_reader *r = NULL;
			struct scorer *sc = NULL;
			struct csv_record rec;
			struct score_block b;
			struct train_opts o;
			struct model *m;
			double *row, *raw, want[8];
			int32_t *lev;
			size_t n = 0, bad = 0, k, w;
			int ret, eof = 0;

			train_opts_init(&o);
			o.target = targets[a];
			o.algo = algo_of(algos[a]);
			o.add_indicator = 1;
			exclude[0] = targets[(a + 1) % 3];
			exclude[1] = targets[(a + 2) % 3];
			o.exclude = exclude;
			o.n_exclude = 2;
			m = fit(ds, &o, &ret, &err);
			if (!ok(m && !score_stream_open(m, spath, NULL, &ss, &err) &&
				!csv_open(spath, NULL, &r, &err) &&
				!csv_next(r, &rec, &eof, &err) &&
				!scorer_new(m, &rec, spath, &sc, &err),
				"stream bits (%s%s): fit and open", algos[a],
				v ? ", no imputed level" : "")) {
				printf("# %s\n", err.msg);
				score_stream_close(ss);
				csv_close(r);
				model_free(m);
				continue;
			}
			for (k = 0; v && k < m->n_features; k++)
				if (m->features[k].kind == FEATURE_CATEGORICAL)
					m->features[k].impute_level = -1;
			w = score_width(m);
			row = xcalloc(m->n_inputs + 1, sizeof(double));
			raw = xcalloc(m->n_features + 1, sizeof(double));
			lev = xcalloc(m->n_features + 1, sizeof(int32_t));
			while (!score_stream_next(ss, &b, &err) && b.n) {
				for (i = 0; i < b.n; i++, n++) {
					if (csv_next(r, &rec, &eof, &err) || eof ||
					    scorer_encode(sc, &rec, row, raw, lev, &err)) {
						bad++;
						continue;
					}
					oracle_predict(m, row, want);
					bad += memcmp(want, b.pred + i * w,
						      w * sizeof(double)) != 0;
				}
			}
			is_int((long long)n, 2000, "stream bits (%s%s): every row",
			       algos[a], v ? ", no imputed level" : "");
			is_int((long long)bad, 0,
			       "stream bits (%s%s): %zu inputs, each row's predictions the bits of the oracle's",
			       algos[a], v ? ", no imputed level" : "", m->n_inputs);
			free(row);
			free(raw);
			free(lev);
			scorer_free(sc);
			csv_close(r);
			score_stream_close(ss);
			model_free(m);
		}
	dataset_free(ds);
	unlink(path);
	unlink(spath);
	free(path);
	free(spath);
}

/*
 * The one prediction path: the predictions training makes for its
 * baseline profile (and holdout metrics) are the bits a scoring stream
 * (score-batch, validate, drift) gives for the same rows of the same
 * file, for every model kind, with gaps (imputed, and with indicators),
 * categorical levels with gaps and ties, a level only the holdout holds
 * (unseen by the model), rows without a target, with and without
 * train_fit_take() (what the CLI calls) and a holdout.
 */
static void write_baseline_csv(const char *path, const size_t *t_rows,
			       size_t n_t)
{
	static const char *const levels[] = { "p", "q", "r", "s" };
	FILE *fp = fopen(path, "w");
	uint64_t state = 13;
	size_t i, k;

	fputs("a,g,b,h,yb,y3,yr\n", fp);
	for (i = 0; i < 2500; i++) {
		double x = uniform(&state) * 4 - 2, y = uniform(&state) * 3;
		size_t c = (size_t)(uniform(&state) * 4);
		size_t h = (size_t)(uniform(&state) * 3);
		double z = x - 0.5 * y + 0.4 * (double)c - 0.3 * (double)h +
			   uniform(&state) - 0.5;
		const char *g = i % 8 == 3 ? "" : levels[c];

		for (k = 0; k < n_t; k++)
			if (t_rows[k] == i)
				g = "t";
		if (i % 9 == 4)
			fputs(",", fp);
		else
			fprintf(fp, "%.3f,", x);
		fprintf(fp, "%s,%.2f,%s,", g, y, i % 11 == 2 ? "NA" : levels[h]);
		/* a few rows without a target; the holdout depends on these only */
		if (i % 97 == 5)
			fputs(",,\n", fp);
		else
			fprintf(fp, "%d,%d,%.4f\n", z > 0.5,
				z < 0 ? 0 : z < 1 ? 1 : 2, z);
	}
	fclose(fp);
}

static void test_baseline_bits(void)
{
	static const char *const algos[] = { "logistic", "softmax", "linear",
					     "ridge" };
	static const char *const targets[] = { "yb", "y3", "yr", "yr" };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct train_report rep;
	struct train_opts o;
	struct model *m = NULL;
	struct dataset *ds;
	char *path;
	size_t t_rows[3] = { SIZE_MAX, SIZE_MAX, SIZE_MAX }, a, v, i;

	fclose(create_tmp("baseline.csv", &path));
	/*
	 * The holdout depends only on which rows have a target: learn it,
	 * then give three of its rows a level "t" no training row has.
	 */
	write_baseline_csv(path, NULL, 0);
	ds = load(path);
	train_opts_init(&o);
	o.target = "yr";
	o.algo = TRAIN_LINEAR;
	o.keep_predictions = 1;
	if (ds && !train_fit(ds, &o, &m, &rep, &err)) {
		for (i = 0; i < 3; i++)
			t_rows[i] = rep.pred_rows[i * 100];
		train_report_release(&rep);
	}
	model_free(m);
	dataset_free(ds);
	write_baseline_csv(path, t_rows, 3);
	for (a = 0; a < 4; a++)
		for (v = 0; v < 4; v++) {
			struct score_stream *ss = NULL;
			struct score_block b;
			const char *exclude[2];
			double *scored = NULL;
			unsigned char *unseen = NULL;
			size_t n = 0, alloc = 0, bad = 0, n_unseen = 0, k, w = 0;
			size_t n_all = 0;
			char what[96];
			int ret;

			m = NULL;
			snprintf(what, sizeof(what), "baseline bits (%s, %s%s)",
				 algos[a], v & 1 ? "holdout 0.2" : "holdout 0",
				 v & 2 ? ", reused columns, indicators" : "");
			ds = load(path);
			train_opts_init(&o);
			o.target = targets[a];
			o.algo = algo_of(algos[a]);
			o.holdout = v & 1 ? 0.2 : 0;
			o.add_indicator = (v & 2) != 0;
			o.keep_predictions = 1;
			exclude[0] = a == 0 ? "y3" : "yb";
			exclude[1] = a >= 2 ? "y3" : "yr";
			o.exclude = exclude;
			o.n_exclude = 2;
			ret = !ds ? -1 : v & 2 ?
			      train_fit_take(&ds, &o, &m, &rep, &err) :
			      train_fit(ds, &o, &m, &rep, &err);
			dataset_free(ds);
			if (!ok(!ret && !score_stream_open(m, path, NULL, &ss, &err),
				"%s: fit and open", what)) {
				printf("# %s\n", err.msg);
				if (!ret)
					train_report_release(&rep);
				model_free(m);
				continue;
			}
			w = predict_width(m);
			while (!score_stream_next(ss, &b, &err) && b.n) {
				XGROW(scored, alloc, (n + b.n) * w);
				unseen = xrealloc(unseen, n + b.n);
				memcpy(scored + n * w, b.pred,
				       b.n * w * sizeof(double));
				for (i = 0; i < b.n; i++)
					unseen[n + i] = b.level[1 * b.ld + i] ==
							PREDICT_LEVEL_UNSEEN;
				n += b.n;
			}
			score_stream_close(ss);
			n_all = rep.n_holdout + rep.n_train;
			for (k = 0; k < n_all; k++) {
				size_t r = rep.pred_rows[k];

				if (r >= n) {
					bad++;
					continue;
				}
				n_unseen += unseen[r];
				bad += memcmp(rep.pred + k * w, scored + r * w,
					      w * sizeof(double)) != 0;
			}
			is_int((long long)n, 2500, "%s: scored every row", what);
			ok(n_all == 2500 - 26 && bad == 0,
			   "%s: the %zu training and %zu holdout rows' predictions are scoring's bits (%zu differ)",
			   what, rep.n_train, rep.n_holdout, bad);
			if (v & 1)
				ok(n_unseen > 0,
				   "%s: %zu holdout rows with a level unseen in training",
				   what, n_unseen);
			train_report_release(&rep);
			model_free(m);
			free(scored);
			free(unseen);
		}
	unlink(path);
	free(path);
}

/*
 * train_fit_take() (what the CLI calls) puts the feature columns in the
 * fit's row order and encodes the numeric ones in place; the model must
 * be the same, bit for bit, as without it: with a holdout and without,
 * with rows dropped for a missing target and with rows left in order
 * (ridge without a holdout), with missing values under mean
 * and median imputation, an indicator and categories, with and without
 * the warm start from a sample.
 */
static void test_fit_take(void)
{
	char *path;
	FILE *fp = create_tmp("reuse.csv", &path);
	uint64_t state = 5;
	size_t i, v;

	fputs("a,b,c,g,y,r\n", fp);
	for (i = 0; i < 2000; i++) {
		double x[3];

		for (v = 0; v < 3; v++)
			x[v] = uniform(&state) * 10 - 3;
		if (i % 13 == 4)
			fprintf(fp, "NA,");
		else
			fprintf(fp, "%.3f,", x[0]);
		fprintf(fp, "%.2f,%s,%s,", x[1],
			i % 17 == 2 ? "" : i % 2 ? "7" : "-2.5",
			i % 3 == 0 ? "u" : i % 3 == 1 ? "v" : "w");
		/*
		 * Every 29th row has no class: logistic skips it.  Every
		 * row has r, so ridge without a holdout keeps the rows in
		 * file order and the columns are encoded where they are.
		 */
		if (i % 29 == 7)
			fputs(",", fp);
		else
			fprintf(fp, "%d,",
				x[0] - 0.5 * x[1] + (i % 3 == 0) > 0.3);
		fprintf(fp, "%.3f\n", 2 * x[0] + x[1] - (i % 3 == 1));
	}
	fclose(fp);
	for (v = 0; v < 16; v++) {
		struct dataset *d1 = load(path), *d2 = load(path);
		struct train_opts o;
		struct mlops_err err;
		struct model *a = NULL, *b = NULL;
		struct train_report rep;
		char *ba = NULL, *bb = NULL;
		int ret;

		train_opts_init(&o);
		o.target = v & 4 ? "r" : "y";
		o.exclude = (const char *const[]){ v & 4 ? "y" : "r" };
		o.n_exclude = 1;
		o.algo = v & 4 ? TRAIN_RIDGE : TRAIN_LOGISTIC;
		o.holdout = v & 1 ? 0.2 : 0;
		o.impute_median = (v & 2) != 0;
		o.add_indicator = (v & 2) != 0;
		o.warm_min_rows = v & 8 ? 256 : 0;
		if (d1 && d2) {
			a = fit(d1, &o, &ret, &err);
			memset(&err, 0, sizeof(err));
			ret = train_fit_take(&d2, &o, &b, &rep, &err);
			if (!ret)
				train_report_release(&rep);
		}
		ba = a ? bytes_of(a) : NULL;
		bb = b ? bytes_of(b) : NULL;
		ok(ba && bb && !strcmp(ba, bb),
		   "train_fit_take: the same model (%s, holdout %g%s%s)",
		   v & 4 ? "ridge" : "logistic", o.holdout,
		   v & 2 ? ", median, indicator" : "",
		   v & 8 ? ", warm start" : "");
		free(ba);
		free(bb);
		model_free(a);
		model_free(b);
		dataset_free(d1);
		dataset_free(d2);
	}
	unlink(path);
	free(path);
}

int main(void)
{
	struct dataset *bin, *multi;
	char *path;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	parity_dir = find_parity_dir();
	test_parity();

	path = xasprintf("%s/binary.csv", parity_dir);
	bin = load(path);
	free(path);
	path = xasprintf("%s/multiclass.csv", parity_dir);
	multi = load(path);
	free(path);
	if (ok(bin && multi, "parity data loaded for the contract tests")) {
		test_determinism(bin);
		test_no_convergence(bin, multi);
		test_errors(bin);
	}
	test_dropped();
	test_warm_start();
	test_prediction_profile();
	test_stream_bits();
	test_baseline_bits();
	test_fit_take();
	dataset_free(bin);
	dataset_free(multi);
	free(parity_dir);
	rmdir(tmpdir);
	return done_testing();
}

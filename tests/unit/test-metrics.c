/*
 * Metrics against values computed by hand and checked with scikit-learn
 * 1.2 (sklearn.metrics: accuracy_score, precision/recall/f1_score with
 * average="binary" or "macro", roc_auc_score with multi_class="ovr",
 * log_loss, brier_score_loss; mean_squared_error, mean_absolute_error,
 * r2_score).  The tiny cases are worked out in the comments.
 */

#include <cjson/cJSON.h>
#include <float.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "xalloc.h"
#include "tap.h"

#define TOL 1e-12

static double get(const struct metric *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return m[i].value;
	return NAN;
}

/*
 * y = 0 0 1 1, p = .1 .4 .35 .8.  Predicted (p > .5): 0 0 0 1, so
 * tp 1, fp 0, fn 1: accuracy 3/4, precision 1, recall 1/2, f1 2/3.
 * AUC: of the 4 (positive, negative) pairs only (.35, .4) is misordered:
 * 3/4.  Log loss: -(ln .9 + ln .6 + ln .35 + ln .8) / 4.  Brier:
 * (.01 + .16 + .4225 + .04) / 4 = .158125.
 */
static void test_binary_by_hand(void)
{
	const uint32_t y[] = { 0, 0, 1, 1 };
	const double p[] = { 0.1, 0.4, 0.35, 0.8 };
	struct metric m[MODEL_MAX_METRICS];
	size_t cm[4], n;

	n = metrics_classification(TASK_BINARY, 2, NULL, y, p, 4, m, cm);
	is_int((long long)n, 7, "binary: seven metrics");
	is_double(get(m, n, "accuracy"), 0.75, TOL, "binary: accuracy");
	is_double(get(m, n, "precision"), 1, TOL, "binary: precision");
	is_double(get(m, n, "recall"), 0.5, TOL, "binary: recall");
	is_double(get(m, n, "f1"), 2.0 / 3, TOL, "binary: f1");
	is_double(get(m, n, "auc"), 0.75, TOL, "binary: auc");
	is_double(get(m, n, "logloss"),
		  -(log(0.9) + log(0.6) + log(0.35) + log(0.8)) / 4, TOL,
		  "binary: logloss");
	is_double(get(m, n, "brier"), 0.158125, TOL, "binary: brier");
	ok(cm[0] == 2 && cm[1] == 0 && cm[2] == 1 && cm[3] == 1,
	   "binary: confusion matrix (row: true)");
}

/* Ten rows with tied scores (two at exactly .5, predicted negative). */
static void test_binary_sklearn(void)
{
	const uint32_t y[] = { 0, 0, 1, 1, 0, 1, 1, 0, 1, 0 };
	const double p[] = { 0.1, 0.4, 0.35, 0.8, 0.5, 0.5, 0.9, 0.2, 0.6,
			     0.7 };
	struct metric m[MODEL_MAX_METRICS];
	size_t cm[4], n;

	n = metrics_classification(TASK_BINARY, 2, NULL, y, p, 10, m, cm);
	is_double(get(m, n, "accuracy"), 0.7, TOL, "binary/10: accuracy");
	is_double(get(m, n, "precision"), 0.75, TOL, "binary/10: precision");
	is_double(get(m, n, "recall"), 0.6, TOL, "binary/10: recall");
	is_double(get(m, n, "f1"), 0.6666666666666665, TOL, "binary/10: f1");
	is_double(get(m, n, "auc"), 0.78, TOL, "binary/10: auc with ties");
	is_double(get(m, n, "logloss"), 0.5318748671420558, TOL,
		  "binary/10: logloss");
	is_double(get(m, n, "brier"), 0.18325000000000002, TOL,
		  "binary/10: brier");
	ok(cm[0] == 4 && cm[1] == 1 && cm[2] == 2 && cm[3] == 3,
	   "binary/10: confusion matrix");
}

/*
 * metrics_auc directly.  Ties count one half: y = 0 1 0 1 with scores
 * .5 .5 .2 .8 has pairs (.5,.5) = 1/2, (.5,.2) = (.8,.5) = (.8,.2) = 1:
 * 3.5 / 4.
 */
static void test_auc(void)
{
	const double s1[] = { 0.5, 0.5, 0.2, 0.8 };
	const unsigned char y1[] = { 0, 1, 0, 1 };
	const double s2[] = { 1, 1, 1, 1, 1 };
	const unsigned char y2[] = { 0, 1, 1, 0, 1 };
	const double s3[] = { 0.9, 0.8, 0.3, 0.1 };
	const unsigned char y3[] = { 1, 1, 0, 0 };
	const unsigned char y4[] = { 1, 1, 1, 1 };

	is_double(metrics_auc(s1, y1, 4), 0.875, TOL, "auc: one tie");
	is_double(metrics_auc(s2, y2, 5), 0.5, TOL, "auc: all tied is 1/2");
	is_double(metrics_auc(s3, y3, 4), 1, TOL, "auc: perfect");
	is_double(metrics_auc(s3, y4, 4), NAN, 0, "auc: one class is NAN");
	is_double(metrics_auc(s3, y4, 0), NAN, 0, "auc: no rows is NAN");
	{
		/* Reversing the scores gives 1 - auc. */
		const double s5[] = { 0.3, 0.1, 0.7, 0.7, 0.2, 0.9 };
		const double r5[] = { -0.3, -0.1, -0.7, -0.7, -0.2, -0.9 };
		const unsigned char y5[] = { 1, 0, 0, 1, 1, 0 };

		is_double(metrics_auc(s5, y5, 6) + metrics_auc(r5, y5, 6), 1,
			  TOL, "auc: reversed scores give 1 - auc");
	}
}

/*
 * Three classes, eight rows; the expected values are sklearn's
 * (macro averages, one-vs-rest AUC, log loss, and brier as the mean of
 * the summed squared errors).
 */
static void test_multiclass(void)
{
	const uint32_t y[] = { 0, 1, 2, 2, 1, 0, 2, 1 };
	const double p[] = {
		0.7, 0.2, 0.1,  0.3, 0.4, 0.3,  0.2, 0.2, 0.6,
		0.1, 0.5, 0.4,  0.25, 0.5, 0.25,  0.3, 0.3, 0.4,
		0.2, 0.3, 0.5,  0.6, 0.3, 0.1
	};
	const size_t want_cm[9] = { 1, 0, 1, 1, 2, 0, 0, 1, 2 };
	struct metric m[MODEL_MAX_METRICS];
	size_t cm[9], n;

	n = metrics_classification(TASK_MULTICLASS, 3, NULL, y, p, 8, m, cm);
	is_int((long long)n, 7, "multiclass: seven metrics");
	is_double(get(m, n, "accuracy"), 0.625, TOL, "multiclass: accuracy");
	is_double(get(m, n, "precision"), 0.611111111111111, TOL,
		  "multiclass: macro precision");
	is_double(get(m, n, "recall"), 0.611111111111111, TOL,
		  "multiclass: macro recall");
	is_double(get(m, n, "f1"), 0.611111111111111, TOL,
		  "multiclass: macro f1");
	is_double(get(m, n, "auc"), 0.8694444444444445, TOL,
		  "multiclass: one-vs-rest macro auc");
	is_double(get(m, n, "logloss"), 0.8117902501530995, TOL,
		  "multiclass: logloss");
	is_double(get(m, n, "brier"), 0.48687499999999995, TOL,
		  "multiclass: brier");
	ok(!memcmp(cm, want_cm, sizeof(cm)), "multiclass: confusion matrix");
}

/*
 * Macro f1 with unequal classes, by hand: y = 0 0 0 1 2, predicted
 * 0 0 1 1 1.  Class 0: p 1, r 2/3, f1 .8; class 1: p 1/3, r 1, f1 .5;
 * class 2: p 0 (never predicted), r 0, f1 0.  Macro f1 = 1.3 / 3.
 */
static void test_macro_by_hand(void)
{
	const uint32_t y[] = { 0, 0, 0, 1, 2 };
	const double p[] = {
		0.8, 0.1, 0.1,  0.6, 0.3, 0.1,  0.2, 0.7, 0.1,
		0.1, 0.8, 0.1,  0.3, 0.4, 0.3
	};
	struct metric m[MODEL_MAX_METRICS];
	size_t n;

	n = metrics_classification(TASK_MULTICLASS, 3, NULL, y, p, 5, m, NULL);
	is_double(get(m, n, "precision"), (1 + 1.0 / 3 + 0) / 3, TOL,
		  "macro by hand: precision");
	is_double(get(m, n, "recall"), (2.0 / 3 + 1 + 0) / 3, TOL,
		  "macro by hand: recall");
	is_double(get(m, n, "f1"), (0.8 + 0.5 + 0) / 3, TOL,
		  "macro by hand: f1");
	is_double(get(m, n, "accuracy"), 0.6, TOL, "macro by hand: accuracy");
}

/*
 * A class absent from y leaves ROC AUC undefined (sklearn's
 * roc_auc_score raises): auc is NAN, with the class in the note.
 */
static void test_auc_undefined(void)
{
	static const char *const names[] = { "a", "b", "c" };
	const uint32_t y3[] = { 0, 1, 0, 1 };
	const double p3[] = {
		0.6, 0.3, 0.1,  0.2, 0.7, 0.1,  0.5, 0.4, 0.1,  0.3, 0.3, 0.4
	};
	const uint32_t y2[] = { 1, 1, 1 };
	const double p2[] = { 0.9, 0.4, 0.7 };
	const uint32_t y4[] = { 0, 0, 0, 1 };
	const double p4[] = {
		0.8, 0.1, 0.1,  0.7, 0.2, 0.1,  0.3, 0.6, 0.1,  0.2, 0.7, 0.1
	};
	struct metric m[MODEL_MAX_METRICS];
	char buf[96];
	size_t n, i;

	n = metrics_classification(TASK_MULTICLASS, 3, names, y3, p3, 4, m,
				   NULL);
	for (i = 0; i < n && strcmp(m[i].name, "auc"); i++)
		;
	if (ok(i < n, "multiclass, a class never seen: auc listed")) {
		ok(isnan(m[i].value), "multiclass, a class never seen: auc is NAN");
		is_str(m[i].note, "class 'c' absent",
		       "multiclass, a class never seen: the note names it");
		is_str(metrics_format(&m[i], buf, sizeof(buf)),
		       "n/a (class 'c' absent)",
		       "multiclass, a class never seen: the table's n/a");
	}
	ok(!isnan(get(m, n, "logloss")) && !isnan(get(m, n, "f1")),
	   "multiclass, a class never seen: other metrics still there");
	/* predicted a b a c: c, though absent from y, counts (p 0, r 0) */
	is_double(get(m, n, "precision"), 2.0 / 3, TOL,
		  "multiclass, c predicted but absent: macro precision over a, b, c");
	is_double(get(m, n, "recall"), 0.5, TOL,
		  "multiclass, c predicted but absent: macro recall over a, b, c");
	/* y a a a b, predicted a a b b: c neither, so it does not count
	 * (sklearn 0.75, where averaging over all three gave 0.5) */
	n = metrics_classification(TASK_MULTICLASS, 3, names, y4, p4, 4, m,
				   NULL);
	is_double(get(m, n, "precision"), (1 + 0.5) / 2, TOL,
		  "multiclass, c neither true nor predicted: macro precision over a, b");
	is_double(get(m, n, "recall"), (2.0 / 3 + 1) / 2, TOL,
		  "multiclass, c neither true nor predicted: macro recall over a, b");
	n = metrics_classification(TASK_BINARY, 2, names, y2, p2, 3, m, NULL);
	ok(isnan(get(m, n, "auc")), "binary, one class only: auc is NAN");
	for (i = 0; i < n && strcmp(m[i].name, "auc"); i++)
		;
	is_str(i < n ? m[i].note : "", "class 'a' absent",
	       "binary, one class only: the note names the absent class");
	is_double(get(m, n, "recall"), 2.0 / 3, TOL,
		  "binary, one class only: recall");
	n = metrics_classification(TASK_MULTICLASS, 3, NULL, y2, p3, 3, m,
				   NULL);
	for (i = 0; i < n && strcmp(m[i].name, "auc"); i++)
		;
	is_str(i < n ? m[i].note : "", "class 0 absent (and 1 more)",
	       "no class names: the note gives the index and the count");
}

/* TEST_SRCDIR under `make check`; else next to this source file. */
static char *parity_file(const char *name)
{
	const char *top = getenv("TEST_SRCDIR");
	char *file, *path;

	if (top && *top)
		return xasprintf("%s/parity/%s", top, name);
	file = xstrdup(__FILE__);
	path = xasprintf("%s/../parity/%s", dirname(file), name);
	free(file);
	return path;
}

/*
 * tests/parity/metrics.json (make-metrics-reference.py): sklearn's
 * numbers on a planets-like table with classes absent from the labels,
 * on the same rows with only the present classes, and on a binary set
 * with one class.  Equal to 1e-12; auc null there is NAN here with the
 * first absent class named.
 */
static void test_sklearn_reference(void)
{
	static const char *const names[] = { "accuracy", "precision", "recall",
					     "f1", "logloss", "auc" };
	char *path = parity_file("metrics.json"), *text = tap_slurp(path, NULL);
	cJSON *ref = text ? cJSON_Parse(text) : NULL, *c;

	if (!ok(ref != NULL, "read %s", path))
		goto out;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "cases")) {
		const char *what = cJSON_GetObjectItem(c, "name")->valuestring;
		const cJSON *cl = cJSON_GetObjectItem(c, "classes"), *v;
		const cJSON *sk = cJSON_GetObjectItem(c, "sklearn");
		int binary = !strcmp(cJSON_GetObjectItem(c, "task")->valuestring,
				     "binary");
		size_t K = (size_t)cJSON_GetArraySize(cl), n, i = 0, j, nm;
		const char **classes = xcalloc(K, sizeof(char *));
		uint32_t *y;
		double *prob;
		struct metric m[MODEL_MAX_METRICS];

		cJSON_ArrayForEach(v, cl)
			classes[i++] = v->valuestring;
		n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(c, "y"));
		y = xcalloc(n, sizeof(*y));
		prob = xcalloc(n * K, sizeof(*prob));
		i = 0;
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "y"))
			y[i++] = (uint32_t)v->valueint;
		i = 0;
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "prob")) {
			const cJSON *x;

			if (binary) {
				prob[i++] = v->valuedouble;
				continue;
			}
			cJSON_ArrayForEach(x, v)
				prob[i++] = x->valuedouble;
		}
		nm = metrics_classification(binary ? TASK_BINARY :
					    TASK_MULTICLASS, K, classes, y,
					    prob, n, m, NULL);
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			const cJSON *want = cJSON_GetObjectItem(sk, names[j]);
			double got = get(m, nm, names[j]);

			if (cJSON_IsNull(want)) {
				ok(isnan(got), "%s: %s undefined, as sklearn's (%s)",
				   what, names[j],
				   cJSON_GetObjectItem(sk, "auc_error")->valuestring);
				continue;
			}
			printf("# %s: %s %.17g, sklearn %.17g\n", what,
			       names[j], got, want->valuedouble);
			is_double(got, want->valuedouble, TOL,
				  "%s: %s equals sklearn's", what, names[j]);
		}
		free(classes);
		free(y);
		free(prob);
	}
out:
	cJSON_Delete(ref);
	free(text);
	free(path);
}

/*
 * Log loss clips to [eps, 1 - eps] with eps = DBL_EPSILON, as sklearn's
 * log_loss(eps="auto") does for float64: y = 1 0, p = 0 0 gives
 * (-ln eps - ln(1 - eps)) / 2 = 18.021826694558577.  Multiclass rows
 * are renormalised first.
 */
static void test_logloss_clip(void)
{
	const uint32_t y[] = { 1, 0 };
	const double p[] = { 0, 0 };
	const uint32_t y3[] = { 0, 2 };
	const double p3[] = { 1, 1, 2,  0, 3, 1 };	/* sums 4 and 4 */
	struct metric m[MODEL_MAX_METRICS];
	size_t n;

	n = metrics_classification(TASK_BINARY, 2, NULL, y, p, 2, m, NULL);
	is_double(get(m, n, "logloss"), 18.021826694558577, 1e-12,
		  "logloss: p = 0 for a positive is clipped");
	n = metrics_classification(TASK_MULTICLASS, 3, NULL, y3, p3, 2, m, NULL);
	is_double(get(m, n, "logloss"), -(log(0.25) + log(0.25)) / 2, TOL,
		  "logloss: multiclass rows renormalised");
}

/*
 * sklearn's r2_score docstring example: y = 3 -0.5 2 7, pred = 2.5 0 2 8:
 * squared errors .25 .25 0 1 (mse .375), absolute .5 .5 0 1 (mae .5),
 * r2 = 1 - 1.5 / 29.1875 = 0.9486081370449679.
 */
static void test_regression(void)
{
	const double y[] = { 3, -0.5, 2, 7 }, p[] = { 2.5, 0, 2, 8 };
	const double c[] = { 1, 1, 1 }, c2[] = { 1, 2, 1 };
	struct metric m[MODEL_MAX_METRICS];
	size_t n;

	n = metrics_regression(y, p, 4, m);
	is_int((long long)n, 3, "regression: three metrics");
	is_double(get(m, n, "rmse"), sqrt(0.375), TOL, "regression: rmse");
	is_double(get(m, n, "mae"), 0.5, TOL, "regression: mae");
	is_double(get(m, n, "r2"), 0.9486081370449679, TOL, "regression: r2");
	is_double(get(m, n, "r2"), 1 - 1.5 / 29.1875, TOL,
		  "regression: r2 by hand");
	n = metrics_regression(c, c, 3, m);
	is_double(get(m, n, "r2"), 1, 0, "regression: constant, exact: r2 1");
	n = metrics_regression(c, c2, 3, m);
	is_double(get(m, n, "r2"), 0, 0, "regression: constant, off: r2 0");
	n = metrics_regression(y, y, 4, m);
	ok(get(m, n, "rmse") == 0 && get(m, n, "mae") == 0 &&
	   get(m, n, "r2") == 1, "regression: perfect prediction");
}

static void test_names(void)
{
	ok(metrics_higher_is_better("auc") && metrics_higher_is_better("r2") &&
	   metrics_higher_is_better("f1"), "auc, r2, f1: higher is better");
	ok(!metrics_higher_is_better("logloss") &&
	   !metrics_higher_is_better("brier") &&
	   !metrics_higher_is_better("rmse") &&
	   !metrics_higher_is_better("mae"), "losses: lower is better");
	ok(metrics_known(TASK_BINARY, "auc") &&
	   metrics_known(TASK_MULTICLASS, "brier") &&
	   metrics_known(TASK_REGRESSION, "r2"), "known metrics");
	ok(!metrics_known(TASK_BINARY, "rmse") &&
	   !metrics_known(TASK_REGRESSION, "auc") &&
	   !metrics_known(TASK_BINARY, "AUC"), "unknown metrics");
	is_str(metrics_names(TASK_REGRESSION), "rmse, mae, r2",
	       "regression metric names");
}

int main(void)
{
	test_binary_by_hand();
	test_binary_sklearn();
	test_auc();
	test_multiclass();
	test_macro_by_hand();
	test_auc_undefined();
	test_sklearn_reference();
	test_logloss_clip();
	test_regression();
	test_names();
	return done_testing();
}

/*
 * Unit tests for the gates (gate.c): parsing "METRIC=VALUE" and its
 * messages, each rule's verdict at and around its threshold, undefined
 * and missing metrics (they fail, with the metric's note as reason),
 * the failure messages, and the report's "gates" array.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "tap.h"

static struct metric metrics[3], champ_metrics[3];

static void set_metric(struct metric *m, const char *name, double v,
		       const char *note)
{
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->value = v;
	snprintf(m->note, sizeof(m->note), "%s", note);
}

/* auc 0.75, logloss 0.5, f1 undefined; the champion: 0.5, 0.25, undefined. */
static void setup(struct gate_measure *model, struct gate_measure *champ)
{
	set_metric(&metrics[0], "auc", 0.75, "");
	set_metric(&metrics[1], "logloss", 0.5, "");
	set_metric(&metrics[2], "f1", NAN, "");
	set_metric(&champ_metrics[0], "auc", 0.5, "");
	set_metric(&champ_metrics[1], "logloss", 0.25, "");
	set_metric(&champ_metrics[2], "f1", NAN, "no positive predicted");
	model->metrics = metrics;
	model->n_metrics = 3;
	model->latency_us = 12.5;
	model->size = 2048;
	champ->metrics = champ_metrics;
	champ->n_metrics = 3;
	champ->latency_us = 3;
	champ->size = 1024;
}

/* Parse spec for `rule` and evaluate it alone; returns passed. */
static int verdict(enum gate_rule rule, const char *spec, double threshold,
		   struct gate_result *r)
{
	struct gate_measure model, champ;
	struct gate g;
	struct mlops_err err = MLOPS_ERR_INIT;

	setup(&model, &champ);
	if (spec) {
		if (gate_parse(rule, spec, TASK_BINARY, &g, &err))
			printf("# parse failed: %s\n", err.msg);
	} else {
		gate_limit(rule, threshold, &g);
	}
	if (spec && !isnan(threshold))
		g.threshold = threshold;
	return gate_evaluate(&g, 1, &model, &champ, r);
}

static void test_parse(void)
{
	struct gate g;
	struct mlops_err err = MLOPS_ERR_INIT;
	char longname[80];

	is_int(gate_parse(GATE_MIN, "auc=0.8", TASK_BINARY, &g, &err), 0,
	       "auc=0.8 parses");
	is_str(g.metric, "auc", "its metric");
	is_double(g.threshold, 0.8, 0, "its threshold");
	is_int(g.rule, GATE_MIN, "its rule");
	is_int(gate_parse(GATE_MIN_DELTA, "logloss=-1e-3", TASK_MULTICLASS,
			  &g, &err), 0, "a negative delta parses");
	is_double(g.threshold, -1e-3, 0, "to its value");
	is_int(gate_parse(GATE_MAX, "rmse=2", TASK_REGRESSION, &g, &err), 0,
	       "rmse is a regression metric");

	is_int(gate_parse(GATE_MIN, "auc", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "no '=' is a usage error");
	is_str(err.msg, "option '--min' expects METRIC=VALUE, got 'auc'",
	       "which names the option and the text");
	is_int(gate_parse(GATE_MAX, "=0.5", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "no metric is a usage error");
	is_str(err.msg, "option '--max' expects METRIC=VALUE, got '=0.5'",
	       "with the same message");
	is_int(gate_parse(GATE_MIN, "auc=", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "no value is a usage error");
	is_int(gate_parse(GATE_MAX, "auc=high", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "a word is not a threshold");
	is_str(err.msg, "option '--max': 'high' is not a number",
	       "and the message says so");
	is_int(gate_parse(GATE_MIN, "auc=nan", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "nan is not a threshold");
	is_int(gate_parse(GATE_MIN, "auc=inf", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "nor is inf");
	is_int(gate_parse(GATE_MIN_DELTA, "rmse=1", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "a metric of another task is a usage error");
	is_str(err.msg, "--min-delta: unknown metric 'rmse' for a binary model "
	       "(known: accuracy, precision, recall, f1, auc, logloss, brier)",
	       "naming the option, the task and the known metrics");
	is_int(gate_parse(GATE_MIN, "auc=0.5", TASK_REGRESSION, &g, &err),
	       MLOPS_EUSAGE, "auc is unknown for regression");
	is_int(gate_parse(GATE_MIN, "latency_us=5", TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "latency_us has its own option");
	memset(longname, 'a', 50);
	strcpy(longname + 50, "=1");
	is_int(gate_parse(GATE_MAX, longname, TASK_BINARY, &g, &err),
	       MLOPS_EUSAGE, "a long name is unknown");
	ok(strstr(err.msg, "unknown metric 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' ")
	   != NULL, "and shown cut to 31 characters");
}

static void test_rules(void)
{
	struct gate_result r;

	ok(gate_evaluate(NULL, 0, NULL, NULL, NULL), "no gates pass");
	ok(verdict(GATE_MIN, "auc=0.75", NAN, &r), "min passes at the value");
	is_double(r.value, 0.75, 0, "min's value is the metric");
	ok(verdict(GATE_MIN, "auc=0.7", NAN, &r), "min passes below it");
	ok(!verdict(GATE_MIN, "auc=0", nextafter(0.75, 1), &r),
	   "min fails just above it");
	ok(isnan(r.champion) && isnan(r.delta), "min has no champion or delta");
	ok(verdict(GATE_MAX, "logloss=0.5", NAN, &r),
	   "max passes at the value");
	ok(verdict(GATE_MAX, "logloss=0.6", NAN, &r), "max passes above it");
	ok(!verdict(GATE_MAX, "logloss=0", nextafter(0.5, 0), &r),
	   "max fails just below it");

	/* auc: 0.75 - 0.5 up is better; logloss: 0.25 - 0.5 down is better. */
	ok(verdict(GATE_MIN_DELTA, "auc=0.25", NAN, &r),
	   "min-delta passes at the improvement");
	is_double(r.value, 0.75, 0, "min-delta keeps the model's value");
	is_double(r.champion, 0.5, 0, "and the champion's");
	is_double(r.delta, 0.25, 0, "and the improvement");
	is_double(gate_result_shown(&r), 0.25, 0, "and shows the improvement");
	ok(!verdict(GATE_MIN_DELTA, "auc=0", nextafter(0.25, 1), &r),
	   "min-delta fails just above it");
	ok(verdict(GATE_MIN_DELTA, "logloss=-0.25", NAN, &r),
	   "a worse logloss passes a negative delta at it");
	is_double(r.delta, -0.25, 0,
		  "the improvement of a lower-is-better metric");
	ok(!verdict(GATE_MIN_DELTA, "logloss=0", nextafter(-0.25, 1), &r),
	   "and fails just above it");

	ok(verdict(GATE_MAX_LATENCY, NULL, 12.5, &r), "latency passes at it");
	is_str(r.metric, "latency_us", "on latency_us");
	is_str(gate_rule_name(r.rule), "max", "a max rule");
	ok(!verdict(GATE_MAX_LATENCY, NULL, nextafter(12.5, 0), &r),
	   "latency fails just below it");
	ok(verdict(GATE_MAX_SIZE, NULL, 2048, &r), "size passes at it");
	is_str(r.metric, "size", "on size");
	ok(!verdict(GATE_MAX_SIZE, NULL, 2047, &r), "size fails a byte below");
}

static void test_undefined(void)
{
	struct gate_measure model, champ;
	struct gate g;
	struct gate_result r;
	struct mlops_err err = MLOPS_ERR_INIT;

	ok(!verdict(GATE_MIN, "f1=0", NAN, &r),
	   "an undefined metric fails min");
	ok(isnan(r.value), "with value NAN");
	is_str(gate_result_reason(&r), "undefined on this data",
	       "and a generic reason without a note");
	ok(!verdict(GATE_MAX, "f1=1", NAN, &r), "and fails max");
	ok(!verdict(GATE_MIN, "brier=0", NAN, &r),
	   "a metric not measured fails");
	ok(!verdict(GATE_MIN_DELTA, "f1=-1", NAN, &r),
	   "an undefined improvement fails min-delta");
	is_str(r.note, "no positive predicted",
	       "with the champion's note when the model has none");
	setup(&model, &champ);
	snprintf(metrics[2].note, sizeof(metrics[2].note), "class 'x' absent");
	gate_parse(GATE_MIN_DELTA, "f1=0", TASK_BINARY, &g, &err);
	gate_evaluate(&g, 1, &model, &champ, &r);
	is_str(gate_result_reason(&r), "class 'x' absent",
	       "the model's own note comes first");
	gate_parse(GATE_MIN_DELTA, "auc=-1", TASK_BINARY, &g, &err);
	ok(!gate_evaluate(&g, 1, &model, NULL, &r),
	   "min-delta without a champion fails");
	ok(isnan(r.champion) && isnan(r.delta), "with no champion value");
}

static void message(enum gate_rule rule, const char *spec, double threshold,
		    const char *want, const char *what)
{
	struct gate_result r;
	char buf[512];

	verdict(rule, spec, threshold, &r);
	gate_result_message(&r, "churn@production", buf, sizeof(buf));
	is_str(buf, want, "%s", what);
}

static void test_messages(void)
{
	message(GATE_MIN, "auc=0.8", NAN,
		"gate failed: auc is 0.75, below 0.8 (--min auc=0.8)",
		"min names the value, the threshold and the option");
	message(GATE_MAX, "logloss=0.4", NAN,
		"gate failed: logloss is 0.5, above 0.4 (--max logloss=0.4)",
		"max says above");
	message(GATE_MIN_DELTA, "auc=0.3", NAN,
		"gate failed: auc improves by 0.25 over churn@production, below --min-delta auc=0.3",
		"min-delta names the champion");
	message(GATE_MIN, "f1=0.5", NAN,
		"gate failed: f1 could not be computed on this data (--min f1=0.5)",
		"an undefined metric without a note");
	message(GATE_MIN_DELTA, "f1=0.5", NAN,
		"gate failed: f1 could not be computed on this data: no positive predicted (--min-delta f1=0.5)",
		"an undefined improvement with the champion's note");
	message(GATE_MAX_LATENCY, NULL, 10,
		"gate failed: scoring took 12.5 us per row, above --max-latency-us 10",
		"latency in microseconds per row");
	message(GATE_MAX_SIZE, NULL, 1000,
		"gate failed: the artefact is 2048 bytes, above --max-size 1000",
		"size in bytes");
	is_str(gate_rule_option(GATE_MAX_SIZE), "--max-size",
	       "the size option");
	is_str(gate_rule_name(GATE_MIN_DELTA), "min-delta", "the delta rule");
}

static void test_json(void)
{
	struct gate_measure model, champ;
	struct gate g[4];
	struct gate_result r[4];
	struct mlops_err err = MLOPS_ERR_INIT;
	cJSON *a;
	char *text;

	setup(&model, &champ);
	gate_parse(GATE_MIN, "auc=0.8", TASK_BINARY, &g[0], &err);
	gate_parse(GATE_MAX, "f1=1", TASK_BINARY, &g[1], &err);
	gate_parse(GATE_MIN_DELTA, "auc=0.1", TASK_BINARY, &g[2], &err);
	gate_limit(GATE_MAX_SIZE, 4096, &g[3]);
	ok(!gate_evaluate(g, 4, &model, &champ, r),
	   "one failed gate fails all");
	a = gate_results_json(r, 4);
	text = cJSON_PrintUnformatted(a);
	is_str(text,
	       "[{\"metric\":\"auc\",\"rule\":\"min\",\"threshold\":0.8,\"value\":0.75,\"passed\":false},"
	       "{\"metric\":\"f1\",\"rule\":\"max\",\"threshold\":1,\"value\":null,\"reason\":\"undefined on this data\",\"passed\":false},"
	       "{\"metric\":\"auc\",\"rule\":\"min-delta\",\"threshold\":0.1,\"value\":0.25,\"passed\":true},"
	       "{\"metric\":\"size\",\"rule\":\"max\",\"threshold\":4096,\"value\":2048,\"passed\":true}]",
	       "the report's gates: min-delta shows the improvement, null with a reason");
	cJSON_free(text);
	cJSON_Delete(a);
}

int main(void)
{
	test_parse();
	test_rules();
	test_undefined();
	test_messages();
	test_json();
	return done_testing();
}

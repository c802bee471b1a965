#ifndef MLOPS_GATE_H
#define MLOPS_GATE_H

/*
 * Gates: the rules a validated model must meet (--min auc=0.8, --max
 * logloss=0.4, --min-delta auc=0.01 over a champion, --max-latency-us,
 * --max-size), their parsing, their evaluation on measured metrics, and
 * the typed results that tables, --json and the stored report print.
 */

#include <stddef.h>

#include "error.h"
#include "model.h"

enum gate_rule {
	GATE_MIN,		/* --min METRIC=V: value >= V */
	GATE_MAX,		/* --max METRIC=V: value <= V */
	GATE_MIN_DELTA,		/* --min-delta METRIC=D: improvement >= D */
	GATE_MAX_LATENCY,	/* --max-latency-us N: latency_us <= N */
	GATE_MAX_SIZE		/* --max-size BYTES: size <= BYTES */
};

/* The metric names a gate holds: longer ones are cut (and unknown). */
#define GATE_METRIC_MAX 32

struct gate {
	enum gate_rule rule;
	char metric[GATE_METRIC_MAX];
	double threshold;
};

/*
 * What one model measured on the data, as the gates read it: the
 * metrics of metrics_classification()/metrics_regression() (lent), the
 * scoring latency in microseconds per row and the artefact's bytes.
 */
struct gate_measure {
	const struct metric *metrics;
	size_t n_metrics;
	double latency_us;
	long long size;
};

struct gate_result {
	enum gate_rule rule;
	char metric[GATE_METRIC_MAX];
	double threshold;
	double value;		/* the model's metric, NAN when undefined */
	double champion;	/* min-delta: the champion's; else NAN */
	double delta;		/* min-delta: the improvement; else NAN */
	char note[80];		/* why a metric is undefined, or "" */
	int passed;
};

/* The rule as the report names it: "min", "max" or "min-delta". Static. */
const char *gate_rule_name(enum gate_rule rule);

/* The option that states the rule: "--min", ..., "--max-size". Static. */
const char *gate_rule_option(enum gate_rule rule);

/*
 * Parse `spec` ("auc=0.8") of a GATE_MIN, GATE_MAX or GATE_MIN_DELTA
 * option into *out, for a model of `task`.  MLOPS_EUSAGE, naming the
 * option, when it is not METRIC=NUMBER or the metric is not one of the
 * task's.
 */
int gate_parse(enum gate_rule rule, const char *spec, enum model_task task,
	       struct gate *out, struct mlops_err *err);

/* A GATE_MAX_LATENCY or GATE_MAX_SIZE gate on its fixed metric. */
void gate_limit(enum gate_rule rule, double threshold, struct gate *out);

/*
 * Value of the metric `name` in `m` (latency_us and size included), or
 * NAN when it is undefined or absent; *note, when `note` is non-NULL,
 * says why (lent from m, "" when nothing is known).
 */
double gate_measure_find(const struct gate_measure *m, const char *name,
			 const char **note);

/*
 * Evaluate the `n` gates on `model` (and `champion` for GATE_MIN_DELTA;
 * NULL when there is none, which those gates then fail) into out[0..n).
 * An undefined metric fails its gate.  Returns 1 when every gate
 * passed, 0 otherwise.
 */
int gate_evaluate(const struct gate *gates, size_t n,
		  const struct gate_measure *model,
		  const struct gate_measure *champion,
		  struct gate_result *out);

/*
 * The number a table and the report show for the result: the metric,
 * or the improvement over the champion for GATE_MIN_DELTA.  When it is
 * not finite they show gate_result_reason() instead.
 */
double gate_result_shown(const struct gate_result *r);

/* Why the shown value is undefined: the note or a generic phrase. */
const char *gate_result_reason(const struct gate_result *r);

/*
 * The one-line message of a failed gate ("gate failed: auc is 0.71,
 * below 0.8 (--min auc=0.8)") into buf; `against` names the champion
 * in GATE_MIN_DELTA messages.
 */
void gate_result_message(const struct gate_result *r, const char *against,
			 char *buf, size_t len);

struct cJSON;
/*
 * The results as the report's "gates" array: metric, rule, threshold,
 * value (null and a "reason" when undefined), passed.  Owned by the
 * caller (cJSON_Delete()).
 */
struct cJSON *gate_results_json(const struct gate_result *r, size_t n);

#endif

/*
 * Gates: one table of rules, one parser for "METRIC=VALUE", one
 * evaluation, and results typed enough that every printer (the human
 * table, --json, the report stored with the run, the failure message)
 * reads the same numbers.
 *
 * A gate on an undefined metric (auc with a class absent from the data)
 * fails, and its result keeps the metric's note to say why.  Which way
 * is better for a metric (auc up, logloss down) is metrics.c's to say;
 * this module does not know the metrics beyond their names.  It does
 * not score anything or print anything.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "metrics.h"
#include "opt.h"

static const struct {
	const char *name, *option;
} rules[] = {
	[GATE_MIN] = { "min", "--min" },
	[GATE_MAX] = { "max", "--max" },
	[GATE_MIN_DELTA] = { "min-delta", "--min-delta" },
	[GATE_MAX_LATENCY] = { "max", "--max-latency-us" },
	[GATE_MAX_SIZE] = { "max", "--max-size" },
};

const char *gate_rule_name(enum gate_rule rule)
{
	return rules[rule].name;
}

const char *gate_rule_option(enum gate_rule rule)
{
	return rules[rule].option;
}

int gate_parse(enum gate_rule rule, const char *spec, enum model_task task,
	       struct gate *out, struct mlops_err *err)
{
	const char *flag = rules[rule].option;
	size_t len;
	int ret;

	out->rule = rule;
	if ((ret = opt_parse_kv_double(spec, flag, &len, &out->threshold,
				       err)))
		return ret;
	snprintf(out->metric, sizeof(out->metric), "%.*s", (int)len, spec);
	if (!metrics_known(task, out->metric))
		return err_set(err, MLOPS_EUSAGE,
			       "%s: unknown metric '%s' for a %s model (known: %s)",
			       flag, out->metric, model_task_name(task),
			       metrics_names(task));
	return 0;
}

void gate_limit(enum gate_rule rule, double threshold, struct gate *out)
{
	out->rule = rule;
	snprintf(out->metric, sizeof(out->metric), "%s",
		 rule == GATE_MAX_LATENCY ? "latency_us" : "size");
	out->threshold = threshold;
}

double gate_measure_find(const struct gate_measure *m, const char *name,
			 const char **note)
{
	size_t i;

	if (note)
		*note = "";
	for (i = 0; i < m->n_metrics; i++)
		if (!strcmp(m->metrics[i].name, name)) {
			if (note)
				*note = m->metrics[i].note;
			return m->metrics[i].value;
		}
	if (!strcmp(name, "latency_us"))
		return m->latency_us;
	if (!strcmp(name, "size"))
		return (double)m->size;
	return NAN;
}

static void evaluate_one(const struct gate *g,
			 const struct gate_measure *model,
			 const struct gate_measure *champion,
			 struct gate_result *r)
{
	const char *note;

	r->rule = g->rule;
	memcpy(r->metric, g->metric, sizeof(r->metric));
	r->threshold = g->threshold;
	r->champion = NAN;
	r->delta = NAN;
	r->value = gate_measure_find(model, g->metric, &note);
	switch (g->rule) {
	case GATE_MIN:
		r->passed = r->value >= g->threshold;
		break;
	case GATE_MIN_DELTA:
		/* The champion's note when the challenger's metric has none. */
		if (champion)
			r->champion = gate_measure_find(champion, g->metric,
							note[0] ? NULL : &note);
		r->delta = metrics_higher_is_better(g->metric) ?
			   r->value - r->champion : r->champion - r->value;
		r->passed = r->delta >= g->threshold;
		break;
	default:
		r->passed = r->value <= g->threshold;
		break;
	}
	snprintf(r->note, sizeof(r->note), "%s", note);
}

int gate_evaluate(const struct gate *gates, size_t n,
		  const struct gate_measure *model,
		  const struct gate_measure *champion,
		  struct gate_result *out)
{
	int passed = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		evaluate_one(&gates[i], model, champion, &out[i]);
		passed &= out[i].passed;
	}
	return passed;
}

double gate_result_shown(const struct gate_result *r)
{
	return r->rule == GATE_MIN_DELTA ? r->delta : r->value;
}

const char *gate_result_reason(const struct gate_result *r)
{
	return r->note[0] ? r->note : "undefined on this data";
}

void gate_result_message(const struct gate_result *r, const char *against,
			 char *buf, size_t len)
{
	const char *name = r->metric, *flag = rules[r->rule].option;
	double shown = gate_result_shown(r);

	if (r->rule == GATE_MAX_LATENCY)
		snprintf(buf, len,
			 "gate failed: scoring took %.3g us per row, above %s %g",
			 r->value, flag, r->threshold);
	else if (r->rule == GATE_MAX_SIZE)
		snprintf(buf, len,
			 "gate failed: the artefact is %lld bytes, above %s %.0f",
			 (long long)r->value, flag, r->threshold);
	else if (isnan(shown))
		snprintf(buf, len,
			 "gate failed: %s could not be computed on this data%s%s (%s %s=%g)",
			 name, r->note[0] ? ": " : "", r->note, flag, name,
			 r->threshold);
	else if (r->rule == GATE_MIN_DELTA)
		snprintf(buf, len,
			 "gate failed: %s improves by %.6g over %s, below %s %s=%g",
			 name, shown, against, flag, name, r->threshold);
	else
		snprintf(buf, len, "gate failed: %s is %.6g, %s %g (%s %s=%g)",
			 name, shown, r->rule == GATE_MIN ? "below" : "above",
			 r->threshold, flag, name, r->threshold);
}

cJSON *gate_results_json(const struct gate_result *r, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		double shown = gate_result_shown(&r[i]);

		cJSON_AddStringToObject(o, "metric", r[i].metric);
		cJSON_AddStringToObject(o, "rule", rules[r[i].rule].name);
		cJSON_AddNumberToObject(o, "threshold", r[i].threshold);
		if (isfinite(shown)) {
			cJSON_AddNumberToObject(o, "value", shown);
		} else {
			cJSON_AddNullToObject(o, "value");
			cJSON_AddStringToObject(o, "reason",
						gate_result_reason(&r[i]));
		}
		cJSON_AddBoolToObject(o, "passed", r[i].passed);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

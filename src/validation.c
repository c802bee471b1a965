/*
 * The validation job: everything `mlops validate` does between parsing
 * its options and printing.  It loads the model (and the champion of
 * --against), scores the labelled data with each through the scoring
 * stream (the one prediction path), computes the metrics, evaluates the
 * gates (gate.c), builds the report stored as the run's metrics_json
 * and records the run.
 *
 * Labels are matched to the model's classes by exact text, or by value
 * when both are numbers ("1.0" is class "1").  Rows without a label are
 * skipped; a label the model never saw is bad input (MLOPS_EINPUT).
 * The champion reads the same file a second time, so --against needs a
 * file, not stdin.
 *
 * The report's bytes are a format: release.c reads "gates" and
 * "against_sha256" back when a stage policy asks for a validation, and
 * users read the rest through `mlops runs`.  This module does not print
 * and does not decide exit codes; a failed gate is a result, not an
 * error.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gate.h"
#include "metrics.h"
#include "registry.h"
#include "runrec.h"
#include "score.h"
#include "validation.h"
#include "xalloc.h"

long validation_label_class(const struct model *m, const char *label)
{
	double v, c;
	size_t k;

	for (k = 0; k < m->n_classes; k++)
		if (!strcmp(m->classes[k], label))
			return (long)k;
	if (csv_parse_double(label, strlen(label), &v))
		return -1;
	for (k = 0; k < m->n_classes; k++)
		if (!csv_parse_double(m->classes[k], strlen(m->classes[k]),
				      &c) && c == v)
			return (long)k;
	return -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Labels and predictions of the labelled rows, grown as they come. */
struct labelled {
	size_t n, alloc, width;
	uint32_t *cls;		/* classification: class index */
	double *y;		/* regression: the value */
	double *pred;		/* width per row */
};

static void labelled_release(struct labelled *l)
{
	free(l->cls);
	free(l->y);
	free(l->pred);
}

/* Append block row i of `b`, unless its label is missing. */
static int labelled_add(struct labelled *l, const struct model *m,
			const struct score_stream *ss,
			const struct score_block *b, size_t i, size_t col,
			struct mlops_err *err)
{
	const char *label = b->extra[i];
	size_t len = strlen(label), w = l->width;
	long k;

	if (score_stream_is_missing(ss, label, len))
		return 0;
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 4096;
		l->cls = xreallocarray(l->cls, l->alloc, sizeof(*l->cls));
		l->y = xreallocarray(l->y, l->alloc, sizeof(*l->y));
		l->pred = xreallocarray(l->pred, l->alloc,
					w * sizeof(*l->pred));
	}
	if (m->task == TASK_REGRESSION) {
		if (csv_parse_double(label, len, &l->y[l->n]))
			return err_set(err, MLOPS_EINPUT,
				       "'%s' line %lu, column %zu ('%s'): '%s' is not a number",
				       score_stream_name(ss), b->line[i],
				       col + 1, m->target, label);
	} else {
		if ((k = validation_label_class(m, label)) < 0)
			return err_set(err, MLOPS_EINPUT,
				       "'%s' line %lu, column %zu ('%s'): label '%s' is not a class the model knows",
				       score_stream_name(ss), b->line[i],
				       col + 1, m->target, label);
		l->cls[l->n] = (uint32_t)k;
	}
	memcpy(l->pred + l->n * w, b->pred + i * w, w * sizeof(double));
	l->n++;
	return 0;
}

static void compute_metrics(struct validation_model *s,
			    const struct labelled *l)
{
	const struct model *m = s->m;

	if (m->task == TASK_REGRESSION) {
		s->n_metrics = metrics_regression(l->y, l->pred, l->n,
						  s->metrics);
		return;
	}
	s->confusion = xcalloc(m->n_classes * m->n_classes, sizeof(size_t));
	s->n_metrics = metrics_classification(m->task, m->n_classes,
					      (const char *const *)m->classes,
					      l->cls, l->pred, l->n,
					      s->metrics, s->confusion);
}

/*
 * Score `o->data` with s->m, collecting labels and predictions, then
 * metrics; with `hash`, s->data_sha256 receives the data's hash.
 */
static int evaluate(struct validation_model *s,
		    const struct validation_opts *o, int hash,
		    struct mlops_err *err)
{
	const struct model *m = s->m;
	struct score_stream *ss = NULL;
	struct score_block b;
	struct labelled l = { 0 };
	size_t i, col;
	double t0, t1;
	int ret;
	struct score_stream_opts so = { 0 };

	so.no_hash = !hash;	/* a second pass over the same data */
	so.na_values = o->na_values;
	so.n_na_values = o->n_na_values;
	so.csv = o->csv;
	l.width = score_width(m);
	if ((ret = score_stream_open(m, o->data, &so, &ss, err)))
		return ret;
	if ((ret = score_stream_lookup(ss, m->target, "the model's target",
				       &col, err)))
		goto out;
	score_stream_set_extra(ss, &col, 1);
	t0 = now_s();
	for (;;) {
		if ((ret = score_stream_next(ss, &b, err)))
			goto out;
		if (!b.n)
			break;
		for (i = 0; i < b.n; i++)
			if ((ret = labelled_add(&l, m, ss, &b, i, col, err)))
				goto out;
	}
	t1 = now_s();
	s->rows = l.n;
	if (hash)
		score_stream_sha256(ss, s->data_sha256);
	s->latency_us = score_stream_rows(ss) ?
			(t1 - t0) * 1e6 / (double)score_stream_rows(ss) : 0;
	if (!l.n) {
		ret = err_set(err, MLOPS_EINPUT,
			      "'%s': no rows with a value in '%s'",
			      score_stream_name(ss), m->target);
		goto out;
	}
	compute_metrics(s, &l);
	ret = 0;
out:
	score_stream_close(ss);
	labelled_release(&l);
	return ret;
}

/* The gates of the options, in the order the report lists them. */
static int parse_gates(const struct validation_opts *o, enum model_task task,
		       struct gate **out, size_t *n, struct mlops_err *err)
{
	const struct {
		enum gate_rule rule;
		const char *const *specs;
		size_t n;
	} lists[] = {
		{ GATE_MIN, o->min, o->n_min },
		{ GATE_MAX, o->max, o->n_max },
		{ GATE_MIN_DELTA, o->min_delta, o->n_min_delta },
	};
	struct gate *g;
	size_t i, j;
	int ret;

	*n = 0;
	*out = g = xcalloc(o->n_min + o->n_max + o->n_min_delta + 2,
			   sizeof(*g));
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (j = 0; j < lists[i].n; j++)
			if ((ret = gate_parse(lists[i].rule, lists[i].specs[j],
					      task, &g[(*n)++], err)))
				return ret;
	if (o->max_latency_us >= 0)
		gate_limit(GATE_MAX_LATENCY, o->max_latency_us, &g[(*n)++]);
	if (o->max_size >= 0)
		gate_limit(GATE_MAX_SIZE, o->max_size, &g[(*n)++]);
	return 0;
}

/* Load the champion, which must predict the same target the same way. */
static int load_champion(struct repo *repo, const struct validation_opts *o,
			 struct validation *v, struct mlops_err *err)
{
	const struct model *chal, *champ;
	int ret;

	if (!o->against)
		return 0;
	if ((ret = modelref_load(repo, o->against, &v->champion.m,
				 &v->champion.info, err)))
		return ret;
	chal = v->model.m;
	champ = v->champion.m;
	if (champ->task != chal->task || strcmp(champ->target, chal->target))
		return err_set(err, MLOPS_EUSAGE,
			       "cannot compare: '%s' predicts '%s' (%s), '%s' predicts '%s' (%s)",
			       o->model, chal->target,
			       model_task_name(chal->task), o->against,
			       champ->target, model_task_name(champ->task));
	return 0;
}

static void measure_of(const struct validation_model *s,
		       struct gate_measure *g)
{
	g->metrics = s->metrics;
	g->n_metrics = s->n_metrics;
	g->latency_us = s->latency_us;
	g->size = s->info.size;
}

/* The metrics table: each of the model's metrics beside the champion's. */
static void fill_table(struct validation *v, int has_champion)
{
	struct gate_measure champ;
	size_t i;

	measure_of(&v->champion, &champ);
	for (i = 0; i < v->model.n_metrics; i++) {
		struct validation_metric *t = &v->table[i];
		const char *cnote;

		t->name = v->model.metrics[i].name;
		t->value = v->model.metrics[i].value;
		t->note = v->model.metrics[i].note;
		t->champion = t->improvement = NAN;
		if (!has_champion)
			continue;
		t->champion = gate_measure_find(&champ, t->name, &cnote);
		if (!t->note[0])
			t->note = cnote;
		if (!isnan(t->value) && !isnan(t->champion))
			t->improvement = metrics_higher_is_better(t->name) ?
					 t->value - t->champion :
					 t->champion - t->value;
	}
	v->n_table = v->model.n_metrics;
}

/* Evaluate the gates; the first failure becomes the message. */
static void judge(struct validation *v, const struct gate *gates, size_t n,
		  const char *against)
{
	struct gate_measure chal, champ;
	size_t i;

	measure_of(&v->model, &chal);
	measure_of(&v->champion, &champ);
	v->gates = xcalloc(n + 1, sizeof(*v->gates));
	v->n_gates = n;
	v->passed = gate_evaluate(gates, n, &chal, against ? &champ : NULL,
				  v->gates);
	for (i = 0; i < n; i++)
		if (!v->gates[i].passed) {
			gate_result_message(&v->gates[i], against, v->failure,
					    sizeof(v->failure));
			break;
		}
}

static void report_champion(cJSON *report, const struct validation *v,
			    const char *against)
{
	const struct validation_model *c = &v->champion;
	cJSON *cm = cJSON_CreateObject(), *cn;

	metrics_json(cm, "metrics", c->metrics, c->n_metrics);
	cJSON_AddStringToObject(report, "against", against);
	if (c->info.name) {
		cJSON_AddStringToObject(report, "against_model", c->info.name);
		cJSON_AddNumberToObject(report, "against_version",
					c->info.version);
	}
	/* What the stage policy compares with the stage's holder. */
	cJSON_AddStringToObject(report, "against_sha256", c->info.sha256);
	cJSON_AddItemToObject(report, "against_metrics",
			      cJSON_DetachItemFromObject(cm, "metrics"));
	if ((cn = cJSON_DetachItemFromObject(cm, "metric_notes")))
		cJSON_AddItemToObject(report, "against_metric_notes", cn);
	cJSON_Delete(cm);
}

/* The report, member by member in the order readers have always seen. */
static cJSON *build_report(const struct validation *v,
			   const struct validation_opts *o)
{
	const struct validation_model *s = &v->model;
	cJSON *report = cJSON_CreateObject(), *jm;

	cJSON_AddNumberToObject(report, "schema", 1);
	if (s->info.name) {
		cJSON_AddStringToObject(report, "model", s->info.name);
		cJSON_AddNumberToObject(report, "version", s->info.version);
	} else {
		cJSON_AddStringToObject(report, "model_file", o->model);
	}
	cJSON_AddStringToObject(report, "sha256", s->info.sha256);
	cJSON_AddStringToObject(report, "data", o->data);
	cJSON_AddStringToObject(report, "data_sha256", s->data_sha256);
	cJSON_AddNumberToObject(report, "rows", (double)s->rows);
	metrics_json(report, "metrics", s->metrics, s->n_metrics);
	jm = cJSON_GetObjectItem(report, "metrics");
	cJSON_AddNumberToObject(jm, "latency_us", s->latency_us);
	cJSON_AddNumberToObject(jm, "size", (double)s->info.size);
	if (o->against)
		report_champion(report, v, o->against);
	cJSON_AddItemToObject(report, "gates",
			      gate_results_json(v->gates, v->n_gates));
	cJSON_AddBoolToObject(report, "passed", v->passed);
	return report;
}

/* Record the verdict against the version: a run of kind "validate". */
static int record(struct repo *repo, const struct runrec *rl,
		  struct validation *v, const struct validation_opts *o,
		  struct mlops_err *err)
{
	struct reg_run run = { 0 };
	struct runrec_input in = { .role = "data", .path = o->data,
		.sha256 = v->model.data_sha256,
		.rows = (long long)v->model.rows, .rejected = -1 };
	char *inputs_text = runrec_inputs_json(&in, 1), *metrics_text;
	int ret;

	metrics_text = cJSON_PrintUnformatted(v->report);
	run.kind = "validate";
	run.model = v->model.info.name;
	run.version = v->model.info.version;
	run.exit_status = v->passed ? 0 : err_exit_code(MLOPS_ECHECK);
	run.passed = v->passed;
	run.artifact_sha256 = v->model.info.sha256;
	run.inputs_json = inputs_text;
	run.metrics_json = metrics_text;
	ret = runrec_record(repo, rl, &run, &v->run_id, err);
	cJSON_free(inputs_text);
	cJSON_free(metrics_text);
	if (!ret && v->run_id)
		cJSON_AddNumberToObject(v->report, "run", (double)v->run_id);
	return ret;
}

int validation_run(struct repo *repo, const struct validation_opts *o,
		   struct validation *out, struct mlops_err *err)
{
	struct runrec rl;
	struct gate *gates = NULL;
	size_t n_gates = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	runrec_start(&rl);
	if (o->n_min_delta && !o->against)
		return err_set(err, MLOPS_EUSAGE,
			       "--min-delta needs --against");
	if (o->against && !strcmp(o->data, "-"))
		return err_set(err, MLOPS_EUSAGE,
			       "--against reads the data twice; give a file, not stdin");
	if ((ret = modelref_load(repo, o->model, &out->model.m,
				 &out->model.info, err)))
		return ret;
	if ((ret = parse_gates(o, out->model.m->task, &gates, &n_gates, err)) ||
	    (ret = load_champion(repo, o, out, err)) ||
	    (ret = evaluate(&out->model, o, 1, err)) ||
	    (o->against && (ret = evaluate(&out->champion, o, 0, err))))
		goto out;
	fill_table(out, o->against != NULL);
	judge(out, gates, n_gates, o->against);
	out->report = build_report(out, o);
	if (repo)
		ret = record(repo, &rl, out, o, err);
out:
	free(gates);
	return ret;
}

void validation_release(struct validation *v)
{
	cJSON_Delete(v->report);
	model_free(v->model.m);
	model_free(v->champion.m);
	modelref_info_release(&v->model.info);
	modelref_info_release(&v->champion.info);
	free(v->model.confusion);
	free(v->champion.confusion);
	free(v->gates);
	memset(v, 0, sizeof(*v));
}

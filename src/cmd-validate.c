/*
 * mlops validate: compute metrics of a model on labelled data, apply the
 * gates, optionally compare with another model on the same rows, and
 * record the result against the version.  Exit 0 when every gate passes,
 * 3 when one fails: a CI step can gate on the exit code alone.
 *
 * Labels are matched to the model's classes by exact text, or by value
 * when both are numbers ("1.0" is class "1").  Rows without a label are
 * skipped; a label the model never saw is bad input (exit 5).
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "csv.h"
#include "metrics.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "score.h"
#include "xalloc.h"

static const char *const synopsis[] = {
	"mlops validate MODEL --data FILE [--min METRIC=V]... [--max METRIC=V]...",
	"[--against MODEL [--min-delta METRIC=D]...] [--max-latency-us N] [--max-size BYTES]",
	"[--na-values TOKENS] [--delimiter CHAR] [--encoding ENC]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops validate churn:7 --data holdout.csv --min auc=0.80\n"
	"  mlops validate churn:7 --data holdout.csv --against churn@production --min-delta auc=0.01\n"
	"  mlops --json validate model.json --data test.csv --max logloss=0.4 --max-latency-us 50\n",
	"Compute metrics on labelled data and gate on them; exit 3 when a gate fails."
};

struct scored_set {
	struct model *m;
	struct modelref_info info;
	struct metric metrics[MODEL_MAX_METRICS];
	size_t n_metrics;
	size_t *confusion;
	double latency_us;
	uint64_t rows;
	char data_sha256[65];	/* of the data read, when hashed */
};

struct gate {
	const char *metric;	/* points into argv */
	size_t len;
	double value;
	int kind;		/* 0 min, 1 max, 2 min-delta */
};

/* Value of a metric (NAN if undefined: *note, if wanted, says why). */
static double find_metric(const struct scored_set *s, const char *name,
			  const char **note)
{
	size_t i;

	if (note)
		*note = "";
	for (i = 0; i < s->n_metrics; i++)
		if (!strcmp(s->metrics[i].name, name)) {
			if (note)
				*note = s->metrics[i].note;
			return s->metrics[i].value;
		}
	if (!strcmp(name, "latency_us"))
		return s->latency_us;
	if (!strcmp(name, "size"))
		return (double)s->info.size;
	return NAN;
}

/* Class index of a label, matching text first, then numeric value. */
static long label_class(const struct model *m, const char *label)
{
	double v, c;
	size_t k;

	for (k = 0; k < m->n_classes; k++)
		if (!strcmp(m->classes[k], label))
			return (long)k;
	if (csv_parse_double(label, strlen(label), &v))
		return -1;
	for (k = 0; k < m->n_classes; k++)
		if (!csv_parse_double(m->classes[k], strlen(m->classes[k]), &c) &&
		    c == v)
			return (long)k;
	return -1;
}

/*
 * Score `path` with s->m, collecting labels and predictions, then
 * metrics; with `hash`, s->data_sha256 receives the data's hash.
 */
static int evaluate(struct scored_set *s, const char *path, int hash,
		    const struct opt_list *na, const struct csv_opts *read,
		    struct mlops_err *err)
{
	const struct model *m = s->m;
	struct score_stream *ss = NULL;
	struct score_block b;
	size_t w = score_width(m), n = 0, alloc = 0, i, col;
	double *pred = NULL, *yv = NULL, t0, t1;
	uint32_t *cls = NULL;
	int ret;
	struct timespec ts;
	struct score_stream_opts so = { 0 };

	so.no_hash = !hash;	/* a second pass over the same data */
	so.na_values = na->items;
	so.n_na_values = na->n;
	so.csv = *read;
	if ((ret = score_stream_open(m, path, &so, &ss, err)))
		return ret;
	if ((ret = score_stream_lookup(ss, m->target, "the model's target",
				       &col, err)))
		goto out;
	score_stream_set_extra(ss, &col, 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	for (;;) {
		if ((ret = score_stream_next(ss, &b, err)))
			goto out;
		if (!b.n)
			break;
		for (i = 0; i < b.n; i++) {
			const char *label = b.extra[i];
			size_t len = strlen(label);

			if (score_stream_is_missing(ss, label, len))
				continue;
			if (n == alloc) {
				alloc = alloc ? 2 * alloc : 4096;
				cls = xreallocarray(cls, alloc, sizeof(*cls));
				yv = xreallocarray(yv, alloc, sizeof(*yv));
				pred = xreallocarray(pred, alloc, w * sizeof(*pred));
			}
			if (m->task == TASK_REGRESSION) {
				if (csv_parse_double(label, len, &yv[n])) {
					ret = err_set(err, MLOPS_EINPUT,
						      "'%s' line %lu, column %zu ('%s'): '%s' is not a number",
						      score_stream_name(ss), b.line[i],
						      col + 1, m->target, label);
					goto out;
				}
			} else {
				long k = label_class(m, label);

				if (k < 0) {
					ret = err_set(err, MLOPS_EINPUT,
						      "'%s' line %lu, column %zu ('%s'): label '%s' is not a class the model knows",
						      score_stream_name(ss), b.line[i],
						      col + 1, m->target, label);
					goto out;
				}
				cls[n] = (uint32_t)k;
			}
			memcpy(pred + n * w, b.pred + i * w, w * sizeof(double));
			n++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	s->rows = n;
	if (hash)
		score_stream_sha256(ss, s->data_sha256);
	s->latency_us = score_stream_rows(ss) ?
			(t1 - t0) * 1e6 / (double)score_stream_rows(ss) : 0;
	if (!n) {
		ret = err_set(err, MLOPS_EINPUT, "'%s': no rows with a value in '%s'",
			      score_stream_name(ss), m->target);
		goto out;
	}
	if (m->task == TASK_REGRESSION) {
		s->n_metrics = metrics_regression(yv, pred, n, s->metrics);
	} else {
		s->confusion = xcalloc(m->n_classes * m->n_classes, sizeof(size_t));
		s->n_metrics = metrics_classification(m->task, m->n_classes,
						      (const char *const *)m->classes,
						      cls, pred, n, s->metrics,
						      s->confusion);
	}
	ret = 0;
out:
	score_stream_close(ss);
	free(pred);
	free(yv);
	free(cls);
	return ret;
}

static int parse_gates(struct opt_list *l, int kind, enum model_task task,
		       const char *flag, struct gate *g, size_t *n,
		       struct mlops_err *err)
{
	size_t i;
	int ret;

	for (i = 0; i < l->n; i++) {
		struct gate *x = &g[(*n)++];
		char name[32];

		x->kind = kind;
		x->metric = l->items[i];
		if ((ret = opt_parse_kv_double(l->items[i], flag, &x->len,
					       &x->value, err)))
			return ret;
		snprintf(name, sizeof(name), "%.*s", (int)x->len, x->metric);
		if (!metrics_known(task, name))
			return err_set(err, MLOPS_EUSAGE,
				       "%s: unknown metric '%s' for a %s model (known: %s)",
				       flag, name, model_task_name(task),
				       metrics_names(task));
	}
	return 0;
}

static const char *verdict_word(int pass, int color)
{
	if (!color)
		return pass ? "pass" : "FAIL";
	return pass ? "\033[32mpass\033[0m" : "\033[31mFAIL\033[0m";
}

int cmd_validate(int argc, char **argv, struct cmd_ctx *ctx,
		 struct mlops_err *err)
{
	const char *data = NULL, *against = NULL;
	struct opt_list mins = { 0 }, maxs = { 0 }, deltas = { 0 }, na = { 0 };
	double max_latency = -1, max_size = -1;
	struct cmd_csv csv = { 0 };
	struct csv_opts read;
	struct opt opts[] = {
		OPT_STRING('d', "data", &data, "FILE", "labelled CSV holding the model's features and target"),
		OPT_LIST(0, "min", &mins, "METRIC=V", "fail unless METRIC >= V (repeatable)"),
		OPT_LIST(0, "max", &maxs, "METRIC=V", "fail unless METRIC <= V (repeatable)"),
		OPT_STRING(0, "against", &against, "MODEL", "compare with this model (the champion) on the same rows"),
		OPT_LIST(0, "min-delta", &deltas, "METRIC=D", "fail unless the improvement over --against is >= D"),
		OPT_DOUBLE(0, "max-latency-us", &max_latency, "N", "fail if scoring takes more than N microseconds per row"),
		OPT_DOUBLE(0, "max-size", &max_size, "BYTES", "fail if the artefact is larger than BYTES"),
		OPT_CSV(0, "na-values", &na, "TOKENS", "also read these values as missing (besides the model's)"),
		OPT_CSV_READ(&csv),
		OPT_END()
	};
	struct scored_set chal = { 0 }, champ = { 0 };
	struct gate *gates = NULL;
	size_t n_gates = 0, i;
	struct runrec rl;
	struct reg_run run = { 0 };
	char failure[512] = "", *metrics_text = NULL, *inputs_text = NULL;
	cJSON *report = NULL, *jg, *jm;
	int n_args, ret, passed = 1;
	long long run_id = 0;

	runrec_start(&rl);
	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args != 1 || !data) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "MODEL and --data are required (see 'mlops validate --help')");
		goto out;
	}
	if ((ret = cmd_csv_opts(&csv, &read, err)))
		goto out;
	if (deltas.n && !against) {
		ret = err_set(err, MLOPS_EUSAGE, "--min-delta needs --against");
		goto out;
	}
	if (against && !strcmp(data, "-")) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--against reads the data twice; give a file, not stdin");
		goto out;
	}
	if ((ret = modelref_load(ctx->repo, argv[0], &chal.m, &chal.info, err)))
		goto out;
	gates = xcalloc(mins.n + maxs.n + deltas.n + 1, sizeof(*gates));
	if ((ret = parse_gates(&mins, 0, chal.m->task, "--min", gates, &n_gates, err)) ||
	    (ret = parse_gates(&maxs, 1, chal.m->task, "--max", gates, &n_gates, err)) ||
	    (ret = parse_gates(&deltas, 2, chal.m->task, "--min-delta", gates, &n_gates, err)))
		goto out;
	if (against) {
		if ((ret = modelref_load(ctx->repo, against, &champ.m,
					 &champ.info, err)))
			goto out;
		if (champ.m->task != chal.m->task ||
		    strcmp(champ.m->target, chal.m->target)) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "cannot compare: '%s' predicts '%s' (%s), '%s' predicts '%s' (%s)",
				      argv[0], chal.m->target,
				      model_task_name(chal.m->task), against,
				      champ.m->target,
				      model_task_name(champ.m->task));
			goto out;
		}
	}
	if ((ret = evaluate(&chal, data, 1, &na, &read, err)))
		goto out;
	if (against && (ret = evaluate(&champ, data, 0, &na, &read, err)))
		goto out;

	/* Apply the gates; the first failure becomes the error line. */
	report = cJSON_CreateObject();
	jg = cJSON_CreateArray();
	for (i = 0; i < n_gates; i++) {
		struct gate *g = &gates[i];
		char name[32];
		double v, c = NAN, d;
		const char *note;
		int ok;
		cJSON *o = cJSON_CreateObject();

		snprintf(name, sizeof(name), "%.*s", (int)g->len, g->metric);
		v = find_metric(&chal, name, &note);
		if (g->kind == 2) {
			c = find_metric(&champ, name, note[0] ? NULL : &note);
			d = metrics_higher_is_better(name) ? v - c : c - v;
			ok = d >= g->value;
			if (!ok && !failure[0] && isnan(d))
				snprintf(failure, sizeof(failure),
					 "gate failed: %s could not be computed on this data%s%s (--min-delta %s=%g)",
					 name, note[0] ? ": " : "", note, name,
					 g->value);
			else if (!ok && !failure[0])
				snprintf(failure, sizeof(failure),
					 "gate failed: %s improves by %.6g over %s, below --min-delta %s=%g",
					 name, d, against, name, g->value);
			v = d;
		} else {
			ok = g->kind == 0 ? v >= g->value : v <= g->value;
			if (!ok && !failure[0] && isnan(v))
				snprintf(failure, sizeof(failure),
					 "gate failed: %s could not be computed on this data%s%s (--%s %s=%g)",
					 name, note[0] ? ": " : "", note,
					 g->kind == 0 ? "min" : "max",
					 name, g->value);
			else if (!ok && !failure[0])
				snprintf(failure, sizeof(failure),
					 "gate failed: %s is %.6g, %s %g (--%s %s=%g)",
					 name, v, g->kind == 0 ? "below" : "above",
					 g->value, g->kind == 0 ? "min" : "max",
					 name, g->value);
		}
		passed &= ok;
		cJSON_AddStringToObject(o, "metric", name);
		cJSON_AddStringToObject(o, "rule", g->kind == 0 ? "min" :
					g->kind == 1 ? "max" : "min-delta");
		cJSON_AddNumberToObject(o, "threshold", g->value);
		if (isfinite(v)) {
			cJSON_AddNumberToObject(o, "value", v);
		} else {
			cJSON_AddNullToObject(o, "value");
			cJSON_AddStringToObject(o, "reason", note[0] ? note :
						"undefined on this data");
		}
		cJSON_AddBoolToObject(o, "passed", ok);
		cJSON_AddItemToArray(jg, o);
	}
	if (max_latency >= 0) {
		int ok = chal.latency_us <= max_latency;
		cJSON *o = cJSON_CreateObject();

		if (!ok && !failure[0])
			snprintf(failure, sizeof(failure),
				 "gate failed: scoring took %.3g us per row, above --max-latency-us %g",
				 chal.latency_us, max_latency);
		passed &= ok;
		cJSON_AddStringToObject(o, "metric", "latency_us");
		cJSON_AddStringToObject(o, "rule", "max");
		cJSON_AddNumberToObject(o, "threshold", max_latency);
		cJSON_AddNumberToObject(o, "value", chal.latency_us);
		cJSON_AddBoolToObject(o, "passed", ok);
		cJSON_AddItemToArray(jg, o);
	}
	if (max_size >= 0) {
		int ok = (double)chal.info.size <= max_size;
		cJSON *o = cJSON_CreateObject();

		if (!ok && !failure[0])
			snprintf(failure, sizeof(failure),
				 "gate failed: the artefact is %lld bytes, above --max-size %.0f",
				 chal.info.size, max_size);
		passed &= ok;
		cJSON_AddStringToObject(o, "metric", "size");
		cJSON_AddStringToObject(o, "rule", "max");
		cJSON_AddNumberToObject(o, "threshold", max_size);
		cJSON_AddNumberToObject(o, "value", (double)chal.info.size);
		cJSON_AddBoolToObject(o, "passed", ok);
		cJSON_AddItemToArray(jg, o);
	}

	cJSON_AddNumberToObject(report, "schema", 1);
	if (chal.info.name) {
		cJSON_AddStringToObject(report, "model", chal.info.name);
		cJSON_AddNumberToObject(report, "version", chal.info.version);
	} else {
		cJSON_AddStringToObject(report, "model_file", argv[0]);
	}
	cJSON_AddStringToObject(report, "sha256", chal.info.sha256);
	cJSON_AddStringToObject(report, "data", data);
	cJSON_AddStringToObject(report, "data_sha256", chal.data_sha256);
	cJSON_AddNumberToObject(report, "rows", (double)chal.rows);
	cmd_json_metrics(report, "metrics", chal.metrics, chal.n_metrics);
	jm = cJSON_GetObjectItem(report, "metrics");
	cJSON_AddNumberToObject(jm, "latency_us", chal.latency_us);
	cJSON_AddNumberToObject(jm, "size", (double)chal.info.size);
	if (against) {
		cJSON *cm = cJSON_CreateObject(), *cn;

		cmd_json_metrics(cm, "metrics", champ.metrics, champ.n_metrics);
		cJSON_AddStringToObject(report, "against", against);
		if (champ.info.name) {
			cJSON_AddStringToObject(report, "against_model",
						champ.info.name);
			cJSON_AddNumberToObject(report, "against_version",
						champ.info.version);
		}
		/* What the stage policy compares with the stage's holder. */
		cJSON_AddStringToObject(report, "against_sha256",
					champ.info.sha256);
		cJSON_AddItemToObject(report, "against_metrics",
				      cJSON_DetachItemFromObject(cm, "metrics"));
		if ((cn = cJSON_DetachItemFromObject(cm, "metric_notes")))
			cJSON_AddItemToObject(report, "against_metric_notes",
					      cn);
		cJSON_Delete(cm);
	}
	cJSON_AddItemToObject(report, "gates", jg);
	cJSON_AddBoolToObject(report, "passed", passed);

	/* Record the verdict against the version before reporting it. */
	if (ctx->repo) {
		cJSON *in = cJSON_CreateArray(), *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "role", "data");
		cJSON_AddStringToObject(o, "path", data);
		cJSON_AddStringToObject(o, "sha256", chal.data_sha256);
		cJSON_AddNumberToObject(o, "rows", (double)chal.rows);
		cJSON_AddItemToArray(in, o);
		inputs_text = cJSON_PrintUnformatted(in);
		cJSON_Delete(in);
		metrics_text = cJSON_PrintUnformatted(report);
		run.kind = "validate";
		run.model = chal.info.name;
		run.version = chal.info.version;
		run.exit_status = passed ? 0 : 3;
		run.passed = passed;
		run.artifact_sha256 = chal.info.sha256;
		run.inputs_json = inputs_text;
		run.metrics_json = metrics_text;
		if ((ret = runrec_record(ctx->repo, &rl, &run, &run_id, err)))
			goto out;
		if (run_id)
			cJSON_AddNumberToObject(report, "run", (double)run_id);
	}

	if (ctx->json) {
		char *text = cJSON_PrintUnformatted(report);

		printf("%s\n", text);
		cJSON_free(text);
	} else if (!ctx->quiet) {
		printf("validated %s on %llu rows of '%s'\n", argv[0],
		       (unsigned long long)chal.rows, data);
		printf("\n  %-12s %12s", "metric", "value");
		if (against)
			printf(" %12s %12s", "champion", "improvement");
		printf("\n");
		for (i = 0; i < chal.n_metrics; i++) {
			const char *name = chal.metrics[i].name, *note;
			double v = chal.metrics[i].value, c;

			/* An undefined metric: n/a, and why after the columns. */
			printf("  %-12s", name);
			if (isnan(v))
				printf(" %12s", "n/a");
			else
				printf(" %12.6f", v);
			note = chal.metrics[i].note;
			if (against) {
				const char *cnote;

				c = find_metric(&champ, name, &cnote);
				if (!note[0])
					note = cnote;
				if (isnan(c))
					printf(" %12s", "n/a");
				else
					printf(" %12.6f", c);
				if (isnan(v) || isnan(c))
					printf(" %12s", "n/a");
				else
					printf(" %+12.6f",
					       metrics_higher_is_better(name) ?
					       v - c : c - v);
			}
			if (note[0])
				printf(" (%s)", note);
			printf("\n");
		}
		printf("  %-12s %12.3f\n", "latency_us", chal.latency_us);
		printf("  %-12s %12lld\n", "size", chal.info.size);
		if (cJSON_GetArraySize(jg)) {
			cJSON *o;

			printf("\ngates:\n");
			cJSON_ArrayForEach(o, jg) {
				cJSON *v = cJSON_GetObjectItem(o, "value");

				cJSON *why = cJSON_GetObjectItem(o, "reason");
				char val[96];

				if (cJSON_IsNumber(v))
					snprintf(val, sizeof(val), "%.6g",
						 v->valuedouble);
				else
					snprintf(val, sizeof(val), "n/a (%s)",
						 why ? why->valuestring : "");
				printf("  %-4s %s %-10s %-12s %g (value %s)\n",
				       verdict_word(cJSON_IsTrue(cJSON_GetObjectItem(o, "passed")),
						    ctx->color),
				       "", cJSON_GetObjectItem(o, "rule")->valuestring,
				       cJSON_GetObjectItem(o, "metric")->valuestring,
				       cJSON_GetObjectItem(o, "threshold")->valuedouble,
				       val);
			}
		}
		printf("\nverdict: %s\n", passed ? "pass" : "FAIL");
	}
	ret = passed ? 0 : err_set(err, MLOPS_ECHECK, "%s", failure);
out:
	cJSON_Delete(report);
	cJSON_free(metrics_text);
	cJSON_free(inputs_text);
	model_free(chal.m);
	model_free(champ.m);
	modelref_info_release(&chal.info);
	modelref_info_release(&champ.info);
	free(chal.confusion);
	free(champ.confusion);
	free(gates);
	opt_list_release(&mins);
	opt_list_release(&maxs);
	opt_list_release(&na);
	opt_list_release(&deltas);
	return ret;
}

#ifndef MLOPS_METRICS_H
#define MLOPS_METRICS_H

/*
 * Quality metrics, computed as scikit-learn does.
 *
 * Classification: accuracy, precision, recall, f1 (binary: of classes[1];
 * multiclass: macro over the labels present), auc (ROC AUC; multiclass:
 * one-vs-rest macro; undefined with a class absent from the labels),
 * logloss (probabilities clipped to [eps, 1-eps]), brier (binary: mean
 * squared error of p(classes[1]); multiclass: mean over rows of the
 * summed squared error over classes).  Regression: rmse, mae, r2.
 */

#include <stddef.h>
#include <stdint.h>
#include "model.h"

struct cJSON;

/*
 * `y` holds the true class index of each of `n` rows, `prob` the output
 * of predict_columns (binary: one value per row; multiclass: K per row).
 * `classes` (K names, or NULL) names classes in notes.  Fills `out` (at
 * least MODEL_MAX_METRICS) and returns how many: always the seven of
 * metrics_names().  Precision, recall and f1 are of classes[1] for
 * binary, and for multiclass the macro average over the labels present
 * in y or in the predictions (sklearn's average="macro", labels=None).
 * auc is NAN, with out[].note "class 'x' absent", when a class does not
 * occur in y (sklearn's roc_auc_score raises then).  When `confusion`
 * is non-NULL it receives the K x K counts (row: true class).
 */
size_t metrics_classification(enum model_task task, size_t n_classes,
			      const char *const *classes, const uint32_t *y,
			      const double *prob, size_t n,
			      struct metric *out, size_t *confusion);

/*
 * A metric as a table shows it: "0.123456", or "n/a (NOTE)" for one
 * that is undefined.  Returns buf.
 */
const char *metrics_format(const struct metric *mt, char *buf, size_t len);

/* Regression metrics of `pred` against `y`; returns how many. */
size_t metrics_regression(const double *y, const double *pred, size_t n,
			  struct metric *out);

/* Whether larger values of the metric are better (auc) or not (rmse). */
int metrics_higher_is_better(const char *name);

/* Whether `name` is a metric for the task. */
int metrics_known(enum model_task task, const char *name);

/* Comma-separated metric names of the task, for messages. Static. */
const char *metrics_names(enum model_task task);

/*
 * Add `key` (holding each metric, null when undefined) and, when one is
 * undefined, "metric_notes" (why) to `obj`: the form train --json and
 * validate's report show metrics in.
 */
void metrics_json(struct cJSON *obj, const char *key, const struct metric *mt,
		  size_t n);

/* ROC AUC of scores for positives (pos[i] != 0); NAN if one class. */
double metrics_auc(const double *score, const unsigned char *pos, size_t n);

#endif

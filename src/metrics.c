/*
 * Metrics with scikit-learn's definitions (see metrics.h), so that a
 * number printed by mlops can be checked against sklearn.metrics.
 * ROC AUC is the Mann-Whitney statistic with average ranks for ties,
 * which equals the trapezoidal area under the ROC curve.
 *
 * Where sklearn has no number, neither does mlops: ROC AUC with a class
 * absent from the true labels is undefined (roc_auc_score raises), and
 * is reported as NAN with the reason, never averaged over the classes
 * that happen to be there.  Macro averages run over the labels present
 * in the true or the predicted labels, as sklearn's labels=None does, so
 * a class the model knows but the data never mentions does not count as
 * a zero.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics.h"
#include "xalloc.h"

static const char *const classification_names[] = {
	"accuracy", "precision", "recall", "f1", "auc", "logloss", "brier", NULL
};
static const char *const regression_names[] = { "rmse", "mae", "r2", NULL };
static const char *const lower_is_better[] = {
	"logloss", "brier", "rmse", "mae", NULL
};

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return 1;
	return 0;
}

int metrics_higher_is_better(const char *name)
{
	return !in_list(lower_is_better, name);
}

int metrics_known(enum model_task task, const char *name)
{
	return in_list(task == TASK_REGRESSION ? regression_names :
		       classification_names, name);
}

const char *metrics_names(enum model_task task)
{
	return task == TASK_REGRESSION ? "rmse, mae, r2" :
	       "accuracy, precision, recall, f1, auc, logloss, brier";
}

static void put(struct metric *out, size_t *n, const char *name, double v)
{
	strcpy(out[*n].name, name);
	out[*n].value = v;
	out[*n].note[0] = '\0';
	(*n)++;
}

/* "class 'x' absent" for the first absent class (k), and how many more. */
static void absent_note(char *note, size_t len, const char *const *classes,
			size_t k, size_t more)
{
	char extra[40] = "";

	if (more)
		snprintf(extra, sizeof(extra), " (and %zu more)", more);
	if (classes)
		snprintf(note, len, "class '%.30s' absent%s", classes[k], extra);
	else
		snprintf(note, len, "class %zu absent%s", k, extra);
}

const char *metrics_format(const struct metric *mt, char *buf, size_t len)
{
	if (isnan(mt->value) && mt->note[0])
		snprintf(buf, len, "n/a (%s)", mt->note);
	else if (isnan(mt->value))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.6f", mt->value);
	return buf;
}

struct scored {
	double score;
	unsigned char pos;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->score;
	double y = ((const struct scored *)b)->score;

	return (x > y) - (x < y);
}

double metrics_auc(const double *score, const unsigned char *pos, size_t n)
{
	struct scored *s = xmallocarray(n ? n : 1, sizeof(*s));
	double n_pos = 0, rank_sum = 0, auc;
	size_t i, j;

	for (i = 0; i < n; i++) {
		s[i].score = score[i];
		s[i].pos = pos[i];
		n_pos += pos[i] != 0;
	}
	if (n_pos == 0 || n_pos == (double)n) {
		free(s);
		return NAN;
	}
	qsort(s, n, sizeof(*s), cmp_scored);
	for (i = 0; i < n; i = j) {
		double avg_rank, k = 0;

		for (j = i; j < n && s[j].score == s[i].score; j++)
			k += s[j].pos != 0;
		avg_rank = ((double)i + 1 + (double)j) / 2;
		rank_sum += k * avg_rank;
	}
	free(s);
	auc = (rank_sum - n_pos * (n_pos + 1) / 2) /
	      (n_pos * ((double)n - n_pos));
	return auc;
}

size_t metrics_classification(enum model_task task, size_t n_classes,
			      const char *const *classes, const uint32_t *y,
			      const double *prob, size_t n,
			      struct metric *out, size_t *confusion)
{
	size_t K = n_classes, width = task == TASK_BINARY ? 1 : K;
	size_t *cm = xcalloc(K * K, sizeof(*cm));
	size_t *n_true = xcalloc(K + 1, sizeof(*n_true));
	double correct = 0, logloss = 0, brier = 0;
	double prec_sum = 0, rec_sum = 0, f1_sum = 0, auc_sum = 0;
	double *score = xmallocarray(n ? n : 1, sizeof(double));
	unsigned char *pos = xmallocarray(n ? n : 1, 1);
	size_t i, k, m = 0, n_labels = 0, absent = K, n_absent = 0;

	for (i = 0; i < n; i++) {
		const double *p = prob + i * width;
		size_t pred = 0;
		double py;

		if (task == TASK_BINARY) {
			pred = p[0] > 0.5;
			py = y[i] == 1 ? p[0] : 1 - p[0];
			brier += (p[0] - (y[i] == 1)) * (p[0] - (y[i] == 1));
		} else {
			double sum = 0;

			for (k = 0; k < K; k++) {
				if (p[k] > p[pred])
					pred = k;
				sum += p[k];
				brier += (p[k] - (y[i] == k)) *
					 (p[k] - (y[i] == k));
			}
			py = sum > 0 ? p[y[i]] / sum : 0;
		}
		if (py < DBL_EPSILON)
			py = DBL_EPSILON;
		if (py > 1 - DBL_EPSILON)
			py = 1 - DBL_EPSILON;
		logloss -= log(py);
		cm[y[i] * K + pred]++;
		n_true[y[i]]++;
		correct += pred == y[i];
	}
	put(out, &m, "accuracy", n ? correct / (double)n : NAN);

	/*
	 * Binary: the positive class only.  Multiclass: the macro average
	 * over the labels in the true or the predicted labels.
	 */
	for (k = task == TASK_BINARY ? 1 : 0; k < K; k++) {
		double tp = (double)cm[k * K + k], fp = 0, fn = 0, p, r;
		size_t j;

		for (j = 0; j < K; j++) {
			if (j == k)
				continue;
			fp += (double)cm[j * K + k];
			fn += (double)cm[k * K + j];
		}
		if (task == TASK_MULTICLASS && tp + fp + fn == 0)
			continue;
		n_labels++;
		p = tp + fp > 0 ? tp / (tp + fp) : 0;
		r = tp + fn > 0 ? tp / (tp + fn) : 0;
		prec_sum += p;
		rec_sum += r;
		f1_sum += p + r > 0 ? 2 * p * r / (p + r) : 0;
	}
	put(out, &m, "precision", n_labels ? prec_sum / (double)n_labels : NAN);
	put(out, &m, "recall", n_labels ? rec_sum / (double)n_labels : NAN);
	put(out, &m, "f1", n_labels ? f1_sum / (double)n_labels : NAN);

	/*
	 * ROC AUC: binary of classes[1]; multiclass one-vs-rest, macro.
	 * Every class must be in the true labels (and, binary, both).
	 */
	for (k = 0; k < K; k++)
		if (!n_true[k]) {
			if (absent == K)
				absent = k;
			n_absent++;
		}
	if (n_absent) {
		put(out, &m, "auc", NAN);
		absent_note(out[m - 1].note, sizeof(out[m - 1].note), classes,
			    absent, n_absent - 1);
	} else {
		for (k = task == TASK_BINARY ? 1 : 0; k < K; k++) {
			for (i = 0; i < n; i++) {
				score[i] = task == TASK_BINARY ? prob[i] :
					   prob[i * width + k];
				pos[i] = y[i] == k;
			}
			auc_sum += metrics_auc(score, pos, n);
		}
		put(out, &m, "auc", auc_sum / (double)(task == TASK_BINARY ?
						      1 : K));
	}
	put(out, &m, "logloss", n ? logloss / (double)n : NAN);
	put(out, &m, "brier", n ? brier / (double)n : NAN);

	if (confusion)
		memcpy(confusion, cm, K * K * sizeof(*cm));
	free(cm);
	free(n_true);
	free(score);
	free(pos);
	return m;
}

size_t metrics_regression(const double *y, const double *pred, size_t n,
			  struct metric *out)
{
	double mean = 0, ss_res = 0, ss_tot = 0, abs_sum = 0;
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		mean += y[i];
	mean = n ? mean / (double)n : 0;
	for (i = 0; i < n; i++) {
		double e = y[i] - pred[i];

		ss_res += e * e;
		abs_sum += fabs(e);
		ss_tot += (y[i] - mean) * (y[i] - mean);
	}
	put(out, &m, "rmse", n ? sqrt(ss_res / (double)n) : NAN);
	put(out, &m, "mae", n ? abs_sum / (double)n : NAN);
	/* sklearn: a constant target scores 1 when predicted exactly, else 0. */
	put(out, &m, "r2", ss_tot > 0 ? 1 - ss_res / ss_tot :
	    (ss_res == 0 ? 1 : 0));
	return m;
}

void metrics_json(struct cJSON *obj, const char *key, const struct metric *mt,
		  size_t n)
{
	cJSON *o = cJSON_CreateObject(), *notes = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isnan(mt[i].value)) {
			cJSON_AddNumberToObject(o, mt[i].name, mt[i].value);
			continue;
		}
		cJSON_AddNullToObject(o, mt[i].name);
		if (!notes)
			notes = cJSON_CreateObject();
		cJSON_AddStringToObject(notes, mt[i].name,
					mt[i].note[0] ? mt[i].note :
					"undefined on this data");
	}
	cJSON_AddItemToObject(obj, key, o);
	if (notes)
		cJSON_AddItemToObject(obj, "metric_notes", notes);
}

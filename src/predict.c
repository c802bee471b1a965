/*
 * The one prediction path (see predict.h): model inputs as columns in,
 * outputs out, with one fixed summation order, so that training,
 * validate, score-batch and drift compute the same bits for the same
 * row.  Nothing else in mlops adds up x w for a model's output: a
 * second copy of this arithmetic, however carefully kept in step, is how
 * a baseline came to differ from scoring by one unit in the last place.
 *
 * It works column by column: per output, each feature's terms are added
 * into four partial sums for a block of rows at a time, which reads each
 * input column once and never builds design rows.  It does not parse,
 * look up levels or check shapes: the callers (score.c's encoder,
 * train.c's dataset columns) hand it values and level indices.
 */

#include <math.h>
#include <string.h>

#include "predict.h"

size_t predict_width(const struct model *m)
{
	return m->task == TASK_MULTICLASS ? m->n_classes : 1;
}

size_t predict_scratch_len(const struct model *m, size_t n)
{
	return n * (4 + m->n_outputs);
}

/* Outputs from the linear parts z (n x n_outputs, changed in place). */
static void predict_finish(const struct model *m, double *work, size_t n,
			   double *out)
{
	size_t i, k, K = m->n_outputs, w = predict_width(m);

	for (i = 0; i < n; i++) {
		double *z = work + i * K, *o = out + i * w;

		switch (m->task) {
		case TASK_REGRESSION:
			o[0] = z[0] + m->intercept[0];
			break;
		case TASK_BINARY:
			o[0] = 1 / (1 + exp(-(z[0] + m->intercept[0])));
			break;
		case TASK_MULTICLASS: {
			double zmax = -INFINITY, sum = 0;

			for (k = 0; k < K; k++) {
				z[k] += m->intercept[k];
				if (z[k] > zmax)
					zmax = z[k];
			}
			for (k = 0; k < K; k++) {
				o[k] = exp(z[k] - zmax);
				sum += o[k];
			}
			for (k = 0; k < K; k++)
				o[k] /= sum;
			break;
		}
		}
	}
}

/*
 * d[r] += predict_encode_numeric(f, x[r]) * w for r < n, or, when the
 * values are encoded already, d[r] += x[r] * w: the same bits, since
 * the encoded value is that expression's.  Two rows at a time where the
 * compiler has two-lane vectors (the divide is the cost, and a two-lane
 * divide takes the time of one); IEEE arithmetic gives each lane the
 * scalar's bits.
 */
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
typedef double v2df __attribute__((vector_size(16)));
typedef long long v2di __attribute__((vector_size(16)));

static void add_numeric(const struct feature *f, const double *x, size_t n,
			double w, double *d)
{
	const v2df imp = { f->impute, f->impute };
	const v2df cen = { f->center, f->center };
	const v2df sc = { f->scale, f->scale };
	const v2df wv = { w, w };
	size_t r;

	for (r = 0; r + 2 <= n; r += 2) {
		v2df a, s;
		v2di nan;

		memcpy(&a, x + r, sizeof(a));
		memcpy(&s, d + r, sizeof(s));
		nan = a != a;
		a = (v2df)(((v2di)a & ~nan) | ((v2di)imp & nan));
		s += (a - cen) / sc * wv;
		memcpy(d + r, &s, sizeof(s));
	}
	for (; r < n; r++)
		d[r] += predict_encode_numeric(f, x[r]) * w;
}
#else
static void add_numeric(const struct feature *f, const double *x, size_t n,
			double w, double *d)
{
	size_t r;

	for (r = 0; r < n; r++)
		d[r] += predict_encode_numeric(f, x[r]) * w;
}
#endif

static void add_encoded(const double *x, size_t n, double w, double *d)
{
	size_t r;

	for (r = 0; r < n; r++)
		d[r] += x[r] * w;
}

void predict_columns(const struct model *m, const struct predict_cols *in,
		     double *scratch, double *out)
{
	size_t n = in->n, ld = in->ld, p = m->n_inputs, tail = p - p % 4;
	size_t K = m->n_outputs, o, i, r;
	double *acc = scratch, *work = scratch + 4 * n, *s[4];

	/* Input j's partial sum. */
#define PART(j) s[(j) < tail ? (j) % 4 : 0]
	for (i = 0; i < 4; i++)
		s[i] = acc + i * n;
	for (o = 0; o < K; o++) {
		const double *w = m->coef + o * p;

		memset(acc, 0, 4 * n * sizeof(double));
		for (i = 0; i < m->n_features; i++) {
			const struct feature *f = &m->features[i];
			size_t j = f->offset;

			if (f->kind == FEATURE_NUMERIC) {
				const double *x = in->raw + i * ld;

				if (in->encoded && in->encoded[i])
					add_encoded(x, n, w[j], PART(j));
				else
					add_numeric(f, x, n, w[j], PART(j));
				if (f->indicator) {
					double *d = PART(j + 1), wi = w[j + 1];

					for (r = 0; r < n; r++)
						if (x[r] != x[r])
							d[r] += wi;
				}
				continue;
			}
			for (r = 0; r < n; r++) {
				int32_t c = in->level[i * ld + r];
				long lv = c >= 0 ? c :
					  c == PREDICT_LEVEL_MISSING ?
					  f->impute_level : -1;

				if (lv >= 0)
					PART(j + (size_t)lv)[r] += w[j + (size_t)lv];
			}
		}
		for (r = 0; r < n; r++)
			work[r * K + o] = (s[0][r] + s[1][r]) + (s[2][r] + s[3][r]);
	}
#undef PART
	predict_finish(m, work, n, out);
}

size_t predict_argmax(const struct model *m, const double *row)
{
	size_t k, best = 0;

	if (m->task == TASK_BINARY)
		return row[0] > 0.5;
	for (k = 1; k < m->n_classes; k++)
		if (row[k] > row[best])
			best = k;
	return best;
}

/*
 * The inner loops of training that run once per value of the data: the
 * standardisation of a run of numbers (what design_fill and the column
 * takeover spend their time on), and the two products of a gradient pass
 * over a block seen input by input, z = X w and g += X' r.
 *
 * Each is written with two-lane vectors where GCC's vector extension is
 * there (SSE2, AArch64) and as plain loops otherwise, and both give the
 * same bits: a lane adds its terms in the order the scalar loop does.
 * Nothing here knows a solver, an objective or a model kind beyond the
 * one feature whose encoding it applies.
 */

#include <string.h>

#include "kernel.h"
#include "predict.h"

/*
 * o[i * stride] = predict_encode_numeric(f, x[i]) for i < n: the same
 * bits, two at a time.  Division is the cost here, and a two-lane
 * divide takes the time of one.
 */
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
typedef double v2df __attribute__((vector_size(16)));
typedef long long v2di __attribute__((vector_size(16)));

void kernel_encode(const struct feature *f, const double *x, size_t n,
		   double *o, size_t stride)
{
	const v2df imp = { f->impute, f->impute };
	const v2df cen = { f->center, f->center };
	const v2df sc = { f->scale, f->scale };
	size_t i;

	for (i = 0; i + 2 <= n; i += 2) {
		v2df a = { x[i], x[i + 1] }, r;
		v2di nan = a != a;

		a = (v2df)(((v2di)a & ~nan) | ((v2di)imp & nan));
		r = (a - cen) / sc;
		o[i * stride] = r[0];
		o[(i + 1) * stride] = r[1];
	}
	for (; i < n; i++)
		o[i * stride] = predict_encode_numeric(f, x[i]);
}
#else
void kernel_encode(const struct feature *f, const double *x, size_t n,
		   double *o, size_t stride)
{
	size_t i;

	for (i = 0; i < n; i++)
		o[i * stride] = predict_encode_numeric(f, x[i]);
}
#endif

/*
 * The two kernels of a gradient pass over a block seen input by input
 * (design_fill's view: q inputs, each a run of nb values, and the
 * intercept): z = X w, then g += X' r.  Four inputs at a time, two rows
 * at a time; each of a row's sums is added in the same order whether
 * two lanes do it or one, so the bits are the same.  While one group of
 * four inputs is read, the next group's lines are fetched: fifty runs
 * are more streams than the hardware prefetcher follows.
 */
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
static v2df load2(const double *p)
{
	v2df v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void store2(double *p, v2df v)
{
	memcpy(p, &v, sizeof(v));
}
#endif

static void fetch_line(const double *const *x, size_t k, size_t q, size_t i)
{
	size_t j;

	for (j = k; j < k + 4 && j < q; j++)
		__builtin_prefetch(x[j] + i);
}

/* z[i] = w[q] + sum_k w[k] x[k][i] for i < nb. */
void kernel_times(const double *const *x, size_t q, size_t nb,
		  const double *w, double *z)
{
	size_t i, k;

	for (i = 0; i < nb; i++)
		z[i] = w[q];
	for (k = 0; k + 4 <= q; k += 4) {
		const double *a = x[k], *b = x[k + 1], *c = x[k + 2];
		const double *e = x[k + 3];
		double wa = w[k], wb = w[k + 1], wc = w[k + 2], we = w[k + 3];

		i = 0;
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
		{
			const v2df va = { wa, wa }, vb = { wb, wb };
			const v2df vc = { wc, wc }, ve = { we, we };

			for (; i + 2 <= nb; i += 2) {
				if (!(i & 7))
					fetch_line(x, k + 4, q, i);
				store2(z + i, load2(z + i) +
				       ((va * load2(a + i) + vb * load2(b + i)) +
					(vc * load2(c + i) + ve * load2(e + i))));
			}
		}
#endif
		for (; i < nb; i++)
			z[i] += (wa * a[i] + wb * b[i]) + (wc * c[i] + we * e[i]);
	}
	for (; k < q; k++)
		for (i = 0; i < nb; i++)
			z[i] += w[k] * x[k][i];
}

/*
 * g[k] += sum_i x[k][i] r[i] for k < q, and g[q] += sum_i r[i]; each sum
 * kept as two (even and odd rows), added at the end.
 */
void kernel_dot(const double *const *x, size_t q, size_t nb,
		const double *r, double *g)
{
	double s[8], t0 = 0, t1 = 0;
	const double *v[4];
	size_t i, k, m;

	for (k = 0; k < q; k += 4) {
		m = q - k < 4 ? q - k : 4;
		for (i = 0; i < 4; i++)
			v[i] = x[k + (i < m ? i : 0)];
		for (i = 0; i < 8; i++)
			s[i] = 0;
		i = 0;
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
		{
			v2df s0 = { 0, 0 }, s1 = s0, s2 = s0, s3 = s0, ri;

			for (; i + 2 <= nb; i += 2) {
				ri = load2(r + i);
				s0 += load2(v[0] + i) * ri;
				s1 += load2(v[1] + i) * ri;
				s2 += load2(v[2] + i) * ri;
				s3 += load2(v[3] + i) * ri;
			}
			s[0] = s0[0], s[1] = s0[1], s[2] = s1[0], s[3] = s1[1];
			s[4] = s2[0], s[5] = s2[1], s[6] = s3[0], s[7] = s3[1];
		}
#endif
		for (; i + 2 <= nb; i += 2) {
			s[0] += v[0][i] * r[i];
			s[1] += v[0][i + 1] * r[i + 1];
			s[2] += v[1][i] * r[i];
			s[3] += v[1][i + 1] * r[i + 1];
			s[4] += v[2][i] * r[i];
			s[5] += v[2][i + 1] * r[i + 1];
			s[6] += v[3][i] * r[i];
			s[7] += v[3][i + 1] * r[i + 1];
		}
		if (i < nb) {
			s[0] += v[0][i] * r[i];
			s[2] += v[1][i] * r[i];
			s[4] += v[2][i] * r[i];
			s[6] += v[3][i] * r[i];
		}
		for (i = 0; i < m; i++)
			g[k + i] += s[2 * i] + s[2 * i + 1];
	}
	for (i = 0; i + 2 <= nb; i += 2) {
		t0 += r[i];
		t1 += r[i + 1];
	}
	if (i < nb)
		t0 += r[i];
	g[q] += t0 + t1;
}

/*
 * What every objective shares: the pass, the penalty, the row weights and
 * the sampled problem of a warm start.
 *
 * Every objective's figure is a sum over the training rows.  A pass is
 * split into chunks of CHUNK_ROWS rows run on all cores; each chunk
 * writes its own partial sums, and the partials are added to the total
 * one chunk at a time in chunk order, so the result does not depend on
 * the number of threads.  Chunks run in batches of two per thread, which
 * bounds the memory the partials take however many rows there are.  BLAS
 * runs single-threaded inside.  What a block adds is the objective's
 * business (its objective_block_fn); the pass knows no loss.
 */

#include <stdlib.h>
#include <string.h>

#include "objective.h"
#include "parallel.h"
#include "xalloc.h"

#define CHUNK_ROWS (16 * DESIGN_BLOCK_ROWS)
/* Doubles of chunk partials held at once (256 MiB), unless one is more. */
#define PASS_MAX_DOUBLES ((size_t)32 << 20)

/* The pass being run: private to objective_pass(). */
struct pass {
	const struct problem *pb;
	objective_block_fn block;
	void *ctx;
	size_t out_len;		/* doubles per chunk */
	size_t first_chunk;	/* of the batch being run */
	double *out;		/* batch x out_len */
};

static int pass_chunk(void *arg, size_t worker, size_t task)
{
	struct pass *ps = arg;
	size_t chunk = ps->first_chunk + task;
	size_t start = chunk * CHUNK_ROWS, end = start + CHUNK_ROWS, b;
	double *out = ps->out + task * ps->out_len;
	int ret = 0;

	if (end > ps->pb->n)
		end = ps->pb->n;
	memset(out, 0, ps->out_len * sizeof(*out));
	for (b = start; b < end && !ret; b += DESIGN_BLOCK_ROWS) {
		size_t nb = end - b < DESIGN_BLOCK_ROWS ? end - b :
			    DESIGN_BLOCK_ROWS;

		ret = ps->block(ps->ctx, worker, b, nb, out);
	}
	return ret;
}

int objective_pass(const struct problem *pb, objective_block_fn block,
		   void *ctx, size_t out_len, double *sum,
		   struct mlops_err *err)
{
	struct pass ps = { pb, block, ctx, out_len, 0, NULL };
	size_t n_chunks = (pb->n + CHUNK_ROWS - 1) / CHUNK_ROWS;
	size_t batch = 2 * pb->n_workers, c, j;
	int ret = 0;

	/* Partials of wide Gram matrices: fewer at a time, same sums. */
	if (batch > 1 && batch * out_len > PASS_MAX_DOUBLES)
		batch = out_len < PASS_MAX_DOUBLES ?
			PASS_MAX_DOUBLES / out_len : 1;

	ps.out = xcalloc(batch * out_len + 1, sizeof(double));
	memset(sum, 0, out_len * sizeof(*sum));
	for (ps.first_chunk = 0; ps.first_chunk < n_chunks && !ret;
	     ps.first_chunk += batch) {
		size_t n_run = n_chunks - ps.first_chunk < batch ?
			       n_chunks - ps.first_chunk : batch;

		ret = parallel_run(n_run, pb->n_workers, pass_chunk, &ps);
		for (c = 0; c < n_run && !ret; c++)
			for (j = 0; j < out_len; j++)
				sum[j] += ps.out[c * out_len + j];
	}
	free(ps.out);
	if (ret)
		return err_set(err, ret, "a training pass failed (matrix shape)");
	return 0;
}

double objective_penalty(const struct problem *pb, const double *w,
			 double *g)
{
	double s = 0;
	size_t k, j;

	for (k = 0; k < pb->K; k++)
		for (j = 0; j + 1 < pb->p; j++) {
			double v = w[k * pb->p + j];

			s += v * v;
			if (g)
				g[k * pb->p + j] += pb->lambda * v;
		}
	return pb->lambda * s / 2;
}

double objective_weight(const struct problem *pb)
{
	double s = 0;
	size_t i;

	if (!pb->sw)
		return (double)pb->n;
	for (i = 0; i < pb->n; i++)
		s += pb->sw[pb->cls[i]];
	return s;
}

void objective_sample_problem(const struct problem *pb,
			      const struct problem *full, size_t step,
			      struct problem *sub,
			      size_t **rows_out, uint32_t **cls_out)
{
	const size_t run = DESIGN_TILE;
	size_t i, n = pb->n / step;
	size_t *rows = xmallocarray(n ? n : 1, sizeof(size_t));
	uint32_t *cls = xmallocarray(n ? n : 1, sizeof(uint32_t));

	for (i = 0; i < n; i++) {
		size_t k = i / run * run * step + i % run;

		rows[i] = pb->rows[k];
		cls[i] = pb->cls[k];
	}
	*sub = *pb;
	sub->rows = rows;
	sub->cls = cls;
	sub->yv = NULL;		/* classifiers only; not sampled */
	sub->n = n;
	sub->lambda = full->lambda * (double)n / (double)full->n;
	*rows_out = rows;
	*cls_out = cls;
}

/*
 * Monitoring jobs (see monitor.h): drift of a file, or of recorded
 * scoring profiles over time, against a reference; the dataset verdict;
 * the JSON report and the run record of a file check.
 *
 * The reference is the artefact's baseline profile, or a file profiled
 * here: exact counts and moments in one streaming pass, and the values
 * of a systematic sample of at most REF_SAMPLE rows (every stride-th
 * line, the stride doubling as the file grows); when the file is larger,
 * every value is counted again on a grid taken from the sample, so the
 * reference's distribution is exact at each grid point (see
 * mlops-drift(1)).  That recount does not parse and score the file
 * again: the first pass also writes its numeric columns to a temporary
 * file (up to SPILL_MAX bytes; beyond, or without a temporary file, the
 * file is read a second time), and the recount replays it chunk by
 * chunk, to the same bits.  The current file is streamed: memory is
 * bounded by a block of rows whatever its size (plus, against a
 * reference file, up to REF_SAMPLE values per numeric column, so that a
 * small file is compared value by value).  Categories are compared over
 * the model's levels plus one bucket for anything the model never saw.
 *
 * The stream calls back on worker threads (score_stream_run()): a
 * callback touches only its slot's state, except the sampler's stride,
 * which only doubles and is read atomically.  Nothing here prints: the
 * command prints from the typed reports (struct drift_report).
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"
#include "drift.h"
#include "model.h"
#include "modelref.h"
#include "monitor.h"
#include "profile.h"
#include "progress.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "score.h"
#include "xalloc.h"

struct reference {
	struct profile *features;	/* n_features, owned */
	struct profile pred;
	uint64_t rows;
};

static void reference_release(struct reference *r, size_t n)
{
	size_t j;

	if (r->features)
		for (j = 0; j < n; j++)
			profile_release(&r->features[j]);
	free(r->features);
	profile_release(&r->pred);
}

/*
 * Categorical profile over the model's levels; counts[n] are the values
 * of levels the model never saw.
 */
static void level_profile(struct profile *p, char *const *levels, size_t n,
			  const uint64_t *counts, uint64_t missing)
{
	size_t k;

	memset(p, 0, sizeof(*p));
	p->kind = PROFILE_CATEGORICAL;
	p->n_levels = n;
	p->levels = xcalloc(n + 1, sizeof(char *));
	p->level_counts = xcalloc(n + 1, sizeof(uint64_t));
	for (k = 0; k < n; k++) {
		p->levels[k] = xstrdup(levels[k]);
		p->level_counts[k] = counts[k];
		p->count += counts[k];
	}
	p->unseen = counts[n];
	p->count += counts[n];
	p->missing = missing;
}

/*
 * Profiling a reference file in one streaming pass, in bounded memory:
 * counts, missing values, mean, deviation, extremes and category counts
 * are exact; the quantiles come from a systematic sample of at most
 * REF_SAMPLE rows (every stride-th line, the stride doubling as the file
 * grows), which pins the reference CDF to within about 0.01.
 * Column nf of each array is the prediction.
 */
#define REF_SAMPLE 32768
#define REF_GRID 1024
/* Beyond this many bytes the spill stops and the file is read again. */
#define SPILL_MAX ((long)256 << 20)

/*
 * The exact part is a drift accumulator against a bare profile (no
 * quantile grid: moments only; or the category list), so the moments
 * are kept by the same code as everywhere else.
 */
struct ref_slot {
	struct drift_acc *st;	/* nf + 1 */
	double *vals;		/* sampled rows x (nf + 1) */
	unsigned long *line;
	size_t n, alloc;
	double *spill;		/* this chunk's blocks, see spill_block() */
	size_t spill_n, spill_cap;
};

struct ref_run {
	const struct model *m;
	size_t nf;
	struct profile *bare;	/* nf + 1 bare reference profiles */
	struct ref_slot *slots;
	size_t n_slots;
	struct drift_acc *total;
	double *vals;
	unsigned long *line;
	size_t n;
	unsigned long stride;
	/*
	 * Every numeric column and numeric prediction of the file, chunk
	 * by chunk, in a temporary file for the recount (NULL for stdin,
	 * or when none could be made).  spill_bad: a write failed or the
	 * file passed SPILL_MAX; the file is then read again instead.
	 * Only ref_done() touches the file and the flag; the workers read
	 * spill_cols, set before the stream starts (0: no spill).
	 */
	FILE *spill;
	size_t spill_cols;
	long spill_bytes;
	int spill_bad;
};

/*
 * Append a block to its slot's spill: its row count, then each numeric
 * feature's values and the numeric predictions, as drift_set_add()
 * would take them; ref_done() writes a chunk's blocks and a 0 (the
 * chunk's end) to the file in input order.
 */
static void spill_block(struct ref_run *rr, struct ref_slot *sl,
			const struct score_block *b)
{
	const struct model *m = rr->m;
	size_t need = sl->spill_n + 2 + rr->spill_cols * b->n, j;
	double *out;

	if (!b->n)	/* a 0 would read as the chunk's end */
		return;
	if (need > sl->spill_cap) {
		sl->spill_cap = need > 2 * sl->spill_cap ? need : 2 * sl->spill_cap;
		sl->spill = xreallocarray(sl->spill, sl->spill_cap,
					  sizeof(double));
	}
	out = sl->spill + sl->spill_n;
	*out++ = (double)b->n;
	for (j = 0; j < rr->nf; j++) {
		if (m->features[j].kind != FEATURE_NUMERIC)
			continue;
		memcpy(out, b->raw + j * b->ld, b->n * sizeof(double));
		out += b->n;
	}
	if (m->task != TASK_MULTICLASS) {
		memcpy(out, b->pred, b->n * sizeof(double));
		out += b->n;
	}
	sl->spill_n = (size_t)(out - sl->spill);
}

static int ref_block(void *arg, size_t slot, const struct score_block *b,
		     struct mlops_err *err)
{
	struct ref_run *rr = arg;
	struct ref_slot *sl = &rr->slots[slot];
	const struct model *m = rr->m;
	size_t nf = rr->nf, w = score_width(m), i, j;

	(void)err;
	for (i = 0; i < b->n; i++) {
		double *row;

		/*
		 * The stride only doubles (in ref_done, which may run
		 * meanwhile), so an older one keeps a superset: ref_done
		 * filters again.
		 */
		if (b->line[i] % __atomic_load_n(&rr->stride, __ATOMIC_RELAXED))
			continue;
		if (sl->n == sl->alloc) {
			sl->alloc = sl->alloc ? 2 * sl->alloc : 1024;
			sl->vals = xreallocarray(sl->vals, sl->alloc,
						 (nf + 1) * sizeof(double));
			sl->line = xreallocarray(sl->line, sl->alloc,
						 sizeof(unsigned long));
		}
		sl->line[sl->n] = b->line[i];
		row = sl->vals + sl->n++ * (nf + 1);
		for (j = 0; j < nf; j++)
			row[j] = b->raw[j * b->ld + i];
		row[nf] = m->task == TASK_MULTICLASS ? NAN : b->pred[i * w];
	}
	if (rr->spill_cols)
		spill_block(rr, sl, b);
	for (j = 0; j < nf; j++) {
		if (m->features[j].kind == FEATURE_NUMERIC) {
			drift_acc_numeric_many(&sl->st[j], b->raw + j * b->ld,
					       b->n, 1);
			continue;
		}
		for (i = 0; i < b->n; i++)
			drift_acc_level(&sl->st[j], b->level[j * b->ld + i]);
	}
	for (i = 0; i < b->n; i++) {
		if (m->task == TASK_MULTICLASS)
			drift_acc_level(&sl->st[nf],
					(long)score_argmax(m, b->pred + i * w));
		else
			drift_acc_numeric(&sl->st[nf], b->pred[i]);
	}
	return 0;
}

/* Keep only the sampled rows on the current stride. */
static void ref_thin(struct ref_run *rr)
{
	size_t i, k = 0, c = rr->nf + 1;

	for (i = 0; i < rr->n; i++) {
		if (rr->line[i] % rr->stride)
			continue;
		memmove(rr->vals + k * c, rr->vals + i * c, c * sizeof(double));
		rr->line[k++] = rr->line[i];
	}
	rr->n = k;
}

static int ref_done(void *arg, size_t slot, struct mlops_err *err)
{
	struct ref_run *rr = arg;
	struct ref_slot *sl = &rr->slots[slot];
	size_t i, j, c = rr->nf + 1;

	(void)err;
	for (j = 0; j < c; j++) {
		drift_acc_merge(&rr->total[j], &sl->st[j]);
		drift_acc_clear(&sl->st[j]);
	}
	for (i = 0; i < sl->n; i++) {
		if (sl->line[i] % rr->stride)
			continue;
		if (rr->n == REF_SAMPLE) {
			__atomic_store_n(&rr->stride, rr->stride * 2,
					 __ATOMIC_RELAXED);
			ref_thin(rr);
			if (sl->line[i] % rr->stride)
				continue;
		}
		memcpy(rr->vals + rr->n * c, sl->vals + i * c, c * sizeof(double));
		rr->line[rr->n++] = sl->line[i];
	}
	sl->n = 0;
	if (rr->spill && !rr->spill_bad) {
		double end = 0;

		rr->spill_bytes += (long)((sl->spill_n + 1) * sizeof(double));
		if (rr->spill_bytes > SPILL_MAX ||
		    fwrite(sl->spill, sizeof(double), sl->spill_n, rr->spill) !=
		    sl->spill_n || fwrite(&end, sizeof(end), 1, rr->spill) != 1) {
			/* Give the space back now (failing that, at fclose()). */
			rr->spill_bad = 1 + (ftruncate(fileno(rr->spill), 0) != 0);
		}
	}
	sl->spill_n = 0;
	return 0;
}

/*
 * Numeric profile: exact moments and extremes, quantiles of the sample,
 * and the sample's distinct values with the extremes as the exact grid:
 * the whole column when the sample is the whole file (`whole`), else a
 * grid that recount_reference() counts the whole file on.
 */
static void sampled_profile(struct profile *p, const struct drift_acc *st,
			    const struct ref_run *rr, size_t j, int whole,
			    int thin)
{
	double *v = xmallocarray(rr->n + 2, sizeof(double)), mean;
	size_t i, k, n = 0, c = rr->nf + 1;

	for (i = 0; i < rr->n; i++)
		if (!isnan(rr->vals[i * c + j]))
			v[n++] = rr->vals[i * c + j];
	profile_numeric(p, v, n);
	p->count = st->count;
	p->missing = st->missing;
	if (!st->count) {
		free(v);
		return;
	}
	if (!whole) {
		v[n++] = st->min;
		v[n++] = st->max;
	}
	profile_sort_doubles(v, n);
	for (i = 1, k = 1; i < n; i++)
		k += v[i] != v[i - 1];
	/* Few distinct values: all of them, so the counts are exact. */
	if (!whole && thin && k > REF_GRID + 1) {
		/*
		 * The file is recounted on this grid: REF_GRID + 1 evenly
		 * spaced order statistics of the sample (its extremes the
		 * file's) hold about 1/REF_GRID of the mass between each
		 * two, which bounds KS's error, and keep the recount fast.
		 */
		for (i = 0; i <= REF_GRID; i++)
			v[i] = v[(size_t)((double)i * (double)(n - 1) /
					  REF_GRID + 0.5)];
		n = REF_GRID + 1;
	}
	profile_set_values(p, v, n);
	if (!whole && !thin)
		p->sample_rows = rr->n;
	mean = st->sum / (double)st->count;
	p->mean = mean;
	p->std = sqrt(fmax(st->sumsq / (double)st->count - mean * mean, 0));
	if (whole) {
		/* Two passes over the exact values: np.std to the last bits. */
		double sum = 0, sq = 0;

		for (i = 0; i < n; i++)
			sum += v[i];
		mean = sum / (double)n;
		for (i = 0; i < n; i++)
			sq += (v[i] - mean) * (v[i] - mean);
		p->mean = mean;
		p->std = sqrt(sq / (double)n);
	}
	free(v);
	p->min = st->min;
	p->max = st->max;
	if (!p->quantiles) {
		/* No sampled value: a straight grid between the extremes. */
		p->quantiles = xmallocarray(PROFILE_QUANTILES + 1, sizeof(double));
		for (k = 0; k <= PROFILE_QUANTILES; k++)
			p->quantiles[k] = st->min + (st->max - st->min) *
					  (double)k / PROFILE_QUANTILES;
		return;
	}
	p->quantiles[0] = st->min;
	p->quantiles[PROFILE_QUANTILES] = st->max;
	for (k = 1; k < PROFILE_QUANTILES; k++)
		p->quantiles[k] = fmin(fmax(p->quantiles[k], st->min), st->max);
}

/* Per-chunk accumulators, merged in input order into the total. */
struct drift_run {
	struct drift_set *slots;
	size_t n_slots;
	struct drift_set *total;
	struct score_stream *ss;
	struct progress progress;
};

static int drift_block(void *arg, size_t slot, const struct score_block *b,
		       struct mlops_err *err)
{
	struct drift_run *dr = arg;

	(void)err;
	drift_set_add(&dr->slots[slot], b);
	return 0;
}

static int drift_done(void *arg, size_t slot, struct mlops_err *err)
{
	struct drift_run *dr = arg;

	(void)err;
	drift_set_merge(dr->total, &dr->slots[slot]);
	drift_set_clear(&dr->slots[slot]);
	progress_update(&dr->progress, score_stream_rows(dr->ss),
			score_stream_raw_bytes(dr->ss));
	return 0;
}

/*
 * Stream `path` into `total` (set up by the caller) with per-chunk sets
 * like it.  `rows` receives the rows read, `sha` (if non-NULL) the
 * input's hash.
 */
static int stream_set(const struct model *m, const char *path,
		      const struct score_stream_opts *so,
		      struct drift_set *total, int progress, uint64_t *rows,
		      char *sha, struct mlops_err *err)
{
	struct drift_run dr = { 0 };
	struct score_stream *ss = NULL;
	size_t i;
	int ret;

	if ((ret = score_stream_open(m, path, so, &ss, err)))
		return ret;
	dr.n_slots = score_stream_slots(ss);
	dr.slots = xcalloc(dr.n_slots, sizeof(*dr.slots));
	for (i = 0; i < dr.n_slots; i++)
		drift_set_init_like(&dr.slots[i], total);
	dr.total = total;
	dr.ss = ss;
	progress_start(&dr.progress, progress, "read", path);
	ret = score_stream_run(ss, drift_block, drift_done, &dr, err);
	progress_end(&dr.progress);
	*rows = score_stream_rows(ss);
	if (!ret && sha)
		score_stream_sha256(ss, sha);
	score_stream_close(ss);
	for (i = 0; i < dr.n_slots; i++)
		drift_set_release(&dr.slots[i]);
	free(dr.slots);
	return ret;
}

/* The whole reference's counts on p's grid (the sample's values). */
static void grid_counts(struct profile *p, const struct drift_acc *a)
{
	size_t k, N = p->n_values;
	uint64_t cle = 0, clt = 0, prev_le = 0;

	drift_acc_flush(a);
	p->gap_counts = xcalloc(N + 1, sizeof(uint64_t));
	p->gap_sums = xcalloc(N + 1, sizeof(double));
	for (k = 0; k <= N; k++) {
		cle += a->le[k];
		clt += a->lt[k];
		p->gap_counts[k] = clt - prev_le;
		p->gap_sums[k] = a->insum[k];
		if (k < N)
			p->value_counts[k] = cle - clt;
		prev_le = cle;
	}
}

/* A recount's totals onto the reference's numeric grids. */
static void set_grid_counts(const struct model *m, struct reference *ref,
			    const struct drift_set *set)
{
	size_t j;

	for (j = 0; j < m->n_features; j++)
		if (m->features[j].kind == FEATURE_NUMERIC &&
		    ref->features[j].n_values)
			grid_counts(&ref->features[j], &set->features[j]);
	if (m->task != TASK_MULTICLASS && ref->pred.n_values)
		grid_counts(&ref->pred, &set->pred);
}

/*
 * A reference larger than its sample: count every value on the grid of
 * the sample's distinct values, so that its CDF is exact at every grid
 * point and its mass between them known.  The values come back from the
 * spill the first pass wrote: per chunk, an accumulator fed the same
 * values in the same order and merged into the total in the same order
 * as stream_set() does on a second read (recount_reference()), so the
 * counts and sums are the same to the bit, without parsing and scoring
 * the file again.  -1 when the spill cannot be read back.
 */
static int replay_reference(const struct model *m, struct ref_run *rr,
			    struct reference *ref)
{
	struct drift_set total, unit;
	size_t j, n, c, cols = rr->spill_cols, cap = 0;
	double h, *buf = NULL;
	int ret = 0;

	if (rr->spill_bad || fflush(rr->spill) || fseek(rr->spill, 0, SEEK_SET))
		return -1;
	drift_set_init(&total, m, ref->features, &ref->pred);
	drift_set_init_like(&unit, &total);
	while (fread(&h, sizeof(h), 1, rr->spill) == 1) {
		if (h == 0) {
			drift_set_merge(&total, &unit);
			drift_set_clear(&unit);
			continue;
		}
		n = (size_t)h;
		if (n * cols > cap) {
			cap = n * cols;
			buf = xreallocarray(buf, cap, sizeof(double));
		}
		if (fread(buf, sizeof(double), n * cols, rr->spill) != n * cols) {
			ret = -1;
			break;
		}
		for (j = 0, c = 0; j < m->n_features; j++)
			if (m->features[j].kind == FEATURE_NUMERIC)
				drift_acc_numeric_many(&unit.features[j],
						       buf + c++ * n, n, 1);
		if (m->task != TASK_MULTICLASS)
			drift_acc_numeric_many(&unit.pred, buf + c * n, n, 1);
	}
	if (!ret && (ferror(rr->spill) || !feof(rr->spill)))
		ret = -1;
	if (!ret)
		set_grid_counts(m, ref, &total);
	drift_set_release(&unit);
	drift_set_release(&total);
	free(buf);
	return ret;
}

/*
 * The recount by reading the file again, when there is no spill.  Not
 * for stdin, which cannot be read twice: there the sample stands for
 * the file.
 */
static int recount_reference(const struct model *m, const char *path,
			     const struct monitor_opts *o,
			     struct reference *ref, struct mlops_err *err)
{
	struct score_stream_opts so = { 0 };
	struct drift_set set;
	uint64_t rows;
	int ret;

	so.no_hash = 1;
	so.na_values = o->na_values;
	so.n_na_values = o->n_na_values;
	so.csv = o->ref_csv;
	drift_set_init(&set, m, ref->features, &ref->pred);
	ret = stream_set(m, path, &so, &set, 0, &rows, NULL, err);
	if (!ret)
		set_grid_counts(m, ref, &set);
	drift_set_release(&set);
	return ret;
}

/* Profile a reference file through the model's encoding. */
static int build_reference(const struct model *m, const char *path,
			   const struct monitor_opts *o,
			   struct reference *ref, struct mlops_err *err)
{
	struct ref_run rr = { 0 };
	struct score_stream_opts so = { 0 };
	struct score_stream *ss = NULL;
	size_t nf = m->n_features, c = nf + 1, i, j;
	int ret, whole, recount;

	rr.m = m;
	rr.nf = nf;
	rr.stride = 1;
	/* The reference's hash is recorded nowhere: skip it. */
	so.no_hash = 1;
	so.na_values = o->na_values;
	so.n_na_values = o->n_na_values;
	so.csv = o->ref_csv;
	if ((ret = score_stream_open(m, path, &so, &ss, err)))
		return ret;
	/* Bare references: moments only for numbers, the levels for categories. */
	rr.bare = xcalloc(c, sizeof(struct profile));
	for (j = 0; j < c; j++) {
		size_t levels = j == nf ? (m->task == TASK_MULTICLASS ?
					   m->n_classes : 0) :
				m->features[j].kind == FEATURE_CATEGORICAL ?
				m->features[j].n_levels : 0;

		rr.bare[j].kind = levels ? PROFILE_CATEGORICAL : PROFILE_NUMERIC;
		rr.bare[j].n_levels = levels;
	}
	rr.n_slots = score_stream_slots(ss);
	rr.slots = xcalloc(rr.n_slots, sizeof(*rr.slots));
	for (i = 0; i < rr.n_slots; i++) {
		rr.slots[i].st = xcalloc(c, sizeof(struct drift_acc));
		for (j = 0; j < c; j++)
			drift_acc_init(&rr.slots[i].st[j], &rr.bare[j]);
	}
	rr.total = xcalloc(c, sizeof(struct drift_acc));
	for (j = 0; j < c; j++)
		drift_acc_init(&rr.total[j], &rr.bare[j]);
	rr.vals = xmallocarray(REF_SAMPLE, c * sizeof(double));
	rr.line = xmallocarray(REF_SAMPLE, sizeof(unsigned long));
	if (strcmp(path, "-") && (rr.spill = tmpfile())) {
		for (j = 0; j < nf; j++)
			rr.spill_cols += m->features[j].kind == FEATURE_NUMERIC;
		rr.spill_cols += m->task != TASK_MULTICLASS;
	}
	if ((ret = score_stream_run(ss, ref_block, ref_done, &rr, err)))
		goto out;
	ref->rows = score_stream_rows(ss);
	whole = rr.n == ref->rows;
	recount = !whole && strcmp(path, "-");
	ref->features = xcalloc(nf + 1, sizeof(struct profile));
	for (j = 0; j < nf; j++) {
		const struct feature *f = &m->features[j];

		if (f->kind == FEATURE_NUMERIC)
			sampled_profile(&ref->features[j], &rr.total[j], &rr, j,
					whole, recount);
		else
			level_profile(&ref->features[j], f->levels, f->n_levels,
				      rr.total[j].levels, rr.total[j].missing);
	}
	if (m->task == TASK_MULTICLASS) {
		profile_categorical(&ref->pred, NULL, 0, m->classes,
				    m->n_classes);
		for (j = 0; j < m->n_classes; j++) {
			ref->pred.level_counts[j] = rr.total[nf].levels[j];
			ref->pred.count += rr.total[nf].levels[j];
		}
	} else {
		sampled_profile(&ref->pred, &rr.total[nf], &rr, nf, whole,
				recount);
	}
	score_stream_close(ss);
	ss = NULL;
	if (recount && (!rr.spill || replay_reference(m, &rr, ref)))
		ret = recount_reference(m, path, o, ref, err);
out:
	if (rr.spill)
		fclose(rr.spill);
	score_stream_close(ss);
	for (i = 0; i < rr.n_slots; i++) {
		for (j = 0; rr.slots[i].st && j < c; j++)
			drift_acc_release(&rr.slots[i].st[j]);
		free(rr.slots[i].st);
		free(rr.slots[i].vals);
		free(rr.slots[i].line);
		free(rr.slots[i].spill);
	}
	free(rr.slots);
	for (j = 0; rr.total && j < c; j++)
		drift_acc_release(&rr.total[j]);
	free(rr.total);
	free(rr.bare);
	free(rr.vals);
	free(rr.line);
	return ret;
}

/*
 * Input drift cannot judge: no rows, or a column without a single value
 * on either side.  Exit 5, naming the file and column, so that no table
 * or JSON ever carries a NaN.
 */
static int check_columns(const struct model *m, const struct drift_set *cur,
			 const char *input, const char *reference,
			 uint64_t rows, struct mlops_err *err)
{
	size_t j;

	if (!rows)
		return err_set(err, MLOPS_EINPUT, "'%s' has no rows", input);
	for (j = 0; j < m->n_features; j++) {
		const struct drift_acc *a = &cur->features[j];

		if (!a->ref->count)
			return err_set(err, MLOPS_EINPUT,
				       "%s%s%s: column '%s' has no values (all missing)",
				       reference ? "reference '" : "",
				       reference ? reference : "the training baseline",
				       reference ? "'" : "", m->features[j].name);
		if (!a->count)
			return err_set(err, MLOPS_EINPUT,
				       "'%s': column '%s' has no values (all %llu missing)",
				       input, m->features[j].name,
				       (unsigned long long)a->missing);
	}
	return 0;
}

void drift_report_release(struct drift_report *r)
{
	if (!r)
		return;
	free(r->features);
	memset(r, 0, sizeof(*r));
}

void monitor_verdict(struct drift_report *r, double share)
{
	const struct drift_result *f = r->features, *pred = &r->pred;
	size_t j, n = r->n_features, counted = 0;
	int pred_drifted = 0;

	r->n_drift = r->n_quality = 0;
	for (j = 0; j < n; j++) {
		if (f[j].time_axis)
			continue;
		counted++;
		r->n_drift += f[j].drifted;
		r->n_quality += f[j].quality != 0;
	}
	/*
	 * The predictions alone decide only past a Bonferroni bound over
	 * the n + 1 tests: one test at p < 0.05 ORed into the verdict would
	 * page for nothing in one run of twenty.
	 */
	if (pred->drifted)
		pred_drifted = isnan(pred->p_value) ||
			       pred->p_value < pred->threshold / (double)(n + 1);
	r->verdict = (counted && r->n_drift &&
		      (double)r->n_drift >= share * (double)counted) ||
		     pred_drifted || r->n_quality;
}

/* Every test and the verdict of a set. */
static void run_tests(const struct model *m, const struct drift_set *set,
		      const struct monitor_opts *o, struct drift_report *r)
{
	size_t j, nf = m->n_features;

	r->n_features = nf;
	r->features = xcalloc(nf + 1, sizeof(*r->features));
	for (j = 0; j < nf; j++) {
		drift_test(&set->features[j], o->method, o->threshold,
			   &r->features[j]);
		r->features[j].time_axis = m->features[j].source &&
			m->features[j].part == CELL_EPOCH_DAYS;
	}
	drift_test(&set->pred, o->method, o->threshold, &r->pred);
	monitor_verdict(r, o->share);
}

static void add_share(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
}

static cJSON *result_json(const char *column, const char *type,
			  const struct drift_result *r)
{
	cJSON *o = cJSON_CreateObject(), *q, *sig;

	cJSON_AddStringToObject(o, "column", column);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "method", drift_method_name(r->method));
	if (isfinite(r->statistic))
		cJSON_AddNumberToObject(o, "statistic", r->statistic);
	else
		cJSON_AddNullToObject(o, "statistic");
	if (r->method == DRIFT_KS)
		cJSON_AddNumberToObject(o, "statistic_error", r->error);
	if (isfinite(r->p_value))
		cJSON_AddNumberToObject(o, "p_value", r->p_value);
	else
		cJSON_AddNullToObject(o, "p_value");
	if (isfinite(r->threshold))
		cJSON_AddNumberToObject(o, "threshold", r->threshold);
	if (isfinite(r->psi))
		cJSON_AddNumberToObject(o, "psi", r->psi);
	else
		cJSON_AddNullToObject(o, "psi");
	cJSON_AddNumberToObject(o, "count", (double)r->count);
	cJSON_AddNumberToObject(o, "missing", (double)r->missing);
	cJSON_AddBoolToObject(o, "drift", r->drifted);
	q = cJSON_CreateObject();
	add_share(q, "missing_share", r->missing_share);
	add_share(q, "reference_missing_share", r->ref_missing_share);
	add_share(q, "unseen_share", r->unseen_share);
	add_share(q, "reference_unseen_share", r->ref_unseen_share);
	add_share(q, "outside_range_share", r->outside_share);
	add_share(q, "reference_outside_range_share", r->ref_outside_share);
	sig = cJSON_CreateArray();
	if (r->quality & DRIFT_Q_MISSING)
		cJSON_AddItemToArray(sig, cJSON_CreateString("missing"));
	if (r->quality & DRIFT_Q_UNSEEN)
		cJSON_AddItemToArray(sig, cJSON_CreateString("unseen"));
	if (r->quality & DRIFT_Q_OUTSIDE)
		cJSON_AddItemToArray(sig, cJSON_CreateString("outside_range"));
	cJSON_AddItemToObject(q, "signals", sig);
	cJSON_AddItemToObject(o, "quality", q);
	return o;
}

void monitor_results_json(cJSON *o, const struct model *m,
			  const struct drift_report *r)
{
	cJSON *arr = cJSON_CreateArray();
	size_t j;

	for (j = 0; j < m->n_features; j++)
		cJSON_AddItemToArray(arr, result_json(m->features[j].name,
			m->features[j].kind == FEATURE_NUMERIC ? "numeric" :
			"categorical", &r->features[j]));
	cJSON_AddItemToObject(o, "features", arr);
	cJSON_AddItemToObject(o, "prediction", result_json("prediction",
		m->task == TASK_MULTICLASS ? "categorical" : "numeric",
		&r->pred));
	cJSON_AddNumberToObject(o, "drifted_features", (double)r->n_drift);
	cJSON_AddNumberToObject(o, "quality_signals", (double)r->n_quality);
}

cJSON *monitor_report_json(const struct model *m,
			   const struct monitor_opts *o,
			   const struct drift_report *r)
{
	cJSON *report = cJSON_CreateObject();

	cJSON_AddNumberToObject(report, "schema", 1);
	if (o->model_name) {
		cJSON_AddStringToObject(report, "model", o->model_name);
		cJSON_AddNumberToObject(report, "version", o->version);
	} else {
		cJSON_AddStringToObject(report, "model_file", o->model_file);
	}
	cJSON_AddStringToObject(report, "input", o->input);
	cJSON_AddStringToObject(report, "input_sha256", r->input_sha256);
	cJSON_AddNumberToObject(report, "rows", (double)r->rows);
	cJSON_AddStringToObject(report, "reference",
				o->reference ? o->reference : "baseline");
	cJSON_AddNumberToObject(report, "reference_rows", (double)r->ref_rows);
	monitor_results_json(report, m, r);
	cJSON_AddNumberToObject(report, "drift_share", o->share);
	cJSON_AddBoolToObject(report, "drift", r->verdict);
	return report;
}

/* The run's inputs: the current file, and the reference file's hash. */
static char *inputs_text(const struct monitor_opts *o,
			 const struct drift_report *r)
{
	struct runrec_input in[2] = {
		{ .role = "input", .path = o->input,
		  .sha256 = r->input_sha256, .rows = (long long)r->rows,
		  .rejected = -1 },
		{ .role = "reference", .path = o->reference,
		  .rows = (long long)r->ref_rows, .rejected = -1 },
	};
	char ref_sha[65];

	/* Read back: a pipe leaves the hash out. */
	if (o->reference && !runrec_hash_file(o->reference, ref_sha, NULL))
		in[1].sha256 = ref_sha;
	return runrec_inputs_json(in, o->reference ? 2 : 1);
}

/* Record a file check as a "drift" run, its report as the metrics. */
static int record_run(const struct model *m, const struct monitor_opts *o,
		      const struct drift_report *r, struct mlops_err *err)
{
	struct reg_run run = { 0 };
	cJSON *report = monitor_report_json(m, o, r);
	char *inputs = inputs_text(o, r);
	char *metrics = cJSON_PrintUnformatted(report);
	long long run_id;
	int ret;

	run.kind = "drift";
	run.model = o->model_name;
	run.version = o->version;
	run.exit_status = r->verdict && !o->exit_zero ?
			  err_exit_code(MLOPS_ECHECK) : 0;
	run.passed = !r->verdict;
	run.artifact_sha256 = o->artifact_sha256;
	run.inputs_json = inputs;
	run.metrics_json = metrics;
	ret = runrec_record(o->repo, o->rec, &run, &run_id, err);
	cJSON_Delete(report);
	cJSON_free(metrics);
	cJSON_free(inputs);
	return ret;
}

int monitor_drift_file(const struct model *m, const struct monitor_opts *o,
		       struct drift_report *r, struct mlops_err *err)
{
	struct reference ref = { 0 };
	struct drift_set cur = { 0 };
	struct score_stream_opts so = { 0 };
	int ret, have_cur = 0;

	memset(r, 0, sizeof(*r));
	if (o->reference) {
		if ((ret = build_reference(m, o->reference, o, &ref, err)))
			goto out;
		if (ref.rows < 2) {
			ret = err_set(err, MLOPS_EINPUT,
				      "reference '%s' has %llu row%s: drift needs at least 2",
				      o->reference, (unsigned long long)ref.rows,
				      ref.rows == 1 ? "" : "s");
			goto out;
		}
		r->ref_rows = ref.rows;
	} else {
		r->ref_rows = m->n_rows;
	}
	drift_set_init(&cur, m, o->reference ? ref.features : NULL,
		       o->reference ? &ref.pred : NULL);
	have_cur = 1;
	/* A small current file against a file: compared value by value. */
	if (o->reference)
		drift_set_keep(&cur, REF_SAMPLE);
	so.na_values = o->na_values;
	so.n_na_values = o->n_na_values;
	so.csv = o->csv;
	if ((ret = stream_set(m, o->input, &so, &cur, o->progress, &r->rows,
			      r->input_sha256, err)))
		goto out;
	if ((ret = check_columns(m, &cur, o->input, o->reference, r->rows,
				 err)))
		goto out;
	run_tests(m, &cur, o, r);
	if (o->repo)
		ret = record_run(m, o, r, err);
out:
	if (have_cur)
		drift_set_release(&cur);
	reference_release(&ref, m->n_features);
	return ret;
}

int monitor_drift_profile(const struct model *m, const char *profile_json,
			  const char *name, const struct monitor_opts *o,
			  struct drift_report *r, struct mlops_err *err)
{
	struct drift_set set;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = runrec_profile_read(m, profile_json, name, &set, err);
	if (!ret) {
		run_tests(m, &set, o, r);
		r->rows = r->pred.count;
		r->ref_rows = m->n_rows;
	}
	drift_set_release(&set);
	return ret;
}

void monitor_runs_free(struct drift_run_report *runs, size_t n)
{
	size_t k;

	for (k = 0; runs && k < n; k++) {
		free(runs[k].started_at);
		drift_report_release(&runs[k].report);
	}
	free(runs);
}

int monitor_drift_runs(struct registry *reg, const struct model *m,
		       const char *name, int version, long n_runs,
		       const struct monitor_opts *o,
		       struct drift_run_report **out, size_t *n_out,
		       struct mlops_err *err)
{
	struct reg_run_row *rows = NULL;
	struct drift_run_report *res = NULL;
	size_t n = 0, i, used = 0, k;
	size_t *idx = NULL;
	int ret;

	*out = NULL;
	*n_out = 0;
	if ((ret = registry_list_runs(reg, name, "score-batch", 0, &rows, &n,
				      err)))
		return ret;
	idx = xcalloc(n + 1, sizeof(size_t));
	for (i = 0; i < n && used < (size_t)n_runs; i++)
		if (rows[i].version == version && rows[i].profile_json)
			idx[used++] = i;
	if (!used) {
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "%s:%d has no recorded scoring runs to compare",
			      name, version);
		goto out;
	}
	/* Oldest first, as a time series reads: the list is newest first. */
	res = xcalloc(used, sizeof(*res));
	for (k = 0; k < used; k++) {
		const struct reg_run_row *row = &rows[idx[used - 1 - k]];
		char what[32];

		res[k].run = row->id;
		res[k].started_at = xstrdup(row->started_at);
		snprintf(what, sizeof(what), "run %lld", row->id);
		if ((ret = monitor_drift_profile(m, row->profile_json, what, o,
						 &res[k].report, err)))
			goto out;
	}
	*out = res;
	*n_out = used;
	res = NULL;
out:
	monitor_runs_free(res, used);
	for (i = 0; i < n; i++)
		reg_run_row_release(&rows[i]);
	free(rows);
	free(idx);
	return ret;
}

int monitor_drift(const struct monitor_opts *o, struct monitor_result *res,
		  struct mlops_err *err)
{
	struct runrec rl;
	int ret;

	memset(res, 0, sizeof(*res));
	runrec_start(&rl);
	if ((ret = modelref_load(o->repo, o->model, &res->model, &res->info,
				 err)))
		return ret;
	if (o->runs) {
		if (!res->info.name)
			return err_set(err, MLOPS_EUSAGE,
				       "--runs needs a registry model (NAME, NAME:N or NAME@STAGE), not a file");
		return monitor_drift_runs(o->repo->reg, res->model,
					  res->info.name, res->info.version,
					  o->runs, o, &res->runs,
					  &res->n_runs, err);
	}
	res->opts = *o;
	res->opts.rec = &rl;
	res->opts.model_name = res->info.name;
	res->opts.version = res->info.version;
	res->opts.model_file = o->model;
	res->opts.artifact_sha256 = res->info.sha256;
	ret = monitor_drift_file(res->model, &res->opts, &res->report, err);
	res->opts.rec = NULL;	/* the clock ends here */
	return ret;
}

void monitor_result_release(struct monitor_result *res)
{
	if (!res)
		return;
	drift_report_release(&res->report);
	monitor_runs_free(res->runs, res->n_runs);
	model_free(res->model);
	modelref_info_release(&res->info);
	memset(res, 0, sizeof(*res));
}

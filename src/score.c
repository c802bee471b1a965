/*
 * Scoring: read CSV records, find each feature's raw value or level the
 * way training did, then predict a block of rows at a time through
 * predict_columns() (predict.c), the one prediction path that training
 * uses too, which is what makes a reloaded artefact predict the same
 * bits as the model that was just trained, and its baseline profile
 * what scoring the training file gives.
 *
 * Categories are matched by exact bytes; a value never seen in training
 * encodes as all zeros (scikit-learn's handle_unknown="ignore") and is
 * counted so the caller can warn.  A timestamp part is computed from its
 * source column's ISO 8601 value.  Missing values are the default set
 * plus the model's na_values plus the caller's.
 *
 * No prediction is ever non-finite: a numeric value so far from its
 * training mean that the linear predictor could overflow (more than
 * DBL_MAX / 4 / (1 + sum |w| + |b|) standard deviations away, the sum
 * over the model's largest row of coefficients) is a bad row.
 */

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "matrix.h"
#include "parallel.h"
#include "predict.h"
#include "score.h"
#include "smallmap.h"
#include "strmap.h"
#include "xalloc.h"

/*
 * A numeric feature as the hot loop wants it: everything in one place,
 * the numeric features one after another.
 */
struct num_plan {
	size_t col;		/* CSV column */
	size_t offset;		/* in the design row */
	size_t feature;
	double impute, center, scale;
	double lo, hi;		/* raw values that cannot overflow */
	int indicator;
};

struct scorer {
	const struct model *m;
	char *file;
	size_t n_header;
	size_t *column;		/* per feature: CSV column index */
	struct strmap **levels;	/* per categorical feature */
	struct smallmap *small;	/* per categorical feature: its short levels */
	uint64_t *unseen;	/* per feature */
	struct num_plan *num;	/* the plain numeric features, in order */
	size_t n_num;
	size_t *cat;		/* the others (categorical, timestamp parts) */
	size_t n_cat;
	double *lo, *hi;	/* per feature: see num_plan */
	struct cell_na na;	/* missing tokens beyond the default set */
};

size_t score_width(const struct model *m)
{
	return predict_width(m);
}

size_t score_argmax(const struct model *m, const double *row)
{
	return predict_argmax(m, row);
}

void scorer_free(struct scorer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->m->n_features; i++)
		strmap_free(s->levels[i]);
	free(s->levels);
	free(s->small);
	free(s->column);
	free(s->num);
	free(s->cat);
	free(s->unseen);
	free(s->lo);
	free(s->hi);
	cell_na_release(&s->na);
	free(s->file);
	free(s);
}

/*
 * Standardised values within +-limit keep every linear predictor below
 * DBL_MAX / 4: one-hot and indicator inputs are at most 1.
 */
static double safe_limit(const struct model *m)
{
	double most = 0, sum;
	size_t o, j;

	for (o = 0; o < m->n_outputs; o++) {
		sum = fabs(m->intercept[o]);
		for (j = 0; j < m->n_inputs; j++)
			sum += fabs(m->coef[o * m->n_inputs + j]);
		if (sum > most)
			most = sum;
	}
	return DBL_MAX / 4 / (1 + most);
}

static int scorer_create(const struct model *m,
			 const struct csv_record *header, const char *file,
			 const char *const *na, size_t n_na,
			 struct scorer **out, struct mlops_err *err)
{
	struct scorer *s = xcalloc(1, sizeof(*s));
	struct strmap *names = strmap_new();
	size_t i, j;
	double limit = safe_limit(m), span;
	int ret = 0;

	s->m = m;
	s->file = xstrdup(file);
	s->n_header = header->n_fields;
	s->column = xcalloc(m->n_features + 1, sizeof(size_t));
	s->levels = xcalloc(m->n_features + 1, sizeof(struct strmap *));
	s->small = xcalloc(m->n_features + 1, sizeof(*s->small));
	s->unseen = xcalloc(m->n_features + 1, sizeof(uint64_t));
	s->num = xcalloc(m->n_features + 1, sizeof(*s->num));
	s->cat = xcalloc(m->n_features + 1, sizeof(*s->cat));
	s->lo = xcalloc(m->n_features + 1, sizeof(double));
	s->hi = xcalloc(m->n_features + 1, sizeof(double));
	cell_na_init(&s->na, (const char *const *)m->na_values,
		     m->n_na_values);
	cell_na_add(&s->na, na, n_na);
	/* The first column of a name wins, as pandas would warn and do. */
	for (j = header->n_fields; j-- > 0;)
		strmap_put(names, header->fields[j], header->lens[j], (long)j);
	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];
		const char *cname = f->source ? f->source : f->name;
		long col = strmap_get(names, cname, strlen(cname));

		if (col < 0) {
			ret = err_set(err, MLOPS_EINPUT,
				      "'%s': no column '%s' (a feature of the model)",
				      file, cname);
			goto out;
		}
		s->column[i] = (size_t)col;
		/* |x - center| within DBL_MAX / 2 cannot overflow either. */
		span = limit * f->scale < DBL_MAX / 2 ? limit * f->scale :
		       DBL_MAX / 2;
		s->lo[i] = f->center - span;
		s->hi[i] = f->center + span;
		if (f->kind == FEATURE_NUMERIC && !f->source) {
			struct num_plan *e = &s->num[s->n_num++];

			e->col = (size_t)col;
			e->offset = f->offset;
			e->feature = i;
			e->impute = f->impute;
			e->center = f->center;
			e->scale = f->scale;
			e->lo = s->lo[i];
			e->hi = s->hi[i];
			e->indicator = f->indicator;
		} else {
			s->cat[s->n_cat++] = i;
		}
		if (f->kind == FEATURE_CATEGORICAL) {
			s->levels[i] = strmap_new();
			for (j = 0; j < f->n_levels; j++)
				strmap_put(s->levels[i], f->levels[j],
					   strlen(f->levels[j]), (long)j);
			/*
			 * What the map answers, level by level; a level
			 * that reads as missing is never looked up.
			 */
			smallmap_init(&s->small[i]);
			for (j = 0; j < f->n_levels; j++) {
				const char *l = f->levels[j];
				size_t len = strlen(l);

				if (!cell_is_missing(&s->na, l, len))
					smallmap_add(&s->small[i], l, len,
						     strmap_get(s->levels[i],
								l, len));
			}
		}
	}
out:
	strmap_free(names);
	if (ret)
		scorer_free(s);
	else
		*out = s;
	return ret;
}

int scorer_new(const struct model *m, const struct csv_record *header,
	       const char *file, struct scorer **out, struct mlops_err *err)
{
	return scorer_create(m, header, file, NULL, 0, out, err);
}

/* Where a record is, for messages: its line, or its byte offset in a shard. */
static const char *record_where(const struct csv_record *rec, char *buf,
				size_t len)
{
	if (rec->line)
		snprintf(buf, len, "line %lu", rec->line);
	else
		snprintf(buf, len, "byte %llu", (unsigned long long)rec->offset);
	return buf;
}

/* "FILE line L, column C ('NAME'): <before>'VALUE'<after>", for cell c. */
static int bad_cell(const struct scorer *s, const struct csv_record *rec,
		    size_t c, const char *name, const char *before,
		    const char *v, size_t len, const char *after,
		    struct mlops_err *err)
{
	char where[48];

	return err_set(err, MLOPS_EINPUT, "'%s' %s, column %zu ('%s'): %s'%.*s'%s",
		       s->file, record_where(rec, where, sizeof(where)), c + 1,
		       name, before, (int)(len > 40 ? 40 : len), v, after);
}

/*
 * One feature of a record into its design inputs, raw value and level:
 * encode()'s work for any field, missing or bad ones included.
 */
static int encode_feature(const struct scorer *s, const struct csv_record *rec,
			  size_t i, double *row, double *raw, int32_t *level,
			  size_t ld, uint64_t *unseen, struct mlops_err *err)
{
	const struct feature *f = &s->m->features[i];
	size_t c = s->column[i];
	const char *v = rec->fields[c];
	size_t len = rec->lens[c];
	double x = NAN;
	long lv;

	if (f->kind == FEATURE_NUMERIC) {
		if (f->source) {
			if (cell_is_missing(&s->na, v, len))
				x = NAN;
			else if (cell_parse_timestamp(v, len, &x))
				return bad_cell(s, rec, c, f->source, "", v,
						len, " is not an ISO 8601 "
						"timestamp", err);
			else
				x = cell_timestamp_part(x, f->part);
		} else if (s->na.numeric && cell_is_missing(&s->na, v, len)) {
			x = NAN;
		} else if (rec->num && rec->num[c] == rec->num[c]) {
			/* Numbers first: a missing value is the rare case. */
			x = rec->num[c];
		} else if (csv_parse_double(v, len, &x)) {
			if (!cell_is_missing(&s->na, v, len))
				return bad_cell(s, rec, c, f->name, "", v, len,
						cell_is_nonfinite(v, len) ?
						" is not a finite number" :
						" is not a number", err);
			x = NAN;
		}
		if (x == x && !(x >= s->lo[i] && x <= s->hi[i]))
			return bad_cell(s, rec, c, f->name, "", v, len,
					" is too far out for the model: its "
					"prediction would overflow", err);
		if (row) {
			row[f->offset] = score_encode_numeric(f, x);
			if (f->indicator)
				row[f->offset + 1] = x != x;
		}
		if (raw)
			raw[i * ld] = x;
		return 0;
	}
	if (raw)
		raw[i * ld] = NAN;
	if (row)
		memset(row + f->offset, 0, f->n_levels * sizeof(double));
	if ((lv = smallmap_get(&s->small[i], v, len)) >= 0) {
		/* A level found is not a missing value (see scorer_new). */
		if (level)
			level[i * ld] = (int32_t)lv;
	} else if (cell_is_missing(&s->na, v, len)) {
		lv = f->impute_level;
		if (level)
			level[i * ld] = -1;
	} else {
		if (!s->small[i].complete)
			lv = strmap_get(s->levels[i], v, len);
		if (lv < 0 && f->strict)
			return bad_cell(s, rec, c, f->name, "category ", v,
					len, " was never seen in training", err);
		if (lv < 0)
			unseen[i]++;
		if (level)
			level[i * ld] = lv < 0 ? -2 : (int32_t)lv;
	}
	if (row && lv >= 0)
		row[f->offset + (size_t)lv] = 1;
	return 0;
}

/*
 * scorer_encode() with the unseen-category counts kept by the caller.
 * The numeric features go first, from the numbers the parser read; a
 * field it could not read (a missing value, an exponent, garbage) sends
 * the row down the feature-by-feature path, which finds the first
 * error in column order.  The categorical features come after: none of
 * them fails before a numeric one could have.
 */
static int encode(const struct scorer *s, const struct csv_record *rec,
		  double *row, double *raw, int32_t *level, size_t ld,
		  uint64_t *unseen, struct mlops_err *err)
{
	char where[48];
	size_t k;
	int ret;

	if (rec->n_fields != s->n_header)
		return err_set(err, MLOPS_EINPUT,
			       "'%s' %s: expected %zu fields, found %zu",
			       s->file, record_where(rec, where, sizeof(where)),
			       s->n_header, rec->n_fields);
	/* A missing token that reads as a number: feature by feature. */
	for (k = 0; k < s->n_num && rec->num && !s->na.numeric; k++) {
		const struct num_plan *e = &s->num[k];
		double x = rec->num[e->col];

		/* Also false for NAN: a value to look at more closely. */
		if (!(x >= e->lo && x <= e->hi))
			break;
		if (row) {
			row[e->offset] = (x - e->center) / e->scale;
			if (e->indicator)
				row[e->offset + 1] = 0;
		}
		if (raw)
			raw[e->feature * ld] = x;
	}
	if (k < s->n_num) {
		for (k = 0; k < s->m->n_features; k++)
			if ((ret = encode_feature(s, rec, k, row, raw, level,
						  ld, unseen, err)))
				return ret;
		return 0;
	}
	for (k = 0; k < s->n_cat; k++)
		if ((ret = encode_feature(s, rec, s->cat[k], row, raw, level,
					  ld, unseen, err)))
			return ret;
	return 0;
}

int scorer_encode(struct scorer *s, const struct csv_record *rec, double *row,
		  double *raw, int32_t *level, struct mlops_err *err)
{
	return encode(s, rec, row, raw, level, 1, s->unseen, err);
}

size_t scorer_column(const struct scorer *s, size_t feature)
{
	return s->column[feature];
}

uint64_t scorer_unseen(const struct scorer *s, size_t feature)
{
	return s->unseen[feature];
}

/* ---- streams ---- */

/*
 * The input is cut into chunks of whole records (csv_read_chunk); each
 * chunk is parsed, encoded and predicted by one worker into its own slot,
 * together with whatever the caller does per block (format output rows,
 * update profiles).  The slots are then handed to the caller in input
 * order (the pipeline below).  There are 4 slots per worker, so memory
 * is bounded by a few chunks whatever the file's size.
 */
#define STREAM_BLOCK 512
#define CHUNK_BYTES (512 << 10)
/*
 * Rows apart in the column-major raw values and levels: not a power of
 * two, so that one row's writes to its 50 columns do not all fall in the
 * same cache set (512 doubles apart is 4 KiB).
 */
#define STREAM_LD (STREAM_BLOCK + 8)

struct slot {
	struct csv_chunk chunk;
	double *scratch, *pred, *raw;	/* scratch: predict_columns()'s */
	int32_t *level;
	unsigned long *line;
	char **extra;
	size_t *extra_off;
	char *arena;
	size_t arena_len, arena_alloc;
	uint64_t *unseen;	/* per feature */
	uint64_t rows, rejected;
	char *rejects;		/* formatted reject lines */
	size_t rejects_len;
	/* the messages of its first bad rows, up to max_errors + 1 of them,
	 * NUL after each */
	char *bad;
	size_t bad_len, bad_alloc, n_bad;
	int status;
	struct mlops_err err;
};

struct score_stream {
	const struct model *m;
	struct csv_reader *csv;
	struct scorer *scorer;
	struct csv_chunk_parser serial_parser;
	int serial_open;
	char **header;
	size_t n_header;
	size_t *extra_cols, n_extra;
	uint64_t max_errors, rejected, rows;
	uint64_t *unseen;
	FILE *rejects;
	int eof;
	size_t n_workers, n_slots;
	struct slot *slots;
	int running;		/* score_stream_run() is under way */
	uint64_t raw_bytes;	/* read so far, while running */
	/* the run in progress */
	score_block_fn on_block;
	void *arg;
};

static void slot_alloc(struct score_stream *ss, struct slot *sl)
{
	const struct model *m = ss->m;

	sl->scratch = xmallocarray(predict_scratch_len(m, STREAM_BLOCK),
				   sizeof(double));
	sl->pred = xmallocarray(STREAM_BLOCK * score_width(m), sizeof(double));
	sl->raw = xmallocarray(STREAM_LD * (m->n_features + 1), sizeof(double));
	sl->level = xmallocarray(STREAM_LD * (m->n_features + 1), sizeof(int32_t));
	sl->line = xmallocarray(STREAM_BLOCK, sizeof(unsigned long));
	sl->unseen = xcalloc(m->n_features + 1, sizeof(uint64_t));
}

/* Predict the slot's first n rows into sl->pred. */
static void slot_predict(const struct model *m, struct slot *sl, size_t n)
{
	struct predict_cols in = { n, STREAM_LD, sl->raw, sl->level, NULL };

	predict_columns(m, &in, sl->scratch, sl->pred);
}

static void slot_release(struct slot *sl)
{
	csv_chunk_release(&sl->chunk);
	free(sl->scratch);
	free(sl->pred);
	free(sl->raw);
	free(sl->level);
	free(sl->line);
	free(sl->extra);
	free(sl->extra_off);
	free(sl->arena);
	free(sl->unseen);
	free(sl->rejects);
	free(sl->bad);
}

int score_stream_open(const struct model *m, const char *path,
		      const struct score_stream_opts *opts,
		      struct score_stream **out, struct mlops_err *err)
{
	struct score_stream *ss = xcalloc(1, sizeof(*ss));
	struct csv_record rec;
	size_t i, col;
	int ret, eof = 0;

	ss->m = m;
	matrix_single_threaded();
	if (opts && opts->shard_count > 1)
		ret = csv_open_shard(path, &opts->csv, opts->shard_index,
				     opts->shard_count, &ss->csv, err);
	else
		ret = csv_open(path, opts ? &opts->csv : NULL, &ss->csv, err);
	if (ret)
		goto fail;
	if (opts && opts->no_hash)
		csv_skip_hash(ss->csv);
	if ((ret = csv_next(ss->csv, &rec, &eof, err)))
		goto fail;
	if (eof) {
		ret = err_set(err, MLOPS_EINPUT, "'%s': empty file, no header",
			      csv_name(ss->csv));
		goto fail;
	}
	ss->n_header = rec.n_fields;
	ss->header = xcalloc(rec.n_fields + 1, sizeof(char *));
	for (i = 0; i < rec.n_fields; i++)
		ss->header[i] = xstrndup(rec.fields[i], rec.lens[i]);
	/* Each feature's column, there once, or the closest name offered
	 * (a timestamp's parts all come from their source column). */
	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];

		if ((ret = score_stream_lookup(ss, f->source ? f->source :
					       f->name, "a feature of the model",
					       &col, err)))
			goto fail;
	}
	if ((ret = scorer_create(m, &rec, csv_name(ss->csv),
				 opts ? opts->na_values : NULL,
				 opts ? opts->n_na_values : 0, &ss->scorer,
				 err)))
		goto fail;
	ss->n_workers = opts && opts->threads ? opts->threads : parallel_cpus();
	ss->n_slots = 4 * ss->n_workers;
	ss->slots = xcalloc(ss->n_slots, sizeof(*ss->slots));
	for (i = 0; i < ss->n_slots; i++)
		slot_alloc(ss, &ss->slots[i]);
	ss->unseen = xcalloc(m->n_features + 1, sizeof(uint64_t));
	*out = ss;
	return 0;
fail:
	score_stream_close(ss);
	return ret;
}

void score_stream_close(struct score_stream *ss)
{
	size_t i;

	if (!ss)
		return;
	if (ss->serial_open)
		csv_chunk_parser_release(&ss->serial_parser);
	csv_close(ss->csv);
	scorer_free(ss->scorer);
	for (i = 0; i < ss->n_header; i++)
		free(ss->header[i]);
	free(ss->header);
	free(ss->extra_cols);
	for (i = 0; ss->slots && i < ss->n_slots; i++)
		slot_release(&ss->slots[i]);
	free(ss->slots);
	free(ss->unseen);
	free(ss);
}

size_t score_stream_n_columns(const struct score_stream *ss)
{
	return ss->n_header;
}

const char *score_stream_column(const struct score_stream *ss, size_t i)
{
	return ss->header[i];
}

int score_stream_is_missing(const struct score_stream *ss, const char *s,
			    size_t len)
{
	return cell_is_missing(&ss->scorer->na, s, len);
}

long score_stream_find(const struct score_stream *ss, const char *name)
{
	size_t i;

	for (i = 0; i < ss->n_header; i++)
		if (!strcmp(ss->header[i], name))
			return (long)i;
	return -1;
}

int score_stream_lookup(const struct score_stream *ss, const char *name,
			const char *why, size_t *index, struct mlops_err *err)
{
	return csv_find_column(ss->csv, ss->header, ss->n_header, name, why,
			       index, err);
}

size_t score_stream_slots(const struct score_stream *ss)
{
	return ss->n_slots;
}

void score_stream_set_extra(struct score_stream *ss, const size_t *cols,
			    size_t n)
{
	size_t i;

	free(ss->extra_cols);
	ss->extra_cols = xcalloc(n + 1, sizeof(size_t));
	memcpy(ss->extra_cols, cols, n * sizeof(size_t));
	ss->n_extra = n;
	for (i = 0; i < ss->n_slots; i++) {
		struct slot *sl = &ss->slots[i];

		free(sl->extra);
		free(sl->extra_off);
		sl->extra = xcalloc(STREAM_BLOCK * n + 1, sizeof(char *));
		sl->extra_off = xcalloc(STREAM_BLOCK * n + 1, sizeof(size_t));
	}
}

void score_stream_set_rejects(struct score_stream *ss, uint64_t max_errors,
			      FILE *rejects)
{
	ss->max_errors = max_errors;
	ss->rejects = rejects;
}

/* Append a reject line "line,reason,record" to the slot's buffer. */
static void slot_reject(struct slot *sl, const struct csv_record *rec,
			const char *reason)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return;
	if (rec->line)
		fprintf(mem, "%lu,", rec->line);
	else
		fprintf(mem, "byte %llu,", (unsigned long long)rec->offset);
	csv_write_field(mem, reason, strlen(reason));
	fputc(',', mem);
	{
		char *rtext = NULL;
		size_t rlen = 0;
		FILE *r = open_memstream(&rtext, &rlen);

		if (r) {
			for (i = 0; i < rec->n_fields; i++) {
				if (i)
					fputc(',', r);
				csv_write_field(r, rec->fields[i], rec->lens[i]);
			}
			fclose(r);
			csv_write_field(mem, rtext, rlen);
			free(rtext);
		}
	}
	fputc('\n', mem);
	fclose(mem);
	sl->rejects = xrealloc(sl->rejects, sl->rejects_len + len + 1);
	memcpy(sl->rejects + sl->rejects_len, text, len);
	sl->rejects_len += len;
	free(text);
}

/* Predict the rows gathered in the slot and hand them to the caller. */
static int slot_flush(struct score_stream *ss, struct slot *sl, size_t slot,
		      size_t n)
{
	struct score_block b;
	size_t i;

	for (i = 0; i < n * ss->n_extra; i++)
		sl->extra[i] = sl->arena + sl->extra_off[i];
	slot_predict(ss->m, sl, n);
	b.n = n;
	b.ld = STREAM_LD;
	b.pred = sl->pred;
	b.raw = sl->raw;
	b.level = sl->level;
	b.line = sl->line;
	b.extra = sl->extra;
	sl->rows += n;
	sl->arena_len = 0;
	return ss->on_block ? ss->on_block(ss->arg, slot, &b, &sl->err) : 0;
}

/* Worker: parse, encode and predict one chunk. */
static int slot_work(void *arg, size_t worker, size_t slot)
{
	struct score_stream *ss = arg;
	struct slot *sl = &ss->slots[slot];
	struct csv_chunk_parser p;
	struct csv_record rec;
	size_t n = 0, i;
	int eof = 0, ret = 0;

	(void)worker;
	csv_chunk_parser_init(&p, &sl->chunk, csv_name(ss->csv));
	for (;;) {
		if ((ret = csv_chunk_next(&p, &rec, &eof, &sl->err)))
			break;
		if (eof)
			break;
		ret = encode(ss->scorer, &rec, NULL, sl->raw + n,
			     sl->level + n, STREAM_LD, sl->unseen, &sl->err);
		if (ret == MLOPS_EINPUT) {
			/* The limit is applied in input order, at the settle. */
			if (sl->n_bad++ <= ss->max_errors) {
				size_t len = strlen(sl->err.msg) + 1;

				XGROW(sl->bad, sl->bad_alloc, sl->bad_len + len);
				memcpy(sl->bad + sl->bad_len, sl->err.msg, len);
				sl->bad_len += len;
			}
			sl->rejected++;
			if (sl->rejected + __atomic_load_n(&ss->rejected,
							   __ATOMIC_RELAXED) >
			    ss->max_errors)
				break;
			slot_reject(sl, &rec, sl->err.msg);
			ret = 0;
			continue;
		}
		if (ret)
			break;
		sl->line[n] = rec.line;
		for (i = 0; i < ss->n_extra; i++) {
			size_t c = ss->extra_cols[i], len = rec.lens[c];

			XGROW(sl->arena, sl->arena_alloc, sl->arena_len + len + 1);
			memcpy(sl->arena + sl->arena_len, rec.fields[c], len);
			sl->arena[sl->arena_len + len] = '\0';
			sl->extra_off[n * ss->n_extra + i] = sl->arena_len;
			sl->arena_len += len + 1;
		}
		if (++n == STREAM_BLOCK) {
			if ((ret = slot_flush(ss, sl, slot, n)))
				break;
			n = 0;
		}
	}
	if (!ret && n)
		ret = slot_flush(ss, sl, slot, n);
	csv_chunk_parser_release(&p);
	sl->status = ret;
	/* Errors are reported in input order, at the settle. */
	return 0;
}

/*
 * Fold a finished slot into the stream, in input order: counts, rejects
 * and the first error.  Returns the slot's error, if any.
 */
static int slot_settle(struct score_stream *ss, struct slot *sl,
		       struct mlops_err *err)
{
	size_t j;

	ss->rows += sl->rows;
	for (j = 0; j < ss->m->n_features; j++) {
		ss->unseen[j] += sl->unseen[j];
		sl->unseen[j] = 0;
	}
	if (sl->rejected) {
		uint64_t before = ss->rejected;

		/* Workers read it to stop early (slot_work). */
		__atomic_store_n(&ss->rejected, before + sl->rejected,
				 __ATOMIC_RELAXED);
		if (ss->rejects && sl->rejects_len)
			fwrite(sl->rejects, 1, sl->rejects_len, ss->rejects);
		/*
		 * Past the allowance: the slot's own check may have gone on
		 * past it (it sees the chunks settled before it late or not
		 * at all), so the total decides, and the message is of the
		 * bad row that went past: row max_errors - before of the
		 * slot's (before <= max_errors, or an earlier chunk would
		 * have failed), which the slot has kept.
		 */
		if (ss->rejected > ss->max_errors &&
		    (sl->status == MLOPS_EINPUT || !sl->status)) {
			const char *msg = sl->bad;
			uint64_t k;

			for (k = 0; k < ss->max_errors - before; k++)
				msg += strlen(msg) + 1;
			err_set(err, MLOPS_EINPUT, "%s", msg);
			if (ss->max_errors)
				err_prefix(err, "more than %llu bad rows",
					   (unsigned long long)ss->max_errors);
			return MLOPS_EINPUT;
		}
	}
	if (sl->status) {
		*err = sl->err;
		return sl->status;
	}
	sl->rows = sl->rejected = 0;
	sl->rejects_len = sl->bad_len = sl->n_bad = 0;
	return 0;
}

/*
 * The pipeline.  Chunk number s lives in slot s % n_slots and goes
 * through three steps: read (serial: one input, one hash), scored (any
 * worker, in parallel) and settled (serial, in input order: counts,
 * rejects, the caller's on_done).  Every worker loops over whatever step
 * can run next, settling first (it frees a slot), then reading while
 * fewer chunks wait than there are workers, then scoring; so the read
 * and the settle of one chunk overlap with the scoring of others, and
 * no worker waits for a batch to finish.  Only the order of settling is
 * fixed, which keeps outputs and profiles the same for any thread count.
 */
enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_SCORED };

struct pipe {
	struct score_stream *ss;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	unsigned char *state;	/* per slot */
	uint64_t next_read, next_take, next_settle;
	int reading, settling;	/* a worker holds the role */
	int read_done;		/* the input is read, or reading failed */
	int read_status;	/* reading failed after the chunks read */
	struct mlops_err read_err;
	int status;		/* a settle failed: everyone stops */
	struct mlops_err *err;	/* the caller's, written by the settler */
	score_done_fn on_done;
	void *arg;
};

/* Read the next chunk into slot i; called with the lock not held. */
static void pipe_read(struct pipe *pp, size_t i)
{
	struct score_stream *ss = pp->ss;
	struct slot *sl = &ss->slots[i];
	int status, eof = 0;

	status = csv_read_chunk(ss->csv, &sl->chunk, CHUNK_BYTES, &eof,
				&pp->read_err);
	sl->status = 0;
	sl->rows = sl->rejected = 0;
	sl->rejects_len = sl->bad_len = sl->n_bad = 0;
	pthread_mutex_lock(&pp->lock);
	pp->reading = 0;
	__atomic_store_n(&ss->raw_bytes, csv_raw_bytes(ss->csv),
			 __ATOMIC_RELAXED);
	if (status) {
		pp->read_status = status;
		pp->read_done = 1;
	} else {
		if (sl->chunk.len) {
			pp->state[i] = SLOT_READY;
			pp->next_read++;
		}
		if (eof || !sl->chunk.len)
			pp->read_done = 1;
	}
	pthread_cond_broadcast(&pp->wake);
	pthread_mutex_unlock(&pp->lock);
}

static void *pipe_work(void *arg)
{
	struct pipe *pp = arg;
	struct score_stream *ss = pp->ss;
	size_t n = ss->n_slots, i;
	int ret;

	pthread_mutex_lock(&pp->lock);
	while (!pp->status) {
		uint64_t ready = pp->next_read - pp->next_take;
		int can_read = !pp->reading && !pp->read_done &&
			       pp->next_read < pp->next_settle + n;

		i = pp->next_settle % n;
		if (!pp->settling && pp->next_settle < pp->next_take &&
		    pp->state[i] == SLOT_SCORED) {
			pp->settling = 1;
			pthread_mutex_unlock(&pp->lock);
			ret = slot_settle(ss, &ss->slots[i], pp->err);
			if (!ret && pp->on_done)
				ret = pp->on_done(pp->arg, i, pp->err);
			pthread_mutex_lock(&pp->lock);
			pp->settling = 0;
			pp->state[i] = SLOT_FREE;
			pp->next_settle++;
			if (ret)
				pp->status = ret;
			pthread_cond_broadcast(&pp->wake);
		} else if (can_read && ready < ss->n_workers) {
			i = pp->next_read % n;
			pp->reading = 1;
			pthread_mutex_unlock(&pp->lock);
			pipe_read(pp, i);
			pthread_mutex_lock(&pp->lock);
		} else if (ready) {
			i = pp->next_take++ % n;
			pp->state[i] = SLOT_BUSY;
			pthread_mutex_unlock(&pp->lock);
			slot_work(ss, 0, i);
			pthread_mutex_lock(&pp->lock);
			pp->state[i] = SLOT_SCORED;
			pthread_cond_broadcast(&pp->wake);
		} else if (can_read) {
			i = pp->next_read % n;
			pp->reading = 1;
			pthread_mutex_unlock(&pp->lock);
			pipe_read(pp, i);
			pthread_mutex_lock(&pp->lock);
		} else if (pp->read_done && !pp->reading &&
			   pp->next_settle == pp->next_read) {
			break;
		} else {
			pthread_cond_wait(&pp->wake, &pp->lock);
		}
	}
	pthread_cond_broadcast(&pp->wake);
	pthread_mutex_unlock(&pp->lock);
	return NULL;
}

int score_stream_run(struct score_stream *ss, score_block_fn on_block,
		     score_done_fn on_done, void *arg, struct mlops_err *err)
{
	struct pipe pp;
	pthread_t *threads;
	size_t i, started = 0;

	memset(&pp, 0, sizeof(pp));
	pp.ss = ss;
	pthread_mutex_init(&pp.lock, NULL);
	pthread_cond_init(&pp.wake, NULL);
	pp.state = xcalloc(ss->n_slots, 1);
	pp.err = err;
	pp.on_done = on_done;
	pp.arg = arg;
	pp.read_err = (struct mlops_err)MLOPS_ERR_INIT;
	ss->on_block = on_block;
	ss->arg = arg;
	ss->running = 1;
	threads = xcalloc(ss->n_workers, sizeof(*threads));
	for (i = 1; i < ss->n_workers; i++) {
		if (pthread_create(&threads[i], NULL, pipe_work, &pp))
			break;	/* fewer threads is still correct */
		started = i;
	}
	pipe_work(&pp);
	for (i = 1; i <= started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	ss->running = 0;
	free(pp.state);
	pthread_cond_destroy(&pp.wake);
	pthread_mutex_destroy(&pp.lock);
	if (pp.status)
		return pp.status;
	if (pp.read_status) {
		*err = pp.read_err;
		return pp.read_status;
	}
	return 0;
}

/* Serial block-by-block access through the first slot. */
int score_stream_next(struct score_stream *ss, struct score_block *b,
		      struct mlops_err *err)
{
	struct slot *sl = &ss->slots[0];
	const struct model *m = ss->m;
	struct csv_chunk_parser *p = &ss->serial_parser;
	struct csv_record rec;
	size_t n = 0, i;
	int eof, ret;

	memset(b, 0, sizeof(*b));
	for (;;) {
		if (!ss->serial_open) {
			if (ss->eof)
				return 0;
			if ((ret = csv_read_chunk(ss->csv, &sl->chunk, CHUNK_BYTES,
						  &ss->eof, err)))
				return ret;
			if (!sl->chunk.len)
				return 0;
			csv_chunk_parser_init(p, &sl->chunk, csv_name(ss->csv));
			ss->serial_open = 1;
		}
		sl->arena_len = 0;
		while (n < STREAM_BLOCK) {
			if ((ret = csv_chunk_next(p, &rec, &eof, err)))
				return ret;
			if (eof)
				break;
			ret = encode(ss->scorer, &rec, NULL, sl->raw + n,
				     sl->level + n, STREAM_LD, ss->unseen, err);
			if (ret == MLOPS_EINPUT) {
				if (++ss->rejected > ss->max_errors) {
					if (ss->max_errors)
						err_prefix(err, "more than %llu bad rows",
							   (unsigned long long)ss->max_errors);
					return ret;
				}
				if (ss->rejects) {
					sl->rejects_len = 0;
					slot_reject(sl, &rec, err->msg);
					fwrite(sl->rejects, 1, sl->rejects_len,
					       ss->rejects);
				}
				continue;
			}
			if (ret)
				return ret;
			sl->line[n] = rec.line;
			for (i = 0; i < ss->n_extra; i++) {
				size_t c = ss->extra_cols[i], len = rec.lens[c];

				XGROW(sl->arena, sl->arena_alloc,
				      sl->arena_len + len + 1);
				memcpy(sl->arena + sl->arena_len, rec.fields[c], len);
				sl->arena[sl->arena_len + len] = '\0';
				sl->extra_off[n * ss->n_extra + i] = sl->arena_len;
				sl->arena_len += len + 1;
			}
			n++;
		}
		if (n == STREAM_BLOCK || !eof)
			break;
		csv_chunk_parser_release(p);
		ss->serial_open = 0;
		if (n)
			break;
	}
	for (i = 0; i < n * ss->n_extra; i++)
		sl->extra[i] = sl->arena + sl->extra_off[i];
	slot_predict(m, sl, n);
	ss->rows += n;
	b->n = n;
	b->ld = STREAM_LD;
	b->pred = sl->pred;
	b->raw = sl->raw;
	b->level = sl->level;
	b->line = sl->line;
	b->extra = sl->extra;
	return 0;
}

uint64_t score_stream_rows(const struct score_stream *ss)
{
	return ss->rows;
}

uint64_t score_stream_rejected(const struct score_stream *ss)
{
	return ss->rejected;
}

uint64_t score_stream_unseen(const struct score_stream *ss, size_t feature)
{
	return ss->unseen[feature];
}

uint64_t score_stream_raw_bytes(const struct score_stream *ss)
{
	/* While running, the reader moves on: what it had read last. */
	if (ss->running)
		return __atomic_load_n(&ss->raw_bytes, __ATOMIC_RELAXED);
	return csv_raw_bytes(ss->csv);
}

void score_stream_sha256(const struct score_stream *ss, char hex[65])
{
	csv_sha256_hex(ss->csv, hex);
}

const char *score_stream_name(const struct score_stream *ss)
{
	return csv_name(ss->csv);
}

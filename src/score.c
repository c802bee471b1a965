/*
 * Scoring: encode rows the way training did, then one BLAS product per
 * block of rows.  Train, validate, score-batch and drift all predict
 * through score_predict(), which is what makes a reloaded artefact
 * predict the same bits as the model that was just trained.
 *
 * Categories are matched by exact bytes; a value never seen in training
 * encodes as all zeros (scikit-learn's handle_unknown="ignore") and is
 * counted so the caller can warn.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "score.h"
#include "strmap.h"
#include "xalloc.h"

struct scorer {
	const struct model *m;
	char *file;
	size_t n_header;
	size_t *column;		/* per feature: CSV column index */
	struct strmap **levels;	/* per categorical feature */
	uint64_t *unseen;	/* per feature */
};

size_t score_width(const struct model *m)
{
	return m->task == TASK_MULTICLASS ? m->n_classes : 1;
}

size_t score_argmax(const struct model *m, const double *row)
{
	size_t k, best = 0;

	if (m->task == TASK_BINARY)
		return row[0] > 0.5;
	for (k = 1; k < m->n_classes; k++)
		if (row[k] > row[best])
			best = k;
	return best;
}

int score_predict(const struct model *m, const double *x, size_t n,
		  double *work, double *out, struct mlops_err *err)
{
	size_t i, k, K = m->n_outputs;
	int ret;

	if ((ret = matrix_gemm_abt(x, n, m->n_inputs, m->coef, K, work, err)))
		return ret;
	for (i = 0; i < n; i++) {
		double *z = work + i * K, *o = out + i * score_width(m);

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
	return 0;
}

void scorer_free(struct scorer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->m->n_features; i++)
		strmap_free(s->levels[i]);
	free(s->levels);
	free(s->column);
	free(s->unseen);
	free(s->file);
	free(s);
}

int scorer_new(const struct model *m, const struct csv_record *header,
	       const char *file, struct scorer **out, struct mlops_err *err)
{
	struct scorer *s = xcalloc(1, sizeof(*s));
	struct strmap *names = strmap_new();
	size_t i, j;
	int ret = 0;

	s->m = m;
	s->file = xstrdup(file);
	s->n_header = header->n_fields;
	s->column = xcalloc(m->n_features + 1, sizeof(size_t));
	s->levels = xcalloc(m->n_features + 1, sizeof(struct strmap *));
	s->unseen = xcalloc(m->n_features + 1, sizeof(uint64_t));
	/* The first column of a name wins, as pandas would warn and do. */
	for (j = header->n_fields; j-- > 0;)
		strmap_put(names, header->fields[j], header->lens[j], (long)j);
	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];
		long col = strmap_get(names, f->name, strlen(f->name));

		if (col < 0) {
			ret = err_set(err, MLOPS_EINPUT,
				      "'%s': no column '%s' (a feature of the model)",
				      file, f->name);
			goto out;
		}
		s->column[i] = (size_t)col;
		if (f->kind == FEATURE_CATEGORICAL) {
			s->levels[i] = strmap_new();
			for (j = 0; j < f->n_levels; j++)
				strmap_put(s->levels[i], f->levels[j],
					   strlen(f->levels[j]), (long)j);
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

int scorer_encode(struct scorer *s, const struct csv_record *rec, double *row,
		  double *raw, int32_t *level, struct mlops_err *err)
{
	const struct model *m = s->m;
	size_t i;

	if (rec->n_fields != s->n_header)
		return err_set(err, MLOPS_EINPUT,
			       "'%s' line %lu: expected %zu fields, found %zu",
			       s->file, rec->line, s->n_header, rec->n_fields);
	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];
		size_t c = s->column[i];
		const char *v = rec->fields[c];
		size_t len = rec->lens[c];
		double x = NAN;
		long lv;

		if (f->kind == FEATURE_NUMERIC) {
			if (!csv_is_missing(v, len) &&
			    csv_parse_double(v, len, &x))
				return err_set(err, MLOPS_EINPUT,
					       "'%s' line %lu, column %zu ('%s'): '%.*s' is not a number",
					       s->file, rec->line, c + 1,
					       f->name, (int)(len > 40 ? 40 : len), v);
			row[f->offset] = score_encode_numeric(f, x);
			if (raw)
				raw[i] = x;
			continue;
		}
		if (raw)
			raw[i] = NAN;
		memset(row + f->offset, 0, f->n_levels * sizeof(double));
		if (csv_is_missing(v, len)) {
			lv = f->impute_level;
			if (level)
				level[i] = -1;
		} else {
			lv = strmap_get(s->levels[i], v, len);
			if (lv < 0)
				s->unseen[i]++;
			if (level)
				level[i] = lv < 0 ? -2 : (int32_t)lv;
		}
		if (lv >= 0)
			row[f->offset + (size_t)lv] = 1;
	}
	return 0;
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

#define STREAM_BLOCK 4096

struct score_stream {
	const struct model *m;
	struct csv_reader *csv;
	struct scorer *scorer;
	char **header;
	size_t n_header;
	size_t *extra_cols, n_extra;
	uint64_t max_errors, rejected, rows;
	FILE *rejects;
	int eof;
	/* block storage */
	double *x, *work, *pred, *raw;
	int32_t *level;
	unsigned long *line;
	char **extra;
	char *arena;
	size_t arena_len, arena_alloc;
};

int score_stream_open(const struct model *m, const char *path,
		      struct score_stream **out, struct mlops_err *err)
{
	struct score_stream *ss = xcalloc(1, sizeof(*ss));
	struct csv_record rec;
	size_t i, w = score_width(m);
	int ret, eof = 0;

	ss->m = m;
	if ((ret = csv_open(path, &ss->csv, err)))
		goto fail;
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
	if ((ret = scorer_new(m, &rec, csv_name(ss->csv), &ss->scorer, err)))
		goto fail;
	ss->x = xmallocarray(STREAM_BLOCK * (m->n_inputs + 1), sizeof(double));
	ss->work = xmallocarray(STREAM_BLOCK * m->n_outputs, sizeof(double));
	ss->pred = xmallocarray(STREAM_BLOCK * w, sizeof(double));
	ss->raw = xmallocarray(STREAM_BLOCK * (m->n_features + 1), sizeof(double));
	ss->level = xmallocarray(STREAM_BLOCK * (m->n_features + 1), sizeof(int32_t));
	ss->line = xmallocarray(STREAM_BLOCK, sizeof(unsigned long));
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
	csv_close(ss->csv);
	scorer_free(ss->scorer);
	for (i = 0; i < ss->n_header; i++)
		free(ss->header[i]);
	free(ss->header);
	free(ss->extra_cols);
	free(ss->x);
	free(ss->work);
	free(ss->pred);
	free(ss->raw);
	free(ss->level);
	free(ss->line);
	free(ss->extra);
	free(ss->arena);
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

long score_stream_find(const struct score_stream *ss, const char *name)
{
	size_t i;

	for (i = 0; i < ss->n_header; i++)
		if (!strcmp(ss->header[i], name))
			return (long)i;
	return -1;
}

void score_stream_set_extra(struct score_stream *ss, const size_t *cols,
			    size_t n)
{
	free(ss->extra_cols);
	ss->extra_cols = xcalloc(n + 1, sizeof(size_t));
	memcpy(ss->extra_cols, cols, n * sizeof(size_t));
	ss->n_extra = n;
	free(ss->extra);
	ss->extra = xcalloc(STREAM_BLOCK * n + 1, sizeof(char *));
}

void score_stream_set_rejects(struct score_stream *ss, uint64_t max_errors,
			      FILE *rejects)
{
	ss->max_errors = max_errors;
	ss->rejects = rejects;
}

static void write_reject(FILE *fp, const struct csv_record *rec,
			 const char *reason)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *mem;

	fprintf(fp, "%lu,", rec->line);
	csv_write_field(fp, reason, strlen(reason));
	fputc(',', fp);
	mem = open_memstream(&text, &len);
	if (mem) {
		for (i = 0; i < rec->n_fields; i++) {
			if (i)
				fputc(',', mem);
			csv_write_field(mem, rec->fields[i], rec->lens[i]);
		}
		fclose(mem);
		csv_write_field(fp, text, len);
		free(text);
	}
	fputc('\n', fp);
}

int score_stream_next(struct score_stream *ss, struct score_block *b,
		      struct mlops_err *err)
{
	const struct model *m = ss->m;
	struct csv_record rec;
	size_t n = 0, nf = m->n_features, i, *off;
	int ret;

	memset(b, 0, sizeof(*b));
	ss->arena_len = 0;
	off = ss->n_extra ? xcalloc(STREAM_BLOCK * ss->n_extra, sizeof(size_t)) : NULL;
	while (n < STREAM_BLOCK && !ss->eof) {
		if ((ret = csv_next(ss->csv, &rec, &ss->eof, err)))
			goto out;
		if (ss->eof)
			break;
		ret = scorer_encode(ss->scorer, &rec, ss->x + n * m->n_inputs,
				    ss->raw + n * nf, ss->level + n * nf, err);
		if (ret == MLOPS_EINPUT) {
			if (++ss->rejected > ss->max_errors) {
				if (ss->max_errors)
					err_prefix(err, "more than %llu bad rows",
						   (unsigned long long)ss->max_errors);
				goto out;
			}
			if (ss->rejects)
				write_reject(ss->rejects, &rec, err->msg);
			continue;
		}
		if (ret)
			goto out;
		ss->line[n] = rec.line;
		/* Extra fields are copied: the record is lent until the next read. */
		for (i = 0; i < ss->n_extra; i++) {
			size_t c = ss->extra_cols[i], len = rec.lens[c];

			XGROW(ss->arena, ss->arena_alloc, ss->arena_len + len + 1);
			memcpy(ss->arena + ss->arena_len, rec.fields[c], len);
			ss->arena[ss->arena_len + len] = '\0';
			off[n * ss->n_extra + i] = ss->arena_len;
			ss->arena_len += len + 1;
		}
		n++;
	}
	for (i = 0; i < n * ss->n_extra; i++)
		ss->extra[i] = ss->arena + off[i];
	if (n && (ret = score_predict(m, ss->x, n, ss->work, ss->pred, err)))
		goto out;
	ss->rows += n;
	b->n = n;
	b->pred = ss->pred;
	b->raw = ss->raw;
	b->level = ss->level;
	b->line = ss->line;
	b->extra = ss->extra;
	ret = 0;
out:
	free(off);
	return ret;
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
	return scorer_unseen(ss->scorer, feature);
}

void score_stream_sha256(const struct score_stream *ss, char hex[65])
{
	csv_sha256_hex(ss->csv, hex);
}

const char *score_stream_name(const struct score_stream *ss)
{
	return csv_name(ss->csv);
}

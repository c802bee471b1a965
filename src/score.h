#ifndef MLOPS_SCORE_H
#define MLOPS_SCORE_H

/*
 * Turning CSV rows into predictions for validate, score-batch and drift:
 * each record's features are read into raw values and level indices as
 * training read them, and predicted through predict_columns()
 * (predict.h), the one prediction path that training's holdout metrics
 * and baseline profile use too, so that a model predicts the same bits
 * wherever it runs.
 *
 * A design row (scorer_encode()) is the model's input after
 * preprocessing: per numeric feature ((isnan(x) ? impute : x) - center)
 * / scale, per categorical feature one indicator per training level (all
 * zero for a level never seen in training).
 */

#include <stddef.h>
#include <stdint.h>
#include "csv.h"
#include "error.h"
#include "model.h"
#include "predict.h"

/* Encode one numeric value for feature f (predict.h's arithmetic). */
static inline double score_encode_numeric(const struct feature *f, double x)
{
	return predict_encode_numeric(f, x);
}

/* Values per row of a prediction: predict_width(). */
size_t score_width(const struct model *m);

/* Index of the predicted class for one row of predictions. */
size_t score_argmax(const struct model *m, const double *row);

/*
 * Maps the columns of a CSV header to the model's features and encodes
 * records.  Created per input file.
 */
struct scorer;

/*
 * Map `header` (the CSV's first record) to the model's features by name
 * (a timestamp part by its source column).  Missing values are the
 * default set and the model's na_values.  MLOPS_EINPUT "'FILE': no
 * column 'X' (a feature of the model)" when a feature column is missing.  *out owned by the caller (scorer_free()).
 */
int scorer_new(const struct model *m, const struct csv_record *header,
	       const char *file, struct scorer **out, struct mlops_err *err);
void scorer_free(struct scorer *s);

/*
 * Encode one record into `row` (m->n_inputs doubles).  Also writes the
 * raw numeric value of each feature (NAN if missing or categorical) into
 * `raw` and the level index (-1 missing, -2 unseen) of each categorical
 * feature into `level` when they are non-NULL (n_features each), for
 * profiling.  MLOPS_EINPUT "'FILE' line L, column C ('name'): ..." for a
 * wrong field count, a value that is not a (finite) number, not a
 * timestamp for a timestamp part, or so far out that the prediction
 * could overflow.
 */
int scorer_encode(struct scorer *s, const struct csv_record *rec, double *row,
		  double *raw, int32_t *level, struct mlops_err *err);

/* CSV column index of feature i (for messages and --keep). */
size_t scorer_column(const struct scorer *s, size_t feature);

/* Number of unseen category values met so far for feature i. */
uint64_t scorer_unseen(const struct scorer *s, size_t feature);



/*
 * A scoring stream: reads a CSV in chunks of whole records, which all
 * cores parse, encode and predict in parallel; results come back in
 * input order.  Shared by validate, score-batch and drift.  Bad rows are
 * fatal unless `max_errors` allows them; each allowed one is written to
 * `rejects` (if non-NULL) as "line,reason,record".
 */
struct score_stream;

struct score_block {
	size_t n;		/* rows in this block */
	const double *pred;	/* n x score_width(m) */
	size_t ld;		/* leading dimension of raw and level */
	/* By column: feature j of row i is at [j * ld + i]. */
	const double *raw;	/* numeric value or NAN */
	const int32_t *level;	/* level, -1 missing, -2 unseen */
	const unsigned long *line;	/* n: physical line of each row (0 in a shard) */
	char *const *extra;	/* n x n_extra copies of the extra fields */
};

struct score_stream_opts {
	unsigned shard_index, shard_count;	/* count <= 1: whole input */
	size_t threads;				/* 0: online CPUs */
	int no_hash;		/* score_stream_sha256() is not wanted */
	struct csv_opts csv;	/* how to read the file; zero: defaults */
	/* Tokens read as missing besides the default set and the model's
	 * na_values (--na-values at scoring). */
	const char *const *na_values;
	size_t n_na_values;
};

/*
 * Open `path` ("-" = stdin), read its header and map it to `m`'s
 * features.  `opts` may be NULL.  MLOPS_EIO / MLOPS_EINPUT on failure,
 * MLOPS_EUSAGE for a shard of compressed input or stdin.
 */
int score_stream_open(const struct model *m, const char *path,
		      const struct score_stream_opts *opts,
		      struct score_stream **out, struct mlops_err *err);

/* The header record (lent, valid while the stream lives). */
size_t score_stream_n_columns(const struct score_stream *ss);
const char *score_stream_column(const struct score_stream *ss, size_t i);
/* Index of a header column by name, or -1. */
long score_stream_find(const struct score_stream *ss, const char *name);
/*
 * The column `name` that `why` ("--keep") wants: MLOPS_OK and *index,
 * or csv_find_column()'s MLOPS_EINPUT when it is missing (with the
 * closest name) or in the header twice.
 */
int score_stream_lookup(const struct score_stream *ss, const char *name,
			const char *why, size_t *index,
			struct mlops_err *err);

/* Whether a field is missing by the stream's rules (see the options). */
int score_stream_is_missing(const struct score_stream *ss, const char *s,
			    size_t len);

/*
 * Copy these CSV columns of every row into block->extra (for --keep and
 * for validate's labels).  Call before reading.
 */
void score_stream_set_extra(struct score_stream *ss, const size_t *cols,
			    size_t n);

/* Allow up to max_errors bad rows, writing them to `rejects`. */
void score_stream_set_rejects(struct score_stream *ss, uint64_t max_errors,
			      FILE *rejects);

/*
 * Parallel run.  on_block(arg, slot, block, err) is called on worker
 * threads for each block of a chunk, with `slot` in
 * [0, score_stream_slots()) naming the caller's per-chunk state (a slot
 * is used by one thread at a time); on_done(arg, slot, err) is then
 * called for each chunk, one call at a time and in input order, to
 * consume that state.  on_done runs on any of the threads, while other
 * chunks' on_block calls go on: it may touch the run's shared state,
 * on_block only its slot's (or shared state read atomically).  A
 * non-zero return from either stops the run with
 * that status.  MLOPS_EINPUT for a bad row past the allowance, reported
 * for the first such row in input order.
 */
typedef int (*score_block_fn)(void *arg, size_t slot,
			      const struct score_block *block,
			      struct mlops_err *err);
typedef int (*score_done_fn)(void *arg, size_t slot, struct mlops_err *err);
size_t score_stream_slots(const struct score_stream *ss);
int score_stream_run(struct score_stream *ss, score_block_fn on_block,
		     score_done_fn on_done, void *arg, struct mlops_err *err);

/*
 * Serial alternative for small consumers: read, encode and predict the
 * next block.  block->n == 0 at the end of the input.
 */
int score_stream_next(struct score_stream *ss, struct score_block *block,
		      struct mlops_err *err);

/* Rows scored, rows rejected, unseen categories per feature. */
uint64_t score_stream_rows(const struct score_stream *ss);
uint64_t score_stream_rejected(const struct score_stream *ss);
uint64_t score_stream_unseen(const struct score_stream *ss, size_t feature);
/* Raw (possibly compressed) input bytes read so far. */
uint64_t score_stream_raw_bytes(const struct score_stream *ss);
/* Hex SHA-256 of the input's raw bytes (after the end). */
void score_stream_sha256(const struct score_stream *ss, char hex[65]);
const char *score_stream_name(const struct score_stream *ss);

void score_stream_close(struct score_stream *ss);

#endif

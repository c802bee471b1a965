#ifndef MLOPS_BATCH_H
#define MLOPS_BATCH_H

/*
 * Batch scoring, the job behind `mlops score-batch`: score a CSV stream
 * with a model into an output file, with its reject file, its metrics
 * file, its run profile and its run record.
 */

#include <stdint.h>
#include "error.h"
#include "modelref.h"
#include "score.h"

struct model;
struct repo;

struct batch_opts {
	const char *model;		/* MODEL: a reference (modelref.h) */
	const char *input;		/* CSV to score, "-" for stdin */
	const char *output;		/* predictions, "-" for stdout */
	/* Input columns copied into the output, before the predictions. */
	const char *const *keep;
	size_t n_keep;
	int keep_all;			/* every input column (keep unused) */
	uint64_t max_errors;		/* bad rows skipped before failing */
	const char *reject_path;	/* skipped rows written here, or NULL */
	const char *metrics_path;	/* Prometheus text here, or NULL */
	int progress;			/* a progress line on stderr */
	/*
	 * Threads (0: online CPUs, else 1..1024) and extra missing-value
	 * tokens.  The shard and the CSV dialect are not read from here:
	 * the job fills them from the three strings below, once the model
	 * is loaded.
	 */
	struct score_stream_opts stream;
	const char *shard;		/* "I/N" or "auto", or NULL: all */
	const char *delimiter;		/* --delimiter, or NULL: ',' */
	const char *encoding;		/* --encoding, or NULL: UTF-8 */
};

struct batch_result {
	int scored;		/* the outputs are in place (set even when
				 * recording the run failed afterwards) */
	uint64_t rows;		/* rows scored */
	uint64_t rejected;	/* bad rows skipped */
	char input_sha256[65];	/* of the input's raw bytes */
	char output_sha256[65];	/* of the bytes written to the output */
	/* Per model feature: values of categories the model never saw
	 * (scored as all-zero).  Owned. */
	uint64_t *unseen;
	size_t n_features;
	double seconds;		/* from the job's start to its end */
	long long run_id;	/* the run recorded; 0 without a repository */
	/* The model o->model named, once loaded (NULL before), and what
	 * the reference turned out to be.  Owned. */
	struct model *model;
	struct modelref_info info;
};

/*
 * Start the run's clock, load the model o->model names (modelref_load(),
 * through `repo` for a registry reference), check o->stream.threads,
 * the CSV dialect and the shard in that order (MLOPS_EUSAGE), then score
 * o->input with it into o->output and fill *r (release it with
 * batch_result_release(), also after a failure).  Shards after the first
 * (o->stream.shard_index > 0) leave the header out so that shard outputs
 * concatenate.  The output, the reject file and the metrics file are
 * each replaced atomically, and only when scoring succeeded.  With a
 * repository the run is recorded (runrec_record(), timed from the job's
 * start) with its inputs, outputs and run profile, before the metrics file is
 * written.  MLOPS_EIO / MLOPS_EINPUT from reading and writing (a row
 * past the allowance of bad rows, a --keep column missing or named like
 * an output column), MLOPS_EUSAGE for a shard of a stream that cannot be
 * sharded, the registry's statuses from recording.  Prints nothing but
 * the progress line.
 */
int batch_score(const struct batch_opts *o, struct repo *repo,
		struct batch_result *r, struct mlops_err *err);

/* Free what *r owns and zero it; accepts NULL and a zeroed result. */
void batch_result_release(struct batch_result *r);

/*
 * Parse a shard: "I/N", or "auto" to take it from the job scheduler's
 * environment (MLOPS_SHARD_INDEX, JOB_COMPLETION_INDEX or SLURM's array
 * task variables, with MLOPS_SHARD_COUNT).  MLOPS_EUSAGE naming --shard
 * when it is malformed or I is not in 0..N-1.
 */
int batch_parse_shard(const char *s, unsigned *index, unsigned *count,
		      struct mlops_err *err);

#endif

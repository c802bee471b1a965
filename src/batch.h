#ifndef MLOPS_BATCH_H
#define MLOPS_BATCH_H

/*
 * Batch scoring, the job behind `mlops score-batch`: score a CSV stream
 * with a model into an output file, with its reject file, its metrics
 * file, its run profile and its run record.
 */

#include <stdint.h>
#include "error.h"
#include "score.h"

struct model;
struct repo;
struct runrec;

struct batch_opts {
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
	/* Threads, shard, CSV dialect, extra missing-value tokens. */
	struct score_stream_opts stream;
	/* The model scored, for the run record and the metrics' labels. */
	const char *model_name;		/* NULL: a model file */
	int version;			/* 0: a model file */
	const char *artifact_sha256;	/* of the artefact bytes, or NULL */
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
	double seconds;		/* from runrec_start() to the end */
	long long run_id;	/* the run recorded; 0 without a repository */
};

/*
 * Score o->input with m into o->output and fill *r (release it with
 * batch_result_release(), also after a failure).  Shards after the first
 * (o->stream.shard_index > 0) leave the header out so that shard outputs
 * concatenate.  The output, the reject file and the metrics file are
 * each replaced atomically, and only when scoring succeeded.  With a
 * repository the run is recorded (runrec_record(), timed from `rl`) with
 * its inputs, outputs and run profile, before the metrics file is
 * written.  MLOPS_EIO / MLOPS_EINPUT from reading and writing (a row
 * past the allowance of bad rows, a --keep column missing or named like
 * an output column), MLOPS_EUSAGE for a shard of a stream that cannot be
 * sharded, the registry's statuses from recording.  Prints nothing but
 * the progress line.
 */
int batch_score(const struct model *m, const struct batch_opts *o,
		struct repo *repo, const struct runrec *rl,
		struct batch_result *r, struct mlops_err *err);

/* Free r->unseen and zero *r; accepts NULL and a zeroed result. */
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

/*
 * Batch scoring (see batch.h): a score stream into an output file, with
 * the reject file, the metrics file, the run profile and the run record.
 *
 * Memory is bounded by one block of rows per slot: score_stream_run()
 * parses, encodes and predicts chunks on worker threads, and on_block
 * (sb_block) formats each block's rows into its slot's buffer and adds
 * them to its slot's profile; on_done (sb_done), called once per chunk
 * in input order, appends the buffer to the output, hashes it, and
 * merges the slot's profile into the run's.  A callback touches only its
 * slot, but for on_done, which the stream calls one at a time.  The
 * profile is accumulated with or without a repository, as score-batch
 * always did; only a repository records it (runrec.h has its format).
 *
 * Nothing is left half-written: the output and the reject file are
 * atomic files committed only after the whole stream succeeded, and the
 * metrics file is written last, after the run is recorded.  This job
 * never prints (but for the progress line) and never exits: warnings
 * (unseen categories, skipped rows) and the --json report are the
 * command's, from struct batch_result.  It does not load the model nor
 * parse options: the command resolves MODEL and hands it over.
 */

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "batch.h"
#include "csv.h"
#include "drift.h"
#include "model.h"
#include "modelref.h"
#include "progress.h"
#include "registry.h"
#include "runrec.h"
#include "score.h"
#include "sha256.h"
#include "xalloc.h"

/* Per-chunk state: the chunk's output rows and input profile. */
struct sb_slot {
	char *buf;
	size_t len, cap;
	struct drift_set prof;
};

/* One run of the job. */
struct sb_run {
	const struct model *m;
	const struct modelref_info *info;	/* what the model is */
	const struct batch_opts *o;
	struct score_stream *ss;
	size_t *cols, n_keep;		/* the kept input columns */
	struct atomic_file out;		/* the output */
	struct atomic_file rejects;
	struct sha256_ctx out_hash;	/* of the bytes written to out */
	struct sb_slot *slots;
	size_t n_slots;
	struct drift_set prof;		/* the whole run */
	int have_prof;
	struct progress progress;
};

/* Append row i of b to the slot's output. */
static void write_row(struct sb_slot *sl, const struct model *m,
		      const struct score_block *b, size_t i, size_t n_keep)
{
	size_t k, w = score_width(m), need = 2 + 34 * (w + 1);
	const double *p = b->pred + i * w;
	const char *label = m->task == TASK_REGRESSION ? "" :
			    m->classes[score_argmax(m, p)];
	char *d;

	need += 2 * strlen(label) + 3;
	for (k = 0; k < n_keep; k++)
		need += 2 * strlen(b->extra[i * n_keep + k]) + 3;
	XGROW(sl->buf, sl->cap, sl->len + need);
	d = sl->buf + sl->len;
	for (k = 0; k < n_keep; k++) {
		const char *v = b->extra[i * n_keep + k];

		d += csv_put_field(d, v, strlen(v));
		*d++ = ',';
	}
	if (m->task == TASK_REGRESSION) {
		d += csv_format_double(d, p[0]);
	} else {
		d += csv_put_field(d, label, strlen(label));
		if (m->task == TASK_BINARY) {
			*d++ = ',';
			d += csv_format_double(d, 1 - p[0]);
		}
		for (k = 0; k < w; k++) {
			*d++ = ',';
			d += csv_format_double(d, p[k]);
		}
	}
	*d++ = '\n';
	sl->len = (size_t)(d - sl->buf);
}

static int sb_block(void *arg, size_t slot, const struct score_block *b,
		    struct mlops_err *err)
{
	struct sb_run *run = arg;
	struct sb_slot *sl = &run->slots[slot];
	size_t i;

	(void)err;
	for (i = 0; i < b->n; i++)
		write_row(sl, run->m, b, i, run->n_keep);
	drift_set_add(&sl->prof, b);
	return 0;
}

static int sb_done(void *arg, size_t slot, struct mlops_err *err)
{
	struct sb_run *run = arg;
	struct sb_slot *sl = &run->slots[slot];

	if (sl->len && fwrite(sl->buf, 1, sl->len, run->out.fp) != sl->len)
		return err_set(err, MLOPS_EIO, "cannot write '%s': %s",
			       run->o->output, strerror(errno));
	sha256_update(&run->out_hash, sl->buf, sl->len);
	sl->len = 0;
	atomic_writeback(&run->out);
	drift_set_merge(&run->prof, &sl->prof);
	drift_set_clear(&sl->prof);
	progress_update(&run->progress, score_stream_rows(run->ss),
			score_stream_raw_bytes(run->ss));
	return 0;
}

int batch_parse_shard(const char *s, unsigned *index, unsigned *count,
		      struct mlops_err *err)
{
	const char *idx = NULL, *cnt = NULL, *min = NULL;
	char *end;
	unsigned long i, n, base = 0;

	if (!strcmp(s, "auto")) {
		if (getenv("MLOPS_SHARD_INDEX")) {
			idx = getenv("MLOPS_SHARD_INDEX");
			cnt = getenv("MLOPS_SHARD_COUNT");
		} else if (getenv("JOB_COMPLETION_INDEX")) {
			idx = getenv("JOB_COMPLETION_INDEX");
			cnt = getenv("MLOPS_SHARD_COUNT");
		} else if (getenv("SLURM_ARRAY_TASK_ID")) {
			idx = getenv("SLURM_ARRAY_TASK_ID");
			cnt = getenv("SLURM_ARRAY_TASK_COUNT");
			min = getenv("SLURM_ARRAY_TASK_MIN");
		} else {
			return err_set(err, MLOPS_EUSAGE,
				       "--shard auto: none of MLOPS_SHARD_INDEX, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID is set");
		}
		if (!cnt)
			return err_set(err, MLOPS_EUSAGE,
				       "--shard auto: set MLOPS_SHARD_COUNT to the number of shards");
		if (min) {
			base = strtoul(min, &end, 10);
			if (*end)
				base = 0;
		}
		errno = 0;
		i = strtoul(idx, &end, 10);
		if (*end || errno || !*idx)
			return err_set(err, MLOPS_EUSAGE, "--shard auto: bad shard index '%s'", idx);
		n = strtoul(cnt, &end, 10);
		if (*end || errno || !*cnt)
			return err_set(err, MLOPS_EUSAGE, "--shard auto: bad shard count '%s'", cnt);
		i -= base;
	} else {
		errno = 0;
		i = strtoul(s, &end, 10);
		if (end == s || *end != '/' || errno)
			return err_set(err, MLOPS_EUSAGE, "--shard expects I/N or auto, got '%s'", s);
		n = strtoul(end + 1, &end, 10);
		if (*end || errno)
			return err_set(err, MLOPS_EUSAGE, "--shard expects I/N or auto, got '%s'", s);
	}
	if (n < 1 || n > 100000 || i >= n)
		return err_set(err, MLOPS_EUSAGE,
			       "--shard: index %lu is not in 0..%lu", i, n ? n - 1 : 0);
	*index = (unsigned)i;
	*count = (unsigned)n;
	return 0;
}

/*
 * A kept input column named like an output column ("prediction",
 * "proba_CLASS") would give the output two columns of that name, and
 * a reader would take the wrong one: refused, naming both.
 */
static int check_kept_names(const struct model *m,
			    const struct score_stream *ss, const size_t *keep,
			    size_t n_keep, struct mlops_err *err)
{
	size_t i, k;

	for (i = 0; i < n_keep; i++) {
		const char *name = score_stream_column(ss, keep[i]);
		int clash = !strcmp(name, "prediction");

		for (k = 0; !clash && m->task != TASK_REGRESSION &&
		     k < m->n_classes; k++)
			clash = !strncmp(name, "proba_", 6) &&
				!strcmp(name + 6, m->classes[k]);
		if (clash)
			return err_set(err, MLOPS_EINPUT,
				       "'%s' column %zu ('%s') has the name of an output column; "
				       "rename it in the input, or keep other columns with --keep",
				       score_stream_name(ss), keep[i] + 1, name);
	}
	return 0;
}

static void write_header(FILE *fp, const struct model *m,
			 const struct score_stream *ss, const size_t *keep,
			 size_t n_keep)
{
	size_t k;

	for (k = 0; k < n_keep; k++) {
		const char *name = score_stream_column(ss, keep[k]);

		csv_write_field(fp, name, strlen(name));
		fputc(',', fp);
	}
	fputs("prediction", fp);
	for (k = 0; m->task != TASK_REGRESSION && k < m->n_classes; k++) {
		char *name = xasprintf("proba_%s", m->classes[k]);

		fputc(',', fp);
		csv_write_field(fp, name, strlen(name));
		free(name);
	}
	fputc('\n', fp);
}

/* The Prometheus text of --metrics-file; the caller frees it. */
static char *metrics_text_of(const char *model, int version, uint64_t rows,
			     uint64_t rejected, double seconds)
{
	char labels[512];

	if (model)
		snprintf(labels, sizeof(labels), "{model=\"%s\",version=\"%d\"}",
			 model, version);
	else
		snprintf(labels, sizeof(labels), "{model=\"file\"}");
	return xasprintf(
		"# HELP mlops_score_rows Rows scored by the last successful run.\n"
		"# TYPE mlops_score_rows gauge\n"
		"mlops_score_rows%s %llu\n"
		"# HELP mlops_score_rejected_rows Rows rejected by the last successful run.\n"
		"# TYPE mlops_score_rejected_rows gauge\n"
		"mlops_score_rejected_rows%s %llu\n"
		"# HELP mlops_score_duration_seconds Duration of the last successful run.\n"
		"# TYPE mlops_score_duration_seconds gauge\n"
		"mlops_score_duration_seconds%s %.3f\n"
		"# HELP mlops_score_last_success_timestamp_seconds When the last successful run ended.\n"
		"# TYPE mlops_score_last_success_timestamp_seconds gauge\n"
		"mlops_score_last_success_timestamp_seconds%s %lld\n",
		labels, (unsigned long long)rows, labels,
		(unsigned long long)rejected, labels, seconds, labels,
		(long long)time(NULL));
}

static int write_metrics_file(const char *path, const char *text,
			      struct mlops_err *err)
{
	struct atomic_file af;
	int ret;

	if ((ret = atomic_open(&af, path, err)))
		return ret;
	fputs(text, af.fp);
	return atomic_commit(&af, err);
}

/* The runs.metrics JSON of a score-batch run; the caller frees it. */
static char *metrics_json(const struct batch_result *r)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *copy;

	cJSON_AddNumberToObject(o, "rows", (double)r->rows);
	cJSON_AddNumberToObject(o, "rejected", (double)r->rejected);
	text = cJSON_PrintUnformatted(o);
	copy = xstrdup(text);
	cJSON_free(text);
	cJSON_Delete(o);
	return copy;
}

/* The header row, written and hashed. */
static int put_header(struct sb_run *run, struct mlops_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return err_set(err, MLOPS_EIO, "cannot write '%s': %s",
			       run->o->output, strerror(errno));
	write_header(mem, run->m, run->ss, run->cols, run->n_keep);
	fclose(mem);
	fwrite(text, 1, len, run->out.fp);
	sha256_update(&run->out_hash, text, len);
	free(text);
	return 0;
}

/*
 * Open the stream, find the kept columns, open the reject file and the
 * output, write the header: all that can fail before a row is read.
 */
static int sb_open(struct sb_run *run, struct mlops_err *err)
{
	const struct batch_opts *o = run->o;
	size_t i;
	int ret;

	if ((ret = score_stream_open(run->m, o->input, &o->stream, &run->ss,
				     err)))
		return ret;
	if (o->keep_all) {
		run->n_keep = score_stream_n_columns(run->ss);
		run->cols = xcalloc(run->n_keep + 1, sizeof(size_t));
		for (i = 0; i < run->n_keep; i++)
			run->cols[i] = i;
	} else {
		run->cols = xcalloc(o->n_keep + 1, sizeof(size_t));
		for (i = 0; i < o->n_keep; i++)
			if ((ret = score_stream_lookup(run->ss, o->keep[i],
						       "--keep",
						       &run->cols[run->n_keep++],
						       err)))
				return ret;
	}
	if ((ret = check_kept_names(run->m, run->ss, run->cols, run->n_keep,
				    err)))
		return ret;
	score_stream_set_extra(run->ss, run->cols, run->n_keep);
	if (o->reject_path &&
	    (ret = atomic_open(&run->rejects, o->reject_path, err)))
		return ret;
	if (o->reject_path)
		fputs("line,reason,record\n", run->rejects.fp);
	score_stream_set_rejects(run->ss, o->max_errors,
				 o->reject_path ? run->rejects.fp : NULL);
	if ((ret = atomic_open(&run->out, o->output, err)))
		return ret;
	sha256_init(&run->out_hash);
	/* Shards after the first leave the header out, so they concatenate. */
	if (o->stream.shard_count <= 1 || o->stream.shard_index == 0)
		return put_header(run, err);
	return 0;
}

/* Score every row, in slots, into the output and the run's profile. */
static int sb_stream(struct sb_run *run, struct mlops_err *err)
{
	size_t i;
	int ret;

	run->n_slots = score_stream_slots(run->ss);
	run->slots = xcalloc(run->n_slots, sizeof(*run->slots));
	drift_set_init(&run->prof, run->m, NULL, NULL);
	run->have_prof = 1;
	for (i = 0; i < run->n_slots; i++)
		drift_set_init_like(&run->slots[i].prof, &run->prof);
	progress_start(&run->progress, run->o->progress, "scored",
		       run->o->input);
	ret = score_stream_run(run->ss, sb_block, sb_done, run, err);
	progress_end(&run->progress);
	return ret;
}

/* Commit the output and the reject file; the counts and hashes into r. */
static int sb_commit(struct sb_run *run, struct batch_result *r,
		     struct mlops_err *err)
{
	const struct batch_opts *o = run->o;
	unsigned char digest[32];
	size_t j;
	int ret;

	if (ferror(run->out.fp))
		return err_set(err, MLOPS_EIO, "cannot write '%s'", o->output);
	if ((ret = atomic_commit(&run->out, err)))
		return ret;
	if (o->reject_path && (ret = atomic_commit(&run->rejects, err)))
		return ret;
	sha256_final(&run->out_hash, digest);
	sha256_to_hex(digest, r->output_sha256);
	r->rows = score_stream_rows(run->ss);
	r->rejected = score_stream_rejected(run->ss);
	r->n_features = run->m->n_features;
	r->unseen = xcalloc(r->n_features + 1, sizeof(uint64_t));
	for (j = 0; j < r->n_features; j++)
		r->unseen[j] = score_stream_unseen(run->ss, j);
	score_stream_sha256(run->ss, r->input_sha256);
	r->scored = 1;
	return 0;
}

/*
 * Record the run with what it read and wrote and its profile (with a
 * repository), then write the metrics file, whose text (with the
 * duration so far) is made first so that the run records its hash.
 */
static int sb_record(struct sb_run *run, struct repo *repo,
		     const struct runrec *rl, struct batch_result *r,
		     struct mlops_err *err)
{
	const struct batch_opts *o = run->o;
	struct runrec_input in = {
		"input", o->input, r->input_sha256, (long long)r->rows,
		(long long)r->rejected, o->output
	};
	struct reg_run_output outs[3];
	struct reg_run rec = { 0 };
	char reject_sha[65] = "", prom_sha[65], *prom_text = NULL;
	char *profile_text = NULL, *inputs_text = NULL, *metrics_text = NULL;
	size_t n_outs = 0;
	int ret = 0;

	outs[n_outs].role = "predictions";
	outs[n_outs].path = o->output;
	outs[n_outs].sha256 = r->output_sha256;
	outs[n_outs++].rows = (long long)r->rows;
	/* The rejects, read back: a pipe or stdout records no hash. */
	if (o->reject_path &&
	    !runrec_hash_file(o->reject_path, reject_sha, NULL)) {
		outs[n_outs].role = "rejects";
		outs[n_outs].path = o->reject_path;
		outs[n_outs].sha256 = reject_sha;
		outs[n_outs++].rows = (long long)r->rejected;
	}
	if (o->metrics_path) {
		prom_text = metrics_text_of(run->info->name,
					    run->info->version, r->rows,
					    r->rejected, runrec_elapsed(rl));
		sha256_hex(prom_text, strlen(prom_text), prom_sha);
		outs[n_outs].role = "metrics";
		outs[n_outs].path = o->metrics_path;
		outs[n_outs].sha256 = prom_sha;
		outs[n_outs++].rows = -1;
	}
	if (repo) {
		profile_text = runrec_profile_json(&run->prof);
		inputs_text = runrec_inputs_json(&in, 1);
		metrics_text = metrics_json(r);
		rec.kind = "score-batch";
		rec.model = run->info->name;
		rec.version = run->info->version;
		rec.exit_status = 0;
		rec.passed = -1;
		rec.inputs_json = inputs_text;
		rec.metrics_json = metrics_text;
		rec.profile_json = profile_text;
		rec.artifact_sha256 = run->info->sha256;
		rec.outputs = outs;
		rec.n_outputs = n_outs;
		ret = runrec_record(repo, rl, &rec, &r->run_id, err);
	}
	if (!ret && o->metrics_path)
		ret = write_metrics_file(o->metrics_path, prom_text, err);
	free(profile_text);
	free(inputs_text);
	free(metrics_text);
	free(prom_text);
	return ret;
}

static void sb_release(struct sb_run *run)
{
	size_t i;

	for (i = 0; run->slots && i < run->n_slots; i++) {
		free(run->slots[i].buf);
		drift_set_release(&run->slots[i].prof);
	}
	free(run->slots);
	if (run->have_prof)
		drift_set_release(&run->prof);
	score_stream_close(run->ss);
	free(run->cols);
}

/*
 * The options checked after the model loads, in the order the command
 * always checked them: --threads, the CSV dialect, the shard.
 */
static int check_opts(const struct batch_opts *o,
		      struct score_stream_opts *stream, struct mlops_err *err)
{
	int ret;

	*stream = o->stream;
	if (stream->threads > 1024)	/* a negative count wrapped, too */
		return err_set(err, MLOPS_EUSAGE,
			       "--threads must be between 1 and 1024");
	stream->csv.delimiter = ',';
	stream->csv.encoding = CSV_UTF8;
	stream->shard_index = 0;
	stream->shard_count = 0;
	if ((o->delimiter &&
	     (ret = csv_parse_delimiter(o->delimiter, &stream->csv.delimiter,
					err))) ||
	    (o->encoding &&
	     (ret = csv_parse_encoding(o->encoding, &stream->csv.encoding,
				       err))) ||
	    (o->shard &&
	     (ret = batch_parse_shard(o->shard, &stream->shard_index,
				      &stream->shard_count, err))))
		return ret;
	return 0;
}

int batch_score(const struct batch_opts *o, struct repo *repo,
		struct batch_result *r, struct mlops_err *err)
{
	struct batch_opts checked = *o;
	struct runrec rl;
	struct sb_run run;
	int ret;

	memset(r, 0, sizeof(*r));
	memset(&run, 0, sizeof(run));
	runrec_start(&rl);
	if ((ret = modelref_load(repo, o->model, &r->model, &r->info, err)) ||
	    (ret = check_opts(o, &checked.stream, err)))
		return ret;
	run.m = r->model;
	run.info = &r->info;
	run.o = &checked;
	if (!(ret = sb_open(&run, err)) && !(ret = sb_stream(&run, err)) &&
	    !(ret = sb_commit(&run, r, err)))
		ret = sb_record(&run, repo, &rl, r, err);
	if (ret) {
		atomic_abort(&run.out);
		atomic_abort(&run.rejects);
	}
	sb_release(&run);
	r->seconds = runrec_elapsed(&rl);
	return ret;
}

void batch_result_release(struct batch_result *r)
{
	if (!r)
		return;
	free(r->unseen);
	model_free(r->model);
	modelref_info_release(&r->info);
	memset(r, 0, sizeof(*r));
}

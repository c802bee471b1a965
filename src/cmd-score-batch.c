/*
 * mlops score-batch: score a CSV with a model and write the predictions.
 *
 * Built for cron: silent on success, one stderr line and a non-zero exit
 * on failure, and never a half-written output file (the output, the
 * reject file and the metrics file are each replaced atomically, and only
 * when the run succeeds).  Memory is bounded by one block of rows.  With
 * a repository, the run is recorded with a profile of the inputs and the
 * predictions on the model's baseline grid, for `drift --runs`.
 */

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "cmd.h"
#include "csv.h"
#include "drift.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "progress.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "score.h"
#include "sha256.h"
#include "xalloc.h"

static const char *const synopsis[] = {
	"mlops score-batch MODEL -i FILE|- -o FILE|- [--keep COLS | --keep-all]",
	"[--threads N] [--shard I/N|auto] [--max-errors N] [--reject-file FILE]",
	"[--metrics-file FILE] [--na-values TOKENS] [--delimiter CHAR] [--encoding ENC]",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops score-batch churn@production -i customers.csv -o scores.csv --keep id\n"
	"  mlops score-batch churn:3 -i week.csv.gz -o - --keep-all | head\n"
	"  mlops score-batch model.json -i in.csv -o out.csv --max-errors 100 --reject-file bad.csv\n"
	"  mlops -C /srv/churn score-batch churn@production -i in.csv -o out.csv --metrics-file /var/lib/node_exporter/churn.prom\n"
	"  mlops score-batch churn@production -i big.csv -o part-$JOB_COMPLETION_INDEX.csv --shard auto\n",
	"Score a CSV file with a model and write one prediction per row."
};

/* JSON for one accumulator: enough to rebuild it for drift --runs. */
static cJSON *acc_json(const struct drift_acc *a)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t k;

	cJSON_AddNumberToObject(o, "count", (double)a->count);
	cJSON_AddNumberToObject(o, "missing", (double)a->missing);
	if (a->count) {
		cJSON_AddNumberToObject(o, "mean", a->sum / (double)a->count);
		cJSON_AddNumberToObject(o, "min", a->min);
		cJSON_AddNumberToObject(o, "max", a->max);
	}
	if (a->le) {
		/* One count per grid position: n_grid + 1 (see drift.c). */
		arr = cJSON_CreateArray();
		for (k = 0; k <= a->n_grid; k++)
			cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)a->le[k]));
		cJSON_AddItemToObject(o, "le", arr);
		arr = cJSON_CreateArray();
		for (k = 0; k <= a->n_grid; k++)
			cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)a->lt[k]));
		cJSON_AddItemToObject(o, "lt", arr);
		if (a->insum) {
			arr = cJSON_CreateArray();
			for (k = 0; k <= a->n_grid; k++)
				cJSON_AddItemToArray(arr, cJSON_CreateNumber(a->insum[k]));
			cJSON_AddItemToObject(o, "insum", arr);
		}
		cJSON_AddNumberToObject(o, "below", a->below);
		cJSON_AddNumberToObject(o, "above", a->above);
		cJSON_AddNumberToObject(o, "sumsq", a->sumsq);
	}
	if (a->levels) {
		arr = cJSON_CreateArray();
		for (k = 0; k <= a->ref->n_levels; k++)
			cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)a->levels[k]));
		cJSON_AddItemToObject(o, "levels", arr);
	}
	return o;
}

/* Per-chunk state: the chunk's output rows and input profile. */
struct sb_slot {
	char *buf;
	size_t len, cap;
	struct drift_set prof;
};

struct sb_run {
	const struct model *m;
	struct sb_slot *slots;
	size_t n_keep;
	struct atomic_file *af;		/* the output */
	struct sha256_ctx out_hash;	/* of the bytes written to it */
	struct drift_set prof;		/* the whole run */
	const char *output;
	struct score_stream *ss;
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

	if (sl->len && fwrite(sl->buf, 1, sl->len, run->af->fp) != sl->len)
		return err_set(err, MLOPS_EIO, "cannot write '%s': %s",
			       run->output, strerror(errno));
	sha256_update(&run->out_hash, sl->buf, sl->len);
	sl->len = 0;
	atomic_writeback(run->af);
	drift_set_merge(&run->prof, &sl->prof);
	drift_set_clear(&sl->prof);
	progress_update(&run->progress, score_stream_rows(run->ss),
			score_stream_raw_bytes(run->ss));
	return 0;
}

/* Parse --shard I/N or auto (from the job scheduler's environment). */
static int parse_shard(const char *s, unsigned *index, unsigned *count,
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

/* The header row, written and hashed. */
static int put_header(struct sb_run *sr, const struct score_stream *ss,
		      const size_t *keep, size_t n_keep,
		      struct mlops_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return err_set(err, MLOPS_EIO, "cannot write '%s': %s",
			       sr->output, strerror(errno));
	write_header(mem, sr->m, ss, keep, n_keep);
	fclose(mem);
	fwrite(text, 1, len, sr->af->fp);
	sha256_update(&sr->out_hash, text, len);
	free(text);
	return 0;
}

int cmd_score_batch(int argc, char **argv, struct cmd_ctx *ctx,
		    struct mlops_err *err)
{
	const char *input = NULL, *output = NULL, *reject_path = NULL;
	const char *metrics_path = NULL;
	struct opt_list keep = { 0 }, na = { 0 };
	int keep_all = 0;
	long max_errors = 0, threads = 0;
	const char *shard = NULL;
	struct cmd_csv csv = { 0 };
	struct opt opts[] = {
		OPT_STRING('i', "input", &input, "FILE", "CSV to score (gzip/zstd/xz detected), or - for stdin"),
		OPT_STRING('o', "output", &output, "FILE", "where to write the predictions, or - for stdout"),
		OPT_CSV(0, "keep", &keep, "COLS", "copy these input columns into the output (e.g. an id)"),
		OPT_BOOL(0, "keep-all", &keep_all, "copy every input column into the output"),
		OPT_INT(0, "threads", &threads, "N", "threads to score with (default: online CPUs)"),
		OPT_STRING(0, "shard", &shard, "I/N|auto", "score only shard I (0-based) of N of a plain file"),
		OPT_INT(0, "max-errors", &max_errors, "N", "skip up to N bad rows instead of stopping (default 0)"),
		OPT_STRING(0, "reject-file", &reject_path, "FILE", "write skipped rows with their reason here"),
		OPT_STRING(0, "metrics-file", &metrics_path, "FILE", "write Prometheus metrics here on success"),
		OPT_CSV(0, "na-values", &na, "TOKENS", "also read these values as missing (besides the model's)"),
		OPT_CSV_READ(&csv),
		OPT_END()
	};
	struct atomic_file out = { 0 }, rejects = { 0 };
	struct score_stream *ss = NULL;
	struct score_stream_opts so = { 0 };
	struct model *m = NULL;
	struct sb_run sr = { 0 };
	size_t n_slots = 0;
	struct runrec rl;
	struct reg_run run = { 0 };
	size_t *cols = NULL, n_keep = 0, i, j, nf = 0;
	int have_prof = 0;
	struct modelref_info info = { 0 };
	const char *name = NULL;
	char sha[65], *profile_text = NULL, *inputs_text = NULL;
	char *metrics_text = NULL, *prom_text = NULL;
	char out_sha[65], reject_sha[65] = "", prom_sha[65];
	unsigned char digest[32];
	struct reg_run_output outs[3];
	size_t n_outs = 0;
	int n_args, ret, version = 0;
	long long run_id;

	runrec_start(&rl);
	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		goto out;
	if (n_args != 1 || !input || !output) {
		ret = err_set(err, MLOPS_EUSAGE,
			      n_args > 1 ? "expected one MODEL, got %d arguments" :
			      "MODEL, -i and -o are required (see 'mlops score-batch --help')",
			      n_args);
		goto out;
	}
	if (keep_all && keep.n) {
		ret = err_set(err, MLOPS_EUSAGE, "--keep and --keep-all cannot be used together");
		goto out;
	}
	if (max_errors < 0) {
		ret = err_set(err, MLOPS_EUSAGE, "--max-errors must not be negative");
		goto out;
	}
	if (!strcmp(output, "-") && ctx->json) {
		ret = err_set(err, MLOPS_EUSAGE, "--json needs stdout; write the predictions to a file with -o");
		goto out;
	}
	if ((ret = modelref_load(ctx->repo, argv[0], &m, &info, err)))
		goto out;
	name = info.name;
	version = info.version;
	if (threads < 0 || threads > 1024) {
		ret = err_set(err, MLOPS_EUSAGE, "--threads must be between 1 and 1024");
		goto out;
	}
	so.threads = (size_t)threads;
	if ((ret = cmd_csv_opts(&csv, &so.csv, err)))
		goto out;
	so.na_values = na.items;
	so.n_na_values = na.n;
	if (shard && (ret = parse_shard(shard, &so.shard_index, &so.shard_count, err)))
		goto out;
	if ((ret = score_stream_open(m, input, &so, &ss, err)))
		goto out;
	if (keep_all) {
		n_keep = score_stream_n_columns(ss);
		cols = xcalloc(n_keep + 1, sizeof(size_t));
		for (i = 0; i < n_keep; i++)
			cols[i] = i;
	} else {
		cols = xcalloc(keep.n + 1, sizeof(size_t));
		for (i = 0; i < keep.n; i++)
			if ((ret = score_stream_lookup(ss, keep.items[i],
						       "--keep",
						       &cols[n_keep++], err)))
				goto out;
	}
	if ((ret = check_kept_names(m, ss, cols, n_keep, err)))
		goto out;
	score_stream_set_extra(ss, cols, n_keep);
	if (reject_path && (ret = atomic_open(&rejects, reject_path, err)))
		goto out;
	if (reject_path)
		fputs("line,reason,record\n", rejects.fp);
	score_stream_set_rejects(ss, (uint64_t)max_errors,
				 reject_path ? rejects.fp : NULL);
	if ((ret = atomic_open(&out, output, err)))
		goto out;
	nf = m->n_features;
	n_slots = score_stream_slots(ss);
	sr.m = m;
	sr.n_keep = n_keep;
	sr.af = &out;
	sr.output = output;
	sha256_init(&sr.out_hash);
	/* Shards after the first leave the header out, so they concatenate. */
	if ((so.shard_count <= 1 || so.shard_index == 0) &&
	    (ret = put_header(&sr, ss, cols, n_keep, err)))
		goto out;
	sr.slots = xcalloc(n_slots, sizeof(*sr.slots));
	drift_set_init(&sr.prof, m, NULL, NULL);
	have_prof = 1;
	for (i = 0; i < n_slots; i++)
		drift_set_init_like(&sr.slots[i].prof, &sr.prof);
	sr.ss = ss;
	progress_start(&sr.progress, ctx->progress, "scored", input);
	ret = score_stream_run(ss, sb_block, sb_done, &sr, err);
	progress_end(&sr.progress);
	if (ret)
		goto out;
	if (ferror(out.fp)) {
		ret = err_set(err, MLOPS_EIO, "cannot write '%s'", output);
		goto out;
	}
	if ((ret = atomic_commit(&out, err)))
		goto out;
	if (reject_path && (ret = atomic_commit(&rejects, err)))
		goto out;
	sha256_final(&sr.out_hash, digest);
	sha256_to_hex(digest, out_sha);
	outs[n_outs].role = "predictions";
	outs[n_outs].path = output;
	outs[n_outs].sha256 = out_sha;
	outs[n_outs++].rows = (long long)score_stream_rows(ss);
	/* The rejects, read back: a pipe or stdout records no hash. */
	if (reject_path && !runrec_hash_file(reject_path, reject_sha, NULL)) {
		outs[n_outs].role = "rejects";
		outs[n_outs].path = reject_path;
		outs[n_outs].sha256 = reject_sha;
		outs[n_outs++].rows = (long long)score_stream_rejected(ss);
	}
	if (metrics_path) {
		prom_text = metrics_text_of(name, version,
					    score_stream_rows(ss),
					    score_stream_rejected(ss),
					    runrec_elapsed(&rl));
		sha256_hex(prom_text, strlen(prom_text), prom_sha);
		outs[n_outs].role = "metrics";
		outs[n_outs].path = metrics_path;
		outs[n_outs].sha256 = prom_sha;
		outs[n_outs++].rows = -1;
	}
	for (j = 0; j < nf && !ctx->quiet; j++) {
		uint64_t u = score_stream_unseen(ss, j);

		if (u)
			err_warn("mlops score-batch: warning: %llu value%s of '%s' %s categories never seen in training (scored as all-zero)",
				(unsigned long long)u, u == 1 ? "" : "s",
				m->features[j].name, u == 1 ? "was a" : "were");
	}
	if (score_stream_rejected(ss) && !ctx->quiet)
		err_warn("mlops score-batch: warning: skipped %llu bad row%s%s%s",
			(unsigned long long)score_stream_rejected(ss),
			score_stream_rejected(ss) == 1 ? "" : "s",
			reject_path ? "; see " : "", reject_path ? reject_path : "");

	score_stream_sha256(ss, sha);
	if (ctx->repo) {
		cJSON *o = cJSON_CreateObject(), *f = cJSON_CreateObject(), *in;

		for (j = 0; j < nf; j++)
			cJSON_AddItemToObject(f, m->features[j].name,
					      acc_json(&sr.prof.features[j]));
		cJSON_AddItemToObject(o, "features", f);
		cJSON_AddItemToObject(o, "prediction", acc_json(&sr.prof.pred));
		profile_text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		o = cJSON_CreateArray();
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "role", "input");
		cJSON_AddStringToObject(in, "path", input);
		cJSON_AddStringToObject(in, "sha256", sha);
		cJSON_AddNumberToObject(in, "rows", (double)score_stream_rows(ss));
		cJSON_AddNumberToObject(in, "rejected", (double)score_stream_rejected(ss));
		cJSON_AddStringToObject(in, "output", output);
		cJSON_AddItemToArray(o, in);
		inputs_text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "rows", (double)score_stream_rows(ss));
		cJSON_AddNumberToObject(o, "rejected", (double)score_stream_rejected(ss));
		metrics_text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		run.kind = "score-batch";
		run.model = name;
		run.version = version;
		run.exit_status = 0;
		run.passed = -1;
		run.inputs_json = inputs_text;
		run.metrics_json = metrics_text;
		run.profile_json = profile_text;
		run.artifact_sha256 = info.sha256;
		run.outputs = outs;
		run.n_outputs = n_outs;
		if ((ret = runrec_record(ctx->repo, &rl, &run, &run_id, err)))
			goto out;
	}
	if (metrics_path &&
	    (ret = write_metrics_file(metrics_path, prom_text, err)))
		goto out;
	if (ctx->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "schema", 1);
		if (name) {
			cJSON_AddStringToObject(o, "model", name);
			cJSON_AddNumberToObject(o, "version", version);
		}
		cJSON_AddStringToObject(o, "input", input);
		cJSON_AddStringToObject(o, "input_sha256", sha);
		cJSON_AddStringToObject(o, "output", output);
		cJSON_AddStringToObject(o, "output_sha256", out_sha);
		cJSON_AddNumberToObject(o, "rows", (double)score_stream_rows(ss));
		cJSON_AddNumberToObject(o, "rejected", (double)score_stream_rejected(ss));
		cJSON_AddNumberToObject(o, "seconds", runrec_elapsed(&rl));
		cmd_print_json(o);
	}
	ret = 0;
out:
	if (ret) {
		atomic_abort(&out);
		atomic_abort(&rejects);
	}
	for (i = 0; sr.slots && i < n_slots; i++) {
		free(sr.slots[i].buf);
		drift_set_release(&sr.slots[i].prof);
	}
	free(sr.slots);
	if (have_prof)
		drift_set_release(&sr.prof);
	score_stream_close(ss);
	model_free(m);
	modelref_info_release(&info);
	free(cols);
	cJSON_free(profile_text);
	cJSON_free(inputs_text);
	cJSON_free(metrics_text);
	free(prom_text);
	opt_list_release(&keep);
	opt_list_release(&na);
	return ret;
}

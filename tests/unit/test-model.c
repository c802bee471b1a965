/*
 * The artefact: a trained model survives model_to_bytes/model_from_bytes
 * bit for bit (same predictions, same bytes when written again) for each
 * task, and every kind of damage -- an edited digit, truncation, a wrong
 * format name, a non-finite number, a dimension mismatch, a wrong type,
 * a missing member -- is MLOPS_ECORRUPT with a message, never a crash.
 * Edits that should get past the checksum rebuild it the way model.c
 * does: SHA-256 over the body ending in "\n}".
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "model.h"
#include "predict.h"
#include "sha256.h"
#include "train.h"
#include "xalloc.h"
#include "tap.h"

#define CHECKSUM_HEAD ",\n\t\"checksum\":\t\"sha256:"

static char tmpdir[] = "/tmp/test-model.XXXXXX";

/* ---- data ---- */

static uint64_t rng_state = 42;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double rng_uniform(void)
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
}

/*
 * A small table with two numeric columns (one with missing values), a
 * categorical one (with missing values) and three targets: binary,
 * three classes, and a number.
 */
static char *write_csv(void)
{
	static const char *const cities[] = { "Paris", "Lyon", "Nice" };
	static const char *const kinds[] = { "a", "b", "c" };
	char *path = xasprintf("%s/data.csv", tmpdir);
	FILE *fp = fopen(path, "w");
	int i;

	if (!fp) {
		perror(path);
		exit(99);
	}
	fprintf(fp, "x1,x2,city,y,kind,value\n");
	for (i = 0; i < 120; i++) {
		double x1 = rng_normal(), x2 = 3 + 2 * rng_normal();
		int c = (int)(rng_next() % 3);
		double z = 1.5 * x1 - 0.5 * (x2 - 3) + (c == 1) + rng_normal();

		fprintf(fp, "%.6f,", x1);
		if (i % 7 == 3)
			fprintf(fp, ",");
		else
			fprintf(fp, "%.6f,", x2);
		fprintf(fp, "%s,%d,%s,%.6f\n", i % 11 == 5 ? "" : cities[c],
			z > 0, kinds[z < -1 ? 0 : z < 1 ? 1 : 2],
			2 * x1 + 0.1 * rng_normal());
	}
	if (fclose(fp)) {
		perror(path);
		exit(99);
	}
	return path;
}

static struct model *train(struct dataset *ds, const char *target,
			   int algo)
{
	static const char *const feats[] = { "x1", "x2", "city" };
	struct train_opts o;
	struct train_report rep;
	struct mlops_err err = MLOPS_ERR_INIT;
	struct model *m = NULL;

	train_opts_init(&o);
	o.target = target;
	o.algo = algo;
	o.features = feats;
	o.n_features = 3;
	o.holdout = 0.25;
	if (train_fit(ds, &o, &m, &rep, &err)) {
		printf("# train_fit '%s': %s\n", target, err.msg);
		return NULL;
	}
	train_report_release(&rep);
	m->created_at = xstrdup("2024-05-01T12:00:00Z");
	m->tool_version = xstrdup("test");
	m->data_path = xstrdup("data.csv");
	return m;
}

/* ---- round trip ---- */

/* Design rows: each numeric input any value, each category one-hot. */
/*
 * n rows of inputs by feature (ld n): random numbers, some missing; a
 * random level, or missing every fifth row.
 */
struct rows {
	double *raw;
	int32_t *level;
};

static struct rows input_rows(const struct model *m, size_t n)
{
	struct rows r;
	size_t i, j;

	r.raw = xcalloc(n * m->n_features + 1, sizeof(double));
	r.level = xcalloc(n * m->n_features + 1, sizeof(int32_t));
	for (i = 0; i < n; i++)
		for (j = 0; j < m->n_features; j++) {
			const struct feature *f = &m->features[j];

			if (f->kind == FEATURE_NUMERIC)
				r.raw[j * n + i] = i % 7 == 3 ? NAN :
						   3 * rng_normal();
			else
				r.level[j * n + i] = i % 5 ? (int32_t)
					(rng_next() % f->n_levels) :
					PREDICT_LEVEL_MISSING;
		}
	return r;
}

static double *predict(const struct model *m, const struct rows *r, size_t n)
{
	double *scratch = xcalloc(predict_scratch_len(m, n) + 1, sizeof(double));
	double *out = xcalloc(n * predict_width(m), sizeof(double));
	struct predict_cols in = { n, n, r->raw, r->level, NULL };

	predict_columns(m, &in, scratch, out);
	free(scratch);
	return out;
}

static void test_round_trip(const struct model *m, const char *what)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct model *back = NULL;
	char *bytes = NULL, *again = NULL;
	size_t len = 0, len2 = 0, n = 200;
	struct rows x;
	double *p1, *p2;
	int ret;

	ret = model_to_bytes(m, &bytes, &len, &err);
	is_int(ret, 0, "%s: model_to_bytes", what);
	ok(len == strlen(bytes), "%s: length is the string's", what);
	ret = model_from_bytes(bytes, len, "m.json", &back, &err);
	if (!is_int(ret, 0, "%s: model_from_bytes reads it back", what)) {
		printf("# %s\n", err.msg);
		free(bytes);
		return;
	}
	is_int(back->task, m->task, "%s: task", what);
	is_int(back->algo, m->algo, "%s: algorithm", what);
	is_int((long long)back->n_inputs, (long long)m->n_inputs,
	       "%s: n_inputs", what);
	ok(!memcmp(back->coef, m->coef,
		   m->n_outputs * m->n_inputs * sizeof(double)) &&
	   !memcmp(back->intercept, m->intercept,
		   m->n_outputs * sizeof(double)),
	   "%s: coefficients read back to the same bits", what);
	x = input_rows(m, n);
	p1 = predict(m, &x, n);
	p2 = predict(back, &x, n);
	ok(!memcmp(p1, p2, n * predict_width(m) * sizeof(double)),
	   "%s: predictions are bit-identical after the round trip", what);
	ret = model_to_bytes(back, &again, &len2, &err);
	ok(!ret && len2 == len && !memcmp(bytes, again, len),
	   "%s: writing the loaded model gives the same bytes", what);
	is_str(back->created_at, m->created_at, "%s: created_at", what);
	ok(back->n_metrics == m->n_metrics && back->n_metrics > 0,
	   "%s: holdout metrics kept (%zu)", what, back->n_metrics);
	free(x.raw);
	free(x.level);
	free(p1);
	free(p2);
	free(again);
	free(bytes);
	model_free(back);
}

/* ---- tampering ---- */

/* Rebuild the checksum of an edited artefact, as model_to_bytes does. */
static char *reseal(const char *text)
{
	const char *pos = NULL, *p = text;
	char hex[65], *body, *out;
	size_t n;

	while ((p = strstr(p, CHECKSUM_HEAD)))
		pos = p++;
	if (!pos)
		return xstrdup(text);
	n = (size_t)(pos - text);
	body = xasprintf("%.*s\n}", (int)n, text);
	sha256_hex(body, n + 2, hex);
	out = xasprintf("%.*s" CHECKSUM_HEAD "%s\"\n}\n", (int)n, text, hex);
	free(body);
	return out;
}

/* Replace the first `old` after `after` (or anywhere) with `new`. */
static char *replace(const char *text, const char *after, const char *old,
		     const char *new)
{
	const char *start = after ? strstr(text, after) : text, *hit;

	if (!start || !(hit = strstr(start, old)))
		return NULL;
	return xasprintf("%.*s%s%s", (int)(hit - text), text, new,
			 hit + strlen(old));
}

/*
 * Load `bytes` and expect MLOPS_ECORRUPT; when `needle` is non-NULL the
 * message must contain it.
 */
static void corrupt(const char *what, const char *bytes, size_t len,
		    const char *needle)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct model *m = NULL;
	int ret;

	if (!bytes) {
		ok(0, "%s: edit applied", what);
		return;
	}
	ret = model_from_bytes(bytes, len, "m.json", &m, &err);
	is_int(ret, MLOPS_ECORRUPT, "%s: MLOPS_ECORRUPT", what);
	ok(!m || ret == 0, "%s: no model handed out", what);
	if (!ret)
		model_free(m);
	ok(err.msg[0] != '\0' && strstr(err.msg, "m.json"),
	   "%s: message names the file", what);
	if (needle && !ok(strstr(err.msg, needle) != NULL,
			  "%s: message names '%s'", what, needle))
		printf("# message: %s\n", err.msg);
}

/* Edit, reseal, expect corruption naming `needle`. */
static void corrupt_sealed(const char *what, const char *bytes,
			   const char *after, const char *old,
			   const char *new, const char *needle)
{
	char *edited = replace(bytes, after, old, new);
	char *sealed = edited ? reseal(edited) : NULL;

	corrupt(what, sealed, sealed ? strlen(sealed) : 0, needle);
	free(edited);
	free(sealed);
}

/* The text of the first number in the coefficients (a copy). */
static char *first_coef(const char *bytes)
{
	const char *p = strstr(bytes, "\"coefficients\":"), *e;

	if (!p)
		return NULL;
	p += strcspn(p, "-0123456789");
	e = p + strspn(p, "-+.0123456789eE");
	return xstrndup(p, (size_t)(e - p));
}

static void test_tampering(const struct model *m)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	char *bytes = NULL, *edit, *coef, *p, *s;
	size_t len = 0;

	if (model_to_bytes(m, &bytes, &len, &err)) {
		ok(0, "model_to_bytes: %s", err.msg);
		return;
	}
	s = reseal(bytes);
	ok(!strcmp(s, bytes), "reseal() of an untouched artefact: no change");
	free(s);

	/* One digit of a coefficient, checksum left alone. */
	edit = xstrdup(bytes);
	p = strstr(edit, "\"coefficients\":");
	p += strcspn(p, "123456789");
	*p = *p == '9' ? '1' : *p + 1;
	corrupt("edited coefficient digit", edit, len, "checksum");
	free(edit);

	/* A space added anywhere is also an edit. */
	edit = replace(bytes, NULL, "\"target\":", "\"target\": ");
	corrupt("added whitespace", edit, strlen(edit), "checksum");
	free(edit);

	/* Truncation, at several places. */
	corrupt("truncated to half", bytes, len / 2, "truncated");
	corrupt("last byte missing", bytes, len - 1, NULL);
	corrupt("checksum member cut", bytes, len - 40, NULL);
	corrupt("empty", "", 0, NULL);
	corrupt("one byte", "{", 1, NULL);
	corrupt("not JSON at all", "hello, world\n", 13, "not an mlops model");

	/* Valid checksum over invalid JSON. */
	corrupt_sealed("sealed but not JSON", bytes, NULL, "\"task\":",
		       "\"task\"", "not valid JSON");

	/* Wrong format name, with and without a fresh checksum. */
	edit = replace(bytes, NULL, "\"mlops-model\"", "\"mlops-modex\"");
	corrupt("wrong format, stale checksum", edit, strlen(edit), NULL);
	free(edit);
	corrupt_sealed("wrong format", bytes, NULL, "\"mlops-model\"",
		       "\"other-model\"", "not an mlops model");
	corrupt_sealed("format_version 2", bytes, "\"format_version\":", "1",
		       "2", "format_version");

	/* Non-finite coefficients, resealed. */
	coef = first_coef(bytes);
	ok(coef && *coef, "found the first coefficient ('%s')",
	   coef ? coef : "");
	if (coef) {
		corrupt_sealed("NaN coefficient", bytes, "\"coefficients\":",
			       coef, "NaN", "coefficients");
		corrupt_sealed("nan coefficient", bytes, "\"coefficients\":",
			       coef, "nan", NULL);
		corrupt_sealed("infinite coefficient", bytes,
			       "\"coefficients\":", coef, "1e999",
			       "coefficients");
		corrupt_sealed("string coefficient", bytes,
			       "\"coefficients\":", coef, "\"0.5\"",
			       "coefficients");
		corrupt_sealed("null coefficient", bytes,
			       "\"coefficients\":", coef, "null",
			       "coefficients");
		/* Drop the first coefficient: the row is one short. */
		s = xasprintf("%s, ", coef);
		corrupt_sealed("one coefficient missing", bytes,
			       "\"coefficients\":", s, "", "coefficients");
		free(s);
		/* Or one too many. */
		s = xasprintf("%s, 0.25, ", coef);
		edit = xasprintf("%s, ", coef);
		corrupt_sealed("one coefficient too many", bytes,
			       "\"coefficients\":", edit, s, "coefficients");
		free(edit);
		free(s);
	}
	free(coef);
	corrupt_sealed("intercepts not an array", bytes, "\"intercepts\":", "[",
		       "0, \"zz\": [", "intercepts");
	corrupt_sealed("task unknown", bytes, NULL, "\"binary\"", "\"ternary\"",
		       "task");
	corrupt_sealed("algorithm unfit for the task", bytes, NULL,
		       "\"logistic\"", "\"linear\"", "task");
	corrupt_sealed("member renamed", bytes, NULL, "\"intercepts\"",
		       "\"intercept\"", "intercepts");
	corrupt_sealed("scale zero", bytes, "\"scale\":", "\t", "\t0, \"y\":",
		       "scale");
	corrupt_sealed("impute_level out of range", bytes, "\"impute_level\":",
		       "\t", "\t99, \"z\":", "impute_level");
	corrupt_sealed("unknown feature type", bytes, NULL, "\"numeric\"",
		       "\"float\"", NULL);
	corrupt_sealed("converged not a boolean", bytes, "\"converged\":",
		       "\t", "\t1, \"w\":", "converged");
	corrupt_sealed("top level an array", bytes, NULL, "{", "[{", NULL);
	free(bytes);
}

/* n_inputs one more than the features add up to, resealed. */
static void test_dimension(const struct model *m, const char *what)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	char *bytes = NULL, *from, *to, *edit, *sealed;
	size_t len;

	if (model_to_bytes(m, &bytes, &len, &err))
		return;
	from = xasprintf("\"n_inputs\":\t%zu,", m->n_inputs);
	to = xasprintf("\"n_inputs\":\t%zu,", m->n_inputs + 1);
	edit = replace(bytes, NULL, from, to);
	sealed = edit ? reseal(edit) : NULL;
	corrupt(what, sealed,
		sealed ? strlen(sealed) : 0, "n_inputs");
	free(sealed);
	free(edit);
	free(from);
	free(to);
	free(bytes);
}

/* A hand-built model with a single numeric feature, no profiles. */
static void test_by_hand(void)
{
	struct model *m = model_new(), *back = NULL;
	struct mlops_err err = MLOPS_ERR_INIT;
	double x[3] = { -1, NAN, 2.5 }, w[3 * 5], p1[3], p2[3];
	struct predict_cols in = { 3, 3, x, NULL, NULL };
	char *bytes = NULL;
	size_t len;
	int ret;

	m->task = TASK_REGRESSION;
	m->algo = ALGO_LINEAR;
	m->target = xstrdup("y");
	m->n_features = 1;
	m->features = xcalloc(1, sizeof(*m->features));
	m->features[0].name = xstrdup("x");
	m->features[0].kind = FEATURE_NUMERIC;
	m->features[0].impute = 0.1;
	m->features[0].center = 1.0 / 3;
	m->features[0].scale = 0.7;
	m->features[0].profile.kind = PROFILE_NUMERIC;
	m->n_inputs = 1;
	m->n_outputs = 1;
	m->coef = xcalloc(1, sizeof(double));
	m->intercept = xcalloc(1, sizeof(double));
	m->coef[0] = 0.1 + 0.2;		/* not the double nearest 0.3 */
	m->intercept[0] = -1e-300;
	m->tol = 1e-8;
	m->max_iter = 10;
	m->pred_profile.kind = PROFILE_NUMERIC;
	ret = model_to_bytes(m, &bytes, &len, &err);
	is_int(ret, 0, "by hand: model_to_bytes");
	ret = model_from_bytes(bytes, len, "m.json", &back, &err);
	if (is_int(ret, 0, "by hand: model_from_bytes")) {
		ok(back->coef[0] == m->coef[0] &&
		   back->intercept[0] == m->intercept[0] &&
		   back->features[0].center == m->features[0].center,
		   "by hand: 0.1 + 0.2, -1e-300 and 1/3 read back exactly");
		predict_columns(m, &in, w, p1);
		predict_columns(back, &in, w, p2);
		ok(!memcmp(p1, p2, sizeof(p1)), "by hand: same predictions");
		is_int(back->git_dirty, -1, "by hand: git_dirty unknown");
	} else {
		printf("# %s\n", err.msg);
	}
	model_free(back);
	model_free(m);
	free(bytes);
}

/*
 * The profile format extension: a numeric profile's exact values and
 * counts round-trip; an artefact without them (as written before they
 * existed) still loads, without them; bad ones are corrupt.
 */
static void test_value_counts(struct model *m)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct profile *p = NULL;
	struct model *back = NULL;
	char *bytes = NULL, *old, *bad;
	const char *start, *end;
	size_t j, len;
	double v[2];

	for (j = 0; j < m->n_features && !p; j++)
		if (m->features[j].kind == FEATURE_NUMERIC &&
		    m->features[j].profile.count > 1 &&
		    m->features[j].profile.max > m->features[j].profile.min)
			p = &m->features[j].profile;
	if (!ok(p != NULL, "value counts: a numeric feature"))
		return;
	if (!p->n_values) {
		v[0] = p->min;
		v[1] = p->max;
		profile_set_values(p, v, 2);
		p->value_counts[0] = p->count - 1;
	}
	if (model_to_bytes(m, &bytes, &len, &err) ||
	    model_from_bytes(bytes, len, "m.json", &back, &err)) {
		ok(0, "value counts: round trip (%s)", err.msg);
		free(bytes);
		return;
	}
	ok(back->features[j - 1].profile.n_values == p->n_values &&
	   !memcmp(back->features[j - 1].profile.value_counts,
		   p->value_counts, p->n_values * sizeof(uint64_t)) &&
	   !memcmp(back->features[j - 1].profile.values, p->values,
		   p->n_values * sizeof(double)),
	   "value counts: values and counts read back");
	model_free(back);
	back = NULL;
	/* Cut from the comma before "values" to the end of value_counts. */
	start = strstr(bytes, "\"values\":");
	while (start && start > bytes && *start != ',')
		start--;
	end = start ? strstr(start, "\"value_counts\":") : NULL;
	end = end ? strchr(end, ']') : NULL;
	if (!ok(start && end, "value counts: members found"))
		goto out;
	bad = xasprintf("%.*s%s", (int)(start - bytes), bytes, end + 1);
	old = reseal(bad);
	free(bad);
	ok(!model_from_bytes(old, strlen(old), "m.json", &back, &err) &&
	   back->features[j - 1].profile.n_values == 0,
	   "value counts: an artefact without them loads, without them");
	model_free(back);
	free(old);
	corrupt_sealed("value counts: counts not summing to the count", bytes,
		       "\"value_counts\":", "[", "[1000000, ", "value_counts");
	corrupt_sealed("value counts: a value outside [min, max]", bytes,
		       "\"values\":", "[", "[-1e300, ", "values");
out:
	free(bytes);
}

int main(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct dataset *ds = NULL;
	struct model *bin, *multi, *reg;
	char *path;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	path = write_csv();
	if (dataset_load(path, NULL, &ds, &err)) {
		printf("Bail out! dataset_load: %s\n", err.msg);
		return 99;
	}
	bin = train(ds, "y", TRAIN_LOGISTIC);
	multi = train(ds, "kind", TRAIN_SOFTMAX);
	reg = train(ds, "value", TRAIN_RIDGE);
	ok(bin && multi && reg, "three models trained");
	if (bin && multi && reg) {
		test_round_trip(bin, "binary");
		test_round_trip(multi, "multiclass");
		test_round_trip(reg, "regression");
		test_tampering(bin);
		test_value_counts(reg);
		test_dimension(bin, "binary: n_inputs one too large");
		test_dimension(multi, "multiclass: n_inputs one too large");
	}
	test_by_hand();
	model_free(bin);
	model_free(multi);
	model_free(reg);
	dataset_free(ds);
	unlink(path);
	free(path);
	rmdir(tmpdir);
	return done_testing();
}

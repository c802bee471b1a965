/*
 * The artefact: reading and writing a model as one JSON document.
 *
 * Writing uses cJSON's formatted printer, but every number is inserted
 * as raw text from csv_format_double(), the shortest decimal that reads
 * back to the same double: cJSON's own printer compares with an epsilon
 * and can lose the last bit.  The document ends with a checksum member
 * over the bytes before it (see add_checksum()), so a hand-edited or
 * damaged file is refused even when it is not in a registry.
 *
 * Reading checks every member it uses: types, finiteness, and that the
 * dimensions agree, so a hostile file yields MLOPS_ECORRUPT, not a crash.
 */

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cell.h"
#include "csv.h"
#include "model.h"
#include "sha256.h"
#include "xalloc.h"

#define FORMAT_NAME "mlops-model"
#define FORMAT_VERSION 1
#define CHECKSUM_HEAD ",\n\t\"checksum\":\t\"sha256:"
#define CHECKSUM_TAIL "\"\n}\n"
/* Limits that keep a hostile file from asking for absurd allocations. */
#define MAX_FEATURES 1000000
#define MAX_LEVELS 10000000

static const char *const task_names[] = { "binary", "multiclass", "regression" };
static const char *const algo_names[] = { "logistic", "softmax", "linear", "ridge" };

const char *model_task_name(enum model_task t)
{
	return task_names[t];
}

const char *model_algo_name(enum model_algo a)
{
	return algo_names[a];
}

struct model *model_new(void)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->git_dirty = -1;
	return m;
}

static void free_strings(char **s, size_t n)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

void model_free(struct model *m)
{
	size_t i;

	if (!m)
		return;
	free(m->target);
	free_strings(m->classes, m->n_classes);
	for (i = 0; i < m->n_features; i++) {
		free(m->features[i].name);
		free(m->features[i].source);
		free_strings(m->features[i].levels, m->features[i].n_levels);
		profile_release(&m->features[i].profile);
	}
	free(m->features);
	free_strings(m->na_values, m->n_na_values);
	free(m->coef);
	free(m->intercept);
	profile_release(&m->pred_profile);
	free(m->data_path);
	free(m->tool_version);
	free(m->created_at);
	free(m);
}

double model_metric(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_metrics; i++)
		if (!strcmp(m->metrics[i].name, name))
			return m->metrics[i].value;
	return NAN;
}

/* ---- writing ---- */

static cJSON *num(double x)
{
	char buf[40];

	if (!isfinite(x))
		BUG("non-finite number in a model");
	csv_format_double(buf, x);
	return cJSON_CreateRaw(buf);
}

static cJSON *num_array(const double *x, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, num(x[i]));
	return a;
}

static cJSON *str_array(char *const *s, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s[i]));
	return a;
}

static cJSON *count(uint64_t n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
	return cJSON_CreateRaw(buf);
}

static cJSON *profile_to_json(const struct profile *p)
{
	cJSON *o = cJSON_CreateObject(), *a;
	size_t i;

	cJSON_AddItemToObject(o, "count", count(p->count));
	cJSON_AddItemToObject(o, "missing", count(p->missing));
	if (p->kind == PROFILE_NUMERIC) {
		if (!p->count)
			return o;
		cJSON_AddItemToObject(o, "min", num(p->min));
		cJSON_AddItemToObject(o, "max", num(p->max));
		cJSON_AddItemToObject(o, "mean", num(p->mean));
		cJSON_AddItemToObject(o, "std", num(p->std));
		cJSON_AddItemToObject(o, "quantiles",
				      num_array(p->quantiles,
						PROFILE_QUANTILES + 1));
		if (p->n_values) {
			cJSON_AddItemToObject(o, "values",
					      num_array(p->values, p->n_values));
			a = cJSON_CreateArray();
			for (i = 0; i < p->n_values; i++)
				cJSON_AddItemToArray(a, count(p->value_counts[i]));
			cJSON_AddItemToObject(o, "value_counts", a);
		}
		return o;
	}
	cJSON_AddItemToObject(o, "levels", str_array(p->levels, p->n_levels));
	a = cJSON_CreateArray();
	for (i = 0; i < p->n_levels; i++)
		cJSON_AddItemToArray(a, count(p->level_counts[i]));
	cJSON_AddItemToObject(o, "counts", a);
	return o;
}

static cJSON *feature_to_json(const struct feature *f)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", f->name);
	if (f->kind == FEATURE_NUMERIC) {
		cJSON_AddStringToObject(o, "type", "numeric");
		if (f->source) {
			cJSON_AddStringToObject(o, "source", f->source);
			cJSON_AddStringToObject(o, "part",
						cell_part_name(f->part));
		}
		cJSON_AddItemToObject(o, "impute", num(f->impute));
		cJSON_AddItemToObject(o, "center", num(f->center));
		cJSON_AddItemToObject(o, "scale", num(f->scale));
		cJSON_AddBoolToObject(o, "indicator", f->indicator);
	} else {
		cJSON_AddStringToObject(o, "type", "categorical");
		cJSON_AddItemToObject(o, "levels",
				      str_array(f->levels, f->n_levels));
		cJSON_AddItemToObject(o, "impute_level",
				      num((double)f->impute_level));
		cJSON_AddStringToObject(o, "unknown",
					f->strict ? "error" : "zero");
	}
	cJSON_AddItemToObject(o, "profile", profile_to_json(&f->profile));
	return o;
}

static cJSON *model_to_json(const struct model *m)
{
	cJSON *o = cJSON_CreateObject(), *a, *t, *l, *mt;
	size_t i;

	cJSON_AddStringToObject(o, "format", FORMAT_NAME);
	cJSON_AddItemToObject(o, "format_version", num(FORMAT_VERSION));
	cJSON_AddStringToObject(o, "task", model_task_name(m->task));
	cJSON_AddStringToObject(o, "algorithm", model_algo_name(m->algo));
	cJSON_AddStringToObject(o, "target", m->target);
	if (m->task != TASK_REGRESSION)
		cJSON_AddItemToObject(o, "classes",
				      str_array(m->classes, m->n_classes));
	a = cJSON_CreateArray();
	for (i = 0; i < m->n_features; i++)
		cJSON_AddItemToArray(a, feature_to_json(&m->features[i]));
	cJSON_AddItemToObject(o, "features", a);
	if (m->n_na_values)
		cJSON_AddItemToObject(o, "na_values",
				      str_array(m->na_values, m->n_na_values));
	cJSON_AddItemToObject(o, "n_inputs", num((double)m->n_inputs));
	a = cJSON_CreateArray();
	for (i = 0; i < m->n_outputs; i++)
		cJSON_AddItemToArray(a, num_array(m->coef + i * m->n_inputs,
						  m->n_inputs));
	cJSON_AddItemToObject(o, "coefficients", a);
	cJSON_AddItemToObject(o, "intercepts",
			      num_array(m->intercept, m->n_outputs));

	t = cJSON_CreateObject();
	cJSON_AddItemToObject(t, "l2", num(m->l2));
	cJSON_AddItemToObject(t, "tol", num(m->tol));
	cJSON_AddItemToObject(t, "max_iter", num((double)m->max_iter));
	cJSON_AddItemToObject(t, "iterations", num((double)m->n_iter));
	cJSON_AddBoolToObject(t, "converged", m->converged);
	cJSON_AddItemToObject(t, "holdout", num(m->holdout));
	cJSON_AddItemToObject(t, "seed", count(m->seed));
	cJSON_AddItemToObject(o, "training", t);

	mt = cJSON_CreateObject();
	/* A metric undefined on the holdout (auc with a class absent) is
	 * left out, as model_metric() then says. */
	for (i = 0; i < m->n_metrics; i++)
		if (isfinite(m->metrics[i].value))
			cJSON_AddItemToObject(mt, m->metrics[i].name,
					      num(m->metrics[i].value));
	cJSON_AddItemToObject(o, "metrics", mt);
	cJSON_AddItemToObject(o, "prediction_profile",
			      profile_to_json(&m->pred_profile));

	l = cJSON_CreateObject();
	cJSON_AddStringToObject(l, "data", m->data_path ? m->data_path : "");
	cJSON_AddStringToObject(l, "data_sha256", m->data_sha256);
	cJSON_AddItemToObject(l, "rows", count(m->n_rows));
	cJSON_AddStringToObject(l, "git_commit", m->git_commit);
	if (m->git_dirty < 0)
		cJSON_AddNullToObject(l, "git_dirty");
	else
		cJSON_AddBoolToObject(l, "git_dirty", m->git_dirty);
	cJSON_AddStringToObject(l, "tool_version",
				m->tool_version ? m->tool_version : "");
	cJSON_AddStringToObject(l, "created_at",
				m->created_at ? m->created_at : "");
	cJSON_AddItemToObject(o, "lineage", l);
	return o;
}

int model_to_bytes(const struct model *m, char **out, size_t *len,
		   struct mlops_err *err)
{
	cJSON *o = model_to_json(m);
	char *body = cJSON_Print(o), hex[65], *buf;
	size_t n;

	cJSON_Delete(o);
	if (!body)
		return err_set(err, MLOPS_EINTERNAL, "cannot serialise the model");
	n = strlen(body);
	/* body ends with "\n}"; the checksum member replaces that ending. */
	if (n < 2 || strcmp(body + n - 2, "\n}"))
		BUG("unexpected cJSON output");
	sha256_hex(body, n, hex);
	buf = xasprintf("%.*s" CHECKSUM_HEAD "%s" CHECKSUM_TAIL,
			(int)(n - 2), body, hex);
	cJSON_free(body);
	*out = buf;
	*len = strlen(buf);
	return 0;
}

int model_save_file(const struct model *m, const char *path,
		    struct mlops_err *err)
{
	struct atomic_file af;
	char *bytes;
	size_t len;
	int ret;

	if ((ret = model_to_bytes(m, &bytes, &len, err)))
		return ret;
	if ((ret = atomic_open(&af, path, err)))
		goto out;
	if (fwrite(bytes, 1, len, af.fp) != len) {
		ret = err_set(err, MLOPS_EIO, "cannot write '%s': %s", path,
			      strerror(errno));
		atomic_abort(&af);
		goto out;
	}
	ret = atomic_commit(&af, err);
out:
	free(bytes);
	return ret;
}

/* ---- reading ---- */

struct reader {
	const char *name;
	struct mlops_err *err;
};

static int bad(struct reader *r, const char *what, const char *member)
{
	return err_set(r->err, MLOPS_ECORRUPT, "artefact '%s': %s '%s'",
		       r->name, what, member);
}

static cJSON *member(struct reader *r, const cJSON *o, const char *key,
		     int *ret)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		*ret = bad(r, "missing member", key);
	return v;
}

static int get_num(struct reader *r, const cJSON *o, const char *key,
		   double *out)
{
	int ret = 0;
	cJSON *v = member(r, o, key, &ret);

	if (!v)
		return ret;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return bad(r, "expected a finite number in", key);
	*out = v->valuedouble;
	return 0;
}

static int get_count(struct reader *r, const cJSON *o, const char *key,
		     double max, uint64_t *out)
{
	double d = 0;
	int ret;

	if ((ret = get_num(r, o, key, &d)))
		return ret;
	if (d < 0 || d > max || d != floor(d))
		return bad(r, "expected a count in", key);
	*out = (uint64_t)d;
	return 0;
}

static int get_str(struct reader *r, const cJSON *o, const char *key,
		   char **out)
{
	int ret = 0;
	cJSON *v = member(r, o, key, &ret);

	if (!v)
		return ret;
	if (!cJSON_IsString(v))
		return bad(r, "expected a string in", key);
	*out = xstrdup(v->valuestring);
	return 0;
}

/* Read an array of exactly `n` finite numbers (n == 0: any length). */
static int get_num_array(struct reader *r, const cJSON *a, const char *key,
			 size_t n, double **out, size_t *n_out)
{
	const cJSON *v;
	size_t i = 0, len;

	if (!cJSON_IsArray(a))
		return bad(r, "expected an array in", key);
	len = (size_t)cJSON_GetArraySize(a);
	if (n && len != n)
		return bad(r, "wrong number of elements in", key);
	*out = xcalloc(len ? len : 1, sizeof(double));
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
			free(*out);
			*out = NULL;
			return bad(r, "expected finite numbers in", key);
		}
		(*out)[i++] = v->valuedouble;
	}
	if (n_out)
		*n_out = len;
	return 0;
}

static int get_str_array(struct reader *r, const cJSON *a, const char *key,
			 char ***out, size_t *n_out)
{
	const cJSON *v;
	size_t i = 0, len;

	if (!cJSON_IsArray(a))
		return bad(r, "expected an array in", key);
	len = (size_t)cJSON_GetArraySize(a);
	if (len > MAX_LEVELS)
		return bad(r, "too many elements in", key);
	*out = xcalloc(len ? len : 1, sizeof(char *));
	*n_out = 0;
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsString(v))
			return bad(r, "expected strings in", key);
		(*out)[i++] = xstrdup(v->valuestring);
		*n_out = i;
	}
	return 0;
}

/*
 * A numeric profile's optional exact values (format extension: artefacts
 * written before it have none and load as before): strictly ascending,
 * within [min, max], their counts summing to the profile's count.
 */
static int values_from_json(struct reader *r, const cJSON *o,
			    struct profile *p)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "values"), *c;
	uint64_t total = 0;
	size_t i = 0, n;
	int ret;

	if (!v)
		return 0;
	if ((ret = get_num_array(r, v, "values", 0, &p->values, &n)))
		return ret;
	p->n_values = n;
	if (!n || n > PROFILE_MAX_VALUES)
		return bad(r, "wrong number of elements in", "values");
	for (i = 0; i < n; i++)
		if ((i && !(p->values[i] > p->values[i - 1])) ||
		    p->values[i] < p->min || p->values[i] > p->max)
			return bad(r, "unsorted or out-of-range", "values");
	c = member(r, o, "value_counts", &ret);
	if (!c)
		return ret;
	if (!cJSON_IsArray(c) || (size_t)cJSON_GetArraySize(c) != n)
		return bad(r, "wrong number of elements in", "value_counts");
	p->value_counts = xcalloc(n, sizeof(uint64_t));
	i = 0;
	cJSON_ArrayForEach(v, c) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
		    v->valuedouble > 1e18 ||
		    v->valuedouble != floor(v->valuedouble))
			return bad(r, "expected counts in", "value_counts");
		p->value_counts[i] = (uint64_t)v->valuedouble;
		total += p->value_counts[i++];
	}
	if (total != p->count)
		return bad(r, "counts not summing to the count in", "value_counts");
	return 0;
}

static int profile_from_json(struct reader *r, const cJSON *o,
			     enum profile_kind kind, struct profile *p)
{
	const cJSON *v, *c;
	size_t n, i = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	if (!cJSON_IsObject(o))
		return bad(r, "expected an object in", "profile");
	if ((ret = get_count(r, o, "count", 1e18, &p->count)) ||
	    (ret = get_count(r, o, "missing", 1e18, &p->missing)))
		return ret;
	if (kind == PROFILE_NUMERIC) {
		if (!p->count)
			return 0;
		if ((ret = get_num(r, o, "min", &p->min)) ||
		    (ret = get_num(r, o, "max", &p->max)) ||
		    (ret = get_num(r, o, "mean", &p->mean)) ||
		    (ret = get_num(r, o, "std", &p->std)))
			return ret;
		v = member(r, o, "quantiles", &ret);
		if (!v)
			return ret;
		if ((ret = get_num_array(r, v, "quantiles",
					 PROFILE_QUANTILES + 1,
					 &p->quantiles, NULL)))
			return ret;
		for (i = 1; i <= PROFILE_QUANTILES; i++)
			if (p->quantiles[i] < p->quantiles[i - 1])
				return bad(r, "unsorted", "quantiles");
		return values_from_json(r, o, p);
	}
	v = member(r, o, "levels", &ret);
	if (!v)
		return ret;
	if ((ret = get_str_array(r, v, "levels", &p->levels, &p->n_levels)))
		return ret;
	v = member(r, o, "counts", &ret);
	if (!v)
		return ret;
	if (!cJSON_IsArray(v) ||
	    (size_t)cJSON_GetArraySize(v) != p->n_levels)
		return bad(r, "wrong number of elements in", "counts");
	p->level_counts = xcalloc(p->n_levels ? p->n_levels : 1,
				  sizeof(uint64_t));
	n = 0;
	cJSON_ArrayForEach(c, v) {
		if (!cJSON_IsNumber(c) || c->valuedouble < 0 ||
		    c->valuedouble != floor(c->valuedouble))
			return bad(r, "expected counts in", "counts");
		p->level_counts[n++] = (uint64_t)c->valuedouble;
	}
	return 0;
}

static int feature_from_json(struct reader *r, const cJSON *o,
			     struct feature *f)
{
	char *type = NULL;
	const cJSON *v;
	double d;
	int ret;

	if (!cJSON_IsObject(o))
		return bad(r, "expected an object in", "features");
	if ((ret = get_str(r, o, "name", &f->name)) ||
	    (ret = get_str(r, o, "type", &type)))
		goto out;
	if (!strcmp(type, "numeric")) {
		f->kind = FEATURE_NUMERIC;
		if ((ret = get_num(r, o, "impute", &f->impute)) ||
		    (ret = get_num(r, o, "center", &f->center)) ||
		    (ret = get_num(r, o, "scale", &f->scale)))
			goto out;
		if (!(f->scale > 0)) {
			ret = bad(r, "non-positive", "scale");
			goto out;
		}
		v = cJSON_GetObjectItemCaseSensitive(o, "indicator");
		if (v && !cJSON_IsBool(v)) {
			ret = bad(r, "expected a boolean in", "indicator");
			goto out;
		}
		f->indicator = cJSON_IsTrue(v);
		/* Absent in artefacts from before timestamps: its own column. */
		f->part = -1;
		if ((v = cJSON_GetObjectItemCaseSensitive(o, "source"))) {
			if (!cJSON_IsString(v) || !*v->valuestring) {
				ret = bad(r, "expected a column name in", "source");
				goto out;
			}
			f->source = xstrdup(v->valuestring);
			v = cJSON_GetObjectItemCaseSensitive(o, "part");
			if (!cJSON_IsString(v) ||
			    (f->part = cell_part_from_name(v->valuestring)) < 0) {
				ret = bad(r, "unknown timestamp part in", "part");
				goto out;
			}
		}
	} else if (!strcmp(type, "categorical")) {
		f->kind = FEATURE_CATEGORICAL;
		if (!(v = member(r, o, "levels", &ret)))
			goto out;
		if ((ret = get_str_array(r, v, "levels", &f->levels,
					 &f->n_levels)) ||
		    (ret = get_num(r, o, "impute_level", &d)))
			goto out;
		if (d < -1 || d >= (double)f->n_levels || d != floor(d)) {
			ret = bad(r, "out-of-range", "impute_level");
			goto out;
		}
		f->impute_level = (long)d;
		v = cJSON_GetObjectItemCaseSensitive(o, "unknown");
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "zero") &&
					   strcmp(v->valuestring, "error"))) {
			ret = bad(r, "expected \"zero\" or \"error\" in", "unknown");
			goto out;
		}
		f->strict = !strcmp(v->valuestring, "error");
	} else {
		ret = bad(r, "unknown feature type in", f->name);
		goto out;
	}
	if (!(v = member(r, o, "profile", &ret)))
		goto out;
	ret = profile_from_json(r, v, f->kind == FEATURE_NUMERIC ?
				PROFILE_NUMERIC : PROFILE_CATEGORICAL,
				&f->profile);
out:
	free(type);
	return ret;
}

static int enum_from(struct reader *r, const char *s,
		     const char *const *names, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	bad(r, "unknown value in", key);
	return -1;
}

static int model_from_json(struct reader *r, const cJSON *o, struct model *m)
{
	char *s = NULL;
	const cJSON *v, *row;
	double d, *tmp;
	size_t i, n;
	int ret, e;

	if (!cJSON_IsObject(o))
		return bad(r, "expected an object at", "top level");
	if ((ret = get_str(r, o, "format", &s)))
		return ret;
	e = strcmp(s, FORMAT_NAME);
	free(s);
	if (e)
		return err_set(r->err, MLOPS_ECORRUPT,
			       "'%s' is not an mlops model artefact", r->name);
	if ((ret = get_num(r, o, "format_version", &d)))
		return ret;
	if (d != FORMAT_VERSION)
		return err_set(r->err, MLOPS_ECORRUPT,
			       "artefact '%s' has format_version %g; this mlops reads %d",
			       r->name, d, FORMAT_VERSION);
	if ((ret = get_str(r, o, "task", &s)))
		return ret;
	e = enum_from(r, s, task_names, 3, "task");
	free(s);
	if (e < 0)
		return r->err->code;
	m->task = (enum model_task)e;
	if ((ret = get_str(r, o, "algorithm", &s)))
		return ret;
	e = enum_from(r, s, algo_names, 4, "algorithm");
	free(s);
	if (e < 0)
		return r->err->code;
	m->algo = (enum model_algo)e;
	if ((ret = get_str(r, o, "target", &m->target)))
		return ret;
	if (m->task != TASK_REGRESSION) {
		if (!(v = member(r, o, "classes", &ret)))
			return ret;
		if ((ret = get_str_array(r, v, "classes", &m->classes,
					 &m->n_classes)))
			return ret;
		if (m->n_classes < 2 ||
		    (m->task == TASK_BINARY) != (m->n_classes == 2))
			return bad(r, "wrong number of", "classes");
	}
	if ((m->algo == ALGO_LOGISTIC) != (m->task == TASK_BINARY) ||
	    (m->algo == ALGO_SOFTMAX) != (m->task == TASK_MULTICLASS))
		return bad(r, "algorithm does not fit the", "task");

	if (!(v = member(r, o, "features", &ret)))
		return ret;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_FEATURES)
		return bad(r, "expected an array in", "features");
	n = (size_t)cJSON_GetArraySize(v);
	m->features = xcalloc(n ? n : 1, sizeof(*m->features));
	m->n_inputs = 0;
	i = 0;
	cJSON_ArrayForEach(row, v) {
		struct feature *f = &m->features[i];

		m->n_features = ++i;
		if ((ret = feature_from_json(r, row, f)))
			return ret;
		f->offset = m->n_inputs;
		m->n_inputs += f->kind == FEATURE_NUMERIC ? 1 + (f->indicator != 0) :
			       f->n_levels;
	}
	/* Absent in artefacts trained without --na-values. */
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "na_values")) &&
	    (ret = get_str_array(r, v, "na_values", &m->na_values,
				 &m->n_na_values)))
		return ret;
	if ((ret = get_num(r, o, "n_inputs", &d)))
		return ret;
	if (d != (double)m->n_inputs)
		return bad(r, "dimension mismatch in", "n_inputs");

	m->n_outputs = m->task == TASK_MULTICLASS ? m->n_classes : 1;
	if (!(v = member(r, o, "coefficients", &ret)))
		return ret;
	if (!cJSON_IsArray(v) ||
	    (size_t)cJSON_GetArraySize(v) != m->n_outputs)
		return bad(r, "dimension mismatch in", "coefficients");
	m->coef = xcalloc(m->n_outputs * m->n_inputs + 1, sizeof(double));
	i = 0;
	cJSON_ArrayForEach(row, v) {
		if ((ret = get_num_array(r, row, "coefficients",
					 m->n_inputs, &tmp, &n)))
			return ret;
		if (n != m->n_inputs) {
			free(tmp);
			return bad(r, "dimension mismatch in", "coefficients");
		}
		memcpy(m->coef + i * m->n_inputs, tmp, n * sizeof(double));
		free(tmp);
		i++;
	}
	if (!(v = member(r, o, "intercepts", &ret)))
		return ret;
	if ((ret = get_num_array(r, v, "intercepts", m->n_outputs,
				 &m->intercept, &n)))
		return ret;
	if (n != m->n_outputs)
		return bad(r, "dimension mismatch in", "intercepts");

	if (!(v = member(r, o, "training", &ret)))
		return ret;
	if ((ret = get_num(r, v, "l2", &m->l2)) ||
	    (ret = get_num(r, v, "tol", &m->tol)) ||
	    (ret = get_num(r, v, "holdout", &m->holdout)))
		return ret;
	if ((ret = get_num(r, v, "max_iter", &d)))
		return ret;
	m->max_iter = (long)d;
	if ((ret = get_num(r, v, "iterations", &d)))
		return ret;
	m->n_iter = (long)d;
	row = cJSON_GetObjectItemCaseSensitive(v, "converged");
	if (!cJSON_IsBool(row))
		return bad(r, "expected a boolean in", "converged");
	m->converged = cJSON_IsTrue(row);
	if ((ret = get_num(r, v, "seed", &d)))
		return ret;
	m->seed = (unsigned long)d;

	if (!(v = member(r, o, "metrics", &ret)))
		return ret;
	if (!cJSON_IsObject(v))
		return bad(r, "expected an object in", "metrics");
	cJSON_ArrayForEach(row, v) {
		if (m->n_metrics == MODEL_MAX_METRICS ||
		    strlen(row->string) >= sizeof(m->metrics[0].name) ||
		    !cJSON_IsNumber(row) || !isfinite(row->valuedouble))
			return bad(r, "bad entry in", "metrics");
		strcpy(m->metrics[m->n_metrics].name, row->string);
		m->metrics[m->n_metrics++].value = row->valuedouble;
	}
	if (!(v = member(r, o, "prediction_profile", &ret)))
		return ret;
	if ((ret = profile_from_json(r, v, m->task == TASK_MULTICLASS ?
				     PROFILE_CATEGORICAL : PROFILE_NUMERIC,
				     &m->pred_profile)))
		return ret;

	if (!(v = member(r, o, "lineage", &ret)))
		return ret;
	if ((ret = get_str(r, v, "data", &m->data_path)) ||
	    (ret = get_str(r, v, "tool_version", &m->tool_version)) ||
	    (ret = get_str(r, v, "created_at", &m->created_at)) ||
	    (ret = get_str(r, v, "data_sha256", &s)))
		return ret;
	snprintf(m->data_sha256, sizeof(m->data_sha256), "%s", s);
	free(s);
	if ((ret = get_str(r, v, "git_commit", &s)))
		return ret;
	snprintf(m->git_commit, sizeof(m->git_commit), "%s", s);
	free(s);
	row = cJSON_GetObjectItemCaseSensitive(v, "git_dirty");
	m->git_dirty = cJSON_IsBool(row) ? cJSON_IsTrue(row) : -1;
	if ((ret = get_num(r, v, "rows", &d)))
		return ret;
	m->n_rows = (unsigned long long)d;
	return 0;
}

/*
 * Name where JSON parsing stopped: its line and the last member name
 * before it ("line 812 (in 'coefficients')"), e.g. for a NaN literal.
 */
static int json_error(const char *bytes, const char *end, const char *name,
		      struct mlops_err *err)
{
	const char *p, *key = NULL, *key_end = NULL;
	unsigned long line = 1;

	if (!end)
		end = bytes;
	for (p = bytes; p < end; p++) {
		if (*p == '\n')
			line++;
		if (*p == '"' && p + 1 < end) {
			const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));

			if (q && q + 1 < end && q[1] == ':') {
				key = p + 1;
				key_end = q;
			}
			if (q)
				p = q;
		}
	}
	if (key)
		return err_set(err, MLOPS_ECORRUPT,
			       "artefact '%s' is not valid JSON at line %lu (in '%.*s')",
			       name, line, (int)(key_end - key), key);
	return err_set(err, MLOPS_ECORRUPT,
		       "artefact '%s' is not valid JSON at line %lu", name, line);
}

int model_from_bytes(const char *bytes, size_t len, const char *name,
		     struct model **out, struct mlops_err *err)
{
	struct reader r = { name, err };
	size_t head = strlen(CHECKSUM_HEAD), tail = strlen(CHECKSUM_TAIL);
	size_t suffix = head + 64 + tail, body_len;
	char hex[65], *body;
	const char *end = NULL;
	struct model *m;
	cJSON *o;
	int ret;

	if (len < suffix + 2 || memcmp(bytes + len - tail, CHECKSUM_TAIL, tail) ||
	    memcmp(bytes + len - suffix, CHECKSUM_HEAD, head)) {
		if (len && bytes[0] != '{')
			return err_set(err, MLOPS_ECORRUPT,
				       "'%s' is not an mlops model artefact",
				       name);
		return err_set(err, MLOPS_ECORRUPT,
			       "artefact '%s' is truncated or lacks its checksum",
			       name);
	}
	/* The checksummed body is everything before the member, closed. */
	body_len = len - suffix + 2;
	body = xmalloc(body_len + 1);
	memcpy(body, bytes, len - suffix);
	memcpy(body + len - suffix, "\n}", 3);
	sha256_hex(body, body_len, hex);
	free(body);
	if (memcmp(hex, bytes + len - suffix + head, 64))
		return err_set(err, MLOPS_ECORRUPT,
			       "artefact '%s' fails its checksum: it was modified or damaged",
			       name);
	o = cJSON_ParseWithLengthOpts(bytes, len, &end, 0);
	if (!o)
		return json_error(bytes, end, name, err);
	m = model_new();
	ret = model_from_json(&r, o, m);
	cJSON_Delete(o);
	if (ret) {
		model_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

int model_read_file(const char *path, char **bytes, size_t *len,
		    struct mlops_err *err)
{
	FILE *fp = fopen(path, "rb");
	size_t alloc = 0, n;
	int ret = 0;

	*bytes = NULL;
	*len = 0;
	if (!fp)
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND : MLOPS_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	do {
		XGROW(*bytes, alloc, *len + 65536);
		n = fread(*bytes + *len, 1, alloc - *len - 1, fp);
		*len += n;
	} while (n > 0);
	if (ferror(fp))
		ret = err_set(err, MLOPS_EIO, "cannot read '%s': %s", path,
			      strerror(errno));
	fclose(fp);
	(*bytes)[*len] = '\0';
	if (ret) {
		free(*bytes);
		*bytes = NULL;
	}
	return ret;
}

int model_load_file(const char *path, struct model **out,
		    struct mlops_err *err)
{
	char *bytes;
	size_t len;
	int ret;

	if ((ret = model_read_file(path, &bytes, &len, err)))
		return ret;
	ret = model_from_bytes(bytes, len, path, out, err);
	free(bytes);
	return ret;
}

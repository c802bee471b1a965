/*
 * The training spec file: a JSON object whose members fill the settings
 * the command line left unset.
 *
 * A member is type-checked only when it is used: one the flags
 * override is never looked at beyond its name, so a spec stays usable
 * with a flag that corrects it.  Unknown names are refused, a typo
 * being likelier than a setting meant to be ignored.
 *
 * Deliberately not done here: checking values (a model name, a
 * fraction in range, a delimiter); that is the training job's, the
 * same for a flag and a member.
 */

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainspec.h"
#include "xalloc.h"

void trainspec_init(struct trainspec *s)
{
	memset(s, 0, sizeof(*s));
	s->holdout = s->C = s->alpha = s->tol = TRAINSPEC_UNSET_D;
	s->seed = s->max_iter = TRAINSPEC_UNSET_L;
}

static void list_release(struct trainspec_list *l)
{
	if (l->owned)
		free(l->items);
	memset(l, 0, sizeof(*l));
}

void trainspec_release(struct trainspec *s)
{
	if (!s)
		return;
	list_release(&s->features);
	list_release(&s->exclude);
	list_release(&s->categorical);
	list_release(&s->numeric);
	list_release(&s->na_values);
	cJSON_Delete(s->file);
	s->file = NULL;
}

static int spec_list(const cJSON *o, const char *key,
		     struct trainspec_list *l, const char *path,
		     struct mlops_err *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *v;
	size_t alloc = 0;

	if (!a || l->n)
		return 0;
	if (!cJSON_IsArray(a))
		return err_set(err, MLOPS_EUSAGE,
			       "'%s': \"%s\" must be an array of column names",
			       path, key);
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsString(v))
			return err_set(err, MLOPS_EUSAGE,
				       "'%s': \"%s\" must be an array of column names",
				       path, key);
		if (!l->owned) {
			/* The caller's empty list is left as it was. */
			l->items = NULL;
			l->owned = 1;
		}
		XGROW(l->items, alloc, l->n + 1);
		l->items[l->n++] = v->valuestring;
	}
	return 0;
}

static int spec_str(const cJSON *o, const char *key, const char **out,
		    const char *path, struct mlops_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || *out)
		return 0;
	if (!cJSON_IsString(v))
		return err_set(err, MLOPS_EUSAGE, "'%s': \"%s\" must be a string",
			       path, key);
	*out = v->valuestring;
	return 0;
}

static int spec_bool(const cJSON *o, const char *key, int *out,
		     const char *path, struct mlops_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || *out)
		return 0;
	if (!cJSON_IsBool(v))
		return err_set(err, MLOPS_EUSAGE, "'%s': \"%s\" must be true or false",
			       path, key);
	*out = cJSON_IsTrue(v);
	return 0;
}

static int spec_num(const cJSON *o, const char *key, double *out,
		    const char *path, struct mlops_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || *out != TRAINSPEC_UNSET_D)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return err_set(err, MLOPS_EUSAGE, "'%s': \"%s\" must be a number",
			       path, key);
	*out = v->valuedouble;
	return 0;
}

/* The file's JSON object, its member names checked. */
static int parse_file(const char *path, cJSON **tree, struct mlops_err *err)
{
	static const char *const known[] = {
		"data", "target", "model", "features", "exclude",
		"categorical", "numeric", "holdout", "seed", "C", "alpha",
		"tol", "max_iter", "class_weight", "output", "register",
		"description", "impute", "add_indicator", "strict",
		"delimiter", "encoding", "na_values", NULL
	};
	const cJSON *v;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, alloc = 0, n;

	if (!(fp = fopen(path, "rb")))
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND : MLOPS_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	do {
		XGROW(buf, alloc, len + 4096);
		n = fread(buf + len, 1, alloc - len, fp);
		len += n;
	} while (n);
	fclose(fp);
	*tree = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!*tree || !cJSON_IsObject(*tree))
		return err_set(err, MLOPS_EUSAGE,
			       "'%s' is not a JSON object", path);
	cJSON_ArrayForEach(v, *tree) {
		const char *const *k;

		for (k = known; *k && strcmp(*k, v->string); k++)
			;
		if (!*k)
			return err_set(err, MLOPS_EUSAGE,
				       "'%s': unknown setting \"%s\"",
				       path, v->string);
	}
	return 0;
}

int trainspec_read_file(struct trainspec *s, const char *path,
			struct mlops_err *err)
{
	double seed = TRAINSPEC_UNSET_D, max_iter = TRAINSPEC_UNSET_D;
	const cJSON *t;
	int ret;

	if ((ret = parse_file(path, &s->file, err)))
		return ret;
	t = s->file;
	if (s->seed != TRAINSPEC_UNSET_L)
		seed = (double)s->seed;
	if (s->max_iter != TRAINSPEC_UNSET_L)
		max_iter = (double)s->max_iter;
	if ((ret = spec_str(t, "data", &s->data, path, err)) ||
	    (ret = spec_str(t, "target", &s->target, path, err)) ||
	    (ret = spec_str(t, "model", &s->model, path, err)) ||
	    (ret = spec_str(t, "output", &s->output, path, err)) ||
	    (ret = spec_str(t, "register", &s->reg_name, path, err)) ||
	    (ret = spec_str(t, "description", &s->description, path, err)) ||
	    (ret = spec_str(t, "class_weight", &s->class_weight, path, err)) ||
	    (ret = spec_str(t, "impute", &s->impute, path, err)) ||
	    (ret = spec_str(t, "delimiter", &s->delimiter, path, err)) ||
	    (ret = spec_str(t, "encoding", &s->encoding, path, err)) ||
	    (ret = spec_bool(t, "add_indicator", &s->add_indicator, path, err)) ||
	    (ret = spec_bool(t, "strict", &s->strict, path, err)) ||
	    (ret = spec_list(t, "features", &s->features, path, err)) ||
	    (ret = spec_list(t, "exclude", &s->exclude, path, err)) ||
	    (ret = spec_list(t, "categorical", &s->categorical, path, err)) ||
	    (ret = spec_list(t, "numeric", &s->numeric, path, err)) ||
	    (ret = spec_list(t, "na_values", &s->na_values, path, err)) ||
	    (ret = spec_num(t, "holdout", &s->holdout, path, err)) ||
	    (ret = spec_num(t, "C", &s->C, path, err)) ||
	    (ret = spec_num(t, "alpha", &s->alpha, path, err)) ||
	    (ret = spec_num(t, "tol", &s->tol, path, err)) ||
	    (ret = spec_num(t, "seed", &seed, path, err)) ||
	    (ret = spec_num(t, "max_iter", &max_iter, path, err)))
		return ret;
	if (seed != TRAINSPEC_UNSET_D) {
		if (seed < 0 || seed != floor(seed))
			return err_set(err, MLOPS_EUSAGE,
				       "'%s': \"seed\" must be a non-negative integer",
				       path);
		s->seed = (long)seed;
	}
	if (max_iter != TRAINSPEC_UNSET_D)
		s->max_iter = (long)max_iter;
	return 0;
}

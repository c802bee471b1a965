/*
 * The training set: which rows train and which are held out, and what
 * the classes of a classification target are.  A holdout drawn by a
 * seeded shuffle but kept in file order (the passes then read columns
 * sequentially); classes sorted as numpy's unique sorts them (numbers
 * numerically, text by bytes), each row mapped to its class index; the
 * balanced class weights n / (K * n_k).
 *
 * Nothing here encodes a feature or runs a solver.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trainset.h"
#include "xalloc.h"

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void shuffle(size_t *v, size_t n, unsigned long seed)
{
	uint64_t state = seed;
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)(splitmix64(&state) % i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * Rows [0, n) of rows (ascending, below n_rows) become a random holdout
 * of n_hold rows then the training rows, each part in ascending order:
 * the holdout is the first n_hold after a shuffle by `seed`, and a mark
 * per row puts both parts back in order without sorting.
 */
void trainset_split(size_t *rows, size_t n, size_t n_hold, size_t n_rows,
		    unsigned long seed)
{
	unsigned char *mark = xcalloc(n_rows + 1, 1);
	size_t i, h = 0, t = n_hold;

	for (i = 0; i < n; i++)
		mark[rows[i]] = 1;
	shuffle(rows, n, seed);
	for (i = 0; i < n_hold; i++)
		mark[rows[i]] = 2;
	for (i = 0; i < n_rows; i++) {
		if (mark[i] == 2)
			rows[h++] = i;
		else if (mark[i] == 1)
			rows[t++] = i;
	}
	free(mark);
}

struct label {
	const char *text;
	double value;
	size_t code;
};

static int cmp_label_str(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->text,
		      ((const struct label *)b)->text);
}

/*
 * The distinct values of a numeric target over rows, kept sorted as they
 * come: a binary search per row (at most 1000 of them, and the previous
 * row's value is usually the answer), no sort of the column.  *lab is
 * the caller's to free, also on error.
 */
static int distinct_numbers(const struct ds_column *t, const size_t *rows,
			    size_t n, struct label **lab, size_t *n_lab,
			    struct mlops_err *err)
{
	size_t alloc = 0, last = 0, i;

	for (i = 0; i < n; i++) {
		double x = t->num[rows[i]];
		size_t lo = 0, hi = *n_lab;

		if (*n_lab && (*lab)[last].value == x)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if ((*lab)[mid].value < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < *n_lab && (*lab)[lo].value == x) {
			last = lo;
			continue;
		}
		if (*n_lab >= 1000)
			return err_set(err, MLOPS_EUSAGE,
				       "target '%s' has more than 1000 distinct values; use --model linear or ridge",
				       t->name);
		XGROW(*lab, alloc, *n_lab + 1);
		memmove(*lab + lo + 1, *lab + lo,
			(*n_lab - lo) * sizeof(**lab));
		(*lab)[lo].value = x;
		(*lab)[lo].text = NULL;
		(*n_lab)++;
		last = lo;
	}
	return 0;
}

static int classes_numeric(struct model *m, const struct ds_column *t,
			   const size_t *rows, size_t n, uint32_t *cls,
			   struct mlops_err *err)
{
	struct label *lab = NULL;
	size_t n_lab = 0, i, k;
	char buf[40];

	if (distinct_numbers(t, rows, n, &lab, &n_lab, err)) {
		free(lab);
		return MLOPS_EUSAGE;
	}
	m->classes = xcalloc(n_lab + 1, sizeof(char *));
	for (k = 0; k < n_lab; k++) {
		csv_format_double(buf, lab[k].value);
		m->classes[k] = xstrdup(buf);
	}
	for (i = 0; i < n; i++) {
		double x = t->num[rows[i]];
		size_t lo = 0, hi = n_lab;

		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (lab[mid].value <= x)
				lo = mid;
			else
				hi = mid;
		}
		cls[i] = (uint32_t)lo;
	}
	m->n_classes = n_lab;
	free(lab);
	return 0;
}

static void classes_text(struct model *m, const struct ds_column *t,
			 const size_t *rows, size_t n, uint32_t *cls)
{
	struct label *lab = NULL;
	size_t n_lab = 0, alloc = 0, i, k;
	size_t *rank = xcalloc(t->n_levels + 1, sizeof(size_t));
	unsigned char *seen = xcalloc(t->n_levels + 1, 1);

	for (i = 0; i < n; i++)
		seen[t->code[rows[i]]] = 1;
	for (k = 0; k < t->n_levels; k++) {
		if (!seen[k])
			continue;
		XGROW(lab, alloc, n_lab + 1);
		lab[n_lab].text = t->levels[k];
		lab[n_lab].code = k;
		n_lab++;
	}
	qsort(lab, n_lab, sizeof(*lab), cmp_label_str);
	m->classes = xcalloc(n_lab + 1, sizeof(char *));
	for (k = 0; k < n_lab; k++) {
		m->classes[k] = xstrdup(lab[k].text);
		rank[lab[k].code] = k;
	}
	for (i = 0; i < n; i++)
		cls[i] = (uint32_t)rank[t->code[rows[i]]];
	m->n_classes = n_lab;
	free(rank);
	free(seen);
	free(lab);
}

int trainset_classes(struct model *m, const struct ds_column *t,
		     const size_t *rows, size_t n, uint32_t *cls,
		     struct mlops_err *err)
{
	size_t n_lab;
	int ret;

	if (t->type == DS_NUMERIC) {
		if ((ret = classes_numeric(m, t, rows, n, cls, err)))
			return ret;
	} else {
		classes_text(m, t, rows, n, cls);
	}
	n_lab = m->n_classes;
	if (n_lab < 2)
		return err_set(err, MLOPS_EINPUT,
			       "target '%s' has a single class%s%s%s in the training rows",
			       t->name, n_lab ? " ('" : "",
			       n_lab ? m->classes[0] : "", n_lab ? "')" : "");
	return 0;
}

int trainset_two_valued(const struct ds_column *t, const size_t *rows,
			size_t n)
{
	double a = NAN, b = NAN;
	size_t i;

	for (i = 0; i < n; i++) {
		double x = t->num[rows[i]];

		if (isnan(a) || x == a)
			a = x;
		else if (isnan(b) || x == b)
			b = x;
		else
			return 0;
	}
	return 1;
}

void trainset_class_weights(const uint32_t *cls, size_t n, size_t n_classes,
			    double *sw)
{
	size_t *cnt = xcalloc(n_classes + 1, sizeof(size_t)), i;

	for (i = 0; i < n; i++)
		cnt[cls[i]]++;
	for (i = 0; i < n_classes; i++)
		sw[i] = cnt[i] ? (double)n /
			((double)n_classes * (double)cnt[i]) : 0;
	free(cnt);
}

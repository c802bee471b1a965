#ifndef MLOPS_TRAINSPEC_H
#define MLOPS_TRAINSPEC_H

/*
 * A training spec: the settings of one training run as a user gives
 * them, unchecked -- on train's command line, or in a JSON file kept
 * under version control (--config), whose members are named like the
 * flags ("max_iter" for --max-iter).  The command line wins: the file
 * only fills what the flags left unset.
 */

#include <math.h>
#include <stddef.h>
#include "error.h"

/* Unset markers of the numbers, so that a file can fill them. */
#define TRAINSPEC_UNSET_D (-HUGE_VAL)
#define TRAINSPEC_UNSET_L (-1L)

/* Column names or tokens; owned only when the spec file filled it. */
struct trainspec_list {
	const char **items;
	size_t n;
	int owned;
};

struct trainspec {
	const char *data, *target;
	const char *model;		/* auto, logistic, softmax, ... */
	const char *output;		/* -o; "-" for stdout */
	const char *reg_name;		/* --register */
	const char *description;
	const char *class_weight, *impute;
	const char *delimiter, *encoding;
	int add_indicator, strict;
	struct trainspec_list features, exclude, categorical, numeric,
			      na_values;
	double holdout, C, alpha, tol;	/* TRAINSPEC_UNSET_D: default */
	long seed, max_iter;		/* TRAINSPEC_UNSET_L: default */
	struct cJSON *file;		/* the spec file read, owned */
};

/* Every setting unset. */
void trainspec_init(struct trainspec *s);

/*
 * Read the JSON spec file at `path` into s: each member fills the
 * setting of its name unless s already has it set (a string or list
 * non-empty, a flag true, a number not unset).  The strings filled
 * point into the file's tree, which s then owns until
 * trainspec_release().  MLOPS_ENOTFOUND / MLOPS_EIO "cannot open
 * 'PATH': why"; MLOPS_EUSAGE "'PATH' is not a JSON object", "'PATH':
 * unknown setting \"KEY\"", or a member of the wrong type (checked only
 * where it would be used), naming the member.  On failure s may be
 * partly filled; release it all the same.
 */
int trainspec_read_file(struct trainspec *s, const char *path,
			struct mlops_err *err);

/* Free what trainspec_read_file() added; the rest is the caller's. */
void trainspec_release(struct trainspec *s);

#endif

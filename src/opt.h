#ifndef MLOPS_OPT_H
#define MLOPS_OPT_H

/*
 * Declarative option parsing for subcommands (after git's parse-options).
 *
 * A command describes its options in a table ending with OPT_END(); the
 * parser fills the variables, leaves the operands at the front of argv
 * in order, prints --help itself, and reports bad options as
 * MLOPS_EUSAGE.  Options and operands may be mixed; "--" ends options;
 * "-" alone is an operand.  The same table answers the completion
 * helper's question "which flags does this command take?".
 */

#include <stddef.h>
#include "error.h"

enum opt_type {
	OPT_T_END,
	OPT_T_BOOL,	/* int *: set to 1 */
	OPT_T_STRING,	/* const char **: the argument */
	OPT_T_INT,	/* long *: decimal integer */
	OPT_T_DOUBLE,	/* double *: finite number */
	OPT_T_LIST,	/* struct opt_list *: every occurrence appended */
	OPT_T_CSV	/* struct opt_list *: comma-separated, appended */
};

struct opt {
	enum opt_type type;
	int short_name;		/* 0 for none */
	const char *long_name;
	void *value;
	const char *argh;	/* argument placeholder for --help, e.g. "FILE" */
	const char *help;
};

/* Repeatable or comma-separated values; items point into argv. */
struct opt_list {
	const char **items;
	size_t n, alloc;
};

#define OPT_BOOL(s, l, v, h)		{ OPT_T_BOOL, (s), (l), (v), NULL, (h) }
#define OPT_STRING(s, l, v, a, h)	{ OPT_T_STRING, (s), (l), (v), (a), (h) }
#define OPT_INT(s, l, v, a, h)		{ OPT_T_INT, (s), (l), (v), (a), (h) }
#define OPT_DOUBLE(s, l, v, a, h)	{ OPT_T_DOUBLE, (s), (l), (v), (a), (h) }
#define OPT_LIST(s, l, v, a, h)		{ OPT_T_LIST, (s), (l), (v), (a), (h) }
#define OPT_CSV(s, l, v, a, h)		{ OPT_T_CSV, (s), (l), (v), (a), (h) }
#define OPT_END()			{ OPT_T_END, 0, NULL, NULL, NULL, NULL }

struct opt_usage {
	const char *const *synopsis;	/* NULL-terminated "mlops train ..." */
	const char *examples;		/* lines, each "  mlops ...\n" */
	const char *summary;		/* one line: what the command does */
};

/*
 * Parse argv[1..argc) (argv[0] is the command name) against `opts`.
 * On success argv[0..*n_operands) hold the operands in order.
 * "-h"/"--help" print the help on stdout and return MLOPS_EHELP;
 * the hidden "--list-opts" prints the long option names, one per line,
 * and returns MLOPS_EHELP too.  Unknown options, missing or malformed
 * arguments return MLOPS_EUSAGE with a message.
 */
int opt_parse(int argc, char **argv, const struct opt *opts,
	      const struct opt_usage *usage, int *n_operands,
	      struct mlops_err *err);

/* Print the full help (examples, synopsis, options) to stdout. */
void opt_print_help(const struct opt *opts, const struct opt_usage *usage);

/* Release the storage of a list (not the strings). */
void opt_list_release(struct opt_list *l);

/*
 * Parse "NAME=VALUE" with a finite number VALUE; *name_len receives the
 * length of NAME.  MLOPS_EUSAGE mentions `flag` on failure.
 */
int opt_parse_kv_double(const char *s, const char *flag, size_t *name_len,
			double *value, struct mlops_err *err);

#endif

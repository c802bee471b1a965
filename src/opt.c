/*
 * Option parsing from a table, with generated --help.
 *
 * Deliberately small: long and short options, "--opt=value" and
 * "--opt value", bundled short booleans are not supported (commands have
 * few short options), abbreviations are not accepted (scripts must not
 * break when an option is added).
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "xalloc.h"

static void list_push(struct opt_list *l, const char *item)
{
	XGROW(l->items, l->alloc, l->n + 1);
	l->items[l->n++] = item;
}

void opt_list_release(struct opt_list *l)
{
	if (!l)
		return;
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

static const char *opt_label(const struct opt *o, char *buf, size_t len)
{
	if (o->long_name)
		snprintf(buf, len, "--%s", o->long_name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

static int set_value(const struct opt *o, const char *arg,
		     struct mlops_err *err)
{
	char label[64], *end;
	const char *p;
	long l;
	double d;

	opt_label(o, label, sizeof(label));
	switch (o->type) {
	case OPT_T_BOOL:
		*(int *)o->value = 1;
		return 0;
	case OPT_T_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_T_INT:
		errno = 0;
		l = strtol(arg, &end, 10);
		if (!*arg || *end || errno)
			return err_set(err, MLOPS_EUSAGE,
				       "option '%s' expects an integer, got '%s'",
				       label, arg);
		*(long *)o->value = l;
		return 0;
	case OPT_T_DOUBLE:
		errno = 0;
		d = strtod(arg, &end);
		if (!*arg || *end || errno || !isfinite(d))
			return err_set(err, MLOPS_EUSAGE,
				       "option '%s' expects a number, got '%s'",
				       label, arg);
		*(double *)o->value = d;
		return 0;
	case OPT_T_LIST:
		list_push(o->value, arg);
		return 0;
	case OPT_T_CSV:
		/* Split in place: argv strings are ours to modify. */
		p = arg;
		for (;;) {
			char *comma = strchr(p, ',');

			if (comma)
				*comma = '\0';
			/* '' alone names the empty name (--exclude ''). */
			if (*p || !*arg)
				list_push(o->value, p);
			if (!comma)
				break;
			p = comma + 1;
		}
		return 0;
	case OPT_T_END:
		break;
	}
	BUG("unknown option type");
}

void opt_print_help(const struct opt *opts, const struct opt_usage *usage)
{
	const struct opt *o;
	const char *const *s;

	if (usage->summary)
		printf("%s\n\n", usage->summary);
	if (usage->examples && *usage->examples)
		printf("Examples:\n%s\n", usage->examples);
	for (s = usage->synopsis; *s; s++)
		printf("%s %s\n", s == usage->synopsis ? "Usage:" : "      ", *s);
	printf("\nOptions:\n");
	for (o = opts; o->type != OPT_T_END; o++) {
		char left[80];
		int n;

		n = snprintf(left, sizeof(left), "  %s%c%s%s%s%s",
			     o->short_name ? (char[]){ '-', (char)o->short_name, 0 } : "  ",
			     o->short_name && o->long_name ? ',' : ' ',
			     o->long_name ? " --" : "",
			     o->long_name ? o->long_name : "",
			     o->argh ? " " : "", o->argh ? o->argh : "");
		if (n < 28)
			printf("%-28s%s\n", left, o->help);
		else
			printf("%s\n%28s%s\n", left, "", o->help);
	}
	printf("  -h, --help                Show this help\n");
}

static const struct opt *find_long(const struct opt *opts, const char *name,
				   size_t len)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, int c)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

int opt_parse(int argc, char **argv, const struct opt *opts,
	      const struct opt_usage *usage, int *n_operands,
	      struct mlops_err *err)
{
	const char *cmd = argv[0];
	int i, n = 0, only_operands = 0, ret;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt *o;
		const char *arg = NULL;

		if (only_operands || a[0] != '-' || !a[1]) {
			argv[n++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_operands = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			opt_print_help(opts, usage);
			return MLOPS_EHELP;
		}
		if (!strcmp(a, "--list-opts")) {
			for (o = opts; o->type != OPT_T_END; o++)
				if (o->long_name)
					printf("--%s%s\n", o->long_name,
					       o->type == OPT_T_BOOL ? "" : "=");
			printf("--help\n");
			return MLOPS_EHELP;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');

			o = find_long(opts, name,
				      eq ? (size_t)(eq - name) : strlen(name));
			if (!o)
				return err_set(err, MLOPS_EUSAGE,
					       "unknown option '--%.*s' (see 'mlops %s --help')",
					       (int)(eq ? (size_t)(eq - name) : strlen(name)),
					       name, cmd);
			if (eq) {
				if (o->type == OPT_T_BOOL)
					return err_set(err, MLOPS_EUSAGE,
						       "option '--%s' takes no value",
						       o->long_name);
				arg = eq + 1;
			}
		} else {
			o = find_short(opts, (unsigned char)a[1]);
			if (!o)
				return err_set(err, MLOPS_EUSAGE,
					       "unknown option '-%c' (see 'mlops %s --help')",
					       a[1], cmd);
			if (a[2]) {
				if (o->type == OPT_T_BOOL)
					return err_set(err, MLOPS_EUSAGE,
						       "unknown option '%s'", a);
				arg = a + 2;
			}
		}
		if (o->type != OPT_T_BOOL && !arg) {
			char label[64];

			if (i + 1 >= argc)
				return err_set(err, MLOPS_EUSAGE,
					       "option '%s' needs a value",
					       opt_label(o, label, sizeof(label)));
			arg = argv[++i];
		}
		if ((ret = set_value(o, arg, err)))
			return ret;
	}
	*n_operands = n;
	return 0;
}

int opt_parse_kv_double(const char *s, const char *flag, size_t *name_len,
			double *value, struct mlops_err *err)
{
	const char *eq = strchr(s, '=');
	char *end;

	if (!eq || eq == s || !eq[1])
		return err_set(err, MLOPS_EUSAGE,
			       "option '%s' expects METRIC=VALUE, got '%s'",
			       flag, s);
	errno = 0;
	*value = strtod(eq + 1, &end);
	if (*end || errno || !isfinite(*value))
		return err_set(err, MLOPS_EUSAGE,
			       "option '%s': '%s' is not a number", flag, eq + 1);
	*name_len = (size_t)(eq - s);
	return 0;
}

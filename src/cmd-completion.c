/*
 * mlops completion bash|zsh|fish: print a shell completion script, and
 * mlops __complete WHAT: the hidden, read-only helper those scripts call.
 *
 * The three scripts live in completions/ and are embedded at build time
 * (Makefile.am turns them into src/completion-scripts.c with
 * scripts/embed.awk), so `mlops completion bash` prints exactly the file
 * that `make install` installs.  The scripts repeat no option list and
 * no model name: they ask `mlops __complete` for
 *
 *	commands		the command names, one per line
 *	flags [CMD]		CMD's long options ("--name=" when the option
 *				takes a value), or the global options
 *	models			the model names
 *	stages NAME		the stages set on model NAME
 *	refs			NAME, NAME:N and NAME@STAGE for every model
 *
 * __complete never writes, never fails loudly and prints nothing when
 * there is no repository or the question makes no sense: a completion
 * must not print errors into the user's command line.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"

/* Generated from completions/ (see the comment at the top). */
extern const char mlops_completion_bash[];
extern const char mlops_completion_zsh[];
extern const char mlops_completion_fish[];

static const char *const completion_synopsis[] = {
	"mlops completion bash|zsh|fish",
	NULL
};

static const struct opt_usage completion_usage = {
	completion_synopsis,
	"  source <(mlops completion bash)\n"
	"  mlops completion zsh >\"${fpath[1]}/_mlops\"\n"
	"  mlops completion fish | source\n",
	"Print the shell completion script for bash, zsh or fish."
};

int cmd_completion(int argc, char **argv, struct cmd_ctx *ctx,
		   struct mlops_err *err)
{
	const struct opt opts[] = {
		OPT_END()
	};
	const char *script;
	int ret, n;

	(void)ctx;
	if ((ret = opt_parse(argc, argv, opts, &completion_usage, &n, err)))
		return ret;
	if (n != 1)
		return err_set(err, MLOPS_EUSAGE, "%s; usage: %s",
			       n ? "too many operands" : "missing the shell",
			       completion_synopsis[0]);
	if (!strcmp(argv[0], "bash"))
		script = mlops_completion_bash;
	else if (!strcmp(argv[0], "zsh"))
		script = mlops_completion_zsh;
	else if (!strcmp(argv[0], "fish"))
		script = mlops_completion_fish;
	else
		return err_set(err, MLOPS_EUSAGE,
			       "unknown shell '%s'; expected bash, zsh or fish",
			       argv[0]);
	fputs(script, stdout);
	return 0;
}

static const char *const complete_synopsis[] = {
	"mlops __complete commands|flags [CMD]|models|stages NAME|refs",
	NULL
};

static const struct opt_usage complete_usage = {
	complete_synopsis,
	"  mlops __complete flags train\n",
	"Answer the shell completions (hidden, read-only)."
};

/* The long options main() takes before the command. */
static const char *const global_flags[] = {
	"-C", "--json", "--quiet", "--color=", "--help", "--version", NULL
};

static const struct cmd_struct *find_visible(const char *name)
{
	const struct cmd_struct *c;

	for (c = mlops_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN) && !strcmp(c->name, name))
			return c;
	return NULL;
}

static void complete_commands(void)
{
	const struct cmd_struct *c;

	for (c = mlops_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN))
			puts(c->name);
}

/*
 * A command's options: run it as `mlops CMD --list-opts`, which its
 * option table answers before anything else happens (opt_parse()).
 */
static void complete_flags(const char *name, const struct cmd_ctx *ctx)
{
	struct mlops_err sub_err = MLOPS_ERR_INIT;
	struct cmd_ctx sub = *ctx;
	const struct cmd_struct *c;
	const char *const *f;
	char *sub_argv[3];

	if (!name) {
		for (f = global_flags; *f; f++)
			puts(*f);
		return;
	}
	if (!(c = find_visible(name)))
		return;
	sub.name = c->name;
	sub.repo = NULL;
	sub_argv[0] = (char *)c->name;
	sub_argv[1] = "--list-opts";
	sub_argv[2] = NULL;
	c->fn(2, sub_argv, &sub, &sub_err);
}

static void complete_models(struct registry *reg)
{
	struct mlops_err quiet = MLOPS_ERR_INIT;
	char **names;
	size_t n, i;

	if (registry_list_models(reg, &names, &n, &quiet))
		return;
	for (i = 0; i < n; i++)
		puts(names[i]);
	registry_free_strings(names, n);
}

/* Stages of `model` (NULL: of every model, as NAME@STAGE). */
static void complete_stages(struct registry *reg, const char *model)
{
	struct mlops_err quiet = MLOPS_ERR_INIT;
	struct reg_stage *stages;
	size_t n, i;

	if (registry_list_stages(reg, model, &stages, &n, &quiet))
		return;
	for (i = 0; i < n; i++) {
		if (model)
			puts(stages[i].stage);
		else
			printf("%s@%s\n", stages[i].model, stages[i].stage);
		reg_stage_release(&stages[i]);
	}
	free(stages);
}

static void complete_refs(struct registry *reg)
{
	struct mlops_err quiet = MLOPS_ERR_INIT;
	struct reg_version *versions;
	size_t n, i;

	if (registry_list_versions(reg, NULL, &versions, &n, &quiet))
		return;
	for (i = 0; i < n; i++) {
		/* Versions come by model then version: name once, first. */
		if (!i || strcmp(versions[i].model, versions[i - 1].model))
			puts(versions[i].model);
		printf("%s:%d\n", versions[i].model, versions[i].version);
	}
	for (i = 0; i < n; i++)
		reg_version_release(&versions[i]);
	free(versions);
	complete_stages(reg, NULL);
}

int cmd_complete(int argc, char **argv, struct cmd_ctx *ctx,
		 struct mlops_err *err)
{
	const struct opt opts[] = {
		OPT_END()
	};
	struct registry *reg = ctx->repo ? ctx->repo->reg : NULL;
	const char *what;
	int ret, n;

	if ((ret = opt_parse(argc, argv, opts, &complete_usage, &n, err)))
		return ret;
	if (n < 1)
		return err_set(err, MLOPS_EUSAGE, "usage: %s",
			       complete_synopsis[0]);
	what = argv[0];
	if (!strcmp(what, "commands"))
		complete_commands();
	else if (!strcmp(what, "flags"))
		complete_flags(n > 1 ? argv[1] : NULL, ctx);
	else if (!reg)
		;	/* no repository: no names to offer */
	else if (!strcmp(what, "models"))
		complete_models(reg);
	else if (!strcmp(what, "stages")) {
		if (n > 1 && modelref_valid_name(argv[1]))
			complete_stages(reg, argv[1]);
	} else if (!strcmp(what, "refs"))
		complete_refs(reg);
	return 0;
}

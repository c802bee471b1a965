/*
 * mlops: global options, the command table, dispatch and exit codes.
 *
 * main() parses the options that come before the command (-C, --json,
 * -q, --color, --help, --version), finds the command in the table, sets
 * up what the row's flags ask for (the repository and its registry),
 * calls it, prints its one error line and turns its status into the exit
 * code of DESIGN.md.  Nothing else in mlops calls exit().
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "matrix.h"
#include "repo.h"

const struct cmd_struct mlops_commands[] = {
	{ "__complete", cmd_complete, CMD_HIDDEN | CMD_REPO_OPT | CMD_REPO_RO,
	  "answer the shell completions (read-only)" },
	{ "completion", cmd_completion, CMD_NEEDS_NOTHING,
	  "print the shell completion script for bash, zsh or fish" },
	{ "drift", cmd_drift, CMD_REPO_OPT,
	  "compare new data with the training baseline; exit 3 on drift" },
	{ "export", cmd_export, CMD_REPO_RO,
	  "write a model version and its manifest to a tar.gz bundle" },
	{ "history", cmd_history, CMD_REPO_RO,
	  "show the stage ledger of a model" },
	{ "import", cmd_import, CMD_REPO_RW,
	  "register the artefact of a bundle from 'mlops export'" },
	{ "init", cmd_init, CMD_NEEDS_NOTHING,
	  "create a repository (.mlops/) in the current folder" },
	{ "list", cmd_list, CMD_REPO_RO,
	  "list models, their versions and stages" },
	{ "promote", cmd_promote, CMD_REPO_RW,
	  "point a stage at a model version" },
	{ "register", cmd_register, CMD_REPO_RW,
	  "register an artefact as the next version of a model" },
	{ "rollback", cmd_rollback, CMD_REPO_RW,
	  "move a stage back to its previous holder" },
	{ "runs", cmd_runs, CMD_REPO_RO,
	  "list recorded runs" },
	{ "score-batch", cmd_score_batch, CMD_REPO_OPT,
	  "score a CSV file with a model" },
	{ "show", cmd_show, CMD_REPO_OPT,
	  "show a model version and its artefact" },
	{ "train", cmd_train, CMD_REPO_OPT | CMD_BLAS,
	  "fit a model on a CSV file and write its artefact" },
	{ "validate", cmd_validate, CMD_REPO_OPT,
	  "gate a model on labelled data; exit 3 when a gate fails" },
	{ "verify", cmd_verify, CMD_REPO_RO,
	  "re-hash every artefact and check the registry" },
	{ NULL, NULL, 0, NULL }
};

static const char main_usage[] =
	"usage: mlops [-C DIR] [--json] [-q] [--color=WHEN] COMMAND [ARGS]\n";

static void print_help(void)
{
	const struct cmd_struct *c;

	printf("mlops: from a CSV file to a model in production, and back.\n\n");
	printf("Examples:\n"
	       "  mlops init\n"
	       "  mlops train --data train.csv --target churned --register churn\n"
	       "  mlops validate churn:2 --data holdout.csv --against churn@production --min auc=0.80\n"
	       "  mlops promote churn:2 --to production --reason \"Q3 retrain\"\n"
	       "  mlops score-batch churn@production -i in.csv.gz -o out.csv\n"
	       "  mlops drift churn@production -i week.csv\n"
	       "  mlops rollback churn@production\n\n");
	printf("%s\n", main_usage);
	printf("Global options:\n"
	       "  -C DIR           run as if started in DIR\n"
	       "  --json           one JSON object (or JSON Lines) per result on stdout\n"
	       "  -q, --quiet      print nothing on success but results\n"
	       "  --color=WHEN     auto, always or never\n"
	       "  --version        print the version\n\n");
	printf("Commands:\n");
	for (c = mlops_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN))
			printf("  %-12s %s\n", c->name, c->summary);
	printf("\nSee 'mlops help COMMAND' or 'man mlops-COMMAND'.\n");
}

static const struct cmd_struct *find_command(const char *name)
{
	const struct cmd_struct *c;

	for (c = mlops_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* Whether the command's arguments ask only for help (no setup needed). */
static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
		    !strcmp(argv[i], "--list-opts"))
			return 1;
	}
	return 0;
}

static int decide_color(const char *when, struct mlops_err *err)
{
	const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");

	if (!strcmp(when, "always"))
		return 1;
	if (!strcmp(when, "never"))
		return 0;
	if (strcmp(when, "auto"))
		return err_set(err, MLOPS_EUSAGE,
			       "--color expects auto, always or never, got '%s'",
			       when), -1;
	if ((no_color && *no_color) || (term && !strcmp(term, "dumb")))
		return 0;
	return isatty(STDOUT_FILENO);
}

static int run_command(const struct cmd_struct *c, int argc, char **argv,
		       struct cmd_ctx *ctx, struct mlops_err *err)
{
	int ret;

	if (!wants_help(argc, argv) &&
	    (c->flags & (CMD_REPO_RO | CMD_REPO_RW | CMD_REPO_OPT))) {
		/* OPT: a repository is used if found; RO: read-only. */
		ret = repo_discover(!(c->flags & CMD_REPO_RO), &ctx->repo, err);
		if (ret == MLOPS_ENOTFOUND && (c->flags & CMD_REPO_OPT))
			ret = 0;
		/* The completion helper must stay silent, whatever it finds. */
		if (ret && (c->flags & CMD_HIDDEN)) {
			ctx->repo = NULL;
			err->msg[0] = '\0';
			ret = 0;
		}
		if (ret)
			return ret;
	}
	ret = c->fn(argc, argv, ctx, err);
	repo_free(ctx->repo);
	ctx->repo = NULL;
	return ret;
}

int main(int argc, char **argv)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct cmd_ctx ctx = { 0 };
	const char *color = "auto", *cmd_name;
	const struct cmd_struct *c;
	char *help_argv[3];
	int i, ret, code;
	const char *core;
	char **orig_argv = argv;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-C")) {
			if (++i >= argc) {
				fprintf(stderr, "mlops: option '-C' needs a folder\n");
				return 2;
			}
			if (chdir(argv[i])) {
				err_warn("mlops: cannot change to '%s': %s",
					 argv[i], strerror(errno));
				return 1;
			}
		} else if (!strcmp(a, "--json")) {
			ctx.json = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ctx.quiet = 1;
		} else if (!strncmp(a, "--color=", 8)) {
			color = a + 8;
		} else if (!strcmp(a, "--color")) {
			color = "always";
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_help();
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("mlops %s\n", MLOPS_VERSION);
			return 0;
		} else {
			err_warn("mlops: unknown option '%s'", a);
			fputs(main_usage, stderr);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "%sSee 'mlops --help'.\n", main_usage);
		return 2;
	}
	if ((ctx.color = decide_color(color, &err)) < 0) {
		fprintf(stderr, "mlops: %s\n", err.msg);
		return 2;
	}
	ctx.progress = !ctx.quiet && isatty(STDERR_FILENO);

	cmd_name = argv[i];
	if (!strcmp(cmd_name, "help")) {
		if (i + 1 >= argc) {
			print_help();
			return 0;
		}
		if (!(c = find_command(argv[i + 1]))) {
			err_warn("mlops: '%s' is not a command; see 'mlops --help'",
				 argv[i + 1]);
			return 2;
		}
		help_argv[0] = argv[i + 1];
		help_argv[1] = "--help";
		help_argv[2] = NULL;
		argc = 2;
		argv = help_argv;
		i = 0;
	} else if (!(c = find_command(cmd_name))) {
		err_warn("mlops: '%s' is not a command; see 'mlops --help'",
			 cmd_name);
		return 2;
	}

	/*
	 * OpenBLAS picks its kernels when it loads; if it failed to
	 * recognise this CPU, restart once with the right kernels named
	 * (3x faster training).  Only for commands that need BLAS: the
	 * restart costs a process start.
	 */
	if ((c->flags & CMD_BLAS) && !getenv("OPENBLAS_CORETYPE") &&
	    matrix_blas_needs_core(&core)) {
		setenv("OPENBLAS_CORETYPE", core, 1);
		execv("/proc/self/exe", orig_argv);
		/* If that fails, carry on with the slow kernels. */
	}
	ctx.name = c->name;
	ret = run_command(c, argc - i, argv + i, &ctx, &err);
	code = err_exit_code(ret);
	if (ret && ret != MLOPS_EHELP && (ret != MLOPS_ECHECK || err.msg[0]))
		fprintf(stderr, "mlops %s: %s\n", c->name,
			err.msg[0] ? err.msg : "failed");
	if (fflush(stdout) || ferror(stdout)) {
		if (!ret)
			fprintf(stderr, "mlops %s: cannot write to stdout: %s\n",
				c->name, strerror(errno));
		if (!code)
			code = 1;
	}
	return code;
}

#ifndef MLOPS_CMD_H
#define MLOPS_CMD_H

/*
 * The subcommand interface.  main.c owns the table of commands; each row's
 * flags say what main sets up before the call, so that no command opens
 * the repository or registry itself.  A command returns a status (0 or
 * enum mlops_status) with `err` filled on failure; main prints the
 * message once and maps the status to the exit code.
 */

#include <stddef.h>
#include "error.h"

struct repo;

enum {
	CMD_NEEDS_NOTHING = 0,
	CMD_REPO_RO = 1 << 0,	/* repository required, registry read-only */
	CMD_REPO_RW = 1 << 1,	/* repository required, registry writable */
	CMD_REPO_OPT = 1 << 2,	/* open the repository if one is found
				   (read-only with CMD_REPO_RO) */
	CMD_HIDDEN = 1 << 3,	/* not listed in help or completion;
				   repository errors are ignored */
	CMD_BLAS = 1 << 4	/* heavy linear algebra: wants the best
				   OpenBLAS kernels (see main.c) */
};

struct cmd_ctx {
	const char *name;	/* the command's name, e.g. "train" */
	int json;		/* --json: machine output on stdout */
	int quiet;		/* -q: nothing on stdout but results */
	int color;		/* colour on stdout/stderr decided by main */
	int progress;		/* stderr is a terminal and not quiet */
	struct repo *repo;	/* set per the table flags; may be NULL */
};

typedef int (*cmd_fn)(int argc, char **argv, struct cmd_ctx *ctx,
		      struct mlops_err *err);

struct cmd_struct {
	const char *name;
	cmd_fn fn;
	int flags;
	const char *summary;
};

/*
 * MLOPS_EUSAGE unless there are exactly `want` operands: "missing operand"
 * or "too many operands", then the synopsis.
 */
int cmd_operands(int n, int want, const char *synopsis,
		 struct mlops_err *err);

/*
 * The read options of every command that reads CSV, as typed: one set
 * per command, applied to each file it reads.  OPT_CSV_READ(&c) puts
 * them in an option table; cmd_csv_opts() checks and converts them.
 */
struct cmd_csv {
	const char *delimiter, *encoding;
};

#define OPT_CSV_READ(c) \
	OPT_STRING(0, "delimiter", &(c)->delimiter, "CHAR", \
		   "field separator of the CSV: ',' (default), ';', tab or '|'"), \
	OPT_STRING(0, "encoding", &(c)->encoding, "ENC", \
		   "utf-8 (default) or latin1 (Latin-1/Windows-1252, read as UTF-8)")

/* MLOPS_EUSAGE for a bad --delimiter or --encoding value. */
struct csv_opts;
int cmd_csv_opts(const struct cmd_csv *c, struct csv_opts *out,
		 struct mlops_err *err);

struct cJSON;

/* Print `obj` as one line of compact JSON on stdout, then free it. */
void cmd_print_json(struct cJSON *obj);
/* Add a string member, or null when `s` is NULL. */
void cmd_json_str(struct cJSON *obj, const char *key, const char *s);
/* Add a positive id (a run, a version) as a number, or null when <= 0. */
void cmd_json_id(struct cJSON *obj, const char *key, long long v);

/* Add a boolean member, or null when `v` < 0 (unknown). */
void cmd_json_bool(struct cJSON *obj, const char *key, int v);

/* Add the members of one ledger event, as history --json and bundles show it. */
struct reg_event;
void cmd_json_event(struct cJSON *obj, const struct reg_event *e);

/* The table, for help and completion (main.c owns it). */
extern const struct cmd_struct mlops_commands[];

int cmd_complete(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_completion(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_drift(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_export(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_history(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_import(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_init(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_list(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_promote(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_register(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_rollback(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_runs(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_score_batch(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_show(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_train(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_validate(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);
int cmd_verify(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err);

#endif

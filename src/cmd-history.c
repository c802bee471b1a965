/*
 * mlops history NAME[@STAGE]: the stage ledger of a model, oldest first:
 * when, which stage, from which version to which, promote or rollback
 * (and whether forced), who (user@host and the git identity when there
 * is one), and why.  --limit N shows the newest N rows.
 *
 * --at TIME answers "what did each stage hold then": one row per stage,
 * the ledger row that put its holder there.  TIME is an ISO 8601 UTC
 * prefix and means the end of the period it names.
 *
 * --json prints one object per ledger row (JSON Lines) with every
 * column, including host, git identity and the validation run.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

static const char *const history_synopsis[] = {
	"mlops history NAME[@STAGE] [--at TIME] [--limit N]",
	NULL
};

static const struct opt_usage history_usage = {
	history_synopsis,
	"  mlops history churn\n"
	"  mlops history churn@production --limit 20\n"
	"  mlops history churn --at 2026-11-22T08:00:00Z\n"
	"  mlops --json history churn@production\n",
	"Show the stage ledger of a model: every promote and rollback."
};

static void print_event_json(const struct reg_event *e)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddNumberToObject(obj, "schema", 1);
	cmd_json_event(obj, e);
	cmd_print_json(obj);
}

/* "user@host", then " (Name <email>)" when a git identity is known. */
static char *actor_of(const struct reg_event *e)
{
	if (e->git_identity)
		return xasprintf("%s@%s (%s)", e->actor, e->host,
				 e->git_identity);
	return xasprintf("%s@%s", e->actor, e->host);
}

static void print_table(const struct reg_event *events, size_t n_events)
{
	char **actors = xcalloc(n_events ? n_events : 1, sizeof(*actors));
	int w_stage = 5, w_actor = 5;
	size_t i;

	for (i = 0; i < n_events; i++) {
		actors[i] = actor_of(&events[i]);
		if ((int)strlen(events[i].stage) > w_stage)
			w_stage = (int)strlen(events[i].stage);
		if ((int)strlen(actors[i]) > w_actor)
			w_actor = (int)strlen(actors[i]);
	}
	if (n_events)
		printf("%-24s  %-*s  %-11s  %-17s  %-*s  %s\n", "TIME", w_stage,
		       "STAGE", "FROM -> TO", "ACTION", w_actor, "ACTOR",
		       "REASON");
	for (i = 0; i < n_events; i++) {
		const struct reg_event *e = &events[i];
		char move[32], from[12], action[24];

		if (e->from_version)
			snprintf(from, sizeof(from), "%d", e->from_version);
		else
			snprintf(from, sizeof(from), "-");
		snprintf(move, sizeof(move), "%s -> %d", from, e->to_version);
		snprintf(action, sizeof(action), "%s%s", e->action,
			 e->forced ? " (forced)" : "");
		printf("%-24s  %-*s  %-11s  %-17s  %-*s  %s\n", e->at, w_stage,
		       e->stage, move, action, w_actor, actors[i],
		       e->reason ? e->reason : "");
	}
	for (i = 0; i < n_events; i++)
		free(actors[i]);
	free(actors);
}

int cmd_history(int argc, char **argv, struct cmd_ctx *ctx,
		struct mlops_err *err)
{
	const char *at = NULL;
	long limit = 0;
	const struct opt opts[] = {
		OPT_STRING(0, "at", &at, "TIME",
			   "what each stage held at TIME (ISO 8601 UTC, "
			   "e.g. 2026-11-22T08:00:00Z)"),
		OPT_INT(0, "limit", &limit, "N", "only the newest N moves"),
		OPT_END()
	};
	struct modelref ref = { NULL, 0, NULL, NULL };
	struct reg_event *events = NULL;
	size_t n_events = 0, i;
	char bound[40];
	int ret, n;

	if ((ret = opt_parse(argc, argv, opts, &history_usage, &n, err)))
		return ret;
	if ((ret = cmd_operands(n, 1, history_synopsis[0], err)))
		return ret;
	if (limit < 0)
		return err_set(err, MLOPS_EUSAGE,
			       "option '--limit' expects a count, got %ld",
			       limit);
	if (at && (ret = registry_time_bound(at, bound, err)))
		return ret;
	if ((ret = modelref_parse(argv[0], &ref, err)))
		goto out;
	if (!ref.name || ref.version) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "'%s' is not a model or stage; expected "
			      "NAME[@STAGE]", argv[0]);
		goto out;
	}
	if (at) {
		ret = registry_stages_at(ctx->repo->reg, ref.name, ref.stage,
					 bound, &events, &n_events, err);
		if (!ret && ref.stage && !n_events)
			ret = err_set(err, MLOPS_ENOTFOUND,
				      "stage '%s' of model '%s' was not set at "
				      "%s", ref.stage, ref.name, at);
	} else {
		ret = registry_history(ctx->repo->reg, ref.name, ref.stage,
				       limit, &events, &n_events, err);
	}
	if (ret)
		goto out;
	if (ctx->json)
		for (i = 0; i < n_events; i++)
			print_event_json(&events[i]);
	else
		print_table(events, n_events);
out:
	for (i = 0; i < n_events; i++)
		reg_event_release(&events[i]);
	free(events);
	modelref_release(&ref);
	return ret;
}

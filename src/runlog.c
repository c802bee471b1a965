/*
 * Run bookkeeping shared by the commands that record runs.  The git
 * state is best effort: a folder outside git, or a broken repository,
 * simply records no commit rather than failing the command.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "repo.h"
#include "runlog.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void runlog_now(char buf[64])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

void runlog_start(struct runlog *rl)
{
	struct mlops_err ignored = MLOPS_ERR_INIT;

	memset(rl, 0, sizeof(*rl));
	rl->start = mono();
	runlog_now(rl->started_at);
	if (gitrepo_state(".", &rl->git, &ignored))
		memset(&rl->git, 0, sizeof(rl->git));
}

double runlog_elapsed(const struct runlog *rl)
{
	return mono() - rl->start;
}

int runlog_record(struct repo *repo, const struct runlog *rl,
		  struct reg_run *run, long long *id, struct mlops_err *err)
{
	int ret;

	*id = 0;
	if (!repo)
		return 0;
	run->started_at = rl->started_at;
	run->duration_s = runlog_elapsed(rl);
	run->git_commit = rl->git.found && rl->git.commit[0] ?
			  rl->git.commit : NULL;
	run->git_dirty = rl->git.found ? rl->git.dirty : 0;
	if ((ret = registry_begin(repo->reg, err)))
		return ret;
	if ((ret = registry_add_run(repo->reg, run, id, err))) {
		registry_rollback(repo->reg);
		return ret;
	}
	return registry_commit(repo->reg, err);
}

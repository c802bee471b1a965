/*
 * Run bookkeeping shared by the commands that record runs.  The git
 * state is best effort: a folder outside git, or a broken repository,
 * simply records no commit rather than failing the command.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "repo.h"
#include "runrec.h"
#include "sha256.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void runrec_now(char buf[64])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

void runrec_start(struct runrec *rl)
{
	struct mlops_err ignored = MLOPS_ERR_INIT;

	memset(rl, 0, sizeof(*rl));
	rl->start = mono();
	runrec_now(rl->started_at);
	if (gitrepo_state(".", &rl->git, &ignored))
		memset(&rl->git, 0, sizeof(rl->git));
}

double runrec_elapsed(const struct runrec *rl)
{
	return mono() - rl->start;
}

int runrec_record(struct repo *repo, const struct runrec *rl,
		  struct reg_run *run, long long *id, struct mlops_err *err)
{
	char *model = NULL;
	int ret, version = 0;

	*id = 0;
	if (!repo)
		return 0;
	if (!run->model && run->artifact_sha256 && *run->artifact_sha256) {
		if ((ret = registry_artifact_version(repo->reg,
						     run->artifact_sha256,
						     &model, &version, err)))
			return ret;
		if (model) {
			run->model = model;
			run->version = version;
		}
	}
	run->started_at = rl->started_at;
	run->duration_s = runrec_elapsed(rl);
	run->git_commit = rl->git.found && rl->git.commit[0] ?
			  rl->git.commit : NULL;
	run->git_dirty = rl->git.found ? rl->git.dirty : 0;
	if ((ret = registry_begin(repo->reg, err)))
		goto out;
	if ((ret = registry_add_run(repo->reg, run, id, err))) {
		registry_rollback(repo->reg);
		goto out;
	}
	ret = registry_commit(repo->reg, err);
out:
	if (model) {
		run->model = NULL;
		run->version = 0;
		free(model);
	}
	return ret;
}

int runrec_hash_file(const char *path, char hex[65], struct mlops_err *err)
{
	struct sha256_ctx c;
	unsigned char buf[65536], digest[32];
	struct stat st;
	size_t n;
	FILE *fp;
	int ret = 0;

	hex[0] = '\0';
	if (strcmp(path, "-") && stat(path, &st))
		return err_set(err, MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	if (!strcmp(path, "-") || !S_ISREG(st.st_mode))
		return err_set(err, MLOPS_EUSAGE, "'%s' is not a regular file",
			       path);
	if (!(fp = fopen(path, "rb")))
		return err_set(err, MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	sha256_init(&c);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sha256_update(&c, buf, n);
	if (ferror(fp))
		ret = err_set(err, MLOPS_EIO, "cannot read '%s': %s", path,
			      strerror(errno));
	fclose(fp);
	if (ret)
		return ret;
	sha256_final(&c, digest);
	sha256_to_hex(digest, hex);
	return 0;
}

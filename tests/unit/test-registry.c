/*
 * Unit tests for the registry (registry.c) and the artefact store
 * (repo.c): registration and its idempotency, resolution, stage moves,
 * the rollback stack, the append-only ledger, runs, locking, integrity,
 * lineage lookups, the stage policy in the config, and hash checking on
 * read.  Each test works in a fresh temporary folder.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "registry.h"
#include "repo.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/mlops-test-registry.XXXXXX";

static const char sha_a[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char sha_b[] =
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char sha_c[] =
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

static struct registry *fresh(const char *name, int timeout_ms)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct registry *reg = NULL;

	if (registry_create(path, &err) ||
	    registry_open(path, 1, timeout_ms, &reg, &err))
		printf("# setup failed: %s\n", err.msg);
	else
		registry_set_actor(reg, "ada", "build-1");
	free(path);
	return reg;
}

static int reg_version(struct registry *reg, const char *model,
		       const char *sha, int *existed)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	int version = 0, ret;

	if (registry_begin(reg, &err))
		return -1;
	ret = registry_register(reg, model, sha, 100, 0, NULL, &version,
				existed, &err);
	if (ret || registry_commit(reg, &err)) {
		printf("# register failed: %s\n", err.msg);
		registry_rollback(reg);
		return -1;
	}
	return version;
}

static int move(struct registry *reg, const char *model, const char *stage,
		int to, const char *action)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_move mv = { model, stage, to, action, 0, "test", 0, NULL };
	int ret;

	if ((ret = registry_begin(reg, &err)))
		return ret;
	if ((ret = registry_stage_move(reg, &mv, NULL, NULL, &err))) {
		registry_rollback(reg);
		printf("# move: %s\n", err.msg);
		return ret;
	}
	return registry_commit(reg, &err);
}

static void test_register_resolve(void)
{
	struct registry *reg = fresh("a.db", 1000);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_version v;
	int existed;

	is_int(reg_version(reg, "churn", sha_a, &existed), 1,
	       "first version is 1");
	is_int(existed, 0, "first registration is new");
	is_int(reg_version(reg, "churn", sha_b, &existed), 2, "second is 2");
	is_int(reg_version(reg, "churn", sha_a, &existed), 1,
	       "identical bytes return the existing version");
	is_int(existed, 1, "... and say so");
	is_int(reg_version(reg, "other", sha_a, &existed), 1,
	       "another model numbers from 1");

	ok(!registry_resolve(reg, "churn", 0, NULL, &v, &err) &&
	   v.version == 2 && !strcmp(v.sha256, sha_b),
	   "NAME resolves to the newest version");
	reg_version_release(&v);
	ok(!registry_resolve(reg, "churn", 1, NULL, &v, &err) &&
	   !strcmp(v.sha256, sha_a) && v.size == 100 &&
	   !strcmp(v.created_by, "ada@build-1"),
	   "NAME:N resolves to that version, made by the actor given");
	reg_version_release(&v);
	is_int(registry_resolve(reg, "nope", 0, NULL, &v, &err),
	       MLOPS_ENOTFOUND, "unknown model is not found");
	is_str(err.msg, "no model 'nope'", "... with its name");
	is_int(registry_resolve(reg, "churn", 7, NULL, &v, &err),
	       MLOPS_ENOTFOUND, "unknown version is not found");
	is_str(err.msg, "model 'churn' has no version 7",
	       "... with its number");
	is_int(registry_resolve(reg, "churn", 0, "production", &v, &err),
	       MLOPS_ENOTFOUND, "unset stage is not found");
	is_str(err.msg, "stage 'production' of model 'churn' is not set",
	       "... with a clear message");
	registry_close(reg);
}

static void test_stages_and_rollback(void)
{
	struct registry *reg = fresh("b.db", 1000);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_event *ev = NULL;
	struct reg_version v;
	size_t n_ev = 0, i;
	int existed, cur, target;

	reg_version(reg, "churn", sha_a, &existed);
	reg_version(reg, "churn", sha_b, &existed);
	reg_version(reg, "churn", sha_c, &existed);

	is_int(registry_rollback_target(reg, "churn", "production", 0, &target,
					&err), MLOPS_ENOTFOUND,
	       "rollback of an unset stage is refused");
	is_int(move(reg, "churn", "production", 1, "promote"), 0, "promote 1");
	is_int(registry_rollback_target(reg, "churn", "production", 0, &target,
					&err), MLOPS_ENOTFOUND,
	       "rollback with one holder is refused");
	is_str(err.msg, "stage 'production' of model 'churn' has no earlier "
	       "holder to roll back to", "... with the documented message");
	is_int(move(reg, "churn", "production", 3, "promote"), 0, "promote 3");
	is_int(move(reg, "churn", "production", 2, "promote"), 0, "promote 2");
	ok(!registry_stage_get(reg, "churn", "production", &cur, &err) &&
	   cur == 2, "the stage holds the last promoted version");
	ok(!registry_resolve(reg, "churn", 0, "production", &v, &err) &&
	   v.version == 2, "NAME@STAGE resolves to the holder");
	reg_version_release(&v);

	ok(!registry_rollback_target(reg, "churn", "production", 0, &target,
				     &err) && target == 3,
	   "rollback goes to the previous holder (3), not N-1");
	ok(!registry_rollback_target(reg, "churn", "production", 1, &target,
				     &err) && target == 1,
	   "--to an earlier holder is allowed");
	is_int(registry_rollback_target(reg, "churn", "production", 2, &target,
					&err), MLOPS_ENOTFOUND,
	       "--to the current holder is refused");
	is_int(registry_rollback_target(reg, "churn", "production", 5, &target,
					&err), MLOPS_ENOTFOUND,
	       "--to a version never held is refused");

	is_int(move(reg, "churn", "production", 3, "rollback"), 0,
	       "roll back to 3");
	ok(!registry_rollback_target(reg, "churn", "production", 0, &target,
				     &err) && target == 1,
	   "a second rollback walks further back");
	is_int(move(reg, "churn", "production", 1, "rollback"), 0,
	       "roll back to 1");
	is_int(registry_rollback_target(reg, "churn", "production", 0, &target,
					&err), MLOPS_ENOTFOUND,
	       "the bottom of the stack has no earlier holder");
	is_int(move(reg, "churn", "production", 9, "promote"), MLOPS_ENOTFOUND,
	       "moving to a missing version is refused");

	ok(!registry_history(reg, "churn", "production", 0, &ev, &n_ev, &err) &&
	   n_ev == 5, "history holds every move");
	if (n_ev == 5) {
		is_int(ev[0].from_version, 0, "first move came from unset");
		is_int(ev[3].from_version, 2, "the rollback records its from");
		is_str(ev[3].action, "rollback", "... and its action");
		is_str(ev[4].reason, "test", "reasons are kept");
		ok(!strcmp(ev[4].actor, "ada") &&
		   !strcmp(ev[4].host, "build-1") && strlen(ev[4].at) == 24,
		   "the actor and host given and a millisecond timestamp are "
		   "recorded");
	}
	for (i = 0; i < n_ev; i++)
		reg_event_release(&ev[i]);
	free(ev);
	is_int(registry_history(reg, "churn", "staging", 0, &ev, &n_ev, &err),
	       MLOPS_ENOTFOUND, "history of a stage never set is not found");
	registry_close(reg);
}

static void test_history_limit_and_at(void)
{
	struct registry *reg = fresh("c.db", 1000);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_event *ev = NULL;
	size_t n_ev = 0, i;
	char bound[40];
	int existed, k;

	reg_version(reg, "churn", sha_a, &existed);
	reg_version(reg, "churn", sha_b, &existed);
	for (k = 0; k < 10; k++)
		move(reg, "churn", k % 2 ? "staging" : "production",
		     1 + k % 2, "promote");
	ok(!registry_history(reg, "churn", "production", 3, &ev, &n_ev,
			     &err) && n_ev == 3 && ev[0].id < ev[2].id &&
	   ev[2].id == 9, "--limit takes the newest rows, oldest first");
	for (i = 0; i < n_ev; i++)
		reg_event_release(&ev[i]);
	free(ev);

	ok(!registry_time_bound("2026-11-22", bound, &err) &&
	   !strcmp(bound, "2026-11-22~"), "a day is a bound at its end");
	ok(!registry_time_bound("2026-11-22 08:00:00.5", bound, &err) &&
	   !strcmp(bound, "2026-11-22T08:00:00.5~"),
	   "a space for the T, and a fraction of a second");
	ok(!registry_time_bound("2026-11-22t08:00:00Z", bound, &err) &&
	   !strcmp(bound, "2026-11-22T08:00:00~"),
	   "a full second with Z, any T");
	is_int(registry_time_bound("2026-1-22", bound, &err), MLOPS_EUSAGE,
	       "a malformed date is a usage error");
	is_int(registry_time_bound("", bound, &err), MLOPS_EUSAGE,
	       "an empty time is a usage error");
	is_int(registry_time_bound("2026-11-22T08:00:00+02:00", bound, &err),
	       MLOPS_EUSAGE, "offsets other than Z are refused");

	ok(!registry_time_bound("2999", bound, &err) &&
	   !registry_stages_at(reg, "churn", NULL, bound, &ev, &n_ev, &err) &&
	   n_ev == 2 && !strcmp(ev[0].stage, "production") &&
	   ev[0].to_version == 1 && ev[1].to_version == 2,
	   "at a later time, every stage's current holder, by stage");
	for (i = 0; i < n_ev; i++)
		reg_event_release(&ev[i]);
	free(ev);
	ok(!registry_time_bound("2000", bound, &err) &&
	   !registry_stages_at(reg, "churn", "staging", bound, &ev, &n_ev,
			       &err) && n_ev == 0,
	   "before the first move, nothing was set");
	free(ev);
	is_int(registry_stages_at(reg, "nope", NULL, bound, &ev, &n_ev, &err),
	       MLOPS_ENOTFOUND, "--at of an unknown model is not found");
	registry_close(reg);
}

static void test_ledger_append_only(void)
{
	char *path = xasprintf("%s/b.db", tmpdir);
	sqlite3 *db;
	int rc_upd, rc_del;

	sqlite3_open(path, &db);
	rc_upd = sqlite3_exec(db, "UPDATE stage_events SET reason = 'x'",
			      NULL, NULL, NULL);
	rc_del = sqlite3_exec(db, "DELETE FROM stage_events", NULL, NULL, NULL);
	ok(rc_upd == SQLITE_CONSTRAINT, "the ledger refuses UPDATE");
	ok(rc_del == SQLITE_CONSTRAINT, "the ledger refuses DELETE");
	sqlite3_close(db);
	free(path);
}

static void test_runs(void)
{
	struct registry *reg = fresh("c.db", 1000);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_run run = {
		"validate", "churn", 1, "2024-01-01T00:00:00.000Z", 0.5, 3, 0,
		"{}", NULL, "{\"auc\":0.7}", NULL, NULL, 0, NULL, NULL, 0
	};
	struct reg_run_row *rows = NULL, latest;
	long long id1 = 0, id2 = 0;
	size_t n = 0, i;
	int existed, found = -1;

	reg_version(reg, "churn", sha_a, &existed);
	registry_begin(reg, &err);
	ok(!registry_add_run(reg, &run, &id1, &err) && id1 > 0,
	   "a failed validation is recorded");
	registry_commit(reg, &err);
	ok(!registry_latest_validation(reg, "churn", 1, &latest, &found,
				       &err) && found && latest.id == id1 &&
	   latest.passed == 0, "a failed validation is the latest");
	reg_run_row_release(&latest);
	run.passed = 1;
	run.exit_status = 0;
	registry_begin(reg, &err);
	registry_add_run(reg, &run, &id2, &err);
	registry_commit(reg, &err);
	ok(!registry_latest_validation(reg, "churn", 1, &latest, &found,
				       &err) && found && latest.id == id2 &&
	   latest.passed == 1, "a newer passing validation is the latest");
	reg_run_row_release(&latest);
	ok(!registry_latest_validation(reg, "churn", 2, &latest, &found,
				       &err) && !found && !latest.id,
	   "a version never validated has no latest validation");
	run.kind = "train";
	run.model = NULL;
	run.version = 0;
	run.passed = -1;
	registry_begin(reg, &err);
	registry_add_run(reg, &run, NULL, &err);
	registry_commit(reg, &err);
	ok(!registry_list_runs(reg, NULL, NULL, 0, &rows, &n, &err) && n == 3 &&
	   rows[0].passed == -1 && !rows[0].model && rows[1].passed == 1,
	   "runs list newest first with NULLs kept");
	is_double(n ? rows[0].duration_s : 0, 0.5, 0, "durations read back");
	for (i = 0; i < n; i++)
		reg_run_row_release(&rows[i]);
	free(rows);
	ok(!registry_list_runs(reg, "churn", "validate", 1, &rows, &n, &err) &&
	   n == 1 && rows[0].id == id2, "runs filter by model, kind, limit");
	for (i = 0; i < n; i++)
		reg_run_row_release(&rows[i]);
	free(rows);
	registry_close(reg);
}

static void test_lineage(void)
{
	struct registry *reg = fresh("l.db", 1000);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_run_output outs[2] = {
		{ "predictions", "out.csv", sha_b, 10 },
		{ "metrics", "m.prom", sha_c, -1 },
	};
	struct reg_run run = {
		"train", NULL, 0, "2024-01-01T00:00:00.000Z", 0.5, 0, -1,
		NULL, NULL, NULL, NULL, NULL, 0, sha_a, NULL, 0
	};
	struct reg_run_row row;
	long long train_id = 0, score_id = 0, id = -1;
	char *model = NULL, *role = NULL;
	int version = -1, existed;

	registry_begin(reg, &err);
	ok(!registry_add_run(reg, &run, &train_id, &err) &&
	   !registry_register(reg, "churn", sha_a, 100, train_id, NULL,
			      &version, &existed, &err) &&
	   !registry_set_run_version(reg, train_id, "churn", version, &err),
	   "a train run is recorded, then named by the version it made");
	registry_commit(reg, &err);
	ok(!registry_get_run(reg, train_id, &row, &err) && row.model &&
	   !strcmp(row.model, "churn") && row.version == 1 &&
	   row.artifact_sha256 && !strcmp(row.artifact_sha256, sha_a) &&
	   row.n_outputs == 0, "the train run reads back with its artefact");
	reg_run_row_release(&row);
	run.kind = "score-batch";
	run.outputs = outs;
	run.n_outputs = 2;
	registry_begin(reg, &err);
	ok(!registry_add_run(reg, &run, &score_id, &err),
	   "a run with two outputs is recorded");
	registry_commit(reg, &err);
	ok(!registry_get_run(reg, score_id, &row, &err) &&
	   row.n_outputs == 2 && !strcmp(row.outputs[0].role, "metrics") &&
	   row.outputs[0].rows == -1 &&
	   !strcmp(row.outputs[1].sha256, sha_b) &&
	   !strcmp(row.outputs[1].path, "out.csv") &&
	   row.outputs[1].rows == 10, "its outputs read back by role");
	reg_run_row_release(&row);
	ok(!registry_output_run(reg, sha_b, &id, &role, &err) &&
	   id == score_id && role && !strcmp(role, "predictions"),
	   "the run that wrote a file is found by its hash");
	free(role);
	ok(!registry_output_run(reg, sha_a, &id, &role, &err) && id == 0 &&
	   !role, "a hash no run wrote finds nothing");
	ok(!registry_artifact_version(reg, sha_a, &model, &version, &err) &&
	   model && !strcmp(model, "churn") && version == 1,
	   "an artefact hash names its version");
	free(model);
	ok(!registry_artifact_train_run(reg, sha_a, &id, &err) &&
	   id == train_id, "an artefact hash finds its training run");
	is_int(registry_get_run(reg, 999, &row, &err), MLOPS_ENOTFOUND,
	       "an unknown run is not found");
	registry_close(reg);
}

static void test_busy_and_integrity(void)
{
	struct registry *a = fresh("d.db", 1000), *b = NULL;
	struct mlops_err err = MLOPS_ERR_INIT;
	char *path = xasprintf("%s/d.db", tmpdir), **problems = NULL;
	size_t n = 0;

	registry_open(path, 1, 50, &b, &err);
	ok(!registry_begin(a, &err), "one writer takes the lock");
	is_int(registry_begin(b, &err), MLOPS_EBUSY,
	       "a second writer gives up after the timeout");
	is_str(err.msg, "registry is locked by another process (waited 50 ms); "
	       "retry", "... saying it is safe to retry");
	registry_rollback(a);
	ok(!registry_begin(b, &err), "the lock is free again");
	registry_rollback(b);
	ok(!registry_integrity_check(a, &problems, &n, &err) && n == 0,
	   "a fresh registry passes its integrity check");
	registry_free_strings(problems, n);
	registry_close(a);
	registry_close(b);
	free(path);

	path = xasprintf("%s/not-a-db", tmpdir);
	{
		FILE *fp = fopen(path, "w");

		fputs("hello", fp);
		fclose(fp);
	}
	ok(registry_open(path, 0, 50, &b, &err) == MLOPS_ECORRUPT,
	   "a file that is not a registry is refused");
	free(path);
}

/* The stage policy read from the config of the repository at `dir`. */
static void test_stage_policy(struct repo *repo, const char *dir)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct repo_stage_policy p;
	char *path = xasprintf("%s/config", dir);
	FILE *fp;

	ok(!repo_stage_policy(repo, "production", &p, &err) &&
	   p.require_validation && p.require_gate && !p.require_against,
	   "production: a gated validation by default, no comparison");
	ok(!repo_stage_policy(repo, "staging", &p, &err) &&
	   !p.require_validation && p.require_gate && !p.require_against,
	   "other stages need no validation by default");
	fp = fopen(path, "a");
	fputs("[stage \"staging\"]\n\trequire-validation = yes\n"
	      "\trequire-against\n[stage \"production\"]\n"
	      "\trequire-gate = off\n", fp);
	fclose(fp);
	ok(!repo_stage_policy(repo, "staging", &p, &err) &&
	   p.require_validation && p.require_gate && p.require_against,
	   "a stage's settings are read, a bare key being true");
	ok(!repo_stage_policy(repo, "production", &p, &err) &&
	   p.require_validation && !p.require_gate && !p.require_against,
	   "require-gate can be turned off");
	fp = fopen(path, "a");
	fputs("[stage \"qa\"]\n\trequire-against = often\n", fp);
	fclose(fp);
	is_int(repo_stage_policy(repo, "qa", &p, &err), MLOPS_ECORRUPT,
	       "a value that is not a boolean is refused");
	ok(strstr(err.msg, "stage.qa.require-against must be true or false")
	   != NULL, "... naming the setting");
	free(path);
}

static void test_store(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct repo *repo = NULL;
	char *dir = xasprintf("%s/.mlops", tmpdir), *path, hex[65], *bytes;
	const char data[] = "{\"format\":\"mlops-model\"}";
	size_t len;
	int existed;
	FILE *fp;
	struct stat st;

	ok(!repo_init(tmpdir, &existed, &err) && !existed, "repo_init creates");
	ok(!repo_init(tmpdir, &existed, &err) && existed,
	   "repo_init again is harmless");
	setenv("MLOPS_DIR", dir, 1);
	ok(!repo_discover(1, &repo, &err), "MLOPS_DIR finds the repository");
	if (!repo) {
		printf("# %s\n", err.msg);
		free(dir);
		return;
	}
	is_int(repo->busy_timeout_ms, 5000, "default busy timeout");
	ok(!repo_store_artifact(repo, data, sizeof(data) - 1, hex, &err),
	   "an artefact is stored");
	path = repo_artifact_path(repo, hex);
	ok(!stat(path, &st) && (st.st_mode & 0777) == 0444,
	   "artefact files are read-only");
	ok(!repo_store_artifact(repo, data, sizeof(data) - 1, hex, &err),
	   "storing it again is idempotent");
	ok(!repo_read_artifact(repo, hex, &bytes, &len, &err) &&
	   len == sizeof(data) - 1 && !memcmp(bytes, data, len),
	   "it reads back");
	free(bytes);
	chmod(path, 0644);
	fp = fopen(path, "w");
	fputs("{\"format\":\"tampered\"}", fp);
	fclose(fp);
	is_int(repo_read_artifact(repo, hex, &bytes, &len, &err),
	       MLOPS_ECORRUPT, "a tampered artefact is refused");
	ok(strstr(err.msg, "is corrupt: its bytes hash to sha256:") != NULL,
	   "... naming both hashes");
	unlink(path);
	is_int(repo_read_artifact(repo, hex, &bytes, &len, &err),
	       MLOPS_ENOTFOUND, "a missing artefact is not found");
	free(path);
	test_stage_policy(repo, dir);
	repo_free(repo);
	unsetenv("MLOPS_DIR");
	free(dir);
}

int main(void)
{
	char *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_register_resolve();
	test_stages_and_rollback();
	test_history_limit_and_at();
	test_ledger_append_only();
	test_runs();
	test_lineage();
	test_busy_and_integrity();
	test_store();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# cannot remove %s\n", tmpdir);
	free(cmd);
	return done_testing();
}

/*
 * The model registry in SQLite.
 *
 * Tables: models; versions (immutable, one artefact hash each, unique per
 * model); version_tags; stages (the current pointer of each stage);
 * stage_events (the append-only ledger, guarded by triggers that refuse
 * UPDATE and DELETE); runs, each naming the artefact it used by hash
 * (schema 3), and run_outputs, the files each run wrote, by hash, for
 * lineage lookups.  The schema lives in migrations[]: entry k
 * takes PRAGMA user_version from k to k + 1, and opening a writable
 * registry applies the missing steps inside one BEGIN IMMEDIATE.
 *
 * Assumptions: one connection per process; the caller brackets each
 * command's writes with registry_begin()/registry_commit(), and the
 * write functions here run inside that transaction, so that version
 * numbers (max + 1) and ledger rows are allocated under the write lock.
 * Concurrency is SQLite's: WAL mode (readers never block the writer) and
 * a busy handler that naps briefly until the busy timeout; a lock still
 * held after it is MLOPS_EBUSY.
 *
 * The ledger is a stack per stage for rollback: each row stores the row
 * below it (below_event_id, schema 2), so finding the previous holder
 * follows a pointer from the stage's current row instead of replaying
 * the ledger, and history reads the newest rows straight off an index.
 *
 * The DML is kept to what PostgreSQL also accepts (no INSERT OR ...,
 * no REPLACE, MAX() subqueries instead of ORDER BY ... LIMIT 1 where the
 * standard form exists; ON CONFLICT and RETURNING exist in both), so a
 * second backend can share the statements.  The DDL (INTEGER PRIMARY KEY,
 * triggers) is per backend by nature.
 *
 * Deliberately absent: knowledge of artefact files (repo.c owns them), of
 * policy such as "production needs a passing validation" (release.c),
 * and of who acts: the user and host on the rows are what the opener
 * gave registry_set_actor() (ident.c computes them), the git identity
 * what the move names.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "registry.h"
#include "xalloc.h"

/* 'mlop' in PRAGMA application_id marks the file as ours (1835822960). */
#define REGISTRY_APP_ID 0x6d6c6f70

struct registry {
	sqlite3 *db;
	int busy_timeout_ms;
	struct timespec busy_since;	/* when the current wait began */
	int writable;
	char user[128];		/* who writes (registry_set_actor()) */
	char host[256];
};

/* The guard that keeps the ledger append-only (also used by backfill). */
#define STAGE_EVENTS_NO_UPDATE \
	"CREATE TRIGGER stage_events_no_update BEFORE UPDATE ON " \
	"stage_events\n" \
	"BEGIN SELECT RAISE(ABORT, 'the stage ledger is append-only'); END;\n"

/*
 * The forward migrations; migrations[k] takes user_version k to k + 1
 * and sets it.  Never edit a released step: append a new one.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the initial schema */
	"CREATE TABLE models (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  created_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE versions (\n"
	"  model TEXT NOT NULL REFERENCES models (name),\n"
	"  version INTEGER NOT NULL CHECK (version > 0),\n"
	"  sha256 TEXT NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  run_id INTEGER,\n"
	"  description TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  created_by TEXT NOT NULL,\n"
	"  PRIMARY KEY (model, version),\n"
	"  UNIQUE (model, sha256)\n"
	");\n"
	"CREATE INDEX versions_sha256 ON versions (sha256);\n"
	"CREATE TABLE version_tags (\n"
	"  model TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL,\n"
	"  key TEXT NOT NULL,\n"
	"  value TEXT NOT NULL,\n"
	"  PRIMARY KEY (model, version, key),\n"
	"  FOREIGN KEY (model, version)\n"
	"    REFERENCES versions (model, version)\n"
	");\n"
	"CREATE TABLE stage_events (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  model TEXT NOT NULL REFERENCES models (name),\n"
	"  stage TEXT NOT NULL,\n"
	"  from_version INTEGER,\n"
	"  to_version INTEGER NOT NULL,\n"
	"  action TEXT NOT NULL\n"
	"    CHECK (action IN ('promote', 'rollback')),\n"
	"  forced INTEGER NOT NULL DEFAULT 0,\n"
	"  actor TEXT NOT NULL,\n"
	"  host TEXT NOT NULL,\n"
	"  git_identity TEXT,\n"
	"  at TEXT NOT NULL,\n"
	"  reason TEXT,\n"
	"  validation_run_id INTEGER,\n"
	"  FOREIGN KEY (model, to_version)\n"
	"    REFERENCES versions (model, version)\n"
	");\n"
	"CREATE INDEX stage_events_model_stage\n"
	"  ON stage_events (model, stage, id);\n"
	"CREATE INDEX stage_events_at ON stage_events (model, at);\n"
	STAGE_EVENTS_NO_UPDATE
	"CREATE TRIGGER stage_events_no_delete BEFORE DELETE ON stage_events\n"
	"BEGIN SELECT RAISE(ABORT, 'the stage ledger is append-only'); END;\n"
	"CREATE TABLE stages (\n"
	"  model TEXT NOT NULL REFERENCES models (name),\n"
	"  stage TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL,\n"
	"  event_id INTEGER NOT NULL REFERENCES stage_events (id),\n"
	"  updated_at TEXT NOT NULL,\n"
	"  PRIMARY KEY (model, stage),\n"
	"  FOREIGN KEY (model, version)\n"
	"    REFERENCES versions (model, version)\n"
	");\n"
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  kind TEXT NOT NULL,\n"
	"  model TEXT,\n"
	"  version INTEGER,\n"
	"  started_at TEXT NOT NULL,\n"
	"  duration_s REAL NOT NULL,\n"
	"  exit_status INTEGER NOT NULL,\n"
	"  passed INTEGER,\n"
	"  params TEXT,\n"
	"  inputs TEXT,\n"
	"  metrics TEXT,\n"
	"  profile TEXT,\n"
	"  git_commit TEXT,\n"
	"  git_dirty INTEGER\n"
	");\n"
	"CREATE INDEX runs_model_version\n"
	"  ON runs (model, version, kind, passed);\n"
	"CREATE INDEX runs_kind ON runs (kind, id);\n"
	"PRAGMA user_version = 1;\n",

	/*
	 * 1 -> 2: each ledger row points at the row whose version the stage
	 * returns to on rollback (below_event_id), so that rollback follows
	 * pointers instead of replaying the whole ledger; indexes for the
	 * newest-first history of a model and for --at.  The existing rows
	 * are filled in by backfill_below() within the same transaction.
	 */
	"ALTER TABLE stage_events ADD COLUMN below_event_id INTEGER\n"
	"  REFERENCES stage_events (id);\n"
	"CREATE INDEX stage_events_model_id ON stage_events (model, id);\n"
	"CREATE INDEX stage_events_model_stage_at\n"
	"  ON stage_events (model, stage, at);\n"
	"PRAGMA user_version = 2;\n",

	/*
	 * 2 -> 3: lineage.  Each run names the artefact it used (or, for
	 * train, made) by hash, and the files it wrote are rows of
	 * run_outputs, indexed by hash, so that "which run wrote this
	 * file" is one lookup.  Older runs keep NULL: they recorded none.
	 */
	"ALTER TABLE runs ADD COLUMN artifact_sha256 TEXT;\n"
	"CREATE INDEX runs_artifact ON runs (artifact_sha256, kind, id);\n"
	"CREATE TABLE run_outputs (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id),\n"
	"  role TEXT NOT NULL,\n"
	"  path TEXT NOT NULL,\n"
	"  sha256 TEXT NOT NULL,\n"
	"  rows INTEGER,\n"
	"  PRIMARY KEY (run_id, role)\n"
	");\n"
	"CREATE INDEX run_outputs_sha256 ON run_outputs (sha256, run_id);\n"
	"PRAGMA user_version = 3;\n",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Turn an SQLite failure into our status, copying the message now. */
static int db_fail(struct registry *reg, int rc, const char *what,
		   struct mlops_err *err)
{
	const char *msg = reg && reg->db ? sqlite3_errmsg(reg->db) :
			  sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return err_set(err, MLOPS_EBUSY,
			       "registry is locked by another process "
			       "(waited %d ms); retry",
			       reg ? reg->busy_timeout_ms : 0);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return err_set(err, MLOPS_ECORRUPT,
			       "registry database is corrupt: %s", msg);
	case SQLITE_READONLY:
		return err_set(err, MLOPS_EIO,
			       "%s: registry is read-only: %s", what, msg);
	default:
		return err_set(err, MLOPS_EIO, "%s: %s", what, msg);
	}
}

static int prep(struct registry *reg, const char *sql, sqlite3_stmt **st,
		struct mlops_err *err)
{
	int rc = sqlite3_prepare_v2(reg->db, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return db_fail(reg, rc, "cannot query the registry", err);
	}
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_id(sqlite3_stmt *st, int i, long long id)
{
	if (id > 0)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

/* A copy of a text column, NULL for SQL NULL. */
static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

/* A text column that cannot be NULL by schema: "" rather than NULL. */
static char *col_str0(sqlite3_stmt *st, int i)
{
	char *s = col_str(st, i);

	return s ? s : xstrdup("");
}

/*
 * Step a statement once, the one way every single-row lookup reads its
 * row: *found (may be NULL) says whether a row came back, its columns to
 * be read before the next step or finalize.  0, or the failure as
 * `what` (db_fail()).
 */
static int step_row(struct registry *reg, sqlite3_stmt *st, int *found,
		    const char *what, struct mlops_err *err)
{
	int rc = sqlite3_step(st);

	if (found)
		*found = rc == SQLITE_ROW;
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return db_fail(reg, rc, what, err);
}

/* Step a statement that returns no row we need. */
static int step_done(struct registry *reg, sqlite3_stmt *st,
		     const char *what, struct mlops_err *err)
{
	return step_row(reg, st, NULL, what, err);
}

/* Run SQL without parameters (pragmas, transactions, migrations). */
static int exec(struct registry *reg, const char *sql, const char *what,
		struct mlops_err *err)
{
	int rc = sqlite3_exec(reg->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(reg, rc, what, err);
}

/* The value of an integer pragma that takes no argument. */
static int pragma_int(struct registry *reg, const char *sql, int *value,
		      struct mlops_err *err)
{
	sqlite3_stmt *st;
	int rc, ret;

	if ((ret = prep(reg, sql, &st, err)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int(st, 0);
		ret = 0;
	} else {
		ret = db_fail(reg, rc, "cannot read the registry", err);
	}
	sqlite3_finalize(st);
	return ret;
}

void registry_timestamp(char buf[32])
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, 32 - len, ".%03dZ",
		 (int)(ts.tv_nsec / 1000000) % 1000);
}

void registry_set_actor(struct registry *reg, const char *user,
			const char *host)
{
	snprintf(reg->user, sizeof(reg->user), "%s", user);
	snprintf(reg->host, sizeof(reg->host), "%s", host);
}

static void close_db(struct registry *reg)
{
	if (reg->db)
		sqlite3_close(reg->db);
	reg->db = NULL;
}

void registry_close(struct registry *reg)
{
	if (!reg)
		return;
	close_db(reg);
	free(reg);
}

/* One ledger row as the rollback stack sees it. */
struct stack_node {
	long long id;
	int version;
};

struct ledger_row {
	long long id, below;
	char *model, *stage;
	int to_version, rollback;
};

/*
 * Migration 1 -> 2: fill below_event_id for the rows written before it
 * existed, by replaying each stage's ledger as the stack it is (a
 * promote pushes; a rollback pops back to the row holding its version,
 * or starts afresh when none does).  The append-only trigger is lifted
 * for this one statement inside the migration's transaction.
 */
static int backfill_below(struct registry *reg, struct mlops_err *err)
{
	struct ledger_row *rows = NULL;
	struct stack_node *stack = NULL;
	size_t n_rows = 0, alloc = 0, n = 0, st_alloc = 0, i;
	sqlite3_stmt *st = NULL;
	int rc, ret;

	if ((ret = prep(reg, "SELECT id, model, stage, to_version, action "
			"FROM stage_events ORDER BY model, stage, id", &st,
			err)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_row *r;

		XGROW(rows, alloc, n_rows + 1);
		r = &rows[n_rows++];
		r->id = sqlite3_column_int64(st, 0);
		r->model = col_str0(st, 1);
		r->stage = col_str0(st, 2);
		r->to_version = sqlite3_column_int(st, 3);
		r->rollback = !strcmp((const char *)sqlite3_column_text(st, 4),
				      "rollback");
		r->below = 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		ret = db_fail(reg, rc, "cannot upgrade the registry", err);
		goto out;
	}
	for (i = 0; i < n_rows; i++) {
		struct ledger_row *r = &rows[i];

		if (i == 0 || strcmp(r->model, rows[i - 1].model) ||
		    strcmp(r->stage, rows[i - 1].stage))
			n = 0;
		if (r->rollback) {
			while (n > 0 && stack[n - 1].version != r->to_version)
				n--;
			if (n > 0) {
				r->below = n > 1 ? stack[n - 2].id : 0;
				stack[n - 1].id = r->id;
				continue;
			}
		}
		r->below = n > 0 ? stack[n - 1].id : 0;
		XGROW(stack, st_alloc, n + 1);
		stack[n].id = r->id;
		stack[n++].version = r->to_version;
	}
	if (!n_rows)
		goto out;
	if ((ret = exec(reg, "DROP TRIGGER stage_events_no_update",
			"cannot upgrade the registry", err)) ||
	    (ret = prep(reg, "UPDATE stage_events SET below_event_id = ? "
			"WHERE id = ?", &st, err)))
		goto out;
	for (i = 0; i < n_rows && !ret; i++) {
		bind_id(st, 1, rows[i].below);
		sqlite3_bind_int64(st, 2, rows[i].id);
		ret = step_done(reg, st, "cannot upgrade the registry", err);
		sqlite3_reset(st);
	}
	if (!ret)
		ret = exec(reg, STAGE_EVENTS_NO_UPDATE,
			   "cannot upgrade the registry", err);
out:
	sqlite3_finalize(st);
	for (i = 0; i < n_rows; i++) {
		free(rows[i].model);
		free(rows[i].stage);
	}
	free(rows);
	free(stack);
	return ret;
}

/* Apply migrations[from..] in one transaction. */
static int migrate(struct registry *reg, struct mlops_err *err)
{
	int ret, version, k;

	if ((ret = exec(reg, "BEGIN IMMEDIATE", "cannot upgrade the registry",
			err)))
		return ret;
	/* Another process may have migrated while we waited for the lock. */
	if ((ret = pragma_int(reg, "PRAGMA user_version", &version, err)))
		goto fail;
	for (k = version; k < N_MIGRATIONS; k++) {
		if ((ret = exec(reg, migrations[k],
				"cannot upgrade the registry schema", err)))
			goto fail;
		if (k == 1 && (ret = backfill_below(reg, err)))
			goto fail;
	}
	return exec(reg, "COMMIT", "cannot upgrade the registry", err);
fail:
	sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/*
 * Wait for another process's lock in short naps.  SQLite's own handler
 * backs off to 100 ms naps, far longer than the few milliseconds our
 * transactions hold the lock, so under contention writers would mostly
 * sleep.  Naps of 1-2 ms (jittered, so waiters do not wake in step)
 * until busy_timeout_ms has passed since the first one.
 */
static int busy_wait(void *arg, int count)
{
	struct registry *reg = arg;
	struct timespec now, nap;
	long long elapsed_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		reg->busy_since = now;
	elapsed_ms = (now.tv_sec - reg->busy_since.tv_sec) * 1000LL +
		     (now.tv_nsec - reg->busy_since.tv_nsec) / 1000000;
	if (elapsed_ms >= reg->busy_timeout_ms)
		return 0;
	nap.tv_sec = 0;
	nap.tv_nsec = 1000000L + (long)(now.tv_nsec % 1000) * 1000L;
	nanosleep(&nap, NULL);
	return 1;
}

static int open_db(const char *path, int flags, int busy_timeout_ms,
		   struct registry **out, struct mlops_err *err)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));
	int rc;

	reg->busy_timeout_ms = busy_timeout_ms;
	reg->writable = !!(flags & SQLITE_OPEN_READWRITE);
	registry_set_actor(reg, "unknown", "localhost");
	rc = sqlite3_open_v2(path, &reg->db, flags, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, MLOPS_EIO, "cannot open registry '%s': %s", path,
			reg->db ? sqlite3_errmsg(reg->db) : sqlite3_errstr(rc));
		registry_close(reg);
		return MLOPS_EIO;
	}
	sqlite3_extended_result_codes(reg->db, 1);
	sqlite3_busy_handler(reg->db, busy_wait, reg);
	*out = reg;
	return 0;
}

/*
 * A read-only command on a registry of an older schema: upgrade it
 * through a second, writable connection when the file allows, so that
 * reading commands keep working after mlops itself was upgraded.
 * Nonzero when that is not possible (a read-only file, say).
 */
static int upgrade_aside(const char *path, int busy_timeout_ms)
{
	struct registry *rw;
	int ret;

	if (open_db(path, SQLITE_OPEN_READWRITE, busy_timeout_ms, &rw, NULL))
		return -1;
	ret = exec(rw, "PRAGMA foreign_keys = ON", "", NULL) ||
	      migrate(rw, NULL);
	registry_close(rw);
	return ret;
}

int registry_open(const char *path, int writable, int busy_timeout_ms,
		  struct registry **out, struct mlops_err *err)
{
	struct registry *reg;
	int ret, app_id, version;

	*out = NULL;
	ret = open_db(path, writable ? SQLITE_OPEN_READWRITE :
		      SQLITE_OPEN_READONLY, busy_timeout_ms, &reg, err);
	if (ret)
		return ret;
	if ((ret = pragma_int(reg, "PRAGMA application_id", &app_id, err)) ||
	    (ret = pragma_int(reg, "PRAGMA user_version", &version, err)))
		goto fail;
	if (app_id != REGISTRY_APP_ID) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "'%s' is not an mlops registry", path);
		goto fail;
	}
	if (version > N_MIGRATIONS) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "registry '%s' has schema version %d, newer than "
			      "this mlops knows (%d); upgrade mlops",
			      path, version, N_MIGRATIONS);
		goto fail;
	}
	if (version < N_MIGRATIONS && !writable &&
	    upgrade_aside(path, busy_timeout_ms)) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "registry '%s' has the old schema version %d; "
			      "any writing command upgrades it", path, version);
		goto fail;
	}
	if (writable &&
	    ((ret = exec(reg, "PRAGMA foreign_keys = ON",
			 "cannot open the registry", err)) ||
	     (ret = exec(reg, "PRAGMA synchronous = FULL",
			 "cannot open the registry", err))))
		goto fail;
	if (version < N_MIGRATIONS && (ret = migrate(reg, err)))
		goto fail;
	*out = reg;
	return 0;
fail:
	registry_close(reg);
	return ret;
}

int registry_create(const char *path, struct mlops_err *err)
{
	struct registry *reg;
	int ret;

	ret = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		      5000, &reg, err);
	if (ret)
		return ret;
	/* journal_mode and application_id persist in the file. */
	if (!(ret = exec(reg, "PRAGMA journal_mode = WAL",
			 "cannot create the registry", err)) &&
	    !(ret = exec(reg, "PRAGMA application_id = 1835822960",
			 "cannot create the registry", err)) &&
	    !(ret = exec(reg, "PRAGMA foreign_keys = ON",
			 "cannot create the registry", err)))
		ret = migrate(reg, err);
	registry_close(reg);
	return ret;
}

int registry_begin(struct registry *reg, struct mlops_err *err)
{
	return exec(reg, "BEGIN IMMEDIATE", "cannot lock the registry", err);
}

int registry_commit(struct registry *reg, struct mlops_err *err)
{
	int ret = exec(reg, "COMMIT", "cannot commit to the registry", err);

	if (ret)
		registry_rollback(reg);
	return ret;
}

void registry_rollback(struct registry *reg)
{
	if (reg && reg->db && !sqlite3_get_autocommit(reg->db))
		sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
}

void reg_version_release(struct reg_version *v)
{
	if (!v)
		return;
	free(v->model);
	free(v->description);
	free(v->created_at);
	free(v->created_by);
	memset(v, 0, sizeof(*v));
}

void reg_stage_release(struct reg_stage *s)
{
	if (!s)
		return;
	free(s->model);
	free(s->stage);
	free(s->updated_at);
	memset(s, 0, sizeof(*s));
}

void reg_event_release(struct reg_event *e)
{
	if (!e)
		return;
	free(e->model);
	free(e->stage);
	free(e->action);
	free(e->actor);
	free(e->host);
	free(e->git_identity);
	free(e->at);
	free(e->reason);
	memset(e, 0, sizeof(*e));
}

void reg_run_row_release(struct reg_run_row *r)
{
	size_t i;

	if (!r)
		return;
	free(r->kind);
	free(r->model);
	free(r->started_at);
	free(r->params_json);
	free(r->inputs_json);
	free(r->metrics_json);
	free(r->profile_json);
	free(r->git_commit);
	free(r->artifact_sha256);
	for (i = 0; i < r->n_outputs; i++) {
		free(r->outputs[i].role);
		free(r->outputs[i].path);
	}
	free(r->outputs);
	memset(r, 0, sizeof(*r));
}

void registry_free_strings(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Whether one row comes back for `sql` with text parameters a, b. */
static int exists_row(struct registry *reg, const char *sql, const char *a,
		      const char *b, int *found, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret;

	if ((ret = prep(reg, sql, &st, err)))
		return ret;
	bind_text(st, 1, a);
	if (b)
		bind_text(st, 2, b);
	ret = step_row(reg, st, found, "cannot read the registry", err);
	sqlite3_finalize(st);
	return ret;
}

static int model_exists(struct registry *reg, const char *model,
			struct mlops_err *err)
{
	int ret, found;

	ret = exists_row(reg, "SELECT 1 FROM models WHERE name = ?", model,
			 NULL, &found, err);
	if (!ret && !found)
		ret = err_set(err, MLOPS_ENOTFOUND, "no model '%s'", model);
	return ret;
}

int registry_version_exists(struct registry *reg, const char *model,
			    int version, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	if ((ret = model_exists(reg, model, err)))
		return ret;
	if ((ret = prep(reg, "SELECT 1 FROM versions "
			"WHERE model = ? AND version = ?", &st, err)))
		return ret;
	bind_text(st, 1, model);
	sqlite3_bind_int(st, 2, version);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && !found)
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "model '%s' has no version %d", model, version);
	sqlite3_finalize(st);
	return ret;
}

#define VERSION_COLS \
	"model, version, sha256, size, run_id, description, created_at, " \
	"created_by"

static void read_version(sqlite3_stmt *st, struct reg_version *v)
{
	const unsigned char *sha = sqlite3_column_text(st, 2);

	memset(v, 0, sizeof(*v));
	v->model = col_str0(st, 0);
	v->version = sqlite3_column_int(st, 1);
	snprintf(v->sha256, sizeof(v->sha256), "%s",
		 sha ? (const char *)sha : "");
	v->size = sqlite3_column_int64(st, 3);
	v->run_id = sqlite3_column_int64(st, 4);
	v->description = col_str(st, 5);
	v->created_at = col_str0(st, 6);
	v->created_by = col_str0(st, 7);
}

/* Why registry_resolve() found no row. */
static int not_resolved(const char *model, int version, const char *stage,
			struct mlops_err *err)
{
	if (version > 0)
		return err_set(err, MLOPS_ENOTFOUND,
			       "model '%s' has no version %d", model, version);
	if (stage)
		return err_set(err, MLOPS_ENOTFOUND,
			       "stage '%s' of model '%s' is not set", stage,
			       model);
	return err_set(err, MLOPS_ENOTFOUND, "model '%s' has no versions",
		       model);
}

int registry_resolve(struct registry *reg, const char *model, int version,
		     const char *stage, struct reg_version *out,
		     struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	memset(out, 0, sizeof(*out));
	if ((ret = model_exists(reg, model, err)))
		return ret;
	if (stage && !strcmp(stage, "latest"))
		stage = NULL;	/* the reserved stage: the newest version */
	if (version > 0)
		ret = prep(reg, "SELECT " VERSION_COLS " FROM versions "
			   "WHERE model = ? AND version = ?", &st, err);
	else if (stage)
		ret = prep(reg, "SELECT v.model, v.version, v.sha256, v.size, "
			   "v.run_id, v.description, v.created_at, "
			   "v.created_by FROM stages s JOIN versions v "
			   "ON v.model = s.model AND v.version = s.version "
			   "WHERE s.model = ? AND s.stage = ?", &st, err);
	else
		ret = prep(reg, "SELECT " VERSION_COLS " FROM versions "
			   "WHERE model = ?1 AND version = (SELECT "
			   "MAX(version) FROM versions WHERE model = ?1)",
			   &st, err);
	if (ret)
		return ret;
	bind_text(st, 1, model);
	if (version > 0)
		sqlite3_bind_int(st, 2, version);
	else if (stage)
		bind_text(st, 2, stage);
	ret = step_row(reg, st, &found, "cannot read the registry", err);
	if (!ret && found)
		read_version(st, out);
	else if (!ret)
		ret = not_resolved(model, version, stage, err);
	sqlite3_finalize(st);
	return ret;
}

/* Create the model row unless it exists (inside the transaction). */
static int ensure_model(struct registry *reg, const char *model,
			const char *now, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	ret = exists_row(reg, "SELECT 1 FROM models WHERE name = ?", model,
			 NULL, &found, err);
	if (ret || found)
		return ret;
	if ((ret = prep(reg, "INSERT INTO models (name, created_at) "
			"VALUES (?, ?)", &st, err)))
		return ret;
	bind_text(st, 1, model);
	bind_text(st, 2, now);
	ret = step_done(reg, st, "cannot create the model", err);
	sqlite3_finalize(st);
	return ret;
}

static int run_exists(struct registry *reg, long long run_id,
		      struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	if ((ret = prep(reg, "SELECT 1 FROM runs WHERE id = ?", &st, err)))
		return ret;
	sqlite3_bind_int64(st, 1, run_id);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && !found)
		ret = err_set(err, MLOPS_ENOTFOUND, "no run %lld", run_id);
	sqlite3_finalize(st);
	return ret;
}

/* The version of `model` holding `sha256`, 0 if none. */
static int version_by_hash(struct registry *reg, const char *model,
			   const char *sha256, int *version,
			   struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	*version = 0;
	if ((ret = prep(reg, "SELECT version FROM versions "
			"WHERE model = ? AND sha256 = ?", &st, err)))
		return ret;
	bind_text(st, 1, model);
	bind_text(st, 2, sha256);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && found)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ret;
}

int registry_register(struct registry *reg, const char *model,
		      const char *sha256, long long size, long long run_id,
		      const char *description, int *version, int *existed,
		      struct mlops_err *err)
{
	char now[32], *by;
	sqlite3_stmt *st;
	int rc, ret;

	*existed = 0;
	if ((ret = version_by_hash(reg, model, sha256, version, err)))
		return ret;
	if (*version) {
		*existed = 1;
		return 0;
	}
	if (run_id > 0 && (ret = run_exists(reg, run_id, err)))
		return ret;
	registry_timestamp(now);
	if ((ret = ensure_model(reg, model, now, err)))
		return ret;
	by = xasprintf("%s@%s", reg->user, reg->host);
	/* Allocated under the write lock of the caller's transaction. */
	ret = prep(reg, "INSERT INTO versions (model, version, sha256, size, "
		   "run_id, description, created_at, created_by) "
		   "SELECT ?1, COALESCE(MAX(version), 0) + 1, ?2, ?3, ?4, ?5, "
		   "?6, ?7 FROM versions WHERE model = ?1 "
		   "RETURNING version", &st, err);
	if (ret)
		goto out;
	bind_text(st, 1, model);
	bind_text(st, 2, sha256);
	sqlite3_bind_int64(st, 3, size);
	bind_id(st, 4, run_id);
	bind_text(st, 5, description);
	bind_text(st, 6, now);
	bind_text(st, 7, by);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(reg, rc, "cannot register the version", err);
	sqlite3_finalize(st);
out:
	free(by);
	return ret;
}

int registry_add_tag(struct registry *reg, const char *model, int version,
		     const char *key, const char *value,
		     struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret;

	if ((ret = prep(reg, "INSERT INTO version_tags (model, version, key, "
			"value) VALUES (?, ?, ?, ?) "
			"ON CONFLICT (model, version, key) DO NOTHING",
			&st, err)))
		return ret;
	bind_text(st, 1, model);
	sqlite3_bind_int(st, 2, version);
	bind_text(st, 3, key);
	bind_text(st, 4, value);
	ret = step_done(reg, st, "cannot tag the version", err);
	sqlite3_finalize(st);
	return ret;
}

int registry_version_tags(struct registry *reg, const char *model,
			  int version, char ***out, size_t *n,
			  struct mlops_err *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, ret;

	*out = NULL;
	*n = 0;
	if ((ret = prep(reg, "SELECT key, value FROM version_tags "
			"WHERE model = ? AND version = ? ORDER BY key",
			&st, err)))
		return ret;
	bind_text(st, 1, model);
	sqlite3_bind_int(st, 2, version);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(*out, alloc, *n + 1);
		(*out)[(*n)++] = xasprintf("%s=%s",
			(const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1));
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(reg, rc, "cannot read the registry", err);
		registry_free_strings(*out, *n);
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_add_run(struct registry *reg, const struct reg_run *run,
		     long long *id, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int rc, ret;

	long long run_id = 0;
	size_t i;

	if ((ret = prep(reg, "INSERT INTO runs (kind, model, version, "
			"started_at, duration_s, exit_status, passed, params, "
			"inputs, metrics, profile, git_commit, git_dirty, "
			"artifact_sha256) "
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
			"RETURNING id", &st, err)))
		return ret;
	bind_text(st, 1, run->kind);
	bind_text(st, 2, run->model);
	bind_id(st, 3, run->version);
	bind_text(st, 4, run->started_at);
	sqlite3_bind_double(st, 5, run->duration_s);
	sqlite3_bind_int(st, 6, run->exit_status);
	if (run->passed >= 0)
		sqlite3_bind_int(st, 7, !!run->passed);
	else
		sqlite3_bind_null(st, 7);
	bind_text(st, 8, run->params_json);
	bind_text(st, 9, run->inputs_json);
	bind_text(st, 10, run->metrics_json);
	bind_text(st, 11, run->profile_json);
	bind_text(st, 12, run->git_commit && *run->git_commit ?
		  run->git_commit : NULL);
	if (run->git_commit && *run->git_commit)
		sqlite3_bind_int(st, 13, !!run->git_dirty);
	else
		sqlite3_bind_null(st, 13);
	bind_text(st, 14, run->artifact_sha256 && *run->artifact_sha256 ?
		  run->artifact_sha256 : NULL);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		run_id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(reg, rc, "cannot record the run", err);
	sqlite3_finalize(st);
	if (ret || !run->n_outputs)
		goto out;
	if ((ret = prep(reg, "INSERT INTO run_outputs (run_id, role, path, "
			"sha256, rows) VALUES (?, ?, ?, ?, ?)", &st, err)))
		return ret;
	for (i = 0; i < run->n_outputs && !ret; i++) {
		const struct reg_run_output *o = &run->outputs[i];

		sqlite3_bind_int64(st, 1, run_id);
		bind_text(st, 2, o->role);
		bind_text(st, 3, o->path);
		bind_text(st, 4, o->sha256);
		if (o->rows >= 0)
			sqlite3_bind_int64(st, 5, o->rows);
		else
			sqlite3_bind_null(st, 5);
		ret = step_done(reg, st, "cannot record the run", err);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
out:
	if (!ret && id)
		*id = run_id;
	return ret;
}

int registry_set_run_version(struct registry *reg, long long run_id,
			     const char *model, int version,
			     struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret;

	if ((ret = prep(reg, "UPDATE runs SET model = ?, version = ? "
			"WHERE id = ?", &st, err)))
		return ret;
	bind_text(st, 1, model);
	bind_id(st, 2, version);
	sqlite3_bind_int64(st, 3, run_id);
	ret = step_done(reg, st, "cannot record the run", err);
	sqlite3_finalize(st);
	return ret;
}

/* The holder of a stage now and the ledger row that put it there. */
static int stage_current(struct registry *reg, const char *model,
			 const char *stage, int *version, long long *event_id,
			 struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	*version = 0;
	*event_id = 0;
	if ((ret = prep(reg, "SELECT version, event_id FROM stages "
			"WHERE model = ? AND stage = ?", &st, err)))
		return ret;
	bind_text(st, 1, model);
	bind_text(st, 2, stage);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && found) {
		*version = sqlite3_column_int(st, 0);
		*event_id = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_stage_get(struct registry *reg, const char *model,
		       const char *stage, int *version,
		       struct mlops_err *err)
{
	long long event_id;
	int ret;

	*version = 0;
	if ((ret = model_exists(reg, model, err)))
		return ret;
	return stage_current(reg, model, stage, version, &event_id, err);
}

/*
 * Walk the rollback stack: from ledger row `id`, follow below_event_id
 * until a row moved the stage to `version` (the row itself counts when
 * `from_self`).  *found receives that row's id (0: none), *below its
 * below_event_id.  Ids strictly decrease along the chain, so it ends.
 */
static int stack_find(struct registry *reg, long long id, int version,
		      int from_self, long long *found, long long *below,
		      struct mlops_err *err)
{
	sqlite3_stmt *st;
	int rc, ret, to;
	long long next;

	*found = 0;
	*below = 0;
	if ((ret = prep(reg, "SELECT to_version, below_event_id "
			"FROM stage_events WHERE id = ?", &st, err)))
		return ret;
	while (id > 0) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			ret = rc == SQLITE_DONE ? 0 :
			      db_fail(reg, rc, "cannot read the stage ledger",
				      err);
			break;
		}
		to = sqlite3_column_int(st, 0);
		next = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		if (from_self && (version <= 0 || to == version)) {
			*found = id;
			*below = next;
			break;
		}
		from_self = 1;
		id = next < id ? next : 0;
	}
	sqlite3_finalize(st);
	return ret;
}

static int append_event(struct registry *reg, const struct reg_move *mv,
			int from, long long below, const char *now,
			long long *event_id, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int rc, ret;

	if ((ret = prep(reg, "INSERT INTO stage_events (model, stage, "
			"from_version, to_version, action, forced, actor, "
			"host, git_identity, at, reason, validation_run_id, "
			"below_event_id) "
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
			"RETURNING id", &st, err)))
		return ret;
	bind_text(st, 1, mv->model);
	bind_text(st, 2, mv->stage);
	bind_id(st, 3, from);
	sqlite3_bind_int(st, 4, mv->to_version);
	bind_text(st, 5, mv->action);
	sqlite3_bind_int(st, 6, !!mv->forced);
	bind_text(st, 7, reg->user);
	bind_text(st, 8, reg->host);
	bind_text(st, 9, mv->git_identity);
	bind_text(st, 10, now);
	bind_text(st, 11, mv->reason && *mv->reason ? mv->reason : NULL);
	bind_id(st, 12, mv->validation_run_id);
	bind_id(st, 13, below);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*event_id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(reg, rc, "cannot append to the stage ledger",
			      err);
	sqlite3_finalize(st);
	return ret;
}

int registry_stage_move(struct registry *reg, const struct reg_move *mv,
			int *from_version, long long *event_id,
			struct mlops_err *err)
{
	long long id = 0, cur = 0, below = 0, found;
	sqlite3_stmt *st;
	char now[32];
	int ret, from;

	if (strcmp(mv->action, "promote") && strcmp(mv->action, "rollback"))
		BUG("stage move with an unknown action");
	if ((ret = registry_version_exists(reg, mv->model, mv->to_version,
					   err)) ||
	    (ret = stage_current(reg, mv->model, mv->stage, &from, &cur, err)))
		return ret;
	/*
	 * A promote pushes onto the stage's rollback stack; a rollback pops
	 * back to the row that holds its version and takes that row's place
	 * (or starts a fresh stack when no row does).
	 */
	if (!strcmp(mv->action, "promote"))
		below = cur;
	else if ((ret = stack_find(reg, cur, mv->to_version, 1, &found,
				   &below, err)))
		return ret;
	registry_timestamp(now);
	if ((ret = append_event(reg, mv, from, below, now, &id, err)))
		return ret;
	if ((ret = prep(reg, "INSERT INTO stages (model, stage, version, "
			"event_id, updated_at) VALUES (?, ?, ?, ?, ?) "
			"ON CONFLICT (model, stage) DO UPDATE SET "
			"version = excluded.version, "
			"event_id = excluded.event_id, "
			"updated_at = excluded.updated_at", &st, err)))
		return ret;
	bind_text(st, 1, mv->model);
	bind_text(st, 2, mv->stage);
	sqlite3_bind_int(st, 3, mv->to_version);
	sqlite3_bind_int64(st, 4, id);
	bind_text(st, 5, now);
	ret = step_done(reg, st, "cannot move the stage", err);
	sqlite3_finalize(st);
	if (ret)
		return ret;
	if (from_version)
		*from_version = from;
	if (event_id)
		*event_id = id;
	return 0;
}

/* The version ledger row `id` moved its stage to. */
static int event_version(struct registry *reg, long long id, int *version,
			 struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	*version = 0;
	if ((ret = prep(reg, "SELECT to_version FROM stage_events "
			"WHERE id = ?", &st, err)))
		return ret;
	sqlite3_bind_int64(st, 1, id);
	if (!(ret = step_row(reg, st, &found, "cannot read the stage ledger",
			     err)) && found)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ret;
}

int registry_rollback_target(struct registry *reg, const char *model,
			     const char *stage, int to_version, int *target,
			     struct mlops_err *err)
{
	long long cur, below, found, ignore;
	int ret, version;

	*target = 0;
	if ((ret = model_exists(reg, model, err)) ||
	    (ret = stage_current(reg, model, stage, &version, &cur, err)))
		return ret;
	if (!cur)
		return err_set(err, MLOPS_ENOTFOUND,
			       "stage '%s' of model '%s' is not set", stage,
			       model);
	if ((ret = stack_find(reg, cur, 0, 1, &found, &below, err)))
		return ret;
	if (!below)
		return err_set(err, MLOPS_ENOTFOUND,
			       "stage '%s' of model '%s' has no earlier holder "
			       "to roll back to", stage, model);
	if (to_version <= 0)
		return event_version(reg, below, target, err);
	if ((ret = stack_find(reg, below, to_version, 1, &found, &ignore,
			      err)))
		return ret;
	if (!found)
		return err_set(err, MLOPS_ENOTFOUND,
			       "version %d is not an earlier holder of stage "
			       "'%s' of model '%s'", to_version, stage, model);
	*target = to_version;
	return 0;
}

int registry_latest_validation(struct registry *reg, const char *model,
			       int version, struct reg_run_row *out,
			       int *found, struct mlops_err *err)
{
	sqlite3_stmt *st;
	long long id = 0;
	int ret, row;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if ((ret = prep(reg, "SELECT MAX(id) FROM runs WHERE kind = 'validate' "
			"AND model = ? AND version = ?", &st, err)))
		return ret;
	bind_text(st, 1, model);
	sqlite3_bind_int(st, 2, version);
	if (!(ret = step_row(reg, st, &row, "cannot read the registry",
			     err)) && row)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (ret || !id)
		return ret;
	if ((ret = registry_get_run(reg, id, out, err)))
		return ret;
	*found = 1;
	return 0;
}

/* The first column of the one row `sql` returns for text `a`; 0 if none. */
static int lookup_id(struct registry *reg, const char *sql, const char *a,
		     long long *id, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	*id = 0;
	if ((ret = prep(reg, sql, &st, err)))
		return ret;
	bind_text(st, 1, a);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && found)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ret;
}

int registry_artifact_version(struct registry *reg, const char *sha256,
			      char **model, int *version,
			      struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	*model = NULL;
	*version = 0;
	if ((ret = prep(reg, "SELECT model, version FROM versions "
			"WHERE sha256 = ? ORDER BY model, version LIMIT 1",
			&st, err)))
		return ret;
	bind_text(st, 1, sha256);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && found) {
		*model = col_str0(st, 0);
		*version = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_output_run(struct registry *reg, const char *sha256,
			long long *run_id, char **role,
			struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	*run_id = 0;
	*role = NULL;
	if ((ret = prep(reg, "SELECT run_id, role FROM run_outputs "
			"WHERE sha256 = ? ORDER BY run_id DESC LIMIT 1", &st,
			err)))
		return ret;
	bind_text(st, 1, sha256);
	if (!(ret = step_row(reg, st, &found, "cannot read the registry",
			     err)) && found) {
		*run_id = sqlite3_column_int64(st, 0);
		*role = col_str0(st, 1);
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_artifact_train_run(struct registry *reg, const char *sha256,
				long long *run_id, struct mlops_err *err)
{
	return lookup_id(reg, "SELECT MAX(id) FROM runs WHERE "
			 "artifact_sha256 = ? AND kind = 'train'", sha256,
			 run_id, err);
}

int registry_list_models(struct registry *reg, char ***names, size_t *n,
			 struct mlops_err *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, ret;

	*names = NULL;
	*n = 0;
	if ((ret = prep(reg, "SELECT name FROM models ORDER BY name", &st,
			err)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(*names, alloc, *n + 1);
		(*names)[(*n)++] = col_str0(st, 0);
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(reg, rc, "cannot read the registry", err);
		registry_free_strings(*names, *n);
		*names = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_list_versions(struct registry *reg, const char *model,
			   struct reg_version **out, size_t *n,
			   struct mlops_err *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0, i;
	int rc, ret;

	*out = NULL;
	*n = 0;
	if (model && (ret = model_exists(reg, model, err)))
		return ret;
	if ((ret = prep(reg, model ?
			"SELECT " VERSION_COLS " FROM versions WHERE model = ? "
			"ORDER BY model, version" :
			"SELECT " VERSION_COLS " FROM versions "
			"ORDER BY model, version", &st, err)))
		return ret;
	if (model)
		bind_text(st, 1, model);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(*out, alloc, *n + 1);
		read_version(st, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(reg, rc, "cannot read the registry", err);
		for (i = 0; i < *n; i++)
			reg_version_release(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_list_stages(struct registry *reg, const char *model,
			 struct reg_stage **out, size_t *n,
			 struct mlops_err *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0, i;
	int rc, ret;

	*out = NULL;
	*n = 0;
	if (model && (ret = model_exists(reg, model, err)))
		return ret;
	if ((ret = prep(reg, model ?
			"SELECT model, stage, version, updated_at FROM stages "
			"WHERE model = ? ORDER BY model, stage" :
			"SELECT model, stage, version, updated_at FROM stages "
			"ORDER BY model, stage", &st, err)))
		return ret;
	if (model)
		bind_text(st, 1, model);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_stage *s;

		XGROW(*out, alloc, *n + 1);
		s = &(*out)[(*n)++];
		s->model = col_str0(st, 0);
		s->stage = col_str0(st, 1);
		s->version = sqlite3_column_int(st, 2);
		s->updated_at = col_str0(st, 3);
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(reg, rc, "cannot read the registry", err);
		for (i = 0; i < *n; i++)
			reg_stage_release(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

#define EVENT_COLS \
	"id, model, stage, from_version, to_version, action, forced, " \
	"actor, host, git_identity, at, reason, validation_run_id"

static void read_event(sqlite3_stmt *st, struct reg_event *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->model = col_str0(st, 1);
	e->stage = col_str0(st, 2);
	e->from_version = sqlite3_column_int(st, 3);
	e->to_version = sqlite3_column_int(st, 4);
	e->action = col_str0(st, 5);
	e->forced = sqlite3_column_int(st, 6);
	e->actor = col_str0(st, 7);
	e->host = col_str0(st, 8);
	e->git_identity = col_str(st, 9);
	e->at = col_str0(st, 10);
	e->reason = col_str(st, 11);
	e->validation_run_id = sqlite3_column_int64(st, 12);
}

static void free_events(struct reg_event **out, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		reg_event_release(&(*out)[i]);
	free(*out);
	*out = NULL;
	*n = 0;
}

/* Append the rows of a prepared event query to *out. */
static int collect_events(struct registry *reg, sqlite3_stmt *st,
			  struct reg_event **out, size_t *n, size_t *alloc,
			  struct mlops_err *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(*out, *alloc, *n + 1);
		read_event(st, &(*out)[(*n)++]);
	}
	return rc == SQLITE_DONE ? 0 :
	       db_fail(reg, rc, "cannot read the stage ledger", err);
}

int registry_history(struct registry *reg, const char *model,
		     const char *stage, long limit, struct reg_event **out,
		     size_t *n, struct mlops_err *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0, i;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = model_exists(reg, model, err)))
		return ret;
	/*
	 * Newest first, so that a limit takes the newest rows straight off
	 * the (model, stage, id) or (model, id) index; reversed below.
	 */
	if ((ret = prep(reg, stage ?
			"SELECT " EVENT_COLS " FROM stage_events "
			"WHERE model = ?1 AND stage = ?2 "
			"ORDER BY id DESC LIMIT ?3" :
			"SELECT " EVENT_COLS " FROM stage_events "
			"WHERE model = ?1 ORDER BY id DESC LIMIT ?3",
			&st, err)))
		return ret;
	bind_text(st, 1, model);
	if (stage)
		bind_text(st, 2, stage);
	sqlite3_bind_int64(st, 3, limit > 0 ? limit : 9223372036854775807LL);
	ret = collect_events(reg, st, out, n, &alloc, err);
	sqlite3_finalize(st);
	if (!ret && stage && *n == 0)
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "stage '%s' of model '%s' has never been set",
			      stage, model);
	if (ret) {
		free_events(out, n);
		return ret;
	}
	for (i = 0; i < *n / 2; i++) {
		struct reg_event t = (*out)[i];

		(*out)[i] = (*out)[*n - 1 - i];
		(*out)[*n - 1 - i] = t;
	}
	return 0;
}

int registry_time_bound(const char *time, char bound[40],
			struct mlops_err *err)
{
	/* The shape of each position of "2026-11-22T08:00:00.123". */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddd";
	size_t len = strlen(time), i;

	if (len > 0 && (time[len - 1] == 'Z' || time[len - 1] == 'z'))
		len--;
	/* Only whole fields: year, month, day, hour, minute, second, ms. */
	if (len != 4 && len != 7 && len != 10 && len != 13 && len != 16 &&
	    len != 19 && len != 21 && len != 22 && len != 23)
		goto bad;
	for (i = 0; i < len; i++) {
		char c = time[i];

		if (shape[i] == 'd' ? !(c >= '0' && c <= '9') :
		    shape[i] == 'T' ? !(c == 'T' || c == 't' || c == ' ') :
		    c != shape[i])
			goto bad;
	}
	memcpy(bound, time, len);
	if (len > 10)
		bound[10] = 'T';
	/*
	 * '~' sorts after every character of a timestamp, so every instant
	 * the prefix names compares below the bound: the end of that period.
	 */
	bound[len] = '~';
	bound[len + 1] = '\0';
	return 0;
bad:
	return err_set(err, MLOPS_EUSAGE,
		       "'%s' is not a time; expected an ISO 8601 UTC prefix "
		       "such as 2026-11-22 or 2026-11-22T08:00:00Z", time);
}

int registry_stages_at(struct registry *reg, const char *model,
		       const char *stage, const char *bound,
		       struct reg_event **out, size_t *n,
		       struct mlops_err *err)
{
	char **stages = NULL;
	size_t n_stages = 0, alloc = 0, i;
	sqlite3_stmt *st = NULL;
	int rc, ret;

	*out = NULL;
	*n = 0;
	if ((ret = model_exists(reg, model, err)))
		return ret;
	/* Every stage ever moved has its row in stages. */
	if ((ret = prep(reg, "SELECT stage FROM stages WHERE model = ?1 "
			"AND (?2 IS NULL OR stage = ?2) ORDER BY stage", &st,
			err)))
		return ret;
	bind_text(st, 1, model);
	bind_text(st, 2, stage);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(stages, alloc, n_stages + 1);
		stages[n_stages++] = col_str0(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		ret = db_fail(reg, rc, "cannot read the registry", err);
		goto out;
	}
	alloc = 0;
	if ((ret = prep(reg, "SELECT " EVENT_COLS " FROM stage_events "
			"WHERE model = ? AND stage = ? AND at <= ? "
			"ORDER BY at DESC, id DESC LIMIT 1", &st, err)))
		goto out;
	for (i = 0; i < n_stages && !ret; i++) {
		bind_text(st, 1, model);
		bind_text(st, 2, stages[i]);
		bind_text(st, 3, bound);
		ret = collect_events(reg, st, out, n, &alloc, err);
		sqlite3_reset(st);
	}
out:
	sqlite3_finalize(st);
	registry_free_strings(stages, n_stages);
	if (ret)
		free_events(out, n);
	return ret;
}

#define RUN_COLS \
	"id, kind, model, version, started_at, duration_s, exit_status, " \
	"passed, params, inputs, metrics, profile, git_commit, git_dirty, " \
	"artifact_sha256"

static void read_run(sqlite3_stmt *st, struct reg_run_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->kind = col_str0(st, 1);
	r->model = col_str(st, 2);
	r->version = sqlite3_column_int(st, 3);
	r->started_at = col_str0(st, 4);
	r->duration_s = sqlite3_column_double(st, 5);
	r->exit_status = sqlite3_column_int(st, 6);
	r->passed = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 7);
	r->params_json = col_str(st, 8);
	r->inputs_json = col_str(st, 9);
	r->metrics_json = col_str(st, 10);
	r->profile_json = col_str(st, 11);
	r->git_commit = col_str(st, 12);
	r->git_dirty = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 :
		       sqlite3_column_int(st, 13);
	r->artifact_sha256 = col_str(st, 14);
}

/* Fill r->outputs from run_outputs through the prepared `st`. */
static int read_outputs(struct registry *reg, sqlite3_stmt *st,
			struct reg_run_row *r, struct mlops_err *err)
{
	size_t alloc = 0;
	int rc;

	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_run_file *f;
		const unsigned char *sha = sqlite3_column_text(st, 2);

		XGROW(r->outputs, alloc, r->n_outputs + 1);
		f = &r->outputs[r->n_outputs++];
		f->role = col_str0(st, 0);
		f->path = col_str0(st, 1);
		snprintf(f->sha256, sizeof(f->sha256), "%s",
			 sha ? (const char *)sha : "");
		f->rows = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 :
			  sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 :
	       db_fail(reg, rc, "cannot read the registry", err);
}

#define OUTPUTS_SQL \
	"SELECT role, path, sha256, rows FROM run_outputs WHERE run_id = ? " \
	"ORDER BY role"

int registry_get_run(struct registry *reg, long long id,
		     struct reg_run_row *out, struct mlops_err *err)
{
	sqlite3_stmt *st;
	int ret, found;

	memset(out, 0, sizeof(*out));
	if ((ret = prep(reg, "SELECT " RUN_COLS " FROM runs WHERE id = ?",
			&st, err)))
		return ret;
	sqlite3_bind_int64(st, 1, id);
	ret = step_row(reg, st, &found, "cannot read the registry", err);
	if (!ret && found)
		read_run(st, out);
	else if (!ret)
		ret = err_set(err, MLOPS_ENOTFOUND, "no run %lld", id);
	sqlite3_finalize(st);
	if (!ret && !(ret = prep(reg, OUTPUTS_SQL, &st, err))) {
		ret = read_outputs(reg, st, out, err);
		sqlite3_finalize(st);
	}
	if (ret)
		reg_run_row_release(out);
	return ret;
}

int registry_list_runs(struct registry *reg, const char *model,
		       const char *kind, long limit,
		       struct reg_run_row **out, size_t *n,
		       struct mlops_err *err)
{
	sqlite3_stmt *st, *so = NULL;
	size_t alloc = 0, i;
	int rc, ret;

	*out = NULL;
	*n = 0;
	if ((ret = prep(reg, "SELECT " RUN_COLS " FROM runs "
			"WHERE (?1 IS NULL OR model = ?1) "
			"AND (?2 IS NULL OR kind = ?2) "
			"ORDER BY id DESC LIMIT ?3", &st, err)))
		return ret;
	bind_text(st, 1, model);
	bind_text(st, 2, kind);
	/* No limit: the largest one, as both SQLite and PostgreSQL take it. */
	sqlite3_bind_int64(st, 3, limit > 0 ? limit : 9223372036854775807LL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(*out, alloc, *n + 1);
		read_run(st, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(reg, rc, "cannot read the registry", err);
	sqlite3_finalize(st);
	if (!ret && !(ret = prep(reg, OUTPUTS_SQL, &so, err)))
		for (i = 0; i < *n && !ret; i++)
			ret = read_outputs(reg, so, &(*out)[i], err);
	sqlite3_finalize(so);
	if (ret) {
		for (i = 0; i < *n; i++)
			reg_run_row_release(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

int registry_integrity_check(struct registry *reg, char ***problems,
			     size_t *n, struct mlops_err *err)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, ret;

	*problems = NULL;
	*n = 0;
	if ((ret = prep(reg, "PRAGMA integrity_check", &st, err)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		if (s && !strcmp(s, "ok"))
			continue;
		XGROW(*problems, alloc, *n + 1);
		(*problems)[(*n)++] = xasprintf("registry: %s",
						s ? s : "(null)");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto fail;
	if ((ret = prep(reg, "PRAGMA foreign_key_check", &st, err)))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		XGROW(*problems, alloc, *n + 1);
		(*problems)[(*n)++] = xasprintf(
			"registry: row %lld of table '%s' refers to a missing "
			"row of '%s'", sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto fail;
	return 0;
fail:
	ret = db_fail(reg, rc, "cannot check the registry", err);
out:
	registry_free_strings(*problems, *n);
	*problems = NULL;
	*n = 0;
	return ret;
}

/*
 * Release transactions: register, promote and rollback, the stage
 * policy, and the GTO tag of a version or a move with its compensation,
 * written once for every command that changes what a registry releases
 * (register, import, promote, rollback); and export, which packages a
 * version for import elsewhere.
 *
 * The policy reads the version's latest validation run, never an older
 * one: a pass followed by a failure no longer unlocks a stage.  What the
 * validation applied comes from its stored report (the run's metrics
 * text, as validate --json prints it): "gates", and "against_sha256",
 * the artefact it was compared with (older reports only name
 * "against_version").  Comparing the artefact hash with the stage's
 * holder means "validated against the model at that stage" however the
 * champion was named on the command line.
 *
 * Whether to tag is decided here: the --git-tag flag as the command got
 * it, else the repository's git.tags; then, before anything else, the
 * names must fit GTO's grammar (gitrepo_gto_name_ok()), each command's
 * message kept (register names the model, a move NAME#STAGE).
 *
 * A GTO tag is written inside the open transaction, after every check,
 * and deleted again should the commit fail (commit_or_untag()), so a tag
 * never names a version or move the registry does not hold.
 *
 * Deliberately absent: printing (the commands do), option checks, the
 * rules of the rollback stack (registry.c), and the manifest and archive
 * formats (manifest.c, bundle.c).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "gitrepo.h"
#include "ident.h"
#include "manifest.h"
#include "model.h"
#include "modelref.h"
#include "registry.h"
#include "release.h"
#include "repo.h"
#include "sha256.h"
#include "xalloc.h"

/*
 * Artefacts are JSON of a few megabytes (train caps a model at 2^20
 * coefficients, about 25 MB); import refuses absurd entries early.  The
 * bundle file itself may hold this plus 1 MiB (bundle_read()).
 */
#define BUNDLE_MAX_ENTRY ((size_t)128 << 20)

void release_result_release(struct release_result *res)
{
	if (!res)
		return;
	free(res->model);
	free(res->tag_name);
	memset(res, 0, sizeof(*res));
}

void release_version_release(struct release_version *res)
{
	if (!res)
		return;
	free(res->model);
	free(res->tag_name);
	free(res->from_model);
	memset(res, 0, sizeof(*res));
}

/*
 * Commit the open transaction; should that fail, forget the GTO tag
 * *tag_name written inside it, and delete it when `untag` (0 when the
 * tag was there before: registering bytes that already were a version).
 */
static int commit_or_untag(struct repo *repo, char **tag_name, int untag,
			   struct mlops_err *err)
{
	int ret = registry_commit(repo->reg, err);

	if (ret && *tag_name) {
		if (untag)
			gitrepo_tag_delete(repo->worktree, *tag_name);
		free(*tag_name);
		*tag_name = NULL;
	}
	return ret;
}

/*
 * The version's artefact, loaded (its hash checked): the one way here to
 * a version's model, its git commit included.  With `bytes` non-NULL
 * *bytes and *len keep the artefact's bytes (the caller frees them).
 */
static int load_version(struct repo *repo, const struct reg_version *v,
			char **bytes, size_t *len, struct model **m,
			struct mlops_err *err)
{
	char *buf = NULL;
	size_t n = 0;
	int ret;

	*m = NULL;
	if (!(ret = repo_read_artifact(repo, v->sha256, &buf, &n, err)))
		ret = model_from_bytes(buf, n, v->sha256, m, err);
	if (bytes && !ret) {
		*bytes = buf;
		*len = n;
	} else {
		free(buf);
	}
	return ret;
}

/* Why the latest validation does not unlock the stage. */
enum shortfall {
	SHORT_NONE,		/* it does */
	SHORT_MISSING,		/* no validation on record */
	SHORT_FAILED,
	SHORT_NO_GATE,
	SHORT_NOT_AGAINST	/* not compared with the stage's holder */
};

/* Whether a validation report compared with the artefact of `holder`. */
static int was_against(const cJSON *report, const struct reg_version *holder)
{
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(report,
							     "against_sha256");
	const cJSON *ver, *ref;
	struct modelref r;
	struct mlops_err ignored = MLOPS_ERR_INIT;
	int same;

	if (cJSON_IsString(sha))
		return !strcmp(sha->valuestring, holder->sha256);
	/* A report from before lineage: the reference and its version. */
	ver = cJSON_GetObjectItemCaseSensitive(report, "against_version");
	ref = cJSON_GetObjectItemCaseSensitive(report, "against");
	if (!cJSON_IsNumber(ver) || !cJSON_IsString(ref) ||
	    ver->valueint != holder->version ||
	    modelref_parse(ref->valuestring, &r, &ignored))
		return 0;
	same = r.name && !strcmp(r.name, holder->model);
	modelref_release(&r);
	return same;
}

/*
 * Judge version v's latest validation by the policy; *run_id receives it
 * when it counts.  `holder` is the stage's current holder (NULL: unset).
 */
static int judge(struct repo *repo, const struct reg_version *v,
		 const struct repo_stage_policy *p,
		 const struct reg_version *holder, enum shortfall *why,
		 long long *run_id, long long *latest,
		 struct mlops_err *err)
{
	struct reg_run_row row;
	cJSON *report = NULL;
	const cJSON *gates;
	int ret, found;

	*run_id = 0;
	*latest = 0;
	if ((ret = registry_latest_validation(repo->reg, v->model, v->version,
					      &row, &found, err)))
		return ret;
	*why = SHORT_MISSING;
	if (!found)
		return 0;
	*latest = row.id;
	report = row.metrics_json ? cJSON_Parse(row.metrics_json) : NULL;
	gates = cJSON_GetObjectItemCaseSensitive(report, "gates");
	if (row.passed != 1)
		*why = SHORT_FAILED;
	else if (p->require_gate && cJSON_GetArraySize(gates) < 1)
		*why = SHORT_NO_GATE;
	else if (p->require_against && holder && holder->version != v->version
		 && !was_against(report, holder))
		*why = SHORT_NOT_AGAINST;
	else
		*why = SHORT_NONE;
	if (*why == SHORT_NONE)
		*run_id = row.id;
	cJSON_Delete(report);
	reg_run_row_release(&row);
	return 0;
}

/* A metric every model of the task reports, for the suggested gate. */
static const char *gate_metric(const struct model *m)
{
	if (!m)
		return "METRIC";
	return m->task == TASK_BINARY ? "auc" :
	       m->task == TASK_MULTICLASS ? "accuracy" : "r2";
}

static int refused(struct repo *repo, const struct reg_version *v,
		   const char *stage, const struct reg_version *holder,
		   enum shortfall why, long long latest,
		   struct mlops_err *err)
{
	struct mlops_err ignored = MLOPS_ERR_INIT;
	struct model *m = NULL;
	char what[256], cmd[512];
	const char *metric;

	/* The artefact only picks the metric of the suggested command. */
	if (load_version(repo, v, NULL, NULL, &m, &ignored))
		m = NULL;
	metric = gate_metric(m);
	if (why == SHORT_NOT_AGAINST)
		snprintf(cmd, sizeof(cmd), "mlops validate %s:%d --data FILE "
			 "--against %s@%s --min-delta %s=D", v->model,
			 v->version, v->model, stage, metric);
	else
		snprintf(cmd, sizeof(cmd), "mlops validate %s:%d --data FILE "
			 "--min %s=V", v->model, v->version, metric);
	model_free(m);
	switch (why) {
	case SHORT_FAILED:
		snprintf(what, sizeof(what), "failed its latest validation "
			 "(run %lld), and '%s' takes only the latest",
			 latest, stage);
		break;
	case SHORT_NO_GATE:
		snprintf(what, sizeof(what), "no gate in its latest validation "
			 "(run %lld), and '%s' takes only the latest, with a "
			 "gate", latest, stage);
		break;
	case SHORT_NOT_AGAINST:
		snprintf(what, sizeof(what), "no validation against %s:%d, "
			 "the holder of '%s', on record, which '%s' requires "
			 "(its latest, run %lld, was not compared with it)",
			 holder->model, holder->version, stage, stage, latest);
		break;
	default:
		snprintf(what, sizeof(what), "no passing validation on record, "
			 "which '%s' requires", stage);
		break;
	}
	return err_set(err, MLOPS_ECHECK,
		       "%s:%d has %s; run '%s' first, or use --force --reason "
		       "TEXT", v->model, v->version, what, cmd);
}

/*
 * The move itself, inside the open transaction: the ledger row, the
 * GTO tag on the version's commit, the commit, and the tag deleted again
 * should the commit fail.  The transaction is over on return.
 */
static int move(struct repo *repo, const struct reg_version *v,
		const char *stage, const char *action, int forced,
		const char *reason, int git_tag, const char *tag_msg,
		struct release_result *res, struct mlops_err *err)
{
	struct reg_move mv;
	struct model *m = NULL;
	char *identity = ident_git(repo->worktree);
	int ret;

	mv.model = v->model;
	mv.stage = stage;
	mv.to_version = v->version;
	mv.action = action;
	mv.forced = forced;
	mv.reason = reason;
	mv.validation_run_id = res->validation_run_id;
	mv.git_identity = identity;
	if ((ret = registry_stage_move(repo->reg, &mv, NULL, &res->event_id,
				       err)))
		goto fail;
	if (git_tag &&
	    ((ret = load_version(repo, v, NULL, NULL, &m, err)) ||
	     (ret = gitrepo_tag_promote(repo->worktree, v->model, stage,
					m->git_commit, tag_msg,
					&res->tag_name, err))))
		goto fail;
	if ((ret = commit_or_untag(repo, &res->tag_name, 1, err)))
		res->event_id = 0;
	goto out;
fail:
	registry_rollback(repo->reg);
	res->event_id = 0;
out:
	model_free(m);
	free(identity);
	return ret;
}

/* Whether to write a GTO tag: the flag as given, else git.tags. */
static int wants_tag(const struct repo *repo, enum release_git_tag flag)
{
	return flag == RELEASE_GIT_TAG_YES ||
	       (flag == RELEASE_GIT_TAG_CONFIG && repo->git_tags);
}

/* The tag NAME#STAGE#K of a stage move needs GTO's name grammar. */
static int check_gto_move(const char *model, const char *stage,
			  struct mlops_err *err)
{
	if (gitrepo_gto_name_ok(model) && gitrepo_gto_name_ok(stage))
		return 0;
	return err_set(err, MLOPS_EUSAGE,
		       "'%s#%s' cannot be written as a GTO tag: use "
		       "lower-case letters, digits and '-'", model, stage);
}

int release_promote(struct repo *repo, const struct release_promote_req *req,
		    struct release_result *res, struct mlops_err *err)
{
	struct reg_version v = { 0 }, holder = { 0 };
	struct repo_stage_policy policy;
	enum shortfall why;
	long long latest;
	char *msg = NULL;
	int ret, git_tag = wants_tag(repo, req->git_tag);

	memset(res, 0, sizeof(*res));
	if ((git_tag && (ret = check_gto_move(req->model, req->stage, err))) ||
	    (ret = repo_stage_policy(repo, req->stage, &policy, err)) ||
	    (ret = registry_begin(repo->reg, err)))
		return ret;
	if ((ret = registry_resolve(repo->reg, req->model, req->version,
				    req->via_stage, &v, err)) ||
	    (ret = registry_stage_get(repo->reg, v.model, req->stage,
				      &res->from_version, err)))
		goto fail;
	res->model = xstrdup(v.model);
	res->version = v.version;
	if (req->expect >= 0 && res->from_version != req->expect) {
		if (res->from_version)
			ret = err_set(err, MLOPS_ECHECK, "stage '%s' of model "
				      "'%s' holds version %d, not %s as "
				      "--expect says; not moved", req->stage,
				      v.model, res->from_version,
				      req->expect_arg);
		else
			ret = err_set(err, MLOPS_ECHECK, "stage '%s' of model "
				      "'%s' is not set, not %s as --expect "
				      "says; not moved", req->stage, v.model,
				      req->expect_arg);
		goto fail;
	}
	if (res->from_version &&
	    (ret = registry_resolve(repo->reg, v.model, res->from_version,
				    NULL, &holder, err)))
		goto fail;
	if ((ret = judge(repo, &v, &policy,
			 res->from_version ? &holder : NULL, &why,
			 &res->validation_run_id, &latest, err)))
		goto fail;
	res->changed = res->from_version != v.version;
	if (res->changed && policy.require_validation && why != SHORT_NONE) {
		if (!req->force) {
			ret = refused(repo, &v, req->stage,
				      res->from_version ? &holder : NULL, why,
				      latest, err);
			goto fail;
		}
		res->forced = 1;
	}
	if (!res->changed || req->dry_run)
		goto fail;	/* nothing to write: roll back, ret == 0 */
	msg = xasprintf("Assigning stage %s to artifact %s version v0.0.%d\n"
			"\nmlops: %s\n", req->stage, v.model, v.version,
			req->reason ? req->reason : "promote");
	ret = move(repo, &v, req->stage, "promote", res->forced, req->reason,
		   git_tag, msg, res, err);
	goto out;
fail:
	registry_rollback(repo->reg);
out:
	free(msg);
	reg_version_release(&v);
	reg_version_release(&holder);
	return ret;
}

int release_rollback(struct repo *repo,
		     const struct release_rollback_req *req,
		     struct release_result *res, struct mlops_err *err)
{
	struct reg_version v = { 0 };
	struct reg_run_row row;
	char *msg = NULL;
	int ret, found = 0, git_tag = wants_tag(repo, req->git_tag);

	memset(res, 0, sizeof(*res));
	memset(&row, 0, sizeof(row));
	if ((git_tag && (ret = check_gto_move(req->model, req->stage, err))) ||
	    (ret = registry_begin(repo->reg, err)))
		return ret;
	if ((ret = registry_stage_get(repo->reg, req->model, req->stage,
				      &res->from_version, err)) ||
	    (ret = registry_rollback_target(repo->reg, req->model, req->stage,
					    req->to_version, &res->version,
					    err)) ||
	    (ret = registry_resolve(repo->reg, req->model, res->version, NULL,
				    &v, err)) ||
	    (ret = registry_latest_validation(repo->reg, v.model, v.version,
					      &row, &found, err)))
		goto fail;
	res->model = xstrdup(v.model);
	res->changed = 1;
	if (found && row.passed == 1)
		res->validation_run_id = row.id;
	if (req->dry_run)
		goto fail;
	msg = xasprintf("Assigning stage %s to artifact %s version v0.0.%d\n"
			"\nmlops: rollback%s%s\n", req->stage, v.model,
			v.version, req->reason ? ": " : "",
			req->reason ? req->reason : "");
	ret = move(repo, &v, req->stage, "rollback", 0, req->reason,
		   git_tag, msg, res, err);
	goto out;
fail:
	registry_rollback(repo->reg);
out:
	free(msg);
	reg_run_row_release(&row);
	reg_version_release(&v);
	return ret;
}

static int add_tags(struct registry *reg, const char *model, int version,
		    const struct release_tag *tags, size_t n_tags,
		    struct mlops_err *err)
{
	size_t i;
	int ret;

	for (i = 0; i < n_tags; i++)
		if ((ret = registry_add_tag(reg, model, version, tags[i].key,
					    tags[i].value, err)))
			return ret;
	return 0;
}

int release_register(struct repo *repo,
		     const struct release_register_req *req,
		     struct release_version *res, struct mlops_err *err)
{
	struct model *m = NULL;
	char *msg = NULL, *read = NULL;
	const char *bytes = req->bytes, *label = req->label;
	size_t len = req->len;
	int ret, git_tag = wants_tag(repo, req->git_tag);

	memset(res, 0, sizeof(*res));
	if (git_tag && !gitrepo_gto_name_ok(req->model))
		return err_set(err, MLOPS_EUSAGE,
			       "model name '%s' cannot be written as a GTO "
			       "tag: use lower-case letters, digits and '-'",
			       req->model);
	if (req->path) {
		if ((ret = model_read_file(req->path, &read, &len, err)))
			return ret;
		bytes = read;
		if (!label)
			label = req->path;
	}
	res->model = xstrdup(req->model);
	res->size = (long long)len;
	if ((ret = model_from_bytes(bytes, len, label, &m, err)) ||
	    (ret = repo_store_artifact(repo, bytes, len, res->sha256, err)) ||
	    (ret = registry_begin(repo->reg, err)))
		goto out;
	if ((ret = registry_register(repo->reg, req->model, res->sha256,
				     res->size, req->run_id, req->description,
				     &res->version, &res->existed, err)) ||
	    (!res->existed &&
	     (ret = add_tags(repo->reg, req->model, res->version, req->tags,
			     req->n_tags, err))))
		goto fail;
	if (git_tag) {
		msg = xasprintf("Registering artifact %s version v0.0.%d\n\n"
				"mlops: sha256:%s\n", req->model, res->version,
				res->sha256);
		if ((ret = gitrepo_tag_register(repo->worktree, req->model,
						res->version, m->git_commit,
						msg, &res->tag_name, err)))
			goto fail;
	}
	ret = commit_or_untag(repo, &res->tag_name, !res->existed, err);
	goto out;
fail:
	registry_rollback(repo->reg);
out:
	model_free(m);
	free(msg);
	free(read);
	return ret;
}

int release_export(struct repo *repo, const char *model, int version,
		   const char *stage, const char *output,
		   struct release_version *res, struct mlops_err *err)
{
	struct reg_version v = { 0 };
	struct reg_event *ev = NULL;
	struct bundle_file files[2];
	struct model *m = NULL;
	char **tags = NULL, *bytes = NULL, *manifest = NULL;
	size_t n_tags = 0, n_ev = 0, len = 0, i;
	int ret;

	memset(res, 0, sizeof(*res));
	if ((ret = registry_resolve(repo->reg, model, version, stage, &v,
				    err)) ||
	    (ret = load_version(repo, &v, &bytes, &len, &m, err)) ||
	    (ret = registry_version_tags(repo->reg, v.model, v.version, &tags,
					 &n_tags, err)) ||
	    (ret = registry_history(repo->reg, v.model, NULL, 0, &ev, &n_ev,
				    err)) ||
	    (ret = manifest_build(&v, m, tags, n_tags, ev, n_ev, &manifest,
				  err)))
		goto out;
	files[0].name = MANIFEST_ARTIFACT_ENTRY;
	files[0].bytes = bytes;
	files[0].len = len;
	files[1].name = MANIFEST_ENTRY;
	files[1].bytes = manifest;
	files[1].len = strlen(manifest);
	if ((ret = bundle_write(output, files, 2, err)))
		goto out;
	res->model = xstrdup(v.model);
	res->version = v.version;
	memcpy(res->sha256, v.sha256, sizeof(res->sha256));
	res->size = (long long)len;
out:
	model_free(m);
	free(bytes);
	free(manifest);
	registry_free_strings(tags, n_tags);
	for (i = 0; i < n_ev; i++)
		reg_event_release(&ev[i]);
	free(ev);
	reg_version_release(&v);
	return ret;
}

/* The bundle's manifest, checked against the artefact's bytes. */
static int check_bundle(const char *path, const struct bundle_file *files,
			size_t n_files, struct manifest *mf,
			const struct bundle_file **art, struct mlops_err *err)
{
	const struct bundle_file *man;
	char sha[65];
	int ret;

	if (!(man = bundle_find(files, n_files, MANIFEST_ENTRY)) ||
	    !(*art = bundle_find(files, n_files, MANIFEST_ARTIFACT_ENTRY)))
		return err_set(err, MLOPS_ECORRUPT, "bundle '%s' has no %s",
			       path, man ? MANIFEST_ARTIFACT_ENTRY :
			       MANIFEST_ENTRY);
	if ((ret = manifest_parse(path, man->bytes, man->len, mf, err)))
		return ret;
	sha256_hex((*art)->bytes, (*art)->len, sha);
	if (strcmp(sha, mf->sha256) || (double)(*art)->len != mf->size)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s': artifact.json hashes to sha256:%s "
			       "(%zu bytes), but the manifest says sha256:%s "
			       "(%.0f bytes); refused", path, sha, (*art)->len,
			       mf->sha256, mf->size);
	return 0;
}

int release_import(struct repo *repo, const char *path, const char *as,
		   struct release_version *res, struct mlops_err *err)
{
	static const char *const allowed[] = {
		MANIFEST_ARTIFACT_ENTRY, MANIFEST_ENTRY
	};
	struct release_register_req req = { 0 };
	struct release_tag *tags = NULL;
	struct bundle_file *files = NULL;
	const struct bundle_file *art = NULL;
	struct manifest mf = { 0 };
	size_t n_files = 0, i;
	char *from = NULL;
	int ret;

	memset(res, 0, sizeof(*res));
	if ((ret = bundle_read(path, allowed, 2, BUNDLE_MAX_ENTRY, &files,
			       &n_files, err)) ||
	    (ret = check_bundle(path, files, n_files, &mf, &art, err)))
		goto out;
	/* "imported-from" first: the first value of a key wins. */
	from = xasprintf("%s:%d sha256:%s", mf.model, mf.version, mf.sha256);
	tags = xcalloc(mf.n_tags + 1, sizeof(*tags));
	tags[0].key = "imported-from";
	tags[0].value = from;
	for (i = 0; i < mf.n_tags; i++) {
		tags[i + 1].key = mf.tags[i].key;
		tags[i + 1].value = mf.tags[i].value;
	}
	req.model = as ? as : mf.model;
	req.bytes = art->bytes;
	req.len = art->len;
	req.label = MANIFEST_ARTIFACT_ENTRY;
	req.description = mf.description;
	req.tags = tags;
	req.n_tags = mf.n_tags + 1;
	req.git_tag = RELEASE_GIT_TAG_NO;
	if ((ret = release_register(repo, &req, res, err)))
		goto out;
	res->from_model = xstrdup(mf.model);
	res->from_version = mf.version;
out:
	free(tags);
	free(from);
	manifest_release(&mf);
	bundle_files_free(files, n_files);
	return ret;
}

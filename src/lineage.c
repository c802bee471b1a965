/*
 * Lineage: walking back from a file to the run that wrote it, the model
 * version it used, the training run and its commit and data.
 *
 * Runs record the hash of every file they write (run_outputs) and of the
 * artefact they used or made (runs.artifact_sha256), so each link is a
 * lookup by hash, and a file renamed or copied since is still found; an
 * edited one is not, by design.  Several runs can write identical bytes
 * (a rerun of the same job): the newest is the answer.  The training
 * run of an artefact is the version's run when the artefact is
 * registered with one, else the newest train run that made those bytes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "registry.h"
#include "repo.h"
#include "runrec.h"
#include "xalloc.h"

void lineage_release(struct lineage *l)
{
	if (!l)
		return;
	reg_run_row_release(&l->run);
	reg_run_row_release(&l->training);
	free(l->role);
	free(l->model);
	memset(l, 0, sizeof(*l));
}

/* The version holding the run's artefact, and that artefact's training run. */
static int trace_model(struct repo *repo, struct lineage *l,
		       struct mlops_err *err)
{
	struct reg_version v = { 0 };
	long long train_id = 0;
	int ret;

	if (!l->artifact_sha256[0])
		return 0;
	if (l->run.model && l->run.version > 0) {
		l->model = xstrdup(l->run.model);
		l->version = l->run.version;
	} else if ((ret = registry_artifact_version(repo->reg,
						    l->artifact_sha256,
						    &l->model, &l->version,
						    err))) {
		return ret;
	}
	if (!strcmp(l->run.kind, "train")) {
		train_id = l->run.id;
	} else if (l->model) {
		if ((ret = registry_resolve(repo->reg, l->model, l->version,
					    NULL, &v, err)))
			return ret;
		/* The version's own run, if it made these very bytes. */
		if (!strcmp(v.sha256, l->artifact_sha256))
			train_id = v.run_id;
		reg_version_release(&v);
	}
	if (!train_id &&
	    (ret = registry_artifact_train_run(repo->reg, l->artifact_sha256,
					       &train_id, err)))
		return ret;
	if (!train_id)
		return 0;
	if ((ret = registry_get_run(repo->reg, train_id, &l->training, err)))
		return ret;
	l->have_training = 1;
	return 0;
}

int lineage_trace(struct repo *repo, const char *path, struct lineage *out,
		  struct mlops_err *err)
{
	long long run_id;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = runrec_hash_file(path, out->sha256, err))) {
		if (ret == MLOPS_EUSAGE)
			err_set(err, ret, "'%s' is not a regular file; give "
				"the file a run wrote", path);
		return ret;
	}
	if ((ret = registry_output_run(repo->reg, out->sha256, &run_id,
				       &out->role, err)))
		goto fail;
	/*
	 * An artefact made by train --register alone was never written as a
	 * file, yet it is the train run's product: a copy of it (from the
	 * store, or exported) traces to that run.
	 */
	if (!run_id &&
	    (ret = registry_artifact_train_run(repo->reg, out->sha256, &run_id,
					       err)))
		goto fail;
	if (run_id && !out->role)
		out->role = xstrdup("artifact");
	if (!run_id) {
		ret = err_set(err, MLOPS_ENOTFOUND, "no recorded run wrote "
			      "'%s' (sha256 %s)", path, out->sha256);
		goto fail;
	}
	if ((ret = registry_get_run(repo->reg, run_id, &out->run, err)))
		goto fail;
	if (out->run.artifact_sha256)
		snprintf(out->artifact_sha256, sizeof(out->artifact_sha256),
			 "%s", out->run.artifact_sha256);
	if ((ret = trace_model(repo, out, err)))
		goto fail;
	return 0;
fail:
	lineage_release(out);
	return ret;
}

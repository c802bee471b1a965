/*
 * mlops register NAME ARTEFACT: store an artefact and make it the next
 * version of a model.
 *
 * The file must be a valid artefact (model_from_bytes() checks every
 * field and its checksum) before anything is written.  The bytes go to
 * the content-addressed store first, durably; only then does the version
 * row commit, so a crash never leaves a version without its file.
 * Registering identical bytes again returns the existing version
 * (retry-safe CI); tags given then are ignored, as versions never change.
 * With --git-tag (or git.tags in config) a GTO tag NAME@v0.0.N is written
 * on the commit recorded in the artefact's lineage (HEAD if none), inside
 * the registry transaction, and deleted again if the commit fails.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "gitrepo.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

static const char *const register_synopsis[] = {
	"mlops register NAME ARTEFACT [--run ID] [--description TEXT] "
	"[--tag K=V]... [--git-tag]",
	NULL
};

static const struct opt_usage register_usage = {
	register_synopsis,
	"  mlops register churn model.json\n"
	"  mlops register churn model.json --run 12 "
	"--description \"Q3 retrain\"\n"
	"  mlops register churn model.json --tag team=growth --git-tag\n",
	"Register an artefact as the next version of a model."
};

static int read_whole_file(const char *path, char **bytes, size_t *len,
			   struct mlops_err *err)
{
	size_t alloc = 0, n = 0, got;
	char *buf = NULL;
	FILE *fp;

	if (!(fp = fopen(path, "rb")))
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND :
			       MLOPS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	do {
		XGROW(buf, alloc, n + 65536 + 1);
		got = fread(buf + n, 1, alloc - n - 1, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp)) {
		fclose(fp);
		free(buf);
		return err_set(err, MLOPS_EIO, "cannot read '%s'", path);
	}
	fclose(fp);
	buf[n] = '\0';
	*bytes = buf;
	*len = n;
	return 0;
}

/* Check the --tag K=V items: a non-empty key and an '='. */
static int check_tags(const struct opt_list *tags, struct mlops_err *err)
{
	size_t i;

	for (i = 0; i < tags->n; i++) {
		const char *eq = strchr(tags->items[i], '=');

		if (!eq || eq == tags->items[i])
			return err_set(err, MLOPS_EUSAGE,
				       "option '--tag' expects KEY=VALUE, "
				       "got '%s'", tags->items[i]);
	}
	return 0;
}

static int add_tags(struct registry *reg, const char *name, int version,
		    const struct opt_list *tags, struct mlops_err *err)
{
	size_t i;
	int ret;

	for (i = 0; i < tags->n; i++) {
		const char *item = tags->items[i], *eq = strchr(item, '=');
		char *key = xstrndup(item, (size_t)(eq - item));

		ret = registry_add_tag(reg, name, version, key, eq + 1, err);
		free(key);
		if (ret)
			return ret;
	}
	return 0;
}

int cmd_register(int argc, char **argv, struct cmd_ctx *ctx,
		 struct mlops_err *err)
{
	const char *description = NULL, *name, *path;
	struct opt_list tags = { NULL, 0, 0 };
	long run_id = 0;
	int git_tag = 0;
	const struct opt opts[] = {
		OPT_INT(0, "run", &run_id, "ID",
			"the run that produced the artefact"),
		OPT_STRING(0, "description", &description, "TEXT",
			   "a description of the version"),
		OPT_LIST(0, "tag", &tags, "K=V",
			 "attach a tag to the new version (repeatable)"),
		OPT_BOOL(0, "git-tag", &git_tag,
			 "write the GTO tag NAME@v0.0.N in the git repository"),
		OPT_END()
	};
	struct repo *repo = ctx->repo;
	char sha[65], *bytes = NULL, *tag_name = NULL, *msg = NULL;
	struct model *model = NULL;
	int ret, n, version = 0, existed = 0, in_tx = 0;
	size_t len = 0;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &register_usage, &n, err)))
		goto out;
	if ((ret = cmd_operands(n, 2, register_synopsis[0], err)))
		goto out;
	name = argv[0];
	path = argv[1];
	if ((ret = cmd_check_name(name, err)))
		goto out;
	if (run_id < 0) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "option '--run' expects a run id, got %ld",
			      run_id);
		goto out;
	}
	if ((ret = check_tags(&tags, err)))
		goto out;
	git_tag = git_tag || repo->git_tags;
	if (git_tag && !gitrepo_gto_name_ok(name)) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "model name '%s' cannot be written as a GTO tag: "
			      "use lower-case letters, digits and '-'", name);
		goto out;
	}
	if ((ret = read_whole_file(path, &bytes, &len, err)))
		goto out;
	if ((ret = model_from_bytes(bytes, len, path, &model, err)))
		goto out;
	if ((ret = repo_store_artifact(repo, bytes, len, sha, err)))
		goto out;

	if ((ret = registry_begin(repo->reg, err)))
		goto out;
	in_tx = 1;
	if ((ret = registry_register(repo->reg, name, sha, (long long)len,
				     run_id, description, &version, &existed,
				     err)))
		goto out;
	if (!existed && (ret = add_tags(repo->reg, name, version, &tags, err)))
		goto out;
	if (git_tag) {
		msg = xasprintf("Registering artifact %s version v0.0.%d\n\n"
				"mlops: sha256:%s\n", name, version, sha);
		if ((ret = gitrepo_tag_register(repo->worktree, name, version,
						model->git_commit, msg,
						&tag_name, err)))
			goto out;
	}
	in_tx = 0;
	if ((ret = registry_commit(repo->reg, err))) {
		if (tag_name && !existed)
			gitrepo_tag_delete(repo->worktree, tag_name);
		goto out;
	}

	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", name);
		cJSON_AddNumberToObject(obj, "version", version);
		cJSON_AddStringToObject(obj, "sha256", sha);
		cJSON_AddNumberToObject(obj, "size", (double)len);
		cJSON_AddBoolToObject(obj, "existed", existed);
		if (tag_name)
			cJSON_AddStringToObject(obj, "git_tag", tag_name);
		else
			cJSON_AddNullToObject(obj, "git_tag");
		cmd_print_json(obj);
	} else if (!ctx->quiet) {
		if (existed)
			printf("%s:%d already holds this artefact\n", name,
			       version);
		else
			printf("registered %s:%d (sha256:%.12s\xe2\x80\xa6)\n",
			       name, version, sha);
		if (tag_name)
			printf("git tag %s\n", tag_name);
	}
out:
	if (in_tx)
		registry_rollback(repo->reg);
	model_free(model);
	free(bytes);
	free(tag_name);
	free(msg);
	opt_list_release(&tags);
	return ret;
}

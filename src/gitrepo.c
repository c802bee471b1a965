/*
 * Git through libgit2: lineage (HEAD commit and dirty flag of the
 * repository around a folder) and release tags in the grammar of GTO
 * (iterative/gto), so GTO and DVC read the same history as the registry:
 * "NAME@v0.0.N" registers version N, "NAME#STAGE#K" assigns a stage, K
 * one more than the largest counter among the model's tags.
 *
 * Every entry point calls lib_init(), which initialises libgit2 once per
 * process and keeps it (no shutdown): initialising loads the system's CA
 * certificates, tens of millions of instructions, so doing it once per
 * call would dominate a command such as promote.  Callers need no setup.
 * Discovery does not cross file systems.  "Dirty" means a tracked file
 * differs in the index or the work tree; untracked files do not count,
 * as they cannot have influenced a build from the commit.
 *
 * The identity libgit2 would sign with is here too, for the layouts the
 * plain reader of ident.c leaves to it.
 *
 * Not here: pushing tags, or anything that changes the work tree.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitrepo.h"
#include "xalloc.h"

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static void lib_init(void)
{
	static int done;

	if (!done) {
		git_libgit2_init();
		done = 1;
	}
}

/* Open the repository around `dir`; GIT_ENOTFOUND when there is none. */
static int open_repo(const char *dir, git_repository **repo)
{
	return git_repository_open_ext(repo, dir, 0, NULL);
}

int gitrepo_state(const char *dir, struct git_state *out,
		  struct mlops_err *err)
{
	git_status_options opts;
	git_repository *repo = NULL;
	git_status_list *status = NULL;
	git_oid head;
	int rc, ret = 0;

	memset(out, 0, sizeof(*out));
	lib_init();
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	rc = open_repo(dir, &repo);
	if (rc == GIT_ENOTFOUND)
		goto out;
	if (rc) {
		ret = err_set(err, MLOPS_EIO,
			      "cannot open the git repository around '%s': %s",
			      dir, git_msg());
		goto out;
	}
	out->found = 1;
	if (!git_reference_name_to_id(&head, repo, "HEAD"))
		git_oid_tostr(out->commit, sizeof(out->commit), &head);
	if (git_repository_is_bare(repo))
		goto out;
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&status, repo, &opts)) {
		ret = err_set(err, MLOPS_EIO,
			      "cannot read the git status of '%s': %s", dir,
			      git_msg());
		goto out;
	}
	out->dirty = git_status_list_entrycount(status) > 0;
out:
	git_status_list_free(status);
	git_repository_free(repo);
	return ret;
}

int gitrepo_gto_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(islower(c) || isdigit(c) || (c == '-' && i > 0)))
			return 0;
	}
	return name[len - 1] != '-';
}

int gitrepo_signature(const char *dir, char **out)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_signature *sig = NULL;

	*out = NULL;
	lib_init();
	if (!open_repo(dir, &repo)) {
		if (git_signature_default(&sig, repo))
			sig = NULL;
	} else if (!git_config_open_default(&cfg)) {
		git_config_entry *name = NULL, *email = NULL;

		if (!git_config_get_entry(&name, cfg, "user.name") &&
		    !git_config_get_entry(&email, cfg, "user.email") &&
		    git_signature_now(&sig, name->value, email->value))
			sig = NULL;
		git_config_entry_free(name);
		git_config_entry_free(email);
	}
	if (sig)
		*out = xasprintf("%s <%s>", sig->name, sig->email);
	git_signature_free(sig);
	git_config_free(cfg);
	git_repository_free(repo);
	return *out != NULL;
}

/* The commit `commit_hex` names (or HEAD); MLOPS_ENOTFOUND if none. */
static int lookup_target(git_repository *repo, const char *commit_hex,
			 git_object **target, struct mlops_err *err)
{
	git_oid oid;

	if (!commit_hex || !*commit_hex) {
		if (git_revparse_single(target, repo, "HEAD^{commit}"))
			return err_set(err, MLOPS_ENOTFOUND,
				       "cannot tag HEAD: %s", git_msg());
		return 0;
	}
	if (git_oid_fromstr(&oid, commit_hex) ||
	    git_object_lookup(target, repo, &oid, GIT_OBJECT_COMMIT))
		return err_set(err, MLOPS_ENOTFOUND,
			       "commit %s is not in the git repository",
			       commit_hex);
	return 0;
}

/* Whether refs/tags/`name` exists; *same when it peels to `target`. */
static int tag_exists(git_repository *repo, const char *name,
		      const git_object *target, int *same)
{
	char *ref_name = xasprintf("refs/tags/%s", name);
	git_reference *ref = NULL;
	git_object *peeled = NULL;
	int found = 0;

	*same = 0;
	if (!git_reference_lookup(&ref, repo, ref_name)) {
		found = 1;
		if (!git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT))
			*same = git_oid_equal(git_object_id(peeled),
					      git_object_id(target));
	}
	git_object_free(peeled);
	git_reference_free(ref);
	free(ref_name);
	return found;
}

static int create_tag(git_repository *repo, const char *name,
		      const char *commit_hex, const char *message,
		      int *existed, struct mlops_err *err)
{
	git_object *target = NULL;
	git_signature *tagger = NULL;
	git_oid oid;
	int ret, same;

	if (existed)
		*existed = 0;
	if ((ret = lookup_target(repo, commit_hex, &target, err)))
		return ret;
	if (tag_exists(repo, name, target, &same)) {
		if (same) {
			if (existed)
				*existed = 1;
		} else {
			ret = err_set(err, MLOPS_EIO,
				      "cannot create git tag '%s': it exists "
				      "and points at another commit", name);
		}
		goto out;
	}
	if (git_signature_default(&tagger, repo) &&
	    git_signature_now(&tagger, "mlops", "mlops@localhost")) {
		ret = err_set(err, MLOPS_EIO, "cannot create git tag '%s': %s",
			      name, git_msg());
		goto out;
	}
	if (git_tag_create(&oid, repo, name, target, tagger, message, 0))
		ret = err_set(err, MLOPS_EIO, "cannot create git tag '%s': %s",
			      name, git_msg());
out:
	git_signature_free(tagger);
	git_object_free(target);
	return ret;
}

static int with_repo(const char *dir, git_repository **repo,
		     struct mlops_err *err)
{
	int rc = open_repo(dir, repo);

	if (rc == GIT_ENOTFOUND)
		return err_set(err, MLOPS_ENOTFOUND,
			       "cannot write git tags: no git repository "
			       "around '%s'", dir);
	if (rc)
		return err_set(err, MLOPS_EIO,
			       "cannot open the git repository around '%s': %s",
			       dir, git_msg());
	return 0;
}

int gitrepo_tag(const char *dir, const char *name, const char *commit_hex,
		const char *message, int *existed, struct mlops_err *err)
{
	git_repository *repo = NULL;
	int ret;

	lib_init();
	if (!(ret = with_repo(dir, &repo, err)))
		ret = create_tag(repo, name, commit_hex, message, existed, err);
	git_repository_free(repo);
	return ret;
}

int gitrepo_tag_register(const char *dir, const char *model, int version,
			 const char *commit_hex, const char *message,
			 char **tag_name, struct mlops_err *err)
{
	char *name = xasprintf("%s@v0.0.%d", model, version);
	int ret = gitrepo_tag(dir, name, commit_hex, message, NULL, err);

	if (tag_name && !ret)
		*tag_name = name;
	else
		free(name);
	return ret;
}

/*
 * The counter K of a GTO tag of `model` ("NAME@v...#K", "NAME#STAGE#K"),
 * or 0 when it has none.
 */
static long tag_counter(const char *tag, const char *model)
{
	size_t len = strlen(model);
	const char *hash, *p;

	if (strncmp(tag, model, len) || (tag[len] != '@' && tag[len] != '#'))
		return 0;
	hash = strrchr(tag, '#');
	if (!hash || hash <= tag + len || !hash[1])
		return 0;
	for (p = hash + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return strtol(hash + 1, NULL, 10);
}

int gitrepo_tag_promote(const char *dir, const char *model,
			const char *stage, const char *commit_hex,
			const char *message, char **tag_name,
			struct mlops_err *err)
{
	git_repository *repo = NULL;
	git_strarray tags = { NULL, 0 };
	char *pattern = xasprintf("%s*", model), *name = NULL;
	long max = 0, k;
	size_t i;
	int ret;

	lib_init();
	if ((ret = with_repo(dir, &repo, err)))
		goto out;
	if (git_tag_list_match(&tags, pattern, repo)) {
		ret = err_set(err, MLOPS_EIO, "cannot list git tags: %s",
			      git_msg());
		goto out;
	}
	for (i = 0; i < tags.count; i++)
		if ((k = tag_counter(tags.strings[i], model)) > max)
			max = k;
	name = xasprintf("%s#%s#%ld", model, stage, max + 1);
	ret = create_tag(repo, name, commit_hex, message, NULL, err);
out:
	if (tag_name && !ret) {
		*tag_name = name;
		name = NULL;
	}
	free(name);
	free(pattern);
	git_strarray_dispose(&tags);
	git_repository_free(repo);
	return ret;
}

void gitrepo_tag_delete(const char *dir, const char *name)
{
	git_repository *repo = NULL;

	lib_init();
	if (!open_repo(dir, &repo))
		git_tag_delete(repo, name);
	git_repository_free(repo);
}

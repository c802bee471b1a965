/*
 * Who acts, by the one rule written out in ident.h: the user and host of
 * this process, and the git identity seen from the work tree.
 *
 * The registry records what it is given (registry_set_actor(), the
 * git_identity of a struct reg_move) and asks nobody itself.  The user
 * and host are cheap and read once per writable repository
 * (repo_discover()); the git identity reads up to four files, so only a
 * stage move asks for it (release.c).
 *
 * Deliberately absent: caching across calls, and an override of mlops'
 * own; the values are those git and libc give.
 */

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitconfig.h"
#include "gitrepo.h"
#include "ident.h"
#include "xalloc.h"

void ident_pick_user(const char *pw_name, const char *env_user, char *user,
		     size_t len)
{
	if (pw_name && *pw_name)
		snprintf(user, len, "%s", pw_name);
	else
		snprintf(user, len, "%s",
			 env_user && *env_user ? env_user : "unknown");
}

void ident_actor(struct ident *out)
{
	struct passwd *pw = getpwuid(geteuid());

	ident_pick_user(pw ? pw->pw_name : NULL, getenv("USER"), out->user,
			sizeof(out->user));
	if (gethostname(out->host, sizeof(out->host)) || !*out->host)
		snprintf(out->host, sizeof(out->host), "localhost");
	out->host[sizeof(out->host) - 1] = '\0';
}

/* Whether the file at `path` mentions an include directive. */
static int has_include(const char *path)
{
	char line[4096], *p;
	FILE *fp = fopen(path, "r");
	int found = 0;

	if (!fp)
		return 0;
	while (!found && fgets(line, sizeof(line), fp)) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		found = !strncasecmp(p, "[include", 8);
	}
	fclose(fp);
	return found;
}

/*
 * The .git folder of the repository enclosing `dir`, found as libgit2
 * finds it (walking up, not crossing file systems); NULL when there is
 * none.  *simple is 0 when the layout is one this reader does not follow
 * (a .git file: worktree or submodule).
 */
static char *find_git_dir(const char *dir, int *simple)
{
	char *cur = xstrdup(dir), *cand, *slash;
	struct stat st, pst;
	dev_t dev;

	*simple = 1;
	if (stat(cur, &st)) {
		free(cur);
		return NULL;
	}
	dev = st.st_dev;
	for (;;) {
		cand = xasprintf("%s/.git", strcmp(cur, "/") ? cur : "");
		if (!lstat(cand, &st)) {
			if (!S_ISDIR(st.st_mode))
				*simple = 0;
			free(cur);
			return cand;
		}
		free(cand);
		if (!strcmp(cur, "/"))
			break;
		slash = strrchr(cur, '/');
		if (slash == cur)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			break;
		if (stat(cur, &pst) || pst.st_dev != dev)
			break;
	}
	free(cur);
	return NULL;
}

/*
 * The git identity without libgit2, for the common layouts: user.name
 * and user.email from the system, XDG, global and repository config
 * files, later ones winning, as git_signature_default() reads them.
 * Returns 0 when it could decide (*out NULL: no identity), 1 when the
 * layout or a config file needs libgit2 (includes, .git files,
 * unparsable files).  This spares promote and rollback initialising
 * libgit2, which loads every CA certificate of the system.
 */
static int git_fast(const char *dir, char **out)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char *files[4], *name = NULL, *email = NULL, *v, *git_dir;
	size_t n = 0, i;
	int simple, ret = 0;

	*out = NULL;
	git_dir = find_git_dir(dir, &simple);
	if (!simple) {
		free(git_dir);
		return 1;
	}
	files[n++] = xstrdup("/etc/gitconfig");
	if (xdg && *xdg)
		files[n++] = xasprintf("%s/git/config", xdg);
	else if (home && *home)
		files[n++] = xasprintf("%s/.config/git/config", home);
	if (home && *home)
		files[n++] = xasprintf("%s/.gitconfig", home);
	if (git_dir)
		files[n++] = xasprintf("%s/config", git_dir);
	for (i = 0; i < n && !ret; i++) {
		if (access(files[i], F_OK))
			continue;
		if (has_include(files[i])) {
			ret = 1;
			break;
		}
		v = NULL;
		if (gitconfig_get(files[i], "user", NULL, "name", &v, NULL)) {
			ret = 1;
			break;
		}
		if (v) {
			free(name);
			name = v;
		}
		v = NULL;
		if (gitconfig_get(files[i], "user", NULL, "email", &v,
				    NULL)) {
			ret = 1;
			break;
		}
		if (v) {
			free(email);
			email = v;
		}
	}
	if (!ret && name && email && *name)
		*out = xasprintf("%s <%s>", name, email);
	for (i = 0; i < n; i++)
		free(files[i]);
	free(git_dir);
	free(name);
	free(email);
	return ret;
}

char *ident_git(const char *worktree)
{
	char *out = NULL;

	if (git_fast(worktree, &out))
		gitrepo_signature(worktree, &out);
	return out;
}

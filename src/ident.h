#ifndef MLOPS_IDENT_H
#define MLOPS_IDENT_H

/*
 * Who acts: the identity recorded on the rows a registry writes (a
 * version's created_by, a ledger row's actor, host and git identity).
 * The rule, in one place (ident.c):
 *
 *   user   the name of the effective user's passwd entry; when there is
 *          none (or it is empty), $USER when set and non-empty; else
 *          "unknown".  At most 127 bytes.
 *   host   gethostname(); "localhost" when that fails or is empty.  At
 *          most 255 bytes.
 *   git    "Name <email>" from user.name and user.email as git reads them
 *          seen from the work tree: /etc/gitconfig, then
 *          $XDG_CONFIG_HOME/git/config (~/.config/git/config when
 *          XDG_CONFIG_HOME is unset or empty), ~/.gitconfig, then the
 *          enclosing repository's .git/config, later files winning; none
 *          when either is missing or the name is empty.  Layouts and
 *          files this reader does not follow (include directives, a .git
 *          file, a file that does not parse) are read by libgit2 instead
 *          (gitrepo_signature()).
 *
 * There is no override of mlops' own (no MLOPS_ACTOR): only what libc and
 * git read ($USER as above, $HOME, $XDG_CONFIG_HOME).
 */

#include <stddef.h>

/* The user and host of this process, by the rule above. */
struct ident {
	char user[128];
	char host[256];
};

/* Fill *out with this process's user and host. */
void ident_actor(struct ident *out);

/*
 * The git identity seen from `worktree`, by the rule above, or NULL when
 * none is configured; the caller frees it.  Never fails: a missing or
 * broken repository or config means no identity.
 */
char *ident_git(const char *worktree);

/*
 * The user rule on its inputs: `pw_name` (the passwd entry's name, or
 * NULL) and `env_user` ($USER, or NULL), into `user` (len bytes,
 * truncated).  ident_actor() calls it; tests call it directly.
 */
void ident_pick_user(const char *pw_name, const char *env_user, char *user,
		     size_t len);

#endif

#ifndef MLOPS_GITCONFIG_H
#define MLOPS_GITCONFIG_H

/*
 * Reading one key of a file in git-config syntax, by hand (no libgit2):
 * the repository's config and git's user.name and user.email.
 */

#include "error.h"

/*
 * The value of section[.subsection].key in the git-config file at `path`
 * (the subset mlops documents: [section] and [section "sub"] headers,
 * key = value, a bare key meaning true, comments, quotes, escapes;
 * includes are not followed), or *value = NULL when it is not set or
 * the file does not exist.  Section and key match case-insensitively,
 * the subsection exactly; the last occurrence wins.  *value is the
 * caller's to free.  MLOPS_ECORRUPT "bad config 'PATH' line N: ..." for
 * a line that does not parse, MLOPS_EIO when the file cannot be read.
 */
int gitconfig_get(const char *path, const char *section,
		  const char *subsection, const char *key, char **value,
		  struct mlops_err *err);

#endif

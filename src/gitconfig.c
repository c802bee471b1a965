/*
 * Git-config files, in the subset of the syntax that mlops writes and
 * documents (the repository's config; and user.name and user.email in
 * git's own config files, for ident.c): "[section]" and
 * "[section \"subsection\"]" headers, "key = value" lines (a bare "key" is
 * true), '#' and ';' comments, double quotes with \" \\ \n \t escapes,
 * and a trailing backslash to continue a line.  Section and key names
 * are case-insensitive, the subsection is not; the last occurrence of a
 * key wins.  Include directives are not followed.
 *
 * Parsed by hand rather than through libgit2 because initialising
 * libgit2 loads the system's CA certificates, which would cost every
 * registry command more than its own work; libgit2 is kept for what
 * needs git itself (gitrepo.c).
 *
 * Deliberately absent: writing, includes, and what the keys mean
 * (repo.c, ident.c).
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitconfig.h"
#include "xalloc.h"

static int cfg_bad(const char *path, int line, const char *what,
		   struct mlops_err *err)
{
	return err_set(err, MLOPS_ECORRUPT, "bad config '%s' line %d: %s",
		       path, line, what);
}

/* Whether "name" (lower-cased) equals the wanted part, case-insensitive. */
static int cfg_name_eq(const char *a, size_t a_len, const char *b)
{
	size_t i;

	if (strlen(b) != a_len)
		return 0;
	for (i = 0; i < a_len; i++)
		if (tolower((unsigned char)a[i]) !=
		    tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * Parse one "[...]" header at p (after '['); on success *sec and *sub point
 * at malloc'ed copies (sub NULL when absent).
 */
static int cfg_header(const char *p, const char *path, int line,
		      char **sec, char **sub, struct mlops_err *err)
{
	const char *q = p;
	char *buf;
	size_t n = 0;

	while (isalnum((unsigned char)*q) || *q == '-' || *q == '.')
		q++;
	if (q == p)
		return cfg_bad(path, line, "a section header without a name",
			       err);
	*sec = xstrndup(p, (size_t)(q - p));
	*sub = NULL;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q == '"') {
		buf = xmalloc(strlen(q) + 1);
		for (q++; *q && *q != '"'; q++) {
			if (*q == '\\' && q[1])
				q++;
			buf[n++] = *q;
		}
		buf[n] = '\0';
		*sub = buf;
		if (*q != '"')
			return cfg_bad(path, line, "an unterminated subsection",
				       err);
		q++;
	}
	if (*q != ']')
		return cfg_bad(path, line, "a malformed section header", err);
	return 0;
}

/* The value after '=' (or none): unquoted, unescaped, comments cut. */
static char *cfg_value(const char *p)
{
	char *out = xmalloc(strlen(p) + 1);
	size_t n = 0, keep = 0;
	int quoted = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p && *p != '\n'; p++) {
		if (*p == '"') {
			quoted = !quoted;
			keep = n;
			continue;
		}
		if (!quoted && (*p == '#' || *p == ';'))
			break;
		if (*p == '\\' && p[1]) {
			p++;
			out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			keep = n;
			continue;
		}
		out[n++] = *p;
		if (quoted || (*p != ' ' && *p != '\t'))
			keep = n;
	}
	out[keep] = '\0';
	return out;
}

int gitconfig_get(const char *path, const char *section,
		  const char *subsection, const char *key, char **value,
		  struct mlops_err *err)
{
	char *sec = NULL, *sub = NULL, *text = NULL, *line_buf, *p, *nl;
	size_t len;
	int ret = 0, line = 0, in_section = 0;
	FILE *fp;

	*value = NULL;
	if (!(fp = fopen(path, "r"))) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, MLOPS_EIO, "cannot read config '%s': %s",
			       path, strerror(errno));
	}
	text = xmalloc(1);
	len = 0;
	for (;;) {
		char chunk[4096];
		size_t got = fread(chunk, 1, sizeof(chunk), fp);

		if (!got)
			break;
		text = xrealloc(text, len + got + 1);
		memcpy(text + len, chunk, got);
		len += got;
	}
	text[len] = '\0';
	fclose(fp);
	/* Join continued lines: a backslash right before the newline. */
	for (p = text; (p = strstr(p, "\\\n"));)
		memmove(p, p + 2, strlen(p + 2) + 1);
	for (line_buf = text; line_buf && *line_buf; line_buf = nl) {
		nl = strchr(line_buf, '\n');
		if (nl)
			*nl++ = '\0';
		line++;
		p = line_buf;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			free(sec);
			free(sub);
			sec = sub = NULL;
			if ((ret = cfg_header(p + 1, path, line, &sec, &sub,
					      err)))
				goto out;
			in_section = cfg_name_eq(sec, strlen(sec), section) &&
				     ((!sub && !subsection) ||
				      (sub && subsection &&
				       !strcmp(sub, subsection)));
			continue;
		}
		{
			const char *k = p;
			size_t k_len;

			while (isalnum((unsigned char)*p) || *p == '-')
				p++;
			k_len = (size_t)(p - k);
			if (!k_len || !sec) {
				ret = cfg_bad(path, line, sec ? "a malformed "
					      "line" : "a setting outside any "
					      "section", err);
				goto out;
			}
			while (*p == ' ' || *p == '\t' || *p == '\r')
				p++;
			if (*p && *p != '=' && *p != '#' && *p != ';') {
				ret = cfg_bad(path, line, "a malformed line",
					      err);
				goto out;
			}
			if (!in_section || !cfg_name_eq(k, k_len, key))
				continue;
			free(*value);
			*value = *p == '=' ? cfg_value(p + 1) : xstrdup("true");
		}
	}
out:
	if (ret) {
		free(*value);
		*value = NULL;
	}
	free(sec);
	free(sub);
	free(text);
	return ret;
}

/*
 * Model references: NAME, NAME:N, NAME@STAGE or a path.  The grammar is
 * strict so that a reference is never silently taken for something else:
 * anything that is not a valid name with an optional suffix is a path.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "modelref.h"
#include "registry.h"
#include "sha256.h"
#include "repo.h"
#include "xalloc.h"

static int valid_name_n(const char *s, size_t n)
{
	size_t i;

	if (!n || !isalnum((unsigned char)s[0]) || n > 128)
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int modelref_valid_name(const char *s)
{
	return valid_name_n(s, strlen(s));
}

void modelref_release(struct modelref *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->stage);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

int modelref_parse(const char *ref, struct modelref *out,
		   struct mlops_err *err)
{
	const char *sep = strpbrk(ref, ":@");
	size_t n = sep ? (size_t)(sep - ref) : strlen(ref);

	memset(out, 0, sizeof(*out));
	if (!*ref)
		return err_set(err, MLOPS_EUSAGE, "empty model reference");
	if (!valid_name_n(ref, n) ||
	    (sep && *sep == '@' && !modelref_valid_name(sep + 1))) {
		if (sep && *sep == ':' && valid_name_n(ref, n) &&
		    !strchr(sep + 1, '/') && !strchr(sep + 1, '.'))
			return err_set(err, MLOPS_EUSAGE,
				       "bad model reference '%s': expected NAME:N with N a positive integer",
				       ref);
		out->path = xstrdup(ref);
		return 0;
	}
	out->name = xstrndup(ref, n);
	if (!sep)
		return 0;
	if (*sep == '@') {
		out->stage = xstrdup(sep + 1);
		return 0;
	}
	{
		char *end;
		long v;

		errno = 0;
		v = strtol(sep + 1, &end, 10);
		if (!isdigit((unsigned char)sep[1]) || *end || errno ||
		    v < 1 || v > 1000000000) {
			modelref_release(out);
			return err_set(err, MLOPS_EUSAGE,
				       "bad model reference '%s': expected NAME:N with N a positive integer",
				       ref);
		}
		out->version = (int)v;
	}
	return 0;
}

void modelref_info_release(struct modelref_info *info)
{
	if (!info)
		return;
	free(info->name);
	memset(info, 0, sizeof(*info));
}

int modelref_load(struct repo *repo, const char *ref, struct model **out,
		  struct modelref_info *info, struct mlops_err *err)
{
	struct modelref r;
	struct reg_version v = { 0 };
	char *bytes = NULL, label[256];
	size_t len = 0;
	int ret;

	if (info)
		memset(info, 0, sizeof(*info));
	if ((ret = modelref_parse(ref, &r, err)))
		return ret;
	if (r.path) {
		if ((ret = model_read_file(r.path, &bytes, &len, err)) ||
		    (ret = model_from_bytes(bytes, len, r.path, out, err)))
			goto out;
		if (info) {
			sha256_hex(bytes, len, info->sha256);
			info->size = (long long)len;
		}
		goto out;
	}
	if (!repo) {
		ret = err_set(err, MLOPS_ENOTFOUND,
			      "'%s' names a registry model, but this is not an mlops repository (run 'mlops init', or give a path like ./%s)",
			      ref, ref);
		goto out;
	}
	if ((ret = registry_resolve(repo->reg, r.name, r.version, r.stage, &v,
				    err)))
		goto out;
	if ((ret = repo_read_artifact(repo, v.sha256, &bytes, &len, err)))
		goto out;
	snprintf(label, sizeof(label), "%s:%d", v.model, v.version);
	if ((ret = model_from_bytes(bytes, len, label, out, err)))
		goto out;
	if (info) {
		info->name = xstrdup(v.model);
		info->version = v.version;
		memcpy(info->sha256, v.sha256, sizeof(info->sha256));
		info->size = (long long)len;
	}
out:
	free(bytes);
	reg_version_release(&v);
	modelref_release(&r);
	return ret;
}

int modelref_check_name(const char *name, struct mlops_err *err)
{
	if (modelref_valid_name(name))
		return 0;
	return err_set(err, MLOPS_EUSAGE,
		       "invalid model name '%s': use letters, digits, '_' and "
		       "'-', starting with a letter or digit", name);
}

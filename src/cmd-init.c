/*
 * mlops init [DIR]: create the repository (.mlops/ with registry.db,
 * config and the artefact store) in the working directory or DIR.
 *
 * Running it again on an existing repository is not an error: it fills
 * in whatever is missing (a config file, the artefact folders) and says
 * "Reinitialized", as git does; the registry is never recreated.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "opt.h"
#include "repo.h"
#include "xalloc.h"

static const char *const init_synopsis[] = {
	"mlops init [DIR]",
	NULL
};

static const struct opt_usage init_usage = {
	init_synopsis,
	"  mlops init\n"
	"  mlops -C /srv/churn init\n",
	"Create an empty mlops repository (.mlops/) in DIR or the current "
	"folder."
};

/* Print one JSON object as a line on stdout and free it. */
int cmd_init(int argc, char **argv, struct cmd_ctx *ctx,
	     struct mlops_err *err)
{
	const struct opt opts[] = {
		OPT_END()
	};
	char real[PATH_MAX], *path;
	const char *dir = ".";
	int ret, n, existed;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &init_usage, &n, err)))
		return ret;
	if (n > 1)
		return err_set(err, MLOPS_EUSAGE,
			       "too many operands; usage: %s",
			       init_synopsis[0]);
	if (n == 1)
		dir = argv[0];
	if (!realpath(dir, real))
		return err_set(err, errno == ENOENT ? MLOPS_ENOTFOUND :
			       MLOPS_EIO, "cannot use folder '%s': %s", dir,
			       strerror(errno));
	if ((ret = repo_init(real, &existed, err)))
		return ret;
	path = xasprintf("%s%s.mlops", real, strcmp(real, "/") ? "/" : "");
	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "path", path);
		cJSON_AddBoolToObject(obj, "existed", existed);
		cmd_print_json(obj);
	} else if (!ctx->quiet) {
		printf("%s mlops repository in %s\n",
		       existed ? "Reinitialized existing" : "Initialized empty",
		       path);
	}
	free(path);
	return 0;
}

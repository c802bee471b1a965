/*
 * Helpers shared by the cmd-*.c files: checks of operands and model names
 * that read the same in every command, and their --json output: one
 * compact JSON object per line on stdout, and members that are null when
 * a value is absent.
 */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

#include "cmd.h"
#include "csv.h"
#include "manifest.h"
#include "model.h"
#include "modelref.h"
#include "registry.h"

int cmd_operands(int n, int want, const char *synopsis,
		 struct mlops_err *err)
{
	if (n == want)
		return 0;
	return err_set(err, MLOPS_EUSAGE, "%s; usage: %s",
		       n < want ? "missing operand" : "too many operands",
		       synopsis);
}

int cmd_csv_opts(const struct cmd_csv *c, struct csv_opts *out,
		 struct mlops_err *err)
{
	int ret;

	out->delimiter = ',';
	out->encoding = CSV_UTF8;
	if (c->delimiter &&
	    (ret = csv_parse_delimiter(c->delimiter, &out->delimiter, err)))
		return ret;
	if (c->encoding &&
	    (ret = csv_parse_encoding(c->encoding, &out->encoding, err)))
		return ret;
	return 0;
}

void cmd_print_json(struct cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);

	if (s)
		puts(s);
	cJSON_free(s);
	cJSON_Delete(obj);
}

void cmd_json_str(struct cJSON *obj, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, key, s);
	else
		cJSON_AddNullToObject(obj, key);
}

void cmd_json_id(struct cJSON *obj, const char *key, long long v)
{
	if (v > 0)
		cJSON_AddNumberToObject(obj, key, (double)v);
	else
		cJSON_AddNullToObject(obj, key);
}

void cmd_json_bool(struct cJSON *obj, const char *key, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(obj, key);
	else
		cJSON_AddBoolToObject(obj, key, v);
}

void cmd_json_event(struct cJSON *obj, const struct reg_event *e)
{
	manifest_event_json(obj, e);
}

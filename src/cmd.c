/*
 * Helpers shared by the cmd-*.c files for their --json output: one
 * compact JSON object per line on stdout, and members that are null when
 * a value is absent.
 */

#include <cjson/cJSON.h>
#include <stdio.h>

#include "cmd.h"

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

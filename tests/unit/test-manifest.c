/*
 * Unit tests for the bundle manifest (manifest.c): what the writer puts
 * in reads back through the reader, the same rows give the same bytes,
 * only this version's ledger rows are kept, and every malformed manifest
 * is refused with the message import has always given.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "manifest.h"
#include "model.h"
#include "registry.h"
#include "tap.h"
#include "xalloc.h"

static const char sha[] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* A hand-built model: what the manifest reads from an artefact. */
static struct model *small_model(void)
{
	struct model *m = model_new();

	m->task = TASK_BINARY;
	m->algo = ALGO_LOGISTIC;
	m->target = xstrdup("churned");
	m->n_features = 2;
	m->features = xcalloc(2, sizeof(*m->features));
	m->features[0].name = xstrdup("tenure");
	m->features[0].kind = FEATURE_NUMERIC;
	m->features[1].name = xstrdup("plan");
	m->features[1].kind = FEATURE_CATEGORICAL;
	m->n_metrics = 1;
	snprintf(m->metrics[0].name, sizeof(m->metrics[0].name), "auc");
	m->metrics[0].value = 0.75;
	snprintf(m->data_sha256, sizeof(m->data_sha256), "%s", sha);
	m->data_path = xstrdup("train.csv");
	m->n_rows = 1000;
	m->git_dirty = -1;
	m->tool_version = xstrdup("mlops test");
	m->created_at = xstrdup("2026-01-01T00:00:00.000Z");
	return m;
}

static void event(struct reg_event *e, long long id, int from, int to)
{
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->model = "churn";
	e->stage = "production";
	e->from_version = from;
	e->to_version = to;
	e->action = "promote";
	e->actor = "ada";
	e->host = "build-1";
	e->at = "2026-01-02T00:00:00.000Z";
}

static void test_round_trip(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_version v = { 0 };
	struct reg_event ev[3];
	struct manifest mf;
	struct model *m = small_model();
	char *tags[] = { "a=b=c", "team=growth" }, *text = NULL, *again = NULL;
	cJSON *j, *ledger;
	int ret;

	v.model = "churn";
	v.version = 2;
	memcpy(v.sha256, sha, sizeof(v.sha256));
	v.size = 1234;
	v.run_id = 7;
	v.description = "Q3 retrain";
	v.created_at = "2026-01-01T12:00:00.000Z";
	v.created_by = "ada@build-1";
	event(&ev[0], 1, 0, 1);
	event(&ev[1], 2, 1, 2);
	event(&ev[2], 3, 2, 3);
	ret = manifest_build(&v, m, tags, 2, ev, 3, &text, &err);
	if (!is_int(ret, 0, "manifest_build"))
		goto out;
	manifest_build(&v, m, tags, 2, ev, 3, &again, &err);
	is_str(again, text, "the same rows give the same bytes");
	ok(text[strlen(text) - 1] == '\n', "the manifest ends in a newline");

	ret = manifest_parse("b.tar.gz", text, strlen(text), &mf, &err);
	if (!is_int(ret, 0, "parse what was built"))
		goto out;
	is_str(mf.model, "churn", "model reads back");
	is_int(mf.version, 2, "version reads back");
	is_str(mf.sha256, sha, "sha256 reads back");
	ok(mf.size == 1234, "size reads back");
	is_str(mf.description, "Q3 retrain", "description reads back");
	if (is_int((long long)mf.n_tags, 2, "both tags read back")) {
		is_str(mf.tags[0].key, "a", "first tag's key ends at '='");
		is_str(mf.tags[0].value, "b=c", "... its value keeps the rest");
		is_str(mf.tags[1].key, "team", "tags keep their order");
	}
	manifest_release(&mf);
	ok(!mf.json && !mf.tags && !mf.n_tags, "release empties the struct");

	j = cJSON_Parse(text);
	ledger = cJSON_GetObjectItemCaseSensitive(j, "ledger");
	is_int(cJSON_GetArraySize(ledger), 2,
	       "the ledger keeps the rows to or from this version");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(ledger, 0), "actor")), "ada",
	       "a ledger row has its actor");
	ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "lineage"), "git_dirty")),
	   "an unknown git_dirty is null");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j,
		"features"), 1), "type")), "categorical",
	       "the schema names each feature's type");
	cJSON_Delete(j);
out:
	free(text);
	free(again);
	model_free(m);
}

#define ART ",\"artifact\":{\"path\":\"artifact.json\",\"sha256\":\"" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"\",\"size\":10}"
#define HEAD "{\"format\":\"mlops-bundle\",\"schema\":1,\"model\":\"m\"," \
	"\"version\":1"

static void test_malformed(void)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "{", "bad manifest: not JSON" },
		{ "{\"format\":\"zip\"}",
		  "bad manifest: \"format\" is not \"mlops-bundle\"" },
		{ "{\"format\":\"mlops-bundle\"}", "bad manifest: no \"schema\"" },
		{ "{\"format\":\"mlops-bundle\",\"schema\":2}",
		  "has manifest schema 2; this mlops reads schema 1" },
		{ "{\"format\":\"mlops-bundle\",\"schema\":1,\"model\":\"a b\"}",
		  "bad manifest: \"model\" is not a model name" },
		{ "{\"format\":\"mlops-bundle\",\"schema\":1,\"model\":\"m\","
		  "\"version\":1.5}",
		  "bad manifest: \"version\" is not a version" },
		{ "{\"format\":\"mlops-bundle\",\"schema\":1,\"model\":\"m\","
		  "\"version\":0}",
		  "bad manifest: \"version\" is not a version" },
		{ HEAD ",\"artifact\":{\"path\":\"../x\"}}",
		  "bad manifest: \"artifact.path\" is not \"artifact.json\"" },
		{ HEAD ",\"artifact\":{\"path\":\"artifact.json\",\"sha256\":"
		  "\"ABC\"}}",
		  "bad manifest: \"artifact.sha256\" is not a SHA-256" },
		{ HEAD ",\"artifact\":{\"path\":\"artifact.json\",\"sha256\":\""
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		  "abcdef\",\"size\":-1}}",
		  "bad manifest: \"artifact.size\" is not a size" },
		{ HEAD ART ",\"tags\":[]}",
		  "bad manifest: \"tags\" is not an object" },
		{ HEAD ART ",\"tags\":{\"k\":1}}",
		  "bad manifest: a tag is not a string" },
		{ HEAD ART ",\"tags\":{\"\":\"v\"}}",
		  "bad manifest: a tag is not a string" },
	};
	struct mlops_err err = MLOPS_ERR_INIT;
	struct manifest mf;
	char want[256];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ret = manifest_parse("b.tar.gz", cases[i].json,
				     strlen(cases[i].json), &mf, &err);
		snprintf(want, sizeof(want), "bundle 'b.tar.gz'%s%s",
			 strncmp(cases[i].msg, "has ", 4) ? ": " : " ",
			 cases[i].msg);
		ok(ret == MLOPS_ECORRUPT && !strcmp(err.msg, want) && !mf.json,
		   "refused: %s", cases[i].msg);
		if (strcmp(err.msg, want))
			printf("# got '%s'\n", err.msg);
	}
	ret = manifest_parse("b.tar.gz", HEAD ART ",\"tags\":null}",
			     strlen(HEAD ART ",\"tags\":null}"), &mf, &err);
	ok(!ret && !mf.n_tags && !mf.description,
	   "null tags and no description are accepted");
	manifest_release(&mf);
}

int main(void)
{
	test_round_trip();
	test_malformed();
	return done_testing();
}

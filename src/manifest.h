#ifndef MLOPS_MANIFEST_H
#define MLOPS_MANIFEST_H

/*
 * The bundle manifest, "manifest.json" beside "artifact.json" in the
 * tar.gz of `mlops export` (bundle.c): its writer and its reader, one
 * format in one file.  Schema 1.
 */

#include <stddef.h>
#include "error.h"

struct cJSON;
struct model;
struct reg_event;
struct reg_version;

/* The two entries of a bundle, by name. */
#define MANIFEST_ARTIFACT_ENTRY "artifact.json"
#define MANIFEST_ENTRY "manifest.json"

/*
 * The manifest of version `v`, whose artefact `m` is loaded: the
 * artefact's hash and size, the version's description and `tags`
 * ("KEY=VALUE" strings, as registry_version_tags() hands them out, in
 * that order), the schema, the holdout metrics, the lineage, and the
 * rows of `ev` (the model's ledger, oldest first) that moved a stage to
 * or from this version.  Nothing in it depends on when or where it is
 * written.  *out (pretty JSON and a newline) is the caller's to free.
 * MLOPS_EINTERNAL when cJSON cannot print.
 */
int manifest_build(const struct reg_version *v, const struct model *m,
		   char *const *tags, size_t n_tags,
		   const struct reg_event *ev, size_t n_ev, char **out,
		   struct mlops_err *err);

/* A tag of the manifest; strings point into the parsed JSON. */
struct manifest_tag {
	const char *key;
	const char *value;
};

/*
 * What import needs from a manifest.  Every string points into `json`,
 * owned by the struct (manifest_release()).
 */
struct manifest {
	struct cJSON *json;
	const char *model;
	int version;
	const char *sha256;
	double size;
	const char *description;	/* NULL when absent */
	struct manifest_tag *tags;	/* in manifest order */
	size_t n_tags;
};

/*
 * Parse and check the manifest bytes of the bundle at `path` (named in
 * messages): format "mlops-bundle", schema 1, a valid model name, a
 * version, "artifact.path" "artifact.json", a lower-case hex SHA-256, a
 * size, and tags (if any) an object of non-empty keys with string
 * values.  MLOPS_ECORRUPT "bundle 'PATH': bad manifest: WHAT", or
 * "bundle 'PATH' has manifest schema N; ..." for another schema; on
 * failure *mf is left empty.
 */
int manifest_parse(const char *path, const char *bytes, size_t len,
		   struct manifest *mf, struct mlops_err *err);

void manifest_release(struct manifest *mf);

/*
 * Add the members of ledger row `e` to the JSON object `obj`: the one
 * form of a ledger row, shared by the manifest and `history --json`.
 */
void manifest_event_json(struct cJSON *obj, const struct reg_event *e);

#endif

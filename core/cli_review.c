/* core/cli_review.c: `contour review`, the admission webhook's answer
 * offline. The manifests given as paths are the cluster (read by a source
 * module, built once, as render does); each object of --object is then put
 * to the validators the loaded modules registered, exactly as the
 * admission module puts a review it received: an object whose key is
 * already stored is an UPDATE of it, else a CREATE (what `kubectl apply`
 * would send), unless --operation says otherwise.
 *
 * Prints a JSON list, one entry per object: its key, the operation,
 * allowed, the denials and the warnings. Exits 0 when every object is
 * allowed, 3 when one is denied, 1 on an error. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "core/core.h"

static const char *review_operation(const char *forced, const json_t *stored)
{
	if (forced)
		return forced;
	return stored ? "UPDATE" : "CREATE";
}

/* One object: its answer, or NULL when it has no key. */
static json_t *review_one(core_t *core, const char *forced, json_t *obj, const char *file,
                          size_t index)
{
	contour_object_key_t key;
	const char *what = NULL;
	json_t *meta = json_object_get(obj, "metadata");
	/* kubectl sends the namespace it applies to; ours is "default". */
	if (json_is_object(meta) && !json_is_string(json_object_get(meta, "namespace")))
		json_object_set_new(meta, "namespace", json_string("default"));
	if (contour_object_key_of(obj, &key, &what) != CONTOUR_EOK) {
		fprintf(stderr, "contour review: %s: document %zu: %s\n", file, index + 1,
		        what ? what : "not an object");
		return NULL;
	}
	const json_t *stored = contour_store_get(&core->self, &key);
	contour_review_t r = {
	    .operation = review_operation(forced, stored), .object = obj, .old_object = stored};
	if (!strcmp(r.operation, "DELETE"))
		r.object = NULL;
	if (!strcmp(r.operation, "CREATE"))
		r.old_object = NULL;
	contour_verdict_t *v = contour_verdict_new();
	if (!v)
		return NULL;
	int n = contour_review_run(&core->self, key.api_version, key.kind, &r, v);
	json_t *out = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:O, s:O}", "apiVersion", key.api_version,
	    "kind", key.kind, "namespace", key.namespace_ ? key.namespace_ : "", "name", key.name,
	    "operation", r.operation, "validated", n > 0, "ignored", contour_verdict_ignored(v),
	    "allowed", contour_verdict_allowed(v), "denials", contour_verdict_denials(v),
	    "warnings", contour_verdict_warnings(v));
	contour_verdict_free(v);
	return out;
}

int core_cli_review(cli_opts_t *o)
{
	static const char *const ops[] = {"CREATE", "UPDATE", "DELETE", NULL};
	if (o->operation) {
		const char *const *op = ops;
		while (*op && strcmp(*op, o->operation))
			op++;
		if (!*op) {
			fprintf(stderr,
			        "contour review: --operation must be CREATE, UPDATE or "
			        "DELETE, not '%s'\n",
			        o->operation);
			return 1;
		}
	}
	json_t *docs = NULL;
	contour_yaml_pos_t *pos = NULL;
	contour_yaml_error_t yerr = {0};
	if (contour_yaml_parse_file(o->object, &docs, &pos, &yerr) != CONTOUR_EOK) {
		fprintf(stderr, "contour review: %s:%d: %s\n", o->object, yerr.line, yerr.message);
		return 1;
	}
	json_t *errors = json_array();
	core_t *core = core_cli_offline_new(o, "review", errors);
	json_t *answers = json_array();
	int status = core && answers ? 0 : 1;
	size_t i;
	json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		if (status == 1)
			break;
		if (json_is_null(doc))
			continue;
		json_t *a =
		    json_is_object(doc) ? review_one(core, o->operation, doc, o->object, i) : NULL;
		if (!a) {
			status = 1;
			break;
		}
		if (!json_is_true(json_object_get(a, "allowed")))
			status = 3;
		json_array_append_new(answers, a);
	}
	if (status != 1) {
		if (json_dumpf(answers, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
		    fputc('\n', stdout) == EOF || fflush(stdout) != 0)
			status = 1;
	}
	size_t failed = core ? core_store_source_errors(core->store) : 0;
	if (failed) {
		fprintf(stderr, "contour review: %zu input(s) could not be read or parsed\n", failed);
		status = 1;
	}
	core_cli_print_errors(errors);
	json_decref(answers);
	json_decref(errors);
	core_free(core);
	contour_yaml_pos_free(pos);
	json_decref(docs);
	return status;
}

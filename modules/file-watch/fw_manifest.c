/* modules/file-watch/fw_manifest.c: a file's bytes -> Kubernetes objects.
 *
 * The objects come out the way `kubectl apply` would send them and the API
 * server would store them, so consumers cannot tell a file from a cluster:
 * List kinds are flattened, namespaced objects without a namespace land in
 * "default", and Secret stringData is folded into data. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/file-watch/fw.h"

/* Kinds that live outside namespaces (kubectl would learn this from
 * discovery; with no cluster, this is the list the project's inputs use). */
static const char *const fw_cluster_kinds[] = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "GatewayClass",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    NULL,
};

static int fw_cluster_scoped(const char *kind)
{
	for (size_t i = 0; fw_cluster_kinds[i]; i++)
		if (!strcmp(kind, fw_cluster_kinds[i]))
			return 1;
	return 0;
}

char *fw_object_key_str(const json_t *obj, char *buf, size_t len)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *ns = contour_json_get_nonempty(md, "namespace");
	int n =
	    snprintf(buf, len, "%s\x1f%s\x1f%s\x1f%s", contour_json_get_nonempty(obj, "apiVersion"),
	             contour_json_get_nonempty(obj, "kind"), ns ? ns : "",
	             contour_json_get_nonempty(md, "name"));
	return n >= 0 && (size_t)n < len ? buf : NULL;
}

const char *fw_object_describe(const json_t *obj, char *buf, size_t len)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *ns = contour_json_get_nonempty(md, "namespace");
	const char *name = contour_json_get_nonempty(md, "name");
	const char *kind = contour_json_get_nonempty(obj, "kind");
	snprintf(buf, len, "%s %s%s%s", kind ? kind : "object", ns ? ns : "", ns ? "/" : "",
	         name ? name : "");
	return buf;
}

static char *fw_base64(const char *in, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1);
	char *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)(unsigned char)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)(unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The API server stores stringData base64-encoded under data (stringData
 * wins over data) and never returns stringData. Values are secret: messages
 * name keys only. Returns 0, or -1 when the object must be skipped. */
static int fw_secret_fold(contour_module_t *mod, const char *file, int line, json_t *obj)
{
	json_t *sd = json_object_get(obj, "stringData");
	if (!sd)
		return 0;
	if (!json_is_object(sd)) {
		contour_log(mod, CONTOUR_LOG_WARN,
		            "%s:%d: Secret skipped: stringData is not a mapping", file, line);
		return -1;
	}
	json_t *data = json_object_get(obj, "data");
	if (!data || json_is_null(data)) {
		data = json_object();
		if (!data || json_object_set_new(obj, "data", data) != 0)
			return -1;
	} else if (!json_is_object(data)) {
		contour_log(mod, CONTOUR_LOG_WARN, "%s:%d: Secret skipped: data is not a mapping",
		            file, line);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(sd, k, v)
	{
		if (!json_is_string(v)) {
			contour_log(mod, CONTOUR_LOG_WARN,
			            "%s:%d: Secret skipped: stringData key \"%s\" is not a string",
			            file, line, k);
			return -1;
		}
		char *enc = fw_base64(json_string_value(v), json_string_length(v));
		if (!enc || json_object_set_new(data, k, json_string(enc)) != 0) {
			free(enc);
			return -1;
		}
		free(enc);
	}
	json_object_del(obj, "stringData");
	return 0;
}

/* One candidate object: check its identity, normalise it, add it to out. */
static size_t fw_manifest_add(contour_module_t *mod, const char *file, int line, json_t *obj,
                              json_t *out)
{
	if (!json_is_object(obj)) {
		contour_log(mod, CONTOUR_LOG_WARN, "%s:%d: document skipped: not a mapping", file,
		            line);
		return 0;
	}
	json_t *md = json_object_get(obj, "metadata");
	const char *missing = NULL;
	if (!contour_json_get_nonempty(obj, "apiVersion"))
		missing = "apiVersion";
	else if (!contour_json_get_nonempty(obj, "kind"))
		missing = "kind";
	else if (!json_is_object(md) || !contour_json_get_nonempty(md, "name"))
		missing = "metadata.name";
	if (missing) {
		contour_log(mod, CONTOUR_LOG_WARN, "%s:%d: object skipped: no %s", file, line,
		            missing);
		return 0;
	}
	const char *kind = contour_json_get_nonempty(obj, "kind");
	json_t *ns = json_object_get(md, "namespace");
	if (ns && !json_is_null(ns) && !json_is_string(ns)) {
		contour_log(mod, CONTOUR_LOG_WARN,
		            "%s:%d: %s skipped: metadata.namespace is not a string", file, line,
		            kind);
		return 0;
	}
	if (fw_cluster_scoped(kind)) {
		/* The API server ignores a namespace given to a cluster-scoped
		 * object; keep the key the store uses for those. */
		json_object_del(md, "namespace");
	} else if (!contour_json_get_nonempty(md, "namespace")) {
		if (json_object_set_new(md, "namespace", json_string("default")) != 0)
			return 0;
	}
	if (!strcmp(kind, "Secret") &&
	    !strcmp(contour_json_get_nonempty(obj, "apiVersion"), "v1") &&
	    fw_secret_fold(mod, file, line, obj) != 0)
		return 0;

	char key[FW_KEY_MAX], what[1024];
	if (!fw_object_key_str(obj, key, sizeof(key))) {
		contour_log(mod, CONTOUR_LOG_WARN, "%s:%d: %s skipped: identity too long", file,
		            line, kind);
		return 0;
	}
	if (json_object_get(out, key))
		contour_log(mod, CONTOUR_LOG_WARN,
		            "%s:%d: %s is defined more than once in this file; the last one wins",
		            file, line, fw_object_describe(obj, what, sizeof(what)));
	return json_object_set(out, key, obj) == 0;
}

/* kubectl flattens `kind: List` and any *List kind that carries items. */
static int fw_is_list(const json_t *doc)
{
	const char *kind = contour_json_get_nonempty(doc, "kind");
	size_t n = kind ? strlen(kind) : 0;
	if (!kind)
		return 0;
	if (!strcmp(kind, "List"))
		return 1;
	return n > 4 && !strcmp(kind + n - 4, "List") &&
	       json_is_array(json_object_get(doc, "items"));
}

size_t fw_manifest_collect(contour_module_t *mod, const char *file, json_t *docs,
                           const contour_yaml_pos_t *pos, json_t *out)
{
	size_t added = 0, i;
	json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		int line = contour_yaml_pos_node_line(pos, doc);
		if (!json_is_object(doc) || !fw_is_list(doc)) {
			added += fw_manifest_add(mod, file, line, doc, out);
			continue;
		}
		json_t *items = json_object_get(doc, "items");
		size_t j;
		json_t *item;
		if (items && !json_is_array(items) && !json_is_null(items)) {
			contour_log(mod, CONTOUR_LOG_WARN,
			            "%s:%d: List skipped: items is not a list", file, line);
			continue;
		}
		json_array_foreach(items, j, item)
		{
			int iline = contour_yaml_pos_node_line(pos, item);
			if (!iline)
				iline = contour_yaml_pos_index_line(pos, items, j);
			added += fw_manifest_add(mod, file, iline, item, out);
		}
	}
	return added;
}

static int fw_manifest_finish(contour_module_t *mod, const char *file, int rc, json_t *docs,
                              contour_yaml_pos_t *pos, const contour_yaml_error_t *err,
                              json_t **out)
{
	*out = NULL;
	if (rc == CONTOUR_EPARSE) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s:%d:%d: %s", file, err->line, err->column,
		            err->message);
		goto done;
	}
	if (rc != CONTOUR_EOK) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s: %s", file,
		            err->message[0] ? err->message : contour_strerror(rc));
		goto done;
	}
	*out = json_object();
	if (!*out) {
		rc = CONTOUR_ENOMEM;
		goto done;
	}
	fw_manifest_collect(mod, file, docs, pos, *out);
done:
	contour_yaml_pos_free(pos);
	json_decref(docs);
	return rc;
}

int fw_manifest_load(contour_module_t *mod, const char *path, json_t **out)
{
	json_t *docs = NULL;
	contour_yaml_pos_t *pos = NULL;
	contour_yaml_error_t err = {0};
	int rc = contour_yaml_parse_file(path, &docs, &pos, &err);
	return fw_manifest_finish(mod, path, rc, docs, pos, &err, out);
}

int fw_manifest_parse_buf(contour_module_t *mod, const char *name, const char *buf, size_t len,
                          json_t **out)
{
	json_t *docs = NULL;
	contour_yaml_pos_t *pos = NULL;
	contour_yaml_error_t err = {0};
	int rc = contour_yaml_parse(buf, len, &docs, &pos, &err);
	return fw_manifest_finish(mod, name, rc, docs, pos, &err, out);
}

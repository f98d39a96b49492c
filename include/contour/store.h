/* contour/store.h: the object store.
 *
 * The store holds Kubernetes objects as jansson values, keyed by
 * (apiVersion, kind, namespace, name); cluster-scoped objects have the empty
 * namespace "". Sources (file-watch, k8s-watch, ...) put and delete objects
 * and say when their first full read is complete; processors read the store
 * during a build; anyone may subscribe to changes.
 *
 * Everything runs on the core's event loop: the store is not thread-safe,
 * and never changes while a build runs.
 *
 * Objects in the store are never modified after insertion. A replaced or
 * deleted object is released by the store; a holder that needs an object
 * beyond the current callback takes its own reference (json_incref).
 *
 * Subtrees are shared: the store replaces every value below an object's
 * root by one canonical value per content, so equal labels, specs, ports
 * and strings of different objects are the same json_t. Modifying any value
 * reached from a stored object (through contour_store_get,
 * contour_store_foreach, a subscriber callback, or a reference taken on a
 * part of one) would change other objects too, and is forbidden; so is
 * modifying a shallow copy's children (json_copy shares them). A holder
 * that needs a modified version makes its own with json_deep_copy. Compare
 * subtrees with json_equal, not by pointer: equal content is usually, not
 * always, one pointer.
 */
#ifndef CONTOUR_STORE_H
#define CONTOUR_STORE_H

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;
typedef struct contour_source contour_source_t;

/* The identity of a stored object; the strings are borrowed from the object. */
typedef struct contour_object_key {
	const char *api_version;
	const char *kind;
	const char *namespace_;
	const char *name;
} contour_object_key_t;

/* contour_object_key_of: fill *key from obj's apiVersion, kind,
 * metadata.namespace (absent: "") and metadata.name. Returns CONTOUR_EINVAL,
 * with *what set to the missing field's name, when apiVersion, kind or
 * metadata.name is missing or not a non-empty string. */
int contour_object_key_of(const json_t *obj, contour_object_key_t *key, const char **what);

/* contour_register_source: declare that the calling module feeds the store.
 * Only in init. No build runs until every registered source has called
 * contour_source_set_synced(). *out is owned by the core (freed after the
 * module's free hook). */
int contour_register_source(contour_module_t *mod, const char *name, contour_source_t **out);

/* contour_source_set_synced: the source has put everything its first full
 * read found. Calling it again is harmless. */
void contour_source_set_synced(contour_source_t *src);

/* contour_source_set_errors: how many inputs (files, folders, configured
 * paths) the source's latest full read could not read or parse; 0 when it
 * read them all. The source logs each one itself, naming it (and the line,
 * for a parse error); the objects of the inputs it could read go to the
 * store as usual. `contour render` and `contour review` exit 1 when a
 * source reports errors. Since ABI 1.8. */
void contour_source_set_errors(contour_source_t *src, size_t n);

/* contour_source_once: non-zero when the core reads the source once, builds
 * and exits (`contour render`, `contour review`). Its start should then read
 * every input it can and count the others with contour_source_set_errors,
 * rather than fail start over one missing path, so the output still shows
 * what could be read. Since ABI 1.8. */
int contour_source_once(const contour_source_t *src);

/* contour_store_put_new: insert or replace obj. The store takes the caller's
 * reference (as jansson's *_new functions do), whatever the return value,
 * and may edit obj before storing it: metadata.managedFields and the
 * kubectl.kubernetes.io/last-applied-configuration annotation are dropped,
 * and values below the root are swapped for equal shared ones (the content
 * is unchanged, but pointers into obj taken before the call may dangle).
 * Replacing an object with an equal one changes nothing and notifies nobody.
 * Returns CONTOUR_EOK, or CONTOUR_EINVAL when obj has no valid key. */
int contour_store_put_new(contour_source_t *src, json_t *obj);

/* contour_store_delete: remove an object. Returns CONTOUR_ENOENT if absent. */
int contour_store_delete(contour_source_t *src, const contour_object_key_t *key);

/* contour_store_get: the object with this key, or NULL. Borrowed: valid until
 * the store next changes (never during a build). */
const json_t *contour_store_get(contour_module_t *mod, const contour_object_key_t *key);

/* Called for each object; return non-zero to stop the walk early. */
typedef int (*contour_store_visit_fn)(const json_t *obj, void *ud);

/* contour_store_foreach: visit every object of (api_version, kind), both
 * required, in namespace then name order. Returns the number visited. */
size_t contour_store_foreach(contour_module_t *mod, const char *api_version, const char *kind,
                             contour_store_visit_fn fn, void *ud);

/* contour_store_count: objects of (api_version, kind); NULLs count all. */
size_t contour_store_count(contour_module_t *mod, const char *api_version, const char *kind);

typedef enum {
	CONTOUR_STORE_ADD,
	CONTOUR_STORE_UPDATE,
	CONTOUR_STORE_DELETE,
} contour_store_event_t;

/* A change: old_obj is NULL on ADD, new_obj is NULL on DELETE. Both are
 * borrowed for the duration of the call. Subscribers must not change the
 * store from inside the callback. */
typedef void (*contour_store_watch_fn)(contour_store_event_t ev, const json_t *old_obj,
                                       const json_t *new_obj, void *ud);

/* contour_store_subscribe: call fn on every change of objects matching
 * (api_version, kind); NULL matches any. Only in init. */
int contour_store_subscribe(contour_module_t *mod, const char *api_version, const char *kind,
                            contour_store_watch_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif

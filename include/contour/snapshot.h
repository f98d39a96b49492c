/* contour/snapshot.h: builds, processors, observers and the snapshot they
 * share.
 *
 * A change in the store schedules a build after a hold-off (global keys
 * `build-holdoff`, default 100ms, and `build-holdoff-max`, default 500ms: a
 * build never waits longer than that after the first pending change). No
 * build runs until every registered source is synced. A build creates an
 * empty snapshot, runs the registered processors in ascending `order` (ties
 * in registration order), then hands the finished, now immutable snapshot to
 * every observer and makes it the current one.
 *
 * A snapshot is reference counted. The core holds one reference to the
 * current snapshot; an observer that keeps a snapshot after its callback
 * returns takes its own with contour_snapshot_ref() and drops it with
 * contour_snapshot_unref(). A snapshot stays valid for its holders after a
 * newer one is published.
 *
 * The snapshot is the seed of the DAG: processors attach what they compute
 * under a name (the DAG proper, counts, ...) and record a status for every
 * source object they own.
 */
#ifndef CONTOUR_SNAPSHOT_H
#define CONTOUR_SNAPSHOT_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include <contour/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;
typedef struct contour_snapshot contour_snapshot_t;

/* Well-known processor orders; leave gaps so others fit in between. */
enum {
	CONTOUR_ORDER_EARLY = 100,     /* lookups others depend on (delegations) */
	CONTOUR_ORDER_PRIMARY = 500,   /* routing processors (httpproxy, ingress) */
	CONTOUR_ORDER_LATE = 900,      /* summaries over what the others built */
};

/* A processor fills the snapshot under construction from the store. Return
 * CONTOUR_EOK, or a negative code to abandon the build (the current snapshot
 * stays in service and the error is logged and counted). */
typedef int (*contour_processor_fn)(contour_snapshot_t *building, void *ud);

/* An observer receives each finished snapshot, borrowed for the call. */
typedef void (*contour_observer_fn)(contour_snapshot_t *snap, void *ud);

/* Registration: only in init. `name` is for logs and must be unique. */
int contour_register_processor(contour_module_t *mod, const char *name, int order,
                               contour_processor_fn fn, void *ud);
int contour_register_observer(contour_module_t *mod, const char *name, contour_observer_fn fn,
                              void *ud);

/* contour_build_request: ask for a build as if the store had changed (for
 * inputs outside the store, such as a leadership change). */
void contour_build_request(contour_module_t *mod);

/* contour_snapshot_current: the newest published snapshot, or NULL before the
 * first build. Borrowed; take a reference to keep it. */
contour_snapshot_t *contour_snapshot_current(contour_module_t *mod);

/* contour_snapshot_ref / contour_snapshot_unref: reference counting. unref
 * accepts NULL and frees the snapshot and its attachments at zero. */
contour_snapshot_t *contour_snapshot_ref(contour_snapshot_t *snap);
void contour_snapshot_unref(contour_snapshot_t *snap);

/* contour_snapshot_generation: 1 for the first build, then +1 per build. */
uint64_t contour_snapshot_generation(const contour_snapshot_t *snap);

/* contour_snapshot_attach: while building only, attach data under a unique
 * name; free_fn (may be NULL) is called exactly once with data when the
 * snapshot is freed, or at once if the attach fails. */
int contour_snapshot_attach(contour_snapshot_t *building, const char *name, void *data,
                            void (*free_fn)(void *data));

/* contour_snapshot_find: data attached under name, or NULL. Borrowed for as
 * long as the caller holds the snapshot. */
void *contour_snapshot_find(const contour_snapshot_t *snap, const char *name);

/* contour_snapshot_set_status_new: while building only, record the status of
 * a source object (for HTTPProxy: upstream's `status` stanza). Takes the
 * reference to status. A second status for the same key replaces the first. */
int contour_snapshot_set_status_new(contour_snapshot_t *building, const contour_object_key_t *key,
                                    json_t *status);

/* contour_snapshot_status: the status recorded for key, or NULL; borrowed. */
const json_t *contour_snapshot_status(const contour_snapshot_t *snap,
                                      const contour_object_key_t *key);

/* Called for each recorded status, in key order; non-zero stops the walk. */
typedef int (*contour_status_visit_fn)(const contour_object_key_t *key, const json_t *status,
                                       void *ud);
size_t contour_snapshot_foreach_status(const contour_snapshot_t *snap, contour_status_visit_fn fn,
                                       void *ud);

/* Output formats for `contour render --format NAME`, beyond the core's own
 * status, dag and dot: fn writes the snapshot to out and returns
 * CONTOUR_EOK or an error. Only in init; names are unique. A module that
 * registers one should carry CONTOUR_MODULE_F_RENDER, so render loads it
 * (init only: render never starts it). */
typedef int (*contour_render_fn)(contour_snapshot_t *snap, FILE *out, void *ud);
int contour_register_render_format(contour_module_t *mod, const char *name, contour_render_fn fn,
                                   void *ud);

#ifdef __cplusplus
}
#endif
#endif

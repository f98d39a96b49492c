/* core/store_intern.h: the store's table of shared JSON subtrees.
 *
 * Stored objects are never modified, and jansson values are reference
 * counted, so two objects may hold the same value wherever their content is
 * equal (hash-consing). The table keeps one canonical value per content
 * seen below the root of a stored object, with one reference of its own on
 * each; a value only the table still references is garbage and goes at the
 * next sweep. Private to the core.
 */
#ifndef CORE_STORE_INTERN_H
#define CORE_STORE_INTERN_H

#include <stddef.h>
#include <jansson.h>

#include "core/core.h"

typedef struct store_intern store_intern_t;

store_intern_t *store_intern_new(void);
/* store_intern_free: release the table's references (values still held by
 * objects live on). Accepts NULL. */
void store_intern_free(store_intern_t *t);

/* store_intern: replace every value below obj (not obj itself) by the
 * canonical value equal to it, adding those not seen before. obj's content
 * is unchanged (json_equal before and after); its containers are edited in
 * place, so obj must not be shared with anyone who could observe that.
 * Returns CONTOUR_EOK, or CONTOUR_ENOMEM when the table could not grow (obj
 * is then partly interned, which is still correct). */
int store_intern(store_intern_t *t, json_t *obj);

/* store_intern_released: a stored object was dropped (replaced or deleted),
 * so some entries may now be garbage. */
void store_intern_released(store_intern_t *t);

/* store_intern_maybe_sweep: sweep when it pays: many objects released
 * relative to nobjects (the store's object count), or the table has doubled
 * since the last sweep while objects were released. Never call it while a
 * store_intern walk is in progress. Returns the entries released. */
size_t store_intern_maybe_sweep(store_intern_t *t, size_t nobjects);

/* store_intern_sweep: release every entry only the table references, and
 * the entries that become unreferenced in turn. Returns how many. */
size_t store_intern_sweep(store_intern_t *t);

/* Entries in the table. */
size_t store_intern_count(const store_intern_t *t);

/* store.c: the store's table (tests and benchmarks). */
store_intern_t *core_store_intern_table(core_store_t *s);

#endif

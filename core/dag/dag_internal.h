/* core/dag/dag_internal.h: the core's side of the DAG (include/contour/dag.h):
 * creation, sealing, and what the shared lookups need. Private. */
#ifndef CORE_DAG_INTERNAL_H
#define CORE_DAG_INTERNAL_H

#include "core/arena.h"
#include "core/core.h"
#include "core/strmap.h"

struct contour_dag_private {
	core_t *core;
	core_arena_t *arena;
	core_strmap_t *vhosts, *svhosts, *secrets, *delegations;
	/* Interned clusters: open addressing on core_dag_hash_cluster_id(),
	 * compared field by field (dag.c); malloc'd, dropped at seal. */
	struct dag_cluster_slot *cluster_slots;
	size_t cluster_cap, ncluster_slots;
	/* dag_lookup.c: Services parsed so far in this build ("ns/name" ->
	 * entry), in their own arena; NULL until the first lookup, dropped at
	 * seal. */
	core_strmap_t *services;
	core_arena_t *services_arena;
	int sealed;
	/* The snapshot this DAG belongs to (core_snapshot_new), or NULL: the
	 * dot writer draws its rejected objects from the statuses. */
	const contour_snapshot_t *snap;
};

/* A delegation's targets: priv->delegations maps "ns/name" of a Secret to
 * a NULL-terminated arena list. */
typedef struct core_dag_delegation {
	const char *target;
	struct core_dag_delegation *next;
} core_dag_delegation_t;

/* core_dag_new: an empty DAG for one build, listeners at their defaults
 * (0.0.0.0:8080 and 0.0.0.0:8443). core_dag_free accepts NULL. */
contour_dag_t *core_dag_new(core_t *core);
void core_dag_free(contour_dag_t *dag);
/* core_dag_seal: prune vhosts that publish nothing, collect the clusters
 * and secrets in use, sort, hash. After it, building calls fail. */
int core_dag_seal(contour_dag_t *dag);

core_t *core_dag_core(const contour_dag_t *dag);
/* Secrets interned in this DAG by (type, ns, name). */
contour_dag_secret_t *core_dag_secret_get(const contour_dag_t *dag, contour_dag_secret_type_t type,
                                          const char *ns, const char *name);
/* Intern s (arena memory, fields filled); replaces an equal key. */
int core_dag_secret_put(contour_dag_t *dag, contour_dag_secret_t *s);

/* dag_hash.c */
uint64_t core_dag_hash_cluster(const contour_dag_cluster_t *c);
/* A hash of a cluster's identity (what its key spells, NULL strings read as
 * ""), for interning: clusters with equal keys hash equal. */
uint64_t core_dag_hash_cluster_id(const contour_dag_cluster_t *c);
uint64_t core_dag_hash_secret(const contour_dag_secret_t *s);
uint64_t core_dag_hash_vhost(const contour_dag_vhost_t *v);
uint64_t core_dag_hash_svhost(const contour_dag_svhost_t *s);

/* dag_lookup.c: drop the per-build Service cache (its references on store
 * objects and its memory); the next lookup starts a new one. */
void core_dag_services_free(contour_dag_t *dag);

/* dag_lookup.c: the cross-build cache behind contour_dag_lookup_secret. */
typedef struct core_secret_cache core_secret_cache_t;
void core_secret_cache_free(core_secret_cache_t *c);
/* Secret validations run so far by core's cache (each Secret object is
 * validated at most once per type while it stays in the store): for tests. */
uint64_t core_secret_cache_validations(const core_t *core);

#endif

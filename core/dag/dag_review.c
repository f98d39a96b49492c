/* core/dag/dag_review.c: a DAG to validate one object in. A validator runs
 * a processor's own code on the object under review, which writes into a
 * DAG; this one is never sealed or published. It starts with the current
 * snapshot's certificate delegations, the one thing a processor reads back
 * from the DAG that another processor (tls-delegation) put there, so the
 * validator decides as the next build would. */
#include "config.h"

#include <string.h>

#include "core/dag/dag_internal.h"

typedef struct dag_delegation_copy {
	contour_dag_t *to;
	int rc;
} dag_delegation_copy_t;

static int dag_review_copy_one(const char *key, void *value, void *ud)
{
	dag_delegation_copy_t *c = ud;
	const char *slash = strchr(key, '/');
	if (!slash)
		return 0;
	char ns[512];
	size_t n = (size_t)(slash - key);
	if (n >= sizeof(ns))
		return 0;
	memcpy(ns, key, n);
	ns[n] = '\0';
	for (const core_dag_delegation_t *d = value; d; d = d->next) {
		c->rc = contour_dag_delegate(c->to, ns, slash + 1, d->target);
		if (c->rc != CONTOUR_EOK)
			return 1;
	}
	return 0;
}

contour_dag_t *contour_dag_review_new(contour_module_t *mod)
{
	contour_dag_t *dag = core_dag_new(mod->core);
	if (!dag)
		return NULL;
	contour_snapshot_t *cur = contour_snapshot_current(mod);
	contour_dag_t *from = cur ? contour_snapshot_dag(cur) : NULL;
	if (from) {
		dag_delegation_copy_t c = {.to = dag, .rc = CONTOUR_EOK};
		core_strmap_foreach(from->priv->delegations, dag_review_copy_one, &c);
		if (c.rc != CONTOUR_EOK) {
			core_dag_free(dag);
			return NULL;
		}
	}
	return dag;
}

void contour_dag_review_free(contour_dag_t *dag)
{
	core_dag_free(dag);
}

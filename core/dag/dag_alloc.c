/* core/dag/dag_alloc.c: the constructors and typed appenders of
 * include/contour/dag.h. They exist so that the sizeof of every public DAG
 * struct is taken here, in the core, and never in a module: a struct the
 * core allocates can then gain trailing fields in a minor ABI version
 * without a module built against the older header allocating it short. */
#include "config.h"

#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>

/* One zeroed object of the core's size of type T. */
#define DAG_CTOR(T, name)                                                                          \
	T *name(contour_dag_t *dag)                                                                \
	{                                                                                          \
		return contour_dag_new(dag, sizeof(T));                                            \
	}

DAG_CTOR(contour_dag_route_t, contour_dag_route_new)
DAG_CTOR(contour_dag_backend_t, contour_dag_backend_new)
DAG_CTOR(contour_dag_direct_response_t, contour_dag_direct_response_new)
DAG_CTOR(contour_dag_prefix_rewrite_t, contour_dag_prefix_rewrite_new)
DAG_CTOR(contour_dag_header_policy_t, contour_dag_header_policy_new)
DAG_CTOR(contour_dag_retry_policy_t, contour_dag_retry_policy_new)
DAG_CTOR(contour_dag_health_check_t, contour_dag_health_check_new)
DAG_CTOR(contour_dag_redirect_t, contour_dag_redirect_new)
DAG_CTOR(contour_dag_cors_t, contour_dag_cors_new)
DAG_CTOR(contour_dag_ip_filter_t, contour_dag_ip_filter_new)
DAG_CTOR(contour_dag_slow_start_t, contour_dag_slow_start_new)
DAG_CTOR(contour_dag_tcpproxy_t, contour_dag_tcpproxy_new)
DAG_CTOR(contour_dag_client_validation_t, contour_dag_client_validation_new)
DAG_CTOR(contour_dag_cluster_t, contour_dag_cluster_new)

#undef DAG_CTOR

contour_dag_route_t *contour_dag_route_copy(contour_dag_t *dag, const contour_dag_route_t *route)
{
	contour_dag_route_t *copy = contour_dag_route_new(dag);
	if (!copy)
		return NULL;
	*copy = *route;
	/* The core fills key when the copy is added to its virtual host. */
	copy->key = NULL;
	return copy;
}

char *contour_dag_buf_new(contour_dag_t *dag, size_t size)
{
	return contour_dag_new(dag, size ? size : 1);
}

/* One zeroed element of type T appended to a list of T. */
#define DAG_PUSH(T, name)                                                                          \
	T *name(contour_dag_t *dag, T **list, size_t *count)                                       \
	{                                                                                          \
		T zero;                                                                            \
		memset(&zero, 0, sizeof(zero));                                                    \
		return contour_dag_push(dag, list, count, &zero, sizeof(zero));                    \
	}

DAG_PUSH(contour_dag_header_match_t, contour_dag_header_match_push)
DAG_PUSH(contour_dag_query_match_t, contour_dag_query_match_push)
DAG_PUSH(contour_dag_header_value_t, contour_dag_header_value_push)
DAG_PUSH(contour_dag_backend_t, contour_dag_backend_push)
DAG_PUSH(contour_dag_mirror_t, contour_dag_mirror_push)
DAG_PUSH(contour_dag_prefix_rewrite_t, contour_dag_prefix_rewrite_push)
DAG_PUSH(contour_dag_hash_policy_t, contour_dag_hash_policy_push)
DAG_PUSH(contour_dag_ip_rule_t, contour_dag_ip_rule_push)
DAG_PUSH(contour_dag_status_range_t, contour_dag_status_range_push)

#undef DAG_PUSH

int contour_dag_str_push(contour_dag_t *dag, const char ***list, size_t *count, const char *s)
{
	return contour_dag_push(dag, list, count, &s, sizeof(s)) ? CONTOUR_EOK : CONTOUR_ENOMEM;
}

int contour_dag_ptr_push(contour_dag_t *dag, void *list, size_t *count, const void *ptr)
{
	return contour_dag_push(dag, list, count, &ptr, sizeof(ptr)) ? CONTOUR_EOK : CONTOUR_ENOMEM;
}

int contour_dag_u32_push(contour_dag_t *dag, uint32_t **list, size_t *count, uint32_t v)
{
	return contour_dag_push(dag, list, count, &v, sizeof(v)) ? CONTOUR_EOK : CONTOUR_ENOMEM;
}

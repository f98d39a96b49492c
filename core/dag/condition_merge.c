/* core/dag/condition_merge.c: the conditions accumulated along an include
 * chain merged into one route match, as upstream's mergePathMatchConditions,
 * headerMatchConditions and queryParameterMatchConditions do. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <contour/conditions.h>
#include <contour/error.h>

#include "core/dag/condition_read.h"

/* mergePathMatchConditions: the path strings concatenated, runs of '/'
 * collapsed. */
static int cond_merge_path(contour_dag_t *dag, const json_t *conds, contour_dag_path_match_t *out)
{
	size_t i, len = 0, n = json_array_size(conds);
	json_t *c;
	cond_t cm;
	int regex = 0, exact = 0;
	json_array_foreach(conds, i, c)
	{
		core_cond_read(c, &cm);
		const char *p = cond_str(&cm, COND_PREFIX);
		if (!*p)
			p = cond_str(&cm, COND_EXACT);
		if (!*p)
			p = cond_str(&cm, COND_REGEX);
		len += strlen(p);
	}
	char *buf = malloc(len + 1), *w = buf;
	if (!buf)
		return CONTOUR_ENOMEM;
	json_array_foreach(conds, i, c)
	{
		core_cond_read(c, &cm);
		const char *p = cond_str(&cm, COND_PREFIX);
		/* Whether the last condition is an exact one (prefix unset). */
		exact = !*p && *cond_str(&cm, COND_EXACT);
		if (!*p)
			p = cond_str(&cm, COND_EXACT);
		if (!*p && *(p = cond_str(&cm, COND_REGEX)))
			regex = 1;
		for (; *p; p++) {
			if (*p == '/' && w > buf && w[-1] == '/')
				continue;
			*w++ = *p;
		}
	}
	*w = '\0';
	out->type = CONTOUR_DAG_PATH_PREFIX;
	if (!*buf || n == 0) {
		out->value = contour_dag_strdup(dag, "/");
	} else {
		if (regex)
			out->type = CONTOUR_DAG_PATH_REGEX;
		else if (exact)
			out->type = CONTOUR_DAG_PATH_EXACT;
		out->value = contour_dag_strdup(dag, buf);
	}
	free(buf);
	return out->value ? 0 : CONTOUR_ENOMEM;
}

/* A match's name and value (NULL stays NULL) copied into the DAG. */
static int cond_merge_dup(contour_dag_t *dag, const char **name, const char **value)
{
	*name = contour_dag_strdup(dag, *name);
	*value = *value ? contour_dag_strdup(dag, *value) : NULL;
	return *name ? 0 : CONTOUR_ENOMEM;
}

int contour_conditions_merge(contour_dag_t *dag, const json_t *conds, contour_dag_route_t *route)
{
	size_t i;
	json_t *c;
	int rc = cond_merge_path(dag, conds, &route->path);
	if (rc)
		return rc;
	json_array_foreach(conds, i, c)
	{
		contour_dag_header_match_t hm;
		contour_dag_query_match_t qm;
		cond_t cm;
		core_cond_read(c, &cm);
		if (core_cond_header_match(cm.m[COND_HEADER], &hm) &&
		    (cond_merge_dup(dag, &hm.name, &hm.value) ||
		     !contour_dag_push(dag, &route->headers, &route->nheaders, &hm, sizeof(hm))))
			return CONTOUR_ENOMEM;
		if (core_cond_query_match(cm.m[COND_QUERY], &qm) &&
		    (cond_merge_dup(dag, &qm.name, &qm.value) ||
		     !contour_dag_push(dag, &route->queries, &route->nqueries, &qm, sizeof(qm))))
			return CONTOUR_ENOMEM;
	}
	return 0;
}

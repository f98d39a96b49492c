/* modules/httpproxy/hp_cond.c: HTTPProxy match conditions reported on the
 * proxy's status: which of upstream's condition rules (the domain layer's
 * contour_conditions_check_*) apply to an include and to a route, and the
 * error type and reason each failure gets. */
#include "config.h"

#include <contour/conditions.h>
#include <contour/error.h>

#include "modules/httpproxy/hp.h"

/* Header then query validity, with upstream's RouteError reasons. */
static int hp_cond_match_valid(const json_t *conds, hp_status_t *st)
{
	char err[512];
	int rc = contour_conditions_check_headers(conds, err, sizeof(err));
	if (rc == -1)
		hp_status_error(st, "RouteError", "HeaderMatchConditionsNotValid", "%s", err);
	if (rc)
		return rc;
	rc = contour_conditions_check_queries(conds, err, sizeof(err));
	if (rc == -1)
		hp_status_error(st, "RouteError", "QueryParameterMatchConditionsNotValid", "%s",
		                err);
	return rc;
}

int hp_policy_include_conditions(const json_t *conds, hp_status_t *st)
{
	char err[1024];
	if (contour_conditions_check_include_paths(conds, err, sizeof(err)) < 0) {
		hp_status_error(st, "IncludeError", "PathMatchConditionsNotValid", "include: %s",
		                err);
		return -1;
	}
	return hp_cond_match_valid(conds, st);
}

json_t *hp_cond_concat(const json_t *a, const json_t *c)
{
	json_t *out = json_array();
	if (!out)
		return NULL;
	if (json_is_array(a))
		json_array_extend(out, (json_t *)a);
	if (json_is_array(c))
		json_array_extend(out, (json_t *)c);
	return out;
}

/* The exact upstream order: the route's own block must hold at most one
 * path condition; header and query rules apply to the merged list. */
int hp_policy_route_conditions_split(const json_t *inherited, const json_t *own, hp_status_t *st)
{
	char err[1024];
	if (contour_conditions_check_paths(own, CONTOUR_CONDITIONS_ONE_PATH, err, sizeof(err)) <
	    0) {
		hp_status_error(st, "RouteError", "PathMatchConditionsNotValid", "route: %s", err);
		return -1;
	}
	json_t *merged = hp_cond_concat(inherited, own);
	if (!merged)
		return CONTOUR_ENOMEM;
	int rc = hp_cond_match_valid(merged, st);
	json_decref(merged);
	return rc;
}

/* hp.h passes the merged list only, where an inherited prefix cannot be
 * told from the route's own: the one-per-block rule is applied to what
 * only a route can add (exact, regex). A root's routes (nothing inherited)
 * get the full rule through hp_policy_route_conditions_split. */
int hp_policy_route_conditions(const json_t *conds, hp_status_t *st)
{
	char err[1024];
	if (contour_conditions_check_paths(conds, 0, err, sizeof(err)) < 0) {
		hp_status_error(st, "RouteError", "PathMatchConditionsNotValid", "route: %s", err);
		return -1;
	}
	return hp_cond_match_valid(conds, st);
}

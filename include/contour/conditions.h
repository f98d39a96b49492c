/* contour/conditions.h: HTTPProxy match conditions (contour_v1.MatchCondition
 * as JSON: prefix, exact, regex, header, queryParameter): upstream's
 * validity rules, their merge into one route match, and the
 * duplicate-include check (domain layer, ABI 1.4).
 *
 * `conds` is a JSON array of MatchCondition objects (borrowed; NULL or a
 * non-array reads as empty). An absent or mistyped member reads as Go's
 * zero value, as the Go structs decode. The checks return 0; -1 with
 * upstream's message in err (without the "route: " / "include: " prefix
 * the caller's status adds); or CONTOUR_ENOMEM.
 */
#ifndef CONTOUR_CONDITIONS_H
#define CONTOUR_CONDITIONS_H

#include <stddef.h>
#include <jansson.h>

#include <contour/dag.h>

#ifdef __cplusplus
extern "C" {
#endif

/* contour_conditions_check_paths flag: at most one prefix, exact or regex
 * in the block (upstream applies it to one block of conditions). Without
 * it only exact and regex count, for a merged list where inherited
 * prefixes cannot be told from the route's own. */
#define CONTOUR_CONDITIONS_ONE_PATH 0x1u

/* contour_conditions_check_paths: pathMatchConditionsValid: every path
 * condition starts with '/', regexes compile (contour_regex_check), and
 * the one-path rule per flags. */
int contour_conditions_check_paths(const json_t *conds, unsigned flags, char *err, size_t errlen);
/* contour_conditions_check_include_paths: includeMatchConditionsValid then
 * pathMatchConditionsValid with the one-path rule: an include may carry
 * prefixes only. */
int contour_conditions_check_include_paths(const json_t *conds, char *err, size_t errlen);
/* contour_conditions_check_headers: headerMatchConditionsValid (exactly one
 * operator per header condition, no duplicate exact match on a name, no
 * contradictory present/notpresent, exact/notexact, contains/notcontains,
 * regexes compile). */
int contour_conditions_check_headers(const json_t *conds, char *err, size_t errlen);
/* contour_conditions_check_queries: queryParameterMatchConditionsValid. */
int contour_conditions_check_queries(const json_t *conds, char *err, size_t errlen);

/* contour_conditions_merge: conds (include conditions first, then the
 * route's) into route->path (mergePathMatchConditions: concatenation with
 * '/' runs collapsed; regex if any is a regex, exact if the last is exact,
 * else prefix; nothing -> prefix "/"), and appended to route->headers and
 * route->queries. Strings are arena copies. Returns 0 or CONTOUR_ENOMEM. */
int contour_conditions_merge(contour_dag_t *dag, const json_t *conds, contour_dag_route_t *route);

/* Duplicate include conditions (includeMatchConditionsIdentical): one
 * tracker per HTTPProxy being processed, malloc'd; _free accepts NULL. */
typedef struct contour_conditions_seen contour_conditions_seen_t;
contour_conditions_seen_t *contour_conditions_seen_new(void);
/* contour_conditions_seen_add: 1 when conds duplicate conditions added
 * before (never for an empty set or a bare "/", which upstream allows
 * repeatedly), else 0 and conds are remembered (also 0, and not
 * remembered, when memory runs out). */
int contour_conditions_seen_add(contour_conditions_seen_t *seen, const json_t *conds);
void contour_conditions_seen_free(contour_conditions_seen_t *seen);

#ifdef __cplusplus
}
#endif
#endif

/* core/dag/condition_read.h: how the condition files of the domain layer
 * read a MatchCondition (contour_v1.MatchCondition as JSON): one walk per
 * object, members filed by slot; an absent or mistyped member reads as Go's
 * zero value ("" or false). Private to core/dag/. */
#ifndef CORE_DAG_CONDITION_READ_H
#define CORE_DAG_CONDITION_READ_H

#include <jansson.h>

#include <contour/dag.h>

/* The members of a MatchCondition and of its header and queryParameter
 * objects. A condition usually sets one or two of them, so a hashed lookup
 * per possible field mostly pays for nothing: core_cond_read walks the object
 * once and files each member under its slot (a JSON object has each name
 * at most once, so this finds what json_object_get would). */
enum {
	COND_NAME,
	COND_PREFIX,
	COND_SUFFIX,
	COND_EXACT,
	COND_NOTEXACT,
	COND_CONTAINS,
	COND_NOTCONTAINS,
	COND_REGEX,
	COND_PRESENT,
	COND_NOTPRESENT,
	COND_IGNORECASE,
	COND_TMAE,
	COND_HEADER,
	COND_QUERY,
	COND_N
};

typedef struct cond_members {
	const json_t *m[COND_N]; /* NULL when absent */
} cond_t;

/* core_cond_read: every slot of out from one walk of obj; all NULL when obj is
 * not an object (json_object_get's answer for a non-object). */
void core_cond_read(const json_t *obj, cond_t *out);

/* core_cond_read_sub: the members of condition c's `header` or
 * `queryParameter` object (slot COND_HEADER or COND_QUERY) into out; 0 when c
 * has no such object. */
int core_cond_read_sub(const json_t *c, int slot, cond_t *out);

/* A member as Go's zero-valued string field: "" when absent or not a
 * string. */
static inline const char *cond_str(const cond_t *c, int slot)
{
	const char *s = json_string_value(c->m[slot]);
	return s ? s : "";
}

static inline int cond_bool(const cond_t *c, int slot)
{
	return json_is_true(c->m[slot]);
}

/* core_cond_header_match / core_cond_query_match: the DAG match of one condition's
 * `header` / `queryParameter` object (strings borrowed from it); 0 when it
 * sets no operator. */
int core_cond_header_match(const json_t *hdr, contour_dag_header_match_t *m);
int core_cond_query_match(const json_t *query, contour_dag_query_match_t *m);

#endif

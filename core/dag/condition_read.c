/* core/dag/condition_read.c: the one-walk reader of MatchCondition objects
 * and the DAG header and query matches they spell, shared by the condition
 * checks, the merge and the duplicate-include tracker. */
#include "config.h"

#include <string.h>

#include "core/dag/condition_read.h"

/* The member names, by slot. */
static const char *const cond_names[COND_N] = {
    [COND_NAME] = "name",
    [COND_PREFIX] = "prefix",
    [COND_SUFFIX] = "suffix",
    [COND_EXACT] = "exact",
    [COND_NOTEXACT] = "notexact",
    [COND_CONTAINS] = "contains",
    [COND_NOTCONTAINS] = "notcontains",
    [COND_REGEX] = "regex",
    [COND_PRESENT] = "present",
    [COND_NOTPRESENT] = "notpresent",
    [COND_IGNORECASE] = "ignoreCase",
    [COND_TMAE] = "treatMissingAsEmpty",
    [COND_HEADER] = "header",
    [COND_QUERY] = "queryParameter",
};

/* The slot of member name k, or -1 for a name no rule reads. The first
 * byte rules out all but one or two names before any strcmp. */
static int cond_slot(const char *k)
{
	for (int slot = 0; slot < COND_N; slot++)
		if (cond_names[slot][0] == k[0] && !strcmp(cond_names[slot], k))
			return slot;
	return -1;
}

void core_cond_read(const json_t *obj, cond_t *out)
{
	const char *k;
	json_t *v;
	memset(out, 0, sizeof(*out));
	json_object_foreach((json_t *)obj, k, v)
	{
		int slot = cond_slot(k);
		if (slot >= 0)
			out->m[slot] = v;
	}
}

int core_cond_read_sub(const json_t *c, int slot, cond_t *out)
{
	cond_t cm;
	core_cond_read(c, &cm);
	if (!json_is_object(cm.m[slot]))
		return 0;
	core_cond_read(cm.m[slot], out);
	return 1;
}

/* headerMatchConditions for one condition; 0 when it sets no operator.
 * present/notpresent first, then the string operators in upstream's order;
 * the negated ones honour treatMissingAsEmpty. */
int core_cond_header_match(const json_t *hdr, contour_dag_header_match_t *m)
{
	static const struct {
		int slot;
		contour_dag_match_type_t type;
		int invert, folds;
	} ops[] = {
	    {COND_CONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 0, 1},
	    {COND_NOTCONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 1, 1},
	    {COND_EXACT, CONTOUR_DAG_MATCH_EXACT, 0, 1},
	    {COND_NOTEXACT, CONTOUR_DAG_MATCH_EXACT, 1, 1},
	    {COND_REGEX, CONTOUR_DAG_MATCH_REGEX, 0, 0},
	};
	cond_t h;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(hdr))
		return 0;
	core_cond_read(hdr, &h);
	m->name = cond_str(&h, COND_NAME);
	if (cond_bool(&h, COND_PRESENT) || cond_bool(&h, COND_NOTPRESENT)) {
		m->type = CONTOUR_DAG_MATCH_PRESENT;
		m->invert = !cond_bool(&h, COND_PRESENT);
		return 1;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		if (*cond_str(&h, ops[i].slot)) {
			m->type = ops[i].type;
			m->value = cond_str(&h, ops[i].slot);
			m->invert = ops[i].invert;
			m->ignore_case = ops[i].folds && cond_bool(&h, COND_IGNORECASE);
			m->treat_missing_as_empty = ops[i].invert && cond_bool(&h, COND_TMAE);
			return 1;
		}
	}
	return 0;
}

/* queryParameterMatchConditions for one condition. */
int core_cond_query_match(const json_t *query, contour_dag_query_match_t *m)
{
	static const struct {
		int slot;
		contour_dag_match_type_t type;
		int folds;
	} ops[] = {
	    {COND_EXACT, CONTOUR_DAG_MATCH_EXACT, 1},
	    {COND_PREFIX, CONTOUR_DAG_MATCH_PREFIX, 1},
	    {COND_SUFFIX, CONTOUR_DAG_MATCH_SUFFIX, 1},
	    {COND_REGEX, CONTOUR_DAG_MATCH_REGEX, 0},
	    {COND_CONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 1},
	};
	cond_t q;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(query))
		return 0;
	core_cond_read(query, &q);
	m->name = cond_str(&q, COND_NAME);
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		if (*cond_str(&q, ops[i].slot)) {
			m->type = ops[i].type;
			m->value = cond_str(&q, ops[i].slot);
			m->ignore_case = ops[i].folds && cond_bool(&q, COND_IGNORECASE);
			return 1;
		}
	}
	if (cond_bool(&q, COND_PRESENT)) {
		m->type = CONTOUR_DAG_MATCH_PRESENT;
		return 1;
	}
	return 0;
}

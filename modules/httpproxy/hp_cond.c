/* modules/httpproxy/hp_cond.c: HTTPProxy match conditions: the validity
 * rules of upstream's internal/dag/conditions.go, the merge of conditions
 * along an include chain into one route match, and the duplicate-include
 * tracker. Regexes are checked with the domain layer's
 * contour_regex_check.
 *
 * Conditions arrive as the JSON of contour_v1.MatchCondition; an absent
 * field reads as Go's zero value ("" or false), as the Go structs do. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>

#include "modules/httpproxy/hp.h"

/* The members of a MatchCondition and of its header and queryParameter
 * objects. A condition usually sets one or two of them, so a hashed lookup
 * per possible field mostly pays for nothing: hp_cond_read walks the object
 * once and files each member under its slot (a JSON object has each name
 * at most once, so this finds what json_object_get would). */
enum {
	HP_C_NAME,
	HP_C_PREFIX,
	HP_C_SUFFIX,
	HP_C_EXACT,
	HP_C_NOTEXACT,
	HP_C_CONTAINS,
	HP_C_NOTCONTAINS,
	HP_C_REGEX,
	HP_C_PRESENT,
	HP_C_NOTPRESENT,
	HP_C_IGNORECASE,
	HP_C_TMAE,
	HP_C_HEADER,
	HP_C_QUERY,
	HP_C_N
};

typedef struct hp_cond {
	const json_t *m[HP_C_N]; /* NULL when absent */
} hp_cond_t;

/* The slot of member name k, or -1 for a name no rule reads. */
static int hp_cond_slot(const char *k)
{
	switch (k[0]) {
	case 'c':
		return strcmp(k, "contains") ? -1 : HP_C_CONTAINS;
	case 'e':
		return strcmp(k, "exact") ? -1 : HP_C_EXACT;
	case 'h':
		return strcmp(k, "header") ? -1 : HP_C_HEADER;
	case 'i':
		return strcmp(k, "ignoreCase") ? -1 : HP_C_IGNORECASE;
	case 'n':
		if (!strcmp(k, "name"))
			return HP_C_NAME;
		if (!strcmp(k, "notexact"))
			return HP_C_NOTEXACT;
		if (!strcmp(k, "notcontains"))
			return HP_C_NOTCONTAINS;
		return strcmp(k, "notpresent") ? -1 : HP_C_NOTPRESENT;
	case 'p':
		if (!strcmp(k, "prefix"))
			return HP_C_PREFIX;
		return strcmp(k, "present") ? -1 : HP_C_PRESENT;
	case 'q':
		return strcmp(k, "queryParameter") ? -1 : HP_C_QUERY;
	case 'r':
		return strcmp(k, "regex") ? -1 : HP_C_REGEX;
	case 's':
		return strcmp(k, "suffix") ? -1 : HP_C_SUFFIX;
	case 't':
		return strcmp(k, "treatMissingAsEmpty") ? -1 : HP_C_TMAE;
	default:
		return -1;
	}
}

/* Every slot of out from one walk of obj; all NULL when obj is not an
 * object (json_object_get's answer for a non-object). */
static void hp_cond_read(const json_t *obj, hp_cond_t *out)
{
	const char *k;
	json_t *v;
	memset(out, 0, sizeof(*out));
	json_object_foreach((json_t *)obj, k, v)
	{
		int slot = hp_cond_slot(k);
		if (slot >= 0)
			out->m[slot] = v;
	}
}

/* A member as Go's zero-valued string field: "" when absent or not a
 * string. */
static const char *hp_cond_str(const hp_cond_t *c, int slot)
{
	const char *s = json_string_value(c->m[slot]);
	return s ? s : "";
}

static int hp_cond_bool(const hp_cond_t *c, int slot)
{
	return json_is_true(c->m[slot]);
}

/* ---- validity ------------------------------------------------------------ */

/* pathMatchConditionsValid. count=0 skips the one-per-block rule (see
 * hp_policy_route_conditions). */
static int hp_cond_path_valid(const json_t *conds, int count, char *err, size_t errlen)
{
	/* The three path matchers, checked alike; only regexes compile. */
	static const char *const kinds[] = {"prefix", "exact", "regex"};
	static const int slots[] = {HP_C_PREFIX, HP_C_EXACT, HP_C_REGEX};
	int seen[3] = {0, 0, 0};
	size_t i;
	json_t *c;
	char rerr[512];
	json_array_foreach(conds, i, c)
	{
		hp_cond_t cm;
		hp_cond_read(c, &cm);
		for (int k = 0; k < 3; k++) {
			const char *v = hp_cond_str(&cm, slots[k]);
			if (!*v)
				continue;
			seen[k]++;
			if (*v != '/') {
				snprintf(err, errlen,
				         "%s conditions must start with /, %s was supplied",
				         kinds[k], v);
				return -1;
			}
			if (k == 2 && contour_regex_check(v, rerr, sizeof(rerr)) < 0) {
				snprintf(err, errlen, "supplied regex: %s invalid. error: %s", v,
				         rerr);
				return -1;
			}
		}
	}
	/* Inherited conditions are prefixes only, so in a merged list (count
	 * 0) more than one exact/regex can only come from the route's own
	 * block. */
	int paths = count ? seen[0] + seen[1] + seen[2] : seen[1] + seen[2];
	if (paths > 1) {
		snprintf(
		    err, errlen,
		    "more than one prefix, exact or regex is not allowed in a condition block");
		return -1;
	}
	return 0;
}

/* A header condition with its name lower-cased: the key of upstream's
 * seenMatchConditions map, compared field by field. */
typedef struct hp_hdr_key {
	const char *name; /* lower-cased, malloc'd */
	const char *contains, *notcontains, *exact, *notexact, *regex;
	int present, notpresent, ignore_case, tmae;
} hp_hdr_key_t;

static int hp_hdr_key_eq(const hp_hdr_key_t *a, const hp_hdr_key_t *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->contains, b->contains) &&
	       !strcmp(a->notcontains, b->notcontains) && !strcmp(a->exact, b->exact) &&
	       !strcmp(a->notexact, b->notexact) && !strcmp(a->regex, b->regex) &&
	       a->present == b->present && a->notpresent == b->notpresent &&
	       a->ignore_case == b->ignore_case && a->tmae == b->tmae;
}

static int hp_hdr_seen(const hp_hdr_key_t *seen, size_t n, const hp_hdr_key_t *probe)
{
	for (size_t i = 0; i < n; i++) {
		if (hp_hdr_key_eq(&seen[i], probe))
			return 1;
	}
	return 0;
}

static char *hp_cond_lower(const char *s)
{
	char *l = strdup(s);
	if (l) {
		for (char *p = l; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return l;
}

/* headerMatchConditionsValid. Returns 0, -1 with err, or CONTOUR_ENOMEM. */
static int hp_cond_headers_valid(const json_t *conds, char *err, size_t errlen)
{
	size_t n = json_array_size(conds), nseen = 0, nexact = 0, i;
	hp_hdr_key_t *seen = NULL;
	char **exact_names = NULL;
	const char *msg = NULL;
	int rc = 0;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		hp_cond_t cm, hm;
		hp_cond_read(c, &cm);
		if (!json_is_object(cm.m[HP_C_HEADER]))
			continue;
		/* Most routes match no header: the tables wait for the first. */
		if (!seen) {
			seen = calloc(n, sizeof(*seen));
			exact_names = calloc(n, sizeof(*exact_names));
			if (!seen || !exact_names) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
		}
		hp_cond_read(cm.m[HP_C_HEADER], &hm);
		hp_hdr_key_t k = {
		    .name = hp_cond_lower(hp_cond_str(&hm, HP_C_NAME)),
		    .contains = hp_cond_str(&hm, HP_C_CONTAINS),
		    .notcontains = hp_cond_str(&hm, HP_C_NOTCONTAINS),
		    .exact = hp_cond_str(&hm, HP_C_EXACT),
		    .notexact = hp_cond_str(&hm, HP_C_NOTEXACT),
		    .regex = hp_cond_str(&hm, HP_C_REGEX),
		    .present = hp_cond_bool(&hm, HP_C_PRESENT),
		    .notpresent = hp_cond_bool(&hm, HP_C_NOTPRESENT),
		    .ignore_case = hp_cond_bool(&hm, HP_C_IGNORECASE),
		    .tmae = hp_cond_bool(&hm, HP_C_TMAE),
		};
		hp_hdr_key_t probe = {.name = k.name,
		                      .contains = "",
		                      .notcontains = "",
		                      .exact = "",
		                      .notexact = "",
		                      .regex = ""};
		if (!k.name) {
			rc = CONTOUR_ENOMEM;
			goto fail;
		}
		seen[nseen++] = k; /* owns k.name from here; checked below */
		if (k.present) {
			probe.notpresent = 1;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'present' and 'notpresent' "
				      "conditions for the same route and header";
		} else if (k.notpresent) {
			probe.present = 1;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'present' and 'notpresent' "
				      "conditions for the same route and header";
		} else if (*k.exact) {
			for (size_t j = 0; j < nexact; j++) {
				if (!strcmp(exact_names[j], k.name))
					msg = "cannot specify duplicate header 'exact match' "
					      "conditions in the same route";
			}
			exact_names[nexact++] = (char *)k.name;
			probe.notexact = k.exact;
			if (!msg && hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'exact' and 'notexact' "
				      "conditions for the same route and header";
		} else if (*k.notexact) {
			probe.exact = k.notexact;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'exact' and 'notexact' "
				      "conditions for the same route and header";
		} else if (*k.contains) {
			probe.notcontains = k.contains;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'contains' and 'notcontains' "
				      "conditions for the same route and header";
		} else if (*k.notcontains) {
			probe.contains = k.notcontains;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'contains' and 'notcontains' "
				      "conditions for the same route and header";
		} else if (*k.regex) {
			char rerr[256];
			if (contour_regex_check(k.regex, rerr, sizeof(rerr)) < 0)
				msg = "invalid regular expression specified for 'regex' condition";
		}
		if (msg) {
			snprintf(err, errlen, "%s", msg);
			rc = -1;
			goto fail;
		}
	}
fail:
	if (seen) {
		for (i = 0; i < nseen; i++)
			free((char *)seen[i].name);
	}
	free(seen);
	free(exact_names);
	return rc;
}

/* queryParameterMatchConditionsValid. */
static int hp_cond_queries_valid(const json_t *conds, char *err, size_t errlen)
{
	size_t n = json_array_size(conds), nexact = 0, i;
	char **exact_names = NULL; /* allocated at the first exact match */
	const char *msg = NULL;
	int rc = 0;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		hp_cond_t cm, q;
		hp_cond_read(c, &cm);
		if (!json_is_object(cm.m[HP_C_QUERY]))
			continue;
		hp_cond_read(cm.m[HP_C_QUERY], &q);
		static const int ops[] = {HP_C_EXACT, HP_C_PREFIX, HP_C_SUFFIX, HP_C_REGEX,
		                          HP_C_CONTAINS};
		int set = hp_cond_bool(&q, HP_C_PRESENT);
		for (size_t j = 0; j < sizeof(ops) / sizeof(*ops); j++)
			set += *hp_cond_str(&q, ops[j]) != '\0';
		if (set == 0) {
			msg = "must specify at least one query parameter condition";
			break;
		}
		if (set > 1) {
			msg = "cannot specify more than one condition in the same match condition "
			      "branch";
			break;
		}
		if (*hp_cond_str(&q, HP_C_EXACT)) {
			if (!exact_names && !(exact_names = calloc(n, sizeof(*exact_names)))) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
			char *name = hp_cond_lower(hp_cond_str(&q, HP_C_NAME));
			if (!name) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
			for (size_t j = 0; j < nexact && !msg; j++) {
				if (!strcmp(exact_names[j], name))
					msg = "cannot specify duplicate query parameter 'exact "
					      "match' "
					      "conditions in the same route";
			}
			exact_names[nexact++] = name;
			if (msg)
				break;
		}
		const char *regex = hp_cond_str(&q, HP_C_REGEX);
		char rerr[256];
		if (*regex && contour_regex_check(regex, rerr, sizeof(rerr)) < 0) {
			msg = "invalid regular expression specified for 'regex' condition";
			break;
		}
	}
	if (msg) {
		snprintf(err, errlen, "%s", msg);
		rc = -1;
	}
fail:
	for (i = 0; i < nexact; i++)
		free(exact_names[i]);
	free(exact_names);
	return rc;
}

/* Header then query validity, with upstream's RouteError reasons. */
static int hp_cond_match_valid(const json_t *conds, hp_status_t *st)
{
	char err[512];
	int rc = hp_cond_headers_valid(conds, err, sizeof(err));
	if (rc == -1)
		hp_status_error(st, "RouteError", "HeaderMatchConditionsNotValid", "%s", err);
	if (rc)
		return rc;
	rc = hp_cond_queries_valid(conds, err, sizeof(err));
	if (rc == -1)
		hp_status_error(st, "RouteError", "QueryParameterMatchConditionsNotValid", "%s",
		                err);
	return rc;
}

int hp_policy_include_conditions(const json_t *conds, hp_status_t *st)
{
	size_t i;
	json_t *c;
	char err[1024];
	json_array_foreach(conds, i, c)
	{
		const char *what = NULL;
		hp_cond_t cm;
		hp_cond_read(c, &cm);
		if (*hp_cond_str(&cm, HP_C_EXACT))
			what = "exact conditions are not allowed in includes block";
		else if (*hp_cond_str(&cm, HP_C_REGEX))
			what = "regex conditions are not allowed in includes block";
		if (what) {
			hp_status_error(st, "IncludeError", "PathMatchConditionsNotValid",
			                "include: %s", what);
			return -1;
		}
	}
	if (hp_cond_path_valid(conds, 1, err, sizeof(err)) < 0) {
		hp_status_error(st, "IncludeError", "PathMatchConditionsNotValid", "include: %s",
		                err);
		return -1;
	}
	return hp_cond_match_valid(conds, st);
}

/* The exact upstream order: the route's own block must hold at most one
 * path condition; header and query rules apply to the merged list. */
int hp_policy_route_conditions_split(const json_t *inherited, const json_t *own, hp_status_t *st)
{
	char err[1024];
	if (hp_cond_path_valid(own, 1, err, sizeof(err)) < 0) {
		hp_status_error(st, "RouteError", "PathMatchConditionsNotValid", "route: %s", err);
		return -1;
	}
	json_t *merged = json_array();
	if (!merged)
		return CONTOUR_ENOMEM;
	if (json_is_array(inherited))
		json_array_extend(merged, (json_t *)inherited);
	if (json_is_array(own))
		json_array_extend(merged, (json_t *)own);
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
	if (hp_cond_path_valid(conds, 0, err, sizeof(err)) < 0) {
		hp_status_error(st, "RouteError", "PathMatchConditionsNotValid", "route: %s", err);
		return -1;
	}
	return hp_cond_match_valid(conds, st);
}

/* ---- merge ------------------------------------------------------------------ */

/* mergePathMatchConditions: the path strings concatenated, runs of '/'
 * collapsed. */
static int hp_cond_merge_path(contour_dag_t *dag, const json_t *conds,
                              contour_dag_path_match_t *out)
{
	size_t i, len = 0, n = json_array_size(conds);
	json_t *c;
	hp_cond_t cm;
	int regex = 0, exact = 0;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		const char *p = hp_cond_str(&cm, HP_C_PREFIX);
		if (!*p)
			p = hp_cond_str(&cm, HP_C_EXACT);
		if (!*p)
			p = hp_cond_str(&cm, HP_C_REGEX);
		len += strlen(p);
	}
	char *buf = malloc(len + 1), *w = buf;
	if (!buf)
		return CONTOUR_ENOMEM;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		const char *p = hp_cond_str(&cm, HP_C_PREFIX);
		/* Whether the last condition is an exact one (prefix unset). */
		exact = !*p && *hp_cond_str(&cm, HP_C_EXACT);
		if (!*p)
			p = hp_cond_str(&cm, HP_C_EXACT);
		if (!*p && *(p = hp_cond_str(&cm, HP_C_REGEX)))
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

/* headerMatchConditions for one condition; 0 when it sets no operator.
 * present/notpresent first, then the string operators in upstream's order;
 * the negated ones honour treatMissingAsEmpty. */
static int hp_cond_header_match(const json_t *hdr, contour_dag_header_match_t *m)
{
	static const struct {
		int slot;
		contour_dag_match_type_t type;
		int invert, folds;
	} ops[] = {
	    {HP_C_CONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 0, 1},
	    {HP_C_NOTCONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 1, 1},
	    {HP_C_EXACT, CONTOUR_DAG_MATCH_EXACT, 0, 1},
	    {HP_C_NOTEXACT, CONTOUR_DAG_MATCH_EXACT, 1, 1},
	    {HP_C_REGEX, CONTOUR_DAG_MATCH_REGEX, 0, 0},
	};
	hp_cond_t h;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(hdr))
		return 0;
	hp_cond_read(hdr, &h);
	m->name = hp_cond_str(&h, HP_C_NAME);
	if (hp_cond_bool(&h, HP_C_PRESENT) || hp_cond_bool(&h, HP_C_NOTPRESENT)) {
		m->type = CONTOUR_DAG_MATCH_PRESENT;
		m->invert = !hp_cond_bool(&h, HP_C_PRESENT);
		return 1;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		if (*hp_cond_str(&h, ops[i].slot)) {
			m->type = ops[i].type;
			m->value = hp_cond_str(&h, ops[i].slot);
			m->invert = ops[i].invert;
			m->ignore_case = ops[i].folds && hp_cond_bool(&h, HP_C_IGNORECASE);
			m->treat_missing_as_empty = ops[i].invert && hp_cond_bool(&h, HP_C_TMAE);
			return 1;
		}
	}
	return 0;
}

/* queryParameterMatchConditions for one condition. */
static int hp_cond_query_match(const json_t *query, contour_dag_query_match_t *m)
{
	static const struct {
		int slot;
		contour_dag_match_type_t type;
		int folds;
	} ops[] = {
	    {HP_C_EXACT, CONTOUR_DAG_MATCH_EXACT, 1},
	    {HP_C_PREFIX, CONTOUR_DAG_MATCH_PREFIX, 1},
	    {HP_C_SUFFIX, CONTOUR_DAG_MATCH_SUFFIX, 1},
	    {HP_C_REGEX, CONTOUR_DAG_MATCH_REGEX, 0},
	    {HP_C_CONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 1},
	};
	hp_cond_t q;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(query))
		return 0;
	hp_cond_read(query, &q);
	m->name = hp_cond_str(&q, HP_C_NAME);
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		if (*hp_cond_str(&q, ops[i].slot)) {
			m->type = ops[i].type;
			m->value = hp_cond_str(&q, ops[i].slot);
			m->ignore_case = ops[i].folds && hp_cond_bool(&q, HP_C_IGNORECASE);
			return 1;
		}
	}
	if (hp_cond_bool(&q, HP_C_PRESENT)) {
		m->type = CONTOUR_DAG_MATCH_PRESENT;
		return 1;
	}
	return 0;
}

int hp_policy_merge_conditions(contour_dag_t *dag, const json_t *conds, contour_dag_route_t *route)
{
	size_t i;
	json_t *c;
	int rc = hp_cond_merge_path(dag, conds, &route->path);
	if (rc)
		return rc;
	json_array_foreach(conds, i, c)
	{
		contour_dag_header_match_t hm;
		contour_dag_query_match_t qm;
		hp_cond_t cm;
		hp_cond_read(c, &cm);
		if (hp_cond_header_match(cm.m[HP_C_HEADER], &hm)) {
			hm.name = contour_dag_strdup(dag, hm.name);
			hm.value = hm.value ? contour_dag_strdup(dag, hm.value) : NULL;
			contour_dag_header_match_t *slot =
			    hm.name ? contour_dag_header_match_push(dag, &route->headers,
			                                            &route->nheaders)
			            : NULL;
			if (!slot)
				return CONTOUR_ENOMEM;
			*slot = hm;
		}
		if (hp_cond_query_match(cm.m[HP_C_QUERY], &qm)) {
			qm.name = contour_dag_strdup(dag, qm.name);
			qm.value = qm.value ? contour_dag_strdup(dag, qm.value) : NULL;
			contour_dag_query_match_t *slot =
			    qm.name ? contour_dag_query_match_push(dag, &route->queries,
			                                           &route->nqueries)
			            : NULL;
			if (!slot)
				return CONTOUR_ENOMEM;
			*slot = qm;
		}
	}
	return 0;
}

/* ---- duplicate include conditions ------------------------------------------ */

struct hp_seen {
	char **keys;
	size_t nkeys;
};

hp_seen_t *hp_seen_new(void)
{
	return calloc(1, sizeof(hp_seen_t));
}

void hp_seen_free(hp_seen_t *seen)
{
	if (!seen)
		return;
	for (size_t i = 0; i < seen->nkeys; i++)
		free(seen->keys[i]);
	free(seen->keys);
	free(seen);
}

static char *hp_cond_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *hp_cond_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (s) {
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return s;
}

static int hp_seen_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "\x1e" + each sorted entry to *buf; entries are freed. */
static int hp_seen_append_sorted(char **buf, size_t *len, char **entries, size_t n)
{
	qsort(entries, n, sizeof(*entries), hp_seen_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t el = strlen(entries[i]);
		char *grown = realloc(*buf, *len + el + 2);
		if (!grown)
			return CONTOUR_ENOMEM;
		*buf = grown;
		grown[(*len)++] = '\x1e';
		memcpy(grown + *len, entries[i], el + 1);
		*len += el;
	}
	return 0;
}

/* includeMatchConditionsIdentical: the key is the merged prefix plus the
 * sorted header and query conditions, every field of each, so two keys are
 * equal exactly when upstream's sorted element-wise comparison is. */
int hp_seen_check_add(hp_seen_t *seen, const json_t *conds)
{
	size_t n = json_array_size(conds), nh = 0, nq = 0, i, len;
	char **hs = calloc(n ? n : 1, sizeof(*hs)), **qs = calloc(n ? n : 1, sizeof(*qs));
	char *key = NULL, *prefix = NULL;
	int dup = 0;
	json_t *c;
	if (!hs || !qs)
		goto fail;

	/* Include conditions are validated prefixes, so the merge is a plain
	 * concatenation with '/' runs collapsed. */
	hp_cond_t cm;
	len = 0;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		len += strlen(hp_cond_str(&cm, HP_C_PREFIX));
	}
	if (!(prefix = malloc(len + 2)))
		goto fail;
	char *w = prefix;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		if (*hp_cond_str(&cm, HP_C_EXACT) || *hp_cond_str(&cm, HP_C_REGEX)) {
			dup = 1; /* upstream: "can never happen", treated as identical */
			goto fail;
		}
		for (const char *p = hp_cond_str(&cm, HP_C_PREFIX); *p; p++) {
			if (*p == '/' && w > prefix && w[-1] == '/')
				continue;
			*w++ = *p;
		}
	}
	if (w == prefix)
		*w++ = '/';
	*w = '\0';

	json_array_foreach(conds, i, c)
	{
		contour_dag_header_match_t hm;
		contour_dag_query_match_t qm;
		hp_cond_read(c, &cm);
		if (hp_cond_header_match(cm.m[HP_C_HEADER], &hm) &&
		    !(hs[nh++] = hp_cond_printf(
		          "%d\x1f%d\x1f%d\x1f%d\x1f%s\x1f%s", (int)hm.type, hm.ignore_case,
		          hm.invert, hm.treat_missing_as_empty, hm.name, hm.value ? hm.value : "")))
			goto fail;
		if (hp_cond_query_match(cm.m[HP_C_QUERY], &qm) &&
		    !(qs[nq++] = hp_cond_printf("%d\x1f%d\x1f%s\x1f%s", (int)qm.type,
		                                qm.ignore_case, qm.name, qm.value ? qm.value : "")))
			goto fail;
	}
	/* A bare "/" (or nothing) is never a duplicate: upstream keeps this
	 * for trees that rely on it. */
	if (!strcmp(prefix, "/") && nh == 0 && nq == 0)
		goto fail;

	len = strlen(prefix);
	key = prefix;
	prefix = NULL;
	if (hp_seen_append_sorted(&key, &len, hs, nh) < 0)
		goto fail;
	char *grown = realloc(key, len + 2);
	if (!grown)
		goto fail;
	key = grown;
	key[len++] = '\x1d';
	key[len] = '\0';
	if (hp_seen_append_sorted(&key, &len, qs, nq) < 0)
		goto fail;

	for (i = 0; i < seen->nkeys; i++) {
		if (!strcmp(seen->keys[i], key)) {
			dup = 1;
			goto fail;
		}
	}
	char **keys = realloc(seen->keys, (seen->nkeys + 1) * sizeof(*keys));
	if (!keys)
		goto fail;
	seen->keys = keys;
	seen->keys[seen->nkeys++] = key;
	key = NULL;
fail:
	for (i = 0; i < nh; i++)
		free(hs[i]);
	for (i = 0; i < nq; i++)
		free(qs[i]);
	free(hs);
	free(qs);
	free(prefix);
	free(key);
	return dup;
}

/* core/dag/condition_check.c: the validity rules of upstream's
 * internal/dag/conditions.go (pathMatchConditionsValid,
 * includeMatchConditionsValid, headerMatchConditionsValid,
 * queryParameterMatchConditionsValid), with upstream's messages. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/conditions.h>
#include <contour/error.h>
#include <contour/regex.h>

#include "core/dag/condition_read.h"
#include "core/util.h"

/* pathMatchConditionsValid. count=0 skips the one-per-block rule (see
 * contour_conditions_check_paths). */
static int cond_path_valid(const json_t *conds, int count, char *err, size_t errlen)
{
	/* The three path matchers, checked alike; only regexes compile. */
	static const char *const kinds[] = {"prefix", "exact", "regex"};
	static const int slots[] = {COND_PREFIX, COND_EXACT, COND_REGEX};
	int seen[3] = {0, 0, 0};
	size_t i;
	json_t *c;
	char rerr[512];
	json_array_foreach(conds, i, c)
	{
		cond_t cm;
		core_cond_read(c, &cm);
		for (int k = 0; k < 3; k++) {
			const char *v = cond_str(&cm, slots[k]);
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
typedef struct cond_hdr_key {
	const char *name; /* lower-cased, malloc'd */
	const char *contains, *notcontains, *exact, *notexact, *regex;
	int present, notpresent, ignore_case, tmae;
} cond_hdr_key_t;

static int cond_hdr_key_eq(const cond_hdr_key_t *a, const cond_hdr_key_t *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->contains, b->contains) &&
	       !strcmp(a->notcontains, b->notcontains) && !strcmp(a->exact, b->exact) &&
	       !strcmp(a->notexact, b->notexact) && !strcmp(a->regex, b->regex) &&
	       a->present == b->present && a->notpresent == b->notpresent &&
	       a->ignore_case == b->ignore_case && a->tmae == b->tmae;
}

static int cond_hdr_seen(const cond_hdr_key_t *seen, size_t n, const cond_hdr_key_t *probe)
{
	for (size_t i = 0; i < n; i++) {
		if (cond_hdr_key_eq(&seen[i], probe))
			return 1;
	}
	return 0;
}

static char *cond_lower(const char *s)
{
	char *l = strdup(s);
	if (l) {
		for (char *p = l; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return l;
}

/* headerMatchConditionsValid. Returns 0, -1 with err, or CONTOUR_ENOMEM. */
int contour_conditions_check_headers(const json_t *conds, char *err, size_t errlen)
{
	static const char *const contra_present =
	    "cannot specify contradictory 'present' and 'notpresent' conditions for the same "
	    "route and header";
	static const char *const contra_exact =
	    "cannot specify contradictory 'exact' and 'notexact' conditions for the same route "
	    "and header";
	static const char *const contra_contains =
	    "cannot specify contradictory 'contains' and 'notcontains' conditions for the same "
	    "route and header";
	size_t n = json_array_size(conds), nseen = 0, nexact = 0, i;
	cond_hdr_key_t *seen = NULL;
	char **exact_names = NULL;
	const char *msg = NULL;
	int rc = 0;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		cond_t hm;
		if (!core_cond_read_sub(c, COND_HEADER, &hm))
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
		cond_hdr_key_t k = {
		    .name = cond_lower(cond_str(&hm, COND_NAME)),
		    .contains = cond_str(&hm, COND_CONTAINS),
		    .notcontains = cond_str(&hm, COND_NOTCONTAINS),
		    .exact = cond_str(&hm, COND_EXACT),
		    .notexact = cond_str(&hm, COND_NOTEXACT),
		    .regex = cond_str(&hm, COND_REGEX),
		    .present = cond_bool(&hm, COND_PRESENT),
		    .notpresent = cond_bool(&hm, COND_NOTPRESENT),
		    .ignore_case = cond_bool(&hm, COND_IGNORECASE),
		    .tmae = cond_bool(&hm, COND_TMAE),
		};
		cond_hdr_key_t probe = {.name = k.name,
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
		/* The opposite condition on the same header, and what to say when
		 * an earlier one was it. */
		const char *contra = NULL;
		if (k.present || k.notpresent) {
			probe.present = !k.present;
			probe.notpresent = k.present;
			contra = contra_present;
		} else if (*k.exact) {
			for (size_t j = 0; j < nexact; j++) {
				if (!strcmp(exact_names[j], k.name))
					msg = "cannot specify duplicate header 'exact match' "
					      "conditions in the same route";
			}
			exact_names[nexact++] = (char *)k.name;
			probe.notexact = k.exact;
			contra = contra_exact;
		} else if (*k.notexact) {
			probe.exact = k.notexact;
			contra = contra_exact;
		} else if (*k.contains) {
			probe.notcontains = k.contains;
			contra = contra_contains;
		} else if (*k.notcontains) {
			probe.contains = k.notcontains;
			contra = contra_contains;
		} else if (*k.regex) {
			char rerr[256];
			if (contour_regex_check(k.regex, rerr, sizeof(rerr)) < 0)
				msg = "invalid regular expression specified for 'regex' condition";
		}
		if (!msg && contra && cond_hdr_seen(seen, nseen - 1, &probe))
			msg = contra;
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
int contour_conditions_check_queries(const json_t *conds, char *err, size_t errlen)
{
	size_t n = json_array_size(conds), nexact = 0, i;
	char **exact_names = NULL; /* allocated at the first exact match */
	const char *msg = NULL;
	int rc = 0;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		cond_t q;
		if (!core_cond_read_sub(c, COND_QUERY, &q))
			continue;
		static const int ops[] = {COND_EXACT, COND_PREFIX, COND_SUFFIX, COND_REGEX,
		                          COND_CONTAINS};
		int set = cond_bool(&q, COND_PRESENT);
		for (size_t j = 0; j < sizeof(ops) / sizeof(*ops); j++)
			set += *cond_str(&q, ops[j]) != '\0';
		if (set == 0) {
			msg = "must specify at least one query parameter condition";
			break;
		}
		if (set > 1) {
			msg = "cannot specify more than one condition in the same match condition "
			      "branch";
			break;
		}
		if (*cond_str(&q, COND_EXACT)) {
			if (!exact_names && !(exact_names = calloc(n, sizeof(*exact_names)))) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
			char *name = cond_lower(cond_str(&q, COND_NAME));
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
		const char *regex = cond_str(&q, COND_REGEX);
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
	core_strv_free(exact_names, nexact);
	return rc;
}

int contour_conditions_check_paths(const json_t *conds, unsigned flags, char *err, size_t errlen)
{
	return cond_path_valid(conds, (flags & CONTOUR_CONDITIONS_ONE_PATH) != 0, err, errlen);
}

int contour_conditions_check_include_paths(const json_t *conds, char *err, size_t errlen)
{
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		const char *what = NULL;
		cond_t cm;
		core_cond_read(c, &cm);
		if (*cond_str(&cm, COND_EXACT))
			what = "exact conditions are not allowed in includes block";
		else if (*cond_str(&cm, COND_REGEX))
			what = "regex conditions are not allowed in includes block";
		if (what) {
			snprintf(err, errlen, "%s", what);
			return -1;
		}
	}
	return cond_path_valid(conds, 1, err, errlen);
}

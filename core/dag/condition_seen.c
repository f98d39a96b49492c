/* core/dag/condition_seen.c: upstream's includeMatchConditionsIdentical,
 * the check that no two includes of one HTTPProxy carry the same
 * conditions, as a set of canonical keys. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/conditions.h>
#include <contour/error.h>

#include "core/dag/condition_read.h"
#include "core/util.h"

struct contour_conditions_seen {
	char **keys;
	size_t nkeys;
};

contour_conditions_seen_t *contour_conditions_seen_new(void)
{
	return calloc(1, sizeof(contour_conditions_seen_t));
}

void contour_conditions_seen_free(contour_conditions_seen_t *seen)
{
	if (!seen)
		return;
	core_strv_free(seen->keys, seen->nkeys);
	free(seen);
}

static char *cond_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cond_printf(const char *fmt, ...)
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

static int seen_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "\x1e" + each sorted entry to *buf; entries are freed. */
static int seen_append_sorted(char **buf, size_t *len, char **entries, size_t n)
{
	qsort(entries, n, sizeof(*entries), seen_cmp);
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
int contour_conditions_seen_add(contour_conditions_seen_t *seen, const json_t *conds)
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
	cond_t cm;
	len = 0;
	json_array_foreach(conds, i, c)
	{
		core_cond_read(c, &cm);
		len += strlen(cond_str(&cm, COND_PREFIX));
	}
	if (!(prefix = malloc(len + 2)))
		goto fail;
	char *w = prefix;
	json_array_foreach(conds, i, c)
	{
		core_cond_read(c, &cm);
		if (*cond_str(&cm, COND_EXACT) || *cond_str(&cm, COND_REGEX)) {
			dup = 1; /* upstream: "can never happen", treated as identical */
			goto fail;
		}
		for (const char *p = cond_str(&cm, COND_PREFIX); *p; p++) {
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
		core_cond_read(c, &cm);
		if (core_cond_header_match(cm.m[COND_HEADER], &hm) &&
		    !(hs[nh++] = cond_printf("%d\x1f%d\x1f%d\x1f%d\x1f%s\x1f%s", (int)hm.type,
		                             hm.ignore_case, hm.invert, hm.treat_missing_as_empty,
		                             hm.name, hm.value ? hm.value : "")))
			goto fail;
		if (core_cond_query_match(cm.m[COND_QUERY], &qm) &&
		    !(qs[nq++] = cond_printf("%d\x1f%d\x1f%s\x1f%s", (int)qm.type, qm.ignore_case,
		                             qm.name, qm.value ? qm.value : "")))
			goto fail;
	}
	/* A bare "/" (or nothing) is never a duplicate: upstream keeps this
	 * for trees that rely on it. */
	if (!strcmp(prefix, "/") && nh == 0 && nq == 0)
		goto fail;

	len = strlen(prefix);
	key = prefix;
	prefix = NULL;
	if (seen_append_sorted(&key, &len, hs, nh) < 0)
		goto fail;
	char *grown = realloc(key, len + 2);
	if (!grown)
		goto fail;
	key = grown;
	key[len++] = '\x1d';
	key[len] = '\0';
	if (seen_append_sorted(&key, &len, qs, nq) < 0)
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
	core_strv_free(hs, nh);
	core_strv_free(qs, nq);
	free(prefix);
	free(key);
	return dup;
}

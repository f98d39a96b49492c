/* core/metrics.c: the metrics registry and its Prometheus text rendering.
 *
 * The registry keeps its families in an array sorted by name, so a duplicate
 * check is a binary search and rendering needs no sort. Each family keeps
 * its children in a chained hash table keyed by the label values; a child is
 * allocated once, on first use, and recording into it afterwards allocates
 * nothing.
 *
 * Gauges recomputed after every build are reset and refilled with mostly the
 * same label values, so a reset does not free its children: it ends an epoch,
 * and a child not recorded into since then is stale (invisible to readers and
 * to rendering). Recording into a stale child revives it at zero; a child
 * still stale at the next reset is freed, so a label set that disappears
 * costs memory for one more epoch only.
 *
 * Summaries differ from client_golang on purpose: quantiles are computed at
 * render time, exactly (nearest rank), over the last METRICS_WINDOW
 * observations of each child, instead of over Prometheus' sliding 10-minute
 * window of age buckets. _sum and _count cover every observation since the
 * child was created.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/util.h"

/* Observations a summary child remembers for its quantiles. */
#define METRICS_WINDOW 1024

typedef struct metrics_child metrics_child_t;

struct metrics_child {
	metrics_child_t *next; /* hash chain */
	uint64_t hash;
	char **values; /* one per label name; never NULL entries */
	double value;  /* counter or gauge */
	double sum;    /* histogram, summary */
	uint64_t count;
	uint64_t *buckets; /* histogram: per bucket, not cumulative; +Inf last */
	double *ring;      /* summary: the last METRICS_WINDOW observations */
	size_t ring_pos;   /* next slot to write */
	uint64_t epoch;    /* live when equal to the family's */
};

struct contour_metric {
	core_metrics_t *reg;
	contour_module_t *owner;
	contour_metric_type_t type;
	char *name;
	char *help;
	char **labels;
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	metrics_child_t **table; /* power-of-two sized, NULL until first child */
	size_t table_size;
	size_t nchildren; /* in the table, live or stale */
	size_t nlive;
	uint64_t epoch;
	int warned; /* a wrong operation was logged once */
};

struct core_metrics {
	contour_metric_t **fams; /* sorted by name */
	size_t n, cap;
};

static const double metrics_default_buckets[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
static const double metrics_default_quantiles[] = {.5, .9, .99};

static const char *const metrics_type_names[] = {
    [CONTOUR_METRIC_COUNTER] = "counter",
    [CONTOUR_METRIC_GAUGE] = "gauge",
    [CONTOUR_METRIC_HISTOGRAM] = "histogram",
    [CONTOUR_METRIC_SUMMARY] = "summary",
};

/* ---- children ---- */

/* FNV-1a over the values, with a separator byte so ("ab","c") and ("a","bc")
 * differ. NULL counts as "". */
static uint64_t metrics_hash(const char *const *values, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = values && values[i] ? values[i] : "";
		for (; *s; s++) {
			h ^= (unsigned char)*s;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int metrics_child_matches(const contour_metric_t *m, const metrics_child_t *c, uint64_t h,
                                 const char *const *values)
{
	if (c->hash != h)
		return 0;
	for (size_t i = 0; i < m->nlabels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		if (strcmp(c->values[i], v) != 0)
			return 0;
	}
	return 1;
}

/* The child for values, live or stale. */
static metrics_child_t *metrics_child_find(const contour_metric_t *m, const char *const *values,
                                           uint64_t h)
{
	if (!m->table)
		return NULL;
	for (metrics_child_t *c = m->table[h & (m->table_size - 1)]; c; c = c->next)
		if (metrics_child_matches(m, c, h, values))
			return c;
	return NULL;
}

static int metrics_child_live(const contour_metric_t *m, const metrics_child_t *c)
{
	return c && c->epoch == m->epoch;
}

static void metrics_child_free(const contour_metric_t *m, metrics_child_t *c)
{
	if (!c)
		return;
	core_strv_free(c->values, m->nlabels);
	free(c->buckets);
	free(c->ring);
	free(c);
}

/* Keep chains short: double the table when it is three quarters full. */
static int metrics_table_grow(contour_metric_t *m)
{
	size_t size = m->table_size ? m->table_size * 2 : 16;
	metrics_child_t **t = calloc(size, sizeof(*t));
	if (!t)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < m->table_size; i++) {
		metrics_child_t *c = m->table[i];
		while (c) {
			metrics_child_t *next = c->next;
			c->next = t[c->hash & (size - 1)];
			t[c->hash & (size - 1)] = c;
			c = next;
		}
	}
	free(m->table);
	m->table = t;
	m->table_size = size;
	return CONTOUR_EOK;
}

static metrics_child_t *metrics_child_get(contour_metric_t *m, const char *const *values)
{
	uint64_t h = metrics_hash(values, m->nlabels);
	metrics_child_t *c = metrics_child_find(m, values, h);
	if (c && !metrics_child_live(m, c)) {
		/* Revived after a reset: as if new. */
		c->value = c->sum = 0;
		c->count = 0;
		if (c->buckets)
			memset(c->buckets, 0, (m->nbounds + 1) * sizeof(*c->buckets));
		c->ring_pos = 0;
		c->epoch = m->epoch;
		m->nlive++;
	}
	if (c)
		return c;

	if ((m->nchildren + 1) * 4 > m->table_size * 3 && metrics_table_grow(m) != CONTOUR_EOK)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->hash = h;
	c->epoch = m->epoch;
	c->values = calloc(m->nlabels ? m->nlabels : 1, sizeof(*c->values));
	if (!c->values)
		goto fail;
	for (size_t i = 0; i < m->nlabels; i++) {
		c->values[i] = strdup(values && values[i] ? values[i] : "");
		if (!c->values[i])
			goto fail;
	}
	if (m->type == CONTOUR_METRIC_HISTOGRAM) {
		c->buckets = calloc(m->nbounds + 1, sizeof(*c->buckets));
		if (!c->buckets)
			goto fail;
	} else if (m->type == CONTOUR_METRIC_SUMMARY) {
		c->ring = malloc(METRICS_WINDOW * sizeof(*c->ring));
		if (!c->ring)
			goto fail;
	}
	size_t slot = h & (m->table_size - 1);
	c->next = m->table[slot];
	m->table[slot] = c;
	m->nchildren++;
	m->nlive++;
	return c;
fail:
	metrics_child_free(m, c);
	return NULL;
}

static void metrics_drop_children(contour_metric_t *m)
{
	for (size_t i = 0; i < m->table_size; i++) {
		metrics_child_t *c = m->table[i];
		while (c) {
			metrics_child_t *next = c->next;
			metrics_child_free(m, c);
			c = next;
		}
	}
	free(m->table);
	m->table = NULL;
	m->table_size = 0;
	m->nchildren = 0;
	m->nlive = 0;
}

/* End the epoch: free the children that stayed stale through it, and make
 * the others stale. */
static void metrics_new_epoch(contour_metric_t *m)
{
	for (size_t i = 0; i < m->table_size; i++) {
		metrics_child_t **link = &m->table[i];
		while (*link) {
			metrics_child_t *c = *link;
			if (metrics_child_live(m, c)) {
				link = &c->next;
				continue;
			}
			*link = c->next;
			metrics_child_free(m, c);
			m->nchildren--;
		}
	}
	m->epoch++;
	m->nlive = 0;
}

/* ---- families ---- */

static void metrics_family_free(contour_metric_t *m)
{
	if (!m)
		return;
	metrics_drop_children(m);
	core_strv_free(m->labels, m->nlabels);
	free(m->bounds);
	free(m->name);
	free(m->help);
	free(m);
}

core_metrics_t *core_metrics_new(void)
{
	return calloc(1, sizeof(core_metrics_t));
}

void core_metrics_free(core_metrics_t *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		metrics_family_free(reg->fams[i]);
	free(reg->fams);
	free(reg);
}

void core_metrics_drop_module(core_metrics_t *reg, contour_module_t *mod)
{
	if (!reg)
		return;
	size_t j = 0;
	for (size_t i = 0; i < reg->n; i++) {
		if (reg->fams[i]->owner == mod)
			metrics_family_free(reg->fams[i]);
		else
			reg->fams[j++] = reg->fams[i];
	}
	reg->n = j;
}

/* Index of name in the sorted array, or where it would go (*found = 0). */
static size_t metrics_find_family(const core_metrics_t *reg, const char *name, int *found)
{
	size_t lo = 0, hi = reg->n;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(reg->fams[mid]->name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int metrics_valid_name(const char *s, int colon)
{
	if (!s || !*s)
		return 0;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		         (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

static int metrics_check_labels(const contour_metric_desc_t *desc, size_t *n)
{
	*n = 0;
	if (!desc->labels)
		return CONTOUR_EOK;
	for (size_t i = 0; desc->labels[i]; i++) {
		const char *l = desc->labels[i];
		if (!metrics_valid_name(l, 0) || !strncmp(l, "__", 2))
			return CONTOUR_EINVAL;
		if (desc->type == CONTOUR_METRIC_HISTOGRAM && !strcmp(l, "le"))
			return CONTOUR_EINVAL;
		if (desc->type == CONTOUR_METRIC_SUMMARY && !strcmp(l, "quantile"))
			return CONTOUR_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(desc->labels[j], l))
				return CONTOUR_EINVAL;
		(*n)++;
	}
	return CONTOUR_EOK;
}

static int metrics_check_bounds(const contour_metric_desc_t *desc)
{
	if (desc->type == CONTOUR_METRIC_COUNTER || desc->type == CONTOUR_METRIC_GAUGE)
		return desc->bounds || desc->nbounds ? CONTOUR_EINVAL : CONTOUR_EOK;
	if (!desc->bounds)
		return CONTOUR_EOK;
	if (desc->nbounds == 0)
		return CONTOUR_EINVAL;
	for (size_t i = 0; i < desc->nbounds; i++) {
		double b = desc->bounds[i];
		/* +Inf is implicit for buckets, and NaN has no order. */
		if (!isfinite(b))
			return CONTOUR_EINVAL;
		if (desc->type == CONTOUR_METRIC_SUMMARY && (b < 0 || b > 1))
			return CONTOUR_EINVAL;
		if (i > 0 && !(b > desc->bounds[i - 1]))
			return CONTOUR_EINVAL;
	}
	return CONTOUR_EOK;
}

int contour_register_metric(contour_module_t *mod, const contour_metric_desc_t *desc,
                            contour_metric_t **out)
{
	int rc = core_may_register(mod, "contour_register_metric");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!desc || !out || !mod->core || !mod->core->metrics)
		return CONTOUR_EINVAL;
	*out = NULL;
	if ((unsigned)desc->type > CONTOUR_METRIC_SUMMARY || !metrics_valid_name(desc->name, 1))
		return CONTOUR_EINVAL;
	size_t nlabels;
	if (metrics_check_labels(desc, &nlabels) != CONTOUR_EOK ||
	    metrics_check_bounds(desc) != CONTOUR_EOK)
		return CONTOUR_EINVAL;

	core_metrics_t *reg = mod->core->metrics;
	int found;
	size_t pos = metrics_find_family(reg, desc->name, &found);
	if (found)
		return CONTOUR_EEXIST;

	contour_metric_t *m = calloc(1, sizeof(*m));
	if (!m)
		return CONTOUR_ENOMEM;
	m->reg = reg;
	m->owner = mod;
	m->type = desc->type;
	m->name = strdup(desc->name);
	m->help = strdup(desc->help ? desc->help : "");
	m->labels = calloc(nlabels ? nlabels : 1, sizeof(*m->labels));
	if (!m->name || !m->help || !m->labels)
		goto fail;
	for (; m->nlabels < nlabels; m->nlabels++) {
		m->labels[m->nlabels] = strdup(desc->labels[m->nlabels]);
		if (!m->labels[m->nlabels])
			goto fail;
	}
	if (m->type == CONTOUR_METRIC_HISTOGRAM || m->type == CONTOUR_METRIC_SUMMARY) {
		const double *b = desc->bounds;
		size_t nb = desc->nbounds;
		if (!b && m->type == CONTOUR_METRIC_HISTOGRAM) {
			b = metrics_default_buckets;
			nb = sizeof(metrics_default_buckets) / sizeof(*b);
		} else if (!b) {
			b = metrics_default_quantiles;
			nb = sizeof(metrics_default_quantiles) / sizeof(*b);
		}
		m->bounds = malloc(nb * sizeof(*m->bounds));
		if (!m->bounds)
			goto fail;
		memcpy(m->bounds, b, nb * sizeof(*m->bounds));
		m->nbounds = nb;
	}

	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 16;
		contour_metric_t **f = realloc(reg->fams, cap * sizeof(*f));
		if (!f)
			goto fail;
		reg->fams = f;
		reg->cap = cap;
	}
	memmove(reg->fams + pos + 1, reg->fams + pos, (reg->n - pos) * sizeof(*reg->fams));
	reg->fams[pos] = m;
	reg->n++;
	*out = m;
	return CONTOUR_EOK;
fail:
	metrics_family_free(m);
	return CONTOUR_ENOMEM;
}

/* ---- recording ---- */

/* A wrong operation is a programming error in a module, but not one worth
 * stopping for; say so once per family, at debug, so it can be found. */
static int metrics_type_ok(contour_metric_t *m, int ok, const char *op)
{
	if (ok)
		return 1;
	if (!m->warned) {
		m->warned = 1;
		contour_log(m->owner, CONTOUR_LOG_DEBUG, "metric %s: %s ignored on a %s", m->name,
		            op, metrics_type_names[m->type]);
	}
	return 0;
}

void contour_metric_add(contour_metric_t *m, const char *const *values, double v)
{
	if (!m ||
	    !metrics_type_ok(
	        m, m->type == CONTOUR_METRIC_COUNTER || m->type == CONTOUR_METRIC_GAUGE, "add"))
		return;
	/* Counters only go up; NaN would poison them for good. */
	if (m->type == CONTOUR_METRIC_COUNTER && !(v >= 0))
		return;
	metrics_child_t *c = metrics_child_get(m, values);
	if (c)
		c->value += v;
}

void contour_metric_set(contour_metric_t *m, const char *const *values, double v)
{
	if (!m || !metrics_type_ok(m, m->type == CONTOUR_METRIC_GAUGE, "set"))
		return;
	metrics_child_t *c = metrics_child_get(m, values);
	if (c)
		c->value = v;
}

/* First bucket whose bound is >= v (a value equal to a bound belongs to it);
 * nbounds means +Inf, where NaN also lands, as in client_golang. */
static size_t metrics_bucket_index(const contour_metric_t *m, double v)
{
	size_t lo = 0, hi = m->nbounds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return isnan(v) ? m->nbounds : lo;
}

void contour_metric_observe(contour_metric_t *m, const char *const *values, double v)
{
	if (!m || !metrics_type_ok(
	              m, m->type == CONTOUR_METRIC_HISTOGRAM || m->type == CONTOUR_METRIC_SUMMARY,
	              "observe"))
		return;
	metrics_child_t *c = metrics_child_get(m, values);
	if (!c)
		return;
	if (m->type == CONTOUR_METRIC_HISTOGRAM) {
		c->buckets[metrics_bucket_index(m, v)]++;
	} else {
		c->ring[c->ring_pos] = v;
		c->ring_pos = (c->ring_pos + 1) % METRICS_WINDOW;
	}
	c->sum += v;
	c->count++;
}

void contour_metric_reset(contour_metric_t *m)
{
	if (m)
		metrics_new_epoch(m);
}

double contour_metric_value(const contour_metric_t *m, const char *const *values)
{
	if (!m)
		return 0;
	const metrics_child_t *c = metrics_child_find(m, values, metrics_hash(values, m->nlabels));
	if (!metrics_child_live(m, c))
		return 0;
	if (m->type == CONTOUR_METRIC_HISTOGRAM || m->type == CONTOUR_METRIC_SUMMARY)
		return (double)c->count;
	return c->value;
}

/* ---- rendering ---- */

typedef struct {
	char *p;
	size_t len, cap;
	int failed;
} metrics_buf_t;

static int metrics_buf_reserve(metrics_buf_t *b, size_t more)
{
	if (b->failed)
		return 0;
	if (b->len + more + 1 <= b->cap)
		return 1;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return 0;
	}
	b->p = p;
	b->cap = cap;
	return 1;
}

static void metrics_buf_put(metrics_buf_t *b, const char *s, size_t n)
{
	if (!metrics_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void metrics_buf_str(metrics_buf_t *b, const char *s)
{
	metrics_buf_put(b, s, strlen(s));
}

/* Escape backslash and newline (HELP), and the double quote too (label
 * values). */
static void metrics_buf_escaped(metrics_buf_t *b, const char *s, int quote)
{
	const char *run = s;
	for (; *s; s++) {
		const char *esc = NULL;
		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (quote && *s == '"')
			esc = "\\\"";
		if (!esc)
			continue;
		metrics_buf_put(b, run, (size_t)(s - run));
		metrics_buf_str(b, esc);
		run = s + 1;
	}
	metrics_buf_put(b, run, (size_t)(s - run));
}

/* Integers print as integers (no exponent, no point); anything else in the
 * shortest form that reads back as the same double. */
static void metrics_format_double(char *out, size_t size, double v)
{
	if (isnan(v)) {
		snprintf(out, size, "NaN");
	} else if (isinf(v)) {
		snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
	} else if (v == 0) {
		snprintf(out, size, "0"); /* and not "-0" */
	} else if (v == floor(v) && fabs(v) < 1e17) {
		snprintf(out, size, "%.0f", v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(out, size, "%.*g", prec, v);
			if (strtod(out, NULL) == v)
				break;
		}
	}
}

static void metrics_buf_double(metrics_buf_t *b, double v)
{
	char num[64];
	metrics_format_double(num, sizeof(num), v);
	metrics_buf_str(b, num);
}

/* One sample line: name+suffix{labels[,extra="xval"]} value */
static void metrics_put_sample(metrics_buf_t *b, const contour_metric_t *m,
                               const metrics_child_t *c, const char *suffix, const char *extra,
                               const char *xval, double v)
{
	metrics_buf_str(b, m->name);
	metrics_buf_str(b, suffix);
	if (m->nlabels || extra) {
		metrics_buf_str(b, "{");
		for (size_t i = 0; i < m->nlabels; i++) {
			if (i)
				metrics_buf_str(b, ",");
			metrics_buf_str(b, m->labels[i]);
			metrics_buf_str(b, "=\"");
			metrics_buf_escaped(b, c ? c->values[i] : "", 1);
			metrics_buf_str(b, "\"");
		}
		if (extra) {
			if (m->nlabels)
				metrics_buf_str(b, ",");
			metrics_buf_str(b, extra);
			metrics_buf_str(b, "=\"");
			metrics_buf_str(b, xval);
			metrics_buf_str(b, "\"");
		}
		metrics_buf_str(b, "}");
	}
	metrics_buf_str(b, " ");
	metrics_buf_double(b, v);
	metrics_buf_str(b, "\n");
}

static int metrics_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	/* NaN sorts last, so the order stays total. */
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

/* Nearest rank: the smallest observation with at least q*n observations at
 * or below it; q = 0 gives the minimum. */
static double metrics_quantile(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return NAN;
	double r = ceil(q * (double)n);
	size_t i = r < 1 ? 0 : (size_t)r - 1;
	return sorted[i < n ? i : n - 1];
}

/* c may be NULL: an unlabelled family that has no child yet renders zeros,
 * as client_golang does. scratch holds METRICS_WINDOW doubles. */
static void metrics_put_child(metrics_buf_t *b, const contour_metric_t *m, const metrics_child_t *c,
                              double *scratch)
{
	char num[64];
	switch (m->type) {
	case CONTOUR_METRIC_COUNTER:
	case CONTOUR_METRIC_GAUGE:
		metrics_put_sample(b, m, c, "", NULL, NULL, c ? c->value : 0);
		return;
	case CONTOUR_METRIC_HISTOGRAM: {
		uint64_t cum = 0;
		for (size_t i = 0; i < m->nbounds; i++) {
			cum += c ? c->buckets[i] : 0;
			metrics_format_double(num, sizeof(num), m->bounds[i]);
			metrics_put_sample(b, m, c, "_bucket", "le", num, (double)cum);
		}
		metrics_put_sample(b, m, c, "_bucket", "le", "+Inf", c ? (double)c->count : 0);
		break;
	}
	case CONTOUR_METRIC_SUMMARY: {
		size_t n = 0;
		if (c) {
			n = c->count < METRICS_WINDOW ? (size_t)c->count : METRICS_WINDOW;
			memcpy(scratch, c->ring, n * sizeof(*scratch));
			qsort(scratch, n, sizeof(*scratch), metrics_cmp_double);
		}
		for (size_t i = 0; i < m->nbounds; i++) {
			metrics_format_double(num, sizeof(num), m->bounds[i]);
			metrics_put_sample(b, m, c, "", "quantile", num,
			                   metrics_quantile(scratch, n, m->bounds[i]));
		}
		break;
	}
	}
	metrics_put_sample(b, m, c, "_sum", NULL, NULL, c ? c->sum : 0);
	metrics_put_sample(b, m, c, "_count", NULL, NULL, c ? (double)c->count : 0);
}

/* qsort has no context argument; the label count travels in a static, which
 * is fine since rendering runs on the loop thread only. */
static size_t metrics_sort_nlabels;

static int metrics_cmp_child(const void *a, const void *b)
{
	const metrics_child_t *x = *(metrics_child_t *const *)a;
	const metrics_child_t *y = *(metrics_child_t *const *)b;
	for (size_t i = 0; i < metrics_sort_nlabels; i++) {
		int c = strcmp(x->values[i], y->values[i]);
		if (c)
			return c;
	}
	return 0;
}

static int metrics_put_family(metrics_buf_t *b, const contour_metric_t *m, double *scratch)
{
	metrics_buf_str(b, "# HELP ");
	metrics_buf_str(b, m->name);
	metrics_buf_str(b, " ");
	metrics_buf_escaped(b, m->help, 0);
	metrics_buf_str(b, "\n# TYPE ");
	metrics_buf_str(b, m->name);
	metrics_buf_str(b, " ");
	metrics_buf_str(b, metrics_type_names[m->type]);
	metrics_buf_str(b, "\n");

	if (m->nlive == 0) {
		if (m->nlabels == 0)
			metrics_put_child(b, m, NULL, scratch);
		return CONTOUR_EOK;
	}
	metrics_child_t **kids = malloc(m->nlive * sizeof(*kids));
	if (!kids)
		return CONTOUR_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < m->table_size; i++)
		for (metrics_child_t *c = m->table[i]; c; c = c->next)
			if (metrics_child_live(m, c))
				kids[n++] = c;
	metrics_sort_nlabels = m->nlabels;
	qsort(kids, n, sizeof(*kids), metrics_cmp_child);
	for (size_t i = 0; i < n; i++)
		metrics_put_child(b, m, kids[i], scratch);
	free(kids);
	return CONTOUR_EOK;
}

char *contour_metrics_render(contour_module_t *mod, size_t *len)
{
	if (len)
		*len = 0;
	if (!mod || !mod->core || !mod->core->metrics)
		return NULL;
	const core_metrics_t *reg = mod->core->metrics;
	metrics_buf_t b = {0};
	double *scratch = malloc(METRICS_WINDOW * sizeof(*scratch));
	if (!scratch || !metrics_buf_reserve(&b, 0))
		goto fail;
	b.p[0] = '\0';
	for (size_t i = 0; i < reg->n; i++)
		if (metrics_put_family(&b, reg->fams[i], scratch) != CONTOUR_EOK)
			goto fail;
	if (b.failed)
		goto fail;
	free(scratch);
	if (len)
		*len = b.len;
	return b.p;
fail:
	free(scratch);
	free(b.p);
	return NULL;
}

/* modules/shutdown-manager/sm_count.c: open connections from Envoy's
 * /stats/prometheus output.
 *
 * Upstream sums envoy_http_downstream_cx_active (one series per HTTP
 * connection manager, label envoy_http_conn_manager_prefix), which misses
 * TCP proxy and TLS passthrough connections. The listener
 * gauge envoy_listener_downstream_cx_active (label envoy_listener_address)
 * counts every connection a listener accepted, whatever its filter chain.
 * Either way series whose label value names the admin or stats listeners
 * are left out. Envoy also emits per-worker gauges
 * (envoy_listener_worker_downstream_cx_active) and the admin's own
 * (envoy_listener_admin_downstream_cx_active); their names differ, so they
 * are never added twice. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "modules/shutdown-manager/sm.h"
#include "modules/shutdown-manager/sm_prom.h"

typedef struct sm_count_acc {
	const char *metric;
	const char *exclude;
	double sum;
	size_t series;
	int bad; /* a value that is not a count */
	char badmsg[128];
} sm_count_acc_t;

/* value is one of the comma-separated items of list. */
static int sm_count_listed(const char *list, const char *value)
{
	size_t vl = strlen(value);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n == vl && !strncmp(p, value, n))
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

static int sm_count_sample(const sm_prom_sample_t *s, void *ud)
{
	sm_count_acc_t *acc = ud;
	if (strcmp(s->name, acc->metric))
		return 0;
	for (size_t i = 0; i < s->nlabels; i++)
		if (sm_count_listed(acc->exclude, s->label_values[i]))
			return 0;
	/* A gauge of connections is a finite count >= 0; anything else means
	 * we cannot tell whether the drain is over, so we do not guess. */
	if (!isfinite(s->value) || s->value < 0) {
		snprintf(acc->badmsg, sizeof(acc->badmsg), "%s has value %g, not a count", s->name,
		         s->value);
		acc->bad = 1;
		return 1;
	}
	acc->sum += s->value;
	acc->series++;
	return 0;
}

const char *sm_count_filter(sm_count_mode_t mode)
{
	/* The regex runs on Envoy's stat names before the Prometheus
	 * conversion (http.<prefix>.downstream_cx_active). */
	return mode == SM_COUNT_HTTP ? "^http\\..*\\.downstream_cx_active$"
	                             : "^listener\\..*\\.downstream_cx_active$";
}

int sm_count_open(const char *body, size_t len, sm_count_mode_t mode, const char *exclude,
                  double *sum, size_t *series, char *err, size_t errlen)
{
	sm_count_acc_t acc = {
	    .metric = mode == SM_COUNT_HTTP ? "envoy_http_downstream_cx_active"
	                                    : "envoy_listener_downstream_cx_active",
	    .exclude = exclude,
	};
	int rc = sm_prom_parse(body, len, sm_count_sample, &acc, err, errlen);
	if (acc.bad) {
		snprintf(err, errlen, "%s", acc.badmsg);
		return -1;
	}
	if (rc == SM_PROM_ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc != 0)
		return -1;
	*sum = acc.sum;
	*series = acc.series;
	return 0;
}

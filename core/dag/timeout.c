/* core/dag/timeout.c: upstream's timeout settings (internal/timeout): the
 * words for "Envoy's default" and "disabled" on top of Go durations, shared
 * by the HTTPProxy timeout policy and the Ingress timeout annotations. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/duration.h>
#include <contour/quote.h>

int contour_timeout_parse(const char *s, int64_t *ms, char *err, size_t errlen)
{
	int64_t ns;
	if (!s || !*s) {
		*ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
		return 0;
	}
	if (!strcmp(s, "infinity") || !strcmp(s, "infinite")) {
		*ms = CONTOUR_DAG_TIMEOUT_INFINITE;
		return 0;
	}
	if (contour_duration_parse_ns(s, &ns, err, errlen) < 0)
		return -1;
	/* Go takes "-5s"; the CRD pattern does not, and the DAG's negative
	 * values are sentinels, so it is refused here. */
	if (ns < 0) {
		char q[256];
		snprintf(err, errlen, "time: invalid duration %s",
		         contour_quote(q, sizeof(q), s, CONTOUR_QUOTE_TIME));
		return -1;
	}
	*ms = contour_duration_ns_to_ms(ns);
	return 0;
}

int contour_timeout_setting(const char *s, int64_t *ms, char *err, size_t errlen)
{
	char perr[512], q[256];
	if (contour_timeout_parse(s, ms, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "unable to parse timeout string %s: %s",
		         contour_quote(q, sizeof(q), s, CONTOUR_QUOTE_STRCONV), perr);
		return -1;
	}
	if (*ms == 0)
		*ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	return 0;
}

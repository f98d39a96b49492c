/* modules/shutdown-manager/sm_prom.h: a parser of the Prometheus text
 * exposition format (version 0.0.4), as Envoy's /stats/prometheus writes it.
 *
 * No dependency on the core, so the unit suite and the fuzz target compile
 * it alone. */
#ifndef SM_PROM_H
#define SM_PROM_H

#include <stddef.h>
#include <stdint.h>

/* More labels on one sample than this is refused as malformed: Envoy's
 * widest stats carry fewer than ten, and the bound keeps the per-line
 * arrays fixed-size. */
#define SM_PROM_MAX_LABELS 64

typedef struct sm_prom_sample {
	const char *name; /* NUL-terminated; valid only during the callback */
	/* The family's TYPE ("counter", "gauge", "histogram", "summary",
	 * "untyped"); "untyped" when no TYPE line names it. */
	const char *type;
	size_t nlabels;
	const char *label_names[SM_PROM_MAX_LABELS];
	const char *label_values[SM_PROM_MAX_LABELS]; /* unescaped */
	double value; /* NaN and +-Inf as the text says */
	int has_timestamp;
	int64_t timestamp_ms;
} sm_prom_sample_t;

/* Called once per sample line, in input order. Non-zero stops the parse,
 * which then returns that value. */
typedef int (*sm_prom_sample_fn)(const sm_prom_sample_t *s, void *ud);

#define SM_PROM_EPARSE (-1)
#define SM_PROM_ENOMEM (-2)

/* sm_prom_parse: parse len bytes of text (not NUL-terminated; NUL bytes are
 * malformed). Returns 0, SM_PROM_EPARSE with "line N: why" in err,
 * SM_PROM_ENOMEM, or the first non-zero value fn returned. fn may be NULL
 * (validate only). */
int sm_prom_parse(const char *text, size_t len, sm_prom_sample_fn fn, void *ud, char *err,
                  size_t errlen);

#endif

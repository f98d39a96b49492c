/* fuzz/fuzz_sm_prom.c: libFuzzer target for the shutdown-manager's parser
 * of Envoy's /stats/prometheus output (Prometheus text format) and the
 * connection count over it.
 *
 * Every sample the parser reports is checked: names are valid Prometheus
 * names, label counts within the bound, strings readable to their NUL. A
 * successful count is finite and >= 0. Parsing the same bytes twice gives
 * the same result (no hidden state). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compiled in rather than linked: `make fuzz` builds each target from its
 * one file plus the core sources. */
#include "modules/shutdown-manager/sm_prom.c"
#include "modules/shutdown-manager/sm_count.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
	size_t samples;
	uint64_t hash;
} fz_t;

static int fz_valid_name(const char *s, int metric)
{
	if (!sm_prom_name_start(*s, metric))
		return 0;
	for (s++; *s; s++)
		if (!sm_prom_name_char(*s, metric))
			return 0;
	return 1;
}

static int fz_sample(const sm_prom_sample_t *s, void *ud)
{
	fz_t *f = ud;
	if (!fz_valid_name(s->name, 1) || s->nlabels > SM_PROM_MAX_LABELS || !s->type)
		abort();
	for (size_t i = 0; i < s->nlabels; i++) {
		if (!fz_valid_name(s->label_names[i], 0))
			abort();
		f->hash = f->hash * 31 + strlen(s->label_values[i]);
	}
	f->hash = f->hash * 31 + strlen(s->name) + (uint64_t)s->has_timestamp;
	f->samples++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	fz_t a = {0}, b = {0};
	int ra = sm_prom_parse((const char *)data, size, fz_sample, &a, err, sizeof(err));
	int rb = sm_prom_parse((const char *)data, size, fz_sample, &b, err, sizeof(err));
	if (ra != rb || a.samples != b.samples || a.hash != b.hash)
		abort();
	if (ra != 0 && ra != SM_PROM_EPARSE && ra != SM_PROM_ENOMEM)
		abort();
	if (ra == SM_PROM_EPARSE && strncmp(err, "line ", 5) != 0)
		abort();
	for (int mode = 0; mode < 2; mode++) {
		double sum = 0;
		size_t series = 0;
		if (sm_count_open((const char *)data, size, mode ? SM_COUNT_HTTP : SM_COUNT_LISTENER,
		                  "admin,stats", &sum, &series, err, sizeof(err)) == 0 &&
		    (!isfinite(sum) || sum < 0 || series > a.samples))
			abort();
	}
	return 0;
}

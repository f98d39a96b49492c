/* fuzz/fuzz_kw_secretscan.c: libFuzzer target for k8s-watch's raw-text
 * Secret pre-filter (kw_secretscan).
 *
 * The first byte picks what the text is (list page, watch event, bare
 * Secret) and, for the non-events, whether it is parsed with
 * JSON_REJECT_DUPLICATES; the rest is the text. Whenever the filter cuts
 * something, parsing the cut text then kw_secret_filter must give exactly
 * what parsing the original then kw_secret_filter gives (both refused, or
 * equal values), and the cut text must be shorter: abort() otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
/* Compiled in rather than linked: `make fuzz` builds each target from its
 * one file plus the core sources. */
#include "modules/k8s-watch/kw_watchparse.c"
#include "modules/k8s-watch/kw_secretscan.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the reflector keeps from the text, after the filter; NULL when
 * jansson (or kw_event_parse) refuses it. */
static json_t *fz_kept(const char *p, size_t n, kw_secretscan_what_t what, size_t flags)
{
	json_t *root, *items, *it;
	size_t i;
	if (what == KW_SECRETSCAN_EVENT) {
		kw_event_t ev;
		char err[256];
		if (kw_event_parse(p, n, &ev, err, sizeof(err)) != CONTOUR_EOK)
			return NULL;
		kw_secret_filter(ev.object);
		root =
		    json_pack("{s:i,s:O,s:s?,s:i,s:s}", "type", (int)ev.type, "object", ev.object,
		              "rv", ev.resource_version, "code", ev.code, "message", ev.message);
		kw_event_fini(&ev);
		if (!root)
			abort();
		return root;
	}
	root = json_loadb(p, n, flags, NULL);
	if (what == KW_SECRETSCAN_OBJECT) {
		kw_secret_filter(root);
		return root;
	}
	items = json_object_get(root, "items");
	json_array_foreach(items, i, it) kw_secret_filter(it);
	return root;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	kw_secretscan_what_t what = (kw_secretscan_what_t)(data[0] % 3);
	/* kw_event_parse always rejects duplicates. */
	size_t flags = (what == KW_SECRETSCAN_EVENT || (data[0] & 4)) ? JSON_REJECT_DUPLICATES : 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	char *out = NULL;
	size_t len = 0;
	int rc = kw_secretscan(p, n, what, flags, &out, &len);
	if (rc < 0)
		return 0; /* out of memory */
	if (rc == 0) {
		if (out || len)
			abort();
		return 0;
	}
	if (!out || len >= n || strlen(out) != len)
		abort();
	json_t *a = fz_kept(p, n, what, flags);
	json_t *b = fz_kept(out, len, what, flags);
	if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
		abort();
	json_decref(a);
	json_decref(b);
	free(out);
	return 0;
}

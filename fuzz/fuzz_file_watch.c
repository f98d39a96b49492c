/* fuzz/fuzz_file_watch.c: libFuzzer target for file-watch's manifest reader
 * (a file's bytes -> Kubernetes objects).
 *
 * Checks what the store relies on: every object that comes out has a valid
 * identity the store accepts, sits under the key computed from it, lives in
 * a namespace unless cluster-scoped, and (for a Secret) carries no
 * stringData; the result serialises.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
/* Compiled in rather than linked: `make fuzz` builds each target from its
 * one file plus the core sources. */
#include "modules/file-watch/fw_manifest.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fw_check(const char *key, const json_t *obj)
{
	contour_object_key_t k;
	const char *what = NULL;
	char buf[FW_KEY_MAX];
	if (contour_object_key_of(obj, &k, &what) != CONTOUR_EOK)
		abort();
	if (!fw_object_key_str(obj, buf, sizeof(buf)) || strcmp(buf, key) != 0)
		abort();
	if (fw_cluster_scoped(k.kind) != (k.namespace_[0] == '\0'))
		abort();
	if (!strcmp(k.kind, "Secret") && !strcmp(k.api_version, "v1") &&
	    json_object_get(obj, "stringData"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Warnings for every odd input would drown the fuzzer's output. */
	core_log_configure(CORE_LOG_TEXT, (contour_log_level_t)0);
	json_t *out = NULL;
	int rc = fw_manifest_parse_buf(NULL, "fuzz.yaml", (const char *)data, size, &out);
	if ((rc == CONTOUR_EOK) != (out != NULL))
		abort();
	const char *key;
	json_t *obj;
	json_object_foreach(out, key, obj)
	{
		fuzz_fw_check(key, obj);
	}
	char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (out && !text)
		abort();
	free(text);
	json_decref(out);
	return 0;
}

/* fuzz/fuzz_conf.c: libFuzzer target for the config file loader: YAML, the
 * top-level and global-key validation (defaults, durations, lists) and the
 * module entries. A config is outside input: operators write it by hand and
 * a ConfigMap can carry anything. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_ERR);
		quiet = 1;
	}
	json_t *errors = json_array();
	core_conf_t *conf = NULL;
	int rc = core_conf_load_buf((const char *)data, size, "fuzz.yaml", &conf, errors);
	/* Success and failure are exclusive, and a failure always says why. */
	if (rc == CONTOUR_EOK) {
		if (!conf || !json_is_object(conf->global) || json_array_size(errors))
			abort();
		if (!json_is_array(json_object_get(conf->root, "modules")))
			abort();
	} else if (conf || json_array_size(errors) == 0) {
		abort();
	}
	size_t i;
	json_t *e;
	json_array_foreach(errors, i, e)
	{
		if (!json_is_string(e))
			abort();
	}
	core_conf_free(conf);
	json_decref(errors);
	return 0;
}

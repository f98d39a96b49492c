/* fuzz/fuzz_conf.c: libFuzzer target for the config file loader: YAML, the
 * top-level checks and the module entries, then the global keys against the
 * domain layer's and the modules' tables as the loader checks them (defaults,
 * durations, lists). A config is outside input: operators write it by hand and
 * a ConfigMap can carry anything. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The modules' global key tables: plain data, #included so that `make fuzz`
 * (which compiles each target with the core only) has them too. */
#include "modules/httpproxy/hp_globals.c"
#include "modules/ingress/ing_globals.c"
#include "modules/k8s-watch/kw_globals.c"
#include "modules/xds-grpc/xds_globals.c"
static const core_conf_table_t fuzz_tables[] = {
    {"core", core_domain_global_schema}, {"httpproxy", hp_global_schema},
    {"ingress", ing_global_schema},      {"k8s-watch", kw_global_schema},
    {"xds-grpc", xds_global_schema},
};

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
		rc = core_conf_check_globals(conf, fuzz_tables,
		                             sizeof(fuzz_tables) / sizeof(*fuzz_tables), errors);
		if ((rc == CONTOUR_EOK) != (json_array_size(errors) == 0) ||
		    !json_is_object(conf->global))
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

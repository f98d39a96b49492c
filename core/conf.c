/* core/conf.c: stub */
#include "config.h"
#include <stdlib.h>
#include "core/core.h"
int core_conf_load_file(const char *path, core_conf_t **out, json_t *errors) { return CONTOUR_ECONFIG; }
int core_conf_load_buf(const char *buf, size_t len, const char *name, core_conf_t **out, json_t *errors) { return CONTOUR_ECONFIG; }
void core_conf_free(core_conf_t *conf) {}

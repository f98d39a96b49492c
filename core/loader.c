#include "config.h"
#include "core/core.h"
void core_modules_stop_free(core_t *core) {}

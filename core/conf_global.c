#include "config.h"
#include "core/core.h"
const contour_conf_item_t core_global_schema[] = {{0}};

/* modules/httpproxy/hp_proxy.c: stub until implemented. */
#include "config.h"
#include "modules/httpproxy/hp.h"
int hp_process(contour_snapshot_t *building, void *ud) { return CONTOUR_EOK; }

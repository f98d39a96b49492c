/* modules/httpproxy/hp_policy.c: stub until implemented. */
#include "config.h"
#include "modules/httpproxy/hp.h"

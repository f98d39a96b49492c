/* modules/tls-delegation/tls-delegation.c: stub until implemented. */
#include "config.h"
#include <contour/module.h>
CONTOUR_MODULE(.name = "tls-delegation", .version = PACKAGE_VERSION, .flags = CONTOUR_MODULE_F_PROCESSOR);

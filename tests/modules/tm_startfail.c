#include <contour/module.h>
CONTOUR_MODULE(.name = "tm_startfail", .version = "0");

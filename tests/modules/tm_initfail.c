#include <contour/module.h>
CONTOUR_MODULE(.name = "tm_initfail", .version = "0");

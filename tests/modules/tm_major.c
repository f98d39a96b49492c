#include <contour/module.h>
CONTOUR_MODULE(.name = "tm_major", .version = "0");

#include <contour/module.h>
CONTOUR_MODULE(.name = "tm_minor", .version = "0");

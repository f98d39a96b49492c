#include <contour/module.h>
CONTOUR_MODULE(.name = "tm_good", .version = "0");

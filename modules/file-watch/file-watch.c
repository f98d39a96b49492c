#include <contour/module.h>
CONTOUR_MODULE(.name = "file-watch", .version = "0");

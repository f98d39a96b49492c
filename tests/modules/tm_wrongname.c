#include <contour/module.h>
CONTOUR_MODULE(.name = "tm_wrongname", .version = "0");

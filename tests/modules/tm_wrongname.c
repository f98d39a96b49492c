/* tests/modules/tm_wrongname.c: the file is tm_wrongname.so but the
 * descriptor says otherwise. */
#include <contour/module.h>

CONTOUR_MODULE(.name = "something-else", .version = "0");

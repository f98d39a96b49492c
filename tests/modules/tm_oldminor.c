/* tests/modules/tm_oldminor.c: built for ABI 1.0, an older minor than the
 * core's: must load, since minors only add. */
#include <contour/module.h>

CONTOUR_EXPORT extern const contour_module_desc_t contour_module;
const contour_module_desc_t contour_module = {
    .abi_major = CONTOUR_ABI_MAJOR,
    .abi_minor = 0,
    .size = sizeof(contour_module_desc_t),
    .name = "tm_oldminor",
    .version = "0",
};

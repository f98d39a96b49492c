/* tests/modules/tm_major.c: built for another ABI major. */
#include <contour/module.h>

CONTOUR_EXPORT extern const contour_module_desc_t contour_module;
const contour_module_desc_t contour_module = {
    .abi_major = CONTOUR_ABI_MAJOR + 1,
    .abi_minor = 0,
    .size = sizeof(contour_module_desc_t),
    .name = "tm_major",
    .version = "0",
};

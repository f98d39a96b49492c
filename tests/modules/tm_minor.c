/* tests/modules/tm_minor.c: claims an ABI minor newer than the core's. */
#include <contour/module.h>

CONTOUR_EXPORT extern const contour_module_desc_t contour_module;
const contour_module_desc_t contour_module = {
    .abi_major = CONTOUR_ABI_MAJOR,
    .abi_minor = CONTOUR_ABI_MINOR + 1,
    .size = sizeof(contour_module_desc_t),
    .name = "tm_minor",
    .version = "0",
};

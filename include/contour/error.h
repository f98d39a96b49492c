/* contour/error.h: return codes shared by the core and every module.
 *
 * Functions in the public API return int: CONTOUR_EOK (0) on success, a
 * negative CONTOUR_E* code or a negative errno value on failure. The two
 * ranges do not overlap: CONTOUR_E* codes start at -1000.
 */
#ifndef CONTOUR_ERROR_H
#define CONTOUR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
	CONTOUR_EOK = 0,
	CONTOUR_EINVAL = -1000,  /* bad argument or bad input */
	CONTOUR_ESTATE = -1001,  /* call not allowed in the current lifecycle state */
	CONTOUR_EEXIST = -1002,  /* name already registered */
	CONTOUR_ENOENT = -1003,  /* no such object, key or module */
	CONTOUR_EABI = -1004,    /* module built for an incompatible ABI */
	CONTOUR_EPARSE = -1005,  /* syntax error in YAML or JSON input */
	CONTOUR_ECONFIG = -1006, /* configuration failed validation */
	CONTOUR_ENOMEM = -1007,  /* allocation failed */
	CONTOUR_EIO = -1008,     /* read or write failed */
	CONTOUR_EMODULE = -1009, /* a module hook reported failure */
};

/* contour_strerror: a static, human-readable string for any return code of
 * the public API, including negative errno values. Never returns NULL. */
const char *contour_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif

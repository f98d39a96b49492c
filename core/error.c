/* core/error.c: messages for the public return codes. */
#include "config.h"

#include <string.h>

#include "core/core.h"

const char *contour_strerror(int code)
{
	switch (code) {
	case CONTOUR_EOK:
		return "success";
	case CONTOUR_EINVAL:
		return "invalid argument";
	case CONTOUR_ESTATE:
		return "not allowed in this lifecycle state";
	case CONTOUR_EEXIST:
		return "already registered";
	case CONTOUR_ENOENT:
		return "not found";
	case CONTOUR_EABI:
		return "incompatible module ABI";
	case CONTOUR_EPARSE:
		return "parse error";
	case CONTOUR_ECONFIG:
		return "invalid configuration";
	case CONTOUR_ENOMEM:
		return "out of memory";
	case CONTOUR_EIO:
		return "input/output error";
	case CONTOUR_EMODULE:
		return "module failed";
	default:
		if (code < 0 && code > -1000)
			return strerror(-code);
		return "unknown error";
	}
}

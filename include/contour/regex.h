/* contour/regex.h: the check every processor applies to a user's regular
 * expression before it reaches Envoy (domain layer, ABI 1.4).
 */
#ifndef CONTOUR_REGEX_H
#define CONTOUR_REGEX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* contour_regex_check: whether re parses as Go's regexp (RE2 syntax), the
 * check upstream applies. Returns 0, or -1 with Go's error text in err
 * (e.g. "error parsing regexp: missing closing ): `/foo(`"), truncated to
 * errlen. Pure: no allocation, no state. */
int contour_regex_check(const char *re, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif

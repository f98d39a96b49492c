/* contour/duration.h: Go durations and upstream's timeout settings, as
 * config files, flags, HTTPProxy and Ingress objects spell them (domain
 * layer; contour_duration_parse is ABI 1.0, the rest ABI 1.4).
 *
 * One parser is behind all of them; it follows Go's time.ParseDuration:
 * a sequence of decimal numbers, each with an optional fraction and a
 * unit (ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h), an optional sign,
 * "0" alone without a unit, at most 2^63-1 ns.
 */
#ifndef CONTOUR_DURATION_H
#define CONTOUR_DURATION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* contour_duration_parse: text in milliseconds, rounded to the nearest
 * (half away from zero): "1h2m3.5s", "250ms", "-1s", "0". Returns
 * CONTOUR_EOK or CONTOUR_EINVAL. */
int contour_duration_parse(const char *text, int64_t *ms);

/* contour_duration_parse_ns: text (NULL reads as "") in nanoseconds, as
 * Go's time.ParseDuration. Returns 0, or -1 with Go's error text in err
 * ("time: missing unit in duration \"600\"", "time: unknown unit \"x\" in
 * duration \"10x\"", "time: invalid duration \"forever\""). */
int contour_duration_parse_ns(const char *text, int64_t *ns, char *err, size_t errlen);

/* contour_duration_format: ms as Go's time.Duration.String() spells whole
 * milliseconds ("0s", "250ms", "2s", "1.5s", "4m40s", "1h0m0s"): what
 * upstream prints for a default or a setting. ABI 1.6. */
void contour_duration_format(int64_t ms, char *buf, size_t len);

/* contour_duration_ns_to_ms: nanoseconds to the DAG's milliseconds,
 * rounding a positive remainder up so a set sub-millisecond duration stays
 * set (not 0). */
int64_t contour_duration_ns_to_ms(int64_t ns);

/* contour_timeout_parse: a timeout field of an HTTPProxy or Ingress in
 * milliseconds: NULL or "" -> CONTOUR_DAG_TIMEOUT_DEFAULT, "infinity" or
 * "infinite" -> CONTOUR_DAG_TIMEOUT_INFINITE, otherwise a non-negative Go
 * duration ("0s" -> 0). Returns 0, or -1 with Go's error text in err (a
 * negative duration is "time: invalid duration ..."). */
int contour_timeout_parse(const char *text, int64_t *ms, char *err, size_t errlen);

/* contour_timeout_setting: upstream's timeout.Parse: as
 * contour_timeout_parse, but a zero duration means the default
 * (CONTOUR_DAG_TIMEOUT_DEFAULT), and the error is upstream's wrapped one:
 * "unable to parse timeout string \"600\": time: missing unit in duration
 * \"600\"". */
int contour_timeout_setting(const char *text, int64_t *ms, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif

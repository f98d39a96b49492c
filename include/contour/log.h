/* contour/log.h: levelled logging with the module name on every line.
 *
 * The output format (logfmt-style `text`, or `json` lines) and the minimum
 * level are chosen by the operator (`--log-format`, `--debug`); modules only
 * pick a level. Never pass secret material (private keys, tokens) to these
 * functions: log lines are shipped to places secrets must not go.
 */
#ifndef CONTOUR_LOG_H
#define CONTOUR_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;

/* Levels follow syslog(3) numbering. */
typedef enum {
	CONTOUR_LOG_ERR = 3,
	CONTOUR_LOG_WARN = 4,
	CONTOUR_LOG_INFO = 6,
	CONTOUR_LOG_DEBUG = 7,
} contour_log_level_t;

/* contour_log: write one line at `level`, tagged with the module's name
 * (`core` when mod is NULL). Lines below the configured level cost one
 * comparison. Safe to call from any lifecycle hook. */
void contour_log(contour_module_t *mod, contour_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void contour_logv(contour_module_t *mod, contour_log_level_t level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* contour_log_enabled: true when a line at `level` would be written; use it
 * to skip building expensive debug output. */
int contour_log_enabled(contour_log_level_t level);

#ifdef __cplusplus
}
#endif
#endif

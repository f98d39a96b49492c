/* core/log.c: one line per message, logfmt-style text or JSON, in the shape
 * upstream's logrus writes (time, level, msg, then fields), so operators'
 * log pipelines keep working. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

static core_log_format_t log_format = CORE_LOG_TEXT;
static contour_log_level_t log_min = CONTOUR_LOG_INFO;
static FILE *log_stream;

int core_log_format_parse(const char *s, core_log_format_t *out)
{
	if (!strcmp(s, "text"))
		*out = CORE_LOG_TEXT;
	else if (!strcmp(s, "json"))
		*out = CORE_LOG_JSON;
	else
		return CONTOUR_EINVAL;
	return CONTOUR_EOK;
}

void core_log_configure(core_log_format_t fmt, contour_log_level_t min_level)
{
	log_format = fmt;
	log_min = min_level;
}

void core_log_set_stream(FILE *f)
{
	log_stream = f;
}

int contour_log_enabled(contour_log_level_t level)
{
	return level <= log_min;
}

/* Syslog numbers: the levels without a name of their own print as debug. */
static const char *level_name(contour_log_level_t level)
{
	static const char *const names[] = {
	    [CONTOUR_LOG_ERR] = "error",
	    [CONTOUR_LOG_WARN] = "warning",
	    [CONTOUR_LOG_INFO] = "info",
	};
	const char *n = (unsigned)level < sizeof(names) / sizeof(*names) ? names[level] : NULL;
	return n ? n : "debug";
}

/* Quote for logfmt: always quoted, with \" \\ and control characters escaped,
 * so one message is always one line. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void contour_logv(contour_module_t *mod, contour_log_level_t level, const char *fmt, va_list ap)
{
	if (level > log_min)
		return;
	FILE *f = log_stream ? log_stream : stderr;
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);

	char ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *name = contour_module_name(mod);

	if (log_format == CORE_LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "level", level_name(level), "module",
		                      name, "msg", msg, "time", ts);
		char *line =
		    o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
		if (line)
			fprintf(f, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=", ts, level_name(level));
		put_quoted(f, msg);
		fprintf(f, " module=%s\n", name);
	}
	fflush(f);
}

void contour_log(contour_module_t *mod, contour_log_level_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	contour_logv(mod, level, fmt, ap);
	va_end(ap);
}

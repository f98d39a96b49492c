/* modules/shutdown-manager/sm_log.c: log lines, and their copy for hooks.
 *
 * The kubelet discards what a preStop exec hook writes. When `contour envoy shutdown` runs as such a
 * hook it is not PID 1 of its container; PID 1 is the sidecar, whose stdout
 * is the container log. Envoy Gateway writes its hook's lines to
 * /proc/1/fd/1 for this reason, and so do we: the core's line still goes
 * to our own stderr, and a copy in the same logfmt shape goes to PID 1. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modules/shutdown-manager/sm.h"

static int sm_log_fd = -1;

void sm_log_mirror_open(void)
{
	if (sm_log_fd >= 0 || getpid() == 1)
		return;
	/* O_NONBLOCK: a full pipe to the container runtime must never stall
	 * the drain; a line that does not fit is dropped. */
	sm_log_fd = open("/proc/1/fd/1", O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

void sm_log_mirror_close(void)
{
	if (sm_log_fd >= 0)
		close(sm_log_fd);
	sm_log_fd = -1;
}

static const char *sm_log_level_name(contour_log_level_t level)
{
	switch (level) {
	case CONTOUR_LOG_ERR:
		return "error";
	case CONTOUR_LOG_WARN:
		return "warning";
	case CONTOUR_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void sm_log(sm_ctx_t *ctx, contour_log_level_t level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	contour_log(ctx->mod, level, "%s", msg);
	if (sm_log_fd < 0 || !contour_log_enabled(level))
		return;
	char line[1400], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* Quotes and backslashes in msg are escaped as logfmt wants; the
	 * messages are ours and carry no control characters. */
	char esc[1100];
	size_t j = 0;
	for (size_t i = 0; msg[i] && j + 2 < sizeof(esc); i++) {
		if (msg[i] == '"' || msg[i] == '\\')
			esc[j++] = '\\';
		esc[j++] = msg[i] == '\n' ? ' ' : msg[i];
	}
	esc[j] = '\0';
	int n = snprintf(line, sizeof(line),
	                 "time=\"%s\" level=%s msg=\"%s\" module=%s pid=%ld hook=envoy-shutdown\n", ts,
	                 sm_log_level_name(level), esc, contour_module_name(ctx->mod),
	                 (long)getpid());
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		ssize_t w = write(sm_log_fd, line, len);
		(void)w; /* best effort, see above */
	}
}

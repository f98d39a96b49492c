/* modules/shutdown-manager/sm_args.c: `contour envoy shutdown-manager` and
 * `contour envoy shutdown` flags, as upstream's DaemonSet passes them.
 *
 * Upstream's spelling, defaults and both `--flag=value` and `--flag value`
 * forms (kingpin's); booleans also take `--no-flag`. Durations are Go's
 * syntax. The defaults come from the module's schema (init filled them),
 * so both entry points share one set. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/shutdown-manager/sm.h"

typedef enum { SM_F_STR, SM_F_INT, SM_F_DURATION, SM_F_BOOL, SM_F_COUNT, SM_F_IGNORED } sm_ftype_t;

typedef struct sm_flag {
	const char *name;
	unsigned cmds; /* SM_CMD_* that take it */
	sm_ftype_t type;
	size_t off;
	int64_t min, max; /* INT */
	const char *help;
} sm_flag_t;

#define SM_BOTH (SM_CMD_SHUTDOWN_MANAGER | SM_CMD_SHUTDOWN)
#define SM_OFF(f) offsetof(sm_settings_t, f)

static const sm_flag_t sm_flags[] = {
    /* upstream's */
    {"serve-port", SM_CMD_SHUTDOWN_MANAGER, SM_F_INT, SM_OFF(port), 0, 65535,
     "port of /healthz and /shutdown"},
    {"ready-file", SM_BOTH, SM_F_STR, SM_OFF(ready_file), 0, 0,
     "file whose existence means the drain is over"},
    {"admin-address", SM_BOTH, SM_F_STR, SM_OFF(admin_address), 0, 0,
     "Envoy's admin unix socket"},
    {"admin-port", SM_BOTH, SM_F_IGNORED, 0, 0, 0, "deprecated and ignored (upstream's too)"},
    {"drain-delay", SM_BOTH, SM_F_DURATION, SM_OFF(drain_delay_ms), 0, 0,
     "wait before failing Envoy's health checks"},
    {"check-delay", SM_BOTH, SM_F_DURATION, SM_OFF(check_delay_ms), 0, 0,
     "wait after that before the first connection check"},
    {"check-interval", SM_BOTH, SM_F_DURATION, SM_OFF(check_interval_ms), 0, 0,
     "time between connection checks"},
    {"min-open-connections", SM_BOTH, SM_F_INT, SM_OFF(min_open_connections), 0, INT64_MAX,
     "the drain is over at this many open connections or fewer"},
    /* ours */
    {"serve-address", SM_CMD_SHUTDOWN_MANAGER, SM_F_STR, SM_OFF(address), 0, 0,
     "address to listen on (127.0.0.1: loopback only; the preStop hook then needs host)"},
    {"shutdown-drains", SM_CMD_SHUTDOWN_MANAGER, SM_F_BOOL, SM_OFF(shutdown_drains), 0, 0,
     "GET /shutdown starts the drain itself (no preStop on this container needed)"},
    {"sigterm-wait", SM_CMD_SHUTDOWN_MANAGER, SM_F_DURATION, SM_OFF(sigterm_wait_ms), 0, 0,
     "after SIGTERM, keep serving this long for a /shutdown still to come"},
    {"request-timeout", SM_CMD_SHUTDOWN_MANAGER, SM_F_DURATION, SM_OFF(request_timeout_ms), 0,
     0, "total time a client may take to send one request"},
    {"max-connections", SM_CMD_SHUTDOWN_MANAGER, SM_F_INT, SM_OFF(max_connections), 1, 4096,
     "connections served at once; more wait in the listen backlog"},
    {"drain-timeout", SM_BOTH, SM_F_DURATION, SM_OFF(drain_timeout_ms), 0, 0,
     "write the ready file after this long whatever the count (0: never)"},
    {"min-drain-duration", SM_BOTH, SM_F_DURATION, SM_OFF(min_drain_ms), 0, 0,
     "never write the ready file sooner than this after the drain starts"},
    {"unreachable-timeout", SM_BOTH, SM_F_DURATION, SM_OFF(unreachable_ms), 0, 0,
     "end the drain when nothing listens on the admin socket this long (0: never)"},
    {"count-connections", SM_BOTH, SM_F_COUNT, SM_OFF(count), 0, 0,
     "listener (every connection: HTTP, TCP proxy, TLS passthrough) or http (upstream's)"},
    {"exclude-labels", SM_BOTH, SM_F_STR, SM_OFF(exclude), 0, 0,
     "comma-separated label values whose series are not counted"},
    {"log-to-pid1", SM_CMD_SHUTDOWN, SM_F_BOOL, SM_OFF(log_to_pid1), 0, 0,
     "also write log lines to /proc/1/fd/1 (the container log) when not PID 1"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

static const char *sm_cmd_name(sm_cmd_t cmd)
{
	return cmd == SM_CMD_SHUTDOWN ? "shutdown" : "shutdown-manager";
}

/* sm_args_err: one line on stderr, prefixed with the command; returns 1 (a
 * usage error) so callers can return it. */
static int sm_args_err(sm_cmd_t cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int sm_args_err(sm_cmd_t cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "contour envoy %s: ", sm_cmd_name(cmd));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static const char *sm_type_meta(sm_ftype_t t)
{
	switch (t) {
	case SM_F_STR:
		return "=STRING";
	case SM_F_INT:
		return "=INT";
	case SM_F_DURATION:
		return "=DURATION";
	case SM_F_COUNT:
		return "=listener|http";
	case SM_F_IGNORED:
		return "=INT";
	default:
		return "";
	}
}

void sm_args_usage(sm_cmd_t cmd, const sm_settings_t *d)
{
	printf("usage: contour envoy %s [<flags>]\n\n%s\n\nFlags:\n", sm_cmd_name(cmd),
	       cmd == SM_CMD_SHUTDOWN
	           ? "Drain Envoy (fail its health checks, wait for its connections to close), "
	             "then\nwrite the ready file. Run as the shutdown-manager container's preStop "
	             "hook."
	           : "Serve /healthz and /shutdown for Envoy's preStop hook: /shutdown answers "
	             "once\nthe ready file exists.");
	for (const sm_flag_t *f = sm_flags; f->name; f++) {
		if (!(f->cmds & cmd))
			continue;
		char left[64], def[96] = "";
		snprintf(left, sizeof(left), "--%s%s", f->name, sm_type_meta(f->type));
		const char *p = (const char *)d + f->off;
		switch (f->type) {
		case SM_F_STR:
			snprintf(def, sizeof(def), " (default %s)", *(const char *const *)p);
			break;
		case SM_F_INT:
			if (f->off == SM_OFF(min_open_connections))
				snprintf(def, sizeof(def), " (default %" PRId64 ")", *(const int64_t *)p);
			else
				snprintf(def, sizeof(def), " (default %d)", *(const int *)p);
			break;
		case SM_F_DURATION: {
			char go[32];
			contour_duration_format(*(const int64_t *)p, go, sizeof(go));
			snprintf(def, sizeof(def), " (default %s)", go);
			break;
		}
		case SM_F_BOOL:
			snprintf(def, sizeof(def), " (default %s)", *(const int *)p ? "true" : "false");
			break;
		case SM_F_COUNT:
			snprintf(def, sizeof(def), " (default %s)",
			         *(const sm_count_mode_t *)p == SM_COUNT_HTTP ? "http" : "listener");
			break;
		default:
			break;
		}
		printf("  %-30s %s%s\n", left, f->help, def);
	}
}

static int sm_set_value(const sm_flag_t *f, const char *v, sm_settings_t *s, sm_cmd_t cmd)
{
	char *p = (char *)s + f->off;
	switch (f->type) {
	case SM_F_STR:
		if (!*v)
			return sm_args_err(cmd, "--%s: empty value", f->name);
		*(const char **)p = v;
		return 0;
	case SM_F_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!*v || *end || errno || x < f->min || x > f->max)
			return sm_args_err(cmd,
			                   "--%s: expected an integer from %" PRId64 " to %" PRId64
			                   ", not '%s'",
			                   f->name, f->min, f->max, v);
		if (f->off == SM_OFF(min_open_connections))
			*(int64_t *)p = x;
		else
			*(int *)p = (int)x;
		return 0;
	}
	case SM_F_DURATION: {
		int64_t ms;
		if (contour_duration_parse(v, &ms) != CONTOUR_EOK || ms < 0)
			return sm_args_err(
			    cmd, "--%s: expected a duration such as 100ms, 5s or 1m30s, not '%s'",
			    f->name, v);
		if (f->off == SM_OFF(check_interval_ms) && ms == 0)
			return sm_args_err(cmd, "--check-interval must be more than 0");
		*(int64_t *)p = ms;
		return 0;
	}
	case SM_F_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "1"))
			*(int *)p = 1;
		else if (!strcmp(v, "false") || !strcmp(v, "0"))
			*(int *)p = 0;
		else
			return sm_args_err(cmd, "--%s: expected true or false, not '%s'", f->name, v);
		return 0;
	case SM_F_COUNT:
		if (!strcmp(v, "listener"))
			*(sm_count_mode_t *)p = SM_COUNT_LISTENER;
		else if (!strcmp(v, "http"))
			*(sm_count_mode_t *)p = SM_COUNT_HTTP;
		else
			return sm_args_err(cmd, "--%s: expected listener or http, not '%s'", f->name, v);
		return 0;
	case SM_F_IGNORED:
		sm_args_err(cmd, "--%s is deprecated and ignored", f->name);
		return 0;
	}
	return 1;
}

int sm_args_parse(sm_cmd_t cmd, int argc, char **argv, sm_settings_t *s)
{
	sm_settings_t defaults = *s;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "--help-long")) {
			sm_args_usage(cmd, &defaults);
			return 2;
		}
		if (strncmp(a, "--", 2) != 0)
			return sm_args_err(cmd, "unexpected argument '%s'", a);
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		int negated = 0;
		const sm_flag_t *f = NULL;
		for (int pass = 0; pass < 2 && !f; pass++) {
			const char *n = name;
			size_t l = nlen;
			if (pass == 1) {
				if (nlen <= 3 || strncmp(name, "no-", 3))
					break;
				n += 3;
				l -= 3;
			}
			for (const sm_flag_t *c = sm_flags; c->name; c++)
				if (strlen(c->name) == l && !strncmp(c->name, n, l)) {
					f = c;
					negated = pass == 1;
					break;
				}
		}
		if (!f || !(f->cmds & cmd) || (negated && f->type != SM_F_BOOL))
			return sm_args_err(cmd, "unknown flag '--%.*s' (see --help)", (int)nlen, name);
		const char *v;
		if (f->type == SM_F_BOOL) {
			if (negated && eq)
				return sm_args_err(cmd, "--%.*s takes no value", (int)nlen, name);
			v = eq ? eq + 1 : negated ? "false" : "true";
		} else if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			return sm_args_err(cmd, "--%s needs a value", f->name);
		}
		if (sm_set_value(f, v, s, cmd))
			return 1;
	}
	return 0;
}

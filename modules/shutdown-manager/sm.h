/* modules/shutdown-manager/sm.h: the shutdown-manager module's private
 * declarations.
 *
 * Pieces, one file each:
 *   shutdown-manager.c  descriptor, schema, lifecycle, the `envoy` command
 *   sm_args.c           upstream's command-line flags into sm_settings_t
 *   sm_http.c           the sidecar's HTTP server: /healthz, /shutdown
 *   sm_admin.c          HTTP client to Envoy's admin unix socket (libcurl
 *                       multi on the core's loop)
 *   sm_drain.c          the drain: fail health checks, poll, ready file
 *   sm_count.c          open connections from a /stats/prometheus body
 *   sm_prom.c           the Prometheus text format parser
 *   sm_file.c           the ready file and the drain lock
 *   sm_log.c            log lines, mirrored to PID 1's stdout for hooks
 */
#ifndef SM_SM_H
#define SM_SM_H

#include <stddef.h>
#include <stdint.h>
#include <contour/module.h>

/* What is counted as an open connection. */
typedef enum {
	SM_COUNT_LISTENER, /* envoy_listener_downstream_cx_active: every listener
	                      type, HTTP, TCP proxy and TLS passthrough */
	SM_COUNT_HTTP,     /* envoy_http_downstream_cx_active: upstream's, HTTP
	                      connection managers only */
} sm_count_mode_t;

/* Upstream's readiness poll of the ready file. */
#define SM_READY_CHECK_MS 1000
/* Upstream's /healthcheck/fail retry: wait.Backoff{Steps: 4, Duration:
 * 200ms, Factor: 5.0, Jitter: 0.1}. */
#define SM_HCFAIL_TRIES     4
#define SM_HCFAIL_FIRST_MS  200
#define SM_HCFAIL_FACTOR    5.0
#define SM_HCFAIL_JITTER    0.1
/* One admin request may take this long: the admin answers in
 * milliseconds, and a hung one must not stall the poll loop forever. */
#define SM_ADMIN_TIMEOUT_MS 5000
/* A /stats/prometheus body larger than this is an error (filtered, it is
 * a few hundred bytes; unfiltered on a big config, megabytes). */
#define SM_ADMIN_MAX_BODY (16u << 20)
/* How often a drain waiting on another process's lock looks again. */
#define SM_LOCK_RETRY_MS 100

/* Everything both entry points configure: the role's config: mapping or
 * the `contour envoy ...` flags. Strings are borrowed (config or argv). */
typedef struct sm_settings {
	/* The HTTP server (shutdown-manager). */
	const char *address;
	int port;
	int64_t request_timeout_ms;
	int max_connections;
	int shutdown_drains; /* GET /shutdown starts the drain itself */
	int64_t sigterm_wait_ms;
	/* Both. */
	const char *ready_file;
	/* The drain (shutdown). */
	const char *admin_address;
	int64_t drain_delay_ms;
	int64_t check_delay_ms;
	int64_t check_interval_ms;
	int64_t min_open_connections;
	int64_t drain_timeout_ms;   /* 0: none */
	int64_t min_drain_ms;       /* 0: none */
	int64_t unreachable_ms;     /* 0: never give up on a missing Envoy */
	sm_count_mode_t count;
	const char *exclude; /* comma-separated label values not counted */
	int log_to_pid1;
} sm_settings_t;

typedef struct sm_http sm_http_t;
typedef struct sm_drain sm_drain_t;
typedef struct sm_admin sm_admin_t;

typedef struct sm_metrics {
	contour_metric_t *drain_started;
	contour_metric_t *open_connections;
	contour_metric_t *drain_seconds;
	contour_metric_t *waiting;
	contour_metric_t *admin_errors;
} sm_metrics_t;

typedef struct sm_ctx {
	contour_module_t *mod;
	sm_settings_t set;
	sm_metrics_t metrics;
	sm_http_t *http;   /* start..stop (serve), or the command's lifetime */
	sm_drain_t *drain; /* created on first use */
	int command;       /* running as `contour envoy ...`, not serve */
	int loop_ran;      /* the loop dispatched since start (not a rollback) */
	contour_timer_t *loop_mark;
	int exit_status;   /* the command's, when it ends its loop */
} sm_ctx_t;

/* shutdown-manager.c */
/* sm_settings_from_config: the module's validated config into s. */
void sm_settings_from_config(contour_module_t *mod, sm_settings_t *s);
/* sm_drain_get: the context's drain, created on first use; NULL on ENOMEM. */
sm_drain_t *sm_drain_get(sm_ctx_t *ctx);

/* sm_args.c */
typedef enum { SM_CMD_SHUTDOWN_MANAGER = 1, SM_CMD_SHUTDOWN = 2 } sm_cmd_t;
/* sm_args_parse: argv (argv[0] is the sub-command) over s. Returns 0, or 1
 * after printing the problem to stderr, or 2 for --help (usage printed). */
int sm_args_parse(sm_cmd_t cmd, int argc, char **argv, sm_settings_t *s);
void sm_args_usage(sm_cmd_t cmd, const sm_settings_t *defaults);

/* sm_log.c */
/* sm_log_mirror_open: also write log lines to PID 1's stdout, when not PID
 * 1 and /proc/1/fd/1 is writable; a no-op otherwise. */
void sm_log_mirror_open(void);
void sm_log_mirror_close(void);
void sm_log(sm_ctx_t *ctx, contour_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sm_file.c */
int sm_ready_exists(const char *path);
/* sm_ready_write: create the ready file (mode 0644). Returns 0 or -errno. */
int sm_ready_write(const char *path);
/* sm_ready_remove: unlink it; 0 when it did not exist. */
int sm_ready_remove(const char *path);
/* sm_lock_try: take the drain lock, "<ready-file>.lock", without blocking.
 * Returns an fd (hold it to keep the lock), -EWOULDBLOCK when another
 * process holds it, or another -errno when locking is impossible. */
int sm_lock_try(const char *ready_file);
void sm_lock_release(int fd);

/* sm_count.c */
/* sm_count_open: sum the open-connection gauge of mode in a
 * /stats/prometheus body, leaving out series with a label value listed in
 * exclude (comma-separated). Returns 0, or -1 with why in err (malformed
 * text, or a value that is not a count). *series: how many were summed. */
int sm_count_open(const char *body, size_t len, sm_count_mode_t mode, const char *exclude,
                  double *sum, size_t *series, char *err, size_t errlen);
/* sm_count_filter: the `filter` regex upstream or we send for mode. */
const char *sm_count_filter(sm_count_mode_t mode);

/* sm_admin.c */
/* Done callback: rc 0 with the HTTP status and body, or rc < 0 when there
 * was no HTTP answer (errmsg says why; unreachable is non-zero when nothing
 * listens: the socket is missing or refuses). body is borrowed. */
typedef void (*sm_admin_cb)(void *ud, int rc, long status, const char *body, size_t len,
                            const char *errmsg, int unreachable);
sm_admin_t *sm_admin_new(contour_module_t *mod, const char *socket_path);
void sm_admin_free(sm_admin_t *a);
/* sm_admin_request: start one request; one at a time. method "GET" or
 * "POST"; path with the query already escaped. cb runs from the loop,
 * never from inside this call. */
int sm_admin_request(sm_admin_t *a, const char *method, const char *path, sm_admin_cb cb,
                     void *ud);
/* sm_admin_cancel: drop the request in flight; its callback never runs. */
void sm_admin_cancel(sm_admin_t *a);

/* sm_drain.c */
typedef void (*sm_drain_done_fn)(sm_ctx_t *ctx, int ok);
sm_drain_t *sm_drain_new(sm_ctx_t *ctx, sm_drain_done_fn done);
void sm_drain_free(sm_drain_t *d);
/* sm_drain_start: begin the sequence; a drain already started (or done)
 * is left alone, so every caller may call it. */
int sm_drain_start(sm_drain_t *d);
int sm_drain_running(const sm_drain_t *d);
int sm_drain_finished(const sm_drain_t *d);
/* sm_drain_stop: abandon a drain in progress (the lock is released, the
 * ready file is not written). */
void sm_drain_stop(sm_drain_t *d);

/* sm_http.c */
sm_http_t *sm_http_new(sm_ctx_t *ctx);
void sm_http_free(sm_http_t *h);
/* sm_http_start: listen; on failure logs the address and errno text. */
int sm_http_start(sm_http_t *h);
/* sm_http_check_now: look at the ready file now (after a drain finished,
 * or on SIGTERM) instead of at the next 1 s tick. */
void sm_http_check_now(sm_http_t *h);
size_t sm_http_waiting(const sm_http_t *h);
/* sm_http_flushing: answered /shutdown connections not yet closed. */
size_t sm_http_flushing(const sm_http_t *h);
/* sm_http_answered: a /shutdown got its 200 since start. */
int sm_http_answered(const sm_http_t *h);

#endif

/* modules/shutdown-manager/shutdown-manager.c: the module's entry point.
 *
 * Envoy's shutdown-manager sidecar, usable two ways from one binary:
 *
 *   contour serve --config conf/shutdown-manager.yaml   (the role)
 *   contour envoy shutdown-manager [flags]              (upstream's sidecar)
 *   contour envoy shutdown [flags]                      (upstream's preStop)
 *
 * The role and `envoy shutdown-manager` serve /healthz and /shutdown
 * (sm_http.c); `envoy shutdown`, or /shutdown itself with shutdown-drains,
 * runs the drain (sm_drain.c). shutdown-manager.md has the whole story. */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modules/shutdown-manager/sm.h"

/* Label values never counted: upstream's list (the admin, stats and health
 * connection managers), plus the stats-health listener's address as the
 * listener gauge names it (0.0.0.0:8002, IPv4 and IPv6). */
#define SM_EXCLUDE_DEFAULT                                                                          \
	"admin,envoy-admin,stats,health,stats-health,0.0.0.0_8002,[__]_8002"

static const contour_conf_item_t sm_schema[] = {
    CONTOUR_CONF_OPT("address", STR, "0.0.0.0",
                     "numeric address of /healthz and /shutdown; 127.0.0.1 keeps them off the "
                     "network of a hostNetwork pod (the preStop hook then needs host: 127.0.0.1)"),
    CONTOUR_CONF_RANGE("port", INT, "8090", 0, 65535,
                       "port (upstream's --serve-port); 0 picks a free one and logs it"),
    CONTOUR_CONF_OPT("ready-file", STR, "/admin/ok",
                     "file whose existence means the drain is over (upstream's --ready-file)"),
    CONTOUR_CONF_OPT("admin-address", STR, "/admin/admin.sock",
                     "Envoy's admin unix socket (upstream's --admin-address)"),
    CONTOUR_CONF_OPT("drain-delay", DURATION, "0s",
                     "wait before failing Envoy's health checks (upstream's --drain-delay)"),
    CONTOUR_CONF_OPT("check-delay", DURATION, "0s",
                     "wait after that before the first check (upstream's --check-delay)"),
    CONTOUR_CONF_RANGE("check-interval", DURATION, "5s", 1, 3600000,
                       "time between connection checks (upstream's --check-interval)"),
    CONTOUR_CONF_RANGE("min-open-connections", INT, "0", 0, INT64_MAX,
                       "drained at this many open connections or fewer"),
    CONTOUR_CONF_OPT("drain-timeout", DURATION, "280s",
                     "write the ready file after this long whatever the count; 0s: never "
                     "(upstream). Keep it under terminationGracePeriodSeconds"),
    CONTOUR_CONF_OPT("min-drain-duration", DURATION, "0s",
                     "never write the ready file sooner than this after the drain starts"),
    CONTOUR_CONF_OPT("unreachable-timeout", DURATION, "15s",
                     "end the drain when nothing listens on the admin socket for this long; "
                     "0s: never (upstream's behaviour)"),
    CONTOUR_CONF_OPT("count-connections", STR, "listener",
                     "listener: every downstream connection (HTTP, TCP proxy, TLS passthrough); "
                     "http: upstream's count, HTTP connection managers only"),
    CONTOUR_CONF_OPT("exclude-labels", STR, SM_EXCLUDE_DEFAULT,
                     "comma-separated label values whose series are not counted"),
    CONTOUR_CONF_OPT("shutdown-drains", BOOL, "false",
                     "GET /shutdown starts the drain, so this container needs no preStop hook"),
    CONTOUR_CONF_OPT("sigterm-wait", DURATION, "5s",
                     "after SIGTERM with no drain running, keep serving this long for a "
                     "/shutdown still to come"),
    CONTOUR_CONF_RANGE("request-timeout", DURATION, "10s", 100, 3600000,
                       "total time a client may take to send one request"),
    CONTOUR_CONF_RANGE("max-connections", INT, "64", 1, 4096,
                       "connections served at once; more wait in the listen backlog"),
    CONTOUR_CONF_OPT("log-to-pid1", BOOL, "true",
                     "`envoy shutdown`: also write log lines to /proc/1/fd/1 when not PID 1"),
    {.key = NULL},
};

static const contour_cli_flag_t sm_cli_flags[] = {
    {"--serve-address", "address", NULL},
    {"--serve-port", "port", NULL},
    {"--ready-file", "ready-file", NULL},
    {"--admin-address", "admin-address", NULL},
    {NULL, NULL, NULL},
};

static int sm_check(const json_t *config, char *err, size_t errlen)
{
	const char *count = contour_json_get_str_opt(config, "count-connections");
	int rc = contour_conf_check_address(config, "address", err, errlen);
	if (rc != CONTOUR_EOK)
		return rc;
	if (!count || (strcmp(count, "listener") && strcmp(count, "http"))) {
		snprintf(err, errlen, "count-connections: expected listener or http, not '%s'",
		         count ? count : "");
		return CONTOUR_ECONFIG;
	}
	const char *files[] = {"ready-file", "admin-address"};
	for (size_t i = 0; i < 2; i++) {
		if (!contour_json_get_nonempty(config, files[i])) {
			snprintf(err, errlen, "%s: must not be empty", files[i]);
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

void sm_settings_from_config(contour_module_t *mod, sm_settings_t *s)
{
	memset(s, 0, sizeof(*s));
	s->address = contour_conf_get_str(mod, "address", "0.0.0.0");
	s->port = (int)contour_conf_get_int(mod, "port", 8090);
	s->ready_file = contour_conf_get_str(mod, "ready-file", "/admin/ok");
	s->admin_address = contour_conf_get_str(mod, "admin-address", "/admin/admin.sock");
	s->drain_delay_ms = contour_conf_get_duration_ms(mod, "drain-delay", 0);
	s->check_delay_ms = contour_conf_get_duration_ms(mod, "check-delay", 0);
	s->check_interval_ms = contour_conf_get_duration_ms(mod, "check-interval", 5000);
	s->min_open_connections = contour_conf_get_int(mod, "min-open-connections", 0);
	s->drain_timeout_ms = contour_conf_get_duration_ms(mod, "drain-timeout", 280000);
	s->min_drain_ms = contour_conf_get_duration_ms(mod, "min-drain-duration", 0);
	s->unreachable_ms = contour_conf_get_duration_ms(mod, "unreachable-timeout", 15000);
	const char *count = contour_conf_get_str(mod, "count-connections", "listener");
	s->count = count && !strcmp(count, "http") ? SM_COUNT_HTTP : SM_COUNT_LISTENER;
	s->exclude = contour_conf_get_str(mod, "exclude-labels", SM_EXCLUDE_DEFAULT);
	s->shutdown_drains = contour_conf_get_bool(mod, "shutdown-drains", 0);
	s->sigterm_wait_ms = contour_conf_get_duration_ms(mod, "sigterm-wait", 5000);
	s->request_timeout_ms = contour_conf_get_duration_ms(mod, "request-timeout", 10000);
	s->max_connections = (int)contour_conf_get_int(mod, "max-connections", 64);
	s->log_to_pid1 = contour_conf_get_bool(mod, "log-to-pid1", 1);
}

/* The drain finished (or failed to write the ready file). */
static void sm_drain_done(sm_ctx_t *ctx, int ok)
{
	if (ctx->http)
		sm_http_check_now(ctx->http); /* answer /shutdown now, not at the tick */
	if (ctx->command == SM_CMD_SHUTDOWN) {
		ctx->exit_status = ok ? 0 : 1;
		event_base_loopbreak(contour_event_base(ctx->mod));
	}
}

sm_drain_t *sm_drain_get(sm_ctx_t *ctx)
{
	if (!ctx->drain)
		ctx->drain = sm_drain_new(ctx, sm_drain_done);
	return ctx->drain;
}

static void sm_loop_mark_cb(contour_timer_t *t, void *ud)
{
	((sm_ctx_t *)ud)->loop_ran = 1;
}

static void sm_wake_cb(contour_timer_t *t, void *ud)
{
	/* Only to make one loop iteration return at the wait's end. */
}

/* sm_stop_wait: after SIGTERM (or SIGINT), keep the loop running while
 * stopping now would hurt: a drain is under way, or a /shutdown waits for
 * its answer, or, for sigterm-wait, no /shutdown has come yet (the kubelet
 * sends SIGTERM to a container without preStop at the moment it calls
 * Envoy's preStop, so the request may still be on its way). A second
 * signal ends the wait at once. */
static void sm_stop_wait(sm_ctx_t *ctx)
{
	struct event_base *base = contour_event_base(ctx->mod);
	int64_t until = contour_now_ms(ctx->mod) + ctx->set.sigterm_wait_ms;
	contour_timer_t *wake = contour_timer_new(ctx->mod, sm_wake_cb, NULL);
	int logged = 0;
	sm_http_check_now(ctx->http);
	for (;;) {
		int64_t now = contour_now_ms(ctx->mod);
		int draining = sm_drain_running(ctx->drain);
		int waiting = sm_http_waiting(ctx->http) > 0;
		int early = now < until && !sm_http_answered(ctx->http) && !sm_drain_finished(ctx->drain);
		if (!draining && !waiting && !early)
			break;
		if (!draining && waiting && now >= until && !ctx->set.shutdown_drains)
			break; /* nobody of ours will write the file */
		if (!logged)
			contour_log(ctx->mod, CONTOUR_LOG_INFO,
			            "stopping after %s (signal again to stop now)",
			            draining  ? "the drain"
			            : waiting ? "answering /shutdown"
			                      : "sigterm-wait, in case a /shutdown is on its way");
		logged = 1;
		if (wake && now < until)
			contour_timer_arm(wake, until - now);
		event_base_loop(base, EVLOOP_ONCE);
		if (event_base_got_break(base)) {
			contour_log(ctx->mod, CONTOUR_LOG_WARN, "second signal: stopping now");
			contour_timer_free(wake);
			return;
		}
	}
	/* Let the answers out before the connections are closed. */
	until = contour_now_ms(ctx->mod) + 1000;
	while (wake && sm_http_flushing(ctx->http)) {
		int64_t now = contour_now_ms(ctx->mod);
		if (now >= until)
			break;
		contour_timer_arm(wake, until - now);
		event_base_loop(base, EVLOOP_ONCE);
		if (event_base_got_break(base))
			break;
	}
	contour_timer_free(wake);
}

static int sm_envoy_command(contour_module_t *mod, int argc, char **argv);

static int sm_init(contour_module_t *mod, const json_t *config)
{
	sm_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CONTOUR_ENOMEM;
	ctx->mod = mod;
	sm_settings_from_config(mod, &ctx->set);
	static const char *const endpoint[] = {"request", NULL};
	const contour_metric_desc_t descs[] = {
	    {CONTOUR_METRIC_GAUGE, "contour_shutdown_manager_drain_started",
	     "1 once a drain of Envoy has started in this process.", NULL, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_shutdown_manager_open_connections",
	     "Open downstream connections Envoy reported at the last check.", NULL, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_shutdown_manager_drain_seconds",
	     "Seconds since the drain started (its length once it finished).", NULL, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_shutdown_manager_shutdown_waiting",
	     "GET /shutdown requests waiting for the ready file.", NULL, NULL, 0},
	    {CONTOUR_METRIC_COUNTER, "contour_shutdown_manager_admin_errors_total",
	     "Failed requests to Envoy's admin interface, by request.", endpoint, NULL, 0},
	};
	contour_metric_t **outs[] = {&ctx->metrics.drain_started, &ctx->metrics.open_connections,
	                             &ctx->metrics.drain_seconds, &ctx->metrics.waiting,
	                             &ctx->metrics.admin_errors};
	int rc = CONTOUR_EOK;
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]) && rc == CONTOUR_EOK; i++)
		rc = contour_register_metric(mod, &descs[i], outs[i]);
	if (rc == CONTOUR_EOK)
		rc = contour_register_command(
		    mod, "envoy", "Envoy sidecar: shutdown-manager and shutdown (upstream's flags).",
		    sm_envoy_command);
	if (rc != CONTOUR_EOK) {
		free(ctx); /* the core drops the registrations */
		return rc;
	}
	contour_metric_set(ctx->metrics.drain_started, NULL, 0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(ctx);
		return CONTOUR_ENOMEM;
	}
	contour_module_ctx_set(mod, ctx);
	return CONTOUR_EOK;
}

static int sm_start(contour_module_t *mod)
{
	sm_ctx_t *ctx = contour_module_ctx_get(mod);
	ctx->http = sm_http_new(ctx);
	ctx->loop_mark = contour_timer_new(mod, sm_loop_mark_cb, ctx);
	if (!ctx->http || !ctx->loop_mark)
		return CONTOUR_ENOMEM;
	/* A ready file left on the emptyDir by an earlier container (it
	 * survives restarts) would answer the next /shutdown at once, with no
	 * drain. When /shutdown drains, this process is the only writer, so
	 * the file predates us. */
	if (ctx->set.shutdown_drains && sm_ready_exists(ctx->set.ready_file)) {
		int rc = sm_ready_remove(ctx->set.ready_file);
		contour_log(mod, rc ? CONTOUR_LOG_WARN : CONTOUR_LOG_INFO,
		            "%s the stale ready file %s%s%s", rc ? "cannot remove" : "removed",
		            ctx->set.ready_file, rc ? ": " : "", rc ? strerror(-rc) : "");
	}
	int rc = sm_http_start(ctx->http);
	if (rc == CONTOUR_EOK)
		contour_timer_arm(ctx->loop_mark, 0);
	return rc;
}

static void sm_stop(contour_module_t *mod)
{
	sm_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx || !ctx->http)
		return;
	/* Only a stop after the loop ran is a SIGTERM; a rollback of a
	 * failed startup stops at once. */
	if (ctx->loop_ran)
		sm_stop_wait(ctx);
	sm_drain_stop(ctx->drain);
	sm_http_free(ctx->http);
	ctx->http = NULL;
	contour_timer_free(ctx->loop_mark);
	ctx->loop_mark = NULL;
}

static void sm_free(contour_module_t *mod)
{
	sm_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	sm_http_free(ctx->http);
	contour_timer_free(ctx->loop_mark);
	sm_drain_free(ctx->drain);
	sm_log_mirror_close();
	curl_global_cleanup();
	free(ctx);
	contour_module_ctx_set(mod, NULL);
}

/* Signals while a command runs its own loop (the core installs its
 * handlers only for serve). */
typedef struct sm_sigs {
	struct event *term, *intr;
	int got;
} sm_sigs_t;

static void sm_sig_cb(evutil_socket_t sig, short what, void *arg)
{
	sm_ctx_t *ctx = arg;
	contour_log(ctx->mod, CONTOUR_LOG_INFO, "received %s",
	            sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(contour_event_base(ctx->mod));
}

static int sm_sigs_install(sm_ctx_t *ctx, sm_sigs_t *s)
{
	struct event_base *base = contour_event_base(ctx->mod);
	s->term = evsignal_new(base, SIGTERM, sm_sig_cb, ctx);
	s->intr = evsignal_new(base, SIGINT, sm_sig_cb, ctx);
	if (!s->term || !s->intr || evsignal_add(s->term, NULL) || evsignal_add(s->intr, NULL))
		return CONTOUR_ENOMEM;
	signal(SIGPIPE, SIG_IGN);
	return CONTOUR_EOK;
}

static void sm_sigs_remove(sm_sigs_t *s)
{
	if (s->term)
		event_free(s->term);
	if (s->intr)
		event_free(s->intr);
}

static int sm_cmd_shutdown_manager(sm_ctx_t *ctx)
{
	sm_sigs_t sigs = {0};
	int status = 1;
	ctx->http = sm_http_new(ctx);
	if (!ctx->http || sm_sigs_install(ctx, &sigs) != CONTOUR_EOK)
		goto out;
	if (sm_http_start(ctx->http) != CONTOUR_EOK)
		goto out; /* logged; upstream's log.Fatal exits 1 too */
	event_base_dispatch(contour_event_base(ctx->mod));
	sm_stop_wait(ctx);
	status = 0;
out:
	sm_drain_stop(ctx->drain);
	sm_http_free(ctx->http);
	ctx->http = NULL;
	sm_sigs_remove(&sigs);
	return status;
}

static int sm_cmd_shutdown(sm_ctx_t *ctx)
{
	sm_sigs_t sigs = {0};
	if (ctx->set.log_to_pid1)
		sm_log_mirror_open();
	sm_drain_t *d = sm_drain_get(ctx);
	if (!d || sm_sigs_install(ctx, &sigs) != CONTOUR_EOK) {
		sm_sigs_remove(&sigs);
		sm_log(ctx, CONTOUR_LOG_ERR, "out of memory");
		return 1;
	}
	ctx->exit_status = 1;
	sm_drain_start(d);
	if (!sm_drain_finished(d))
		event_base_dispatch(contour_event_base(ctx->mod));
	if (sm_drain_running(d)) {
		/* A signal, not the end of the drain: abandon it. The lock goes
		 * with us; Envoy keeps failing its health checks. */
		sm_drain_stop(d);
		ctx->exit_status = 1;
	}
	sm_sigs_remove(&sigs);
	return ctx->exit_status;
}

static void sm_envoy_usage(FILE *f)
{
	fprintf(f, "usage: contour envoy <command> [<flags>]\n\n"
	           "Commands:\n"
	           "  shutdown-manager  serve /healthz and /shutdown beside Envoy (port 8090)\n"
	           "  shutdown          drain Envoy, then write the ready file (a preStop hook)\n"
	           "\nSee contour envoy <command> --help.\n");
}

static int sm_envoy_command(contour_module_t *mod, int argc, char **argv)
{
	sm_ctx_t *ctx = contour_module_ctx_get(mod);
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		sm_envoy_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sm_cmd_t cmd;
	if (!strcmp(argv[1], "shutdown-manager"))
		cmd = SM_CMD_SHUTDOWN_MANAGER;
	else if (!strcmp(argv[1], "shutdown"))
		cmd = SM_CMD_SHUTDOWN;
	else {
		fprintf(stderr, "contour envoy: unknown command '%s'\n", argv[1]);
		sm_envoy_usage(stderr);
		return 2;
	}
	int rc = sm_args_parse(cmd, argc - 1, argv + 1, &ctx->set);
	if (rc)
		return rc == 2 ? 0 : 1;
	ctx->command = cmd;
	/* Jitter of the retry backoff; nothing here needs better randomness. */
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	return cmd == SM_CMD_SHUTDOWN ? sm_cmd_shutdown(ctx) : sm_cmd_shutdown_manager(ctx);
}

CONTOUR_MODULE(.name = "shutdown-manager", .version = PACKAGE_VERSION,
               .description = "Envoy's shutdown-manager sidecar: /shutdown, drain, ready file",
               .flags = CONTOUR_MODULE_F_COMMAND, .schema = sm_schema, .check = sm_check,
               .init = sm_init, .start = sm_start, .stop = sm_stop, .free = sm_free,
               .cli_flags = sm_cli_flags);

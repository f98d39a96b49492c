/* modules/k8s-watch/k8s-watch.c: the k8s-watch module's entry point.
 *
 * A source that lists and watches the Kubernetes API (HTTPProxy,
 * TLSCertificateDelegation, Ingress, Service, EndpointSlice, Secret) into
 * the store: one reflector per kind, or per kind and namespace with the
 * global `watch-namespaces`. The source is synced once every reflector has
 * completed its first list, so the first build sees the whole cluster.
 *
 *   init   settings (module keys, then the global `kubeconfig`/`incluster`,
 *          then upstream's default ~/.kube/config), the source, metrics
 *   start  the HTTP client and the reflectors; leader election
 *   stop   leader election, then every request and timer
 *
 * With `read-only` it is only a cache filler (the admission webhook's
 * role): no status observer, no status writes, no Lease.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw.h"
#include "modules/k8s-watch/kw_certgen.h"

typedef struct kw_ctx {
	contour_module_t *mod;
	kw_conn_t conn;
	kw_http_t *http;
	contour_source_t *src;
	kw_metrics_t metrics;
	json_t *namespaces; /* watch-namespaces: array of strings, maybe empty */
	int64_t watch_timeout_ms;
	size_t page_limit;
	kw_reflector_t **refl;
	size_t nrefl, nsynced;
	int started;
	int read_only;       /* read-only: neither of the two below exists */
	kw_lease_t *lease;   /* leader election (kw_lease.c) */
	kw_status_t *status; /* status write-back, leader only (kw_status.c) */
	/* The "Kubernetes" health check, which kw_http.c reports into. */
	contour_health_check_t *health;
} kw_ctx_t;

static const contour_conf_item_t kw_schema[] = {
    CONTOUR_CONF_OPT("kubeconfig", STR, NULL,
                     "kubeconfig file (default: the global `kubeconfig`, then ~/.kube/config); "
                     "relative to the config file's folder"),
    CONTOUR_CONF_OPT("incluster", BOOL, NULL,
                     "use the pod's service account (default: the global `incluster`)"),
    CONTOUR_CONF_RANGE(
        "watch-timeout", DURATION, "0s", 0, 3600000,
        "timeoutSeconds of each watch; 0: random in [5m, 10m] as client-go (for tests)"),
    CONTOUR_CONF_RANGE("list-page-size", INT, "500", 1, 100000,
                       "objects per list page (`limit`; client-go's pager: 500)"),
    CONTOUR_CONF_RANGE("token-refresh", DURATION, "1m", 0, 3600000,
                       "how long a token read from a token file is used before the file is read "
                       "again (client-go: 1m)"),
    CONTOUR_CONF_OPT("service-account-dir", STR, NULL,
                     "where the in-cluster token, ca.crt and namespace are (for tests)"),
    CONTOUR_CONF_OPT("read-only", BOOL, "false",
                     "only fill the store: no status write-back and no leader election (for "
                     "the admission webhook's role)"),
    /* leader election, upstream's serve flags */
    CONTOUR_CONF_OPT("disable-leader-election", BOOL, "false",
                     "this replica always leads (writes status) and takes no Lease"),
    CONTOUR_CONF_OPT("leader-election-lease-duration", DURATION, "15s",
                     "the duration of the leadership lease"),
    CONTOUR_CONF_OPT("leader-election-renew-deadline", DURATION, "10s",
                     "how long the leader retries refreshing leadership before giving up"),
    CONTOUR_CONF_OPT("leader-election-retry-period", DURATION, "2s",
                     "the interval between attempts to acquire or renew the lease"),
    CONTOUR_CONF_OPT("leader-election-resource-name", STR, KW_LEASE_DEFAULT_NAME,
                     "the name of the Lease"),
    CONTOUR_CONF_OPT(
        "leader-election-resource-namespace", STR, NULL,
        "the namespace of the Lease (default: $CONTOUR_NAMESPACE, else projectcontour)"),
    {.key = NULL},
};

/* Upstream's serve flags. */
static const contour_cli_flag_t kw_cli_flags[] = {
    {"--kubeconfig", "kubeconfig", NULL},
    {"--incluster", "incluster", NULL},
    {"--disable-leader-election", "disable-leader-election", NULL},
    {"--leader-election-lease-duration", "leader-election-lease-duration", NULL},
    {"--leader-election-renew-deadline", "leader-election-renew-deadline", NULL},
    {"--leader-election-retry-period", "leader-election-retry-period", NULL},
    {"--leader-election-resource-name", "leader-election-resource-name", NULL},
    {"--leader-election-resource-namespace", "leader-election-resource-namespace",
     "CONTOUR_NAMESPACE"},
    {NULL, NULL, NULL},
};

/* ---- leader election and status (kw_lease.c, kw_status.c) ---- */

/* Called at the end of start (the HTTP client exists) and at the start of
 * stop (while it still does). Status goes first on the way down so no write
 * races the Lease's release. */
static int kw_leader_start(kw_ctx_t *c)
{
	if (c->read_only)
		return CONTOUR_EOK;
	kw_status_start(c->status, c->http);
	return kw_lease_start(c->lease, c->http);
}

static void kw_leader_stop(kw_ctx_t *c)
{
	kw_status_stop(c->status);
	kw_lease_stop(c->lease);
}

static void kw_on_leader(int leader, void *ud)
{
	kw_ctx_t *c = ud;
	kw_status_set_leader(c->status, leader);
}

/* client-go's rules for the three durations, for check-config too. */
static int kw_check(const json_t *config, char *err, size_t errlen)
{
	if (json_is_true(json_object_get(config, "disable-leader-election")) ||
	    json_is_true(json_object_get(config, "read-only")))
		return CONTOUR_EOK;
	return kw_lease_validate(
	    json_integer_value(json_object_get(config, "leader-election-lease-duration")),
	    json_integer_value(json_object_get(config, "leader-election-renew-deadline")),
	    json_integer_value(json_object_get(config, "leader-election-retry-period")), err,
	    errlen);
}

/* ---- settings ---- */

/* A relative kubeconfig from the module's config is relative to the config
 * file's folder; from a flag or a global key, to the working directory. */
static void kw_resolve(contour_module_t *mod, const char *p, int from_module, char *out, size_t cap)
{
	const char *cfg = contour_module_config_path(mod);
	const char *slash = cfg ? strrchr(cfg, '/') : NULL;
	if (p[0] == '/' || !from_module || !slash)
		snprintf(out, cap, "%s", p);
	else
		snprintf(out, cap, "%.*s/%s", (int)(slash - cfg), cfg, p);
}

static int kw_settings(kw_ctx_t *c, char *err, size_t errlen)
{
	contour_module_t *mod = c->mod;
	const json_t *ic = contour_conf_get(mod, "incluster");
	if (!ic)
		ic = contour_conf_global(mod, "incluster");
	if (json_is_true(ic))
		return kw_conn_in_cluster(
		    &c->conn, contour_conf_get_str(mod, "service-account-dir", NULL), err, errlen);
	char path[4096];
	const char *kc = contour_conf_get_str(mod, "kubeconfig", NULL);
	int from_module = kc != NULL;
	if (!kc)
		kc = json_string_value(contour_conf_global(mod, "kubeconfig"));
	if (kc && *kc) {
		kw_resolve(mod, kc, from_module, path, sizeof(path));
	} else {
		const char *home = getenv("HOME");
		snprintf(path, sizeof(path), "%s/.kube/config", home ? home : "");
	}
	return kw_conn_from_kubeconfig(&c->conn, path, err, errlen);
}

static int kw_metrics_register(kw_ctx_t *c)
{
	static const char *const labels[] = {"kind", NULL};
	const struct {
		const char *name, *help;
		contour_metric_t **out;
	} defs[] = {
	    {"contour_k8s_objects_received_total",
	     "Objects and watch events received from the Kubernetes API, by kind.",
	     &c->metrics.received},
	    {"contour_k8s_watch_restarts_total", "Watches that ended and were started again.",
	     &c->metrics.restarts},
	    {"contour_k8s_relists_total", "Lists after the first (410 Expired, errors).",
	     &c->metrics.relists},
	    {"contour_k8s_request_errors_total",
	     "Failed list and watch requests and broken watch streams.", &c->metrics.errors},
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		contour_metric_desc_t d = {.type = CONTOUR_METRIC_COUNTER,
		                           .name = defs[i].name,
		                           .help = defs[i].help,
		                           .labels = labels};
		int rc = contour_register_metric(c->mod, &d, defs[i].out);
		if (rc != CONTOUR_EOK)
			return rc;
	}
	return CONTOUR_EOK;
}

/* ---- lifecycle ---- */

static void kw_ctx_free(kw_ctx_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrefl; i++)
		kw_reflector_free(c->refl[i]);
	free(c->refl);
	kw_lease_free(c->lease);
	kw_status_free(c->status);
	kw_http_free(c->http);
	kw_conn_fini(&c->conn);
	json_decref(c->namespaces);
	free(c);
}

static int kw_init(contour_module_t *mod, const json_t *config)
{
	char err[1024];
	/* `contour certgen` (kw_certgen.c): loaded for it alone, nothing else
	 * is set up (it logs in on its own, with its own flags). */
	int cmd_rc = contour_register_command(mod, "certgen",
	                                      "Generate the CA and the contour/envoy certificates "
	                                      "(upstream's flags).",
	                                      kw_certgen_command);
	if (cmd_rc != CONTOUR_EOK || contour_module_render_only(mod))
		return cmd_rc;
	kw_ctx_t *c = calloc(1, sizeof(*c));
	if (!c)
		return CONTOUR_ENOMEM;
	c->mod = mod;
	int rc = kw_settings(c, err, sizeof(err));
	if (rc != CONTOUR_EOK) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s", err);
		goto fail;
	}
	c->watch_timeout_ms = contour_conf_get_duration_ms(mod, "watch-timeout", 0);
	c->page_limit = (size_t)contour_conf_get_int(mod, "list-page-size", 500);
	c->namespaces = contour_conf_global_str_list(mod, "watch-namespaces");
	if (!c->namespaces) {
		rc = CONTOUR_ENOMEM;
		goto fail;
	}
	if ((rc = contour_register_source(mod, "k8s-watch", &c->src)) != CONTOUR_EOK)
		goto fail;
	if ((rc = kw_metrics_register(c)) != CONTOUR_EOK)
		goto fail;
	/* Upstream's /healthz says "Failed Kubernetes Check: ...". */
	if ((rc = contour_register_health_check(mod, "Kubernetes", &c->health)) != CONTOUR_EOK)
		goto fail;
	contour_health_fail(c->health, "not yet connected to the API server %s", c->conn.server);
	c->read_only = contour_conf_get_bool(mod, "read-only", 0);
	if (!c->read_only && (!(c->status = kw_status_new(mod, err, sizeof(err))) ||
	                      !(c->lease = kw_lease_new(mod, kw_on_leader, c, err, sizeof(err))))) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s", err);
		rc = CONTOUR_ECONFIG;
		goto fail;
	}
	contour_log(mod, CONTOUR_LOG_INFO, "API server %s%s", c->conn.server,
	            json_array_size(c->namespaces) ? " (watching some namespaces only)" : "");
	contour_module_ctx_set(mod, c);
	return CONTOUR_EOK;
fail:
	kw_ctx_free(c);
	return rc;
}

static void kw_synced(kw_reflector_t *r, void *ud)
{
	kw_ctx_t *c = ud;
	if (++c->nsynced == c->nrefl) {
		contour_log(c->mod, CONTOUR_LOG_INFO, "initial list complete (%zu watches)",
		            c->nrefl);
		contour_source_set_synced(c->src);
	}
}

static int kw_start(contour_module_t *mod)
{
	kw_ctx_t *c = contour_module_ctx_get(mod);
	char err[512];
	if (c->started)
		return CONTOUR_EOK;
	c->http = kw_http_new(mod, &c->conn, "contour/" PACKAGE_VERSION " (linux) k8s-watch", err,
	                      sizeof(err));
	if (!c->http) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s", err);
		return CONTOUR_EMODULE;
	}
	kw_http_set_limits(c->http, 0, contour_conf_get_duration_ms(mod, "token-refresh", 60000));
	if (kw_http_set_health(c->http, c->health) != CONTOUR_EOK)
		return CONTOUR_ENOMEM;
	size_t nk, nns = json_array_size(c->namespaces);
	const kw_kind_t *kinds = kw_kinds(&nk);
	size_t per = nns ? nns : 1;
	c->refl = calloc(nk * per, sizeof(*c->refl));
	if (!c->refl)
		return CONTOUR_ENOMEM;
	for (size_t k = 0; k < nk; k++) {
		for (size_t n = 0; n < per; n++) {
			kw_reflector_opts_t o = {
			    .mod = mod,
			    .http = c->http,
			    .src = c->src,
			    .kind = &kinds[k],
			    .ns = nns ? json_string_value(json_array_get(c->namespaces, n)) : NULL,
			    .watch_timeout_ms = c->watch_timeout_ms,
			    .page_limit = c->page_limit,
			    .metrics = &c->metrics,
			    .synced = kw_synced,
			    .ud = c,
			};
			kw_reflector_t *r = kw_reflector_new(&o);
			if (!r)
				return CONTOUR_ENOMEM;
			c->refl[c->nrefl++] = r;
		}
	}
	for (size_t i = 0; i < c->nrefl; i++)
		kw_reflector_start(c->refl[i]);
	c->started = 1;
	if (c->read_only)
		contour_log(mod, CONTOUR_LOG_INFO,
		            "read-only: no status writes, no leader election");
	return kw_leader_start(c);
}

static void kw_stop(contour_module_t *mod)
{
	kw_ctx_t *c = contour_module_ctx_get(mod);
	if (!c || !c->started)
		return;
	kw_leader_stop(c);
	for (size_t i = 0; i < c->nrefl; i++)
		kw_reflector_stop(c->refl[i]);
	c->started = 0;
}

static void kw_free(contour_module_t *mod)
{
	kw_ctx_free(contour_module_ctx_get(mod));
	contour_module_ctx_set(mod, NULL);
}

CONTOUR_MODULE(.name = "k8s-watch", .version = PACKAGE_VERSION, .flags = CONTOUR_MODULE_F_COMMAND,
               .description = "Kubernetes API source: list and watch into the store",
               .schema = kw_schema, .global_schema = kw_global_schema, .cli_flags = kw_cli_flags,
               .check = kw_check, .init = kw_init, .start = kw_start, .stop = kw_stop,
               .free = kw_free);

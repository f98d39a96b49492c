/* modules/admission/admission.c: the admission module's entry point.
 *
 * A validating admission webhook: kube-apiserver POSTs an AdmissionReview
 * to https://ADDRESS:PORT/validate, the validators other modules registered
 * for the object's kind (contour_register_validator) run on it, and their
 * verdict is the answer. Upstream Contour has no webhook; this module is
 * the optional feature k8s-wire.md §5 leaves room for. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/admission/adm.h"

static const contour_conf_item_t adm_schema[] = {
    {.key = "address",
     .type = CONTOUR_CONF_STR,
     .def = "0.0.0.0",
     .help = "numeric IPv4 or IPv6 address to listen on"},
    {.key = "port",
     .type = CONTOUR_CONF_INT,
     .def = "8443",
     .min = 0,
     .max = 65535,
     .help = "TCP port; 0 picks a free port and logs it"},
    {.key = "cert-file",
     .type = CONTOUR_CONF_STR,
     .flags = CONTOUR_CONF_REQUIRED,
     .help = "PEM certificate chain served, reloaded when the file changes"},
    {.key = "key-file",
     .type = CONTOUR_CONF_STR,
     .flags = CONTOUR_CONF_REQUIRED,
     .help = "PEM private key of cert-file, reloaded when the file changes"},
    {.key = "max-request-bytes",
     .type = CONTOUR_CONF_INT,
     .def = "3145728",
     .min = 1024,
     .max = 67108864,
     .help = "largest request body accepted (larger: 413)"},
    {.key = "read-timeout",
     .type = CONTOUR_CONF_DURATION,
     .def = "10s",
     .min = 100,
     .max = 600000,
     .help = "time allowed for the TLS handshake, each request's headers, its body, an "
             "idle keep-alive connection and an answer to be read"},
    {.key = "max-connections",
     .type = CONTOUR_CONF_INT,
     .def = "1024",
     .min = 1,
     .max = 65536,
     .help = "open connections at most; accept pauses at the cap"},
    {.key = NULL},
};

static int adm_check(const json_t *config, char *err, size_t errlen)
{
	int rc = contour_conf_check_address(config, "address", err, errlen);
	if (rc != CONTOUR_EOK)
		return rc;
	const char *keys[] = {"cert-file", "key-file"};
	for (size_t i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(config, keys[i]));
		if (!v || !*v) {
			snprintf(err, errlen, "%s: must name a PEM file", keys[i]);
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

/* p resolved against the config file's folder (made absolute, so nothing
 * depends on the cwd later). A new string. */
static char *adm_resolve(contour_module_t *mod, const char *p)
{
	char cwd[4096];
	const char *cfg = contour_module_config_path(mod);
	if (p[0] == '/')
		return strdup(p);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	const char *slash = cfg ? strrchr(cfg, '/') : NULL;
	int dlen = slash ? (int)(slash - cfg) : 0;
	size_t n = strlen(cwd) + (size_t)dlen + strlen(p) + 3;
	char *out = malloc(n);
	if (!out)
		return NULL;
	if (slash && cfg[0] == '/')
		snprintf(out, n, "%.*s/%s", dlen, cfg, p);
	else if (slash)
		snprintf(out, n, "%s/%.*s/%s", cwd, dlen, cfg, p);
	else
		snprintf(out, n, "%s/%s", cwd, p);
	return out;
}

static const char *const adm_review_labels[] = {"kind", "operation", "result", NULL};
static const char *const adm_kind_labels[] = {"kind", NULL};
static const char *const adm_reason_labels[] = {"reason", NULL};
/* Validators run in the loop and should take milliseconds. */
static const double adm_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                     0.01,   0.025,   0.05,   0.1,   0.25,   1};

static int adm_register_metrics(adm_ctx_t *ctx)
{
	const contour_metric_desc_t reviews = {
	    .type = CONTOUR_METRIC_COUNTER,
	    .name = "contour_admission_reviews_total",
	    .help = "AdmissionReviews answered, by kind (\"other\" when no module validates "
	            "it), operation and result (allowed, denied, error).",
	    .labels = adm_review_labels,
	};
	const contour_metric_desc_t duration = {
	    .type = CONTOUR_METRIC_HISTOGRAM,
	    .name = "contour_admission_review_duration_seconds",
	    .help = "Time to parse, validate and answer one AdmissionReview, by kind.",
	    .labels = adm_kind_labels,
	    .bounds = adm_buckets,
	    .nbounds = sizeof(adm_buckets) / sizeof(adm_buckets[0]),
	};
	const contour_metric_desc_t denials = {
	    .type = CONTOUR_METRIC_COUNTER,
	    .name = "contour_admission_denials_total",
	    .help = "Denials given in AdmissionReview answers, by the status reason the "
	            "validator gave, else the top-level field they concern.",
	    .labels = adm_reason_labels,
	};
	int rc = contour_register_metric(ctx->mod, &reviews, &ctx->metrics.reviews);
	if (rc == CONTOUR_EOK)
		rc = contour_register_metric(ctx->mod, &duration, &ctx->metrics.duration);
	if (rc == CONTOUR_EOK)
		rc = contour_register_metric(ctx->mod, &denials, &ctx->metrics.denials);
	return rc;
}

static void adm_ctx_free(adm_ctx_t *ctx)
{
	if (!ctx)
		return;
	adm_tls_free(ctx->tls);
	CONTOUR_FREE_ALL(ctx->set.cert_file, ctx->set.key_file, ctx);
}

static int adm_init(contour_module_t *mod, const json_t *config)
{
	int rc = CONTOUR_ENOMEM;
	adm_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CONTOUR_ENOMEM;
	ctx->mod = mod;
	adm_set_t *s = &ctx->set;
	s->address = contour_conf_get_str(mod, "address", "0.0.0.0");
	s->port = (int)contour_conf_get_int(mod, "port", 8443);
	s->max_request_bytes = (size_t)contour_conf_get_int(mod, "max-request-bytes", 3145728);
	s->read_timeout_ms = contour_conf_get_duration_ms(mod, "read-timeout", 10000);
	s->max_connections = (int)contour_conf_get_int(mod, "max-connections", 1024);
	s->cert_file = adm_resolve(mod, contour_conf_get_str(mod, "cert-file", ""));
	s->key_file = adm_resolve(mod, contour_conf_get_str(mod, "key-file", ""));
	if (!s->cert_file || !s->key_file)
		goto fail;
	rc = adm_register_metrics(ctx);
	if (rc != CONTOUR_EOK) {
		contour_log(mod, CONTOUR_LOG_ERR, "cannot register metrics: %s",
		            contour_strerror(rc));
		goto fail;
	}
	/* Loaded here, so a missing or bad file stops startup with its key. */
	ctx->tls = adm_tls_new(ctx);
	if (!ctx->tls) {
		rc = CONTOUR_ECONFIG;
		goto fail;
	}
	contour_module_ctx_set(mod, ctx);
	return CONTOUR_EOK;
fail:
	adm_ctx_free(ctx);
	return rc;
}

static int adm_start(contour_module_t *mod)
{
	adm_ctx_t *ctx = contour_module_ctx_get(mod);
	int rc = adm_tls_start(ctx->tls);
	if (rc != CONTOUR_EOK)
		return rc;
	return adm_http_start(ctx);
}

static void adm_stop(contour_module_t *mod)
{
	adm_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	adm_http_stop(ctx);
	adm_tls_stop(ctx->tls);
}

static void adm_free(contour_module_t *mod)
{
	adm_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	adm_http_stop(ctx);
	adm_ctx_free(ctx);
	contour_module_ctx_set(mod, NULL);
}

CONTOUR_MODULE(.name = "admission", .version = PACKAGE_VERSION,
               .description = "validating admission webhook: runs the registered validators "
                              "on AdmissionReviews over HTTPS",
               .schema = adm_schema, .check = adm_check, .init = adm_init, .start = adm_start,
               .stop = adm_stop, .free = adm_free);

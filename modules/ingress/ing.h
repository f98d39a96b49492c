/* modules/ingress/ing.h: the ingress module's private interfaces.
 *
 *   ing_annot.c    upstream's Ingress annotations (internal/annotation) read
 *                  once per Ingress: allow-http, force-ssl-redirect,
 *                  timeouts, retries, TLS versions, websocket routes
 *   ing_tls.c      spec.tls: secure virtual hosts (computeSecureVirtualhosts)
 *   ing_rules.c    spec.rules and spec.defaultBackend: routes and clusters
 *                  (computeIngresses / computeIngressRule / route)
 *   ing_status.c   status.loadBalancer from the global ingress-status-address
 *   ing_proc.c     the processor: class filtering, the two passes, statuses;
 *                  ing_report, where every problem of an Ingress goes
 *   ing_validate.c the validator (contour/admission.h): the same passes on
 *                  one object, problems into a verdict instead of the log
 *   ingress.c      the module: descriptor, settings, registration
 *
 * Upstream's internal/dag/ingress_processor.go is the specification. An
 * Ingress has no conditions: whatever upstream skips is skipped here with
 * one log line naming the Ingress and the reason, and never affects other
 * Ingresses. That line is written by ing_report, which a review (the
 * validator) turns into a denial or a warning instead.
 *
 * The regex check, the timeouts and the service header policies are the
 * domain layer's (contour_regex_check, contour_timeout_parse,
 * contour_header_policy_build), so both processors validate and merge
 * alike.
 */
#ifndef ING_H
#define ING_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <contour/module.h>

#define ING_API_VERSION "networking.k8s.io/v1"
#define ING_KIND        "Ingress"

/* Settings read once at init from the global config. */
typedef struct ing_settings {
	/* policy.request-headers / policy.response-headers, a reference each,
	 * only when policy.applyToIngress is true (else NULL). */
	json_t *request_headers, *response_headers;
	/* status.loadBalancer for every accepted Ingress (a reference). */
	json_t *load_balancer;
} ing_settings_t;

typedef struct ingress_ctx {
	contour_module_t *mod;
	ing_settings_t settings;
} ingress_ctx_t;

/* ---- ing_annot.c ---- */

/* What the annotations of one Ingress say; strings are borrowed from the
 * Ingress object (valid for the build). */
typedef struct ing_annot {
	int http_allowed;               /* kubernetes.io/ingress.allow-http is not "false" */
	int tls_required;               /* ingress.kubernetes.io/force-ssl-redirect is "true" */
	const char *tls_cert_namespace; /* "" when absent */
	const char *min_tls, *max_tls;  /* "1.2" / "1.3" (defaults 1.2 / 1.3) */
	contour_dag_timeout_policy_t timeouts;
	/* retry-on, or NULL for no retry policy */
	const char *retry_on;
	uint32_t num_retries;
	int64_t per_try_timeout_ms;
	const char *websocket_routes; /* the raw comma-separated list, or "" */
} ing_annot_t;

typedef struct ing_build ing_build_t;
typedef struct ing_object ing_object_t;

/* ing_annot_read: read ing->obj's annotations into ing->annot. An
 * unparsable response-timeout or per-try-timeout is reported
 * (ing_report) and left at Envoy's default, as upstream does. */
void ing_annot_read(ing_build_t *b, ing_object_t *ing);
/* upstream's annotation.TLSVersion: "1.2" or "1.3" as given, else def. */
const char *ing_tls_version(const char *v, const char *def);
/* upstream's annotation.NumRetries on the annotation text. */
uint32_t ing_num_retries(const char *s);
/* 1 when path is one of the websocket-routes entries (trimmed). */
int ing_annot_websocket(const ing_annot_t *a, const char *path);
/* The annotation `key` of obj, or "" (borrowed). */
const char *ing_annotation(const json_t *obj, const char *key);

/* ---- the build (ing_proc.c) ---- */

/* One Ingress that passed class filtering. */
struct ing_object {
	const json_t *obj;
	const char *ns, *name;
	ing_annot_t annot;
};

struct ing_build {
	ingress_ctx_t *ctx;
	contour_module_t *mod;
	contour_dag_t *dag;
	ing_object_t *ings; /* in namespace, name order (the store's) */
	size_t n, cap;
	int nomem; /* an allocation failed: abandon the build */
	/* A review (ing_validate.c): problems go here, not to the log, and
	 * the checks of the object's own fields go on past a reference the
	 * build stops at. NULL in a build. */
	contour_verdict_t *verdict;
};

/* Whose fault a problem is. */
typedef enum ing_problem {
	ING_PROBLEM_OWN,      /* the Ingress's own fields: a denial at admission */
	ING_PROBLEM_ELSEWHERE /* another object (a Service, a Secret, a
	                       * delegation) or the controller's config: a
	                       * warning, so creation order does not matter */
} ing_problem_t;

/* ing_report: one problem of ing. In a build, the log line
 * "ingress NS/NAME: MESSAGE" at level; in a review, MESSAGE as a denial
 * concerning field (ING_PROBLEM_OWN) or a warning (field unused). */
void ing_report(ing_build_t *b, const ing_object_t *ing, contour_log_level_t level,
                ing_problem_t kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* ing_object_init: ing for obj (of our class): key and annotations. */
void ing_object_init(ing_build_t *b, ing_object_t *ing, const json_t *obj);

/* ---- ing_tls.c ---- */
/* computeSecureVirtualhosts for one Ingress: a secure vhost per TLS host
 * whose Secret resolves (and is delegated when it lives elsewhere). */
void ing_tls_vhosts(ing_build_t *b, const ing_object_t *ing);

/* ---- ing_rules.c ---- */
/* computeIngresses for one Ingress: the default backend first, then every
 * rule's paths, into the HTTP vhost (unless allow-http is false and no
 * redirect is forced) and into the secure vhost of an exactly matching TLS
 * host. */
void ing_rules(ing_build_t *b, const ing_object_t *ing);
/* The path match of one HTTPIngressPath (upstream's route() switch):
 * returns 0, or -1 with the regex error in err. value is arena memory. */
int ing_path_match(contour_dag_t *dag, const char *path, const char *path_type,
                   contour_dag_path_match_t *out, char *err, size_t errlen);

/* ---- ing_status.c ---- */
/* upstream's parseStatusFlag: {"ingress": [{"ip": A} | {"hostname": H}]}
 * from a comma-separated address list (NULL or "" gives {}), the domain
 * layer's contour_status_lb_new. New reference, NULL on allocation
 * failure. */
json_t *ing_status_load_balancer(const char *addresses);
/* Record {"loadBalancer": ...} as ing's status on the snapshot. */
int ing_status_record(ing_build_t *b, contour_snapshot_t *building, const ing_object_t *ing);

/* ---- ing_proc.c ---- */
/* The processor registered by ingress.c. */
int ing_process(contour_snapshot_t *building, void *ud);

/* ---- ing_validate.c ---- */
/* The validator registered by ingress.c for networking.k8s.io/v1 Ingress. */
void ing_validate(contour_module_t *mod, const contour_review_t *review, contour_verdict_t *v,
                  void *ud);

/* ---- ing_globals.c ---- */
/* The global keys ingress reads: the descriptor's global_schema. */
extern const contour_conf_item_t ing_global_schema[];

#endif

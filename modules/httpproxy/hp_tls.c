/* modules/httpproxy/hp_tls.c: TLS on a root's virtual host (secret,
 * passthrough, protocol versions, fallback certificate, client validation)
 * and upstream validation of TLS services, in upstream's order and with its
 * messages (computeHTTPProxy and LookupUpstreamValidation). A Secret in
 * another namespace is checked for delegation before it is looked up, as
 * upstream's KubernetesCache does. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "modules/httpproxy/hp_proc.h"

#define HP_NAME_MAX 512

/* upstream's annotation.TLSVersion. */
static const char *hp_tls_version(const char *v, const char *def)
{
	if (!strcmp(v, "1.2"))
		return "1.2";
	if (!strcmp(v, "1.3"))
		return "1.3";
	return def;
}

/* One client-validation Secret, the CA or the CRL (what), its delegation
 * checked before the lookup: 0, or -1 with the error recorded. */
static int hp_tls_validation_secret(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px,
                                    const char *ref, const char *what,
                                    contour_dag_secret_type_t type, contour_dag_secret_t **out)
{
	char ns[HP_NAME_MAX], name[HP_NAME_MAX], q[2 * HP_NAME_MAX], err[1024];
	hp_split_name(ref, px->ns, ns, sizeof(ns), name, sizeof(name));
	if (!contour_dag_delegation_permitted(b->dag, ns, name, px->ns)) {
		hp_status_error_ref(st, "TLSError", "DelegationNotPermitted",
		                    "Spec.VirtualHost.TLS %s Secret %s is invalid: certificate "
		                    "delegation not permitted",
		                    what, contour_quote(q, sizeof(q), ref, CONTOUR_QUOTE_STRCONV));
		return -1;
	}
	if (contour_dag_lookup_secret(b->mod, b->dag, ns, name, type, out, err, sizeof(err)) !=
	    CONTOUR_EOK) {
		char full[2 * HP_NAME_MAX];
		snprintf(full, sizeof(full), "%s/%s", ns, name);
		hp_status_error_ref(st, "TLSError", "ClientValidationInvalid",
		                    "Spec.VirtualHost.TLS client validation is invalid: invalid %s "
		                    "Secret %s: %s",
		                    what, contour_quote(q, sizeof(q), full, CONTOUR_QUOTE_STRCONV),
		                    err);
		return -1;
	}
	return 0;
}

/* clientValidation: -1 stops the root. */
static int hp_tls_client_validation(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px,
                                    const json_t *cv, contour_dag_svhost_t *sv)
{
	contour_dag_client_validation_t *dv = contour_dag_client_validation_new(b->dag);
	if (!dv) {
		b->nomem = 1;
		return -1;
	}
	dv->skip_verify = contour_json_get_bool(cv, "skipClientCertValidation");
	dv->optional = contour_json_get_bool(cv, "optionalClientCertificate");
	const json_t *fwd = contour_json_get_obj(cv, "forwardClientCertificate");
	if (fwd) {
		dv->forward.subject = contour_json_get_bool(fwd, "subject");
		dv->forward.cert = contour_json_get_bool(fwd, "cert");
		dv->forward.chain = contour_json_get_bool(fwd, "chain");
		dv->forward.dns = contour_json_get_bool(fwd, "dns");
		dv->forward.uri = contour_json_get_bool(fwd, "uri");
	}
	const char *ca = contour_json_get_str(cv, "caSecret");
	if (*ca) {
		if (hp_tls_validation_secret(b, st, px, ca, "CA", CONTOUR_DAG_SECRET_CA, &dv->ca))
			return -1;
	} else if (!dv->skip_verify) {
		/* Recorded, but upstream carries on building the vhost. */
		hp_status_error(
		    st, "TLSError", "ClientValidationInvalid",
		    "Spec.VirtualHost.TLS client validation is invalid: CA Secret must be "
		    "specified");
	}
	const char *crl = contour_json_get_str(cv, "crlSecret");
	if (*crl) {
		if (hp_tls_validation_secret(b, st, px, crl, "CRL", CONTOUR_DAG_SECRET_CRL,
		                             &dv->crl))
			return -1;
		dv->crl_only_leaf = contour_json_get_bool(cv, "crlOnlyVerifyLeafCert");
	}
	sv->client_validation = dv;
	return 0;
}

/* enableFallbackCertificate: -1 stops the root. */
static int hp_tls_fallback(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px,
                           contour_dag_svhost_t *sv)
{
	const hp_settings_t *s = &b->ctx->settings;
	char q[2 * HP_NAME_MAX], full[2 * HP_NAME_MAX], err[1024];
	if (!s->fallback_name || !*s->fallback_name) {
		hp_status_error(
		    st, "TLSError", "FallbackNotPresent",
		    "Spec.Virtualhost.TLS enabled fallback but the fallback Certificate "
		    "Secret is not configured in Contour configuration file");
		return -1;
	}
	const char *fns = s->fallback_ns && *s->fallback_ns ? s->fallback_ns : "";
	snprintf(full, sizeof(full), "%s/%s", fns, s->fallback_name);
	contour_quote(q, sizeof(q), full, CONTOUR_QUOTE_STRCONV);
	if (!contour_dag_delegation_permitted(b->dag, fns, s->fallback_name, px->ns)) {
		hp_status_error(st, "TLSError", "FallbackNotDelegated",
		                "Spec.VirtualHost.TLS Secret %s is not configured for certificate "
		                "delegation",
		                q);
		return -1;
	}
	contour_dag_secret_t *sec = NULL;
	if (contour_dag_lookup_secret(b->mod, b->dag, fns, s->fallback_name, CONTOUR_DAG_SECRET_TLS,
	                              &sec, err, sizeof(err)) != CONTOUR_EOK) {
		hp_status_error_ref(
		    st, "TLSError", "FallbackNotValid",
		    "Spec.Virtualhost.TLS Secret %s fallback certificate is invalid: %s", q, err);
		return -1;
	}
	sv->fallback_certificate = 1;
	if (!b->dag->fallback_secret)
		b->dag->fallback_secret = sec;
	return 0;
}

int hp_tls_vhost(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px, const char *host,
                 int *tls_enabled)
{
	const json_t *vh = contour_json_get_obj(px->spec, "virtualhost");
	const json_t *tls = contour_json_get_obj(vh, "tls");
	*tls_enabled = 0;
	if (!tls)
		return 0;
	int passthrough = contour_json_get_bool(tls, "passthrough");
	int fallback = contour_json_get_bool(tls, "enableFallbackCertificate");
	const char *secret = contour_json_get_str(tls, "secretName");
	const json_t *cv = contour_json_get_obj(tls, "clientValidation");

	if (passthrough && fallback)
		hp_status_error(
		    st, "TLSError", "TLSIncompatibleFeatures",
		    "Spec.VirtualHost.TLS: both Passthrough and enableFallbackCertificate "
		    "were specified");
	if (!hp_blank(secret) && passthrough) {
		hp_status_error(
		    st, "TLSError", "TLSConfigNotValid",
		    "Spec.VirtualHost.TLS: both Passthrough and SecretName were specified");
		return -1;
	}
	if (hp_blank(secret) && !passthrough) {
		hp_status_error(st, "TLSError", "TLSConfigNotValid",
		                "Spec.VirtualHost.TLS: neither Passthrough nor SecretName were "
		                "specified");
		return -1;
	}
	if (passthrough && json_object_get(tls, "clientValidation") &&
	    !json_is_null(json_object_get(tls, "clientValidation"))) {
		hp_status_error(st, "TLSError", "TLSIncompatibleFeatures",
		                "Spec.VirtualHost.TLS passthrough cannot be combined with "
		                "tls.clientValidation");
		return -1;
	}
	*tls_enabled = 1;
	if (passthrough)
		return 0;

	char ns[HP_NAME_MAX], name[HP_NAME_MAX], q[2 * HP_NAME_MAX], err[1024];
	hp_split_name(secret, px->ns, ns, sizeof(ns), name, sizeof(name));
	contour_quote(q, sizeof(q), secret, CONTOUR_QUOTE_STRCONV);
	if (!contour_dag_delegation_permitted(b->dag, ns, name, px->ns)) {
		hp_status_error_ref(
		    st, "TLSError", "DelegationNotPermitted",
		    "Spec.VirtualHost.TLS Secret %s certificate delegation not permitted", q);
		return -1;
	}
	contour_dag_secret_t *sec = NULL;
	if (contour_dag_lookup_secret(b->mod, b->dag, ns, name, CONTOUR_DAG_SECRET_TLS, &sec, err,
	                              sizeof(err)) != CONTOUR_EOK) {
		hp_status_error_ref(st, "TLSError", "SecretNotValid",
		                    "Spec.VirtualHost.TLS Secret %s is invalid: %s", q, err);
		return -1;
	}
	const char *min =
	    hp_tls_version(contour_json_get_str(tls, "minimumProtocolVersion"), "1.2");
	const char *max =
	    hp_tls_version(contour_json_get_str(tls, "maximumProtocolVersion"), "1.3");
	if (strcmp(max, min) < 0) {
		hp_status_error(
		    st, "TLSError", "TLSConfigNotValid",
		    "Spec.Virtualhost.TLS the minimum protocol version is greater than the "
		    "maximum protocol version");
		return -1;
	}
	contour_dag_svhost_t *sv = contour_dag_svhost(b->dag, host);
	if (!sv) {
		b->nomem = 1;
		return -1;
	}
	sv->secret = sec;
	sv->min_tls_version = min;
	sv->max_tls_version = max;

	const json_t *auth = contour_json_get_obj(vh, "authorization");
	if (fallback && cv) {
		hp_status_error(
		    st, "TLSError", "TLSIncompatibleFeatures",
		    "Spec.Virtualhost.TLS fallback & client validation are incompatible");
		return -1;
	}
	if (fallback && auth &&
	    *contour_json_get_str(contour_json_get_obj(auth, "extensionRef"), "name")) {
		hp_status_error(st, "TLSError", "TLSIncompatibleFeatures",
		                "Spec.Virtualhost.TLS fallback & client authorization are "
		                "incompatible");
		return -1;
	}
	if (fallback && json_array_size(contour_json_get_arr(vh, "jwtProviders")) > 0) {
		hp_status_error(st, "TLSError", "TLSIncompatibleFeatures",
		                "Spec.Virtualhost.TLS fallback & JWT providers are incompatible");
		return -1;
	}
	if (fallback && hp_tls_fallback(b, st, px, sv) != 0)
		return -1;
	if (cv && hp_tls_client_validation(b, st, px, cv, sv) != 0)
		return -1;
	if (auth)
		hp_ignored(st, "\"Spec.VirtualHost.Authorization\"");
	if (json_array_size(contour_json_get_arr(vh, "jwtProviders")) > 0)
		hp_ignored(st, "\"Spec.VirtualHost.JWTProviders\"");
	return 0;
}

int hp_tls_upstream_validation(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px,
                               const json_t *service, contour_dag_cluster_t *c)
{
	const json_t *uv = contour_json_get_obj(service, "validation");
	const char *svc = contour_json_get_str(service, "name");
	json_int_t port = contour_json_get_int(service, "port");
	char ns[HP_NAME_MAX], name[HP_NAME_MAX], full[2 * HP_NAME_MAX], q[2 * HP_NAME_MAX];
	char err[1024];
	hp_split_name(contour_json_get_str(uv, "caSecret"), px->ns, ns, sizeof(ns), name,
	              sizeof(name));
	snprintf(full, sizeof(full), "%s/%s", ns, name);
	contour_quote(q, sizeof(q), full, CONTOUR_QUOTE_STRCONV);
	if (!contour_dag_delegation_permitted(b->dag, ns, name, px->ns)) {
		hp_status_error_ref(
		    st, "TLSError", "CACertificateNotDelegated",
		    "service.UpstreamValidation.CACertificate Secret %s is not configured "
		    "for certificate delegation",
		    q);
		return -1;
	}
	if (contour_dag_lookup_secret(b->mod, b->dag, ns, name, CONTOUR_DAG_SECRET_CA,
	                              &c->validation_ca, err, sizeof(err)) != CONTOUR_EOK) {
		hp_status_error_ref(
		    st, "ServiceError", "TLSUpstreamValidation",
		    "Service [%s:%lld] TLS upstream validation policy error: invalid CA "
		    "Secret %s: %s",
		    svc, (long long)port, q, err);
		return -1;
	}
	const char *subject = contour_json_get_str(uv, "subjectName");
	if (!*subject) {
		hp_status_error(st, "ServiceError", "TLSUpstreamValidation",
		                "Service [%s:%lld] TLS upstream validation policy error: missing "
		                "subject alternative name",
		                svc, (long long)port);
		return -1;
	}
	const json_t *names = contour_json_get_arr(uv, "subjectNames");
	const char **list = NULL;
	size_t n = 0;
	if (json_array_size(names) == 0) {
		const char *copy = contour_dag_strdup(b->dag, subject);
		if (!copy || contour_dag_str_push(b->dag, &list, &n, copy) != CONTOUR_EOK)
			goto nomem;
	} else {
		const char *first = json_string_value(json_array_get(names, 0));
		if (!first || strcmp(first, subject)) {
			hp_status_error(
			    st, "ServiceError", "TLSUpstreamValidation",
			    "Service [%s:%lld] TLS upstream validation policy error: first "
			    "entry of SubjectNames (%s) does not match SubjectName (%s)",
			    svc, (long long)port, first ? first : "", subject);
			return -1;
		}
		size_t i;
		const json_t *e;
		json_array_foreach(names, i, e)
		{
			const char *copy = contour_dag_strdup(b->dag, json_string_value(e));
			if (!copy)
				continue;
			if (contour_dag_str_push(b->dag, &list, &n, copy) != CONTOUR_EOK)
				goto nomem;
		}
	}
	c->subject_names = list;
	c->nsubject_names = n;
	return 0;
nomem:
	b->nomem = 1;
	return -1;
}

/* modules/ingress/ing_tls.c: spec.tls of an Ingress, as upstream's
 * computeSecureVirtualhosts. It runs for every Ingress before any rule, so
 * the set of secure vhosts is settled when routes look for theirs. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "modules/ingress/ing.h"

/* k8s.NamespacedNameFrom(secretName, TLSCertAnnotationNamespace(ing),
 * DefaultNamespace(ing.ns)): "ns/name" names its namespace; a bare name
 * lives in the tls-cert-namespace annotation's namespace, else the
 * Ingress's own. */
static void ing_secret_name(const ing_object_t *ing, const char *secret, char *ns, size_t nslen,
                            char *name, size_t namelen)
{
	const char *slash = strchr(secret, '/');
	if (slash) {
		snprintf(ns, nslen, "%.*s", (int)(slash - secret), secret);
		snprintf(name, namelen, "%s", slash + 1);
	} else {
		ns[0] = '\0';
		snprintf(name, namelen, "%s", secret);
	}
	if (!*ns)
		snprintf(ns, nslen, "%s", ing->annot.tls_cert_namespace);
	if (!*ns)
		snprintf(ns, nslen, "%s", ing->ns);
	if (!*ns)
		snprintf(ns, nslen, "default");
}

void ing_tls_vhosts(ing_build_t *b, const ing_object_t *ing)
{
	const ing_annot_t *a = &ing->annot;
	size_t i;
	const json_t *tls;
	json_array_foreach(contour_json_get_arr(contour_json_get_obj(ing->obj, "spec"), "tls"), i,
	                   tls)
	{
		char ns[256], name[256], err[512];
		ing_secret_name(ing, contour_json_get_str(tls, "secretName"), ns, sizeof(ns), name,
		                sizeof(name));
		/* A review checks the version range past a Secret the build
		 * cannot use yet: once it resolves, the build refuses the range. */
		contour_dag_secret_t *sec = NULL;
		if (!contour_dag_delegation_permitted(b->dag, ns, name, ing->ns)) {
			ing_report(b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_ELSEWHERE, NULL,
			           "secret %s/%s: certificate delegation not permitted", ns, name);
			if (!b->verdict)
				continue;
		} else if (contour_dag_lookup_secret(b->mod, b->dag, ns, name,
		                                     CONTOUR_DAG_SECRET_TLS, &sec, err,
		                                     sizeof(err)) != CONTOUR_EOK) {
			ing_report(b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_ELSEWHERE, NULL,
			           "unresolved secret reference %s/%s: %s", ns, name, err);
			sec = NULL;
			if (!b->verdict)
				continue;
		}
		const json_t *hosts = contour_json_get_arr(tls, "hosts");
		/* Upstream abandons the whole pass here; the version range is the
		 * Ingress's own, so only its TLS vhosts are skipped. */
		if (json_array_size(hosts) > 0 && strcmp(a->max_tls, a->min_tls) < 0) {
			ing_report(
			    b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_OWN,
			    "metadata.annotations[projectcontour.io/tls-minimum-protocol-version]",
			    "error TLS protocol version, the minimum protocol "
			    "version is greater than the maximum protocol version "
			    "(minTLSVersion=%s maxTLSVersion=%s); TLS skipped",
			    a->min_tls, a->max_tls);
			return;
		}
		if (!sec)
			continue;
		size_t j;
		const json_t *h;
		json_array_foreach(hosts, j, h)
		{
			const char *host = json_string_value(h);
			if (!host)
				continue;
			contour_dag_svhost_t *sv = contour_dag_svhost(b->dag, host);
			if (!sv) {
				b->nomem = 1;
				return;
			}
			sv->secret = sec;
			sv->min_tls_version = a->min_tls;
			sv->max_tls_version = a->max_tls;
		}
	}
}

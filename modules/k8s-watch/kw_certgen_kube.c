/* modules/k8s-watch/kw_certgen_kube.c: `contour certgen --kube`.
 *
 * Through k8s-watch's own client (kw_http.c: the same kubeconfig or
 * service-account login as the watch), with blocking requests: certgen is a
 * one-shot command with no loop running.
 *
 * Secrets as upstream's WriteSecretsKube: create each; on AlreadyExists keep
 * it, or with --overwrite replace it (PUT, no resourceVersion, as client-go's
 * Update of the object built here). Ours: the admission webhook's
 * ValidatingWebhookConfiguration gets the CA as clientConfig.caBundle of
 * every webhook (GET, PUT with its resourceVersion, again on 409), waiting a
 * while for a configuration not applied yet. The only calls made are those
 * the manifests grant certgen: secrets create, get, update in its namespace,
 * validatingwebhookconfigurations get, update.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "modules/k8s-watch/kw_certgen.h"

#define KK_TIMEOUT_MS     30000
#define KK_CONFLICT_TRIES 5 /* client-go's retry.DefaultRetry steps */
#define KK_VWC_PATH       "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/"
#define KK_UA             "/certgen"

typedef struct kk_resp {
	long status;
	json_t *body;  /* the parsed answer, or NULL */
	char msg[768]; /* for an answer that is not 2xx */
} kk_resp_t;

static void kk_done(const kw_resp_t *r, void *ud)
{
	kk_resp_t *o = ud;
	o->status = r->status;
	o->body = r->len ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	o->msg[0] = '\0';
	if (r->status < 200 || r->status > 299)
		kw_status_message(r, o->msg, sizeof(o->msg));
}

/* One request; body (may be NULL) is sent as compact JSON. */
static long kk_call(kw_http_t *h, const char *method, const char *path, const json_t *body,
                    kk_resp_t *out)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	memset(out, 0, sizeof(*out));
	if (body && !text) {
		snprintf(out->msg, sizeof(out->msg), "out of memory");
		return 0;
	}
	kw_http_request_sync_resp(h, method, path, text, KK_TIMEOUT_MS, KK_UA, kk_done, out);
	if (text) {
		explicit_bzero(text, strlen(text)); /* Secrets carry keys */
		free(text);
	}
	return out->status;
}

static void kk_resp_fini(kk_resp_t *r)
{
	json_decref(r->body);
	r->body = NULL;
}

static const char *kk_reason(const kk_resp_t *r)
{
	return json_string_value(json_object_get(r->body, "reason"));
}

int kw_certgen_write_kube(kw_http_t *h, const json_t *secrets, int overwrite,
                          kw_secret_outcome_t *outcomes, char *err, size_t errlen)
{
	size_t i;
	json_t *s;
	char path[1024];
	json_array_foreach((json_t *)secrets, i, s)
	{
		const json_t *md = json_object_get(s, "metadata");
		const char *name = json_string_value(json_object_get(md, "name"));
		const char *ns = json_string_value(json_object_get(md, "namespace"));
		kk_resp_t r;
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets", ns);
		long code = kk_call(h, "POST", path, s, &r);
		if (code == 201 || code == 200) {
			printf("secret/%s created\n", name);
			if (outcomes)
				outcomes[i] = KW_SECRET_CREATED;
			kk_resp_fini(&r);
			continue;
		}
		const char *reason = kk_reason(&r);
		if (code != 409 || !reason || strcmp(reason, "AlreadyExists")) {
			snprintf(err, errlen, "%s", r.msg);
			kk_resp_fini(&r);
			return CONTOUR_EIO;
		}
		kk_resp_fini(&r);
		if (!overwrite) {
			printf("secret/%s already exists, not overwritten\n", name);
			if (outcomes)
				outcomes[i] = KW_SECRET_KEPT;
			continue;
		}
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, name);
		code = kk_call(h, "PUT", path, s, &r);
		if (code != 200 && code != 201) {
			snprintf(err, errlen, "%s", r.msg);
			kk_resp_fini(&r);
			return CONTOUR_EIO;
		}
		kk_resp_fini(&r);
		printf("secret/%s updated\n", name);
		if (outcomes)
			outcomes[i] = KW_SECRET_UPDATED;
	}
	fflush(stdout);
	return CONTOUR_EOK;
}

/* ---- the webhook's caBundle ---- */

static int64_t kk_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void kk_sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The bundle: base64 of the CA PEM, which is what a Secret's ca.crt already
 * holds. The kept Secret's must decode to a certificate. */
static char *kk_bundle(kw_http_t *h, const kw_webhook_patch_t *p, char *err, size_t errlen)
{
	if (!p->secret_kept) {
		size_t n = strlen(p->ca_pem);
		char *out = malloc(4 * ((n + 2) / 3) + 1);
		if (!out) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p->ca_pem, (int)n);
		return out;
	}
	char path[1024];
	kk_resp_t r;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", p->ns, p->secret);
	if (kk_call(h, "GET", path, NULL, &r) != 200) {
		snprintf(err, errlen, "cannot read secret/%s for its ca.crt: %s", p->secret, r.msg);
		kk_resp_fini(&r);
		return NULL;
	}
	const char *ca =
	    json_string_value(json_object_get(json_object_get(r.body, "data"), "ca.crt"));
	char *pem = ca ? kw_conn_base64(ca) : NULL;
	char *out = NULL;
	if (!pem || !strstr(pem, "-----BEGIN CERTIFICATE-----"))
		snprintf(err, errlen,
		         "secret/%s already exists without a CA certificate in ca.crt, so the "
		         "webhook's caBundle cannot match it; run with --overwrite to replace it",
		         p->secret);
	else if (!(out = strdup(ca)))
		snprintf(err, errlen, "out of memory");
	free(pem);
	kk_resp_fini(&r);
	return out;
}

/* caBundle set on every webhook: the number changed, or -1 when there is
 * no webhook to set it on. */
static int kk_set_bundle(json_t *vwc, const char *bundle)
{
	json_t *hooks = json_object_get(vwc, "webhooks");
	size_t i;
	json_t *w;
	int changed = 0;
	if (!json_is_array(hooks) || !json_array_size(hooks))
		return -1;
	json_array_foreach(hooks, i, w)
	{
		if (!json_is_object(w))
			continue;
		json_t *cc = json_object_get(w, "clientConfig");
		if (!json_is_object(cc)) {
			cc = json_object();
			json_object_set_new(w, "clientConfig", cc);
		}
		const char *cur = json_string_value(json_object_get(cc, "caBundle"));
		if (cur && !strcmp(cur, bundle))
			continue;
		json_object_set_new(cc, "caBundle", json_string(bundle));
		changed++;
	}
	return changed;
}

static int kk_retryable(long code)
{
	return code == 0 || code == 404 || code == 429 || (code >= 500 && code <= 504);
}

int kw_certgen_patch_webhook(kw_http_t *h, const kw_webhook_patch_t *p, char *err, size_t errlen)
{
	char path[1024], wait[64];
	snprintf(path, sizeof(path), "%s%s", KK_VWC_PATH, p->configuration);
	contour_duration_format(p->wait_ms, wait, sizeof(wait));
	char *bundle = kk_bundle(h, p, err, errlen);
	if (!bundle)
		return CONTOUR_EIO;
	int64_t deadline = kk_now_ms() + p->wait_ms;
	int announced = 0, conflicts = 0, rc = CONTOUR_EIO;
	for (;;) {
		kk_resp_t r;
		long code = kk_call(h, "GET", path, NULL, &r);
		if (code == 200 && json_is_object(r.body)) {
			int changed = kk_set_bundle(r.body, bundle);
			if (changed < 0) {
				snprintf(
				    err, errlen,
				    "validatingwebhookconfiguration/%s has no webhooks to set the "
				    "caBundle of",
				    p->configuration);
				kk_resp_fini(&r);
				break;
			}
			if (changed == 0) {
				printf("validatingwebhookconfiguration/%s caBundle unchanged\n",
				       p->configuration);
				kk_resp_fini(&r);
				rc = CONTOUR_EOK;
				break;
			}
			kk_resp_t w;
			long put = kk_call(h, "PUT", path, r.body, &w);
			kk_resp_fini(&r);
			kk_resp_fini(&w);
			if (put == 200) {
				printf("validatingwebhookconfiguration/%s caBundle updated (%d "
				       "webhook%s)\n",
				       p->configuration, changed, changed == 1 ? "" : "s");
				rc = CONTOUR_EOK;
				break;
			}
			if (put == 409 && ++conflicts < KK_CONFLICT_TRIES) {
				kk_sleep_ms(10);
				continue;
			}
			snprintf(err, errlen, "cannot update validatingwebhookconfiguration/%s: %s",
			         p->configuration, w.msg);
			break;
		}
		kk_resp_fini(&r);
		int64_t left = deadline - kk_now_ms();
		if (!kk_retryable(code) || left <= 0) {
			/* The Secrets are written by now: a cluster without the webhook
			 * still gets its certificates, and the Job that ran certgen
			 * succeeds. The warning says how to fill the bundle later. */
			if (code == 404) {
				fprintf(stderr,
				        "contour certgen: warning: validatingwebhookconfiguration/%s "
				        "not found within %s (--webhook-wait): its caBundle is not "
				        "set; apply the webhook's manifests and run certgen again\n",
				        p->configuration, wait);
				rc = CONTOUR_EOK;
			} else
				snprintf(err, errlen,
				         "cannot read validatingwebhookconfiguration/%s: %s",
				         p->configuration, code == 200 ? "not an object" : r.msg);
			break;
		}
		if (!announced && code == 404) {
			printf(
			    "validatingwebhookconfiguration/%s not found yet, waiting up to %s\n",
			    p->configuration, wait);
			fflush(stdout);
			announced = 1;
		}
		kk_sleep_ms(left < p->retry_ms ? left : p->retry_ms);
	}
	free(bundle);
	fflush(stdout);
	return rc;
}

/* modules/k8s-watch/kw_certgen.c: `contour certgen`, upstream's flags.
 *
 * Generates a CA and the contour and envoy certificates (kw_certs.c) and
 * writes them as PEM files, as Secret YAML files and/or as Secrets in the
 * cluster, in that order, as upstream's OutputCerts does; then, ours, sets
 * the admission webhook's caBundle. Flags as kingpin parses them: "--f v",
 * "--f=v", bare booleans (also --no-f and --f=true|false), one positional
 * argument (the output folder), "--" ends the flags.
 *
 * Exit status: 0, 1 on any failure, 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw_certgen.h"

typedef enum { KG_BOOL, KG_STR, KG_DAYS, KG_DURATION } kg_kind_t;

typedef struct kg_opts {
	const char *outdir;
	unsigned long lifetime;
	int incluster, kube, overwrite, pem, yaml;
	const char *kubeconfig;
	const char *namespace_;
	const char *format;
	const char *suffix;
	const char *webhook_service;
	const char *webhook_configuration;
	int64_t webhook_wait_ms;
	char kubeconfig_default[4096];
} kg_opts_t;

typedef struct kg_flag {
	const char *name;
	kg_kind_t kind;
	size_t off;
	const char *env;
	const char *arg; /* placeholder in the usage */
	const char *help;
} kg_flag_t;

#define KG_OFF(f) offsetof(kg_opts_t, f)

static const kg_flag_t kg_flags[] = {
    {"certificate-lifetime", KG_DAYS, KG_OFF(lifetime), NULL, "DAYS",
     "Generated certificate lifetime (in days). Default 365."},
    {"incluster", KG_BOOL, KG_OFF(incluster), NULL, NULL, "Use in cluster configuration."},
    {"kube", KG_BOOL, KG_OFF(kube), NULL, NULL,
     "Apply the generated certs directly to the current Kubernetes cluster."},
    {"kubeconfig", KG_STR, KG_OFF(kubeconfig), NULL, "PATH",
     "Path to kubeconfig (if not in running inside a cluster). Default $HOME/.kube/config."},
    {"namespace", KG_STR, KG_OFF(namespace_), "CONTOUR_NAMESPACE", "NS",
     "Kubernetes namespace, used for Kube objects. Default projectcontour."},
    {"overwrite", KG_BOOL, KG_OFF(overwrite), NULL, NULL, "Overwrite existing files or Secrets."},
    {"pem", KG_BOOL, KG_OFF(pem), NULL, NULL,
     "Render the generated certs as individual PEM files to the output directory."},
    {"secrets-format", KG_STR, KG_OFF(format), NULL, "legacy|compact",
     "Specify how to format the generated Kubernetes Secrets. Default legacy."},
    {"secrets-name-suffix", KG_STR, KG_OFF(suffix), NULL, "SUFFIX",
     "Specify a suffix to be appended to the generated Kubernetes secrets' names."},
    {"yaml", KG_BOOL, KG_OFF(yaml), NULL, NULL,
     "Render the generated certs as Kubernetes Secrets in YAML form to the output directory."},
    {"webhook-service", KG_STR, KG_OFF(webhook_service), NULL, "NAME",
     "Also issue a serving certificate for the admission webhook's Service NAME "
     "(webhookcert.pem, webhookkey.pem; Secret webhookcert<suffix>)."},
    {"webhook-configuration", KG_STR, KG_OFF(webhook_configuration), NULL, "NAME",
     "With --kube, set the caBundle of the ValidatingWebhookConfiguration NAME. Default: the "
     "--webhook-service name."},
    {"webhook-wait", KG_DURATION, KG_OFF(webhook_wait_ms), NULL, "DURATION",
     "How long to wait for that configuration to exist. Default 60s."},
    {NULL, KG_BOOL, 0, NULL, NULL, NULL},
};

static void kg_usage(FILE *f)
{
	fprintf(f, "usage: contour certgen [<flags>] [<outputdir>]\n\n"
	           "Generate new TLS certs for bootstrapping gRPC over TLS.\n\nFlags:\n");
	for (const kg_flag_t *fl = kg_flags; fl->name; fl++) {
		fprintf(f, "  --%s%s%s\n        %s", fl->name, fl->arg ? "=" : "",
		        fl->arg ? fl->arg : "", fl->help);
		if (fl->env)
			fprintf(f, " ($%s)", fl->env);
		fputc('\n', f);
	}
	fprintf(f, "\nArgs:\n  [<outputdir>]  Directory to write output files into (default "
	           "\"certs\").\n");
}

__attribute__((format(printf, 1, 2))) static int kg_usage_err(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "contour certgen: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(", try --help\n", stderr);
	return 2;
}

/* A failure after the flags were accepted: upstream's Fatal message, with
 * the error after it. */
static int kg_fatal(const char *what, const char *detail)
{
	fprintf(stderr, "contour certgen: %s: %s\n", what, detail);
	return 1;
}

static const kg_flag_t *kg_find(const char *name, size_t len)
{
	for (const kg_flag_t *fl = kg_flags; fl->name; fl++)
		if (strlen(fl->name) == len && !strncmp(fl->name, name, len))
			return fl;
	return NULL;
}

static int kg_set(kg_opts_t *o, const kg_flag_t *fl, const char *val)
{
	char *field = (char *)o + fl->off;
	char *end = NULL;
	switch (fl->kind) {
	case KG_BOOL:
		if (!strcmp(val, "true"))
			*(int *)(void *)field = 1;
		else if (!strcmp(val, "false"))
			*(int *)(void *)field = 0;
		else
			return kg_usage_err(
			    "invalid value \"%s\" for flag '--%s': expected true or "
			    "false",
			    val, fl->name);
		return 0;
	case KG_STR:
		*(const char **)(void *)field = val;
		return 0;
	case KG_DAYS: {
		errno = 0;
		unsigned long long v = strtoull(val, &end, 10);
		if (!*val || *end || errno || strchr(val, '-') || v > 100000000ull)
			return kg_usage_err(
			    "invalid value \"%s\" for flag '--%s': expected a number "
			    "of days",
			    val, fl->name);
		*(unsigned long *)(void *)field = (unsigned long)v;
		return 0;
	}
	case KG_DURATION: {
		int64_t ms;
		if (contour_duration_parse(val, &ms) != CONTOUR_EOK || ms < 0)
			return kg_usage_err("invalid value \"%s\" for flag '--%s': expected a "
			                    "duration such as 60s or 2m",
			                    val, fl->name);
		*(int64_t *)(void *)field = ms;
		return 0;
	}
	}
	return 2;
}

/* 0, 1 for --help, 2 on a usage error (message printed). */
static int kg_parse(int argc, char **argv, kg_opts_t *o)
{
	unsigned long seen = 0;
	int flags_done = 0, have_outdir = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!flags_done && !strcmp(arg, "--")) {
			flags_done = 1;
			continue;
		}
		if (flags_done || arg[0] != '-' || !strcmp(arg, "-")) {
			if (have_outdir)
				return kg_usage_err("unexpected %s", arg);
			o->outdir = arg;
			have_outdir = 1;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return 1;
		if (strncmp(arg, "--", 2))
			return kg_usage_err("unknown short flag '%s'", arg);
		const char *name = arg + 2;
		size_t len = strcspn(name, "=");
		const kg_flag_t *fl = kg_find(name, len);
		int negated = 0;
		if (!fl && len > 3 && !strncmp(name, "no-", 3)) {
			fl = kg_find(name + 3, len - 3);
			negated = fl && fl->kind == KG_BOOL;
			if (!negated)
				fl = NULL;
		}
		if (!fl)
			return kg_usage_err("unknown long flag '--%.*s'", (int)len, name);
		const char *val;
		if (fl->kind == KG_BOOL) {
			if (negated && name[len] == '=')
				return kg_usage_err("flag '--%.*s' takes no value", (int)len, name);
			val = name[len] == '=' ? name + len + 1 : negated ? "false" : "true";
		} else if (name[len] == '=') {
			val = name + len + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return kg_usage_err("expected argument for flag '--%s'", fl->name);
		}
		unsigned long bit = 1ul << (fl - kg_flags);
		if ((seen & bit) && fl->kind != KG_BOOL)
			return kg_usage_err("flag '%s' cannot be repeated", fl->name);
		seen |= bit;
		int rc = kg_set(o, fl, val);
		if (rc)
			return rc;
	}
	for (const kg_flag_t *fl = kg_flags; fl->name; fl++) {
		const char *v = fl->env ? getenv(fl->env) : NULL;
		if (v && *v && !(seen & (1ul << (fl - kg_flags)))) {
			int rc = kg_set(o, fl, v);
			if (rc)
				return rc;
		}
	}
	if (strcmp(o->format, "legacy") && strcmp(o->format, "compact"))
		return kg_usage_err("unsupported Secrets format \"%s\"", o->format);
	if (o->webhook_service) {
		char err[1024];
		/* A Service name is a DNS-1123 label, as a namespace is. */
		if (kw_certgen_validate_names(o->webhook_service, "", err, sizeof(err)))
			return kg_usage_err("--webhook-service: invalid Service name \"%s\"",
			                    o->webhook_service);
		if (!o->webhook_configuration)
			o->webhook_configuration = o->webhook_service;
	} else if (seen & ((1ul << (kg_find("webhook-configuration", 21) - kg_flags)) |
	                   (1ul << (kg_find("webhook-wait", 12) - kg_flags)))) {
		return kg_usage_err("--webhook-configuration and --webhook-wait need "
		                    "--webhook-service");
	}
	if (o->webhook_configuration && !*o->webhook_configuration)
		return kg_usage_err("--webhook-configuration: empty name");
	return 0;
}

/* The client --kube writes with: the pod's service account (--incluster)
 * or the kubeconfig, as the watch logs in. */
static kw_http_t *kg_client(contour_module_t *mod, const kg_opts_t *o, char *err, size_t errlen)
{
	kw_conn_t conn;
	int rc = o->incluster ? kw_conn_in_cluster(&conn, NULL, err, errlen)
	                      : kw_conn_from_kubeconfig(&conn, o->kubeconfig, err, errlen);
	if (rc != CONTOUR_EOK)
		return NULL;
	kw_http_t *h =
	    kw_http_new(mod, &conn, "contour/" PACKAGE_VERSION " (linux) certgen", err, errlen);
	kw_conn_fini(&conn);
	return h;
}

static int kg_run(contour_module_t *mod, const kg_opts_t *o)
{
	char err[2048], detail[2600];
	kw_certs_t certs;
	json_t *secrets = NULL;
	kw_http_t *h = NULL;
	kw_secret_outcome_t *outcomes = NULL;
	int format = strcmp(o->format, "compact") ? KW_SECRETS_LEGACY : KW_SECRETS_COMPACT;
	int status = 1;

	kw_certs_opts_t co = {.namespace_ = o->namespace_,
	                      .lifetime_days = o->lifetime,
	                      .webhook_service = o->webhook_service};
	if (kw_certs_generate(&co, &certs, err, sizeof(err)) != CONTOUR_EOK)
		return kg_fatal("failed to generate certificates", err);
	/* Upstream makes the client first whatever the outputs; only --kube
	 * needs it, so a missing kubeconfig stops nothing else. */
	if (o->kube && !(h = kg_client(mod, o, err, sizeof(err)))) {
		kg_fatal("failed to create Kubernetes client", err);
		goto out;
	}
	if (o->yaml || o->kube) {
		if (kw_certgen_validate_names(o->namespace_, o->suffix, err, sizeof(err))) {
			kg_fatal("failed output certificates", err);
			goto out;
		}
		secrets = kw_certgen_secrets(&certs, format, o->namespace_, o->suffix);
		if (!secrets) {
			kg_fatal("failed output certificates", "out of memory");
			goto out;
		}
	}
	if (o->pem) {
		printf("Writing certificates to PEM files in %s/\n", o->outdir);
		fflush(stdout);
		if (kw_certgen_write_pem(o->outdir, &certs, o->overwrite, err, sizeof(err))) {
			snprintf(detail, sizeof(detail),
			         "failed to write certificates to \"%s\": %s", o->outdir, err);
			kg_fatal("failed output certificates", detail);
			goto out;
		}
	}
	if (o->yaml) {
		printf("Writing \"%s\" format Secrets to YAML files in %s/\n", o->format,
		       o->outdir);
		fflush(stdout);
		if (kw_certgen_write_yaml(o->outdir, secrets, o->overwrite, err, sizeof(err))) {
			snprintf(detail, sizeof(detail), "failed to write Secrets to \"%s\": %s",
			         o->outdir, err);
			kg_fatal("failed output certificates", detail);
			goto out;
		}
	}
	if (o->kube) {
		printf("Writing \"%s\" format Secrets to namespace \"%s\"\n", o->format,
		       o->namespace_);
		fflush(stdout);
		outcomes = calloc(json_array_size(secrets) + 1, sizeof(*outcomes));
		if (!outcomes ||
		    kw_certgen_write_kube(h, secrets, o->overwrite, outcomes, err, sizeof(err))) {
			snprintf(detail, sizeof(detail),
			         "failed to write certificates to \"%s\": %s", o->namespace_,
			         outcomes ? err : "out of memory");
			kg_fatal("failed output certificates", detail);
			goto out;
		}
		if (o->webhook_service) {
			/* webhookcert is the last Secret (kw_certgen_secrets). */
			size_t last = json_array_size(secrets) - 1;
			char name[512];
			snprintf(name, sizeof(name), "webhookcert%s", o->suffix);
			kw_webhook_patch_t p = {
			    .configuration = o->webhook_configuration,
			    .ns = o->namespace_,
			    .secret = name,
			    .ca_pem = certs.ca.cert,
			    .secret_kept = outcomes[last] == KW_SECRET_KEPT,
			    .wait_ms = o->webhook_wait_ms,
			    .retry_ms = 2000,
			};
			if (kw_certgen_patch_webhook(h, &p, err, sizeof(err))) {
				kg_fatal("failed to set the webhook's caBundle", err);
				goto out;
			}
		}
	}
	status = 0;
out:
	fflush(stdout);
	free(outcomes);
	kw_http_free(h);
	json_decref(secrets);
	kw_certs_fini(&certs);
	return status;
}

int kw_certgen_command(contour_module_t *mod, int argc, char **argv)
{
	kg_opts_t o = {
	    .outdir = "certs",
	    .lifetime = KW_CERTS_DEFAULT_LIFETIME,
	    .namespace_ = KW_CERTS_DEFAULT_NAMESPACE,
	    .format = "legacy",
	    .suffix = "",
	    .webhook_wait_ms = 60000,
	};
	const char *home = getenv("HOME");
	snprintf(o.kubeconfig_default, sizeof(o.kubeconfig_default), "%s/.kube/config",
	         home ? home : "");
	o.kubeconfig = o.kubeconfig_default;
	int rc = kg_parse(argc, argv, &o);
	if (rc == 1) {
		kg_usage(stdout);
		return 0;
	}
	if (rc)
		return 2;
	return kg_run(mod, &o);
}

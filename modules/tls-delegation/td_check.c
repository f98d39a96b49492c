/* modules/tls-delegation/td_check.c: a well-formed TLSCertificateDelegation
 * (upstream's TLSCertificateDelegationSpec: delegations[] of {secretName,
 * targetNamespaces[]}), and the validator built on it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "modules/tls-delegation/td.h"

const char *td_malformed(const json_t *obj, char *field, size_t len)
{
	const json_t *spec = json_object_get(obj, "spec");
	snprintf(field, len, "spec");
	if (spec && !json_is_object(spec))
		return "is not a mapping";
	const json_t *dels = json_object_get(spec, "delegations");
	snprintf(field, len, "spec.delegations");
	if (dels && !json_is_array(dels))
		return "is not a list";
	size_t i, j;
	const json_t *d, *t;
	json_array_foreach(dels, i, d)
	{
		snprintf(field, len, "spec.delegations[%zu]", i);
		if (!json_is_object(d))
			return "is not a mapping";
		const json_t *secret = json_object_get(d, "secretName");
		snprintf(field, len, "spec.delegations[%zu].secretName", i);
		if (secret && !json_is_string(secret))
			return "is not a string";
		const json_t *targets = json_object_get(d, "targetNamespaces");
		snprintf(field, len, "spec.delegations[%zu].targetNamespaces", i);
		if (targets && !json_is_array(targets))
			return "is not a list";
		json_array_foreach(targets, j, t)
		{
			snprintf(field, len, "spec.delegations[%zu].targetNamespaces[%zu]", i, j);
			if (!json_is_string(t))
				return "is not a string";
		}
	}
	return NULL;
}

/* A namespace name: an RFC 1123 label (lower case alphanumerics and '-',
 * alphanumeric at both ends, at most 63). */
static int td_namespace_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void td_validate_one(contour_module_t *mod, const char *ns, size_t i, const json_t *d,
                            contour_verdict_t *v)
{
	char field[96];
	const char *secret = json_string_value(json_object_get(d, "secretName"));
	const json_t *targets = json_object_get(d, "targetNamespaces");
	if (!secret || !*secret) {
		snprintf(field, sizeof(field), "spec.delegations[%zu].secretName", i);
		contour_verdict_deny_reason(v, "Required", field, "a Secret name is required");
	} else {
		contour_object_key_t key = {
		    .api_version = "v1", .kind = "Secret", .namespace_ = ns, .name = secret};
		if (!contour_store_get(mod, &key))
			contour_verdict_warn(v,
			                     "spec.delegations[%zu].secretName: Secret %s/%s does "
			                     "not exist yet",
			                     i, ns, secret);
	}
	/* No target delegates nothing: legal, but likely not what was meant. */
	if (json_array_size(targets) == 0)
		contour_verdict_warn(v,
		                     "spec.delegations[%zu].targetNamespaces is empty: the Secret "
		                     "is delegated to no namespace (\"*\" for every namespace)",
		                     i);
	size_t j;
	const json_t *t;
	json_array_foreach(targets, j, t)
	{
		const char *target = json_string_value(t);
		snprintf(field, sizeof(field), "spec.delegations[%zu].targetNamespaces[%zu]", i, j);
		/* "*" means every namespace only alone: elsewhere the build ignores
		 * it, which is never what its author meant. */
		if (!strcmp(target, "*")) {
			if (json_array_size(targets) != 1)
				contour_verdict_deny_reason(
				    v, "Invalid", field,
				    "\"*\" (every namespace) must be the only "
				    "target namespace");
		} else if (!td_namespace_name(target)) {
			contour_verdict_deny_reason(v, "Invalid", field,
			                            "\"%s\" is not a valid namespace name (an RFC "
			                            "1123 label)",
			                            target);
		}
	}
}

void td_validate(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v, void *ud)
{
	(void)ud;
	const json_t *obj = r->object;
	if (!obj || (strcmp(r->operation, "CREATE") && strcmp(r->operation, "UPDATE")))
		return;
	char field[96];
	const char *bad = td_malformed(obj, field, sizeof(field));
	if (bad) {
		contour_verdict_deny_reason(v, "Invalid", field, "%s", bad);
		return;
	}
	const char *ns = contour_json_get_str(contour_json_get_obj(obj, "metadata"), "namespace");
	size_t i;
	const json_t *d;
	json_array_foreach(json_object_get(json_object_get(obj, "spec"), "delegations"), i, d)
	    td_validate_one(mod, ns, i, d, v);
}

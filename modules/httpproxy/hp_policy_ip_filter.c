/* modules/httpproxy/hp_policy_ip_filter.c: ipAllowPolicy / ipDenyPolicy
 * at virtual host or route level translated into the DAG, with upstream's
 * CIDR parsing and errors (internal/dag/policy.go).
 *
 * Spec fragments are read as Go reads them: an absent field is the zero
 * value. Functions return 0, -1 when they added an error to the status, or
 * CONTOUR_ENOMEM when the arena is exhausted. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>

#include "modules/httpproxy/hp.h"

/* ---- IP filters ------------------------------------------------------------------ */

/* net.ParseCIDR on addr/len, canonical (masked) text into out. */
static int hp_cidr_parse(const char *s, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned char bytes[16];
	int family, bits, len = 0;
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = family == AF_INET6 ? 128 : 32;
	if (inet_pton(family, addr, bytes) != 1)
		return -1;
	const char *m = slash + 1;
	if (!*m)
		return -1;
	for (; *m; m++) {
		if (!isdigit((unsigned char)*m))
			return -1;
		len = len * 10 + (*m - '0');
		if (len > bits)
			return -1;
	}
	for (int i = 0; i < bits / 8; i++) {
		int keep = len - i * 8;
		bytes[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
	if (!inet_ntop(family, bytes, addr, sizeof(addr)))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%d", addr, len) >= outlen)
		return -1;
	return 0;
}

/* toIPFilterRules. Upstream's loop keeps only the last parse error, so a
 * bad CIDR followed by a good one is reported (InvalidCIDR) but does not
 * fail the filter: the good rules are kept and 0 returned, as upstream. */
int hp_policy_ip_filter(contour_dag_t *dag, const json_t *allow, const json_t *deny, int route,
                        contour_dag_ip_filter_t **out, hp_status_t *st)
{
	size_t nallow = json_array_size(allow), ndeny = json_array_size(deny), i;
	json_t *e;
	char last_err[512] = "";
	*out = NULL;
	if (nallow && ndeny) {
		if (route)
			hp_status_error(st, "IPFilterError", "IncompatibleIPAddressFilters",
			                "cannot specify both `ipAllowPolicy` and `ipDenyPolicy`");
		else /* "IPDepny" is upstream's spelling */
			hp_status_error(
			    st, "IPFilterError", "IncompatibleIPAddressFilters",
			    "Spec.VirtualHost.IPAllowFilterPolicy and "
			    "Spec.VirtualHost.IPDepnyFilterPolicy cannot both be defined.");
		return -1;
	}
	if (!nallow && !ndeny)
		return 0;
	contour_dag_ip_filter_t *f = contour_dag_ip_filter_new(dag);
	if (!f)
		return CONTOUR_ENOMEM;
	f->allow = nallow > 0;
	json_array_foreach(nallow ? allow : deny, i, e)
	{
		const char *cidr = contour_json_get_str(e, "cidr");
		char unparsed[256], canon[INET6_ADDRSTRLEN + 64];
		snprintf(unparsed, sizeof(unparsed), "%s%s", cidr,
		         strchr(cidr, '/')   ? ""
		         : strchr(cidr, ':') ? "/128"
		                             : "/32");
		if (hp_cidr_parse(unparsed, canon, sizeof(canon)) < 0) {
			snprintf(last_err, sizeof(last_err), "invalid CIDR address: %s", unparsed);
			hp_status_error(st, "IPFilterError", "InvalidCIDR",
			                "%s failed to parse: %s", cidr, last_err);
			continue;
		}
		last_err[0] = '\0';
		const char *copy = contour_dag_strdup(dag, canon);
		contour_dag_ip_rule_t *r =
		    copy ? contour_dag_ip_rule_push(dag, &f->rules, &f->nrules) : NULL;
		if (!r)
			return CONTOUR_ENOMEM;
		r->remote = !strcmp(contour_json_get_str(e, "source"), "Remote");
		r->cidr = copy;
	}
	if (last_err[0]) {
		if (!route)
			hp_status_error(st, "IPFilterError", "IPFilterPolicyNotValid",
			                "Spec.VirtualHost.IPAllowFilterPolicy or "
			                "Spec.VirtualHost.IPDenyFilterPolicy is invalid: %s",
			                last_err);
		return -1;
	}
	*out = f;
	return 0;
}

/* core/dag/wildcard_host.c: the :authority match upstream adds to routes of
 * a wildcard virtual host ("*.example.com"), the same for HTTPProxy and
 * Ingress: one DNS label, then the rest of the name as a literal, then an
 * optional port. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>

/* A single DNS label in place of the '*'; Envoy's Host may carry a port. */
#define WILDCARD_LABEL "^[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define WILDCARD_PORT  "(:[0-9]+)?"

const char *contour_dag_wildcard_authority(contour_dag_t *dag, const char *fqdn)
{
	const char *rest = *fqdn ? fqdn + 1 : fqdn;
	char *quoted = malloc(2 * strlen(rest) + 1);
	if (!quoted)
		return NULL;
	/* Go's regexp.QuoteMeta. */
	size_t o = 0;
	for (const char *p = rest; *p; p++) {
		if (strchr("\\.+*?()|[]{}^$", *p))
			quoted[o++] = '\\';
		quoted[o++] = *p;
	}
	quoted[o] = '\0';
	const char *re = contour_dag_printf(dag, "%s%s%s", WILDCARD_LABEL, quoted, WILDCARD_PORT);
	free(quoted);
	return re;
}

/* contour/header_policy.h: request and response header policies, built
 * from an HTTPProxy's requestHeadersPolicy / responseHeadersPolicy and the
 * global policy.request-headers / policy.response-headers defaults, the way
 * upstream builds them for both HTTPProxy and Ingress (domain layer, ABI
 * 1.4).
 */
#ifndef CONTOUR_HEADER_POLICY_H
#define CONTOUR_HEADER_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include <contour/dag.h>

#ifdef __cplusplus
extern "C" {
#endif

/* k8s.io/apimachinery IsHTTPHeaderName's message, as Go prints []string:
 * the tail of every "invalid ... header" message. */
#define CONTOUR_HEADER_NAME_MSG                                                                    \
	"[a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "               \
	"'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')]"

/* Flags of contour_header_policy_build. */
/* A request policy: Host may be set (it becomes host_rewrite, or at route
 * level host_rewrite_header for %REQ(x)%). Without it, a response policy,
 * where Host is an error. */
#define CONTOUR_HEADERS_REQUEST 0x1u
/* At service level: the defaults are merged in, a %REQ(x)% Host is
 * accepted and dropped (Envoy's weighted clusters cannot rewrite from a
 * header), and %CONTOUR_SERVICE_NAME% / %CONTOUR_SERVICE_PORT% expand. */
#define CONTOUR_HEADERS_SERVICE 0x2u

/* contour_header_policy_build: the header policy for `policy` (the
 * HeadersPolicy JSON {set: [{name, value}], remove: [names]}, borrowed, or
 * NULL when absent), into *out in dag's arena.
 *
 * %CONTOUR_NAMESPACE% expands to ns; %CONTOUR_SERVICE_NAME% and
 * %CONTOUR_SERVICE_PORT% to svc and port when svc is not NULL (else they
 * stay as written). Other '%' are doubled for Envoy except Envoy's own
 * variables and %REQ(...)%. Names are canonicalised (x-foo -> X-Foo), set
 * and remove are sorted by name.
 *
 * defaults is the global default policy mapping {set: {name: value},
 * remove: [names]} (NULL for none), merged only with
 * CONTOUR_HEADERS_SERVICE: the user's headers win, a default Host applies
 * when the user set no static Host (a dynamic default Host is an error),
 * default removes are appended after the user's.
 *
 * *out stays NULL when there is neither a policy nor anything from the
 * defaults. Returns 0; -1 with upstream's message in err ("duplicate
 * header addition: \"X-A\" on request headers"); or CONTOUR_ENOMEM. */
int contour_header_policy_build(contour_dag_t *dag, const json_t *policy, const json_t *defaults,
                                unsigned flags, const char *ns, const char *svc, uint32_t port,
                                contour_dag_header_policy_t **out, char *err, size_t errlen);

/* contour_header_policy_check: upstream's config check of a default policy
 * (HeadersPolicy.Validate): every `set` key and `remove` entry is a valid
 * header name as written, every value a scalar. 0, or -1 with the message
 * in err ("invalid header name \"x y\": [a valid HTTP header must ...]"). For a
 * module's config check hook; needs no DAG. */
int contour_header_policy_check(const json_t *defaults, char *err, size_t errlen);

/* contour_header_name_canonical: Go's http.CanonicalHeaderKey of name as a
 * new arena string ("x-foo" -> "X-Foo"; a name with a byte outside the
 * token set is copied unchanged), NULL on allocation failure. */
const char *contour_header_name_canonical(contour_dag_t *dag, const char *name);

/* contour_header_name_valid: 1 when name is non-empty and only letters,
 * digits and '-' (upstream's header-name check), else 0. */
int contour_header_name_valid(const char *name);

#ifdef __cplusplus
}
#endif
#endif

/* contour/status.h: the `status` stanza upstream writes back to HTTPProxy
 * and Ingress objects, and when two stanzas are equal (domain layer,
 * ABI 1.4).
 *
 * Statuses are jansson values in the API's JSON form. Inputs are borrowed;
 * NULL or a non-object reads as an empty status. An absent member equals
 * Go's zero value (false, 0, "", an empty array or object), as omitempty
 * drops it and cmp.Equal sees it. Load-balancer arguments (`lb`) are a
 * core v1 LoadBalancerStatus ({"ingress":[{"ip"|"hostname", "ports"}]}),
 * or NULL.
 */
#ifndef CONTOUR_STATUS_H
#define CONTOUR_STATUS_H

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* contour_status_equal: upstream's isStatusEqual over two `status`
 * stanzas: conditions are matched by type (order ignored) with their
 * lastTransitionTime ignored, and an absent member equals its zero value.
 * NULL is an empty status. Returns 1 when equal, else 0. */
int contour_status_equal(const json_t *a, const json_t *b);

/* contour_status_compose_proxy: upstream's ProxyUpdate.Mutate applied to
 * `current` (the stored status, may be NULL) with the build's `computed`
 * status: each computed condition replaces the stored one of its type
 * unless the stored one has a higher observedGeneration, and keeps the
 * stored lastTransitionTime when nothing else differs; currentStatus and
 * description follow the Valid condition; loadBalancer is set from lb
 * when lb has an address (contour_status_lb_has_address). Returns a new
 * status the caller owns, or NULL when out of memory. */
json_t *contour_status_compose_proxy(const json_t *current, const json_t *computed,
                                     const json_t *lb);

/* contour_status_proxy_changes: 1 when contour_status_compose_proxy(current,
 * computed, lb) would not be contour_status_equal to current, else 0,
 * found without building the new status. */
int contour_status_proxy_changes(const json_t *current, const json_t *computed, const json_t *lb);

/* contour_status_compose_ingress: `current` (may be NULL) with
 * loadBalancer set to lb in the networking v1 form
 * (contour_status_lb_to_networking), as upstream's StatusAddressUpdater
 * writes it. Returns a new status the caller owns, or NULL when out of
 * memory. */
json_t *contour_status_compose_ingress(const json_t *current, const json_t *lb);

/* contour_status_lb_to_networking: upstream's coreToNetworkingLBStatus:
 * ip, hostname and ports {port, protocol, error} of each ingress entry;
 * ipMode is dropped, and so are empty strings and empty lists. Returns a
 * new networking v1 IngressLoadBalancerStatus the caller owns (an empty
 * object for NULL), or NULL when out of memory. */
json_t *contour_status_lb_to_networking(const json_t *core_lb);

/* contour_status_lb_has_address: 1 when lb has at least one ingress
 * entry, else 0 (also for NULL). */
int contour_status_lb_has_address(const json_t *lb);

/* contour_status_lb_new: upstream's parseStatusFlag: the core v1
 * LoadBalancerStatus for a comma-separated list of addresses (the
 * ingress-status-address setting), each item trimmed as strings.TrimSpace
 * does and empty items skipped; an item net.ParseIP accepts becomes
 * {"ip": item}, any other {"hostname": item}. With no items (or NULL) the
 * result is an empty object, as omitempty drops an empty list. Returns a
 * new value the caller owns (ABI 1.6), or NULL when out of memory. */
json_t *contour_status_lb_new(const char *addresses);

#ifdef __cplusplus
}
#endif

#endif

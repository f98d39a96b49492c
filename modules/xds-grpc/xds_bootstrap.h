/* modules/xds-grpc/xds_bootstrap.h: `contour bootstrap PATH`.
 *
 * Writes the Envoy bootstrap JSON upstream Contour writes
 * (internal/envoy/v3/bootstrap.go): the
 * `contour` xDS cluster (HTTP/2, keepalive, circuit breakers), per-type GRPC
 * config sources without ADS, the RTDS and admin runtime layers, Envoy's
 * admin on a unix socket and the `envoy-admin` cluster that reaches it, the
 * RE2 regex engine, the overload manager when asked for, and mTLS to Contour
 * with file paths or, with --resources-dir, through two SDS files Envoy
 * watches for rotation.
 *
 * Self-contained (libc and jansson only): it needs no core and no module
 * state, so it can be linked into the contour binary as well as the module.
 */
#ifndef XDS_BOOTSTRAP_H
#define XDS_BOOTSTRAP_H

/* argv[0] is "bootstrap"; argv[1..] the command's own arguments and flags
 * (upstream's spelling: --xds-address, --xds-port, --xds-resource-version,
 * --resources-dir, --envoy-cafile, --envoy-cert-file, --envoy-key-file,
 * --admin-address, --admin-port, --dns-lookup-family, --namespace,
 * --overload-max-heap, --overload-downstream-max-conn; both "--f v" and
 * "--f=v"; env ENVOY_CAFILE, ENVOY_CERT_FILE, ENVOY_KEY_FILE,
 * CONTOUR_NAMESPACE). Writes PATH ("-" = stdout) and, with
 * --resources-dir, the two SDS files. Returns the exit status: 0, or 1
 * with a message on stderr that names the problem (upstream's messages
 * where upstream has one, e.g. the three TLS flags together). --help
 * prints the usage on stdout and returns 0. */
int xds_bootstrap_main(int argc, char **argv);

#endif

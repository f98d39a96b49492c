/* modules/xds-grpc/xds_translate_secrets.c: SDS and RTDS. A Secret per TLS
 * certificate the sealed DAG publishes (those of valid secure virtual hosts
 * and the fallback certificate), named by upstream's Secretname rule with
 * the chain and key inline; and the `dynamic` runtime layer. The private
 * key only ever goes into the resource bytes, never into a log line. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

static void xds_inline_bytes(xpb_t *w, uint32_t field, const char *pem)
{
	size_t ds = xpb_begin(w, field);
	xpb_bytes_always(w, 2, pem ? pem : "", pem ? strlen(pem) : 0);
	xpb_end(w, ds);
}

int xds_translate_secrets(xds_build_t *b)
{
	xpb_t *w = &b->w;
	for (size_t i = 0; i < b->dag->nsecrets; i++) {
		const contour_dag_secret_t *s = b->dag->secrets[i];
		if (s->type != CONTOUR_DAG_SECRET_TLS)
			continue;
		uint64_t src = xds_key(b, XDS_SECRET, s->hash);
		const xds_resource_t *prev = xds_build_prev(b, XDS_SECRET, src);
		if (prev) {
			int rc = xds_secret_name_set(b, s, prev->name);
			if (rc || (rc = xds_build_copy(b, XDS_SECRET, prev)))
				return rc;
			continue;
		}
		const char *name = xds_secret_name_cached(b, s);
		if (!name)
			return CONTOUR_ENOMEM;
		xpb_str(w, 1, name);
		size_t tc = xpb_begin(w, 2);
		xds_inline_bytes(w, 1, s->cert);
		xds_inline_bytes(w, 2, s->key);
		xpb_end(w, tc);
		int rc = xds_build_add_src(b, XDS_SECRET, name, src);
		if (rc)
			return rc;
	}
	return CONTOUR_EOK;
}

static void xds_number_field(xpb_t *w, const char *key, double v)
{
	size_t e = xpb_begin(w, 1);
	xpb_str(w, 1, key);
	size_t val = xpb_begin(w, 2);
	/* number_value is in a oneof: written even when zero */
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	if (v == 0.0) {
		xpb_tag(w, 2, 1);
		for (int i = 0; i < 8; i++)
			xpb_raw_varint(w, 0);
	} else {
		xpb_double(w, 2, v);
	}
	xpb_end(w, val);
	xpb_end(w, e);
}

/* upstream's RuntimeLayers: the RE2 program size limits, plus
 * listener.max-connections-per-listener as each DAG listener's
 * connection_limit and listener.max-requests-per-io-cycle; keys in sorted
 * order (a map, as Go's deterministic marshalling writes it). */
int xds_translate_runtime(xds_build_t *b)
{
	xpb_t *w = &b->w;
	xpb_str(w, 1, "dynamic");
	size_t st = xpb_begin(w, 2);
	if (b->set.max_connections_per_listener > 0) {
		const char *names[] = {b->dag->http.name, b->dag->https.name};
		if (names[0] && names[1] && strcmp(names[0], names[1]) > 0) {
			const char *t = names[0];
			names[0] = names[1];
			names[1] = t;
		}
		for (size_t i = 0; i < 2; i++) {
			char key[200];
			if (!names[i] || !*names[i])
				continue;
			snprintf(key, sizeof(key),
			         "envoy.resource_limits.listener.%s.connection_limit", names[i]);
			xds_number_field(w, key, (double)b->set.max_connections_per_listener);
		}
	}
	if (b->set.max_requests_per_io_cycle > 0)
		xds_number_field(w, "http.max_requests_per_io_cycle",
		                 (double)b->set.max_requests_per_io_cycle);
	xds_number_field(w, "re2.max_program_size.error_level", 1048576);
	xds_number_field(w, "re2.max_program_size.warn_level", 1000);
	xpb_end(w, st);
	return xds_build_add(b, XDS_RUNTIME, "dynamic");
}

/* modules/xds-grpc/xds_translate.h: what the translation files share.
 *
 * Resources are written straight to the protobuf wire format with a small
 * writer (xpb_*) instead of filling protoc-c's generated structs: one
 * growable buffer per resource, no per-message allocation. Fields are
 * written in field-number order and proto3 defaults are omitted, so the
 * bytes equal what protobuf-c (or Go's proto.Marshal in deterministic mode)
 * produces. The generated descriptors are what checks the result: the
 * tests and xds_json.c decode every resource with them.
 */
#ifndef XDS_TRANSLATE_H
#define XDS_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <contour/dag.h>
#include <contour/duration.h>
#include "modules/xds-grpc/xds.h"

#define XDS_TYPE_PREFIX "type.googleapis.com/"

/* The protobuf writer. On allocation failure `oom` is set and later calls
 * do nothing; the caller checks it once at the end. */
typedef struct xpb {
	uint8_t *buf;
	size_t len, cap;
	int oom;
} xpb_t;

void xpb_reset(xpb_t *w);
void xpb_fini(xpb_t *w);

/* The calls below run tens of millions of times per full translation:
 * their common paths are inline (a call each showed in profiles). */
int xpb_grow_slow(xpb_t *w, size_t more);
void xpb_end_long(xpb_t *w, size_t mark, size_t body);

/* Room for `more` bytes (oom leaves cap as it was and the slow path
 * refuses). */
static inline int xpb_grow(xpb_t *w, size_t more)
{
	if (__builtin_expect(!w->oom && w->len + more <= w->cap, 1))
		return 0;
	return xpb_grow_slow(w, more);
}

static inline void xpb_raw_varint(xpb_t *w, uint64_t v)
{
	if (xpb_grow(w, 10))
		return;
	uint8_t *p = w->buf + w->len;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	w->len = (size_t)(p - w->buf);
}

static inline void xpb_tag(xpb_t *w, uint32_t field, unsigned wire)
{
	xpb_raw_varint(w, ((uint64_t)field << 3) | wire);
}

/* Always written: oneof members and repeated elements. */
static inline void xpb_uint_always(xpb_t *w, uint32_t field, uint64_t v)
{
	xpb_tag(w, field, 0);
	xpb_raw_varint(w, v);
}

static inline void xpb_bytes_always(xpb_t *w, uint32_t field, const void *p, size_t n)
{
	xpb_tag(w, field, 2);
	xpb_raw_varint(w, n);
	if (!n || xpb_grow(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void xpb_str_always(xpb_t *w, uint32_t field, const char *s)
{
	xpb_bytes_always(w, field, s ? s : "", s ? strlen(s) : 0);
}

/* Scalars, omitted when zero / empty (proto3 implicit presence). */
static inline void xpb_uint(xpb_t *w, uint32_t field, uint64_t v)
{
	if (v)
		xpb_uint_always(w, field, v);
}

/* int32/int64/enum: negative values are ten-byte two's complement */
static inline void xpb_int(xpb_t *w, uint32_t field, int64_t v)
{
	if (v)
		xpb_uint_always(w, field, (uint64_t)v);
}

static inline void xpb_bool(xpb_t *w, uint32_t field, int v)
{
	if (v)
		xpb_uint_always(w, field, 1);
}

static inline void xpb_str(xpb_t *w, uint32_t field, const char *s)
{
	if (s && *s)
		xpb_bytes_always(w, field, s, strlen(s));
}

void xpb_double(xpb_t *w, uint32_t field, double v);

/* n bytes already encoded (a fragment, a constant message). */
static inline void xpb_raw(xpb_t *w, const void *p, size_t n)
{
	if (!n || xpb_grow(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* Submessages: begin returns a mark that end needs. The length is not
 * known until the message ends: begin reserves one byte (most messages
 * are short) and end moves the body when the length needs more. */
static inline size_t xpb_begin(xpb_t *w, uint32_t field)
{
	xpb_tag(w, field, 2);
	if (xpb_grow(w, 1))
		return 0;
	w->buf[w->len++] = 0;
	return w->len;
}

static inline void xpb_end(xpb_t *w, size_t mark)
{
	if (w->oom)
		return;
	size_t body = w->len - mark;
	if (body < 0x80)
		w->buf[mark - 1] = (uint8_t)body;
	else
		xpb_end_long(w, mark, body);
}

void xpb_empty(xpb_t *w, uint32_t field); /* a present, empty message */
/* An Any holding a message of the full proto name `type`: begin/end pair
 * around the inner message's fields. */
typedef struct xpb_any {
	size_t outer, inner;
} xpb_any_t;
xpb_any_t xpb_any_begin(xpb_t *w, uint32_t field, const char *type);
void xpb_any_end(xpb_t *w, xpb_any_t m);
void xpb_any_empty(xpb_t *w, uint32_t field, const char *type);
/* Well-known types. Duration from milliseconds (always written, even 0). */
void xpb_duration_ms(xpb_t *w, uint32_t field, int64_t ms);
void xpb_u32value(xpb_t *w, uint32_t field, uint32_t v);
void xpb_boolvalue(xpb_t *w, uint32_t field, int v);

/* Helpers for recurring Envoy messages (xds_translate_pb.c). */
/* core.v3.ConfigSource pointing at Contour's xDS cluster, per-type GRPC. */
void xds_pb_config_source(xpb_t *w, uint32_t field);
/* core.v3.Address with a socket address. */
void xds_pb_socket_address(xpb_t *w, uint32_t field, const char *addr, uint32_t port);
/* A config.accesslog.v3.AccessLog to a file, Envoy's default format. */
void xds_pb_file_access_log(xpb_t *w, uint32_t field, const char *path);
/* type.matcher.v3.StringMatcher. */
void xds_pb_string_matcher(xpb_t *w, uint32_t field, contour_dag_match_type_t type,
                           const char *value, int ignore_case);
void xds_pb_header_value_option(xpb_t *w, uint32_t field, const char *key, const char *value,
                                int append_action);

/* tls.v3.TlsParameters: versions, the ciphers (a JSON array of strings, or
 * NULL for Contour's default list, deduplicated as upstream's sanitising
 * does) and the ECDH curves (NULL: none, Envoy's default). */
void xds_pb_tls_params(xpb_t *w, uint32_t field, unsigned minv, unsigned maxv,
                       const json_t *ciphers, const json_t *curves);

/* tls.v3.CertificateValidationContext (upstream's validationContext). */
void xds_pb_validation_context(xpb_t *w, uint32_t field, const char *ca, const char **sans,
                               size_t nsans, int skip_verify, const char *crl, int only_leaf);

/* A pointer -> string map (open addressing), for names computed once. */
typedef struct xds_pmap {
	struct xds_pmap_ent {
		const void *k;
		char *v;
	} * e;
	size_t cap, n;
} xds_pmap_t;
/* xds_ptrmap.c. xds_pmap_name: the name of k, computed with fn on first
 * use; NULL when out of memory. xds_pmap_set: record name for k (kept if k
 * has one already); 0 or CONTOUR_ENOMEM. xds_pmap_slot: k's slot (cap > 0):
 * e[slot].k is k, or NULL when k is absent. */
const char *xds_pmap_name(xds_pmap_t *m, const void *k, void (*fn)(const void *, char *, size_t));
int xds_pmap_set(xds_pmap_t *m, const void *k, const char *name);
size_t xds_pmap_slot(const xds_pmap_t *m, const void *k);
void xds_pmap_fini(xds_pmap_t *m);

/* What a translation keeps for the next one (xds_translate_cache.c):
 * encoded fragments by input key, and the EndpointSlices whose addresses
 * keyed assignments (held, so an address names one object while kept). */
typedef struct xds_cache xds_cache_t;

/* The previous snapshot's resources of one type, indexed by src. */
typedef struct xds_srcidx {
	size_t *slot; /* index + 1, 0 = empty */
	size_t cap;
	int built;
} xds_srcidx_t;

/* A translation in progress: resources collected per type. */
typedef struct xds_build {
	contour_module_t *mod;
	const contour_dag_t *dag;
	xds_settings_t set;
	xds_resource_t *res[XDS_NTYPES];
	size_t nres[XDS_NTYPES], cap[XDS_NTYPES];
	xpb_t w; /* scratch writer, reused per resource */
	/* names computed once per build: DAG pointer -> name */
	xds_pmap_t cnames, snames;
	/* reuse: prev's resources and fragments; what this build keeps */
	const xds_snapshot_t *prev;
	uint64_t setfp; /* the settings' fingerprint, in every key */
	xds_srcidx_t pidx[XDS_NTYPES];
	xds_cache_t *cache;
	size_t reused[XDS_NTYPES], frags_reused, frags_built;
	/* parts encoded once per build, copied into many resources: the
	 * secure chains' HCM middle, every HCM's tail, the last route origin */
	xpb_t memo[3];
	const char *memo_origin[3];
	int oom;
} xds_build_t;

/* xds_build_add: store the writer's bytes as resource `name` of type t and
 * reset the writer. Returns 0 or CONTOUR_ENOMEM. xds_build_add_src also
 * records the inputs' key (see xds_resource_t.src). */
int xds_build_add(xds_build_t *b, xds_type_t t, const char *name);
int xds_build_add_src(xds_build_t *b, xds_type_t t, const char *name, uint64_t src);

/* Reuse (xds_translate_cache.c). Keys mix the settings' fingerprint, a
 * kind and the inputs' hash: equal key, equal bytes. */
uint64_t xds_settings_fp(const xds_settings_t *s);
uint64_t xds_key(const xds_build_t *b, uint64_t kind, uint64_t h);
uint64_t xds_mix(uint64_t h, uint64_t v);
uint64_t xds_mix_str(uint64_t h, const char *s);
/* prev's resource of type t built from src, or NULL. */
const xds_resource_t *xds_build_prev(xds_build_t *b, xds_type_t t, uint64_t src);
/* Add a copy of prev's resource r (xds_translate.c); 0 or CONTOUR_ENOMEM. */
int xds_build_copy(xds_build_t *b, xds_type_t t, const xds_resource_t *r);
/* A fragment: xds_frag_reuse appends prev's bytes for key to the writer
 * (and keeps them for the next build) and returns 1, or returns 0; after
 * writing it afresh from `mark`, xds_frag_keep keeps writer bytes
 * [mark, len) under key. */
int xds_frag_reuse(xds_build_t *b, uint64_t key);
void xds_frag_keep(xds_build_t *b, uint64_t key, size_t mark);
/* The resource the kept fragments are part of was added with these bytes
 * (xds_build_add does it: fragments are top-level fields, so their offsets
 * in the writer are their offsets in the resource). */
void xds_frag_resolve(xds_build_t *b, const uint8_t *bytes);
/* An EndpointSlice a translation read: the new snapshot's cache holds a
 * reference to obj (the strings are borrowed from it). */
typedef struct xds_slice {
	const json_t *obj;
	const char *ns, *svc; /* metadata.namespace, its Service's name */
	uint64_t h;           /* hash of (ns, svc) */
	size_t next;          /* the next slice of the same hash + 1 (grouping) */
} xds_slice_t;
/* prev's entry for obj (what it found in it), or NULL. */
const xds_slice_t *xds_cache_slice(xds_build_t *b, const json_t *obj);
/* Keep s for the next translation (takes a reference to s->obj). */
int xds_cache_add_slice(xds_build_t *b, const xds_slice_t *s);
/* The slices kept so far, in order of addition. */
xds_slice_t *xds_cache_slices(xds_build_t *b, size_t *n);
/* Index them by address once all are added. */
int xds_cache_index_slices(xds_build_t *b);
xds_cache_t *xds_cache_new(void);
void xds_cache_free(xds_cache_t *c); /* NULL accepted */
void xds_build_reuse_fini(xds_build_t *b);
/* xds_digest.c: the content hash of encoded bytes (a fingerprint, not a
 * defence); SHA-1 (sha256 = 0) or SHA-256 of p into out; n bytes as
 * lowercase hex into out (2n+1 bytes). */
uint64_t xds_hash_bytes(const void *p, size_t n);
void xds_digest(int sha256, const void *p, size_t n, uint8_t *out);
void xds_hex(const uint8_t *d, size_t n, char *out);

/* Names as upstream builds them. */
/* xds_hashname: upstream's Hashname(l, parts...) into out (cap >= l+1). */
void xds_hashname(char *out, size_t cap, size_t l, const char **parts, size_t nparts);
/* The cluster name (cached per build; NULL on allocation failure). */
const char *xds_cluster_name(xds_build_t *b, const contour_dag_cluster_t *c);
/* Computed without a cache, into out (>= 64 bytes). */
void xds_cluster_name_of(const contour_dag_cluster_t *c, char *out, size_t cap);
/* Append src (or v in decimal) at out[*o], truncating within cap; the
 * caller writes the NUL at out[*o] (*o < cap always). */
void xds_cat(char *out, size_t cap, size_t *o, const char *src);
void xds_cat_u32(char *out, size_t cap, size_t *o, uint32_t v);
/* The EDS service name: ns/name[/portname]; returns its length. */
size_t xds_eds_name(const contour_dag_service_t *s, char *out, size_t cap);
/* The SDS name of a TLS secret. */
void xds_secret_name(const contour_dag_secret_t *s, char *out, size_t cap);
/* The same, cached per build (NULL on allocation failure). */
const char *xds_secret_name_cached(xds_build_t *b, const contour_dag_secret_t *s);
/* Seed the per-build caches with a name known already (a reused resource's). */
int xds_secret_name_set(xds_build_t *b, const contour_dag_secret_t *s, const char *name);

/* Per resource type (xds_translate_*.c). Each returns 0 or a CONTOUR_E*. */
int xds_translate_clusters(xds_build_t *b);
int xds_translate_endpoints(xds_build_t *b);
int xds_translate_routes(xds_build_t *b);
int xds_translate_listeners(xds_build_t *b);
int xds_translate_secrets(xds_build_t *b);
int xds_translate_runtime(xds_build_t *b);

/* Route-level pieces the listeners reuse (xds_translate_routes.c). */
void xds_pb_route_virtual_host(xds_build_t *b, xpb_t *w, uint32_t field,
                               const contour_dag_vhost_t *vh, int secure);

/* xds_json.c: the generated descriptor of a message that may appear in an
 * Any of our resources, by full name (NULL when not registered). */
struct ProtobufCMessageDescriptor;
const struct ProtobufCMessageDescriptor *xds_json_descriptor(const char *full_name);

/* xds_translate_timed: xds_translate, also filling phase_ms (CPU time of
 * clusters, endpoints, routes, listeners, secrets and runtime, snapshot)
 * and, when reused is not NULL, the number of resources copied from prev
 * per type plus fragments reused at [XDS_NTYPES]. For the benchmark. */
#define XDS_NPHASES 6
xds_snapshot_t *xds_translate_timed(contour_module_t *mod, contour_snapshot_t *snap,
                                    const xds_settings_t *settings, const xds_snapshot_t *prev,
                                    double phase_ms[XDS_NPHASES], size_t reused[XDS_NTYPES + 1]);

/* xds_snapshot.c */
xds_snapshot_t *xds_snapshot_from_build(xds_build_t *b, const xds_snapshot_t *prev);

#endif

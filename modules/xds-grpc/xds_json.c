/* modules/xds-grpc/xds_json.c: a snapshot as JSON for `contour render
 * --format envoy`. Each resource is decoded with protobuf-c's generated
 * descriptors and walked generically into the proto3 JSON mapping, with
 * the proto field names (snake_case, as Envoy's config files and config
 * dumps use): enums by name, 64-bit integers as strings, bytes in base64,
 * Any as an object with "@type", Duration as "2s", wrappers as plain
 * values, Struct as an object, maps as objects. Private keys are replaced
 * by "[redacted]". */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>

#include "modules/xds-grpc/xds_translate.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "envoy/config/listener/v3/listener.pb-c.h"
#include "envoy/config/route/v3/route.pb-c.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb-c.h"
#include "envoy/extensions/compression/brotli/compressor/v3/brotli.pb-c.h"
#include "envoy/extensions/compression/gzip/compressor/v3/gzip.pb-c.h"
#include "envoy/extensions/compression/zstd/compressor/v3/zstd.pb-c.h"
#include "envoy/extensions/filters/http/compressor/v3/compressor.pb-c.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb-c.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb-c.h"
#include "envoy/extensions/filters/http/grpc_stats/v3/config.pb-c.h"
#include "envoy/extensions/filters/http/grpc_web/v3/grpc_web.pb-c.h"
#include "envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.pb-c.h"
#include "envoy/extensions/filters/http/lua/v3/lua.pb-c.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb-c.h"
#include "envoy/extensions/filters/http/router/v3/router.pb-c.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb-c.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb-c.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb-c.h"
#include "envoy/service/runtime/v3/rtds.pb-c.h"

/* Every message type that appears as an Any in what we translate. */
static const ProtobufCMessageDescriptor *const xds_json_types[] = {
    &envoy__config__listener__v3__listener__descriptor,
    &envoy__config__route__v3__route_configuration__descriptor,
    &envoy__config__cluster__v3__cluster__descriptor,
    &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
    &envoy__extensions__transport_sockets__tls__v3__secret__descriptor,
    &envoy__service__runtime__v3__runtime__descriptor,
    &envoy__extensions__access_loggers__file__v3__file_access_log__descriptor,
    &envoy__extensions__compression__brotli__compressor__v3__brotli__descriptor,
    &envoy__extensions__compression__gzip__compressor__v3__gzip__descriptor,
    &envoy__extensions__compression__zstd__compressor__v3__zstd__descriptor,
    &envoy__extensions__filters__http__compressor__v3__compressor__descriptor,
    &envoy__extensions__filters__http__cors__v3__cors__descriptor,
    &envoy__extensions__filters__http__cors__v3__cors_policy__descriptor,
    &envoy__extensions__filters__http__ext_authz__v3__ext_authz_per_route__descriptor,
    &envoy__extensions__filters__http__grpc_stats__v3__filter_config__descriptor,
    &envoy__extensions__filters__http__grpc_web__v3__grpc_web__descriptor,
    &envoy__extensions__filters__http__local_ratelimit__v3__local_rate_limit__descriptor,
    &envoy__extensions__filters__http__lua__v3__lua__descriptor,
    &envoy__extensions__filters__http__rbac__v3__rbac__descriptor,
    &envoy__extensions__filters__http__rbac__v3__rbacper_route__descriptor,
    &envoy__extensions__filters__http__router__v3__router__descriptor,
    &envoy__extensions__filters__listener__tls_inspector__v3__tls_inspector__descriptor,
    &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor,
    &envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__descriptor,
    &envoy__extensions__transport_sockets__tls__v3__downstream_tls_context__descriptor,
    &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor,
    &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor,
};

const ProtobufCMessageDescriptor *xds_json_descriptor(const char *full_name)
{
	for (size_t i = 0; i < sizeof(xds_json_types) / sizeof(*xds_json_types); i++)
		if (!strcmp(xds_json_types[i]->name, full_name))
			return xds_json_types[i];
	return NULL;
}

static json_t *xds_json_message(const ProtobufCMessage *m);

static json_t *xds_json_base64(const uint8_t *p, size_t n)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = 0;
	json_t *j = json_string(out);
	free(out);
	return j;
}

/* Duration as proto3 JSON: seconds with 0, 3, 6 or 9 fraction digits. */
static json_t *xds_json_duration(const Google__Protobuf__Duration *d)
{
	char buf[64];
	int64_t s = d->seconds;
	int32_t n = d->nanos;
	const char *sign = (s < 0 || n < 0) ? "-" : "";
	uint64_t as = (uint64_t)(s < 0 ? -s : s);
	uint32_t an = (uint32_t)(n < 0 ? -n : n);
	if (!an)
		snprintf(buf, sizeof(buf), "%s%" PRIu64 "s", sign, as);
	else if (an % 1000000 == 0)
		snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%03" PRIu32 "s", sign, as, an / 1000000);
	else if (an % 1000 == 0)
		snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%06" PRIu32 "s", sign, as, an / 1000);
	else
		snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%09" PRIu32 "s", sign, as, an);
	return json_string(buf);
}

static json_t *xds_json_value(const Google__Protobuf__Value *v);

static json_t *xds_json_struct(const Google__Protobuf__Struct *s)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < s->n_fields; i++)
		json_object_set_new(o, s->fields[i]->key, xds_json_value(s->fields[i]->value));
	return o;
}

static json_t *xds_json_value(const Google__Protobuf__Value *v)
{
	if (!v)
		return json_null();
	switch (v->kind_case) {
	case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
		return json_real(v->number_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
		return json_string(v->string_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
		return json_boolean(v->bool_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
		return xds_json_struct(v->struct_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE: {
		json_t *a = json_array();
		for (size_t i = 0; a && i < v->list_value->n_values; i++)
			json_array_append_new(a, xds_json_value(v->list_value->values[i]));
		return a;
	}
	default:
		return json_null();
	}
}

static json_t *xds_json_any(const Google__Protobuf__Any *any)
{
	json_t *o = NULL;
	const char *url = any->type_url ? any->type_url : "";
	const char *slash = strrchr(url, '/');
	const ProtobufCMessageDescriptor *d = xds_json_descriptor(slash ? slash + 1 : url);
	if (d) {
		ProtobufCMessage *inner =
		    protobuf_c_message_unpack(d, NULL, any->value.len, any->value.data);
		if (inner) {
			o = xds_json_message(inner);
			protobuf_c_message_free_unpacked(inner, NULL);
		}
	}
	if (!o) {
		o = json_object();
		json_object_set_new(o, "value", xds_json_base64(any->value.data, any->value.len));
	}
	json_object_set_new(o, "@type", json_string(url));
	return o;
}

static int xds_json_is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n = strlen(d->name);
	return n > 5 && !strcmp(d->name + n - 5, "Entry") && d->n_fields == 2 &&
	       !strcmp(d->fields[0].name, "key") && !strcmp(d->fields[1].name, "value");
}

/* One value of field f stored at p. */
static json_t *xds_json_scalar(const ProtobufCFieldDescriptor *f, const void *p)
{
	char buf[32];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)p);
		return json_string(buf);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)p);
		return json_string(buf);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		return ev ? json_string(ev->name) : json_integer(*(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING:
		return json_string(*(char *const *)p ? *(char *const *)p : "");
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		return xds_json_base64(b->data, b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		return m ? xds_json_message(m) : json_null();
	}
	}
	return json_null();
}

/* Whether a singular proto3 field holds a non-default value. */
static int xds_json_present(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return *(const uint32_t *)p != 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p != 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p != 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p != 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p != 0;
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)p && **(char *const *)p;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len > 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p != NULL;
	}
	return 0;
}

static size_t xds_json_elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static json_t *xds_json_message(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *name = d->name;
	/* well-known types with their own JSON form */
	if (!strcmp(name, "google.protobuf.Duration"))
		return xds_json_duration((const Google__Protobuf__Duration *)m);
	if (!strcmp(name, "google.protobuf.Any"))
		return xds_json_any((const Google__Protobuf__Any *)m);
	if (!strcmp(name, "google.protobuf.Struct"))
		return xds_json_struct((const Google__Protobuf__Struct *)m);
	if (!strcmp(name, "google.protobuf.Value"))
		return xds_json_value((const Google__Protobuf__Value *)m);
	if (!strncmp(name, "google.protobuf.", 16) && strstr(name, "Value") && d->n_fields == 1 &&
	    d->fields[0].label != PROTOBUF_C_LABEL_REPEATED) {
		/* wrappers: the plain value (the default when unset) */
		const ProtobufCFieldDescriptor *f = &d->fields[0];
		return xds_json_scalar(f, (const char *)m + f->offset);
	}
	int tls_cert = !strcmp(name, "envoy.extensions.transport_sockets.tls.v3.TlsCertificate");
	json_t *o = json_object();
	if (!o)
		return NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;
		json_t *v = NULL;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			if (!n)
				continue;
			const char *arr = *(char *const *)(base + f->offset);
			size_t sz = xds_json_elem_size(f);
			int map = f->type == PROTOBUF_C_TYPE_MESSAGE &&
			          xds_json_is_map_entry(f->descriptor);
			v = map ? json_object() : json_array();
			for (size_t k = 0; v && k < n; k++) {
				const void *p = arr + k * sz;
				if (map) {
					const ProtobufCMessage *e = *(ProtobufCMessage *const *)p;
					const ProtobufCMessageDescriptor *ed = e->descriptor;
					const char *key = *(char *const *)((const char *)e +
					                                   ed->fields[0].offset);
					json_object_set_new(
					    v, key ? key : "",
					    xds_json_scalar(&ed->fields[1],
					                    (const char *)e +
					                        ed->fields[1].offset));
				} else {
					json_array_append_new(v, xds_json_scalar(f, p));
				}
			}
		} else {
			const void *p = base + f->offset;
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
				if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
					continue;
			} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
				if (f->quantifier_offset &&
				    !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
					continue;
			} else if (!xds_json_present(f, p)) {
				continue;
			}
			if (tls_cert && !strcmp(f->name, "private_key"))
				v = json_string("[redacted]");
			else
				v = xds_json_scalar(f, p);
		}
		json_object_set_new(o, f->name, v ? v : json_null());
	}
	return o;
}

static const struct {
	const char *key;
	xds_type_t type;
	const ProtobufCMessageDescriptor *d;
} xds_json_sections[] = {
    {"listeners", XDS_LISTENER, &envoy__config__listener__v3__listener__descriptor},
    {"routes", XDS_ROUTE, &envoy__config__route__v3__route_configuration__descriptor},
    {"clusters", XDS_CLUSTER, &envoy__config__cluster__v3__cluster__descriptor},
    {"endpoints", XDS_ENDPOINT, &envoy__config__endpoint__v3__cluster_load_assignment__descriptor},
    {"secrets", XDS_SECRET, &envoy__extensions__transport_sockets__tls__v3__secret__descriptor},
};

json_t *xds_snapshot_to_json(const xds_snapshot_t *s)
{
	json_t *root = json_object();
	if (!root)
		return NULL;
	for (size_t k = 0; k < sizeof(xds_json_sections) / sizeof(*xds_json_sections); k++) {
		json_t *arr = json_array();
		xds_type_t t = xds_json_sections[k].type;
		for (size_t i = 0; arr && s && i < s->nres[t]; i++) {
			const xds_resource_t *r = &s->res[t][i];
			ProtobufCMessage *m = protobuf_c_message_unpack(xds_json_sections[k].d,
			                                                NULL, r->len, r->bytes);
			if (!m) {
				json_array_append_new(arr, json_pack("{s:s,s:s}", "name", r->name,
				                                     "error", "undecodable"));
				continue;
			}
			json_array_append_new(arr, xds_json_message(m));
			protobuf_c_message_free_unpacked(m, NULL);
		}
		json_object_set_new(root, xds_json_sections[k].key, arr ? arr : json_array());
	}
	return root;
}

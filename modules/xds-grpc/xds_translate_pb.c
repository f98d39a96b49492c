/* modules/xds-grpc/xds_translate_pb.c: the protobuf wire writer and the
 * Envoy messages every resource type repeats (config sources, addresses,
 * access logs, matchers). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "modules/xds-grpc/xds_translate.h"

enum { XPB_VARINT = 0, XPB_I64 = 1, XPB_LEN = 2 };

void xpb_reset(xpb_t *w)
{
	w->len = 0;
	w->oom = 0;
}

void xpb_fini(xpb_t *w)
{
	free(w->buf);
	*w = (xpb_t){0};
}

int xpb_grow_slow(xpb_t *w, size_t more)
{
	if (w->oom)
		return -1;
	size_t cap = w->cap ? w->cap : 1024;
	while (cap < w->len + more)
		cap *= 2;
	uint8_t *nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = 1;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static size_t xpb_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void xpb_double(xpb_t *w, uint32_t field, double v)
{
	if (v == 0.0)
		return;
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	xpb_tag(w, field, XPB_I64);
	if (xpb_grow(w, 8))
		return;
	for (int i = 0; i < 8; i++)
		w->buf[w->len++] = (uint8_t)(bits >> (8 * i));
}

/* A body of 128 bytes or more: its length takes more than the one byte
 * xpb_begin reserved. */
void xpb_end_long(xpb_t *w, size_t mark, size_t body)
{
	size_t n = xpb_varint_len(body);
	if (xpb_grow(w, n - 1))
		return;
	memmove(w->buf + mark + n - 1, w->buf + mark, body);
	w->len += n - 1;
	uint8_t *p = w->buf + mark - 1;
	uint64_t v = body;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}

void xpb_empty(xpb_t *w, uint32_t field)
{
	xpb_tag(w, field, XPB_LEN);
	xpb_raw_varint(w, 0);
}

xpb_any_t xpb_any_begin(xpb_t *w, uint32_t field, const char *type)
{
	xpb_any_t m;
	m.outer = xpb_begin(w, field);
	size_t plen = strlen(XDS_TYPE_PREFIX), tlen = strlen(type);
	xpb_tag(w, 1, XPB_LEN);
	xpb_raw_varint(w, plen + tlen);
	if (!xpb_grow(w, plen + tlen)) {
		memcpy(w->buf + w->len, XDS_TYPE_PREFIX, plen);
		memcpy(w->buf + w->len + plen, type, tlen);
		w->len += plen + tlen;
	}
	m.inner = xpb_begin(w, 2);
	return m;
}

void xpb_any_end(xpb_t *w, xpb_any_t m)
{
	/* An empty value is omitted, as proto3 does for empty bytes. */
	if (!w->oom && w->len == m.inner)
		w->len = m.inner - 2;
	else
		xpb_end(w, m.inner);
	xpb_end(w, m.outer);
}

void xpb_any_empty(xpb_t *w, uint32_t field, const char *type)
{
	xpb_any_end(w, xpb_any_begin(w, field, type));
}

void xpb_duration_ms(xpb_t *w, uint32_t field, int64_t ms)
{
	size_t m = xpb_begin(w, field);
	xpb_int(w, 1, ms / 1000);
	xpb_int(w, 2, (ms % 1000) * 1000000);
	xpb_end(w, m);
}

void xpb_u32value(xpb_t *w, uint32_t field, uint32_t v)
{
	size_t m = xpb_begin(w, field);
	xpb_uint(w, 1, v);
	xpb_end(w, m);
}

void xpb_boolvalue(xpb_t *w, uint32_t field, int v)
{
	size_t m = xpb_begin(w, field);
	xpb_bool(w, 1, v);
	xpb_end(w, m);
}

/* {resource_api_version: V3, api_config_source: {api_type: GRPC,
 * transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name:
 * contour, authority: contour}}]}}: every source upstream emits. */
void xds_pb_config_source(xpb_t *w, uint32_t field)
{
	size_t cs = xpb_begin(w, field);
	size_t api = xpb_begin(w, 2);
	xpb_uint(w, 1, 2); /* GRPC */
	size_t gs = xpb_begin(w, 4);
	size_t eg = xpb_begin(w, 1);
	xpb_str(w, 1, "contour");
	xpb_str(w, 2, "contour");
	xpb_end(w, eg);
	xpb_end(w, gs);
	xpb_uint(w, 8, 2); /* transport_api_version V3 */
	xpb_end(w, api);
	xpb_uint(w, 6, 2); /* resource_api_version V3 */
	xpb_end(w, cs);
}

void xds_pb_socket_address(xpb_t *w, uint32_t field, const char *addr, uint32_t port)
{
	size_t a = xpb_begin(w, field);
	size_t sa = xpb_begin(w, 1);
	xpb_str(w, 2, addr);
	xpb_uint_always(w, 3, port);
	xpb_end(w, sa);
	xpb_end(w, a);
}

void xds_pb_file_access_log(xpb_t *w, uint32_t field, const char *path)
{
	size_t al = xpb_begin(w, field);
	xpb_str(w, 1, "envoy.access_loggers.file");
	xpb_any_t any =
	    xpb_any_begin(w, 4, "envoy.extensions.access_loggers.file.v3.FileAccessLog");
	xpb_str(w, 1, path);
	xpb_any_end(w, any);
	xpb_end(w, al);
}

void xds_pb_string_matcher(xpb_t *w, uint32_t field, contour_dag_match_type_t type,
                           const char *value, int ignore_case)
{
	size_t m = xpb_begin(w, field);
	switch (type) {
	case CONTOUR_DAG_MATCH_CONTAINS:
		xpb_str_always(w, 7, value);
		break;
	case CONTOUR_DAG_MATCH_PREFIX:
		xpb_str_always(w, 2, value);
		break;
	case CONTOUR_DAG_MATCH_SUFFIX:
		xpb_str_always(w, 3, value);
		break;
	case CONTOUR_DAG_MATCH_REGEX: {
		size_t r = xpb_begin(w, 5);
		xpb_str(w, 2, value);
		xpb_end(w, r);
		break;
	}
	default:
		xpb_str_always(w, 1, value);
		break;
	}
	xpb_bool(w, 6, ignore_case);
	xpb_end(w, m);
}

void xds_pb_header_value_option(xpb_t *w, uint32_t field, const char *key, const char *value,
                                int append_action)
{
	size_t o = xpb_begin(w, field);
	size_t h = xpb_begin(w, 1);
	xpb_str(w, 1, key);
	xpb_str(w, 2, value);
	xpb_end(w, h);
	xpb_uint(w, 3, (uint64_t)append_action);
	xpb_end(w, o);
}

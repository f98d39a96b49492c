/* core/dag/dag_hash.c: content hashes of sealed DAG parts, so an observer (the
 * xDS translator) can tell what changed since the previous snapshot by
 * comparing 64-bit numbers instead of whole structures. Every string is
 * hashed with its length first and every list with its count, so different
 * contents cannot line up into equal input streams.
 *
 * The input is consumed eight bytes at a time with xxHash64's round (add the
 * word times a prime, rotate, multiply by another): for a fixed state it is a
 * bijection of the word, and for a fixed word a bijection of the state, so
 * two inputs that differ in one word never collide. A string's last partial
 * word is padded with zero bytes, which is unambiguous after its length. The
 * values only ever meet values of the same process, so byte order does not
 * matter. */
#include "config.h"

#include <string.h>

#include "core/dag/dag_internal.h"

#define H_INIT 1469598103934665603ULL
#define H_P1   0x9E3779B185EBCA87ULL
#define H_P2   0xC2B2AE3D27D4EB4FULL

static inline uint64_t h_u64(uint64_t h, uint64_t v)
{
	h += v * H_P2;
	h = (h << 31) | (h >> 33);
	return h * H_P1;
}

static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t w;
	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		h = h_u64(h, w);
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		h = h_u64(h, w);
	}
	return h;
}

static uint64_t h_str(uint64_t h, const char *s)
{
	if (!s)
		return h_u64(h, UINT64_MAX);
	size_t n = strlen(s);
	return h_bytes(h_u64(h, n), s, n);
}

/* A string that may be NULL, read as "" (as cluster keys do). */
static uint64_t h_str0(uint64_t h, const char *s)
{
	return h_str(h, s ? s : "");
}

static uint64_t h_headers(uint64_t h, const contour_dag_header_policy_t *p)
{
	if (!p)
		return h_u64(h, 0);
	h = h_u64(h, p->nset);
	for (size_t i = 0; i < p->nset; i++)
		h = h_str(h_str(h, p->set[i].name), p->set[i].value);
	h = h_u64(h, p->nremove);
	for (size_t i = 0; i < p->nremove; i++)
		h = h_str(h, p->remove[i]);
	return h_str(h_str(h, p->host_rewrite), p->host_rewrite_header);
}

static uint64_t h_ip_filter(uint64_t h, const contour_dag_ip_filter_t *f)
{
	if (!f)
		return h_u64(h, 0);
	h = h_u64(h_u64(h, 1 + (uint64_t)f->allow), f->nrules);
	for (size_t i = 0; i < f->nrules; i++)
		h = h_str(h_u64(h, (uint64_t)f->rules[i].remote), f->rules[i].cidr);
	return h;
}

uint64_t core_dag_hash_secret(const contour_dag_secret_t *s)
{
	uint64_t h = h_u64(H_INIT, s->type);
	h = h_str(h_str(h, s->namespace_), s->name);
	h = h_str(h_str(h, s->cert), s->key);
	return h_str(h_str(h, s->ca), s->crl);
}

uint64_t core_dag_hash_cluster(const contour_dag_cluster_t *c)
{
	/* The key already spells out every field but the secret's content. */
	uint64_t h = h_str(H_INIT, c->key);
	return h_u64(h, c->validation_ca ? core_dag_hash_secret(c->validation_ca) : 0);
}

uint64_t core_dag_hash_cluster_id(const contour_dag_cluster_t *c)
{
	/* Only the cheap fields: equal clusters hash equal, and clusters that
	 * differ in the others are told apart by the comparison. */
	const contour_dag_service_t *s = &c->service;
	uint64_t h = h_str0(h_str0(H_INIT, s->namespace_), s->name);
	h = h_u64(h_u64(h, s->port), s->health_port);
	h = h_str0(h_str0(h, s->port_name), s->health_port_name);
	h = h_str0(h_str0(h_str0(h, s->external_name), c->protocol), c->sni);
	h = h_u64(h, (uint64_t)c->lb_strategy << 2 | (uint64_t) !!c->health_check << 1 |
	                 (uint64_t) !!c->slow_start);
	h = h_u64(h_u64(h, c->nsubject_names), (uint64_t)c->idle_connection_timeout_ms);
	const contour_dag_circuit_breakers_t *cb = &c->circuit_breakers;
	h = h_u64(h, (uint64_t)cb->max_connections << 32 | cb->max_pending_requests);
	h = h_u64(h, (uint64_t)cb->max_requests << 32 | cb->max_retries);
	return h_u64(h, cb->per_host_max_connections);
}

static uint64_t h_route(uint64_t h, const contour_dag_route_t *r)
{
	h = h_str(h, r->key);
	h = h_u64(h, r->nbackends);
	for (size_t i = 0; i < r->nbackends; i++) {
		const contour_dag_backend_t *b = &r->backends[i];
		h = h_str(h, b->cluster ? b->cluster->key : NULL);
		h = h_u64(h, b->weight);
		h = h_headers(h_headers(h, b->request_headers), b->response_headers);
	}
	if (r->redirect) {
		const contour_dag_redirect_t *d = r->redirect;
		h = h_str(h_str(h_str(h_str(h, d->scheme), d->hostname), d->path), d->prefix);
		h = h_u64(h_u64(h, d->port), d->status_code);
	}
	if (r->direct_response)
		h = h_str(h_u64(h, r->direct_response->status_code), r->direct_response->body);
	h = h_u64(h, (uint64_t)r->https_redirect << 1 | (uint64_t)r->websockets);
	for (size_t i = 0; i < r->nmirrors; i++)
		h = h_u64(h_str(h, r->mirrors[i].cluster->key), r->mirrors[i].percent);
	h = h_u64(h_u64(h, (uint64_t)r->timeouts.response_ms), (uint64_t)r->timeouts.idle_ms);
	if (r->retry) {
		h = h_str(h, r->retry->retry_on);
		h = h_u64(h_u64(h, r->retry->num_retries), (uint64_t)r->retry->per_try_timeout_ms);
		for (size_t i = 0; i < r->retry->nretriable_status_codes; i++)
			h = h_u64(h, r->retry->retriable_status_codes[i]);
	}
	h = h_headers(h_headers(h, r->request_headers), r->response_headers);
	for (size_t i = 0; i < r->nprefix_rewrites; i++)
		h = h_str(h_str(h, r->prefix_rewrites[i].prefix),
		          r->prefix_rewrites[i].replacement);
	for (size_t i = 0; i < r->nhash_policies; i++) {
		const contour_dag_hash_policy_t *p = &r->hash_policies[i];
		h = h_str(h_u64(h, (uint64_t)p->type << 1 | (uint64_t)p->terminal), p->name);
	}
	h = h_ip_filter(h, r->ip_filter);
	return h_str(h_str(h_str(h, r->origin.kind), r->origin.namespace_), r->origin.name);
}

static uint64_t h_strs(uint64_t h, const char **v, size_t n)
{
	h = h_u64(h, n);
	for (size_t i = 0; i < n; i++)
		h = h_str(h, v[i]);
	return h;
}

uint64_t core_dag_hash_vhost(const contour_dag_vhost_t *v)
{
	uint64_t h = h_str(H_INIT, v->fqdn);
	h = h_u64(h, v->nroutes);
	for (size_t i = 0; i < v->nroutes; i++)
		h = h_route(h, v->routes[i]);
	if (v->cors) {
		const contour_dag_cors_t *c = v->cors;
		h = h_u64(h,
		          (uint64_t)c->allow_credentials << 1 | (uint64_t)c->allow_private_network);
		h = h_strs(h, c->allow_origin, c->nallow_origin);
		h = h_strs(h, c->allow_methods, c->nallow_methods);
		h = h_strs(h, c->allow_headers, c->nallow_headers);
		h = h_strs(h, c->expose_headers, c->nexpose_headers);
		h = h_str(h, c->max_age);
	}
	return h_ip_filter(h, v->ip_filter);
}

uint64_t core_dag_hash_svhost(const contour_dag_svhost_t *s)
{
	uint64_t h = core_dag_hash_vhost(&s->vhost);
	h = h_u64(h, s->secret ? s->secret->hash : 0);
	h = h_str(h_str(h, s->min_tls_version), s->max_tls_version);
	h = h_u64(h, (uint64_t)s->fallback_certificate << 1 | (uint64_t)s->passthrough);
	const contour_dag_client_validation_t *cv = s->client_validation;
	if (cv) {
		h = h_u64(h, cv->ca ? core_dag_hash_secret(cv->ca) : 1);
		h = h_u64(h, cv->crl ? core_dag_hash_secret(cv->crl) : 1);
		h = h_u64(
		    h, (uint64_t)cv->skip_verify | (uint64_t)cv->optional << 1 |
		           (uint64_t)cv->crl_only_leaf << 2 | (uint64_t)cv->forward.subject << 3 |
		           (uint64_t)cv->forward.cert << 4 | (uint64_t)cv->forward.chain << 5 |
		           (uint64_t)cv->forward.dns << 6 | (uint64_t)cv->forward.uri << 7);
	}
	if (s->tcpproxy)
		for (size_t i = 0; i < s->tcpproxy->nbackends; i++)
			h = h_u64(h_str(h, s->tcpproxy->backends[i].cluster->key),
			          s->tcpproxy->backends[i].weight);
	return h;
}

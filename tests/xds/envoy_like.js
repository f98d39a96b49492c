'use strict';
// An xDS client that subscribes as Envoy does with upstream Contour's
// bootstrap, against a running `contour serve` (tests/integration/xds_serve.sh).
// CDS and LDS wildcard; then EDS for every EDS cluster's service name, RDS
// for every route_config_name the listeners name, SDS for every secret the
// TLS contexts name. In the per-type mode each named resource gets its own
// stream (as Envoy's per-cluster EDS subscriptions do); in the ADS mode one
// stream carries every type. Everything is ACKed. Every resource, and every
// Any inside it, is decoded with Envoy's own protos (from @grpc/grpc-js-xds):
// an unknown field, an unknown type URL, a type that differs from the
// response's, a name that was not asked for, or a referenced name not served
// within a few seconds fails the test.
//
// Environment: XDS_ADDR (host:port), XDS_MODE (sotw or ads), XDS_EXAMPLES
// (set to "all" when the server has every reference example: the checks of
// the chosen few are then skipped, the rest still apply), XDS_UPDATE_CMD
// (a shell command that adds an HTTPProxy for XDS_UPDATE_FQDN routing to the
// Service XDS_UPDATE_SERVICE, namespace default, port 80).
// TLS (tests/integration/certgen_mtls.sh): XDS_CA (the CA file the server's
// certificate must verify against; set, the connection is TLS), XDS_CERT
// and XDS_KEY (the client certificate, optional), XDS_TLS_NAME (the name
// the server's certificate must carry, default "contour", as the SNI
// upstream's bootstrap sends).

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { exec } = require('child_process');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const ADDR = process.env.XDS_ADDR;
const MODE = process.env.XDS_MODE || 'sotw';
const { INCLUDES, T: ALL_TYPES, KEY_OF, SERVICES: ALL_SERVICES, envoyRoot } =
  require('./envoy_api');
// Envoy with upstream's bootstrap asks for these five (no runtime layer).
const TYPES = ['clusters', 'endpoints', 'listeners', 'routes', 'secrets'];
const T = Object.fromEntries(TYPES.map((k) => [k, ALL_TYPES[k]]));
const WILDCARD = { clusters: true, listeners: true };
const SERVICES = Object.fromEntries(['ads', ...TYPES].map((k) => [k, ALL_SERVICES[k]]));

const root = envoyRoot([
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
]);

// The message type of a type URL. Envoy knows every type of its API, so the
// package's folder is loaded on first use; a type not there is unknown.
const typeCache = new Map();
function lookupType(url) {
  if (typeCache.has(url)) return typeCache.get(url);
  const m = /^type\.googleapis\.com\/([\w.]+)$/.exec(url);
  assert(m, `malformed type URL ${url}`);
  const full = m[1];
  let type = null;
  try {
    type = root.lookupType(full);
  } catch (e) {
    const dir = full.split('.').slice(0, -1).join('/');
    for (const inc of INCLUDES) {
      const d = path.join(inc, dir);
      if (!fs.existsSync(d)) continue;
      const files = fs.readdirSync(d).filter((f) => f.endsWith('.proto'))
        .map((f) => path.join(dir, f));
      root.loadSync(files, { keepCase: true });
      root.resolveAll();
    }
    try {
      type = root.lookupType(full);
    } catch (e2) {
      assert.fail(`unknown type URL ${url}`);
    }
  }
  typeCache.set(url, type);
  return type;
}

// Decode an Any's bytes, refuse unknown fields (protobufjs drops them, so a
// re-encode comes out shorter), and decode the Anys inside it the same way.
function decodeAny(url, bytes, where) {
  const type = lookupType(url);
  const msg = type.decode(bytes);
  const again = type.encode(msg).finish();
  assert.strictEqual(again.length, bytes.length, `unknown fields in ${url} (${where})`);
  const obj = type.toObject(msg, { longs: String, enums: String, defaults: false });
  walk(type, obj, where);
  obj['@type'] = url;
  return obj;
}
function walk(type, obj, where) {
  validate(type, obj, where);
  for (const f of type.fieldsArray) {
    const v = obj[f.name];
    if (v === undefined || !(f.resolvedType instanceof protobuf.Type)) continue;
    const one = (x) => {
      if (f.resolvedType.fullName === '.google.protobuf.Any') {
        return decodeAny(x.type_url, x.value || new Uint8Array(0), `${where}.${f.name}`);
      }
      walk(f.resolvedType, x, `${where}.${f.name}`);
      return x;
    };
    if (f.map) for (const k of Object.keys(v)) v[k] = one(v[k]);
    else if (f.repeated) obj[f.name] = v.map(one);
    else obj[f.name] = one(v);
  }
}
// Envoy checks every resource against the protoc-gen-validate rules of its
// protos before using it; so does this, for the rules Contour's resources
// meet (required messages and oneofs, lengths, item counts, number and
// duration bounds, enum values). Regular expressions are not checked.
const WRAPPERS = new Set(['UInt32Value', 'UInt64Value', 'Int32Value', 'Int64Value', 'DoubleValue',
  'FloatValue', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));
function fieldRules(f) {
  for (const o of f.parsedOptions || []) if (o['(validate.rules)']) return o['(validate.rules)'];
  return null;
}
// protobufjs gives a one-element repeated option as a scalar
const list = (x) => [].concat(x);
const durMs = (d) => Number(d.seconds || 0) * 1000 + (d.nanos || 0) / 1e6;
function checkRules(rules, v, f, where) {
  const bad = (what) => assert.fail(`${where}.${f.name}: ${what} (value ${JSON.stringify(v)})`);
  for (const [kind, r] of Object.entries(rules)) {
    if (r === null || typeof r !== 'object') continue;
    if (r.ignore_empty && (v === undefined || v === '' || v === 0 || (v && v.length === 0))) continue;
    switch (kind) {
      case 'message':
        if (r.required && v === undefined) bad('required');
        break;
      case 'string':
      case 'bytes': {
        const x = v === undefined ? '' : v;
        const len = kind === 'string' ? [...x].length : x.length;
        const bytes = kind === 'string' ? Buffer.byteLength(x) : x.length;
        if (r.min_len !== undefined && len < Number(r.min_len)) bad(`shorter than ${r.min_len}`);
        if (r.max_len !== undefined && len > Number(r.max_len)) bad(`longer than ${r.max_len}`);
        if (r.min_bytes !== undefined && bytes < Number(r.min_bytes)) bad(`fewer than ${r.min_bytes} bytes`);
        if (r.max_bytes !== undefined && bytes > Number(r.max_bytes)) bad(`more than ${r.max_bytes} bytes`);
        if (r.prefix !== undefined && !String(x).startsWith(r.prefix)) bad(`no prefix ${r.prefix}`);
        if (r.in !== undefined && !list(r.in).includes(x)) bad(`not in ${r.in}`);
        if (r.not_in !== undefined && list(r.not_in).includes(x)) bad(`in ${r.not_in}`);
        break;
      }
      case 'uint32': case 'uint64': case 'int32': case 'int64': case 'double': case 'float':
      case 'sint32': case 'sint64': case 'fixed32': case 'fixed64': {
        const x = Number(v === undefined ? 0 : v);
        if (r.gt !== undefined && !(x > Number(r.gt))) bad(`not > ${r.gt}`);
        if (r.gte !== undefined && !(x >= Number(r.gte))) bad(`not >= ${r.gte}`);
        if (r.lt !== undefined && !(x < Number(r.lt))) bad(`not < ${r.lt}`);
        if (r.lte !== undefined && !(x <= Number(r.lte))) bad(`not <= ${r.lte}`);
        if (r.const !== undefined && x !== Number(r.const)) bad(`not ${r.const}`);
        break;
      }
      case 'enum':
        if (r.defined_only && v !== undefined && typeof v === 'number') bad('undefined enum value');
        if (r.not_in !== undefined &&
          list(r.not_in).map(Number).includes(f.resolvedType.values[v] || 0)) bad(`in ${r.not_in}`);
        break;
      case 'duration':
        if (r.required && v === undefined) bad('required');
        if (v !== undefined) {
          const x = durMs(v);
          if (r.gt && !(x > durMs(r.gt))) bad(`not > ${JSON.stringify(r.gt)}`);
          if (r.gte && !(x >= durMs(r.gte))) bad(`not >= ${JSON.stringify(r.gte)}`);
          if (r.lt && !(x < durMs(r.lt))) bad(`not < ${JSON.stringify(r.lt)}`);
          if (r.lte && !(x <= durMs(r.lte))) bad(`not <= ${JSON.stringify(r.lte)}`);
        }
        break;
      case 'any':
        if (r.required && v === undefined) bad('required');
        break;
      case 'repeated': {
        const x = v || [];
        if (r.min_items !== undefined && x.length < Number(r.min_items)) bad(`fewer than ${r.min_items} items`);
        if (r.max_items !== undefined && x.length > Number(r.max_items)) bad(`more than ${r.max_items} items`);
        if (r.unique && new Set(x.map((i) => JSON.stringify(i))).size !== x.length) bad('not unique');
        if (r.items) for (const i of x) checkRules(r.items, i, f, where);
        break;
      }
      case 'map': {
        const x = v || {};
        const n = Object.keys(x).length;
        if (r.min_pairs !== undefined && n < Number(r.min_pairs)) bad(`fewer than ${r.min_pairs} pairs`);
        if (r.values) for (const i of Object.values(x)) checkRules(r.values, i, f, where);
        break;
      }
      default:
        break;
    }
  }
}
function validate(type, obj, where) {
  for (const o of type.oneofsArray) {
    const req = (o.parsedOptions || []).some((x) => x['(validate.required)'] === true) ||
      (o.options && o.options['(validate.required)'] === true);
    if (req && !o.oneof.some((n) => obj[n] !== undefined)) {
      assert.fail(`${where}: one of ${o.name} (${o.oneof.join(', ')}) is required`);
    }
  }
  for (const f of type.fieldsArray) {
    const rules = fieldRules(f);
    if (!rules) continue;
    let v = obj[f.name];
    // members of a oneof (and proto3 optionals) are checked only when set
    if (v === undefined && f.partOf) continue;
    if (f.resolvedType && WRAPPERS.has(f.resolvedType.fullName) && !rules.message) {
      if (v === undefined) continue;
      v = v.value;
    } else if (f.resolvedType instanceof protobuf.Type && !f.repeated && !f.map &&
      !rules.message && !rules.duration && !rules.any && !rules.timestamp && v === undefined) {
      continue; // rules on an absent message apply only with required
    }
    checkRules(rules, v, f, where);
  }
}

const resName = (r) => (r.name !== undefined ? r.name : r.cluster_name);

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms);
  })]).finally(() => clearTimeout(t));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const NODE = {
  id: `envoy-like-${MODE}`, cluster: 'projectcontour', user_agent_name: 'envoy',
  user_agent_build_version: { version: { major_number: 1, minor_number: 31, patch: 2 } },
};

function credentials() {
  const e = process.env;
  if (!e.XDS_CA) return grpc.credentials.createInsecure();
  const rd = (f) => (f ? fs.readFileSync(f) : null);
  return grpc.credentials.createSsl(rd(e.XDS_CA), rd(e.XDS_KEY), rd(e.XDS_CERT));
}
function tlsOptions() {
  if (!process.env.XDS_CA) return {};
  const name = process.env.XDS_TLS_NAME || 'contour';
  return { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name };
}

// ---- an Envoy ----
class Envoy {
  constructor(addr, mode) {
    this.mode = mode;
    this.clients = {};
    for (const [k, [Svc]] of Object.entries(SERVICES)) {
      this.clients[k] = new Svc(addr, credentials(), tlsOptions());
    }
    // per type: name -> { res, version, n (times received) }
    this.state = Object.fromEntries(Object.keys(T).map((k) => [k, new Map()]));
    this.version = {}; // per type, the last version received
    this.want = { endpoints: new Set(), routes: new Set(), secrets: new Set() };
    this.streams = new Map(); // sotw: "type/name" (or "type") -> stream
    this.error = null;
    this.changed = [];
    this.responses = 0;
  }
  fail(e) {
    if (!this.error) this.error = e;
    for (const w of this.changed.splice(0)) w();
  }
  open(key, tag) {
    const svc = this.mode === 'ads' ? 'ads' : key;
    const call = this.clients[svc][SERVICES[svc][1]]();
    const st = { call, key, tag, nonce: {}, version: {}, closing: false };
    call.on('data', (r) => {
      try {
        this.onResponse(st, r);
      } catch (e) {
        this.fail(e);
      }
    });
    call.on('error', (e) => {
      if (!st.closing) this.fail(new Error(`stream ${tag} failed: ${e.code} ${e.details}`));
    });
    call.on('end', () => {
      if (!st.closing) this.fail(new Error(`stream ${tag} ended by the server`));
    });
    return st;
  }
  send(st, key, names) {
    st.call.write({ node: NODE, type_url: T[key], resource_names: names,
      version_info: st.version[key] || '', response_nonce: st.nonce[key] || '' });
  }
  start() {
    if (this.mode === 'ads') {
      this.ads = this.open('ads', 'ads');
      for (const k of ['clusters', 'listeners']) this.send(this.ads, k, []);
    } else {
      for (const k of ['clusters', 'listeners']) {
        const st = this.open(k, k);
        this.streams.set(k, st);
        this.send(st, k, []);
      }
    }
  }
  onResponse(st, r) {
    const key = KEY_OF[r.type_url];
    assert(key, `response of unknown type ${r.type_url} on ${st.tag}`);
    if (this.mode !== 'ads') {
      assert.strictEqual(key, st.key, `type URL ${r.type_url} on the ${st.key} stream`);
    }
    assert(r.nonce, `${key} response without a nonce`);
    assert(r.version_info, `${key} response without a version`);
    const names = [];
    for (const a of r.resources || []) {
      assert.strictEqual(a.type_url, r.type_url, `resource type differs from the response's`);
      const res = decodeAny(a.type_url, a.value, key);
      const name = resName(res);
      assert(name, `${key} resource without a name`);
      if (!WILDCARD[key]) {
        const asked = this.mode === 'ads' ? this.want[key].has(name) : st.tag === `${key}/${name}`;
        assert(asked, `${key} ${name} sent on ${st.tag} but not requested`);
      }
      names.push(name);
      const prev = this.state[key].get(name);
      this.state[key].set(name, { res, version: r.version_info, n: (prev ? prev.n : 0) + 1 });
    }
    if (WILDCARD[key]) {
      // state of the world: what is not in the response is gone
      for (const n of [...this.state[key].keys()]) if (!names.includes(n)) this.state[key].delete(n);
    }
    this.responses++;
    this.version[key] = r.version_info;
    st.version[key] = r.version_info;
    st.nonce[key] = r.nonce;
    // ACK with the names the stream holds.
    const held = this.mode === 'ads' ? [...(this.want[key] || [])]
      : (WILDCARD[key] ? [] : [st.tag.slice(key.length + 1)]);
    this.send(st, key, WILDCARD[key] ? [] : held);
    if (WILDCARD[key]) this.resubscribe();
    for (const w of this.changed.splice(0)) w();
  }
  // The names CDS and LDS reference, as Envoy derives its subscriptions.
  referenced() {
    const want = { endpoints: new Set(), routes: new Set(), secrets: new Set() };
    const sds = (o) => {
      if (!o || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        if ((k === 'tls_certificate_sds_secret_configs' || k === 'validation_context_sds_secret_config')) {
          for (const c of [].concat(v)) want.secrets.add(c.name);
        } else if (typeof v === 'object') sds(v);
      }
    };
    for (const { res: c } of this.state.clusters.values()) {
      if (c.type === 'EDS') want.endpoints.add(c.eds_cluster_config.service_name || c.name);
      sds(c.transport_socket);
    }
    for (const { res: l } of this.state.listeners.values()) {
      for (const fc of l.filter_chains || []) {
        for (const f of fc.filters || []) {
          const tc = f.typed_config || {};
          if (tc.rds) want.routes.add(tc.rds.route_config_name);
        }
        sds(fc.transport_socket);
      }
    }
    return want;
  }
  resubscribe() {
    const want = this.referenced();
    for (const k of Object.keys(want)) {
      const old = this.want[k];
      this.want[k] = want[k];
      const same = old.size === want[k].size && [...old].every((n) => want[k].has(n));
      if (same) continue;
      for (const n of old) if (!want[k].has(n)) this.state[k].delete(n);
      if (this.mode === 'ads') {
        this.send(this.ads, k, [...want[k]].sort());
        continue;
      }
      for (const n of old) {
        if (want[k].has(n)) continue;
        const st = this.streams.get(`${k}/${n}`);
        st.closing = true;
        st.call.cancel();
        this.streams.delete(`${k}/${n}`);
      }
      for (const n of want[k]) {
        if (old.has(n)) continue;
        const st = this.open(k, `${k}/${n}`);
        this.streams.set(`${k}/${n}`, st);
        this.send(st, k, [n]);
      }
    }
  }
  missing() {
    const m = [];
    for (const k of ['clusters', 'listeners']) if (!this.version[k]) m.push(`${k} (wildcard)`);
    for (const k of Object.keys(this.want)) {
      for (const n of this.want[k]) if (!this.state[k].has(n)) m.push(`${k} ${n}`);
    }
    return m;
  }
  // Until pred() holds (checked after every response), or ms pass.
  async until(pred, ms, what) {
    const t0 = Date.now();
    for (;;) {
      if (this.error) throw this.error;
      if (pred()) return Date.now() - t0;
      const left = ms - (Date.now() - t0);
      if (left <= 0) throw new Error(`timeout after ${ms} ms: ${what()}`);
      await new Promise((res) => {
        const t = setTimeout(res, left);
        this.changed.push(() => { clearTimeout(t); res(); });
      });
    }
  }
  settled(ms) {
    return this.until(() => this.missing().length === 0, ms,
      () => `referenced but never served: ${this.missing().join(', ')}`);
  }
  get(key, name) {
    const s = this.state[key].get(name);
    assert(s, `no ${key} ${name}; have ${[...this.state[key].keys()].join(', ')}`);
    return s.res;
  }
  counts() {
    const c = {};
    for (const k of Object.keys(T)) {
      for (const [n, s] of this.state[k]) c[`${k} ${n}`] = { n: s.n, version: s.version };
    }
    return c;
  }
  close() {
    for (const st of [this.ads, ...this.streams.values()]) {
      if (!st) continue;
      st.closing = true;
      st.call.cancel();
    }
    for (const c of Object.values(this.clients)) c.close();
  }
}

// ---- what the reference examples must produce ----
function vhost(rc, fqdn) {
  const vh = (rc.virtual_hosts || []).find((v) => v.domains.includes(fqdn));
  assert(vh, `${rc.name}: no virtual host for ${fqdn}`);
  return vh;
}
function routeTo(route) {
  assert(route.route, `route ${JSON.stringify(route.match)} does not route to a cluster`);
  return route.route.cluster;
}
function clusterOf(env, prefix) {
  const names = [...env.state.clusters.keys()].filter((n) => n.startsWith(prefix));
  assert.strictEqual(names.length, 1, `clusters named ${prefix}*: ${names.join(', ')}`);
  return names[0];
}
function httpsChain(env, fqdn) {
  const l = env.get('listeners', 'ingress_https');
  const fc = l.filter_chains.find((c) => c.filter_chain_match &&
    (c.filter_chain_match.server_names || []).includes(fqdn));
  assert(fc, `ingress_https: no filter chain for ${fqdn}`);
  return fc;
}

function assertExamples(env) {
  const http = env.get('routes', 'ingress_http');
  const s1 = clusterOf(env, 'default/s1/80/');
  // basic: plain HTTP to s1
  let vh = vhost(http, 'foo-basic.bar.com');
  assert.strictEqual(vh.routes.length, 1);
  assert.strictEqual(vh.routes[0].match.prefix, '/');
  assert.strictEqual(routeTo(vh.routes[0]), s1);
  // httpproxy-tls: an HTTPS redirect on port 80, the route on the TLS vhost,
  // the secret served by SDS
  vh = vhost(http, 'foo2.bar.com');
  assert.strictEqual(vh.routes.length, 1);
  assert(vh.routes[0].redirect && vh.routes[0].redirect.https_redirect,
    'foo2.bar.com on ingress_http is not an HTTPS redirect');
  vh = vhost(env.get('routes', 'https/foo2.bar.com'), 'foo2.bar.com');
  assert.strictEqual(routeTo(vh.routes[0]), s1);
  let fc = httpsChain(env, 'foo2.bar.com');
  assert.strictEqual(fc.transport_socket.typed_config['@type'],
    'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
  const hcm = fc.filters.find((f) => f.name === 'envoy.filters.network.http_connection_manager');
  assert.strictEqual(hcm.typed_config.rds.route_config_name, 'https/foo2.bar.com');
  const sdsNames = fc.transport_socket.typed_config.common_tls_context
    .tls_certificate_sds_secret_configs.map((c) => c.name);
  assert.strictEqual(sdsNames.length, 1);
  assert.match(sdsNames[0], /^default\/testsecret\/[0-9a-f]{10}$/);
  const secret = env.get('secrets', sdsNames[0]);
  const pem = (ds) => Buffer.from(ds.inline_bytes || ds.inline_string || '').toString();
  assert.match(pem(secret.tls_certificate.certificate_chain), /^-----BEGIN CERTIFICATE-----/);
  assert.match(pem(secret.tls_certificate.private_key), /-----BEGIN .*PRIVATE KEY-----/);
  assert((env.get('listeners', 'ingress_https').listener_filters || [])
    .some((f) => f.name === 'envoy.filters.listener.tls_inspector'), 'no TLS inspector');
  // httpproxy-tls-upstream: TLS to the backend, verified with the CA and SAN
  const up = clusterOf(env, 'default/service/8443/');
  assert.strictEqual(routeTo(vhost(http, 'www.example.com').routes[0]), up);
  const ts = env.get('clusters', up).transport_socket;
  assert(ts, `${up} has no transport socket`);
  assert.strictEqual(ts.typed_config['@type'],
    'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  const vc = ts.typed_config.common_tls_context.validation_context;
  assert.match(pem(vc.trusted_ca), /^-----BEGIN CERTIFICATE-----/);
  assert.deepStrictEqual(vc.match_typed_subject_alt_names.map((m) => [m.san_type, m.matcher.exact]),
    [['DNS', 'backend.example.com']]);
  assert.strictEqual(env.get('clusters', up).eds_cluster_config.service_name,
    'default/service/https');
  // tcpproxy passthrough: SNI match, no TLS termination, tcp_proxy to
  // clusters CDS has
  fc = httpsChain(env, 'tcp.example.com');
  assert(!fc.transport_socket, 'the passthrough chain terminates TLS');
  const tcp = fc.filters.find((f) => f.name === 'envoy.filters.network.tcp_proxy');
  assert(tcp, 'no tcp_proxy on the passthrough chain');
  const tcpClusters = tcp.typed_config.cluster ? [tcp.typed_config.cluster]
    : tcp.typed_config.weighted_clusters.clusters.map((c) => c.name);
  assert(tcpClusters.length >= 1);
  for (const c of tcpClusters) {
    assert(env.state.clusters.has(c), `tcp_proxy names ${c}, not served by CDS`);
  }
  // inclusion: the child's routes under the include prefix, longest first
  vh = vhost(http, 'root.bar.com');
  assert.deepStrictEqual(vh.routes.map((r) => [r.match.prefix, routeTo(r)]), [
    ['/service2/blog', clusterOf(env, 'default/blog/80/')],
    ['/service2', clusterOf(env, 'default/s2/80/')],
    ['/', s1],
  ]);
  // Every cluster a route names is served (Envoy would answer 503).
  for (const { res: rc } of env.state.routes.values()) {
    for (const v of rc.virtual_hosts || []) {
      for (const r of v.routes || []) {
        if (!r.route) continue;
        const cs = r.route.cluster ? [r.route.cluster]
          : r.route.weighted_clusters.clusters.map((c) => c.name);
        for (const c of cs) assert(env.state.clusters.has(c), `${rc.name} routes to ${c}, not in CDS`);
      }
    }
  }
  // Endpoints: s1 has the fixture's two ready addresses.
  const cla = env.get('endpoints', 'default/s1/http');
  const addrs = cla.endpoints.flatMap((e) => e.lb_endpoints)
    .map((e) => e.endpoint.address.socket_address);
  assert(addrs.length >= 1, 'default/s1/http has no endpoints');
  for (const a of addrs) assert.strictEqual(a.port_value, 8080);
}

// ---- the run ----
let finished = false;
process.on('exit', () => {
  if (!finished) {
    console.log('not ok - the client stopped before the end (a wait that cannot finish)');
    process.exitCode = 1;
  }
});

async function main() {
  assert(ADDR, 'set XDS_ADDR');
  const env = new Envoy(ADDR, MODE);
  const t0 = Date.now();
  env.start();
  await env.settled(5000);
  // the set may still grow (LDS answered before CDS, say): settle again
  await sleep(200);
  await env.settled(3000);
  const n = (k) => env.state[k].size;
  console.log(`ok - ${MODE}: ${n('listeners')} listeners, ${n('routes')} route configs, ` +
    `${n('clusters')} clusters, ${n('endpoints')} assignments, ${n('secrets')} secrets ` +
    `in ${Date.now() - t0} ms, ${env.responses} responses, all ACKed`);
  if (process.env.XDS_EXAMPLES !== 'all') {
    assertExamples(env);
    console.log(`ok - ${MODE}: HTTP, HTTPS with redirect and SDS, upstream TLS, passthrough, ` +
      'inclusion');
  }
  // Nothing more comes while nothing changes.
  let before = env.counts();
  await sleep(300);
  assert.deepStrictEqual(env.counts(), before, 'resources resent with nothing changed');

  // The update: a new HTTPProxy to a new Service.
  const fqdn = process.env.XDS_UPDATE_FQDN;
  const svc = process.env.XDS_UPDATE_SERVICE;
  if (process.env.XDS_UPDATE_CMD) {
    assert(fqdn && svc, 'set XDS_UPDATE_FQDN and XDS_UPDATE_SERVICE');
    const vCds = env.version.clusters;
    const vHttp = env.state.routes.get('ingress_http').version;
    const t1 = Date.now();
    const edited = new Promise((res, rej) => exec(process.env.XDS_UPDATE_CMD,
      { shell: '/bin/sh' }, (e) => (e ? rej(e) : res())));
    const prefix = `default/${svc}/80/`;
    const has = () => {
      const rc = env.state.routes.get('ingress_http');
      return env.version.clusters !== vCds && rc.version !== vHttp &&
        rc.res.virtual_hosts.some((v) => v.domains.includes(fqdn)) &&
        [...env.state.clusters.keys()].some((c) => c.startsWith(prefix)) &&
        env.missing().length === 0;
    };
    await env.until(has, 5000, () => `no new CDS/RDS with ${fqdn} ` +
      `(CDS ${env.version.clusters}, missing ${env.missing().join(', ')})`);
    const dt = Date.now() - t1;
    await edited;
    assert.strictEqual(routeTo(vhost(env.get('routes', 'ingress_http'), fqdn).routes[0]),
      clusterOf(env, prefix));
    assert(env.state.endpoints.has(`default/${svc}/http`), `no EDS for default/${svc}/http`);
    await sleep(300); // anything resent would arrive by now
    const after = env.counts();
    const resent = [];
    for (const [k, v] of Object.entries(before)) {
      if (!after[k]) continue;
      const changedOk = k === 'routes ingress_http' || k.startsWith('clusters ');
      if (after[k].n !== v.n && !changedOk) resent.push(k);
    }
    assert.deepStrictEqual(resent, [], 'unchanged resources resent after the update');
    for (const k of Object.keys(before)) assert(after[k], `${k} went away after the update`);
    console.log(`ok - ${MODE}: the update reached the client ${dt} ms after the edit began ` +
      `(CDS ${vCds} -> ${env.version.clusters}); unchanged resources not resent`);
    before = after;
  }
  env.close();
  finished = true;
}

main().then(() => process.exit(0), (e) => {
  console.log(`not ok - ${MODE}\n  ${e.stack}`);
  finished = true;
  process.exit(1);
});

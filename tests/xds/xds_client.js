'use strict';
// An xDS client that behaves like Envoy, against tests/xds/xds_testserver.
// It speaks gRPC with @grpc/grpc-js and decodes every resource with Envoy's
// own protos (shipped by @grpc/grpc-js-xds under deps/). It fails on an
// unknown field, a resource whose Any type differs from the response's, or
// a response it did not expect.
//
// Environment: XDS_TESTSERVER (the test server binary), XDS_PKI (folder with
// ca.crt, server.{crt,key}, server2.{crt,key}, client.{crt,key},
// stranger.{crt,key}; mTLS cases are skipped without it).

const assert = require('assert');
const fs = require('fs');
const http2 = require('http2');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { spawn } = require('child_process');
const grpc = require('@grpc/grpc-js');

const SERVER = process.env.XDS_TESTSERVER;
const PKI = process.env.XDS_PKI;
const { T, KEY_OF, SERVICES, envoyRoot } = require('./envoy_api');

const DELTA = {
  ads: 'DeltaAggregatedResources', clusters: 'DeltaClusters', endpoints: 'DeltaEndpoints',
  listeners: 'DeltaListeners', routes: 'DeltaRoutes', secrets: 'DeltaSecrets',
  runtimes: 'DeltaRuntime',
};

const root = envoyRoot([
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/runtime/v3/rtds.proto',
]);
const DiscoveryRequest = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
const DiscoveryResponse = root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');

// Decode one resource; protobufjs drops unknown fields, so a re-encode that
// is shorter than the input means the server sent a field Envoy's protos do
// not have.
function decodeAny(any, responseType) {
  assert.strictEqual(any.type_url, responseType, 'Any.type_url differs from the response type');
  const type = root.lookupType(any.type_url.replace(/^type\.googleapis\.com\//, ''));
  const msg = type.decode(any.value);
  const again = type.encode(msg).finish();
  assert.strictEqual(again.length, any.value.length, `unknown fields in ${any.type_url}`);
  return type.toObject(msg, { longs: String, enums: String, defaults: false });
}
function resName(r) {
  return r.name !== undefined ? r.name : r.cluster_name;
}
// A resource's variant (the one field the test server changes).
function variant(key, r) {
  switch (key) {
    case 'clusters': return r.alt_stat_name.replace(/x+$/, '');
    case 'listeners': return r.stat_prefix;
    case 'routes': return r.virtual_hosts[0].name;
    case 'endpoints': return r.endpoints[0].locality.zone;
    case 'secrets': return r.tls_certificate.certificate_chain.inline_string;
    // protobufjs' built-in google.protobuf types use camelCase names.
    case 'runtimes': return r.layer.fields.variant.stringValue;
    default: throw new Error(key);
  }
}

// ---- the test server ----
class Server {
  constructor(args) {
    this.args = args;
    this.stderr = '';
  }
  start() {
    this.p = spawn(SERVER, this.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.p.stderr.on('data', (d) => {
      this.stderr += d;
      if (process.env.XDS_SERVER_STDERR) process.stderr.write(d); // debugging
    });
    this.p.stdin.on('error', () => {}); // a dead server shows as a timeout
    this.lines = [];
    this.waiting = [];
    let buf = '';
    this.p.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(line); else this.lines.push(line);
      }
    });
    this.exited = new Promise((res) => this.p.on('exit', (code, sig) => res({ code, sig })));
    return this.line().then((l) => {
      const m = /^port (\d+)$/.exec(l);
      assert(m, `test server did not start: ${l} ${this.stderr}`);
      this.port = Number(m[1]);
      this.addr = `127.0.0.1:${this.port}`;
    });
  }
  line() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return withTimeout(new Promise((res) => this.waiting.push(res)), 5000, 'test server reply');
  }
  async cmd(obj) {
    this.p.stdin.write(JSON.stringify(obj) + '\n');
    return JSON.parse(await this.line());
  }
  publish(snap) { return this.cmd({ cmd: 'publish', ...snap }); }
  stats() { return this.cmd({ cmd: 'stats' }); }
  async stop() {
    this.p.stdin.end();
    const r = await withTimeout(this.exited, 5000, 'test server exit');
    assert.strictEqual(r.code, 0, `test server exited with ${r.code}/${r.sig}: ${this.stderr}`);
  }
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms);
  })]).finally(() => clearTimeout(t));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- a subscription stream, as Envoy drives it ----
const NODE = {
  id: 'envoy-test-0', cluster: 'projectcontour', user_agent_name: 'envoy',
  user_agent_build_version: { version: { major_number: 1, minor_number: 31, patch: 2 } },
};

class Stream {
  constructor(client, method) {
    this.call = client[method]();
    this.q = [];
    this.w = [];
    this.ended = null;
    this.call.on('data', (r) => this.push(r));
    this.call.on('error', (e) => { this.ended = e; this.flush(); });
    this.call.on('end', () => { this.ended = this.ended || { code: 0 }; this.flush(); });
  }
  push(r) {
    const w = this.w.shift();
    if (w) w.res(r); else this.q.push(r);
  }
  flush() { while (this.w.length) this.w.shift().rej(this.ended); }
  send(req) { this.call.write({ node: NODE, ...req }); }
  next(ms = 3000) {
    if (this.q.length) return Promise.resolve(this.q.shift());
    if (this.ended) return Promise.reject(this.ended);
    return withTimeout(new Promise((res, rej) => this.w.push({ res, rej })), ms, 'response');
  }
  async none(ms = 300) {
    await sleep(ms);
    assert.strictEqual(this.q.length, 0, `unexpected response: ${JSON.stringify(this.q[0] &&
      { type: this.q[0].type_url, version: this.q[0].version_info, n: this.q[0].resources.length })}`);
    assert(!this.ended, `stream ended: ${this.ended && this.ended.message}`);
  }
  async status(ms = 3000) {
    if (!this.ended) {
      await withTimeout(new Promise((res) => this.w.push({ res, rej: res })), ms, 'stream end');
    }
    return this.ended;
  }
  ack(r, names = []) {
    this.send({ version_info: r.version_info, response_nonce: r.nonce, type_url: r.type_url,
      resource_names: names });
  }
  // As Envoy dropping a subscription: reset the stream (no half-close).
  close() { this.call.cancel(); }
}

// Check a response: its type, version, and the (name -> variant) it carries.
function expectResponse(r, key, version, want) {
  assert.strictEqual(r.type_url, T[key]);
  if (version) assert.strictEqual(r.version_info, version, `${key} version`);
  assert(r.nonce, 'response without nonce');
  const got = {};
  for (const a of r.resources || []) {
    const d = decodeAny(a, T[key]);
    got[resName(d)] = variant(key, d);
  }
  assert.deepStrictEqual(got, want, `${key} resources`);
}

function client(addr, creds, opts = {}) {
  const c = {};
  for (const [k, [Svc]] of Object.entries(SERVICES)) {
    c[k] = new Svc(addr, creds || grpc.credentials.createInsecure(),
      { 'grpc.use_local_subchannel_pool': 1, ...opts });
  }
  c.open = (k) => new Stream(c[k], SERVICES[k][1]);
  c.delta = (k) => new Stream(c[k], DELTA[k]);
  c.close = () => { for (const k of Object.keys(SERVICES)) c[k].close(); };
  return c;
}

// ---- snapshots ----
function snap(over = {}) {
  const s = {
    clusters: [['default/s1/80/da39a3ee5e', 'c1'], ['default/s2/80/a8b1a4e2a1', 'c2']],
    endpoints: [['default/s1', 'zone-a'], ['default/s2', 'zone-b']],
    listeners: [['ingress_http', 'http'], ['ingress_https', 'https']],
    routes: [['ingress_http', 'vh-http'], ['https/example.com', 'vh-https']],
    secrets: [['projectcontour/default-cert-5e4ad2cd9a', 'PEM-1']],
  };
  return { ...s, ...over };
}
const asMap = (l) => Object.fromEntries(l.map(([n, v]) => [n, v]));
const EDS_NAMES = ['default/s1', 'default/s2', 'default/missing'];
const RDS_NAMES = ['ingress_http', 'https/example.com'];
const SDS_NAMES = ['projectcontour/default-cert-5e4ad2cd9a'];

// ---- tests ----
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('per-type streams: first responses, ACK is quiet, updates carry what changed', async (srv) => {
  let s = snap();
  let v = (await srv.publish(s)).versions;
  const c = client(srv.addr);
  const st = {};
  // Envoy's order: CDS, then EDS for the clusters, LDS, then RDS and SDS.
  st.clusters = c.open('clusters');
  st.clusters.send({ type_url: T.clusters });
  let r = await st.clusters.next();
  expectResponse(r, 'clusters', v.clusters, asMap(s.clusters));
  st.clusters.ack(r);
  st.endpoints = c.open('endpoints');
  st.endpoints.send({ resource_names: EDS_NAMES }); // per-type: type_url optional
  r = await st.endpoints.next();
  expectResponse(r, 'endpoints', v.endpoints, asMap(s.endpoints));
  st.endpoints.ack(r, EDS_NAMES);
  st.listeners = c.open('listeners');
  st.listeners.send({ type_url: T.listeners });
  r = await st.listeners.next();
  expectResponse(r, 'listeners', v.listeners, asMap(s.listeners));
  st.listeners.ack(r);
  st.routes = c.open('routes');
  st.routes.send({ type_url: T.routes, resource_names: RDS_NAMES });
  r = await st.routes.next();
  expectResponse(r, 'routes', v.routes, asMap(s.routes));
  st.routes.ack(r, RDS_NAMES);
  st.secrets = c.open('secrets');
  st.secrets.send({ type_url: T.secrets, resource_names: SDS_NAMES });
  r = await st.secrets.next();
  expectResponse(r, 'secrets', v.secrets, asMap(s.secrets));
  st.secrets.ack(r, SDS_NAMES);
  for (const k of Object.keys(st)) await st[k].none(k === 'clusters' ? 300 : 0);

  // One cluster and its endpoints change: CDS resends the full set, EDS only
  // the changed assignment; LDS, RDS and SDS stay quiet.
  s = snap({ clusters: [['default/s1/80/da39a3ee5e', 'c1-v2'], ['default/s2/80/a8b1a4e2a1', 'c2']],
    endpoints: [['default/s1', 'zone-c'], ['default/s2', 'zone-b']] });
  v = (await srv.publish(s)).versions;
  r = await st.clusters.next();
  expectResponse(r, 'clusters', v.clusters, asMap(s.clusters));
  st.clusters.ack(r);
  r = await st.endpoints.next();
  expectResponse(r, 'endpoints', v.endpoints, { 'default/s1': 'zone-c' });
  st.endpoints.ack(r, EDS_NAMES);
  for (const k of ['listeners', 'routes', 'secrets']) await st[k].none(k === 'listeners' ? 300 : 0);

  // A name that did not exist appears: pushed without a new request.
  s.endpoints.push(['default/missing', 'zone-m']);
  v = (await srv.publish(s)).versions;
  r = await st.endpoints.next();
  expectResponse(r, 'endpoints', v.endpoints, { 'default/missing': 'zone-m' });
  st.endpoints.ack(r, EDS_NAMES);
  // A new subscription to an existing name is answered at once, alone.
  s.endpoints.push(['default/s3', 'zone-3']);
  v = (await srv.publish(s)).versions;
  await st.endpoints.none();
  st.endpoints.send({ version_info: v.endpoints, response_nonce: r.nonce,
    resource_names: [...EDS_NAMES, 'default/s3'] });
  r = await st.endpoints.next();
  expectResponse(r, 'endpoints', v.endpoints, { 'default/s3': 'zone-3' });
  st.endpoints.ack(r, [...EDS_NAMES, 'default/s3']);
  // A removed cluster: the next CDS response leaves it out.
  s.clusters = s.clusters.slice(0, 1);
  v = (await srv.publish(s)).versions;
  r = await st.clusters.next();
  expectResponse(r, 'clusters', v.clusters, asMap(s.clusters));
  st.clusters.ack(r);
  await st.endpoints.none();
  for (const k of Object.keys(st)) st[k].close();
  c.close();
});

test('ADS: one stream for every type, same semantics', async (srv) => {
  let s = snap();
  let v = (await srv.publish(s)).versions;
  const c = client(srv.addr);
  const ads = c.open('ads');
  const got = {};
  const sub = { clusters: [], endpoints: EDS_NAMES, listeners: [], routes: RDS_NAMES,
    secrets: SDS_NAMES };
  for (const k of ['clusters', 'endpoints', 'listeners', 'routes', 'secrets']) {
    ads.send({ type_url: T[k], resource_names: sub[k] });
    const r = await ads.next();
    got[KEY_OF[r.type_url]] = r;
    ads.ack(r, sub[KEY_OF[r.type_url]]);
  }
  for (const k of Object.keys(sub)) expectResponse(got[k], k, v[k], asMap(s[k]));
  await ads.none();
  // Empty type_url on ADS is an error for that stream only.
  const bad = c.open('ads');
  bad.send({ resource_names: [] });
  const e = await bad.status();
  assert.strictEqual(e.code, grpc.status.INVALID_ARGUMENT);
  assert.strictEqual(e.details, 'type URL is required for ADS'); // grpc-message
  // An unknown type: nothing is served for it, the stream goes on.
  ads.send({ type_url: 'type.googleapis.com/envoy.config.foo.v3.Unknown' });
  await ads.none();
  s = snap({ routes: [['ingress_http', 'vh-http-2'], ['https/example.com', 'vh-https']] });
  v = (await srv.publish(s)).versions;
  const r = await ads.next();
  expectResponse(r, 'routes', v.routes, { ingress_http: 'vh-http-2' });
  ads.ack(r, RDS_NAMES);
  await ads.none();
  ads.close();
  c.close();
});

test('RTDS: the runtime layer by name, pushed when it changes', async (srv) => {
  let s = snap({ runtimes: [['dynamic', 'r1']] });
  await srv.publish(s);
  const c = client(srv.addr);
  const rt = c.open('runtimes');
  rt.send({ type_url: T.runtimes, resource_names: ['dynamic'] });
  let r = await rt.next();
  expectResponse(r, 'runtimes', null, { dynamic: 'r1' });
  rt.ack(r, ['dynamic']);
  await rt.none();
  s = snap({ runtimes: [['dynamic', 'r2']] });
  const v = (await srv.publish(s)).versions;
  r = await rt.next();
  expectResponse(r, 'runtimes', v.runtimes, { dynamic: 'r2' });
  rt.close();
  c.close();
});

test('NACK: logged with Envoy\'s message and counted, not resent, stream keeps working',
  async (srv) => {
    let s = snap();
    await srv.publish(s);
    const c = client(srv.addr);
    const cds = c.open('clusters');
    cds.send({ type_url: T.clusters });
    const r1 = await cds.next();
    cds.ack(r1);
    await cds.none();
    const before = (await srv.stats()).nacks.clusters;
    s = snap({ clusters: [['default/s1/80/da39a3ee5e', 'bad']] });
    let v = (await srv.publish(s)).versions;
    const r2 = await cds.next();
    expectResponse(r2, 'clusters', v.clusters, asMap(s.clusters));
    cds.send({ version_info: r1.version_info, response_nonce: r2.nonce, type_url: T.clusters,
      error_detail: { code: 3, message: 'cluster default/s1: test says no' } });
    await cds.none();
    assert.strictEqual((await srv.stats()).nacks.clusters, before + 1);
    assert(/level=error[^\n]*NACK[^\n]*test says no/.test(srv.stderr), 'NACK not logged at error');
    s = snap({ clusters: [['default/s1/80/da39a3ee5e', 'good']] });
    v = (await srv.publish(s)).versions;
    const r3 = await cds.next();
    expectResponse(r3, 'clusters', v.clusters, asMap(s.clusters));
    cds.close();
    c.close();
  });

test('stale nonce ignored; no push before the ACK, the ACK picks up the change', async (srv) => {
  let s = snap();
  await srv.publish(s);
  const c = client(srv.addr);
  const lds = c.open('listeners');
  lds.send({ type_url: T.listeners });
  const r1 = await lds.next();
  lds.ack(r1);
  s = snap({ listeners: [['ingress_http', 'http-2']] });
  await srv.publish(s);
  const r2 = await lds.next();
  lds.send({ version_info: r1.version_info, response_nonce: 'not-a-nonce', type_url: T.listeners });
  await lds.none();
  s = snap({ listeners: [['ingress_http', 'http-3']] });
  const v = (await srv.publish(s)).versions;
  await lds.none();
  lds.ack(r2);
  const r3 = await lds.next();
  expectResponse(r3, 'listeners', v.listeners, asMap(s.listeners));
  lds.ack(r3);
  await lds.none();
  lds.close();
  c.close();
});

test('a publish reaches every stream on every connection', async (srv) => {
  let s = snap();
  await srv.publish(s);
  const clients = [...Array(10).keys()].map(() => client(srv.addr));
  const streams = [];
  for (const c of clients) {
    for (let i = 0; i < 10; i++) {
      const st = c.open('clusters');
      st.send({ type_url: T.clusters });
      streams.push(st);
    }
  }
  for (const st of streams) st.ack(await st.next());
  const stats = await srv.stats();
  assert(stats.streams >= 100, `streams ${stats.streams}`);
  s = snap({ clusters: [['default/s9/80/0000000000', 'fan-out']] });
  const v = (await srv.publish(s)).versions;
  const t0 = Date.now();
  const times = await Promise.all(streams.map(async (st) => {
    const r = await st.next();
    expectResponse(r, 'clusters', v.clusters, asMap(s.clusters));
    return Date.now() - t0;
  }));
  console.log(`  100 streams on 10 connections: all updated within ${Math.max(...times)} ms` +
    ` of the publish (first after ${Math.min(...times)} ms)`);
  for (const st of streams) st.close();
  for (const c of clients) c.close();
});

test('2000 EDS streams on one connection: a change reaches only its subscriber', async (srv) => {
  const N = 2000;
  const s = snap({ endpoints: [...Array(N).keys()].map((i) => [`ns/svc${i}`, 'z0']) });
  await srv.publish(s);
  const cpu0 = (await srv.stats()).cpu_ms;
  const c = client(srv.addr);
  const streams = [];
  for (let i = 0; i < N; i++) {
    const st = c.open('endpoints');
    st.send({ resource_names: [`ns/svc${i}`] });
    streams.push(st);
  }
  let t0 = Date.now();
  await Promise.all(streams.map(async (st, i) => {
    const r = await st.next(10000);
    expectResponse(r, 'endpoints', null, { [`ns/svc${i}`]: 'z0' });
    st.ack(r, [`ns/svc${i}`]);
  }));
  const first = Date.now() - t0;
  const cpu = (await srv.stats()).cpu_ms - cpu0;
  await sleep(100);
  s.endpoints[1234] = ['ns/svc1234', 'z1'];
  const v = (await srv.publish(s)).versions;
  t0 = Date.now();
  const r = await streams[1234].next();
  const dt = Date.now() - t0;
  expectResponse(r, 'endpoints', v.endpoints, { 'ns/svc1234': 'z1' });
  await sleep(200);
  for (const [i, st] of streams.entries()) {
    assert.strictEqual(st.q.length, 0, `stream ${i} got an unchanged resource`);
  }
  console.log(`  ${N} EDS streams: initial responses in ${first} ms (server CPU ${cpu} ms);` +
    ` one change delivered in ${dt} ms`);
  for (const st of streams) st.close();
  c.close();
});

test('unknown method, bad content-type, garbage, compressed and oversized messages',
  async (srv) => {
    await srv.publish(snap());
    // Unknown method: UNIMPLEMENTED.
    const Generic = grpc.makeGenericClientConstructor({
      Nope: { path: '/envoy.service.nope.v3.NopeService/StreamNope', requestStream: true,
        responseStream: true, requestSerialize: (x) => x, requestDeserialize: (x) => x,
        responseSerialize: (x) => x, responseDeserialize: (x) => x },
    });
    const g = new Generic(srv.addr, grpc.credentials.createInsecure());
    const call = g.Nope();
    const e = await new Promise((res) => call.on('error', res));
    assert.strictEqual(e.code, grpc.status.UNIMPLEMENTED);
    g.close();
    // A per-type stream asked for another type: INVALID_ARGUMENT.
    const c = client(srv.addr);
    const cds = c.open('clusters');
    cds.send({ type_url: T.listeners });
    assert.strictEqual((await cds.status()).code, grpc.status.INVALID_ARGUMENT);
    c.close();
    // Raw HTTP/2 for what grpc-js will not send.
    const sess = http2.connect(`http://${srv.addr}`);
    const raw = (headers, body) => new Promise((res, rej) => {
      const req = sess.request({ ':method': 'POST', ...headers });
      let h = null;
      let trailers = null;
      req.on('response', (x) => { h = x; });
      req.on('trailers', (x) => { trailers = x; });
      req.on('error', rej);
      req.on('close', () => res({ h, trailers }));
      req.on('data', () => {});
      if (body) req.write(body);
    });
    const path = '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters';
    let x = await raw({ ':path': path, 'content-type': 'text/plain' }, Buffer.from('hi'));
    assert.strictEqual(x.h[':status'], 415);
    const frame = (flag, body, len = body.length) => {
      const b = Buffer.alloc(5);
      b[0] = flag;
      b.writeUInt32BE(len, 1);
      return Buffer.concat([b, body]);
    };
    const grpcStatus = (x) => Number((x.trailers || {})['grpc-status'] ?? x.h['grpc-status']);
    const ct = { ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    x = await raw(ct, frame(0, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    assert.strictEqual(grpcStatus(x), 13, 'garbage protobuf');
    x = await raw(ct, frame(1, Buffer.from([0x22, 0x00])));
    assert.strictEqual(grpcStatus(x), 13, 'compressed without grpc-encoding');
    x = await raw(ct, frame(0, Buffer.alloc(0), 0x7fffffff));
    assert.strictEqual(grpcStatus(x), 8, 'oversized');
    // A message split across DATA frames, and two messages in one frame.
    const req = DiscoveryRequest.encode({ type_url: T.clusters, node: { id: 'raw' } }).finish();
    const two = await new Promise((res, rej) => {
      const r = sess.request({ ':method': 'POST', ...ct });
      const chunks = [];
      r.on('data', (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length >= 5 && all.length >= 5 + all.readUInt32BE(1)) {
          res(DiscoveryResponse.decode(all.subarray(5, 5 + all.readUInt32BE(1))));
          r.close();
        }
      });
      r.on('error', rej);
      const f = frame(0, Buffer.from(req));
      r.write(f.subarray(0, 3));
      setTimeout(() => r.write(f.subarray(3)), 50);
    });
    assert.strictEqual(two.type_url, T.clusters);
    assert.strictEqual(two.resources.length, 2);
    sess.close();
    // Not HTTP/2 at all: that connection is closed, nothing else.
    const junk = net.connect(srv.port, '127.0.0.1');
    junk.on('data', () => {});
    junk.on('error', () => {});
    const junkClosed = new Promise((res) => junk.on('close', res));
    junk.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + '\u0000\u00ff'.repeat(100));
    await withTimeout(junkClosed, 2000, 'garbage connection closed');
    // The server still serves.
    const c2 = client(srv.addr);
    const ok = c2.open('clusters');
    ok.send({ type_url: T.clusters });
    expectResponse(await ok.next(), 'clusters', null, asMap(snap().clusters));
    ok.close();
    c2.close();
  });

// A delta response: its type, and the (name -> variant) it carries, each
// with the version the server gives it; removed names.
function expectDelta(r, key, want, removed = []) {
  assert.strictEqual(r.type_url, T[key]);
  assert(r.nonce, 'response without nonce');
  const got = {};
  for (const res of r.resources || []) {
    const d = decodeAny(res.resource, T[key]);
    assert.strictEqual(res.name, resName(d), 'Resource.name differs from the resource');
    assert(res.version, 'Resource without version');
    got[res.name] = variant(key, d);
  }
  assert.deepStrictEqual(got, want, `${key} resources`);
  assert.deepStrictEqual([...(r.removed_resources || [])].sort(), [...removed].sort(),
    `${key} removed_resources`);
  return Object.fromEntries((r.resources || []).map((x) => [x.name, x.version]));
}

test('delta xDS: wildcard CDS, EDS by name, changes, removals, unsubscribe, reconnect',
  async (srv) => {
    let s = snap();
    await srv.publish(s);
    const c = client(srv.addr);
    const cds = c.delta('clusters');
    cds.send({ type_url: T.clusters });
    let r = await cds.next();
    expectDelta(r, 'clusters', asMap(s.clusters));
    cds.send({ type_url: T.clusters, response_nonce: r.nonce });
    const eds = c.delta('endpoints');
    eds.send({ type_url: T.endpoints, resource_names_subscribe: ['default/s1', 'default/s2'] });
    r = await eds.next();
    let held = expectDelta(r, 'endpoints', asMap(s.endpoints));
    eds.send({ type_url: T.endpoints, response_nonce: r.nonce });
    await cds.none();
    await eds.none(0);
    // One cluster changes, the other goes away; one assignment changes.
    s = snap({ clusters: [['default/s1/80/da39a3ee5e', 'c1-d2']],
      endpoints: [['default/s1', 'zone-d2'], ['default/s2', 'zone-b']] });
    await srv.publish(s);
    r = await cds.next();
    expectDelta(r, 'clusters', { 'default/s1/80/da39a3ee5e': 'c1-d2' },
      ['default/s2/80/a8b1a4e2a1']);
    cds.send({ type_url: T.clusters, response_nonce: r.nonce });
    r = await eds.next();
    held = { ...held, ...expectDelta(r, 'endpoints', { 'default/s1': 'zone-d2' }) };
    // NACK it: counted, not resent.
    const before = (await srv.stats()).nacks.endpoints;
    eds.send({ type_url: T.endpoints, response_nonce: r.nonce,
      error_detail: { code: 13, message: 'delta says no' } });
    await eds.none();
    assert.strictEqual((await srv.stats()).nacks.endpoints, before + 1);
    // Unsubscribed: its changes are not sent.
    eds.send({ type_url: T.endpoints, resource_names_unsubscribe: ['default/s2'] });
    await sleep(200); // the request and the publish travel on different paths
    s = snap({ clusters: s.clusters, endpoints: [['default/s1', 'zone-d2'], ['default/s2', 'zone-x']] });
    await srv.publish(s);
    await eds.none();
    // A new stream that presents what it holds gets only what differs.
    eds.close();
    const eds2 = c.delta('endpoints');
    eds2.send({ type_url: T.endpoints, resource_names_subscribe: ['default/s1', 'default/s2'],
      initial_resource_versions: held });
    r = await eds2.next();
    expectDelta(r, 'endpoints', { 'default/s2': 'zone-x' });
    eds2.send({ type_url: T.endpoints, response_nonce: r.nonce });
    await eds2.none();
    // An assignment removed while subscribed: removed_resources.
    s = snap({ clusters: s.clusters, endpoints: [['default/s1', 'zone-d2']] });
    await srv.publish(s);
    r = await eds2.next();
    expectDelta(r, 'endpoints', {}, ['default/s2']);
    for (const st of [cds, eds2]) st.close();
    c.close();
  });

test('delta ADS: several types on one stream', async (srv) => {
  const s = snap();
  await srv.publish(s);
  const c = client(srv.addr);
  const ads = c.delta('ads');
  const got = {};
  ads.send({ type_url: T.clusters });
  ads.send({ type_url: T.listeners });
  ads.send({ type_url: T.routes, resource_names_subscribe: RDS_NAMES });
  for (let i = 0; i < 3; i++) {
    const r = await ads.next();
    got[KEY_OF[r.type_url]] = r;
    ads.send({ type_url: r.type_url, response_nonce: r.nonce });
  }
  for (const k of ['clusters', 'listeners', 'routes']) expectDelta(got[k], k, asMap(s[k]));
  await ads.none();
  ads.close();
  c.close();
});

test('metrics: upstream\'s grpc_server_* families and the NACK count', async (srv) => {
  const text = (await srv.cmd({ cmd: 'metrics' })).text;
  const value = (re) => {
    const m = new RegExp(`^${re}\\S* (\\d+)`, 'm').exec(text);
    assert(m, `no sample for ${re} in\n${text.split("\n").filter((l) => l.startsWith("grpc_server_handled")).join("\n")}`);
    return Number(m[1]);
  };
  const cds = 'grpc_type="bidi_stream",grpc_service="envoy.service.cluster.v3.ClusterDiscoveryService",grpc_method="StreamClusters"';
  assert(value(`grpc_server_started_total\\{${cds}\\}`) >= 100);
  assert(value(`grpc_server_msg_received_total\\{${cds}\\}`) >= 200);
  assert(value(`grpc_server_msg_sent_total\\{${cds}\\}`) >= 200);
  assert(value(`grpc_server_handled_total\\{${cds},grpc_code="InvalidArgument"\\}`) >= 1);
  assert(value(`grpc_server_handled_total\\{${cds},grpc_code="OK"\\}`) >= 100);
  assert.strictEqual(value('contour_xds_nack_total\\{type_url="type.googleapis.com/envoy.config.cluster.v3.Cluster"\\}'), 1);
  assert(/^contour_xds_streams \d+/m.test(text));
});

test('stop: GOAWAY to connected clients', async (srv) => {
  const sess = http2.connect(`http://${srv.addr}`);
  const goaway = new Promise((res) => sess.on('goaway', (code) => res(code)));
  sess.on('error', () => {});
  const r = sess.request({ ':method': 'POST', ':path':
    '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
    'content-type': 'application/grpc', te: 'trailers' });
  r.on('error', () => {});
  const req = DiscoveryRequest.encode({ type_url: T.clusters }).finish();
  r.write(Buffer.concat([Buffer.from([0, 0, 0, 0, req.length]), req]));
  await new Promise((res) => r.once('data', res));
  await srv.stop();
  assert.strictEqual(await withTimeout(goaway, 2000, 'GOAWAY'), 0);
  sess.destroy();
});

// ---- tests on their own server instances ----
async function slowClientTest() {
  const srv = new Server(['--insecure', '--queue-limit', '1000000', '--keepalive', '400', '300']);
  await srv.start();
  try {
    const s = snap();
    await srv.publish({ ...s, pad: 300000 }); // ~600 KB per CDS response
    // A client that grants no flow-control window: nothing it is sent can
    // leave the server. Its second wildcard CDS stream passes the limit.
    const sess = http2.connect(`http://${srv.addr}`, { settings: { initialWindowSize: 0 } });
    const closed = new Promise((res) => sess.on('close', res));
    sess.on('error', () => {});
    const req = DiscoveryRequest.encode({ type_url: T.clusters }).finish();
    const f = Buffer.concat([Buffer.from([0, 0, 0, 0, req.length]), req]);
    for (let i = 0; i < 3 && !sess.destroyed && !sess.closed; i++) {
      const r = sess.request({ ':method': 'POST', ':path':
        '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
        'content-type': 'application/grpc', te: 'trailers' });
      r.on('error', () => {});
      r.write(f);
      await sleep(50);
    }
    // A normal client on the same server gets its 600 KB.
    const c = client(srv.addr);
    const cds = c.open('clusters');
    cds.send({ type_url: T.clusters });
    const r = await cds.next();
    assert.strictEqual(r.resources.length, 2);
    await withTimeout(closed, 3000, 'slow client dropped');
    assert.strictEqual((await srv.stats()).dropped, 1);
    cds.ack(r);

    // Keepalive: a raw connection that never answers PINGs is closed after
    // idle (400 ms) + timeout (300 ms); the grpc client, which answers, stays.
    const sock = net.connect(srv.port, '127.0.0.1');
    const t0 = Date.now();
    sock.on('data', () => {});
    const sockClosed = new Promise((res) => sock.on('close', res));
    sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    await withTimeout(sockClosed, 3000, 'keepalive close');
    const dt = Date.now() - t0;
    assert(dt >= 600, `closed too early (${dt} ms)`);
    await sleep(500);
    await cds.none(0);
    cds.close();
    c.close();
  } finally {
    await srv.stop();
  }
}

async function mtlsTest() {
  if (!PKI) {
    console.log('SKIP mTLS: no XDS_PKI');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xds-mtls-'));
  for (const f of ['ca.crt', 'server.crt', 'server.key']) fs.copyFileSync(path.join(PKI, f), path.join(dir, f));
  const srv = new Server(['--ca', path.join(dir, 'ca.crt'), '--cert', path.join(dir, 'server.crt'),
    '--key', path.join(dir, 'server.key')]);
  await srv.start();
  const rd = (f) => fs.readFileSync(path.join(PKI, f));
  const opts = { 'grpc.ssl_target_name_override': 'contour', 'grpc.default_authority': 'contour' };
  try {
    await srv.publish(snap());
    const ok = client(srv.addr, grpc.credentials.createSsl(rd('ca.crt'), rd('client.key'),
      rd('client.crt')), opts);
    const cds = ok.open('clusters');
    cds.send({ type_url: T.clusters });
    expectResponse(await cds.next(), 'clusters', null, asMap(snap().clusters));
    cds.close();
    ok.close();
    for (const [what, creds] of [
      ['no client certificate', grpc.credentials.createSsl(rd('ca.crt'))],
      ['a certificate from another CA',
        grpc.credentials.createSsl(rd('ca.crt'), rd('stranger.key'), rd('stranger.crt'))],
    ]) {
      const bad = client(srv.addr, creds, opts);
      const st = bad.open('clusters');
      st.send({ type_url: T.clusters });
      const e = await st.status(5000);
      assert(e && e.code === grpc.status.UNAVAILABLE, `${what}: ${e && e.code} ${e && e.message}`);
      bad.close();
    }
    await sleep(200); // the client may see the refusal before the server logs it
    const tlsLog = srv.stderr.split('\n').filter((l) => l.includes('TLS')).join('\n');
    assert(/level=warn[^\n]*xDS TLS connection[^\n]*peer did not return a certificate/
      .test(srv.stderr), `refusal (no certificate) not logged:\n${tlsLog}`);
    assert(/level=warn[^\n]*xDS TLS connection[^\n]*certificate verify failed/
      .test(srv.stderr), `refusal (other CA) not logged:\n${tlsLog}`);
    // Rotation: the next connection gets the new certificate, no restart.
    const peerCN = () => new Promise((res, rej) => {
      const s = tls.connect({ host: '127.0.0.1', port: srv.port, servername: 'contour',
        ca: rd('ca.crt'), key: rd('client.key'), cert: rd('client.crt'), ALPNProtocols: ['h2'] },
      () => {
        assert.strictEqual(s.alpnProtocol, 'h2');
        res(s.getPeerCertificate().subject.CN);
        s.destroy();
      });
      s.on('error', rej);
    });
    assert.strictEqual(await peerCN(), 'contour');
    fs.copyFileSync(path.join(PKI, 'server2.key'), path.join(dir, 'server.key'));
    fs.copyFileSync(path.join(PKI, 'server2.crt'), path.join(dir, 'server.crt'));
    assert.strictEqual(await peerCN(), 'contour-rotated');
    await sleep(100);
    // Ordinary disconnects (no close_notify) are not logged as TLS errors.
    assert(!/unexpected eof/i.test(srv.stderr), 'disconnect logged as a TLS error');
    // Stop: GOAWAY through TLS too.
    const sess = http2.connect(`https://127.0.0.1:${srv.port}`, { servername: 'contour',
      ca: rd('ca.crt'), key: rd('client.key'), cert: rd('client.crt') });
    sess.on('error', () => {});
    const goaway = new Promise((res) => sess.on('goaway', res));
    await withTimeout(new Promise((res) => sess.on('connect', res)), 2000, 'TLS connect');
    await sleep(50);
    await srv.stop();
    assert.strictEqual(await withTimeout(goaway, 2000, 'GOAWAY over TLS'), 0);
    sess.destroy();
  } finally {
    if (srv.p.exitCode === null) await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Node exits 0 when nothing is left to wait for, even with main() pending
// (a promise nobody can settle): that must fail the test.
let finished = false;
process.on('exit', () => {
  if (!finished) {
    console.log('not ok - the client stopped before the end (a wait that cannot finish)');
    process.exitCode = 1;
  }
});

async function main() {
  assert(SERVER, 'set XDS_TESTSERVER');
  let failed = 0;
  const srv = new Server(['--insecure']);
  await srv.start();
  const run = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}\n  ${e.stack}`);
    }
  };
  for (const t of tests) await run(t.name, () => t.fn(srv)); // the last one stops srv
  if (failed) console.log(`--- test server log ---\n${srv.stderr}`);
  await run('a client that does not read is dropped; keepalive closes a silent peer',
    slowClientTest);
  await run('mTLS: refusals, a good client, certificate rotation', mtlsTest);
  console.log(failed ? `${failed} failed` : 'all passed');
  finished = true;
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(e.stack);
  process.exit(1);
});

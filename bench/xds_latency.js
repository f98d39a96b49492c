'use strict';
// bench/xds_latency.js: how long one manifest change takes to reach xDS
// clients through a real `contour serve` (file-watch, tls-delegation,
// httpproxy, xds-grpc insecure on 127.0.0.1) holding the 10,000-HTTPProxy
// workload of bench/workload.c. Figures, not a test (`make bench-xds-latency`).
//
// 1. Latency: one client holds an RDS stream for https/app-0.bench.example.com;
//    HTTPProxy app-0 (its own file) is rewritten XDS_CHANGES times with a new
//    route prefix (written beside the folder, renamed in); each time, the
//    time from the rename to the response carrying the new prefix.
// 2. Propagation: XDS_CLIENTS clients (one connection each) hold the same
//    stream; over XDS_ROUNDS changes, the spread between the first and the
//    last client receiving the change.
// build-holdoff and file-watch's rescan-delay are 0: the hold-offs are
// excluded by configuration (a rename is one event, nothing to settle). contour
// runs with debug logs: its "build ... duration" and "translated ...
// translate= publish=" lines split each change's latency.
//
// Environment: CONTOUR (the binary), CONTOUR_MODULE_PATH, NODE_PATH (with
// @grpc/grpc-js, @grpc/proto-loader, @grpc/grpc-js-xds), XDS_PROXIES (10000),
// XDS_CHANGES (200), XDS_CLIENTS (100), XDS_ROUNDS (20), FIXTURES (the
// tests/fixtures folder: the serving certificate of the Secrets).

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { performance } = require('perf_hooks');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const env = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const NPROXIES = env('XDS_PROXIES', 10000);
const NSECRETS = 1000;
const NCHANGES = env('XDS_CHANGES', 200);
const NCLIENTS = env('XDS_CLIENTS', 100);
const NROUNDS = env('XDS_ROUNDS', 20);
const CONTOUR = process.env.CONTOUR;
const FIXTURES = process.env.FIXTURES;
const ROUTE = 'https/app-0.bench.example.com';
const RDS_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

// ---- the manifests: bench/workload.c's workload as JSON documents ----

// The fixtures' serving certificate and key (a real pair: the Secrets must
// validate), base64 as in the Secret.
function fixtureCert() {
  const y = fs.readFileSync(path.join(FIXTURES, 'httpproxy/secrets.yaml'), 'utf8');
  const doc = y.split('\n---\n').find((d) => /name: tls-cert\b/.test(d));
  const get = (k) => new RegExp(`${k.replace('.', '\\.')}: (\\S+)`).exec(doc)[1];
  return { 'tls.crt': get('tls.crt'), 'tls.key': get('tls.key') };
}

function proxy(i, prefix) {
  const svc = [`app-${i}-a`, `app-${i}-b`];
  const vhost = { fqdn: `app-${i}.bench.example.com` };
  if (i % 2 === 0) vhost.tls = { secretName: `tls-${(i / 2) % NSECRETS}` };
  return {
    apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy',
    metadata: { name: `app-${i}`, namespace: 'bench' },
    spec: {
      virtualhost: vhost,
      routes: [prefix, '/api', '/static'].map((p) => ({
        conditions: [{ prefix: p }],
        services: [{ name: svc[0], port: 80, weight: 90 }, { name: svc[1], port: 80, weight: 10 }],
      })),
    },
  };
}

function writeDocs(file, docs) {
  fs.writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n---\n') + '\n');
}

function generate(dir) {
  const data = fixtureCert();
  const secrets = [];
  for (let i = 0; i < NSECRETS; i++) {
    secrets.push({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: `tls-${i}`, namespace: 'bench' }, data });
  }
  writeDocs(path.join(dir, 'secrets.yaml'), secrets);
  const per = 500;
  for (let f = 0; f * per < NPROXIES; f++) {
    const docs = [];
    for (let i = f * per; i < Math.min(NPROXIES, (f + 1) * per); i++) {
      for (const s of ['a', 'b']) {
        const name = `app-${i}-${s}`;
        docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' },
          spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } });
        docs.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { name: `${name}-x1`, namespace: 'bench',
            labels: { 'kubernetes.io/service-name': name } },
          addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }] });
      }
      if (i !== 0) docs.push(proxy(i, '/'));
    }
    writeDocs(path.join(dir, `workload-${f}.yaml`), docs);
  }
  writeDocs(path.join(dir, 'change.yaml'), [proxy(0, '/')]);
}

// ---- contour serve ----

function startContour(dir, tmp) {
  const conf = path.join(tmp, 'contour.yaml');
  fs.writeFileSync(conf, [
    'debug: true', 'build-holdoff: 0ms', 'build-holdoff-max: 0ms', 'modules:',
    '  - name: file-watch', `    config: {rescan-delay: 0ms, paths: [${JSON.stringify(dir)}]}`,
    '  - name: tls-delegation', '  - name: httpproxy',
    '  - name: xds-grpc', '    config: {address: 127.0.0.1, port: 0, insecure: true}', '',
  ].join('\n'));
  const proc = spawn(CONTOUR, ['serve', '--config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const st = { proc, lines: [], port: 0 };
  let buf = '';
  const onData = (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      st.lines.push(line);
      const m = /xDS server listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (m) st.port = Number(m[1]);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  return st;
}

// ---- clients ----

const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const pkgDef = protoLoader.loadSync(['envoy/service/route/v3/rds.proto'], {
  keepCase: true, longs: String, enums: String, defaults: false, oneofs: true,
  includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) =>
    path.join(DEPS, d)),
});
const RDS = grpc.loadPackageDefinition(pkgDef).envoy.service.route.v3.RouteDiscoveryService;
const NODE = { id: 'bench', cluster: 'bench' };

// A client with its own connection and one RDS stream for ROUTE; onRoute
// gets each RouteConfiguration's bytes, at arrival.
function client(port, onRoute) {
  const c = new RDS(`127.0.0.1:${port}`, grpc.credentials.createInsecure(),
    { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1 });
  const call = c.StreamRoutes();
  call.on('data', (r) => {
    const t = performance.now();
    call.write({ node: NODE, type_url: RDS_URL, resource_names: [ROUTE],
      version_info: r.version_info, response_nonce: r.nonce });
    for (const a of r.resources || []) onRoute(a.value, t);
  });
  call.on('error', (e) => { if (!call.closing) console.error(`stream failed: ${e.message}`); });
  call.write({ node: NODE, type_url: RDS_URL, resource_names: [ROUTE] });
  return { c, call };
}

function close(cl) {
  cl.call.closing = true;
  cl.call.cancel();
  cl.c.close();
}

// ---- measuring ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const f1 = (x) => x.toFixed(1);

// Rewrite app-0 with prefix p (a rename: file-watch never reads half a file);
// returns the time of the rename.
function change(dir, tmp, p) {
  const t = path.join(tmp, 'change.tmp');
  writeDocs(t, [proxy(0, p)]);
  const t0 = performance.now();
  fs.renameSync(t, path.join(dir, 'change.yaml'));
  return t0;
}

// Resolves with the arrival times once every waiter saw `needle`.
function waitAll(waiters, needle, timeoutMs) {
  return new Promise((resolve, reject) => {
    const got = new Array(waiters.length).fill(0);
    let n = 0;
    const timer = setTimeout(() => reject(new Error(`${needle}: ${n} of ${waiters.length} ` +
      `clients received it within ${timeoutMs} ms`)), timeoutMs);
    waiters.forEach((w, i) => {
      w.fn = (bytes, t) => {
        if (got[i] || bytes.indexOf(needle) < 0) return;
        got[i] = t;
        if (++n === waiters.length) {
          clearTimeout(timer);
          resolve(got);
        }
      };
    });
  });
}

// The build durations and translate/publish times contour logged from line
// `from` on.
function contourTimes(st, from) {
  const build = [];
  const tr = [];
  for (const l of st.lines.slice(from)) {
    let m = /build generation=\d+ duration=([\d.]+)ms/.exec(l);
    if (m) build.push(Number(m[1]));
    m = /translated generation=\d+ translate=([\d.]+)ms publish=([\d.]+)ms free=([\d.]+)ms/
      .exec(l);
    if (m) tr.push([Number(m[1]), Number(m[2]), Number(m[3])]);
  }
  return { build, translate: tr.map((x) => x[0]), publish: tr.map((x) => x[1]),
    free: tr.map((x) => x[2]) };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xds-latency-'));
  const dir = path.join(tmp, 'manifests');
  fs.mkdirSync(dir);
  generate(dir);
  const st = startContour(dir, tmp);
  let clients = [];
  try {
    const t0 = performance.now();
    while (!st.port) {
      if (st.proc.exitCode !== null) throw new Error(`contour exited:\n${st.lines.join('\n')}`);
      if (performance.now() - t0 > 300000) throw new Error('contour did not start');
      await sleep(50);
    }
    // the first snapshot
    const first = { fn: null };
    const ready = waitAll([first], 'app-0.bench.example.com', 600000);
    clients.push(client(st.port, (b, t) => first.fn && first.fn(b, t)));
    await ready;
    const startup = performance.now() - t0;
    console.log(`workload: ${NPROXIES} HTTPProxy, ${NSECRETS} Secrets; contour serve ready and ` +
      `first RDS response in ${f1(startup)} ms; build-holdoff and rescan-delay 0 (excluded)`);

    // 1. latency, one client
    const lat = [];
    const mark = st.lines.length;
    for (let k = 0; k < NCHANGES; k++) {
      const needle = `/bench-change-${k}`;
      const p = waitAll([first], needle, 30000);
      const tc = change(dir, tmp, needle);
      const [t] = await p;
      lat.push(t - tc);
    }
    const ct = contourTimes(st, mark);
    console.log(`change -> client, ${NCHANGES} changes: p50 ${f1(pct(lat, 50))} ms, ` +
      `p99 ${f1(pct(lat, 99))} ms, max ${f1(Math.max(...lat))} ms`);
    if (ct.build.length) {
      console.log(`  in contour (median): build ${f1(pct(ct.build, 50))} ms, of which DAG ` +
        `${f1(pct(ct.build, 50) - pct(ct.translate, 50) - pct(ct.publish, 50) -
          pct(ct.free, 50))}, translate ${f1(pct(ct.translate, 50))}, publish ` +
        `${f1(pct(ct.publish, 50))}, freeing the old snapshot ${f1(pct(ct.free, 50))} ` +
        `(after the send); ${ct.build.length} builds; the rest is inotify, rescan and ` +
        'parse, the gRPC send and the client');
    }

    // 2. propagation to NCLIENTS clients
    const waiters = [];
    for (let i = 0; i < NCLIENTS; i++) {
      const w = { fn: null };
      waiters.push(w);
      clients.push(client(st.port, (b, t) => w.fn && w.fn(b, t)));
    }
    await waitAll(waiters, 'app-0.bench.example.com', 60000).catch(() => {});
    await sleep(500); // every stream past its first response
    const spread = [];
    const last = [];
    for (let k = 0; k < NROUNDS; k++) {
      const needle = `/bench-fanout-${k}`;
      const p = waitAll(waiters, needle, 30000);
      const tc = change(dir, tmp, needle);
      const got = await p;
      spread.push(Math.max(...got) - Math.min(...got));
      last.push(Math.max(...got) - tc);
    }
    console.log(`one change to ${NCLIENTS} clients, ${NROUNDS} changes: spread first..last ` +
      `p50 ${f1(pct(spread, 50))} ms, max ${f1(Math.max(...spread))} ms; change -> last client ` +
      `p50 ${f1(pct(last, 50))} ms, p99 ${f1(pct(last, 99))} ms`);
  } finally {
    for (const c of clients) close(c);
    clients = [];
    st.proc.kill('SIGTERM');
    await new Promise((r) => (st.proc.exitCode !== null ? r() : st.proc.on('exit', r)));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`xds_latency: ${e.stack || e}`);
  process.exit(1);
});

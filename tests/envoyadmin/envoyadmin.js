#!/usr/bin/env node
// tests/envoyadmin/envoyadmin.js: a stand-in for the parts of Envoy's admin
// interface the shutdown manager uses, on a unix socket. Node core modules
// only. README.md says what it mimics and how faithfully.
'use strict';

const http = require('http');
const fs = require('fs');

function usage(msg) {
  if (msg) process.stderr.write(`envoyadmin: ${msg}\n`);
  process.stderr.write('usage: envoyadmin.js --socket PATH [--<knob> VALUE]... [--verbose]\n');
  process.exit(2);
}

// Knobs: set with --kebab-case VALUE at start or POST /_test/config {json}.
const knobs = {
  // Open HTTP connections per connection manager (stat prefix).
  http: { ingress_http: 0, ingress_https: 0 },
  // Open connections without an HTTP connection manager (tcp_proxy, TLS
  // passthrough) per listener address; Envoy never drain-closes these.
  tcp: { '0.0.0.0_8443': 0 },
  // After /healthcheck/fail or /drain_listeners, HTTP connections close at
  // this rate (per second; 0: they never close). tcpDrainPerSecond likewise.
  drainPerSecond: 0,
  tcpDrainPerSecond: 0,
  // Faults for every non-/_test request: none, 500, garbage (a 200 whose
  // body is not the text format), badvalue (a 200 with a NaN gauge), close
  // (the connection is closed without an answer), hang (never answered).
  fault: 'none',
  // Only the stats endpoint gets `fault` when this is true.
  faultStatsOnly: false,
  // The first N POSTs to /healthcheck/fail answer 503 (retry tests).
  healthcheckFailErrors: 0,
  // Seconds each answer is delayed.
  delaySeconds: 0,
};

// The listener each connection manager belongs to, as Contour configures
// Envoy: ingress_http on 8080, ingress_https on 8443, and the stats-health
// listener on 8002 whose managers are "stats" (and "health" in older
// Contour). The admin listener is Envoy's own.
const managerListener = {
  ingress_http: '0.0.0.0_8080',
  ingress_https: '0.0.0.0_8443',
  stats: '0.0.0.0_8002',
};

let socketPath = null;
let verbose = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--socket') socketPath = argv[++i];
  else if (a === '--verbose') verbose = true;
  else if (a.startsWith('--')) {
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in knobs)) usage(`unknown option ${a}`);
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    try {
      knobs[key] = JSON.parse(v);
    } catch (e) {
      knobs[key] = v;
    }
  } else usage(`unexpected argument ${a}`);
}
if (!socketPath) usage('--socket is required');

const state = {
  healthFailed: false, // POST /healthcheck/fail
  drainingSince: 0, // ms; 0: not draining
  hcfailPosts: 0,
  requests: [], // {method, path, query, status, time}
  // The connection counts when the drain began, to compute the decay.
  httpAtDrain: null,
  tcpAtDrain: null,
};

function startDrain() {
  if (state.drainingSince) return;
  state.drainingSince = Date.now();
  state.httpAtDrain = Object.assign({}, knobs.http);
  state.tcpAtDrain = Object.assign({}, knobs.tcp);
}

// Current counts: knobs while not draining, else decayed from the counts at
// the start of the drain.
function counts() {
  if (!state.drainingSince) return { http: knobs.http, tcp: knobs.tcp };
  const secs = (Date.now() - state.drainingSince) / 1000;
  const decay = (table, rate) => {
    const out = {};
    for (const [k, v] of Object.entries(table))
      out[k] = Math.max(0, v - Math.floor(secs * rate));
    return out;
  };
  return {
    http: decay(state.httpAtDrain, knobs.drainPerSecond),
    tcp: decay(state.tcpAtDrain, knobs.tcpDrainPerSecond),
  };
}

// Envoy's stats as (stat name, prometheus name, labels, type, value), the
// way Envoy's tag extractors split them: "http.<prefix>.x" gets label
// envoy_http_conn_manager_prefix, "listener.<address>.x" gets
// envoy_listener_address; "listener.admin.x" has no address tag, so its
// Prometheus name keeps "admin"; per-worker gauges get envoy_worker_id.
function stats() {
  const c = counts();
  const out = [];
  const gauge = (stat, name, labels, value) => out.push({ stat, name, labels, type: 'gauge', value });
  const counter = (stat, name, labels, value) =>
    out.push({ stat, name, labels, type: 'counter', value });
  const perListener = {};
  const add = (addr, n) => { perListener[addr] = (perListener[addr] || 0) + n; };
  // The stats listener always has the readiness probe's connection.
  const managers = Object.assign({}, c.http, { stats: 1 });
  for (const [prefix, n] of Object.entries(managers)) {
    gauge(`http.${prefix}.downstream_cx_active`, 'envoy_http_downstream_cx_active',
      { envoy_http_conn_manager_prefix: prefix }, n);
    counter(`http.${prefix}.downstream_cx_total`, 'envoy_http_downstream_cx_total',
      { envoy_http_conn_manager_prefix: prefix }, n + 7);
    if (managerListener[prefix]) add(managerListener[prefix], n);
  }
  // The admin's own HTTP manager ("admin") and listener: this request.
  gauge('http.admin.downstream_cx_active', 'envoy_http_downstream_cx_active',
    { envoy_http_conn_manager_prefix: 'admin' }, 1);
  gauge('listener.admin.downstream_cx_active', 'envoy_listener_admin_downstream_cx_active', {}, 1);
  for (const [addr, n] of Object.entries(c.tcp)) add(addr, n);
  for (const [addr, n] of Object.entries(perListener)) {
    gauge(`listener.${addr}.downstream_cx_active`, 'envoy_listener_downstream_cx_active',
      { envoy_listener_address: addr }, n);
    gauge(`listener.${addr}.worker_0.downstream_cx_active`,
      'envoy_listener_worker_downstream_cx_active',
      { envoy_listener_address: addr, envoy_worker_id: '0' }, n);
  }
  gauge('server.live', 'envoy_server_live', {}, state.healthFailed ? 0 : 1);
  gauge('server.state', 'envoy_server_state', {}, state.healthFailed ? 1 : 0);
  return out;
}

function escapeLabel(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// Envoy's /stats/prometheus: "# TYPE" per family (no HELP), families
// sorted, series with labels in braces.
function prometheus(filter) {
  const fams = new Map();
  for (const s of stats()) {
    if (filter && !filter.test(s.stat)) continue;
    if (!fams.has(s.name)) fams.set(s.name, { type: s.type, series: [] });
    fams.get(s.name).series.push(s);
  }
  let text = '';
  for (const name of [...fams.keys()].sort()) {
    const f = fams.get(name);
    text += `# TYPE ${name} ${f.type}\n`;
    for (const s of f.series) {
      const ls = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      text += `${name}${ls ? `{${ls}}` : ''} ${s.value}\n`;
    }
    text += '\n';
  }
  return text;
}

function send(res, code, body, type) {
  res.writeHead(code, { 'content-type': type || 'text/plain; charset=UTF-8' });
  res.end(body);
}

function json(res, code, obj) {
  send(res, code, JSON.stringify(obj) + '\n', 'application/json');
}

function readBody(req, cb) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => cb(Buffer.concat(chunks).toString('utf8')));
}

// Envoy answers a mutating endpoint reached with another method thus.
function requirePost(req, res) {
  if (req.method === 'POST') return true;
  send(res, 405, `Method ${req.method} not allowed, POST required.`);
  return false;
}

function control(req, res, url) {
  if (url.pathname === '/_test/config') {
    if (req.method === 'GET') return json(res, 200, knobs);
    return readBody(req, (body) => {
      let patch;
      try {
        patch = JSON.parse(body || '{}');
      } catch (e) {
        return json(res, 400, { error: e.message });
      }
      for (const [k, v] of Object.entries(patch)) {
        if (!(k in knobs)) return json(res, 400, { error: `unknown knob ${k}` });
        knobs[k] = v;
      }
      // New counts while draining: the decay starts again from them.
      if (state.drainingSince && ('http' in patch || 'tcp' in patch)) {
        state.drainingSince = 0;
        startDrain();
      }
      json(res, 200, knobs);
    });
  }
  if (url.pathname === '/_test/state')
    return json(res, 200, {
      healthFailed: state.healthFailed,
      draining: !!state.drainingSince,
      hcfailPosts: state.hcfailPosts,
      counts: counts(),
    });
  if (url.pathname === '/_test/requests') return json(res, 200, state.requests);
  json(res, 404, { error: 'no such control endpoint' });
}

function admin(req, res, url) {
  const path = url.pathname;
  if (path === '/healthcheck/fail') {
    if (!requirePost(req, res)) return;
    state.hcfailPosts++;
    if (state.hcfailPosts <= knobs.healthcheckFailErrors)
      return send(res, 503, 'injected failure\n');
    state.healthFailed = true;
    startDrain();
    return send(res, 200, 'OK\n');
  }
  if (path === '/healthcheck/ok') {
    if (!requirePost(req, res)) return;
    state.healthFailed = false;
    return send(res, 200, 'OK\n');
  }
  if (path === '/drain_listeners') {
    if (!requirePost(req, res)) return;
    startDrain();
    return send(res, 200, 'OK\n');
  }
  if (path === '/ready') {
    if (state.healthFailed) return send(res, 503, 'DRAINING\n');
    return send(res, 200, 'LIVE\n');
  }
  if (path === '/stats/prometheus') {
    let filter = null;
    const f = url.searchParams.get('filter');
    if (f !== null) {
      try {
        filter = new RegExp(f);
      } catch (e) {
        return send(res, 400, `Invalid re2 regex`);
      }
    }
    return send(res, 200, prometheus(filter), 'text/plain; charset=UTF-8');
  }
  send(res, 404, 'invalid path. admin commands are:\n  /healthcheck/fail\n  /healthcheck/ok\n' +
    '  /drain_listeners\n  /ready\n  /stats/prometheus\n');
}

function faulted(req, res, url) {
  const f = String(knobs.fault);
  if (f === 'none') return false;
  if (knobs.faultStatsOnly && url.pathname !== '/stats/prometheus') return false;
  if (f === '500') send(res, 500, 'injected server error\n');
  else if (f === 'garbage') send(res, 200, '{"this is": "not the text format"\n\u0000\u00ff{{{\n');
  else if (f === 'badvalue')
    send(res, 200, '# TYPE envoy_listener_downstream_cx_active gauge\n' +
      'envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_8080"} NaN\n' +
      '# TYPE envoy_http_downstream_cx_active gauge\n' +
      'envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix="ingress_http"} NaN\n');
  else if (f === 'close') req.socket.destroy();
  else if (f === 'hang') { /* never answered */ }
  else return false;
  return true;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://unix');
  if (url.pathname.startsWith('/_test/')) return control(req, res, url);
  const handle = () => {
    res.on('finish', () => {
      state.requests.push({ method: req.method, path: url.pathname, query: url.search,
        status: res.statusCode, time: Date.now() });
      if (verbose) process.stderr.write(`${req.method} ${req.url} ${res.statusCode}\n`);
    });
    if (!faulted(req, res, url)) admin(req, res, url);
    else if (String(knobs.fault) !== 'hang')
      state.requests.push({ method: req.method, path: url.pathname, query: url.search,
        status: `fault:${knobs.fault}`, time: Date.now() });
  };
  if (knobs.delaySeconds > 0) setTimeout(handle, knobs.delaySeconds * 1000);
  else handle();
});

try { fs.unlinkSync(socketPath); } catch (e) { /* not there */ }
server.listen(socketPath, () => {
  process.stdout.write(`listening on ${socketPath}\n`);
});
function stop() {
  server.close();
  try { fs.unlinkSync(socketPath); } catch (e) { /* gone */ }
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

#!/usr/bin/env node
// Checks every YAML file under MANIFESTS (contrib/kubernetes/), as
// tests/integration/manifests.sh runs it:
//
// - every object validates against the Kubernetes OpenAPI schemas of the
//   npm package kubernetes-models, and has no field the schema does not
//   know (the compiled validators ignore unknown fields, so each object is
//   validated through a Proxy that records which keys the schema read: a
//   key never read is unknown, wherever it is);
// - references inside a folder resolve: namespaces, service accounts,
//   ConfigMaps (and their keys), Secrets (only those certgen writes),
//   volume mounts, role bindings, Service selectors and target ports;
// - every contour config in a ConfigMap equals conf/<key> when conf/ has
//   that file, and passes `contour check-config`;
// - every pod is run through, containers in order, with each volume a
//   temp folder (ConfigMaps written out, Secrets as placeholder PEM files,
//   emptyDirs shared between the containers): `contour bootstrap` runs for
//   real, `contour serve ARGS` is `contour check-config ARGS`, `contour
//   certgen` runs with --yaml into a temp folder (skipped with a note when
//   the binary has no certgen, failed under CONTOUR_STRICT_TESTS=1), and
//   Envoy's -c file must be one an init container wrote, every path the
//   init containers wrote into a volume must be on Envoy's mounts at the
//   same place, and Envoy's pod must have its readiness probe, preStop,
//   shared /admin and grace period;
// - each pod's sockets (the contour configs' listeners with serve's flags
//   over them, Envoy's declared ports): probes and declared ports are
//   listened on beyond loopback, and no port is wanted twice;
// - every contour image is contour:VERSION (AC_INIT's).
//
// Environment: MANIFESTS, CONF, CONTOUR (the binary), CONTOUR_VERSION,
// WORK (a scratch folder), CONTOUR_STRICT_TESTS, VERBOSE (print each check
// passed). Prints FAIL/SKIP lines and a summary; exits 1 on any failure.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const YAML = require('yaml');

const MANIFESTS = must('MANIFESTS');
const CONF = must('CONF');
const CONTOUR = must('CONTOUR');
const VERSION = must('CONTOUR_VERSION');
const WORK = must('WORK');
const STRICT = !!process.env.CONTOUR_STRICT_TESTS;

// The Secrets `contour certgen` writes (--secrets-format=compact).
const CERTGEN_SECRETS = new Set(['contourcert', 'envoycert', 'webhookcert']);
const SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt'];
// A folder applied on top of another: webhook/ needs split/'s namespace and
// certgen Job.
const REQUIRES = { webhook: ['split'] };
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration', 'CustomResourceDefinition', 'IngressClass',
  'PriorityClass', 'StorageClass', 'PersistentVolume',
]);
const POD_OWNERS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job']);

let failures = 0;
let skips = 0;
let checks = 0;

function must(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`check.js: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

function fail(where, msg) {
  failures++;
  console.log(`FAIL: ${where}: ${msg}`);
}

function ok(what) {
  checks++;
  if (process.env.VERBOSE) console.log(`ok: ${what}`);
}

function skip(where, msg) {
  if (STRICT) {
    fail(where, `${msg} (CONTOUR_STRICT_TESTS=1)`);
    return;
  }
  skips++;
  console.log(`SKIP: ${where}: ${msg}`);
}

// ---- files and objects

function yamlFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.(ya?ml|json)$/.test(e.name)) out.push(p);
  }
  return out;
}

function loadFile(file) {
  const rel = path.relative(MANIFESTS, file);
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), {
    // kubectl reads YAML 1.1 (sigs.k8s.io/yaml): 0644 is octal, yes a bool.
    version: '1.1',
    uniqueKeys: true,
  });
  const objs = [];
  docs.forEach((d, i) => {
    for (const e of d.errors) fail(`${rel} document ${i + 1}`, `YAML: ${e.message}`);
    for (const w of d.warnings) fail(`${rel} document ${i + 1}`, `YAML: ${w.message}`);
    if (d.errors.length) return;
    const o = d.toJS();
    if (o === null || o === undefined) return;
    objs.push({ file: rel, obj: o, where: `${rel}: ${o.kind || '?'}/${(o.metadata || {}).name || '?'}` });
  });
  return objs;
}

// ---- schemas

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9]+$/.test(kind))
    return null;
  try {
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind] || null;
  } catch (e) {
    return null;
  }
}

// A Proxy over obj that records, per JSON path, each own key read.
function tracked(obj, p, seen) {
  if (obj === null || typeof obj !== 'object') return obj;
  const kids = new Map();
  return new Proxy(obj, {
    get(t, k, r) {
      if (typeof k === 'string' && Object.prototype.hasOwnProperty.call(t, k)) {
        seen.add(`${p}/${k}`);
        if (!kids.has(k)) kids.set(k, tracked(t[k], `${p}/${k}`, seen));
        return kids.get(k);
      }
      return Reflect.get(t, k, r);
    },
  });
}

function unread(obj, p, seen, out) {
  if (obj === null || typeof obj !== 'object') return;
  for (const k of Object.keys(obj)) {
    const q = `${p}/${k}`;
    if (!seen.has(q)) out.push(q);
    else unread(obj[k], q, seen, out);
  }
}

function checkSchema(o) {
  const { obj, where } = o;
  const Model = modelFor(obj.apiVersion, obj.kind);
  if (!Model) {
    fail(where, `no Kubernetes schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
    return;
  }
  const seen = new Set();
  try {
    Model.prototype.validate.call(tracked(obj, '', seen));
  } catch (e) {
    fail(where, `schema: ${e.message}`);
    return;
  }
  const unknown = [];
  unread(obj, '', seen, unknown);
  for (const u of unknown) fail(where, `unknown field ${u}`);
  if (!unknown.length) ok(`${where}: schema`);
}

// ---- folders

function topFolder(rel) {
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : '';
}

function isVariant(rel) {
  return rel.split(path.sep).length > 2;
}

function key(kind, ns, name) {
  return `${kind}/${ns || ''}/${name}`;
}

class Context {
  constructor(objs) {
    this.map = new Map();
    for (const o of objs) {
      const m = o.obj.metadata || {};
      this.map.set(key(o.obj.kind, m.namespace, m.name), o);
    }
  }
  find(kind, ns, name) {
    const o = this.map.get(key(kind, ns, name));
    return o ? o.obj : null;
  }
  all(kind) {
    return [...this.map.values()].filter((o) => o.obj.kind === kind);
  }
}

// ---- contour configs in ConfigMaps

function run(argv, env, cwd) {
  const r = spawnSync(argv[0], argv.slice(1), {
    env: { ...process.env, ...(env || {}) },
    cwd: cwd || WORK,
    encoding: 'utf8',
    timeout: 30000,
  });
  return { rc: r.status === null ? -1 : r.status, out: `${r.stdout || ''}${r.stderr || ''}`.trim() };
}

let tmpCount = 0;
function tmpdir(tag) {
  const d = path.join(WORK, `${tag}-${++tmpCount}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function checkConfigMap(o) {
  const data = o.obj.data || {};
  for (const k of Object.keys(data)) {
    if (!/\.ya?ml$/.test(k)) continue;
    const where = `${o.where}: data.${k}`;
    const conf = path.join(CONF, k);
    if (fs.existsSync(conf)) {
      if (fs.readFileSync(conf, 'utf8') !== data[k]) fail(where, `differs from conf/${k}`);
      else ok(`${where} equals conf/${k}`);
    }
    const f = path.join(tmpdir('configmap'), k);
    fs.writeFileSync(f, data[k]);
    const r = run([CONTOUR, 'check-config', f]);
    if (r.rc !== 0) fail(where, `contour check-config exited ${r.rc}: ${r.out}`);
    else ok(`${where}: check-config`);
  }
}

// ---- pods

function podTemplate(obj) {
  if (POD_OWNERS.has(obj.kind)) return (obj.spec || {}).template;
  if (obj.kind === 'CronJob') return (((obj.spec || {}).jobTemplate || {}).spec || {}).template;
  if (obj.kind === 'Pod') return obj;
  return null;
}

function imageName(image) {
  const slash = image.lastIndexOf('/');
  const tail = image.slice(slash + 1);
  const colon = tail.indexOf(':');
  return { name: colon < 0 ? tail : tail.slice(0, colon), tag: colon < 0 ? '' : tail.slice(colon + 1) };
}

function isContourImage(c) {
  return typeof c.image === 'string' && imageName(c.image).name === 'contour';
}

function isEnvoyImage(c) {
  return typeof c.image === 'string' && /(^|\/)envoyproxy\/envoy(:|@|$)/.test(c.image);
}

function resolveEnv(c, ns, podName, where) {
  const env = {};
  for (const e of c.env || []) {
    if (e.value !== undefined) env[e.name] = expand(String(e.value), env, where);
    else if (e.valueFrom && e.valueFrom.fieldRef) {
      const f = e.valueFrom.fieldRef.fieldPath;
      if (f === 'metadata.namespace') env[e.name] = ns;
      else if (f === 'metadata.name') env[e.name] = podName;
      else env[e.name] = `<${f}>`;
    } else env[e.name] = '';
  }
  return env;
}

// Kubernetes' $(VAR) expansion; $$ escapes. An undefined variable is left
// as written by the kubelet: here that is a failure.
function expand(s, env, where) {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, v) => {
    if (m === '$$') return '$';
    if (Object.prototype.hasOwnProperty.call(env, v)) return env[v];
    fail(where, `$(${v}) is not in the container's env`);
    return m;
  });
}

function mapper(c, vols, where) {
  const mounts = [];
  for (const m of c.volumeMounts || []) {
    if (!vols[m.name]) {
      fail(where, `volumeMount ${m.name} names no volume of the pod`);
      continue;
    }
    mounts.push([m.mountPath.replace(/\/+$/, ''), path.join(vols[m.name], m.subPath || '')]);
  }
  mounts.sort((a, b) => b[0].length - a[0].length);
  const one = (p) => {
    for (const [mp, host] of mounts)
      if (p === mp || p.startsWith(`${mp}/`)) return host + p.slice(mp.length);
    return null;
  };
  // Every absolute path in the command line must be on a volume (the
  // image's root file system is read-only), except the binary itself.
  return (arg, i) => {
    if (i === 0) return arg;
    let m = /^(--?[A-Za-z0-9-]+=)(\/.*)$/.exec(arg);
    const [prefix, p] = m ? [m[1], m[2]] : arg.startsWith('/') ? ['', arg] : [null, null];
    if (p === null) return arg;
    const host = one(p);
    if (host === null) {
      fail(where, `${p} is on no volume of the container`);
      return arg;
    }
    return prefix + host;
  };
}

let certgenAvailable = null;
function hasCertgen() {
  if (certgenAvailable === null) certgenAvailable = run([CONTOUR, 'certgen', '--help']).rc === 0;
  return certgenAvailable;
}

function checkContourCommand(argv, env, mapArg, where) {
  if (argv[0] !== '/usr/bin/contour') {
    fail(where, `command must be /usr/bin/contour (the image's binary), not ${JSON.stringify(argv[0])}`);
    return;
  }
  const sub = argv[1];
  const mapped = argv.map(mapArg);
  if (sub === 'bootstrap') {
    const r = run([CONTOUR, ...mapped.slice(1)], env);
    if (r.rc !== 0) {
      fail(where, `contour bootstrap exited ${r.rc}: ${r.out}`);
      return;
    }
    const out = mapped[2];
    try {
      JSON.parse(fs.readFileSync(out, 'utf8'));
      ok(`${where}: bootstrap wrote ${argv[2]}`);
    } catch (e) {
      fail(where, `contour bootstrap did not write JSON to ${argv[2]}: ${e.message}`);
    }
  } else if (sub === 'serve') {
    if (!mapped.slice(2).some((a) => /^(--config(-path)?|-c)(=|$)/.test(a))) {
      fail(where, 'contour serve without --config runs the built-in local role');
      return;
    }
    const r = run([CONTOUR, 'check-config', ...mapped.slice(2)], env);
    if (r.rc !== 0) fail(where, `contour check-config ${argv.slice(2).join(' ')} exited ${r.rc}: ${r.out}`);
    else ok(`${where}: serve ${argv.slice(2).join(' ')}`);
  } else if (sub === 'certgen') {
    if (!hasCertgen()) {
      skip(where, 'contour certgen --help fails: this build has no certgen; its command line is not checked');
      return;
    }
    const dir = tmpdir('certgen');
    const args = mapped.slice(2).filter((a) => !/^--(kube|incluster|kubeconfig)(=|$)/.test(a));
    if (!mapped.includes('--kube') || !mapped.includes('--incluster'))
      fail(where, 'certgen in a cluster runs with --kube --incluster');
    const r = run([CONTOUR, 'certgen', '--yaml', ...args, dir], env);
    if (r.rc !== 0) fail(where, `contour certgen --yaml ${args.join(' ')} exited ${r.rc}: ${r.out}`);
    else if (!fs.readdirSync(dir).length) fail(where, 'contour certgen --yaml wrote nothing');
    else ok(`${where}: certgen`);
  } else {
    fail(where, `no check for 'contour ${sub}': add one to tests/manifests/check.js`);
  }
}

function checkEnvoyCommand(argv, mapArg, where) {
  const i = argv.findIndex((a) => a === '-c' || a === '--config-path');
  if (i < 0 || i + 1 >= argv.length) {
    fail(where, 'Envoy without -c FILE');
    return;
  }
  const f = mapArg(argv[i + 1], i + 1);
  try {
    JSON.parse(fs.readFileSync(f, 'utf8'));
    ok(`${where}: Envoy's ${argv[i + 1]} written by an init container`);
  } catch (e) {
    fail(where, `Envoy's -c ${argv[i + 1]} is not a bootstrap an init container wrote: ${e.message}`);
  }
}

// Every file path the init containers wrote into a volume (the bootstrap
// names its SDS files, the certificates) must be where Envoy sees it: the
// same volume at the same mount path in the Envoy container.
function walk(d, out) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function mountOf(c, vol) {
  const m = (c.volumeMounts || []).find((x) => x.name === vol && !x.subPath);
  return m ? m.mountPath.replace(/\/+$/, '') : null;
}

function checkEnvoyFiles(envoy, spec, dir, initNames, where) {
  const written = (spec.volumes || []).filter((v) => v.emptyDir).map((v) => path.join(dir, `vol-${v.name}`));
  const re = new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/vol-([^/"\\s]+)(/[^"\\s]*)?`, 'g');
  const inits = (spec.initContainers || []).filter((c) => initNames.has(c.name));
  let n = 0;
  for (const f of written.flatMap((d) => walk(d, []))) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(re)) {
      const vol = m[1];
      const rest = m[2] || '';
      const at = inits.map((c) => mountOf(c, vol)).find((x) => x);
      const seen = mountOf(envoy, vol);
      n++;
      if (!at) fail(where, `${path.relative(dir, f)} names a path on volume ${vol}, which no init container mounts`);
      else if (seen !== at)
        fail(where, `the bootstrap names ${at}${rest}, but the container ${seen ? `mounts volume ${vol} at ${seen}` : `does not mount volume ${vol}`}`);
    }
  }
  ok(`${where}: ${n} paths in the bootstrap files are on its volumes`);
}

// What the Envoy pod needs around Envoy: readiness on /ready :8002 (the
// stats-health listener the bootstrap's xDS config serves), a preStop that
// waits on the shutdown-manager's /shutdown, the admin socket's emptyDir
// /admin shared with it, and a grace period above its drain-timeout.
function checkEnvoyPod(envoy, spec, where) {
  const rp = (envoy.readinessProbe || {}).httpGet;
  if (!rp || rp.path !== '/ready' || rp.port !== 8002) fail(where, 'readinessProbe must be httpGet /ready on 8002');
  const sm = (spec.containers || []).find((c) => c.name === 'shutdown-manager');
  if (!sm) {
    fail(where, 'no shutdown-manager container beside Envoy');
    return;
  }
  const pre = ((envoy.lifecycle || {}).preStop || {}).httpGet;
  if (!pre || pre.path !== '/shutdown' || pre.port !== 8090) fail(where, 'preStop must be httpGet /shutdown on 8090');
  const smAddr = [...(sm.command || []), ...(sm.args || [])].find((a) => /^--serve-address=/.test(a));
  if (smAddr && pre && pre.host !== smAddr.split('=')[1])
    fail(where, `the shutdown-manager serves on ${smAddr.split('=')[1]}: preStop needs host: ${smAddr.split('=')[1]}`);
  const admin = (envoy.volumeMounts || []).find((m) => m.mountPath === '/admin');
  const smAdmin = (sm.volumeMounts || []).find((m) => m.mountPath === '/admin');
  const vol = admin && (spec.volumes || []).find((v) => v.name === admin.name);
  if (!admin || !smAdmin || admin.name !== smAdmin.name || !vol || !vol.emptyDir)
    fail(where, 'Envoy and the shutdown-manager must share an emptyDir at /admin (admin socket, ready file)');
  if (!(spec.terminationGracePeriodSeconds > 280))
    fail(where, 'terminationGracePeriodSeconds must exceed the shutdown-manager\'s drain-timeout (280s)');
  ok(`${where}: readiness, preStop, /admin, grace period`);
}

// The sockets a contour container opens: its config's modules, with
// serve's flags over their keys (the modules' defaults and flags, as in
// modules/*/*.c).
const LISTENERS = {
  metrics: { address: '0.0.0.0', port: 8000, flags: ['--http-address', '--http-port'] },
  'xds-grpc': { address: '127.0.0.1', port: 8001, flags: ['--xds-address', '--xds-port'] },
  admission: { address: '0.0.0.0', port: 8443, flags: [null, null] },
  'shutdown-manager': { address: '0.0.0.0', port: 8090, flags: ['--serve-address', '--serve-port'] },
};
// A module's second listener: metrics' debug one (/debug/dag); port -1 is off.
const SECOND_LISTENERS = {
  metrics: { address: '127.0.0.1', port: 6060, flags: ['--debug-http-address', '--debug-http-port'],
    keys: ['debug-address', 'debug-port'] },
};

function flagValue(args, flag) {
  let v = null;
  args.forEach((a, i) => {
    if (a.startsWith(`${flag}=`)) v = a.slice(flag.length + 1);
    else if (a === flag && i + 1 < args.length) v = args[i + 1];
  });
  return v;
}

function contourListeners(mappedArgs) {
  const cfg = flagValue(mappedArgs, '--config') || flagValue(mappedArgs, '--config-path') || flagValue(mappedArgs, '-c');
  if (!cfg || !fs.existsSync(cfg)) return [];
  let conf;
  try {
    conf = YAML.parse(fs.readFileSync(cfg, 'utf8'));
  } catch (e) {
    return [];
  }
  const out = [];
  for (const m of (conf && conf.modules) || []) {
    const l = LISTENERS[m.name];
    if (!l) continue;
    const c = m.config || {};
    const address = (l.flags[0] && flagValue(mappedArgs, l.flags[0])) || c.address || l.address;
    const port = Number((l.flags[1] && flagValue(mappedArgs, l.flags[1])) || (c.port !== undefined ? c.port : l.port));
    out.push({ address: String(address), port, what: m.name });
    const d = SECOND_LISTENERS[m.name];
    if (!d) continue;
    const daddr = flagValue(mappedArgs, d.flags[0]) || c[d.keys[0]] || d.address;
    const dflag = flagValue(mappedArgs, d.flags[1]);
    const dport = Number(dflag !== null ? dflag : (c[d.keys[1]] !== undefined ? c[d.keys[1]] : d.port));
    if (dport >= 0) out.push({ address: String(daddr), port: dport, what: `${m.name} debug` });
  }
  return out;
}

const loopback = (a) => a === '127.0.0.1' || a === '::1' || a.startsWith('127.');

// Probes dial the pod IP: the port must be one the container listens on
// beyond loopback; two sockets of one pod must not want the same port.
function checkListeners(pod, where) {
  for (let i = 0; i < pod.length; i++) {
    for (let j = i + 1; j < pod.length; j++) {
      const a = pod[i], b = pod[j];
      if (a.port === b.port && a.port !== 0 &&
        (a.address === b.address || a.address === '0.0.0.0' || b.address === '0.0.0.0' || a.address === '::' || b.address === '::'))
        fail(where, `port ${a.port}: ${a.container} (${a.what} on ${a.address}) and ${b.container} (${b.what} on ${b.address}) in one pod`);
    }
  }
}

function checkProbes(c, mine, where) {
  const named = {};
  for (const p of c.ports || []) if (p.name) named[p.name] = p.containerPort;
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const pr = c[kind];
    if (!pr) continue;
    const h = pr.httpGet || pr.tcpSocket || pr.grpc;
    if (!h) continue;
    const port = typeof h.port === 'string' ? named[h.port] : h.port;
    if (!mine.some((l) => l.port === port && !loopback(l.address)))
      fail(where, `${kind} on port ${h.port}: the container ${mine.some((l) => l.port === port) ? 'listens there on loopback only' : 'does not listen there'}`);
  }
  for (const p of c.ports || [])
    if (!mine.some((l) => l.port === p.containerPort && !loopback(l.address)))
      fail(where, `containerPort ${p.containerPort}: the container does not listen there beyond loopback`);
}

function checkPod(o, ctx) {
  const tpl = podTemplate(o.obj);
  if (!tpl) return;
  const spec = tpl.spec || {};
  const ns = (o.obj.metadata || {}).namespace;
  const podName = `${(o.obj.metadata || {}).name}-pod`;
  if (spec.serviceAccountName && !ctx.find('ServiceAccount', ns, spec.serviceAccountName))
    fail(o.where, `serviceAccountName ${spec.serviceAccountName}: no such ServiceAccount`);
  const dir = tmpdir('pod');
  const vols = {};
  for (const v of spec.volumes || []) {
    const d = path.join(dir, `vol-${v.name}`);
    fs.mkdirSync(d);
    vols[v.name] = d;
    if (v.configMap) {
      const cm = ctx.find('ConfigMap', ns, v.configMap.name);
      if (!cm) {
        fail(o.where, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
        continue;
      }
      const items = v.configMap.items || Object.keys(cm.data || {}).map((k) => ({ key: k, path: k }));
      for (const it of items) {
        if (!(cm.data || {})[it.key]) fail(o.where, `volume ${v.name}: ConfigMap ${cm.metadata.name} has no key ${it.key}`);
        else fs.writeFileSync(path.join(d, it.path), cm.data[it.key]);
      }
    } else if (v.secret) {
      if (!CERTGEN_SECRETS.has(v.secret.secretName)) {
        fail(o.where, `volume ${v.name}: Secret ${v.secret.secretName} is not one certgen writes`);
        continue;
      }
      const items = v.secret.items || SECRET_KEYS.map((k) => ({ key: k, path: k }));
      for (const it of items) {
        if (!SECRET_KEYS.includes(it.key)) fail(o.where, `volume ${v.name}: certgen writes no key ${it.key}`);
        fs.writeFileSync(path.join(d, it.path),
          `-----BEGIN PLACEHOLDER-----\n${v.secret.secretName}/${it.key}\n-----END PLACEHOLDER-----\n`);
      }
    } else if (!v.emptyDir) {
      fail(o.where, `volume ${v.name}: only emptyDir, configMap and secret volumes are checked`);
    }
  }
  const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
  const initNames = new Set((spec.initContainers || []).map((c) => c.name));
  const sockets = [];
  for (const c of containers) {
    const where = `${o.where}: container ${c.name}`;
    const env = resolveEnv(c, ns, podName, where);
    const mapArg = mapper(c, vols, where);
    const argv = [...(c.command || []), ...(c.args || [])].map((a) => expand(String(a), env, where));
    if (isContourImage(c)) {
      const { tag } = imageName(c.image);
      if (c.image !== `contour:${VERSION}`)
        fail(where, `image ${c.image}: contour images must be contour:${VERSION} (AC_INIT's version)` +
          (tag && tag !== VERSION ? `, not tag ${tag}` : ''));
      else ok(`${where}: image`);
      if (!c.command) fail(where, 'no command: name /usr/bin/contour');
      else checkContourCommand(argv, env, mapArg, where);
      if (!initNames.has(c.name) && argv[1] === 'serve') {
        const mine = contourListeners(argv.map(mapArg)).map((l) => ({ ...l, container: c.name }));
        sockets.push(...mine);
        checkProbes(c, mine, where);
      }
      const pre = ((c.lifecycle || {}).preStop || {}).exec;
      if (pre) checkContourCommand(pre.command.map((a) => expand(String(a), env, where)), env, mapArg, `${where} preStop`);
    } else if (argv[0] === '/usr/bin/contour' || argv[0] === 'contour') {
      fail(where, `runs contour from image ${c.image}, not contour:${VERSION}`);
    } else if (isEnvoyImage(c)) {
      checkEnvoyCommand(argv, mapArg, where);
      // Envoy's listeners come over xDS and from the bootstrap: its
      // declared ports stand for them.
      const mine = (c.ports || []).map((p) => ({ address: '0.0.0.0', port: p.containerPort, what: p.name || 'port', container: c.name }));
      sockets.push(...mine);
      checkProbes(c, mine, where);
      checkEnvoyFiles(c, spec, dir, initNames, where);
      checkEnvoyPod(c, spec, where);
    } else {
      fail(where, `image ${c.image}: neither contour nor Envoy; no check for it`);
    }
  }
  checkListeners(sockets, o.where);
  ok(`${o.where}: ${sockets.length} sockets, no port twice`);
}

// ---- cross references

function checkRefs(o, ctx) {
  const { obj, where } = o;
  const m = obj.metadata || {};
  if (CLUSTER_SCOPED.has(obj.kind)) {
    if (m.namespace) fail(where, `${obj.kind} is cluster-scoped: no metadata.namespace`);
  } else if (!m.namespace) {
    fail(where, 'no metadata.namespace (kubectl would use the current context\'s)');
  } else if (!ctx.find('Namespace', undefined, m.namespace)) {
    fail(where, `namespace ${m.namespace} is not created by this folder (or one it requires)`);
  }
  // The certgen Job's name carries the release, so a new release's Job
  // runs (the finished one is gone, but a failed one stays).
  const jobName = `contour-certgen-v${VERSION.replace(/\./g, '-')}`;
  if (obj.kind === 'Job' && /^contour-certgen/.test(m.name || '') && m.name !== jobName)
    fail(where, `the certgen Job must be named ${jobName} (AC_INIT's version)`);
  if (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') {
    const r = obj.roleRef || {};
    if (!ctx.find(r.kind, r.kind === 'Role' ? m.namespace : undefined, r.name))
      fail(where, `roleRef ${r.kind}/${r.name}: not in this folder`);
    for (const s of obj.subjects || [])
      if (s.kind === 'ServiceAccount' && !ctx.find('ServiceAccount', s.namespace, s.name))
        fail(where, `subject ServiceAccount ${s.namespace}/${s.name}: not in this folder`);
  }
  if (obj.kind === 'Service' && obj.spec && obj.spec.selector) {
    const sel = obj.spec.selector;
    const pods = [];
    for (const k of POD_OWNERS) for (const p of ctx.all(k)) {
      const t = podTemplate(p.obj);
      const labels = ((t || {}).metadata || {}).labels || {};
      if ((p.obj.metadata || {}).namespace === m.namespace &&
        Object.keys(sel).every((l) => labels[l] === sel[l])) pods.push(t);
    }
    if (!pods.length) fail(where, `selector ${JSON.stringify(sel)} matches no pod of this folder`);
    for (const port of obj.spec.ports || []) {
      const tp = port.targetPort === undefined ? port.port : port.targetPort;
      const served = pods.some((t) => (t.spec.containers || []).some((c) => (c.ports || []).some((cp) =>
        cp.containerPort === tp || cp.name === tp)));
      if (pods.length && !served) fail(where, `port ${port.name || port.port}: no container port ${tp}`);
    }
  }
  if (obj.kind === 'ValidatingWebhookConfiguration') {
    for (const w of obj.webhooks || []) {
      const s = (w.clientConfig || {}).service;
      if (!s) continue;
      const svc = ctx.find('Service', s.namespace, s.name);
      if (!svc) fail(where, `webhook ${w.name}: no Service ${s.namespace}/${s.name}`);
      else if (!(svc.spec.ports || []).some((p) => p.port === (s.port || 443)))
        fail(where, `webhook ${w.name}: Service ${s.name} has no port ${s.port || 443}`);
    }
  }
}

// ---- main

function main() {
  fs.mkdirSync(WORK, { recursive: true });
  const files = yamlFiles(MANIFESTS);
  if (!files.length) fail(MANIFESTS, 'no YAML files');
  const byFile = new Map(files.map((f) => [path.relative(MANIFESTS, f), loadFile(f)]));
  const base = new Map(); // folder -> objects of its own top-level files
  for (const [rel, objs] of byFile) {
    if (isVariant(rel)) continue;
    const top = topFolder(rel);
    if (!base.has(top)) base.set(top, []);
    const seen = new Set(base.get(top).map((o) => key(o.obj.kind, (o.obj.metadata || {}).namespace, (o.obj.metadata || {}).name)));
    for (const o of objs) {
      const k = key(o.obj.kind, (o.obj.metadata || {}).namespace, (o.obj.metadata || {}).name);
      if (seen.has(k)) fail(o.where, 'defined twice in the folder');
      seen.add(k);
      base.get(top).push(o);
    }
  }
  for (const [rel, objs] of byFile) {
    const top = topFolder(rel);
    // A variant replaces objects of its folder by name.
    let ctxObjs = [...(base.get(top) || [])];
    for (const r of REQUIRES[top] || []) ctxObjs = [...(base.get(r) || []), ...ctxObjs];
    if (isVariant(rel)) ctxObjs = [...ctxObjs, ...objs];
    const ctx = new Context(ctxObjs);
    for (const o of objs) {
      checkSchema(o);
      checkRefs(o, ctx);
      if (o.obj.kind === 'ConfigMap') checkConfigMap(o);
      checkPod(o, ctx);
    }
  }
  console.log(`manifests: ${files.length} files, ${checks} checks passed, ${failures} failed, ${skips} skipped`);
  process.exit(failures ? 1 : 0);
}

main();

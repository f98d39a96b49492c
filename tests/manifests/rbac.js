#!/usr/bin/env node
// RBAC of contrib/kubernetes/ against what contour really asked: the test
// API server's request log (tests/k8sapi, GET /_test/requests) of a
// `contour serve` run as one service account, read as kube-apiserver's
// authorizer reads requests (verb, API group, resource, subresource,
// namespace, name), checked against the Roles and ClusterRoles the
// folder binds to that account: every request must be allowed, and every
// verb granted must have been used (only the verbs the modules use).
//
//   node rbac.js REQUESTS.json FOLDER NAMESPACE:SERVICEACCOUNT
//
// Prints ok/FAIL lines; exits 1 on any failure.
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const [reqFile, folder, who] = process.argv.slice(2);
if (!reqFile || !folder || !who || !who.includes(':')) {
  console.error('usage: rbac.js REQUESTS.json FOLDER NAMESPACE:SERVICEACCOUNT');
  process.exit(2);
}
const [saNs, saName] = who.split(':');
const user = `system:serviceaccount:${saNs}:${saName}`;
let failures = 0;
const fail = (m) => {
  failures++;
  console.log(`FAIL: ${folder}: ${who}: ${m}`);
};

const objs = [];
for (const f of fs.readdirSync(folder).filter((n) => /\.ya?ml$/.test(n)).sort())
  for (const d of YAML.parseAllDocuments(fs.readFileSync(path.join(folder, f), 'utf8'), { version: '1.1' })) {
    const o = d.toJS();
    if (o) objs.push(o);
  }
const find = (kind, name, ns) => objs.find((o) => o.kind === kind && o.metadata.name === name &&
  (ns === undefined || o.metadata.namespace === ns));

// The grants: [{where, scope (namespace or '*'), rule}].
const grants = [];
for (const b of objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
  if (!(b.subjects || []).some((s) => s.kind === 'ServiceAccount' && s.name === saName && s.namespace === saNs))
    continue;
  const role = b.roleRef.kind === 'ClusterRole' ? find('ClusterRole', b.roleRef.name)
    : find('Role', b.roleRef.name, b.metadata.namespace);
  if (!role) {
    fail(`${b.kind} ${b.metadata.name}: no ${b.roleRef.kind} ${b.roleRef.name}`);
    continue;
  }
  const scope = b.kind === 'ClusterRoleBinding' ? '*' : b.metadata.namespace;
  (role.rules || []).forEach((rule, i) => grants.push({ where: `${role.kind} ${role.metadata.name} rule ${i + 1}`, scope, rule }));
}
if (!grants.length) fail('no role is bound to it');

// A request as the authorizer sees it, or null for a non-resource URL.
function attributes(e) {
  const parts = e.path.split('/').filter(Boolean);
  let group;
  let rest;
  if (parts[0] === 'api' && parts.length >= 3) [group, rest] = ['', parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [group, rest] = [parts[1], parts.slice(3)];
  else return null;
  let ns = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, sub] = rest;
  const q = e.query || {};
  const verb = {
    GET: name ? 'get' : q.watch === 'true' || q.watch === '1' ? 'watch' : 'list',
    POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name ? 'delete' : 'deletecollection',
  }[e.method];
  return { verb, group, resource: sub ? `${resource}/${sub}` : resource, ns, name: name || '' };
}

const used = new Set();
function allowed(a) {
  let ok = false;
  grants.forEach((g, gi) => {
    const r = g.rule;
    if (g.scope !== '*' && g.scope !== a.ns) return;
    if (!(r.apiGroups || []).some((x) => x === '*' || x === a.group)) return;
    if (!(r.resources || []).some((x) => x === '*' || x === a.resource)) return;
    if (!(r.verbs || []).some((x) => x === '*' || x === a.verb)) return;
    if (r.resourceNames && r.resourceNames.length && !r.resourceNames.includes(a.name)) return;
    ok = true;
    used.add(`${gi}|${a.verb}|${a.group}|${a.resource}`);
  });
  return ok;
}

const log = JSON.parse(fs.readFileSync(reqFile, 'utf8'));
const mine = (log.requests || log).filter((e) => e.user === user);
if (!mine.length) fail(`no request by ${user} in the log`);
const refused = new Set();
for (const e of mine) {
  const a = attributes(e);
  if (!a) continue; // discovery, /version: every authenticated user may
  if (!allowed(a)) refused.add(`${a.verb} ${a.group || 'core'}/${a.resource}${a.ns ? ` in ${a.ns}` : ''} (${e.method} ${e.path})`);
}
for (const r of refused) fail(`not allowed: ${r}`);
grants.forEach((g, gi) => {
  for (const group of g.rule.apiGroups || [])
    for (const resource of g.rule.resources || [])
      for (const verb of g.rule.verbs || [])
        if (!used.has(`${gi}|${verb}|${group}|${resource}`))
          fail(`granted but never used: ${verb} ${group || 'core'}/${resource} (${g.where})`);
});
if (!failures)
  console.log(`ok: ${folder}: ${who}: ${mine.length} requests allowed, every verb granted used`);
process.exit(failures ? 1 : 0);

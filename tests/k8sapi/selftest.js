#!/usr/bin/env node
'use strict';
// selftest.js: starts apiserver.js over HTTPS with a throw-away PKI (made
// with the openssl CLI) and checks its wire behaviour with Node's own
// https/http2 clients. Exit 0 when every check passed.
//   node selftest.js [-v]

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http2 = require('http2');
const https = require('https');
const os = require('os');
const path = require('path');

const VERBOSE = process.argv.includes('-v');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8sapi-'));
const children = [];
let failed = 0, passed = 0;

function cleanup() {
	for (const c of children)
		c.kill('SIGKILL');
	fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function check(name, cond, detail) {
	if (cond) {
		passed++;
		if (VERBOSE)
			console.log(`ok: ${name}`);
	} else {
		failed++;
		console.log(`FAIL: ${name}${detail !== undefined ? ': ' + JSON.stringify(detail)
			.slice(0, 600) : ''}`);
	}
}

// --- PKI ----------------------------------------------------------------

function openssl(...args) {
	execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pki() {
	for (const ca of ['ca', 'otherca'])
		openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
			'-nodes', '-keyout', `${ca}.key`, '-subj', `/CN=${ca}`, '-days', '2', '-out',
			`${ca}.crt`);
	const mk = (name, cn, ca, ext) => {
		openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
			'-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
		fs.writeFileSync(path.join(dir, `${name}.ext`), ext + '\n');
		openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
			'-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
	};
	mk('server', 'apiserver', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
	mk('alice', 'alice', 'ca', 'extendedKeyUsage=clientAuth');
	mk('mallory', 'mallory', 'otherca', 'extendedKeyUsage=clientAuth');
	mk('hook', 'hook', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:hook.webhooks.svc');
	mk('nosan', 'hook', 'ca', 'basicConstraints=CA:FALSE');
}

const rd = (f) => fs.readFileSync(path.join(dir, f));

// --- the server under test ---------------------------------------------

async function startServer(extra, env) {
	const args = [path.join(__dirname, 'apiserver.js'), '--port', '0',
		'--cert', path.join(dir, 'server.crt'), '--key', path.join(dir, 'server.key'),
		'--ca', path.join(dir, 'ca.crt'), '--admin-token', 'admin-secret',
		'--token-file', path.join(dir, 'tokens'), ...extra];
	const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'],
		env: { ...process.env, ...(env || {}) } });
	children.push(child);
	const port = await new Promise((resolve, reject) => {
		let out = '';
		child.stdout.on('data', (d) => {
			out += d;
			const m = /listening on https:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
			if (m)
				resolve(Number(m[1]));
		});
		child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
	});
	return { child, port };
}

let PORT;
const ADMIN = 'admin-secret';

function conn(o) {
	const c = { host: '127.0.0.1', port: o.port || PORT, ca: rd('ca.crt'), agent: false,
		servername: 'localhost', headers: { Accept: 'application/json', ...(o.headers || {}) } };
	const tok = o.token === undefined ? ADMIN : o.token;
	if (tok)
		c.headers.Authorization = `Bearer ${tok}`;
	if (o.cert) {
		c.cert = rd(`${o.cert}.crt`);
		c.key = rd(`${o.cert}.key`);
	}
	return c;
}

// One request: {status, headers, text, json}.
function req(method, p, o = {}) {
	return new Promise((resolve, reject) => {
		const c = conn(o);
		let body;
		if (o.body !== undefined) {
			body = Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
			c.headers['Content-Type'] = o.contentType || 'application/json';
			c.headers['Content-Length'] = body.length;
		}
		const r = https.request({ ...c, method, path: p }, (res) => {
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('end', () => {
				const text = Buffer.concat(parts).toString();
				let json;
				try {
					json = JSON.parse(text);
				} catch (err) {
					json = undefined;
				}
				resolve({ status: res.statusCode, headers: res.headers, text, json });
			});
		});
		r.on('error', reject);
		r.end(body);
	});
}

// An open watch: events parsed by line, raw 'data' pieces kept to look at
// the chunking, and how it ended ("end" or "aborted").
function watch(p, o = {}) {
	const w = { events: [], datas: [], status: null, ended: null, buf: '', t0: Date.now() };
	w.started = new Promise((resolveStart) => {
		w.done = new Promise((resolve) => {
			const r = https.request({ ...conn(o), method: 'GET', path: p }, (res) => {
				w.status = res.statusCode;
				w.headers = res.headers;
				resolveStart();
				res.on('data', (d) => {
					const s = d.toString();
					w.datas.push(s);
					w.buf += s;
					let i;
					while ((i = w.buf.indexOf('\n')) >= 0) {
						const line = w.buf.slice(0, i);
						w.buf = w.buf.slice(i + 1);
						if (line.trim())
							w.events.push(JSON.parse(line));
					}
				});
				res.on('error', () => {});
				res.on('close', () => {
					w.ended = res.complete ? 'end' : 'aborted';
					w.t1 = Date.now();
					resolve();
				});
			});
			r.on('error', (err) => {
				w.error = err;
				w.ended = w.ended || 'aborted';
				resolveStart();
				resolve();
			});
			r.end();
			w.req = r;
		});
	});
	w.until = async (pred, ms = 3000) => {
		const end = Date.now() + ms;
		while (Date.now() < end) {
			if (pred(w))
				return true;
			await sleep(10);
		}
		return pred(w);
	};
	w.close = () => w.req.destroy();
	w.types = () => w.events.map((e) => e.type);
	return w;
}

const ctl = (method, p, body) => req(method, `/_test/${p}`, { body });
const config = (knobs) => ctl('POST', 'config', knobs);
const fault = (rule) => ctl('POST', 'faults', rule);
const SVC = '/api/v1/namespaces/default/services';
const HP = '/apis/projectcontour.io/v1/namespaces/default/httpproxies';
const ING = '/apis/networking.k8s.io/v1/namespaces/default/ingresses';
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/projectcontour/leases';
const CM = '/api/v1/namespaces/cm/configmaps';

const svc = (name, labels) => ({ apiVersion: 'v1', kind: 'Service',
	metadata: { name, labels }, spec: { ports: [{ port: 80 }] } });

// --- checks -------------------------------------------------------------

async function testAuth() {
	let r = await req('GET', SVC, { token: '' });
	check('no token: 401 Status Unauthorized', r.status === 401 && r.json && r.json.kind ===
		'Status' && r.json.reason === 'Unauthorized' && r.json.message === 'Unauthorized' &&
		r.json.code === 401, r.json);
	r = await req('GET', SVC, { token: 'nope' });
	check('bad token: 401', r.status === 401, r.status);
	r = await req('GET', SVC, { token: 'tok-one' });
	check('token from --token-file: 200', r.status === 200, r.status);
	r = await req('GET', SVC, { token: '', cert: 'alice' });
	check('client certificate from the CA: 200', r.status === 200, r.status);
	r = await req('GET', SVC, { token: '', cert: 'mallory' });
	check('client certificate from another CA: 401', r.status === 401, r.status);
	r = await req('GET', '/healthz', { token: '' });
	check('/healthz without credentials', r.status === 200 && r.text === 'ok', r);
	r = await req('GET', '/version', { token: '' });
	check('/version', r.status === 200 && r.json.major === '1' && r.json.gitVersion, r.json);
	r = await req('GET', '/_test/stats', { token: 'tok-one' });
	check('control API refuses a normal token (403)', r.status === 403, r.status);
	r = await ctl('GET', 'requests');
	const log = r.json.requests;
	check('request log records the client-certificate user', log.some((e) => e.user ===
		'alice' && e.status === 200), log.slice(-6));
	check('request log records 401s', log.some((e) => e.user === null && e.status === 401));
}

async function testTokenRotation() {
	await config({ tokenGraceSeconds: 1 });
	fs.writeFileSync(path.join(dir, 'tokens'), 'tok-two,contour\n');
	let r = await req('GET', SVC, { token: 'tok-two' });
	check('rotation: the new token works at once', r.status === 200, r.status);
	r = await req('GET', SVC, { token: 'tok-one' });
	check('rotation: the old token works during the grace period', r.status === 200, r.status);
	await sleep(1100);
	r = await req('GET', SVC, { token: 'tok-one' });
	check('rotation: the old token is refused after the grace period', r.status === 401,
		r.status);
	r = await ctl('GET', 'requests');
	check('token user name from the file', r.json.requests.some((e) => e.user === 'contour'));
}

async function testListWatchCrud() {
	let r = await req('GET', '/api/v1/services');
	const listRV = r.json.metadata.resourceVersion;
	check('list: kind ServiceList, apiVersion v1', r.json.kind === 'ServiceList' &&
		r.json.apiVersion === 'v1' && typeof listRV === 'string');
	check('list: built-in items without kind/apiVersion', r.json.items.length >= 1 &&
		r.json.items.every((i) => i.kind === undefined && i.apiVersion === undefined),
	r.json.items[0]);
	r = await req('GET', '/apis/projectcontour.io/v1/httpproxies');
	check('list: CRD items carry kind/apiVersion', r.json.items.length >= 1 &&
		r.json.items.every((i) => i.kind === 'HTTPProxy' &&
			i.apiVersion === 'projectcontour.io/v1'), r.json.items[0]);
	r = await req('GET', LEASE);
	check('empty list: "items":[]', r.text.includes('"items":[]') && r.json.kind ===
		'LeaseList', r.text);
	r = await req('GET', '/api/v1/namespaces/x/namespaces/y');
	check('cluster-scoped resource under a namespace: 404', r.status === 404, r.status);
	r = await req('GET', '/apis/nothere.io/v1/things');
	check('unknown path: 404 Status', r.status === 404 && r.json.kind === 'Status', r.json);

	const w = watch(`/api/v1/services?watch=true&resourceVersion=${listRV}`);
	await w.started;
	check('watch: 200 application/json, chunked', w.status === 200 &&
		w.headers['content-type'] === 'application/json' &&
		w.headers['transfer-encoding'] === 'chunked', w.headers);
	r = await req('POST', SVC, { body: svc('crud', { app: 'x' }) });
	check('create: 201 with uid, creationTimestamp, generation 1', r.status === 201 &&
		r.json.metadata.uid && /Z$/.test(r.json.metadata.creationTimestamp) &&
		r.json.metadata.generation === 1, r.json);
	const created = r.json;
	r = await req('POST', SVC, { body: svc('crud') });
	check('create again: 409 AlreadyExists', r.status === 409 && r.json.reason ===
		'AlreadyExists' && r.json.message === 'services "crud" already exists', r.json);
	r = await req('POST', SVC, { body: { ...svc('crud2'), metadata: { name: 'crud2',
		namespace: 'other' } } });
	check('create with another namespace in the body: 400', r.status === 400, r.status);
	const upd = { ...created, spec: { ports: [{ port: 81 }] } };
	r = await req('PUT', `${SVC}/crud`, { body: upd });
	check('update: 200, new RV, generation 2', r.status === 200 &&
		r.json.metadata.resourceVersion !== created.metadata.resourceVersion &&
		r.json.metadata.generation === 2, r.json);
	const updated = r.json;
	r = await req('DELETE', `${SVC}/crud`);
	check('delete: 200 with a new RV', r.status === 200 && r.json.metadata.resourceVersion !==
		updated.metadata.resourceVersion, r.json);
	const delRV = r.json.metadata.resourceVersion;
	await w.until((x) => x.events.length >= 3);
	check('watch sees ADDED, MODIFIED, DELETED in order', JSON.stringify(w.types()) ===
		'["ADDED","MODIFIED","DELETED"]', w.types());
	check('watch events carry kind and apiVersion', w.events.every((e) => e.object.kind ===
		'Service' && e.object.apiVersion === 'v1'));
	check('DELETED carries the deletion RV', w.events[2] &&
		w.events[2].object.metadata.resourceVersion === delRV, w.events[2]);
	check('MODIFIED carries the update RV', w.events[1] &&
		w.events[1].object.metadata.resourceVersion === updated.metadata.resourceVersion);
	r = await req('GET', `${SVC}/crud`);
	check('get after delete: 404 NotFound with the upstream message', r.status === 404 &&
		r.json.message === 'services "crud" not found' && r.json.details.kind === 'services',
	r.json);
	w.close();
}

async function testUpdateRules() {
	let r = await req('POST', HP, { body: { apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy',
		metadata: { name: 'web' }, spec: { virtualhost: { fqdn: 'a.example.com' } },
		status: { currentStatus: 'ignored' } } });
	check('create a CR: status dropped', r.status === 201 && r.json.status === undefined, r.json);
	const hp = r.json;
	const w = watch(`/apis/projectcontour.io/v1/httpproxies?watch=1&resourceVersion=${
		hp.metadata.resourceVersion}`);
	await w.started;
	r = await req('PUT', `${HP}/web`, { body: { ...hp, metadata: { ...hp.metadata,
		resourceVersion: undefined } } });
	check('CR PUT without RV: 422 with the upstream message', r.status === 422 &&
		r.json.reason === 'Invalid' && r.json.message.includes('metadata.resourceVersion: ' +
		'Invalid value: 0x0: must be specified for an update'), r.json);
	r = await req('PUT', `${HP}/web/status`, { body: { ...hp, spec: { changed: true },
		status: { currentStatus: 'valid' } } });
	check('/status PUT: 200, status set, spec kept, generation kept', r.status === 200 &&
		r.json.status.currentStatus === 'valid' && r.json.spec.virtualhost &&
		!r.json.spec.changed && r.json.metadata.generation === 1, r.json);
	const afterStatus = r.json;
	r = await req('PUT', `${HP}/web/status`, { body: { ...hp, status: { currentStatus: 'x' } } });
	const want = 'Operation cannot be fulfilled on httpproxies.projectcontour.io "web": the ' +
		'object has been modified; please apply your changes to the latest version and try again';
	check('stale /status PUT: 409 Conflict with the exact message', r.status === 409 &&
		r.json.reason === 'Conflict' && r.json.message === want && r.json.details.kind ===
		'httpproxies' && r.json.details.group === 'projectcontour.io', r.json);
	r = await req('GET', `${HP}/web`);
	r = await req('PUT', `${HP}/web/status`, { body: { ...r.json, status: { currentStatus:
		'invalid' } } });
	check('re-GET then /status PUT succeeds', r.status === 200 &&
		r.json.status.currentStatus === 'invalid', r.json);
	r = await req('PUT', `${HP}/web`, { body: { ...r.json, status: { currentStatus: 'nope' },
		metadata: { ...r.json.metadata, labels: { a: 'b' } } } });
	check('main PUT keeps status; metadata-only change keeps generation', r.status === 200 &&
		r.json.status.currentStatus === 'invalid' && r.json.metadata.labels.a === 'b' &&
		r.json.metadata.generation === 1, r.json);
	r = await req('PUT', `${HP}/web`, { body: { ...r.json, spec: { virtualhost: { fqdn:
		'b.example.com' } } } });
	check('spec change bumps generation', r.status === 200 && r.json.metadata.generation === 2,
		r.json);
	r = await req('PATCH', `${HP}/web`, { contentType: 'application/merge-patch+json',
		body: { metadata: { annotations: { x: 'y' } }, spec: { routes: [] } } });
	check('merge-patch applies and bumps generation', r.status === 200 &&
		r.json.metadata.annotations.x === 'y' && r.json.spec.virtualhost.fqdn ===
		'b.example.com' && r.json.metadata.generation === 3, r.json);
	r = await req('PATCH', `${HP}/web`, { contentType: 'application/merge-patch+json',
		body: { metadata: { resourceVersion: afterStatus.metadata.resourceVersion } } });
	check('merge-patch with a stale RV: 409', r.status === 409, r.status);
	r = await req('PATCH', `${HP}/web`, { contentType: 'application/strategic-merge-patch+json',
		body: {} });
	check('other patch types: 415', r.status === 415, r.status);
	await w.until((x) => x.events.length >= 5);
	check('/status writes produce MODIFIED events', w.events.length >= 5 &&
		w.types().every((t) => t === 'MODIFIED'), w.types());
	w.close();

	r = await req('POST', ING, { body: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
		metadata: { name: 'ing' }, spec: { rules: [] } } });
	r = await req('PUT', `${ING}/ing`, { body: { ...r.json, metadata: { name: 'ing' },
		spec: { rules: [{ host: 'h' }] } } });
	check('Ingress PUT without RV is accepted', r.status === 200 &&
		r.json.spec.rules[0].host === 'h', r.json);
}

async function testLease() {
	const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
		metadata: { name: 'leader-elect' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15,
			leaseTransitions: 0 } };
	let r = await req('GET', `${LEASE}/leader-elect`);
	check('lease: 404 before create', r.status === 404 && r.json.message ===
		'leases.coordination.k8s.io "leader-elect" not found', r.json);
	r = await req('POST', LEASE, { body: lease });
	check('lease: create 201', r.status === 201, r.status);
	const l1 = r.json;
	r = await req('POST', LEASE, { body: lease });
	check('lease: racing create 409 AlreadyExists', r.status === 409 && r.json.reason ===
		'AlreadyExists', r.json);
	r = await req('PUT', `${LEASE}/leader-elect`, { body: { ...l1, spec: { ...l1.spec,
		renewTime: '2026-01-01T00:00:00.000000Z' } } });
	check('lease: renew with RV 200', r.status === 200, r.status);
	const l2 = r.json;
	r = await req('PUT', `${LEASE}/leader-elect`, { body: { ...l1, spec: { ...l1.spec,
		holderIdentity: 'b' } } });
	check('lease: takeover with a stale RV 409', r.status === 409 && r.json.reason === 'Conflict',
		r.json);
	r = await req('PUT', `${LEASE}/leader-elect`, { body: { ...l2, metadata: { name:
		'leader-elect' } } });
	check('lease: PUT without RV 422', r.status === 422, r.status);
	await fault({ path: 'leases/leader-elect$', verb: 'update', action: 'conflict' });
	r = await req('PUT', `${LEASE}/leader-elect`, { body: l2 });
	check('lease: forced 409 fault', r.status === 409 && r.json.reason === 'Conflict', r.json);
	r = await req('PUT', `${LEASE}/leader-elect`, { body: { ...l2, spec: { ...l2.spec,
		holderIdentity: '', leaseDurationSeconds: 1 } } });
	check('lease: release after the forced 409', r.status === 200 &&
		r.json.spec.holderIdentity === '' && r.json.spec.leaseTransitions === 0, r.json);
}

async function testRestartAndExpiry() {
	let r = await req('GET', '/api/v1/services');
	const t0 = Date.now();
	const w = watch(`/api/v1/services?watch=1&timeoutSeconds=1&resourceVersion=${
		r.json.metadata.resourceVersion}`);
	await req('POST', SVC, { body: svc('r1') });
	await w.done;
	const dt = Date.now() - t0;
	check('timeoutSeconds=1: a clean end after about 1 s', w.ended === 'end' && dt >= 900 &&
		dt < 2000, { ended: w.ended, dt });
	check('no ERROR event at the deadline', w.types().join() === 'ADDED', w.types());
	const last = w.events[w.events.length - 1].object.metadata.resourceVersion;
	await req('DELETE', `${SVC}/r1`);
	await req('POST', SVC, { body: svc('r2') });
	const w2 = watch(`/api/v1/services?watch=1&resourceVersion=${last}`);
	await w2.until((x) => x.events.length >= 2);
	await sleep(50);
	check('restart from the last RV replays exactly the gap', w2.types().join() ===
		'DELETED,ADDED' && w2.events[0].object.metadata.name === 'r1' &&
		w2.events[1].object.metadata.name === 'r2', w2.types());
	w2.close();

	await ctl('POST', 'compact');
	await req('POST', SVC, { body: svc('r3') });
	const w3 = watch(`/api/v1/services?watch=1&resourceVersion=${last}`);
	await w3.done;
	const e = w3.events[0];
	check('too old RV: 200 then one ERROR event with Status 410 Expired, then the end',
		w3.status === 200 && w3.events.length === 1 && e.type === 'ERROR' &&
		e.object.kind === 'Status' && e.object.code === 410 && e.object.reason === 'Expired' &&
		/^too old resource version: /.test(e.object.message) && w3.ended === 'end', w3.events);
	await config({ tooOld: 'http' });
	r = await req('GET', `/api/v1/services?watch=1&resourceVersion=${last}`);
	check('too old RV with tooOld=http: HTTP 410 Status', r.status === 410 &&
		r.json.reason === 'Expired' && r.json.code === 410, r.json);
	await config({ tooOld: 'event' });
	r = await req('GET', '/api/v1/services?watch=1&resourceVersion=999999999');
	check('RV from the future: 504 ResourceVersionTooLarge', r.status === 504 &&
		r.json.details.causes[0].reason === 'ResourceVersionTooLarge', r.json);
	r = await req('GET', '/api/v1/services?watch=1&resourceVersion=bogus');
	check('unparsable RV: 400', r.status === 400, r.status);
}

async function testPagination() {
	for (let i = 0; i < 7; i++)
		await req('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap',
			metadata: { name: `cm-${i}` }, data: { i: String(i) } } });
	let r = await req('GET', `${CM}?limit=3&resourceVersion=0`);
	const rv = r.json.metadata.resourceVersion;
	check('page 1: 3 items, continue, remainingItemCount 4', r.json.items.length === 3 &&
		r.json.metadata.continue && r.json.metadata.remainingItemCount === 4, r.json.metadata);
	check('page 1 in key order', r.json.items.map((i) => i.metadata.name).join() ===
		'cm-0,cm-1,cm-2');
	// A change between pages must not show: the pages are a snapshot.
	const cm4 = (await req('GET', `${CM}/cm-4`)).json;
	await req('PUT', `${CM}/cm-4`, { body: { ...cm4, data: { i: 'changed' } } });
	let c = r.json.metadata.continue;
	r = await req('GET', `${CM}?limit=3&resourceVersion=5&continue=${encodeURIComponent(c)}`);
	check('continue with a resourceVersion: 400', r.status === 400, r.status);
	r = await req('GET', `${CM}?limit=3&continue=${encodeURIComponent(c)}`);
	check('page 2: same list RV, snapshot content', r.json.metadata.resourceVersion === rv &&
		r.json.items.length === 3 && r.json.items[1].data.i === '4', r.json);
	c = r.json.metadata.continue;
	r = await req('GET', `${CM}?limit=3&continue=${encodeURIComponent(c)}`);
	check('last page: no continue, no remainingItemCount', r.json.items.length === 1 &&
		!r.json.metadata.continue && r.json.metadata.remainingItemCount === undefined &&
		r.json.metadata.resourceVersion === rv, r.json.metadata);

	await config({ emptyPage: true });
	r = await req('GET', `${CM}?limit=3`);
	check('emptyPage knob: a page of 0 items with a continue', r.json.items.length === 0 &&
		r.json.metadata.continue, r.json);
	r = await req('GET', `${CM}?limit=3&continue=${encodeURIComponent(r.json.metadata.continue)}`);
	check('emptyPage knob: the next page has the items', r.json.items.length === 3, r.json);
	await config({ emptyPage: false });

	r = await req('GET', `${CM}?limit=3`);
	c = r.json.metadata.continue;
	await ctl('POST', 'compact');
	r = await req('GET', `${CM}?limit=3&continue=${encodeURIComponent(c)}`);
	check('expired continue: 410 Expired with an inconsistent-continue token', r.status === 410 &&
		r.json.reason === 'Expired' && r.json.metadata.continue, r.json);
	r = await req('GET', `${CM}?limit=3&continue=${encodeURIComponent(r.json.metadata.continue)}`);
	check('the inconsistent token continues after the last key', r.status === 200 &&
		r.json.items[0].metadata.name === 'cm-3', r.json);
	await config({ continueTTL: 0.2 });
	r = await req('GET', `${CM}?limit=2`);
	await sleep(300);
	r = await req('GET', `${CM}?limit=2&continue=${encodeURIComponent(r.json.metadata.continue)}`);
	check('continue token older than continueTTL: 410', r.status === 410, r.status);
	await config({ continueTTL: 300 });

	r = await req('GET', `${CM}?labelSelector=${encodeURIComponent('nope in (a,b)')}`);
	check('labelSelector filters', r.status === 200 && r.json.items.length === 0, r.json);
	r = await req('GET', `/api/v1/configmaps?fieldSelector=${encodeURIComponent(
		'metadata.name=cm-5,metadata.namespace=cm')}`);
	check('fieldSelector metadata.name/namespace', r.json.items.length === 1 &&
		r.json.items[0].metadata.name === 'cm-5', r.json);
	r = await req('GET', `${CM}?fieldSelector=spec.x%3D1`);
	check('unknown field selector: 400', r.status === 400, r.status);
	r = await req('GET', `${CM}?fieldSelector=type%3Dx`);
	check('type is no ConfigMap field: 400 field label not supported', r.status === 400 &&
		/field label not supported: type/.test(r.json.message), r.json);
	const SEC = '/api/v1/namespaces/fs/secrets';
	for (const [name, type] of [['helm', 'helm.sh/release.v1'], ['tls', 'kubernetes.io/tls'],
		['sa', 'kubernetes.io/service-account-token']]) {
		r = await req('POST', SEC, { body: { apiVersion: 'v1', kind: 'Secret',
			metadata: { name, namespace: 'fs' }, type, data: { x: 'eA==' } } });
		check(`create ${type} Secret`, r.status === 201, r.json);
	}
	const sel = encodeURIComponent('type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token');
	r = await req('GET', `${SEC}?fieldSelector=${sel}`);
	check('Secrets by type (upstream Contour\'s selector)', r.status === 200 &&
		r.json.items.map((i) => i.metadata.name).join() === 'tls', r.json);
}

async function testBookmarksAndSelectors() {
	await config({ bookmarkSeconds: 0.3 });
	let r = await req('GET', SVC);
	const w = watch(`/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=${
		r.json.metadata.resourceVersion}`);
	const plain = watch(`/api/v1/services?watch=1&resourceVersion=${
		r.json.metadata.resourceVersion}`);
	await w.until((x) => x.events.some((e) => e.type === 'BOOKMARK'));
	const b = w.events.find((e) => e.type === 'BOOKMARK');
	check('bookmark: kind, apiVersion and only metadata.resourceVersion', b &&
		b.object.kind === 'Service' && b.object.apiVersion === 'v1' &&
		JSON.stringify(Object.keys(b.object.metadata)) === '["resourceVersion"]', b);
	check('no bookmarks without allowWatchBookmarks', plain.events.length === 0, plain.events);
	w.close();
	plain.close();
	await config({ bookmarkSeconds: 0 });
	const w2 = watch('/api/v1/services?watch=1&allowWatchBookmarks=true&timeoutSeconds=3&' +
		`resourceVersion=${r.json.metadata.resourceVersion}`);
	await w2.until((x) => x.events.length > 0, 2500);
	const t = Date.now() - w2.t0;
	check('a bookmark 2 s before the deadline', w2.types().join() === 'BOOKMARK' && t > 800 &&
		t < 1800, { types: w2.types(), t });
	const bmRV = w2.events[0] && w2.events[0].object.metadata.resourceVersion;
	w2.close();
	const before = (await ctl('GET', 'requests')).json.requests.slice(-1)[0].seq;
	const w3 = watch(`/api/v1/services?watch=1&resourceVersion=${bmRV}`);
	await w3.started;
	w3.close();
	const log = (await ctl('GET', `requests?since=${before}`)).json.requests;
	check('request log shows the watch resourceVersion a client sent', log.some((e) =>
		e.query.watch === '1' && e.query.resourceVersion === bmRV), log);

	// Selector transitions: leaving the selector is DELETED, re-entering ADDED.
	r = await req('POST', SVC, { body: svc('sel', { app: 'x' }) });
	const ws = watch(`/api/v1/services?watch=1&labelSelector=app%3Dx&resourceVersion=${
		r.json.metadata.resourceVersion}`);
	await ws.started;
	let o = (await req('PUT', `${SVC}/sel`, { body: { ...r.json, metadata: { ...r.json.metadata,
		labels: { app: 'y' } } } })).json;
	o = (await req('PUT', `${SVC}/sel`, { body: { ...o, metadata: { ...o.metadata,
		labels: { app: 'x' } } } })).json;
	await ws.until((x) => x.events.length >= 2);
	check('selector transitions: DELETED then ADDED', ws.types().join() === 'DELETED,ADDED' &&
		ws.events[0].object.metadata.labels.app === 'x', ws.events);
	ws.close();
}

async function testWatchList() {
	let r = await req('GET', CM);
	const n = r.json.items.length;
	const w = watch(`${CM}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&` +
		'resourceVersionMatch=NotOlderThan');
	await w.until((x) => x.events.some((e) => e.type === 'BOOKMARK'));
	const types = w.types();
	const last = w.events[n];
	check('watch-list: ADDED for each object in key order, then the initial-events-end bookmark',
		types.slice(0, n).every((t) => t === 'ADDED') && last && last.type === 'BOOKMARK' &&
		last.object.metadata.annotations['k8s.io/initial-events-end'] === 'true' &&
		w.events.slice(0, n).map((e) => e.object.metadata.name).join() ===
		r.json.items.map((i) => i.metadata.name).join(), types);
	w.close();
	r = await req('GET', `${CM}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true`);
	check('watch-list without resourceVersionMatch: 422', r.status === 422 &&
		r.json.reason === 'Invalid', r.json);
	await config({ watchList: false });
	r = await req('GET', `${CM}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&` +
		'resourceVersionMatch=NotOlderThan');
	check('watch-list disabled: 422', r.status === 422, r.status);
	await config({ watchList: true });
	r = await req('GET', `${CM}?sendInitialEvents=true`);
	check('sendInitialEvents on a list: 422', r.status === 422, r.status);
}

async function testChunking() {
	let r = await req('GET', CM);
	const from = r.json.metadata.resourceVersion;
	await config({ chunking: 'split', splitParts: 3, splitDelayMs: 30 });
	const w = watch(`${CM}?watch=1&resourceVersion=${from}`);
	await w.started;
	await req('DELETE', `${CM}/cm-0`);
	await w.until((x) => x.events.length >= 1);
	const parsable = w.datas.filter((d) => {
		try {
			JSON.parse(d);
			return true;
		} catch (err) {
			return false;
		}
	});
	check('split: one event arrives in several pieces, none a whole event',
		w.events.length === 1 && w.datas.length >= 3 && parsable.length === 0, w.datas);
	w.close();
	await config({ chunking: 'coalesce', coalesceMs: 100 });
	r = await req('GET', CM);
	const w2 = watch(`${CM}?watch=1&resourceVersion=${r.json.metadata.resourceVersion}`);
	await w2.started;
	await Promise.all([1, 2, 3].map((i) => req('DELETE', `${CM}/cm-${i}`)));
	await w2.until((x) => x.events.length >= 3);
	check('coalesce: three events in one piece', w2.events.length === 3 && w2.datas.length === 1 &&
		w2.datas[0].split('\n').length === 4, w2.datas.map((d) => d.length));
	w2.close();
	await config({ chunking: 'natural' });
}

async function testFaults() {
	await fault({ path: '^/api/v1/services$', verb: 'list', action: 'status', code: 429,
		retryAfter: 2, plainText: true });
	let r = await req('GET', '/api/v1/services');
	check('429 as APF: plain text and Retry-After', r.status === 429 &&
		r.headers['retry-after'] === '2' && /^text\/plain/.test(r.headers['content-type']) &&
		r.text === 'Too many requests, please try again later.\n', r);
	r = await req('GET', '/api/v1/services');
	check('the fault counts down: next list is 200', r.status === 200, r.status);
	await fault({ path: '^/api/v1/services$', verb: 'watch', action: 'status', code: 429,
		retryAfter: 1, plainText: true });
	r = await req('GET', '/api/v1/services?watch=1');
	check('429 on watch start', r.status === 429 && r.headers['retry-after'] === '1', r.status);
	await fault({ path: 'services', action: 'status', code: 500, retryAfter: 3 });
	r = await req('GET', '/api/v1/services');
	check('500 Status InternalError with Retry-After', r.status === 500 && r.json.reason ===
		'InternalError' && r.headers['retry-after'] === '3' &&
		r.json.details.retryAfterSeconds === 3, r.json);
	await fault({ path: 'services', action: 'status', code: 500 });
	r = await req('GET', '/api/v1/services');
	check('500 without Retry-After', r.status === 500 && r.headers['retry-after'] === undefined &&
		r.json.code === 500, r);
	await fault({ path: 'services', action: 'status', code: 503, count: 2 });
	const a = await req('GET', '/api/v1/services');
	const b = await req('GET', '/api/v1/services');
	const c = await req('GET', '/api/v1/services');
	check('count: 2 -> two 503s then 200', a.status === 503 && b.status === 503 &&
		a.json.reason === 'ServiceUnavailable' && c.status === 200, [a.status, b.status, c.status]);
	await fault({ path: 'services', verb: 'list', action: 'delay', ms: 300 });
	let t = Date.now();
	r = await req('GET', '/api/v1/services');
	check('delay 300 ms', r.status === 200 && Date.now() - t >= 290, Date.now() - t);

	r = await req('GET', CM);
	await fault({ path: 'configmaps', verb: 'watch', action: 'drop', afterEvents: 1, mode: 'rst' });
	const w = watch(`${CM}?watch=1&resourceVersion=${r.json.metadata.resourceVersion}`);
	await w.started;
	await req('DELETE', `${CM}/cm-4`);
	await req('DELETE', `${CM}/cm-5`);
	await w.done;
	check('drop after 1 event with RST: one event then an aborted stream', w.events.length === 1 &&
		w.ended === 'aborted', { n: w.events.length, ended: w.ended });
	await fault({ path: 'configmaps', verb: 'watch', action: 'closeEmpty' });
	t = Date.now();
	const w2 = watch(`${CM}?watch=1`);
	await w2.done;
	check('closeEmpty: 200, no events, clean end at once', w2.status === 200 &&
		w2.events.length === 0 && w2.ended === 'end' && Date.now() - t < 1000, w2.ended);
	await fault({ path: 'configmaps', verb: 'watch', action: 'stall' });
	const w3 = watch(`${CM}?watch=1&timeoutSeconds=1`);
	await w3.started;
	await sleep(1300);
	check('stall: nothing sent, the deadline ignored', w3.events.length === 0 && !w3.ended,
		w3.ended);
	let s = await ctl('GET', 'stats');
	check('stats: open watches counted', s.json.openWatches >= 1 &&
		s.json.watchesByResource.configmaps >= 1, s.json);
	r = await ctl('POST', 'dropWatches', { mode: 'clean' });
	await w3.done;
	check('dropWatches clean ends a stalled watch', r.json.dropped >= 1 && w3.ended === 'end',
		w3.ended);
	const w4 = watch(`${CM}?watch=1`);
	await w4.started;
	await ctl('POST', 'dropWatches', { mode: 'rst' });
	await w4.done;
	check('dropWatches rst aborts', w4.ended === 'aborted', w4.ended);
	s = await ctl('GET', 'stats');
	check('stats: no open watches after the drops', s.json.openWatches === 0, s.json.openWatches);
	await fault({ path: 'configmaps', verb: 'list', action: 'status', code: 410 });
	r = await req('GET', CM);
	check('410 fault on a list: Status Expired', r.status === 410 && r.json.reason === 'Expired',
		r.json);
	r = await ctl('GET', 'faults');
	check('fault list shows hits', r.json.faults.every((f) => f.hits >= 1), r.json.faults);
}

async function testPrefixAndHttp2() {
	const { child, port } = await startServer(['--rv-prefix', 'rv-', '--http2']);
	let r = await req('GET', '/api/v1/services', { port });
	check('rvPrefix: list RV rendered "rv-N"', /^rv-\d+$/.test(r.json.metadata.resourceVersion),
		r.json.metadata);
	const w = watch(`/api/v1/services?watch=1&resourceVersion=${r.json.metadata.resourceVersion}`,
		{ port });
	await w.started;
	r = await req('POST', SVC, { port, body: svc('p') });
	const p = r.json;
	r = await req('PUT', `${SVC}/p`, { port, body: { ...p, spec: { x: 1 } } });
	check('rvPrefix: PUT with an "rv-N" RV works', r.status === 200 &&
		/^rv-\d+$/.test(r.json.metadata.resourceVersion), r.json);
	await w.until((x) => x.events.length >= 2);
	check('rvPrefix: watch from an "rv-N" RV', w.types().join() === 'ADDED,MODIFIED', w.types());
	w.close();
	// HTTP/2 through ALPN.
	const s = http2.connect(`https://127.0.0.1:${port}`, { ca: rd('ca.crt'),
		servername: 'localhost' });
	const body = await new Promise((resolve, reject) => {
		const st = s.request({ ':path': '/api/v1/services?watch=1&timeoutSeconds=1',
			authorization: `Bearer ${ADMIN}` });
		let d = '';
		let status;
		st.on('response', (h) => {
			status = h[':status'];
		});
		st.on('data', (x) => {
			d += x;
		});
		st.on('end', () => resolve({ status, d }));
		st.on('error', reject);
		st.end();
	});
	s.close();
	check('HTTP/2: a watch streams the ADDED event and ends at the deadline', body.status === 200 &&
		body.d.split('\n').filter(Boolean).map((l) => JSON.parse(l).type).join() ===
		'ADDED', body);
	child.kill('SIGTERM');
	const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
	check('SIGTERM: clean exit 0', code === 0, code);
}

// --- validating admission webhooks (admission.js) -------------------------

// A webhook server over HTTPS: the path picks the answer; every review it
// gets is kept in calls ({path, query, review}).
function startWebhook(cert) {
	const calls = [];
	const srv = https.createServer({ cert: rd(`${cert}.crt`), key: rd(`${cert}.key`) },
		(rq, rs) => {
			const parts = [];
			rq.on('data', (d) => parts.push(d));
			rq.on('end', async () => {
				const u = new URL(rq.url, 'https://x');
				const review = JSON.parse(Buffer.concat(parts).toString());
				calls.push({ path: u.pathname, query: Object.fromEntries(u.searchParams),
					review, headers: rq.headers });
				const uid = review.request.uid;
				let resp = { uid, allowed: true };
				let out = null;
				switch (u.pathname) {
				case '/deny':
					resp = { uid, allowed: false, warnings: ['w1', 'w1', 'w2'],
						status: { code: 403, message: 'no way', reason: 'Forbidden',
							details: { causes: [{ field: 'spec.x', message: 'bad' }] } } };
					break;
				case '/deny-bare':
					resp = { uid, allowed: false, status: { code: 200 } };
					break;
				case '/warn':
					resp = { uid, allowed: true, warnings: ['careful "x"'] };
					break;
				case '/baduid':
					resp = { uid: 'wrong', allowed: true };
					break;
				case '/badkind':
					out = { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview',
						response: resp };
					break;
				case '/absent':
					out = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' };
					break;
				case '/patch':
					resp = { uid, allowed: true, patch: 'W10=', patchType: 'JSONPatch' };
					break;
				case '/500':
					rs.writeHead(500, { 'Content-Type': 'text/plain' });
					rs.end('boom');
					return;
				case '/slow':
					await sleep(2500);
					break;
				case '/manywarn':
					resp = { uid, allowed: true, warnings: Array.from({ length: 20 }, (_, i) =>
						`${String(i).padStart(2, '0')}${'x'.repeat(298)}`) };
					break;
				case '/slow700':
					await sleep(700);
					break;
				default:
				}
				const body = JSON.stringify(out || { apiVersion: 'admission.k8s.io/v1',
					kind: 'AdmissionReview', response: resp });
				rs.writeHead(200, { 'Content-Type': 'application/json' });
				rs.end(body);
			});
		});
	return new Promise((resolve) => srv.listen(0, '127.0.0.1', () =>
		resolve({ srv, port: srv.address().port, calls })));
}

const CM2 = (ns) => `/api/v1/namespaces/${ns}/configmaps`;
const VWCS = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const cmObj = (name, labels) => ({ apiVersion: 'v1', kind: 'ConfigMap',
	metadata: { name, labels }, data: { a: '1' } });

async function testWebhooks() {
	const hook = await startWebhook('hook');
	const other = await startWebhook('nosan');
	const ca = rd('ca.crt').toString('base64');
	const badCA = rd('otherca.crt').toString('base64');
	const url = (p, port = hook.port) => `https://127.0.0.1:${port}${p}`;
	// a port nothing listens on
	const refusedPort = await new Promise((resolve) => {
		const t = https.createServer().listen(0, '127.0.0.1', () => {
			const p = t.address().port;
			t.close(() => resolve(p));
		});
	});
	// one webhook per case, kept apart by an objectSelector on label "case"
	const wh = (name, p, c, extra = {}) => ({ name, admissionReviewVersions: ['v1'],
		sideEffects: 'None', clientConfig: { url: url(p), caBundle: ca },
		rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'],
			resources: ['configmaps'] }],
		objectSelector: { matchLabels: { case: c } }, ...extra });
	// sideEffects Some cannot be created through v1: it comes from the seed,
	// as a configuration stored long ago through v1beta1 would.
	const seeded = { apiVersion: 'admissionregistration.k8s.io/v1',
		kind: 'ValidatingWebhookConfiguration', metadata: { name: 'seeded' },
		webhooks: [wh('some.test', '/allow', 'some', { sideEffects: 'Some' })] };
	fs.writeFileSync(path.join(dir, 'vwc.ndjson'), JSON.stringify(seeded) + '\n');
	const { child, port } = await startServer(['--seed', path.join(dir, 'vwc.ndjson')],
		{ K8SAPI_WEBHOOK_HOSTS: `hook.webhooks.svc=127.0.0.1:${hook.port}` });
	const o = (x = {}) => ({ port, ...x });
	const post = (p, body, q = '') => req('POST', p + q, o({ body }));
	const last = () => hook.calls[hook.calls.length - 1];
	const ns = 'wh';
	const hooks = [
		wh('allow.test', '/allow', 'allow'),
		wh('deny.test', '/deny', 'deny'),
		wh('bare.test', '/deny-bare', 'bare'),
		wh('warn.test', '/warn', 'warn'),
		wh('baduid.test', '/baduid', 'baduid'),
		wh('badkind.test', '/badkind', 'badkind'),
		wh('absent.test', '/absent', 'absent'),
		wh('patch.test', '/patch', 'patch'),
		wh('500.test', '/500', '500'),
		wh('slow-fail.test', '/slow', 'slow-fail', { timeoutSeconds: 1 }),
		wh('slow-ignore.test', '/slow', 'slow-ignore', { timeoutSeconds: 1,
			failurePolicy: 'Ignore' }),
		wh('manywarn.test', '/manywarn', 'manywarn'),
		wh('refused.test', '/allow', 'refused', { clientConfig: { url: url('/allow', refusedPort),
			caBundle: ca } }),
		wh('par-a.test', '/slow700', 'par'), wh('par-b.test', '/slow700', 'par'),
		wh('ns.test', '/deny', 'ns', { namespaceSelector: { matchExpressions: [
			{ key: 'webhooks', operator: 'In', values: ['on'] }] } }),
		wh('svc.test', '', 'svc', { clientConfig: { caBundle: ca, service: {
			namespace: 'webhooks', name: 'hook', path: '/allow' } } }),
		wh('badca.test', '/allow', 'badca', { clientConfig: { url: url('/allow'),
			caBundle: badCA } }),
		wh('nosan.test', '/allow', 'nosan', { clientConfig: { url: url('/allow', other.port),
			caBundle: ca } }),
		wh('delete.test', '/deny', 'del', { rules: [{ operations: ['DELETE'],
			apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }] }),
		wh('status.test', '/deny', 'status', { rules: [{ operations: ['UPDATE'],
			apiGroups: ['projectcontour.io'], apiVersions: ['v1'],
			resources: ['httpproxies'] }] }),
		wh('all.test', '/deny', 'all', { rules: [{ operations: ['*'], apiGroups: ['*'],
			apiVersions: ['*'], resources: ['*/*'] }] }),
	];
	let r = await post(VWCS, { apiVersion: 'admissionregistration.k8s.io/v1',
		kind: 'ValidatingWebhookConfiguration', metadata: { name: 'cases' }, webhooks: hooks });
	check('webhooks: ValidatingWebhookConfiguration created', r.status === 201, r.json);
	r = await post(VWCS, { metadata: { name: 'bad' }, webhooks: [wh('x.test', '/allow', 'x',
		{ sideEffects: 'Some', timeoutSeconds: 31, clientConfig: { url: 'http://h/' } })] });
	check('webhooks: v1 rejects sideEffects Some, timeoutSeconds 31, an http URL (422)',
		r.status === 422 && r.json.reason === 'Invalid' && ['webhooks[0].sideEffects',
			'webhooks[0].timeoutSeconds', 'webhooks[0].clientConfig.url'].every((f) =>
			r.json.details.causes.some((c) => c.field === f)), r.json);
	r = await req('GET', '/apis/admissionregistration.k8s.io/v1', o());
	check('webhooks: discovery lists validatingwebhookconfigurations (cluster-scoped)',
		r.json.resources.some((x) => x.name === 'validatingwebhookconfigurations' &&
			!x.namespaced), r.json);
	await post('/api/v1/namespaces', { metadata: { name: ns } });

	// allowed, and what the review carries
	let n = hook.calls.length;
	r = await post(CM2(ns), cmObj('a1', { case: 'allow' }));
	const c = last();
	const rq = c && c.review.request;
	check('webhooks: allowed create answers 201', r.status === 201 && hook.calls.length === n + 1,
		r.json);
	check('webhooks: review v1 AdmissionReview, CREATE, kind/resource/request*, name, namespace',
		c && c.review.apiVersion === 'admission.k8s.io/v1' && c.review.kind === 'AdmissionReview' &&
		/^[0-9a-f-]{36}$/.test(rq.uid) && rq.operation === 'CREATE' &&
		JSON.stringify(rq.kind) === '{"group":"","version":"v1","kind":"ConfigMap"}' &&
		JSON.stringify(rq.resource) === '{"group":"","version":"v1","resource":"configmaps"}' &&
		JSON.stringify(rq.requestKind) === JSON.stringify(rq.kind) &&
		JSON.stringify(rq.requestResource) === JSON.stringify(rq.resource) &&
		rq.name === 'a1' && rq.namespace === ns, rq);
	check('webhooks: object set, oldObject null, dryRun false, CreateOptions, userInfo',
		rq && rq.object.metadata.name === 'a1' && rq.object.kind === 'ConfigMap' &&
		rq.object.metadata.uid && rq.oldObject === null && rq.dryRun === false &&
		rq.options.kind === 'CreateOptions' && rq.options.apiVersion === 'meta.k8s.io/v1' &&
		rq.userInfo.username === 'admin' && rq.userInfo.groups[0] === 'system:authenticated', rq);
	check('webhooks: POST over HTTP/1.1 with ?timeout=10s', c && c.query.timeout === '10s' &&
		c.path === '/allow', c && c.query);
	n = hook.calls.length;
	r = await post(CM2(ns), cmObj('a2', { case: 'nothing' }));
	check('webhooks: objectSelector not matching: not called', r.status === 201 &&
		hook.calls.length === n, hook.calls.length - n);
	const a1 = (await req('GET', `${CM2(ns)}/a1`, o())).json;
	r = await req('PUT', `${CM2(ns)}/a1`, o({ body: { ...a1, data: { a: '2' } } }));
	check('webhooks: UPDATE carries object and oldObject, UpdateOptions', r.status === 200 &&
		last().review.request.operation === 'UPDATE' &&
		last().review.request.oldObject.data.a === '1' &&
		last().review.request.object.data.a === '2' &&
		last().review.request.options.kind === 'UpdateOptions', last().review.request);
	r = await req('PATCH', `${CM2(ns)}/a1`, o({ body: { metadata: { labels: { case: 'x' } } },
		contentType: 'application/merge-patch+json' }));
	check('webhooks: PATCH is an UPDATE; objectSelector matches the old object', r.status === 200 &&
		last().review.request.operation === 'UPDATE' &&
		last().review.request.object.metadata.labels.case === 'x', last().review.request);

	// denials
	r = await post(CM2(ns), cmObj('d1', { case: 'deny' }));
	check('webhooks: denied: code, Failure, kube wording, reason and details copied',
		r.status === 403 && r.json.kind === 'Status' && r.json.status === 'Failure' &&
		r.json.code === 403 && r.json.reason === 'Forbidden' &&
		r.json.message === 'admission webhook "deny.test" denied the request: no way' &&
		r.json.details.causes[0].field === 'spec.x', r.json);
	check('webhooks: warnings of a denial as Warning headers, deduplicated',
		JSON.stringify(r.headers.warning) === JSON.stringify('299 - "w1", 299 - "w2"'),
		r.headers.warning);
	r = await req('GET', `${CM2(ns)}/d1`, o());
	check('webhooks: a denied object is not stored', r.status === 404, r.status);
	r = await post(CM2(ns), cmObj('d2', { case: 'bare' }));
	check('webhooks: denial with code 200 and no message: 400 "without explanation"',
		r.status === 400 && r.json.code === 400 && r.json.message ===
		'admission webhook "bare.test" denied the request without explanation' &&
		r.json.reason === undefined, r.json);
	r = await post(CM2(ns), cmObj('w1', { case: 'warn' }));
	check('webhooks: allowed with a warning: 201 and Warning: 299 - "<quoted text>"',
		r.status === 201 && r.headers.warning === '299 - "careful \\"x\\""', r.headers.warning);

	// call failures
	r = await post(CM2(ns), cmObj('u1', { case: 'baduid' }));
	const uid = last().review.request.uid;
	check('webhooks: uid mismatch: 500 InternalError, upstream message', r.status === 500 &&
		r.json.reason === 'InternalError' && r.json.message === 'Internal error occurred: ' +
		'failed calling webhook "baduid.test": received invalid webhook response: expected ' +
		`response.uid="${uid}", got "wrong"`, r.json);
	r = await post(CM2(ns), cmObj('k1', { case: 'badkind' }));
	check('webhooks: v1beta1 answer: "expected webhook response of admission.k8s.io/v1, ' +
		'Kind=AdmissionReview, got ..."', r.status === 500 && r.json.message.endsWith(
		'expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ' +
		'admission.k8s.io/v1beta1, Kind=AdmissionReview'), r.json.message);
	r = await post(CM2(ns), cmObj('k2', { case: 'absent' }));
	check('webhooks: no response: "webhook response was absent"', r.status === 500 &&
		r.json.message.endsWith('webhook response was absent'), r.json.message);
	r = await post(CM2(ns), cmObj('k3', { case: 'patch' }));
	check('webhooks: a validating webhook may not return a patch', r.status === 500 &&
		/validating webhook may not return response.patch/.test(r.json.message), r.json.message);
	r = await post(CM2(ns), cmObj('k4', { case: '500' }));
	check('webhooks: HTTP 500 from the webhook is a call failure (Fail: 500)', r.status === 500 &&
		r.json.message.startsWith('Internal error occurred: failed calling webhook "500.test": ' +
			'failed to call webhook: '), r.json.message);
	let t0 = Date.now();
	r = await post(CM2(ns), cmObj('t1', { case: 'slow-fail' }));
	let ms = Date.now() - t0;
	check('webhooks: timeout (1 s) with Fail: 500 "context deadline exceeded" after ~1 s',
		r.status === 500 && r.json.message === 'Internal error occurred: failed calling webhook ' +
		`"slow-fail.test": failed to call webhook: Post "${url('/slow')}?timeout=1s": context ` +
		'deadline exceeded' && ms >= 900 && ms < 2000, { m: r.json.message, ms });
	t0 = Date.now();
	r = await post(CM2(ns), cmObj('t2', { case: 'slow-ignore' }));
	ms = Date.now() - t0;
	check('webhooks: timeout with Ignore: the request proceeds (201)', r.status === 201 &&
		ms < 2000, { s: r.status, ms });
	r = await post(CM2(ns), cmObj('b1', { case: 'badca' }));
	check('webhooks: a serving cert from another CA fails TLS verification', r.status === 500 &&
		r.json.message.endsWith('tls: failed to verify certificate: x509: certificate signed by ' +
			'unknown authority'), r.json.message);
	r = await post(CM2(ns), cmObj('b2', { case: 'nosan' }));
	check('webhooks: a cert without SANs is refused (no Common Name fallback)', r.status === 500 &&
		r.json.message.endsWith('x509: certificate relies on legacy Common Name field, use SANs ' +
			'instead'), r.json.message);

	r = await post(CM2(ns), cmObj('rf', { case: 'refused' }));
	check('webhooks: connection refused with Fail: 500 "connect: connection refused"',
		r.status === 500 && r.json.message === 'Internal error occurred: failed calling webhook ' +
		`"refused.test": failed to call webhook: Post "${url('/allow', refusedPort)}?timeout=10s": ` +
		`dial tcp 127.0.0.1:${refusedPort}: connect: connection refused`, r.json.message);
	r = await post(CM2(ns), cmObj('mw', { case: 'manywarn' }));
	const ws = (r.headers.warning || '').split(/, (?=299 )/);
	check('webhooks: 20 warnings of 300 runes (over 4096 in all): each cut to 256',
		r.status === 201 && ws.length === 16 && ws.every((w) => w.length === 256 + 8) &&
		ws[0].startsWith('299 - "00xx'), { n: ws.length, l: ws.map((w) => w.length) });

	// service reference through K8SAPI_WEBHOOK_HOSTS, cert checked for name.ns.svc
	n = hook.calls.length;
	r = await post(CM2(ns), cmObj('s1', { case: 'svc' }));
	check('webhooks: clientConfig.service via K8SAPI_WEBHOOK_HOSTS, verified as ' +
		'hook.webhooks.svc', r.status === 201 && hook.calls.length === n + 1 &&
		last().headers.host === 'hook.webhooks.svc:443', r.json);

	// parallel
	t0 = Date.now();
	n = hook.calls.length;
	r = await post(CM2(ns), cmObj('p1', { case: 'par' }));
	ms = Date.now() - t0;
	check('webhooks: two matching webhooks run in parallel', r.status === 201 &&
		hook.calls.length === n + 2 && ms < 1300, { ms, calls: hook.calls.length - n });

	// namespaceSelector
	await post('/api/v1/namespaces', { metadata: { name: 'hooked', labels: { webhooks: 'on' } } });
	await post('/api/v1/namespaces', { metadata: { name: 'plain' } });
	n = hook.calls.length;
	r = await post(CM2('plain'), cmObj('n1', { case: 'ns' }));
	check('webhooks: namespaceSelector not matching the namespace: skipped', r.status === 201 &&
		hook.calls.length === n, r.status);
	r = await post(CM2('hooked'), cmObj('n2', { case: 'ns' }));
	check('webhooks: namespaceSelector matching the namespace\'s labels: called', r.status ===
		403 && hook.calls.length === n + 1, r.status);

	// dry run
	n = hook.calls.length;
	r = await post(CM2(ns), cmObj('dry', { case: 'allow' }), '?dryRun=All');
	check('webhooks: dryRun=All: review dryRun true, options.dryRun ["All"], 201',
		r.status === 201 && hook.calls.length === n + 1 && last().review.request.dryRun === true &&
		JSON.stringify(last().review.request.options.dryRun) === '["All"]', r.json);
	r = await req('GET', `${CM2(ns)}/dry`, o());
	check('webhooks: a dry-run create is not stored', r.status === 404, r.status);
	r = await req('DELETE', `${CM2(ns)}/a2?dryRun=All`, o());
	const still = await req('GET', `${CM2(ns)}/a2`, o());
	check('webhooks: a dry-run delete keeps the object', r.status === 200 && still.status === 200,
		still.status);
	n = hook.calls.length;
	r = await post(CM2(ns), cmObj('se1', { case: 'some' }), '?dryRun=All');
	check('webhooks: sideEffects Some + dry run: 400 "does not support dry run", not called',
		r.status === 400 && r.json.reason === 'BadRequest' && r.json.message ===
		'admission webhook "some.test" does not support dry run' && hook.calls.length === n,
		r.json);
	r = await post(CM2(ns), cmObj('se2', { case: 'some' }));
	check('webhooks: sideEffects Some without dry run: called', r.status === 201 &&
		hook.calls.length === n + 1, r.status);

	// DELETE rules
	await post(CM2(ns), cmObj('del', { case: 'del' }));
	r = await req('DELETE', `${CM2(ns)}/del`, o());
	const drq = last().review.request;
	check('webhooks: DELETE rule: denied, review with object null, oldObject, DeleteOptions',
		r.status === 403 && drq.operation === 'DELETE' && drq.object === null &&
		drq.oldObject.metadata.name === 'del' && drq.options.kind === 'DeleteOptions', drq);
	r = await req('GET', `${CM2(ns)}/del`, o());
	check('webhooks: the object survives a denied delete', r.status === 200, r.status);

	// subresources: a rule for httpproxies is not one for httpproxies/status
	const hp = { apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy',
		metadata: { name: 'st', labels: { case: 'status' } }, spec: {} };
	r = await post(`/apis/projectcontour.io/v1/namespaces/${ns}/httpproxies`, hp);
	const hpo = r.json;
	n = hook.calls.length;
	r = await req('PUT', `/apis/projectcontour.io/v1/namespaces/${ns}/httpproxies/st/status`,
		o({ body: { ...hpo, status: { currentStatus: 'valid' } } }));
	check('webhooks: /status writes are not sent to a webhook for httpproxies', r.status === 200 &&
		hook.calls.length === n, { s: r.status, calls: hook.calls.length - n });
	r = await req('PUT', `/apis/projectcontour.io/v1/namespaces/${ns}/httpproxies/st`,
		o({ body: { ...r.json, spec: { x: 1 } } }));
	check('webhooks: ... while the main resource is', r.status === 403 &&
		hook.calls.length === n + 1, r.status);

	// never for the configurations themselves, even with */* rules
	const cfg = (await req('GET', `${VWCS}/cases`, o())).json;
	cfg.metadata.labels = { case: 'all' };
	n = hook.calls.length;
	r = await req('PUT', `${VWCS}/cases`, o({ body: cfg }));
	check('webhooks: a ValidatingWebhookConfiguration is never sent to a webhook',
		r.status === 200 && hook.calls.length === n, r.status);
	r = await req('DELETE', `${VWCS}/cases`, o());
	check('webhooks: deleting the configuration stops the calls', r.status === 200 &&
		(await post(CM2(ns), cmObj('after', { case: 'deny' }))).status === 201, r.status);
	hook.srv.close();
	other.srv.close();
	child.kill('SIGTERM');
}

async function main() {
	const t0 = Date.now();
	pki();
	fs.writeFileSync(path.join(dir, 'tokens'), '# test tokens\ntok-one\n');
	const seed = [svc('seeded-a', { app: 'x' }), svc('seeded-b'),
		{ apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', metadata: { name: 'seeded',
			namespace: 'default' }, spec: {}, status: { currentStatus: 'valid' } }];
	seed[0].metadata.namespace = 'default';
	fs.writeFileSync(path.join(dir, 'seed.ndjson'), seed.map((o) => JSON.stringify(o))
		.join('\n') + '\n');
	const srv = await startServer(['--seed', path.join(dir, 'seed.ndjson')]);
	PORT = srv.port;
	const r = await req('GET', '/api/v1/namespaces/default/services/seeded-a');
	check('seeded object served with server metadata', r.status === 200 &&
		r.json.metadata.uid && r.json.metadata.resourceVersion === '1', r.json);
	for (const t of [testAuth, testTokenRotation, testListWatchCrud, testUpdateRules, testLease,
		testRestartAndExpiry, testPagination, testBookmarksAndSelectors, testWatchList,
		testChunking, testFaults, testPrefixAndHttp2, testWebhooks]) {
		try {
			await t();
		} catch (err) {
			failed++;
			console.log(`FAIL: ${t.name} threw: ${err.stack}`);
		}
	}
	console.log(`${passed} passed, ${failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	process.exit(failed ? 1 : 0);
}

main().catch((err) => {
	console.log(`FAIL: ${err.stack}`);
	process.exit(1);
});

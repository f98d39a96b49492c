#!/usr/bin/env node
'use strict';
// apiserver.js: a test Kubernetes API server that behaves like
// kube-apiserver on the wire (tests/k8sapi/README.md; the specification is
// k8s-wire.md section 7). Node core modules only.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const http2 = require('http2');
const { RESOURCES, BY_PATH, Store, ApiError, statusBody, invalid, badRequest, notFound } =
	require('./store');
const { Watcher } = require('./watch');
const { Admission, Warnings, validateConfig, VWC } = require('./admission');

// Live knobs: set by --kebab-case flags at start, POST /_test/config later.
const DEFAULTS = {
	rvPrefix: '', // "rv-" renders RVs as "rv-N"
	historySize: 10000, // events kept for watch replay
	historySeconds: 0, // and at most this old (0: no age limit)
	continueTTL: 300, // seconds a continue token stays valid
	emptyPage: false, // paged lists start with a page of 0 items and a continue
	tooOld: 'event', // watch from a compacted RV: "event" (200 + ERROR) or "http" (410)
	bookmarkSeconds: 60, // bookmark interval when allowWatchBookmarks (0: only before the deadline)
	noBookmarks: false, // never send bookmarks
	minRequestTimeout: 1800, // watch without timeoutSeconds: random in [T, 2T]
	chunking: 'natural', // natural | event | split | coalesce
	splitParts: 3,
	splitDelayMs: 20,
	coalesceMs: 50,
	watchList: true, // false: sendInitialEvents -> 422
	tokenGraceSeconds: 10, // a token removed from --token-file still works this long
	tooLargeWaitMs: 100, // wait before the 504 for a resourceVersion from the future
	requestLogSize: 10000,
};

function usage() {
	process.stderr.write(`usage: apiserver.js [--port N] [--address A] --cert F --key F [--ca F]
  [--insecure-http] [--http2] [--token-file F] [--token T[,user]]... --admin-token T
  [--seed FILE]... [--webhook-host NAME.NS.svc[:PORT]=HOST:PORT]... [--verbose]
  [--<knob> VALUE]...   (see tests/k8sapi/README.md)
`);
	process.exit(2);
}

function kebabToCamel(s) {
	return s.replace(/-([a-z])/g, (_, c) => c.toUpperCase()).replace(/Ttl$/, 'TTL');
}

function parseValue(key, v) {
	const d = DEFAULTS[key];
	if (typeof d === 'number') {
		const n = Number(v);
		if (!Number.isFinite(n))
			throw new Error(`--${key}: not a number: ${v}`);
		return n;
	}
	if (typeof d === 'boolean')
		return v === true || v === 'true' || v === '1';
	return String(v);
}

function parseArgs(argv) {
	const a = { port: 0, address: '127.0.0.1', tokens: [], seeds: [], cfg: { ...DEFAULTS } };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
		if (!m)
			usage();
		const name = m[1];
		const boolFlags = ['insecure-http', 'http2', 'verbose', 'empty-page', 'no-bookmarks',
			'no-watch-list', 'help'];
		let val = m[2];
		if (val === undefined && !boolFlags.includes(name)) {
			if (i + 1 >= argv.length)
				usage();
			val = argv[++i];
		}
		switch (name) {
		case 'help': usage(); break;
		case 'port': a.port = Number(val); break;
		case 'address': a.address = val; break;
		case 'cert': a.cert = val; break;
		case 'key': a.key = val; break;
		case 'ca': a.ca = val; break;
		case 'insecure-http': a.insecure = true; break;
		case 'http2': a.http2 = true; break;
		case 'verbose': a.verbose = true; break;
		case 'token-file': a.tokenFile = val; break;
		case 'token': a.tokens.push(val); break;
		case 'admin-token': a.adminToken = val; break;
		case 'seed': a.seeds.push(val); break;
		case 'webhook-host': (a.webhookHosts = a.webhookHosts || []).push(val); break;
		case 'no-watch-list': a.cfg.watchList = false; break;
		default: {
			const key = kebabToCamel(name);
			if (!(key in DEFAULTS)) {
				process.stderr.write(`apiserver.js: unknown option --${name}\n`);
				usage();
			}
			a.cfg[key] = parseValue(key, val === undefined ? true : val);
		}
		}
	}
	if (!a.adminToken || (!a.insecure && (!a.cert || !a.key)))
		usage();
	return a;
}

// --- authentication -----------------------------------------------------

class Tokens {
	constructor(file, statics, cfg) {
		this.file = file;
		this.cfg = cfg;
		this.statics = new Map(statics.map((t) => Tokens.line(t)).filter(Boolean));
		this.fromFile = new Map();
		this.grace = new Map(); // token -> {user, until}
		this.stamp = '';
		this.reload();
	}

	// "token" or "token,user"; blank lines and # comments ignored.
	static line(l) {
		l = l.trim();
		if (!l || l.startsWith('#'))
			return null;
		const i = l.indexOf(',');
		return i < 0 ? [l, 'system:serviceaccount:projectcontour:contour']
			: [l.slice(0, i), l.slice(i + 1)];
	}

	// Re-read the file when it changed (checked on every request: cheap).
	reload() {
		if (!this.file)
			return;
		let st;
		try {
			st = fs.statSync(this.file);
		} catch (err) {
			return;
		}
		const stamp = `${st.ino}/${st.size}/${st.mtimeMs}`;
		if (stamp === this.stamp)
			return;
		let text;
		try {
			text = fs.readFileSync(this.file, 'utf8');
		} catch (err) {
			return;
		}
		this.stamp = stamp;
		const next = new Map(text.split('\n').map(Tokens.line).filter(Boolean));
		const until = Date.now() + this.cfg.tokenGraceSeconds * 1000;
		for (const [t, u] of this.fromFile) {
			if (!next.has(t))
				this.grace.set(t, { user: u, until });
		}
		for (const t of next.keys())
			this.grace.delete(t);
		this.fromFile = next;
	}

	user(token) {
		this.reload();
		if (this.statics.has(token))
			return this.statics.get(token);
		if (this.fromFile.has(token))
			return this.fromFile.get(token);
		const g = this.grace.get(token);
		if (g && Date.now() < g.until)
			return g.user;
		return null;
	}
}

// --- the server -----------------------------------------------------------

class ApiServer {
	constructor(args) {
		this.args = args;
		this.cfg = args.cfg;
		this.store = new Store(this.cfg);
		this.tokens = new Tokens(args.tokenFile, args.tokens, this.cfg);
		this.watchers = new Set();
		this.faults = [];
		this.nextFault = 1;
		this.log = [];
		this.seq = 0;
		this.counts = { requests: 0, watches: 0, lists: 0, faults: 0, unauthorized: 0 };
		this.store.validate = (r, obj) => {
			if (r.plural === VWC)
				validateConfig(obj);
		};
		this.admission = new Admission(this.store, Admission.parseHosts(
			[process.env.K8SAPI_WEBHOOK_HOSTS, ...(args.webhookHosts || [])].join(',')),
		(msg) => args.verbose && process.stderr.write(`${msg}\n`));
	}

	seedFile(file) {
		const fd = fs.openSync(file, 'r');
		const first = Buffer.alloc(1);
		let n = fs.readSync(fd, first, 0, 1, null);
		while (n === 1 && /\s/.test(first.toString()))
			n = fs.readSync(fd, first, 0, 1, null);
		if (n === 1 && first[0] === 0x5b) { // '[': one JSON list
			fs.closeSync(fd);
			for (const o of JSON.parse(fs.readFileSync(file, 'utf8')))
				this.store.seed(o);
			return;
		}
		// One JSON object a line, read in blocks: files can be gigabytes.
		fs.closeSync(fd);
		const f = fs.openSync(file, 'r');
		let rest = null, got, lineNo = 0;
		const line = (b) => {
			lineNo++;
			try {
				if (b.length > 1 || (b.length === 1 && b[0] > 0x20))
					this.store.seedLine(b);
			} catch (err) {
				throw new Error(`${file}:${lineNo}: ${err.message}`);
			}
		};
		// A fresh block each time: seeded entries keep slices of it.
		for (;;) {
			const block = Buffer.allocUnsafe(16 << 20);
			if ((got = fs.readSync(f, block, 0, block.length, null)) <= 0)
				break;
			const buf = block.subarray(0, got);
			let start = 0, nl;
			if (rest) {
				nl = buf.indexOf(10);
				if (nl < 0) {
					rest = Buffer.concat([rest, buf]);
					continue;
				}
				line(Buffer.concat([rest, buf.subarray(0, nl)]));
				rest = null;
				start = nl + 1;
			}
			while ((nl = buf.indexOf(10, start)) >= 0) {
				line(buf.subarray(start, nl));
				start = nl + 1;
			}
			if (start < buf.length)
				rest = Buffer.from(buf.subarray(start));
		}
		if (rest)
			line(rest);
		fs.closeSync(f);
	}

	listen() {
		const a = this.args;
		const handler = (req, res) => this.handle(req, res);
		if (a.insecure) {
			this.server = http.createServer(handler);
		} else {
			const tls = { cert: fs.readFileSync(a.cert), key: fs.readFileSync(a.key),
				requestCert: !!a.ca, rejectUnauthorized: false };
			if (a.ca)
				tls.ca = fs.readFileSync(a.ca);
			this.server = a.http2 ? http2.createSecureServer({ ...tls, allowHTTP1: true },
				handler) : https.createServer(tls, handler);
		}
		this.server.keepAliveTimeout = 60000;
		this.server.on('clientError', (err, sock) => sock.destroy());
		this.server.listen(a.port, a.address, () => {
			const p = this.server.address().port;
			const host = a.address.includes(':') ? `[${a.address}]` : a.address;
			process.stdout.write(`listening on ${a.insecure ? 'http' : 'https'}://${host}:${p}\n`);
		});
		// Expired continue snapshots would otherwise stay until asked for.
		this.sweeper = setInterval(() => {
			const cut = Date.now() - this.cfg.continueTTL * 1000;
			for (const [id, s] of this.store.snapshots) {
				if (s.created < cut)
					this.store.snapshots.delete(id);
			}
		}, 5000);
		this.sweeper.unref();
	}

	stop() {
		for (const w of [...this.watchers])
			w.finish();
		this.server.close();
		setTimeout(() => process.exit(0), 200).unref();
	}

	authenticate(req) {
		const h = req.headers.authorization;
		if (h && /^bearer /i.test(h)) {
			const t = h.slice(7).trim();
			if (t === this.args.adminToken)
				return { name: 'admin', admin: true };
			const u = this.tokens.user(t);
			return u ? { name: u } : null;
		}
		const s = req.socket;
		if (s && s.authorized && s.getPeerCertificate) {
			const c = s.getPeerCertificate();
			if (c && c.subject && c.subject.CN)
				return { name: c.subject.CN };
		}
		return null;
	}

	send(res, code, body, headers) {
		const buf = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
		const w = res.k8sWarnings;
		res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': buf.length,
			...(w && w.headers.length ? { Warning: w.headers } : {}), ...(headers || {}) });
		res.end(buf);
	}

	sendError(res, err) {
		if (!(err instanceof ApiError)) {
			err = new ApiError(500, 'InternalError', `Internal error occurred: ${err.message}`,
				{ causes: [{ message: err.message }] });
		}
		const headers = {};
		if (err.details && err.details.retryAfterSeconds)
			headers['Retry-After'] = String(err.details.retryAfterSeconds);
		if (err.body) // a webhook's denial, shaped by admission.js
			return this.send(res, err.code, err.body, headers);
		this.send(res, err.code, statusBody(err.code, err.reason, err.message,
			err.details && JSON.parse(JSON.stringify(err.details)), err.metadata), headers);
	}

	// The fault rule for this request, counted down, or null.
	takeFault(path, verb, method) {
		for (const f of this.faults) {
			if (f.count === 0)
				continue;
			if (f.verb && f.verb !== '*' && f.verb !== verb && f.verb !== method)
				continue;
			if (f.re && !f.re.test(path))
				continue;
			if (f.probability !== undefined && Math.random() >= f.probability)
				continue;
			if (f.count > 0)
				f.count--;
			f.hits++;
			this.counts.faults++;
			return f;
		}
		return null;
	}

	// Faults answered before the request is served; false: serve it.
	applyFault(f, res, verb) {
		if (f.action === 'status') {
			const code = f.code || 500;
			const headers = {};
			if (f.retryAfter !== undefined)
				headers['Retry-After'] = String(f.retryAfter);
			if (f.plainText) {
				const text = code === 429 ? 'Too many requests, please try again later.\n'
					: f.message || `Internal Server Error: "${res.req.url}": injected fault\n`;
				res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8',
					'X-Content-Type-Options': 'nosniff', ...headers });
				res.end(text);
				return true;
			}
			const reasons = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound',
				409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests',
				500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };
			const messages = { 410: verb === 'watch' ?
				'The resourceVersion for the provided watch is too old.' :
				'The resourceVersion for the provided list is too old.',
			429: 'Too many requests, please try again later.',
			500: 'Internal error occurred: injected fault',
			503: 'The service is unavailable.',
			504: 'Timeout: request did not complete within the allotted timeout' };
			const details = f.retryAfter !== undefined ? { retryAfterSeconds: f.retryAfter }
				: undefined;
			this.send(res, code, statusBody(code, f.reason || reasons[code] || 'Unknown',
				f.message || messages[code] || 'injected fault', details), headers);
			return true;
		}
		if (verb !== 'watch' && (f.action === 'stall'))
			return true; // never answered
		if (verb !== 'watch' && (f.action === 'closeEmpty' || f.action === 'drop')) {
			res.socket && res.socket.destroy();
			return true;
		}
		return false;
	}

	record(req, path, query, user) {
		const e = { seq: ++this.seq, time: Date.now(), method: req.method, url: req.url, path,
			query, user: user ? user.name : null, status: null };
		this.log.push(e);
		if (this.log.length > this.cfg.requestLogSize)
			this.log.splice(0, this.log.length - this.cfg.requestLogSize);
		return e;
	}

	handle(req, res) {
		this.counts.requests++;
		const u = new URL(req.url, 'http://x');
		const path = u.pathname;
		const query = Object.fromEntries(u.searchParams);
		const user = this.authenticate(req);
		const entry = this.record(req, path, query, user);
		const orig = res.writeHead;
		res.writeHead = function (code, ...rest) {
			entry.status = code;
			return orig.call(this, code, ...rest);
		};
		if (this.args.verbose)
			res.on('close', () => process.stderr.write(
				`${req.method} ${req.url} ${entry.user || '-'} ${entry.status}\n`));
		if (path === '/healthz' || path === '/readyz' || path === '/livez') {
			res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
			res.end('ok');
			return;
		}
		if (path === '/version') {
			this.send(res, 200, { major: '1', minor: '36', gitVersion: 'v1.36.0',
				gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
				buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.25.0', compiler: 'gc',
				platform: 'linux/amd64' });
			return;
		}
		if (!user) {
			this.counts.unauthorized++;
			this.send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
			return;
		}
		this.readBody(req).then((body) => {
			if (path.startsWith('/_test/')) {
				if (!user.admin)
					throw new ApiError(403, 'Forbidden', `User "${user.name}" cannot use the ` +
						'test control API');
				return this.control(req, res, path, query, body);
			}
			if (path === '/openapi/v3' || path.startsWith('/openapi/v3/'))
				return this.openapi(res, path);
			if (path === '/openapi/v2')
				return this.openapiV2(req, res);
			return this.api(req, res, path, query, body, user);
		}).catch((err) => {
			if (!res.headersSent)
				this.sendError(res, err);
			else
				res.destroy();
		});
	}

	readBody(req) {
		return new Promise((resolve, reject) => {
			const parts = [];
			let n = 0;
			req.on('data', (d) => {
				n += d.length;
				if (n > (256 << 20))
					reject(new ApiError(413, 'RequestEntityTooLarge', 'body too large'));
				else
					parts.push(d);
			});
			req.on('end', () => resolve(Buffer.concat(parts)));
			req.on('error', reject);
		});
	}

	parseJSON(body) {
		try {
			return JSON.parse(body.toString() || 'null');
		} catch (err) {
			throw badRequest(`the body of the request was in an unknown format: ${err.message}`);
		}
	}

	// /api/v1/... and /apis/G/V/... -> {r, ns, name, sub} or a discovery doc.
	route(path) {
		const seg = path.split('/').filter((s) => s.length).map(decodeURIComponent);
		let group, version, rest;
		if (seg[0] === 'api' && seg.length >= 2) {
			group = '';
			version = seg[1];
			rest = seg.slice(2);
		} else if (seg[0] === 'apis' && seg.length >= 3) {
			group = seg[1];
			version = seg[2];
			rest = seg.slice(3);
		} else if (seg.length === 1 && (seg[0] === 'api' || seg[0] === 'apis')) {
			return { discovery: { root: seg[0] } };
		} else if (seg.length === 2 && seg[0] === 'apis') {
			return { discovery: { root: 'group', group: seg[1] } };
		} else {
			return null;
		}
		if (rest.length === 0)
			return { discovery: { group, version } };
		let ns, r;
		if (rest[0] === 'namespaces' && rest.length >= 3 &&
			(r = BY_PATH.get(`${group}/${version}/${rest[2]}`)) && r.namespaced) {
			ns = rest[1];
			rest = rest.slice(2);
		} else {
			r = BY_PATH.get(`${group}/${version}/${rest[0]}`);
			if (!r || (r.namespaced && rest.length > 1))
				return null;
		}
		if (rest.length > 3 || (rest[2] !== undefined && !(rest[2] === 'status' && r.status)))
			return null;
		return { r, ns, name: rest[1], sub: rest[2] };
	}

	// /openapi/v3 and /openapi/v3/api/v1, /openapi/v3/apis/G/V: just enough
	// for kubectl. Each PATCH operation names its kind and the fieldValidation
	// query parameter, which tells kubectl the server validates fields itself
	// (so it skips its own OpenAPI schema check). No schemas are served:
	// kubectl explain and client-side validation have nothing to go on.
	openapi(res, path) {
		const gvPath = (r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`);
		const gvs = [...new Set(RESOURCES.map(gvPath))];
		const hash = (k) => crypto.createHash('sha512').update(k).digest('hex').slice(0, 32)
			.toUpperCase();
		if (path === '/openapi/v3')
			return this.send(res, 200, { paths: Object.fromEntries(gvs.map((k) =>
				[k, { serverRelativeURL: `/openapi/v3/${k}?hash=${hash(k)}` }])) });
		const k = path.slice('/openapi/v3/'.length);
		if (!gvs.includes(k))
			throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
		const paths = {};
		const param = (name) => ({ name, in: 'query', schema: { type: 'string' },
			uniqueItems: true });
		for (const r of RESOURCES.filter((x) => gvPath(x) === k)) {
			const base = `/${k}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}/{name}`;
			const gvk = { group: r.group, version: r.version, kind: r.kind };
			const op = (id) => ({ operationId: `${id}${r.kind}`,
				'x-kubernetes-group-version-kind': gvk,
				parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation')],
				responses: { 200: { description: 'OK' } } });
			paths[base] = { get: { ...op('read'), parameters: [] }, put: op('replace'),
				patch: op('patch'), delete: { ...op('delete'), parameters: [param('dryRun')] } };
			if (r.status)
				paths[`${base}/status`] = { patch: { ...op('patchStatus') } };
		}
		return this.send(res, 200, { openapi: '3.0.0', info: { title: 'Kubernetes',
			version: 'v1.36.0' }, paths, components: { schemas: {} } });
	}

	// /openapi/v2, for kubectl before 1.27 (which has no v3): no
	// definitions, so kubectl finds no schema to validate against or to build
	// a strategic merge patch from (custom resources get a JSON merge patch),
	// and the object paths with a PATCH operation that names its kind and the
	// dryRun query parameter (kubectl's --dry-run=server check). kubectl asks
	// for protobuf (gnostic's openapi_v2.Document), others get JSON.
	openapiV2(req, res) {
		const ops = RESOURCES.map((r) => ({
			path: `/${r.group ? `apis/${r.group}` : 'api'}/${r.version}/` +
				`${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}/{name}`,
			gvk: { group: r.group, kind: r.kind, version: r.version },
			id: `patch${r.kind}` }));
		if (/protobuf/.test(req.headers.accept || '')) {
			const varint = (n) => {
				const b = [];
				for (; n > 127; n >>>= 7)
					b.push((n & 127) | 128);
				b.push(n);
				return Buffer.from(b);
			};
			// field n, wire type 2 (strings and messages)
			const f = (n, v) => {
				const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
				return Buffer.concat([varint((n << 3) | 2), varint(b.length), b]);
			};
			const cat = (...x) => Buffer.concat(x);
			const paths = ops.map((o) => f(2, cat(f(1, o.path), f(2, // NamedPathItem
				f(8, cat(f(5, o.id), // PathItem.patch: Operation
					// parameters: ParametersItem.parameter.non_body_parameter.query
					f(8, f(1, f(2, f(3, cat(f(2, 'query'), f(4, 'dryRun'), f(6, 'string')))))),
					// vendor_extension: NamedAny{name, Any{yaml}}
					f(13, cat(f(1, 'x-kubernetes-group-version-kind'),
						f(2, f(2, JSON.stringify(o.gvk)))))))))));
			const doc = cat(f(1, '2.0'), f(2, cat(f(1, 'Kubernetes'), f(2, 'v1.36.0'))),
				f(8, cat(...paths)));
			res.writeHead(200, { 'Content-Type':
				'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
			'Content-Length': doc.length });
			return res.end(doc);
		}
		return this.send(res, 200, { swagger: '2.0', info: { title: 'Kubernetes',
			version: 'v1.36.0' }, paths: Object.fromEntries(ops.map((o) => [o.path, { patch: {
			operationId: o.id, 'x-kubernetes-group-version-kind': o.gvk,
			parameters: [{ name: 'dryRun', in: 'query', type: 'string', uniqueItems: true }],
			responses: { 200: { description: 'OK' } } } }])), definitions: {} });
	}

	// /api, /apis and /apis/G: the legacy (unaggregated) discovery documents,
	// which clients asking for the aggregated ones accept as well.
	discoveryRoot(res, d) {
		if (d.root === 'api')
			return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'],
				serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0',
					serverAddress: `${this.args.address}:${this.server.address().port}` }] });
		const groups = [];
		for (const r of RESOURCES) {
			if (!r.group)
				continue;
			let g = groups.find((x) => x.name === r.group);
			if (!g)
				groups.push(g = { name: r.group, versions: [] });
			if (!g.versions.some((v) => v.version === r.version))
				g.versions.push({ groupVersion: r.apiVersion, version: r.version });
		}
		for (const g of groups)
			g.preferredVersion = g.versions[0];
		if (d.root === 'group') {
			const g = groups.find((x) => x.name === d.group);
			if (!g)
				throw new ApiError(404, 'NotFound',
					'the server could not find the requested resource');
			return this.send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
		}
		return this.send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
	}

	discovery(res, d) {
		if (d.root)
			return this.discoveryRoot(res, d);
		const list = RESOURCES.filter((r) => r.group === d.group && r.version === d.version);
		if (!list.length)
			throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
		const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
		const resources = [];
		for (const r of list) {
			resources.push({ name: r.plural, singularName: r.kind.toLowerCase(),
				namespaced: r.namespaced, kind: r.kind, verbs });
			if (r.status)
				resources.push({ name: `${r.plural}/status`, singularName: '',
					namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
		}
		this.send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1',
			groupVersion: list[0].apiVersion, resources });
	}

	async api(req, res, path, query, body, user) {
		const rt = this.route(path);
		if (!rt)
			throw new ApiError(404, 'NotFound', 'the server could not find the requested resource',
				{ causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }] });
		if (rt.discovery)
			return this.discovery(res, rt.discovery);
		const { r, ns, name, sub } = rt;
		const m = req.method;
		let verb;
		if (name === undefined) {
			if (m === 'GET')
				verb = query.watch === 'true' || query.watch === '1' ? 'watch' : 'list';
			else if (m === 'POST')
				verb = 'create';
		} else {
			verb = { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[m];
		}
		if (!verb || (sub && verb === 'delete') || (verb === 'create' && r.namespaced && !ns))
			throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method ` +
				'on the requested resource');
		const fault = this.takeFault(path, verb, m.toLowerCase());
		if (fault) {
			if (fault.action === 'delay')
				await new Promise((resolve) => setTimeout(resolve, fault.ms || 0));
			else if (this.applyFault(fault, res, verb))
				return;
		}
		const forceConflict = fault && fault.action === 'conflict';
		const s = this.store;
		if (verb === 'list')
			return this.list(res, r, ns, query);
		if (verb === 'watch')
			return this.watch(req, res, r, ns, query, fault);
		if (verb === 'get') {
			const e = s.get(r, ns, name);
			if (!e)
				throw notFound(r, name);
			return this.send(res, 200, Buffer.concat(s.pieces(r, e, false)));
		}
		// Writes: the object as it would be stored (validation and
		// preconditions first), then the validating webhooks, then the
		// write itself unless dryRun=All (admission.js).
		if (query.dryRun !== undefined && query.dryRun !== 'All')
			throw badRequest(`dryRun: Unsupported value: "${query.dryRun}": supported values: ` +
				'"All"');
		const dryRun = query.dryRun === 'All';
		res.k8sWarnings = new Warnings();
		const clone = (x) => JSON.parse(JSON.stringify(x));
		const a = { r, ns, name, sub, dryRun, user: user.name, fieldManager: query.fieldManager };
		const cur = name !== undefined ? s.get(r, ns, name) : undefined;
		let run; // the real write, after admission
		let code = 200;
		switch (verb) {
		case 'create': {
			const obj = this.parseJSON(body);
			const cand = s.create(r, ns, clone(obj), { dryRun: true, noExists: true });
			a.operation = 'CREATE';
			a.object = s.object(r, cand);
			a.name = a.object.metadata.name;
			a.oldObject = null;
			code = 201;
			// a generated name must stay the one admission saw
			run = () => (dryRun ? (s.checkAbsent(r, ns, a.name), cand) :
				s.create(r, ns, { ...obj, metadata: { ...obj.metadata, name: a.name } }));
			break;
		}
		case 'update': {
			const obj = this.parseJSON(body);
			const cand = s.update(r, ns, name, clone(obj), sub, { forceConflict, dryRun: true });
			a.operation = 'UPDATE';
			a.object = s.object(r, cand);
			a.oldObject = s.object(r, cur);
			run = () => (dryRun ? cand : s.update(r, ns, name, obj, sub, { forceConflict }));
			break;
		}
		case 'patch': {
			const ct = (req.headers['content-type'] || '').split(';')[0].trim();
			if (ct !== 'application/merge-patch+json')
				throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in ` +
					`an unknown format - accepted media types include: ` +
					'application/merge-patch+json');
			const patch = this.parseJSON(body);
			const cand = s.patch(r, ns, name, clone(patch), sub, { forceConflict, dryRun: true });
			a.operation = 'UPDATE';
			a.object = s.object(r, cand);
			a.oldObject = s.object(r, cur);
			run = () => (dryRun ? cand : s.patch(r, ns, name, patch, sub, { forceConflict }));
			break;
		}
		case 'delete': {
			const opts = body.length ? this.parseJSON(body) : null;
			const cand = s.remove(r, ns, name, opts, true);
			a.operation = 'DELETE';
			a.object = null;
			a.oldObject = s.object(r, cand);
			run = () => (dryRun ? cand : s.remove(r, ns, name, opts));
			break;
		}
		default:
			return undefined;
		}
		await this.admission.admit(a, res.k8sWarnings);
		const e = run();
		return this.send(res, code, Buffer.concat(s.pieces(r, e, false)));
	}

	async list(res, r, ns, q) {
		this.counts.lists++;
		if (q.sendInitialEvents !== undefined)
			throw invalid('ListOptions.meta.k8s.io', '', [{ field: 'sendInitialEvents',
				reason: 'FieldValueForbidden',
				message: 'Forbidden: sendInitialEvents is forbidden for list' }]);
		let out;
		try {
			out = this.store.list(r, ns, q);
		} catch (err) {
			if (err.code === 504)
				await new Promise((resolve) => setTimeout(resolve, this.cfg.tooLargeWaitMs));
			throw err;
		}
		const md = { resourceVersion: this.store.renderRV(out.rv) };
		if (out.cont)
			md.continue = out.cont;
		if (out.remaining !== undefined)
			md.remainingItemCount = out.remaining;
		const head = `{"kind":"${r.kind}List","apiVersion":"${r.apiVersion}","metadata":` +
			`${JSON.stringify(md)},"items":[`;
		const pieces = [Buffer.from(head)];
		const comma = Buffer.from(',');
		out.entries.forEach((e, i) => {
			if (i)
				pieces.push(comma);
			const p = this.store.pieces(r, e, true);
			for (const x of p)
				pieces.push(x);
		});
		pieces.push(Buffer.from(']}'));
		// Written in batches of about 256 KB: one big buffer would be copied
		// whole once more, and TLS encrypts large writes more slowly.
		let total = 0;
		for (const p of pieces)
			total += p.length;
		res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': total });
		let batch = [], size = 0;
		for (const p of pieces) {
			batch.push(p);
			size += p.length;
			if (size >= (1 << 18)) {
				if (!res.write(Buffer.concat(batch, size)))
					await new Promise((resolve) => {
						res.once('drain', resolve);
						res.once('close', resolve);
					});
				batch = [];
				size = 0;
			}
		}
		res.end(size ? Buffer.concat(batch, size) : undefined);
	}

	async watch(req, res, r, ns, q, fault) {
		this.counts.watches++;
		const s = this.store;
		const causes = [];
		const wl = q.sendInitialEvents === 'true' || q.sendInitialEvents === '1';
		if (q.sendInitialEvents !== undefined) {
			if (!this.cfg.watchList)
				causes.push({ field: 'sendInitialEvents', reason: 'FieldValueForbidden',
					message: 'Forbidden: sendInitialEvents is forbidden for watch unless the ' +
						'WatchList feature gate is enabled' });
			if (q.allowWatchBookmarks !== 'true' && q.allowWatchBookmarks !== '1')
				causes.push({ field: 'allowWatchBookmarks', reason: 'FieldValueForbidden',
					message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks ' +
						'to true' });
			if (q.resourceVersionMatch !== 'NotOlderThan')
				causes.push({ field: 'resourceVersionMatch', reason: 'FieldValueForbidden',
					message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch ' +
						'to NotOlderThan' });
		} else if (q.resourceVersionMatch) {
			causes.push({ field: 'resourceVersionMatch', reason: 'FieldValueForbidden',
				message: 'Forbidden: resourceVersionMatch is forbidden for watch unless ' +
					'sendInitialEvents is provided' });
		}
		if (q.limit !== undefined && q.limit !== '0')
			causes.push({ field: 'limit', reason: 'FieldValueForbidden',
				message: 'Forbidden: limit is not supported by watch' });
		if (causes.length)
			throw invalid('ListOptions.meta.k8s.io', '', causes);
		const x = s.parseRV(q.resourceVersion);
		if (x !== undefined && x > s.rv) {
			await new Promise((resolve) => setTimeout(resolve, this.cfg.tooLargeWaitMs));
			if (x > s.rv)
				throw s.tooLarge(x);
		}
		const w = new Watcher({ store: s, cfg: this.cfg, r, ns, q0: q, res, req, fault,
			onClose: (self) => this.watchers.delete(self) });
		if (this.cfg.noBookmarks)
			w.bookmarks = false;
		const initial = wl || x === undefined || x === 0;
		if (!initial && x < s.compactedRV) {
			const msg = `too old resource version: ${s.renderRV(x)} ` +
				`(${s.renderRV(s.compactedRV + 1)})`;
			if (this.cfg.tooOld === 'http')
				throw new ApiError(410, 'Expired', msg);
			w.error(statusBody(410, 'Expired', msg));
			return;
		}
		this.watchers.add(w);
		w.start(x, initial, wl);
	}

	async control(req, res, path, query, body) {
		const m = req.method;
		const s = this.store;
		if (path === '/_test/faults') {
			if (m === 'DELETE') {
				this.faults = [];
				return this.send(res, 200, { faults: [] });
			}
			if (m === 'POST') {
				let rules = this.parseJSON(body);
				rules = Array.isArray(rules) ? rules : [rules];
				const ids = [];
				for (const f of rules) {
					const actions = ['status', 'drop', 'stall', 'closeEmpty', 'delay',
						'conflict'];
					if (!actions.includes(f.action))
						throw badRequest(`action must be one of ${actions.join(', ')}`);
					const rule = { ...f, id: this.nextFault++, hits: 0,
						count: f.count === undefined ? 1 : f.count };
					if (f.path) {
						try {
							rule.re = new RegExp(f.path);
						} catch (err) {
							throw badRequest(`bad path regex: ${err.message}`);
						}
					}
					this.faults.push(rule);
					ids.push(rule.id);
				}
				return this.send(res, 200, { ids });
			}
			return this.send(res, 200, { faults: this.faults.map(({ re, ...f }) => f) });
		}
		if (path === '/_test/compact' && m === 'POST') {
			s.compact();
			return this.send(res, 200, { compactedResourceVersion: s.renderRV(s.compactedRV) });
		}
		if (path === '/_test/dropWatches' && m === 'POST') {
			const opt = body.length ? this.parseJSON(body) || {} : {};
			const re = opt.path ? new RegExp(opt.path) : null;
			let n = 0;
			for (const w of [...this.watchers]) {
				if (re && !re.test(new URL(w.req.url, 'http://x').pathname))
					continue;
				n++;
				if (opt.mode === 'rst' || opt.mode === 'close')
					w.drop(opt.mode);
				else
					w.finish();
			}
			return this.send(res, 200, { dropped: n });
		}
		if (path === '/_test/requests') {
			if (m === 'DELETE') {
				this.log = [];
				return this.send(res, 200, { requests: [] });
			}
			const since = Number(query.since || 0);
			return this.send(res, 200, { requests: this.log.filter((e) => e.seq > since) });
		}
		if (path === '/_test/stats') {
			const objects = {};
			for (const r of RESOURCES)
				objects[r.plural] = s.data.get(r.plural).size;
			const byRes = {};
			for (const w of this.watchers)
				byRes[w.r.plural] = (byRes[w.r.plural] || 0) + 1;
			const cpu = process.cpuUsage();
			return this.send(res, 200, { openWatches: this.watchers.size, watchesByResource: byRes,
				resourceVersion: s.renderRV(s.rv), compactedResourceVersion: s.renderRV(s.compactedRV),
				history: s.history.length, continueSnapshots: s.snapshots.size, objects,
				counts: { ...this.counts, ...s.stats },
				cpuMs: Math.round((cpu.user + cpu.system) / 1000),
				rssMB: Math.round(process.memoryUsage().rss / 1048576) });
		}
		if (path === '/_test/config') {
			if (m === 'POST') {
				const patch = this.parseJSON(body) || {};
				for (const [k, v] of Object.entries(patch)) {
					if (!(k in DEFAULTS))
						throw badRequest(`unknown knob ${k}`);
					this.cfg[k] = parseValue(k, v);
				}
				s.trim();
			}
			return this.send(res, 200, this.cfg);
		}
		throw new ApiError(404, 'NotFound', 'no such control endpoint');
	}
}

function main() {
	const args = parseArgs(process.argv.slice(2));
	const srv = new ApiServer(args);
	const t0 = Date.now(), c0 = process.cpuUsage();
	for (const f of args.seeds)
		srv.seedFile(f);
	if (args.seeds.length) {
		const c = process.cpuUsage(c0);
		process.stderr.write(`seeded ${srv.store.rv} objects in ${Date.now() - t0} ms ` +
			`(${Math.round((c.user + c.system) / 1000)} ms CPU)\n`);
	}
	srv.listen();
	process.on('SIGTERM', () => srv.stop());
	process.on('SIGINT', () => srv.stop());
}

if (require.main === module)
	main();

module.exports = { ApiServer, parseArgs, DEFAULTS };

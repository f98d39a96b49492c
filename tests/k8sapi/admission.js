'use strict';
// admission.js: validating admission webhooks as kube-apiserver calls them
// (admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration). The
// rules are in k8s-wire.md section 5 and admission-shutdown.md section 4;
// the Go code this follows is named beside each piece
// (AS = k8s.io/apiserver pkg/admission/plugin/webhook).

const crypto = require('crypto');
const https = require('https');
const tls = require('tls');
const { RESOURCES, ApiError, invalid, badRequest } = require('./store');

const byPlural = (p) => RESOURCES.find((r) => r.plural === p);

const VWC = 'validatingwebhookconfigurations';

// --- label selectors (metav1.LabelSelector) --------------------------------

// matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), all
// ANDed; an absent or empty selector matches everything.
function selectorMatches(sel, labels) {
	if (!sel)
		return true;
	labels = labels || {};
	for (const [k, v] of Object.entries(sel.matchLabels || {})) {
		if (labels[k] !== v)
			return false;
	}
	for (const e of sel.matchExpressions || []) {
		const has = Object.prototype.hasOwnProperty.call(labels, e.key);
		const vals = e.values || [];
		switch (e.operator) {
		case 'In':
			if (!has || !vals.includes(labels[e.key]))
				return false;
			break;
		case 'NotIn':
			if (has && vals.includes(labels[e.key]))
				return false;
			break;
		case 'Exists':
			if (!has)
				return false;
			break;
		case 'DoesNotExist':
			if (has)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

// --- validation of the configuration (a subset of upstream's) -------------

const SIDE_EFFECTS_V1 = ['None', 'NoneOnDryRun'];

function validateConfig(obj) {
	const causes = [];
	const hooks = obj.webhooks || [];
	const names = new Set();
	hooks.forEach((h, i) => {
		const f = `webhooks[${i}]`;
		if (!h.name)
			causes.push({ field: `${f}.name`, reason: 'FieldValueRequired',
				message: 'Required value' });
		else if (names.has(h.name))
			causes.push({ field: `${f}.name`, reason: 'FieldValueDuplicate',
				message: `Duplicate value: "${h.name}"` });
		names.add(h.name);
		const cc = h.clientConfig || {};
		if (!!cc.url === !!cc.service)
			causes.push({ field: `${f}.clientConfig`, reason: 'FieldValueRequired',
				message: 'Required value: exactly one of url or service is required' });
		if (cc.url) {
			let u = null;
			try {
				u = new URL(cc.url);
			} catch (err) {
				causes.push({ field: `${f}.clientConfig.url`, message: `Invalid value: ` +
					`"${cc.url}": host must be specified` });
			}
			if (u && u.protocol !== 'https:')
				causes.push({ field: `${f}.clientConfig.url`, reason: 'FieldValueNotSupported',
					message: `Unsupported value: "${u.protocol.slice(0, -1)}": supported values: ` +
						'"https"' });
			if (u && (u.username || u.password))
				causes.push({ field: `${f}.clientConfig.url`, message: 'Invalid value: ' +
					'"user information is not permitted in the URL"' });
			if (u && (u.hash || u.search))
				causes.push({ field: `${f}.clientConfig.url`, message: 'Invalid value: ' +
					'"fragments and query parameters are not permitted in the URL"' });
		}
		if (cc.service && (!cc.service.name || !cc.service.namespace))
			causes.push({ field: `${f}.clientConfig.service`, reason: 'FieldValueRequired',
				message: 'Required value: service name and namespace are required' });
		if (h.sideEffects === undefined)
			causes.push({ field: `${f}.sideEffects`, reason: 'FieldValueRequired',
				message: 'Required value' });
		else if (!SIDE_EFFECTS_V1.includes(h.sideEffects))
			causes.push({ field: `${f}.sideEffects`, reason: 'FieldValueNotSupported',
				message: `Unsupported value: "${h.sideEffects}": supported values: "None", ` +
					'"NoneOnDryRun"' });
		if (!Array.isArray(h.admissionReviewVersions) || !h.admissionReviewVersions.length)
			causes.push({ field: `${f}.admissionReviewVersions`, reason: 'FieldValueRequired',
				message: 'Required value: must specify one of v1, v1beta1' });
		else if (!h.admissionReviewVersions.includes('v1'))
			causes.push({ field: `${f}.admissionReviewVersions`, message: 'Invalid value: ' +
				`${JSON.stringify(h.admissionReviewVersions)}: must include at least one of v1` });
		if (h.timeoutSeconds !== undefined && !(h.timeoutSeconds >= 1 && h.timeoutSeconds <= 30))
			causes.push({ field: `${f}.timeoutSeconds`, message: `Invalid value: ` +
				`${h.timeoutSeconds}: the timeout value must be between 1 and 30 seconds` });
		if (h.failurePolicy !== undefined && !['Fail', 'Ignore'].includes(h.failurePolicy))
			causes.push({ field: `${f}.failurePolicy`, reason: 'FieldValueNotSupported',
				message: `Unsupported value: "${h.failurePolicy}": supported values: "Fail", ` +
					'"Ignore"' });
		if (h.matchPolicy !== undefined && !['Exact', 'Equivalent'].includes(h.matchPolicy))
			causes.push({ field: `${f}.matchPolicy`, reason: 'FieldValueNotSupported',
				message: `Unsupported value: "${h.matchPolicy}": supported values: ` +
					'"Equivalent", "Exact"' });
	});
	if (causes.length)
		throw invalid(`ValidatingWebhookConfiguration.admissionregistration.k8s.io`,
			obj.metadata.name, causes);
}

// --- matching (AS pkg/admission/plugin/webhook/predicates/rules) ----------

function ruleMatches(rule, a) {
	const has = (list, v) => Array.isArray(list) && (list.includes('*') || list.includes(v));
	if (!has(rule.operations, a.operation) || !has(rule.apiGroups, a.r.group) ||
		!has(rule.apiVersions, a.r.version))
		return false;
	const scope = rule.scope || '*';
	const isNs = a.r.plural === 'namespaces';
	if (scope === 'Namespaced' && (isNs || !a.ns))
		return false;
	if (scope === 'Cluster' && !(isNs || !a.ns))
		return false;
	return (rule.resources || []).some((x) => {
		const i = x.indexOf('/');
		const res = i < 0 ? x : x.slice(0, i), sub = i < 0 ? '' : x.slice(i + 1);
		return (res === '*' || res === a.r.plural) && (sub === '*' || sub === (a.sub || ''));
	});
}

const labelsOf = (o) => (o && o.metadata && o.metadata.labels) || {};

function hookMatches(h, a, nsLabels) {
	if (!(h.rules || []).some((rule) => ruleMatches(rule, a)))
		return false;
	// namespaceSelector: the Namespace's labels; a Namespace object is judged
	// by its own; other cluster-scoped objects are never skipped by it.
	if (h.namespaceSelector) {
		if (a.r.plural === 'namespaces') {
			if (!selectorMatches(h.namespaceSelector, labelsOf(a.object || a.oldObject)))
				return false;
		} else if (a.ns && !selectorMatches(h.namespaceSelector, nsLabels)) {
			return false;
		}
	}
	// objectSelector: the old or the new object; a missing one never matches.
	if (h.objectSelector && Object.keys(h.objectSelector).length) {
		const m = (o) => o && selectorMatches(h.objectSelector, labelsOf(o));
		if (!m(a.object) && !m(a.oldObject))
			return false;
	}
	return true;
}

// --- warnings (AS pkg/endpoints/filters/warning.go) -------------------------

// The Warning header text: 299, agent "-", the text HTTP-quoted.
function warningHeader(text) {
	return `299 - "${text.replace(/["\\]/g, (c) => '\\' + c)}"`;
}

// Duplicates dropped; once the total passes 4096 runes every warning (those
// already kept too) is cut to 256 runes, and once the cut ones pass 4096
// again the rest are dropped.
class Warnings {
	constructor() {
		this.ordered = [];
		this.seen = new Set();
		this.headers = [];
		this.written = 0;
		this.truncating = false;
	}

	add(text) {
		if (typeof text !== 'string' || !text.length)
			return;
		const TOTAL = 4096, ITEM = 256;
		if (this.written >= TOTAL && this.truncating)
			return;
		if (this.seen.has(text))
			return;
		this.seen.add(text);
		this.ordered.push(text);
		let runes = [...text];
		if (this.truncating && runes.length > ITEM)
			runes = runes.slice(0, ITEM);
		if (this.written + runes.length <= TOTAL || this.truncating) {
			this.written += runes.length;
			this.headers.push(warningHeader(runes.join('')));
			return;
		}
		this.truncating = true;
		this.written = 0;
		this.headers = [];
		for (const w of this.ordered) {
			const r = [...w].slice(0, ITEM);
			this.written += r.length;
			this.headers.push(warningHeader(r.join('')));
		}
	}
}

// --- calling one webhook (AS validating/dispatcher.go, request/...) --------

class CallError extends Error {}

function parseApiVersion(av) {
	if (typeof av !== 'string')
		return ['', ''];
	const i = av.indexOf('/');
	return i < 0 ? ['', av] : [av.slice(0, i), av.slice(i + 1)];
}

// Go-like wording for Node's transport errors.
function transportError(err, host, port) {
	const c = err.code || '';
	if (c === 'ECONNREFUSED')
		return `dial tcp ${host}:${port}: connect: connection refused`;
	if (['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN',
		'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
		'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(c))
		return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
	if (c === 'CERT_HAS_EXPIRED')
		return 'tls: failed to verify certificate: x509: certificate has expired or is not yet ' +
			'valid';
	if (c === 'ERR_TLS_CERT_ALTNAME_INVALID' || err.goText)
		return `tls: failed to verify certificate: ${err.goText || 'x509: ' + err.reason}`;
	return err.message;
}

// Go's x509 accepts no Common Name fallback and says which names it has.
function checkIdentity(name, cert) {
	if (!cert.subjectaltname) {
		const e = new Error('no SANs');
		e.goText = 'x509: certificate relies on legacy Common Name field, use SANs instead';
		return e;
	}
	const err = tls.checkServerIdentity(name, cert);
	if (err) {
		const names = cert.subjectaltname.split(', ').map((s) => s.replace(/^(DNS|IP Address):/,
			''));
		err.goText = `x509: certificate is valid for ${names.join(', ')}, not ${name}`;
	}
	return err;
}

// POSTs the review; resolves {response} or rejects with a CallError whose
// message is what follows `failed calling webhook "NAME": `.
function post(h, review, hostMap) {
	const cc = h.clientConfig || {};
	const timeout = h.timeoutSeconds || 10;
	let host, port, pathname, name;
	if (cc.url) {
		const u = new URL(cc.url);
		name = u.hostname.replace(/^\[|\]$/g, '');
		host = name;
		port = Number(u.port || 443);
		pathname = u.pathname || '/';
	} else {
		const s = cc.service;
		name = `${s.name}.${s.namespace}.svc`;
		port = s.port || 443;
		pathname = s.path || '/';
		const to = hostMap.get(`${name}:${port}`) || hostMap.get(name);
		if (!to)
			return Promise.reject(new CallError(`failed to call webhook: Post ` +
				`"https://${name}:${port}${pathname}?timeout=${timeout}s": dial tcp: lookup ` +
				`${name}: no such host`));
		[host, port] = [to.host, to.port];
	}
	// The URL as Go's errors name it.
	const target = `${cc.url || `https://${name}:${cc.service.port || 443}${pathname}`}` +
		`?timeout=${timeout}s`;
	const body = Buffer.from(JSON.stringify(review));
	const opts = { host, port, method: 'POST', path: `${pathname}?timeout=${timeout}s`,
		agent: false, servername: /^[\d.]+$|:/.test(name) ? undefined : name,
		checkServerIdentity: (_, cert) => checkIdentity(name, cert),
		headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*',
			'Content-Length': body.length, Host: cc.url ? new URL(cc.url).host :
				`${name}:${cc.service.port || 443}`, 'User-Agent': 'kube-apiserver-admission' } };
	if (cc.caBundle)
		opts.ca = Buffer.from(cc.caBundle, 'base64');
	return new Promise((resolve, reject) => {
		let done = false;
		const fail = (msg) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			reject(new CallError(`failed to call webhook: Post "${target}": ${msg}`));
		};
		const timer = setTimeout(() => {
			fail('context deadline exceeded');
			rq.destroy();
		}, timeout * 1000);
		const rq = https.request(opts, (res) => {
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('error', (err) => fail(err.message));
			res.on('end', () => {
				if (done)
					return;
				done = true;
				clearTimeout(timer);
				const text = Buffer.concat(parts).toString();
				if (res.statusCode !== 200) {
					const more = text.trim() ? `an error on the server ("${text.trim()
						.slice(0, 200)}") has prevented the request from succeeding` :
						`the server responded with the status code ${res.statusCode} but did ` +
						'not return more information';
					reject(new CallError(`failed to call webhook: ${more}`));
					return;
				}
				let j;
				try {
					j = JSON.parse(text);
				} catch (err) {
					reject(new CallError(`failed to call webhook: couldn't get version/kind; ` +
						`json parse error: ${err.message}`));
					return;
				}
				resolve(j);
			});
		});
		rq.on('error', (err) => fail(transportError(err, host, port)));
		rq.end(body);
	});
}

// AS request/admissionreview.go VerifyAdmissionResponse, for v1 and a
// validating webhook.
function verify(uid, j) {
	if (!j || typeof j !== 'object' || !j.response || typeof j.response !== 'object')
		throw new CallError('received invalid webhook response: webhook response was absent');
	const r = j.response;
	if (r.uid !== uid)
		throw new CallError(`received invalid webhook response: expected response.uid=` +
			`${JSON.stringify(uid)}, got ${JSON.stringify(r.uid === undefined ? '' : r.uid)}`);
	const [g, v] = parseApiVersion(j.apiVersion);
	if (g !== 'admission.k8s.io' || v !== 'v1' || j.kind !== 'AdmissionReview')
		throw new CallError('received invalid webhook response: expected webhook response of ' +
			`admission.k8s.io/v1, Kind=AdmissionReview, got ${g}/${v}, Kind=${j.kind || ''}`);
	const hasPatch = r.patch !== undefined && r.patch !== null && r.patch !== '';
	const hasType = r.patchType !== undefined && r.patchType !== null && r.patchType !== '';
	if (hasPatch && !hasType)
		throw new CallError('received invalid webhook response: webhook returned ' +
			'response.patch but not response.patchType');
	if (hasType && !hasPatch)
		throw new CallError('received invalid webhook response: webhook returned ' +
			'response.patchType but not response.patch');
	if (hasType)
		throw new CallError('received invalid webhook response: validating webhook may not ' +
			'return response.patchType');
	return r;
}

// AS webhook/errors/statuserror.go ToStatusErr.
function denial(name, st) {
	const s = st && typeof st === 'object' ? { ...st } : {};
	const code = Number.isInteger(s.code) && s.code >= 400 ? s.code : 400;
	const by = `admission webhook "${name}" denied the request`;
	let message;
	if (s.message)
		message = `${by}: ${s.message}`;
	else if (s.reason)
		message = `${by}: ${s.reason}`;
	else
		message = `${by} without explanation`;
	const body = { kind: 'Status', apiVersion: 'v1', metadata: {},
		status: !s.status || s.status === 'Success' ? 'Failure' : s.status, message };
	if (s.reason)
		body.reason = s.reason;
	if (s.details)
		body.details = s.details;
	body.code = code;
	const e = new ApiError(code, s.reason, message, s.details);
	e.body = body;
	return e;
}

// --- the dispatcher ---------------------------------------------------------

class Admission {
	// hostMap: "name.ns.svc[:port]" -> {host, port} (K8SAPI_WEBHOOK_HOSTS,
	// --webhook-host).
	constructor(store, hostMap, log) {
		this.store = store;
		this.hostMap = hostMap;
		this.log = log || (() => {});
		this.calls = 0;
	}

	static parseHosts(spec) {
		const m = new Map();
		for (const item of (spec || '').split(/[,\s]+/).filter(Boolean)) {
			const i = item.indexOf('=');
			if (i < 0)
				throw new Error(`webhook host mapping without "=": ${item}`);
			const to = item.slice(i + 1);
			const j = to.lastIndexOf(':');
			if (j < 0)
				throw new Error(`webhook host mapping needs HOST:PORT: ${item}`);
			m.set(item.slice(0, i), { host: to.slice(0, j).replace(/^\[|\]$/g, ''),
				port: Number(to.slice(j + 1)) });
		}
		return m;
	}

	configs() {
		const r = byPlural(VWC);
		return this.store.entries(r).map((e) => this.store.object(r, e));
	}

	// a: {operation, r, ns, name, sub, object, oldObject, dryRun, user,
	// fieldManager}; warnings: a Warnings. Resolves when admitted, rejects
	// with the ApiError to answer.
	async admit(a, warnings) {
		if (a.r.plural === VWC || a.r.plural === 'mutatingwebhookconfigurations')
			return;
		let nsLabels = {};
		if (a.ns) {
			const nr = byPlural('namespaces');
			const e = this.store.get(nr, '', a.ns);
			nsLabels = { 'kubernetes.io/metadata.name': a.ns,
				...(e ? e.labels : {}) };
		}
		const hooks = [];
		for (const cfg of this.configs()) {
			for (const h of cfg.webhooks || []) {
				if (hookMatches(h, a, nsLabels))
					hooks.push(h);
			}
		}
		if (!hooks.length)
			return;
		const errors = [];
		await Promise.all(hooks.map((h) => this.call(h, a, warnings).catch((err) => {
			errors.push(err);
		})));
		if (errors.length)
			throw errors[0];
	}

	async call(h, a, warnings) {
		if (a.dryRun && !SIDE_EFFECTS_V1.includes(h.sideEffects))
			throw badRequest(`admission webhook "${h.name}" does not support dry run`);
		const uid = crypto.randomUUID();
		const { group, version, plural, kind } = a.r;
		const optKind = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions',
			DELETE: 'DeleteOptions' }[a.operation];
		const options = { kind: optKind, apiVersion: 'meta.k8s.io/v1' };
		if (a.dryRun)
			options.dryRun = ['All'];
		if (a.fieldManager && a.operation !== 'DELETE')
			options.fieldManager = a.fieldManager;
		const request = { uid, kind: { group, version, kind },
			resource: { group, version, resource: plural } };
		if (a.sub)
			request.subResource = a.sub;
		request.requestKind = { group, version, kind };
		request.requestResource = { group, version, resource: plural };
		if (a.sub)
			request.requestSubResource = a.sub;
		if (a.name)
			request.name = a.name;
		if (a.ns)
			request.namespace = a.ns;
		request.operation = a.operation;
		request.userInfo = { username: a.user, groups: ['system:authenticated'] };
		request.object = a.operation === 'DELETE' ? null : a.object;
		request.oldObject = a.operation === 'CREATE' ? null : a.oldObject;
		request.dryRun = !!a.dryRun;
		request.options = options;
		const review = { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request };
		this.calls++;
		let resp;
		try {
			resp = verify(uid, await post(h, review, this.hostMap));
		} catch (err) {
			if (!(err instanceof CallError))
				throw err;
			const msg = `failed calling webhook "${h.name}": ${err.message}`;
			if (h.failurePolicy === 'Ignore') {
				this.log(`webhook ${h.name} failed open: ${msg}`);
				return;
			}
			throw new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`,
				{ causes: [{ message: msg }] });
		}
		for (const w of Array.isArray(resp.warnings) ? resp.warnings : [])
			warnings.add(w);
		if (!resp.allowed)
			throw denial(h.name, resp.status);
	}
}

module.exports = { Admission, Warnings, validateConfig, selectorMatches, ruleMatches, VWC };

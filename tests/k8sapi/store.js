'use strict';
// store.js: the resource table, the object store with its one global
// resourceVersion counter, the bounded event history, selectors and paged
// lists. Objects are kept serialized (a Buffer without kind/apiVersion) so
// that a list of 50 KB Secrets is a concatenation, not a re-encoding.

const crypto = require('crypto');

// The static resource table (k8s-wire.md 1.2). status: has a /status
// subresource; unconditional: a PUT without metadata.resourceVersion is
// accepted (built-ins such as Ingress), else 422 (CRDs, Lease).
const RESOURCES = [
	['', 'v1', 'services', 'Service', true, true, true],
	['', 'v1', 'endpoints', 'Endpoints', true, false, true],
	['', 'v1', 'secrets', 'Secret', true, false, true],
	['', 'v1', 'configmaps', 'ConfigMap', true, false, true],
	['', 'v1', 'namespaces', 'Namespace', false, true, true],
	['', 'v1', 'events', 'Event', true, false, true],
	['discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, false, true],
	['networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, true, true],
	['networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false, false, true],
	['projectcontour.io', 'v1', 'httpproxies', 'HTTPProxy', true, true, false, true],
	['projectcontour.io', 'v1', 'tlscertificatedelegations', 'TLSCertificateDelegation', true,
		true, false, true],
	['projectcontour.io', 'v1alpha1', 'extensionservices', 'ExtensionService', true, true,
		false, true],
	['projectcontour.io', 'v1alpha1', 'contourconfigurations', 'ContourConfiguration', true,
		true, false, true],
	['coordination.k8s.io', 'v1', 'leases', 'Lease', true, false, false],
	['admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations',
		'ValidatingWebhookConfiguration', false, false, true],
].map(([group, version, plural, kind, namespaced, status, unconditional, crd]) => {
	const apiVersion = group ? `${group}/${version}` : version;
	return {
		group, version, plural, kind, namespaced, status, unconditional, crd: !!crd,
		apiVersion,
		// "services" for core, "httpproxies.projectcontour.io" otherwise:
		// the qualified name the apiserver's messages use.
		qualified: group ? `${plural}.${group}` : plural,
		// Prefixes spliced in front of a stored body (which starts with '{').
		kindPrefix: Buffer.from(`{"kind":"${kind}","apiVersion":"${apiVersion}",`),
		itemPrefix: Buffer.from(crd ? `{"apiVersion":"${apiVersion}","kind":"${kind}",` : '{'),
	};
});

const BY_PATH = new Map(); // "group/version/plural" -> resource
const BY_KIND = new Map(); // "apiVersion/Kind" -> resource
for (const r of RESOURCES) {
	BY_PATH.set(`${r.group}/${r.version}/${r.plural}`, r);
	BY_KIND.set(`${r.apiVersion}/${r.kind}`, r);
}

class ApiError extends Error {
	constructor(code, reason, message, details, extra) {
		super(message);
		this.code = code;
		this.reason = reason;
		this.details = details;
		Object.assign(this, extra || {});
	}
}

// Status bodies, exactly as k8s-wire.md 6.
function statusBody(code, reason, message, details, metadata) {
	const s = { kind: 'Status', apiVersion: 'v1', metadata: metadata || {}, status: 'Failure',
		message, reason };
	if (details)
		s.details = details;
	s.code = code;
	return s;
}

function notFound(r, name) {
	return new ApiError(404, 'NotFound', `${r.qualified} "${name}" not found`,
		{ name, group: r.group || undefined, kind: r.plural });
}

function conflictMessage(r, name) {
	return `Operation cannot be fulfilled on ${r.qualified} "${name}": the object has been ` +
		'modified; please apply your changes to the latest version and try again';
}

function conflict(r, name) {
	return new ApiError(409, 'Conflict', conflictMessage(r, name),
		{ name, group: r.group || undefined, kind: r.plural });
}

function invalid(kindName, name, causes) {
	const msg = `${kindName} "${name}" is invalid: ` +
		causes.map((c) => `${c.field}: ${c.message}`).join(', ');
	return new ApiError(422, 'Invalid', msg, { name, kind: kindName, causes: causes.map((c) =>
		({ reason: c.reason || 'FieldValueInvalid', message: c.message, field: c.field })) });
}

function badRequest(msg) {
	return new ApiError(400, 'BadRequest', msg);
}

// --- selectors --------------------------------------------------------

// Splits at commas outside parentheses.
function splitTop(s) {
	const out = [];
	let depth = 0, cur = '';
	for (const ch of s) {
		if (ch === '(')
			depth++;
		else if (ch === ')')
			depth--;
		if (ch === ',' && depth === 0) {
			out.push(cur);
			cur = '';
		} else {
			cur += ch;
		}
	}
	out.push(cur);
	return out.map((x) => x.trim()).filter((x) => x.length);
}

// labelSelector: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k.
function parseLabelSelector(s) {
	if (!s)
		return null;
	const reqs = [];
	for (const term of splitTop(s)) {
		let m;
		if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
			const vals = new Set(m[3].split(',').map((x) => x.trim()));
			const k = m[1], neg = m[2] === 'notin';
			reqs.push((l) => neg ? !(k in l && vals.has(l[k])) : k in l && vals.has(l[k]));
		} else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term))) {
			const k = m[1], v = m[3], neg = m[2] === '!=';
			reqs.push((l) => neg ? l[k] !== v : l[k] === v);
		} else if ((m = /^!\s*([\w./-]+)$/.exec(term))) {
			const k = m[1];
			reqs.push((l) => !(k in l));
		} else if ((m = /^([\w./-]+)$/.exec(term))) {
			const k = m[1];
			reqs.push((l) => k in l);
		} else {
			throw badRequest(`unable to parse requirement: ${term}`);
		}
	}
	return (labels) => reqs.every((f) => f(labels || {}));
}

// fieldSelector: metadata.name and metadata.namespace with =, ==, !=, and
// the fields kube-apiserver adds per resource: Secrets' `type` (upstream
// Contour lists Secrets with type!=helm.sh/release.v1,...). Entries carry
// those as e.fields. Anything else: 400 "field label not supported", as the
// real server answers.
const EXTRA_FIELDS = { secrets: ['type'] };
function parseFieldSelector(s, plural) {
	if (!s)
		return null;
	const reqs = [];
	for (const term of splitTop(s)) {
		const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
		if (!m)
			throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
		const v = m[3], neg = m[2] === '!=';
		let get;
		if (m[1] === 'metadata.name')
			get = (e) => e.name;
		else if (m[1] === 'metadata.namespace')
			get = (e) => e.ns;
		else if ((EXTRA_FIELDS[plural] || []).includes(m[1]))
			get = (e) => (e.fields && e.fields[m[1]]) || '';
		else
			throw badRequest(`field label not supported: ${m[1]}`);
		reqs.push((e) => neg ? get(e) !== v : get(e) === v);
	}
	return (e) => reqs.every((f) => f(e));
}

// --- the store --------------------------------------------------------

function nowRFC3339() {
	return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function sameJSON(a, b) {
	return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null :
		b);
}

// Everything but metadata and status: a change there bumps generation.
function specPart(obj) {
	const { metadata, status, kind, apiVersion, ...rest } = obj;
	return rest;
}

// RFC 7386 JSON merge patch.
function mergePatch(target, patch) {
	if (patch === null || typeof patch !== 'object' || Array.isArray(patch))
		return patch;
	const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target }
		: {};
	for (const [k, v] of Object.entries(patch)) {
		if (v === null)
			delete out[k];
		else
			out[k] = mergePatch(out[k], v);
	}
	return out;
}

// The end (exclusive) of the JSON value starting at i, for small values:
// strings, objects and arrays are scanned with quotes and depth, scalars
// run to the next ',' or '}'.
function scanValue(b, i) {
	let depth = 0;
	for (; i < b.length; i++) {
		const c = b[i];
		if (c === 0x22) { // "
			for (i++; i < b.length && b[i] !== 0x22; i++) {
				if (b[i] === 0x5c)
					i++;
			}
			if (depth === 0)
				return i + 1;
		} else if (c === 0x7b || c === 0x5b) {
			depth++;
		} else if (c === 0x7d || c === 0x5d) {
			if (depth === 0)
				return i; // the end of a scalar inside the parent
			if (--depth === 0)
				return i + 1;
		} else if (c === 0x2c && depth === 0) {
			return i;
		}
	}
	return -1;
}

// {apiVersion, kind, metadata, end} when those three are the first keys of
// the line's object (end: the offset of what follows them), else null.
function scanHead(b) {
	const ws = (i) => {
		while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0d))
			i++;
		return i;
	};
	let i = ws(0);
	if (b[i] !== 0x7b)
		return null;
	i++;
	const out = {};
	for (let n = 0; n < 3; n++) {
		i = ws(i);
		if (n > 0) {
			if (b[i] !== 0x2c)
				return null;
			i = ws(i + 1);
		}
		const ke = scanValue(b, i);
		if (ke < 0 || b[i] !== 0x22)
			return null;
		const key = b.toString('utf8', i + 1, ke - 1);
		i = ws(ke);
		if (b[i] !== 0x3a)
			return null;
		i = ws(i + 1);
		const ve = scanValue(b, i);
		if (ve < 0 || !['apiVersion', 'kind', 'metadata'].includes(key) || key in out)
			return null;
		out[key] = JSON.parse(b.toString('utf8', i, ve));
		i = ve;
	}
	out.end = ws(i);
	if (b[out.end] !== 0x2c && b[out.end] !== 0x7d)
		return null;
	return out;
}

class Store {
	constructor(opts) {
		this.opts = opts; // live config: rvPrefix, historySize, historySeconds, continueTTL
		this.rv = 0;
		this.compactedRV = 0; // watches from an RV below this get 410
		this.data = new Map(); // plural -> Map(key -> entry)
		this.sorted = new Map(); // plural -> sorted entries, rebuilt lazily
		for (const r of RESOURCES)
			this.data.set(r.plural, new Map());
		this.history = []; // events, oldest first
		this.listeners = new Set();
		this.snapshots = new Map(); // continue id -> {r, entries, rv, created}
		this.nextSnap = 1;
		this.stats = { creates: 0, updates: 0, deletes: 0 };
	}

	renderRV(n) {
		return (this.opts.rvPrefix || '') + String(n);
	}

	// Parses a client's RV back; undefined for ""; throws on junk.
	parseRV(s) {
		if (s === undefined || s === null || s === '')
			return undefined;
		const p = this.opts.rvPrefix || '';
		const t = s.startsWith(p) ? s.slice(p.length) : s;
		if (s === '0')
			return 0;
		if (!/^\d+$/.test(t))
			throw badRequest(`resourceVersion: Invalid value: "${s}": must be a valid ` +
				'resource version');
		return Number(t);
	}

	entries(r) {
		let s = this.sorted.get(r.plural);
		if (!s) {
			s = [...this.data.get(r.plural).values()];
			s.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
			this.sorted.set(r.plural, s);
		}
		return s;
	}

	get(r, ns, name) {
		return this.data.get(r.plural).get(`${ns || ''}/${name}`);
	}

	// Builds an immutable entry from a full object (whose metadata the
	// caller has finished).
	makeEntry(r, obj) {
		const { kind, apiVersion, ...rest } = obj;
		const md = obj.metadata;
		const ns = r.namespaced ? md.namespace : '';
		return { key: `${ns}/${md.name}`, ns, name: md.name, labels: md.labels || {},
			fields: r.plural === 'secrets' ? { type: obj.type || '' } : undefined,
			rv: this.rvOf, buf: Buffer.from(JSON.stringify(rest)) };
	}

	// Object with kind/apiVersion, parsed.
	object(r, e) {
		return JSON.parse(Buffer.concat(this.pieces(r, e, false)).toString());
	}

	// Pieces of the wire form: with kind (watch, get) or as a list item.
	// A seeded entry may keep its body in two parts (buf, tail).
	pieces(r, e, asItem) {
		const p = asItem ? r.itemPrefix : r.kindPrefix;
		return e.tail ? [p, e.buf.subarray(1), e.tail] : [p, e.buf.subarray(1)];
	}

	commit(r, type, entry, prev) {
		const map = this.data.get(r.plural);
		if (type === 'DELETED')
			map.delete(entry.key);
		else
			map.set(entry.key, entry);
		if (type !== 'MODIFIED')
			this.sorted.delete(r.plural);
		else {
			// Replace in place in the sorted cache: same key, same position.
			const s = this.sorted.get(r.plural);
			if (s) {
				const i = s.indexOf(prev);
				if (i >= 0)
					s[i] = entry;
				else
					this.sorted.delete(r.plural);
			}
		}
		const ev = { rv: entry.rv, type, r, entry, prev, time: Date.now() };
		this.history.push(ev);
		this.trim();
		for (const l of this.listeners)
			l(ev);
	}

	trim() {
		const max = this.opts.historySize, age = this.opts.historySeconds;
		let drop = 0;
		if (max >= 0 && this.history.length > max)
			drop = this.history.length - max;
		if (age > 0) {
			const cut = Date.now() - age * 1000;
			while (drop < this.history.length && this.history[drop].time < cut)
				drop++;
		}
		if (drop > 0) {
			this.compactedRV = this.history[drop - 1].rv;
			this.history.splice(0, drop);
		}
	}

	// Drops the whole history, and with it every continue snapshot.
	compact() {
		this.history = [];
		this.compactedRV = this.rv;
		this.snapshots.clear();
	}

	// Finishes server-managed metadata and stores; seeding and POST.
	// dryRun: the object as it would be stored (no resourceVersion, as
	// kube-apiserver answers a dry-run create), nothing committed.
	insert(r, obj, { keepStatus, emit, dryRun }) {
		const md = obj.metadata;
		if (!keepStatus && r.status)
			delete obj.status;
		md.uid = md.uid || crypto.randomUUID();
		md.creationTimestamp = md.creationTimestamp || nowRFC3339();
		md.generation = md.generation || 1;
		if (dryRun) {
			delete md.resourceVersion;
			return this.makeEntry(r, obj);
		}
		this.rv++;
		md.resourceVersion = this.renderRV(this.rv);
		this.rvOf = this.rv;
		const e = this.makeEntry(r, obj);
		if (emit)
			this.commit(r, 'ADDED', e);
		else
			this.data.get(r.plural).set(e.key, e), this.sorted.delete(r.plural);
		this.stats.creates++;
		return e;
	}

	checkMetadata(r, obj, ns, name) {
		if (!obj || typeof obj !== 'object' || Array.isArray(obj))
			throw badRequest('the body of the request is not a JSON object');
		obj.metadata = obj.metadata && typeof obj.metadata === 'object' ? obj.metadata : {};
		const md = obj.metadata;
		if (r.namespaced) {
			if (md.namespace && md.namespace !== ns)
				throw badRequest('the namespace of the provided object does not match the ' +
					'namespace sent on the request');
			md.namespace = ns;
		} else {
			delete md.namespace;
		}
		if (name !== undefined && md.name && md.name !== name)
			throw badRequest('the name of the object (' + md.name + ') does not match the ' +
				'name on the URL (' + name + ')');
		if (name !== undefined)
			md.name = md.name || name;
		if (!md.name && md.generateName)
			md.name = md.generateName + crypto.randomBytes(3).toString('hex').slice(0, 5);
		if (!md.name)
			throw invalid(r.kind, '', [{ field: 'metadata.name', reason: 'FieldValueRequired',
				message: 'Required value: name or generateName is required' }]);
		obj.kind = r.kind;
		obj.apiVersion = r.apiVersion;
		return md;
	}

	// opts.dryRun: nothing stored; opts.noExists: skip the AlreadyExists
	// check (admission runs before the storage layer finds the name taken).
	create(r, ns, obj, opts = {}) {
		const md = this.checkMetadata(r, obj, ns);
		if (!opts.noExists)
			this.checkAbsent(r, ns, md.name);
		if (this.validate)
			this.validate(r, obj);
		delete md.resourceVersion;
		delete md.uid;
		delete md.generation;
		delete md.creationTimestamp;
		return this.insert(r, obj, { keepStatus: false, emit: true, dryRun: opts.dryRun });
	}

	checkAbsent(r, ns, name) {
		if (this.get(r, ns, name))
			throw new ApiError(409, 'AlreadyExists', `${r.qualified} "${name}" already exists`,
				{ name, group: r.group || undefined, kind: r.plural });
	}

	// PUT on the object (sub undefined) or on /status.
	update(r, ns, name, obj, sub, { forceConflict, dryRun } = {}) {
		const md = this.checkMetadata(r, obj, ns, name);
		const cur = this.get(r, ns, name);
		if (!cur)
			throw notFound(r, name);
		if (md.resourceVersion === undefined || md.resourceVersion === '') {
			if (!r.unconditional)
				throw invalid(r.kind, name, [{ field: 'metadata.resourceVersion',
					message: 'Invalid value: 0x0: must be specified for an update' }]);
		} else if (md.resourceVersion !== this.renderRV(cur.rv) || forceConflict) {
			throw conflict(r, name);
		}
		if (forceConflict)
			throw conflict(r, name);
		return this.replace(r, cur, obj, sub, dryRun);
	}

	// Applies the status split and generation rule, then commits.
	// dryRun: the would-be object (at the current RV), nothing committed.
	replace(r, cur, obj, sub, dryRun) {
		const old = this.object(r, cur);
		let next;
		if (sub === 'status') {
			next = old;
			if (obj.status === undefined)
				delete next.status;
			else
				next.status = obj.status;
		} else {
			next = obj;
			const md = next.metadata;
			md.uid = old.metadata.uid;
			md.creationTimestamp = old.metadata.creationTimestamp;
			md.generation = old.metadata.generation || 1;
			if (r.status) {
				if (old.status === undefined)
					delete next.status;
				else
					next.status = old.status;
			}
			if (!sameJSON(specPart(old), specPart(next)))
				md.generation++;
		}
		if (this.validate && sub !== 'status')
			this.validate(r, next);
		if (dryRun) {
			next.metadata.resourceVersion = this.renderRV(cur.rv);
			return this.makeEntry(r, next);
		}
		this.rv++;
		next.metadata.resourceVersion = this.renderRV(this.rv);
		this.rvOf = this.rv;
		const e = this.makeEntry(r, next);
		this.commit(r, 'MODIFIED', e, cur);
		this.stats.updates++;
		return e;
	}

	patch(r, ns, name, patch, sub, { forceConflict, dryRun } = {}) {
		const cur = this.get(r, ns, name);
		if (!cur)
			throw notFound(r, name);
		if (!patch || typeof patch !== 'object' || Array.isArray(patch))
			throw badRequest('the patch is not a JSON object');
		const pmd = patch.metadata || {};
		if (forceConflict || (pmd.resourceVersion !== undefined &&
			pmd.resourceVersion !== this.renderRV(cur.rv)))
			throw conflict(r, name);
		const next = mergePatch(this.object(r, cur), patch);
		if (!next.metadata || next.metadata.name !== name)
			throw badRequest('the patch may not change metadata.name');
		next.metadata.resourceVersion = this.renderRV(cur.rv);
		this.checkMetadata(r, next, ns, name);
		return this.replace(r, cur, next, sub, dryRun);
	}

	remove(r, ns, name, opts, dryRun) {
		const cur = this.get(r, ns, name);
		if (!cur)
			throw notFound(r, name);
		const pre = opts && opts.preconditions;
		if (pre && pre.resourceVersion !== undefined &&
			pre.resourceVersion !== this.renderRV(cur.rv))
			throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.qualified} ` +
				`"${name}": the ResourceVersion in the precondition (${pre.resourceVersion}) does ` +
				`not match the ResourceVersion in record (${this.renderRV(cur.rv)}). The object ` +
				'might have been modified', { name, group: r.group || undefined, kind: r.plural });
		if (dryRun)
			return cur;
		// The DELETED event carries the last state with the deletion's RV.
		const obj = this.object(r, cur);
		this.rv++;
		obj.metadata.resourceVersion = this.renderRV(this.rv);
		this.rvOf = this.rv;
		const e = this.makeEntry(r, obj);
		this.commit(r, 'DELETED', e, cur);
		this.stats.deletes++;
		return e;
	}

	// A list: {rv, entries, cont, remaining}. q holds the parsed query.
	list(r, ns, q) {
		const lsel = parseLabelSelector(q.labelSelector);
		const fsel = parseFieldSelector(q.fieldSelector, r.plural);
		const limit = q.limit ? parseInt(q.limit, 10) : 0;
		if (q.limit !== undefined && !(limit >= 0))
			throw badRequest(`limit: Invalid value: "${q.limit}"`);
		let rv, all, start = 0, snapId;
		if (q.continue) {
			if (q.resourceVersion && q.resourceVersion !== '0')
				throw badRequest('specifying resource version is not allowed when using continue');
			if (q.resourceVersionMatch)
				throw invalid('ListOptions.meta.k8s.io', '', [{ field: 'resourceVersionMatch',
					reason: 'FieldValueForbidden',
					message: 'Forbidden: resourceVersionMatch is forbidden when continue is provided' }]);
			let tok;
			try {
				tok = JSON.parse(Buffer.from(q.continue, 'base64').toString());
			} catch (err) {
				tok = null;
			}
			if (!tok || tok.r !== r.plural)
				throw badRequest('continue key is not valid: incorrect encoded start ' +
					'resourceVersion (version meta.k8s.io/v1)');
			if (tok.id === 0) {
				// An inconsistent continuation: current state from the key on.
				rv = this.rv;
				all = this.entries(r).filter((e) => e.key > tok.key);
			} else {
				const snap = this.snapshots.get(tok.id);
				if (!snap || Date.now() - snap.created > this.opts.continueTTL * 1000 ||
					snap.rv < this.compactedRV) {
					this.snapshots.delete(tok.id);
					const again = Buffer.from(JSON.stringify({ r: r.plural, id: 0, key: tok.key }))
						.toString('base64');
					throw new ApiError(410, 'Expired', 'The provided continue parameter is too ' +
						'old to display a consistent list result. You can start a new list ' +
						'without the continue parameter, or use the continue token in this ' +
						'response to retrieve the remainder of the results. Continuing with the ' +
						'provided token results in an inconsistent list - objects that were ' +
						'created, modified, or deleted between the time the first chunk was ' +
						'returned and now may show up in the list.', undefined,
					{ metadata: { continue: again } });
				}
				rv = snap.rv;
				all = snap.entries;
				start = tok.pos;
				snapId = tok.id;
			}
		} else {
			const x = this.parseRV(q.resourceVersion);
			if (q.resourceVersionMatch === 'Exact') {
				if (x === undefined || q.resourceVersion === '0')
					throw invalid('ListOptions.meta.k8s.io', '', [{ field: 'resourceVersionMatch',
						reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch ' +
						'"exact" is forbidden for resourceVersion "0" or ""' }]);
				if (x !== this.rv)
					throw new ApiError(410, 'Expired',
						'The resourceVersion for the provided list is too old.');
			} else if (q.resourceVersionMatch && q.resourceVersionMatch !== 'NotOlderThan') {
				throw badRequest(`resourceVersionMatch: Unsupported value: "${q.resourceVersionMatch}"`);
			} else if (x !== undefined && x > this.rv) {
				throw this.tooLarge(x);
			}
			rv = this.rv;
			all = this.entries(r);
		}
		const match = (e) => (!ns || e.ns === ns) && (!lsel || lsel(e.labels)) &&
			(!fsel || fsel(e));
		const filtered = snapId || (!ns && !lsel && !fsel) ? all : all.filter(match);
		if (!limit || snapId === undefined && filtered.length <= limit && !this.opts.emptyPage)
			return { rv, entries: start ? filtered.slice(start) : filtered };
		if (snapId === undefined) {
			// The first page of a paged list: keep the snapshot.
			snapId = this.nextSnap++;
			this.snapshots.set(snapId, { rv, entries: filtered, created: Date.now() });
			if (this.opts.emptyPage) // one page with 0 items and a continue
				return { rv, entries: [], cont: this.token(r, snapId, 0, filtered) };
		}
		const page = filtered.slice(start, start + limit);
		const end = start + page.length;
		const res = { rv, entries: page };
		if (end < filtered.length) {
			res.cont = this.token(r, snapId, end, filtered);
			if (!lsel && !fsel)
				res.remaining = filtered.length - end;
		} else {
			this.snapshots.delete(snapId);
		}
		return res;
	}

	token(r, id, pos, entries) {
		const key = pos > 0 ? entries[pos - 1].key : '';
		return Buffer.from(JSON.stringify({ r: r.plural, id, pos, key })).toString('base64');
	}

	tooLarge(x) {
		return new ApiError(504, 'Timeout', `Too large resource version: ${x}, current: ${this.rv}`,
			{ causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
				retryAfterSeconds: 1 });
	}

	// One line of a seed file. Large objects (50 KB Secrets) would spend
	// most of the seeding time in toString/parse/stringify, so when
	// apiVersion, kind and metadata come first (as gen_workload.js writes
	// them) only those are parsed and the rest of the line is kept as it
	// is; it is trusted to be valid JSON, and checked when short.
	seedLine(b) {
		const head = scanHead(b);
		if (!head || b.length - head.end < 16384)
			return this.seed(JSON.parse(b.toString()));
		const obj = { apiVersion: head.apiVersion, kind: head.kind, metadata: head.metadata };
		const r = this.seedCheck(obj);
		const md = obj.metadata;
		md.uid = md.uid || crypto.randomUUID();
		md.creationTimestamp = md.creationTimestamp || nowRFC3339();
		md.generation = md.generation || 1;
		this.rv++;
		md.resourceVersion = this.renderRV(this.rv);
		const ns = r.namespaced ? md.namespace : '';
		// ',"type":...}' or '}', kept in the caller's block without a copy
		const tail = b.subarray(head.end);
		// the Secret's type, when it follows metadata as gen_workload.js writes
		const t = /^,"type":"([^"\\]*)"/.exec(tail.subarray(0, 256).toString('latin1'));
		const e = { key: `${ns}/${md.name}`, ns, name: md.name, labels: md.labels || {},
			fields: r.plural === 'secrets' ? { type: t ? t[1] : '' } : undefined,
			rv: this.rv, buf: Buffer.from(`{"metadata":${JSON.stringify(md)}`), tail };
		this.data.get(r.plural).set(e.key, e);
		this.sorted.delete(r.plural);
		this.stats.creates++;
		this.compactedRV = this.rv;
	}

	seedCheck(obj) {
		const r = BY_KIND.get(`${obj.apiVersion}/${obj.kind}`);
		if (!r)
			throw new Error(`seed: unknown kind ${obj.apiVersion}/${obj.kind}`);
		const md = obj.metadata;
		if (!md || typeof md !== 'object' || !md.name)
			throw new Error('seed: object without metadata.name');
		if (r.namespaced)
			md.namespace = md.namespace || 'default';
		else
			delete md.namespace;
		if (this.get(r, md.namespace, md.name))
			throw new Error(`seed: duplicate ${r.plural} ${md.namespace || ''}/${md.name}`);
		return r;
	}

	// Loads objects without history events; used only at start.
	seed(obj) {
		if (!obj || typeof obj !== 'object')
			throw new Error('seed: not an object');
		const r = this.seedCheck(obj);
		this.insert(r, obj, { keepStatus: true, emit: false });
		this.compactedRV = this.rv;
	}
}

module.exports = { RESOURCES, BY_PATH, BY_KIND, Store, ApiError, statusBody, parseLabelSelector,
	parseFieldSelector, conflictMessage, invalid, badRequest, notFound };

'use strict';
// watch.js: one open watch stream. Events are queued as Buffer pieces and
// written by one pump per stream, whose framing follows the live config:
// "natural" (whatever queued up in one tick goes out together, like the
// apiserver flushing when its queue is empty), "event" (one chunk per
// event), "split" (every event cut into parts sent with pauses between) or
// "coalesce" (events held back and sent together).

const http2 = require('http2');
const { parseLabelSelector, parseFieldSelector } = require('./store');

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';
const BATCH = 1 << 20;

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

class Watcher {
	// w: {store, cfg, r, ns, q, res, req, fault, onClose}
	constructor(w) {
		Object.assign(this, w);
		this.q = [];
		this.events = 0;
		this.pumping = false;
		this.closed = false;
		this.ending = false;
		this.timers = [];
		const l = parseLabelSelector(this.q0.labelSelector);
		const f = parseFieldSelector(this.q0.fieldSelector, this.r.plural);
		this.match = (e) => (!this.ns || e.ns === this.ns) && (!l || l(e.labels)) &&
			(!f || f(e));
		this.bookmarks = this.q0.allowWatchBookmarks === 'true' ||
			this.q0.allowWatchBookmarks === '1';
		this.dropAfter = this.fault && this.fault.action === 'drop' &&
			this.fault.afterEvents !== undefined ? this.fault.afterEvents : undefined;
	}

	// Sends the headers and the start position's events; the caller has
	// validated the query and checked the RV is not too old.
	start(fromRV, initial, watchList) {
		const res = this.res;
		res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
		res.flushHeaders();
		res.on('close', () => this.cleanup());
		if (this.fault && this.fault.action === 'stall')
			return; // headers and then silence, deadline ignored
		if (this.fault && this.fault.action === 'closeEmpty') {
			res.end();
			return;
		}
		if (initial) {
			for (const e of this.store.entries(this.r)) {
				if (this.match(e))
					this.enqueueObject('ADDED', e);
			}
			if (watchList)
				this.enqueueBookmark(true);
		} else {
			for (const ev of this.store.history) {
				if (ev.rv > fromRV)
					this.deliver(ev);
			}
		}
		this.listener = (ev) => this.deliver(ev);
		this.store.listeners.add(this.listener);
		const t = this.timeoutSeconds();
		this.timers.push(setTimeout(() => this.finish(), t * 1000));
		if (this.bookmarks && t > 2)
			this.timers.push(setTimeout(() => this.enqueueBookmark(false), (t - 2) * 1000));
		const b = this.cfg.bookmarkSeconds;
		if (this.bookmarks && b > 0)
			this.timers.push(setInterval(() => this.enqueueBookmark(false), b * 1000));
		if (this.fault && this.fault.action === 'drop' && this.fault.afterMs !== undefined)
			this.timers.push(setTimeout(() => this.drop(this.fault.mode), this.fault.afterMs));
		if (this.dropAfter === 0)
			this.q.push({ drop: true });
		this.schedule();
	}

	timeoutSeconds() {
		const ts = this.q0.timeoutSeconds;
		if (ts !== undefined && ts !== '' && Number(ts) >= 0)
			return Number(ts);
		const t = this.cfg.minRequestTimeout;
		return t + Math.random() * t;
	}

	// One history event, with selector transitions (k8s-wire.md 1.5).
	deliver(ev) {
		if (ev.r !== this.r || this.ending)
			return;
		const now = this.match(ev.entry);
		const before = ev.prev ? this.match(ev.prev) : false;
		if (ev.type === 'ADDED') {
			if (now)
				this.enqueueObject('ADDED', ev.entry);
		} else if (ev.type === 'DELETED') {
			if (now)
				this.enqueueObject('DELETED', ev.entry);
		} else if (now && before) {
			this.enqueueObject('MODIFIED', ev.entry);
		} else if (now) {
			this.enqueueObject('ADDED', ev.entry);
		} else if (before) {
			// It left the selector: its previous state, at the new RV.
			const obj = this.store.object(this.r, ev.prev);
			obj.metadata.resourceVersion = this.store.renderRV(ev.rv);
			this.enqueue([Buffer.from(`{"type":"DELETED","object":${JSON.stringify(obj)}}\n`)],
				true);
		}
	}

	enqueueObject(type, e) {
		const p = this.store.pieces(this.r, e, false);
		this.enqueue([Buffer.from(`{"type":"${type}","object":`), ...p,
			Buffer.from('}\n')], true);
	}

	enqueueBookmark(initialEnd) {
		if (this.ending || this.closed)
			return;
		const md = { resourceVersion: this.store.renderRV(this.store.rv) };
		if (initialEnd)
			md.annotations = { [INITIAL_EVENTS_END]: 'true' };
		const obj = { kind: this.r.kind, apiVersion: this.r.apiVersion, metadata: md };
		this.enqueue([Buffer.from(JSON.stringify({ type: 'BOOKMARK', object: obj }) + '\n')],
			false);
	}

	// Writes one ERROR event and ends the stream (too old RV).
	error(status) {
		this.res.writeHead(200, { 'Content-Type': 'application/json' });
		this.res.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
	}

	enqueue(pieces, isEvent) {
		if (this.closed || this.dropping)
			return;
		this.q.push({ pieces, isEvent });
		if (isEvent && this.dropAfter !== undefined && ++this.events === this.dropAfter) {
			this.q.push({ drop: true });
			this.dropping = true;
		}
		this.schedule();
	}

	schedule() {
		if (!this.pumping && !this.closed) {
			this.pumping = true;
			setImmediate(() => this.pump().catch(() => this.cleanup()));
		}
	}

	async write(buf) {
		if (this.closed)
			return;
		if (!this.res.write(buf))
			await new Promise((resolve) => {
				this.res.once('drain', resolve);
				this.res.once('close', resolve);
			});
	}

	async pump() {
		while (this.q.length && !this.closed) {
			const mode = this.cfg.chunking;
			if (mode === 'coalesce')
				await sleep(this.cfg.coalesceMs);
			const items = this.q;
			this.q = [];
			let batch = [], size = 0;
			for (const it of items) {
				if (it.drop) {
					if (size)
						await this.write(Buffer.concat(batch));
					batch = [];
					size = 0;
					await this.drop(this.fault.mode);
					break;
				}
				const buf = Buffer.concat(it.pieces);
				if (mode === 'split') {
					const n = Math.max(2, this.cfg.splitParts | 0);
					const step = Math.max(1, Math.ceil(buf.length / n));
					for (let i = 0; i < buf.length && !this.closed; i += step) {
						await this.write(buf.subarray(i, i + step));
						await sleep(this.cfg.splitDelayMs);
					}
				} else if (mode === 'event') {
					await this.write(buf);
				} else {
					batch.push(buf);
					size += buf.length;
					if (size >= BATCH) {
						await this.write(Buffer.concat(batch));
						batch = [];
						size = 0;
					}
				}
			}
			if (size)
				await this.write(Buffer.concat(batch));
		}
		this.pumping = false;
		if (this.ending && !this.closed)
			this.res.end();
	}

	// The deadline or a clean stop: flush what is queued, then the final
	// chunk, no ERROR event.
	finish() {
		if (this.closed || this.ending)
			return;
		this.ending = true;
		if (!this.pumping)
			this.res.end();
	}

	// mode: "rst" (TCP reset / HTTP/2 RST_STREAM), "close" (close the
	// connection without the final chunk), "clean" (final chunk).
	async drop(mode) {
		if (this.closed)
			return;
		const res = this.res;
		if (mode === 'clean' || !mode) {
			this.ending = true;
			res.end();
			return;
		}
		await sleep(20); // let what was written reach the peer first
		if (this.closed)
			return;
		if (res.stream) {
			res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
		} else if (mode === 'rst' && res.socket && res.socket.resetAndDestroy) {
			// A TLS socket wraps the TCP one; reset the TCP one.
			const raw = res.socket._parent || res.socket;
			if (raw.resetAndDestroy)
				raw.resetAndDestroy();
			res.socket.destroy();
		} else if (res.socket) {
			res.socket.end();
		}
		this.cleanup();
	}

	cleanup() {
		if (this.closed)
			return;
		this.closed = true;
		for (const t of this.timers)
			clearTimeout(t);
		if (this.listener)
			this.store.listeners.delete(this.listener);
		this.onClose(this);
	}
}

module.exports = { Watcher, INITIAL_EVENTS_END };

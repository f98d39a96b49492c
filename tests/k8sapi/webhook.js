#!/usr/bin/env node
'use strict';
// webhook.js: a tiny validating admission webhook for tests: HTTPS,
// POST /validate, answering from the object's HTTPProxy-like fields:
//   spec.virtualhost.fqdn "denied.*"  -> denied, 403, message
//     "spec.virtualhost.fqdn NAME is not allowed"
//   spec.virtualhost.fqdn "warn.*"    -> allowed with the warning
//     "spec.virtualhost.fqdn NAME is deprecated"
//   anything else                     -> allowed
// Each review it gets is one JSON line on stderr (the request only).
//   node webhook.js --cert F --key F [--port 0]
// prints "listening on https://127.0.0.1:PORT" when ready.

const fs = require('fs');
const https = require('https');

const a = { port: 0 };
for (let i = 2; i < process.argv.length; i += 2)
	a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!a.cert || !a.key) {
	process.stderr.write('usage: webhook.js --cert F --key F [--port N]\n');
	process.exit(2);
}
const srv = https.createServer({ cert: fs.readFileSync(a.cert), key: fs.readFileSync(a.key) },
	(rq, rs) => {
		const parts = [];
		rq.on('data', (d) => parts.push(d));
		rq.on('end', () => {
			let review;
			try {
				review = JSON.parse(Buffer.concat(parts).toString());
			} catch (err) {
				rs.writeHead(400);
				rs.end();
				return;
			}
			const q = review.request || {};
			process.stderr.write(`${JSON.stringify({ path: rq.url, request: q })}\n`);
			const o = q.object || q.oldObject || {};
			const fqdn = ((o.spec || {}).virtualhost || {}).fqdn || '';
			const resp = { uid: q.uid, allowed: true };
			if (fqdn.startsWith('denied.')) {
				resp.allowed = false;
				resp.status = { code: 403, message: `spec.virtualhost.fqdn ${fqdn} is not allowed` };
			} else if (fqdn.startsWith('warn.')) {
				resp.warnings = [`spec.virtualhost.fqdn ${fqdn} is deprecated`];
			}
			const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1',
				kind: 'AdmissionReview', response: resp });
			rs.writeHead(200, { 'Content-Type': 'application/json' });
			rs.end(body);
		});
	});
srv.listen(Number(a.port), '127.0.0.1', () =>
	process.stdout.write(`listening on https://127.0.0.1:${srv.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));

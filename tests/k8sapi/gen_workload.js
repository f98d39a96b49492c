#!/usr/bin/env node
'use strict';
// gen_workload.js: writes a seed file for apiserver.js (one JSON object a
// line) shaped like bench/workload.c: HTTPProxies with 3 routes over 2
// Services each, half of them with TLS referencing the TLS Secrets, one
// EndpointSlice per Service, plus Helm release Secrets with large payloads.
//
//   node gen_workload.js [--proxies N] [--services N] [--slices N]
//       [--tls-secrets N] [--secrets N] [--secret-kb K] [--secret-type T]
//       [--namespace NS] [--out FILE]
// Defaults: 10000 / 10000 / 10000 / 1000 / 20000 / 50 KB /
// helm.sh/release.v1, namespace bench, stdout. The --secrets are written as
// Helm 3 writes its releases (name sh.helm.release.v1.NAME.vN, labels owner,
// name, status, version, data.release); --secret-type Opaque (or any other
// type) gives the same Secrets a type the API server does not filter out,
// the stress case for the client's own filter. Proxy i routes to Services
// app-(2i mod S)-a style names, so the references always resolve whatever
// the counts.

const fs = require('fs');
const crypto = require('crypto');

const opt = { proxies: 10000, services: 10000, slices: 10000, 'tls-secrets': 1000,
	secrets: 20000, 'secret-kb': 50, 'secret-type': 'helm.sh/release.v1', namespace: 'bench',
	out: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const m = /^--([a-z-]+)$/.exec(argv[i]);
	if (!m || !(m[1] in opt) || i + 1 >= argv.length) {
		process.stderr.write('usage: gen_workload.js [--proxies N] [--services N] [--slices N] ' +
			'[--tls-secrets N] [--secrets N] [--secret-kb K] [--secret-type T] [--namespace NS] ' +
			'[--out FILE]\n');
		process.exit(2);
	}
	const v = argv[++i];
	opt[m[1]] = typeof opt[m[1]] === 'number' ? Number(v) : v;
}

const ns = opt.namespace;
const out = opt.out ? fs.openSync(opt.out, 'w') : 1;
let buf = [], size = 0;
function emit(o) {
	const s = JSON.stringify(o) + '\n';
	buf.push(s);
	size += s.length;
	if (size > (8 << 20))
		flush();
}
function flush() {
	if (buf.length)
		fs.writeSync(out, buf.join(''));
	buf = [];
	size = 0;
}

const svcName = (j) => `svc-${j}`;

// One self-signed-looking PEM pair is enough: the payload is what costs.
const pem = (label, n) => `-----BEGIN ${label}-----\n` +
	crypto.randomBytes(n).toString('base64').replace(/.{64}/g, '$&\n') +
	`\n-----END ${label}-----\n`;
const crt = Buffer.from(pem('CERTIFICATE', 600)).toString('base64');
const key = Buffer.from(pem('PRIVATE KEY', 120)).toString('base64');
for (let i = 0; i < opt['tls-secrets']; i++) {
	emit({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `tls-${i}`, namespace: ns },
		type: 'kubernetes.io/tls', data: { 'tls.crt': crt, 'tls.key': key } });
}
// Helm release Secrets: large and irrelevant to Contour. The type follows
// metadata so that apiserver.js reads it without parsing the payload.
const blob = crypto.randomBytes(Math.ceil(opt['secret-kb'] * 1024 * 3 / 4)).toString('base64')
	.slice(0, opt['secret-kb'] * 1024);
for (let i = 0; i < opt.secrets; i++) {
	const release = `app-${i}`;
	emit({ apiVersion: 'v1', kind: 'Secret', metadata: {
		name: `sh.helm.release.v1.${release}.v1`, namespace: ns,
		labels: { name: release, owner: 'helm', status: 'deployed', version: '1' } },
	type: opt['secret-type'], data: { release: blob } });
}
for (let j = 0; j < opt.services; j++) {
	emit({ apiVersion: 'v1', kind: 'Service', metadata: { name: svcName(j), namespace: ns },
		spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } });
}
for (let j = 0; j < opt.slices; j++) {
	const svc = svcName(opt.services ? j % opt.services : j);
	emit({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
		metadata: { name: `${svc}-${j}`, namespace: ns,
			labels: { 'kubernetes.io/service-name': svc } },
		addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
		endpoints: [{ addresses: [`10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`],
			conditions: { ready: true } }] });
}
const prefixes = ['/', '/api', '/static'];
for (let i = 0; i < opt.proxies; i++) {
	const s = opt.services || 1;
	const a = svcName((2 * i) % s), b = svcName((2 * i + 1) % s);
	const vhost = { fqdn: `app-${i}.bench.example.com` };
	if (i % 2 === 0 && opt['tls-secrets'] > 0)
		vhost.tls = { secretName: `tls-${(i / 2) % opt['tls-secrets']}` };
	emit({ apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy',
		metadata: { name: `app-${i}`, namespace: ns }, spec: { virtualhost: vhost,
			routes: prefixes.map((p) => ({ conditions: [{ prefix: p }],
				services: [{ name: a, port: 80, weight: 90 }, { name: b, port: 80, weight: 10 }] })) } });
}
flush();
if (opt.out)
	fs.closeSync(out);

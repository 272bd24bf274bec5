// acme-node-client.js - npm's acme-client as a test peer (tests/acme-helpers.bash)
//
//   node acme-node-client.js get CHALLENGE NAME DIR     a certificate for NAME
//   node acme-node-client.js revoke DIR CERT             revoke CERT (reason 4)
//
// DIR keeps the account key (account.pem: a second run is the same
// account), the certificate key (NAME.key) and the chain (NAME.pem).
// CHALLENGE is http-01 (its own responder on 127.0.0.1:$ACME_HTTP_PORT),
// tls-alpn-01 (its own responder on 127.0.0.1:$ACME_TLS_PORT) or dns-01
// (TXT set through pebble-challtestsrv's API, $ACME_DNS_API). The server
// is $ACME_DIRECTORY; its HTTPS is trusted through NODE_EXTRA_CA_CERTS.
// The client's own pre-check of a challenge would resolve the name through
// the system's DNS: it is off (skipChallengeVerification), the server's
// validator is what is tested.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const fs = require('fs');
// localhost is ::1 first on a stock Debian (/etc/hosts), and the test's
// ca-serve listens on 127.0.0.1: resolve IPv4 first, as curl falls back.
require('dns').setDefaultResultOrder('ipv4first');
const http = require('http');
const path = require('path');
const tls = require('tls');
const acme = require('acme-client');

function die(msg) {
	process.stderr.write(`acme-node-client: ${msg}\n`);
	process.exit(1);
}

function env(name) {
	const v = process.env[name];
	if (!v)
		die(`${name} is not set`);
	return v;
}

async function client(dir) {
	const keyFile = path.join(dir, 'account.pem');
	let key;
	if (fs.existsSync(keyFile)) {
		key = fs.readFileSync(keyFile);
	} else {
		key = await acme.crypto.createPrivateEcdsaKey();
		fs.writeFileSync(keyFile, key, { mode: 0o600 });
	}
	return new acme.Client({ directoryUrl: env('ACME_DIRECTORY'), accountKey: key });
}

function listen(server, port) {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', resolve);
	});
}

async function dnsApi(op, body) {
	const res = await fetch(`${env('ACME_DNS_API')}/${op}`, {
		method: 'POST', body: JSON.stringify(body),
	});
	if (!res.ok)
		throw new Error(`challtestsrv ${op}: HTTP ${res.status}`);
}

async function get(type, name, dir) {
	const c = await client(dir);
	const tokens = new Map();	// http-01: token -> key authorization
	const alpn = new Map();		// tls-alpn-01: name -> secure context
	let server = null;

	if (type === 'http-01') {
		server = http.createServer((req, res) => {
			const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url);
			const ka = m && tokens.get(m[1]);
			res.writeHead(ka ? 200 : 404, { 'Content-Type': 'text/plain' });
			res.end(ka || 'not found');
		});
		await listen(server, Number(env('ACME_HTTP_PORT')));
	} else if (type === 'tls-alpn-01') {
		server = tls.createServer({
			ALPNProtocols: ['acme-tls/1'],
			SNICallback: (sni, cb) => cb(null, alpn.get(sni.toLowerCase()) || null),
		}, (s) => s.end());
		server.on('tlsClientError', () => {});
		await listen(server, Number(env('ACME_TLS_PORT')));
	} else if (type !== 'dns-01') {
		die(`unknown challenge type ${type}`);
	}

	const [key, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] },
	    await acme.crypto.createPrivateEcdsaKey());
	const chain = await c.auto({
		csr,
		email: 'test@example.org',
		termsOfServiceAgreed: true,
		skipChallengeVerification: true,
		challengePriority: [type],
		challengeCreateFn: async (authz, ch, ka) => {
			const id = authz.identifier.value;
			if (ch.type === 'http-01')
				tokens.set(ch.token, ka);
			else if (ch.type === 'dns-01')
				await dnsApi('set-txt', { host: `_acme-challenge.${id}.`, value: ka });
			else if (ch.type === 'tls-alpn-01') {
				const [k, crt] = await acme.crypto.createAlpnCertificate(authz, ka);
				alpn.set(id, tls.createSecureContext({ key: k, cert: crt }));
			} else
				throw new Error(`unexpected challenge ${ch.type}`);
		},
		challengeRemoveFn: async (authz, ch) => {
			if (ch.type === 'dns-01')
				await dnsApi('clear-txt', { host: `_acme-challenge.${authz.identifier.value}.` });
		},
	});
	if (server)
		server.close();
	fs.writeFileSync(path.join(dir, `${name}.key`), key, { mode: 0o600 });
	fs.writeFileSync(path.join(dir, `${name}.pem`), chain);
}

async function revoke(dir, cert) {
	const c = await client(dir);
	// The account exists (200): acme-client then posts the payload as an
	// update, which must not be empty.
	await c.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:test@example.org'] });
	await c.revokeCertificate(fs.readFileSync(cert), { reason: 4 });
}

async function main() {
	const [op, ...args] = process.argv.slice(2);
	if (op === 'get' && args.length === 3)
		await get(...args);
	else if (op === 'revoke' && args.length === 2)
		await revoke(...args);
	else
		die('usage: acme-node-client.js get CHALLENGE NAME DIR | revoke DIR CERT');
}

main().then(() => process.exit(0), (e) => die(e.stack || String(e)));

// acme-a-client.js - an account's life through npm's acme-client, a peer
// nobody here wrote (tests/acme-a.bats): created, found again, contact
// updated, key changed (RFC 8555 7.3.5), deactivated.
//
//   node acme-a-client.js DIRECTORY-URL
//   node acme-a-client.js DIRECTORY-URL eab KID HMAC-KEY
//
// The second form makes an account with an external account binding
// (RFC 8555 7.3.4), then tries the same binding for a second key.
// Prints one line per step; exits 1 on an unexpected failure.
//
// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';

const acme = require('acme-client');
// localhost is ::1 first on a stock Debian (/etc/hosts), and the test's
// ca-serve listens on 127.0.0.1: resolve IPv4 first, as curl falls back.
require('dns').setDefaultResultOrder('ipv4first');

const [url, mode, eabKid, eabHmac] = process.argv.slice(2);

async function eab() {
	const binding = { kid: eabKid, hmacKey: eabHmac };
	const key = await acme.crypto.createPrivateEcdsaKey('P-256');
	const client = new acme.Client({
		directoryUrl: url, accountKey: key, externalAccountBinding: binding,
	});
	const acct = await client.createAccount({ termsOfServiceAgreed: true });
	console.log(`bound: ${acct.status}`);
	const second = new acme.Client({
		directoryUrl: url,
		accountKey: await acme.crypto.createPrivateEcdsaKey('P-256'),
		externalAccountBinding: binding,
	});
	try {
		await second.createAccount({ termsOfServiceAgreed: true });
		console.log('the binding served twice');
	} catch (e) {
		console.log(`the same binding again: ${e.message}`);
	}
}

(async () => {
	if (mode === 'eab') {
		await eab();
		return;
	}
	const key = await acme.crypto.createPrivateEcdsaKey('P-256');
	const client = new acme.Client({ directoryUrl: url, accountKey: key });
	const acct = await client.createAccount({
		termsOfServiceAgreed: true,
		contact: ['mailto:a@example.test'],
	});
	const kid = client.getAccountUrl();
	console.log(`created ${acct.status} ${acct.contact.join(' ')}`);

	const again = new acme.Client({ directoryUrl: url, accountKey: key });
	await again.createAccount({ onlyReturnExisting: true });
	console.log(`found again: ${again.getAccountUrl() === kid}`);

	const upd = await client.updateAccount({ contact: ['mailto:b@example.test'] });
	console.log(`updated ${upd.contact.join(' ')}`);

	const nk = await acme.crypto.createPrivateRsaKey(2048);
	await client.updateAccountKey(nk);
	const fresh = new acme.Client({ directoryUrl: url, accountKey: nk });
	await fresh.createAccount({ onlyReturnExisting: true });
	console.log(`key changed: the new key finds it: ${fresh.getAccountUrl() === kid}`);
	const old = new acme.Client({ directoryUrl: url, accountKey: key });
	try {
		await old.createAccount({ onlyReturnExisting: true });
		console.log('the old key still finds it');
	} catch (e) {
		console.log(`the old key: ${e.message}`);
	}

	const d = await client.updateAccount({ status: 'deactivated' });
	console.log(`deactivated: ${d.status}`);
	try {
		await client.updateAccount({ contact: ['mailto:c@example.test'] });
		console.log('a deactivated account still works');
	} catch (e) {
		console.log(`after deactivation: ${e.message.replace(kid.split('/').pop(), 'ID')}`);
	}
})().catch((e) => {
	console.log(`failed: ${e.message}`);
	process.exit(1);
});

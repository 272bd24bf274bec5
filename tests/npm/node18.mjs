// Debian 12's nodejs is 18: the test peers (jose 6, oidc-provider 8) use
// what later releases have. Imported first by the peers.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const crypto = require('node:crypto');

// Web Crypto as the global `crypto` (Node 19+).
if (globalThis.crypto === undefined)
	globalThis.crypto = crypto.webcrypto;
// URL.parse (Node 22+): a URL, or null when the text is none.
if (typeof URL.parse !== 'function')
	URL.parse = (url, base) => {
		try {
			return new URL(url, base);
		} catch {
			return null;
		}
	};
// Headers.getSetCookie (Node 19.7+): each Set-Cookie header; Node 18 joins
// them with ", ", split again before each NAME= (an Expires date's comma is
// followed by a day, never by NAME=).
if (typeof Headers !== 'undefined' &&
    typeof Headers.prototype.getSetCookie !== 'function')
	Headers.prototype.getSetCookie = function () {
		const v = this.get('set-cookie');
		return v === null ? [] : v.split(/,\s*(?=[^;,=\s]+=)/);
	};

// get-id-token.mjs - ID tokens from oidc-peer.mjs by the real
// authorization-code flow with PKCE, as get-id-token.sh does with curl,
// but many in one process (a test or the benchmark needs several; each
// costs a few milliseconds here instead of a second of process starts).
//
//   node get-id-token.mjs ISSUER DIR LOGIN[:NAME]...
//       for each LOGIN, DIR/NAME.tok (NAME defaults to LOGIN; LOGIN*N
//       makes N tokens NAME-1.tok ... NAME-N.tok)
//   node get-id-token.mjs --browse URL
//       play the browser for an authorization URL a client printed:
//       follow the provider's redirects and finally the one to the
//       client's own loopback redirect URI (ca-token --oidc).
import './node18.mjs';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const CLIENT = process.env.CLIENT_ID || 'ca-tools';
const REDIRECT = 'http://127.0.0.1:45999/callback';
const b64url = (b) => b.toString('base64url');

// Follow redirects from url with a cookie jar until one starts with stop;
// return that location (or, stop being null, the last response's body).
async function follow(url, stop) {
  const jar = new Map();
  for (let i = 0; i < 12; i++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const c of r.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const j = kv.indexOf('=');
      jar.set(kv.slice(0, j), kv.slice(j + 1));
    }
    const loc = r.headers.get('location');
    if (!loc) {
      const body = await r.text();
      if (stop === null) return body;
      throw new Error(`no redirect from ${url}: ${r.status} ${body.slice(0, 200)}`);
    }
    const next = new URL(loc, url).toString();
    if (stop !== null && next.startsWith(stop)) return next;
    url = next;
  }
  throw new Error('too many redirects');
}

async function idToken(iss, login) {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const q = new URLSearchParams({
    client_id: CLIENT, response_type: 'code', scope: 'openid email groups',
    redirect_uri: REDIRECT, code_challenge: challenge,
    code_challenge_method: 'S256', state: 's1',
    nonce: randomBytes(16).toString('hex'), login_hint: login,
  });
  const back = new URL(await follow(`${iss}/auth?${q}`, REDIRECT));
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back}`);
  const r = await fetch(`${iss}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, client_id: CLIENT,
      redirect_uri: REDIRECT, code_verifier: verifier,
    }),
  });
  const j = await r.json();
  if (!j.id_token) throw new Error(`token endpoint: ${JSON.stringify(j)}`);
  return j.id_token;
}

const args = process.argv.slice(2);
try {
  if (args[0] === '--browse') {
    process.stdout.write(await follow(args[1], null));
  } else {
    const [iss, dir, ...logins] = args;
    for (const spec of logins) {
      const [who, n] = spec.split(':')[0].split('*');
      const name = spec.split(':')[1] || who;
      if (n === undefined) {
        writeFileSync(`${dir}/${name}.tok`, `${await idToken(iss, who)}\n`);
      } else {
        for (let i = 1; i <= Number(n); i++)
          writeFileSync(`${dir}/${name}-${i}.tok`, `${await idToken(iss, who)}\n`);
      }
    }
  }
} catch (e) {
  process.stderr.write(`get-id-token: ${e.message}\n`);
  process.exit(1);
}

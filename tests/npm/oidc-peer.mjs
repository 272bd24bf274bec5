// oidc-peer.mjs - a real OpenID provider (npm oidc-provider, panva) for
// ca-tools' OIDC provisioner tests: one public native client, accounts
// from ACCOUNTS, and an interaction that logs in the account named by the
// authorization request's login_hint and consents at once, so that a test
// can run the real authorization-code flow (PKCE, loopback redirect) with
// curl and no browser. Everything else is oidc-provider's own code:
// discovery, /jwks, /auth, /token, ID token signing.
//
//   OIDC_PORT=0 READY_FILE=/tmp/x/port node oidc-peer.mjs
//
// Environment:
//   OIDC_PORT    port on 127.0.0.1 (0: any; the bound one goes to READY_FILE
//                and to stdout as "listening PORT")
//   READY_FILE   written (atomically) with the port once listening
//   READY_FD     a file descriptor that gets the port and a newline, then
//                is closed (as ca-serve's --ready-fd)
//   CLIENT_ID    the client id (default "ca-tools"); its redirect URI is
//                http://127.0.0.1/callback, any port (RFC 8252 7.3)
//   ACCOUNTS     JSON {"id": {claims...}}; default alice (verified e-mail,
//                group "staff"), bob (unverified e-mail, other domain),
//                eve (verified, other domain) and root (verified, group
//                "ops": the tests' admin)
//   ID_TOKEN_TTL seconds (default 300)
//   ALG          ID token signing algorithm: RS256 (default) or ES256
//   JWKS_MAX_AGE if set, /jwks answers Cache-Control: public, max-age=N
//                (oidc-provider itself sends no Cache-Control there; real
//                providers such as Google do)
// Each request is logged on stdout ("GET /jwks"): the tests count the
// CA's key fetches there.
// Test hooks (never in a real provider):
//   POST /_test/rotate   replace the signing key by a new one (new kid):
//                        the CA must refetch the JWKS on the unknown kid
import './node18.mjs';
import { createServer } from 'node:http';
import { writeFileSync, renameSync, writeSync, closeSync } from 'node:fs';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const CLIENT_ID = process.env.CLIENT_ID || 'ca-tools';
const ALG = process.env.ALG || 'RS256';
const TTL = Number(process.env.ID_TOKEN_TTL || 300);
const ACCOUNTS = JSON.parse(process.env.ACCOUNTS || JSON.stringify({
  alice: { email: 'alice@example.com', email_verified: true, groups: ['staff'] },
  bob: { email: 'Bob@Other.Example', email_verified: false, groups: [] },
  eve: { email: 'eve@other.example', email_verified: true, groups: [] },
  root: { email: 'root@example.com', email_verified: true, groups: ['ops'] },
}));

async function newKey(n) {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = `k${n}-${Date.now().toString(36)}`;
  jwk.alg = ALG;
  jwk.use = 'sig';
  return jwk;
}

function makeProvider(issuer, keys) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: ALG,
    }],
    jwks: { keys },
    pkce: { required: () => true },
    // Scope claims (email, groups) in the ID token itself, where step-ca
    // and ca-tools read them; the default puts them in userinfo only.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'groups'],
    features: { devInteractions: { enabled: false } },
    ttl: { IdToken: TTL, AccessToken: TTL, AuthorizationCode: 60 },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      if (!Object.hasOwn(ACCOUNTS, id)) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...ACCOUNTS[id] }; } };
    },
  });
  if (process.env.JWKS_MAX_AGE) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/jwks') ctx.set('Cache-Control', `public, max-age=${Number(process.env.JWKS_MAX_AGE)}`);
    });
  }
  // The scripted "person": log in as login_hint (default alice), consent.
  provider.use(async (ctx, next) => {
    const m = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!m || ctx.method !== 'GET') return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params } = details;
    let result;
    if (prompt.name === 'login') {
      const who = params.login_hint || 'alice';
      if (!Object.hasOwn(ACCOUNTS, who)) {
        result = { error: 'access_denied', error_description: 'no such account' };
      } else {
        result = { login: { accountId: who } };
      }
    } else {
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      grant.addOIDCScope(params.scope);
      result = { consent: { grantId: await grant.save() } };
    }
    return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  });
  return provider;
}

let current = null;
let keyNo = 0;
const server = createServer((req, res) => {
  process.stdout.write(`${req.method} ${req.url.replace(/\?.*/, '')}\n`);
  if (req.method === 'POST' && req.url === '/_test/rotate') {
    newKey(++keyNo).then((k) => {
      current = makeProvider(issuer, [k]);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid: k.kid }));
    });
    return;
  }
  current.callback()(req, res);
});

let issuer;
server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', async () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  current = makeProvider(issuer, [await newKey(keyNo)]);
  if (process.env.READY_FILE) {
    writeFileSync(`${process.env.READY_FILE}.tmp`, `${port}\n`);
    renameSync(`${process.env.READY_FILE}.tmp`, process.env.READY_FILE);
  }
  process.stdout.write(`listening ${port}\n`);
  if (process.env.READY_FD) {
    writeSync(Number(process.env.READY_FD), `${port}\n`);
    closeSync(Number(process.env.READY_FD));
  }
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

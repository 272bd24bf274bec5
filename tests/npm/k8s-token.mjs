// k8s-token.mjs - Kubernetes-shaped service-account tokens signed by an
// independent JOSE implementation (npm jose), for ca-tools' K8sSA tests.
//
//   node k8s-token.mjs keygen DIR [RS256|ES256]
//        DIR/sa.key (PKCS#8, the "cluster's" signing key) and DIR/sa.pub
//        (SPKI PEM: what ca.json's K8sSA "publicKeys" holds)
//   node k8s-token.mjs legacy DIR [NS] [SA]
//        a secret-based token as kube-controller-manager made them before
//        1.24: no exp, no iat, no aud, no jti
//   node k8s-token.mjs projected DIR AUD [NS] [SA] [TTL]
//        a bound token as the kubelet projects it (TokenRequest API):
//        aud, exp, iat, nbf, jti (1.29+), and the "kubernetes.io" object
//        with namespace, pod, node and serviceaccount
//   node k8s-token.mjs batch DIR < JSON
//        several tokens in one run (node starts once): JSON is an array
//        of {"out": FILE, "cmd": "legacy"|"projected", "args": [...],
//        "dir": DIR (default the batch's), "now": N, "claims": {...}}
// Environment: ISS (projected issuer, default
// https://kubernetes.default.svc.cluster.local), NOW (unix seconds, for
// expired / not-yet-valid cases), CLAIMS (JSON merged over the claims, for
// hostile cases: e.g. '{"sub":""}').
// (Adapted for ca-tools' tests from the design study's peer script.)
import './node18.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair, exportPKCS8, exportSPKI, importPKCS8 } from 'jose';

const [cmd, batchDir, ...rest] = process.argv.slice(2);
let dir = batchDir;
let now = Number(process.env.NOW || Math.floor(Date.now() / 1000));
let extra = JSON.parse(process.env.CLAIMS || '{}');

// Kubernetes' kid: base64url(SHA-256(DER SPKI)) (pkg/serviceaccount/jwt.go keyIDFromPublicKey).
function kidOf(spkiPem) {
  const der = Buffer.from(spkiPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return createHash('sha256').update(der).digest('base64url');
}

async function sign(claims) {
  const alg = readFileSync(`${dir}/sa.alg`, 'utf8').trim();
  const key = await importPKCS8(readFileSync(`${dir}/sa.key`, 'utf8'), alg);
  const kid = kidOf(readFileSync(`${dir}/sa.pub`, 'utf8'));
  return new SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg, kid }).sign(key);
}

if (cmd === 'keygen') {
  const alg = rest[0] || 'RS256';
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  writeFileSync(`${dir}/sa.key`, await exportPKCS8(privateKey), { mode: 0o600 });
  writeFileSync(`${dir}/sa.pub`, await exportSPKI(publicKey));
  writeFileSync(`${dir}/sa.alg`, `${alg}\n`);
} else if (cmd === 'legacy') {
  process.stdout.write(await legacy(rest));
} else if (cmd === 'projected') {
  process.stdout.write(await projected(rest));
} else if (cmd === 'batch') {
  const t0 = now;
  for (const t of JSON.parse(readFileSync(0, 'utf8'))) {
    dir = t.dir || batchDir;
    now = t.now || t0;
    extra = t.claims || {};
    writeFileSync(t.out, await (t.cmd === 'legacy' ? legacy : projected)(t.args || []));
  }
} else {
  process.stderr.write('usage: k8s-token.mjs keygen|legacy|projected|batch DIR ...\n');
  process.exit(2);
}

async function legacy(rest) {
  const [ns = 'default', sa = 'build-robot'] = rest;
  return `${await sign({
    iss: 'kubernetes/serviceaccount',
    'kubernetes.io/serviceaccount/namespace': ns,
    'kubernetes.io/serviceaccount/secret.name': `${sa}-token-7x2qk`,
    'kubernetes.io/serviceaccount/service-account.name': sa,
    'kubernetes.io/serviceaccount/service-account.uid': '8b1c3f4e-2a5d-4e6f-9a0b-1c2d3e4f5a6b',
    sub: `system:serviceaccount:${ns}:${sa}`,
  })}\n`;
}

async function projected(rest) {
  const [aud, ns = 'default', sa = 'build-robot', ttl = '3607'] = rest;
  return `${await sign({
    aud: [aud],
    exp: now + Number(ttl),
    iat: now,
    iss: process.env.ISS || 'https://kubernetes.default.svc.cluster.local',
    jti: randomUUID(),
    'kubernetes.io': {
      namespace: ns,
      node: { name: 'node-1', uid: '0e5f8b7a-1111-4222-8333-944455556666' },
      pod: { name: `${sa}-5d8c7b9f4-abcde`, uid: '3c2b1a09-7777-4888-9999-aaaabbbbcccc' },
      serviceaccount: { name: sa, uid: '8b1c3f4e-2a5d-4e6f-9a0b-1c2d3e4f5a6b' },
      warnafter: now + 3600,
    },
    nbf: now,
    sub: `system:serviceaccount:${ns}:${sa}`,
  })}\n`;
}

// Mints JSON Web Tokens with the npm package `jose`, for gatehouse's JWT authorizer tests: keys
// nobody here wrote, signatures nobody here computed.
//
//   node mint_jwt.mjs SPEC.json      (or the spec on standard input)
//
// SPEC:
//   {
//     "keys":   [{"kid": "rsa-1", "alg": "RS256"}, {"kid": "ec-1", "alg": "ES256"}],
//     "tokens": [{"name": "ok", "key": "rsa-1", "claims": {"iss": "…", "exp": 1893456000},
//                 "header": {"typ": "JWT"},          // optional: more protected header members
//                 "kid": "other",                     // optional: the header's kid, when it is
//                                                     //   not the signing key's own
//                 "as": "signed"}]                    // optional: "signed" (default), "none"
//   }                                                 //   (alg none, no signature) or
//                                                     //   "hs256-public" (HS256 keyed with the
//                                                     //   key's public SPKI PEM: alg confusion)
//
// Prints one JSON object: {"keys": {kid: public JWK}, "jwks": {"keys": [...]},
//                          "pems": {kid: public SPKI PEM}, "tokens": {name: compact JWS}}.
// Exits 2 with a message on standard error when the spec is unusable.

import { readFileSync } from 'node:fs';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';

function fail(message) {
  process.stderr.write(`mint_jwt: ${message}\n`);
  process.exit(2);
}

function b64url(text) {
  return Buffer.from(text, 'utf8').toString('base64url');
}

const source = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : readFileSync(0, 'utf8');
let spec;
try {
  spec = JSON.parse(source);
} catch (e) {
  fail(`the spec is not JSON: ${e.message}`);
}

const keys = new Map();  // kid → {alg, privateKey, publicKey, jwk, pem}
for (const k of spec.keys ?? []) {
  if (!k.kid || !k.alg) fail('every key needs a kid and an alg');
  const { privateKey, publicKey } = await generateKeyPair(k.alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  jwk.kid = k.kid;
  jwk.alg = k.alg;
  jwk.use = 'sig';
  keys.set(k.kid, { alg: k.alg, privateKey, publicKey, jwk, pem: await exportSPKI(publicKey) });
}

const tokens = {};
for (const t of spec.tokens ?? []) {
  const key = keys.get(t.key);
  if (!key) fail(`token ${t.name}: no key ${t.key}`);
  const as = t.as ?? 'signed';
  const claims = t.claims ?? {};
  const kid = t.kid ?? t.key;
  if (as === 'signed') {
    const header = { typ: 'JWT', ...(t.header ?? {}), alg: key.alg, kid };
    tokens[t.name] = await new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
  } else if (as === 'none') {
    const header = { typ: 'JWT', ...(t.header ?? {}), alg: 'none', kid };
    tokens[t.name] = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.`;
  } else if (as === 'hs256-public') {
    const header = { typ: 'JWT', ...(t.header ?? {}), alg: 'HS256', kid };
    const secret = new TextEncoder().encode(key.pem);
    tokens[t.name] = await new SignJWT(claims).setProtectedHeader(header).sign(secret);
  } else {
    fail(`token ${t.name}: unknown "as" ${as}`);
  }
}

const out = { keys: {}, jwks: { keys: [] }, pems: {}, tokens };
for (const [kid, k] of keys) {
  out.keys[kid] = k.jwk;
  out.jwks.keys.push(k.jwk);
  out.pems[kid] = k.pem;
}
process.stdout.write(JSON.stringify(out) + '\n');

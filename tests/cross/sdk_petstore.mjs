// Drives petstore's generated JavaScript SDK (petstore --sdk javascript) as its users would: the
// CommonJS build (require), the ES module (import) and the browser build (a <script>: the global
// apigClientFactory, here in a vm context), against running petstores over HTTPS and plain HTTP;
// then checks the SDK's SigV4 signatures against the npm package aws4's for the same requests.
//
//   node sdk_petstore.mjs CONFIG_JSON
//
// CONFIG_JSON: {"sdk": DIR, "targets": [{"name", "url", "baked", "apiKey", "jwt", "accessKey",
//               "secretKey", "token"}]}: url is the stage's invoke URL (https://127.0.0.1:P/prod),
//               baked true when the SDK was generated with it; the rest are what petstore printed
//               (token: the demo token of DELETE /pets/{petId}).
//
// Prints "PASS name" or "FAIL name: why" per check; exits 1 when one failed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import aws4 from 'aws4';

const config = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
let failed = 0;

// Equal as JSON: the browser build's values are its vm context's objects.
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function report(name, ok, why) {
  if (ok) {
    console.log(`PASS ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}: ${why}`);
  }
}

// Runs `fn`; a check passes when it returns true, fails with its message otherwise.
async function check(name, fn) {
  try {
    const got = await fn();
    report(name, got === true, `got ${JSON.stringify(got)}`);
  } catch (e) {
    report(name, false, `threw ${e && e.stack ? e.stack : e}`);
  }
}

// The rejection of `promise`, or a failure when it resolves.
async function rejection(promise) {
  try {
    const r = await promise;
    return { resolved: { status: r.status, data: r.data } };
  } catch (e) {
    return e;
  }
}

const cjs = require(`${config.sdk}/apigClient.js`);
const esm = await import(pathToFileURL(`${config.sdk}/apigClient.mjs`).href);

// The browser build: a classic script in a context without `module` defines the global.
const browser = (() => {
  const sandbox = { TextEncoder, URL, crypto: globalThis.crypto, fetch: globalThis.fetch };
  vm.runInNewContext(readFileSync(`${config.sdk}/apigClient.js`, 'utf8'), sandbox);
  return sandbox.apigClientFactory;
})();

await check('exports: require, import (named and default), <script> global', () =>
  typeof cjs.apigClientFactory.newClient === 'function' &&
  typeof esm.apigClientFactory.newClient === 'function' &&
  esm.default === esm.apigClientFactory && typeof browser?.newClient === 'function');

const builds = { cjs: cjs.apigClientFactory, esm: esm.apigClientFactory, browser };

for (const target of config.targets) {
  for (const [build, factory] of Object.entries(builds)) {
    const tag = `${build} ${target.name}`;
    // A target marked baked is the URL the SDK was generated with: no invokeUrl needed.
    const open = factory.newClient(target.baked ? {} : { invokeUrl: target.url });
    const keyed = factory.newClient({ invokeUrl: target.url, apiKey: target.apiKey });

    await check(`${tag}: petsGet with type and page`, async () => {
      const r = await open.petsGet({ type: 'cat', page: 1 }, {}, {});
      const page2 = await open.petsGet({ type: 'cat', page: 2 });
      return r.status === 200 && r.statusText === 'OK' && Array.isArray(r.data) &&
        r.data.length > 0 && r.data.every((p) => p.type === 'cat') &&
        r.headers['content-type'] === 'application/json' &&
        r.config.url === `${target.url}/pets?page=1&type=cat` &&
        page2.status === 200 && same(page2.data, []) ||
        { status: r.status, data: r.data, headers: r.headers, url: r.config.url };
    });

    let created;
    await check(`${tag}: petsPost with the API key: 201`, async () => {
      const r = await keyed.petsPost({}, { type: 'fish', price: 30 }, {});
      created = r.data;
      return r.status === 201 && r.data.type === 'fish' && Number.isInteger(r.data.id) ||
        { status: r.status, data: r.data };
    });

    await check(`${tag}: petsPost without the API key: 403 {"message":"Forbidden"}`, async () => {
      const e = await rejection(open.petsPost(null, { type: 'fish', price: 30 }));
      // The browser build's errors are its vm context's Errors.
      return e instanceof factory.ApiError && (build === 'browser' || e instanceof Error) &&
        e.name === 'ApiError' && e.response?.status === 403 &&
        same(e.response.data, { message: 'Forbidden' }) &&
        e.response.headers['x-amzn-errortype'] === 'ForbiddenException' ||
        { name: e.name, message: e.message, response: e.response };
    });

    await check(`${tag}: petsPetIdGet of a missing pet: 404`, async () => {
      const e = await rejection(open.petsPetIdGet({ petId: 9999 }));
      return e.response?.status === 404 &&
        same(e.response.data, { message: 'Pet 9999 not found' }) || e;
    });

    await check(`${tag}: a missing path parameter throws at once`, () => {
      try {
        open.petsPetIdGet({});
        return 'no throw';
      } catch (e) {
        return e.message === 'petId must be defined' || e.message;
      }
    });

    await check(`${tag}: adminStatsGet signed with SigV4: 200`, async () => {
      const signer = factory.newClient({
        invokeUrl: target.url, accessKey: target.accessKey, secretKey: target.secretKey,
      });
      const r = await signer.adminStatsGet({}, {}, {});
      return r.status === 200 && r.data.caller === 'arn:aws:iam::123456789012:user/petstore-admin' ||
        { status: r.status, data: r.data };
    });

    await check(`${tag}: adminStatsGet with a wrong secret: 403`, async () => {
      const signer = factory.newClient({
        invokeUrl: target.url, accessKey: target.accessKey, secretKey: `${target.secretKey}x`,
      });
      const e = await rejection(signer.adminStatsGet());
      return e.response?.status === 403 &&
        e.response.data.message.startsWith('The request signature we calculated does not match') ||
        e;
    });

    await check(`${tag}: petsPetIdDelete with additionalParams.headers Authorization`, async () => {
      const none = await rejection(open.petsPetIdDelete({ petId: created.id }));
      const r = await open.petsPetIdDelete({ petId: created.id }, null, {
        headers: { Authorization: `Bearer ${target.token}` },
      });
      return none.response?.status === 401 && r.status === 200 &&
        r.data.message === `Pet ${created.id} deleted by petstore-admin` ||
        { none: none.response?.status, status: r.status, data: r.data };
    });

    await check(`${tag}: petsPetIdOwnerGet with the JWT`, async () => {
      const r = await open.petsPetIdOwnerGet({ petId: 1 }, undefined, {
        headers: { Authorization: `Bearer ${target.jwt}` },
      });
      return r.status === 200 && r.data.owner === 'alice' || { status: r.status, data: r.data };
    });
  }
}

// The SDK's signatures equal aws4's: requests captured through the `fetch` option (nothing is
// sent), re-signed by aws4 with the captured x-amz-date, the Authorization headers compared.
const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const captured = [];
const capture = async (url, init) => {
  captured.push({ url, init });
  return new Response('{"ok":true}', { status: 200, headers: { 'Content-Type': 'application/json' } });
};
function aws4Authorization({ url, init }, region) {
  const u = new URL(url);
  const headers = { ...init.headers };
  delete headers.authorization;
  delete headers['x-amz-security-token'];  // AWS's SDK adds it after signing
  const signed = aws4.sign({
    host: u.host, path: u.pathname + u.search, method: init.method, headers, body: init.body,
    service: 'execute-api', region, extraHeadersToIgnore: { 'content-length': true },
  }, creds);
  return signed.headers.Authorization;
}

for (const [build, factory] of Object.entries({ cjs: cjs.apigClientFactory, esm: esm.apigClientFactory })) {
  captured.length = 0;
  const region = 'eu-west-2';
  const client = factory.newClient({
    invokeUrl: 'https://abc123.execute-api.eu-west-2.amazonaws.com/prod/', region,
    accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey,
    sessionToken: 'session/token+1=', apiKey: 'key-0123', fetch: capture,
  });
  const cases = [
    ['GET with query parameters (names and values to encode, repeated)', () =>
      client.petsGet({ type: 'dog', page: 2 }, {}, { queryParams: { 'a b': "x'y*", z: ['2', '1'], e: '' } })],
    ['POST with a JSON body and a header with spaces', () =>
      client.petsPost({}, { type: 'fish', price: 30 }, { headers: { 'X-Trace': '  a   b ' } })],
    ['a path parameter with reserved characters and unicode', () =>
      client.petsPetIdGet({ petId: "a/b c!'()*é%41" })],
    ['a greedy path with a string body', () =>
      client.legacyProxyPut({ proxy: 'a b/c%d/é' }, 'plain text', { headers: { 'Content-Type': 'text/plain' } })],
    ['a greedy path left out (expands to "")', () => client.legacyProxyDelete()],
    ['invokeApi with a lower-case method and a body', () =>
      client.invokeApi('patch', '/legacy/x', { a: 1 }, { queryParams: { q: 1 } })],
  ];
  for (const [name, run] of cases) {
    await check(`${build} signature = aws4's: ${name}`, async () => {
      await run();
      const request = captured[captured.length - 1];
      const ours = request.init.headers.authorization;
      const theirs = aws4Authorization(request, region);
      return ours === theirs && request.init.headers['x-amz-security-token'] === 'session/token+1=' &&
        !ours.includes('x-amz-security-token') && ours.includes('x-api-key') ||
        { url: request.url, headers: request.init.headers, ours, theirs };
    });
  }

  await check(`${build}: what is sent (URL, headers, body)`, () => {
    const [get, post, byId, put, del, patch] = captured;
    const h = (r) => r.init.headers;
    const base = 'https://abc123.execute-api.eu-west-2.amazonaws.com/prod';
    return get.url === `${base}/pets?a%20b=x%27y%2A&e=&page=2&type=dog&z=1&z=2` &&
      get.init.body === undefined && h(get)['content-type'] === undefined &&
      h(get).accept === 'application/json' && h(get)['x-api-key'] === 'key-0123' &&
      post.init.body === '{"type":"fish","price":30}' &&
      h(post)['content-type'] === 'application/json' && h(post)['x-trace'] === '  a   b ' &&
      byId.url === `${base}/pets/a%2Fb%20c%21%27%28%29%2A%C3%A9%2541` &&
      put.url === `${base}/legacy/a%20b/c%25d/%C3%A9` && put.init.body === 'plain text' &&
      h(put)['content-type'] === 'text/plain' &&
      del.url === `${base}/legacy/` && patch.init.method === 'PATCH' &&
      patch.url === `${base}/legacy/x?q=1` && patch.init.body === '{"a":1}' ||
      captured.map((r) => [r.url, r.init]);
  });
}

// Unsigned: no Authorization; AWS's SDK drops a body of {} (and sends none with GET).
await check('unsigned requests: no signature, {} sends no body', async () => {
  captured.length = 0;
  const client = cjs.apigClientFactory.newClient({ fetch: capture, defaultAcceptType: 'text/plain' });
  await client.petsPost({}, {});
  const [post] = captured;
  return post.url.endsWith('/prod/pets') && post.init.body === undefined &&
    post.init.headers.authorization === undefined && post.init.headers.accept === 'text/plain' &&
    post.init.headers['x-api-key'] === undefined || post;
});

// Node 18 has no globalThis.crypto: a fresh load of the CommonJS build finds node:crypto's.
await check('without globalThis.crypto (Node 18): signs with node:crypto webcrypto', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  try {
    const path = require.resolve(`${config.sdk}/apigClient.js`);
    delete require.cache[path];
    const fresh = require(path).apigClientFactory;
    captured.length = 0;
    const client = fresh.newClient({
      region: 'us-east-1', accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey,
      fetch: capture,
    });
    await client.petsGet({ type: 'cat' });
    const ours = captured[0].init.headers.authorization;
    return ours === aws4Authorization(captured[0], 'us-east-1') || ours;
  } finally {
    Object.defineProperty(globalThis, 'crypto', saved);
  }
});

process.exitCode = failed ? 1 : 0;

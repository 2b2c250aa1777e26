// Sends requests signed by the npm package aws4 (a Signature Version 4 signer nobody here wrote)
// to a running gateway, and prints one line per case: name, status, x-amzn-ErrorType (or -)
// and body, separated by tabs.
//
//   node sigv4_requests.mjs PORT ACCESS_KEY SECRET [TEMP_KEY TEMP_SECRET SESSION_TOKEN]
//
// The gateway serves stage "prod" with IAM authorization on ANY /admin/{proxy+}, answering with
// the method, path and body it saw; region us-east-1, service execute-api.
import http from 'node:http';
import aws4 from 'aws4';

const [port, key, secret, tempKey, tempSecret, sessionToken] = process.argv.slice(2);
const creds = { accessKeyId: key, secretAccessKey: secret };

function amzDate(offsetSeconds) {
  return new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/[:-]|\.\d{3}/g, '');
}

function send(opts, body) {
  return new Promise((resolve) => {
    const req = http.request({ ...opts, host: '127.0.0.1', port: Number(port) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve([res.statusCode, res.headers['x-amzn-errortype'] ?? '-', text]));
    });
    req.on('error', (e) => resolve([0, 'error', String(e)]));
    req.end(body ?? '');
  });
}

// opts: method, path, headers, body; sign: credentials; then `tamper` may change the signed
// options before they are sent.
async function run(name, opts, { signWith = creds, tamper } = {}) {
  const signed = aws4.sign({
    host: `localhost:${port}`, service: 'execute-api', region: 'us-east-1', ...opts,
    headers: { ...(opts.headers ?? {}) },
  }, signWith);
  if (tamper) tamper(signed);
  const [status, type, body] = await send(signed, signed.body);
  console.log([name, status, type, body.replace(/[\t\n]/g, ' ')].join('\t'));
}

await run('get', { method: 'GET', path: '/prod/admin/stats' });
await run('query-repeated-keys', { method: 'GET', path: '/prod/admin/stats?b=2&a=3&a=1&c=' });
await run('path-space-unicode', { method: 'GET', path: '/prod/admin/a%20b/caf%C3%A9' });
await run('post-body', {
  method: 'POST', path: '/prod/admin/echo', body: '{"pets":[1,2,3]}',
  headers: { 'Content-Type': 'application/json' },
});
await run('post-empty-body', { method: 'POST', path: '/prod/admin/echo', body: '' });
await run('presigned', { method: 'GET', path: '/prod/admin/stats?view=all', signQuery: true });
await run('presigned-unicode', { method: 'GET', path: '/prod/admin/a%20b/caf%C3%A9', signQuery: true });
await run('wrong-secret', { method: 'GET', path: '/prod/admin/stats' },
  { signWith: { accessKeyId: key, secretAccessKey: secret + 'x' } });
await run('unknown-key', { method: 'GET', path: '/prod/admin/stats' },
  { signWith: { accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: secret } });
await run('stale-date', {
  method: 'GET', path: '/prod/admin/stats', headers: { 'X-Amz-Date': amzDate(-600) },
});
await run('changed-header', {
  method: 'GET', path: '/prod/admin/stats', headers: { 'X-Pet': 'dog' },
}, { tamper: (o) => { o.headers['X-Pet'] = 'cat'; } });
await run('changed-body', {
  method: 'POST', path: '/prod/admin/echo', body: 'one',
}, { tamper: (o) => { o.body = 'two'; } });
await run('presigned-expired', {
  method: 'GET', path: `/prod/admin/stats?X-Amz-Expires=60&X-Amz-Date=${amzDate(-120)}`,
  signQuery: true,
});
if (tempKey) {
  await run('session-token', { method: 'GET', path: '/prod/admin/stats' },
    { signWith: { accessKeyId: tempKey, secretAccessKey: tempSecret, sessionToken } });
  await run('session-token-missing', { method: 'GET', path: '/prod/admin/stats' },
    { signWith: { accessKeyId: tempKey, secretAccessKey: tempSecret } });
}

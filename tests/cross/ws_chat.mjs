// Talks to a running chat example with the npm package ws (a WebSocket client nobody here
// wrote) and prints one line per check: name, then "ok" or "FAIL" and what was seen.
//
//   node ws_chat.mjs URL          e.g. ws://127.0.0.1:8444/production
//
// Two clients connect; one sends {"action":"sendmessage","message":…} and both must receive
// the text; then a message over 128 KiB must close the connection with 1009.
// wss:// URLs with a self-signed certificate are accepted (rejectUnauthorized: false).
import WebSocket from 'ws';

const url = process.argv[2] || 'ws://127.0.0.1:8444/production';
const options = { rejectUnauthorized: false };
let failures = 0;

function report(name, ok, detail) {
  if (!ok) failures++;
  console.log(`${name}\t${ok ? 'ok' : 'FAIL'}\t${detail}`);
}

function open(suffix) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url + suffix, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
}

function nextMessage(ws, ms = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    ws.once('message', (data) => {
      clearTimeout(timer);
      resolve(data.toString());
    });
  });
}

function closed(ws, ms = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

try {
  const alice = await open('?name=alice');
  const bob = await open('?name=bob');
  report('connect', true, 'two clients connected');

  const text = `hello from alice ${Date.now()}`;
  const atBob = nextMessage(bob);
  const atAlice = nextMessage(alice);
  alice.send(JSON.stringify({ action: 'sendmessage', message: text }));
  const [b, a] = await Promise.all([atBob, atAlice]);
  report('broadcast', b === text && a === text, `bob got ${JSON.stringify(b)}, alice got ${JSON.stringify(a)}`);

  const code = closed(bob);
  bob.send('x'.repeat(128 * 1024 + 1));
  const c = await code;
  report('oversized', c === 1009, `close code ${c}`);

  alice.close(1000);
  await closed(alice);
} catch (e) {
  report('connect', false, String(e && e.message ? e.message : e));
}
process.exit(failures ? 1 : 0);

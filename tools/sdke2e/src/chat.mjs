// Two users chat through a running jindou with the official JS SDK
// (wukongimjssdk 1.0.4: WebSocket, protocol version 2, encrypted).
//
// Usage: node --experimental-websocket src/chat.mjs '<json>'
//   json = {"ws": "ws://127.0.0.1:5200", "group": "g1",   (a user's own "ws" overrides it)
//           "users": [{"uid": "alice", "token": "..."}, {"uid": "bob", "token": "..."}]}
//
// Both users connect; then, in turn, alice and bob each send a text to the
// other (person channel) and to the group. For every message it records
// the sender's SENDACK (the SDK's message status listener) and the
// receiver's RECV (its message listener, after the SDK verified the
// msg_key and decrypted the payload). It prints one JSON object on
// standard output and exits 0, or prints {"error": ...} and exits 1. The Go
// test (e2e/sdk_test.go) asserts on it. HTTP setup (tokens, the group) and
// the history check are the Go test's.

import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const bundle = path.join(here, '..', 'out', 'sdk.mjs');

console.log = () => {}; // the SDK is chatty
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');

function fail(msg) {
  out({ error: String(msg) });
  process.exit(1);
}

const cfg = JSON.parse(process.argv[2] || '{}');
if (!cfg.ws || !Array.isArray(cfg.users) || cfg.users.length !== 2 || !cfg.group) {
  fail('usage: chat.mjs \'{"ws":..., "group":..., "users":[{uid,token},{uid,token}]}\'');
}
const STEP_MS = 10000;
setTimeout(() => fail('timed out after 60 s'), 60000).unref();

function within(ms, what, p) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]);
}

// user loads a fresh instance of the SDK (its own WKSDK singleton) and
// connects it.
async function user(u, instance) {
  const m = await import(`${bundle}?user=${instance}`);
  const sdk = m.WKSDK.shared();
  sdk.config.addr = u.ws || cfg.ws; // each user may be on its own node
  sdk.config.uid = u.uid;
  sdk.config.token = u.token || '';
  const acks = [];
  const recvs = [];
  const waiters = [];
  const notify = () => { for (const w of [...waiters]) w(); };
  sdk.chatManager.addMessageStatusListener((ack) => {
    acks.push({
      clientSeq: ack.clientSeq, messageSeq: ack.messageSeq,
      messageID: String(ack.messageID), reasonCode: ack.reasonCode,
    });
    notify();
  });
  sdk.chatManager.addMessageListener((msg) => {
    if (msg.fromUID === u.uid) return; // the SDK echoes its own sends locally
    recvs.push({
      fromUID: msg.fromUID, channelID: msg.channel.channelID, channelType: msg.channel.channelType,
      messageSeq: msg.messageSeq, messageID: String(msg.messageID), clientMsgNo: msg.clientMsgNo,
      text: msg.content && msg.content.text, timestamp: msg.timestamp,
    });
    notify();
  });
  const waitFor = (what, pred) => within(STEP_MS, what, new Promise((resolve) => {
    const check = () => {
      const v = pred();
      if (v !== undefined) {
        waiters.splice(waiters.indexOf(check), 1);
        resolve(v);
      }
    };
    waiters.push(check);
    check();
  }));
  const status = [];
  await within(STEP_MS, `${u.uid} connects`, new Promise((resolve, reject) => {
    sdk.connectManager.addConnectStatusListener((st, reason) => {
      status.push({ status: st, reason });
      if (st === m.ConnectStatus.Connected) resolve();
      else if (st === m.ConnectStatus.ConnectFail || st === m.ConnectStatus.ConnectKick) {
        reject(new Error(`${u.uid} could not connect: status ${st}, reason ${reason}`));
      }
    });
    sdk.connectManager.connect();
  }));
  return { uid: u.uid, m, sdk, acks, recvs, waitFor, status };
}

async function main() {
  const a = await user(cfg.users[0], 'a');
  const b = await user(cfg.users[1], 'b');
  const steps = [
    { kind: 'person', from: a, to: b },
    { kind: 'person', from: b, to: a },
    { kind: 'group', from: a, to: b },
    { kind: 'group', from: b, to: a },
  ];
  const results = [];
  for (const [i, s] of steps.entries()) {
    const text = `${s.kind} ${i} from ${s.from.uid}: 你好, jindou ${Math.random().toString(36).slice(2)}`;
    const channel = s.kind === 'person'
      ? new s.from.m.Channel(s.to.uid, 1)
      : new s.from.m.Channel(cfg.group, 2);
    const msg = await s.from.sdk.chatManager.send(new s.from.m.MessageText(text), channel);
    const sendack = await s.from.waitFor(`SENDACK of step ${i}`,
      () => s.from.acks.find((x) => x.clientSeq === msg.clientSeq));
    const recv = await s.to.waitFor(`RECV of step ${i}`,
      () => s.to.recvs.find((x) => x.text === text));
    results.push({
      kind: s.kind, from: s.from.uid, to: s.to.uid, text, clientSeq: msg.clientSeq,
      clientMsgNo: msg.clientMsgNo, sendack, recv,
    });
  }
  // Anything else either side received (there should be nothing).
  const extra = [a, b].flatMap((u) => u.recvs.filter((r) => !results.some((x) => x.recv === r))
    .map((r) => ({ to: u.uid, ...r })));
  a.sdk.connectManager.disconnect();
  b.sdk.connectManager.disconnect();
  out({ ok: true, protoVersion: a.sdk.config.protoVersion, results, extra });
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : e));

// Generates WKProto test vectors with wukongimjssdk's own code.
//
// It drives the SDK's real connect/send/receive paths over a fake
// WebSocket, with Math.random, Date and the server's keys fixed, so every
// run writes identical files. Frames the SDK encodes are captured as it
// sends them; frames it decodes are built here per PROTOCOL.md (using the
// SDK's own Encoder and SecurityManager where they apply) and fed to it, and
// what it decoded, decrypted and answered is recorded.
//
// Usage: node --experimental-websocket out/gen.mjs OUTDIR

import fs from 'node:fs';
import path from 'node:path';
import WKSDK from 'wukongimjssdk/lib/index';
import Proto, {
  PacketType, PingPacket, RecvPacket, SendPacket, Setting, SubPacket,
} from 'wukongimjssdk/lib/proto';
import Encoder from 'wukongimjssdk/lib/encoder';
import { SecurityManager } from 'wukongimjssdk/lib/security';
import { Channel, MessageText } from 'wukongimjssdk/lib/model';
import { generateKeyPair, sharedKey } from 'curve25519-js';
import { Md5 } from 'md5-typescript';
import BigNumber from 'bignumber.js';
import * as buffer from 'buffer';

const outDir = process.argv[2];
if (!outDir) {
  process.stderr.write('usage: gen.mjs OUTDIR\n');
  process.exit(2);
}

// ---- determinism -------------------------------------------------------

function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
Math.random = mulberry32(20240611);

const FIXED_MS = 1718000000123;
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...a) { if (a.length) { super(...a); } else { super(FIXED_MS); } }
  static now() { return FIXED_MS; }
};

const log = console.log;
console.log = () => {}; // the SDK is chatty

// ---- helpers -----------------------------------------------------------

const hex = (b) => buffer.Buffer.from(Uint8Array.from(b)).toString('hex');
const unhex = (h) => Uint8Array.from(buffer.Buffer.from(h, 'hex'));
const utf8 = (s) => Uint8Array.from(buffer.Buffer.from(s, 'utf8'));
const b64 = (b) => buffer.Buffer.from(b).toString('base64');
const str = (v) => (v === undefined || v === null ? '' : String(v));

// writeI64 writes a decimal int64 exactly. The SDK's Encoder.writeInt64
// goes through a double and is wrong for some values above 2^53, so frames
// built here for the SDK to decode use this instead.
function writeI64(e, dec) {
  let v = BigInt(dec);
  if (v < 0n) v += 1n << 64n;
  for (let i = 7; i >= 0; i--) e.writeByte(Number((v >> BigInt(8 * i)) & 0xffn));
}

// readU64 reads the 8 bytes at off as the unsigned decimal the SDK's
// Decoder.readInt64 would give.
function readU64(b, off) {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[off + i]);
  return v.toString();
}

function flagsOf(p) {
  return (p.dup ? 8 : 0) | (p.syncOnce ? 4 : 0) | (p.reddot ? 2 : 0) | (p.noPersist ? 1 : 0);
}

// frame wraps a body in a header and remaining length, as the SDK frames.
function frame(type, flags, body) {
  const p = new Proto();
  return Uint8Array.from([(type << 4) | flags, ...p.encodeVariableLength(body.length), ...body]);
}

// ---- a fake WebSocket the SDK talks to ---------------------------------

const sockets = [];
globalThis.WebSocket = class {
  constructor(url) { this.url = url; this.sent = []; sockets.push(this); }
  send(d) { this.sent.push(Uint8Array.from(d)); }
  close() {}
};

const sdk = WKSDK.shared();
const proto = sdk.config.proto;
const decoded = [];
const realDecode = proto.decode.bind(proto);
proto.decode = (data) => {
  const p = realDecode(data);
  decoded.push({ packet: p, payload: p.payload ? Uint8Array.from(p.payload) : undefined });
  return p;
};
const received = [];
sdk.chatManager.addMessageListener((m) => received.push(m));

// ---- key exchange through the SDK's connect path -----------------------

sdk.config.addr = 'ws://sdkvectors.invalid';
sdk.config.uid = 'u小明01';
sdk.config.token = 'tok-令牌-123';
sdk.connect();
const ws = sockets[0];
ws.onopen();
const connectBytes = ws.sent.shift();
const clientPrivate = sdk.connectManager.dhPrivateKey;

const serverSeed = unhex('a8f2c1d35e7b9046b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061790');
const serverPair = generateKeyPair(serverSeed);
const salt = 'Jd0uVect0rSalt16';
const connectPacketFields = realDecodeConnect(connectBytes);
const clientPublic = Uint8Array.from(buffer.Buffer.from(connectPacketFields.clientKey, 'base64'));
const serverShared = sharedKey(serverPair.private, clientPublic);

const connackFields = {
  timeDiff: '-1234', reasonCode: 1, serverKey: b64(serverPair.public), salt,
};
const connackBytes = encodeConnack(0, connackFields);
ws.onmessage({ data: connackBytes.buffer });
const sm = SecurityManager.shared();

const keyExchange = {
  clientSeedNote: 'the SDK draws its seed from a Guid; curve25519-js clamps it into the private key',
  clientPrivate: hex(clientPrivate),
  clientKey: connectPacketFields.clientKey,
  serverSeed: hex(serverSeed),
  serverPrivate: hex(serverPair.private),
  serverKey: b64(serverPair.public),
  sharedSecretServer: hex(serverShared),
  aesKey: sm.aesKey,
  aesIV: sm.aesIV,
  salt,
  connect: { hex: hex(connectBytes), fields: connectPacketFields },
  connack: { hex: hex(connackBytes), fields: sdkConnack(decoded.shift().packet) },
};

function realDecodeConnect(b) {
  // CONNECT has no SDK decoder; read it back by the spec to record the
  // fields the SDK put in it.
  const d = new (class { constructor(x) { this.b = x; this.o = 0; } })(b);
  const u8 = () => d.b[d.o++];
  const u16 = () => (u8() << 8) | u8();
  const s = () => { const n = u16(); const v = buffer.Buffer.from(d.b.slice(d.o, d.o + n)).toString('utf8'); d.o += n; return v; };
  const header = u8();
  let len = 0; let mul = 1; let c;
  do { c = u8(); len += (c & 127) * mul; mul *= 128; } while (c & 128);
  const f = { flags: header & 15 };
  f.version = u8(); f.deviceFlag = u8(); f.deviceID = s(); f.uid = s(); f.token = s();
  const hi = new BigNumber(u16() * 65536 + u16()); const lo = new BigNumber(u16() * 65536 + u16());
  f.clientTimestamp = hi.multipliedBy(4294967296).plus(lo).toString();
  f.clientKey = s();
  if (d.o !== b.length) throw new Error('CONNECT read back left bytes');
  return f;
}

function encodeConnack(flags, f) {
  const e = new Encoder();
  writeI64(e, f.timeDiff);
  e.writeUint8(f.reasonCode);
  e.writeString(f.serverKey);
  e.writeString(f.salt);
  return frame(PacketType.CONNACK, flags, e.w);
}

function sdkConnack(p) {
  return { timeDiff: p.timeDiff.toString(), reasonCode: p.reasonCode, serverKey: p.serverKey, salt: p.salt };
}

// ---- SEND, encoded by the SDK's chat path ------------------------------

const sends = [];
async function sdkSend(name, text, channelID, channelType, setting) {
  const content = new MessageText(text);
  const msg = await sdk.chatManager.send(content, new Channel(channelID, channelType), setting);
  const bytes = ws.sent.shift();
  const p = sdk.chatManager.sendingQueues.get(msg.clientSeq);
  sends.push({
    name,
    hex: hex(bytes),
    plaintext: hex(p.payload),
    fields: {
      flags: flagsOf(p), setting: p.setting.toUint8(), clientSeq: p.clientSeq,
      clientMsgNo: p.clientMsgNo, streamNo: str(p.streamNo), channelID: p.channelID,
      channelType: p.channelType, topic: str(p.topic),
    },
  });
}

await sdkSend('ascii', 'hello', 'u2', 1);
await sdkSend('chinese', '你好，世界！这是一条中文消息。', 'u小红02', 1);
await sdkSend('emoji group', 'emoji 😀🎉👍🏽 mixed 中文 and ZWJ 👩‍👩‍👧', '群组-测试-001', 2);
const receipt = new Setting(); receipt.receiptEnabled = true;
await sdkSend('receipt setting', 'read me 已读回执', 'g100', 2, receipt);
const stream = new Setting(); stream.streamNo = 'stream-流-7';
await sdkSend('stream setting (SDK bit 0x04)', 'chunk 1 of a stream', 'u2', 1, stream);
const topicSetting = new Setting(); topicSetting.topic = true;
await sdkSend('topic setting, no topic set', 'topic without value', 'g100', 2, topicSetting);
await sdkSend('two-byte length', '长'.repeat(60), 'u2', 1);
await sdkSend('three-byte length', 'long message 长消息 🚀 '.repeat(700), 'g-long', 2);

// A SEND with a topic value: the chat path never sets one, so call the
// SDK's Proto.encode on a SendPacket directly.
{
  const p = new SendPacket();
  p.setting = new Setting(); p.setting.topic = true; p.setting.receiptEnabled = true;
  p.reddot = true; p.noPersist = true;
  p.clientSeq = 4000000000; p.clientMsgNo = 'cmn-topic-1';
  p.channelID = 'community-社区'; p.channelType = 4; p.topic = '话题/general';
  p.payload = utf8('{"content":"topic 消息","type":1}');
  const bytes = proto.encode(p);
  sends.push({
    name: 'topic value, big client_seq, noPersist',
    hex: hex(bytes),
    plaintext: hex(p.payload),
    fields: {
      flags: flagsOf(p), setting: p.setting.toUint8(), clientSeq: p.clientSeq,
      clientMsgNo: p.clientMsgNo, streamNo: '', channelID: p.channelID,
      channelType: p.channelType, topic: p.topic,
    },
  });
}

// ---- RECV, decoded, verified and decrypted by the SDK ------------------

function recvBytes(r, plaintext, tamper) {
  const rp = new RecvPacket();
  Object.assign(rp, r);
  rp.payload = Uint8Array.from(sm.stringToUint(sm.encryption2(plaintext)));
  let msgKey = Md5.init(sm.encryption(rp.veritifyString));
  if (tamper) msgKey = (msgKey[0] === '0' ? '1' : '0') + msgKey.slice(1);
  const e = new Encoder();
  e.writeByte(r.setting);
  e.writeString(msgKey);
  e.writeString(r.fromUID);
  e.writeString(r.channelID);
  e.writeByte(r.channelType);
  e.writeString(r.clientMsgNo);
  if (r.setting & 0x04) {
    e.writeString(r.streamNo); e.writeInt32(r.streamSeq); e.writeByte(r.streamFlag);
  }
  writeI64(e, r.messageID);
  e.writeInt32(r.messageSeq);
  e.writeInt32(r.timestamp);
  if (r.setting & 0x08) e.writeString(r.topic);
  e.writeBytes(Array.from(rp.payload));
  return frame(PacketType.RECV, r.flags, e.w);
}

const recvs = [];
function sdkRecv(name, r, text, tamper = false) {
  const plaintext = utf8(JSON.stringify({ content: text, type: 1 }));
  const bytes = recvBytes(r, plaintext, tamper);
  const before = received.length;
  ws.onmessage({ data: bytes.buffer });
  const d = decoded.shift();
  const p = d.packet;
  const ack = ws.sent.shift();
  const accepted = received.length > before;
  recvs.push({
    name,
    hex: hex(bytes),
    plaintext: hex(plaintext),
    accepted,
    decryptedText: accepted ? received[received.length - 1].content.text : '',
    recvackHex: ack ? hex(ack) : '',
    fields: {
      flags: flagsOf(p), setting: r.setting, msgKey: p.msgKey, fromUID: p.fromUID,
      channelID: p.channelID, channelType: p.channelType, clientMsgNo: p.clientMsgNo,
      streamNo: str(p.streamNo), streamSeq: p.streamSeq || 0, streamFlag: p.streamFlag || 0,
      messageID: p.messageID, messageSeq: p.messageSeq, timestamp: p.timestamp,
      topic: str(p.topic), payload: hex(d.payload),
    },
  });
}

const base = {
  flags: 0, setting: 0, fromUID: 'u2', channelID: 'u2', channelType: 1,
  clientMsgNo: 'cmn-0001', messageID: '1', messageSeq: 1, timestamp: 1718000000,
};
sdkRecv('ascii', base, 'hi there');
sdkRecv('chinese person', { ...base, fromUID: 'u小红02', channelID: 'u小红02', clientMsgNo: '消息编号-2', messageID: '1234567890123456789', messageSeq: 42, flags: 2 }, '你好，小明！');
sdkRecv('emoji group all flags', { ...base, fromUID: 'u3', channelID: '群组-测试-001', channelType: 2, messageID: '9223372036854775807', messageSeq: 4294967295, timestamp: 2147483647, flags: 15 }, '🎉🎉 群里的 emoji 👍🏽 👩‍👩‍👧');
sdkRecv('topic', { ...base, setting: 0x88, topic: '话题/general', channelType: 4, channelID: 'community-社区', messageSeq: 7 }, 'topic message');
sdkRecv('stream (SDK bit 0x04)', { ...base, setting: 0x04, streamNo: 'stream-流-7', streamSeq: 3, streamFlag: 1, messageSeq: 8 }, 'stream chunk');
sdkRecv('noPersist syncOnce', { ...base, flags: 5, messageSeq: 9, messageID: '77' }, '');
// A snowflake-sized id whose low 32 bits are near 2^32: the SDK's RECVACK
// for it carries a different id (see the RECVACK vectors).
sdkRecv('snowflake id the SDK misacks', { ...base, messageID: ((417631234n << 32n) | 0xfffffff0n).toString(), messageSeq: 11 }, 'ack me');
sdkRecv('tampered msg_key is dropped', { ...base, messageSeq: 10, messageID: '78' }, 'tampered', true);

// ---- other frames ------------------------------------------------------

function decodeOnly(bytes) {
  return proto.decode(bytes) && decoded.shift().packet;
}

function sendackBytes(flags, f) {
  const e = new Encoder();
  writeI64(e, f.messageID); e.writeInt32(f.clientSeq);
  e.writeInt32(f.messageSeq); e.writeByte(f.reasonCode);
  return frame(PacketType.SENDACK, flags, e.w);
}

const decodes = [];
function rec(kind, name, bytes, fields) { decodes.push({ kind, name, hex: hex(bytes), fields }); }

for (const [name, flags, f] of [
  ['success', 0, { messageID: '1793726339022458880', clientSeq: 1, messageSeq: 1, reasonCode: 1 }],
  ['max values, flags', 15, { messageID: '9223372036854775807', clientSeq: 4294967295, messageSeq: 4294967295, reasonCode: 9 }],
]) {
  const b = sendackBytes(flags, f);
  const p = decodeOnly(b);
  rec('SENDACK', name, b, {
    flags: flagsOf(p), messageID: p.messageID.toString(), clientSeq: p.clientSeq,
    messageSeq: p.messageSeq, reasonCode: p.reasonCode,
  });
}
for (const [name, f] of [
  ['auth fail', { timeDiff: '0', reasonCode: 2, serverKey: '', salt: '' }],
  ['positive time diff', { timeDiff: '86400000', reasonCode: 1, serverKey: b64(serverPair.public), salt }],
]) {
  const b = encodeConnack(0, f);
  rec('CONNACK', name, b, sdkConnack(decodeOnly(b)));
}
for (const [name, code, reason] of [
  ['kick', 12, 'login in other device'],
  ['chinese reason', 19, '账号已被封禁'],
  ['empty reason', 15, ''],
]) {
  const e = new Encoder(); e.writeByte(code); e.writeString(reason);
  const b = frame(PacketType.DISCONNECT, 0, e.w);
  const p = decodeOnly(b);
  rec('DISCONNECT', name, b, { flags: flagsOf(p), reasonCode: p.reasonCode, reason: p.reason });
}
{
  const e = new Encoder();
  e.writeString('sub-1'); e.writeString('live-直播'); e.writeByte(9); e.writeByte(1); e.writeByte(1);
  const b = frame(PacketType.SUBACK, 0, e.w);
  const p = decodeOnly(b);
  rec('SUBACK', 'unsubscribe ok', b, {
    flags: flagsOf(p), subNo: p.clientMsgNo, channelID: p.channelID,
    channelType: p.channelType, action: p.action, reasonCode: p.reasonCode,
  });
}
{
  const b = Uint8Array.from([0x80]);
  const p = decodeOnly(b);
  rec('PONG', 'pong', b, { type: p.packetType });
}

// ---- other frames the SDK encodes --------------------------------------

const encodes = [];
encodes.push({ kind: 'PING', name: 'ping', hex: hex(proto.encode(new PingPacket())), fields: {} });
{
  const p = new SubPacket();
  p.setting = 0; p.clientMsgNo = 'sub-1'; p.channelID = 'live-直播'; p.channelType = 9;
  p.action = 0; p.param = '{"k":"v"}';
  encodes.push({
    kind: 'SUB', name: 'subscribe', hex: hex(proto.encode(p)),
    fields: { flags: 0, setting: 0, subNo: p.clientMsgNo, channelID: p.channelID, channelType: 9, action: 0, param: p.param },
  });
}
// The SDK acks with the messageID it decoded; its writeInt64 rounds through
// a double, so for some ids above 2^53 the bytes carry another id. fields
// hold what the bytes say; sdkMessageID what the SDK meant.
encodes.push(...recvs.filter((r) => r.recvackHex).map((r) => {
  const b = unhex(r.recvackHex);
  return {
    kind: 'RECVACK', name: 'ack of ' + r.name, hex: r.recvackHex,
    sdkMessageID: r.fields.messageID,
    fields: { flags: r.fields.flags & 7, messageID: readU64(b, 2), messageSeq: r.fields.messageSeq },
  };
}));

// ---- how the SDK splits a WebSocket message into frames ----------------

const framing = [];
function feed(name, chunks) {
  const before = decoded.length;
  for (const c of chunks) ws.onmessage({ data: c.buffer });
  const got = decoded.splice(before).map((d) => d.packet.messageSeq);
  framing.push({ name, chunks: chunks.map(hex), decodedMessageSeqs: got });
}
const ack = (seq) => sendackBytes(0, { messageID: '5', clientSeq: 1, messageSeq: seq, reasonCode: 1 });
feed('one frame per message', [ack(1)]);
feed('two frames in one message', [Uint8Array.from([...ack(2), ...ack(3)])]);
feed('three frames in one message', [Uint8Array.from([...ack(4), ...ack(5), ...ack(6)])]);
{
  const a = ack(7);
  feed('one frame split across two messages', [a.slice(0, 5), a.slice(5)]);
}

// ---- crypto primitives -------------------------------------------------

const pairs = [];
for (let i = 0; i < 3; i++) {
  const seedA = Uint8Array.from({ length: 32 }, (_, j) => (j * 7 + i * 31 + 1) & 0xff);
  const seedB = Uint8Array.from({ length: 32 }, (_, j) => (255 - j * 5 - i * 17) & 0xff);
  const a = generateKeyPair(seedA); const b = generateKeyPair(seedB);
  const s1 = sharedKey(a.private, b.public); const s2 = sharedKey(b.private, a.public);
  if (hex(s1) !== hex(s2)) throw new Error('shared keys differ');
  pairs.push({
    seedA: hex(seedA), privateA: hex(a.private), publicA: b64(a.public),
    seedB: hex(seedB), privateB: hex(b.private), publicB: b64(b.public),
    shared: hex(s1), aesKey: Md5.init(b64(s1)).substring(0, 16),
  });
}

const ciphers = [];
for (const text of ['', 'a', '0123456789abcde', '0123456789abcdef', '0123456789abcdefg',
  '你好', '😀', '{"content":"混合 mixed 🎉","type":1}', '中'.repeat(100)]) {
  const enc = sm.encryption2(utf8(text));
  const dec = sm.decryption(Uint8Array.from(sm.stringToUint(enc)));
  ciphers.push({ plaintext: hex(utf8(text)), encrypted: enc, decrypted: hex(dec) });
}

const vectors = {
  keyExchange,
  sends,
  recvs,
  decodes,
  encodes,
  framing,
  crypto: { aesKey: sm.aesKey, aesIV: sm.aesIV, pairs, ciphers },
};

fs.mkdirSync(outDir, { recursive: true });
for (const [name, v] of Object.entries(vectors)) {
  const doc = {
    generator: 'tools/sdkvectors (wukongimjssdk 1.0.4, protocol version 2)',
    vectors: v,
  };
  fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify(doc, null, 2) + '\n');
}
sdk.connectManager.stopHeart();
log('sdkvectors: wrote ' + Object.keys(vectors).length + ' files to ' + outDir);
process.exit(0);

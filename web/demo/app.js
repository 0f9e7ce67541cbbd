// The chat demo: the official WuKongIM JS SDK (wukongimjssdk) carries the
// conversation (CONNECT, SEND/SENDACK, RECV/RECVACK over WebSocket); the
// demo's own small API (/demo/api/*, http/demo.go) logs a name in (joins
// the lobby group), lists who is online, and reads conversations and
// history through the node's HTTP API. build.sh bundles this file.
import WKSDK from 'wukongimjssdk/lib/index';
import { Channel, MessageText } from 'wukongimjssdk/lib/model';
import { ConnectStatus } from 'wukongimjssdk/lib/connect_manager';

const PERSON = 1;
const GROUP = 2;
const HISTORY_LIMIT = 50;
const ONLINE_POLL_MS = 2000;
const UID_KEY = 'jindou-demo-uid';

const $ = (id) => document.getElementById(id);
const state = {
  me: '', group: '', open: null,
  convs: new Map(), // key -> {id, type, unread, last, lastSeq}
  msgs: new Map(), // key -> [{from, text, clientMsgNo, seq, pending, failed}]
  online: [],
};
const keyOf = (type, id) => `${type}:${id}`;

async function api(path, body) {
  const res = await fetch(`api/${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.msg || `${path}: HTTP ${res.status}`);
  return data;
}

// textOf decodes an API message's payload: base64 of {"type":1,"content":...}.
function textOf(m) {
  try {
    const bytes = Uint8Array.from(atob(m.payload || ''), (ch) => ch.charCodeAt(0));
    const p = JSON.parse(new TextDecoder().decode(bytes));
    return p.type === 1 ? String(p.content) : `[message of type ${p.type}]`;
  } catch (e) {
    return '[undecodable payload]';
  }
}

function conv(type, id) {
  const k = keyOf(type, id);
  if (!state.convs.has(k)) state.convs.set(k, { id, type, unread: 0, last: '', lastSeq: 0 });
  return state.convs.get(k);
}

function title(c) { return c.type === GROUP ? `# ${c.id}` : c.id; }

function renderConversations() {
  const ul = $('conversations');
  ul.replaceChildren();
  const list = [...state.convs.values()].sort((a, b) => (a.type === GROUP ? -1 : 0) - (b.type === GROUP ? -1 : 0)
    || b.lastSeq - a.lastSeq || a.id.localeCompare(b.id));
  for (const c of list) {
    const li = document.createElement('li');
    li.dataset.channel = keyOf(c.type, c.id);
    li.className = state.open === li.dataset.channel ? 'open' : '';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = title(c);
    const last = document.createElement('span');
    last.className = 'last';
    last.textContent = c.last;
    name.append(last);
    li.append(name);
    if (c.unread > 0) {
      const u = document.createElement('span');
      u.className = 'unread';
      u.textContent = String(c.unread);
      li.append(u);
    }
    li.onclick = () => openConversation(c.type, c.id);
    ul.append(li);
  }
}

function renderOnline() {
  const ul = $('online');
  ul.replaceChildren();
  for (const uid of state.online) {
    const li = document.createElement('li');
    li.dataset.uid = uid;
    const dot = document.createElement('span');
    dot.className = 'dot';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = uid === state.me ? `${uid} (you)` : uid;
    li.append(dot, name);
    if (uid !== state.me) li.onclick = () => openConversation(PERSON, uid);
    ul.append(li);
  }
}

function renderMessages() {
  const ol = $('messages');
  ol.replaceChildren();
  for (const m of state.msgs.get(state.open) || []) {
    const li = document.createElement('li');
    li.className = [m.from === state.me ? 'mine' : '', m.pending ? 'pending' : ''].join(' ').trim();
    li.dataset.from = m.from;
    if (m.seq) li.dataset.seq = String(m.seq);
    const from = document.createElement('div');
    from.className = 'from';
    from.textContent = m.failed ? `${m.from} · not sent (reason ${m.failed})` : m.from;
    const text = document.createElement('div');
    text.className = 'text';
    text.textContent = m.text;
    li.append(from, text);
    ol.append(li);
  }
  ol.scrollTop = ol.scrollHeight;
}

// addMessage keeps one entry per client_msg_no, in seq order.
function addMessage(k, m) {
  const list = state.msgs.get(k) || [];
  const at = list.findIndex((x) => x.clientMsgNo === m.clientMsgNo);
  if (at >= 0) Object.assign(list[at], m);
  else list.push(m);
  list.sort((a, b) => (a.seq || Infinity) - (b.seq || Infinity));
  state.msgs.set(k, list);
}

async function openConversation(type, id) {
  const c = conv(type, id);
  const k = keyOf(type, id);
  state.open = k;
  $('chat-title').textContent = title(c);
  $('text').disabled = false;
  $('send').disabled = false;
  $('text').focus();
  renderConversations();
  renderMessages();
  const sync = await api('messagesync', { login_uid: state.me, channel_id: id, channel_type: type,
    start_message_seq: 0, end_message_seq: 0, limit: HISTORY_LIMIT, pull_mode: 0 });
  for (const m of sync.messages || []) {
    addMessage(k, { from: m.from_uid, text: textOf(m), clientMsgNo: m.client_msg_no, seq: m.message_seq });
    c.lastSeq = Math.max(c.lastSeq, m.message_seq);
  }
  if (state.open === k) renderMessages();
  await markRead(c);
}

async function markRead(c) {
  c.unread = 0;
  renderConversations();
  await api('clear_unread', { uid: state.me, channel_id: c.id, channel_type: c.type, message_seq: c.lastSeq });
}

async function loadConversations() {
  const list = await api('conversations', { uid: state.me, msg_count: 1 });
  for (const x of list) {
    const c = conv(x.channel_type, x.channel_id);
    c.unread = x.unread;
    c.lastSeq = x.last_msg_seq;
    if (x.recents && x.recents.length) c.last = `${x.recents[0].from_uid}: ${textOf(x.recents[0])}`;
  }
  renderConversations();
}

async function pollOnline() {
  try {
    state.online = (await api('online')).uids || [];
    renderOnline();
  } catch (e) {
    // shown again at the next poll
  }
}

function onMessage(msg) {
  if (msg.fromUID === state.me) return; // the SDK reports our own sends too
  const type = msg.channel.channelType;
  const id = msg.channel.channelID;
  const k = keyOf(type, id);
  const c = conv(type, id);
  const text = msg.content && msg.content.text !== undefined ? msg.content.text : `[message of type ${msg.contentType}]`;
  addMessage(k, { from: msg.fromUID, text, clientMsgNo: msg.clientMsgNo, seq: msg.messageSeq });
  c.last = `${msg.fromUID}: ${text}`;
  c.lastSeq = Math.max(c.lastSeq, msg.messageSeq);
  if (state.open === k) {
    renderMessages();
    markRead(c).catch(() => {});
  } else {
    c.unread += 1;
  }
  renderConversations();
}

const sending = new Map(); // clientSeq -> {k, type, id, clientMsgNo}

function onSendack(ack) {
  const s = sending.get(ack.clientSeq);
  if (!s) return;
  sending.delete(ack.clientSeq);
  const ok = ack.reasonCode === 1;
  addMessage(s.k, { clientMsgNo: s.clientMsgNo, pending: false, seq: ok ? ack.messageSeq : 0,
    failed: ok ? 0 : ack.reasonCode });
  if (ok) conv(s.type, s.id).lastSeq = ack.messageSeq;
  if (state.open === s.k) renderMessages();
}

async function send(text) {
  const [typeStr, id] = state.open.split(/:(.*)/s);
  const type = Number(typeStr);
  const sdk = WKSDK.shared();
  const msg = await sdk.chatManager.send(new MessageText(text), new Channel(id, type));
  sending.set(msg.clientSeq, { k: state.open, type, id, clientMsgNo: msg.clientMsgNo });
  addMessage(state.open, { from: state.me, text, clientMsgNo: msg.clientMsgNo, seq: 0, pending: true });
  const c = conv(type, id);
  c.last = `${state.me}: ${text}`;
  renderMessages();
  renderConversations();
}

async function login(name) {
  const who = await api('login', { uid: name });
  state.me = who.uid;
  state.group = who.group;
  sessionStorage.setItem(UID_KEY, who.uid);
  $('me').textContent = `logged in as ${who.uid}`;
  const sdk = WKSDK.shared();
  sdk.config.addr = who.ws_addr;
  sdk.config.uid = who.uid;
  sdk.config.token = who.token;
  sdk.connectManager.addConnectStatusListener((st, reason) => {
    const ok = st === ConnectStatus.Connected;
    $('status').textContent = ok ? 'online' : `offline (status ${st}${reason ? `, reason ${reason}` : ''})`;
    $('status').className = ok ? 'status connected' : 'status';
  });
  sdk.chatManager.addMessageListener(onMessage);
  sdk.chatManager.addMessageStatusListener(onSendack);
  sdk.connectManager.connect();
  $('login-view').hidden = true;
  $('chat-view').hidden = false;
  conv(GROUP, who.group);
  await loadConversations();
  await openConversation(GROUP, who.group);
  pollOnline();
  setInterval(pollOnline, ONLINE_POLL_MS);
}

$('login').onsubmit = (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  login($('name').value.trim()).catch((e) => { $('login-error').textContent = e.message; });
};
$('compose').onsubmit = (ev) => {
  ev.preventDefault();
  const text = $('text').value.trim();
  if (!text || !state.open) return;
  $('text').value = '';
  send(text).catch((e) => { $('login-error').textContent = e.message; });
};
const saved = sessionStorage.getItem(UID_KEY);
if (saved) login(saved).catch((e) => { $('login-error').textContent = e.message; });

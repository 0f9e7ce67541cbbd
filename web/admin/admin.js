// The admin page: reads the node's HTTP API (/varz, /connz,
// /conversation/sync, /channel/messagesync, the channel lists) and polls
// /varz once a second for the rates; ops.js adds the delivery, webhook,
// node, slot and subscriber views. It is read-only unless a manager
// token is given: only then does it offer actions (disconnect a user's
// device, send to a channel as the system), and the node checks the token
// on every call.
(() => {
  const POLL_MS = 1000;
  const SPARK_POINTS = 60;
  const CONNZ_LIMIT = 100;
  const RECENT_MESSAGES = 20;
  const TOKEN_KEY = 'jindou-admin-token';
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let tokenOn = false; // the node has a manager token
  let last = null; // the previous /varz and when it came
  const spark = { sends: [], out: [] };

  const manager = () => tokenOn && token !== '';

  const authHeaders = () => (token ? { token } : {});

  async function api(method, path, body) {
    const headers = authHeaders();
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.msg || `${path}: HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  const cell = (text, cls) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  };

  function textOf(m) {
    try {
      const bytes = Uint8Array.from(atob(m.payload || ''), (ch) => ch.charCodeAt(0));
      const s = new TextDecoder().decode(bytes);
      try {
        const p = JSON.parse(s);
        return p.type === 1 ? String(p.content) : s;
      } catch (e) {
        return s;
      }
    } catch (e) {
      return '[binary payload]';
    }
  }

  function setMode() {
    $('mode').textContent = manager() ? 'manager' : 'read-only';
    $('mode').className = manager() ? 'badge manager' : 'badge';
    $('ch-send').hidden = !manager();
    $('unlock').hidden = !tokenOn;
  }

  function drawSpark(svg, values) {
    const maxV = Math.max(1, ...values);
    const pts = values.map((v, i) => `${(i * 120) / (SPARK_POINTS - 1)},${30 - (v / maxV) * 28}`).join(' ');
    svg.innerHTML = `<polyline points="${pts}"></polyline>`;
  }

  function push(arr, v) {
    arr.push(v);
    while (arr.length > SPARK_POINTS) arr.shift();
  }

  async function pollVarz() {
    let v;
    try {
      v = await api('GET', '/varz');
    } catch (e) {
      $('notice').textContent = e.status === 401
        ? 'This node has a manager token: enter it above to see anything.'
        : `The node does not answer: ${e.message}`;
      tokenOn = e.status === 401 || tokenOn;
      setMode();
      return;
    }
    tokenOn = v.manager_token_on === 1;
    setMode();
    $('notice').textContent = tokenOn ? '' : 'Read-only: this node has no manager token, so the page offers no actions.';
    $('node').textContent = `node ${v.server_id} · ${v.version} · up ${v.uptime} · tcp ${v.tcp_addr} · ${v.ws_addr}`;
    $('connections').textContent = v.connections;
    $('online').textContent = v.online;
    $('slots').textContent = `${v.slots} (${v.leader_slots} / ${v.caught_up_slots})`;
    $('stored').textContent = v.messages_stored;
    $('retry').textContent = v.retry_queue;
    const now = performance.now();
    if (last) {
      const secs = (now - last.at) / 1000;
      const rate = (k) => Math.max(0, (v[k] - last.v[k]) / secs);
      const sends = rate('messages_stored');
      const out = rate('out_msgs');
      $('sends-rate').textContent = sends.toFixed(1);
      $('out-rate').textContent = out.toFixed(1);
      $('in-rate').textContent = rate('in_msgs').toFixed(1);
      push(spark.sends, sends);
      push(spark.out, out);
      drawSpark($('sends-spark'), spark.sends);
      drawSpark($('out-spark'), spark.out);
    }
    last = { v, at: now };
    await loadConns();
  }

  async function loadConns() {
    const r = await api('GET', `/connz?limit=${CONNZ_LIMIT}`);
    const body = $('conns').querySelector('tbody');
    body.replaceChildren();
    for (const c of r.connections) {
      const tr = document.createElement('tr');
      tr.dataset.uid = c.uid;
      const uid = cell(c.uid || '(connecting)', 'link');
      uid.onclick = () => { $('user-uid').value = c.uid; showUser(c.uid); };
      tr.append(uid, cell(`${c.device_flag} ${c.device_id}`), cell(`${c.ip}:${c.port}`), cell(c.listener),
        cell(c.uptime), cell(c.idle), cell(c.in_msgs), cell(c.out_msgs), cell(c.pending_recvs));
      const act = document.createElement('td');
      if (manager() && c.uid) {
        const b = document.createElement('button');
        b.className = 'kick';
        b.textContent = 'disconnect';
        b.onclick = () => api('POST', '/user/device_quit', { uid: c.uid, device_flag: c.device_flag })
          .then(loadConns).catch((e) => { $('notice').textContent = e.message; });
        act.append(b);
      }
      tr.append(act);
      body.append(tr);
    }
  }

  async function showUser(uid) {
    const list = await api('POST', '/conversation/sync', { uid, msg_count: 0 });
    const body = $('user-convs').querySelector('tbody');
    body.replaceChildren();
    for (const c of list) {
      const tr = document.createElement('tr');
      const ch = cell(c.channel_id, 'link');
      ch.onclick = () => {
        $('ch-id').value = c.channel_id;
        $('ch-type').value = String(c.channel_type);
        $('ch-login').value = uid;
        showChannel();
      };
      tr.append(ch, cell(c.channel_type === 1 ? 'person' : c.channel_type === 2 ? 'group' : c.channel_type),
        cell(c.last_msg_seq), cell(c.unread));
      body.append(tr);
    }
  }

  async function showChannel() {
    const id = $('ch-id').value.trim();
    const type = Number($('ch-type').value);
    const login = $('ch-login').value.trim();
    const q = `channel_id=${encodeURIComponent(id)}&channel_type=${type}`;
    const ol = $('ch-messages');
    if (window.jindouOps) window.jindouOps.channel(id, type); // ops.js: the subscribers
    try {
      const [sync, white, black] = await Promise.all([
        api('POST', '/channel/messagesync', { login_uid: login || 'admin', channel_id: id, channel_type: type,
          start_message_seq: 0, end_message_seq: 0, limit: RECENT_MESSAGES, pull_mode: 0 }),
        api('GET', `/channel/whitelist?${q}`), api('GET', `/channel/blacklist?${q}`),
      ]);
      $('ch-lists').textContent = `whitelist: ${white.join(', ') || '(none)'} · blacklist: ${black.join(', ') || '(none)'}`;
      ol.replaceChildren();
      for (const m of sync.messages) {
        const li = document.createElement('li');
        li.value = m.message_seq;
        const from = document.createElement('span');
        from.className = 'from';
        from.textContent = m.from_uid;
        li.append(from, document.createTextNode(textOf(m)));
        ol.append(li);
      }
      if (!sync.messages.length) ol.textContent = 'no messages';
    } catch (e) {
      ol.textContent = e.message;
    }
  }

  $('unlock').onsubmit = (ev) => {
    ev.preventDefault();
    token = $('token').value;
    sessionStorage.setItem(TOKEN_KEY, token);
    pollVarz();
  };
  $('user-form').onsubmit = (ev) => {
    ev.preventDefault();
    showUser($('user-uid').value.trim()).catch((e) => { $('notice').textContent = e.message; });
  };
  $('channel-form').onsubmit = (ev) => { ev.preventDefault(); showChannel(); };
  $('ch-send').onsubmit = (ev) => {
    ev.preventDefault();
    const text = $('ch-text').value;
    const payload = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify({ type: 1, content: text }))));
    api('POST', '/message/send', { channel_id: $('ch-id').value.trim(), channel_type: Number($('ch-type').value), payload })
      .then(() => { $('ch-text').value = ''; return showChannel(); })
      .catch((e) => { $('notice').textContent = e.message; });
  };
  // What ops.js uses.
  window.jindouAdmin = { api, cell, push, drawSpark, headers: authHeaders };
  setMode();
  pollVarz();
  setInterval(pollVarz, POLL_MS);
})();
